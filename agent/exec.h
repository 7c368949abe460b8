/*
 * The executor: runs a batch of jobs with at most N at a time and waits for
 * all of them.  Two implementations behind one interface:
 *   threads  a fixed pool of N threads (exec.c)
 *   tasks    N cooperative tasks on the calling thread, driving libcurl's
 *            multi interface (sched.c); used when every plugin instance
 *            sets LBR_CAP_COOPERATIVE
 * Waits and sleeps that must work in both go through lbr_exec_cond_wait,
 * lbr_exec_cond_broadcast and lbr_exec_sleep_ms: in a task they give the
 * thread to the other tasks instead of blocking it.
 */
#ifndef LBR_EXEC_H
#define LBR_EXEC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct lbr_exec;

/* Set by signal handlers: finish in-flight calls, start no new ones; the
 * waits below return early when it is set. */
extern volatile int lbr_engine_stop;

struct lbr_exec_ops {
	const char *name;
	void (*run)(struct lbr_exec *x, void (*fn)(void *), void *args, size_t argsz, size_t n);
	void (*free)(struct lbr_exec *x);
};

struct lbr_exec {
	const struct lbr_exec_ops *ops;
	unsigned n; /* jobs at once */
};

/* Start an executor of n workers: tasks when `cooperative` (unless
 * LBRECONCILE_EXECUTOR=threads), threads otherwise.  0 or negative. */
int lbr_exec_new(unsigned n, int cooperative, struct lbr_exec **out);
/* Run fn over n argument records of size argsz; returns when all ran.
 * Called from a job, it runs the records in line, one after the other. */
void lbr_exec_run(struct lbr_exec *x, void (*fn)(void *), void *args, size_t argsz, size_t n);
/* NULL is a no-op. */
void lbr_exec_free(struct lbr_exec *x);
const char *lbr_exec_name(const struct lbr_exec *x);

/* Wait on cv (mu held; released while waiting, held again on return). */
void lbr_exec_cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu);
void lbr_exec_cond_broadcast(pthread_cond_t *cv);
/* Sleep ms, waking early when *stop becomes non-zero; returns *stop. */
int lbr_exec_sleep_ms(uint64_t ms, volatile int *stop);
/* Sleep us in a task or a thread (limiter pacing). */
void lbr_exec_sleep_us(uint64_t us);

/* The task implementation (sched.c). */
int lbr_exec_tasks_new(unsigned n, struct lbr_exec **out);

#endif
