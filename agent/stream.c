/*
 * Streaming apply: see stream.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "agent/act.h"
#include "agent/batch.h"
#include "agent/engine.h"
#include "agent/exec.h"
#include "agent/log.h"
#include "agent/observe.h"
#include "agent/pool.h"
#include "agent/stream.h"
#include "agent/util.h"

enum item_kind { IT_OBSERVE, IT_BATCH, IT_VERIFY };

struct item {
	enum item_kind kind;
	struct lbr_pool_rt *p;
	struct lbr_batch_job b; /* IT_BATCH */
};

struct stream {
	struct lbr_engine *e;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* an item was queued, or the last one ended */
	struct item *q;    /* first in, first out: q[head..tail) */
	size_t head, tail, cap;
	unsigned busy;               /* items being worked on */
	unsigned char *planned;      /* per pool: observed and planned (or failed) */
	size_t reported;             /* pools[0..reported) went to the sink */
	struct lbr_batch_job **jobs; /* per pool: its batches (owned) */
	size_t streamed;
	int oom;
};

int lbr_stream_can_join(const struct lbr_engine *e, const struct lbr_pool_rt *p)
{
	const struct lbr_plan *pl = &p->plan;

	return e->allow_mutate && lbr_pool_can_act(p) && !p->prov->auth_failed &&
	       !__atomic_load_n(&e->fenced, __ATOMIC_ACQUIRE) && !lbr_engine_stop &&
	       pl->n_remove > 0 && !pl->n_create && !pl->n_reweight && !pl->n_create_pending &&
	       !pl->n_updates && p->cfg->drain_s <= 0;
}

/* Under s->mu. */
static int push(struct stream *s, const struct item *it)
{
	if (s->tail == s->cap) {
		size_t used = s->tail - s->head;

		if (s->head > 0) {
			/* Reuse the room of the items already taken. */
			memmove(s->q, s->q + s->head, used * sizeof(*s->q));
			s->head = 0;
			s->tail = used;
		}
		if (s->tail == s->cap &&
		    lbr_grow((void **)&s->q, &s->cap, s->tail, sizeof(*s->q)) < 0) {
			s->oom = 1;
			return -1;
		}
	}
	s->q[s->tail++] = *it;
	lbr_exec_cond_broadcast(&s->cv);
	return 0;
}

/* Under s->mu: queue the removal batches of pool i. */
static void join(struct stream *s, size_t i)
{
	struct lbr_engine *e = s->e;
	struct lbr_pool_rt *p = &e->pools[i];
	struct lbr_batch_job *jobs = calloc(p->plan.n_remove, sizeof(*jobs));
	size_t n, k;

	if (!jobs) {
		s->oom = 1;
		return; /* round 1 of lbr_engine_apply takes the pool */
	}
	n = lbr_batch_jobs(e, p, p->plan.remove, p->plan.n_remove, LBR_BATCH_DO_REMOVE, jobs);
	s->jobs[i] = jobs;
	p->inline_verify = 0; /* the queue verifies it (IT_VERIFY) */
	__atomic_store_n(&p->jobs_left, (int)n, __ATOMIC_RELEASE);
	for (k = 0; k < n; k++) {
		struct item it = { .kind = IT_BATCH, .p = p, .b = jobs[k] };

		if (push(s, &it) == 0)
			continue;
		if (k == 0)
			return; /* nothing queued: round 1 of lbr_engine_apply takes it */
		/* The batches not queued wait for round 2; the pool is
		 * verified once the queued ones are done. */
		__atomic_sub_fetch(&p->jobs_left, (int)(n - k), __ATOMIC_ACQ_REL);
		break;
	}
	p->streamed = 1;
	p->touched = 1;
	p->verified = 0;
	s->streamed++;
}

/* Under s->mu: report every pool whose plan, and every plan before it,
 * is known; queue the first round of those that may join.  The plans
 * reported together are flushed once, before any of them is queued (one
 * pool late in answering holds back the report of the pools after it: a
 * flush per pool made that burst cost 2.3 ms for 31 pools); stdio still
 * writes when its buffer fills, or per line on a terminal. */
static void advance(struct stream *s)
{
	struct lbr_engine *e = s->e;
	size_t from = s->reported, i;

	while (s->reported < e->n_pools && s->planned[s->reported]) {
		i = s->reported++;
		if (e->sink.planned)
			e->sink.planned(e->sink.ud, e, &e->pools[i]);
	}
	if (s->reported == from)
		return;
	if (e->sink.planned_flush)
		e->sink.planned_flush(e->sink.ud);
	for (i = from; i < s->reported; i++)
		if (lbr_stream_can_join(e, &e->pools[i]))
			join(s, i);
}

static void run_item(struct stream *s, struct item *it)
{
	struct lbr_engine *e = s->e;
	struct lbr_pool_rt *p = it->p;

	switch (it->kind) {
	case IT_OBSERVE: {
		struct lbr_observe_job oj = { .e = e, .p = p, .round = 1 };

		lbr_observe_job(&oj);
		lbr_pool_plan_first(e, p);
		pthread_mutex_lock(&s->mu);
		s->planned[p - e->pools] = 1;
		advance(s);
		pthread_mutex_unlock(&s->mu);
		break;
	}
	case IT_BATCH:
		/* Stopping or fenced: start nothing new (the call layer
		 * would refuse it anyway). */
		if (!lbr_engine_stop && !__atomic_load_n(&e->fenced, __ATOMIC_ACQUIRE))
			lbr_batch_job(&it->b);
		if (__atomic_sub_fetch(&p->jobs_left, 1, __ATOMIC_ACQ_REL) == 0) {
			struct item v = { .kind = IT_VERIFY, .p = p };
			int queued;

			pthread_mutex_lock(&s->mu);
			queued = push(s, &v) == 0;
			pthread_mutex_unlock(&s->mu);
			if (!queued) /* out of memory: verify it here and now */
				lbr_pool_reobserve(e, p);
		}
		break;
	case IT_VERIFY: lbr_pool_reobserve(e, p); break;
	}
}

static void worker(void *arg)
{
	struct stream *s = *(struct stream **)arg;

	for (;;) {
		struct item it;

		pthread_mutex_lock(&s->mu);
		while (s->head == s->tail && s->busy > 0)
			lbr_exec_cond_wait(&s->cv, &s->mu);
		if (s->head == s->tail) {
			pthread_mutex_unlock(&s->mu);
			return;
		}
		it = s->q[s->head++];
		s->busy++;
		pthread_mutex_unlock(&s->mu);
		run_item(s, &it);
		pthread_mutex_lock(&s->mu);
		if (--s->busy == 0 && s->head == s->tail)
			lbr_exec_cond_broadcast(&s->cv); /* all done: let the others end */
		pthread_mutex_unlock(&s->mu);
	}
}

struct refresh_job {
	struct lbr_engine *e;
	struct lbr_pool_rt *p;
};

static void refresh_job(void *arg)
{
	struct refresh_job *j = arg;

	lbr_pool_reobserve(j->e, j->p);
}

/* The pools left for round 1 (creations, weights, policy updates, drains)
 * were listed before the streamed pools' work, which may have taken a
 * while: list them again, so that what they change is decided on a fresh
 * listing, as when round 1 followed the observation at once. */
static void refresh_rest(struct lbr_engine *e)
{
	struct refresh_job *jobs = calloc(e->n_pools ? e->n_pools : 1, sizeof(*jobs));
	size_t i, n = 0;

	if (!jobs) {
		lbr_warn("out of memory: the pools left for round 1 act on their first listing");
		return;
	}
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		if (p->streamed || !lbr_pool_can_act(p) || lbr_pool_work(p) == 0)
			continue;
		jobs[n].e = e;
		jobs[n].p = p;
		n++;
	}
	lbr_exec_run(e->exec, refresh_job, jobs, sizeof(*jobs), n);
	for (i = 0; i < n; i++)
		jobs[i].p->verified = 0;
	free(jobs);
}

size_t lbr_stream_first_round(struct lbr_engine *e, const struct lbr_state *state)
{
	struct stream s;
	struct stream **args = NULL;
	unsigned nw = e->exec->n ? e->exec->n : 1, k;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.e = e;
	e->round = 1;
	for (i = 0; i < e->n_pools; i++)
		e->pools[i].rec = lbr_pool_record(state, &e->pools[i]);
	s.cap = e->n_pools + 16;
	s.q = calloc(s.cap, sizeof(*s.q));
	s.planned = calloc(e->n_pools + 1, 1);
	s.jobs = calloc(e->n_pools + 1, sizeof(*s.jobs));
	args = calloc(nw, sizeof(*args));
	if (!s.q || !s.planned || !s.jobs || !args) {
		free(s.q);
		free(s.planned);
		free(s.jobs);
		free(args);
		lbr_warn("out of memory: observing every pool before acting");
		lbr_engine_observe_and_plan(e, state);
		for (i = 0; i < e->n_pools; i++)
			if (e->sink.planned)
				e->sink.planned(e->sink.ud, e, &e->pools[i]);
		if (e->sink.planned_flush)
			e->sink.planned_flush(e->sink.ud);
		return 0;
	}
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	for (i = 0; i < e->n_pools; i++) {
		s.q[s.tail].kind = IT_OBSERVE;
		s.q[s.tail].p = &e->pools[i];
		s.tail++;
	}
	for (k = 0; k < nw; k++)
		args[k] = &s;
	lbr_exec_run(e->exec, worker, args, sizeof(*args), nw);
	if (s.oom)
		lbr_warn(
			"out of memory while streaming the first round; the rest waits for round 1");
	if (s.streamed)
		refresh_rest(e);
	for (i = 0; i < e->n_pools; i++)
		free(s.jobs[i]);
	free(s.jobs);
	free(s.planned);
	free(s.q);
	free(args);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv);
	return s.streamed;
}
