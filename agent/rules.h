/*
 * Rule updates (SPEC §4.4, UCloud Layer 7): update one forwarding policy
 * of a pool's plan to the backends it keeps, before any of the backends it
 * loses is released.  A policy that must never be emptied is left alone
 * (the update is marked failed, and batch.c keeps every member it names).
 *
 * Each update counts down the pool's rules_left and wakes the removals
 * waiting on it (batch.c, wait_rules).
 */
#ifndef LBR_RULES_H
#define LBR_RULES_H

#include <stddef.h>

#include "agent/runtime.h"

/* One rule update of a pool's plan. */
struct lbr_rule_job {
	struct lbr_engine *e;
	struct lbr_pool_rt *p;
	size_t idx; /* index into p->plan.updates */
};

/* Executor job: carry out one lbr_rule_job. */
void lbr_rule_job(void *arg);

/* Run the planned rule updates of pools[0..n) now (concurrently) and
 * return when all are done: for a drain, whose rule updates wait for its
 * end. */
void lbr_rules_run(struct lbr_engine *e, struct lbr_pool_rt *const *pools, size_t n);

#endif
