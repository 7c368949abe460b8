/*
 * Act (SPEC §4.2-4.4): carry out the plans of every pool that may act, one
 * round at a time, make before break:
 *   1. creations and weight changes, in batches; the pools that made any
 *      are re-listed and re-planned; a pool whose creations or weight
 *      changes failed removes nothing in this pass, one whose new members
 *      are not listed yet removes nothing in this round;
 *   2. rule updates (UCloud Layer 7), then the pool's removals in
 *      batches: each pool's removals start as soon as its own rule
 *      updates are done, not when every pool's are.  A draining pool
 *      drains first and updates its rules at the drain's end, just before
 *      the removals, so that a member restored because it was declared
 *      again is still in every policy that named it;
 *   3. drains end (drain.c).
 */
#ifndef LBR_ACT_H
#define LBR_ACT_H

#include <stddef.h>

#include "agent/runtime.h"

/* One round of act.  Returns the number of actions planned. */
size_t lbr_act_round(struct lbr_engine *e);
/* May the pool act (observed, not refused, no error, not frozen)? */
int lbr_pool_can_act(const struct lbr_pool_rt *p);

#endif
