/*
 * Guard: see guard.h.
 */
#include "config.h"

#include <stdio.h>

#include "agent/guard.h"

long lbr_guard_delete_limit(int max_delete, int percent, size_t base)
{
	if (percent)
		return (long)(base * (size_t)max_delete / 100);
	return max_delete;
}

int lbr_guard_check(const struct lbr_guard_input *in, const struct lbr_plan *plan, char *msg,
		    size_t len)
{
	msg[0] = '\0';
	/* max_create bounds creations, --force or not: it is a statement
	 * about how fast the pool may grow, not a deletion guard. */
	if (in->max_create >= 0 && plan->n_create > 0 &&
	    (long)(plan->n_create + in->created_before) > in->max_create) {
		snprintf(msg, len, "would create %zu members, more than max_create = %ld",
			 plan->n_create + in->created_before, in->max_create);
		return 1;
	}
	/* An empty listing of a pool the last recorded state saw with
	 * members is more likely a wrong answer (project, region, a cloud
	 * fault) than an empty pool: nothing is done on it (SPEC §5). */
	if (!in->force && in->first_observed == 0 && in->recorded > 0 &&
	    (plan->n_create || plan->n_reweight || plan->n_remove || plan->n_updates)) {
		snprintf(msg, len,
			 "the listing is empty but the last recorded state has %zu members: an "
			 "empty listing is not acted on; use --force to override",
			 in->recorded);
		return 1;
	}
	if (!in->force && plan->n_remove > 0) {
		/* The budget is for the whole pass: what earlier rounds
		 * removed counts against it, failed attempts do not. */
		long limit = lbr_guard_delete_limit(in->max_delete, in->max_delete_percent,
						    in->base);
		size_t total = plan->n_remove + in->removed_before;

		if ((long)total > limit) {
			snprintf(
				msg, len,
				"would remove %zu of %zu managed members, more than max_delete = %d%s (%ld); use --force to override",
				total, in->base, in->max_delete, in->max_delete_percent ? "%" : "",
				limit);
			return 1;
		}
	}
	return 0;
}
