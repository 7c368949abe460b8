#ifndef LBR_SCHED_H
#define LBR_SCHED_H

/*
 * Cooperative tasks on one thread, driving libcurl's multi interface.
 *
 * With a thread per call in flight, every call costs a blocked thread
 * woken by its answer: a few poll()s, futex calls and two context switches
 * (~60 us of kernel time per call).  Here up to `ntasks` tasks, each with
 * its own stack, run the same job code; a task that sends an HTTP request
 * (lbr_sched_perform), sleeps or waits for a condition gives the thread
 * back, and one poll() wakes every task whose answer has arrived.
 *
 * Only for plugins that declare LBR_CAP_COOPERATIVE: code running in a task
 * must not hold a lock or keep thread-local state across a call that
 * yields (http, sleep, park).
 */

#include <stddef.h>
#include <stdint.h>

struct lbr_sched;

int lbr_sched_new(unsigned ntasks, struct lbr_sched **out);
void lbr_sched_free(struct lbr_sched *s);

/* Run fn over n argument records of argsz bytes, on at most ntasks tasks in
 * the calling thread, and return when all are done. */
void lbr_sched_run(struct lbr_sched *s, void (*fn)(void *), void *args, size_t argsz, size_t n);

/* Is the caller a task (so that the calls below may yield)? */
int lbr_sched_in_task(void);

/* The running task's own libcurl easy handle (created on first use), or
 * NULL when the caller is not a task. */
void *lbr_sched_easy(void);

/* Perform the transfer set up on the easy handle h, letting the other
 * tasks run meanwhile.  Returns the CURLcode. */
int lbr_sched_perform(void *h);

/* Connections opened ahead.  Called by a task (elsewhere: no effect) just
 * before a call that the other tasks wait for (a provider's first call):
 * when that call opens a new connection, `n` more are opened to the same
 * address at the same time, while the call is in flight, and the next new
 * connections to that address take them instead of connecting then: the
 * TCP handshake (and the server's accepting) is off the path of the first
 * calls that follow.  A connection opened ahead is handed out only while
 * it is established, unused by the peer (nothing to read, no hang-up) and
 * younger than LBR_PRECONNECT_MAX_MS; the ones not taken are closed when
 * the batch ends.  lbr_sched_warm(0) withdraws a request not yet used. */
void lbr_sched_warm(unsigned n);
/* Connections opened ahead and taken since lbr_sched_new (for tests and
 * the debug log). */
void lbr_sched_warm_stats(const struct lbr_sched *s, unsigned *opened, unsigned *taken);

/* Let the other tasks run for `us` microseconds. */
void lbr_sched_sleep_us(uint64_t us);

/* Wait until lbr_sched_wake(chan), or at most timeout_us (0: no limit).
 * Like a condition variable, a wait may also end early: re-check. */
void lbr_sched_park(const void *chan, uint64_t timeout_us);
void lbr_sched_wake(const void *chan);

#endif
