/*
 * The etcd v3 backend (state = etcd://HOST:PORT[,HOST:PORT]/PREFIX), spoken
 * over etcd's JSON gateway (POST /v3/...; keys and values base64).
 *
 *   PREFIX/state         the document (same JSON as the local file)
 *   PREFIX/state.backup  the previous document, written in the same txn
 *   PREFIX/lock          the lock info, created only if absent
 *                        (create_revision == 0) and bound to a lease of
 *                        LEASE_TTL seconds that a thread keeps alive
 *   PREFIX/audit/NNN     one audit record per key
 *
 * Fencing: every write of PREFIX/state is a transaction conditioned on the
 * lock key still having the create_revision our lock got.  If our lease
 * expired (a long GC pause, a partition) and another agent took the lock,
 * the key was deleted and recreated with a newer revision, so our late write
 * fails instead of overwriting the newer agent's state: LBR_EFENCED.
 *
 * An expired lease deletes the lock key by itself, so etcd has no "stale"
 * lock: lock_info never returns 1, and force_unlock with the right id breaks
 * even a live holder's lock (whose next write is then fenced).
 *
 * Endpoints are tried in order for each call until one answers; an answer
 * with an HTTP error is final.  libcurl is used only here in state/.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "agent/error.h"
#include "state/state-int.h"

#define LEASE_TTL 15
#define KEEPALIVE_EVERY_S 5
#define LOCK_POLL_NS 100000000L
#define MAX_BODY (64u << 20)

struct lbr_etcd {
	char **endpoints;
	size_t n_endpoints;
	char *k_lock, *k_state, *k_backup, *k_audit;
	char *state_name; /* location of the document, for messages */
	int64_t lease;    /* 0 when not locked */
	int64_t lock_rev; /* create_revision of our lock key */
	pthread_t thread;
	int thread_running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, lost;   /* under mu */
};

/* ---- transport ------------------------------------------------------- */

struct body {
	char *p;
	size_t n;
	int over;
};

static size_t on_data(char *d, size_t sz, size_t nm, void *u)
{
	struct body *b = u;
	size_t n = sz * nm;
	char *g;

	if (b->n + n > MAX_BODY) {
		b->over = 1;
		return 0;
	}
	g = realloc(b->p, b->n + n + 1);
	if (!g)
		return 0;
	memcpy(g + b->n, d, n);
	b->p = g;
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

static int (*http_perform)(void *easy);

void lbr_state_set_http_perform(int (*perform)(void *easy))
{
	http_perform = perform;
}

/* POST req to /v3/API; *resp is the parsed answer.  0 or LBR_EIO/ENOMEM. */
static int call(struct lbr_etcd *e, const char *api, json_object *req,
		json_object **resp, char *err, size_t errlen)
{
	struct curl_slist *hdr = NULL;
	const char *text;
	char url[512];
	size_t i;
	int r = LBR_EIO;

	*resp = NULL;
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (!text || !hdr) {
		curl_slist_free_all(hdr);
		return LBR_ENOMEM;
	}
	if (e->n_endpoints == 0)
		lbr_state_seterr(err, errlen, "state: no etcd endpoint");
	for (i = 0; i < e->n_endpoints; i++) {
		struct body b = { NULL, 0, 0 };
		CURL *c = curl_easy_init();
		CURLcode rc;
		long status = 0;

		if (!c) {
			r = LBR_ENOMEM;
			break;
		}
		snprintf(url, sizeof(url), "http://%s/v3/%s", e->endpoints[i],
			 api);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
		rc = http_perform ? (CURLcode)http_perform(c) : curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
		if (rc != CURLE_OK) {
			lbr_state_seterr(err, errlen, "state: etcd %s: %s",
					 e->endpoints[i], b.over ?
					 "answer too large" :
					 curl_easy_strerror(rc));
			free(b.p);
			continue;
		}
		*resp = b.p ? json_tokener_parse(b.p) : NULL;
		if (status != 200 || !*resp ||
		    !json_object_is_type(*resp, json_type_object)) {
			json_object *m = NULL;

			if (*resp)
				json_object_object_get_ex(*resp, "error", &m);
			lbr_state_seterr(err, errlen, "state: etcd %s: HTTP %ld "
					 "from /v3/%s (%.200s)", e->endpoints[i],
					 status, api, m ? json_object_get_string(m)
					 : "unexpected answer");
			json_object_put(*resp);
			*resp = NULL;
			free(b.p);
			break;
		}
		free(b.p);
		r = 0;
		break;
	}
	curl_slist_free_all(hdr);
	return r;
}

static char *b64(const char *s, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s,
				(int)n);
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
	r = n ? EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)s,
				(int)n) : 0;
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

/* The gateway writes int64 as JSON strings. */
static int64_t jint(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) || !v)
		return 0;
	if (json_object_is_type(v, json_type_string))
		return strtoll(json_object_get_string(v), NULL, 10);
	return json_object_get_int64(v);
}

static json_object *jstr_i64(int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_object_new_string(buf);
}

/* {"key": base64(key)} plus, when val is given, "value". */
static json_object *kv_obj(const char *key, const char *val, size_t vlen)
{
	json_object *o = json_object_new_object();
	char *k = b64(key, strlen(key)), *v = val ? b64(val, vlen) : NULL;

	if (!o || !k || (val && !v)) {
		json_object_put(o);
		o = NULL;
	} else {
		json_object_object_add(o, "key", json_object_new_string(k));
		if (v)
			json_object_object_add(o, "value",
					       json_object_new_string(v));
	}
	free(k);
	free(v);
	return o;
}

/* A one-element array {"TYPE": inner}. */
static json_object *op(const char *type, json_object *inner)
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

/* Compare the create_revision of key with rev. */
static json_object *cmp_create(const char *key, int64_t rev)
{
	json_object *o = kv_obj(key, NULL, 0), *a = json_object_new_array();

	if (!o || !a) {
		json_object_put(o);
		json_object_put(a);
		return NULL;
	}
	json_object_object_add(o, "target", json_object_new_string("CREATE"));
	json_object_object_add(o, "result", json_object_new_string("EQUAL"));
	json_object_object_add(o, "create_revision", jstr_i64(rev));
	json_object_array_add(a, o);
	return a;
}

struct kv {
	int found;
	char *value;
	size_t len;
	int64_t create_rev, lease;
};

static void kv_release(struct kv *kv)
{
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

/* Take the first kv of a range response object. */
static int kv_from(json_object *range, struct kv *kv)
{
	json_object *kvs, *k0, *v;

	memset(kv, 0, sizeof(*kv));
	if (!range || !json_object_object_get_ex(range, "kvs", &kvs) ||
	    !json_object_is_type(kvs, json_type_array) ||
	    json_object_array_length(kvs) == 0)
		return 0;
	k0 = json_object_array_get_idx(kvs, 0);
	kv->found = 1;
	kv->create_rev = jint(k0, "create_revision");
	kv->lease = jint(k0, "lease");
	if (json_object_object_get_ex(k0, "value", &v) &&
	    json_object_is_type(v, json_type_string))
		kv->value = unb64(json_object_get_string(v), &kv->len);
	else
		kv->value = strdup("");
	if (!kv->value)
		return LBR_EIO;
	return 0;
}

static int get_key(struct lbr_etcd *e, const char *key, struct kv *kv,
		   char *err, size_t errlen)
{
	json_object *req = kv_obj(key, NULL, 0), *resp = NULL;
	int r;

	memset(kv, 0, sizeof(*kv));
	if (!req)
		return LBR_ENOMEM;
	r = call(e, "kv/range", req, &resp, err, errlen);
	if (r == 0) {
		r = kv_from(resp, kv);
		if (r < 0)
			lbr_state_seterr(err, errlen, "state: etcd returned an "
					 "undecodable value for '%s'", key);
	}
	json_object_put(req);
	json_object_put(resp);
	return r;
}

/* Run a transaction; *ok = succeeded; *resp kept for the caller if asked. */
static int txn(struct lbr_etcd *e, json_object *compare, json_object *success,
	       json_object *failure, int *ok, json_object **resp_out,
	       char *err, size_t errlen)
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
	r = call(e, "kv/txn", req, &resp, err, errlen);
	json_object_put(req);
	if (r < 0)
		return r;
	*ok = json_object_object_get_ex(resp, "succeeded", &v) &&
	      json_object_get_boolean(v);
	if (resp_out)
		*resp_out = resp;
	else
		json_object_put(resp);
	return 0;
}

static int lease_call(struct lbr_etcd *e, const char *api, int64_t id,
		      int64_t *ttl, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *resp = NULL, *res;
	int r;

	if (!req)
		return LBR_ENOMEM;
	if (id)
		json_object_object_add(req, "ID", jstr_i64(id));
	else
		json_object_object_add(req, "TTL", json_object_new_int(LEASE_TTL));
	r = call(e, api, req, &resp, err, errlen);
	json_object_put(req);
	if (r < 0)
		return r;
	/* keepalive wraps its answer in "result". */
	res = resp;
	if (json_object_object_get_ex(resp, "result", &res) == 0)
		res = resp;
	if (ttl)
		*ttl = jint(res, "TTL");
	if (!id)
		e->lease = jint(res, "ID");
	json_object_put(resp);
	return 0;
}

/* ---- open / free ----------------------------------------------------- */

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

		if (!close || close == s + 1 || close + 1 >= s + len ||
		    close[1] != ':')
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

int lbr_state_etcd_open(const char *spec, struct lbr_state_store **out,
			char *err, size_t errlen)
{
	const char *hosts = spec + strlen("etcd://"), *slash, *p, *comma;
	struct lbr_state_store *st = NULL;
	struct lbr_etcd *e;
	char prefix[512];
	size_t i;
	int r = LBR_EINVAL;

	*out = NULL;
	slash = strchr(hosts, '/');
	if (!slash || slash == hosts || !slash[1]) {
		lbr_state_seterr(err, errlen, "state: invalid etcd location "
				 "'%s' (expected etcd://HOST:PORT[,HOST:PORT]"
				 "/PREFIX)", spec);
		goto out;
	}
	for (p = hosts; p < slash; p = comma + 1) {
		comma = memchr(p, ',', (size_t)(slash - p));
		if (!comma)
			comma = slash;
		if (check_endpoint(p, (size_t)(comma - p)) < 0) {
			lbr_state_seterr(err, errlen, "state: invalid etcd "
					 "endpoint '%.*s' in '%s'",
					 (int)(comma - p), p, spec);
			goto out;
		}
		if (comma == slash)
			break;
	}
	for (i = 1; slash[i]; i++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/",
			    slash[i]) || i >= sizeof(prefix) - 1) {
			lbr_state_seterr(err, errlen, "state: invalid etcd "
					 "prefix '%s' in '%s'", slash + 1, spec);
			goto out;
		}
	}
	snprintf(prefix, sizeof(prefix), "%s", slash + 1);
	/* "a/b/" and "a/b" name the same place. */
	while (strlen(prefix) > 1 && prefix[strlen(prefix) - 1] == '/')
		prefix[strlen(prefix) - 1] = '\0';

	/* libcurl's global init is not thread-safe in every build; do it
	 * here, on the caller's thread, before any keepalive thread. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = LBR_ENOMEM;
	st = calloc(1, sizeof(*st));
	if (!st)
		goto out;
	st->kind = LBR_STORE_ETCD;
	st->lock_fd = -1;
	st->location = strdup(spec);
	e = st->etcd = calloc(1, sizeof(*e));
	if (!st->location || !e)
		goto out;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	e->endpoints = calloc((size_t)(slash - hosts) + 1, sizeof(char *));
	if (!e->endpoints)
		goto out;
	for (p = hosts; p < slash; p = comma + 1) {
		comma = memchr(p, ',', (size_t)(slash - p));
		if (!comma)
			comma = slash;
		e->endpoints[e->n_endpoints] = strndup(p, (size_t)(comma - p));
		if (!e->endpoints[e->n_endpoints++])
			goto out;
		if (comma == slash)
			break;
	}
	e->k_lock = join(prefix, "lock");
	e->k_state = join(prefix, "state");
	e->k_backup = join(prefix, "state.backup");
	e->k_audit = join(prefix, "audit");
	e->state_name = join(spec, "state");
	if (!e->k_lock || !e->k_state || !e->k_backup || !e->k_audit ||
	    !e->state_name)
		goto out;
	*out = st;
	st = NULL; /* transferred */
	r = 0;
out:
	lbr_state_store_free(st);
	return r;
}

void lbr_state_etcd_free(struct lbr_state_store *st)
{
	struct lbr_etcd *e = st->etcd;
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n_endpoints; i++)
		free(e->endpoints[i]);
	free(e->endpoints);
	free(e->k_lock);
	free(e->k_state);
	free(e->k_backup);
	free(e->k_audit);
	free(e->state_name);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	free(e);
	st->etcd = NULL;
}

/* ---- lock ------------------------------------------------------------ */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Keep the lease alive every KEEPALIVE_EVERY_S seconds.  If etcd says the
 * lease is gone, or we could not renew it for a whole TTL, mark the lock
 * lost: saves then fail with LBR_EFENCED without even trying.
 */
static void *keepalive_main(void *arg)
{
	struct lbr_etcd *e = arg;
	int64_t last_ok = mono_ms(), ttl;
	struct timespec ts;
	char err[256];
	int r;

	pthread_mutex_lock(&e->mu);
	while (!e->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += KEEPALIVE_EVERY_S;
		pthread_cond_timedwait(&e->cv, &e->mu, &ts);
		if (e->stop)
			break;
		pthread_mutex_unlock(&e->mu);
		ttl = 0;
		r = lease_call(e, "lease/keepalive", e->lease, &ttl, err,
			       sizeof(err));
		pthread_mutex_lock(&e->mu);
		if (r == 0 && ttl > 0) {
			last_ok = mono_ms();
		} else if (r == 0 || mono_ms() - last_ok > LEASE_TTL * 1000) {
			e->lost = 1;
			break;
		}
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

static void lease_revoke(struct lbr_etcd *e, int64_t lease)
{
	char err[256];

	if (lease)
		lease_call(e, "lease/revoke", lease, NULL, err, sizeof(err));
}

int lbr_state_etcd_lock(struct lbr_state_store *st, const char *operation,
			int timeout_s, struct lbr_lock_info *holder, char *err,
			size_t errlen)
{
	struct lbr_etcd *e = st->etcd;
	struct lbr_lock_info h;
	json_object *put, *resp = NULL, *v, *rs;
	char id[37], *info = NULL, desc[400];
	int64_t deadline;
	int ok, r;

	if (holder)
		memset(holder, 0, sizeof(*holder));
	if (e->lease) {
		lbr_state_seterr(err, errlen, "state: lock on '%s' is already "
				 "held by this agent", st->location);
		return LBR_EINVAL;
	}
	r = lbr_state_uuid(id);
	if (r < 0)
		return r;
	info = lbr_state_lock_info_json(id, operation ? operation : "");
	if (!info)
		return LBR_ENOMEM;
	r = lease_call(e, "lease/grant", 0, NULL, err, errlen);
	if (r < 0)
		goto out;
	if (!e->lease) {
		lbr_state_seterr(err, errlen, "state: etcd granted no lease");
		r = LBR_EIO;
		goto out;
	}
	deadline = mono_ms() + (int64_t)(timeout_s > 0 ? timeout_s : 0) * 1000;
	for (;;) {
		put = kv_obj(e->k_lock, info, strlen(info));
		if (put)
			json_object_object_add(put, "lease", jstr_i64(e->lease));
		r = txn(e, cmp_create(e->k_lock, 0), op("request_put", put),
			op("request_range", kv_obj(e->k_lock, NULL, 0)), &ok,
			&resp, err, errlen);
		if (r < 0)
			goto out;
		if (ok)
			break;
		/* The failure branch read the holder's info. */
		memset(&h, 0, sizeof(h));
		if (json_object_object_get_ex(resp, "responses", &v) &&
		    json_object_array_length(v) > 0 &&
		    json_object_object_get_ex(json_object_array_get_idx(v, 0),
					      "response_range", &rs)) {
			struct kv kv;

			if (kv_from(rs, &kv) == 0 && kv.value)
				lbr_state_lock_info_parse(kv.value, kv.len, &h);
			kv_release(&kv);
		}
		json_object_put(resp);
		resp = NULL;
		if (mono_ms() >= deadline) {
			if (holder)
				*holder = h;
			lbr_state_describe_holder(&h, desc, sizeof(desc));
			lbr_state_seterr(err, errlen, "state: '%s' is locked by "
					 "%s", st->location, desc);
			r = LBR_ELOCKED;
			goto out;
		}
		nanosleep(&(struct timespec){ 0, LOCK_POLL_NS }, NULL);
	}
	/* The put's revision is the lock key's create_revision. */
	e->lock_rev = jint(json_object_object_get_ex(resp, "header", &v) ? v :
			   NULL, "revision");
	memcpy(st->lock_id, id, sizeof(id));
	e->stop = 0;
	e->lost = 0;
	if (pthread_create(&e->thread, NULL, keepalive_main, e) != 0) {
		lbr_state_seterr(err, errlen, "state: cannot start the lease "
				 "keepalive thread");
		r = LBR_EIO;
		goto out;
	}
	e->thread_running = 1;
	r = 0;
out:
	if (r < 0) {
		lease_revoke(e, e->lease);
		e->lease = 0;
		e->lock_rev = 0;
	}
	json_object_put(resp);
	free(info);
	return r;
}

int lbr_state_etcd_unlock(struct lbr_state_store *st)
{
	struct lbr_etcd *e = st->etcd;

	if (!e || !e->lease)
		return 0;
	if (e->thread_running) {
		pthread_mutex_lock(&e->mu);
		e->stop = 1;
		pthread_cond_signal(&e->cv);
		pthread_mutex_unlock(&e->mu);
		pthread_join(e->thread, NULL);
		e->thread_running = 0;
	}
	/* Revoking the lease deletes the lock key with it. */
	lease_revoke(e, e->lease);
	e->lease = 0;
	e->lock_rev = 0;
	st->lock_id[0] = '\0';
	return 0;
}

int lbr_state_etcd_lock_info(struct lbr_state_store *st,
			     struct lbr_lock_info *info)
{
	struct kv kv;
	char err[256];
	int r;

	memset(info, 0, sizeof(*info));
	r = get_key(st->etcd, st->etcd->k_lock, &kv, err, sizeof(err));
	if (r < 0) {
		snprintf(st->msg, sizeof(st->msg), "%s", err);
		return r;
	}
	r = kv.found ? 0 : LBR_ENOENT;
	if (kv.found)
		lbr_state_lock_info_parse(kv.value, kv.len, info);
	kv_release(&kv);
	return r;
}

int lbr_state_etcd_force_unlock(struct lbr_state_store *st, const char *id,
				char *err, size_t errlen)
{
	struct lbr_etcd *e = st->etcd;
	struct lbr_lock_info h;
	struct kv kv;
	int ok, r;

	r = get_key(e, e->k_lock, &kv, err, errlen);
	if (r < 0)
		return r;
	if (!kv.found) {
		lbr_state_seterr(err, errlen, "state: '%s' is not locked",
				 st->location);
		r = LBR_ENOENT;
		goto out;
	}
	lbr_state_lock_info_parse(kv.value, kv.len, &h);
	if (!id || strcmp(id, h.id) != 0) {
		lbr_state_seterr(err, errlen, "state: lock id '%s' does not "
				 "match the lock on '%s' (%s)", id ? id : "",
				 st->location, h.id);
		r = LBR_EINVAL;
		goto out;
	}
	/* Delete exactly the lock we looked at, not a newer one. */
	r = txn(e, cmp_create(e->k_lock, kv.create_rev),
		op("request_delete_range", kv_obj(e->k_lock, NULL, 0)), NULL,
		&ok, NULL, err, errlen);
	if (r < 0)
		goto out;
	if (!ok) {
		lbr_state_seterr(err, errlen, "state: the lock on '%s' changed "
				 "while breaking it", st->location);
		r = LBR_ELOCKED;
		goto out;
	}
	lease_revoke(e, kv.lease);
	r = 0;
out:
	kv_release(&kv);
	return r;
}

/* ---- document -------------------------------------------------------- */

int lbr_state_etcd_load(struct lbr_state_store *st, struct lbr_state **out,
			char *err, size_t errlen)
{
	struct lbr_etcd *e = st->etcd;
	struct kv kv;
	int r;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	st->msg[0] = '\0';
	r = get_key(e, e->k_state, &kv, err, errlen);
	if (r < 0)
		return r;
	if (kv.found) {
		r = lbr_state_parse_file(e->state_name, kv.value, kv.len, out,
					 err, errlen);
	} else {
		*out = lbr_state_new();
		r = *out ? 0 : LBR_ENOMEM;
	}
	kv_release(&kv);
	return r;
}

int lbr_state_etcd_save(struct lbr_state_store *st, struct lbr_state *doc,
			char *err, size_t errlen)
{
	struct lbr_etcd *e = st->etcd;
	struct lbr_state *disk = NULL, tmpdoc;
	json_object *ops = NULL, *put;
	char lineage[37], *text = NULL, *ver = NULL;
	uint64_t serial;
	struct kv kv = { 0 };
	int lost, ok, r;

	if (!e->lease) {
		lbr_state_seterr(err, errlen, "state: cannot save '%s' without "
				 "holding its lock", st->location);
		return LBR_EINVAL;
	}
	pthread_mutex_lock(&e->mu);
	lost = e->lost;
	pthread_mutex_unlock(&e->mu);
	if (lost) {
		lbr_state_seterr(err, errlen, "state: lost the lock on '%s' "
				 "(lease expired); not saving", st->location);
		return LBR_EFENCED;
	}
	r = get_key(e, e->k_state, &kv, err, errlen);
	if (r < 0)
		goto out;
	if (kv.found) {
		r = lbr_state_parse_file(e->state_name, kv.value, kv.len, &disk,
					 err, errlen);
		if (r < 0)
			goto out;
	}
	r = lbr_state_next_version(st->location, disk, doc, lineage, &serial,
				   err, errlen);
	if (r < 0)
		goto out;
	r = LBR_ENOMEM;
	ver = strdup(PACKAGE_VERSION);
	if (!ver)
		goto out;
	tmpdoc = *doc;
	tmpdoc.format_version = LBR_STATE_FORMAT_VERSION;
	memcpy(tmpdoc.lineage, lineage, sizeof(lineage));
	tmpdoc.serial = serial;
	tmpdoc.agent_version = ver;
	tmpdoc.updated_at = (int64_t)time(NULL);
	text = lbr_state_to_json(&tmpdoc, NULL);
	ops = op("request_put", kv_obj(e->k_state, text ? text : "",
				       text ? strlen(text) : 0));
	if (!text || !ops)
		goto out;
	if (kv.found) {
		put = json_object_new_object();
		if (!put)
			goto out;
		json_object_object_add(put, "request_put",
				       kv_obj(e->k_backup, kv.value, kv.len));
		json_object_array_add(ops, put);
	}
	r = txn(e, cmp_create(e->k_lock, e->lock_rev), ops, NULL, &ok, NULL,
		err, errlen);
	ops = NULL; /* consumed */
	if (r < 0)
		goto out;
	if (!ok) {
		lbr_state_seterr(err, errlen, "state: lost the lock on '%s' "
				 "before writing (fenced); not saving",
				 st->location);
		r = LBR_EFENCED;
		goto out;
	}
	lbr_state_adopt_version(doc, lineage, serial, tmpdoc.updated_at, ver);
	ver = NULL; /* transferred */
	r = 0;
out:
	json_object_put(ops);
	kv_release(&kv);
	lbr_state_free(disk);
	free(text);
	free(ver);
	return r;
}

int lbr_state_etcd_audit(struct lbr_state_store *st,
			 const struct lbr_audit_rec *rec, char *err, size_t errlen)
{
	static unsigned long seq;
	struct lbr_etcd *e = st->etcd;
	json_object *req = NULL, *resp = NULL;
	struct timespec ts;
	char key[600], *line;
	int r = LBR_ENOMEM;

	line = lbr_state_audit_line(rec);
	if (!line)
		goto out;
	/* Nanoseconds plus pid keep keys in time order; the sequence number
	 * keeps two lines of the same nanosecond apart (several calls may
	 * audit at once). */
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(key, sizeof(key), "%s/%020lld-%ld-%06lu", e->k_audit,
		 (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec,
		 (long)getpid(), __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED) % 1000000u);
	req = kv_obj(key, line, strlen(line));
	if (!req)
		goto out;
	r = call(e, "kv/put", req, &resp, err, errlen);
out:
	json_object_put(req);
	json_object_put(resp);
	free(line);
	return r;
}
