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
#include "agent/observe.h"
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

/* Does the current listing still show every policy the pool's deferred
 * rule updates were planned from, unchanged (members and the attributes
 * re-sent), and no other policy naming a member about to go?  A policy
 * update replaces the whole backend list: sent from a stale plan, it would
 * undo what changed during the drain. */
static int policies_unchanged(const struct lbr_pool_rt *p, const struct lbr_obs *now,
			      const size_t *rm, size_t n_rm, char *why, size_t whylen)
{
	size_t u, r, k, j;

	for (u = 0; u < p->plan.n_updates; u++) {
		const struct lbr_obs_rule *old = &p->obs->rules[p->plan.updates[u].rule];
		const struct lbr_obs_rule *cur = NULL;

		for (r = 0; r < now->n_rules && !cur; r++)
			if (!strcmp(now->rules[r].id, old->id))
				cur = &now->rules[r];
		if (!cur) {
			snprintf(why, whylen, "forwarding policy %s (%s) is gone", old->id,
				 old->label);
			return 0;
		}
		if (cur->n_members != old->n_members || cur->n_attrs != old->n_attrs)
			goto changed;
		for (k = 0; k < old->n_members; k++) {
			int found = 0;

			for (j = 0; j < cur->n_members && !found; j++)
				found = !strcmp(cur->member_ids[j], old->member_ids[k]);
			if (!found)
				goto changed;
		}
		for (k = 0; k < old->n_attrs; k++)
			if (strcmp(cur->attrs[k].key, old->attrs[k].key) ||
			    strcmp(cur->attrs[k].value, old->attrs[k].value))
				goto changed;
		continue;
changed:
		snprintf(why, whylen, "forwarding policy %s (%s) changed during the drain", old->id,
			 old->label);
		return 0;
	}
	/* A policy created meanwhile that names a member about to go. */
	for (r = 0; r < now->n_rules; r++) {
		int planned = 0;

		for (u = 0; u < p->plan.n_updates && !planned; u++)
			planned = !strcmp(p->obs->rules[p->plan.updates[u].rule].id,
					  now->rules[r].id);
		if (planned)
			continue;
		for (k = 0; k < now->rules[r].n_members; k++)
			for (j = 0; j < n_rm; j++)
				if (!strcmp(now->rules[r].member_ids[k],
					    p->obs->members[rm[j]].id)) {
					snprintf(
						why, whylen,
						"forwarding policy %s (%s) names a drained member since the drain began",
						now->rules[r].id, now->rules[r].label);
					return 0;
				}
	}
	return 1;
}

/* One pool whose drain ends now: what it removes and restores. */
struct drain_end {
	struct lbr_engine *e;
	struct lbr_pool_rt *p;
	size_t *rm, n_rm, *rs, n_rs; /* obs indices, rs right after rm */
	int rules;                   /* its deferred rule updates go out now */
	struct lbr_obs *now;         /* for the check: a fresh listing */
	char why[512];
};

static void peek_job(void *arg)
{
	struct drain_end *d = arg;

	if (lbr_observe_peek(d->e, d->p, &d->now, d->why, sizeof(d->why)) < 0)
		d->now = NULL;
}

/* Keep every drained member of d's pool: restore the removals too. */
static void restore_all(struct drain_end *d, const char *reason)
{
	lbr_warn("pool \"%s\": restoring all %zu drained members: %s; the next pass plans again",
		 d->p->cfg->name, d->n_rm + d->n_rs, reason);
	d->p->frozen = 1;
	memmove(d->rm + d->n_rm, d->rs, d->n_rs * sizeof(*d->rs));
	d->rs = d->rm;
	d->n_rs += d->n_rm;
	d->n_rm = 0;
	d->rules = 0;
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
		struct drain_end *ends;
		size_t *idx, n_rulers = 0, n_ends = 0;
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
		ends = calloc(e->n_pools + 1, sizeof(*ends));
		rulers = calloc(e->n_pools + 1, sizeof(*rulers));
		if (!jobs || !idx || !ends || !rulers) {
			free(jobs);
			free(idx);
			free(ends);
			free(rulers);
			lbr_cfg_free(fresh);
			return;
		}
		/* 1. Which drained members go and which stay, per pool. */
		for (i = 0; i < e->n_pools; i++) {
			struct lbr_pool_rt *p = &e->pools[i];
			struct drain_end *d = &ends[n_ends];

			if (p->drain_deadline_ms > now && p != next)
				continue;
			d->e = e;
			d->p = p;
			d->rm = idx + nidx;
			for (k = 0; k < p->n_drain; k++)
				d->n_rm += p->drain[k].state == LBR_DRAIN_DRAINED;
			d->rs = d->rm + d->n_rm;
			nidx += d->n_rm;
			d->n_rm = 0;
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
					d->rs[d->n_rs++] = p->drain[k].member;
				} else {
					d->rm[d->n_rm++] = p->drain[k].member;
				}
			}
			/* Restores are taken out of the removals' room. */
			memmove(d->rm + d->n_rm, d->rs, d->n_rs * sizeof(*d->rs));
			d->rs = d->rm + d->n_rm;
			if (p->rules_deferred && d->n_rm) {
				/* The rule updates were planned for every
				 * removal: with some members kept (declared
				 * again, or their drain failed) they would take
				 * those out of their policies. */
				if (d->n_rs || d->n_rm < p->plan.n_remove)
					restore_all(
						d,
						"its forwarding policies were to be updated for removals that no longer all stand");
				else
					d->rules = 1;
			}
			p->rules_deferred = 0;
			n_ends++;
		}
		/* 2. The policies the deferred updates replace must be as
		 * they were when planned: list those pools again. */
		for (i = 0; i < n_ends; i++)
			if (ends[i].rules)
				rulers[n_rulers++] = ends[i].p;
		if (n_rulers) {
			struct drain_end *peeks = calloc(n_rulers, sizeof(*peeks));
			size_t np = 0;

			for (i = 0; peeks && i < n_ends; i++)
				if (ends[i].rules)
					peeks[np++] = ends[i];
			if (peeks)
				lbr_exec_run(e->exec, peek_job, peeks, sizeof(*peeks), np);
			n_rulers = 0;
			for (i = 0, np = 0; i < n_ends; i++) {
				struct drain_end *d = &ends[i];

				if (!d->rules)
					continue;
				if (!peeks || !peeks[np].now)
					restore_all(d,
						    peeks ? peeks[np].why
							  : "out of memory checking its policies");
				else if (!policies_unchanged(d->p, peeks[np].now, d->rm, d->n_rm,
							     d->why, sizeof(d->why)))
					restore_all(d, d->why);
				else
					rulers[n_rulers++] = d->p;
				if (peeks)
					lbr_obs_free(peeks[np].now);
				np++;
			}
			free(peeks);
		}
		/* 3. Update the policies, just before the removals; a member
		 * whose policy could not be updated is restored, not left
		 * disabled. */
		lbr_rules_run(e, rulers, n_rulers);
		n = 0;
		for (i = 0; i < n_ends; i++) {
			struct drain_end *d = &ends[i];

			for (k = 0; d->rules && k < d->n_rm;) {
				struct lbr_obs_member *m = &d->p->obs->members[d->rm[k]];

				if (lbr_batch_member_rules_ok(d->p, m->id)) {
					k++;
					continue;
				}
				lbr_warn(
					"pool \"%s\": a forwarding policy naming member %s could not be updated; restoring it",
					d->p->cfg->name, m->id);
				/* Swap it to the end of rm, which starts rs. */
				{
					size_t t = d->rm[k];

					d->rm[k] = d->rm[d->n_rm - 1];
					d->rm[d->n_rm - 1] = t;
				}
				d->n_rm--;
				d->rs--;
				d->n_rs++;
			}
			n += lbr_batch_jobs(e, d->p, d->rm, d->n_rm, LBR_BATCH_DO_REMOVE, jobs + n);
			n += lbr_batch_jobs(e, d->p, d->rs, d->n_rs, LBR_BATCH_DO_RESTORE,
					    jobs + n);
		}
		/* Restores flip the state of the entry back; removals leave
		 * DONE. */
		lbr_exec_run(e->exec, lbr_batch_job, jobs, sizeof(*jobs), n);
		free(jobs);
		free(idx);
		free(ends);
		free(rulers);
		lbr_cfg_free(fresh);
	}
}
