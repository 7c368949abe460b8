/*
 * Drain (SPEC §3 `drain = N`): members about to be removed first get no new
 * traffic (weight 0 on Huawei, Enabled=0 on UCloud); each pool waits its
 * own N seconds without holding up the others; then the config file is
 * read again: a member declared again meanwhile gets its previous weight /
 * enabled flag back (and the pool stops acting in this pass), the others
 * are removed, in batches.
 */
#ifndef LBR_DRAIN_H
#define LBR_DRAIN_H

#include "agent/runtime.h"

/* Prepare pool p to drain its planned removals (entries, deadline).
 * 0, or LBR_ENOMEM (the pool's error is set). */
int lbr_drain_start(struct lbr_pool_rt *p);
/* Wait for each draining pool's deadline, in deadline order, and remove or
 * restore its drained members. */
void lbr_drain_finish(struct lbr_engine *e);

#endif
