/*
 * Plan (SPEC §4.2, §5a): what a pool needs, as a pure function of the
 * declared pool, the observation and the recorded state.  No I/O, no
 * globals, no clock: unit-tested on its own (tests/unit/test-plan.c).
 *
 * A member's identity is ADDRESS:PORT (canonical address text).  Every
 * observed member falls in exactly one class:
 *   declared   kept; its weight is changed when a weight is declared and
 *              differs (an `update`), unless protected
 *   protected  matches a `protect` selector: never removed, drained or
 *              re-weighted, whatever else is true
 *   remove     undeclared and, with prune = owned, owned by us
 *   unmanaged  undeclared and not ours to remove (prune = owned without
 *              ownership, prune = none)
 *   pending    removed earlier in this pass but still listed
 *   blocked    would be removed, but a forwarding policy that must never
 *              be empty would lose its last member (L7 fixpoint)
 * Declared members that are absent are `missing`; with create = yes they
 * are also `create`.
 */
#ifndef LBR_PLAN_H
#define LBR_PLAN_H

#include <stddef.h>

#include "agent/cfg.h"
#include "agent/obs.h"

struct lbr_state_pool;

/* A weight change: observed member `member` to the weight declared by
 * config member `decl`. */
struct lbr_plan_reweight {
	size_t member; /* index into obs->members */
	size_t decl;   /* index into pool->members */
	int from, to;
};

/* A member kept out of every action, and why. */
struct lbr_plan_keep {
	size_t member; /* index into obs->members */
	char why[96];  /* "protect = name:as-*", "not owned (prune = owned)" */
};

struct lbr_blocked {
	size_t member; /* index into obs->members */
	char *reason;
};

/* An L7 rule update: set rule to exactly `keep`. */
struct lbr_rule_update {
	size_t rule; /* index into obs->rules */
	char **keep; /* borrowed member ids (from obs) */
	size_t n_keep;
	int done, failed;
};

struct lbr_plan {
	size_t *remove; /* obs indices */
	size_t n_remove;
	size_t *missing; /* pool->members indices, absent */
	size_t n_missing;
	size_t *create; /* pool->members indices to create */
	size_t n_create;
	size_t n_create_pending; /* created in this pass, not listed yet */
	struct lbr_plan_reweight *reweight;
	size_t n_reweight;
	struct lbr_plan_keep *protect; /* observed members a selector protects */
	size_t n_protect;
	struct lbr_plan_keep *unmanaged;
	size_t n_unmanaged;
	size_t *pending; /* obs indices removed before, still listed */
	size_t n_pending;
	struct lbr_blocked *blocked;
	size_t n_blocked;
	struct lbr_rule_update *updates;
	size_t n_updates;
	size_t n_weight_ignored; /* declared weights not enforced (protected) */
};

struct lbr_plan_input {
	const struct lbr_cfg_pool *pool;
	const struct lbr_obs *obs;
	const struct lbr_state_pool *rec; /* ownership record, or NULL */
	const char *const *removed_ids;   /* removed earlier in this pass */
	size_t n_removed_ids;
	/* "ADDRESS:PORT" created earlier in this pass: never sent twice, never
	 * counted twice by max_create */
	const char *const *created_keys;
	size_t n_created_keys;
	int can_weight; /* the instance can set weights */
};

/* Compute the plan into *out (which must be zeroed or released).  0, or
 * LBR_ENOMEM (out is then released). */
int lbr_plan_pool(const struct lbr_plan_input *in, struct lbr_plan *out);
/* Free what the plan holds and zero it. */
void lbr_plan_release(struct lbr_plan *p);

/* Is a member (observed, or recorded in the state) ours to act on in this
 * pool: not protected, and declared, or prune = all, or owned under prune
 * = owned?  Protected and unmanaged members are not drift either.  The
 * declared members must be sorted by address then port (cfg does that). */
int lbr_plan_managed(const struct lbr_cfg_pool *cp, const struct lbr_state_pool *rec,
		     const char *address, unsigned port, const char *name, const char *instance_id,
		     const char *type);

/* max_delete's base: observed members minus protected and unmanaged ones. */
size_t lbr_plan_base(const struct lbr_plan *p, size_t n_observed);

#endif
