/*
 * Huawei Cloud ELB response parsing and classification: the error bodies
 * of every layer (API gateway, shared ELB v2, dedicated ELB v3, Neutron
 * compatibility API), the status/code → outcome table, and the member list
 * of GET /v2/{project_id}/elb/pools/{pool_id}/members.
 *
 * This is the only part of the plugin that includes json-c.
 */
#ifndef LBR_HWPARSE_H
#define LBR_HWPARSE_H

#include <stddef.h>

#include "lbreconcile/provider.h"

/* Which operation a response belongs to; 404 means different things. */
enum lbr_hw_op {
	LBR_HW_OP_LIST,
	LBR_HW_OP_REMOVE,
	LBR_HW_OP_DRAIN,
};

/* What an error body said.  Empty strings when absent.  Control bytes are
 * replaced by spaces and the strings are truncated on a UTF-8 boundary. */
struct lbr_hw_error {
	char code[64];        /* "APIGW.0301", "ELB.9800", "HTTPNotFound" */
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
 *   remove/drain, INVALID for list (the pool is gone); 400 ELB.2012
 *   ("This member is not exist.") → NOT_FOUND for remove/drain;
 *   409 ELB.8907 → CONFLICT, other 409 → INVALID; 429 → THROTTLED;
 *   5xx → TRANSIENT; anything else → INVALID.
 * `code` may be NULL or "".
 */
enum lbr_outcome lbr_hw_classify(enum lbr_hw_op op, long status,
				 const char *code);

/* One member of a list page, borrowed from the parsed document. */
struct lbr_hw_member {
	const char *id;
	const char *address;
	unsigned port;
	int weight; /* -1 when absent */
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
int lbr_hw_parse_members(const char *body, size_t len, lbr_hw_member_fn fn,
			 void *ctx, size_t *count, char *last_id,
			 size_t last_len, char *err, size_t errlen);

/*
 * Build the body of a member update that sets only the weight:
 * {"member":{"weight":W}}.  The weight is always written, 0 included (a
 * client that drops zero values can never drain a member).
 *
 * Returns a malloc'd string (caller frees), or NULL when out of memory.
 */
char *lbr_hw_weight_body(int weight);

#endif
