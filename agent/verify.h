/*
 * Verify (SPEC §4.5): re-observe the pools a round touched and plan them
 * again; repeat rounds until every pool has converged or max_rounds.
 */
#ifndef LBR_VERIFY_H
#define LBR_VERIFY_H

#include "agent/engine.h"

/* Re-observe and re-plan one pool now (the last removal batch of a pool
 * does it at once, instead of waiting for every other pool). */
void lbr_verify_pool(struct lbr_engine *e, struct lbr_pool_rt *p);

/* Settle the removals of p that ended in doubt against its current
 * observation: one no longer listed was applied after all — it gets an
 * audit line saying so (with the doubtful attempts' request ids) and counts
 * as removed; one still listed stays for the next round to remove. */
void lbr_verify_doubts(struct lbr_engine *e, struct lbr_pool_rt *p);

#endif
