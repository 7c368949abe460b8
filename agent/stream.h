/*
 * Streaming apply: the first round of every pool as soon as its own plan
 * is known, instead of after the whole selection is observed.
 *
 * Used when no confirmation is asked (apply --auto-approve, run).  One run
 * of the executor works a queue, first in first out:
 *
 *   observe  list a pool (all pages), plan and guard it
 *   batch    one batch of its removals
 *   verify   list it again after its last batch, plan again
 *
 * Plans are reported (the sink's `planned`) in the order of the config,
 * each as soon as it and every pool before it are planned, and a pool is
 * acted on only after its plan was reported: the output reads as if the
 * whole plan came first, and every change follows its pool's plan.
 *
 * Only pools whose plan is removals alone join the stream (no creation,
 * weight, policy update or drain: those keep make-before-break and the
 * drain's shared wait in lbr_engine_apply).  A streamed pool has had its
 * first round: lbr_engine_apply's round 1 passes it by.
 *
 * The queue order is also the schedule: lists first, then removals, then
 * verification lists, so that the last slots of one phase are filled by
 * the next one's calls instead of waiting for every pool of the phase.
 */
#ifndef LBR_STREAM_H
#define LBR_STREAM_H

#include "agent/runtime.h"

struct lbr_state;

/* Observe, plan and report every selected pool, and carry out the first
 * round of those that join the stream.  `state` as for
 * lbr_engine_observe_and_plan.  Returns how many pools were streamed. */
size_t lbr_stream_first_round(struct lbr_engine *e, const struct lbr_state *state);

/* May pool p (observed and planned) join the stream? */
int lbr_stream_can_join(const struct lbr_engine *e, const struct lbr_pool_rt *p);

#endif
