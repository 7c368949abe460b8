/*
 * Prometheus text-format metrics (--metrics-file), written atomically
 * after every pass for node_exporter's textfile collector.
 */
#ifndef LBR_METRICS_H
#define LBR_METRICS_H

#include <stdint.h>

#include "agent/engine.h"

struct lbr_metrics_pool {
	char name[80];
	char provider[80];
	long observed;  /* -1 when the observation failed */
	unsigned removed, blocked, missing, errors, policy_updates;
	int drift;
};

struct lbr_metrics_provider {
	char name[80];
	struct lbr_prov_stats stats; /* cumulative over the process's passes */
};

struct lbr_metrics {
	const char *command;
	double pass_start, pass_end; /* unix seconds */
	int exit_code;
	uint64_t passes, passes_failed;
	struct lbr_metrics_pool *pools;
	size_t n_pools;
	struct lbr_metrics_provider *provs;
	size_t n_provs;
};

/* Record a pass's pools and add its API call counts.  drift_of_pool may
 * be NULL (then drift = pending removals or missing members). */
void lbr_metrics_collect(struct lbr_metrics *m, const struct lbr_engine *e,
			 const struct lbr_state *state);
/* Write the file atomically (PATH.tmp, fsync, rename).  0 or negative with
 * a message logged. */
int lbr_metrics_write(const struct lbr_metrics *m, const char *path);
void lbr_metrics_release(struct lbr_metrics *m);
/* Seconds since the epoch with sub-second precision. */
double lbr_metrics_now(void);

#endif
