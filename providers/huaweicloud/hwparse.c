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
	static const char *const member_gone[] = { "ELB.2012", NULL };
	static const char *const conflict[] = { "ELB.8907", NULL };

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
		return code_in(code, conflict) ? LBR_OUT_CONFLICT : LBR_OUT_INVALID;
	}
	if (status == 429)
		return LBR_OUT_THROTTLED;
	if (status >= 500 && status < 600)
		return LBR_OUT_TRANSIENT;
	return LBR_OUT_INVALID;
}

/* obj[key] as an optional string: absent or null gives NULL (0), a
 * string gives it (0), anything else is malformed (-1). */
static int opt_str(struct json_object *obj, const char *key, const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*out = json_object_get_string(v);
	return 0;
}

/* Validate member i; fill m (borrowing from the document) or err. */
static int check_member(struct json_object *item, size_t i, struct lbr_hw_member *m, char *err,
			size_t errlen)
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
	if (!lbr_pc_valid_id(m->id, 128)) {
		lbr_pc_copy_clean(excerpt, sizeof(excerpt), m->id);
		snprintf(err, errlen,
			 "member %zu has a malformed id '%s' (want "
			 "[A-Za-z0-9_-]{1,128})",
			 i, excerpt);
		return LBR_HW_PARSE_SHAPE;
	}
	m->address = get_str(item, "address");
	if (!m->address || !*m->address) {
		snprintf(err, errlen, "member %s has no string \"address\"", m->id);
		return LBR_HW_PARSE_SHAPE;
	}
	if (!json_object_object_get_ex(item, "protocol_port", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		snprintf(err, errlen, "member %s has no integer \"protocol_port\"", m->id);
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
	if (opt_str(item, "name", &m->name) < 0 ||
	    opt_str(item, "instance_id", &m->instance_id) < 0 ||
	    opt_str(item, "member_type", &m->type) < 0) {
		snprintf(err, errlen,
			 "member %s has a name, instance_id or member_type "
			 "that is not a string",
			 m->id);
		return LBR_HW_PARSE_SHAPE;
	}
	if (m->instance_id && !*m->instance_id)
		m->instance_id = NULL;
	/* A type this plugin does not know is reported as unknown rather
	 * than failing the whole pool. */
	if (m->type && strcmp(m->type, "ip") != 0 && strcmp(m->type, "instance") != 0)
		m->type = NULL;
	return LBR_HW_PARSE_OK;
}

/* Validate every member of arr, then hand them to fn; see the header. */
static int walk_members(struct json_object *arr, lbr_hw_member_fn fn, void *ctx, char *err,
			size_t errlen)
{
	struct lbr_hw_member m;
	size_t n = json_object_array_length(arr), i;
	int r;

	for (i = 0; i < n; i++) {
		r = check_member(json_object_array_get_idx(arr, i), i, &m, err, errlen);
		if (r < 0)
			return r;
	}
	for (i = 0; i < n; i++) {
		check_member(json_object_array_get_idx(arr, i), i, &m, err, errlen);
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

int lbr_hw_parse_members(const char *body, size_t len, lbr_hw_member_fn fn, void *ctx,
			 size_t *count, char *last_id, size_t last_len, char *err, size_t errlen)
{
	struct json_object *root = NULL, *arr = NULL, *item, *idv;
	const char *id;
	size_t n;
	int r;

	*count = 0;
	if (last_len)
		last_id[0] = '\0';
	if (errlen)
		err[0] = '\0';
	r = members_array(body, len, &root, &arr, err, errlen);
	if (r < 0)
		goto out;
	n = json_object_array_length(arr);
	if (n > 0) {
		/* Checked before any member is handed over, so that a
		 * failure here cannot half-fill an observation. */
		item = json_object_array_get_idx(arr, n - 1);
		id = json_object_object_get_ex(item, "id", &idv) ? json_object_get_string(idv)
								 : NULL;
		if (id && strlen(id) >= last_len) {
			/* Longer than any valid id: the cloud's answer is
			 * wrong, not our buffer too small. */
			snprintf(
				err, errlen,
				"member %zu has a malformed id (%zu characters; want [A-Za-z0-9_-]{1,128})",
				n - 1, strlen(id));
			r = LBR_HW_PARSE_SHAPE;
			goto out;
		}
	}
	r = walk_members(arr, fn, ctx, err, errlen);
	if (r < 0)
		goto out;
	if (n > 0) {
		item = json_object_array_get_idx(arr, n - 1);
		json_object_object_get_ex(item, "id", &idv);
		strcpy(last_id, json_object_get_string(idv));
	}
	*count = n;
	r = LBR_HW_PARSE_OK;
out:
	json_object_put(root);
	return r;
}

int lbr_hw_parse_members_v3(const char *body, size_t len, const char *marker_sent, size_t limit,
			    lbr_hw_member_fn fn, void *ctx, struct lbr_hw_page *pg, char *err,
			    size_t errlen)
{
	struct json_object *root = NULL, *arr = NULL, *pi, *v;
	const char *next = NULL;
	char excerpt[48];
	size_t n;
	int r;

	memset(pg, 0, sizeof(*pg));
	if (errlen)
		err[0] = '\0';
	r = members_array(body, len, &root, &arr, err, errlen);
	if (r < 0)
		goto out;
	r = LBR_HW_PARSE_SHAPE;
	if (json_object_object_get_ex(root, "page_info", &pi) && pi) {
		if (!json_object_is_type(pi, json_type_object)) {
			snprintf(err, errlen, "\"page_info\" is not a JSON object");
			goto out;
		}
		pg->has_page_info = 1;
		if (json_object_object_get_ex(pi, "next_marker", &v) && v) {
			if (!json_object_is_type(v, json_type_string)) {
				snprintf(err, errlen,
					 "page_info.next_marker is not a "
					 "string");
				goto out;
			}
			next = json_object_get_string(v);
		}
	}
	if (next && *next) {
		if (!lbr_pc_valid_id(next, sizeof(pg->next_marker) - 2)) {
			lbr_pc_copy_clean(excerpt, sizeof(excerpt), next);
			snprintf(err, errlen,
				 "page_info.next_marker '%s' is not a valid "
				 "member id",
				 excerpt);
			goto out;
		}
		if (marker_sent && strcmp(next, marker_sent) == 0) {
			snprintf(err, errlen,
				 "paging did not advance: next_marker is the "
				 "marker sent (%s)",
				 next);
			goto out;
		}
		strcpy(pg->next_marker, next);
	}
	n = json_object_array_length(arr);
	if (!pg->has_page_info && limit && n >= limit) {
		snprintf(err, errlen,
			 "a full page of %zu members has no \"page_info\": "
			 "cannot tell whether more follow",
			 n);
		goto out;
	}
	r = walk_members(arr, fn, ctx, err, errlen);
	if (r < 0)
		goto out;
	pg->count = n;
	r = LBR_HW_PARSE_OK;
out:
	if (r < 0)
		pg->next_marker[0] = '\0';
	json_object_put(root);
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
		if (!json_object_is_type(item, json_type_object))
			continue;
		memset(&it, 0, sizeof(it));
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
