/*
 * Verify, and the rounds of apply: see verify.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/act.h"
#include "agent/call.h"
#include "agent/exec.h"
#include "agent/log.h"
#include "agent/observe.h"
#include "agent/pool.h"
#include "agent/util.h"
#include "agent/verify.h"

void lbr_engine_apply(struct lbr_engine *e)
{
	unsigned pending_waits = 0;
	int round;
	size_t i;

	if (!e->allow_mutate) {
		lbr_err("internal error: apply on a read-only engine");
		return;
	}
	for (round = 1; round <= e->cfg->max_rounds && !lbr_engine_stop; round++) {
		size_t acted, pending = 0;

		e->round = round;
		acted = lbr_act_round(e);
		if (__atomic_load_n(&e->fenced, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&e->audit_lost, __ATOMIC_ACQUIRE))
			break; /* no action without the lock or the audit log */
		/* A streamed pool had round 1 before (stream.c): what its
		 * verification left to do waits for round 2. */
		for (i = 0; round == 1 && i < e->n_pools; i++)
			acted += e->pools[i].streamed && lbr_pool_work(&e->pools[i]) > 0;
		for (i = 0; i < e->n_pools; i++)
			pending += e->pools[i].plan.n_pending + e->pools[i].plan.n_create_pending;
		if (!acted && !pending)
			break;
		if (!acted) {
			/* Removed members still listed: the cloud is
			 * eventually consistent.  Wait, then look again,
			 * without removing them a second time. */
			uint64_t w = 500ull << (pending_waits < 4 ? pending_waits : 4);

			pending_waits++;
			lbr_exec_sleep_ms(w, &lbr_engine_stop);
		}
		lbr_observe_pools(e, round + 1, 1);
		for (i = 0; i < e->n_pools; i++) {
			struct lbr_pool_rt *p = &e->pools[i];

			lbr_pool_settle_doubts(e, p);
			/* Whatever was observed again is planned again. */
			if (p->obs_ok && !p->error && !p->frozen && p->plan_gen != p->obs_gen)
				lbr_pool_plan(e, p);
		}
	}
}
