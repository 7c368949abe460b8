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

#endif
