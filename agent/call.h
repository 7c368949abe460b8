/*
 * One plugin operation with retries: the limiter slot, the attempt, the
 * audit line of every mutating request sent, and the retry policy.  Used by
 * every phase that talks to a cloud.
 */
#ifndef LBR_CALL_H
#define LBR_CALL_H

#include <stddef.h>

#include "agent/runtime.h"

/* Names of operations and outcomes, as in the audit log and JSON. */
const char *lbr_op_name(enum lbr_op op);
const char *lbr_outcome_name(enum lbr_outcome o);

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
