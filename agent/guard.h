/*
 * Guard (SPEC §5): whether a pool's plan may be carried out in this pass.
 * A pure function of the limits, what the pass already did and the plan;
 * unit-tested in tests/unit/test-plan.c.
 */
#ifndef LBR_GUARD_H
#define LBR_GUARD_H

#include <stddef.h>

#include "agent/plan.h"

struct lbr_guard_input {
	int max_delete; /* count, or percent when max_delete_percent */
	int max_delete_percent;
	long max_create;         /* -1: unlimited */
	size_t base;             /* observed members minus protected and unmanaged,
				 * at the pass's first observation */
	unsigned removed_before; /* removals this pass already made */
	unsigned created_before; /* creations this pass already made */
	size_t first_observed;   /* members the pass's first listing showed */
	size_t recorded;         /* members of the last recorded state (0: none) */
	int force;               /* --force: max_delete and the empty-listing
				  * guard are not applied */
};

/* 0 when the plan may go ahead; 1 when it is refused, with one line in msg
 * saying why (what it would do, the limit, how to override). */
int lbr_guard_check(const struct lbr_guard_input *in, const struct lbr_plan *plan, char *msg,
		    size_t len);

/* The number of removals max_delete allows in a pass for `base`. */
long lbr_guard_delete_limit(int max_delete, int percent, size_t base);

#endif
