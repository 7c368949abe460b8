/*
 * The executor interface and its thread implementation.  See exec.h; the
 * task implementation is in sched.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/error.h"
#include "agent/exec.h"
#include "agent/log.h"
#include "agent/sched.h"
#include "agent/util.h"

volatile int lbr_engine_stop;

struct exec_threads {
	struct lbr_exec base;
	pthread_t *th;
	int n;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	void (*fn)(void *arg);
	char *args;
	size_t argsz, n_jobs, next, done;
	int quit;
};

/* Set in every worker thread, so that a job that runs a nested batch runs
 * it in line instead of waiting for workers that are all busy. */
static __thread int in_worker;

static void *worker_main(void *ud)
{
	struct exec_threads *q = ud;

	in_worker = 1;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		size_t i;

		while (!q->quit && q->next >= q->n_jobs)
			pthread_cond_wait(&q->cv_work, &q->mu);
		if (q->quit)
			break;
		i = q->next++;
		pthread_mutex_unlock(&q->mu);
		q->fn(q->args + i * q->argsz);
		pthread_mutex_lock(&q->mu);
		if (++q->done == q->n_jobs)
			pthread_cond_broadcast(&q->cv_done);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

static void threads_run(struct lbr_exec *x, void (*fn)(void *), void *args, size_t argsz, size_t n)
{
	struct exec_threads *q = (struct exec_threads *)x;
	size_t i;

	if (in_worker) {
		for (i = 0; i < n; i++)
			fn((char *)args + i * argsz);
		return;
	}
	pthread_mutex_lock(&q->mu);
	q->fn = fn;
	q->args = args;
	q->argsz = argsz;
	q->n_jobs = n;
	q->next = 0;
	q->done = 0;
	pthread_cond_broadcast(&q->cv_work);
	while (q->done < q->n_jobs)
		pthread_cond_wait(&q->cv_done, &q->mu);
	/* No job left to take until the next batch is set up under the
	 * same lock. */
	q->n_jobs = 0;
	q->next = 0;
	pthread_mutex_unlock(&q->mu);
}

static void threads_free(struct lbr_exec *x)
{
	struct exec_threads *q = (struct exec_threads *)x;
	int i;

	pthread_mutex_lock(&q->mu);
	q->quit = 1;
	pthread_cond_broadcast(&q->cv_work);
	pthread_mutex_unlock(&q->mu);
	for (i = 0; i < q->n; i++)
		pthread_join(q->th[i], NULL);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv_work);
	pthread_cond_destroy(&q->cv_done);
	free(q->th);
	free(q);
}

static const struct lbr_exec_ops threads_ops = {
	.name = "threads",
	.run = threads_run,
	.free = threads_free,
};

static int threads_new(unsigned n, struct lbr_exec **out)
{
	struct exec_threads *q = calloc(1, sizeof(*q));
	unsigned i;

	if (!q)
		return LBR_ENOMEM;
	q->th = calloc(n, sizeof(*q->th));
	if (!q->th) {
		free(q);
		return LBR_ENOMEM;
	}
	q->base.ops = &threads_ops;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv_work, NULL);
	pthread_cond_init(&q->cv_done, NULL);
	for (i = 0; i < n; i++) {
		if (pthread_create(&q->th[q->n], NULL, worker_main, q) != 0)
			break;
		q->n++;
	}
	if (q->n == 0) {
		threads_free(&q->base);
		return LBR_ERR;
	}
	q->base.n = (unsigned)q->n;
	*out = &q->base;
	return 0;
}

int lbr_exec_new(unsigned n, int cooperative, struct lbr_exec **out)
{
	const char *ex = getenv("LBRECONCILE_EXECUTOR");
	int r;

	*out = NULL;
	if (n == 0)
		n = 1;
	if (ex && !strcmp(ex, "threads"))
		cooperative = 0;
	r = cooperative ? lbr_exec_tasks_new(n, out) : threads_new(n, out);
	if (r == 0)
		lbr_debug("executor: %u %s", n, (*out)->ops->name);
	return r;
}

void lbr_exec_run(struct lbr_exec *x, void (*fn)(void *), void *args, size_t argsz, size_t n)
{
	if (n)
		x->ops->run(x, fn, args, argsz, n);
}

void lbr_exec_free(struct lbr_exec *x)
{
	if (x)
		x->ops->free(x);
}

const char *lbr_exec_name(const struct lbr_exec *x)
{
	return x->ops->name;
}

/* The one place that asks whether the caller is a task. */
void lbr_exec_cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu)
{
	if (lbr_sched_in_task()) {
		pthread_mutex_unlock(mu);
		lbr_sched_park(cv, 0);
		pthread_mutex_lock(mu);
	} else {
		pthread_cond_wait(cv, mu);
	}
}

void lbr_exec_cond_broadcast(pthread_cond_t *cv)
{
	pthread_cond_broadcast(cv);
	lbr_sched_wake(cv);
}

void lbr_exec_sleep_us(uint64_t us)
{
	struct timespec ts;

	if (lbr_sched_in_task()) {
		lbr_sched_sleep_us(us); /* the other tasks run meanwhile */
		return;
	}
	ts.tv_sec = (time_t)(us / 1000000u);
	ts.tv_nsec = (long)(us % 1000000u) * 1000L;
	nanosleep(&ts, NULL);
}

int lbr_exec_sleep_ms(uint64_t ms, volatile int *stop)
{
	uint64_t end = lbr_mono_ms() + ms;

	for (;;) {
		uint64_t now = lbr_mono_ms(), step;

		if (stop && *stop)
			return 1;
		if (now >= end)
			return 0;
		step = end - now;
		lbr_exec_sleep_us((step > 100 ? 100 : step) * 1000u);
	}
}
