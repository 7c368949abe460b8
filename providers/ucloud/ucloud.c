/*
 * UCloud / SurferCloud ULB (CLB) provider plugin.
 *
 * Maps plugin ABI 2 onto five Action-style calls: DescribeVServer (list a
 * VServer's backends and Custom forwarding policies), ReleaseBackend,
 * AllocateBackend, UpdatePolicy and UpdateBackendAttribute (drain, restore
 * and weight).  Every request is a signed form-encoded POST to the
 * endpoint's root path, performed by the host; this file builds it and
 * classifies the answer.  The CLB API has no batch calls, so every batch
 * limit is 1.
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

#include "common/provcommon.h"
#include "lbreconcile/provider.h"
#include "ucparse.h"
#include "ucsign.h"

#define UC_DEFAULT_ENDPOINT "https://api.ucloud.cn"
#define UC_PAGE_LIMIT 100
/* AllocateBackend and UpdateBackendAttribute accept Weight 1..100. */
#define UC_WEIGHT_MIN 1
#define UC_WEIGHT_MAX 100

/* ULB "not found" and "duplicate" RetCodes (DOC ulb-api/error_code.md).
 * 4093/4148: the backend (service node) does not exist; 4109: the
 * resource is already in the pool; 4110: the VServer still has a
 * forwarding rule attached to the backend. */
#define UC_RC_BACKEND_GONE_1 4093
#define UC_RC_BACKEND_GONE_2 4148
#define UC_RC_ALREADY_IN_POOL 4109
#define UC_RC_IN_POLICY 4110

/* One configured account.  Read-only after open(), so operations may run
 * on several threads at once. */
struct uc_prov {
	const struct lbr_host *host;
	char *url; /* endpoint + "/" */
	char *region;
	char *project_id;
	char *public_key;  /* secret */
	char *private_key; /* secret */
};

/* What a request produced besides the classification. */
struct uc_reply {
	struct json_object *root; /* parsed body when have_retcode */
	long retcode;
	int have_retcode; /* HTTP 200 with a readable RetCode */
};

static const struct lbr_key_spec provider_keys[] = {
	{ "endpoint", 0,
	  "API endpoint (default " UC_DEFAULT_ENDPOINT
	  "; SurferCloud: https://api.surfercloud.com)" },
	{ "region", LBR_KEY_REQUIRED, "region code, e.g. cn-bj2" },
	{ "project_id", LBR_KEY_REQUIRED | LBR_KEY_ID, "project id, e.g. org-abc123" },
	{ "public_key", LBR_KEY_REQUIRED | LBR_KEY_SECRET, "API public key" },
	{ "private_key", LBR_KEY_REQUIRED | LBR_KEY_SECRET, "API private key" },
	{ NULL, 0, NULL },
};

static const struct lbr_key_spec pool_keys[] = {
	{ "ulb_id", LBR_KEY_REQUIRED | LBR_KEY_ID, "ULB (CLB) id, ulb-..." },
	{ "vserver_id", LBR_KEY_REQUIRED | LBR_KEY_ID, "VServer (listener) id, vserver-..." },
	{ "vpc_id", LBR_KEY_ID, "VPC of IP backends created without resource= (with subnet_id)" },
	{ "subnet_id", LBR_KEY_ID,
	  "subnet of IP backends created without resource= (with vpc_id)" },
	{ NULL, 0, NULL },
};

/* A member's `resource=` id prefix and the AllocateBackend ResourceType
 * it stands for.  UHybrid is left out: it needs ResourceIP, VPCId and
 * SubnetId besides its id, and its id prefix is not documented. */
static const struct {
	const char *prefix;
	const char *type;
} resource_types[] = {
	{ "uhost-", "UHost" },
	{ "upm-", "UPM" },
	{ "uni-", "UNI" },
	{ "cube-", "CUBE" },
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
	lbr_pc_free_secret(p->public_key);
	lbr_pc_free_secret(p->private_key);
	free(p);
}

static int uc_open(const struct lbr_host *host, const struct lbr_kv *cfg, size_t ncfg,
		   void **prov_out, struct lbr_instance_info *info, char *err, size_t errlen)
{
	int r = LBR_EINVAL;
	struct uc_prov *p = NULL;
	struct lbr_pc_endpoint ep = { 0 };
	const char *endpoint, *region, *project, *pub, *priv;
	char eerr[256];
	size_t i, j;

	*prov_out = NULL;
	for (i = 0; i < ncfg; i++) {
		for (j = i + 1; j < ncfg; j++) {
			if (cfg[i].key && cfg[j].key && strcmp(cfg[i].key, cfg[j].key) == 0) {
				lbr_pc_set_err(err, errlen, "ucloud: duplicate key '%s'",
					       cfg[i].key);
				goto out;
			}
		}
	}
	endpoint = lbr_pc_kv_get(cfg, ncfg, "endpoint");
	region = lbr_pc_kv_get(cfg, ncfg, "region");
	project = lbr_pc_kv_get(cfg, ncfg, "project_id");
	pub = lbr_pc_kv_get(cfg, ncfg, "public_key");
	priv = lbr_pc_kv_get(cfg, ncfg, "private_key");

	if (!endpoint || !*endpoint)
		endpoint = UC_DEFAULT_ENDPOINT;
	/* A path is allowed: a gateway may sit below one. */
	r = lbr_pc_parse_endpoint(endpoint, LBR_PC_EP_PATH, &ep, eerr, sizeof(eerr));
	if (r < 0) {
		lbr_pc_set_err(err, errlen, "ucloud: %s", eerr);
		goto out;
	}
	r = LBR_EINVAL;
	if (!region || !*region) {
		lbr_pc_set_err(err, errlen, "ucloud: missing required key 'region'");
		goto out;
	}
	if (!lbr_pc_valid_id(region, 64)) {
		lbr_pc_set_err(err, errlen, "ucloud: invalid region '%.64s'", region);
		goto out;
	}
	if (!project || !*project) {
		lbr_pc_set_err(err, errlen, "ucloud: missing required key 'project_id'");
		goto out;
	}
	if (!lbr_pc_valid_id(project, 128)) {
		lbr_pc_set_err(err, errlen,
			       "ucloud: project_id must match "
			       "[A-Za-z0-9_-]{1,128}");
		goto out;
	}
	/* Never echo a key's value, not even a malformed one. */
	if (!pub || !*pub) {
		lbr_pc_set_err(err, errlen, "ucloud: missing required key 'public_key'");
		goto out;
	}
	if (!priv || !*priv) {
		lbr_pc_set_err(err, errlen, "ucloud: missing required key 'private_key'");
		goto out;
	}

	r = LBR_ENOMEM;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto oom;
	p->host = host;
	/* The API lives at the root path: "{endpoint}/", one slash only. */
	if (asprintf(&p->url, "%s%s/", ep.base, ep.path) < 0) {
		p->url = NULL;
		goto oom;
	}
	p->region = strdup(region);
	p->project_id = strdup(project);
	p->public_key = strdup(pub);
	p->private_key = strdup(priv);
	if (!p->region || !p->project_id || !p->public_key || !p->private_key)
		goto oom;
	if (info) {
		info->caps = LBR_CAP_RULES | LBR_CAP_DRAIN | LBR_CAP_CREATE | LBR_CAP_WEIGHT |
			     LBR_CAP_COOPERATIVE;
		for (i = 0; i < LBR_BATCH_COUNT; i++)
			info->batch[i] = 1;
		info->weight_min = UC_WEIGHT_MIN;
		info->weight_max = UC_WEIGHT_MAX;
		snprintf(info->api, sizeof(info->api), "ulb");
	}
	*prov_out = p;
	p = NULL; /* transferred */
	r = 0;
	goto out;
oom:
	lbr_pc_set_err(err, errlen, "ucloud: out of memory");
out:
	lbr_pc_endpoint_free(&ep);
	uc_close(p);
	return r;
}

/* The ResourceType for a `resource=` id, or NULL for an unknown prefix
 * (or a bare prefix with nothing after it). */
static const char *resource_type(const char *res)
{
	size_t i, n;

	for (i = 0; i < sizeof(resource_types) / sizeof(resource_types[0]); i++) {
		n = strlen(resource_types[i].prefix);
		if (strncmp(res, resource_types[i].prefix, n) == 0 && res[n])
			return resource_types[i].type;
	}
	return NULL;
}

/* "10.0.0.1:80" or "[2001:db8::1]:80", for messages. */
static void member_text(const struct lbr_member_spec *m, char *buf, size_t len)
{
	const char *a = m->address ? m->address : "?";

	if (strchr(a, ':'))
		snprintf(buf, len, "[%s]:%u", a, m->port);
	else
		snprintf(buf, len, "%s:%u", a, m->port);
}

static int uc_check_target(void *prov, const struct lbr_target *t, char *err, size_t errlen)
{
	static const char *const keys[] = { "ulb_id", "vserver_id", "vpc_id", "subnet_id" };
	const char *pool = t->pool_name ? t->pool_name : "?";
	const char *vpc, *subnet;
	char who[80], res[65];
	size_t i;

	(void)prov;
	for (i = 0; i < 4; i++) {
		const char *v = lbr_pc_kv_get(t->kv, t->n, keys[i]);

		/* vpc_id and subnet_id are optional. */
		if ((!v || !*v) && i >= 2)
			continue;
		if (!v || !*v) {
			lbr_pc_set_err(err, errlen,
				       "ucloud: pool %s: missing required key "
				       "'%s'",
				       pool, keys[i]);
			return LBR_EINVAL;
		}
		if (!lbr_pc_valid_id(v, 128)) {
			lbr_pc_set_err(err, errlen,
				       "ucloud: pool %s: %s must match "
				       "[A-Za-z0-9_-]{1,128}",
				       pool, keys[i]);
			return LBR_EINVAL;
		}
	}
	vpc = lbr_pc_kv_get(t->kv, t->n, "vpc_id");
	subnet = lbr_pc_kv_get(t->kv, t->n, "subnet_id");
	if (vpc && !*vpc)
		vpc = NULL;
	if (subnet && !*subnet)
		subnet = NULL;
	/* One without the other can only be a mistake: an IP backend needs
	 * both. */
	if (!vpc != !subnet) {
		lbr_pc_set_err(err, errlen,
			       "ucloud: pool %s: vpc_id and subnet_id must be "
			       "given together",
			       pool);
		return LBR_EINVAL;
	}

	for (i = 0; i < t->n_members; i++) {
		const struct lbr_member_spec *m = &t->members[i];

		member_text(m, who, sizeof(who));
		if (m->resource &&
		    (!lbr_pc_valid_id(m->resource, 128) || !resource_type(m->resource))) {
			/* Echoed for the operator, but not verbatim: it
			 * failed validation, so it may hold anything. */
			lbr_pc_copy_clean(res, sizeof(res), m->resource);
			lbr_pc_set_err(err, errlen,
				       "ucloud: pool %s: member %s: resource "
				       "'%s' is not a uhost-, upm-, uni- or "
				       "cube- id",
				       pool, who, res);
			return LBR_EINVAL;
		}
		if (m->weight >= 0 && (m->weight < UC_WEIGHT_MIN || m->weight > UC_WEIGHT_MAX)) {
			lbr_pc_set_err(err, errlen,
				       "ucloud: pool %s: member %s: weight %d "
				       "out of range %d..%d",
				       pool, who, m->weight, UC_WEIGHT_MIN, UC_WEIGHT_MAX);
			return LBR_EINVAL;
		}
		if (t->create && !m->resource && !vpc) {
			lbr_pc_set_err(err, errlen,
				       "ucloud: pool %s: member %s: create = "
				       "yes needs resource= on the member, or "
				       "vpc_id and subnet_id on the pool",
				       pool, who);
			return LBR_EINVAL;
		}
	}
	return 0;
}

/* Set the call's outcome and message.  The message may carry the
 * cloud's Message, which lbr_pc_res_vmsg() cleans of control characters;
 * a configured key in it (a cloud echoing a request parameter) is
 * replaced so that it cannot leak. */
static void vset_result(const struct uc_prov *p, struct lbr_call_result *res, enum lbr_outcome o,
			const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static void vset_result(const struct uc_prov *p, struct lbr_call_result *res, enum lbr_outcome o,
			const char *fmt, va_list ap)
{
	res->outcome = o;
	lbr_pc_res_vmsg(res, fmt, ap);
	lbr_pc_redact(res->message, sizeof(res->message), p->public_key, "[redacted]");
	lbr_pc_redact(res->message, sizeof(res->message), p->private_key, "[redacted]");
}

static void set_result(const struct uc_prov *p, struct lbr_call_result *res, enum lbr_outcome o,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set_result(const struct uc_prov *p, struct lbr_call_result *res, enum lbr_outcome o,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_result(p, res, o, fmt, ap);
	va_end(ap);
}

/* Classify a RetCode received with HTTP 200 (operation-specific codes are
 * handled by the callers afterwards). */
static void classify_retcode(const struct uc_prov *p, long rc, const char *msg,
			     struct lbr_call_result *res)
{
	const char *m = *msg ? msg : "no message";

	snprintf(res->code, sizeof(res->code), "RetCode.%ld", rc);
	if (rc == 0)
		set_result(p, res, LBR_OUT_OK, "%s", "ok");
	else if (rc == 110 || rc == 130 || rc == 150 || rc >= 2000) /* timeout, gateway, busy */
		set_result(p, res, LBR_OUT_TRANSIENT, "%s", m);
	else if (rc == 153)
		set_result(p, res, LBR_OUT_THROTTLED, "%s", m);
	else if (rc == 170 || rc == 171 || rc == 172 || rc == 174)
		set_result(p, res, LBR_OUT_AUTH, "credentials rejected: %s", m);
	else if (rc == 292)
		set_result(p, res, LBR_OUT_INVALID, "project %s does not exist: %s", p->project_id,
			   m);
	else
		set_result(p, res, LBR_OUT_INVALID, "%s", m);
}

/*
 * Sign `params` (Action already in), POST them and classify the answer
 * into `res`.  Returns 0 whatever the outcome, with `rep` filled (the
 * caller releases rep->root), or negative on an internal failure.
 */
static int uc_request(struct uc_prov *p, struct lbr_call *call, struct lbr_uc_params *params,
		      struct uc_reply *rep, struct lbr_call_result *res)
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
		set_result(p, res, hr == LBR_EFATAL ? LBR_OUT_INVALID : LBR_OUT_TRANSIENT, "%s: %s",
			   action, *terr ? terr : "transport failure");
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

	r = lbr_uc_parse_envelope(resp.body, resp.body_len, &rep->root, &rep->retcode, msg,
				  sizeof(msg));
	if (r == LBR_ECORRUPT) {
		/* A cut-off or non-JSON 200 body is what a proxy or a dropped
		 * connection produces: retry rather than give up. */
		set_result(p, res, LBR_OUT_TRANSIENT, "%s: unreadable response body (%zu bytes)",
			   action, resp.body_len);
		r = 0;
		goto out;
	}
	if (r == LBR_EINVAL) {
		set_result(p, res, LBR_OUT_INVALID, "%s: response has no valid RetCode", action);
		r = 0;
		goto out;
	}
	if (r < 0)
		goto fail;
	rep->have_retcode = 1;
	classify_retcode(p, rep->retcode, msg, res);
	h->log(call, LBR_LOG_DEBUG, "ucloud: %s: RetCode.%ld", action, rep->retcode);
	r = 0;
	goto out;
fail:
	set_result(p, res, LBR_OUT_INVALID, "%s: out of memory", action);
out:
	if (have_resp)
		h->http_release(&resp);
	if (body) {
		lbr_pc_wipe(body, body_len);
		free(body);
	}
	lbr_pc_wipe(sig, sizeof(sig));
	return r;
}

/* Look up and check the pool's ids; on failure res says why. */
static int target_ids(const struct uc_prov *p, const struct lbr_target *t, const char **ulb,
		      const char **vs, struct lbr_call_result *res)
{
	*ulb = lbr_pc_kv_get(t->kv, t->n, "ulb_id");
	if (vs)
		*vs = lbr_pc_kv_get(t->kv, t->n, "vserver_id");
	if (!lbr_pc_valid_id(*ulb, 128) || (vs && !lbr_pc_valid_id(*vs, 128))) {
		set_result(p, res, LBR_OUT_INVALID,
			   "pool %s: ulb_id or vserver_id missing or invalid",
			   t->pool_name ? t->pool_name : "?");
		return -1;
	}
	return 0;
}

/*
 * Start a batch operation: clear the result and the items, and refuse a
 * batch this cloud cannot take in one call (the instance states a limit
 * of 1; the core never sends more, this is a safety net).  Returns 0, or
 * -1 with the call and every item failed.
 */
static int batch_begin(const struct uc_prov *p, size_t n, struct lbr_item_result *items,
		       struct lbr_call_result *res)
{
	lbr_pc_results_init(res, items, n);
	if (n == 1)
		return 0;
	set_result(p, res, LBR_OUT_INVALID, "batch of %zu members: the CLB API takes one per call",
		   n);
	lbr_pc_items_from_call(res, items, n);
	return -1;
}

/* A RetCode that concerns the item, not the call (the backend is gone, is
 * already there, is still referenced): the call did its job, the item
 * gets outcome `o` and the explanation. */
static void item_outcome(const struct uc_prov *p, struct lbr_item_result *it,
			 struct lbr_call_result *res, enum lbr_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void item_outcome(const struct uc_prov *p, struct lbr_item_result *it,
			 struct lbr_call_result *res, enum lbr_outcome o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_result(p, res, LBR_OUT_OK, fmt, ap);
	va_end(ap);
	lbr_pc_items_from_call(res, it, 1);
	it->outcome = o;
}

/*
 * End a call about one item: unless item_outcome() settled the item
 * already, the call's outcome is the item's; then free the answer and
 * the parameters.
 */
static void item_call_end(struct lbr_call_result *res, struct lbr_item_result *it,
			  struct uc_reply *rep, struct lbr_uc_params *params)
{
	if (it->outcome == LBR_OUT_UNSET)
		lbr_pc_items_from_call(res, it, 1);
	json_object_put(rep->root);
	lbr_uc_params_release(params);
}

/* AllocateBackend refusals that say the request itself is wrong: the
 * VServer does not exist (4088/4143), a TCP/UDP backend port differs from
 * the VServer's (4118), the backend's details are wrong (4120), the
 * quota is exhausted (4207), the backend is in another VPC (63032). */
static int is_permanent_create_error(long rc)
{
	return rc == 4088 || rc == 4143 || rc == 4118 || rc == 4120 || rc == 4207 || rc == 63032;
}

static int is_backend_gone(long rc)
{
	return rc == UC_RC_BACKEND_GONE_1 || rc == UC_RC_BACKEND_GONE_2;
}

static int uc_list_page(void *prov, struct lbr_call *call, const struct lbr_target *t,
			const char *cursor, struct lbr_obs *obs, char *next_cursor, size_t next_len,
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

	lbr_pc_results_init(res, NULL, 0);
	lbr_uc_params_init(&params);
	if (next_len)
		next_cursor[0] = '\0';
	if (target_ids(p, t, &ulb, &vs, res) < 0)
		goto out;
	if (cursor && *cursor) {
		offset = strtol(cursor, &end, 10);
		if (*end || offset < 0 || offset > 1000000) {
			set_result(p, res, LBR_OUT_INVALID, "invalid page cursor '%.32s'", cursor);
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
	if (rep.retcode == 4103 || rep.retcode == 4088 || rep.retcode == 4143) {
		set_result(p, res, LBR_OUT_INVALID, "vserver %s not found in ulb %s", vs, ulb);
		goto out;
	}
	if (res->outcome != LBR_OUT_OK)
		goto out;

	r = lbr_uc_parse_vserver(p->host, obs, rep.root, ulb, vs, next_cursor, next_len, perr,
				 sizeof(perr));
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

/*
 * One call about the existing backend m, ReleaseBackend or
 * UpdateBackendAttribute: ULBId and BackendId, plus Enabled when
 * enabled >= 0 and Weight when weight >= 0.  Fills the single item: a
 * backend that is gone is NOT_FOUND, one that a forwarding policy still
 * references cannot be released (BLOCKED).
 */
static int backend_call(struct uc_prov *p, struct lbr_call *call, const struct lbr_target *t,
			const struct lbr_member_ref *m, const char *action, long enabled,
			long weight, struct lbr_item_result *it, struct lbr_call_result *res)
{
	struct lbr_uc_params params;
	struct uc_reply rep = { 0 };
	const char *ulb;
	int r = 0;

	lbr_uc_params_init(&params);
	if (target_ids(p, t, &ulb, NULL, res) < 0)
		goto out;
	if (!lbr_pc_valid_id(m->id, 128)) {
		set_result(p, res, LBR_OUT_INVALID, "invalid backend id");
		goto out;
	}
	if ((r = lbr_uc_params_add(&params, "Action", action)) < 0 ||
	    (r = lbr_uc_params_add(&params, "ULBId", ulb)) < 0 ||
	    (r = lbr_uc_params_add(&params, "BackendId", m->id)) < 0 ||
	    (enabled >= 0 && (r = lbr_uc_params_add_long(&params, "Enabled", enabled)) < 0) ||
	    (weight >= 0 && (r = lbr_uc_params_add_long(&params, "Weight", weight)) < 0)) {
		set_result(p, res, LBR_OUT_INVALID, "out of memory");
		goto out;
	}
	r = uc_request(p, call, &params, &rep, res);
	if (r < 0 || !rep.have_retcode)
		goto out;
	if (is_backend_gone(rep.retcode)) {
		item_outcome(p, it, res, LBR_OUT_NOT_FOUND, "backend %s no longer exists in ulb %s",
			     m->id, ulb);
		goto out;
	}
	if (rep.retcode == UC_RC_IN_POLICY && strcmp(action, "ReleaseBackend") == 0) {
		/* Still attached to a forwarding policy: the core must
		 * update the policy first or give up on this backend. */
		item_outcome(p, it, res, LBR_OUT_BLOCKED,
			     "backend %s is still referenced by a forwarding "
			     "policy",
			     m->id);
		goto out;
	}
out:
	item_call_end(res, it, &rep, &params);
	return r;
}

static int uc_remove_members(void *prov, struct lbr_call *call, const struct lbr_target *t,
			     const struct lbr_member_ref *m, size_t n,
			     struct lbr_item_result *items, struct lbr_call_result *res)
{
	struct uc_prov *p = prov;

	if (batch_begin(p, n, items, res) < 0)
		return 0;
	return backend_call(p, call, t, m, "ReleaseBackend", -1, -1, items, res);
}

/* Read BackendId from an AllocateBackend answer into id (idlen bytes);
 * "" when it is absent or not a valid id: the creation still happened,
 * and the core finds the backend when it lists the pool again. */
static void allocated_id(struct json_object *root, char *id, size_t idlen)
{
	struct json_object *v;
	const char *s;

	id[0] = '\0';
	if (!root || !json_object_object_get_ex(root, "BackendId", &v) ||
	    !json_object_is_type(v, json_type_string))
		return;
	s = json_object_get_string(v);
	if (lbr_pc_valid_id(s, 128) && strlen(s) < idlen)
		snprintf(id, idlen, "%s", s);
}

static int uc_create_members(void *prov, struct lbr_call *call, const struct lbr_target *t,
			     const struct lbr_member_spec *m, size_t n,
			     struct lbr_item_result *items, struct lbr_call_result *res)
{
	struct uc_prov *p = prov;
	struct lbr_uc_params params;
	struct uc_reply rep = { 0 };
	const char *ulb, *vs, *vpc, *subnet, *rtype = NULL;
	char who[80];
	int r = 0;

	if (batch_begin(p, n, items, res) < 0)
		return 0;
	lbr_uc_params_init(&params);
	if (target_ids(p, t, &ulb, &vs, res) < 0)
		goto out;
	member_text(m, who, sizeof(who));
	vpc = lbr_pc_kv_get(t->kv, t->n, "vpc_id");
	subnet = lbr_pc_kv_get(t->kv, t->n, "subnet_id");
	/* check_target() refused all of this already; never send a request
	 * built from values it would have refused. */
	if (!m->address || !*m->address || m->port < 1 || m->port > 65535) {
		set_result(p, res, LBR_OUT_INVALID, "member %s: bad address", who);
		goto out;
	}
	if (m->weight >= 0 && (m->weight < UC_WEIGHT_MIN || m->weight > UC_WEIGHT_MAX)) {
		set_result(p, res, LBR_OUT_INVALID, "member %s: weight %d out of range %d..%d", who,
			   m->weight, UC_WEIGHT_MIN, UC_WEIGHT_MAX);
		goto out;
	}
	if (m->resource) {
		rtype = lbr_pc_valid_id(m->resource, 128) ? resource_type(m->resource) : NULL;
		if (!rtype) {
			set_result(p, res, LBR_OUT_INVALID, "member %s: unknown resource type",
				   who);
			goto out;
		}
	} else if (!lbr_pc_valid_id(vpc, 128) || !lbr_pc_valid_id(subnet, 128)) {
		set_result(p, res, LBR_OUT_INVALID,
			   "member %s: no resource= and no vpc_id/subnet_id "
			   "on pool %s",
			   who, t->pool_name ? t->pool_name : "?");
		goto out;
	}

	if ((r = lbr_uc_params_add(&params, "Action", "AllocateBackend")) < 0 ||
	    (r = lbr_uc_params_add(&params, "ULBId", ulb)) < 0 ||
	    (r = lbr_uc_params_add(&params, "VServerId", vs)) < 0)
		goto oom;
	if (rtype) {
		if ((r = lbr_uc_params_add(&params, "ResourceType", rtype)) < 0 ||
		    (r = lbr_uc_params_add(&params, "ResourceId", m->resource)) < 0)
			goto oom;
	} else {
		/* An IP backend: the declared address itself, which must
		 * live in the pool's VPC and subnet. */
		if ((r = lbr_uc_params_add(&params, "ResourceType", "IP")) < 0 ||
		    (r = lbr_uc_params_add(&params, "ResourceIP", m->address)) < 0 ||
		    (r = lbr_uc_params_add(&params, "VPCId", vpc)) < 0 ||
		    (r = lbr_uc_params_add(&params, "SubnetId", subnet)) < 0)
			goto oom;
	}
	if ((r = lbr_uc_params_add_long(&params, "Port", (long)m->port)) < 0 ||
	    (m->weight >= 0 && (r = lbr_uc_params_add_long(&params, "Weight", m->weight)) < 0))
		goto oom;

	r = uc_request(p, call, &params, &rep, res);
	if (r < 0 || !rep.have_retcode)
		goto out;
	if (rep.retcode == UC_RC_ALREADY_IN_POOL) {
		/* The same resource and port are already a backend of this
		 * VServer: done, once the core has listed it again. */
		item_outcome(p, items, res, LBR_OUT_EXISTS, "member %s is already in vserver %s",
			     who, vs);
		goto out;
	}
	if (is_permanent_create_error(rep.retcode)) {
		/* Documented refusals that no retry can change, although
		 * the SDKs' ">= 2000 is retryable" rule would retry them. */
		set_result(p, res, LBR_OUT_INVALID, "member %s: %s", who, res->message);
		goto out;
	}
	if (res->outcome == LBR_OUT_OK)
		allocated_id(rep.root, items->id, sizeof(items->id));
	goto out;
oom:
	set_result(p, res, LBR_OUT_INVALID, "out of memory");
out:
	item_call_end(res, items, &rep, &params);
	return r;
}

static int uc_drain_members(void *prov, struct lbr_call *call, const struct lbr_target *t,
			    const struct lbr_member_ref *m, size_t n, int drain,
			    struct lbr_item_result *items, struct lbr_call_result *res)
{
	struct uc_prov *p = prov;
	long enabled, weight = -1;

	if (batch_begin(p, n, items, res) < 0)
		return 0;
	/* Enabled=0 stops new connections without cutting existing ones.
	 * On restore an unknown previous state means "enabled": that is
	 * what undoing a drain is for; the observed weight goes back too. */
	enabled = drain ? 0 : (m->enabled == 0 ? 0 : 1);
	if (!drain && m->weight >= UC_WEIGHT_MIN && m->weight <= UC_WEIGHT_MAX)
		weight = m->weight;
	return backend_call(p, call, t, m, "UpdateBackendAttribute", enabled, weight, items, res);
}

static int uc_set_weights(void *prov, struct lbr_call *call, const struct lbr_target *t,
			  const struct lbr_member_ref *m, const int *weights, size_t n,
			  struct lbr_item_result *items, struct lbr_call_result *res)
{
	struct uc_prov *p = prov;

	if (batch_begin(p, n, items, res) < 0)
		return 0;
	/* The API takes 1..100; 0 would be refused by the cloud, so it is
	 * refused here without a request. */
	if (weights[0] < UC_WEIGHT_MIN || weights[0] > UC_WEIGHT_MAX) {
		set_result(p, res, LBR_OUT_INVALID, "backend %s: weight %d out of range %d..%d",
			   m->id ? m->id : "?", weights[0], UC_WEIGHT_MIN, UC_WEIGHT_MAX);
		lbr_pc_items_from_call(res, items, 1);
		return 0;
	}
	return backend_call(p, call, t, m, "UpdateBackendAttribute", -1, weights[0], items, res);
}

static int uc_update_rule(void *prov, struct lbr_call *call, const struct lbr_target *t,
			  const struct lbr_rule_ref *rule, const char *const *member_ids, size_t n,
			  struct lbr_call_result *res)
{
	struct uc_prov *p = prov;
	struct lbr_uc_params params;
	struct uc_reply rep = { 0 };
	const char *ulb, *vs, *type, *match;
	char key[32];
	size_t i;
	int r = 0;

	lbr_pc_results_init(res, NULL, 0);
	lbr_uc_params_init(&params);
	if (target_ids(p, t, &ulb, &vs, res) < 0)
		goto out;
	if (!lbr_pc_valid_id(rule->id, 128)) {
		set_result(p, res, LBR_OUT_INVALID, "invalid policy id");
		goto out;
	}
	/* UpdatePolicy without BackendId.N empties the policy, which would
	 * send its traffic nowhere.  The core never asks; refuse anyway. */
	if (n == 0) {
		set_result(p, res, LBR_OUT_INVALID, "refusing to empty policy %s", rule->id);
		goto out;
	}
	type = lbr_pc_kv_get(rule->attrs, rule->n_attrs, "Type");
	match = lbr_pc_kv_get(rule->attrs, rule->n_attrs, "Match");
	/* An omitted Type means "Domain" to the API, so a Path policy would
	 * silently change meaning: both must be re-sent as observed. */
	if (!type || !*type || !match || !*match) {
		set_result(p, res, LBR_OUT_INVALID, "policy %s: observed Type/Match missing",
			   rule->id);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!lbr_pc_valid_id(member_ids[i], 128)) {
			set_result(p, res, LBR_OUT_INVALID, "policy %s: invalid backend id",
				   rule->id);
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
				   lbr_pc_kv_get(rule->attrs, rule->n_attrs, "DomainMatchMode"))) <
		    0 ||
	    (r = lbr_uc_params_add(&params, "PolicyPriority",
				   lbr_pc_kv_get(rule->attrs, rule->n_attrs, "PolicyPriority"))) <
		    0)
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

static const struct lbr_provider uc_provider = {
	.struct_size = sizeof(struct lbr_provider),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.name = "ucloud",
	.version = PACKAGE_VERSION,
	.caps = LBR_CAP_RULES | LBR_CAP_DRAIN | LBR_CAP_CREATE | LBR_CAP_WEIGHT |
		LBR_CAP_COOPERATIVE,
	.provider_keys = provider_keys,
	.pool_keys = pool_keys,
	.open = uc_open,
	.close = uc_close,
	.check_target = uc_check_target,
	.list_page = uc_list_page,
	.remove_members = uc_remove_members,
	.create_members = uc_create_members,
	.set_weights = uc_set_weights,
	.drain_members = uc_drain_members,
	.update_rule = uc_update_rule,
};

/* The only exported symbol. */
LBR_PC_PROVIDER_ENTRY(uc_provider)
