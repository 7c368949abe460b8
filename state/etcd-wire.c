/*
 * etcd's v3 JSON gateway (POST /v3/...; keys and values base64, int64 as
 * strings), spoken through the HTTP client the agent installs with
 * lbr_state_set_io(): state/ has no HTTP code of its own, so TLS, the
 * ca_file, connection reuse and letting other tasks run while waiting are
 * the agent's.
 *
 * Endpoints are tried in order for each call until one answers; an answer
 * (even an HTTP error) is final.  An answer that is not etcd's (not JSON,
 * or without the "header" every etcd answer carries) is a protocol error,
 * never read as "no such key".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "state/etcd-int.h"

#define MAX_ANSWER (64u << 20)

static struct lbr_state_io io;

void lbr_state_set_io(const struct lbr_state_io *newio)
{
	if (newio)
		io = *newio;
	else
		memset(&io, 0, sizeof(io));
}

/* etcd's gRPC status NotFound (a lease that is gone). */
#define GRPC_NOT_FOUND 5

/* Turn one HTTP answer into *resp or an error. */
static int answer(const char *ep, const char *api, const struct lbr_http_response *rs,
		  json_object **resp, char *err, size_t errlen)
{
	struct json_tokener *tok;
	json_object *o = NULL, *v, *m = NULL;
	char raw[96];
	int64_t code = 0;
	int r = LBR_ECORRUPT;

	*resp = NULL;
	if (rs->body && rs->body_len && rs->body_len <= MAX_ANSWER) {
		tok = json_tokener_new();
		if (!tok)
			return LBR_ENOMEM;
		o = json_tokener_parse_ex(tok, rs->body, (int)rs->body_len);
		json_tokener_free(tok);
	}
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	/* Errors: {"error": "...", "code": N, "message": "..."} with an HTTP
	 * error status, or {"error": {"grpc_code": N, "message": ...}} with
	 * 200 from the streaming lease keepalive. */
	if (o && json_object_object_get_ex(o, "error", &v)) {
		if (json_object_is_type(v, json_type_object)) {
			code = lbr_etcd_jint(v, "grpc_code");
			json_object_object_get_ex(v, "message", &m);
		} else {
			code = lbr_etcd_jint(o, "code");
			if (!json_object_object_get_ex(o, "message", &m))
				m = v;
		}
		lbr_state_seterr(err, errlen,
				 "state: etcd %s: /v3/%s failed "
				 "(HTTP %ld: %.200s)",
				 ep, api, rs->status, m ? json_object_get_string(m) : "?");
		r = code == GRPC_NOT_FOUND ? LBR_ENOENT : LBR_EIO;
		goto out;
	}
	if (rs->status != 200) {
		lbr_state_quote_raw(rs->body ? rs->body : "", rs->body ? rs->body_len : 0, 60, raw,
				    sizeof(raw));
		lbr_state_seterr(err, errlen,
				 "state: etcd %s: HTTP %ld from "
				 "/v3/%s (%s)",
				 ep, rs->status, api, raw);
		r = LBR_EIO;
		goto out;
	}
	if (o && json_object_object_get_ex(o, "result", &v) &&
	    json_object_is_type(v, json_type_object)) {
		json_object_get(v);
		json_object_put(o);
		o = v;
	}
	if (!o || !json_object_object_get_ex(o, "header", &v) ||
	    !json_object_is_type(v, json_type_object)) {
		lbr_state_quote_raw(rs->body ? rs->body : "", rs->body ? rs->body_len : 0, 60, raw,
				    sizeof(raw));
		lbr_state_seterr(err, errlen,
				 "state: etcd %s: the answer of "
				 "/v3/%s is not etcd's (%s: '%s')",
				 ep, api, o ? "no etcd header" : "not JSON", raw);
		r = LBR_ECORRUPT;
		goto out;
	}
	*resp = o;
	o = NULL;
	r = 0;
out:
	json_object_put(o);
	return r;
}

int lbr_etcd_call(struct etcd_store *e, const char *api, json_object *req, json_object **resp,
		  char *err, size_t errlen)
{
	static const char *const headers[] = { "Content-Type: application/json", NULL };
	struct lbr_http_request rq = { 0 };
	const char *text;
	char url[600];
	size_t i;
	int r = LBR_EIO;

	*resp = NULL;
	if (!io.http) {
		lbr_state_seterr(err, errlen,
				 "state: etcd: no HTTP client "
				 "installed (lbr_state_set_io)");
		return LBR_EIO;
	}
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (!text)
		return LBR_ENOMEM;
	rq.method = "POST";
	rq.url = url;
	rq.headers = headers;
	rq.body = text;
	rq.body_len = strlen(text);
	for (i = 0; i < e->n_endpoints; i++) {
		struct lbr_http_response rs = { 0 };
		char terr[256] = "";

		snprintf(url, sizeof(url), "%s://%s/v3/%s", io.ca_file ? "https" : "http",
			 e->endpoints[i], api);
		if (io.http(io.ud, &rq, &rs, terr, sizeof(terr)) < 0) {
			lbr_state_seterr(err, errlen, "state: etcd %s: %s", e->endpoints[i],
					 terr[0] ? terr : "no answer");
			r = LBR_EIO;
			continue;
		}
		r = answer(e->endpoints[i], api, &rs, resp, err, errlen);
		if (io.release)
			io.release(io.ud, &rs);
		break;
	}
	return r;
}

static char *b64(const char *s, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static char *unb64(const char *s, size_t *outlen)
{
	size_t n = strlen(s), pad = 0;
	char *out = malloc(3 * (n / 4) + 1);
	int r;

	if (!out)
		return NULL;
	if (n % 4) {
		free(out);
		return NULL;
	}
	r = n ? EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n) : 0;
	if (r < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
		pad++;
	*outlen = (size_t)r - pad;
	out[*outlen] = '\0';
	return out;
}

int64_t lbr_etcd_jint(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) || !v)
		return 0;
	if (json_object_is_type(v, json_type_string))
		return strtoll(json_object_get_string(v), NULL, 10);
	return json_object_get_int64(v);
}

json_object *lbr_etcd_i64(int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_object_new_string(buf);
}

json_object *lbr_etcd_kv_obj(const char *key, const char *val, size_t vlen)
{
	json_object *o = json_object_new_object();
	char *k = b64(key, strlen(key)), *v = val ? b64(val, vlen) : NULL;

	if (!o || !k || (val && !v)) {
		json_object_put(o);
		o = NULL;
	} else {
		json_object_object_add(o, "key", json_object_new_string(k));
		if (v)
			json_object_object_add(o, "value", json_object_new_string(v));
	}
	free(k);
	free(v);
	return o;
}

json_object *lbr_etcd_op(const char *type, json_object *inner)
{
	json_object *a = json_object_new_array(), *o = json_object_new_object();

	if (!a || !o || !inner) {
		json_object_put(a);
		json_object_put(o);
		json_object_put(inner);
		return NULL;
	}
	json_object_object_add(o, type, inner);
	json_object_array_add(a, o);
	return a;
}

json_object *lbr_etcd_cmp_create(const char *key, int64_t rev)
{
	json_object *o = lbr_etcd_kv_obj(key, NULL, 0), *a = json_object_new_array();

	if (!o || !a) {
		json_object_put(o);
		json_object_put(a);
		return NULL;
	}
	json_object_object_add(o, "target", json_object_new_string("CREATE"));
	json_object_object_add(o, "result", json_object_new_string("EQUAL"));
	json_object_object_add(o, "create_revision", lbr_etcd_i64(rev));
	json_object_array_add(a, o);
	return a;
}

void lbr_etcd_kv_release(struct etcd_kv *kv)
{
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

int lbr_etcd_kv_from(json_object *range, struct etcd_kv *kv)
{
	json_object *kvs, *k0, *v;

	memset(kv, 0, sizeof(*kv));
	/* etcd leaves "kvs" out for no key; anything else that is not an
	 * array of objects is not etcd talking, and never reads as absent. */
	if (!range || !json_object_object_get_ex(range, "kvs", &kvs))
		return 0;
	if (!json_object_is_type(kvs, json_type_array))
		return LBR_ECORRUPT;
	if (json_object_array_length(kvs) == 0)
		return 0;
	k0 = json_object_array_get_idx(kvs, 0);
	if (!json_object_is_type(k0, json_type_object))
		return LBR_ECORRUPT;
	kv->found = 1;
	kv->create_rev = lbr_etcd_jint(k0, "create_revision");
	kv->lease = lbr_etcd_jint(k0, "lease");
	if (json_object_object_get_ex(k0, "value", &v) && json_object_is_type(v, json_type_string))
		kv->value = unb64(json_object_get_string(v), &kv->len);
	else
		kv->value = strdup("");
	if (!kv->value) {
		kv->found = 0;
		return LBR_ECORRUPT;
	}
	return 0;
}

int lbr_etcd_get(struct etcd_store *e, const char *key, struct etcd_kv *kv, char *err,
		 size_t errlen)
{
	json_object *req = lbr_etcd_kv_obj(key, NULL, 0), *resp = NULL;
	int r;

	memset(kv, 0, sizeof(*kv));
	if (!req)
		return LBR_ENOMEM;
	r = lbr_etcd_call(e, "kv/range", req, &resp, err, errlen);
	/* A range never fails with NotFound (a missing key is an empty
	 * answer): such an error is etcd in trouble, not "no key". */
	if (r == LBR_ENOENT)
		r = LBR_EIO;
	if (r == 0) {
		r = lbr_etcd_kv_from(resp, kv);
		if (r < 0)
			lbr_state_seterr(err, errlen,
					 "state: etcd returned an "
					 "undecodable answer for '%s'",
					 key);
	}
	json_object_put(req);
	json_object_put(resp);
	return r;
}

int lbr_etcd_put(struct etcd_store *e, const char *key, const char *val, size_t len, char *err,
		 size_t errlen)
{
	json_object *req = lbr_etcd_kv_obj(key, val, len), *resp = NULL;
	int r;

	if (!req)
		return LBR_ENOMEM;
	r = lbr_etcd_call(e, "kv/put", req, &resp, err, errlen);
	json_object_put(req);
	json_object_put(resp);
	return r;
}

int lbr_etcd_txn(struct etcd_store *e, json_object *compare, json_object *success,
		 json_object *failure, int *ok, json_object **resp_out, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *resp = NULL, *v;
	int r;

	*ok = 0;
	if (resp_out)
		*resp_out = NULL;
	if (!req || !compare || !success) {
		json_object_put(req);
		json_object_put(compare);
		json_object_put(success);
		json_object_put(failure);
		return LBR_ENOMEM;
	}
	json_object_object_add(req, "compare", compare);
	json_object_object_add(req, "success", success);
	if (failure)
		json_object_object_add(req, "failure", failure);
	r = lbr_etcd_call(e, "kv/txn", req, &resp, err, errlen);
	json_object_put(req);
	if (r < 0)
		return r;
	/* etcd writes a JSON true, or leaves the field out: nothing else
	 * counts as success. */
	*ok = json_object_object_get_ex(resp, "succeeded", &v) &&
	      json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
	if (resp_out)
		*resp_out = resp;
	else
		json_object_put(resp);
	return 0;
}

void lbr_etcd_clear_cmd(const struct etcd_store *e, char *buf, size_t n)
{
	size_t i, o;

	o = (size_t)snprintf(buf, n, "etcdctl --endpoints=");
	for (i = 0; i < e->n_endpoints && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%s://%s", i ? "," : "",
				      io.ca_file ? "https" : "http", e->endpoints[i]);
	if (io.ca_file && o < n)
		o += (size_t)snprintf(buf + o, n - o, " --cacert='%s'", io.ca_file);
	if (o < n)
		snprintf(buf + o, n - o, " del '%s'", e->k_lock);
}

/* ---- location -------------------------------------------------------- */

/* Check one HOST:PORT (HOST may be [IPv6]).  0 or -1. */
static int check_endpoint(const char *s, size_t len)
{
	const char *colon;
	size_t hostlen, i;
	unsigned long port = 0;

	if (len == 0)
		return -1;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close || close == s + 1 || close + 1 >= s + len || close[1] != ':')
			return -1;
		for (i = 1; s + i < close; i++)
			if (!strchr("0123456789abcdefABCDEF:.", s[i]))
				return -1;
		colon = close + 1;
	} else {
		colon = NULL;
		for (i = 0; i < len; i++) {
			if (s[i] == ':') {
				colon = s + i;
				break;
			}
			if (!strchr("abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-",
				    s[i]))
				return -1;
		}
		if (!colon || colon == s)
			return -1;
	}
	hostlen = (size_t)(colon - s);
	if (hostlen + 1 >= len || len - hostlen - 1 > 5)
		return -1;
	for (i = hostlen + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	return port >= 1 && port <= 65535 ? 0 : -1;
}

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s/%s", a, b);
	return s;
}

int lbr_etcd_parse_spec(struct etcd_store *e, const char *spec, char *err, size_t errlen)
{
	const char *hosts = spec + strlen("etcd://"), *slash, *p, *comma;
	char prefix[512];
	size_t i;

	slash = strchr(hosts, '/');
	if (!slash || slash == hosts || !slash[1]) {
		lbr_state_seterr(err, errlen,
				 "state: invalid etcd location "
				 "'%s' (expected etcd://HOST:PORT[,HOST:PORT]"
				 "/PREFIX)",
				 spec);
		return LBR_EINVAL;
	}
	for (p = hosts; p <= slash; p = comma + 1) {
		comma = memchr(p, ',', (size_t)(slash - p));
		if (!comma)
			comma = slash;
		if (check_endpoint(p, (size_t)(comma - p)) < 0) {
			lbr_state_seterr(err, errlen,
					 "state: invalid etcd "
					 "endpoint '%.*s' in '%s' (expected "
					 "HOST:PORT, port 1-65535)",
					 (int)(comma - p), p, spec);
			return LBR_EINVAL;
		}
	}
	for (i = 1; slash[i]; i++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/",
			    slash[i]) ||
		    i >= sizeof(prefix) - 1) {
			lbr_state_seterr(err, errlen,
					 "state: invalid etcd "
					 "prefix '%s' in '%s'",
					 slash + 1, spec);
			return LBR_EINVAL;
		}
	}
	snprintf(prefix, sizeof(prefix), "%s", slash + 1);
	/* "a/b/" and "a/b" name the same place. */
	while (strlen(prefix) > 1 && prefix[strlen(prefix) - 1] == '/')
		prefix[strlen(prefix) - 1] = '\0';

	e->endpoints = calloc((size_t)(slash - hosts) + 1, sizeof(char *));
	if (!e->endpoints)
		return LBR_ENOMEM;
	for (p = hosts; p <= slash; p = comma + 1) {
		comma = memchr(p, ',', (size_t)(slash - p));
		if (!comma)
			comma = slash;
		e->endpoints[e->n_endpoints] = strndup(p, (size_t)(comma - p));
		if (!e->endpoints[e->n_endpoints++])
			return LBR_ENOMEM;
	}
	e->prefix = strdup(prefix);
	e->k_lock = join(prefix, "lock");
	e->k_state = join(prefix, "state");
	e->k_backup = join(prefix, "state.backup");
	e->k_audit = join(prefix, "audit");
	e->state_name = join(spec, "state");
	if (!e->prefix || !e->k_lock || !e->k_state || !e->k_backup || !e->k_audit ||
	    !e->state_name)
		return LBR_ENOMEM;
	return 0;
}
