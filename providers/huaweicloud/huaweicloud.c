/*
 * Huawei Cloud ELB provider plugin (shared ELB, API v2).
 *
 * Lists a pool's members with GET /v2/{project_id}/elb/pools/{pool_id}/
 * members (limit + marker paging), removes one with DELETE .../members/
 * {member_id} and drains one with PUT .../members/{member_id} setting its
 * weight.  Requests are signed with SDK-HMAC-SHA256 (AK/SK) or carry an
 * IAM token.  Transport, retries and concurrency belong to the core; this
 * file builds one request per operation and classifies the answer.
 *
 * An instance is immutable after open(), so operations may run on several
 * threads at once without locking.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/error.h"
#include "lbreconcile/provider.h"
#include "common/plugin-util.h"
#include "hwparse.h"
#include "hwsign.h"

#define HW_PLUGIN_VERSION "0.1.0"

/* Members per list request.  2000 is the largest `limit` the ELB API
 * documents (v3; v2 documents no maximum), and a large page keeps the
 * number of signed round trips for big pools low. */
#define HW_PAGE_SIZE_MAX 2000
#define HW_PAGE_SIZE_DEFAULT HW_PAGE_SIZE_MAX

#define HW_MAX_HEADERS 8

struct hw_prov {
	const struct lbr_host *host;
	char *base_url;   /* "https://host[:port]", no trailing slash */
	char *host_hdr;   /* "host[:port]", what libcurl sends as Host */
	char *project_id;
	char *access_key; /* AK/SK auth, or ... */
	char *secret_key;
	char *token;      /* ... an IAM token */
	unsigned page_size;
};

static const struct lbr_key_spec provider_keys[] = {
	{ "region", 0,
	  "region, e.g. cn-north-4 (required unless endpoint is set)" },
	{ "project_id", LBR_KEY_REQUIRED | LBR_KEY_ID,
	  "project id of the region (32 hex characters)" },
	{ "endpoint", 0,
	  "ELB endpoint; default https://elb.{region}.myhuaweicloud.com" },
	{ "access_key", LBR_KEY_SECRET,
	  "access key id for AK/SK signing (with secret_key)" },
	{ "secret_key", LBR_KEY_SECRET,
	  "secret access key for AK/SK signing (with access_key)" },
	{ "token", LBR_KEY_SECRET,
	  "project-scoped IAM token (instead of access_key/secret_key)" },
	{ "page_size", 0, "members per list request, 1..2000 (default 2000)" },
	{ "ca_file", 0, "CA bundle for TLS verification (handled by the core)" },
	{ "allow_insecure_http", 0,
	  "permit an http:// endpoint (handled by the core)" },
	{ "timeout", 0, "per-request timeout in seconds (handled by the core)" },
	{ NULL, 0, NULL },
};

static const struct lbr_key_spec pool_keys[] = {
	{ "pool_id", LBR_KEY_REQUIRED | LBR_KEY_ID,
	  "ELB backend server group (pool) id" },
	{ NULL, 0, NULL },
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void hw_close(void *arg)
{
	struct hw_prov *p = arg;

	if (!p)
		return;
	free(p->base_url);
	free(p->host_hdr);
	free(p->project_id);
	lbr_pu_free_secret(p->access_key);
	lbr_pu_free_secret(p->secret_key);
	lbr_pu_free_secret(p->token);
	lbr_pu_wipe(p, sizeof(*p));
	free(p);
}

static int valid_region(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return 0;
	}
	return n >= 1 && n <= 64;
}

static int valid_hostname(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int valid_ipv6_literal(const char *s, size_t n)
{
	size_t i;

	if (n < 2)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      (c >= '0' && c <= '9') || c == ':' || c == '.'))
			return 0;
	}
	return 1;
}

/*
 * Split an endpoint "http(s)://host[:port][/]" into the base URL used for
 * requests and the Host value that is signed.  The port is dropped when it
 * is the scheme's default, because libcurl leaves it out of the Host
 * header then and the signature must cover exactly what is sent.
 */
static int parse_endpoint(const char *ep, char **base_out, char **host_out,
			  char *err, size_t errlen)
{
	const char *scheme, *auth, *end, *host, *hend, *port = NULL;
	size_t alen, hlen;
	unsigned long portnum = 0, defport;
	char *base = NULL, *hosthdr = NULL, *stop;
	int r = LBR_EINVAL;

	*base_out = NULL;
	*host_out = NULL;
	if (strncasecmp(ep, "https://", 8) == 0) {
		scheme = "https";
		defport = 443;
		auth = ep + 8;
	} else if (strncasecmp(ep, "http://", 7) == 0) {
		scheme = "http";
		defport = 80;
		auth = ep + 7;
	} else {
		set_err(err, errlen,
			"endpoint '%s' must start with https:// or http://",
			ep);
		goto out;
	}
	end = auth + strcspn(auth, "/?#");
	alen = (size_t)(end - auth);
	/* User information may hold a password: refuse it without echoing
	 * the value. */
	if (memchr(auth, '@', alen)) {
		set_err(err, errlen,
			"endpoint must not contain user information "
			"(user:password@); put credentials in access_key/"
			"secret_key or token");
		goto out;
	}
	if (*end && strcmp(end, "/") != 0) {
		set_err(err, errlen,
			"endpoint '%s' must be scheme://host[:port] with no "
			"path, query or fragment (found '%s')",
			ep, end);
		goto out;
	}
	host = auth;
	if (*host == '[') {
		hend = memchr(host, ']', alen);
		if (!hend || !valid_ipv6_literal(host + 1,
						  (size_t)(hend - host - 1))) {
			set_err(err, errlen,
				"endpoint '%s' has a malformed IPv6 address",
				ep);
			goto out;
		}
		hend++;
	} else {
		hend = memchr(host, ':', alen);
		if (!hend)
			hend = end;
		if (!valid_hostname(host, (size_t)(hend - host))) {
			set_err(err, errlen,
				"endpoint '%s' has a malformed host name", ep);
			goto out;
		}
	}
	hlen = (size_t)(hend - host);
	if (hend < end) {
		if (*hend != ':' || hend + 1 == end) {
			set_err(err, errlen,
				"endpoint '%s' has a malformed port", ep);
			goto out;
		}
		port = hend + 1;
		errno = 0;
		portnum = strtoul(port, &stop, 10);
		if (stop != end || errno || *port < '0' || *port > '9' ||
		    portnum < 1 || portnum > 65535) {
			set_err(err, errlen,
				"endpoint '%s': port must be 1..65535", ep);
			goto out;
		}
	}
	r = LBR_ENOMEM;
	if (port && portnum != defport) {
		if (asprintf(&hosthdr, "%.*s:%lu", (int)hlen, host, portnum) <
		    0)
			hosthdr = NULL;
	} else {
		hosthdr = strndup(host, hlen);
	}
	if (!hosthdr)
		goto out;
	if (asprintf(&base, "%s://%s", scheme, hosthdr) < 0) {
		base = NULL;
		goto out;
	}
	*base_out = base;
	base = NULL; /* transferred */
	*host_out = hosthdr;
	hosthdr = NULL; /* transferred */
	r = 0;
out:
	free(base);
	free(hosthdr);
	return r;
}

/* Which configuration keys were seen, for duplicate detection. */
struct hw_cfg {
	const char *region, *project_id, *endpoint, *access_key, *secret_key,
		*token, *page_size;
};

static int collect_cfg(const struct lbr_kv *cfg, size_t ncfg,
		       struct hw_cfg *c, char *err, size_t errlen)
{
	static const char *const ignored[] = { "ca_file",
					       "allow_insecure_http",
					       "timeout", NULL };
	size_t i, j;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < ncfg; i++) {
		const char *k = cfg[i].key, *v = cfg[i].value;
		const char **slot = NULL;
		int known = 0;

		if (!k)
			continue;
		if (strcmp(k, "region") == 0)
			slot = &c->region;
		else if (strcmp(k, "project_id") == 0)
			slot = &c->project_id;
		else if (strcmp(k, "endpoint") == 0)
			slot = &c->endpoint;
		else if (strcmp(k, "access_key") == 0)
			slot = &c->access_key;
		else if (strcmp(k, "secret_key") == 0)
			slot = &c->secret_key;
		else if (strcmp(k, "token") == 0)
			slot = &c->token;
		else if (strcmp(k, "page_size") == 0)
			slot = &c->page_size;
		for (j = 0; !slot && ignored[j]; j++)
			known |= strcmp(k, ignored[j]) == 0;
		if (!slot) {
			if (known)
				continue;
			set_err(err, errlen, "unknown key '%s'", k);
			return LBR_EINVAL;
		}
		if (*slot) {
			set_err(err, errlen, "key '%s' given more than once",
				k);
			return LBR_EINVAL;
		}
		/* An empty value is almost always an unset environment
		 * variable behind env:NAME; say so rather than sending an
		 * unsigned or unscoped request later. */
		if (!v || !*v) {
			set_err(err, errlen, "key '%s' is empty", k);
			return LBR_EINVAL;
		}
		*slot = v;
	}
	return 0;
}

static int hw_open(const struct lbr_host *host, const struct lbr_kv *cfg,
		   size_t ncfg, void **prov_out, char *err, size_t errlen)
{
	struct hw_prov *p = NULL;
	struct hw_cfg c;
	char *ep = NULL;
	unsigned long ps;
	char *stop;
	int r;

	*prov_out = NULL;
	r = LBR_EINVAL;
	if (!host || host->abi_major != LBR_PROVIDER_ABI_MAJOR ||
	    host->struct_size < sizeof(struct lbr_host) || !host->http ||
	    !host->http_release || !host->url_encode || !host->url_decode ||
	    !host->now || !host->obs_add_member) {
		set_err(err, errlen, "host services table is incompatible");
		goto out;
	}
	r = collect_cfg(cfg, ncfg, &c, err, errlen);
	if (r < 0)
		goto out;
	r = LBR_EINVAL;
	if (!c.project_id) {
		set_err(err, errlen, "missing required key 'project_id'");
		goto out;
	}
	if (!lbr_pu_valid_id(c.project_id, 128)) {
		set_err(err, errlen,
			"project_id '%s' is not a valid id "
			"([A-Za-z0-9_-]{1,128})",
			c.project_id);
		goto out;
	}
	if (c.token && (c.access_key || c.secret_key)) {
		set_err(err, errlen,
			"set either access_key and secret_key, or token, "
			"not both");
		goto out;
	}
	if (!c.token && (!c.access_key || !c.secret_key)) {
		if (c.access_key || c.secret_key)
			set_err(err, errlen,
				"access_key and secret_key must be set "
				"together (missing '%s')",
				c.access_key ? "secret_key" : "access_key");
		else
			set_err(err, errlen,
				"no credentials: set access_key and "
				"secret_key, or token");
		goto out;
	}
	if (c.region && !valid_region(c.region)) {
		set_err(err, errlen,
			"region '%s' is not a valid region name "
			"(e.g. cn-north-4)",
			c.region);
		goto out;
	}
	if (!c.endpoint && !c.region) {
		set_err(err, errlen,
			"missing key 'region' (or an explicit 'endpoint')");
		goto out;
	}
	r = LBR_ENOMEM;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto out;
	p->host = host;
	p->page_size = HW_PAGE_SIZE_DEFAULT;
	if (c.page_size) {
		errno = 0;
		ps = strtoul(c.page_size, &stop, 10);
		if (*stop || errno || c.page_size[0] < '0' ||
		    c.page_size[0] > '9' || ps < 1 || ps > HW_PAGE_SIZE_MAX) {
			set_err(err, errlen,
				"page_size '%s' must be an integer in 1..%d",
				c.page_size, HW_PAGE_SIZE_MAX);
			r = LBR_EINVAL;
			goto out;
		}
		p->page_size = (unsigned)ps;
	}
	if (!c.endpoint) {
		if (asprintf(&ep, "https://elb.%s.myhuaweicloud.com",
			     c.region) < 0) {
			ep = NULL;
			goto out;
		}
	} else {
		ep = strdup(c.endpoint);
		if (!ep)
			goto out;
	}
	r = parse_endpoint(ep, &p->base_url, &p->host_hdr, err, errlen);
	if (r < 0)
		goto out;
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
	*prov_out = p;
	p = NULL; /* transferred */
	r = 0;
out:
	if (r == LBR_ENOMEM)
		set_err(err, errlen, "out of memory");
	free(ep);
	hw_close(p);
	return r;
}

static const char *target_value(const struct lbr_target *t, const char *key)
{
	return t ? lbr_pu_kv_get(t->kv, t->n, key) : NULL;
}

static int hw_check_target(void *prov, const struct lbr_target *t, char *err,
			   size_t errlen)
{
	const char *pool_id = target_value(t, "pool_id");

	(void)prov;
	if (!pool_id) {
		set_err(err, errlen, "missing required key 'pool_id'");
		return LBR_EINVAL;
	}
	if (!lbr_pu_valid_id(pool_id, 128)) {
		set_err(err, errlen,
			"pool_id '%.130s' is not a valid id "
			"([A-Za-z0-9_-]{1,128})",
			pool_id);
		return LBR_EINVAL;
	}
	return 0;
}

/* A cloud message may quote anything the request carried (the gateway
 * echoes its canonical request on signature failures); make sure no
 * credential survives into a result that the core prints. */
static void redact_result(const struct hw_prov *p, struct lbr_call_result *r)
{
	const char *secrets[] = { p->secret_key, p->token, p->access_key };
	size_t i;

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		lbr_pu_redact(r->message, sizeof(r->message), secrets[i], "[REDACTED]");
		lbr_pu_redact(r->code, sizeof(r->code), secrets[i], "[REDACTED]");
		lbr_pu_redact(r->request_id, sizeof(r->request_id), secrets[i], "[REDACTED]");
	}
}

static void res_msg(struct lbr_call_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void res_msg(struct lbr_call_result *res, const char *fmt, ...)
{
	char tmp[sizeof(res->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	lbr_pu_copy_clean(res->message, sizeof(res->message), tmp);
}

static const char *pool_label(const struct lbr_target *t, const char *pool_id)
{
	if (t && t->pool_name && *t->pool_name)
		return t->pool_name;
	return pool_id;
}

/* One HTTP exchange as described by the caller. */
struct hw_req {
	enum lbr_hw_op op;
	const char *method;
	const char *path;           /* already encoded; ids only */
	const struct lbr_kv *query; /* decoded pairs */
	size_t n_query;
	const char *body;           /* JSON or NULL */
	const char *what;           /* "pool web", for diagnostics */
};

/*
 * Sign and send `rq`, then classify the response into res.  When the
 * response is a success and `resp` is not NULL, it is handed to the caller
 * (*got_resp = 1), who must release it; otherwise it is released here.
 * Returns 0 (res filled, whatever the outcome) or LBR_ENOMEM/LBR_ERR.
 */
static int hw_exchange(const struct hw_prov *p, struct lbr_call *call,
		       const struct hw_req *rq, struct lbr_call_result *res,
		       struct lbr_http_response *resp, int *got_resp)
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
		res_msg(res, "%s: cannot format the request date", rq->what);
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
			sh[nsh++] = (struct lbr_kv){ "content-type",
						     "application/json" };
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
			res_msg(res, "%s: cannot sign the request (%s)",
				rq->what,
				rc == LBR_ENOMEM ? "out of memory"
						 : "unsignable header");
			goto out;
		}
		if (asprintf(&h_date, "X-Sdk-Date: %s", date) < 0) {
			h_date = NULL;
			goto out;
		}
		if (asprintf(&h_auth, "Authorization: %s",
			     sig.authorization) < 0) {
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
		if (lbr_hw_canonical_query(host, rq->query, rq->n_query,
					   &query) < 0)
			goto out;
	}
	hdrs[nh++] = h_auth;
	hdrs[nh] = NULL;

	if (asprintf(&url, "%s%s%s%s", p->base_url, rq->path,
		     *query ? "?" : "", query) < 0) {
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
		res->outcome = rc == LBR_HOST_EFATAL ? LBR_OUT_INVALID
						     : LBR_OUT_TRANSIENT;
		res_msg(res, "%s: %s %s failed: %s", rq->what, rq->method,
			url, terr[0] ? terr : "transport error");
		r = 0;
		goto out;
	}
	have = 1;
	if (host->log)
		host->log(call, LBR_LOG_DEBUG, "%s %s -> HTTP %ld",
			  rq->method, url, rp->status);
	res->http_status = rp->status;
	res->retry_after_ms = rp->retry_after_ms;
	rid = host->http_header ? host->http_header(rp, "X-Request-Id")
				: NULL;
	lbr_pu_copy_clean(res->request_id, sizeof(res->request_id), rid);

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
		res_msg(res,
			"%s: the API does not exist at %s (wrong endpoint "
			"or region?): %s",
			rq->what, p->base_url, e.message);
	else if (rp->status == 404 && rq->op == LBR_HW_OP_LIST)
		res_msg(res, "%s: pool not found: %s", rq->what,
			e.message[0] ? e.message : "HTTP 404");
	else if (e.message[0])
		res_msg(res, "%s: %s", rq->what, e.message);
	else
		res_msg(res, "%s: HTTP %ld with no recognised error body",
			rq->what, rp->status);
	r = 0;
out:
	if (r == LBR_ENOMEM) {
		res->outcome = LBR_OUT_INVALID;
		res_msg(res, "%s: out of memory", rq->what);
	}
	if (have)
		host->http_release(rp);
	redact_result(p, res);
	lbr_hw_signature_release(&sig);
	free(url);
	free(query);
	free(h_proj);
	free(h_date);
	if (h_auth) {
		lbr_pu_wipe(h_auth, strlen(h_auth));
		free(h_auth);
	}
	return r;
}

/* Begin an operation: reset res and find a valid pool_id. */
static int start_op(const struct lbr_target *t, struct lbr_call_result *res,
		    const char **pool_id)
{
	memset(res, 0, sizeof(*res));
	*pool_id = target_value(t, "pool_id");
	if (!lbr_pu_valid_id(*pool_id, 128)) {
		res->outcome = LBR_OUT_INVALID;
		res_msg(res, "pool %s: missing or malformed pool_id",
			t && t->pool_name ? t->pool_name : "?");
		return -1;
	}
	return 0;
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
	};

	return lc->host->obs_add_member(lc->obs, &mi);
}

static int hw_list_page(void *prov, struct lbr_call *call,
			const struct lbr_target *t, const char *cursor,
			struct lbr_obs *obs, char *next_cursor,
			size_t next_len, struct lbr_call_result *res)
{
	const struct hw_prov *p = prov;
	struct lbr_http_response resp = { 0 };
	struct list_ctx lc = { p->host, obs };
	struct lbr_kv q[2];
	struct hw_req rq = { 0 };
	char *path = NULL, what[200], limit[16], perr[256], last[130];
	char cur[130] = "";
	const char *pool_id;
	size_t count = 0;
	int got = 0, bad_cursor = 0, rc, r = 0;

	/* The caller may hand the same buffer as cursor and next_cursor;
	 * keep the cursor before clearing the output. */
	if (cursor && *cursor) {
		if (!lbr_pu_valid_id(cursor, 128)) {
			cursor = NULL;
			bad_cursor = 1;
		} else {
			strcpy(cur, cursor);
		}
	}
	if (next_len)
		next_cursor[0] = '\0';
	if (start_op(t, res, &pool_id) < 0)
		goto out;
	snprintf(what, sizeof(what), "pool %s", pool_label(t, pool_id));
	if (bad_cursor) {
		res->outcome = LBR_OUT_INVALID;
		res_msg(res, "%s: malformed page cursor", what);
		goto out;
	}
	r = LBR_ENOMEM;
	if (asprintf(&path, "/v2/%s/elb/pools/%s/members", p->project_id,
		     pool_id) < 0) {
		path = NULL;
		res->outcome = LBR_OUT_INVALID;
		res_msg(res, "%s: out of memory", what);
		goto out;
	}
	snprintf(limit, sizeof(limit), "%u", p->page_size);
	q[0] = (struct lbr_kv){ "limit", limit };
	q[1] = (struct lbr_kv){ "marker", cur };
	rq.op = LBR_HW_OP_LIST;
	rq.method = "GET";
	rq.path = path;
	rq.query = q;
	rq.n_query = cur[0] ? 2 : 1;
	rq.what = what;
	r = hw_exchange(p, call, &rq, res, &resp, &got);
	if (r < 0 || !got)
		goto out;

	rc = lbr_hw_parse_members(resp.body, resp.body ? resp.body_len : 0,
				  add_member, &lc, &count, last, sizeof(last),
				  perr, sizeof(perr));
	switch (rc) {
	case LBR_HW_PARSE_OK:
		break;
	case LBR_HW_PARSE_SYNTAX:
		/* A cut-off body is a transport accident, not a verdict
		 * about the pool: let the core retry it. */
		res->outcome = LBR_OUT_TRANSIENT;
		res_msg(res, "%s: %s", what, perr);
		goto out;
	case LBR_HW_PARSE_NOMEM:
		res->outcome = LBR_OUT_INVALID;
		res_msg(res, "%s: %s", what, perr);
		r = LBR_ENOMEM;
		goto out;
	default:
		res->outcome = LBR_OUT_INVALID;
		res_msg(res, "%s: %s", what, perr);
		goto out;
	}
	/* The v2 API has no next link: a full page means "maybe more",
	 * continued from the last id.  A server that ignores the marker
	 * would hand back the same page forever, so stop on that. */
	if (count == p->page_size) {
		if (cur[0] && strcmp(cur, last) == 0) {
			res->outcome = LBR_OUT_INVALID;
			res_msg(res,
				"%s: paging did not advance past member %s",
				what, last);
			goto out;
		}
		if (strlen(last) >= next_len) {
			res->outcome = LBR_OUT_INVALID;
			res_msg(res, "%s: page cursor buffer too small", what);
			r = LBR_ERR;
			goto out;
		}
		strcpy(next_cursor, last);
	}
	r = 0;
out:
	if (got)
		p->host->http_release(&resp);
	redact_result(p, res);
	free(path);
	return r;
}

/* Shared by remove and drain: one request on .../members/{member_id}. */
static int member_call(const struct hw_prov *p, struct lbr_call *call,
		       const struct lbr_target *t,
		       const struct lbr_member_ref *m, enum lbr_hw_op op,
		       const char *method, const char *body,
		       struct lbr_call_result *res)
{
	struct hw_req rq = { 0 };
	char *path = NULL, what[300];
	const char *pool_id;
	int r = 0;

	if (start_op(t, res, &pool_id) < 0)
		goto out;
	if (!m || !lbr_pu_valid_id(m->id, 128)) {
		res->outcome = LBR_OUT_INVALID;
		res_msg(res, "pool %s: malformed member id",
			pool_label(t, pool_id));
		goto out;
	}
	snprintf(what, sizeof(what), "pool %s: member %s",
		 pool_label(t, pool_id), m->id);
	if (asprintf(&path, "/v2/%s/elb/pools/%s/members/%s", p->project_id,
		     pool_id, m->id) < 0) {
		path = NULL;
		res->outcome = LBR_OUT_INVALID;
		res_msg(res, "%s: out of memory", what);
		r = LBR_ENOMEM;
		goto out;
	}
	rq.op = op;
	rq.method = method;
	rq.path = path;
	rq.body = body;
	rq.what = what;
	r = hw_exchange(p, call, &rq, res, NULL, NULL);
out:
	free(path);
	return r;
}

static int hw_remove_member(void *prov, struct lbr_call *call,
			    const struct lbr_target *t,
			    const struct lbr_member_ref *m,
			    struct lbr_call_result *res)
{
	return member_call(prov, call, t, m, LBR_HW_OP_REMOVE, "DELETE",
			   NULL, res);
}

static int hw_drain_member(void *prov, struct lbr_call *call,
			   const struct lbr_target *t,
			   const struct lbr_member_ref *m, int drain,
			   struct lbr_call_result *res)
{
	char *body = NULL;
	int weight, r;

	memset(res, 0, sizeof(*res));
	weight = drain ? 0 : (m ? m->weight : -1);
	if (weight < 0 || weight > 100) {
		/* Guessing a weight would silently change the pool's
		 * traffic split; refuse instead. */
		res->outcome = LBR_OUT_INVALID;
		res_msg(res, "member %s: cannot restore weight %d "
			"(want 0..100)",
			m && lbr_pu_valid_id(m->id, 128) ? m->id : "?", weight);
		return 0;
	}
	body = lbr_hw_weight_body(weight);
	if (!body) {
		res->outcome = LBR_OUT_INVALID;
		res_msg(res, "out of memory");
		return LBR_ENOMEM;
	}
	r = member_call(prov, call, t, m, LBR_HW_OP_DRAIN, "PUT", body, res);
	free(body);
	return r;
}

static const struct lbr_provider hw_provider = {
	.struct_size = sizeof(struct lbr_provider),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.name = "huaweicloud",
	.version = HW_PLUGIN_VERSION,
	.caps = LBR_CAP_DRAIN | LBR_CAP_COOPERATIVE,
	.provider_keys = provider_keys,
	.pool_keys = pool_keys,
	.open = hw_open,
	.close = hw_close,
	.check_target = hw_check_target,
	.list_page = hw_list_page,
	.remove_member = hw_remove_member,
	.update_rule = NULL,
	.drain_member = hw_drain_member,
};

__attribute__((visibility("default"))) const struct lbr_provider *
lbr_provider_entry(uint32_t host_abi_major, uint32_t host_abi_minor);

/* The core checks abi_major itself and refuses a mismatch with a clear
 * message, so the table is returned whatever the host's version. */
__attribute__((visibility("default"))) const struct lbr_provider *
lbr_provider_entry(uint32_t host_abi_major, uint32_t host_abi_minor)
{
	(void)host_abi_major;
	(void)host_abi_minor;
	return &hw_provider;
}
