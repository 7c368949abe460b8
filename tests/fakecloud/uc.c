/*
 * UCloud / SurferCloud ULB (CLB) emulation: Action-style calls on "/",
 * GET or POST (form or JSON), SHA-1 parameter signatures, RetCode
 * envelopes.  Facts: shared/reference/ucloud-ulb.md.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fakecloud.h"

#define UC_JSON "application/json; charset=utf-8"

/* ------------------------------------------------------------ parsing */

/* Format a double the way the SDKs sign it: integral values without a
 * fraction, otherwise the shortest text that reads back the same. */
static void format_double(double d, char *buf, size_t len)
{
	int prec;

	if (d == (double)(long long)d) {
		snprintf(buf, len, "%lld", (long long)d);
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
}

/* Flatten JSON into Key.N / Key.Sub parameters (reference §2.2). */
static int flatten(struct fc_params *p, const char *name, json_object *v)
{
	char buf[64], *sub;
	const char *s;
	size_t i;
	int rc = 0;

	switch (json_object_get_type(v)) {
	case json_type_null: return 0;
	case json_type_object: {
		json_object_object_foreach(v, k, child)
		{
			if (name) {
				if (asprintf(&sub, "%s.%s", name, k) < 0)
					return -1;
			} else {
				sub = strdup(k);
				if (!sub)
					return -1;
			}
			rc = flatten(p, sub, child);
			free(sub);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	case json_type_array:
		for (i = 0; i < json_object_array_length(v); i++) {
			if (asprintf(&sub, "%s.%zu", name ? name : "", i) < 0)
				return -1;
			rc = flatten(p, sub, json_object_array_get_idx(v, i));
			free(sub);
			if (rc < 0)
				return rc;
		}
		return 0;
	case json_type_boolean: s = json_object_get_boolean(v) ? "true" : "false"; break;
	case json_type_int:
		snprintf(buf, sizeof(buf), "%lld", (long long)json_object_get_int64(v));
		s = buf;
		break;
	case json_type_double:
		format_double(json_object_get_double(v), buf, sizeof(buf));
		s = buf;
		break;
	default: s = json_object_get_string(v); break;
	}
	if (!name)
		return 0;
	return fc_params_add(p, name, strlen(name), s, strlen(s));
}

/* Merge 'from' into 'into'; a key present in both keeps the body's value
 * (they are normally identical, e.g. the Go SDK's duplicated Action). */
static int merge(struct fc_params *into, struct fc_params *from)
{
	size_t i, j;

	for (i = 0; i < from->n; i++) {
		for (j = 0; j < into->n; j++)
			if (strcmp(into->v[j].k, from->v[i].k) == 0)
				break;
		if (j < into->n) {
			free(into->v[j].v);
			into->v[j].v = from->v[i].v;
			from->v[i].v = NULL;
			continue;
		}
		if (fc_params_add(into, from->v[i].k, strlen(from->v[i].k), from->v[i].v,
				  strlen(from->v[i].v)) < 0)
			return -1;
	}
	return 0;
}

static int parse_params(struct fc_req *r)
{
	struct fc_params body = { 0 };
	const char *ct = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, "Content-Type");
	int rc = -1;

	/* GET: '+' is a literal plus (reference §1.2 UIOT note). */
	if (fc_parse_urlencoded(&r->uparams, r->query, strlen(r->query), false) < 0)
		goto out;
	if (r->body_len && ct && strncasecmp(ct, "application/json", 16) == 0) {
		struct json_tokener *tok = json_tokener_new();
		json_object *o = NULL;

		if (tok) {
			o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
			if (json_tokener_get_error(tok) != json_tokener_success) {
				json_object_put(o);
				o = NULL;
			}
			json_tokener_free(tok);
		}
		if (o && json_object_is_type(o, json_type_object))
			rc = flatten(&body, NULL, o);
		json_object_put(o);
		if (rc < 0)
			goto out;
	} else if (r->body_len) {
		/* x-www-form-urlencoded (also the default for an untyped
		 * body): '+' means space there. */
		if (fc_parse_urlencoded(&body, r->body, r->body_len, true) < 0)
			goto out;
	}
	rc = merge(&r->uparams, &body);
out:
	fc_params_release(&body);
	return rc;
}

/* The log keeps the raw query, but never a PublicKey or Signature. */
static void redact_query(struct fc_req *r)
{
	/* Each redaction adds at most 8 bytes to a >= 10 byte pair. */
	char *out = malloc(strlen(r->query) * 2 + 1), *o = out;
	const char *p = r->query;

	if (!out)
		return;
	while (*p) {
		const char *e = strchr(p, '&');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (o != out)
			*o++ = '&';
		if ((n >= 10 && strncmp(p, "PublicKey=", 10) == 0) ||
		    (n >= 10 && strncmp(p, "Signature=", 10) == 0)) {
			memcpy(o, p, 10);
			memcpy(o + 10, "REDACTED", 8);
			o += 18;
		} else {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	*o = '\0';
	free(r->query);
	r->query = out;
}

void fc_uc_classify(struct fc_req *r)
{
	const char *a;
	size_t i;

	r->has_retcode = true;
	parse_params(r);
	r->params_log = json_object_new_object();
	for (i = 0; i < r->uparams.n; i++) {
		const char *k = r->uparams.v[i].k;
		bool secret = !strcmp(k, "PublicKey") || !strcmp(k, "Signature");

		json_object_object_add(r->params_log, k,
				       json_object_new_string(secret ? "REDACTED"
								     : r->uparams.v[i].v));
	}
	redact_query(r);
	a = fc_params_get(&r->uparams, "Action");
	snprintf(r->action, sizeof(r->action), "%s", a ? a : "");
	snprintf(r->op, sizeof(r->op), "%s", a && *a ? a : "unknown");
}

/* ------------------------------------------------------------ replies */

/* Start an envelope; 'with_action' is false for gateway-level errors. */
static json_object *envelope(struct fc_req *r, bool with_action, int retcode)
{
	json_object *o = json_object_new_object();
	char act[96];

	if (with_action && r->action[0]) {
		snprintf(act, sizeof(act), "%sResponse", r->action);
		json_object_object_add(o, "Action", json_object_new_string(act));
	}
	json_object_object_add(o, "RetCode", json_object_new_int(retcode));
	r->retcode = retcode;
	r->has_retcode = true;
	return o;
}

static void uc_send(struct fc_req *r, json_object *o)
{
	fc_reply_json(r, 200, o, UC_JSON);
}

static void uc_error(struct fc_req *r, bool with_action, int retcode, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void uc_error(struct fc_req *r, bool with_action, int retcode, const char *fmt, ...)
{
	json_object *o = envelope(r, with_action, retcode);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "Message", json_object_new_string(msg));
	uc_send(r, o);
}

void fc_uc_fault_status(struct fc_req *r, int status, int retry_after)
{
	char body[64], ra[24];

	snprintf(body, sizeof(body), "%d %s\n", status,
		 status == 429   ? "Too Many Requests"
		 : status == 502 ? "Bad Gateway"
		 : status == 503 ? "Service Unavailable"
		 : status == 504 ? "Gateway Timeout"
				 : "Error");
	fc_reply_raw(r, status, body, strlen(body), "text/plain");
	r->has_retcode = false;
	if (retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%d", retry_after);
		fc_hdr(r, "Retry-After", ra);
	}
}

void fc_uc_fault_retcode(struct fc_req *r, int retcode, int retry_after)
{
	char ra[24];

	uc_error(r, true, retcode, "%s",
		 retcode == 153   ? "API request throttled"
		 : retcode == 150 ? "Service temporarily unavailable"
				  : "Injected fault");
	if (retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%d", retry_after);
		fc_hdr(r, "Retry-After", ra);
	}
}

void fc_uc_retcode_as_string(struct fc_req *r)
{
	json_object *o, *rc;
	char buf[24];

	if (!r->resp_body)
		return;
	o = json_tokener_parse(r->resp_body);
	if (!o)
		return;
	if (json_object_object_get_ex(o, "RetCode", &rc)) {
		snprintf(buf, sizeof(buf), "%d", json_object_get_int(rc));
		json_object_object_add(o, "RetCode", json_object_new_string(buf));
	}
	fc_reply_json(r, r->status, o, UC_JSON);
}

/* ------------------------------------------------------------ helpers */

static const char *param(struct fc_req *r, const char *k)
{
	return fc_params_get(&r->uparams, k);
}

/* Check required parameters; answers 220 and returns false if missing. */
static bool require(struct fc_req *r, ...)
{
	va_list ap;
	const char *k;
	bool ok = true;

	va_start(ap, r);
	while ((k = va_arg(ap, const char *))) {
		const char *v = param(r, k);

		if (!v || !*v) {
			uc_error(r, true, 220, "Missing params [%s]", k);
			ok = false;
			break;
		}
	}
	va_end(ap);
	return ok;
}

/* Optional integer in [lo, hi]; answers 230 and returns false if bad. */
static bool int_param(struct fc_req *r, const char *k, long lo, long hi, long *out)
{
	const char *v = param(r, k);
	char *end;
	long n;

	if (!v)
		return true;
	n = strtol(v, &end, 10);
	if (!*v || *end || n < lo || n > hi) {
		uc_error(r, true, 230, "Params [%s] not available", k);
		return false;
	}
	*out = n;
	return true;
}

static bool vs_in_scope(const struct fc_uc_vserver *v, const char *project, const char *region)
{
	return strcmp(v->project_id, project) == 0 && strcmp(v->region, region) == 0;
}

static struct fc_uc_vserver *find_vs(const char *project, const char *region, const char *ulb,
				     const char *vsid)
{
	struct fc_uc_vserver *v = fc_uc_vserver_find(vsid);

	if (!v || !vs_in_scope(v, project, region) || (ulb && strcmp(v->ulb_id, ulb) != 0))
		return NULL;
	return v;
}

static bool ulb_exists(const char *project, const char *region, const char *ulb)
{
	size_t i;

	for (i = 0; i < fc_w.nvs; i++)
		if (vs_in_scope(&fc_w.vs[i], project, region) &&
		    strcmp(fc_w.vs[i].ulb_id, ulb) == 0)
			return true;
	return false;
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void add_int(json_object *o, const char *k, int v)
{
	json_object_object_add(o, k, json_object_new_int(v));
}

static json_object *backend_json(const struct fc_uc_backend *b)
{
	json_object *o = json_object_new_object();

	add_str(o, "BackendId", b->id);
	add_str(o, "ResourceType", b->resource_type);
	add_str(o, "ResourceId", b->resource_id);
	add_str(o, "ResourceName", b->resource_name);
	add_str(o, "SubResourceType", "");
	add_str(o, "SubResourceId", "");
	add_str(o, "SubResourceName", "");
	add_str(o, "PrivateIP", b->ip);
	add_int(o, "Port", b->port);
	add_int(o, "Enabled", b->enabled);
	add_int(o, "Status", 0);
	add_str(o, "SubnetId", b->subnet_id);
	add_int(o, "Weight", b->weight);
	add_str(o, "VPCId", b->vpc_id);
	return o;
}

static json_object *policy_backend_json(const struct fc_uc_backend *b)
{
	json_object *o = json_object_new_object();

	add_str(o, "BackendId", b->id);
	add_str(o, "ObjectId", b->resource_id);
	add_int(o, "Port", b->port);
	add_str(o, "PrivateIP", b->ip);
	add_str(o, "ResourceName", b->resource_name);
	add_str(o, "ResourceType", b->resource_type);
	add_str(o, "SubResourceId", "");
	add_str(o, "SubResourceName", "");
	add_str(o, "SubResourceType", "");
	return o;
}

static const struct fc_uc_backend *vs_backend(const struct fc_uc_vserver *v, const char *bid,
					      int64_t now)
{
	size_t i;

	for (i = 0; i < v->nb; i++)
		if (strcmp(v->b[i].id, bid) == 0 && fc_uc_backend_listed(&v->b[i], now))
			return &v->b[i];
	return NULL;
}

static json_object *vserver_json(const struct fc_uc_vserver *v, int64_t now)
{
	json_object *o = json_object_new_object(), *bs, *ps, *p, *pbs;
	size_t i, j;
	int listed = 0;
	char name[64];

	add_str(o, "VServerId", v->vserver_id);
	snprintf(name, sizeof(name), "%s-%d", v->protocol, v->frontend_port);
	add_str(o, "VServerName", name);
	add_str(o, "ULBId", v->ulb_id);
	add_str(o, "Protocol", v->protocol);
	add_int(o, "FrontendPort", v->frontend_port);
	add_str(o, "ListenType", "RequestProxy");
	add_str(o, "Method", "Roundrobin");
	add_str(o, "PersistenceType", "None");
	add_str(o, "PersistenceInfo", "");
	add_int(o, "ClientTimeout", 60);
	add_int(o, "Status", 0);
	add_str(o, "MonitorType", "Port");
	add_str(o, "Domain", "");
	add_str(o, "Path", "");
	add_str(o, "RequestMsg", "");
	add_str(o, "ResponseMsg", "");
	json_object_object_add(o, "SSLSet", json_object_new_array());
	bs = json_object_new_array();
	pbs = json_object_new_array();
	for (i = 0; i < v->nb; i++) {
		if (!fc_uc_backend_listed(&v->b[i], now))
			continue;
		json_object_array_add(bs, backend_json(&v->b[i]));
		json_object_array_add(pbs, policy_backend_json(&v->b[i]));
		listed++;
	}
	json_object_object_add(o, "BackendSet", bs);
	/* The Default policy mirrors every backend (reference §3.3). */
	ps = json_object_new_array();
	p = json_object_new_object();
	add_str(p, "PolicyId", "");
	add_str(p, "PolicyType", "Default");
	add_str(p, "Type", "");
	add_str(p, "Match", "");
	add_str(p, "DomainMatchMode", "");
	add_int(p, "PolicyPriority", 0);
	add_str(p, "VServerId", v->vserver_id);
	add_int(p, "TotalCount", listed);
	json_object_object_add(p, "BackendSet", pbs);
	json_object_array_add(ps, p);
	for (i = 0; i < v->np; i++) {
		const struct fc_uc_policy *cp = &v->p[i];

		p = json_object_new_object();
		pbs = json_object_new_array();
		add_str(p, "PolicyId", cp->id);
		add_str(p, "PolicyType", "Custom");
		add_str(p, "Type", cp->type);
		add_str(p, "Match", cp->match);
		add_str(p, "DomainMatchMode", cp->mode);
		add_int(p, "PolicyPriority", cp->priority);
		add_str(p, "VServerId", v->vserver_id);
		for (j = 0; j < cp->nb; j++) {
			const struct fc_uc_backend *b = vs_backend(v, cp->bids[j], now);

			if (b)
				json_object_array_add(pbs, policy_backend_json(b));
		}
		add_int(p, "TotalCount", (int)json_object_array_length(pbs));
		json_object_object_add(p, "BackendSet", pbs);
		json_object_array_add(ps, p);
	}
	json_object_object_add(o, "PolicySet", ps);
	add_int(o, "EnableCompression", 0);
	add_int(o, "ForwardPort", 0);
	add_int(o, "EnableHTTP2", 0);
	add_int(o, "CreateTime", 1715592615);
	return o;
}

/* Offset/Limit with defaults; false (and answered) when invalid. */
static bool paging(struct fc_req *r, long *off, long *lim)
{
	int page_max = fc_settings()->page_max;

	*off = 0;
	*lim = 20;
	if (!int_param(r, "Offset", 0, 1000000000, off) ||
	    !int_param(r, "Limit", 0, 1000000000, lim))
		return false;
	if (page_max > 0 && *lim > page_max)
		*lim = page_max;
	return true;
}

/* ------------------------------------------------------------ actions */

static void describe_vserver(struct fc_req *r, const char *proj, const char *reg)
{
	const char *ulb = param(r, "ULBId"), *vsid = param(r, "VServerId");
	json_object *o, *ds;
	long off, lim, total = 0, shown = 0;
	int64_t now = fc_now_ms();
	size_t i;

	if (!paging(r, &off, &lim))
		return;
	if (ulb && !ulb_exists(proj, reg, ulb))
		return uc_error(r, true, 4103, "ULB [%s] not found", ulb);
	if (vsid && !find_vs(proj, reg, ulb, vsid))
		return uc_error(r, true, 4103, "VServer [%s] not found", vsid);
	ds = json_object_new_array();
	for (i = 0; i < fc_w.nvs; i++) {
		struct fc_uc_vserver *v = &fc_w.vs[i];

		if (!vs_in_scope(v, proj, reg) || (ulb && strcmp(v->ulb_id, ulb)) ||
		    (vsid && strcmp(v->vserver_id, vsid)))
			continue;
		fc_uc_vserver_purge(v, now);
		if (total++ < off || shown >= lim)
			continue;
		json_object_array_add(ds, vserver_json(v, now));
		shown++;
	}
	o = envelope(r, true, 0);
	json_object_object_add(o, "TotalCount", json_object_new_int64(total));
	json_object_object_add(o, "DataSet", ds);
	uc_send(r, o);
}

static void describe_ulb(struct fc_req *r, const char *proj, const char *reg)
{
	const char *ulb = param(r, "ULBId");
	json_object *o, *ds, *u = NULL, *vss = NULL;
	long off, lim, total = 0;
	int64_t now = fc_now_ms();
	size_t i, j;

	if (!paging(r, &off, &lim))
		return;
	ds = json_object_new_array();
	for (i = 0; i < fc_w.nvs; i++) {
		const struct fc_uc_vserver *v = &fc_w.vs[i];
		bool first = true;

		if (!vs_in_scope(v, proj, reg) || (ulb && strcmp(v->ulb_id, ulb)))
			continue;
		/* One ULB per distinct ulb_id, in order of first appearance. */
		for (j = 0; j < i; j++)
			if (vs_in_scope(&fc_w.vs[j], proj, reg) &&
			    strcmp(fc_w.vs[j].ulb_id, v->ulb_id) == 0)
				first = false;
		if (!first)
			continue;
		if (total++ < off || (long)json_object_array_length(ds) >= lim)
			continue;
		u = json_object_new_object();
		add_str(u, "ULBId", v->ulb_id);
		add_str(u, "Name", v->ulb_id);
		add_str(u, "Tag", "Default");
		add_str(u, "Remark", "");
		add_int(u, "BandwidthType", 0);
		add_int(u, "Bandwidth", 0);
		add_int(u, "CreateTime", 1715592615);
		json_object_object_add(u, "IPSet", json_object_new_array());
		vss = json_object_new_array();
		for (j = i; j < fc_w.nvs; j++) {
			if (vs_in_scope(&fc_w.vs[j], proj, reg) &&
			    strcmp(fc_w.vs[j].ulb_id, v->ulb_id) == 0) {
				fc_uc_vserver_purge(&fc_w.vs[j], now);
				json_object_array_add(vss, vserver_json(&fc_w.vs[j], now));
			}
		}
		json_object_object_add(u, "VServerSet", vss);
		add_str(u, "ULBType", "InnerMode");
		add_str(u, "IPVersion", "IPv4");
		json_object_object_add(u, "SnatIps", json_object_new_array());
		add_str(u, "ListenType", "RequestProxy");
		add_str(u, "VPCId", "uvnet-fake0001");
		add_str(u, "SubnetId", "subnet-fake0001");
		add_str(u, "BusinessId", "");
		add_str(u, "PrivateIP", "10.9.0.1");
		json_object_object_add(u, "FirewallSet", json_object_new_array());
		add_int(u, "EnableLog", 0);
		json_object_object_add(u, "LogSet", json_object_new_object());
		json_object_array_add(ds, u);
	}
	o = envelope(r, true, 0);
	json_object_object_add(o, "TotalCount", json_object_new_int64(total));
	json_object_object_add(o, "DataSet", ds);
	uc_send(r, o);
}

/* A stable private IP for a resource we know nothing about. */
static void derive_ip(const char *rid, char *buf, size_t len)
{
	unsigned long h = 5381;
	size_t i, j;

	for (i = 0; i < fc_w.nvs; i++)
		for (j = 0; j < fc_w.vs[i].nb; j++)
			if (strcmp(fc_w.vs[i].b[j].resource_id, rid) == 0) {
				snprintf(buf, len, "%s", fc_w.vs[i].b[j].ip);
				return;
			}
	for (; *rid; rid++)
		h = h * 33 + (unsigned char)*rid;
	snprintf(buf, len, "10.%lu.%lu.%lu", (h >> 16) & 255, (h >> 8) & 255, (h & 253) + 1);
}

static void allocate_backend(struct fc_req *r, const char *proj, const char *reg)
{
	static const char *const types[] = { "UHost", "UNI", "UPM", "UHybrid", "CUBE", "IP" };
	const char *rtype = param(r, "ResourceType");
	const char *rid = param(r, "ResourceId"), *rip = param(r, "ResourceIP");
	struct fc_uc_vserver *v;
	struct fc_uc_backend *b;
	long port = 80, weight = 1, enabled = 1, backup = 0;
	unsigned char ipbuf[16];
	char ip[64];
	json_object *o;
	size_t i;
	bool ok = false;

	if (!require(r, "ULBId", "VServerId", (const char *)NULL))
		return;
	if (!rtype || !*rtype)
		rtype = "UHost";
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(rtype, types[i]) == 0)
			ok = true;
	if (!ok)
		return uc_error(r, true, 230,
				"Params [ResourceType] not "
				"available");
	/* An IP (or UHybrid) backend is named by its address, and needs
	 * the VPC and subnet it lives in (reference §3.4). */
	if ((!rid || !*rid) && (!rip || !*rip))
		return uc_error(r, true, 220, "Missing params [ResourceId]");
	if ((strcmp(rtype, "IP") == 0 || strcmp(rtype, "UHybrid") == 0) &&
	    !require(r, "ResourceIP", "VPCId", "SubnetId", (const char *)NULL))
		return;
	if (rip && *rip && inet_pton(AF_INET, rip, ipbuf) != 1)
		return uc_error(r, true, 230, "Params [ResourceIP] not available");
	if (!int_param(r, "Port", 1, 65535, &port) || !int_param(r, "Weight", 1, 100, &weight) ||
	    !int_param(r, "Enabled", 0, 1, &enabled) || !int_param(r, "IsBackup", 0, 1, &backup))
		return;
	v = find_vs(proj, reg, param(r, "ULBId"), param(r, "VServerId"));
	if (!v)
		return uc_error(r, true, 4103, "VServer [%s] not found", param(r, "VServerId"));
	if (rip && *rip)
		snprintf(ip, sizeof(ip), "%s", rip);
	else
		derive_ip(rid, ip, sizeof(ip));
	/* The same resource (or address) on the same port is there. */
	for (i = 0; i < v->nb; i++)
		if (v->b[i].gone_at_ms < 0 && v->b[i].port == port &&
		    (strcmp(v->b[i].ip, ip) == 0 ||
		     (rid && *rid && strcmp(v->b[i].resource_id, rid) == 0)))
			return uc_error(r, true, 4109,
					"host %s:%ld already in "
					"the VServer",
					ip, port);
	/* An IP backend's resource is its address. */
	b = fc_uc_backend_add(v, NULL, ip, (int)port, (int)enabled, (int)weight,
			      rid && *rid                ? rid
			      : strcmp(rtype, "IP") == 0 ? ip
							 : NULL);
	if (!b)
		return uc_error(r, true, 4090, "create backend failed");
	if (strcmp(rtype, "UHost") != 0) {
		free(b->resource_type);
		b->resource_type = strdup(rtype);
	}
	if (param(r, "VPCId") && *param(r, "VPCId")) {
		free(b->vpc_id);
		b->vpc_id = strdup(param(r, "VPCId"));
	}
	if (param(r, "SubnetId") && *param(r, "SubnetId")) {
		free(b->subnet_id);
		b->subnet_id = strdup(param(r, "SubnetId"));
	}
	if (!b->resource_type || !b->vpc_id || !b->subnet_id) {
		fc_uc_backend_remove(v, b);
		return uc_error(r, true, 4090, "create backend failed");
	}
	r->applied = true;
	o = envelope(r, true, 0);
	add_str(o, "BackendId", b->id);
	uc_send(r, o);
}

/* Find a live backend of a ULB, answering not-found itself. */
static struct fc_uc_backend *live_backend(struct fc_req *r, const char *proj, const char *reg,
					  struct fc_uc_vserver **vout)
{
	const char *ulb = param(r, "ULBId"), *bid = param(r, "BackendId");
	struct fc_uc_backend *b;

	if (!ulb_exists(proj, reg, ulb)) {
		uc_error(r, true, 4103, "ULB [%s] not found", ulb);
		return NULL;
	}
	b = fc_uc_backend_find(proj, ulb, bid, vout);
	if (!b || b->gone_at_ms >= 0) {
		uc_error(r, true, fc_settings()->not_found_retcode, "Backend [%s] not exists", bid);
		return NULL;
	}
	return b;
}

static void release_backend(struct fc_req *r, const char *proj, const char *reg)
{
	struct fc_uc_vserver *v = NULL;
	struct fc_uc_backend *b;

	if (!require(r, "ULBId", "BackendId", (const char *)NULL))
		return;
	b = live_backend(r, proj, reg, &v);
	if (!b)
		return;
	/* Only Custom policies block a release; the Default one follows
	 * the backends by itself (reference §3.9, an assumption). */
	if (fc_uc_backend_in_policy(v, b->id))
		return uc_error(r, true, fc_settings()->release_blocked_retcode,
				"Backend [%s] is referenced by a content "
				"forwarding policy; remove it from the policy "
				"first",
				b->id);
	fc_uc_backend_remove(v, b);
	r->applied = true;
	uc_send(r, envelope(r, true, 0));
}

static void update_backend(struct fc_req *r, const char *proj, const char *reg)
{
	struct fc_uc_vserver *v = NULL;
	struct fc_uc_backend *b;
	long port = -1, weight = -1, enabled = -1, backup = -1;

	if (!require(r, "ULBId", "BackendId", (const char *)NULL))
		return;
	if (!int_param(r, "Port", 1, 65535, &port) || !int_param(r, "Weight", 1, 100, &weight) ||
	    !int_param(r, "Enabled", 0, 1, &enabled) || !int_param(r, "IsBackup", 0, 1, &backup))
		return;
	b = live_backend(r, proj, reg, &v);
	if (!b)
		return;
	if (port >= 0)
		b->port = (int)port;
	if (weight >= 0)
		b->weight = (int)weight;
	if (enabled >= 0)
		b->enabled = (int)enabled;
	r->applied = true;
	uc_send(r, envelope(r, true, 0));
}

static int idx_cmp(const void *a, const void *b)
{
	const long *x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

/*
 * Collect BackendId.N (ordered by N) into a new array; every id must be a
 * live backend of 'v'.  Returns the count, or -1 after answering.
 */
static long collect_bids(struct fc_req *r, const struct fc_uc_vserver *v, char ***out)
{
	long(*pairs)[2] = NULL, n = 0, i;
	char **ids = NULL, *end;
	size_t k;
	int64_t now = fc_now_ms();

	*out = NULL;
	pairs = calloc(r->uparams.n + 1, sizeof(*pairs));
	if (!pairs)
		goto oom;
	for (k = 0; k < r->uparams.n; k++) {
		const char *key = r->uparams.v[k].k;
		long idx;

		if (strncmp(key, "BackendId.", 10) != 0 || !key[10])
			continue;
		idx = strtol(key + 10, &end, 10);
		if (*end || idx < 0) {
			uc_error(r, true, 230, "Params [%s] not available", key);
			goto fail;
		}
		pairs[n][0] = idx;
		pairs[n][1] = (long)k;
		n++;
	}
	qsort(pairs, (size_t)n, sizeof(*pairs), idx_cmp);
	ids = calloc((size_t)n + 1, sizeof(*ids));
	if (!ids)
		goto oom;
	for (i = 0; i < n; i++) {
		const char *bid = r->uparams.v[pairs[i][1]].v;
		const struct fc_uc_backend *b = vs_backend(v, bid, now);

		if (!b || b->gone_at_ms >= 0) {
			uc_error(r, true, fc_settings()->not_found_retcode,
				 "Backend [%s] not exists", bid);
			goto fail;
		}
		ids[i] = strdup(bid);
		if (!ids[i])
			goto oom;
	}
	free(pairs);
	*out = ids;
	return n;
oom:
	uc_error(r, true, 4999, "operation failed");
fail:
	for (i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
	free(pairs);
	return -1;
}

static bool valid_type(const char *t, bool allow_default)
{
	return !strcmp(t, "Domain") || !strcmp(t, "Path") ||
	       (allow_default && !strcmp(t, "Default"));
}

static bool valid_mode(const char *m)
{
	return !strcmp(m, "Regular") || !strcmp(m, "Wildcard");
}

static void update_policy(struct fc_req *r, const char *proj, const char *reg)
{
	const char *type = param(r, "Type"), *pid = param(r, "PolicyId");
	const char *mode = param(r, "DomainMatchMode");
	struct fc_uc_vserver *v;
	struct fc_uc_policy *p = NULL;
	long prio = -1, n;
	char **ids, *nm, *nt, *nmode = NULL;
	size_t i;

	if (!require(r, "ULBId", "VServerId", "Match", (const char *)NULL))
		return;
	/* An absent Type means Domain (reference §3.9). */
	if (!type || !*type)
		type = "Domain";
	if (!valid_type(type, true))
		return uc_error(r, true, 230, "Params [Type] not available");
	if (mode && !valid_mode(mode))
		return uc_error(r, true, 230,
				"Params [DomainMatchMode] not "
				"available");
	if (!int_param(r, "PolicyPriority", 1, 9999, &prio))
		return;
	v = find_vs(proj, reg, param(r, "ULBId"), param(r, "VServerId"));
	if (!v)
		return uc_error(r, true, 4103, "VServer [%s] not found", param(r, "VServerId"));
	if (strcmp(type, "Default") == 0) {
		/* The default rule always follows the VServer's backends. */
		uc_send(r, envelope(r, true, 0));
		return;
	}
	if (!pid || !*pid)
		return uc_error(r, true, 220, "Missing params [PolicyId]");
	for (i = 0; i < v->np; i++)
		if (strcmp(v->p[i].id, pid) == 0)
			p = &v->p[i];
	if (!p)
		return uc_error(r, true, 4096, "Policy [%s] not found", pid);
	n = collect_bids(r, v, &ids);
	if (n < 0)
		return;
	nm = strdup(param(r, "Match"));
	nt = strdup(type);
	if (mode)
		nmode = strdup(mode);
	if (!nm || !nt || (mode && !nmode)) {
		free(nm);
		free(nt);
		free(nmode);
		for (i = 0; i < (size_t)n; i++)
			free(ids[i]);
		free(ids);
		return uc_error(r, true, 4999, "operation failed");
	}
	for (i = 0; i < p->nb; i++)
		free(p->bids[i]);
	free(p->bids);
	p->bids = ids;
	p->nb = (size_t)n;
	free(p->match);
	p->match = nm;
	free(p->type);
	p->type = nt;
	if (nmode) {
		free(p->mode);
		p->mode = nmode;
	}
	if (prio >= 0)
		p->priority = (int)prio;
	r->applied = true;
	uc_send(r, envelope(r, true, 0));
}

static void create_policy(struct fc_req *r, const char *proj, const char *reg)
{
	const char *type = param(r, "Type");
	const char *mode = param(r, "DomainMatchMode");
	struct fc_uc_vserver *v;
	struct fc_uc_policy np = { 0 }, *slot;
	long prio = 0, n;
	char rnd[9], id[32];
	json_object *o;

	if (!require(r, "ULBId", "VServerId", "Match", (const char *)NULL))
		return;
	if (!type || !*type)
		type = "Domain";
	if (!valid_type(type, false))
		return uc_error(r, true, 230, "Params [Type] not available");
	if (mode && !valid_mode(mode))
		return uc_error(r, true, 230,
				"Params [DomainMatchMode] not "
				"available");
	if (!int_param(r, "PolicyPriority", 1, 9999, &prio))
		return;
	v = find_vs(proj, reg, param(r, "ULBId"), param(r, "VServerId"));
	if (!v)
		return uc_error(r, true, 4103, "VServer [%s] not found", param(r, "VServerId"));
	if (strcmp(v->protocol, "HTTP") && strcmp(v->protocol, "HTTPS"))
		return uc_error(r, true, 4116,
				"TCP/UDP VServers do not "
				"support forwarding policies");
	n = collect_bids(r, v, &np.bids);
	if (n < 0)
		return;
	if (n == 0) {
		free(np.bids);
		return uc_error(r, true, 4077,
				"cannot add a forwarding policy "
				"without backends");
	}
	np.nb = (size_t)n;
	fc_rand_alnum(rnd, 8);
	snprintf(id, sizeof(id), "policy-%s", rnd);
	np.id = strdup(id);
	np.type = strdup(type);
	np.match = strdup(param(r, "Match"));
	np.mode = strdup(mode ? mode : "Regular");
	np.priority = (int)prio;
	if (v->np == v->capp) {
		size_t cap = v->capp ? v->capp * 2 : 4;
		struct fc_uc_policy *nps = realloc(v->p, cap * sizeof(*nps));

		if (!nps)
			goto oom;
		v->p = nps;
		v->capp = cap;
	}
	if (!np.id || !np.type || !np.match || !np.mode)
		goto oom;
	slot = &v->p[v->np++];
	*slot = np;
	r->applied = true;
	o = envelope(r, true, 0);
	add_str(o, "PolicyId", slot->id);
	uc_send(r, o);
	return;
oom:
	while (np.nb)
		free(np.bids[--np.nb]);
	free(np.bids);
	free(np.id);
	free(np.type);
	free(np.match);
	free(np.mode);
	uc_error(r, true, 4999, "operation failed");
}

static void delete_policy(struct fc_req *r, const char *proj, const char *reg)
{
	const char *pid = param(r, "PolicyId"), *vsid = param(r, "VServerId");
	size_t i, j, k;

	if (!require(r, "PolicyId", (const char *)NULL))
		return;
	for (i = 0; i < fc_w.nvs; i++) {
		struct fc_uc_vserver *v = &fc_w.vs[i];

		if (!vs_in_scope(v, proj, reg) || (vsid && *vsid && strcmp(v->vserver_id, vsid)))
			continue;
		for (j = 0; j < v->np; j++) {
			struct fc_uc_policy *p = &v->p[j];

			if (strcmp(p->id, pid) != 0)
				continue;
			for (k = 0; k < p->nb; k++)
				free(p->bids[k]);
			free(p->bids);
			free(p->id);
			free(p->type);
			free(p->match);
			free(p->mode);
			memmove(p, p + 1, (v->np - j - 1) * sizeof(*p));
			v->np--;
			r->applied = true;
			uc_send(r, envelope(r, true, 0));
			return;
		}
	}
	uc_error(r, true, 4096, "Policy [%s] not found", pid);
}

/* ------------------------------------------------------------ execute */

static const struct {
	const char *name;
	void (*fn)(struct fc_req *r, const char *proj, const char *reg);
} actions[] = {
	{ "DescribeULB", describe_ulb },
	{ "DescribeVServer", describe_vserver },
	{ "AllocateBackend", allocate_backend },
	{ "ReleaseBackend", release_backend },
	{ "UpdateBackendAttribute", update_backend },
	{ "UpdatePolicy", update_policy },
	{ "CreatePolicy", create_policy },
	{ "DeletePolicy", delete_policy },
};

/* SHA-1 over sorted name+value pairs plus the private key (§2.1). */
static int signature(struct fc_req *r, const char *priv, char *hex)
{
	struct fc_params sorted = { 0 };
	char *buf = NULL;
	size_t i, len = strlen(priv) + 1, off = 0;
	int rc = -1;

	for (i = 0; i < r->uparams.n; i++) {
		if (strcmp(r->uparams.v[i].k, "Signature") == 0)
			continue;
		if (fc_params_add(&sorted, r->uparams.v[i].k, strlen(r->uparams.v[i].k),
				  r->uparams.v[i].v, strlen(r->uparams.v[i].v)) < 0)
			goto out;
	}
	fc_params_sort(&sorted);
	for (i = 0; i < sorted.n; i++)
		len += strlen(sorted.v[i].k) + strlen(sorted.v[i].v);
	buf = malloc(len);
	if (!buf)
		goto out;
	for (i = 0; i < sorted.n; i++) {
		size_t kl = strlen(sorted.v[i].k), vl = strlen(sorted.v[i].v);

		memcpy(buf + off, sorted.v[i].k, kl);
		off += kl;
		memcpy(buf + off, sorted.v[i].v, vl);
		off += vl;
	}
	memcpy(buf + off, priv, strlen(priv));
	off += strlen(priv);
	fc_sha1_hex(buf, off, hex);
	rc = 0;
out:
	if (buf)
		OPENSSL_cleanse(buf, len);
	free(buf);
	fc_params_release(&sorted);
	return rc;
}

void fc_uc_execute(struct fc_req *r)
{
	const char *sig = param(r, "Signature"), *pub = param(r, "PublicKey");
	const char *proj = param(r, "ProjectId"), *reg = param(r, "Region");
	struct fc_uc_account *a = NULL;
	char want[41];
	size_t i;

	fc_world_lock();
	if (!r->action[0]) {
		uc_error(r, false, 160, "Missing Action");
		goto out;
	}
	if (!sig || !*sig) {
		uc_error(r, false, 170, "Missing Signature");
		r->auth = "none";
		goto out;
	}
	for (i = 0; pub && i < fc_w.nuca; i++)
		if (strcmp(fc_w.uca[i].pub, pub) == 0)
			a = &fc_w.uca[i];
	if (!a) {
		r->auth = "bad";
		uc_error(r, false, 172, "User Not Exists");
		goto out;
	}
	if (signature(r, a->priv, want) < 0 || strlen(sig) != 40 ||
	    CRYPTO_memcmp(want, sig, 40) != 0) {
		r->auth = "bad";
		uc_error(r, false, 171, "Signature VerifyAC Error");
		goto out;
	}
	r->auth = "aksk";
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, r->action) == 0)
			break;
	if (i == sizeof(actions) / sizeof(actions[0])) {
		uc_error(r, false, 161, "Action [%s] not found", r->action);
		goto out;
	}
	/* No ProjectId = the account's default project. */
	if (!proj || !*proj)
		proj = a->project_id;
	else if (a->project_id[0] && strcmp(proj, a->project_id) != 0) {
		uc_error(r, true, 292, "Project [%s] not exists", proj);
		goto out;
	}
	if (!require(r, "Region", (const char *)NULL))
		goto out;
	actions[i].fn(r, proj, reg);
out:
	fc_world_unlock();
}
