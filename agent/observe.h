/*
 * Observe (SPEC §4.1): list every page of a pool through its plugin.  A
 * pool whose listing fails, does not end, or lists a member twice is not
 * acted on in this pass (its error says why); otherwise p->obs is replaced
 * by the new observation.  The first call to each provider runs alone, so
 * that bad credentials cost exactly one rejected call.
 */
#ifndef LBR_OBSERVE_H
#define LBR_OBSERVE_H

#include "agent/runtime.h"

struct lbr_observe_job {
	struct lbr_engine *e;
	struct lbr_pool_rt *p;
	int round;
};

/* Observe one pool (an executor job; also called in line). */
void lbr_observe_job(void *arg);
/* List pool p again into a new observation (*out, the caller frees it)
 * without touching p's observation or plan: for a check before acting.
 * 0, or -1 with why filled. */
int lbr_observe_peek(struct lbr_engine *e, struct lbr_pool_rt *p, struct lbr_obs **out, char *why,
		     size_t whylen);
/* Observe every selected pool at once; with only_touched, only the pools
 * acted on (or with removals still listed) that were not re-observed yet. */
void lbr_observe_pools(struct lbr_engine *e, int round, int only_touched);

#endif
