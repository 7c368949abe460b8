/*
 * Act: see act.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/act.h"
#include "agent/batch.h"
#include "agent/call.h"
#include "agent/drain.h"
#include "agent/exec.h"
#include "agent/log.h"
#include "agent/observe.h"
#include "agent/util.h"
#include "agent/pool.h"
#include "agent/rules.h"

int lbr_pool_can_act(const struct lbr_pool_rt *p)
{
	return p->obs_ok && !p->refused && !p->error && !p->frozen;
}

/* May p act in this round?  A streamed pool had round 1 already. */
static int acts_now(const struct lbr_engine *e, const struct lbr_pool_rt *p)
{
	return lbr_pool_can_act(p) && !(p->streamed && e->round == 1);
}

/* ------------------------------------------------------ make: create/weight */

struct make_job {
	struct lbr_engine *e;
	struct lbr_pool_rt *p;
	enum lbr_op op;  /* LBR_OP_CREATE or LBR_OP_WEIGHT */
	size_t first, n; /* range of plan.create / plan.reweight */
};

static void make_job(void *arg)
{
	struct make_job *j = arg;
	struct lbr_pool_rt *p = j->p;
	struct lbr_cfg_pool *cp = p->cfg;
	struct lbr_member_spec *specs = NULL;
	struct lbr_member_ref *refs = NULL;
	int *weights = NULL;
	struct lbr_item_result *items = calloc(j->n, sizeof(*items));
	struct lbr_call c;
	struct lbr_call_result res;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.e = j->e;
	c.prov = p->prov;
	c.pool = p;
	c.op = j->op;
	c.n = j->n;
	c.items = items;
	if (j->op == LBR_OP_CREATE) {
		specs = calloc(j->n, sizeof(*specs));
		for (i = 0; specs && i < j->n; i++)
			specs[i] = cp->specs[p->plan.create[j->first + i]];
		c.specs = specs;
	} else {
		refs = calloc(j->n, sizeof(*refs));
		weights = calloc(j->n, sizeof(*weights));
		for (i = 0; refs && weights && i < j->n; i++) {
			const struct lbr_plan_reweight *w = &p->plan.reweight[j->first + i];

			lbr_batch_ref(&p->obs->members[w->member], &refs[i]);
			weights[i] = w->to;
		}
		c.m = refs;
		c.weights = weights;
	}
	if (!items || (j->op == LBR_OP_CREATE ? !specs : (!refs || !weights))) {
		lbr_pool_error(p, "pool \"%s\": out of memory", cp->name);
		p->make_failed = 1;
		goto out;
	}
	c.object_id = j->op == LBR_OP_WEIGHT ? refs[0].id : NULL;
	lbr_call_run(&c, &res);
	p->touched = 1;
	for (i = 0; i < j->n; i++) {
		struct lbr_call_result ir;
		const char *addr = j->op == LBR_OP_CREATE ? specs[i].address : refs[i].address;
		unsigned port = j->op == LBR_OP_CREATE ? specs[i].port : refs[i].port;
		const char *id = j->op == LBR_OP_CREATE ? (items[i].id[0] ? items[i].id : NULL)
							: refs[i].id;
		char ap[80], desc[1024];

		lbr_item_as_result(&res, &items[i], &ir);
		lbr_call_event(j->e, p, j->op, id, addr, port, &ir);
		lbr_addrport_fmt(addr, port, ap, sizeof(ap));
		pthread_mutex_lock(&p->mu);
		if (ir.outcome == LBR_OUT_OK && j->op == LBR_OP_CREATE)
			p->created++;
		else if (ir.outcome == LBR_OUT_EXISTS && j->op == LBR_OP_CREATE)
			p->already_there++;
		else if (ir.outcome == LBR_OUT_OK)
			p->reweighted++;
		else
			p->failed++;
		if (j->op == LBR_OP_CREATE &&
		    (ir.outcome == LBR_OUT_OK || ir.outcome == LBR_OUT_EXISTS))
			lbr_batch_remember(&p->created_keys, &p->n_created_keys,
					   &p->cap_created_keys, ap);
		pthread_mutex_unlock(&p->mu);
		if (ir.outcome == LBR_OUT_OK ||
		    (ir.outcome == LBR_OUT_EXISTS && j->op == LBR_OP_CREATE))
			continue;
		/* Make before break: nothing is removed from a pool whose
		 * new capacity did not arrive. */
		p->make_failed = 1;
		lbr_result_describe(&ir, desc, sizeof(desc));
		if (lbr_batch_retry_later(ir.outcome))
			lbr_pool_soft_error(p, "pool \"%s\": cannot %s %s: %s", cp->name,
					    j->op == LBR_OP_CREATE ? "create" : "set the weight of",
					    ap, desc);
		else
			lbr_pool_error(p, "pool \"%s\": cannot %s %s: %s", cp->name,
				       j->op == LBR_OP_CREATE ? "create" : "set the weight of", ap,
				       desc);
	}
out:
	free(items);
	free(specs);
	free(refs);
	free(weights);
}

static size_t add_make_jobs(struct lbr_engine *e, struct lbr_pool_rt *p, enum lbr_op op,
			    size_t total, struct make_job *out)
{
	size_t batch = lbr_prov_batch(p->prov,
				      op == LBR_OP_CREATE ? LBR_BATCH_CREATE : LBR_BATCH_WEIGHT);
	size_t i, n = 0;

	for (i = 0; i < total; i += batch) {
		out[n].e = e;
		out[n].p = p;
		out[n].op = op;
		out[n].first = i;
		out[n].n = total - i < batch ? total - i : batch;
		n++;
	}
	return n;
}

/* Step 1: creations and weight changes of every pool, then re-list the
 * pools that made any. */
static size_t make_round(struct lbr_engine *e)
{
	struct make_job *jobs;
	size_t i, n = 0, total = 0;

	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		/* Members created earlier but not listed yet hold removals
		 * back until a listing shows them. */
		p->hold_removals = p->plan.n_create_pending > 0;
		if (acts_now(e, p) && !p->prov->auth_failed)
			total += p->plan.n_create + p->plan.n_reweight;
	}
	if (!total)
		return 0;
	jobs = calloc(total, sizeof(*jobs));
	if (!jobs) {
		lbr_err("out of memory");
		return 0;
	}
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		if (!acts_now(e, p) || p->prov->auth_failed)
			continue;
		n += add_make_jobs(e, p, LBR_OP_CREATE, p->plan.n_create, jobs + n);
		n += add_make_jobs(e, p, LBR_OP_WEIGHT, p->plan.n_reweight, jobs + n);
	}
	lbr_exec_run(e->exec, make_job, jobs, sizeof(*jobs), n);
	free(jobs);
	/* Verify: re-list what changed before anything is taken away. */
	lbr_observe_pools(e, e->round, 1);
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		if (!p->touched)
			continue;
		p->verified = 1;
		if (p->obs_ok && !p->error && !p->frozen && p->plan_gen != p->obs_gen)
			lbr_pool_plan(e, p);
		if (!p->obs_ok || p->plan.n_create || p->plan.n_reweight ||
		    p->plan.n_create_pending) {
			p->hold_removals = 1;
			if (!p->make_failed)
				lbr_pool_soft_error(
					p,
					"pool \"%s\": %zu new member(s) or weight(s) not listed yet; removals wait",
					p->cfg->name,
					p->plan.n_create + p->plan.n_reweight +
						p->plan.n_create_pending);
		}
	}
	return total;
}

/* Rule updates and member batches share one executor run: a job is either. */
struct phase_job {
	int is_rule;
	struct lbr_rule_job r;
	struct lbr_batch_job a;
};

static void phase_job(void *arg)
{
	struct phase_job *j = arg;

	if (j->is_rule) {
		lbr_rule_job(&j->r);
	} else {
		lbr_batch_job(&j->a);
	}
}

/* Step 2: rule updates first in the queue, then removals that each wait for
 * their own pool's rule updates.  A draining pool's rule updates wait for
 * the drain's end instead (lbr_rules_run from drain.c). */
static size_t break_round(struct lbr_engine *e)
{
	struct phase_job *jobs;
	struct lbr_batch_job *tmp;
	size_t i, k, n = 0, total = 0;

	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		p->inline_verify = 0;
		p->rules_left = 0;
		p->rules_deferred = 0;
		if (acts_now(e, p) && !p->make_failed && !p->hold_removals)
			total += p->plan.n_updates + p->plan.n_remove;
	}
	if (!total)
		return 0;
	jobs = calloc(total, sizeof(*jobs));
	tmp = calloc(total, sizeof(*tmp));
	if (!jobs || !tmp) {
		free(jobs);
		free(tmp);
		lbr_err("out of memory");
		return 0;
	}
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		if (!acts_now(e, p) || p->make_failed || p->hold_removals)
			continue;
		if (p->cfg->drain_s > 0 && p->plan.n_remove) {
			p->rules_deferred = p->plan.n_updates > 0;
			continue;
		}
		p->rules_left = (int)p->plan.n_updates;
		for (k = 0; k < p->plan.n_updates; k++, n++) {
			jobs[n].is_rule = 1;
			jobs[n].r.e = e;
			jobs[n].r.p = p;
			jobs[n].r.idx = k;
		}
	}
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];
		int drain = p->cfg->drain_s > 0;
		size_t nj;

		if (!acts_now(e, p) || p->make_failed || p->hold_removals || p->prov->auth_failed ||
		    !p->plan.n_remove)
			continue;
		if (drain && lbr_drain_start(p) < 0)
			continue;
		nj = lbr_batch_jobs(e, p, p->plan.remove, p->plan.n_remove,
				    drain ? LBR_BATCH_DO_DRAIN : LBR_BATCH_DO_REMOVE, tmp);
		p->inline_verify = !drain;
		p->verified = 0;
		p->jobs_left = p->inline_verify ? (int)nj : 0;
		for (k = 0; k < nj; k++, n++) {
			jobs[n].a = tmp[k];
			jobs[n].a.wait_rules = !drain && p->plan.n_updates > 0;
		}
	}
	lbr_exec_run(e->exec, phase_job, jobs, sizeof(*jobs), n);
	free(jobs);
	free(tmp);
	return total;
}

size_t lbr_act_round(struct lbr_engine *e)
{
	size_t i, made, broke;

	for (i = 0; i < e->n_pools; i++) {
		e->pools[i].touched = 0;
		e->pools[i].verified = 0;
	}
	made = make_round(e);
	broke = break_round(e);
	lbr_drain_finish(e);
	return made + broke;
}
