/*
 * The plan's member lists as report rows: creations, weight changes,
 * protected and unmanaged members of one pool.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/report.h"

static struct lbr_report_member *keep_rows(const struct lbr_pool_rt *p,
					   const struct lbr_plan_keep *k, size_t n)
{
	struct lbr_report_member *rows = calloc(n + 1, sizeof(*rows));
	size_t i;

	for (i = 0; rows && i < n; i++) {
		const struct lbr_obs_member *m = &p->obs->members[k[i].member];

		rows[i].id = m->id;
		rows[i].address = m->address;
		rows[i].port = m->port;
		rows[i].weight_from = m->weight;
		rows[i].weight_to = -1;
		rows[i].reason = k[i].why;
	}
	return rows;
}

void lbr_report_lists_build(const struct lbr_pool_rt *p, struct lbr_report_lists *l)
{
	struct lbr_report_member *c, *u;
	size_t i;

	memset(l, 0, sizeof(*l));
	if (!p->obs_ok || !p->obs)
		return;
	c = calloc(p->plan.n_create + 1, sizeof(*c));
	u = calloc(p->plan.n_reweight + 1, sizeof(*u));
	for (i = 0; c && i < p->plan.n_create; i++) {
		const struct lbr_cfg_member *m = &p->cfg->members[p->plan.create[i]];

		c[i].address = m->address;
		c[i].port = m->port;
		c[i].weight_from = -1;
		c[i].weight_to = m->weight;
	}
	for (i = 0; u && i < p->plan.n_reweight; i++) {
		const struct lbr_plan_reweight *w = &p->plan.reweight[i];
		const struct lbr_obs_member *m = &p->obs->members[w->member];

		u[i].id = m->id;
		u[i].address = m->address;
		u[i].port = m->port;
		u[i].weight_from = w->from;
		u[i].weight_to = w->to;
	}
	l->create = c;
	l->n_create = c ? p->plan.n_create : 0;
	l->update = u;
	l->n_update = u ? p->plan.n_reweight : 0;
	l->protect = keep_rows(p, p->plan.protect, p->plan.n_protect);
	l->n_protect = l->protect ? p->plan.n_protect : 0;
	l->unmanaged = keep_rows(p, p->plan.unmanaged, p->plan.n_unmanaged);
	l->n_unmanaged = l->unmanaged ? p->plan.n_unmanaged : 0;
}

void lbr_report_lists_release(struct lbr_report_lists *l)
{
	free((void *)l->create);
	free((void *)l->update);
	free((void *)l->protect);
	free((void *)l->unmanaged);
	memset(l, 0, sizeof(*l));
}
