/*
 * Fuzz target: the etcd state backend's reading of etcd's answers.
 *
 * The real backend runs (lbr_state_store_open() on an etcd:// location,
 * then lbr_state_lock / load / save / keepalive / force_unlock / lock_info
 * / unlock) over an injected struct lbr_state_io whose http() answers
 * every request from the fuzz input:
 *
 *   byte 0          number of operations: 1 + (byte & 7)
 *   next N bytes    one operation each (see run_op())
 *   the rest        answers, one per HTTP exchange, in order:
 *                   1 status byte, 2 bytes body length (little endian),
 *                   the body (cut at the end of the input)
 *
 * Status byte: below 0x80 is HTTP 200; 0xff is a transport failure (the
 * next endpoint is tried; the body is skipped); otherwise the low 3 bits
 * pick an error status.  Once the answers run out, every exchange is a
 * transport failure.
 *
 * Invariants checked (abort() when broken):
 * - An operation that succeeded took nothing from an answer that is not
 *   etcd's: every answer it consumed (lease revocations aside, whose
 *   outcome the backend ignores on purpose) was HTTP 200, a JSON object
 *   without "error" and with a "header" object (at the top or in
 *   "result").
 * - A junk answer never loads as an empty state: a load that returns an
 *   empty document read an etcd answer with no "kvs" or an empty one.
 * - The lock is never reported held after a failed take: then
 *   lbr_state_lock_valid_until_ms() is 0 and a save is refused without a
 *   single request.  Likewise after a keepalive that lost the lease.
 * - A keepalive that succeeded read a TTL above 0.
 * - Every error message, message and lock-info string is NUL-terminated
 *   inside its buffer; nothing is handed back on failure.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "state/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The lock id that the seeds' lock values carry, so that force_unlock can
 * get past the id check. */
#define FZ_LOCK_ID "6b1d3c1e-8f5a-4d8e-9a6b-2f4c5d6e7f80"
#define FZ_MAX_LOG 64

/* What the target itself sees in one answer. */
struct fz_seen {
	char api[32];
	int transport; /* no answer at all */
	int etcd;      /* 200, JSON object, no "error", a "header" object */
	int kvs;       /* -1 absent, else 0 empty array, 1 non-empty, 2 not an array */
	int succ;      /* "succeeded": -1 absent, 0 false, 1 true, 2 not a boolean */
	int responses_junk; /* "responses" present but not an array */
	int64_t ttl;
};

static struct {
	const uint8_t *p;
	size_t left;
	struct fz_seen log[FZ_MAX_LOG];
	size_t n_log;
} fz;

/* Thread-local so that only the fuzzed thread's waits are skipped. */
static __thread int fz_in_op;

/* Linked with -Wl,--wrap=nanosleep: the lock's 100 ms poll between two
 * takes would otherwise make inputs with several rounds slow, and the
 * clock is not what is under test. */
int __real_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);

int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (fz_in_op)
		return 0;
	return __real_nanosleep(req, rem);
}

static int64_t fz_int(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return 0;
	if (json_object_is_type(v, json_type_string))
		return strtoll(json_object_get_string(v), NULL, 10);
	return json_object_get_int64(v);
}

/* Findings in code outside tests/fuzz that are known and not fixed yet
 * can be skipped during a campaign: LBR_FUZZ_ETCD_KNOWN is a list of the
 * tags below (README.md, "Findings"). */
static int known(const char *tag)
{
	static const char *list;
	static int looked;

	if (!looked) {
		list = getenv("LBR_FUZZ_ETCD_KNOWN");
		looked = 1;
	}
	return list && strstr(list, tag);
}

/* Judge an answer independently of the backend. */
static void fz_judge(long status, const char *body, size_t len,
		     struct fz_seen *s)
{
	struct json_tokener *tok;
	json_object *o = NULL, *r, *h, *k;

	s->kvs = -1;
	s->succ = -1;
	tok = json_tokener_new();
	if (!tok)
		abort();
	if (len)
		o = json_tokener_parse_ex(tok, body, (int)len);
	json_tokener_free(tok);
	if (!o || !json_object_is_type(o, json_type_object))
		goto out;
	r = o;
	if (json_object_object_get_ex(o, "result", &h) &&
	    json_object_is_type(h, json_type_object))
		r = h;
	s->etcd = status == 200 && !json_object_object_get_ex(o, "error", NULL) &&
		  ((json_object_object_get_ex(o, "header", &h) &&
		    json_object_is_type(h, json_type_object)) ||
		   (json_object_object_get_ex(r, "header", &h) &&
		    json_object_is_type(h, json_type_object)));
	if (json_object_object_get_ex(r, "kvs", &k))
		s->kvs = !json_object_is_type(k, json_type_array) ? 2 :
			 json_object_array_length(k) ? 1 : 0;
	if (json_object_object_get_ex(r, "succeeded", &k))
		s->succ = !json_object_is_type(k, json_type_boolean) ? 2 :
			  json_object_get_boolean(k) ? 1 : 0;
	if (json_object_object_get_ex(r, "responses", &k))
		s->responses_junk = !json_object_is_type(k, json_type_array);
	s->ttl = fz_int(r, "TTL");
out:
	json_object_put(o);
}

static int fz_http(void *ud, const struct lbr_http_request *req,
		   struct lbr_http_response *resp, char *err, size_t errlen)
{
	static const long bad[] = { 400, 404, 408, 429, 500, 502, 503, 301 };
	struct fz_seen *s;
	const char *api;
	uint8_t st;
	size_t len;
	char *body;

	(void)ud;
	if (!req || !req->url || !req->method || strcmp(req->method, "POST") ||
	    !req->body || strlen(req->body) != req->body_len)
		abort(); /* the backend always sends a JSON body by POST */
	api = strstr(req->url, "/v3/");
	if (!api)
		abort();
	if (fz.n_log == FZ_MAX_LOG)
		memmove(fz.log, fz.log + 1, sizeof(fz.log[0]) * (FZ_MAX_LOG - 1));
	else
		fz.n_log++;
	s = &fz.log[fz.n_log - 1];
	memset(s, 0, sizeof(*s));
	snprintf(s->api, sizeof(s->api), "%s", api + 4);
	if (fz.left < 3) {
		s->transport = 1;
		snprintf(err, errlen, "fuzz: no more answers");
		return LBR_EIO;
	}
	st = fz.p[0];
	len = (size_t)fz.p[1] | (size_t)fz.p[2] << 8;
	fz.p += 3;
	fz.left -= 3;
	if (len > fz.left)
		len = fz.left;
	if (st == 0xff) { /* the body, if any, is skipped */
		fz.p += len;
		fz.left -= len;
		s->transport = 1;
		snprintf(err, errlen, "fuzz: no answer");
		return LBR_EIO;
	}
	/* Exactly sized: ASan sees any read past body_len. */
	body = malloc(len ? len : 1);
	if (!body)
		abort();
	memcpy(body, fz.p, len);
	fz.p += len;
	fz.left -= len;
	resp->status = st < 0x80 ? 200 : bad[st & 7];
	resp->body = body;
	resp->body_len = len;
	fz_judge(resp->status, body, len, s);
	/* E4: a failed lock take's answer whose "responses" is not an
	 * array trips an assertion in json-c (state/etcd.c try_lock()).
	 * While that is known, such an answer is not delivered. */
	if (s->responses_junk && known("txn-responses")) {
		free(body);
		resp->body = NULL;
		s->transport = 1;
		snprintf(err, errlen, "fuzz: answer withheld (known E4)");
		return LBR_EIO;
	}
	return 0;
}

static void fz_release(void *ud, struct lbr_http_response *resp)
{
	(void)ud;
	free((void *)resp->body);
	resp->body = NULL;
}

static void check_str(const char *s, size_t n)
{
	if (strnlen(s, n) >= n)
		abort();
}

/* Every answer the last operation consumed (from `from` on) was etcd's,
 * the ignored lease revocations aside. */
static void check_all_etcd(size_t from)
{
	size_t i;

	for (i = from; i < fz.n_log; i++)
		if (!fz.log[i].transport && !fz.log[i].etcd &&
		    strcmp(fz.log[i].api, "lease/revoke") != 0)
			abort();
}

/* The last real answer, or NULL. */
static const struct fz_seen *last_answer(size_t from)
{
	size_t i;

	for (i = fz.n_log; i > from; i--)
		if (!fz.log[i - 1].transport)
			return &fz.log[i - 1];
	return NULL;
}

/* The last answer of `api`, or NULL. */
static const struct fz_seen *last_of(size_t from, const char *api)
{
	size_t i;

	for (i = fz.n_log; i > from; i--)
		if (!fz.log[i - 1].transport && !strcmp(fz.log[i - 1].api, api))
			return &fz.log[i - 1];
	return NULL;
}

/* Not holding the lock: nothing says so and a save sends nothing. */
static void check_not_held(struct lbr_state_store *st, int lost)
{
	struct lbr_state *doc = lbr_state_new();
	char err[512] = "";
	size_t before = fz.n_log;
	int r;

	if (!doc)
		abort();
	if (lbr_state_lock_valid_until_ms(st) != 0)
		abort();
	r = lbr_state_save(st, doc, err, sizeof(err));
	check_str(err, sizeof(err));
	if (r == 0 || fz.n_log != before)
		abort();
	if (lost ? r != LBR_EFENCED : r != LBR_EINVAL)
		abort();
	lbr_state_free(doc);
}

static void check_info(const struct lbr_lock_info *h)
{
	check_str(h->id, sizeof(h->id));
	check_str(h->host, sizeof(h->host));
	check_str(h->operation, sizeof(h->operation));
}

static int is_empty(const struct lbr_state *doc)
{
	return !doc->lineage[0] && !doc->serial && !doc->n_pools;
}

static void run_op(struct lbr_state_store *st, uint8_t op, int *held,
		   int *lost, struct lbr_state **doc)
{
	struct lbr_lock_info h;
	struct lbr_state *got = NULL;
	const struct fz_seen *a;
	const char *msg;
	char err[512];
	size_t from = fz.n_log;
	uint64_t serial;
	int r;

	memset(err, 0, sizeof(err));
	switch (op & 7) {
	case 7:
		/* A short lease; the grant's own TTL still decides. */
		if (lbr_state_store_set_lock_ttl(st, 1 + (op >> 3)) < 0)
			abort();
		/* fall through */
	case 0:
		memset(&h, 0x55, sizeof(h));
		r = lbr_state_lock(st, "apply", 0, &h, err, sizeof(err));
		check_str(err, sizeof(err));
		if (*held) {
			if (r != LBR_EINVAL || fz.n_log != from)
				abort(); /* already ours: refused, no I/O */
			break;
		}
		if (r == 0) {
			check_all_etcd(from);
			if (!lbr_state_lock_valid_until_ms(st))
				abort();
			/* Taken only when etcd said the put happened. */
			a = last_of(from, "kv/txn");
			if (!a || (a->succ != 1 && !known("txn-succeeded")))
				abort();
			*held = 1;
			*lost = 0;
		} else {
			check_info(&h);
			check_not_held(st, 0);
		}
		break;
	case 1:
		r = lbr_state_load(st, &got, err, sizeof(err));
		check_str(err, sizeof(err));
		if (r < 0) {
			if (got)
				abort();
			break;
		}
		check_all_etcd(from);
		a = last_answer(from);
		if (!got || !a)
			abort();
		if (is_empty(got) && a->kvs != -1 && a->kvs != 0 &&
		    !known("kvs-shape"))
			abort(); /* junk read as "no state yet" */
		if (got->lineage[0] && strnlen(got->lineage, 37) != 36)
			abort();
		free(lbr_state_to_json(got, NULL));
		lbr_state_free(*doc);
		*doc = got;
		break;
	case 2:
		if (!*doc) {
			*doc = lbr_state_new();
			if (!*doc)
				abort();
		}
		serial = (*doc)->serial;
		r = lbr_state_save(st, *doc, err, sizeof(err));
		check_str(err, sizeof(err));
		if (!*held || *lost) {
			/* Refused before sending anything. */
			if (r == 0 || fz.n_log != from)
				abort();
			break;
		}
		if (r == 0) {
			check_all_etcd(from);
			a = last_of(from, "kv/txn");
			if (!a || (a->succ != 1 && !known("txn-succeeded")))
				abort();
			/* The stored document was read, not guessed absent
			 * (its lineage is checked and it becomes the backup). */
			a = last_of(from, "kv/range");
			if (!a || (a->kvs == 2 && !known("kvs-shape")))
				abort();
			if (strnlen((*doc)->lineage, 37) != 36 ||
			    (*doc)->serial == 0 || (*doc)->serial == serial)
				abort();
		}
		break;
	case 3:
		r = lbr_state_keepalive(st, err, sizeof(err));
		check_str(err, sizeof(err));
		if (!*held || *lost) {
			if (r == 0 || fz.n_log != from)
				abort();
			break;
		}
		if (r == 0) {
			check_all_etcd(from);
			a = last_answer(from);
			if (!a || a->ttl <= 0 || !lbr_state_lock_valid_until_ms(st))
				abort();
		} else if (r == LBR_EFENCED) {
			*lost = 1;
			check_not_held(st, 1);
		}
		break;
	case 4:
		r = lbr_state_force_unlock(st, FZ_LOCK_ID, (op >> 3) & 1, err,
					   sizeof(err));
		check_str(err, sizeof(err));
		if (r == 0)
			check_all_etcd(from);
		if (r == LBR_ENOENT && !known("lock-enoent")) {
			a = last_answer(from);
			if (!a || !a->etcd || (a->kvs != -1 && a->kvs != 0))
				abort();
		}
		break;
	case 5:
		memset(&h, 0x55, sizeof(h));
		r = lbr_state_lock_info(st, &h);
		msg = lbr_state_store_message(st);
		if (msg)
			check_str(msg, 4096);
		if (r == 0 || r == 1) {
			check_all_etcd(from);
			check_info(&h);
		}
		/* "No lock" only from an etcd answer without the key. */
		if (r == LBR_ENOENT && !known("lock-enoent")) {
			check_all_etcd(from);
			a = last_answer(from);
			if (!a || !a->etcd || (a->kvs != -1 && a->kvs != 0))
				abort();
		}
		break;
	case 6:
		lbr_state_unlock(st);
		*held = 0;
		*lost = 0;
		check_not_held(st, 0);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lbr_state_io io = {
		.http = fz_http,
		.release = fz_release,
	};
	static int ready;
	struct lbr_state_store *st = NULL;
	struct lbr_state *doc = NULL;
	char err[512] = "";
	size_t n_ops, i;
	int held = 0, lost = 0;

	if (!ready) {
		lbr_state_set_io(&io);
		ready = 1;
	}
	if (size < 1)
		return 0;
	n_ops = 1 + (data[0] & 7);
	if (size < 1 + n_ops)
		return 0;
	memset(&fz, 0, sizeof(fz));
	fz.p = data + 1 + n_ops;
	fz.left = size - 1 - n_ops;
	/* Two endpoints: a transport failure moves on to the second. */
	if (lbr_state_store_open("etcd://127.0.0.1:2379,[::1]:2379/lbr", NULL,
				 &st, err, sizeof(err)) < 0)
		abort();
	fz_in_op = 1;
	for (i = 0; i < n_ops; i++)
		run_op(st, data[1 + i], &held, &lost, &doc);
	lbr_state_store_free(st);
	fz_in_op = 0;
	lbr_state_free(doc);
	return 0;
}
