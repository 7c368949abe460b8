/*
 * Verify (SPEC §4.5) and the rounds of apply: act, re-observe the pools a
 * round touched (settling removals that ended in doubt), plan them again,
 * and repeat until every pool has converged or max_rounds.
 */
#ifndef LBR_VERIFY_H
#define LBR_VERIFY_H

#include "agent/runtime.h"

/* Act, verify and repeat until converged or max_rounds.  Requires
 * allow_mutate.  Stops at once when the lock may have been lost. */
void lbr_engine_apply(struct lbr_engine *e);

#endif
