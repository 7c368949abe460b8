/*
 * Unit tests for the plugins' allocation-free JSON reader
 * (providers/common/jscan.c): every valid document is walked to the end,
 * every malformed one is refused, and strings decode exactly.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/jscan.h"
#include "tests/unit/tap.h"

/* Walk a whole document with lbr_js_skip + lbr_js_finish: 0 valid. */
static int check(const char *text, size_t len)
{
	struct lbr_js js;
	char *buf = malloc(len ? len : 1);
	int r;

	memcpy(buf, text, len);
	lbr_js_init(&js, buf, len);
	r = lbr_js_skip(&js) < 0 ? -1 : lbr_js_finish(&js);
	free(buf);
	return r;
}

static int valid(const char *text)
{
	return check(text, strlen(text)) == 0;
}

static void test_grammar(void)
{
	static const char *const good[] = {
		"{}",
		"[]",
		"0",
		"-0",
		"1.5",
		"-1e10",
		"2E+3",
		"3e-2",
		"\"\"",
		"true",
		"false",
		"null",
		" \t\r\n{ \"a\" : [ 1 , 2 , { } ] } \n",
		"{\"a\":{\"b\":{\"c\":[[[]]]}},\"d\":\"e\"}",
		"\"\\u00e9\\ud83d\\ude00\"",
		"\"\\ud800\"",
		"\"\\udc00\"",
		"\"\\ud800\\u0041\"",
		"\"\\u0000\"",
		"\"caf\xc3\xa9\"",
		"[1,\"x\",null,true,false,{\"k\":-12.5e3}]",
	};
	static const char *const bad[] = {
		"",
		" ",
		"{",
		"[",
		"{\"a\"",
		"{\"a\":",
		"{\"a\":1",
		"{\"a\":1,}",
		"[1,]",
		"[,1]",
		"{,}",
		"{\"a\" 1}",
		"{a:1}",
		"{'a':1}",
		"01",
		"-",
		"1.",
		".5",
		"+1",
		"1e",
		"1e+",
		"NaN",
		"Infinity",
		"tru",
		"nul",
		"falsey",
		"\"abc",
		"\"a\\x\"",
		"\"\\u12\"",
		"\"\\u12G4\"",
		"\"a\tb\"",
		"\"a\nb\"",
		"{} {}",
		"[] x",
		"{}}",
		"[1 2]",
		"{\"a\":1 \"b\":2}",
	};
	char deep[80], deeper[80];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		tap_ok(valid(good[i]), "valid: %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(!valid(bad[i]), "refused: '%s'", bad[i]);
	/* A NUL byte inside the text is not whitespace. */
	tap_ok(check("{}\0", 3) < 0, "refused: a NUL after the value");
	tap_ok(check("\"a\0b\"", 5) < 0, "refused: a raw NUL in a string");

	/* Depth: 32 nested arrays read, 33 refused. */
	memset(deep, '[', 32);
	memset(deep + 32, ']', 32);
	deep[64] = '\0';
	tap_ok(valid(deep), "32 levels of nesting read");
	memset(deeper, '[', 33);
	memset(deeper + 33, ']', 33);
	deeper[66] = '\0';
	tap_ok(!valid(deeper), "33 levels refused");
}

static void test_strings(void)
{
	char buf[] = "{\"k\\u0065y\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\","
		     "\"n\":null}";
	struct lbr_js js;
	const char *key, *s;

	lbr_js_init(&js, buf, strlen(buf));
	tap_is_int(lbr_js_object(&js), 0, "object entered");
	tap_is_int(lbr_js_key(&js, &key), 1, "a key");
	tap_is_str(key, "key", "key escapes decoded");
	s = lbr_js_string(&js);
	tap_is_str(s, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
		   "every escape decoded, surrogate pair to 4-byte UTF-8");
	tap_is_int(lbr_js_key(&js, &key), 1, "second key");
	tap_is_int(lbr_js_peek(&js), LBR_JS_NULL, "null peeked");
	tap_ok(lbr_js_string(&js) == NULL && !js.err, "a null is not a string, not an error");
	tap_is_int(lbr_js_skip(&js), 0, "null skipped");
	tap_is_int(lbr_js_key(&js, &key), 0, "object ended");
	tap_is_int(lbr_js_finish(&js), 0, "document finished");
	/* The decoded strings are still intact after reading on. */
	tap_is_str(key, "n", "borrowed key still valid");

	/* NUL and lone surrogates are valid JSON: U+FFFD, never a cut. */
	{
		char b2[] = "[\"a\\u0000b\", \"\\ud800\\u0041\", \"x\\udc00\"]";

		lbr_js_init(&js, b2, strlen(b2));
		lbr_js_array(&js);
		lbr_js_item(&js);
		tap_is_str(lbr_js_string(&js),
			   "a\xef\xbf\xbd"
			   "b",
			   "\\u0000 decodes to U+FFFD");
		lbr_js_item(&js);
		tap_is_str(lbr_js_string(&js),
			   "\xef\xbf\xbd"
			   "A",
			   "a lone high surrogate decodes to U+FFFD, the next escape as itself");
		lbr_js_item(&js);
		tap_is_str(lbr_js_string(&js), "x\xef\xbf\xbd",
			   "a lone low surrogate decodes to U+FFFD");
		tap_is_int(lbr_js_item(&js), 0, "array ended");
		tap_is_int(lbr_js_finish(&js), 0, "document finished");
	}
}

/* Strings of every length up to 40 with one special byte at every place:
 * the eight-bytes-at-a-time scan must stop exactly where the byte-wise one
 * would, whatever the alignment. */
static void test_string_runs(void)
{
	static const struct {
		const char *in;  /* the special part, as JSON text */
		const char *out; /* decoded; NULL: the document is refused */
	} sp[] = {
		{ "\\n", "\n" },    { "\\\"", "\"" }, { "\\\\", "\\" }, { "\xc3\xa9", "\xc3\xa9" },
		{ "\x7f", "\x7f" }, { "\x01", NULL }, { "\x1f", NULL }, { "\t", NULL },
		{ "\xff", "\xff" }, { " ", " " },
	};
	unsigned bad = 0, n = 0;
	size_t len, at, k;

	for (k = 0; k < sizeof(sp) / sizeof(sp[0]); k++)
		for (len = 0; len <= 40; len++)
			for (at = 0; at <= len; at++) {
				char doc[128], want[128];
				struct lbr_js js;
				const char *got;
				size_t i, o = 0, w = 0;

				doc[o++] = '"';
				for (i = 0; i < len; i++) {
					if (i == at) {
						memcpy(doc + o, sp[k].in, strlen(sp[k].in));
						o += strlen(sp[k].in);
						if (sp[k].out) {
							memcpy(want + w, sp[k].out,
							       strlen(sp[k].out));
							w += strlen(sp[k].out);
						}
					}
					doc[o++] = (char)('a' + i % 26);
					want[w++] = (char)('a' + i % 26);
				}
				if (at == len) {
					memcpy(doc + o, sp[k].in, strlen(sp[k].in));
					o += strlen(sp[k].in);
					if (sp[k].out) {
						memcpy(want + w, sp[k].out, strlen(sp[k].out));
						w += strlen(sp[k].out);
					}
				}
				doc[o++] = '"';
				want[w] = '\0';
				lbr_js_init(&js, doc, o);
				got = lbr_js_string(&js);
				n++;
				if (sp[k].out ? !got || strcmp(got, want) || lbr_js_finish(&js) != 0
					      : got != NULL || lbr_js_finish(&js) == 0)
					bad++;
			}
	tap_ok(bad == 0,
	       "%u strings with a special byte at every place: decoded or refused as byte-wise", n);
}

static void test_numbers(void)
{
	static const struct {
		const char *text;
		int r;
		long long v;
	} cases[] = {
		{ "0", 1, 0 },
		{ "-0", 1, 0 },
		{ "65535", 1, 65535 },
		{ "-42", 1, -42 },
		{ "9223372036854775807", 1, LLONG_MAX },
		{ "9223372036854775808", 1, LLONG_MAX },
		{ "123456789012345678901234567890", 1, LLONG_MAX },
		{ "-9223372036854775808", 1, LLONG_MIN },
		{ "-99999999999999999999", 1, LLONG_MIN },
		{ "1.0", 0, 7 },
		{ "1e2", 0, 7 },
		{ "\"5\"", -1, 7 },
		{ "true", -1, 7 },
	};
	char buf[64];
	struct lbr_js js;
	long long v;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(buf, cases[i].text);
		lbr_js_init(&js, buf, strlen(buf));
		v = 7;
		tap_is_int(lbr_js_integer(&js, &v), cases[i].r, "integer(%s) result",
			   cases[i].text);
		tap_is_int(v, cases[i].v, "integer(%s) value", cases[i].text);
		tap_ok(js.err == 0, "integer(%s) is not a syntax error", cases[i].text);
	}
}

static void test_sticky_and_types(void)
{
	char buf[] = "[1, {\"a\": [true]}, \"s\", bad]";
	struct lbr_js js;
	long long v;

	lbr_js_init(&js, buf, strlen(buf));
	tap_is_int(lbr_js_object(&js), -1, "'[' is not an object: -1");
	tap_ok(!js.err, "...and not a syntax error");
	tap_is_int(lbr_js_array(&js), 0, "array entered");
	tap_is_int(lbr_js_item(&js), 1, "item 1");
	tap_is_int(lbr_js_integer(&js, &v), 1, "item 1 is an integer");
	tap_is_int(lbr_js_item(&js), 1, "item 2");
	tap_is_int(lbr_js_peek(&js), LBR_JS_OBJECT, "item 2 is an object");
	tap_is_int(lbr_js_skip(&js), 0, "item 2 skipped whole");
	tap_is_int(lbr_js_item(&js), 1, "item 3");
	tap_is_str(lbr_js_string(&js), "s", "item 3 read");
	tap_is_int(lbr_js_item(&js), 1, "item 4");
	tap_is_int(lbr_js_skip(&js), -1, "item 4 is not JSON");
	tap_ok(js.err && js.where, "error recorded with a reason (%s)", js.where ? js.where : "");
	tap_is_int(lbr_js_item(&js), -1, "sticky: nothing reads after an error");
	tap_is_int(lbr_js_peek(&js), LBR_JS_BAD, "sticky: peek says BAD");
	tap_is_int(lbr_js_finish(&js), -1, "finish fails");
}

int main(void)
{
	test_grammar();
	test_strings();
	test_string_runs();
	test_numbers();
	test_sticky_and_types();
	return tap_done();
}
