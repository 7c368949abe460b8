/*
 * One pool between phases: its plan (plan + guard), what it still has to
 * do, a fresh look at it (re-observe, settle doubtful removals, re-plan),
 * and what its provider instance can do.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/call.h"
#include "agent/guard.h"
#include "agent/observe.h"
#include "agent/pool.h"
#include "agent/util.h"
#include "state/state.h"

const struct lbr_state_pool *lbr_pool_record(const struct lbr_state *st,
					     const struct lbr_pool_rt *p)
{
	const struct lbr_state_pool *sp;
	size_t i, k;

	if (!st)
		return NULL;
	sp = lbr_state_pool_find((struct lbr_state *)st, p->cfg->name);
	if (!sp || !sp->provider || strcmp(sp->provider, p->prov->cfg->name) != 0)
		return NULL;
	for (i = 0; i < p->target.n; i++) {
		int found = 0;

		for (k = 0; k < sp->n_targets && !found; k++)
			found = !strcmp(sp->targets[k].key, p->target.kv[i].key) &&
				!strcmp(sp->targets[k].value, p->target.kv[i].value);
		if (!found)
			return NULL;
	}
	return sp;
}

size_t lbr_prov_batch(const struct lbr_prov_rt *p, enum lbr_batch_op op)
{
	uint32_t b = p->info.batch[op];

	return b ? b : 1;
}

int lbr_prov_can(const struct lbr_prov_rt *p, uint64_t cap)
{
	const struct lbr_provider *ops = &p->cfg->plugin->ops;
	const void *fn = NULL;

	if (!(p->info.caps & cap))
		return 0;
	if (cap == LBR_CAP_CREATE)
		fn = (const void *)ops->create_members;
	else if (cap == LBR_CAP_WEIGHT)
		fn = (const void *)ops->set_weights;
	else if (cap == LBR_CAP_DRAIN)
		fn = (const void *)ops->drain_members;
	else if (cap == LBR_CAP_RULES)
		fn = (const void *)ops->update_rule;
	else
		return 1;
	return fn != NULL;
}

size_t lbr_pool_work(const struct lbr_pool_rt *p)
{
	if (!p->obs_ok || p->refused)
		return 0;
	return p->plan.n_remove + p->plan.n_updates + p->plan.n_create + p->plan.n_reweight;
}

int lbr_pool_differs(const struct lbr_pool_rt *p)
{
	const struct lbr_plan *pl = &p->plan;

	return p->obs_ok && (pl->n_remove || pl->n_missing || pl->n_create || pl->n_reweight ||
			     pl->n_blocked || pl->n_pending || pl->n_create_pending);
}

void lbr_pool_plan(struct lbr_engine *e, struct lbr_pool_rt *p)
{
	struct lbr_plan_input in = {
		.pool = p->cfg,
		.obs = p->obs,
		.rec = p->rec,
		.removed_ids = (const char *const *)p->removed_ids,
		.n_removed_ids = p->n_removed_ids,
		.created_keys = (const char *const *)p->created_keys,
		.n_created_keys = p->n_created_keys,
		.can_weight = lbr_prov_can(p->prov, LBR_CAP_WEIGHT),
	};
	struct lbr_guard_input g;

	lbr_plan_release(&p->plan);
	if (!p->obs_ok || !p->obs)
		return;
	p->plan_gen = p->obs_gen;
	if (lbr_plan_pool(&in, &p->plan) < 0) {
		p->obs_ok = 0;
		lbr_pool_error(p, "pool \"%s\": out of memory while planning", p->cfg->name);
		return;
	}
	if (!p->base_set) {
		p->first_base = lbr_plan_base(&p->plan, p->obs->n_members);
		p->base_set = 1;
	}
	memset(&g, 0, sizeof(g));
	g.max_delete = e->cfg->max_delete;
	g.max_delete_percent = e->cfg->max_delete_percent;
	g.max_create = p->cfg->max_create;
	g.base = p->first_base;
	g.removed_before = p->removed + p->already_gone;
	g.created_before = p->created;
	g.first_observed = p->first_observed;
	g.recorded = p->rec ? p->rec->n_members : 0;
	g.force = e->force;
	if (!p->refused && lbr_guard_check(&g, &p->plan, p->refuse_msg, sizeof(p->refuse_msg)))
		p->refused = 1;
}

void lbr_pool_settle_doubts(struct lbr_engine *e, struct lbr_pool_rt *p)
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

			snprintf(
				detail, sizeof(detail),
				"no longer listed after removal attempts that ended in doubt (request ids: %s)",
				d->requests);
			lbr_call_audit_line(e, p, "remove", d->id, d->address, d->port, "gone",
					    detail);
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

void lbr_pool_plan_first(struct lbr_engine *e, struct lbr_pool_rt *p)
{
	const struct lbr_state_pool *sp = p->rec;

	if (!p->obs_ok)
		return;
	lbr_pool_plan(e, p);
	if (sp && sp->n_members >= 4 && p->obs->n_members < sp->n_members / 2)
		snprintf(p->warning, sizeof(p->warning),
			 "listing shrank from %zu members (last recorded state) to %zu",
			 sp->n_members, p->obs->n_members);
}

void lbr_pool_reobserve(struct lbr_engine *e, struct lbr_pool_rt *p)
{
	struct lbr_observe_job oj = { .e = e, .p = p, .round = e->round + 1 };

	if (lbr_engine_stop || (p->prov->auth_failed && !p->touched))
		return;
	lbr_observe_job(&oj);
	lbr_pool_settle_doubts(e, p);
	if (p->obs_ok && !p->error && !p->frozen)
		lbr_pool_plan(e, p);
	p->verified = 1;
}
