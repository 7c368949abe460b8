/*
 * Huawei Cloud ELB emulation: the shared-ELB v2 API
 * (/v2/{project_id}/elb/... members, pools, load balancers), the
 * dedicated-ELB v3 member API (/v3/{project_id}/elb/pools/{id}/members:
 * marker paging, single-member calls, batch add/update/delete), AK/SK
 * (SDK-HMAC-SHA256) and token authentication with the gateway's error
 * shapes and AK lockout.  Facts: shared/reference/huaweicloud-elb.md.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "fakecloud.h"

#define HW_JSON "application/json; charset=UTF-8"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A growable string; on allocation failure 'oom' is set and adds stop. */
struct sb {
	char *s;
	size_t n;
	size_t cap;
	bool oom;
};

static void sb_add(struct sb *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t cap = (b->n + len + 1) * 2;
		char *ns = realloc(b->s, cap);

		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, len);
	b->n += len;
	b->s[b->n] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Append 's' percent-encoded the way the SDK signers do (RFC 3986
 * unreserved characters bare, everything else %XX upper case). */
static void sb_enc(struct sb *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			sb_add(b, (const char *)p, 1);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			sb_add(b, e, 3);
		}
	}
}

/* The decoded path, split on '/'. */
struct route {
	char *seg[10];
	int n;
	int version; /* 2 or 3 */
	const char *project;
};

static void route_release(struct route *rt)
{
	int i;

	for (i = 0; i < rt->n; i++)
		free(rt->seg[i]);
	memset(rt, 0, sizeof(*rt));
}

static int route_parse(const char *raw, struct route *rt)
{
	const char *p = raw;

	memset(rt, 0, sizeof(*rt));
	while (*p) {
		const char *e;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		if (rt->n == 10)
			return -1;
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		rt->seg[rt->n] = strndup(p, (size_t)(e - p));
		if (!rt->seg[rt->n])
			return -1;
		fc_unescape(rt->seg[rt->n]);
		rt->n++;
		p = e;
	}
	if (rt->n >= 3 && strcmp(rt->seg[2], "elb") == 0) {
		if (strcmp(rt->seg[0], "v2") == 0)
			rt->version = 2;
		else if (strcmp(rt->seg[0], "v3") == 0)
			rt->version = 3;
		rt->project = rt->seg[1];
	}
	return 0;
}

static bool seg_is(const struct route *rt, int i, const char *s)
{
	return i < rt->n && strcmp(rt->seg[i], s) == 0;
}

void fc_hw_classify(struct fc_req *r)
{
	struct route rt;
	const char *m = r->method;
	const char *op = "unknown";

	if (route_parse(r->path, &rt) < 0 || !rt.version)
		goto out;
	if (rt.version == 3) {
		if (!seg_is(&rt, 3, "pools") || !seg_is(&rt, 5, "members"))
			;
		else if (rt.n == 6)
			op = strcmp(m, "GET") == 0    ? "v3_list"
			     : strcmp(m, "POST") == 0 ? "v3_create"
						      : "unknown";
		else if (rt.n == 7 && strcmp(m, "POST") == 0)
			op = seg_is(&rt, 6, "batch-delete")   ? "batch_delete"
			     : seg_is(&rt, 6, "batch-add")    ? "batch_add"
			     : seg_is(&rt, 6, "batch-update") ? "batch_update"
							      : "unknown";
		else if (rt.n == 7)
			op = strcmp(m, "GET") == 0      ? "v3_get"
			     : strcmp(m, "PUT") == 0    ? "v3_update"
			     : strcmp(m, "DELETE") == 0 ? "v3_delete"
							: "unknown";
	} else if (seg_is(&rt, 3, "pools")) {
		if (rt.n == 4 && strcmp(m, "GET") == 0)
			op = "list_pools";
		else if (rt.n == 5 && strcmp(m, "GET") == 0)
			op = "get_pool";
		else if (rt.n == 6 && seg_is(&rt, 5, "members"))
			op = strcmp(m, "GET") == 0    ? "list"
			     : strcmp(m, "POST") == 0 ? "create"
						      : "unknown";
		else if (rt.n == 7 && seg_is(&rt, 5, "members"))
			op = strcmp(m, "GET") == 0      ? "get"
			     : strcmp(m, "PUT") == 0    ? "update"
			     : strcmp(m, "DELETE") == 0 ? "delete"
							: "unknown";
	} else if (seg_is(&rt, 3, "loadbalancers") && rt.n == 5 && strcmp(m, "GET") == 0) {
		op = "get_lb";
	}
	if (strcmp(op, "unknown") != 0 && rt.n >= 5 && seg_is(&rt, 3, "pools"))
		r->pool_id = strdup(rt.seg[4]);
	if (rt.n == 7 && strcmp(op, "unknown") != 0 && strncmp(op, "batch_", 6) != 0)
		r->member_id = strdup(rt.seg[6]);
out:
	snprintf(r->op, sizeof(r->op), "%s", op);
	route_release(&rt);
}

/* ----------------------------------------------------------- replies */

/* The API gateway's shape: {"error_msg","error_code","request_id"}. */
static void gw_error(struct fc_req *r, int status, const char *code, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error_msg", json_object_new_string(msg));
	json_object_object_add(o, "error_code", json_object_new_string(code));
	json_object_object_add(o, "request_id", json_object_new_string(r->reqid));
	fc_reply_json(r, status, o, HW_JSON);
}

/* The shared ELB v2 shape: {"error":{"message","code"}}. */
static void v2_error(struct fc_req *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void v2_error(struct fc_req *r, int status, const char *code, const char *fmt, ...)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(o, "error", e);
	fc_reply_json(r, status, o, HW_JSON);
}

static void retry_after_hdr(struct fc_req *r, int retry_after)
{
	char buf[24];

	if (retry_after < 0)
		return;
	snprintf(buf, sizeof(buf), "%d", retry_after);
	fc_hdr(r, "Retry-After", buf);
}

/* Is this a dedicated-ELB (v3) call?  Its ELB errors are flat. */
static bool is_v3(const struct fc_req *r)
{
	return strncmp(r->path, "/v3/", 4) == 0;
}

/* The v3 shape: {"error_msg","error_code","request_id"}, formatted. */
static void v3_error(struct fc_req *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void v3_error(struct fc_req *r, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gw_error(r, status, code, msg);
}

void fc_hw_fault_reply(struct fc_req *r, int status, int retry_after)
{
	char msg[160];
	double rate;

	/* Gateway statuses look the same on v2 and v3; ELB's own errors
	 * take the v3 flat shape on /v3. */
	if (is_v3(r) && status != 429 && status != 401 && status != 403) {
		if (status == 404 && r->member_id)
			v3_error(r, 404, "ELB.8904",
				 "member %s could not be "
				 "found.",
				 r->member_id);
		else if (status == 404)
			v3_error(r, 404, "ELB.8904",
				 "pool %s could not be "
				 "found.",
				 r->pool_id ? r->pool_id : "");
		else if (status == 409)
			v3_error(r, 409, "ELB.8907",
				 "Data conflict. For "
				 "details about the error, see the returned "
				 "information.");
		else if (status >= 500)
			v3_error(r, status, "ELB.8906", "%s",
				 status == 500   ? "Internal server error."
				 : status == 503 ? "Service unavailable."
						 : "Backend error.");
		else
			v3_error(r, status, "ELB.8902", "Invalid parameter.");
		retry_after_hdr(r, retry_after);
		return;
	}
	switch (status) {
	case 429:
		fc_world_lock();
		rate = fc_settings()->rl_per_sec;
		fc_world_unlock();
		snprintf(msg, sizeof(msg),
			 "The throttling threshold has been "
			 "reached: policy user over ratelimit,limit:%d,time:1 "
			 "second",
			 rate > 0 ? (int)rate : 100);
		gw_error(r, 429, "APIGW.0308", msg);
		break;
	case 401:
		gw_error(r, 401, "APIGW.0301",
			 "Incorrect IAM authentication "
			 "information: decrypt token fail");
		break;
	case 403:
		gw_error(r, 403, "APIGW.0302",
			 "The IAM user is not authorized "
			 "to access the API.");
		break;
	case 404:
		if (r->member_id)
			v2_error(r, 404, "ELB.9800",
				 "member %s could not be "
				 "found",
				 r->member_id);
		else
			v2_error(r, 404, "ELB.9800",
				 "pool %s could not be "
				 "found",
				 r->pool_id ? r->pool_id : "");
		break;
	case 409:
		v2_error(r, 409, "ELB.8907",
			 "Data conflict. For details about "
			 "the error, see the returned information.");
		break;
	default:
		if (status >= 500)
			v2_error(r, status, "ELB.8906", "%s",
				 status == 500   ? "Internal server error."
				 : status == 503 ? "Service unavailable."
						 : "Backend error.");
		else
			v2_error(r, status, "ELB.9899",
				 "Invalid parameter. "
				 "For details about the error, see the "
				 "returned information.");
		break;
	}
	retry_after_hdr(r, retry_after);
}

/* -------------------------------------------------------------- auth */

static const char *header(struct fc_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, name);
}

static struct fc_hw_account *account_by_ak(const char *ak)
{
	size_t i;

	for (i = 0; i < fc_w.nhwa; i++)
		if (fc_w.hwa[i].ak && strcmp(fc_w.hwa[i].ak, ak) == 0)
			return &fc_w.hwa[i];
	return NULL;
}

static struct fc_hw_account *account_by_token(const char *tok)
{
	size_t i;

	for (i = 0; i < fc_w.nhwa; i++)
		if (fc_w.hwa[i].token && strcmp(fc_w.hwa[i].token, tok) == 0)
			return &fc_w.hwa[i];
	return NULL;
}

/* Parse "YYYYMMDDTHHMMSSZ" as UTC; -1 when malformed. */
static int64_t parse_sdk_date(const char *s)
{
	struct tm tm;
	int i;

	if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	for (i = 0; i < 15; i++)
		if (i != 8 && !isdigit((unsigned char)s[i]))
			return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') -
		     1900;
	tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
	tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
	tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
	tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
	tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
	return (int64_t)timegm(&tm);
}

/* Rebuild the canonical request (reference §5.2 steps 3-8). */
static int canonical_request(struct fc_req *r, const char *signed_headers, struct sb *cr)
{
	struct fc_params q = { 0 };
	const char *p, *payload;
	char hash[65];
	size_t i;

	sb_str(cr, r->method);
	sb_str(cr, "\n");
	/* URI: decode each segment, re-encode, and end with '/'. */
	for (p = r->path; *p;) {
		const char *e;
		char *seg;

		if (*p == '/') {
			sb_str(cr, "/");
			p++;
			continue;
		}
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		seg = strndup(p, (size_t)(e - p));
		if (!seg)
			return -1;
		fc_unescape(seg);
		sb_enc(cr, seg);
		free(seg);
		p = e;
	}
	if (cr->n == 0 || cr->s[cr->n - 1] != '/')
		sb_str(cr, "/");
	sb_str(cr, "\n");
	/* Query: decode, sort by name then value, encode. */
	if (fc_parse_urlencoded(&q, r->query, strlen(r->query), false) < 0)
		return -1;
	fc_params_sort(&q);
	for (i = 0; i < q.n; i++) {
		if (i)
			sb_str(cr, "&");
		sb_enc(cr, q.v[i].k);
		sb_str(cr, "=");
		sb_enc(cr, q.v[i].v);
	}
	fc_params_release(&q);
	sb_str(cr, "\n");
	/* Headers, in the order SignedHeaders lists them. */
	for (p = signed_headers; *p;) {
		const char *e = strchr(p, ';');
		char name[128];
		const char *v;
		size_t n = e ? (size_t)(e - p) : strlen(p), vl;

		if (n == 0 || n >= sizeof(name))
			return -1;
		memcpy(name, p, n);
		name[n] = '\0';
		v = header(r, name);
		if (!v)
			v = "";
		while (*v == ' ' || *v == '\t')
			v++;
		vl = strlen(v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		sb_str(cr, name);
		sb_str(cr, ":");
		sb_add(cr, v, vl);
		sb_str(cr, "\n");
		p = e ? e + 1 : p + n;
	}
	sb_str(cr, "\n");
	sb_str(cr, signed_headers);
	sb_str(cr, "\n");
	payload = header(r, "X-Sdk-Content-Sha256");
	if (payload && strcmp(payload, "UNSIGNED-PAYLOAD") == 0) {
		sb_str(cr, "UNSIGNED-PAYLOAD");
	} else {
		fc_sha256_hex(r->body, r->body_len, hash);
		sb_str(cr, hash);
	}
	return cr->oom ? -1 : 0;
}

enum auth_result { AUTH_OK, AUTH_FAIL, AUTH_LOCKED };

/* Verify an SDK-HMAC-SHA256 Authorization header (reference §5.4). */
static enum auth_result verify_aksk(struct fc_req *r, const char *authz, struct fc_hw_account **out,
				    struct sb *msg)
{
	static const char pre[] = "SDK-HMAC-SHA256 Access=";
	struct fc_settings *set = fc_settings();
	struct fc_hw_account *a = NULL;
	struct sb cr = { 0 }, sts = { 0 };
	char ak[256], sh[512], sig[65], want[65], crhash[65];
	const char *p, *c, *date;
	int64_t t, now;
	enum auth_result res = AUTH_FAIL;
	size_t n, i;

	sb_str(msg, "Incorrect IAM authentication information: ");
	/* Access=<ak>, SignedHeaders=<list>, Signature=<64 hex> */
	if (strncmp(authz, pre, sizeof(pre) - 1) != 0)
		goto malformed;
	p = authz + sizeof(pre) - 1;
	c = strstr(p, ", SignedHeaders=");
	if (!c || (n = (size_t)(c - p)) == 0 || n >= sizeof(ak) || memchr(p, ',', n))
		goto malformed;
	memcpy(ak, p, n);
	ak[n] = '\0';
	p = c + strlen(", SignedHeaders=");
	c = strstr(p, ", Signature=");
	if (!c || (n = (size_t)(c - p)) == 0 || n >= sizeof(sh))
		goto malformed;
	memcpy(sh, p, n);
	sh[n] = '\0';
	if (strspn(sh, "abcdefghijklmnopqrstuvwxyz0123456789;_-") != n)
		goto malformed;
	p = c + strlen(", Signature=");
	if (strlen(p) != 64 || strspn(p, "0123456789abcdef") != 64)
		goto malformed;
	memcpy(sig, p, 65);

	a = account_by_ak(ak);
	if (!a) {
		sb_str(msg, "verify aksk signature fail, ak not found");
		goto out;
	}
	now = fc_now_ms();
	if (a->locked_until_ms > now) {
		res = AUTH_LOCKED;
		r->locked = true;
		msg->n = 0;
		sb_str(msg, "Incorrect IAM authentication information: AK "
			    "access failed to reach the limit,forbidden.");
		goto out;
	}
	/* x-sdk-date must be signed and fresh. */
	for (p = sh, i = 0; p; p = strchr(p, ';'), p = p ? p + 1 : NULL)
		if (strncmp(p, "x-sdk-date", 10) == 0 && (p[10] == ';' || p[10] == '\0'))
			i = 1;
	if (!i) {
		sb_str(msg, "verify aksk signature fail, SignedHeaders must "
			    "include x-sdk-date");
		goto fail;
	}
	date = header(r, "X-Sdk-Date");
	t = parse_sdk_date(date);
	if (t < 0) {
		sb_str(msg, "verify aksk signature fail, bad X-Sdk-Date");
		goto fail;
	}
	t -= (int64_t)time(NULL) + set->clock_offset_s;
	if (t > 15 * 60 || t < -15 * 60) {
		sb_str(msg, "verify aksk signature fail, X-Sdk-Date is more "
			    "than 15 minutes away from the server time");
		goto fail;
	}
	if (canonical_request(r, sh, &cr) < 0) {
		sb_str(msg, "verify aksk signature fail, bad request");
		goto fail;
	}
	fc_sha256_hex(cr.s, cr.n, crhash);
	sb_str(&sts, "SDK-HMAC-SHA256\n");
	sb_str(&sts, date);
	sb_str(&sts, "\n");
	sb_str(&sts, crhash);
	if (sts.oom)
		goto fail;
	fc_hmac_sha256_hex(a->sk, sts.s, sts.n, want);
	if (CRYPTO_memcmp(want, sig, 64) == 0) {
		a->fails = 0;
		*out = a;
		res = AUTH_OK;
		goto out;
	}
	/* Like the gateway, show our canonical request with '|' for LF. */
	sb_str(msg, "verify aksk signature fail, canonicalRequest: ");
	for (i = 0; i < cr.n; i++)
		sb_add(msg, cr.s[i] == '\n' ? "|" : &cr.s[i], 1);
fail:
	if (++a->fails > set->lockout_threshold) {
		a->locked_until_ms = fc_now_ms() + (int64_t)set->lockout_s * 1000;
		a->fails = 0;
	}
	goto out;
malformed:
	sb_str(msg, "verify aksk signature fail, malformed Authorization "
		    "header");
out:
	free(cr.s);
	free(sts.s);
	return res;
}

/* ----------------------------------------------------------- members */

static bool parse_int(const char *s, long *out)
{
	char *end;

	if (!s || !*s)
		return false;
	*out = strtol(s, &end, 10);
	return *end == '\0';
}

/* The string value of a member field, for list filters. */
static const char *member_field(const struct fc_hw_pool *p, const struct fc_hw_member *m,
				const char *k, char *buf, size_t len)
{
	if (!strcmp(k, "id"))
		return m->id;
	if (!strcmp(k, "name"))
		return m->name;
	if (!strcmp(k, "address"))
		return m->address;
	if (!strcmp(k, "subnet_id"))
		return m->subnet_id;
	if (!strcmp(k, "operating_status"))
		return m->operating_status;
	if (!strcmp(k, "tenant_id") || !strcmp(k, "project_id"))
		return p->project_id;
	if (!strcmp(k, "admin_state_up"))
		return m->admin_state_up ? "true" : "false";
	if (!strcmp(k, "protocol_port"))
		snprintf(buf, len, "%d", m->port);
	else if (!strcmp(k, "weight"))
		snprintf(buf, len, "%d", m->weight);
	else
		return NULL;
	return buf;
}

static bool member_matches(const struct fc_hw_pool *p, const struct fc_hw_member *m,
			   const struct fc_params *q)
{
	static const char *const keys[] = { "id",         "name",
					    "address",    "protocol_port",
					    "subnet_id",  "admin_state_up",
					    "weight",     "tenant_id",
					    "project_id", "operating_status" };
	char buf[32];
	size_t k, i;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		bool seen = false, hit = false;
		const char *v = member_field(p, m, keys[k], buf, sizeof(buf));

		for (i = 0; i < q->n; i++) {
			if (strcmp(q->v[i].k, keys[k]) != 0)
				continue;
			seen = true;
			if (strcmp(q->v[i].v, v) == 0)
				hit = true;
		}
		if (seen && !hit)
			return false;
	}
	return true;
}

struct pagebuf {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void pb_addn(struct pagebuf *sb, const char *s, size_t n)
{
	if (sb->oom)
		return;
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 65536;
		char *nb;

		while (cap < sb->len + n + 1)
			cap *= 2;
		nb = realloc(sb->buf, cap);
		if (!nb) {
			sb->oom = true;
			return;
		}
		sb->buf = nb;
		sb->cap = cap;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

static void pb_add(struct pagebuf *sb, const char *s)
{
	pb_addn(sb, s, strlen(s));
}

static void pb_fmt(struct pagebuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pb_fmt(struct pagebuf *sb, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		pb_addn(sb, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A JSON string literal; json-c escapes anything unusual. */
static void pb_str(struct pagebuf *sb, const char *s)
{
	const char *p;
	json_object *js;

	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\' ||
		    (unsigned char)*p >= 0x7f)
			break;
	if (!*p) {
		pb_addn(sb, "\"", 1);
		pb_addn(sb, s, (size_t)(p - s));
		pb_addn(sb, "\"", 1);
		return;
	}
	js = json_object_new_string(s);
	if (!js) {
		sb->oom = true;
		return;
	}
	pb_add(sb, json_object_to_json_string_ext(js, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(js);
}

static void list_members(struct fc_req *r, struct fc_hw_pool *p)
{
	struct fc_params q = { 0 };
	const char *ls, *marker, *rev;
	json_object *o, *a;
	size_t i, start, end, *idx = NULL, ni = 0;
	long limit = -1;
	int64_t now = fc_now_ms();
	int page_max = fc_settings()->page_max;

	if (fc_parse_urlencoded(&q, r->query, strlen(r->query), false) < 0) {
		v2_error(r, 500, "ELB.8906", "Internal server error.");
		goto out;
	}
	ls = fc_params_get(&q, "limit");
	marker = fc_params_get(&q, "marker");
	rev = fc_params_get(&q, "page_reverse");
	if (ls && (!parse_int(ls, &limit) || limit < 0)) {
		v2_error(r, 400, "ELB.9899",
			 "Invalid input for limit. "
			 "Reason: '%s' is not a valid non-negative integer.",
			 ls);
		goto out;
	}
	/* limit=0 means "no limit", as in Neutron. */
	if (limit == 0)
		limit = -1;
	if (page_max > 0 && (limit < 0 || limit > page_max))
		limit = page_max;
	idx = malloc((p->n ? p->n : 1) * sizeof(*idx));
	if (!idx) {
		v2_error(r, 500, "ELB.8906", "Internal server error.");
		goto out;
	}
	/* Members are kept sorted by id: a forward page after a marker
	 * starts with a binary search, and with a limit only the members of
	 * the page are filtered (100,000-member pools page in linear time). */
	i = 0;
	if (marker && ls && !(rev && strcmp(rev, "true") == 0)) {
		size_t lo = 0, hi = p->n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (strcmp(p->m[mid].id, marker) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		i = lo;
	}
	for (; i < p->n; i++) {
		if (fc_hw_member_listed(&p->m[i], now) && member_matches(p, &p->m[i], &q))
			idx[ni++] = i;
		if (limit >= 0 && !(rev && strcmp(rev, "true") == 0) && ni > (size_t)limit)
			break;
	}
	start = 0;
	end = ni;
	/* The marker only counts together with limit (reference §2.3). */
	if (marker && ls) {
		struct fc_hw_member *mm = fc_hw_member_find(p, marker);

		if (!mm) {
			v2_error(r, 400, "ELB.9899",
				 "Invalid input for "
				 "marker. Reason: member %s could not be "
				 "found.",
				 marker);
			goto out;
		}
		for (i = 0; i < ni && strcmp(p->m[idx[i]].id, marker) <= 0; i++)
			;
		start = i;
		if (rev && strcmp(rev, "true") == 0) {
			for (i = 0; i < ni && strcmp(p->m[idx[i]].id, marker) < 0; i++)
				;
			end = i;
			start = 0;
		}
	}
	if (limit >= 0 && end - start > (size_t)limit) {
		if (marker && ls && rev && strcmp(rev, "true") == 0)
			start = end - (size_t)limit;
		else
			end = start + (size_t)limit;
	}
	/* Rendered by hand rather than through a json-c tree: a page of
	 * 2,000 members (and 100,000 in the benchmarks) must not make the
	 * fake the bottleneck.  Every string goes through json_escape. */
	{
		struct pagebuf sb = { 0 };

		(void)o;
		(void)a;
		pb_add(&sb, "{\"members\": [");
		for (i = start; i < end; i++) {
			const struct fc_hw_member *m = &p->m[idx[i]];

			pb_add(&sb, i > start ? ", {\"id\": " : "{\"id\": ");
			pb_str(&sb, m->id);
			pb_add(&sb, ", \"name\": ");
			pb_str(&sb, m->name);
			pb_add(&sb, ", \"address\": ");
			pb_str(&sb, m->address);
			pb_fmt(&sb, ", \"protocol_port\": %d, \"subnet_id\": ", m->port);
			pb_str(&sb, m->subnet_id);
			pb_fmt(&sb,
			       ", \"weight\": %d, \"admin_state_up\": %s, \"operating_status\": ",
			       m->weight, m->admin_state_up ? "true" : "false");
			pb_str(&sb, m->operating_status);
			pb_add(&sb, ", \"tenant_id\": ");
			pb_str(&sb, p->project_id);
			pb_add(&sb, ", \"project_id\": ");
			pb_str(&sb, p->project_id);
			pb_add(&sb, "}");
		}
		pb_add(&sb, "]}");
		if (sb.oom) {
			free(sb.buf);
			v2_error(r, 500, "ELB.8906", "Internal server error.");
			goto out;
		}
		fc_reply_raw(r, 200, sb.buf, sb.len, HW_JSON);
		free(sb.buf);
	}
out:
	free(idx);
	fc_params_release(&q);
}

/* Parse the body as {"<key>": {...}}; NULL object with *root set on
 * success.  Answers the error itself and returns NULL on failure. */
static json_object *body_object(struct fc_req *r, const char *key, json_object **root)
{
	struct json_tokener *tok;
	json_object *o = NULL, *inner;

	*root = NULL;
	if (r->body_len) {
		tok = json_tokener_new();
		if (tok) {
			o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
			if (json_tokener_get_error(tok) != json_tokener_success) {
				json_object_put(o);
				o = NULL;
			}
			json_tokener_free(tok);
		}
	}
	if (!o || !json_object_object_get_ex(o, key, &inner) ||
	    !json_object_is_type(inner, json_type_object)) {
		json_object_put(o);
		v2_error(r, 400, "ELB.0002",
			 "RequestBody is null or empty,"
			 "request is invalid.");
		return NULL;
	}
	*root = o;
	return inner;
}

static void create_member(struct fc_req *r, struct fc_hw_pool *p)
{
	static const char *const req[] = { "address", "protocol_port", "subnet_id" };
	json_object *root, *m, *v;
	const char *addr, *name = "", *subnet;
	unsigned char ipbuf[16];
	int port, weight = 1;
	bool up = true;
	struct fc_hw_member *nm;
	size_t i;

	m = body_object(r, "member", &root);
	if (!m)
		return;
	for (i = 0; i < 3; i++) {
		if (!json_object_object_get_ex(m, req[i], &v) ||
		    json_object_is_type(v, json_type_null)) {
			v2_error(r, 400, "ELB.9805",
				 "RequestBody member[%s] is "
				 "null, this is a required parameter.",
				 req[i]);
			goto out;
		}
	}
	json_object_object_get_ex(m, "address", &v);
	addr = json_object_get_string(v);
	if (!json_object_is_type(v, json_type_string) || strlen(addr) > 64) {
		v2_error(r, 400, "ELB.9805",
			 "member[address]'s length is %zu, "
			 "greater than 64.",
			 strlen(addr));
		goto out;
	}
	if (inet_pton(AF_INET, addr, ipbuf) != 1) {
		v2_error(r, 400, "ELB.9899",
			 "Invalid input for address. "
			 "Reason: '%s' is not a valid IPv4 address.",
			 addr);
		goto out;
	}
	json_object_object_get_ex(m, "protocol_port", &v);
	port = json_object_get_int(v);
	if (!json_object_is_type(v, json_type_int) || port < 1 || port > 65535) {
		v2_error(r, 400, "ELB.9899",
			 "Invalid input for protocol_port. "
			 "Reason: '%s' is not in [1, 65535].",
			 json_object_get_string(v));
		goto out;
	}
	json_object_object_get_ex(m, "subnet_id", &v);
	subnet = json_object_get_string(v);
	if (json_object_object_get_ex(m, "weight", &v)) {
		weight = json_object_get_int(v);
		if (!json_object_is_type(v, json_type_int) || weight < 0 || weight > 100) {
			v2_error(r, 400, "ELB.9899",
				 "Invalid input for weight. "
				 "Reason: '%s' is not in [0, 100].",
				 json_object_get_string(v));
			goto out;
		}
	}
	if (json_object_object_get_ex(m, "name", &v))
		name = json_object_get_string(v);
	if (json_object_object_get_ex(m, "admin_state_up", &v))
		up = json_object_get_boolean(v);
	if (json_object_object_get_ex(m, "tenant_id", &v) &&
	    strcmp(json_object_get_string(v), p->project_id) != 0) {
		v2_error(r, 400, "ELB.9808",
			 "Tenant_id in token mismatches "
			 "with tenant_id in url.");
		goto out;
	}
	for (i = 0; i < p->n; i++) {
		if (p->m[i].gone_at_ms < 0 && p->m[i].port == port &&
		    strcmp(p->m[i].address, addr) == 0) {
			v2_error(r, 409, "ELB.8907",
				 "Data conflict. Member with "
				 "address %s and protocol_port %d already exists "
				 "in pool %s.",
				 addr, port, p->pool_id);
			goto out;
		}
	}
	nm = fc_hw_member_add(p, NULL, name, addr, port, subnet, weight);
	if (!nm) {
		v2_error(r, 500, "ELB.8906", "Internal server error.");
		goto out;
	}
	nm->admin_state_up = up;
	r->applied = true;
	free(r->member_id);
	r->member_id = strdup(nm->id);
	v = json_object_new_object();
	json_object_object_add(v, "member", fc_hw_member_json(p, nm));
	fc_reply_json(r, 201, v, HW_JSON);
out:
	json_object_put(root);
}

static void update_member(struct fc_req *r, struct fc_hw_pool *p, struct fc_hw_member *mem)
{
	json_object *root, *m, *v;
	int weight = mem->weight;
	const char *name = NULL;
	bool up = mem->admin_state_up;

	m = body_object(r, "member", &root);
	if (!m)
		return;
	if (json_object_object_length(m) == 0) {
		v2_error(r, 400, "SYS.0400",
			 "Invalid request body: Empty body "
			 "'{}' is meaningless.");
		goto out;
	}
	json_object_object_foreach(m, key, val)
	{
		(void)val;
		if (strcmp(key, "name") && strcmp(key, "weight") && strcmp(key, "admin_state_up")) {
			v2_error(r, 400, "ELB.9899",
				 "Unrecognized attribute(s) "
				 "'%s'",
				 key);
			goto out;
		}
	}
	if (json_object_object_get_ex(m, "weight", &v)) {
		weight = json_object_get_int(v);
		if (!json_object_is_type(v, json_type_int) || weight < 0 || weight > 100) {
			v2_error(r, 400, "ELB.9899",
				 "Invalid input for weight. "
				 "Reason: '%s' is not in [0, 100].",
				 json_object_get_string(v));
			goto out;
		}
	}
	if (json_object_object_get_ex(m, "name", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    strlen(json_object_get_string(v)) > 255) {
			v2_error(r, 400, "ELB.9899", "Invalid input for name.");
			goto out;
		}
		name = json_object_get_string(v);
	}
	if (json_object_object_get_ex(m, "admin_state_up", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			v2_error(r, 400, "ELB.9899",
				 "Invalid input for "
				 "admin_state_up.");
			goto out;
		}
		up = json_object_get_boolean(v);
	}
	if (name) {
		char *nn = strdup(name);

		if (!nn) {
			v2_error(r, 500, "ELB.8906", "Internal server error.");
			goto out;
		}
		free(mem->name);
		mem->name = nn;
	}
	mem->weight = weight;
	mem->admin_state_up = up;
	r->applied = true;
	v = json_object_new_object();
	json_object_object_add(v, "member", fc_hw_member_json(p, mem));
	fc_reply_json(r, 200, v, HW_JSON);
out:
	json_object_put(root);
}

/* ------------------------------------------------- pools, LBs, batch */

static json_object *pool_json(const struct fc_hw_pool *p, int64_t now)
{
	json_object *o = json_object_new_object(), *a, *x;
	size_t i;

	json_object_object_add(o, "id", json_object_new_string(p->pool_id));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "description", json_object_new_string(""));
	json_object_object_add(o, "tenant_id", json_object_new_string(p->project_id));
	json_object_object_add(o, "project_id", json_object_new_string(p->project_id));
	json_object_object_add(o, "admin_state_up", json_object_new_boolean(1));
	json_object_object_add(o, "protocol", json_object_new_string("HTTP"));
	json_object_object_add(o, "lb_algorithm", json_object_new_string("ROUND_ROBIN"));
	a = json_object_new_array();
	x = json_object_new_object();
	json_object_object_add(x, "id", json_object_new_string(p->lb_id));
	json_object_array_add(a, x);
	json_object_object_add(o, "loadbalancers", a);
	a = json_object_new_array();
	x = json_object_new_object();
	json_object_object_add(x, "id", json_object_new_string(p->listener_id));
	json_object_array_add(a, x);
	json_object_object_add(o, "listeners", a);
	a = json_object_new_array();
	for (i = 0; i < p->n; i++) {
		if (!fc_hw_member_listed(&p->m[i], now))
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "id", json_object_new_string(p->m[i].id));
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "members", a);
	json_object_object_add(o, "healthmonitor_id", NULL);
	json_object_object_add(o, "session_persistence", NULL);
	json_object_object_add(o, "protection_status", json_object_new_string("nonProtection"));
	json_object_object_add(o, "protection_reason", json_object_new_string(""));
	return o;
}

static void list_pools(struct fc_req *r, const char *project)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	int64_t now = fc_now_ms();
	size_t i;

	/* Pools are few; no paging, sorted as stored. */
	for (i = 0; i < fc_w.npools; i++)
		if (strcmp(fc_w.pools[i].project_id, project) == 0 && !fc_w.pools[i].v3)
			json_object_array_add(a, pool_json(&fc_w.pools[i], now));
	json_object_object_add(o, "pools", a);
	fc_reply_json(r, 200, o, HW_JSON);
}

static void get_lb(struct fc_req *r, const char *project, const char *lb)
{
	json_object *o, *l, *a, *x;
	bool found = false;
	size_t i;

	a = json_object_new_array();
	for (i = 0; i < fc_w.npools; i++) {
		if (strcmp(fc_w.pools[i].project_id, project) || strcmp(fc_w.pools[i].lb_id, lb) ||
		    fc_w.pools[i].v3)
			continue;
		found = true;
		x = json_object_new_object();
		json_object_object_add(x, "id", json_object_new_string(fc_w.pools[i].pool_id));
		json_object_array_add(a, x);
	}
	if (!found) {
		json_object_put(a);
		v2_error(r, 404, "ELB.9800", "loadbalancer %s could not be found", lb);
		return;
	}
	l = json_object_new_object();
	json_object_object_add(l, "id", json_object_new_string(lb));
	json_object_object_add(l, "tenant_id", json_object_new_string(project));
	json_object_object_add(l, "project_id", json_object_new_string(project));
	json_object_object_add(l, "name", json_object_new_string("fake-elb"));
	json_object_object_add(l, "description", json_object_new_string(""));
	json_object_object_add(l, "vip_subnet_id",
			       json_object_new_string("0c4c2e9a-5d2b-4c3e-9a1b-8b2f2c1d0e01"));
	json_object_object_add(l, "vip_port_id",
			       json_object_new_string("7b5b3c9a-1d2e-4f3a-8b9c-0d1e2f3a4b5c"));
	json_object_object_add(l, "vip_address", json_object_new_string("192.168.0.100"));
	json_object_object_add(l, "listeners", json_object_new_array());
	json_object_object_add(l, "pools", a);
	json_object_object_add(l, "provider", json_object_new_string("vlb"));
	json_object_object_add(l, "operating_status", json_object_new_string("ONLINE"));
	json_object_object_add(l, "provisioning_status", json_object_new_string("ACTIVE"));
	json_object_object_add(l, "admin_state_up", json_object_new_boolean(1));
	json_object_object_add(l, "created_at", json_object_new_string("2024-05-13T09:30:15"));
	json_object_object_add(l, "updated_at", json_object_new_string("2024-05-13T09:30:15"));
	json_object_object_add(l, "enterprise_project_id", json_object_new_string("0"));
	json_object_object_add(l, "tags", json_object_new_array());
	o = json_object_new_object();
	json_object_object_add(o, "loadbalancer", l);
	fc_reply_json(r, 200, o, HW_JSON);
}

/* ---------------------------------------------------- dedicated ELB (v3) */

#define V3_MAX_LIMIT 2000
#define V3_MAX_BATCH 200

/* Parse the whole body as JSON; NULL when absent or malformed. */
static json_object *parse_body(const struct fc_req *r)
{
	struct json_tokener *tok;
	json_object *o = NULL;

	if (!r->body_len)
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static const char *ip_version(const struct fc_hw_member *m)
{
	return strchr(m->address, ':') ? "v6" : "v4";
}

/* One member as v3 shows it; 'ret_status' added for batch answers. */
static void pb_member_v3(struct pagebuf *sb, const struct fc_hw_pool *p,
			 const struct fc_hw_member *m, const char *ret_status)
{
	pb_add(sb, "{\"id\": ");
	pb_str(sb, m->id);
	pb_add(sb, ", \"name\": ");
	pb_str(sb, m->name);
	pb_add(sb, ", \"pool_id\": ");
	pb_str(sb, p->pool_id);
	pb_add(sb, ", \"project_id\": ");
	pb_str(sb, p->project_id);
	pb_add(sb, ", \"address\": ");
	pb_str(sb, m->address);
	pb_fmt(sb, ", \"protocol_port\": %d, \"subnet_cidr_id\": ", m->port);
	/* An IP (cross-VPC) member has no subnet: null, not "". */
	if (m->subnet_id[0])
		pb_str(sb, m->subnet_id);
	else
		pb_add(sb, "null");
	pb_fmt(sb,
	       ", \"weight\": %d, \"admin_state_up\": %s, \"ip_version\": "
	       "\"%s\", \"operating_status\": ",
	       m->weight, m->admin_state_up ? "true" : "false", ip_version(m));
	pb_str(sb, m->operating_status);
	pb_add(sb, ", \"status\": [{\"listener_id\": ");
	pb_str(sb, p->listener_id);
	pb_add(sb, ", \"operating_status\": ");
	pb_str(sb, m->operating_status);
	pb_add(sb, "}], \"member_type\": ");
	pb_str(sb, m->member_type);
	pb_add(sb, ", \"instance_id\": ");
	pb_str(sb, m->instance_id);
	pb_add(sb, ", \"availability_zone\": \"\"");
	if (ret_status) {
		pb_add(sb, ", \"ret_status\": ");
		pb_str(sb, ret_status);
	}
	pb_add(sb, "}");
}

/* Send a hand-rendered v3 body, or a 500 if rendering ran out of memory. */
static void pb_send(struct fc_req *r, int status, struct pagebuf *sb)
{
	if (sb->oom)
		v3_error(r, 500, "ELB.8906", "Internal server error.");
	else
		fc_reply_raw(r, status, sb->buf, sb->len, HW_JSON);
	free(sb->buf);
	sb->buf = NULL;
}

/* {"request_id", "member"} */
static void reply_member_v3(struct fc_req *r, int status, const struct fc_hw_pool *p,
			    const struct fc_hw_member *m)
{
	struct pagebuf sb = { 0 };

	pb_add(&sb, "{\"request_id\": ");
	pb_str(&sb, r->reqid);
	pb_add(&sb, ", \"member\": ");
	pb_member_v3(&sb, p, m, NULL);
	pb_add(&sb, "}");
	pb_send(r, status, &sb);
}

/* The string value of a member field for the v3 list filters; NULL for a
 * key that is not a filter. */
static const char *member_field_v3(const struct fc_hw_pool *p, const struct fc_hw_member *m,
				   const char *k, char *buf, size_t len)
{
	if (!strcmp(k, "subnet_cidr_id"))
		return m->subnet_id;
	if (!strcmp(k, "ip_version"))
		return ip_version(m);
	if (!strcmp(k, "member_type"))
		return m->member_type;
	if (!strcmp(k, "instance_id"))
		return m->instance_id;
	if (!strcmp(k, "subnet_id") || !strcmp(k, "tenant_id") || !strcmp(k, "project_id"))
		return NULL;
	return member_field(p, m, k, buf, len);
}

/* Filters are multi-valued (name=a&name=b matches either). */
static bool member_matches_v3(const struct fc_hw_pool *p, const struct fc_hw_member *m,
			      const struct fc_params *q)
{
	static const char *const keys[] = { "id",
					    "name",
					    "address",
					    "protocol_port",
					    "subnet_cidr_id",
					    "admin_state_up",
					    "weight",
					    "operating_status",
					    "ip_version",
					    "member_type",
					    "instance_id" };
	char buf[32];
	size_t k, i;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		bool seen = false, hit = false;
		const char *v = member_field_v3(p, m, keys[k], buf, sizeof(buf));

		for (i = 0; i < q->n; i++) {
			if (strcmp(q->v[i].k, keys[k]) != 0)
				continue;
			seen = true;
			if (v && strcmp(q->v[i].v, v) == 0)
				hit = true;
		}
		if (seen && !hit)
			return false;
	}
	return true;
}

/*
 * GET /v3/{p}/elb/pools/{pool}/members: ascending id, pages of 'limit'
 * (0..2000, default 2000) after 'marker'; page_info.next_marker only when
 * another page follows.
 */
static void list_members_v3(struct fc_req *r, struct fc_hw_pool *p)
{
	struct fc_params q = { 0 };
	struct pagebuf sb = { 0 };
	const char *ls, *marker, *rev;
	size_t i, *idx = NULL, ni = 0, start;
	long limit = V3_MAX_LIMIT;
	bool reverse, more = false;
	int64_t now = fc_now_ms();
	int page_max = fc_settings()->page_max;

	if (fc_parse_urlencoded(&q, r->query, strlen(r->query), false) < 0) {
		v3_error(r, 500, "ELB.8906", "Internal server error.");
		goto out;
	}
	ls = fc_params_get(&q, "limit");
	marker = fc_params_get(&q, "marker");
	rev = fc_params_get(&q, "page_reverse");
	if (ls && (!parse_int(ls, &limit) || limit < 0 || limit > V3_MAX_LIMIT)) {
		v3_error(r, 400, "ELB.8902",
			 "Invalid input for 'limit': '%s' "
			 "is not in [0, 2000].",
			 ls);
		goto out;
	}
	if (rev && strcmp(rev, "true") && strcmp(rev, "false")) {
		v3_error(r, 400, "ELB.8902",
			 "Invalid input for "
			 "'page_reverse': '%s' is not a boolean.",
			 rev);
		goto out;
	}
	reverse = rev && strcmp(rev, "true") == 0 && marker;
	/* limit=0 is taken as the default page (2000), never "nothing". */
	if (limit == 0)
		limit = V3_MAX_LIMIT;
	if (page_max > 0 && limit > page_max)
		limit = page_max;
	/* A marker must name a member this pool still shows. */
	if (marker) {
		struct fc_hw_member *mm = fc_hw_member_find(p, marker);

		if (!mm || !fc_hw_member_listed(mm, now)) {
			v3_error(r, 400, "ELB.8902",
				 "Invalid input for "
				 "'marker': member %s could not be found.",
				 marker);
			goto out;
		}
	}
	idx = malloc((size_t)(limit + 1) * sizeof(*idx));
	if (!idx) {
		v3_error(r, 500, "ELB.8906", "Internal server error.");
		goto out;
	}
	if (!reverse) {
		/* Forward: one more than the page says whether another
		 * page follows. */
		i = 0;
		if (marker) {
			size_t lo = 0, hi = p->n;

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (strcmp(p->m[mid].id, marker) <= 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			i = lo;
		}
		for (; i < p->n && ni <= (size_t)limit; i++)
			if (fc_hw_member_listed(&p->m[i], now) &&
			    member_matches_v3(p, &p->m[i], &q))
				idx[ni++] = i;
		more = ni > (size_t)limit;
		if (more)
			ni--;
	} else {
		/* Backward: the 'limit' members just before the marker,
		 * still in ascending order. */
		i = (size_t)(fc_hw_member_find(p, marker) - p->m);
		while (i > 0 && ni <= (size_t)limit) {
			i--;
			if (fc_hw_member_listed(&p->m[i], now) &&
			    member_matches_v3(p, &p->m[i], &q))
				idx[ni++] = i;
		}
		more = ni > (size_t)limit;
		if (more)
			ni--;
		for (start = 0; start < ni / 2; start++) {
			size_t t = idx[start];

			idx[start] = idx[ni - 1 - start];
			idx[ni - 1 - start] = t;
		}
	}
	pb_add(&sb, "{\"request_id\": ");
	pb_str(&sb, r->reqid);
	pb_add(&sb, ", \"page_info\": {");
	if (ni) {
		pb_add(&sb, "\"previous_marker\": ");
		pb_str(&sb, p->m[idx[0]].id);
		pb_add(&sb, ", ");
	}
	/* Forward, next_marker continues after the page; backward, the
	 * marker itself follows the page so there always is one. */
	if (ni && (more || reverse)) {
		pb_add(&sb, "\"next_marker\": ");
		pb_str(&sb, p->m[idx[ni - 1]].id);
		pb_add(&sb, ", ");
	}
	pb_fmt(&sb, "\"current_count\": %zu}, \"members\": [", ni);
	for (i = 0; i < ni; i++) {
		if (i)
			pb_add(&sb, ", ");
		pb_member_v3(&sb, p, &p->m[idx[i]], NULL);
	}
	pb_add(&sb, "]}");
	pb_send(r, 200, &sb);
out:
	free(idx);
	fc_params_release(&q);
}

/* A member to create, from a create body or a batch-add item. */
struct new_member {
	const char *address;
	const char *name;
	const char *subnet;
	int port;
	int weight;
	bool up;
};

/* Validate one new member; -1 with an ELB.8902 message in 'err'. */
static int new_member_v3(json_object *it, struct new_member *nm, const char *where, char *err,
			 size_t len)
{
	static const char *const known[] = { "address",        "protocol_port",
					     "subnet_cidr_id", "weight",
					     "name",           "admin_state_up",
					     "project_id",     "availability_zone" };
	unsigned char ipbuf[16];
	json_object *v;
	size_t i;

	memset(nm, 0, sizeof(*nm));
	nm->name = "";
	nm->subnet = "";
	nm->weight = 1;
	nm->up = true;
	if (!json_object_is_type(it, json_type_object)) {
		snprintf(err, len, "Invalid input for '%s': not an object.", where);
		return -1;
	}
	json_object_object_foreach(it, key, val)
	{
		(void)val;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(err, len, "Unrecognized attribute(s) '%s'", key);
			return -1;
		}
	}
	if (!json_object_object_get_ex(it, "address", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(err, len,
			 "Invalid input for '%s.address': it is a "
			 "required parameter.",
			 where);
		return -1;
	}
	nm->address = json_object_get_string(v);
	if (inet_pton(AF_INET, nm->address, ipbuf) != 1 &&
	    inet_pton(AF_INET6, nm->address, ipbuf) != 1) {
		snprintf(err, len,
			 "Invalid input for '%s.address': '%.64s' "
			 "is not a valid IP address.",
			 where, nm->address);
		return -1;
	}
	if (!json_object_object_get_ex(it, "protocol_port", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int(v) < 1 ||
	    json_object_get_int(v) > 65535) {
		snprintf(err, len,
			 "Invalid input for '%s.protocol_port': it "
			 "is required and in [1, 65535].",
			 where);
		return -1;
	}
	nm->port = json_object_get_int(v);
	if (json_object_object_get_ex(it, "weight", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < 0 ||
		    json_object_get_int(v) > 100) {
			snprintf(err, len,
				 "Invalid input for '%s.weight': "
				 "'%s' is not in [0, 100].",
				 where, json_object_get_string(v));
			return -1;
		}
		nm->weight = json_object_get_int(v);
	}
	if (json_object_object_get_ex(it, "subnet_cidr_id", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_string) || !json_object_get_string_len(v)) {
			snprintf(err, len,
				 "Invalid input for "
				 "'%s.subnet_cidr_id'.",
				 where);
			return -1;
		}
		nm->subnet = json_object_get_string(v);
	}
	if (json_object_object_get_ex(it, "name", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) > 255) {
			snprintf(err, len, "Invalid input for '%s.name'.", where);
			return -1;
		}
		nm->name = json_object_get_string(v);
	}
	if (json_object_object_get_ex(it, "admin_state_up", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			snprintf(err, len,
				 "Invalid input for "
				 "'%s.admin_state_up'.",
				 where);
			return -1;
		}
		nm->up = json_object_get_boolean(v);
	}
	return 0;
}

/* The live member with this address and port, if any. */
static struct fc_hw_member *member_at(struct fc_hw_pool *p, const char *addr, int port)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->m[i].gone_at_ms < 0 && p->m[i].port == port &&
		    strcmp(p->m[i].address, addr) == 0)
			return &p->m[i];
	return NULL;
}

static struct fc_hw_member *add_new_member(struct fc_hw_pool *p, const struct new_member *nm)
{
	struct fc_hw_member *m;

	m = fc_hw_member_add(p, NULL, nm->name, nm->address, nm->port, nm->subnet, nm->weight);
	if (m)
		m->admin_state_up = nm->up;
	return m;
}

/* POST /v3/.../members {"member":{...}} -> 201 */
static void create_member_v3(struct fc_req *r, struct fc_hw_pool *p)
{
	json_object *root = parse_body(r), *it;
	struct new_member nm;
	struct fc_hw_member *m;
	char err[256];

	if (!root || !json_object_object_get_ex(root, "member", &it)) {
		v3_error(r, 400, "ELB.8902",
			 "Invalid input for 'member': it "
			 "is a required parameter.");
		goto out;
	}
	if (new_member_v3(it, &nm, "member", err, sizeof(err)) < 0) {
		v3_error(r, 400, "ELB.8902", "%s", err);
		goto out;
	}
	if (member_at(p, nm.address, nm.port)) {
		v3_error(r, 409, "ELB.8907",
			 "Data conflict. Member with "
			 "address %s and protocol_port %d already exists in "
			 "pool %s.",
			 nm.address, nm.port, p->pool_id);
		goto out;
	}
	m = add_new_member(p, &nm);
	if (!m) {
		v3_error(r, 500, "ELB.8906", "Internal server error.");
		goto out;
	}
	r->applied = true;
	free(r->member_id);
	r->member_id = strdup(m->id);
	reply_member_v3(r, 201, p, m);
out:
	json_object_put(root);
}

/*
 * The fields an update may change: name, weight (0 is a weight like any
 * other), admin_state_up, protocol_port.  -1 with a message in 'err' and
 * the error code in 'code'.
 */
struct member_change {
	const char *name;
	int weight; /* -1 = unchanged */
	int up;     /* -1 = unchanged */
	int port;   /* -1 = unchanged */
};

static int member_change_v3(json_object *it, bool with_id, struct member_change *c,
			    const char **code, char *err, size_t len)
{
	json_object *v;

	memset(c, 0, sizeof(*c));
	c->weight = c->up = c->port = -1;
	*code = "ELB.8902";
	if (!json_object_is_type(it, json_type_object)) {
		snprintf(err, len, "Invalid input for 'member'.");
		return -1;
	}
	if (!with_id && json_object_object_length(it) == 0) {
		*code = "SYS.0400";
		snprintf(err, len,
			 "Invalid request body: Empty body '{}' is "
			 "meaningless.");
		return -1;
	}
	json_object_object_foreach(it, key, val)
	{
		(void)val;
		if (strcmp(key, "name") && strcmp(key, "weight") && strcmp(key, "admin_state_up") &&
		    strcmp(key, "protocol_port") && strcmp(key, "availability_zone") &&
		    !(with_id && strcmp(key, "id") == 0)) {
			snprintf(err, len, "Unrecognized attribute(s) '%s'", key);
			return -1;
		}
	}
	if (with_id && (!json_object_object_get_ex(it, "id", &v) ||
			!json_object_is_type(v, json_type_string))) {
		snprintf(err, len,
			 "Invalid input for 'members.id': it is a "
			 "required parameter.");
		return -1;
	}
	if (json_object_object_get_ex(it, "weight", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < 0 ||
		    json_object_get_int(v) > 100) {
			snprintf(err, len,
				 "Invalid input for 'weight': '%s' "
				 "is not in [0, 100].",
				 json_object_get_string(v));
			return -1;
		}
		c->weight = json_object_get_int(v);
	}
	if (json_object_object_get_ex(it, "protocol_port", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < 1 ||
		    json_object_get_int(v) > 65535) {
			snprintf(err, len,
				 "Invalid input for 'protocol_port': "
				 "'%s' is not in [1, 65535].",
				 json_object_get_string(v));
			return -1;
		}
		c->port = json_object_get_int(v);
	}
	if (json_object_object_get_ex(it, "name", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) > 255) {
			snprintf(err, len, "Invalid input for 'name'.");
			return -1;
		}
		c->name = json_object_get_string(v);
	}
	if (json_object_object_get_ex(it, "admin_state_up", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			snprintf(err, len,
				 "Invalid input for "
				 "'admin_state_up'.");
			return -1;
		}
		c->up = json_object_get_boolean(v);
	}
	return 0;
}

/* Apply a validated change; -1 on ENOMEM. */
static int member_apply(struct fc_hw_member *m, const struct member_change *c)
{
	if (c->name) {
		char *nn = strdup(c->name);

		if (!nn)
			return -1;
		free(m->name);
		m->name = nn;
	}
	if (c->weight >= 0)
		m->weight = c->weight;
	if (c->up >= 0)
		m->admin_state_up = c->up;
	if (c->port >= 0)
		m->port = c->port;
	return 0;
}

/* PUT /v3/.../members/{id} {"member":{...}} -> 200 */
static void update_member_v3(struct fc_req *r, struct fc_hw_pool *p, struct fc_hw_member *m)
{
	json_object *root = parse_body(r), *it;
	struct member_change c;
	const char *code;
	char err[256];

	if (!root || !json_object_object_get_ex(root, "member", &it)) {
		v3_error(r, 400, "ELB.8902",
			 "Invalid input for 'member': it "
			 "is a required parameter.");
		goto out;
	}
	if (member_change_v3(it, false, &c, &code, err, sizeof(err)) < 0) {
		v3_error(r, 400, code, "%s", err);
		goto out;
	}
	if (c.port >= 0 && c.port != m->port && member_at(p, m->address, c.port)) {
		v3_error(r, 409, "ELB.8907",
			 "Data conflict. Member with "
			 "address %s and protocol_port %d already exists in "
			 "pool %s.",
			 m->address, c.port, p->pool_id);
		goto out;
	}
	if (member_apply(m, &c) < 0) {
		v3_error(r, 500, "ELB.8906", "Internal server error.");
		goto out;
	}
	r->applied = true;
	reply_member_v3(r, 200, p, m);
out:
	json_object_put(root);
}

/* The "members" array of a batch body, 1..200 items; answers itself and
 * returns NULL otherwise. */
static json_object *batch_items(struct fc_req *r, json_object *root)
{
	json_object *items;
	size_t n;

	if (!root || !json_object_object_get_ex(root, "members", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		v3_error(r, 400, "ELB.8902",
			 "Invalid input for 'members': it "
			 "is a required parameter.");
		return NULL;
	}
	n = json_object_array_length(items);
	if (n > V3_MAX_BATCH) {
		v3_error(r, 400, "ELB.8902",
			 "Invalid input for 'members': "
			 "at most 200 members per call.");
		return NULL;
	}
	return items;
}

/* How many items of a validated batch to apply (a "partial" fault cuts
 * the batch short). */
static size_t batch_apply_count(const struct fc_req *r, size_t n)
{
	if (r->batch_cut && (size_t)r->batch_keep < n)
		return (size_t)r->batch_keep;
	return n;
}

/* POST /v3/.../members/batch-add: "successful" or "existed" per item. */
static void batch_add(struct fc_req *r, struct fc_hw_pool *p)
{
	json_object *root = parse_body(r), *items;
	struct new_member *nms = NULL;
	struct pagebuf sb = { 0 };
	char err[256], where[32];
	size_t i, n, keep;

	items = batch_items(r, root);
	if (!items)
		goto out;
	n = json_object_array_length(items);
	if (n == 0) {
		v3_error(r, 400, "ELB.8902",
			 "Invalid input for 'members': at "
			 "least one member is required.");
		goto out;
	}
	nms = calloc(n, sizeof(*nms));
	if (!nms) {
		v3_error(r, 500, "ELB.8906", "Internal server error.");
		goto out;
	}
	/* Validate everything first: a bad item rejects the whole call. */
	for (i = 0; i < n; i++) {
		snprintf(where, sizeof(where), "members[%zu]", i);
		if (new_member_v3(json_object_array_get_idx(items, i), &nms[i], where, err,
				  sizeof(err)) < 0) {
			v3_error(r, 400, "ELB.8902", "%s", err);
			goto out;
		}
	}
	keep = batch_apply_count(r, n);
	pb_add(&sb, "{\"request_id\": ");
	pb_str(&sb, r->reqid);
	pb_add(&sb, ", \"members\": [");
	for (i = 0; i < keep; i++) {
		struct fc_hw_member *m = member_at(p, nms[i].address, nms[i].port);
		const char *st = "existed";

		if (!m) {
			m = add_new_member(p, &nms[i]);
			if (!m) {
				sb.oom = true;
				break;
			}
			st = "successful";
			r->applied = true;
		}
		/* Rendered at once: the next add may move the members. */
		if (i)
			pb_add(&sb, ", ");
		pb_member_v3(&sb, p, m, st);
	}
	pb_add(&sb, "]}");
	pb_send(r, 200, &sb);
out:
	free(nms);
	json_object_put(root);
}

/* POST /v3/.../members/batch-update: all ids must exist, or nothing
 * changes (404). */
static void batch_update(struct fc_req *r, struct fc_hw_pool *p)
{
	json_object *root = parse_body(r), *items, *v;
	struct member_change *cs = NULL;
	struct pagebuf sb = { 0 };
	const char *code;
	char err[256];
	size_t i, n, keep;

	items = batch_items(r, root);
	if (!items)
		goto out;
	n = json_object_array_length(items);
	if (n == 0) {
		v3_error(r, 400, "ELB.8902",
			 "Invalid input for 'members': at "
			 "least one member is required.");
		goto out;
	}
	cs = calloc(n, sizeof(*cs));
	if (!cs) {
		v3_error(r, 500, "ELB.8906", "Internal server error.");
		goto out;
	}
	for (i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(items, i);
		struct fc_hw_member *m;

		if (member_change_v3(it, true, &cs[i], &code, err, sizeof(err)) < 0) {
			v3_error(r, 400, code, "%s", err);
			goto out;
		}
		json_object_object_get_ex(it, "id", &v);
		m = fc_hw_member_find(p, json_object_get_string(v));
		if (!m || m->gone_at_ms >= 0) {
			v3_error(r, 404, "ELB.8904",
				 "member %s could not be "
				 "found.",
				 json_object_get_string(v));
			goto out;
		}
		if (cs[i].port >= 0 && cs[i].port != m->port &&
		    member_at(p, m->address, cs[i].port)) {
			v3_error(r, 409, "ELB.8907",
				 "Data conflict. Member "
				 "with address %s and protocol_port %d already "
				 "exists in pool %s.",
				 m->address, cs[i].port, p->pool_id);
			goto out;
		}
	}
	keep = batch_apply_count(r, n);
	pb_add(&sb, "{\"request_id\": ");
	pb_str(&sb, r->reqid);
	pb_add(&sb, ", \"members\": [");
	for (i = 0; i < keep; i++) {
		struct fc_hw_member *m;

		json_object_object_get_ex(json_object_array_get_idx(items, i), "id", &v);
		m = fc_hw_member_find(p, json_object_get_string(v));
		if (member_apply(m, &cs[i]) < 0) {
			sb.oom = true;
			break;
		}
		r->applied = true;
		if (i)
			pb_add(&sb, ", ");
		pb_member_v3(&sb, p, m, NULL);
	}
	pb_add(&sb, "]}");
	pb_send(r, 200, &sb);
out:
	free(cs);
	json_object_put(root);
}

/* POST /v3/{p}/elb/pools/{pool}/members/batch-delete (v3 error shape). */
static void batch_delete(struct fc_req *r, struct fc_hw_pool *p)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *root = NULL, *items, *out = NULL, *res;
	size_t i, n, j, keep;

	if (tok) {
		root = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
		if (json_tokener_get_error(tok) != json_tokener_success) {
			json_object_put(root);
			root = NULL;
		}
		json_tokener_free(tok);
	}
	if (!root || !json_object_object_get_ex(root, "members", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		gw_error(r, 400, "ELB.8902", "Invalid input for 'members'.");
		goto out;
	}
	n = json_object_array_length(items);
	if (n > 200) {
		gw_error(r, 400, "ELB.8902",
			 "Invalid input for 'members': "
			 "at most 200 members per call.");
		goto out;
	}
	/* Validate everything first: a bad item rejects the whole call. */
	for (i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(items, i), *v;
		bool has_id = json_object_object_get_ex(it, "id", &v);
		bool has_a = json_object_object_get_ex(it, "address", &v);
		bool has_p = json_object_object_get_ex(it, "protocol_port", &v);

		if (!json_object_is_type(it, json_type_object) || (has_id && (has_a || has_p)) ||
		    (!has_id && !(has_a && has_p))) {
			gw_error(r, 400, "ELB.8902",
				 "Invalid input for "
				 "'members': each item needs either id, or "
				 "address and protocol_port.");
			goto out;
		}
	}
	res = json_object_new_array();
	keep = batch_apply_count(r, n);
	for (i = 0; i < keep; i++) {
		json_object *it = json_object_array_get_idx(items, i), *v, *o;
		struct fc_hw_member *m = NULL;
		const char *id = "";

		if (json_object_object_get_ex(it, "id", &v)) {
			id = json_object_get_string(v);
			m = fc_hw_member_find(p, id);
			if (m && m->gone_at_ms >= 0)
				m = NULL;
		} else {
			const char *addr;
			int port;

			json_object_object_get_ex(it, "address", &v);
			addr = json_object_get_string(v);
			json_object_object_get_ex(it, "protocol_port", &v);
			port = json_object_get_int(v);
			for (j = 0; j < p->n; j++)
				if (p->m[j].gone_at_ms < 0 && strcmp(p->m[j].address, addr) == 0 &&
				    (port == 0 || p->m[j].port == port))
					m = &p->m[j];
		}
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(m ? m->id : id));
		json_object_object_add(o, "ret_status",
				       json_object_new_string(m ? "successful" : "not found"));
		json_object_array_add(res, o);
		if (m) {
			fc_hw_member_remove(p, m);
			r->applied = true;
		}
	}
	out = json_object_new_object();
	json_object_object_add(out, "request_id", json_object_new_string(r->reqid));
	json_object_object_add(out, "members", res);
	fc_reply_json(r, 200, out, HW_JSON);
out:
	json_object_put(root);
}

/* ----------------------------------------------------------- execute */

static void dispatch_v3(struct fc_req *r, const struct route *rt, struct fc_hw_pool *p, int64_t now)
{
	struct fc_hw_member *m;

	if (!strcmp(r->op, "v3_list"))
		return list_members_v3(r, p);
	if (!strcmp(r->op, "v3_create"))
		return create_member_v3(r, p);
	if (!strcmp(r->op, "batch_delete"))
		return batch_delete(r, p);
	if (!strcmp(r->op, "batch_add"))
		return batch_add(r, p);
	if (!strcmp(r->op, "batch_update"))
		return batch_update(r, p);
	m = fc_hw_member_find(p, rt->seg[6]);
	/* As on v2: a removed member still listed can be read, not written. */
	if (m && (strcmp(r->op, "v3_get") ? m->gone_at_ms >= 0 : !fc_hw_member_listed(m, now)))
		m = NULL;
	if (!m)
		return v3_error(r, 404, "ELB.8904",
				"member %s could not be "
				"found.",
				rt->seg[6]);
	if (!strcmp(r->op, "v3_get"))
		return reply_member_v3(r, 200, p, m);
	if (!strcmp(r->op, "v3_update"))
		return update_member_v3(r, p, m);
	fc_hw_member_remove(p, m);
	r->applied = true;
	fc_reply_raw(r, 204, NULL, 0, NULL);
}

static void dispatch(struct fc_req *r, const struct route *rt)
{
	struct fc_hw_pool *p = NULL;
	struct fc_hw_member *m = NULL;
	int64_t now = fc_now_ms();

	if (!strcmp(r->op, "list_pools"))
		return list_pools(r, rt->project);
	if (!strcmp(r->op, "get_lb"))
		return get_lb(r, rt->project, rt->seg[4]);
	p = fc_hw_pool_find(rt->seg[4]);
	/* A shared (v2) pool is not a dedicated (v3) one, and the other way
	 * round: each API only finds its own pools. */
	if (!p || strcmp(p->project_id, rt->project) != 0 || p->v3 != (rt->version == 3)) {
		if (rt->version == 3)
			return v3_error(r, 404, "ELB.8904",
					"pool %s could not "
					"be found.",
					rt->seg[4]);
		return v2_error(r, 404, "ELB.9800", "pool %s could not be found", rt->seg[4]);
	}
	fc_hw_pool_purge(p, now);
	if (rt->version == 3)
		return dispatch_v3(r, rt, p, now);
	if (!strcmp(r->op, "get_pool")) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "pool", pool_json(p, now));
		return fc_reply_json(r, 200, o, HW_JSON);
	}
	if (!strcmp(r->op, "list"))
		return list_members(r, p);
	if (!strcmp(r->op, "create"))
		return create_member(r, p);
	m = fc_hw_member_find(p, rt->seg[6]);
	/* A removed member still "listed" (eventual_ms) can be read but is
	 * already gone for writes. */
	if (m && (strcmp(r->op, "get") ? m->gone_at_ms >= 0 : !fc_hw_member_listed(m, now)))
		m = NULL;
	if (!m)
		return v2_error(r, 404, "ELB.9800",
				"member %s could not be "
				"found",
				rt->seg[6]);
	if (!strcmp(r->op, "get")) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "member", fc_hw_member_json(p, m));
		return fc_reply_json(r, 200, o, HW_JSON);
	}
	if (!strcmp(r->op, "update"))
		return update_member(r, p, m);
	/* delete: 204, empty body, no Content-Type */
	fc_hw_member_remove(p, m);
	r->applied = true;
	fc_reply_raw(r, 204, NULL, 0, NULL);
}

void fc_hw_execute(struct fc_req *r)
{
	struct route rt;
	struct fc_hw_account *a = NULL;
	struct sb msg = { 0 };
	const char *authz, *tok, *xp;

	if (strcmp(r->op, "unknown") == 0 || route_parse(r->path, &rt) < 0) {
		gw_error(r, 404, "APIGW.0101",
			 "The API does not exist or has "
			 "not been published in the environment");
		return;
	}
	fc_world_lock();
	authz = header(r, "Authorization");
	tok = header(r, "X-Auth-Token");
	if (authz) {
		enum auth_result ar = verify_aksk(r, authz, &a, &msg);

		r->auth = ar == AUTH_OK ? "aksk" : "bad";
		if (ar != AUTH_OK) {
			gw_error(r, 401, "APIGW.0301",
				 msg.oom ? "Incorrect IAM "
					   "authentication information"
					 : msg.s);
			goto out;
		}
	} else if (tok) {
		a = account_by_token(tok);
		r->auth = a ? "token" : "bad";
		if (!a) {
			gw_error(r, 401, "APIGW.0301",
				 "Incorrect IAM "
				 "authentication information: decrypt token "
				 "fail");
			goto out;
		}
	} else {
		r->auth = "none";
		gw_error(r, 401, "APIGW.0301",
			 "Incorrect IAM authentication "
			 "information: x-auth-token not found");
		goto out;
	}
	xp = header(r, "X-Project-Id");
	if ((xp && strcmp(xp, rt.project) != 0) ||
	    (a->project_id[0] && strcmp(a->project_id, rt.project) != 0)) {
		if (rt.version == 3)
			v3_error(r, 400, "ELB.9808",
				 "Tenant_id in token "
				 "mismatches with tenant_id in url.");
		else
			v2_error(r, 400, "ELB.9808",
				 "Tenant_id in token "
				 "mismatches with tenant_id in url.");
		goto out;
	}
	dispatch(r, &rt);
out:
	fc_world_unlock();
	free(msg.s);
	route_release(&rt);
}
