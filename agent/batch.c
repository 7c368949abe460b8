/*
 * A batch of members of one pool to remove, drain or restore: one plugin
 * call of up to the instance's batch size, one outcome per member, the
 * pool's counters, events and errors, removals that ended in doubt, and
 * the pool's re-observation after its last removal batch.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/batch.h"
#include "agent/call.h"
#include "agent/exec.h"
#include "agent/pool.h"
#include "agent/util.h"

int lbr_batch_retry_later(enum lbr_outcome o)
{
	return o == LBR_OUT_TRANSIENT || o == LBR_OUT_THROTTLED;
}

void lbr_batch_ref(const struct lbr_obs_member *m, struct lbr_member_ref *r)
{
	r->id = m->id;
	r->address = m->address;
	r->port = m->port;
	r->weight = m->weight;
	r->enabled = m->enabled;
}

void lbr_batch_remember(char ***arr, size_t *n, size_t *cap, const char *s)
{
	if (lbr_grow((void **)arr, cap, *n, sizeof(char *)) == 0) {
		(*arr)[*n] = strdup(s);
		if ((*arr)[*n])
			(*n)++;
	}
}

int lbr_batch_member_rules_ok(const struct lbr_pool_rt *p, const char *id)
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

size_t lbr_batch_jobs(struct lbr_engine *e, struct lbr_pool_rt *p, const size_t *idx, size_t n,
		      enum lbr_batch_kind kind, struct lbr_batch_job *out)
{
	size_t batch = lbr_prov_batch(p->prov, kind == LBR_BATCH_DO_REMOVE ? LBR_BATCH_REMOVE
									   : LBR_BATCH_DRAIN);
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

static void member_outcome(struct lbr_batch_job *j, const struct lbr_obs_member *m, size_t idx,
			   enum lbr_op op, const struct lbr_call_result *ir, const char *doubt)
{
	struct lbr_pool_rt *p = j->p;
	int ok = ir->outcome == LBR_OUT_OK ||
		 (op == LBR_OP_REMOVE && ir->outcome == LBR_OUT_NOT_FOUND);
	char desc[1024], ap[80];
	size_t k;

	lbr_call_event(j->e, p, op, m->id, m->address, m->port, ir);
	pthread_mutex_lock(&p->mu);
	if (op == LBR_OP_REMOVE && ok) {
		if (ir->outcome == LBR_OUT_OK)
			p->removed++;
		else
			p->already_gone++;
		lbr_batch_remember(&p->removed_ids, &p->n_removed_ids, &p->cap_removed_ids, m->id);
	} else if (op != LBR_OP_REMOVE) {
		for (k = 0; k < p->n_drain; k++)
			if (p->drain[k].member == idx)
				p->drain[k].state = !ok                  ? LBR_DRAIN_FAILED
						    : op == LBR_OP_DRAIN ? LBR_DRAIN_DRAINED
									 : LBR_DRAIN_RESTORED;
		if (op == LBR_OP_RESTORE && ok)
			p->restored++;
	}
	if (!ok)
		p->failed++;
	if (!ok && op == LBR_OP_REMOVE && lbr_batch_retry_later(ir->outcome))
		doubt_add(p, m, doubt);
	pthread_mutex_unlock(&p->mu);
	if (ok)
		return;
	lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
	lbr_result_describe(ir, desc, sizeof(desc));
	if (op == LBR_OP_REMOVE && lbr_batch_retry_later(ir->outcome))
		lbr_pool_soft_error(p, "pool \"%s\": cannot remove %s (member %s): %s",
				    p->cfg->name, ap, m->id, desc);
	else
		lbr_pool_error(p, "pool \"%s\": cannot %s %s (member %s): %s", p->cfg->name,
			       op == LBR_OP_REMOVE  ? "remove"
			       : op == LBR_OP_DRAIN ? "drain"
						    : "restore",
			       ap, m->id, desc);
}

static void member_batch(struct lbr_batch_job *j)
{
	struct lbr_pool_rt *p = j->p;
	enum lbr_op op = j->kind == LBR_BATCH_DO_REMOVE  ? LBR_OP_REMOVE
			 : j->kind == LBR_BATCH_DO_DRAIN ? LBR_OP_DRAIN
							 : LBR_OP_RESTORE;
	struct lbr_member_ref *refs = calloc(j->n + 1, sizeof(*refs));
	struct lbr_item_result *items = calloc(j->n + 1, sizeof(*items));
	char(*doubt)[256] = calloc(j->n + 1, sizeof(*doubt));
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

		if (op == LBR_OP_REMOVE && !lbr_batch_member_rules_ok(p, m->id)) {
			char ap[80];

			lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
			lbr_pool_soft_error(
				p,
				"pool \"%s\": not removing %s (member %s): a forwarding policy naming it could not be updated",
				p->cfg->name, ap, m->id);
			pthread_mutex_lock(&p->mu);
			p->failed++;
			pthread_mutex_unlock(&p->mu);
			continue;
		}
		lbr_batch_ref(m, &refs[n]);
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
		lbr_pool_error(p, "pool \"%s\": %s %s: %s", p->cfg->name, lbr_op_name(op),
			       refs[0].id, res.message);
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

void lbr_batch_job(void *arg)
{
	struct lbr_batch_job *j = arg;
	struct lbr_pool_rt *p = j->p;

	if (j->wait_rules) {
		/* This pool's removals wait for its own rule updates only. */
		pthread_mutex_lock(&p->mu);
		while (p->rules_left > 0)
			lbr_exec_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
	member_batch(j);
	if (j->kind == LBR_BATCH_DO_REMOVE && p->inline_verify &&
	    __atomic_sub_fetch(&p->jobs_left, 1, __ATOMIC_ACQ_REL) == 0)
		lbr_pool_reobserve(j->e, p);
}
