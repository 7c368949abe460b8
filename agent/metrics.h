/*
 * Prometheus text-format metrics (--metrics-file), written atomically
 * after every pass for node_exporter's textfile collector.
 *
 * Counters (*_total) keep counting across separate processes that share a
 * state: what this process counted and has not yet stored is its `delta`,
 * the value last read from (or written to) the state document its `base`.
 * Passes that cannot store into the state (plan, drift, a pass that did
 * not get the lock) still count on: the file shows, for each series, the
 * larger of base + delta and the value the file held before plus what this
 * process counted since it last wrote it, and keeps the counter series of
 * the file it replaces that it does not show itself (another command's).
 * A timer or cron job thus gives counters that rate() and increase() can
 * use.  Gauges carry the last pass.
 */
#ifndef LBR_METRICS_H
#define LBR_METRICS_H

#include <stdint.h>

#include "agent/runtime.h"

struct lbr_state;

struct lbr_metrics_pool {
	char name[80];
	char provider[80];
	long observed; /* -1 when the observation failed */
	unsigned removed, blocked, missing, errors, policy_updates;
	int drift;
};

/* One counter series: stored base plus what this process added since. */
struct lbr_metrics_counter {
	uint64_t base;
	uint64_t delta;
	uint64_t moved;     /* deltas this process stored into the state */
	uint64_t shown;     /* moved + delta when the file was last written */
	uint64_t shown_new; /* ... by the write in progress */
};

struct lbr_metrics_provider {
	char name[80];
	struct lbr_metrics_counter calls[LBR_OP_COUNT][LBR_OUTCOME_COUNT]; /* attempts */
	struct lbr_metrics_counter retries;
	struct lbr_metrics_counter throttled;
};

struct lbr_metrics {
	const char *command;
	double pass_start, pass_end; /* unix seconds */
	int exit_code;
	int pass_counted, pass_failed_counted; /* this pass is in the deltas */
	struct lbr_metrics_counter passes, passes_failed;
	struct lbr_metrics_pool *pools;
	size_t n_pools;
	struct lbr_metrics_provider *provs;
	size_t n_provs;
};

/* Record a pass's pools (gauges) and add its API call counts to the
 * providers' deltas. */
void lbr_metrics_collect(struct lbr_metrics *m, const struct lbr_engine *e,
			 const struct lbr_state *state);
/* A pass starts: pass_start, and the next pass_done counts again. */
void lbr_metrics_pass_begin(struct lbr_metrics *m);
/* A pass ended with `exit_code`: pass_end, exit_code, passes and
 * passes_failed (a pass fails unless it exits 0, or 2 for plan/drift).
 * Called again in the same pass (a later step failed), it updates the
 * exit code and counts the pass once, as failed if it now failed. */
void lbr_metrics_pass_done(struct lbr_metrics *m, int exit_code);
/* Take every counter's base from the state document (call after
 * lbr_metrics_collect, so that the providers are known).  NULL doc: no-op. */
void lbr_metrics_load_bases(struct lbr_metrics *m, const struct lbr_state *doc);
/* Add the deltas to the counters kept in the document (before it is
 * saved); the bases become the stored totals and the deltas zero.  0, or
 * LBR_ENOMEM. */
int lbr_metrics_store_totals(struct lbr_metrics *m, struct lbr_state *doc);
/* Write the file atomically (PATH.tmp, fsync, rename).  0, or negative
 * with a warning logged: a metrics file that cannot be written never fails
 * a pass. */
int lbr_metrics_write(struct lbr_metrics *m, const char *path);
void lbr_metrics_release(struct lbr_metrics *m);
/* Seconds since the epoch with sub-second precision. */
double lbr_metrics_now(void);
/* The key under which a counter series is kept in the state document,
 * e.g. "metrics/api_calls_total/hw/remove/ok"; for tests. */
int lbr_metrics_counter_key(char *out, size_t len, const char *family, const char *a, const char *b,
			    const char *c);

#endif
