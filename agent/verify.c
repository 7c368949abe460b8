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
#include "agent/util.h"
#include "agent/verify.h"

void lbr_verify_doubts(struct lbr_engine *e, struct lbr_pool_rt *p)
{
	size_t k, i, keep = 0;

	if (!p->obs_ok || !p->obs)
		return;
	for (k = 0; k < p->n_doubt; k++) {
		struct lbr_doubt *d = &p->doubt[k];
		int listed = 0;

		for (i = 0; i < p->obs->n_members && !listed; i++)
			listed = !strcmp(p->obs->members[i].id, d->id);
		if (listed) {
			p->doubt[keep++] = *d;
			continue;
		}
		{
			char detail[400];

			snprintf(detail, sizeof(detail),
				 "no longer listed after removal attempts that ended in doubt (request ids: %s)",
				 d->requests);
			lbr_call_audit_line(e, p, "remove", d->id, d->address, d->port, "gone", detail);
		}
		pthread_mutex_lock(&p->mu);
		p->already_gone++;
		if (lbr_grow((void **)&p->removed_ids, &p->cap_removed_ids, p->n_removed_ids,
			     sizeof(char *)) == 0) {
			p->removed_ids[p->n_removed_ids] = d->id;
			d->id = NULL; /* transferred */
			p->n_removed_ids++;
		}
		pthread_mutex_unlock(&p->mu);
		free(d->id);
	}
	p->n_doubt = keep;
}

void lbr_verify_pool(struct lbr_engine *e, struct lbr_pool_rt *p)
{
	struct lbr_observe_job oj = { .e = e, .p = p, .round = e->round + 1 };

	if (lbr_engine_stop || (p->prov->auth_failed && !p->touched))
		return;
	lbr_observe_job(&oj);
	lbr_verify_doubts(e, p);
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

			lbr_verify_doubts(e, p);
			/* Whatever was observed again is planned again. */
			if (p->obs_ok && !p->error && !p->frozen && p->plan_gen != p->obs_gen)
				lbr_engine_plan_pool(e, p);
		}
	}
}
