/*
 * Members changed outside lbreconcile since the last recorded state
 * (drift's changed_outside).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "agent/plan.h"
#include "agent/plugin.h"
#include "agent/pool.h"
#include "agent/report.h"
#include "agent/report-int.h"
#include "agent/util.h"
#include "state/state.h"

/* Recorded members of the pool, if the recorded target is the same. */
const struct lbr_state_pool *lbr_report_recorded(const struct lbr_state *st,
						 const struct lbr_pool_rt *p)
{
	return lbr_pool_record(st, p);
}

/*
 * Members changed outside lbreconcile: observed ids not in the recorded
 * state (appeared) and recorded ids no longer observed (disappeared).
 * Both lists are sorted once and merged: pools of 100,000 members made a
 * scan of one list per member of the other take minutes.
 */
struct idref {
	const char *id;
	size_t i;
};

static int idref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct idref *)a)->id, ((const struct idref *)b)->id);
}

void lbr_report_outside_free(struct outside *d)
{
	free(d->appeared);
	free(d->disappeared);
	memset(d, 0, sizeof(*d));
}

/* Members lbreconcile does not manage in the pool (protected, unmanaged)
 * come and go as others please: they are not drift. */
static int obs_managed(const struct lbr_pool_rt *p, const struct lbr_state_pool *sp, size_t i)
{
	const struct lbr_obs_member *m = &p->obs->members[i];

	return lbr_plan_managed(p->cfg, sp, m->address, m->port, m->name, m->instance_id, m->type);
}

static int rec_managed(const struct lbr_pool_rt *p, const struct lbr_state_pool *sp,
		       const struct lbr_state_member *m)
{
	return lbr_plan_managed(p->cfg, sp, m->address ? m->address : "", m->port, m->name, NULL,
				NULL);
}

int lbr_report_outside_diff(const struct lbr_state_pool *sp, const struct lbr_pool_rt *p,
			    struct outside *d)
{
	const struct lbr_obs *o = p->obs;
	size_t no = o->n_members, ns = sp->n_members, i, j;
	struct idref *ro = malloc((no ? no : 1) * sizeof(*ro));
	struct idref *rs = malloc((ns ? ns : 1) * sizeof(*rs));

	memset(d, 0, sizeof(*d));
	d->appeared = calloc(no ? no : 1, 1);
	d->disappeared = calloc(ns ? ns : 1, 1);
	if (!ro || !rs || !d->appeared || !d->disappeared) {
		free(ro);
		free(rs);
		lbr_report_outside_free(d);
		return -1;
	}
	for (i = 0; i < no; i++)
		ro[i] = (struct idref){ o->members[i].id, i };
	for (j = 0; j < ns; j++)
		rs[j] = (struct idref){ sp->members[j].id ? sp->members[j].id : "", j };
	qsort(ro, no, sizeof(*ro), idref_cmp);
	qsort(rs, ns, sizeof(*rs), idref_cmp);
	for (i = j = 0; i < no || j < ns;) {
		int c = i >= no ? 1 : j >= ns ? -1 : strcmp(ro[i].id, rs[j].id);

		if (c < 0) {
			size_t k = ro[i++].i;

			if (obs_managed(p, sp, k)) {
				d->appeared[k] = 1;
				d->n_app++;
			}
		} else if (c > 0) {
			size_t k = rs[j++].i;

			if (rec_managed(p, sp, &sp->members[k])) {
				d->disappeared[k] = 1;
				d->n_dis++;
			}
		} else {
			const char *id = ro[i].id;

			while (i < no && !strcmp(ro[i].id, id))
				i++;
			while (j < ns && !strcmp(rs[j].id, id))
				j++;
		}
	}
	free(ro);
	free(rs);
	return 0;
}

size_t lbr_report_changed_outside(const struct lbr_state *st, const struct lbr_pool_rt *p,
				  size_t *appeared, size_t *disappeared)
{
	const struct lbr_state_pool *sp = lbr_report_recorded(st, p);
	struct outside d;

	*appeared = *disappeared = 0;
	if (!sp || !p->obs_ok || lbr_report_outside_diff(sp, p, &d) < 0)
		return 0;
	*appeared = d.n_app;
	*disappeared = d.n_dis;
	lbr_report_outside_free(&d);
	return *appeared + *disappeared;
}
