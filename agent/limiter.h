/*
 * The per-provider limiter: at most `window` calls in flight, and once the
 * cloud throttles, no faster than a measured rate (AIMD on concurrency,
 * pacing on rate).  See the comment above lbr_limiter_release.
 */
#ifndef LBR_LIMITER_H
#define LBR_LIMITER_H

#include "agent/runtime.h"

/* Start with `max_window` calls at once and no pacing. */
void lbr_limiter_init(struct lbr_prov_rt *p, int max_window);
/* Wait for a slot (in order of arrival once the provider has throttled). */
void lbr_limiter_acquire(struct lbr_prov_rt *p);
/* Give the slot back with the attempt's outcome, and adapt. */
void lbr_limiter_release(struct lbr_prov_rt *p, enum lbr_op op, enum lbr_outcome o);

#endif
