/*
 * One plugin operation with retries: the limiter slot, the attempt, the
 * audit line of every mutating request sent, and the retry policy.  Used by
 * every phase that talks to a cloud.
 */
#ifndef LBR_CALL_H
#define LBR_CALL_H

#include <stddef.h>

#include "agent/engine.h"

/* One operation in progress; handed to plugins as the opaque lbr_call. */
struct lbr_call {
	struct lbr_engine *e;
	struct lbr_prov_rt *prov;
	struct lbr_pool_rt *pool;
	enum lbr_op op;
	const char *object_id; /* for events and retries: a member or rule id */
	/* LIST */
	const char *cursor;
	char *next_cursor;
	size_t next_len;
	struct lbr_obs *obs;
	/* REMOVE / DRAIN / RESTORE / WEIGHT: n members; CREATE: n specs */
	const struct lbr_member_ref *m;
	const struct lbr_member_spec *specs;
	const int *weights;
	size_t n;
	struct lbr_item_result *items; /* n of them */
	char (*doubt)[256];            /* REMOVE: n buffers collecting the request
					* ids of attempts that ended in doubt */
	/* UPDATE_RULE */
	const struct lbr_rule_ref *rule;
	const char *const *ids;
	size_t n_ids;
};

/* Run c with retries; res holds the final outcome of the call.  For a
 * batch whose call outcome is LBR_OUT_OK, c->items hold each item's
 * outcome (an item left LBR_OUT_UNSET has been turned into a failure). */
void lbr_call_run(struct lbr_call *c, struct lbr_call_result *res);

/* "HTTP 500 ELB.8906: Internal server error (request id ...)". */
void lbr_result_describe(const struct lbr_call_result *res, char *out, size_t len);

/* An item's outcome as a call result (message and the batch's ids). */
void lbr_item_as_result(const struct lbr_call_result *call, const struct lbr_item_result *it,
			struct lbr_call_result *out);

/* An error that stops all work on the pool for this pass (first kept). */
void lbr_pool_error(struct lbr_pool_rt *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A failure a later round may get past (a transient give-up). */
void lbr_pool_soft_error(struct lbr_pool_rt *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One audit line outside a call (a removal that ended in doubt and that
 * verification finds gone). */
void lbr_call_audit_line(struct lbr_engine *e, struct lbr_pool_rt *p, const char *action,
			 const char *id, const char *address, unsigned port, const char *outcome,
			 const char *detail);

/* Report a mutating call's final outcome for one member to the sink. */
void lbr_call_event(struct lbr_engine *e, struct lbr_pool_rt *p, enum lbr_op op, const char *id,
		    const char *address, unsigned port, const struct lbr_call_result *res);

#endif
