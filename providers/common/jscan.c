/*
 * A strict JSON reader that builds nothing (see jscan.h).
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "jscan.h"

static int fail(struct lbr_js *js, const char *why)
{
	if (!js->err) {
		js->err = 1;
		js->where = why;
	}
	js->p = js->end;
	return -1;
}

static void skip_ws(struct lbr_js *js)
{
	while (js->p < js->end &&
	       (*js->p == ' ' || *js->p == '\t' || *js->p == '\n' || *js->p == '\r'))
		js->p++;
}

void lbr_js_init(struct lbr_js *js, char *buf, size_t len)
{
	memset(js, 0, sizeof(*js));
	js->p = buf;
	js->end = buf ? buf + len : buf;
	if (!buf || len == 0)
		fail(js, "empty response");
}

enum lbr_js_type lbr_js_peek(struct lbr_js *js)
{
	if (js->err)
		return LBR_JS_BAD;
	skip_ws(js);
	if (js->p >= js->end)
		return LBR_JS_BAD;
	switch (*js->p) {
	case '{': return LBR_JS_OBJECT;
	case '[': return LBR_JS_ARRAY;
	case '"': return LBR_JS_STRING;
	case 't':
	case 'f': return LBR_JS_BOOL;
	case 'n': return LBR_JS_NULL;
	default:
		if (*js->p == '-' || (*js->p >= '0' && *js->p <= '9'))
			return LBR_JS_NUMBER;
		return LBR_JS_BAD;
	}
}

static int enter(struct lbr_js *js, char open)
{
	if (js->err)
		return -1;
	skip_ws(js);
	if (js->p >= js->end)
		return fail(js, "truncated");
	if (*js->p != open)
		return -1;
	if (js->depth >= LBR_JS_MAX_DEPTH)
		return fail(js, "nested too deeply");
	js->p++;
	js->depth++;
	js->first = 1;
	return 0;
}

int lbr_js_object(struct lbr_js *js)
{
	return enter(js, '{');
}

int lbr_js_array(struct lbr_js *js)
{
	return enter(js, '[');
}

/* Before an element of the current container: 1 when one follows, 0 when
 * `close` ended it. */
static int next_elem(struct lbr_js *js, char close)
{
	if (js->err)
		return -1;
	skip_ws(js);
	if (js->p >= js->end)
		return fail(js, "truncated");
	if (*js->p == close) {
		js->p++;
		js->depth--;
		js->first = 0;
		return 0;
	}
	if (js->first) {
		js->first = 0;
		return 1;
	}
	if (*js->p != ',')
		return fail(js, "missing ','");
	js->p++;
	skip_ws(js);
	if (js->p >= js->end)
		return fail(js, "truncated");
	if (*js->p == close)
		return fail(js, "trailing comma");
	return 1;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *d, unsigned cp)
{
	if (cp < 0x80) {
		*d++ = (char)cp;
	} else if (cp < 0x800) {
		*d++ = (char)(0xc0 | (cp >> 6));
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*d++ = (char)(0xe0 | (cp >> 12));
		*d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*d++ = (char)(0xf0 | (cp >> 18));
		*d++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	}
	return d;
}

/* Decode the string at js->p (a '"') in place.  The decoded text is never
 * longer than the escaped one, so writing starts at the opening quote and
 * always stays behind the reading. */
/* The first byte at or after s that ends a plain run: '"', '\\', a
 * control character, or end.  Eight bytes at a time while none is in
 * them (the zero-byte tests of each word; bytes >= 0x80 never match). */
static char *plain_run(char *s, const char *end)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;

	while (end - s >= 8) {
		uint64_t v, q, b;

		memcpy(&v, s, 8);
		q = v ^ (ones * '"');
		b = v ^ (ones * '\\');
		if (((q - ones) & ~q & highs) | ((b - ones) & ~b & highs) |
		    ((v - ones * 0x20) & ~v & highs))
			break;
		s += 8;
	}
	while (s < end && *s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
		s++;
	return s;
}

static const char *read_string(struct lbr_js *js)
{
	char *s = js->p + 1, *d = js->p, *out = js->p;
	unsigned cp, lo;

	/* Most strings hold no escape: find the closing quote without
	 * moving anything and end the string there, in place. */
	s = plain_run(s, js->end);
	if (s < js->end && *s == '"') {
		*s = '\0';
		js->p = s + 1;
		return out + 1;
	}
	/* An escape (or an error): decode from the start, shifting left. */
	s = js->p + 1;
	for (;;) {
		/* The common case: a run of plain bytes. */
		while (s < js->end && *s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
			*d++ = *s++;
		if (s >= js->end) {
			fail(js, "truncated string");
			return NULL;
		}
		if (*s == '"')
			break;
		if ((unsigned char)*s < 0x20) {
			fail(js, "control character in a string");
			return NULL;
		}
		/* A backslash. */
		if (js->end - s < 2) {
			fail(js, "truncated string");
			return NULL;
		}
		switch (s[1]) {
		case '"':
		case '\\':
		case '/':
			*d++ = s[1];
			s += 2;
			continue;
		case 'b':
			*d++ = '\b';
			s += 2;
			continue;
		case 'f':
			*d++ = '\f';
			s += 2;
			continue;
		case 'n':
			*d++ = '\n';
			s += 2;
			continue;
		case 'r':
			*d++ = '\r';
			s += 2;
			continue;
		case 't':
			*d++ = '\t';
			s += 2;
			continue;
		case 'u': break;
		default: fail(js, "unknown escape in a string"); return NULL;
		}
		if (js->end - s < 6 || hex4(s + 2, &cp) < 0) {
			fail(js, "bad \\u escape");
			return NULL;
		}
		s += 6;
		/* Valid JSON that a C string cannot hold as such: NUL and lone
		 * surrogates become U+FFFD (as json-c does for the latter), so
		 * an id or address holding one fails its own check. */
		if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff)) {
			cp = 0xfffd;
		} else if (cp >= 0xd800 && cp <= 0xdbff) {
			if (js->end - s >= 6 && s[0] == '\\' && s[1] == 'u' &&
			    hex4(s + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
				s += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else {
				cp = 0xfffd;
			}
		}
		/* \uXXXX is 6 bytes, at most 4 written (12 -> 4 for a pair, 6 -> 3
		 * for U+FFFD). */
		d = put_utf8(d, cp);
	}
	*d = '\0';
	js->p = s + 1;
	return out;
}

int lbr_js_key(struct lbr_js *js, const char **key)
{
	int r = next_elem(js, '}');

	if (r <= 0)
		return r;
	if (*js->p != '"')
		return fail(js, "object key is not a string");
	*key = read_string(js);
	if (!*key)
		return -1;
	skip_ws(js);
	if (js->p >= js->end || *js->p != ':')
		return fail(js, "missing ':'");
	js->p++;
	skip_ws(js);
	if (js->p >= js->end)
		return fail(js, "truncated");
	return 1;
}

int lbr_js_item(struct lbr_js *js)
{
	return next_elem(js, ']');
}

const char *lbr_js_string(struct lbr_js *js)
{
	if (lbr_js_peek(js) != LBR_JS_STRING)
		return NULL;
	return read_string(js);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int lbr_js_integer(struct lbr_js *js, long long *v)
{
	char *s;
	int neg = 0, integer = 1, sat = 0;
	long long acc = 0;

	if (lbr_js_peek(js) != LBR_JS_NUMBER)
		return -1;
	s = js->p;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (s >= js->end || !is_digit(*s))
		return fail(js, "bad number");
	if (*s == '0') {
		s++;
		if (s < js->end && is_digit(*s))
			return fail(js, "number with a leading zero");
	} else {
		while (s < js->end && is_digit(*s)) {
			int dgt = *s - '0';

			/* Accumulate negatively: -LLONG_MIN does not fit. */
			if (!sat && (acc < (LLONG_MIN + dgt) / 10))
				sat = 1;
			if (!sat)
				acc = acc * 10 - dgt;
			s++;
		}
	}
	if (s < js->end && *s == '.') {
		integer = 0;
		s++;
		if (s >= js->end || !is_digit(*s))
			return fail(js, "bad number");
		while (s < js->end && is_digit(*s))
			s++;
	}
	if (s < js->end && (*s == 'e' || *s == 'E')) {
		integer = 0;
		s++;
		if (s < js->end && (*s == '+' || *s == '-'))
			s++;
		if (s >= js->end || !is_digit(*s))
			return fail(js, "bad number");
		while (s < js->end && is_digit(*s))
			s++;
	}
	js->p = s;
	if (!integer)
		return 0;
	if (sat)
		*v = neg ? LLONG_MIN : LLONG_MAX;
	else if (neg)
		*v = acc;
	else
		*v = acc == LLONG_MIN ? LLONG_MAX : -acc;
	return 1;
}

static int literal(struct lbr_js *js, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(js->end - js->p) < n || memcmp(js->p, word, n) != 0)
		return fail(js, "bad literal");
	js->p += n;
	return 0;
}

int lbr_js_skip(struct lbr_js *js)
{
	long long ignored;
	const char *key;
	int r;

	switch (lbr_js_peek(js)) {
	case LBR_JS_STRING: return lbr_js_string(js) ? 0 : -1;
	case LBR_JS_NUMBER: return lbr_js_integer(js, &ignored) < 0 ? -1 : 0;
	case LBR_JS_BOOL: return literal(js, *js->p == 't' ? "true" : "false");
	case LBR_JS_NULL: return literal(js, "null");
	case LBR_JS_OBJECT:
		if (lbr_js_object(js) < 0)
			return -1;
		while ((r = lbr_js_key(js, &key)) > 0)
			if (lbr_js_skip(js) < 0)
				return -1;
		return r;
	case LBR_JS_ARRAY:
		if (lbr_js_array(js) < 0)
			return -1;
		while ((r = lbr_js_item(js)) > 0)
			if (lbr_js_skip(js) < 0)
				return -1;
		return r;
	default: return fail(js, js->p >= js->end ? "truncated" : "not a JSON value");
	}
}

int lbr_js_finish(struct lbr_js *js)
{
	if (js->err)
		return -1;
	if (js->depth != 0)
		return fail(js, "truncated");
	skip_ws(js);
	if (js->p != js->end)
		return fail(js, "text after the JSON value");
	return 0;
}
