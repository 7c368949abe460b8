/*
 * Act: see act.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/act.h"
#include "agent/call.h"
#include "agent/drain.h"
#include "agent/exec.h"
#include "agent/log.h"
#include "agent/observe.h"
#include "agent/util.h"
#include "agent/verify.h"

int lbr_pool_can_act(const struct lbr_pool_rt *p)
{
	return p->obs_ok && !p->refused && !p->error && !p->frozen;
}

static int retry_later(enum lbr_outcome o)
{
	return o == LBR_OUT_TRANSIENT || o == LBR_OUT_THROTTLED;
}

static void ref_of(const struct lbr_obs_member *m, struct lbr_member_ref *r)
{
	r->id = m->id;
	r->address = m->address;
	r->port = m->port;
	r->weight = m->weight;
	r->enabled = m->enabled;
}

static void remember(char ***arr, size_t *n, size_t *cap, const char *s)
{
	if (lbr_grow((void **)arr, cap, *n, sizeof(char *)) == 0) {
		(*arr)[*n] = strdup(s);
		if ((*arr)[*n])
			(*n)++;
	}
}

/* ------------------------------------------------------ make: create/weight */

struct make_job {
	struct lbr_engine *e;
	struct lbr_pool_rt *p;
	enum lbr_op op;       /* LBR_OP_CREATE or LBR_OP_WEIGHT */
	size_t first, n;      /* range of plan.create / plan.reweight */
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

			ref_of(&p->obs->members[w->member], &refs[i]);
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
		const char *id = j->op == LBR_OP_CREATE ? (items[i].id[0] ? items[i].id : NULL) : refs[i].id;
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
		if (j->op == LBR_OP_CREATE && (ir.outcome == LBR_OUT_OK || ir.outcome == LBR_OUT_EXISTS))
			remember(&p->created_keys, &p->n_created_keys, &p->cap_created_keys, ap);
		pthread_mutex_unlock(&p->mu);
		if (ir.outcome == LBR_OUT_OK || (ir.outcome == LBR_OUT_EXISTS && j->op == LBR_OP_CREATE))
			continue;
		/* Make before break: nothing is removed from a pool whose
		 * new capacity did not arrive. */
		p->make_failed = 1;
		lbr_result_describe(&ir, desc, sizeof(desc));
		if (retry_later(ir.outcome))
			lbr_pool_soft_error(p, "pool \"%s\": cannot %s %s: %s", cp->name,
					    j->op == LBR_OP_CREATE ? "create" : "set the weight of", ap, desc);
		else
			lbr_pool_error(p, "pool \"%s\": cannot %s %s: %s", cp->name,
				       j->op == LBR_OP_CREATE ? "create" : "set the weight of", ap, desc);
	}
out:
	free(items);
	free(specs);
	free(refs);
	free(weights);
}

static size_t add_make_jobs(struct lbr_engine *e, struct lbr_pool_rt *p, enum lbr_op op, size_t total,
			    struct make_job *out)
{
	size_t batch = lbr_prov_batch(p->prov, op == LBR_OP_CREATE ? LBR_BATCH_CREATE : LBR_BATCH_WEIGHT);
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

		p->hold_removals = 0;
		if (lbr_pool_can_act(p) && !p->prov->auth_failed)
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

		if (!lbr_pool_can_act(p) || p->prov->auth_failed)
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
			lbr_engine_plan_pool(e, p);
		if (!p->obs_ok || p->plan.n_create || p->plan.n_reweight) {
			p->hold_removals = 1;
			if (!p->make_failed)
				lbr_pool_soft_error(p, "pool \"%s\": %zu new member(s) or weight(s) not listed yet; removals wait",
						    p->cfg->name, p->plan.n_create + p->plan.n_reweight);
		}
	}
	return total;
}

/* ---------------------------------------------------------- rule updates */

struct rule_job {
	struct lbr_engine *e;
	struct lbr_pool_rt *p;
	size_t idx; /* index into plan.updates */
};

static void rule_done(struct lbr_pool_rt *p)
{
	pthread_mutex_lock(&p->mu);
	if (--p->rules_left == 0)
		lbr_exec_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void update_job(struct rule_job *j)
{
	struct lbr_pool_rt *p = j->p;
	struct lbr_rule_update *u = &p->plan.updates[j->idx];
	struct lbr_obs_rule *rule = &p->obs->rules[u->rule];
	struct lbr_rule_ref ref = { .id = rule->id, .attrs = rule->attrs, .n_attrs = rule->n_attrs };
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
	if (retry_later(res.outcome))
		lbr_pool_soft_error(p, "pool \"%s\": cannot update forwarding policy %s (%s): %s",
				    p->cfg->name, rule->id, rule->label, desc);
	else
		lbr_pool_error(p, "pool \"%s\": cannot update forwarding policy %s (%s): %s",
			       p->cfg->name, rule->id, rule->label, desc);
}

/* Is member `id` free of every rule update that has not succeeded? */
static int member_rules_ok(struct lbr_pool_rt *p, const char *id)
{
	size_t i, k;

	for (i = 0; i < p->plan.n_updates; i++) {
		struct lbr_obs_rule *rule = &p->obs->rules[p->plan.updates[i].rule];

		if (p->plan.updates[i].done)
			continue;
		for (k = 0; k < rule->n_members; k++)
			if (!strcmp(rule->member_ids[k], id))
				return 0;
	}
	return 1;
}

/* ----------------------------------------------- removals, drains, restores */

size_t lbr_act_jobs(struct lbr_engine *e, struct lbr_pool_rt *p, const size_t *idx, size_t n,
		    enum lbr_act_kind kind, struct lbr_act_job *out)
{
	size_t batch = lbr_prov_batch(p->prov, kind == LBR_ACT_REMOVE ? LBR_BATCH_REMOVE : LBR_BATCH_DRAIN);
	size_t i, k = 0;

	for (i = 0; i < n; i += batch) {
		out[k].e = e;
		out[k].p = p;
		out[k].idx = idx + i;
		out[k].n = n - i < batch ? n - i : batch;
		out[k].kind = kind;
		out[k].wait_rules = 0;
		k++;
	}
	return k;
}

/* Count one item's outcome, tell the sink, note the pool's error. */
/* Remember a removal that ended in doubt, with its attempts' request ids:
 * the next listing tells whether it was applied (verify.c). */
static void doubt_add(struct lbr_pool_rt *p, const struct lbr_obs_member *m, const char *requests)
{
	struct lbr_doubt *d = NULL;
	size_t k;

	for (k = 0; k < p->n_doubt && !d; k++)
		if (!strcmp(p->doubt[k].id, m->id))
			d = &p->doubt[k];
	if (!d) {
		if (lbr_grow((void **)&p->doubt, &p->cap_doubt, p->n_doubt, sizeof(*d)) < 0)
			return;
		d = &p->doubt[p->n_doubt];
		memset(d, 0, sizeof(*d));
		d->id = strdup(m->id);
		if (!d->id)
			return;
		snprintf(d->address, sizeof(d->address), "%s", m->address);
		d->port = m->port;
		p->n_doubt++;
	}
	k = strlen(d->requests);
	snprintf(d->requests + k, sizeof(d->requests) - k, "%s%s", k ? " " : "",
		 requests && *requests ? requests : "-");
}

static void member_outcome(struct lbr_act_job *j, const struct lbr_obs_member *m, size_t idx,
			   enum lbr_op op, const struct lbr_call_result *ir, const char *doubt)
{
	struct lbr_pool_rt *p = j->p;
	int ok = ir->outcome == LBR_OUT_OK || (op == LBR_OP_REMOVE && ir->outcome == LBR_OUT_NOT_FOUND);
	char desc[1024], ap[80];
	size_t k;

	lbr_call_event(j->e, p, op, m->id, m->address, m->port, ir);
	pthread_mutex_lock(&p->mu);
	if (op == LBR_OP_REMOVE && ok) {
		if (ir->outcome == LBR_OUT_OK)
			p->removed++;
		else
			p->already_gone++;
		remember(&p->removed_ids, &p->n_removed_ids, &p->cap_removed_ids, m->id);
	} else if (op != LBR_OP_REMOVE) {
		for (k = 0; k < p->n_drain; k++)
			if (p->drain[k].member == idx)
				p->drain[k].state = !ok ? LBR_DRAIN_FAILED
					: op == LBR_OP_DRAIN ? LBR_DRAIN_DRAINED : LBR_DRAIN_RESTORED;
		if (op == LBR_OP_RESTORE && ok)
			p->restored++;
	}
	if (!ok)
		p->failed++;
	if (!ok && op == LBR_OP_REMOVE && retry_later(ir->outcome))
		doubt_add(p, m, doubt);
	pthread_mutex_unlock(&p->mu);
	if (ok)
		return;
	lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
	lbr_result_describe(ir, desc, sizeof(desc));
	if (op == LBR_OP_REMOVE && retry_later(ir->outcome))
		lbr_pool_soft_error(p, "pool \"%s\": cannot remove %s (member %s): %s", p->cfg->name, ap,
				    m->id, desc);
	else
		lbr_pool_error(p, "pool \"%s\": cannot %s %s (member %s): %s", p->cfg->name,
			       op == LBR_OP_REMOVE ? "remove" : op == LBR_OP_DRAIN ? "drain" : "restore",
			       ap, m->id, desc);
}

static void member_batch(struct lbr_act_job *j)
{
	struct lbr_pool_rt *p = j->p;
	enum lbr_op op = j->kind == LBR_ACT_REMOVE ? LBR_OP_REMOVE
		: j->kind == LBR_ACT_DRAIN ? LBR_OP_DRAIN : LBR_OP_RESTORE;
	struct lbr_member_ref *refs = calloc(j->n + 1, sizeof(*refs));
	struct lbr_item_result *items = calloc(j->n + 1, sizeof(*items));
	char (*doubt)[256] = calloc(j->n + 1, sizeof(*doubt));
	size_t *which = calloc(j->n + 1, sizeof(*which));
	struct lbr_call c;
	struct lbr_call_result res;
	size_t i, n = 0;

	if (!refs || !items || !which || !doubt) {
		lbr_pool_error(p, "pool \"%s\": out of memory", p->cfg->name);
		goto out;
	}
	for (i = 0; i < j->n; i++) {
		struct lbr_obs_member *m = &p->obs->members[j->idx[i]];

		if (op == LBR_OP_REMOVE && !member_rules_ok(p, m->id)) {
			char ap[80];

			lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
			lbr_pool_soft_error(p, "pool \"%s\": not removing %s (member %s): a forwarding policy naming it could not be updated",
					    p->cfg->name, ap, m->id);
			pthread_mutex_lock(&p->mu);
			p->failed++;
			pthread_mutex_unlock(&p->mu);
			continue;
		}
		ref_of(m, &refs[n]);
		which[n++] = j->idx[i];
	}
	if (!n)
		goto out;
	memset(&c, 0, sizeof(c));
	c.e = j->e;
	c.prov = p->prov;
	c.pool = p;
	c.op = op;
	c.object_id = refs[0].id;
	c.m = refs;
	c.n = n;
	c.items = items;
	c.doubt = op == LBR_OP_REMOVE ? doubt : NULL;
	lbr_call_run(&c, &res);
	if (res.outcome == LBR_OUT_AUTH && !res.http_status && !res.code[0]) {
		/* Not attempted: another call hit an auth error. */
		lbr_pool_error(p, "pool \"%s\": %s %s: %s", p->cfg->name, lbr_op_name(op), refs[0].id,
			       res.message);
		pthread_mutex_lock(&p->mu);
		p->failed += (unsigned)n;
		pthread_mutex_unlock(&p->mu);
		goto out;
	}
	p->touched = 1;
	for (i = 0; i < n; i++) {
		struct lbr_call_result ir;

		lbr_item_as_result(&res, &items[i], &ir);
		member_outcome(j, &p->obs->members[which[i]], which[i], op, &ir, doubt[i]);
	}
out:
	free(refs);
	free(items);
	free(doubt);
	free(which);
}

void lbr_act_member_job(void *arg)
{
	struct lbr_act_job *j = arg;
	struct lbr_pool_rt *p = j->p;

	if (j->wait_rules) {
		/* This pool's removals wait for its own rule updates only. */
		pthread_mutex_lock(&p->mu);
		while (p->rules_left > 0)
			lbr_exec_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
	member_batch(j);
	if (j->kind == LBR_ACT_REMOVE && p->inline_verify &&
	    __atomic_sub_fetch(&p->jobs_left, 1, __ATOMIC_ACQ_REL) == 0)
		lbr_verify_pool(j->e, p);
}

/* Rule updates and member batches share one executor run: a job is either. */
struct phase_job {
	int is_rule;
	struct rule_job r;
	struct lbr_act_job a;
};

static void phase_job(void *arg)
{
	struct phase_job *j = arg;

	if (j->is_rule) {
		update_job(&j->r);
		rule_done(j->r.p);
	} else {
		lbr_act_member_job(&j->a);
	}
}

/* Step 2: rule updates first in the queue, then removals (or drains) that
 * each wait for their own pool's rule updates. */
static size_t break_round(struct lbr_engine *e)
{
	struct phase_job *jobs;
	struct lbr_act_job *tmp;
	size_t i, k, n = 0, total = 0;

	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		p->inline_verify = 0;
		p->rules_left = 0;
		if (lbr_pool_can_act(p) && !p->make_failed && !p->hold_removals)
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

		if (!lbr_pool_can_act(p) || p->make_failed || p->hold_removals)
			continue;
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

		if (!lbr_pool_can_act(p) || p->make_failed || p->hold_removals ||
		    p->prov->auth_failed || !p->plan.n_remove)
			continue;
		if (drain && lbr_drain_start(p) < 0)
			continue;
		nj = lbr_act_jobs(e, p, p->plan.remove, p->plan.n_remove,
				  drain ? LBR_ACT_DRAIN : LBR_ACT_REMOVE, tmp);
		p->inline_verify = !drain;
		p->verified = 0;
		p->jobs_left = p->inline_verify ? (int)nj : 0;
		for (k = 0; k < nj; k++, n++) {
			jobs[n].a = tmp[k];
			jobs[n].a.wait_rules = p->plan.n_updates > 0;
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
