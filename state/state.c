/*
 * The state document: in-memory helpers, JSON (de)serialisation, and the
 * backend-independent part of the store (opening a spec).
 *
 * Parsing is strict about what lbreconcile needs (types, ranges, required
 * keys) and tolerant of keys it does not know, so that an older agent can
 * read a document that a newer one extended without a format bump.  It is
 * also the fuzzing entry point: any byte string must give either a document
 * or LBR_ECORRUPT/LBR_EINVAL, never a crash or a leak.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/rand.h>

#include "agent/error.h"
#include "state/state-int.h"

/* Refuse documents deeper than this; ours are 5 levels deep. */
#define PARSE_DEPTH 16

void lbr_state_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int lbr_state_uuid(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return LBR_EIO;
	/* RFC 4122 §4.4: version 4, variant 10xx. */
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

int lbr_state_uuid_valid(const char *s)
{
	size_t i;

	if (!s || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i]) {
			return 0;
		}
	}
	return 1;
}

void lbr_state_fmt_time(int64_t t, char buf[LBR_TIME_LEN])
{
	struct tm tm;
	time_t tt = (time_t)t;

	/* Four-digit year always (strftime's %Y drops leading zeros, which
	 * the parser would then refuse: found by fuzzing). */
	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		snprintf(buf, LBR_TIME_LEN, "1970-01-01T00:00:00Z");
	else
		snprintf(buf, LBR_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int lbr_state_parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	int Y, M, D, h, m, sec, n = -1;
	const char *p;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec,
		   &n) != 6 || n != 19)
		return -1;
	/* sscanf accepts signs and spaces inside %d; insist on digits. */
	for (int i = 0; i < 19; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return -1;
		} else if (i == 10) {
			if (s[i] != 'T')
				return -1;
		} else if (i == 13 || i == 16) {
			if (s[i] != ':')
				return -1;
		} else if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
	}
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (strcmp(p, "Z") != 0 || M < 1 || M > 12 || D < 1 || D > 31 ||
	    h > 23 || m > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*out = (int64_t)t;
	return 0;
}

/* ---- document helpers ------------------------------------------------ */

struct lbr_state *lbr_state_new(void)
{
	struct lbr_state *doc = calloc(1, sizeof(*doc));

	if (doc)
		doc->format_version = LBR_STATE_FORMAT_VERSION;
	return doc;
}

static void pool_release(struct lbr_state_pool *p)
{
	size_t i;

	free(p->name);
	free(p->provider);
	for (i = 0; i < p->n_targets; i++) {
		free(p->targets[i].key);
		free(p->targets[i].value);
	}
	free(p->targets);
	for (i = 0; i < p->n_members; i++) {
		free(p->members[i].id);
		free(p->members[i].address);
	}
	free(p->members);
	free(p->last_result);
	memset(p, 0, sizeof(*p));
}

void lbr_state_free(struct lbr_state *doc)
{
	size_t i;

	if (!doc)
		return;
	for (i = 0; i < doc->n_pools; i++)
		pool_release(&doc->pools[i]);
	free(doc->pools);
	free(doc->agent_version);
	free(doc);
}

struct lbr_state_pool *lbr_state_pool_find(struct lbr_state *doc,
					   const char *name)
{
	size_t i;

	if (!doc || !name)
		return NULL;
	for (i = 0; i < doc->n_pools; i++)
		if (doc->pools[i].name && strcmp(doc->pools[i].name, name) == 0)
			return &doc->pools[i];
	return NULL;
}

/* strdup that maps NULL to NULL and reports failure through *bad. */
static char *dup_or_null(const char *s, int *bad)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*bad = 1;
	return d;
}

static int pool_copy(struct lbr_state_pool *dst, const struct lbr_state_pool *src)
{
	int bad = 0;
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->name = dup_or_null(src->name, &bad);
	dst->provider = dup_or_null(src->provider, &bad);
	dst->last_result = dup_or_null(src->last_result, &bad);
	dst->observed_at = src->observed_at;
	dst->last_apply_at = src->last_apply_at;
	dst->last_removed = src->last_removed;
	dst->last_errors = src->last_errors;
	if (src->n_targets) {
		dst->targets = calloc(src->n_targets, sizeof(*dst->targets));
		if (!dst->targets)
			goto fail;
		dst->n_targets = src->n_targets;
		for (i = 0; i < src->n_targets; i++) {
			dst->targets[i].key = dup_or_null(src->targets[i].key, &bad);
			dst->targets[i].value =
				dup_or_null(src->targets[i].value, &bad);
		}
	}
	if (src->n_members) {
		dst->members = calloc(src->n_members, sizeof(*dst->members));
		if (!dst->members)
			goto fail;
		dst->n_members = src->n_members;
		for (i = 0; i < src->n_members; i++) {
			dst->members[i].id = dup_or_null(src->members[i].id, &bad);
			dst->members[i].address =
				dup_or_null(src->members[i].address, &bad);
			dst->members[i].port = src->members[i].port;
		}
	}
	if (bad)
		goto fail;
	return 0;
fail:
	pool_release(dst);
	return LBR_ENOMEM;
}

int lbr_state_pool_put(struct lbr_state *doc, const struct lbr_state_pool *p)
{
	struct lbr_state_pool copy, *old, *grown;

	if (!doc || !p || !p->name)
		return LBR_EINVAL;
	if (pool_copy(&copy, p) < 0)
		return LBR_ENOMEM;
	old = lbr_state_pool_find(doc, p->name);
	if (old) {
		pool_release(old);
		*old = copy;
		return 0;
	}
	grown = realloc(doc->pools, (doc->n_pools + 1) * sizeof(*grown));
	if (!grown) {
		pool_release(&copy);
		return LBR_ENOMEM;
	}
	doc->pools = grown;
	doc->pools[doc->n_pools++] = copy;
	return 0;
}

/* ---- serialisation --------------------------------------------------- */

/*
 * Members are written sorted so that two saves of the same observation are
 * byte-identical whatever order the cloud listed them in: by family (IPv4
 * first), then numerically by address, then by port.  Addresses that are
 * not IP literals (should not happen) sort after, by text.
 */
static void addr_key(const char *a, int *fam, unsigned char buf[16])
{
	memset(buf, 0, 16);
	if (a && inet_pton(AF_INET, a, buf) == 1)
		*fam = 0;
	else if (a && inet_pton(AF_INET6, a, buf) == 1)
		*fam = 1;
	else
		*fam = 2;
}

static int member_cmp(const void *pa, const void *pb)
{
	const struct lbr_state_member *a = *(const struct lbr_state_member *const *)pa;
	const struct lbr_state_member *b = *(const struct lbr_state_member *const *)pb;
	unsigned char ka[16], kb[16];
	int fa, fb, c;

	addr_key(a->address, &fa, ka);
	addr_key(b->address, &fb, kb);
	if (fa != fb)
		return fa < fb ? -1 : 1;
	if (fa == 2)
		c = strcmp(a->address ? a->address : "",
			   b->address ? b->address : "");
	else
		c = memcmp(ka, kb, 16);
	if (c)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return strcmp(a->id ? a->id : "", b->id ? b->id : "");
}

static int pool_ptr_cmp(const void *pa, const void *pb)
{
	const struct lbr_state_pool *a = *(const struct lbr_state_pool *const *)pa;
	const struct lbr_state_pool *b = *(const struct lbr_state_pool *const *)pb;

	return strcmp(a->name ? a->name : "", b->name ? b->name : "");
}

/*
 * The state document is written straight into one buffer rather than
 * through a json-c tree: a pool of 100,000 members made a tree of ~150 MB
 * for a file of 13 MB.  The layout is json-c's JSON_C_TO_STRING_PRETTY |
 * SPACED | NOSLASHESCAPE (two-space indent, "key": value), so files look
 * the same as before.
 */
struct jw {
	char *buf;
	size_t len, cap;
	int oom;
};

static void jw_put(struct jw *w, const char *s, size_t n)
{
	if (w->oom)
		return;
	if (w->len + n + 2 > w->cap) {
		size_t ncap = w->cap ? w->cap : 4096;
		char *nb;

		while (ncap < w->len + n + 2)
			ncap *= 2;
		nb = realloc(w->buf, ncap);
		if (!nb) {
			w->oom = 1;
			return;
		}
		w->buf = nb;
		w->cap = ncap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void jw_lit(struct jw *w, const char *s)
{
	jw_put(w, s, strlen(s));
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void jw_str(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run;

	if (!s)
		s = "";
	jw_put(w, "\"", 1);
	for (run = s; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7];
		const char *e = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jw_put(w, run, (size_t)(s - run));
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
			e = esc;
		}
		jw_lit(w, e);
		run = s + 1;
	}
	jw_put(w, run, (size_t)(s - run));
	jw_put(w, "\"", 1);
}

/* Start the next member of an object or array at `level`. */
static void jw_next(struct jw *w, int level, int *first)
{
	static const char spaces[] = "                                ";
	int n = 2 * level;

	jw_put(w, *first ? "\n" : ",\n", *first ? 1 : 2);
	*first = 0;
	while (n > 0) {
		int k = n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1;

		jw_put(w, spaces, (size_t)k);
		n -= k;
	}
}

static void jw_key(struct jw *w, int level, int *first, const char *k)
{
	jw_next(w, level, first);
	jw_str(w, k);
	jw_put(w, ": ", 2);
}

/* Close an object or array opened at `level`. */
static void jw_close(struct jw *w, int level, char c)
{
	int first = 1;

	jw_next(w, level, &first);
	jw_put(w, &c, 1);
}

static void jw_int(struct jw *w, long long v)
{
	char b[32];

	jw_put(w, b, (size_t)snprintf(b, sizeof(b), "%lld", v));
}

static void jw_time(struct jw *w, int64_t t)
{
	char buf[LBR_TIME_LEN];

	lbr_state_fmt_time(t, buf);
	jw_str(w, buf);
}

/* One pool, as the value of its name at level 2. */
static int pool_write(struct jw *w, const struct lbr_state_pool *p)
{
	const struct lbr_state_member **sorted = NULL;
	int first = 1, f2;
	size_t i;

	if (p->n_members) {
		sorted = calloc(p->n_members, sizeof(*sorted));
		if (!sorted)
			return -1;
		for (i = 0; i < p->n_members; i++)
			sorted[i] = &p->members[i];
		qsort(sorted, p->n_members, sizeof(*sorted), member_cmp);
	}
	jw_put(w, "{", 1);
	jw_key(w, 3, &first, "provider");
	jw_str(w, p->provider);
	jw_key(w, 3, &first, "targets");
	jw_put(w, "{", 1);
	f2 = 1;
	for (i = 0; i < p->n_targets; i++) {
		if (!p->targets[i].key)
			continue;
		jw_key(w, 4, &f2, p->targets[i].key);
		jw_str(w, p->targets[i].value);
	}
	jw_close(w, 3, '}');
	jw_key(w, 3, &first, "observed_at");
	jw_time(w, p->observed_at);
	jw_key(w, 3, &first, "members");
	jw_put(w, "[", 1);
	f2 = 1;
	for (i = 0; i < p->n_members && !w->oom; i++) {
		int f3 = 1;

		jw_next(w, 4, &f2);
		jw_put(w, "{", 1);
		jw_key(w, 5, &f3, "id");
		jw_str(w, sorted[i]->id);
		jw_key(w, 5, &f3, "address");
		jw_str(w, sorted[i]->address);
		jw_key(w, 5, &f3, "port");
		jw_int(w, (int)sorted[i]->port);
		jw_close(w, 4, '}');
	}
	jw_close(w, 3, ']');
	if (p->last_result) {
		jw_key(w, 3, &first, "last_apply");
		jw_put(w, "{", 1);
		f2 = 1;
		jw_key(w, 4, &f2, "result");
		jw_str(w, p->last_result);
		jw_key(w, 4, &f2, "at");
		jw_time(w, p->last_apply_at);
		jw_key(w, 4, &f2, "removed");
		jw_int(w, (long long)p->last_removed);
		jw_key(w, 4, &f2, "errors");
		jw_int(w, (long long)p->last_errors);
		jw_close(w, 3, '}');
	}
	jw_close(w, 2, '}');
	free(sorted);
	return w->oom ? -1 : 0;
}

char *lbr_state_to_json(const struct lbr_state *doc, const char *only_pool)
{
	const struct lbr_state_pool **sorted = NULL;
	struct jw w = { 0 };
	size_t i, n = 0, members = 0;
	int first = 1, f2 = 1;

	if (!doc)
		return NULL;
	if (doc->n_pools) {
		sorted = calloc(doc->n_pools, sizeof(*sorted));
		if (!sorted)
			return NULL;
	}
	for (i = 0; i < doc->n_pools; i++) {
		if (!doc->pools[i].name)
			continue;
		if (only_pool && strcmp(doc->pools[i].name, only_pool) != 0)
			continue;
		members += doc->pools[i].n_members;
		sorted[n++] = &doc->pools[i];
	}
	/* Asking for a pool that is not there is the caller's "not found". */
	if (only_pool && n == 0) {
		free(sorted);
		return NULL;
	}
	if (n)
		qsort(sorted, n, sizeof(*sorted), pool_ptr_cmp);
	/* About 130 bytes per member: one allocation in most cases. */
	w.cap = 4096 + n * 512 + members * 160;
	w.buf = malloc(w.cap);
	if (!w.buf) {
		free(sorted);
		return NULL;
	}
	w.buf[0] = '\0';
	jw_put(&w, "{", 1);
	jw_key(&w, 1, &first, "format_version");
	jw_int(&w, doc->format_version ? doc->format_version : LBR_STATE_FORMAT_VERSION);
	jw_key(&w, 1, &first, "lineage");
	jw_str(&w, doc->lineage);
	jw_key(&w, 1, &first, "serial");
	jw_int(&w, (long long)doc->serial);
	jw_key(&w, 1, &first, "agent_version");
	jw_str(&w, doc->agent_version);
	jw_key(&w, 1, &first, "updated_at");
	jw_time(&w, doc->updated_at);
	jw_key(&w, 1, &first, "pools");
	jw_put(&w, "{", 1);
	for (i = 0; i < n && !w.oom; i++) {
		jw_key(&w, 2, &f2, sorted[i]->name);
		if (pool_write(&w, sorted[i]) < 0)
			w.oom = 1;
	}
	jw_close(&w, 1, '}');
	jw_close(&w, 0, '}');
	jw_put(&w, "\n", 1);
	free(sorted);
	if (w.oom) {
		free(w.buf);
		return NULL;
	}
	return w.buf;
}

/* ---- parsing --------------------------------------------------------- */

struct pctx {
	char *why;
	size_t whylen;
};

static int bad(struct pctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad(struct pctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, c->whylen, fmt, ap);
	va_end(ap);
	return LBR_ECORRUPT;
}

/* Fetch key k of o with type t.  1 found, 0 absent, <0 wrong type. */
static int get(struct pctx *c, json_object *o, const char *where,
	       const char *k, json_type t, json_object **v)
{
	*v = NULL;
	if (!json_object_object_get_ex(o, k, v) || !*v) {
		*v = NULL;
		return 0;
	}
	if (!json_object_is_type(*v, t))
		return bad(c, "%s'%s' is not %s", where, k,
			   t == json_type_string ? "a string" :
			   t == json_type_int ? "an integer" :
			   t == json_type_array ? "an array" : "an object");
	return 1;
}

static int get_int(struct pctx *c, json_object *o, const char *where,
		   const char *k, int64_t lo, int64_t hi, int64_t *out, int req)
{
	json_object *v;
	int r = get(c, o, where, k, json_type_int, &v);

	if (r < 0)
		return r;
	if (r == 0)
		return req ? bad(c, "%smissing '%s'", where, k) : 0;
	*out = json_object_get_int64(v);
	/* json-c saturates out-of-range numbers to INT64_MIN/MAX. */
	if (*out < lo || *out > hi || *out == INT64_MAX)
		return bad(c, "%s'%s' out of range", where, k);
	return 1;
}

static int get_time(struct pctx *c, json_object *o, const char *where,
		    const char *k, int64_t *out)
{
	json_object *v;
	int r = get(c, o, where, k, json_type_string, &v);

	if (r <= 0)
		return r;
	if (lbr_state_parse_time(json_object_get_string(v), out) < 0)
		return bad(c, "%s'%s' is not an RFC 3339 UTC time", where, k);
	return 1;
}

static int get_strdup(struct pctx *c, json_object *o, const char *where,
		      const char *k, char **out, int req)
{
	json_object *v;
	int r = get(c, o, where, k, json_type_string, &v);

	if (r < 0)
		return r;
	if (r == 0)
		return req ? bad(c, "%smissing '%s'", where, k) : 0;
	*out = strdup(json_object_get_string(v));
	return *out ? 1 : LBR_ENOMEM;
}

static int parse_member(struct pctx *c, json_object *jm, const char *where,
			struct lbr_state_member *m)
{
	unsigned char buf[16];
	int64_t port = 0;
	int r;

	if (!json_object_is_type(jm, json_type_object))
		return bad(c, "%smember is not an object", where);
	r = get_strdup(c, jm, where, "id", &m->id, 1);
	if (r < 0)
		return r;
	r = get_strdup(c, jm, where, "address", &m->address, 1);
	if (r < 0)
		return r;
	if (inet_pton(AF_INET, m->address, buf) != 1 &&
	    inet_pton(AF_INET6, m->address, buf) != 1)
		return bad(c, "%smember address '%.64s' is not an IP address",
			   where, m->address);
	r = get_int(c, jm, where, "port", 0, 65535, &port, 1);
	if (r < 0)
		return r;
	m->port = (unsigned)port;
	return 0;
}

static int parse_pool(struct pctx *c, const char *name, json_object *jp,
		      struct lbr_state_pool *p)
{
	char where[160];
	json_object *v, *la;
	int64_t n;
	size_t i, cnt;
	int r;

	snprintf(where, sizeof(where), "pool '%.100s': ", name);
	if (!json_object_is_type(jp, json_type_object))
		return bad(c, "%snot an object", where);
	p->name = strdup(name);
	if (!p->name)
		return LBR_ENOMEM;
	r = get_strdup(c, jp, where, "provider", &p->provider, 1);
	if (r < 0)
		return r;

	r = get(c, jp, where, "targets", json_type_object, &v);
	if (r < 0)
		return r;
	if (r > 0) {
		cnt = (size_t)json_object_object_length(v);
		if (cnt) {
			p->targets = calloc(cnt, sizeof(*p->targets));
			if (!p->targets)
				return LBR_ENOMEM;
		}
		json_object_object_foreach(v, tk, tv) {
			struct lbr_state_target *t;

			if (p->n_targets >= cnt)
				break;
			if (!tv || !json_object_is_type(tv, json_type_string))
				return bad(c, "%starget '%.64s' is not a string",
					   where, tk);
			t = &p->targets[p->n_targets++];
			t->key = strdup(tk);
			t->value = strdup(json_object_get_string(tv));
			if (!t->key || !t->value)
				return LBR_ENOMEM;
		}
	}

	r = get_time(c, jp, where, "observed_at", &p->observed_at);
	if (r < 0)
		return r;

	r = get(c, jp, where, "members", json_type_array, &v);
	if (r < 0)
		return r;
	if (r > 0) {
		cnt = json_object_array_length(v);
		if (cnt) {
			p->members = calloc(cnt, sizeof(*p->members));
			if (!p->members)
				return LBR_ENOMEM;
		}
		for (i = 0; i < cnt; i++) {
			p->n_members++;
			r = parse_member(c, json_object_array_get_idx(v, i),
					 where, &p->members[i]);
			if (r < 0)
				return r;
		}
	}

	r = get(c, jp, where, "last_apply", json_type_object, &la);
	if (r < 0)
		return r;
	if (r > 0) {
		snprintf(where, sizeof(where), "pool '%.100s' last_apply: ",
			 name);
		r = get_strdup(c, la, where, "result", &p->last_result, 1);
		if (r < 0)
			return r;
		r = get_time(c, la, where, "at", &p->last_apply_at);
		if (r < 0)
			return r;
		n = 0;
		r = get_int(c, la, where, "removed", 0, UINT_MAX, &n, 0);
		if (r < 0)
			return r;
		p->last_removed = (unsigned)n;
		n = 0;
		r = get_int(c, la, where, "errors", 0, UINT_MAX, &n, 0);
		if (r < 0)
			return r;
		p->last_errors = (unsigned)n;
	}
	return 0;
}

/* 1 when buf[0..len) holds one complete JSON value followed by at most
 * whitespace. */
static int complete_prefix(const char *buf, size_t len)
{
	struct json_tokener *tok;
	json_object *o;
	int ok;

	if (len == 0)
		return 0;
	tok = json_tokener_new_ex(PARSE_DEPTH);
	if (!tok)
		return 0;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	ok = o != NULL;
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

/* Parse into a fresh document; `why` gets the reason on failure. */
static int parse_doc(const char *buf, size_t len, struct lbr_state **out,
		     char *why, size_t whylen)
{
	struct pctx c = { why, whylen };
	struct json_tokener *tok = NULL;
	struct lbr_state *doc = NULL;
	json_object *root = NULL, *v;
	enum json_tokener_error jerr;
	int64_t n;
	size_t end, i, cnt;
	int r = LBR_ECORRUPT;

	*out = NULL;
	if (len == 0) {
		r = bad(&c, "empty file");
		goto out;
	}
	if (len > INT_MAX) {
		r = bad(&c, "too large");
		goto out;
	}
	tok = json_tokener_new_ex(PARSE_DEPTH);
	if (!tok) {
		r = LBR_ENOMEM;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!root) {
		if (jerr == json_tokener_continue || jerr == json_tokener_success)
			r = bad(&c, "truncated: unexpected end of input");
		else if (complete_prefix(buf, json_tokener_get_parse_end(tok)))
			/* Strict mode reports a second value after the first
			 * as a syntax error; say what it really is. */
			r = bad(&c, "trailing data at offset %zu",
				json_tokener_get_parse_end(tok));
		else
			r = bad(&c, "invalid JSON at offset %zu: %s",
				json_tokener_get_parse_end(tok),
				json_tokener_error_desc(jerr));
		goto out;
	}
	/* Only whitespace may follow the document: anything else is a sign of
	 * two writers or a torn write, and we refuse to guess. */
	end = json_tokener_get_parse_end(tok);
	for (i = end; i < len; i++) {
		if (!strchr(" \t\r\n", buf[i]) || buf[i] == '\0') {
			r = bad(&c, "trailing data at offset %zu", i);
			goto out;
		}
	}
	if (!json_object_is_type(root, json_type_object)) {
		r = bad(&c, "not a JSON object");
		goto out;
	}

	doc = lbr_state_new();
	if (!doc) {
		r = LBR_ENOMEM;
		goto out;
	}
	r = get_int(&c, root, "", "format_version", 1, INT_MAX, &n, 1);
	if (r < 0)
		goto out;
	if (n > LBR_STATE_FORMAT_VERSION) {
		/* Not corrupt: it is simply not ours to read or overwrite. */
		snprintf(why, whylen,
			 "written by a newer lbreconcile (format_version %lld)",
			 (long long)n);
		r = LBR_EINVAL;
		goto out;
	}
	doc->format_version = (int)n;

	r = get(&c, root, "", "lineage", json_type_string, &v);
	if (r < 0)
		goto out;
	if (r == 0) {
		r = bad(&c, "missing 'lineage'");
		goto out;
	}
	if (!lbr_state_uuid_valid(json_object_get_string(v))) {
		r = bad(&c, "'lineage' is not a UUID");
		goto out;
	}
	memcpy(doc->lineage, json_object_get_string(v), 37);

	r = get_int(&c, root, "", "serial", 0, INT64_MAX, &n, 1);
	if (r < 0)
		goto out;
	doc->serial = (uint64_t)n;
	r = get_strdup(&c, root, "", "agent_version", &doc->agent_version, 0);
	if (r < 0)
		goto out;
	r = get_time(&c, root, "", "updated_at", &doc->updated_at);
	if (r < 0)
		goto out;

	r = get(&c, root, "", "pools", json_type_object, &v);
	if (r < 0)
		goto out;
	if (r > 0) {
		cnt = (size_t)json_object_object_length(v);
		if (cnt) {
			doc->pools = calloc(cnt, sizeof(*doc->pools));
			if (!doc->pools) {
				r = LBR_ENOMEM;
				goto out;
			}
		}
		json_object_object_foreach(v, pk, pv) {
			if (doc->n_pools >= cnt)
				break;
			/* Counted before parsing so a half-filled pool is
			 * released with the document. */
			doc->n_pools++;
			r = parse_pool(&c, pk, pv, &doc->pools[doc->n_pools - 1]);
			if (r < 0)
				goto out;
		}
	}

	*out = doc;
	doc = NULL; /* transferred */
	r = 0;
out:
	if (r == LBR_ENOMEM)
		snprintf(why, whylen, "out of memory");
	lbr_state_free(doc);
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	return r;
}

int lbr_state_parse(const char *buf, size_t len, struct lbr_state **out,
		    char *err, size_t errlen)
{
	char why[256] = "";
	int r;

	r = parse_doc(buf, len, out, why, sizeof(why));
	if (r == LBR_EINVAL)
		lbr_state_seterr(err, errlen, "state: document %s", why);
	else if (r < 0)
		lbr_state_seterr(err, errlen, "state: document is corrupt (%s)",
				 why);
	return r;
}

int lbr_state_parse_file(const char *path, const char *buf, size_t len,
			 struct lbr_state **out, char *err, size_t errlen)
{
	char why[256] = "";
	int r;

	r = parse_doc(buf, len, out, why, sizeof(why));
	if (r == LBR_EINVAL)
		lbr_state_seterr(err, errlen, "state: '%s' was %s", path, why);
	else if (r < 0)
		lbr_state_seterr(err, errlen, "state: '%s' is corrupt (%s)",
				 path, why);
	return r;
}

/* ---- store ----------------------------------------------------------- */

int lbr_state_store_open(const char *spec, const char *base_dir,
			 struct lbr_state_store **out, char *err, size_t errlen)
{
	char *path = NULL;
	int r = LBR_EINVAL;

	*out = NULL;
	if (!spec || !*spec) {
		lbr_state_seterr(err, errlen, "state: empty state location");
		goto out;
	}
	if (strncmp(spec, "etcd://", 7) == 0) {
		r = lbr_state_etcd_open(spec, out, err, errlen);
		goto out;
	}
	if (strstr(spec, "://")) {
		lbr_state_seterr(err, errlen,
				 "state: unsupported state location '%s' "
				 "(a path or etcd://HOST:PORT/PREFIX)", spec);
		goto out;
	}
	if (spec[0] != '/' && base_dir && *base_dir) {
		size_t n = strlen(base_dir) + strlen(spec) + 2;

		path = malloc(n);
		if (!path) {
			r = LBR_ENOMEM;
			goto out;
		}
		snprintf(path, n, "%s%s%s", base_dir,
			 base_dir[strlen(base_dir) - 1] == '/' ? "" : "/", spec);
	} else {
		path = strdup(spec);
		if (!path) {
			r = LBR_ENOMEM;
			goto out;
		}
	}
	r = lbr_state_local_open(path, out, err, errlen);
out:
	free(path);
	return r;
}

const char *lbr_state_store_location(const struct lbr_state_store *st)
{
	return st ? st->location : NULL;
}

const char *lbr_state_store_message(const struct lbr_state_store *st)
{
	return st && st->msg[0] ? st->msg : NULL;
}
