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

#include "common/plugin-util.h"
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
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Fill e from obj[code_key] / obj[msg_key]; 1 when either was present. */
static int take_pair(struct json_object *obj, const char *code_key,
		     const char *msg_key, struct lbr_hw_error *e)
{
	const char *code = get_str(obj, code_key);
	const char *msg = get_str(obj, msg_key);

	if (!code && !msg)
		return 0;
	lbr_pu_copy_clean(e->code, sizeof(e->code), code);
	lbr_pu_copy_clean(e->message, sizeof(e->message), msg);
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
	lbr_pu_copy_clean(e->request_id, sizeof(e->request_id), rid);

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

enum lbr_outcome lbr_hw_classify(enum lbr_hw_op op, long status,
				 const char *code)
{
	/* Codes that mean "your credentials are wrong", whatever status
	 * the gateway put them under (Huawei and OTC disagree on 401/403
	 * for ELB.1102). */
	static const char *const auth_codes[] = {
		"APIGW.0301", "APIGW.0307", "ELB.1102", "ELB.1103",
		"ELB.1104",   "ELB.1105",   NULL,
	};
	static const char *const no_api[] = { "APIGW.0101", NULL };
	static const char *const member_gone[] = { "ELB.2012", NULL };
	static const char *const conflict[] = { "ELB.8907", NULL };

	if (status >= 200 && status < 300)
		return LBR_OUT_OK;
	if (status == 401)
		return LBR_OUT_AUTH;
	if (status == 403)
		return code_in(code, auth_codes) ? LBR_OUT_AUTH
						 : LBR_OUT_INVALID;
	if (status == 404) {
		/* A gateway 404 means the API path does not exist (wrong
		 * endpoint or version), never that the member is gone;
		 * counting it as a successful removal would hide a broken
		 * configuration. */
		if (code_in(code, no_api))
			return LBR_OUT_INVALID;
		return op == LBR_HW_OP_LIST ? LBR_OUT_INVALID
					    : LBR_OUT_NOT_FOUND;
	}
	if (status == 400 && op != LBR_HW_OP_LIST &&
	    code_in(code, member_gone))
		return LBR_OUT_NOT_FOUND;
	if (status == 409)
		return code_in(code, conflict) ? LBR_OUT_CONFLICT
					       : LBR_OUT_INVALID;
	if (status == 429)
		return LBR_OUT_THROTTLED;
	if (status >= 500 && status < 600)
		return LBR_OUT_TRANSIENT;
	return LBR_OUT_INVALID;
}

/* Validate member i; fill m (borrowing from the document) or err. */
static int check_member(struct json_object *item, size_t i,
			struct lbr_hw_member *m, char *err, size_t errlen)
{
	struct json_object *v;
	char excerpt[48];
	int64_t port, w;

	if (!json_object_is_type(item, json_type_object)) {
		snprintf(err, errlen, "member %zu is not a JSON object", i);
		return LBR_HW_PARSE_SHAPE;
	}
	m->id = get_str(item, "id");
	if (!m->id) {
		snprintf(err, errlen, "member %zu has no string \"id\"", i);
		return LBR_HW_PARSE_SHAPE;
	}
	if (!lbr_pu_valid_id(m->id, 128)) {
		lbr_pu_copy_clean(excerpt, sizeof(excerpt), m->id);
		snprintf(err, errlen,
			 "member %zu has a malformed id '%s' (want "
			 "[A-Za-z0-9_-]{1,128})",
			 i, excerpt);
		return LBR_HW_PARSE_SHAPE;
	}
	m->address = get_str(item, "address");
	if (!m->address || !*m->address) {
		snprintf(err, errlen, "member %s has no string \"address\"",
			 m->id);
		return LBR_HW_PARSE_SHAPE;
	}
	if (!json_object_object_get_ex(item, "protocol_port", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		snprintf(err, errlen,
			 "member %s has no integer \"protocol_port\"", m->id);
		return LBR_HW_PARSE_SHAPE;
	}
	port = json_object_get_int64(v);
	if (port < 1 || port > 65535) {
		snprintf(err, errlen,
			 "member %s has protocol_port %lld out of range "
			 "1..65535",
			 m->id, (long long)port);
		return LBR_HW_PARSE_SHAPE;
	}
	m->port = (unsigned)port;
	/* The weight is informational (kept for restoring after a drain);
	 * a missing or odd value makes it unknown rather than failing the
	 * pool's whole listing. */
	m->weight = -1;
	if (json_object_object_get_ex(item, "weight", &v) &&
	    json_object_is_type(v, json_type_int)) {
		w = json_object_get_int64(v);
		if (w >= 0 && w <= 100)
			m->weight = (int)w;
	}
	return LBR_HW_PARSE_OK;
}

int lbr_hw_parse_members(const char *body, size_t len, lbr_hw_member_fn fn,
			 void *ctx, size_t *count, char *last_id,
			 size_t last_len, char *err, size_t errlen)
{
	struct json_object *root = NULL, *arr;
	struct lbr_hw_member m;
	size_t n = 0, i;
	int r;

	*count = 0;
	if (last_len)
		last_id[0] = '\0';
	if (errlen)
		err[0] = '\0';
	root = parse_json(body, len);
	if (!root) {
		snprintf(err, errlen,
			 "response is not valid JSON (truncated?)");
		r = LBR_HW_PARSE_SYNTAX;
		goto out;
	}
	r = LBR_HW_PARSE_SHAPE;
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "response is not a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(root, "members", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen,
			 "response has no \"members\" array");
		goto out;
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		r = check_member(json_object_array_get_idx(arr, i), i, &m,
				 err, errlen);
		if (r < 0)
			goto out;
	}
	for (i = 0; i < n; i++) {
		check_member(json_object_array_get_idx(arr, i), i, &m, err,
			     errlen);
		if (fn(ctx, &m) < 0) {
			char addr[48];

			/* The address is cloud text of any length. */
			lbr_pu_copy_clean(addr, sizeof(addr), m.address);
			snprintf(err, errlen,
				 "member %s (address '%s' port %u) was "
				 "rejected",
				 m.id, addr, m.port);
			r = LBR_HW_PARSE_REJECTED;
			goto out;
		}
	}
	if (n > 0) {
		check_member(json_object_array_get_idx(arr, n - 1), n - 1, &m,
			     err, errlen);
		if (strlen(m.id) >= last_len) {
			snprintf(err, errlen, "no room for the page cursor");
			r = LBR_HW_PARSE_NOMEM;
			goto out;
		}
		strcpy(last_id, m.id);
	}
	*count = n;
	r = LBR_HW_PARSE_OK;
out:
	json_object_put(root);
	return r;
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
