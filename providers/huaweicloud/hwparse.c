/*
 * Huawei Cloud ELB response parsing and classification (see hwparse.h).
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/jscan.h"
#include "common/provcommon.h"
#include "hwparse.h"

/* Parse exactly `len` bytes as one JSON value (trailing whitespace only).
 * Returns NULL when the text is not complete, valid JSON. */
static struct json_object *parse_json(const char *body, size_t len)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	size_t end;

	if (!body || len == 0 || len > INT_MAX)
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++) {
		if (!strchr(" \t\r\n", body[end])) {
			json_object_put(obj);
			obj = NULL;
			goto out;
		}
	}
out:
	json_tokener_free(tok);
	return obj;
}

/* The string value of obj[key], or NULL when absent or not a string. */
static const char *get_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Fill e from obj[code_key] / obj[msg_key]; 1 when either was present. */
static int take_pair(struct json_object *obj, const char *code_key, const char *msg_key,
		     struct lbr_hw_error *e)
{
	const char *code = get_str(obj, code_key);
	const char *msg = get_str(obj, msg_key);

	if (!code && !msg)
		return 0;
	lbr_pc_copy_clean(e->code, sizeof(e->code), code);
	lbr_pc_copy_clean(e->message, sizeof(e->message), msg);
	return 1;
}

int lbr_hw_parse_error(const char *body, size_t len, struct lbr_hw_error *e)
{
	struct json_object *root, *sub;
	const char *rid;
	int found = 0;

	memset(e, 0, sizeof(*e));
	root = parse_json(body, len);
	if (!json_object_is_type(root, json_type_object))
		goto out;
	rid = get_str(root, "request_id");
	lbr_pc_copy_clean(e->request_id, sizeof(e->request_id), rid);

	/* Same order as Huawei's own SDK error parser, plus NeutronError,
	 * which the SDKs leave as a raw body. */
	if (take_pair(root, "error_code", "error_msg", e) ||
	    take_pair(root, "code", "message", e)) {
		found = 1;
		goto out;
	}
	if (json_object_object_get_ex(root, "NeutronError", &sub) &&
	    take_pair(sub, "type", "message", e)) {
		found = 1;
		goto out;
	}
	json_object_object_foreach(root, key, val)
	{
		(void)key;
		if (take_pair(val, "code", "message", e) ||
		    take_pair(val, "error_code", "error_msg", e)) {
			found = 1;
			break;
		}
	}
out:
	json_object_put(root);
	return found;
}

static int code_in(const char *code, const char *const *set)
{
	size_t i;

	if (!code)
		return 0;
	for (i = 0; set[i]; i++)
		if (strcasecmp(code, set[i]) == 0)
			return 1;
	return 0;
}

enum lbr_outcome lbr_hw_classify(enum lbr_hw_op op, long status, const char *code)
{
	/* Codes that mean "your credentials are wrong", whatever status
	 * the gateway put them under (Huawei and OTC disagree on 401/403
	 * for ELB.1102). */
	static const char *const auth_codes[] = {
		"APIGW.0301", "APIGW.0307", "ELB.1102", "ELB.1103", "ELB.1104", "ELB.1105", NULL,
	};
	static const char *const no_api[] = { "APIGW.0101", NULL };
	/* ELB.2012 "This member is not exist."; ELB.9800 "Resource could
	 * not be found.", which the error table lists under 400 (the
	 * reference leaves 404 or 400 open for a missing member). */
	static const char *const member_gone[] = { "ELB.2012", "ELB.9800", NULL };

	if (status >= 200 && status < 300)
		return LBR_OUT_OK;
	if (status == 401)
		return LBR_OUT_AUTH;
	if (status == 403)
		return code_in(code, auth_codes) ? LBR_OUT_AUTH : LBR_OUT_INVALID;
	static const char *const quota[] = { "ELB.8905", NULL };
	/* Only a call on one member's own URL can say "that member is
	 * gone"; elsewhere a 404 is about the pool or the path. */
	int on_member = op == LBR_HW_OP_REMOVE || op == LBR_HW_OP_DRAIN;

	if (status == 404) {
		/* A gateway 404 means the API path does not exist (wrong
		 * endpoint or version), never that the member is gone;
		 * counting it as a successful removal would hide a broken
		 * configuration. */
		if (code_in(code, no_api))
			return LBR_OUT_INVALID;
		return on_member ? LBR_OUT_NOT_FOUND : LBR_OUT_INVALID;
	}
	if (status == 400 && on_member && code_in(code, member_gone))
		return LBR_OUT_NOT_FOUND;
	if (status == 409) {
		if (code_in(code, quota))
			return LBR_OUT_INVALID;
		/* Creating a member whose address+port is taken: what is
		 * there is re-read by the core before it decides. */
		if (op == LBR_HW_OP_CREATE)
			return LBR_OUT_EXISTS;
		/* Any other 409 (ELB.8907 "data conflict", or a code the
		 * reference does not know) is retried a bounded number of
		 * times (reference §3.5). */
		return LBR_OUT_CONFLICT;
	}
	if (status == 429)
		return LBR_OUT_THROTTLED;
	if (status >= 500 && status < 600)
		return LBR_OUT_TRANSIENT;
	return LBR_OUT_INVALID;
}

/* Parse body and find its "members" array; *root must be released. */
static int members_array(const char *body, size_t len, struct json_object **root,
			 struct json_object **arr, char *err, size_t errlen)
{
	*root = parse_json(body, len);
	if (!*root) {
		snprintf(err, errlen, "response is not valid JSON (truncated?)");
		return LBR_HW_PARSE_SYNTAX;
	}
	if (!json_object_is_type(*root, json_type_object)) {
		snprintf(err, errlen, "response is not a JSON object");
		return LBR_HW_PARSE_SHAPE;
	}
	if (!json_object_object_get_ex(*root, "members", arr) ||
	    !json_object_is_type(*arr, json_type_array)) {
		snprintf(err, errlen, "response has no \"members\" array");
		return LBR_HW_PARSE_SHAPE;
	}
	return LBR_HW_PARSE_OK;
}
/*
 * Member list pages are read with the allocation-free reader (jscan.h),
 * not json-c: a v3 page holds up to 2,000 members, and building then
 * freeing a json-c tree for it was most of the agent's CPU (bench S5).
 * The semantics are json-c's: a repeated key's last value wins, and the
 * whole text must be valid JSON before anything in it is judged.
 */

/* One member as read, before it is judged (see check_member). */
struct raw_member {
	const char *id;      /* NULL: absent or not a string */
	const char *address; /* likewise */
	const char *name, *instance_id, *type;
	long long port, weight;
	unsigned char is_object, has_port, has_weight;
	unsigned char bad_opt; /* name, instance_id or member_type not a string */
};

#define BAD_NAME 1
#define BAD_INSTANCE 2
#define BAD_TYPE 4

/* Everything a list page says that the parsers look at. */
struct page_scan {
	char *buf; /* the body's copy the strings live in */
	struct raw_member *m;
	size_t n, cap;
	int syntax_ok, root_object;
	int members;   /* 0 absent, 1 an array, 2 something else */
	int page_info; /* 0 absent or null, 1 an object, 2 something else */
	const char *next_marker;
	int next_bad; /* next_marker present, not a string nor null */
	int nomem;
	const char *why; /* the reader's reason when !syntax_ok */
};

/* A string value, or NULL after skipping anything else. */
static const char *str_or_null(struct lbr_js *js)
{
	if (lbr_js_peek(js) == LBR_JS_STRING)
		return lbr_js_string(js);
	lbr_js_skip(js);
	return NULL;
}

/* An optional string: absent/null gives NULL, a string gives it, anything
 * else sets `flag` in *bad. */
static void opt_str(struct lbr_js *js, const char **out, unsigned char *bad, unsigned char flag)
{
	enum lbr_js_type t = lbr_js_peek(js);

	*out = NULL;
	*bad &= (unsigned char)~flag;
	if (t == LBR_JS_STRING) {
		*out = lbr_js_string(js);
		return;
	}
	if (t != LBR_JS_NULL)
		*bad |= flag;
	lbr_js_skip(js);
}

/* An integer value: 1 with *v, else 0 after skipping what is there. */
static unsigned char int_or_skip(struct lbr_js *js, long long *v)
{
	if (lbr_js_peek(js) == LBR_JS_NUMBER)
		return lbr_js_integer(js, v) == 1;
	lbr_js_skip(js);
	return 0;
}

static void read_member(struct lbr_js *js, struct raw_member *rm)
{
	const char *key;

	memset(rm, 0, sizeof(*rm));
	if (lbr_js_object(js) < 0) {
		lbr_js_skip(js);
		return;
	}
	rm->is_object = 1;
	/* A member has some fifteen keys and seven matter: the first byte
	 * picks the one candidate to compare. */
	while (lbr_js_key(js, &key) > 0) {
		switch (key[0]) {
		case 'i':
			if (strcmp(key, "id") == 0)
				rm->id = str_or_null(js);
			else if (strcmp(key, "instance_id") == 0)
				opt_str(js, &rm->instance_id, &rm->bad_opt, BAD_INSTANCE);
			else
				lbr_js_skip(js);
			continue;
		case 'a':
			if (strcmp(key, "address") == 0) {
				rm->address = str_or_null(js);
				continue;
			}
			break;
		case 'p':
			if (strcmp(key, "protocol_port") == 0) {
				rm->has_port = int_or_skip(js, &rm->port);
				continue;
			}
			break;
		case 'w':
			if (strcmp(key, "weight") == 0) {
				rm->has_weight = int_or_skip(js, &rm->weight);
				continue;
			}
			break;
		case 'n':
			if (strcmp(key, "name") == 0) {
				opt_str(js, &rm->name, &rm->bad_opt, BAD_NAME);
				continue;
			}
			break;
		case 'm':
			if (strcmp(key, "member_type") == 0) {
				opt_str(js, &rm->type, &rm->bad_opt, BAD_TYPE);
				continue;
			}
			break;
		default: break;
		}
		lbr_js_skip(js);
	}
}

static void read_members(struct lbr_js *js, struct page_scan *ps)
{
	struct raw_member *grown;

	ps->n = 0; /* a repeated "members": the last one counts */
	if (lbr_js_array(js) < 0) {
		ps->members = 2;
		lbr_js_skip(js);
		return;
	}
	ps->members = 1;
	while (lbr_js_item(js) > 0) {
		if (ps->n == ps->cap) {
			size_t cap = ps->cap ? ps->cap * 2 : 64;

			grown = realloc(ps->m, cap * sizeof(*grown));
			if (!grown) {
				ps->nomem = 1;
				return;
			}
			ps->m = grown;
			ps->cap = cap;
		}
		read_member(js, &ps->m[ps->n++]);
	}
}

static void read_page_info(struct lbr_js *js, struct page_scan *ps)
{
	const char *key;
	enum lbr_js_type t = lbr_js_peek(js);

	ps->page_info = t == LBR_JS_OBJECT ? 1 : t == LBR_JS_NULL ? 0 : 2;
	ps->next_marker = NULL;
	ps->next_bad = 0;
	if (t != LBR_JS_OBJECT) {
		lbr_js_skip(js);
		return;
	}
	lbr_js_object(js);
	while (lbr_js_key(js, &key) > 0) {
		if (strcmp(key, "next_marker") != 0) {
			lbr_js_skip(js);
			continue;
		}
		t = lbr_js_peek(js);
		ps->next_marker = NULL;
		ps->next_bad = t != LBR_JS_STRING && t != LBR_JS_NULL;
		if (t == LBR_JS_STRING)
			ps->next_marker = lbr_js_string(js);
		else
			lbr_js_skip(js);
	}
}

/* Read a whole page into ps (release with scan_free). */
static void scan_page(const char *body, size_t len, struct page_scan *ps)
{
	struct lbr_js js;
	const char *key;

	memset(ps, 0, sizeof(*ps));
	if (!body || len == 0)
		return;
	ps->buf = malloc(len);
	if (!ps->buf) {
		ps->nomem = 1;
		return;
	}
	memcpy(ps->buf, body, len);
	lbr_js_init(&js, ps->buf, len);
	if (lbr_js_object(&js) == 0) {
		ps->root_object = 1;
		while (!ps->nomem && lbr_js_key(&js, &key) > 0) {
			if (strcmp(key, "members") == 0)
				read_members(&js, ps);
			else if (strcmp(key, "page_info") == 0)
				read_page_info(&js, ps);
			else
				lbr_js_skip(&js);
		}
	} else {
		lbr_js_skip(&js);
	}
	ps->syntax_ok = lbr_js_finish(&js) == 0;
	ps->why = js.where;
}

static void scan_free(struct page_scan *ps)
{
	free(ps->m);
	free(ps->buf);
}

/* The checks every list page starts with. */
static int scan_members(const char *body, size_t len, struct page_scan *ps, char *err,
			size_t errlen)
{
	scan_page(body, len, ps);
	if (ps->nomem) {
		snprintf(err, errlen, "out of memory reading a member list");
		return LBR_HW_PARSE_NOMEM;
	}
	if (!ps->syntax_ok) {
		/* A body cut short says so; otherwise the reader's reason. */
		if (!ps->why || strstr(ps->why, "truncated") || strstr(ps->why, "empty"))
			snprintf(err, errlen, "response is not valid JSON (truncated?)");
		else
			snprintf(err, errlen, "response is not valid JSON (%s)", ps->why);
		return LBR_HW_PARSE_SYNTAX;
	}
	if (!ps->root_object) {
		snprintf(err, errlen, "response is not a JSON object");
		return LBR_HW_PARSE_SHAPE;
	}
	if (ps->members != 1) {
		snprintf(err, errlen, "response has no \"members\" array");
		return LBR_HW_PARSE_SHAPE;
	}
	return LBR_HW_PARSE_OK;
}

/* Judge member i; fill m (borrowing from the page) or err. */
static int check_member(const struct raw_member *rm, size_t i, struct lbr_hw_member *m, char *err,
			size_t errlen)
{
	char excerpt[48];

	if (!rm->is_object) {
		snprintf(err, errlen, "member %zu is not a JSON object", i);
		return LBR_HW_PARSE_SHAPE;
	}
	m->id = rm->id;
	if (!m->id) {
		snprintf(err, errlen, "member %zu has no string \"id\"", i);
		return LBR_HW_PARSE_SHAPE;
	}
	if (!lbr_pc_valid_id(m->id, 128)) {
		lbr_pc_copy_clean(excerpt, sizeof(excerpt), m->id);
		snprintf(err, errlen,
			 "member %zu has a malformed id '%s' (want "
			 "[A-Za-z0-9_-]{1,128})",
			 i, excerpt);
		return LBR_HW_PARSE_SHAPE;
	}
	m->address = rm->address;
	if (!m->address || !*m->address) {
		snprintf(err, errlen, "member %s has no string \"address\"", m->id);
		return LBR_HW_PARSE_SHAPE;
	}
	if (!rm->has_port) {
		snprintf(err, errlen, "member %s has no integer \"protocol_port\"", m->id);
		return LBR_HW_PARSE_SHAPE;
	}
	if (rm->port < 1 || rm->port > 65535) {
		snprintf(err, errlen,
			 "member %s has protocol_port %lld out of range "
			 "1..65535",
			 m->id, rm->port);
		return LBR_HW_PARSE_SHAPE;
	}
	m->port = (unsigned)rm->port;
	/* The weight is informational (kept for restoring after a drain);
	 * a missing or odd value makes it unknown rather than failing the
	 * pool's whole listing. */
	m->weight = rm->has_weight && rm->weight >= 0 && rm->weight <= 100 ? (int)rm->weight : -1;
	if (rm->bad_opt) {
		snprintf(err, errlen,
			 "member %s has a name, instance_id or member_type "
			 "that is not a string",
			 m->id);
		return LBR_HW_PARSE_SHAPE;
	}
	m->name = rm->name;
	m->instance_id = rm->instance_id && *rm->instance_id ? rm->instance_id : NULL;
	/* A type this plugin does not know is reported as unknown rather
	 * than failing the whole pool. */
	m->type = rm->type && (strcmp(rm->type, "ip") == 0 || strcmp(rm->type, "instance") == 0)
			  ? rm->type
			  : NULL;
	return LBR_HW_PARSE_OK;
}

/* Judge every member of the page, then hand them to fn; see the header. */
static int walk_members(const struct page_scan *ps, lbr_hw_member_fn fn, void *ctx, char *err,
			size_t errlen)
{
	struct lbr_hw_member m;
	size_t i;
	int r;

	for (i = 0; i < ps->n; i++) {
		r = check_member(&ps->m[i], i, &m, err, errlen);
		if (r < 0)
			return r;
	}
	for (i = 0; i < ps->n; i++) {
		check_member(&ps->m[i], i, &m, err, errlen);
		if (fn(ctx, &m) < 0) {
			char addr[48];

			/* The address is cloud text of any length. */
			lbr_pc_copy_clean(addr, sizeof(addr), m.address);
			snprintf(err, errlen,
				 "member %s (address '%s' port %u) was "
				 "rejected",
				 m.id, addr, m.port);
			return LBR_HW_PARSE_REJECTED;
		}
	}
	return LBR_HW_PARSE_OK;
}

int lbr_hw_parse_members(const char *body, size_t len, lbr_hw_member_fn fn, void *ctx,
			 size_t *count, char *last_id, size_t last_len, char *err, size_t errlen)
{
	struct page_scan ps;
	const char *id;
	size_t n;
	int r;

	*count = 0;
	if (last_len)
		last_id[0] = '\0';
	if (errlen)
		err[0] = '\0';
	r = scan_members(body, len, &ps, err, errlen);
	if (r < 0)
		goto out;
	n = ps.n;
	id = n > 0 ? ps.m[n - 1].id : NULL;
	if (id && strlen(id) >= last_len) {
		/* Checked before any member is handed over, so that a
		 * failure here cannot half-fill an observation.  Longer than
		 * any valid id: the cloud's answer is wrong, not our buffer
		 * too small. */
		snprintf(err, errlen,
			 "member %zu has a malformed id (%zu characters; want [A-Za-z0-9_-]{1,128})",
			 n - 1, strlen(id));
		r = LBR_HW_PARSE_SHAPE;
		goto out;
	}
	r = walk_members(&ps, fn, ctx, err, errlen);
	if (r < 0)
		goto out;
	if (n > 0)
		strcpy(last_id, id);
	*count = n;
	r = LBR_HW_PARSE_OK;
out:
	scan_free(&ps);
	return r;
}

int lbr_hw_parse_members_v3(const char *body, size_t len, const char *marker_sent, size_t limit,
			    lbr_hw_member_fn fn, void *ctx, struct lbr_hw_page *pg, char *err,
			    size_t errlen)
{
	struct page_scan ps;
	const char *next;
	char excerpt[48];
	int r;

	memset(pg, 0, sizeof(*pg));
	if (errlen)
		err[0] = '\0';
	r = scan_members(body, len, &ps, err, errlen);
	if (r < 0)
		goto out;
	r = LBR_HW_PARSE_SHAPE;
	if (ps.page_info == 2) {
		snprintf(err, errlen, "\"page_info\" is not a JSON object");
		goto out;
	}
	pg->has_page_info = ps.page_info == 1;
	if (ps.next_bad) {
		snprintf(err, errlen, "page_info.next_marker is not a string");
		goto out;
	}
	next = ps.next_marker;
	if (next && *next) {
		if (!lbr_pc_valid_id(next, sizeof(pg->next_marker) - 2)) {
			lbr_pc_copy_clean(excerpt, sizeof(excerpt), next);
			snprintf(err, errlen, "page_info.next_marker '%s' is not a valid member id",
				 excerpt);
			goto out;
		}
		/* An empty page is the last whatever its next_marker says (an
		 * API may repeat there the marker it was sent). */
		if (!ps.n)
			next = NULL;
	}
	if (next && *next) {
		if (marker_sent && strcmp(next, marker_sent) == 0) {
			snprintf(err, errlen,
				 "paging did not advance: next_marker is the marker sent (%s)",
				 next);
			goto out;
		}
		strcpy(pg->next_marker, next);
	}
	if (!pg->has_page_info && limit && ps.n >= limit) {
		snprintf(err, errlen,
			 "a full page of %zu members has no \"page_info\": cannot tell whether more "
			 "follow",
			 ps.n);
		goto out;
	}
	r = walk_members(&ps, fn, ctx, err, errlen);
	if (r < 0)
		goto out;
	pg->count = ps.n;
	r = LBR_HW_PARSE_OK;
out:
	if (r < 0)
		pg->next_marker[0] = '\0';
	scan_free(&ps);
	return r;
}

int lbr_hw_parse_batch(const char *body, size_t len, lbr_hw_batch_fn fn, void *ctx,
		       char *request_id, size_t rid_len, char *err, size_t errlen)
{
	struct json_object *root = NULL, *arr = NULL, *item, *v;
	struct lbr_hw_batch_item it;
	size_t n, i;
	int64_t port;
	int r;

	if (errlen)
		err[0] = '\0';
	if (request_id && rid_len)
		request_id[0] = '\0';
	r = members_array(body, len, &root, &arr, err, errlen);
	if (r < 0)
		goto out;
	if (request_id)
		lbr_pc_copy_clean(request_id, rid_len, get_str(root, "request_id"));
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(arr, i);
		memset(&it, 0, sizeof(it));
		it.port = -1;
		if (!json_object_is_type(item, json_type_object)) {
			/* Still an entry: an answer read by position counts it. */
			fn(ctx, &it);
			continue;
		}
		it.id = get_str(item, "id");
		if (!lbr_pc_valid_id(it.id, 128))
			it.id = NULL;
		it.address = get_str(item, "address");
		it.port = -1;
		if (json_object_object_get_ex(item, "protocol_port", &v) &&
		    json_object_is_type(v, json_type_int)) {
			port = json_object_get_int64(v);
			if (port >= 0 && port <= 65535)
				it.port = (int)port;
		}
		it.ret_status = get_str(item, "ret_status");
		fn(ctx, &it);
	}
	r = LBR_HW_PARSE_OK;
out:
	json_object_put(root);
	return r;
}

/* Serialise root (consumed) into a malloc'd string; NULL on failure. */
static char *to_text(struct json_object *root)
{
	const char *txt;
	char *out = NULL;

	if (!root)
		return NULL;
	txt = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	if (txt)
		out = strdup(txt);
	json_object_put(root);
	return out;
}

/* obj[key] = val, consuming val; -1 when either is missing. */
static int put(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val)
		return -1;
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

char *lbr_hw_batch_delete_body(const struct lbr_member_ref *m, size_t n)
{
	struct json_object *root, *arr, *one;
	size_t i;

	root = json_object_new_object();
	arr = json_object_new_array();
	if (!root || put(root, "members", arr) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		one = json_object_new_object();
		if (!one)
			goto fail;
		if (json_object_array_add(arr, one) < 0) {
			json_object_put(one);
			goto fail;
		}
		if (put(one, "id", json_object_new_string(m[i].id)) < 0)
			goto fail;
	}
	return to_text(root);
fail:
	json_object_put(root);
	return NULL;
}

/* One member object of a creation body. */
static struct json_object *create_member(const struct lbr_member_spec *m, const char *subnet_key,
					 const char *subnet_id)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (put(o, "address", json_object_new_string(m->address)) < 0 ||
	    put(o, "protocol_port", json_object_new_int((int)m->port)) < 0)
		goto fail;
	if (subnet_id && put(o, subnet_key, json_object_new_string(subnet_id)) < 0)
		goto fail;
	/* 0 is a real weight (no new connections): never dropped. */
	if (m->weight >= 0 && put(o, "weight", json_object_new_int(m->weight)) < 0)
		goto fail;
	if (m->name && put(o, "name", json_object_new_string(m->name)) < 0)
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

char *lbr_hw_create_body(int api, const struct lbr_member_spec *m, size_t n, const char *subnet_id)
{
	struct json_object *root, *arr, *one;
	size_t i;

	root = json_object_new_object();
	if (!root)
		return NULL;
	if (api == 2) {
		if (n != 1 || put(root, "member", create_member(m, "subnet_id", subnet_id)) < 0)
			goto fail;
		return to_text(root);
	}
	arr = json_object_new_array();
	if (put(root, "members", arr) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		one = create_member(&m[i], "subnet_cidr_id", subnet_id);
		if (!one)
			goto fail;
		if (json_object_array_add(arr, one) < 0) {
			json_object_put(one);
			goto fail;
		}
	}
	return to_text(root);
fail:
	json_object_put(root);
	return NULL;
}

void lbr_hw_created_id(const char *body, size_t len, char *out, size_t outlen)
{
	struct json_object *root, *member;
	const char *id = NULL;

	if (outlen)
		out[0] = '\0';
	root = parse_json(body, len);
	if (json_object_is_type(root, json_type_object) &&
	    json_object_object_get_ex(root, "member", &member))
		id = get_str(member, "id");
	if (lbr_pc_valid_id(id, 128) && strlen(id) < outlen)
		strcpy(out, id);
	json_object_put(root);
}

char *lbr_hw_weight_body(int weight)
{
	struct json_object *root = NULL, *member = NULL, *w = NULL;
	const char *txt;
	char *out = NULL;

	root = json_object_new_object();
	member = json_object_new_object();
	w = json_object_new_int(weight);
	if (!root || !member || !w)
		goto out;
	if (json_object_object_add(member, "weight", w) < 0)
		goto out;
	w = NULL; /* transferred */
	if (json_object_object_add(root, "member", member) < 0)
		goto out;
	member = NULL; /* transferred */
	txt = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	if (txt)
		out = strdup(txt);
out:
	json_object_put(w);
	json_object_put(member);
	json_object_put(root);
	return out;
}
