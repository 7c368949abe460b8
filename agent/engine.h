/*
 * The reconciliation engine: the runtime objects every phase works on, and
 * the entry points the command layer calls.
 *
 * A pass follows SPEC §4, one file per phase:
 *
 *   observe.c  list every selected pool through its plugin (all pages)
 *   plan.c     diff config, observation and recorded state (pure)
 *   guard.c    max_delete / max_create (pure)
 *   act.c      creations and weights first (verified), then rule updates
 *              (rules.c) and removals in batches (batch.c carries a batch
 *              out)
 *   drain.c    weight 0 / Enabled=0, wait, then remove or restore
 *   verify.c   re-observe what was touched; repeat until converged
 *              (lbr_engine_apply)
 *   record.c   write the new state: members, ownership, last result
 *
 * pool.c joins them for one pool: plan + guard on the current observation,
 * a fresh look, the provider's batch limits and capabilities.
 *
 * Underneath: host.c (the services table plugins get, the observation
 * container, secret scrubbing), call.c (one plugin call with retries,
 * limiter and audit), limiter.c (per-provider AIMD and pacing), exec.c
 * (threads or cooperative tasks).
 */
#ifndef LBR_ENGINE_H
#define LBR_ENGINE_H

#include <stddef.h>

#include "agent/runtime.h"

struct lbr_cfg;
struct lbr_state;

/* Build an engine for `cfg`, selecting `pools` (n == 0: all).  Opens
 * provider instances.  0, or negative with err filled. */
int lbr_engine_new(struct lbr_cfg *cfg, const char *const *pools, size_t n, int allow_mutate,
		   struct lbr_engine **out, char *err, size_t errlen);
void lbr_engine_free(struct lbr_engine *e);
/* The same for a process about to exit: the pools' observations, plans
 * and lists (one free() per string of every member) are left to the
 * kernel, still reachable, so leak checkers do not count them; workers,
 * plugin instances and the secrets table are released as above. */
void lbr_engine_free_at_exit(struct lbr_engine *e);

/* Observe every selected pool (first call per provider alone), then plan
 * and guard.  `state` (may be NULL) gives ownership and the shrink
 * warning; it must outlive the engine. */
void lbr_engine_observe_and_plan(struct lbr_engine *e, const struct lbr_state *state);

#endif
