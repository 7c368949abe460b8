/*
 * One pool between phases (pool.c): plan it (plan.c + guard.c on its
 * current observation and recorded state), look at it again, and what its
 * provider instance can do.
 */
#ifndef LBR_POOL_H
#define LBR_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "agent/runtime.h"

struct lbr_state;
struct lbr_state_pool;

/* The recorded state of pool p, only when it names the same provider and
 * target (a pool pointed at another backend group shares nothing with its
 * old record: ownership, drift); NULL otherwise. */
const struct lbr_state_pool *lbr_pool_record(const struct lbr_state *st,
					     const struct lbr_pool_rt *p);

/* Most items per call of a batch operation for this instance (>= 1). */
size_t lbr_prov_batch(const struct lbr_prov_rt *p, enum lbr_batch_op op);
/* 1 when the instance may use an optional operation (bit and pointer). */
int lbr_prov_can(const struct lbr_prov_rt *p, uint64_t cap);

/* Plan the pool from its current observation, then guard it (a refusal
 * is sticky for the pass). */
void lbr_pool_plan(struct lbr_engine *e, struct lbr_pool_rt *p);
/* Work the plan still asks for (what apply would do now). */
size_t lbr_pool_work(const struct lbr_pool_rt *p);
/* Whether the listed pool differs from the file: members to remove or
 * missing, to create, weights to set, removals an L7 policy blocks, and
 * removals or creations the cloud does not show yet.  With the changes
 * made outside lbreconcile, what drift's exit code, the documents'
 * "drift" and the drift gauge all call drift.  0 when not listed. */
int lbr_pool_differs(const struct lbr_pool_rt *p);

/* Settle the removals of p that ended in doubt against its current
 * observation: one no longer listed was applied after all — it gets an
 * audit line saying so (with the doubtful attempts' request ids) and counts
 * as removed; one still listed stays for the next round to remove. */
void lbr_pool_settle_doubts(struct lbr_engine *e, struct lbr_pool_rt *p);
/* The first plan of an observed pool (nothing when its listing failed),
 * with the warning when the listing shrank to less than half of the
 * recorded state. */
void lbr_pool_plan_first(struct lbr_engine *e, struct lbr_pool_rt *p);
/* Re-observe and re-plan one pool now (the last removal batch of a pool
 * does it at once, instead of waiting for every other pool). */
void lbr_pool_reobserve(struct lbr_engine *e, struct lbr_pool_rt *p);

#endif
