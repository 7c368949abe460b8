/*
 * Drain: see drain.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/batch.h"
#include "agent/call.h"
#include "agent/drain.h"
#include "agent/exec.h"
#include "agent/host.h"
#include "agent/log.h"
#include "agent/plan.h"
#include "agent/rules.h"
#include "agent/util.h"

int lbr_drain_start(struct lbr_pool_rt *p)
{
	size_t k;

	free(p->drain);
	p->n_drain = 0;
	p->drain = calloc(p->plan.n_remove + 1, sizeof(*p->drain));
	if (!p->drain) {
		lbr_pool_error(p, "pool \"%s\": out of memory", p->cfg->name);
		return LBR_ENOMEM;
	}
	for (k = 0; k < p->plan.n_remove; k++) {
		p->drain[k].member = p->plan.remove[k];
		p->drain[k].state = LBR_DRAIN_PENDING;
	}
	p->n_drain = p->plan.n_remove;
	p->drain_deadline_ms = lbr_mono_ms() + (uint64_t)p->cfg->drain_s * 1000u;
	return 0;
}

/* Must drained member m of pool p be kept, by the config read again?  Yes
 * when that config no longer has the pool, declares the member again, or
 * no longer lets lbreconcile remove it (protect, prune): protection and
 * ownership win over a removal decided before the wait. */
static int keep_after_reread(struct lbr_cfg *cfg, const struct lbr_pool_rt *p,
			     const struct lbr_obs_member *m)
{
	struct lbr_cfg_pool *cp = cfg ? lbr_cfg_pool_find(cfg, p->cfg->name) : NULL;
	size_t i;

	if (!cp)
		return 1;
	for (i = 0; i < cp->n_members; i++)
		if (cp->members[i].port == m->port && !strcmp(cp->members[i].address, m->address))
			return 1;
	return !lbr_plan_managed(cp, p->rec, m->address, m->port, m->name, m->instance_id, m->type);
}

/* Phase 3: wait for each draining pool's deadline, in deadline order, then
 * read the config file again: a member declared again in the meantime is
 * restored to its previous weight/enabled, the others are removed. */
void lbr_drain_finish(struct lbr_engine *e)
{
	for (;;) {
		struct lbr_pool_rt *next = NULL;
		struct lbr_cfg *fresh = NULL;
		struct lbr_batch_job *jobs;
		struct lbr_pool_rt **rulers;
		size_t *idx, n_rulers = 0;
		char err[2048];
		size_t i, k, n = 0, nidx = 0;
		uint64_t now;
		int bad_cfg = 0;

		for (i = 0; i < e->n_pools; i++) {
			struct lbr_pool_rt *p = &e->pools[i];
			int waiting = 0;

			for (k = 0; k < p->n_drain; k++)
				waiting |= p->drain[k].state == LBR_DRAIN_DRAINED;
			if (waiting && (!next || p->drain_deadline_ms < next->drain_deadline_ms))
				next = p;
		}
		if (!next)
			return;
		now = lbr_mono_ms();
		if (next->drain_deadline_ms > now)
			lbr_exec_sleep_ms(next->drain_deadline_ms - now, &lbr_engine_stop);
		if (lbr_engine_stop) {
			/* Leave drained members as they are: the next pass sees
			 * them undeclared and finishes the job. */
			for (i = 0; i < e->n_pools; i++)
				e->pools[i].n_drain = 0;
			return;
		}
		if (lbr_cfg_load(e->cfg->path, NULL, lbr_host_table(), &fresh, err, sizeof(err)) <
		    0) {
			lbr_err("drain: cannot re-read the configuration (%s); restoring drained members instead of removing them",
				err);
			bad_cfg = 1;
		}
		now = lbr_mono_ms();
		for (i = 0; i < e->n_pools; i++)
			n += e->pools[i].n_drain;
		jobs = calloc(2 * n + 1, sizeof(*jobs));
		idx = calloc(2 * n + 1, sizeof(*idx));
		rulers = calloc(e->n_pools + 1, sizeof(*rulers));
		if (!jobs || !idx || !rulers) {
			free(jobs);
			free(idx);
			free(rulers);
			lbr_cfg_free(fresh);
			return;
		}
		n = 0;
		for (i = 0; i < e->n_pools; i++) {
			struct lbr_pool_rt *p = &e->pools[i];
			size_t *rm, *rs, n_rm = 0, n_rs = 0;

			if (p->drain_deadline_ms > now && p != next)
				continue;
			rm = idx + nidx;
			for (k = 0; k < p->n_drain; k++)
				n_rm += p->drain[k].state == LBR_DRAIN_DRAINED;
			rs = rm + n_rm;
			n_rm = 0;
			for (k = 0; k < p->n_drain; k++) {
				struct lbr_obs_member *m = &p->obs->members[p->drain[k].member];

				if (p->drain[k].state != LBR_DRAIN_DRAINED)
					continue;
				p->drain[k].state = LBR_DRAIN_DONE;
				if (bad_cfg || keep_after_reread(fresh, p, m)) {
					char ap[80];

					/* The config changed under us: this pass
					 * stops acting on the pool; the next pass
					 * works from the new config. */
					p->frozen = 1;
					lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
					if (!bad_cfg)
						lbr_warn(
							"pool \"%s\": %s is declared again or no longer ours to remove; restoring it instead of removing it",
							p->cfg->name, ap);
					rs[n_rs++] = p->drain[k].member;
				} else {
					rm[n_rm++] = p->drain[k].member;
				}
			}
			if (p->rules_deferred && n_rs && n_rm) {
				/* The pool's rule updates were planned for every
				 * removal; with some members kept they would take
				 * those out of their policies.  Keep them all; the
				 * next pass plans again from the new config. */
				lbr_warn(
					"pool \"%s\": restoring all %zu drained members: its forwarding policies were to be updated for removals that no longer all stand",
					p->cfg->name, n_rm + n_rs);
				memmove(rm + n_rm, rs, n_rs * sizeof(*rs));
				rs = rm;
				n_rs += n_rm;
				n_rm = 0;
			} else if (p->rules_deferred && n_rm) {
				/* Update the policies now, just before the
				 * removals (which keep any member whose policy
				 * could not be updated). */
				rulers[n_rulers++] = p;
			}
			p->rules_deferred = 0;
			/* Restores are taken out of the removals' room. */
			memmove(rm + n_rm, rs, n_rs * sizeof(*rs));
			rs = rm + n_rm;
			nidx += n_rm + n_rs;
			n += lbr_batch_jobs(e, p, rm, n_rm, LBR_BATCH_DO_REMOVE, jobs + n);
			n += lbr_batch_jobs(e, p, rs, n_rs, LBR_BATCH_DO_RESTORE, jobs + n);
		}
		lbr_rules_run(e, rulers, n_rulers);
		/* Restores flip the state of the entry back; removals leave
		 * DONE. */
		lbr_exec_run(e->exec, lbr_batch_job, jobs, sizeof(*jobs), n);
		free(jobs);
		free(idx);
		free(rulers);
		lbr_cfg_free(fresh);
	}
}
