/*
 * UCloud / SurferCloud ULB (CLB) provider plugin.
 *
 * Maps the plugin ABI onto four Action-style calls: DescribeVServer (list
 * a VServer's backends and Custom forwarding policies), ReleaseBackend,
 * UpdatePolicy and UpdateBackendAttribute.  Every request is a signed
 * form-encoded POST to the endpoint's root path, performed by the host;
 * this file builds it and classifies the answer.
 *
 * SurferCloud runs the same gateway under another host name, so the only
 * difference is the `endpoint` key.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "agent/error.h"
#include "common/plugin-util.h"
#include "lbreconcile/provider.h"
#include "ucparse.h"
#include "ucsign.h"

#define UC_DEFAULT_ENDPOINT "https://api.ucloud.cn"
#define UC_PAGE_LIMIT 100

/* One configured account.  Read-only after open(), so operations may run
 * on several threads at once. */
struct uc_prov {
	const struct lbr_host *host;
	char *url;         /* endpoint + "/" */
	char *region;
	char *project_id;
	char *public_key;  /* secret */
	char *private_key; /* secret */
};

/* What a request produced besides the classification. */
struct uc_reply {
	struct json_object *root; /* parsed body when have_retcode */
	long retcode;
	int have_retcode;         /* HTTP 200 with a readable RetCode */
};

static const struct lbr_key_spec provider_keys[] = {
	{ "endpoint", 0,
	  "API endpoint (default " UC_DEFAULT_ENDPOINT
	  "; SurferCloud: https://api.surfercloud.com)" },
	{ "region", LBR_KEY_REQUIRED, "region code, e.g. cn-bj2" },
	{ "project_id", LBR_KEY_REQUIRED | LBR_KEY_ID,
	  "project id, e.g. org-abc123" },
	{ "public_key", LBR_KEY_REQUIRED | LBR_KEY_SECRET, "API public key" },
	{ "private_key", LBR_KEY_REQUIRED | LBR_KEY_SECRET,
	  "API private key" },
	{ "ca_file", 0, "CA bundle for the endpoint (handled by the core)" },
	{ "allow_insecure_http", 0,
	  "allow a plain http:// endpoint (handled by the core)" },
	{ "timeout", 0, "per-request timeout in seconds (handled by the core)" },
	{ NULL, 0, NULL },
};

static const struct lbr_key_spec pool_keys[] = {
	{ "ulb_id", LBR_KEY_REQUIRED | LBR_KEY_ID, "ULB (CLB) id, ulb-..." },
	{ "vserver_id", LBR_KEY_REQUIRED | LBR_KEY_ID,
	  "VServer (listener) id, vserver-..." },
	{ NULL, 0, NULL },
};

static const char *const form_headers[] = {
	"Content-Type: application/x-www-form-urlencoded",
	"Accept: application/json",
	NULL,
};

static void uc_close(void *arg)
{
	struct uc_prov *p = arg;

	if (!p)
		return;
	free(p->url);
	free(p->region);
	free(p->project_id);
	lbr_pu_free_secret(p->public_key);
	lbr_pu_free_secret(p->private_key);
	free(p);
}

/* Accept http(s)://host[:port][/path] without query, fragment or blanks.
 * Whether plain http is allowed is the core's decision. */
static int valid_endpoint(const char *e)
{
	const char *host;

	if (strncmp(e, "https://", 8) == 0)
		host = e + 8;
	else if (strncmp(e, "http://", 7) == 0)
		host = e + 7;
	else
		return 0;
	if (!*host || *host == '/')
		return 0;
	return strpbrk(e, "?# \t\r\n") == NULL;
}

static int uc_open(const struct lbr_host *host, const struct lbr_kv *cfg,
		   size_t ncfg, void **prov_out, char *err, size_t errlen)
{
	int r = LBR_EINVAL;
	struct uc_prov *p = NULL;
	const char *endpoint, *region, *project, *pub, *priv;
	size_t i, j, elen;

	*prov_out = NULL;
	for (i = 0; i < ncfg; i++) {
		for (j = i + 1; j < ncfg; j++) {
			if (cfg[i].key && cfg[j].key &&
			    strcmp(cfg[i].key, cfg[j].key) == 0) {
				snprintf(err, errlen, "ucloud: duplicate key '%s'",
					 cfg[i].key);
				goto out;
			}
		}
	}
	endpoint = lbr_pu_kv_get(cfg, ncfg, "endpoint");
	region = lbr_pu_kv_get(cfg, ncfg, "region");
	project = lbr_pu_kv_get(cfg, ncfg, "project_id");
	pub = lbr_pu_kv_get(cfg, ncfg, "public_key");
	priv = lbr_pu_kv_get(cfg, ncfg, "private_key");

	if (!endpoint || !*endpoint)
		endpoint = UC_DEFAULT_ENDPOINT;
	if (!valid_endpoint(endpoint)) {
		snprintf(err, errlen,
			 "ucloud: endpoint must be an http(s):// URL without query");
		goto out;
	}
	if (!region || !*region) {
		snprintf(err, errlen, "ucloud: missing required key 'region'");
		goto out;
	}
	if (!lbr_pu_valid_id(region, 64)) {
		snprintf(err, errlen, "ucloud: invalid region '%.64s'", region);
		goto out;
	}
	if (!project || !*project) {
		snprintf(err, errlen,
			 "ucloud: missing required key 'project_id'");
		goto out;
	}
	if (!lbr_pu_valid_id(project, 128)) {
		snprintf(err, errlen,
			 "ucloud: project_id must match [A-Za-z0-9_-]{1,128}");
		goto out;
	}
	/* Never echo a key's value, not even a malformed one. */
	if (!pub || !*pub) {
		snprintf(err, errlen,
			 "ucloud: missing required key 'public_key'");
		goto out;
	}
	if (!priv || !*priv) {
		snprintf(err, errlen,
			 "ucloud: missing required key 'private_key'");
		goto out;
	}

	r = LBR_ENOMEM;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto oom;
	p->host = host;
	elen = strlen(endpoint);
	/* The API lives at the root path: "{endpoint}/", one slash only. */
	while (elen > 0 && endpoint[elen - 1] == '/')
		elen--;
	p->url = malloc(elen + 2);
	if (!p->url)
		goto oom;
	memcpy(p->url, endpoint, elen);
	p->url[elen] = '/';
	p->url[elen + 1] = '\0';
	p->region = strdup(region);
	p->project_id = strdup(project);
	p->public_key = strdup(pub);
	p->private_key = strdup(priv);
	if (!p->region || !p->project_id || !p->public_key || !p->private_key)
		goto oom;
	*prov_out = p;
	p = NULL; /* transferred */
	r = 0;
	goto out;
oom:
	snprintf(err, errlen, "ucloud: out of memory");
out:
	uc_close(p);
	return r;
}

static int uc_check_target(void *prov, const struct lbr_target *t, char *err,
			   size_t errlen)
{
	static const char *const keys[] = { "ulb_id", "vserver_id" };
	size_t i;

	(void)prov;
	for (i = 0; i < 2; i++) {
		const char *v = lbr_pu_kv_get(t->kv, t->n, keys[i]);

		if (!v || !*v) {
			snprintf(err, errlen, "ucloud: missing required key '%s'",
				 keys[i]);
			return LBR_EINVAL;
		}
		if (!lbr_pu_valid_id(v, 128)) {
			snprintf(err, errlen,
				 "ucloud: %s must match [A-Za-z0-9_-]{1,128}",
				 keys[i]);
			return LBR_EINVAL;
		}
	}
	return 0;
}

/* Replace every occurrence of a configured key in `s` so that a cloud
 * message echoing a request parameter cannot leak it. */
static void scrub(const struct uc_prov *p, char *s, size_t size)
{
	lbr_pu_redact(s, size, p->public_key, "[redacted]");
	lbr_pu_redact(s, size, p->private_key, "[redacted]");
}

static void set_result(const struct uc_prov *p, struct lbr_call_result *res,
		       enum lbr_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set_result(const struct uc_prov *p, struct lbr_call_result *res,
		       enum lbr_outcome o, const char *fmt, ...)
{
	va_list ap;
	char tmp[sizeof(res->message)];

	res->outcome = o;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* The text may carry the cloud's Message: no control characters. */
	lbr_pu_copy_clean(res->message, sizeof(res->message), tmp);
	scrub(p, res->message, sizeof(res->message));
}

/* Classify a RetCode received with HTTP 200 (operation-specific codes are
 * handled by the callers afterwards). */
static void classify_retcode(const struct uc_prov *p, long rc,
			     const char *msg, struct lbr_call_result *res)
{
	const char *m = *msg ? msg : "no message";

	snprintf(res->code, sizeof(res->code), "RetCode %ld", rc);
	if (rc == 0)
		set_result(p, res, LBR_OUT_OK, "%s", "ok");
	else if (rc == 150 || rc >= 2000)
		set_result(p, res, LBR_OUT_TRANSIENT, "%s", m);
	else if (rc == 153)
		set_result(p, res, LBR_OUT_THROTTLED, "%s", m);
	else if (rc == 170 || rc == 171 || rc == 172 || rc == 174)
		set_result(p, res, LBR_OUT_AUTH, "credentials rejected: %s", m);
	else if (rc == 292)
		set_result(p, res, LBR_OUT_INVALID,
			   "project %s does not exist: %s", p->project_id, m);
	else
		set_result(p, res, LBR_OUT_INVALID, "%s", m);
}

/*
 * Sign `params` (Action already in), POST them and classify the answer
 * into `res`.  Returns 0 whatever the outcome, with `rep` filled (the
 * caller releases rep->root), or negative on an internal failure.
 */
static int uc_request(struct uc_prov *p, struct lbr_call *call,
		      struct lbr_uc_params *params, struct uc_reply *rep,
		      struct lbr_call_result *res)
{
	const struct lbr_host *h = p->host;
	int r, hr, have_resp = 0;
	char sig[41], terr[256] = "", msg[512];
	char *body = NULL;
	size_t body_len = 0;
	struct lbr_http_request req;
	struct lbr_http_response resp;
	const char *action = lbr_uc_params_get(params, "Action");
	const char *rid;

	memset(rep, 0, sizeof(*rep));
	memset(&resp, 0, sizeof(resp));

	if ((r = lbr_uc_params_add(params, "Region", p->region)) < 0 ||
	    (r = lbr_uc_params_add(params, "ProjectId", p->project_id)) < 0 ||
	    (r = lbr_uc_params_add(params, "PublicKey", p->public_key)) < 0)
		goto fail;
	r = lbr_uc_sign(params, p->private_key, sig);
	if (r < 0)
		goto fail;
	r = lbr_uc_form_body(params, sig, h->url_encode, &body, &body_len);
	if (r < 0)
		goto fail;

	req.method = "POST";
	req.url = p->url;
	req.headers = form_headers;
	req.body = body;
	req.body_len = body_len;
	hr = h->http(call, &req, &resp, terr, sizeof(terr));
	if (hr < 0) {
		/* terr comes from the host's transport, which never sees our
		 * keys except inside the body; scrub it anyway. */
		set_result(p, res, hr == LBR_HOST_EFATAL ? LBR_OUT_INVALID :
			   LBR_OUT_TRANSIENT, "%s: %s", action,
			   *terr ? terr : "transport failure");
		r = 0;
		goto out;
	}
	have_resp = 1;
	res->http_status = resp.status;
	rid = h->http_header(&resp, "X-UCLOUD-REQUEST-UUID");
	if (rid)
		snprintf(res->request_id, sizeof(res->request_id), "%s", rid);

	if (resp.status != 200) {
		enum lbr_outcome o = LBR_OUT_INVALID;

		if (resp.status == 429)
			o = LBR_OUT_THROTTLED;
		else if (resp.status >= 500 && resp.status <= 599)
			o = LBR_OUT_TRANSIENT;
		if (o != LBR_OUT_INVALID)
			res->retry_after_ms = resp.retry_after_ms;
		set_result(p, res, o, "%s: HTTP %ld", action, resp.status);
		r = 0;
		goto out;
	}

	r = lbr_uc_parse_envelope(resp.body, resp.body_len, &rep->root,
				  &rep->retcode, msg, sizeof(msg));
	if (r == LBR_ECORRUPT) {
		/* A cut-off or non-JSON 200 body is what a proxy or a dropped
		 * connection produces: retry rather than give up. */
		set_result(p, res, LBR_OUT_TRANSIENT,
			   "%s: unreadable response body (%zu bytes)", action,
			   resp.body_len);
		r = 0;
		goto out;
	}
	if (r == LBR_EINVAL) {
		set_result(p, res, LBR_OUT_INVALID,
			   "%s: response has no valid RetCode", action);
		r = 0;
		goto out;
	}
	if (r < 0)
		goto fail;
	rep->have_retcode = 1;
	classify_retcode(p, rep->retcode, msg, res);
	h->log(call, LBR_LOG_DEBUG, "ucloud: %s: RetCode %ld", action,
	       rep->retcode);
	r = 0;
	goto out;
fail:
	set_result(p, res, LBR_OUT_INVALID, "%s: out of memory", action);
out:
	if (have_resp)
		h->http_release(&resp);
	if (body) {
		lbr_pu_wipe(body, body_len);
		free(body);
	}
	lbr_pu_wipe(sig, sizeof(sig));
	return r;
}

/* Look up and check the pool's ids; on failure res says why. */
static int target_ids(const struct uc_prov *p, const struct lbr_target *t,
		      const char **ulb, const char **vs,
		      struct lbr_call_result *res)
{
	*ulb = lbr_pu_kv_get(t->kv, t->n, "ulb_id");
	if (vs)
		*vs = lbr_pu_kv_get(t->kv, t->n, "vserver_id");
	if (!lbr_pu_valid_id(*ulb, 128) || (vs && !lbr_pu_valid_id(*vs, 128))) {
		set_result(p, res, LBR_OUT_INVALID,
			   "pool %s: ulb_id or vserver_id missing or invalid",
			   t->pool_name ? t->pool_name : "?");
		return -1;
	}
	return 0;
}

static void result_init(struct lbr_call_result *res)
{
	memset(res, 0, sizeof(*res));
	res->outcome = LBR_OUT_INVALID;
}

static int uc_list_page(void *prov, struct lbr_call *call,
			const struct lbr_target *t, const char *cursor,
			struct lbr_obs *obs, char *next_cursor, size_t next_len,
			struct lbr_call_result *res)
{
	struct uc_prov *p = prov;
	struct lbr_uc_params params;
	struct uc_reply rep = { 0 };
	const char *ulb, *vs;
	char perr[256];
	long offset = 0;
	char *end;
	int r = 0;

	result_init(res);
	lbr_uc_params_init(&params);
	if (next_len)
		next_cursor[0] = '\0';
	if (target_ids(p, t, &ulb, &vs, res) < 0)
		goto out;
	if (cursor && *cursor) {
		offset = strtol(cursor, &end, 10);
		if (*end || offset < 0 || offset > 1000000) {
			set_result(p, res, LBR_OUT_INVALID,
				   "invalid page cursor '%.32s'", cursor);
			goto out;
		}
	}
	if ((r = lbr_uc_params_add(&params, "Action", "DescribeVServer")) < 0 ||
	    (r = lbr_uc_params_add(&params, "ULBId", ulb)) < 0 ||
	    (r = lbr_uc_params_add(&params, "VServerId", vs)) < 0 ||
	    (r = lbr_uc_params_add_long(&params, "Offset", offset)) < 0 ||
	    (r = lbr_uc_params_add_long(&params, "Limit", UC_PAGE_LIMIT)) < 0) {
		set_result(p, res, LBR_OUT_INVALID, "out of memory");
		goto out;
	}
	r = uc_request(p, call, &params, &rep, res);
	if (r < 0 || !rep.have_retcode)
		goto out;
	if (rep.retcode == 4103 || rep.retcode == 4088 ||
	    rep.retcode == 4143) {
		set_result(p, res, LBR_OUT_INVALID,
			   "vserver %s not found in ulb %s", vs, ulb);
		goto out;
	}
	if (res->outcome != LBR_OUT_OK)
		goto out;

	r = lbr_uc_parse_vserver(p->host, obs, rep.root, ulb, vs, offset,
				 next_cursor, next_len, perr, sizeof(perr));
	if (r == LBR_ENOMEM) {
		set_result(p, res, LBR_OUT_INVALID, "out of memory");
		goto out;
	}
	if (r < 0) {
		/* The call itself succeeded; what failed is its content. */
		res->code[0] = '\0';
		set_result(p, res, LBR_OUT_INVALID, "%s", perr);
		r = 0;
		goto out;
	}
out:
	json_object_put(rep.root);
	lbr_uc_params_release(&params);
	return r;
}

static int uc_remove_member(void *prov, struct lbr_call *call,
			    const struct lbr_target *t,
			    const struct lbr_member_ref *m,
			    struct lbr_call_result *res)
{
	struct uc_prov *p = prov;
	struct lbr_uc_params params;
	struct uc_reply rep = { 0 };
	const char *ulb;
	int r = 0;

	result_init(res);
	lbr_uc_params_init(&params);
	if (target_ids(p, t, &ulb, NULL, res) < 0)
		goto out;
	if (!lbr_pu_valid_id(m->id, 128)) {
		set_result(p, res, LBR_OUT_INVALID, "invalid backend id");
		goto out;
	}
	if ((r = lbr_uc_params_add(&params, "Action", "ReleaseBackend")) < 0 ||
	    (r = lbr_uc_params_add(&params, "ULBId", ulb)) < 0 ||
	    (r = lbr_uc_params_add(&params, "BackendId", m->id)) < 0) {
		set_result(p, res, LBR_OUT_INVALID, "out of memory");
		goto out;
	}
	r = uc_request(p, call, &params, &rep, res);
	if (r < 0 || !rep.have_retcode)
		goto out;
	if (rep.retcode == 4093 || rep.retcode == 4148) {
		set_result(p, res, LBR_OUT_NOT_FOUND,
			   "backend %s no longer exists in ulb %s", m->id, ulb);
	} else if (rep.retcode == 4110) {
		/* Still attached to a forwarding policy: the core must
		 * update the policy first or give up on this backend. */
		set_result(p, res, LBR_OUT_BLOCKED,
			   "backend %s is still referenced by a forwarding "
			   "policy", m->id);
	}
out:
	json_object_put(rep.root);
	lbr_uc_params_release(&params);
	return r;
}

static int uc_update_rule(void *prov, struct lbr_call *call,
			  const struct lbr_target *t,
			  const struct lbr_rule_ref *rule,
			  const char *const *member_ids, size_t n,
			  struct lbr_call_result *res)
{
	struct uc_prov *p = prov;
	struct lbr_uc_params params;
	struct uc_reply rep = { 0 };
	const char *ulb, *vs, *type, *match;
	char key[32];
	size_t i;
	int r = 0;

	result_init(res);
	lbr_uc_params_init(&params);
	if (target_ids(p, t, &ulb, &vs, res) < 0)
		goto out;
	if (!lbr_pu_valid_id(rule->id, 128)) {
		set_result(p, res, LBR_OUT_INVALID, "invalid policy id");
		goto out;
	}
	/* UpdatePolicy without BackendId.N empties the policy, which would
	 * send its traffic nowhere.  The core never asks; refuse anyway. */
	if (n == 0) {
		set_result(p, res, LBR_OUT_INVALID,
			   "refusing to empty policy %s", rule->id);
		goto out;
	}
	type = lbr_pu_kv_get(rule->attrs, rule->n_attrs, "Type");
	match = lbr_pu_kv_get(rule->attrs, rule->n_attrs, "Match");
	/* An omitted Type means "Domain" to the API, so a Path policy would
	 * silently change meaning: both must be re-sent as observed. */
	if (!type || !*type || !match || !*match) {
		set_result(p, res, LBR_OUT_INVALID,
			   "policy %s: observed Type/Match missing", rule->id);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!lbr_pu_valid_id(member_ids[i], 128)) {
			set_result(p, res, LBR_OUT_INVALID,
				   "policy %s: invalid backend id", rule->id);
			goto out;
		}
	}
	if ((r = lbr_uc_params_add(&params, "Action", "UpdatePolicy")) < 0 ||
	    (r = lbr_uc_params_add(&params, "ULBId", ulb)) < 0 ||
	    (r = lbr_uc_params_add(&params, "VServerId", vs)) < 0 ||
	    (r = lbr_uc_params_add(&params, "PolicyId", rule->id)) < 0 ||
	    (r = lbr_uc_params_add(&params, "Type", type)) < 0 ||
	    (r = lbr_uc_params_add(&params, "Match", match)) < 0 ||
	    (r = lbr_uc_params_add(&params, "DomainMatchMode",
				   lbr_pu_kv_get(rule->attrs, rule->n_attrs,
					  "DomainMatchMode"))) < 0 ||
	    (r = lbr_uc_params_add(&params, "PolicyPriority",
				   lbr_pu_kv_get(rule->attrs, rule->n_attrs,
					  "PolicyPriority"))) < 0)
		goto param_fail;
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "BackendId.%zu", i);
		r = lbr_uc_params_add(&params, key, member_ids[i]);
		if (r < 0)
			goto param_fail;
	}
	r = uc_request(p, call, &params, &rep, res);
	goto out;
param_fail:
	/* LBR_EINVAL here means the same backend id twice. */
	set_result(p, res, LBR_OUT_INVALID, "policy %s: %s", rule->id,
		   r == LBR_ENOMEM ? "out of memory" : "duplicate backend id");
	r = r == LBR_ENOMEM ? r : 0;
out:
	json_object_put(rep.root);
	lbr_uc_params_release(&params);
	return r;
}

static int uc_drain_member(void *prov, struct lbr_call *call,
			   const struct lbr_target *t,
			   const struct lbr_member_ref *m, int drain,
			   struct lbr_call_result *res)
{
	struct uc_prov *p = prov;
	struct lbr_uc_params params;
	struct uc_reply rep = { 0 };
	const char *ulb;
	int r = 0;
	/* Enabled=0 stops new connections without cutting existing ones.
	 * On restore an unknown previous state means "enabled": that is
	 * what undoing a drain is for. */
	long enabled = drain ? 0 : (m->enabled == 0 ? 0 : 1);

	result_init(res);
	lbr_uc_params_init(&params);
	if (target_ids(p, t, &ulb, NULL, res) < 0)
		goto out;
	if (!lbr_pu_valid_id(m->id, 128)) {
		set_result(p, res, LBR_OUT_INVALID, "invalid backend id");
		goto out;
	}
	if ((r = lbr_uc_params_add(&params, "Action",
				   "UpdateBackendAttribute")) < 0 ||
	    (r = lbr_uc_params_add(&params, "ULBId", ulb)) < 0 ||
	    (r = lbr_uc_params_add(&params, "BackendId", m->id)) < 0 ||
	    (r = lbr_uc_params_add_long(&params, "Enabled", enabled)) < 0 ||
	    (!drain && m->weight >= 1 &&
	     (r = lbr_uc_params_add_long(&params, "Weight", m->weight)) < 0)) {
		set_result(p, res, LBR_OUT_INVALID, "out of memory");
		goto out;
	}
	r = uc_request(p, call, &params, &rep, res);
	if (r < 0 || !rep.have_retcode)
		goto out;
	if (rep.retcode == 4093 || rep.retcode == 4148)
		set_result(p, res, LBR_OUT_NOT_FOUND,
			   "backend %s no longer exists in ulb %s", m->id, ulb);
out:
	json_object_put(rep.root);
	lbr_uc_params_release(&params);
	return r;
}

static const struct lbr_provider uc_provider = {
	.struct_size = sizeof(struct lbr_provider),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.name = "ucloud",
	.version = PACKAGE_VERSION,
	.caps = LBR_CAP_RULES | LBR_CAP_DRAIN | LBR_CAP_COOPERATIVE,
	.provider_keys = provider_keys,
	.pool_keys = pool_keys,
	.open = uc_open,
	.close = uc_close,
	.check_target = uc_check_target,
	.list_page = uc_list_page,
	.remove_member = uc_remove_member,
	.update_rule = uc_update_rule,
	.drain_member = uc_drain_member,
};

__attribute__((visibility("default"))) const struct lbr_provider *
lbr_provider_entry(uint32_t host_abi_major, uint32_t host_abi_minor);

/* The only exported symbol.  The core checks abi_major itself, so the
 * table is returned whatever the host's version, letting it report a
 * mismatch in its own words. */
__attribute__((visibility("default"))) const struct lbr_provider *
lbr_provider_entry(uint32_t host_abi_major, uint32_t host_abi_minor)
{
	(void)host_abi_major;
	(void)host_abi_minor;
	return &uc_provider;
}
