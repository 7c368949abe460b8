/*
 * A strict JSON reader that builds nothing: the plugins walk a response
 * (RFC 8259, nothing more) with it, taking the values they want and
 * skipping — but still checking — the rest.  Strings are decoded in place
 * in the caller's writable copy of the body and come back NUL-terminated,
 * borrowed from that copy.  No allocation, no recursion past
 * LBR_JS_MAX_DEPTH, thread-safe (all state is in struct lbr_js).
 *
 * Why: a Huawei v3 list page of 2,000 members is ~900 KB; building a
 * json-c tree for it and freeing it again cost the agent more CPU than
 * everything else it does per call (bench S5).
 *
 * "\u0000" and lone UTF-16 surrogates are valid JSON that a C string
 * cannot carry: they decode to U+FFFD, so that an id holding one fails its
 * own validation instead of being cut short at a NUL.
 *
 * Errors are sticky: once js->err is set, every call fails and
 * lbr_js_finish() says so.  A document the reader refuses:
 *   - anything that is not exactly one JSON value plus whitespace;
 *   - raw control characters (< 0x20) in a string, unknown escapes;
 *   - numbers outside the JSON grammar (leading zeros, "1.", "+1", NaN);
 *   - nesting deeper than LBR_JS_MAX_DEPTH.
 */
#ifndef LBR_JSCAN_H
#define LBR_JSCAN_H

#include <stddef.h>

#define LBR_JS_MAX_DEPTH 32

enum lbr_js_type {
	LBR_JS_BAD = 0, /* malformed, or the end of the text */
	LBR_JS_OBJECT,
	LBR_JS_ARRAY,
	LBR_JS_STRING,
	LBR_JS_NUMBER,
	LBR_JS_BOOL,
	LBR_JS_NULL,
};

struct lbr_js {
	char *p;           /* next byte to read */
	char *end;         /* one past the last byte */
	int depth;         /* containers entered and not left */
	int first;         /* the container just entered has no element read yet */
	int err;           /* sticky: the text is not valid JSON */
	const char *where; /* what was wrong, for messages */
};

/* Start reading buf[0..len).  buf is modified (strings are decoded in
 * place); it need not be NUL-terminated. */
void lbr_js_init(struct lbr_js *js, char *buf, size_t len);

/* The type of the next value, without consuming it. */
enum lbr_js_type lbr_js_peek(struct lbr_js *js);

/* Consume '{' (lbr_js_object) or '[' (lbr_js_array).  0, or -1 when the
 * next value is something else (not an error of the text: the caller
 * decides) or the text is malformed. */
int lbr_js_object(struct lbr_js *js);
int lbr_js_array(struct lbr_js *js);

/* Inside an object: 1 with *key (decoded, NUL-terminated) when a member
 * follows — read or skip its value next; 0 when the object ended (its
 * '}' consumed); -1 when the text is malformed. */
int lbr_js_key(struct lbr_js *js, const char **key);

/* Inside an array: 1 when an element follows (read or skip it next), 0
 * when the array ended, -1 when malformed. */
int lbr_js_item(struct lbr_js *js);

/* Consume a string: the decoded text, or NULL (with js->err set when the
 * text is malformed; unset when the value is simply not a string, which
 * is then left unread). */
const char *lbr_js_string(struct lbr_js *js);

/*
 * Consume a number.  Returns 1 when it is an integer (no fraction, no
 * exponent) and stores it in *v, saturated at LLONG_MIN / LLONG_MAX;
 * 0 when it is a valid number that is not an integer (*v untouched);
 * -1 when the next value is not a number or the text is malformed.
 */
int lbr_js_integer(struct lbr_js *js, long long *v);

/* Consume any value, checking it. 0 or -1. */
int lbr_js_skip(struct lbr_js *js);

/* After the top-level value: 0 when only whitespace remains and nothing
 * was malformed, else -1. */
int lbr_js_finish(struct lbr_js *js);

#endif
