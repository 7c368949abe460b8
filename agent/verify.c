/*
 * Verify, and the rounds of apply: see verify.h.
 */
#include "config.h"

#include "agent/act.h"
#include "agent/exec.h"
#include "agent/log.h"
#include "agent/observe.h"
#include "agent/verify.h"

void lbr_verify_pool(struct lbr_engine *e, struct lbr_pool_rt *p)
{
	struct lbr_observe_job oj = { .e = e, .p = p, .round = e->round + 1 };

	if (lbr_engine_stop || (p->prov->auth_failed && !p->touched))
		return;
	lbr_observe_job(&oj);
	if (p->obs_ok && !p->error && !p->frozen)
		lbr_engine_plan_pool(e, p);
	p->verified = 1;
}

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
		if (__atomic_load_n(&e->fenced, __ATOMIC_ACQUIRE))
			break; /* no action without the lock: stop the pass */
		for (i = 0; i < e->n_pools; i++)
			pending += e->pools[i].plan.n_pending;
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

			if ((p->touched || p->plan.n_pending) && p->obs_ok && !p->error && !p->frozen &&
			    !p->verified)
				lbr_engine_plan_pool(e, p);
		}
	}
}
