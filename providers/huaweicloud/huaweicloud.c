/*
 * Huawei Cloud ELB provider plugin (shared ELB API v2, dedicated ELB v3).
 *
 * API v2 (`api = v2`, the default): list a pool's members with
 * GET /v2/{project_id}/elb/pools/{pool_id}/members (limit + marker paging),
 * and act on one member per request: DELETE/PUT .../members/{member_id},
 * POST .../members to create one.
 *
 * API v3 (`api = v3`): list with GET /v3/.../members following
 * page_info.next_marker, remove and create up to 200 members per request
 * with POST .../members/batch-delete and .../members/batch-add, and change
 * weights with PUT .../members/{member_id}, one member per request.
 *
 * Requests are signed with SDK-HMAC-SHA256 (AK/SK) or carry an IAM token.
 * Transport, retries and concurrency belong to the core; this file builds
 * one request per operation and classifies the answer.
 *
 * An instance is immutable after open(), so operations may run on several
 * threads at once without locking.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lbreconcile/provider.h"
#include "common/provcommon.h"
#include "hwparse.h"
#include "hwsign.h"

#define HW_PLUGIN_VERSION "0.2.0"

/* Members per list request.  2000 is the largest `limit` the ELB API
 * documents (v3; v2 documents no maximum), and a large page keeps the
 * number of signed round trips for big pools low. */
#define HW_PAGE_SIZE_MAX 2000
#define HW_PAGE_SIZE_DEFAULT HW_PAGE_SIZE_MAX

/* Items per v3 batch-delete / batch-add request (documented maximum). */
#define HW_V3_BATCH_MAX 200

#define HW_WEIGHT_MIN 0
#define HW_WEIGHT_MAX 100

#define HW_MAX_HEADERS 8

struct hw_prov {
	const struct lbr_host *host;
	char *base_url; /* "https://host[:port]", no trailing slash */
	char *host_hdr; /* "host[:port]", what libcurl sends as Host */
	char *project_id;
	char *access_key; /* AK/SK auth, or ... */
	char *secret_key;
	char *token; /* ... an IAM token */
	unsigned page_size;
	int api; /* 2 or 3 */
};

static const struct lbr_key_spec provider_keys[] = {
	{ "region", 0, "region, e.g. cn-north-4 (required unless endpoint is set)" },
	{ "project_id", LBR_KEY_REQUIRED | LBR_KEY_ID,
	  "project id of the region (32 hex characters)" },
	{ "endpoint", 0, "ELB endpoint; default https://elb.{region}.myhuaweicloud.com" },
	{ "access_key", LBR_KEY_SECRET, "access key id for AK/SK signing (with secret_key)" },
	{ "secret_key", LBR_KEY_SECRET, "secret access key for AK/SK signing (with access_key)" },
	{ "token", LBR_KEY_SECRET, "project-scoped IAM token (instead of access_key/secret_key)" },
	{ "page_size", 0, "members per list request, 1..2000 (default 2000)" },
	{ "api", 0, "v2 (shared ELB, default) or v3 (dedicated ELB, batch calls)" },
	{ NULL, 0, NULL },
};

static const struct lbr_key_spec pool_keys[] = {
	{ "pool_id", LBR_KEY_REQUIRED | LBR_KEY_ID, "ELB backend server group (pool) id" },
	{ "subnet_id", LBR_KEY_ID,
	  "subnet of created members (v2: required with create = yes; "
	  "v3: sent as subnet_cidr_id)" },
	{ NULL, 0, NULL },
};

static void hw_close(void *arg)
{
	struct hw_prov *p = arg;

	if (!p)
		return;
	free(p->base_url);
	free(p->host_hdr);
	free(p->project_id);
	lbr_pc_free_secret(p->access_key);
	lbr_pc_free_secret(p->secret_key);
	lbr_pc_free_secret(p->token);
	lbr_pc_wipe(p, sizeof(*p));
	free(p);
}

static int valid_region(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return n >= 1 && n <= 64;
}

/* Which configuration keys were seen, for duplicate detection. */
struct hw_cfg {
	const char *region, *project_id, *endpoint, *access_key, *secret_key, *token, *page_size,
		*api;
};

static int collect_cfg(const struct lbr_kv *cfg, size_t ncfg, struct hw_cfg *c, char *err,
		       size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
	} slots[] = {
		{ "region", offsetof(struct hw_cfg, region) },
		{ "project_id", offsetof(struct hw_cfg, project_id) },
		{ "endpoint", offsetof(struct hw_cfg, endpoint) },
		{ "access_key", offsetof(struct hw_cfg, access_key) },
		{ "secret_key", offsetof(struct hw_cfg, secret_key) },
		{ "token", offsetof(struct hw_cfg, token) },
		{ "page_size", offsetof(struct hw_cfg, page_size) },
		{ "api", offsetof(struct hw_cfg, api) },
	};
	size_t i, j;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < ncfg; i++) {
		const char *k = cfg[i].key, *v = cfg[i].value;
		const char **slot = NULL;

		if (!k)
			continue;
		for (j = 0; j < sizeof(slots) / sizeof(slots[0]); j++)
			if (strcmp(k, slots[j].name) == 0)
				slot = (const char **)((char *)c + slots[j].off);
		if (!slot) {
			lbr_pc_set_err(err, errlen, "unknown key '%.64s'", k);
			return LBR_EINVAL;
		}
		if (*slot) {
			lbr_pc_set_err(err, errlen, "key '%s' given more than once", k);
			return LBR_EINVAL;
		}
		/* An empty value is almost always an unset environment
		 * variable behind env:NAME; say so rather than sending an
		 * unsigned or unscoped request later. */
		if (!v || !*v) {
			lbr_pc_set_err(err, errlen, "key '%s' is empty", k);
			return LBR_EINVAL;
		}
		*slot = v;
	}
	return 0;
}

/* What an instance of `api` can do (see the ABI header). */
static void fill_info(int api, struct lbr_instance_info *info)
{
	int i;

	/* Every 2.x core hands at least the 2.0 layout, so struct_size is
	 * not needed to know that these fields exist. */
	if (!info)
		return;
	info->caps = LBR_CAP_DRAIN | LBR_CAP_CREATE | LBR_CAP_WEIGHT | LBR_CAP_COOPERATIVE;
	for (i = 0; i < LBR_BATCH_COUNT; i++)
		info->batch[i] = 1;
	if (api == 3) {
		/* Weights go through PUT .../members/{id}, one member per
		 * request, on both APIs: the v3 batch-update answer is not
		 * documented well enough to map per member. */
		info->batch[LBR_BATCH_REMOVE] = HW_V3_BATCH_MAX;
		info->batch[LBR_BATCH_CREATE] = HW_V3_BATCH_MAX;
	}
	info->weight_min = HW_WEIGHT_MIN;
	info->weight_max = HW_WEIGHT_MAX;
	snprintf(info->api, sizeof(info->api), "v%d", api);
}

static int hw_open(const struct lbr_host *host, const struct lbr_kv *cfg, size_t ncfg,
		   void **prov_out, struct lbr_instance_info *info, char *err, size_t errlen)
{
	struct hw_prov *p = NULL;
	struct lbr_pc_endpoint ep = { 0 };
	struct hw_cfg c;
	char *url = NULL;
	unsigned long ps;
	char *stop;
	int r, api = 2;

	*prov_out = NULL;
	r = LBR_EINVAL;
	if (!host || host->abi_major != LBR_PROVIDER_ABI_MAJOR ||
	    host->struct_size < sizeof(struct lbr_host) || !host->http || !host->http_release ||
	    !host->url_encode || !host->url_decode || !host->now || !host->obs_add_member) {
		lbr_pc_set_err(err, errlen, "host services table is incompatible");
		goto out;
	}
	r = collect_cfg(cfg, ncfg, &c, err, errlen);
	if (r < 0)
		goto out;
	r = LBR_EINVAL;
	if (!c.project_id) {
		lbr_pc_set_err(err, errlen, "missing required key 'project_id'");
		goto out;
	}
	if (!lbr_pc_valid_id(c.project_id, 128)) {
		lbr_pc_set_err(err, errlen,
			       "project_id '%.130s' is not a valid id "
			       "([A-Za-z0-9_-]{1,128})",
			       c.project_id);
		goto out;
	}
	if (c.api) {
		if (strcmp(c.api, "v2") == 0) {
			api = 2;
		} else if (strcmp(c.api, "v3") == 0) {
			api = 3;
		} else {
			lbr_pc_set_err(err, errlen, "api '%.32s' must be v2 or v3", c.api);
			goto out;
		}
	}
	if (c.token && (c.access_key || c.secret_key)) {
		lbr_pc_set_err(err, errlen,
			       "set either access_key and secret_key, or "
			       "token, not both");
		goto out;
	}
	if (!c.token && (!c.access_key || !c.secret_key)) {
		if (c.access_key || c.secret_key)
			lbr_pc_set_err(err, errlen,
				       "access_key and secret_key must be set "
				       "together (missing '%s')",
				       c.access_key ? "secret_key" : "access_key");
		else
			lbr_pc_set_err(err, errlen,
				       "no credentials: set access_key and "
				       "secret_key, or token");
		goto out;
	}
	if (c.region && !valid_region(c.region)) {
		lbr_pc_set_err(err, errlen,
			       "region '%.64s' is not a valid region name "
			       "(e.g. cn-north-4)",
			       c.region);
		goto out;
	}
	if (!c.endpoint && !c.region) {
		lbr_pc_set_err(err, errlen,
			       "missing key 'region' (or an explicit "
			       "'endpoint')");
		goto out;
	}
	r = LBR_ENOMEM;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto out;
	p->host = host;
	p->api = api;
	p->page_size = HW_PAGE_SIZE_DEFAULT;
	if (c.page_size) {
		errno = 0;
		ps = strtoul(c.page_size, &stop, 10);
		if (*stop || errno || c.page_size[0] < '0' || c.page_size[0] > '9' || ps < 1 ||
		    ps > HW_PAGE_SIZE_MAX) {
			lbr_pc_set_err(err, errlen,
				       "page_size '%.32s' must be an integer "
				       "in 1..%d",
				       c.page_size, HW_PAGE_SIZE_MAX);
			r = LBR_EINVAL;
			goto out;
		}
		p->page_size = (unsigned)ps;
	}
	if (!c.endpoint) {
		if (asprintf(&url, "https://elb.%s.myhuaweicloud.com", c.region) < 0) {
			url = NULL;
			goto out;
		}
	}
	r = lbr_pc_parse_endpoint(url ? url : c.endpoint, 0, &ep, err, errlen);
	if (r < 0)
		goto out;
	p->base_url = ep.base;
	p->host_hdr = ep.host;
	ep.base = ep.host = NULL; /* transferred */
	r = LBR_ENOMEM;
	p->project_id = strdup(c.project_id);
	if (!p->project_id)
		goto out;
	if (c.token) {
		p->token = strdup(c.token);
		if (!p->token)
			goto out;
	} else {
		p->access_key = strdup(c.access_key);
		p->secret_key = strdup(c.secret_key);
		if (!p->access_key || !p->secret_key)
			goto out;
	}
	fill_info(api, info);
	*prov_out = p;
	p = NULL; /* transferred */
	r = 0;
out:
	if (r == LBR_ENOMEM)
		lbr_pc_set_err(err, errlen, "out of memory");
	lbr_pc_endpoint_free(&ep);
	free(url);
	hw_close(p);
	return r;
}

static const char *target_value(const struct lbr_target *t, const char *key)
{
	return t ? lbr_pc_kv_get(t->kv, t->n, key) : NULL;
}

static const char *pool_label(const struct lbr_target *t, const char *pool_id)
{
	if (t && t->pool_name && *t->pool_name)
		return t->pool_name;
	return pool_id ? pool_id : "?";
}

static int hw_check_target(void *prov, const struct lbr_target *t, char *err, size_t errlen)
{
	const struct hw_prov *p = prov;
	const char *pool_id = target_value(t, "pool_id");
	const char *subnet_id = target_value(t, "subnet_id");
	const char *label = pool_label(t, NULL);
	size_t i;

	if (!t) {
		lbr_pc_set_err(err, errlen, "no pool target");
		return LBR_EINVAL;
	}
	if (!pool_id) {
		lbr_pc_set_err(err, errlen, "pool %.64s: missing required key 'pool_id'", label);
		return LBR_EINVAL;
	}
	if (!lbr_pc_valid_id(pool_id, 128)) {
		lbr_pc_set_err(err, errlen,
			       "pool %.64s: pool_id '%.130s' is not a valid "
			       "id ([A-Za-z0-9_-]{1,128})",
			       label, pool_id);
		return LBR_EINVAL;
	}
	if (subnet_id && !lbr_pc_valid_id(subnet_id, 128)) {
		lbr_pc_set_err(err, errlen,
			       "pool %.64s: subnet_id '%.130s' is not a valid "
			       "id ([A-Za-z0-9_-]{1,128})",
			       label, subnet_id);
		return LBR_EINVAL;
	}
	/* Without a prov (a dry check) assume v2, the stricter API. */
	if (t->create && !subnet_id && (!p || p->api == 2)) {
		lbr_pc_set_err(err, errlen,
			       "pool %.64s: create = yes needs subnet_id on "
			       "the Huawei v2 API (the member's subnet is "
			       "required)",
			       label);
		return LBR_EINVAL;
	}
	for (i = 0; t->members && i < t->n_members; i++) {
		/* The v2 member's subnet_id is an IPv4 subnet (reference
		 * §2.2, §2.5): an IPv6 member could never be created. */
		if (t->create && p && p->api == 2 && t->members[i].address &&
		    strchr(t->members[i].address, ':')) {
			lbr_pc_set_err(err, errlen,
				       "pool %.64s: member %.64s port %u: IPv6 members cannot be "
				       "created on the Huawei v2 API (its subnet_id is an IPv4 "
				       "subnet); use api = v3 or leave create off",
				       label, t->members[i].address, t->members[i].port);
			return LBR_EINVAL;
		}
		if (t->members[i].resource) {
			lbr_pc_set_err(err, errlen,
				       "pool %.64s: member %.64s port %u: "
				       "resource= is not supported by "
				       "huaweicloud (members are added by "
				       "address)",
				       label, t->members[i].address ? t->members[i].address : "?",
				       t->members[i].port);
			return LBR_EINVAL;
		}
	}
	return 0;
}

/* A cloud message may quote anything the request carried (the gateway
 * echoes its canonical request on signature failures); make sure no
 * credential survives into a result, even before the core's own
 * scrubbing. */
static void redact_result(const struct hw_prov *p, struct lbr_call_result *r)
{
	lbr_pc_redact_result(r, p->secret_key, "[REDACTED]");
	lbr_pc_redact_result(r, p->token, "[REDACTED]");
	lbr_pc_redact_result(r, p->access_key, "[REDACTED]");
}

static void redact_items(const struct hw_prov *p, struct lbr_item_result *it, size_t n)
{
	const char *secrets[] = { p->secret_key, p->token, p->access_key };
	size_t i, k;

	for (i = 0; it && i < n; i++)
		for (k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++)
			lbr_pc_redact(it[i].message, sizeof(it[i].message), secrets[k],
				      "[REDACTED]");
}

/* One HTTP exchange as described by the caller. */
struct hw_req {
	enum lbr_hw_op op;
	const char *method;
	const char *path;           /* already encoded; ids only */
	const struct lbr_kv *query; /* decoded pairs */
	size_t n_query;
	const char *body; /* JSON or NULL */
	const char *what; /* "pool web", for diagnostics */
};

/*
 * Sign and send `rq`, then classify the response into res.  When the
 * response is a success and `resp` is not NULL, it is handed to the caller
 * (*got_resp = 1), who must release it; otherwise it is released here.
 * Returns 0 (res filled, whatever the outcome) or LBR_ENOMEM/LBR_ERR.
 * Secrets are masked once, by the operation, when its result is final
 * (masking twice would mask the mask of a secret found inside it).
 */
static int hw_exchange(const struct hw_prov *p, struct lbr_call *call, const struct hw_req *rq,
		       struct lbr_call_result *res, struct lbr_http_response *resp, int *got_resp)
{
	const struct lbr_host *host = p->host;
	struct lbr_hw_signature sig = { 0 };
	struct lbr_http_request req = { 0 };
	struct lbr_http_response r_local = { 0 };
	struct lbr_http_response *rp = resp ? resp : &r_local;
	struct lbr_hw_error e;
	struct lbr_kv sh[4];
	const char *hdrs[HW_MAX_HEADERS + 1];
	char *h_date = NULL, *h_proj = NULL, *h_auth = NULL, *query = NULL;
	char *url = NULL;
	char date[LBR_HW_DATE_LEN], terr[256];
	const char *rid;
	size_t nh = 0, nsh = 0;
	int rc, have = 0, r = LBR_ENOMEM;

	if (got_resp)
		*got_resp = 0;
	if (lbr_hw_format_date(host->now(call), date, sizeof(date)) < 0) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "%s: cannot format the request date", rq->what);
		r = LBR_ERR;
		goto out;
	}
	if (asprintf(&h_proj, "X-Project-Id: %s", p->project_id) < 0) {
		h_proj = NULL;
		goto out;
	}
	hdrs[nh++] = "Accept: application/json";
	if (rq->body)
		hdrs[nh++] = "Content-Type: application/json";
	hdrs[nh++] = h_proj;

	if (p->secret_key) {
		struct lbr_hw_sign_input in = { 0 };

		/* Sign what a proxy cannot rewrite plus what scopes the
		 * request: host, project, date, and the body's type. */
		if (rq->body)
			sh[nsh++] = (struct lbr_kv){ "content-type", "application/json" };
		sh[nsh++] = (struct lbr_kv){ "host", p->host_hdr };
		sh[nsh++] = (struct lbr_kv){ "x-project-id", p->project_id };
		sh[nsh++] = (struct lbr_kv){ "x-sdk-date", date };
		in.method = rq->method;
		in.path = rq->path;
		in.query = rq->query;
		in.n_query = rq->n_query;
		in.headers = sh;
		in.n_headers = nsh;
		in.body = rq->body;
		in.body_len = rq->body ? strlen(rq->body) : 0;
		in.access_key = p->access_key;
		in.secret_key = p->secret_key;
		in.date = date;
		rc = lbr_hw_sign(host, &in, &sig);
		if (rc < 0) {
			r = rc;
			res->outcome = LBR_OUT_INVALID;
			lbr_pc_res_msg(res, "%s: cannot sign the request (%s)", rq->what,
				       rc == LBR_ENOMEM ? "out of memory" : "unsignable header");
			goto out;
		}
		if (asprintf(&h_date, "X-Sdk-Date: %s", date) < 0) {
			h_date = NULL;
			goto out;
		}
		if (asprintf(&h_auth, "Authorization: %s", sig.authorization) < 0) {
			h_auth = NULL;
			goto out;
		}
		hdrs[nh++] = h_date;
		/* The wire query is the canonical query, byte for byte, so
		 * the gateway recomputes the same string we signed. */
		query = strdup(sig.canonical_query);
		if (!query)
			goto out;
	} else {
		if (asprintf(&h_auth, "X-Auth-Token: %s", p->token) < 0) {
			h_auth = NULL;
			goto out;
		}
		if (lbr_hw_canonical_query(host, rq->query, rq->n_query, &query) < 0)
			goto out;
	}
	hdrs[nh++] = h_auth;
	hdrs[nh] = NULL;

	if (asprintf(&url, "%s%s%s%s", p->base_url, rq->path, *query ? "?" : "", query) < 0) {
		url = NULL;
		goto out;
	}
	req.method = rq->method;
	req.url = url;
	req.headers = hdrs;
	req.body = rq->body;
	req.body_len = rq->body ? strlen(rq->body) : 0;

	terr[0] = '\0';
	rc = host->http(call, &req, rp, terr, sizeof(terr));
	if (rc < 0) {
		res->http_status = 0;
		res->outcome = rc == LBR_EFATAL ? LBR_OUT_INVALID : LBR_OUT_TRANSIENT;
		lbr_pc_res_msg(res, "%s: %s %s failed: %s", rq->what, rq->method, url,
			       terr[0] ? terr : "transport error");
		r = 0;
		goto out;
	}
	have = 1;
	if (host->log)
		host->log(call, LBR_LOG_DEBUG, "%s %s -> HTTP %ld", rq->method, url, rp->status);
	res->http_status = rp->status;
	res->retry_after_ms = rp->retry_after_ms;
	rid = host->http_header ? host->http_header(rp, "X-Request-Id") : NULL;
	lbr_pc_copy_clean(res->request_id, sizeof(res->request_id), rid);

	if (rp->status >= 200 && rp->status < 300) {
		res->outcome = LBR_OUT_OK;
		if (resp && got_resp) {
			*got_resp = 1;
			have = 0; /* transferred to the caller */
		}
		r = 0;
		goto out;
	}

	lbr_hw_parse_error(rp->body, rp->body ? rp->body_len : 0, &e);
	if (!res->request_id[0])
		memcpy(res->request_id, e.request_id, sizeof(e.request_id));
	memcpy(res->code, e.code, sizeof(res->code));
	res->outcome = lbr_hw_classify(rq->op, rp->status, e.code);

	if (rp->status == 404 && strcasecmp(e.code, "APIGW.0101") == 0)
		lbr_pc_res_msg(res,
			       "%s: the API does not exist at %s (wrong endpoint "
			       "or region?): %s",
			       rq->what, p->base_url, e.message);
	else if (rp->status == 404 && rq->op != LBR_HW_OP_REMOVE && rq->op != LBR_HW_OP_DRAIN)
		lbr_pc_res_msg(res, "%s: pool not found: %s", rq->what,
			       e.message[0] ? e.message : "HTTP 404");
	else if (e.message[0])
		lbr_pc_res_msg(res, "%s: %s", rq->what, e.message);
	else
		lbr_pc_res_msg(res, "%s: HTTP %ld with no recognised error body", rq->what,
			       rp->status);
	r = 0;
out:
	if (r == LBR_ENOMEM) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "%s: out of memory", rq->what);
	}
	if (have)
		host->http_release(rp);
	lbr_hw_signature_release(&sig);
	free(url);
	free(query);
	free(h_proj);
	free(h_date);
	if (h_auth) {
		lbr_pc_wipe(h_auth, strlen(h_auth));
		free(h_auth);
	}
	return r;
}

/*
 * hw_exchange() rq on the path printed from fmt (rq->path is ignored).
 * Running out of memory for the path fails the call with LBR_ENOMEM,
 * naming rq->what.
 */
static int hw_send(const struct hw_prov *p, struct lbr_call *call, const struct hw_req *rq,
		   struct lbr_call_result *res, struct lbr_http_response *resp, int *got_resp,
		   const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int hw_send(const struct hw_prov *p, struct lbr_call *call, const struct hw_req *rq,
		   struct lbr_call_result *res, struct lbr_http_response *resp, int *got_resp,
		   const char *fmt, ...)
{
	struct hw_req with_path = *rq;
	char *path = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (r < 0) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "%s: out of memory", rq->what);
		return LBR_ENOMEM;
	}
	with_path.path = path;
	r = hw_exchange(p, call, &with_path, res, resp, got_resp);
	free(path);
	return r;
}

/* Begin an operation: reset res and items, find a valid pool_id. */
static int start_op(const struct lbr_target *t, struct lbr_call_result *res,
		    struct lbr_item_result *items, size_t n, const char **pool_id)
{
	lbr_pc_results_init(res, items, n);
	*pool_id = target_value(t, "pool_id");
	if (!lbr_pc_valid_id(*pool_id, 128)) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "pool %s: missing or malformed pool_id",
			       t && t->pool_name ? t->pool_name : "?");
		return -1;
	}
	return 0;
}

/* Refuse a batch of the wrong size before anything is sent. */
static int check_batch(const struct hw_prov *p, const char *what, size_t n, size_t max,
		       struct lbr_call_result *res)
{
	if (n >= 1 && n <= max)
		return 0;
	res->outcome = LBR_OUT_INVALID;
	lbr_pc_res_msg(res, "%s: batch of %zu members (the %s API takes 1..%zu)", what, n,
		       p->api == 3 ? "v3" : "v2", max);
	return -1;
}

/*
 * Begin a write operation on a pool: start_op(), then label it "pool
 * NAME" in what (whatlen bytes) and refuse a batch of more than max
 * members.  Returns 0, or -1 with res saying why.
 */
static int start_write(const struct hw_prov *p, const struct lbr_target *t,
		       struct lbr_call_result *res, struct lbr_item_result *items, size_t n,
		       size_t max, const char **pool_id, const char **label, char *what,
		       size_t whatlen)
{
	if (start_op(t, res, items, n, pool_id) < 0)
		return -1;
	*label = pool_label(t, *pool_id);
	snprintf(what, whatlen, "pool %s", *label);
	return check_batch(p, what, n, max, res);
}

struct list_ctx {
	const struct lbr_host *host;
	struct lbr_obs *obs;
};

static int add_member(void *arg, const struct lbr_hw_member *m)
{
	struct list_ctx *lc = arg;
	struct lbr_member_info mi = {
		.id = m->id,
		.address = m->address,
		.port = m->port,
		.weight = m->weight,
		/* Huawei members have no enabled flag (admin_state_up
		 * mirrors whether the backing ECS exists). */
		.enabled = -1,
		.name = m->name,
		.instance_id = m->instance_id,
		.type = m->type,
	};

	return lc->host->obs_add_member(lc->obs, &mi);
}

static int hw_list_page(void *prov, struct lbr_call *call, const struct lbr_target *t,
			const char *cursor, struct lbr_obs *obs, char *next_cursor, size_t next_len,
			struct lbr_call_result *res)
{
	const struct hw_prov *p = prov;
	struct lbr_http_response resp = { 0 };
	struct list_ctx lc = { p->host, obs };
	struct lbr_hw_page pg;
	struct lbr_kv q[2];
	struct hw_req rq = { .op = LBR_HW_OP_LIST, .method = "GET", .query = q };
	char what[200], limit[16], perr[256], last[130];
	char cur[130] = "";
	const char *pool_id;
	size_t count = 0;
	int got = 0, bad_cursor = 0, rc, r = 0;

	/* The caller may hand the same buffer as cursor and next_cursor;
	 * keep the cursor before clearing the output. */
	if (cursor && *cursor) {
		if (!lbr_pc_valid_id(cursor, 128)) {
			cursor = NULL;
			bad_cursor = 1;
		} else {
			strcpy(cur, cursor);
		}
	}
	if (next_len)
		next_cursor[0] = '\0';
	if (start_op(t, res, NULL, 0, &pool_id) < 0)
		goto out;
	snprintf(what, sizeof(what), "pool %s", pool_label(t, pool_id));
	if (bad_cursor) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "%s: malformed page cursor", what);
		goto out;
	}
	snprintf(limit, sizeof(limit), "%u", p->page_size);
	q[0] = (struct lbr_kv){ "limit", limit };
	q[1] = (struct lbr_kv){ "marker", cur };
	rq.n_query = cur[0] ? 2 : 1;
	rq.what = what;
	r = hw_send(p, call, &rq, res, &resp, &got, "/v%d/%s/elb/pools/%s/members", p->api,
		    p->project_id, pool_id);
	if (r < 0 || !got)
		goto out;

	if (p->api == 3) {
		rc = lbr_hw_parse_members_v3(resp.body, resp.body ? resp.body_len : 0, cur,
					     p->page_size, add_member, &lc, &pg, perr,
					     sizeof(perr));
		strcpy(last, pg.next_marker);
		count = pg.count;
	} else {
		rc = lbr_hw_parse_members(resp.body, resp.body ? resp.body_len : 0, add_member, &lc,
					  &count, last, sizeof(last), perr, sizeof(perr));
	}
	switch (rc) {
	case LBR_HW_PARSE_OK: break;
	case LBR_HW_PARSE_SYNTAX:
		/* A cut-off body is a transport accident, not a verdict
		 * about the pool: let the core retry it. */
		res->outcome = LBR_OUT_TRANSIENT;
		lbr_pc_res_msg(res, "%s: %s", what, perr);
		goto out;
	case LBR_HW_PARSE_NOMEM:
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "%s: %s", what, perr);
		r = LBR_ENOMEM;
		goto out;
	default:
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "%s: %s", what, perr);
		goto out;
	}
	if (p->api == 3) {
		/* The parser refused a marker that does not advance and a
		 * full page without page_info; what is left is the
		 * server's own "next" pointer, absent on the last page. */
		if (last[0] && strlen(last) >= next_len) {
			res->outcome = LBR_OUT_INVALID;
			lbr_pc_res_msg(res, "%s: page cursor buffer too small", what);
			r = LBR_ERR;
			goto out;
		}
		if (last[0])
			strcpy(next_cursor, last);
		r = 0;
		goto out;
	}
	/* The v2 API has no next link: a full page means "maybe more",
	 * continued from the last id.  A server that ignores the marker
	 * would hand back the same page forever, so stop on that. */
	if (count == p->page_size) {
		if (cur[0] && strcmp(cur, last) == 0) {
			res->outcome = LBR_OUT_INVALID;
			lbr_pc_res_msg(res,
				       "%s: paging did not advance past "
				       "member %s",
				       what, last);
			goto out;
		}
		if (strlen(last) >= next_len) {
			res->outcome = LBR_OUT_INVALID;
			lbr_pc_res_msg(res, "%s: page cursor buffer too small", what);
			r = LBR_ERR;
			goto out;
		}
		strcpy(next_cursor, last);
	}
	r = 0;
out:
	if (res->outcome != LBR_OUT_OK && next_len)
		next_cursor[0] = '\0';
	if (got)
		p->host->http_release(&resp);
	redact_result(p, res);
	return r;
}

/*
 * The answer to a request on one member decides its one item: "gone",
 * "already there" and success are the item's outcome in a call that
 * worked; anything else (throttled, auth, ...) is the call's.
 */
static void single_item(struct lbr_call_result *res, struct lbr_item_result *item)
{
	enum lbr_outcome o = res->outcome;

	item->outcome = o;
	lbr_pc_copy_clean(item->message, sizeof(item->message),
			  o == LBR_OUT_OK ? "" : res->message);
	if (o == LBR_OUT_NOT_FOUND)
		lbr_pc_item_msg(item, "not found");
	if (o == LBR_OUT_NOT_FOUND || o == LBR_OUT_EXISTS)
		res->outcome = LBR_OUT_OK;
}

/* One request on .../members/{member_id}: DELETE, or PUT with a body. */
static int member_call(const struct hw_prov *p, struct lbr_call *call, const char *pool_id,
		       const char *label, const struct lbr_member_ref *m, enum lbr_hw_op op,
		       const char *method, const char *body, struct lbr_item_result *item,
		       struct lbr_call_result *res)
{
	char what[300];
	struct hw_req rq = { .op = op, .method = method, .body = body, .what = what };
	int r;

	if (!m || !lbr_pc_valid_id(m->id, 128)) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "pool %s: malformed member id", label);
		lbr_pc_items_from_call(res, item, 1);
		return 0;
	}
	snprintf(what, sizeof(what), "pool %s: member %s", label, m->id);
	r = hw_send(p, call, &rq, res, NULL, NULL, "/v%d/%s/elb/pools/%s/members/%s", p->api,
		    p->project_id, pool_id, m->id);
	if (r == 0)
		single_item(res, item);
	return r;
}

/* Set one member's weight with PUT {"member":{"weight":W}} (v2 and v3). */
static int put_weight(const struct hw_prov *p, struct lbr_call *call, const char *pool_id,
		      const char *label, const struct lbr_member_ref *m, int weight,
		      struct lbr_item_result *item, struct lbr_call_result *res)
{
	char *body;
	int r;

	if (weight < HW_WEIGHT_MIN || weight > HW_WEIGHT_MAX) {
		/* Guessing a weight would silently change the pool's
		 * traffic split; refuse instead. */
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res,
			       "pool %s: member %s: weight %d is outside "
			       "%d..%d",
			       label, m && lbr_pc_valid_id(m->id, 128) ? m->id : "?", weight,
			       HW_WEIGHT_MIN, HW_WEIGHT_MAX);
		lbr_pc_items_from_call(res, item, 1);
		return 0;
	}
	body = lbr_hw_weight_body(weight);
	if (!body) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "pool %s: out of memory", label);
		return LBR_ENOMEM;
	}
	r = member_call(p, call, pool_id, label, m, LBR_HW_OP_DRAIN, "PUT", body, item, res);
	free(body);
	return r;
}

/* Compare two addresses as addresses when both parse (an IPv6 address has
 * many spellings), else as text. */
static int same_address(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	int fa = strchr(a, ':') ? AF_INET6 : AF_INET;
	int fb = strchr(b, ':') ? AF_INET6 : AF_INET;

	if (fa == fb && inet_pton(fa, a, x) == 1 && inet_pton(fb, b, y) == 1)
		return memcmp(x, y, fa == AF_INET6 ? 16 : 4) == 0;
	return strcasecmp(a, b) == 0;
}

/*
 * Matching a v3 batch answer to the request's items: a batch-delete by
 * id, a batch-add by address and port (the ids are what its answer
 * tells).  Exactly one of del and add is set.
 */
struct batch_ctx {
	const struct lbr_member_ref *del;
	const struct lbr_member_spec *add;
	struct lbr_item_result *items;
	size_t n;
	size_t seen;                           /* answer entries so far */
	size_t n_pos;                          /* items matched by position */
	unsigned char by_pos[HW_V3_BATCH_MAX]; /* ... which ones */
};

static int batch_match(const struct batch_ctx *bc, size_t i, const struct lbr_hw_batch_item *it)
{
	if (bc->del)
		return it->id && strcmp(bc->del[i].id, it->id) == 0;
	return it->address && (it->port < 0 || (unsigned)it->port == bc->add[i].port) &&
	       same_address(it->address, bc->add[i].address);
}

/* Set request item i from the answer item `it`: ret_status "successful",
 * "not found" for a delete, "existed" for an add, or a refusal.  The
 * reference documents the answer of batch-delete only; an add answered
 * with plain member objects (an id, no ret_status) created them.  An add
 * learns the member's id only from an entry that names its address: the
 * order of an answer matched by position is not documented, and a wrong
 * id would go into the audit log (the listing gives the ids removals use). */
static void batch_set(struct batch_ctx *bc, size_t i, const struct lbr_hw_batch_item *it)
{
	struct lbr_item_result *ir = &bc->items[i];
	const char *alt = bc->del ? "not found" : "existed";

	if (it->ret_status && strcasecmp(it->ret_status, "successful") == 0) {
		ir->outcome = LBR_OUT_OK;
	} else if (it->ret_status && strcasecmp(it->ret_status, alt) == 0) {
		ir->outcome = bc->del ? LBR_OUT_NOT_FOUND : LBR_OUT_EXISTS;
		lbr_pc_item_msg(ir, "%s", bc->del ? "not found" : "already exists");
	} else if (bc->add && !it->ret_status && it->id) {
		ir->outcome = LBR_OUT_OK;
	} else {
		ir->outcome = LBR_OUT_INVALID;
		lbr_pc_item_msg(ir, "ret_status '%.64s'",
				it->ret_status ? it->ret_status : "(none)");
	}
	if (bc->add && it->id && it->address)
		snprintf(ir->id, sizeof(ir->id), "%s", it->id);
}

/* Give the answer item `it` to the unset request items it matches: every
 * one with its id for a delete, the first with its address and port for
 * an add, which also learns the new member's id.  An add answer without
 * addresses is matched by position (checked by position_check()). */
static void batch_item(void *arg, const struct lbr_hw_batch_item *it)
{
	struct batch_ctx *bc = arg;
	size_t i, k = bc->seen++;

	if (bc->add && !it->address) {
		if (k < bc->n && bc->items[k].outcome == LBR_OUT_UNSET) {
			batch_set(bc, k, it);
			bc->by_pos[k] = 1;
			bc->n_pos++;
		}
		return;
	}
	for (i = 0; i < bc->n; i++) {
		if (bc->items[i].outcome != LBR_OUT_UNSET || !batch_match(bc, i, it))
			continue;
		batch_set(bc, i, it);
		if (bc->add)
			break;
	}
}

/* Items matched by position hold only when the answer has one entry per
 * member sent; otherwise which is which cannot be told, and they are
 * failures (the next pass reads the pool again). */
static void position_check(struct batch_ctx *bc)
{
	size_t i;

	if (!bc->n_pos || bc->seen == bc->n)
		return;
	for (i = 0; i < bc->n; i++) {
		if (!bc->by_pos[i])
			continue;
		memset(&bc->items[i], 0, sizeof(bc->items[i]));
		lbr_pc_item_msg(&bc->items[i],
				"the batch-add answer has %zu entries without addresses for %zu "
				"members: which is which cannot be told",
				bc->seen, bc->n);
	}
}

/* Turn a 2xx batch answer into item outcomes with fn; items the answer
 * did not mention stay unset (a failure) with a message saying so. */
static int batch_answer(const struct hw_prov *p, const char *what, const char *call_name,
			const struct lbr_http_response *resp, lbr_hw_batch_fn fn, void *ctx,
			struct lbr_item_result *items, size_t n, struct lbr_call_result *res)
{
	char perr[256], rid[128];
	size_t i;
	int rc;

	(void)p;
	rc = lbr_hw_parse_batch(resp->body, resp->body ? resp->body_len : 0, fn, ctx, rid,
				sizeof(rid), perr, sizeof(perr));
	if (rc != LBR_HW_PARSE_OK) {
		/* Which members were handled is unknown: leave every item
		 * unset, and let a cut-off body be retried. */
		lbr_pc_results_init(NULL, items, n);
		res->outcome = rc == LBR_HW_PARSE_SYNTAX ? LBR_OUT_TRANSIENT : LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "%s: %s answer: %s", what, call_name, perr);
		return 0;
	}
	if (!res->request_id[0])
		memcpy(res->request_id, rid, sizeof(res->request_id));
	for (i = 0; i < n; i++)
		if (items[i].outcome == LBR_OUT_UNSET)
			lbr_pc_item_msg(&items[i], "missing from the %s answer", call_name);
	res->outcome = LBR_OUT_OK;
	return 0;
}

/* POST a v3 batch call; on a 2xx answer map it into items with fn. */
static int batch_call(const struct hw_prov *p, struct lbr_call *call, const char *pool_id,
		      const char *what, const char *call_name, const char *body, lbr_hw_batch_fn fn,
		      void *ctx, struct lbr_item_result *items, size_t n,
		      struct lbr_call_result *res)
{
	struct lbr_http_response resp = { 0 };
	struct hw_req rq = { .op = LBR_HW_OP_BATCH, .method = "POST", .body = body, .what = what };
	int got = 0, r;

	r = hw_send(p, call, &rq, res, &resp, &got, "/v3/%s/elb/pools/%s/members/%s", p->project_id,
		    pool_id, call_name);
	if (r == 0 && got)
		r = batch_answer(p, what, call_name, &resp, fn, ctx, items, n, res);
	if (got)
		p->host->http_release(&resp);
	return r;
}

static int hw_remove_members(void *prov, struct lbr_call *call, const struct lbr_target *t,
			     const struct lbr_member_ref *m, size_t n,
			     struct lbr_item_result *items, struct lbr_call_result *res)
{
	const struct hw_prov *p = prov;
	struct batch_ctx bc = { .del = m, .items = items, .n = n };
	const char *pool_id, *label;
	char what[200], *body = NULL;
	size_t i;
	int r = 0;

	if (start_write(p, t, res, items, n, p->api == 3 ? HW_V3_BATCH_MAX : 1, &pool_id, &label,
			what, sizeof(what)) < 0)
		goto out;
	if (p->api == 2) {
		r = member_call(p, call, pool_id, label, &m[0], LBR_HW_OP_REMOVE, "DELETE", NULL,
				&items[0], res);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!lbr_pc_valid_id(m[i].id, 128)) {
			res->outcome = LBR_OUT_INVALID;
			lbr_pc_res_msg(res, "%s: malformed member id", what);
			goto out;
		}
	}
	body = lbr_hw_batch_delete_body(m, n);
	if (!body) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "%s: out of memory", what);
		r = LBR_ENOMEM;
		goto out;
	}
	r = batch_call(p, call, pool_id, what, "batch-delete", body, batch_item, &bc, items, n,
		       res);
out:
	free(body);
	redact_result(p, res);
	redact_items(p, items, n);
	return r;
}

/* A declared member this plugin can send, or a reason why not. */
static int check_spec(const struct lbr_member_spec *m, char *why, size_t len)
{
	if (!m->address || !*m->address || strlen(m->address) > 64) {
		snprintf(why, len, "missing or overlong address");
		return -1;
	}
	if (m->port < 1 || m->port > 65535) {
		snprintf(why, len, "port %u outside 1..65535", m->port);
		return -1;
	}
	if (m->weight != -1 && (m->weight < HW_WEIGHT_MIN || m->weight > HW_WEIGHT_MAX)) {
		snprintf(why, len, "weight %d outside %d..%d", m->weight, HW_WEIGHT_MIN,
			 HW_WEIGHT_MAX);
		return -1;
	}
	if (m->name && strlen(m->name) > 255) {
		snprintf(why, len, "name longer than 255 bytes");
		return -1;
	}
	if (m->resource) {
		snprintf(why, len, "resource= is not supported by huaweicloud");
		return -1;
	}
	return 0;
}

static int hw_create_members(void *prov, struct lbr_call *call, const struct lbr_target *t,
			     const struct lbr_member_spec *m, size_t n,
			     struct lbr_item_result *items, struct lbr_call_result *res)
{
	const struct hw_prov *p = prov;
	struct batch_ctx bc = { .add = m, .items = items, .n = n };
	struct lbr_http_response resp = { 0 };
	const char *pool_id, *label, *subnet_id;
	char what[300], why[128], *body = NULL;
	struct hw_req rq = { .op = LBR_HW_OP_CREATE, .method = "POST", .what = what };
	size_t i;
	int got = 0, r = 0;

	if (start_write(p, t, res, items, n, p->api == 3 ? HW_V3_BATCH_MAX : 1, &pool_id, &label,
			what, sizeof(what)) < 0)
		goto out;
	subnet_id = target_value(t, "subnet_id");
	if (subnet_id && !lbr_pc_valid_id(subnet_id, 128)) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "%s: malformed subnet_id", what);
		goto out;
	}
	if (p->api == 2 && !subnet_id) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res,
			       "%s: creating members on the v2 API needs the "
			       "pool key subnet_id",
			       what);
		goto out;
	}
	for (i = 0; i < n; i++) {
		int bad = check_spec(&m[i], why, sizeof(why)) < 0;

		if (!bad && p->api == 2 && strchr(m[i].address, ':')) {
			snprintf(why, sizeof(why), "IPv6 members cannot be created on the v2 API");
			bad = 1;
		}
		if (bad) {
			res->outcome = LBR_OUT_INVALID;
			lbr_pc_res_msg(res, "%s: member %.64s port %u: %s", what,
				       m[i].address ? m[i].address : "?", m[i].port, why);
			goto out;
		}
	}
	body = lbr_hw_create_body(p->api, m, n, subnet_id);
	if (!body) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "%s: out of memory", what);
		r = LBR_ENOMEM;
		goto out;
	}
	if (p->api == 3) {
		r = batch_call(p, call, pool_id, what, "batch-add", body, batch_item, &bc, items, n,
			       res);
		if (r == 0 && res->outcome == LBR_OUT_OK)
			position_check(&bc);
		goto out;
	}
	snprintf(what, sizeof(what), "pool %s: member %.64s port %u", label, m[0].address,
		 m[0].port);
	rq.body = body;
	r = hw_send(p, call, &rq, res, &resp, &got, "/v2/%s/elb/pools/%s/members", p->project_id,
		    pool_id);
	if (r < 0)
		goto out;
	single_item(res, &items[0]);
	if (got)
		lbr_hw_created_id(resp.body, resp.body ? resp.body_len : 0, items[0].id,
				  sizeof(items[0].id));
out:
	if (got)
		p->host->http_release(&resp);
	free(body);
	redact_result(p, res);
	redact_items(p, items, n);
	return r;
}

/* Set the weight of the one member the core sends (batches of 1). */
static int hw_set_weights(void *prov, struct lbr_call *call, const struct lbr_target *t,
			  const struct lbr_member_ref *m, const int *weights, size_t n,
			  struct lbr_item_result *items, struct lbr_call_result *res)
{
	const struct hw_prov *p = prov;
	const char *pool_id, *label;
	char what[200];
	int r = 0;

	if (start_write(p, t, res, items, n, 1, &pool_id, &label, what, sizeof(what)) < 0)
		goto out;
	if (!m || !weights) {
		res->outcome = LBR_OUT_INVALID;
		lbr_pc_res_msg(res, "%s: no member or weight given", what);
		goto out;
	}
	r = put_weight(p, call, pool_id, label, &m[0], weights[0], &items[0], res);
out:
	redact_result(p, res);
	redact_items(p, items, n);
	return r;
}

static int hw_drain_members(void *prov, struct lbr_call *call, const struct lbr_target *t,
			    const struct lbr_member_ref *m, size_t n, int drain,
			    struct lbr_item_result *items, struct lbr_call_result *res)
{
	/* Huawei has no enabled flag: draining is weight 0, and undoing
	 * it puts back the weight observed before. */
	int weight = drain || !m || n == 0 ? 0 : m[0].weight;

	return hw_set_weights(prov, call, t, m, &weight, n, items, res);
}

static const struct lbr_provider hw_provider = {
	.struct_size = sizeof(struct lbr_provider),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.name = "huaweicloud",
	.version = HW_PLUGIN_VERSION,
	.caps = LBR_CAP_DRAIN | LBR_CAP_CREATE | LBR_CAP_WEIGHT | LBR_CAP_COOPERATIVE,
	.provider_keys = provider_keys,
	.pool_keys = pool_keys,
	.open = hw_open,
	.close = hw_close,
	.check_target = hw_check_target,
	.list_page = hw_list_page,
	.remove_members = hw_remove_members,
	.create_members = hw_create_members,
	.set_weights = hw_set_weights,
	.drain_members = hw_drain_members,
	.update_rule = NULL,
};

/* The only exported symbol. */
LBR_PC_PROVIDER_ENTRY(hw_provider)
