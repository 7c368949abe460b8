/*
 * Rule updates: see rules.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/batch.h"
#include "agent/call.h"
#include "agent/exec.h"
#include "agent/log.h"
#include "agent/rules.h"
#include "agent/util.h"

static void rule_done(struct lbr_pool_rt *p)
{
	pthread_mutex_lock(&p->mu);
	if (--p->rules_left == 0)
		lbr_exec_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void update_job(struct lbr_rule_job *j)
{
	struct lbr_pool_rt *p = j->p;
	struct lbr_rule_update *u = &p->plan.updates[j->idx];
	struct lbr_obs_rule *rule = &p->obs->rules[u->rule];
	struct lbr_rule_ref ref = { .id = rule->id,
				    .attrs = rule->attrs,
				    .n_attrs = rule->n_attrs };
	struct lbr_call c;
	struct lbr_call_result res;
	char desc[1024];

	/* Never empty a rule that must keep a member, whatever the plan says. */
	if (rule->never_empty && u->n_keep == 0) {
		u->failed = 1;
		return;
	}
	memset(&c, 0, sizeof(c));
	c.e = j->e;
	c.prov = p->prov;
	c.pool = p;
	c.op = LBR_OP_UPDATE_RULE;
	c.object_id = rule->id;
	c.rule = &ref;
	c.ids = (const char *const *)u->keep;
	c.n_ids = u->n_keep;
	lbr_call_run(&c, &res);
	p->touched = 1;
	lbr_call_event(j->e, p, LBR_OP_UPDATE_RULE, rule->id, NULL, 0, &res);
	if (res.outcome == LBR_OUT_OK) {
		u->done = 1;
		pthread_mutex_lock(&p->mu);
		p->rule_updates++;
		pthread_mutex_unlock(&p->mu);
		return;
	}
	u->failed = 1;
	lbr_result_describe(&res, desc, sizeof(desc));
	if (lbr_batch_retry_later(res.outcome))
		lbr_pool_soft_error(p, "pool \"%s\": cannot update forwarding policy %s (%s): %s",
				    p->cfg->name, rule->id, rule->label, desc);
	else
		lbr_pool_error(p, "pool \"%s\": cannot update forwarding policy %s (%s): %s",
			       p->cfg->name, rule->id, rule->label, desc);
}

void lbr_rule_job(void *arg)
{
	struct lbr_rule_job *j = arg;

	update_job(j);
	rule_done(j->p);
}

void lbr_rules_run(struct lbr_engine *e, struct lbr_pool_rt *const *pools, size_t n)
{
	struct lbr_rule_job *jobs;
	size_t i, k, total = 0, nj = 0;

	for (i = 0; i < n; i++)
		total += pools[i]->plan.n_updates;
	if (!total)
		return;
	jobs = calloc(total, sizeof(*jobs));
	if (!jobs) {
		/* The removals then find their rules not updated and keep
		 * the members (member_rules_ok). */
		lbr_err("out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		struct lbr_pool_rt *p = pools[i];

		p->rules_left = (int)p->plan.n_updates;
		for (k = 0; k < p->plan.n_updates; k++, nj++) {
			jobs[nj].e = e;
			jobs[nj].p = p;
			jobs[nj].idx = k;
		}
	}
	lbr_exec_run(e->exec, lbr_rule_job, jobs, sizeof(*jobs), nj);
	free(jobs);
}
