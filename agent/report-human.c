/*
 * The human plan (plan, drift, apply): one block per pool, then a line of
 * counts.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "agent/cfg.h"
#include "agent/log.h"
#include "agent/report.h"
#include "agent/report-int.h"
#include "state/state.h"

#define C_RED "\033[31m"
#define C_YEL "\033[33m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

static const char *col(const struct lbr_report *r, const char *c)
{
	return r->color ? c : "";
}

static const char *target_desc(const struct lbr_pool_rt *p, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < p->target.n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, ", %s %s", p->target.kv[i].key,
				      p->target.kv[i].value);
	return buf;
}

/* -q: nothing but errors (cron mails only on failure).  The daemon logs
 * one summary line per pass that changed something, not the plan of every
 * pass. */
int lbr_report_human_plan_shown(const struct lbr_report *r)
{
	return !r->json && !r->quiet && strcmp(r->command, "run") != 0;
}

/* The human plan of one pool; adds its counts to r->totals. */
void lbr_report_plan_pool_human(struct lbr_report *r, struct lbr_engine *e, struct lbr_pool_rt *p,
				int for_drift)
{
	struct lbr_report_totals *t = &r->totals;
	struct lbr_report_lists l;
	size_t k, app = 0, dis = 0;
	FILE *f = r->out;
	char ap[80], tgt[512];

	if (p->obs_ok && for_drift)
		lbr_report_changed_outside(r->state, p, &app, &dis);
	fprintf(f, "%spool \"%s\"%s (provider %s%s): ", col(r, C_BOLD), p->cfg->name, col(r, C_OFF),
		p->prov->cfg->name, target_desc(p, tgt, sizeof(tgt)));
	if (!p->obs_ok) {
		fprintf(f, "not observed\n");
		fprintf(f, "  %serror:%s %s\n", col(r, C_RED), col(r, C_OFF),
			p->error ? p->error : "observation failed");
		t->n_err++;
		return;
	}
	memset(&l, 0, sizeof(l));
	lbr_report_lists_build(p, &l);
	fprintf(f, "%zu observed, %zu desired\n", p->obs->n_members, p->cfg->n_members);
	if (p->warning[0])
		fprintf(f, "  %swarning:%s %s\n", col(r, C_YEL), col(r, C_OFF), p->warning);
	for (k = 0; k < p->plan.n_updates; k++) {
		struct lbr_obs_rule *rule = &p->obs->rules[p->plan.updates[k].rule];
		size_t m;

		if (strstr(rule->label, rule->id))
			fprintf(f, "  %s~ policy %s: keep", col(r, C_YEL), rule->label);
		else
			fprintf(f, "  %s~ policy %s (%s): keep", col(r, C_YEL), rule->id,
				rule->label);
		for (m = 0; m < p->plan.updates[k].n_keep; m++)
			fprintf(f, " %s", p->plan.updates[k].keep[m]);
		fprintf(f, "%s\n", col(r, C_OFF));
	}
	t->n_updates += p->plan.n_updates;
	for (k = 0; k < p->plan.n_remove; k++) {
		struct lbr_obs_member *m = &p->obs->members[p->plan.remove[k]];

		lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
		fprintf(f, "  %s- %-22s%s (member %s)  pool %s\n", col(r, C_RED), ap, col(r, C_OFF),
			m->id, p->cfg->name);
	}
	for (k = 0; k < p->plan.n_blocked; k++) {
		struct lbr_obs_member *m = &p->obs->members[p->plan.blocked[k].member];

		lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
		fprintf(f, "  ! blocked %s (member %s): %s\n", ap, m->id,
			p->plan.blocked[k].reason);
	}
	/* With create = yes a missing member is a creation (below). */
	for (k = 0; !p->cfg->create && k < p->plan.n_missing; k++) {
		struct lbr_cfg_member *m = &p->cfg->members[p->plan.missing[k]];

		lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
		fprintf(f, "  ? missing %s (declared at %s:%d, not in the pool)\n", ap,
			e->cfg->path, m->line);
	}
	for (k = 0; k < l.n_create; k++) {
		lbr_addrport_fmt(l.create[k].address, l.create[k].port, ap, sizeof(ap));
		if (l.create[k].weight_to >= 0)
			fprintf(f, "  + %s (create) weight %d  pool %s\n", ap,
				l.create[k].weight_to, p->cfg->name);
		else
			fprintf(f, "  + %s (create)  pool %s\n", ap, p->cfg->name);
	}
	for (k = 0; k < l.n_update; k++) {
		lbr_addrport_fmt(l.update[k].address, l.update[k].port, ap, sizeof(ap));
		fprintf(f, "  ~ %s weight %d -> %d  (member %s)  pool %s\n", ap,
			l.update[k].weight_from, l.update[k].weight_to,
			l.update[k].id ? l.update[k].id : "?", p->cfg->name);
	}
	if (l.n_protect || l.n_unmanaged || p->plan.n_weight_ignored) {
		fprintf(f, "  = kept: %zu protected, %zu unmanaged", l.n_protect, l.n_unmanaged);
		if (p->plan.n_weight_ignored)
			fprintf(f, " (%zu declared weight(s) not enforced: protected)",
				p->plan.n_weight_ignored);
		fprintf(f, "\n");
	}
	/* -v lists them, with why each is kept. */
	for (k = 0; lbr_log_level >= LBR_LOG_INFO && k < l.n_protect + l.n_unmanaged; k++) {
		const struct lbr_report_member *m = k < l.n_protect ? &l.protect[k]
								    : &l.unmanaged[k - l.n_protect];

		lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
		fprintf(f, "    = %s (member %s) %s: %s\n", ap, m->id,
			k < l.n_protect ? "protected" : "unmanaged", m->reason ? m->reason : "");
	}
	if (for_drift && (app || dis)) {
		const struct lbr_state_pool *sp = lbr_report_recorded(r->state, p);
		struct outside d;

		if (lbr_report_outside_diff(sp, p, &d) < 0)
			memset(&d, 0, sizeof(d)); /* counted above, cannot list them */
		for (k = 0; d.appeared && k < p->obs->n_members; k++)
			if (d.appeared[k]) {
				lbr_addrport_fmt(p->obs->members[k].address,
						 p->obs->members[k].port, ap, sizeof(ap));
				fprintf(f,
					"  + appeared since the last recorded state: %s (member %s)\n",
					ap, p->obs->members[k].id);
			}
		for (k = 0; d.disappeared && k < sp->n_members; k++)
			if (d.disappeared[k]) {
				lbr_addrport_fmt(sp->members[k].address, sp->members[k].port, ap,
						 sizeof(ap));
				fprintf(f,
					"  x disappeared since the last recorded state: %s (member %s)\n",
					ap, sp->members[k].id);
			}
		lbr_report_outside_free(&d);
		t->n_changed += app + dis;
	}
	if (p->refused) {
		fprintf(f, "  %srefused:%s %s\n", col(r, C_RED), col(r, C_OFF), p->refuse_msg);
		t->n_refused++;
	}
	if (p->error) {
		fprintf(f, "  %serror:%s %s\n", col(r, C_RED), col(r, C_OFF), p->error);
		t->n_err++;
	}
	if (!p->plan.n_remove && !p->plan.n_missing && !p->plan.n_blocked && !p->refused &&
	    !p->plan.n_updates && !l.n_create && !l.n_update)
		fprintf(f, "  no changes\n");
	t->n_remove += p->plan.n_remove;
	t->n_missing += p->plan.n_missing;
	t->n_blocked += p->plan.n_blocked;
	t->n_create += l.n_create;
	t->n_weights += l.n_update;
	lbr_report_lists_release(&l);
}

/* The line after the plans: the counts of every pool shown. */
static void plan_totals_human(struct lbr_report *r, int for_drift)
{
	const struct lbr_report_totals *t = &r->totals;
	FILE *f = r->out;

	if (for_drift)
		fprintf(f,
			"Drift: %zu to remove, %zu missing, %zu changed outside lbreconcile, %zu errors.\n",
			t->n_remove, t->n_missing, t->n_changed, t->n_err);
	else
		fprintf(f,
			"Plan: %zu to remove, %zu policy updates, %zu to create, %zu weight changes, %zu missing, %zu blocked, %zu refused, %zu errors.\n",
			t->n_remove, t->n_updates, t->n_create, t->n_weights, t->n_missing,
			t->n_blocked, t->n_refused, t->n_err);
	fflush(f);
}

void lbr_report_plan_human(struct lbr_report *r, struct lbr_engine *e, int for_drift)
{
	size_t i;

	if (!lbr_report_human_plan_shown(r))
		return;
	memset(&r->totals, 0, sizeof(r->totals));
	for (i = 0; i < e->n_pools; i++)
		lbr_report_plan_pool_human(r, e, &e->pools[i], for_drift);
	plan_totals_human(r, for_drift);
}

void lbr_report_plan_end(struct lbr_report *r)
{
	if (!lbr_report_human_plan_shown(r))
		return;
	pthread_mutex_lock(&r->mu);
	if (r->progress_drawn) /* the same terminal: erase the line first */
		fprintf(stderr, "\r%60s\r", "");
	pthread_mutex_unlock(&r->mu);
	plan_totals_human(r, 0);
}
