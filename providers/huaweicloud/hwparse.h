/*
 * Huawei Cloud ELB response parsing and classification: the error bodies
 * of every layer (API gateway, shared ELB v2, dedicated ELB v3, Neutron
 * compatibility API), the status/code → outcome table, the member lists of
 * GET /v2|v3/{project_id}/elb/pools/{pool_id}/members, the answers of the
 * v3 batch calls, and the JSON bodies the plugin sends.
 *
 * This is the only part of the plugin that includes json-c.
 */
#ifndef LBR_HWPARSE_H
#define LBR_HWPARSE_H

#include <stddef.h>

#include "lbreconcile/provider.h"

/* Which operation a response belongs to; 404 means different things. */
enum lbr_hw_op {
	LBR_HW_OP_LIST,   /* GET the pool's members */
	LBR_HW_OP_REMOVE, /* DELETE one member (v2) */
	LBR_HW_OP_DRAIN,  /* PUT one member's weight (v2, v3) */
	LBR_HW_OP_CREATE, /* POST one member (v2) */
	LBR_HW_OP_BATCH,  /* POST .../members/batch-* (v3) */
};

/* What an error body said.  Empty strings when absent.  Control bytes are
 * replaced by spaces and the strings are truncated on a UTF-8 boundary. */
struct lbr_hw_error {
	char code[64]; /* "APIGW.0301", "ELB.9800", "HTTPNotFound" */
	char message[512];
	char request_id[128]; /* only the v3/gateway shapes carry one */
};

/*
 * Parse an error body of any documented shape, in this order:
 *   {"error_code","error_msg","request_id"}   gateway and ELB v3
 *   {"code","message"}                         top-level variant
 *   {"NeutronError":{"type","message"}}        /v2.0/lbaas
 *   {"<any>":{"code","message"}}               ELB v2 {"error":{...}}
 * `body` need not be NUL-terminated.  `e` is always initialised.
 *
 * Returns 1 when a code or a message was found, 0 otherwise (empty, not
 * JSON, or an unknown shape).
 */
int lbr_hw_parse_error(const char *body, size_t len, struct lbr_hw_error *e);

/*
 * Classify an HTTP status plus cloud error code for operation `op`:
 *   2xx → OK; 401 → AUTH; 403 with an authentication code (APIGW.0301,
 *   APIGW.0307, ELB.1102..1105) → AUTH, other 403 → INVALID (permission);
 *   404 APIGW.0101 (no such API) → INVALID; other 404 → NOT_FOUND for
 *   remove/drain, INVALID for list, create and batch (the pool is gone);
 *   400 ELB.2012 ("This member is not exist.") → NOT_FOUND for
 *   remove/drain; 409 on create → EXISTS (duplicate address+port) except
 *   ELB.8905 (quota) → INVALID; otherwise 409 ELB.8907 → CONFLICT, other
 *   409 → INVALID; 429 → THROTTLED;
 *   5xx → TRANSIENT; anything else → INVALID.
 * `code` may be NULL or "".
 */
enum lbr_outcome lbr_hw_classify(enum lbr_hw_op op, long status, const char *code);

/* One member of a list page, borrowed from the parsed document. */
struct lbr_hw_member {
	const char *id;
	const char *address;
	unsigned port;
	int weight;              /* -1 when absent */
	const char *name;        /* NULL when absent or null */
	const char *instance_id; /* v3; NULL when absent, null or "" */
	const char *type;        /* v3 member_type "ip"/"instance", else NULL */
};

typedef int (*lbr_hw_member_fn)(void *ctx, const struct lbr_hw_member *m);

/* Return values of lbr_hw_parse_members(). */
#define LBR_HW_PARSE_OK 0
#define LBR_HW_PARSE_SYNTAX (-1)   /* not JSON at all, or truncated */
#define LBR_HW_PARSE_SHAPE (-2)    /* JSON, but not a member list */
#define LBR_HW_PARSE_REJECTED (-3) /* the callback returned < 0 */
#define LBR_HW_PARSE_NOMEM (-4)

/*
 * Parse a list-members body.  Every member is validated first (object with
 * string "id" and "address", integer "protocol_port" in 1..65535, optional
 * integer "weight" in 0..100); only when the whole page is valid is `fn`
 * called once per member, in order, so a bad page never half-fills an
 * observation.  *count receives the number of members; the id of the
 * last member is copied into last_id (or "" when the page is empty).
 * On failure err receives one line saying what is wrong, naming the
 * member index, without quoting more than a short, sanitised excerpt.
 *
 * Returns one of LBR_HW_PARSE_*.
 */
int lbr_hw_parse_members(const char *body, size_t len, lbr_hw_member_fn fn, void *ctx,
			 size_t *count, char *last_id, size_t last_len, char *err, size_t errlen);

/* What a v3 list page says about paging. */
struct lbr_hw_page {
	size_t count;          /* members on the page */
	int has_page_info;     /* a "page_info" object was present */
	char next_marker[130]; /* "" when absent, null or "" */
};

/*
 * Parse a v3 list-members body asked for with `limit` and `marker_sent`
 * ("" on the first page): like lbr_hw_parse_members() (same member checks;
 * "name", "instance_id" and "member_type" are strings or null), plus the
 * optional "page_info" object.  The page is refused (LBR_HW_PARSE_SHAPE,
 * err says why) when page_info is not an object, when next_marker is not
 * a string or not a valid id, when next_marker equals marker_sent (the
 * server did not advance: following it would loop), and when a full page
 * (count >= limit) has no page_info at all (whether more follow cannot be
 * told).  An empty page is the last: its next_marker is not followed.
 * `fn` runs only when the whole page, paging included, is valid.
 * Returns one of LBR_HW_PARSE_*.
 */
int lbr_hw_parse_members_v3(const char *body, size_t len, const char *marker_sent, size_t limit,
			    lbr_hw_member_fn fn, void *ctx, struct lbr_hw_page *pg, char *err,
			    size_t errlen);

/* One entry of a v3 batch answer, borrowed from the parsed document. */
struct lbr_hw_batch_item {
	const char *id;         /* NULL when absent or not a valid id */
	const char *address;    /* NULL when absent */
	int port;               /* -1 when absent or out of range */
	const char *ret_status; /* NULL when absent */
};

typedef void (*lbr_hw_batch_fn)(void *ctx, const struct lbr_hw_batch_item *it);

/*
 * Parse the answer of batch-delete / batch-add:
 * {"request_id":"…","members":[{"id","ret_status",…},…]}.  The root must be
 * an object with a "members" array; every entry goes to `fn` in order, an
 * entry that is not an object as an item with nothing set (no id, no
 * address, port -1, no ret_status: the caller's item it would have
 * answered fails).
 * request_id (may be NULL, rid_len bytes) receives the body's request_id.
 * Returns LBR_HW_PARSE_OK, _SYNTAX or _SHAPE (err says why).
 */
int lbr_hw_parse_batch(const char *body, size_t len, lbr_hw_batch_fn fn, void *ctx,
		       char *request_id, size_t rid_len, char *err, size_t errlen);

/*
 * Body of a v3 batch-delete: {"members":[{"id":"…"},…]} in the order of m.
 * Returns a malloc'd string, or NULL when out of memory.
 */
char *lbr_hw_batch_delete_body(const struct lbr_member_ref *m, size_t n);

/*
 * Body of a member creation.  v2 (api 2, n must be 1):
 *   {"member":{"address","protocol_port","subnet_id","weight"?,"name"?}}
 * v3 batch-add (api 3):
 *   {"members":[{"address","protocol_port","subnet_cidr_id"?,"weight"?,
 *   "name"?},…]}
 * subnet_id may be NULL (then left out); weight is written when >= 0 (0
 * included), name when not NULL.  Returns a malloc'd string or NULL.
 */
char *lbr_hw_create_body(int api, const struct lbr_member_spec *m, size_t n, const char *subnet_id);

/*
 * The member id in a creation answer {"member":{"id":"…"}}, copied into
 * out (or "" when absent or malformed).
 */
void lbr_hw_created_id(const char *body, size_t len, char *out, size_t outlen);

/*
 * Build the body of a member update that sets only the weight:
 * {"member":{"weight":W}}.  The weight is always written, 0 included (a
 * client that drops zero values can never drain a member).
 *
 * Returns a malloc'd string (caller frees), or NULL when out of memory.
 */
char *lbr_hw_weight_body(int weight);

#endif
