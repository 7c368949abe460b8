/*
 * The state document writer (lbr_state_to_json): deterministic output, in
 * json-c's pretty layout.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/state-int.h"

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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

/* A member with its address parsed once (sorting compares n log n times). */
struct keyed_member {
	const struct lbr_state_member *m;
	int fam;
	unsigned char key[16];
};

static int member_cmp(const void *pa, const void *pb)
{
	const struct keyed_member *ka = pa, *kb = pb;
	const struct lbr_state_member *a = ka->m, *b = kb->m;
	int c;

	if (ka->fam != kb->fam)
		return ka->fam < kb->fam ? -1 : 1;
	if (ka->fam == 2)
		c = strcmp(a->address ? a->address : "", b->address ? b->address : "");
	else
		c = memcmp(ka->key, kb->key, 16);
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
	int oom; /* out of memory, or a write to fd failed (errno in err) */
	int fd;  /* >= 0: stream to this file, buf is a fixed-size window */
	int err;
};

/* Streaming: write out what buf holds.  -1 on failure (w->err). */
static int jw_flush(struct jw *w)
{
	if (w->fd < 0 || w->oom || w->len == 0)
		return w->oom ? -1 : 0;
	if (lbr_state_write_all(w->fd, w->buf, w->len) < 0) {
		w->err = errno;
		w->oom = 1;
		return -1;
	}
	w->len = 0;
	return 0;
}

/* Room for n more bytes (and the NUL), flushing or growing the buffer;
 * NULL when there is none (w->oom) or n does not fit the window. */
static char *jw_room(struct jw *w, size_t n)
{
	if (w->oom)
		return NULL;
	if (w->len + n + 2 > w->cap) {
		if (w->fd >= 0) {
			if (jw_flush(w) < 0 || n + 2 > w->cap)
				return NULL;
		} else {
			size_t ncap = w->cap ? w->cap : 4096;
			char *nb;

			while (ncap < w->len + n + 2)
				ncap *= 2;
			nb = realloc(w->buf, ncap);
			if (!nb) {
				w->oom = 1;
				return NULL;
			}
			w->buf = nb;
			w->cap = ncap;
		}
	}
	return w->buf + w->len;
}

static void jw_put(struct jw *w, const char *s, size_t n)
{
	char *o = jw_room(w, n);

	if (!o) {
		/* larger than the file window: straight to the file */
		if (!w->oom && w->fd >= 0 && lbr_state_write_all(w->fd, s, n) < 0) {
			w->err = errno;
			w->oom = 1;
		}
		return;
	}
	memcpy(o, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void jw_lit(struct jw *w, const char *s)
{
	jw_put(w, s, strlen(s));
}

static void jw_str_slow(struct jw *w, const char *s);

/* A JSON string: quotes, backslashes and control characters escaped.
 * Written in place: at most 6 bytes per input byte, plus the quotes. */
static void jw_str(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n;
	char *o, *start;

	if (!s)
		s = "";
	n = strlen(s);
	start = o = n < SIZE_MAX / 8 ? jw_room(w, 6 * n + 2) : NULL;
	if (!o) {
		if (!w->oom)
			jw_str_slow(w, s); /* larger than the file window */
		return;
	}
	*o++ = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			memcpy(o, "u00", 3);
			o[3] = hex[c >> 4];
			o[4] = hex[c & 15];
			o += 5;
		}
	}
	*o++ = '"';
	*o = '\0';
	w->len += (size_t)(o - start);
}

/* The same, through jw_put: for a string larger than the file window. */
static void jw_str_slow(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run;

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
	char *o = n < 64 ? jw_room(w, (size_t)n + 2) : NULL;

	if (o) {
		char *start = o;

		if (!*first)
			*o++ = ',';
		*o++ = '\n';
		memset(o, ' ', (size_t)n);
		o += n;
		*o = '\0';
		w->len += (size_t)(o - start);
		*first = 0;
		return;
	}
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
	char b[24], *e = b + sizeof(b), *p = e;
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	jw_put(w, p, (size_t)(e - p));
}

static void jw_time(struct jw *w, int64_t t)
{
	char buf[LBR_TIME_LEN];

	lbr_state_fmt_time(t, buf);
	jw_str(w, buf);
}

/* The ownership record, sorted (the caller may have filled it by hand). */
static void owned_write(struct jw *w, const struct lbr_state_pool *p, int *pfirst)
{
	char **sorted = NULL;
	size_t i, n = 0;
	int first;

	if (p->n_owned) {
		sorted = calloc(p->n_owned, sizeof(*sorted));
		if (!sorted) {
			w->oom = 1;
			return;
		}
		for (i = 0; i < p->n_owned; i++)
			if (p->owned[i])
				sorted[n++] = p->owned[i];
		qsort(sorted, n, sizeof(*sorted), str_ptr_cmp);
	}
	jw_key(w, 3, pfirst, "owned");
	jw_put(w, "[", 1);
	first = 1;
	for (i = 0; i < n; i++) {
		/* A hand-filled record may repeat a key; the parser would
		 * refuse the duplicate. */
		if (i && strcmp(sorted[i - 1], sorted[i]) == 0)
			continue;
		jw_next(w, 4, &first);
		jw_str(w, sorted[i]);
	}
	jw_close(w, 3, ']');
	free(sorted);
}

static int counter_ptr_cmp(const void *pa, const void *pb)
{
	const struct lbr_state_counter *a = *(const struct lbr_state_counter *const *)pa;
	const struct lbr_state_counter *b = *(const struct lbr_state_counter *const *)pb;

	return strcmp(a->name, b->name);
}

static void counters_write(struct jw *w, const struct lbr_state *doc)
{
	const struct lbr_state_counter **sorted = NULL;
	size_t i, n = 0;
	int first = 1;

	if (doc->n_counters) {
		sorted = calloc(doc->n_counters, sizeof(*sorted));
		if (!sorted) {
			w->oom = 1;
			return;
		}
		for (i = 0; i < doc->n_counters; i++)
			if (lbr_state_counter_name_valid(doc->counters[i].name))
				sorted[n++] = &doc->counters[i];
		qsort(sorted, n, sizeof(*sorted), counter_ptr_cmp);
	}
	jw_put(w, "{", 1);
	for (i = 0; i < n; i++) {
		if (i && strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
			continue;
		jw_key(w, 2, &first, sorted[i]->name);
		jw_int(w, (long long)(sorted[i]->value > (uint64_t)INT64_MAX - 1
					      ? (uint64_t)INT64_MAX - 1
					      : sorted[i]->value));
	}
	jw_close(w, 1, '}');
	free(sorted);
}

/* One pool, as the value of its name at level 2. */
static int pool_write(struct jw *w, const struct lbr_state_pool *p)
{
	struct keyed_member *sorted = NULL;
	int first = 1, f2;
	size_t i;

	if (p->n_members) {
		sorted = calloc(p->n_members, sizeof(*sorted));
		if (!sorted)
			return -1;
		for (i = 0; i < p->n_members; i++) {
			sorted[i].m = &p->members[i];
			addr_key(p->members[i].address, &sorted[i].fam, sorted[i].key);
		}
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
		jw_str(w, sorted[i].m->id);
		jw_key(w, 5, &f3, "address");
		jw_str(w, sorted[i].m->address);
		jw_key(w, 5, &f3, "port");
		jw_int(w, (int)sorted[i].m->port);
		if (sorted[i].m->name) {
			jw_key(w, 5, &f3, "name");
			jw_str(w, sorted[i].m->name);
		}
		if (sorted[i].m->weight >= 0) {
			jw_key(w, 5, &f3, "weight");
			jw_int(w, sorted[i].m->weight);
		}
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
	if (p->has_owned)
		owned_write(w, p, &first);
	jw_close(w, 2, '}');
	free(sorted);
	return w->oom ? -1 : 0;
}

/* Write doc (or its pool only_pool) through w, whose buffer is set up.
 * 0, -1 (w->oom / w->err), or 1 when only_pool is not in doc. */
static int doc_write(struct jw *w, const struct lbr_state *doc, const char *only_pool)
{
	const struct lbr_state_pool **sorted = NULL;
	size_t i, n = 0;
	int first = 1, f2 = 1;

	if (doc->n_pools) {
		sorted = calloc(doc->n_pools, sizeof(*sorted));
		if (!sorted)
			return -1;
	}
	for (i = 0; i < doc->n_pools; i++) {
		if (!doc->pools[i].name)
			continue;
		if (only_pool && strcmp(doc->pools[i].name, only_pool) != 0)
			continue;
		sorted[n++] = &doc->pools[i];
	}
	/* Asking for a pool that is not there is the caller's "not found". */
	if (only_pool && n == 0) {
		free(sorted);
		return 1;
	}
	if (n)
		qsort(sorted, n, sizeof(*sorted), pool_ptr_cmp);
	jw_put(w, "{", 1);
	jw_key(w, 1, &first, "format_version");
	jw_int(w, doc->format_version ? doc->format_version : LBR_STATE_FORMAT_VERSION);
	jw_key(w, 1, &first, "lineage");
	jw_str(w, doc->lineage);
	jw_key(w, 1, &first, "serial");
	jw_int(w, (long long)doc->serial);
	jw_key(w, 1, &first, "agent_version");
	jw_str(w, doc->agent_version);
	jw_key(w, 1, &first, "updated_at");
	jw_time(w, doc->updated_at);
	jw_key(w, 1, &first, "pools");
	jw_put(w, "{", 1);
	for (i = 0; i < n && !w->oom; i++) {
		jw_key(w, 2, &f2, sorted[i]->name);
		if (pool_write(w, sorted[i]) < 0)
			w->oom = 1;
	}
	jw_close(w, 1, '}');
	jw_key(w, 1, &first, "counters");
	counters_write(w, doc);
	jw_close(w, 0, '}');
	jw_put(w, "\n", 1);
	free(sorted);
	jw_flush(w);
	return w->oom ? -1 : 0;
}

int lbr_state_write_json_fd(const struct lbr_state *doc, int fd)
{
	struct jw w = { 0 };
	int r;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	w.fd = fd;
	w.cap = 256 * 1024;
	w.buf = malloc(w.cap);
	if (!w.buf) {
		errno = ENOMEM;
		return -1;
	}
	r = doc_write(&w, doc, NULL);
	free(w.buf);
	if (r != 0)
		errno = w.err ? w.err : ENOMEM;
	return r == 0 ? 0 : -1;
}

char *lbr_state_to_json(const struct lbr_state *doc, const char *only_pool)
{
	struct jw w = { 0 };
	size_t i, n = 0, members = 0;

	if (!doc)
		return NULL;
	for (i = 0; i < doc->n_pools; i++) {
		if (!doc->pools[i].name)
			continue;
		if (only_pool && strcmp(doc->pools[i].name, only_pool) != 0)
			continue;
		members += doc->pools[i].n_members + doc->pools[i].n_owned;
		n++;
	}
	/* About 130 bytes per member: one allocation in most cases. */
	w.fd = -1;
	w.cap = 4096 + n * 512 + members * 160;
	w.buf = malloc(w.cap);
	if (!w.buf)
		return NULL;
	w.buf[0] = '\0';
	if (doc_write(&w, doc, only_pool) != 0) {
		free(w.buf);
		return NULL;
	}
	return w.buf;
}

/* ---- audit lines ----------------------------------------------------- */

static void jw_str_or_null(struct jw *w, const char *s)
{
	if (s)
		jw_str(w, s);
	else
		jw_lit(w, "null");
}

/* json-c's JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE layout, key order as
 * lbr_audit_rec; one line per record. */
char *lbr_state_audit_lines(const struct lbr_audit_rec *recs, size_t n, size_t *lenp)
{
	struct jw w = { 0 };
	int64_t now = 0;
	size_t i;

	w.fd = -1;
	*lenp = 0;
	jw_put(&w, "", 0); /* an empty, terminated buffer for n == 0 */
	for (i = 0; i < n; i++) {
		const struct lbr_audit_rec *r = &recs[i];
		const char *const before[][2] = {
			{ ",\"pool\":", r->pool },
			{ ",\"provider\":", r->provider },
			{ ",\"member\":", r->member_id },
			{ ",\"address\":", r->address },
		};
		const char *const after[][2] = {
			{ ",\"action\":", r->action },
			{ ",\"outcome\":", r->outcome },
			{ ",\"request_id\":", r->request_id },
			{ ",\"detail\":", r->detail },
		};
		size_t k;

		if (!r->time && !now)
			now = (int64_t)time(NULL);
		jw_lit(&w, "{\"time\":");
		jw_time(&w, r->time ? r->time : now);
		for (k = 0; k < 4; k++) {
			jw_lit(&w, before[k][0]);
			jw_str_or_null(&w, before[k][1]);
		}
		jw_lit(&w, ",\"port\":");
		jw_int(&w, (int)r->port);
		for (k = 0; k < 4; k++) {
			jw_lit(&w, after[k][0]);
			jw_str_or_null(&w, after[k][1]);
		}
		jw_lit(&w, "}\n");
	}
	if (w.oom) {
		free(w.buf);
		return NULL;
	}
	*lenp = w.len;
	return w.buf;
}
