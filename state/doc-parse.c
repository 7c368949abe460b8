/*
 * Parsing the state document.
 *
 * Parsing is strict about what lbreconcile needs (types, ranges, required
 * keys) and tolerant of keys it does not know, so that an older agent can
 * read a document that a newer one extended without a format bump.  It is
 * also the fuzzing entry point: any byte string must give either a document
 * or LBR_ECORRUPT/LBR_EINVAL, never a crash or a leak.
 */
#include "config.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "state/state-int.h"

/* Refuse documents deeper than this; ours are 5 levels deep. */
#define PARSE_DEPTH 16

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- parsing --------------------------------------------------------- */

struct pctx {
	char *why;
	size_t whylen;
};

static int bad(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct pctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, c->whylen, fmt, ap);
	va_end(ap);
	return LBR_ECORRUPT;
}

/* Fetch key k of o with type t.  1 found, 0 absent, <0 wrong type. */
static int get(struct pctx *c, json_object *o, const char *where, const char *k, json_type t,
	       json_object **v)
{
	*v = NULL;
	if (!json_object_object_get_ex(o, k, v) || !*v) {
		*v = NULL;
		return 0;
	}
	if (!json_object_is_type(*v, t))
		return bad(c, "%s'%s' is not %s", where, k,
			   t == json_type_string  ? "a string"
			   : t == json_type_int   ? "an integer"
			   : t == json_type_array ? "an array"
						  : "an object");
	return 1;
}

static int get_int(struct pctx *c, json_object *o, const char *where, const char *k, int64_t lo,
		   int64_t hi, int64_t *out, int req)
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

static int get_time(struct pctx *c, json_object *o, const char *where, const char *k, int64_t *out)
{
	json_object *v;
	int r = get(c, o, where, k, json_type_string, &v);

	if (r <= 0)
		return r;
	if (lbr_state_parse_time(json_object_get_string(v), out) < 0)
		return bad(c, "%s'%s' is not an RFC 3339 UTC time", where, k);
	return 1;
}

static int get_strdup(struct pctx *c, json_object *o, const char *where, const char *k, char **out,
		      int req)
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
	int64_t port = 0, weight;
	int r;

	if (!json_object_is_type(jm, json_type_object))
		return bad(c, "%smember is not an object", where);
	r = get_strdup(c, jm, where, "id", &m->id, 1);
	if (r < 0)
		return r;
	r = get_strdup(c, jm, where, "address", &m->address, 1);
	if (r < 0)
		return r;
	if (inet_pton(AF_INET, m->address, buf) != 1 && inet_pton(AF_INET6, m->address, buf) != 1)
		return bad(c, "%smember address '%.64s' is not an IP address", where, m->address);
	r = get_int(c, jm, where, "port", 0, 65535, &port, 1);
	if (r < 0)
		return r;
	m->port = (unsigned)port;
	r = get_strdup(c, jm, where, "name", &m->name, 0);
	if (r < 0)
		return r;
	weight = -1;
	r = get_int(c, jm, where, "weight", 0, INT_MAX, &weight, 0);
	if (r < 0)
		return r;
	m->weight = (int)weight;
	return 0;
}

/* One entry of a pool's "owned": a canonical ADDRESS:PORT string. */
static int parse_owned_key(struct pctx *c, json_object *v, const char *where, size_t i, char **out)
{
	char key[LBR_STATE_KEY_LEN], addr[LBR_STATE_KEY_LEN];
	const char *s, *colon, *a;
	size_t alen, k;
	unsigned port = 0;

	if (!v || !json_object_is_type(v, json_type_string))
		return bad(c, "%sowned[%zu] is not a string", where, i);
	s = json_object_get_string(v);
	colon = strrchr(s, ':');
	if ((size_t)json_object_get_string_len(v) != strlen(s) || !colon || !colon[1] ||
	    strlen(colon + 1) > 5)
		goto bad_key;
	for (k = 1; colon[k]; k++) {
		if (colon[k] < '0' || colon[k] > '9')
			goto bad_key;
		port = port * 10 + (unsigned)(colon[k] - '0');
	}
	a = s;
	alen = (size_t)(colon - s);
	if (alen >= 2 && s[0] == '[' && colon[-1] == ']') {
		a++;
		alen -= 2;
	}
	if (alen == 0 || alen >= sizeof(addr))
		goto bad_key;
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	if (lbr_state_member_key(addr, port, key) < 0)
		goto bad_key;
	if (strcmp(key, s) != 0)
		return bad(c,
			   "%sowned[%zu] '%.64s' is not canonical (expected "
			   "'%s')",
			   where, i, s, key);
	*out = strdup(s);
	return *out ? 0 : LBR_ENOMEM;
bad_key:
	return bad(c,
		   "%sowned[%zu] '%.64s' is not ADDRESS:PORT (port 1-65535, "
		   "IPv6 in brackets)",
		   where, i, s);
}

static int parse_owned(struct pctx *c, json_object *v, const char *where, struct lbr_state_pool *p)
{
	size_t i, cnt = json_object_array_length(v);
	int r;

	p->has_owned = 1;
	if (cnt) {
		p->owned = calloc(cnt, sizeof(*p->owned));
		if (!p->owned)
			return LBR_ENOMEM;
	}
	for (i = 0; i < cnt; i++) {
		r = parse_owned_key(c, json_object_array_get_idx(v, i), where, i, &p->owned[i]);
		if (r < 0)
			return r;
		p->n_owned++;
	}
	/* A duplicate is a sign of a hand edit gone wrong; the writer never
	 * produces one. */
	for (i = 1; i < cnt; i++) {
		size_t j;

		for (j = 0; j < i && cnt <= 64; j++)
			if (!strcmp(p->owned[i], p->owned[j]))
				return bad(c, "%sowned '%.64s' appears twice", where, p->owned[i]);
	}
	if (cnt > 64) {
		char **copy = malloc(cnt * sizeof(*copy));

		if (!copy)
			return LBR_ENOMEM;
		memcpy(copy, p->owned, cnt * sizeof(*copy));
		qsort(copy, cnt, sizeof(*copy), str_ptr_cmp);
		for (i = 1; i < cnt; i++) {
			if (!strcmp(copy[i - 1], copy[i])) {
				r = bad(c, "%sowned '%.64s' appears twice", where, copy[i]);
				free(copy);
				return r;
			}
		}
		free(copy);
	}
	lbr_state_owned_sort(p);
	return 0;
}

static int parse_counters(struct pctx *c, json_object *v, struct lbr_state *doc)
{
	size_t cnt = (size_t)json_object_object_length(v);

	if (cnt) {
		doc->counters = calloc(cnt, sizeof(*doc->counters));
		if (!doc->counters)
			return LBR_ENOMEM;
	}
	json_object_object_foreach(v, k, cv)
	{
		struct lbr_state_counter *ct;
		int64_t n;

		if (doc->n_counters >= cnt)
			break;
		if (!lbr_state_counter_name_valid(k))
			return bad(c, "counter '%.64s' has an invalid name", k);
		if (!cv || !json_object_is_type(cv, json_type_int))
			return bad(c, "counter '%s' is not an integer", k);
		n = json_object_get_int64(cv);
		if (n < 0)
			return bad(c, "counter '%s' is negative", k);
		if (n >= INT64_MAX) /* json-c saturates larger numbers */
			return bad(c, "counter '%s' out of range", k);
		ct = &doc->counters[doc->n_counters];
		ct->name = strdup(k);
		if (!ct->name)
			return LBR_ENOMEM;
		ct->value = (uint64_t)n;
		doc->n_counters++;
	}
	return 0;
}

static int parse_pool(struct pctx *c, int version, const char *name, json_object *jp,
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
		json_object_object_foreach(v, tk, tv)
		{
			struct lbr_state_target *t;

			if (p->n_targets >= cnt)
				break;
			if (!tv || !json_object_is_type(tv, json_type_string))
				return bad(c, "%starget '%.64s' is not a string", where, tk);
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
			r = parse_member(c, json_object_array_get_idx(v, i), where, &p->members[i]);
			if (r < 0)
				return r;
		}
	}

	r = get(c, jp, where, "last_apply", json_type_object, &la);
	if (r < 0)
		return r;
	if (r > 0) {
		snprintf(where, sizeof(where), "pool '%.100s' last_apply: ", name);
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

	/* Format 1 had no ownership record: whatever is there is not ours. */
	if (version < 2)
		return 0;
	snprintf(where, sizeof(where), "pool '%.100s': ", name);
	r = get(c, jp, where, "owned", json_type_array, &v);
	if (r < 0)
		return r;
	if (r > 0)
		return parse_owned(c, v, where, p);
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
static int parse_doc(const char *buf, size_t len, struct lbr_state **out, char *why, size_t whylen)
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
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!root) {
		if (jerr == json_tokener_continue || jerr == json_tokener_success)
			r = bad(&c, "truncated: unexpected end of input");
		else if (complete_prefix(buf, json_tokener_get_parse_end(tok)))
			/* Strict mode reports a second value after the first
			 * as a syntax error; say what it really is. */
			r = bad(&c, "trailing data at offset %zu", json_tokener_get_parse_end(tok));
		else
			r = bad(&c, "invalid JSON at offset %zu: %s",
				json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
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
		snprintf(why, whylen, "written by a newer lbreconcile (format_version %lld)",
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
		json_object_object_foreach(v, pk, pv)
		{
			if (doc->n_pools >= cnt)
				break;
			/* Counted before parsing so a half-filled pool is
			 * released with the document. */
			doc->n_pools++;
			r = parse_pool(&c, doc->format_version, pk, pv,
				       &doc->pools[doc->n_pools - 1]);
			if (r < 0)
				goto out;
		}
	}

	if (doc->format_version >= 2) {
		r = get(&c, root, "", "counters", json_type_object, &v);
		if (r < 0)
			goto out;
		if (r > 0) {
			r = parse_counters(&c, v, doc);
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

int lbr_state_parse(const char *buf, size_t len, struct lbr_state **out, char *err, size_t errlen)
{
	char why[256] = "";
	int r;

	r = parse_doc(buf, len, out, why, sizeof(why));
	if (r == LBR_EINVAL)
		lbr_state_seterr(err, errlen, "state: document %s", why);
	else if (r < 0)
		lbr_state_seterr(err, errlen, "state: document is corrupt (%s)", why);
	return r;
}

int lbr_state_parse_file(const char *path, const char *buf, size_t len, struct lbr_state **out,
			 char *err, size_t errlen)
{
	char why[256] = "";
	int r;

	r = parse_doc(buf, len, out, why, sizeof(why));
	if (r == LBR_EINVAL)
		lbr_state_seterr(err, errlen, "state: '%s' was %s", path, why);
	else if (r < 0)
		lbr_state_seterr(err, errlen, "state: '%s' is corrupt (%s)", path, why);
	return r;
}
