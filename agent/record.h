/*
 * Record (SPEC §4.6, §7, §5a): what a pass observed and did goes into the
 * state document — per pool the members as last observed, the ownership
 * record (members declared or created by this apply, plus those owned
 * before that are still listed and so still ours to remove), and the
 * pass's result — and the document is saved (fenced by the lock).
 */
#ifndef LBR_RECORD_H
#define LBR_RECORD_H

#include <stddef.h>

#include "agent/runtime.h"

struct lbr_state;
struct lbr_state_store;

/* The last-result word of a pool: "converged", "error", "refused",
 * "blocked", "config_changed", "not_converged". */
const char *lbr_pool_result(const struct lbr_pool_rt *p);

/* After apply: turn what did not converge or was blocked into the pool's
 * error, so that it is reported and recorded. */
void lbr_engine_finish(struct lbr_engine *e);

/* Put every selected pool of e into doc and save it through st.  0, or
 * negative with err filled. */
int lbr_record(struct lbr_engine *e, struct lbr_state_store *st, struct lbr_state *doc, char *err,
	       size_t errlen);

#endif
