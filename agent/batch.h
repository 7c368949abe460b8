/*
 * Batches of members to remove, drain or restore (batch.c), used by act.c
 * and drain.c.
 */
#ifndef LBR_BATCH_H
#define LBR_BATCH_H

#include <stddef.h>

#include "agent/runtime.h"

enum lbr_batch_kind { LBR_BATCH_DO_REMOVE = 0, LBR_BATCH_DO_DRAIN, LBR_BATCH_DO_RESTORE };

/* A batch of members of one pool to remove, drain or restore. */
struct lbr_batch_job {
	struct lbr_engine *e;
	struct lbr_pool_rt *p;
	const size_t *idx; /* obs member indices (borrowed) */
	size_t n;
	enum lbr_batch_kind kind;
	int wait_rules; /* wait for the pool's rule updates first */
};

/* Cut n members into jobs of at most the instance's batch size for the
 * kind; writes them to out (room for n jobs) and returns how many. */
size_t lbr_batch_jobs(struct lbr_engine *e, struct lbr_pool_rt *p, const size_t *idx, size_t n,
		      enum lbr_batch_kind kind, struct lbr_batch_job *out);
/* Run one lbr_batch_job (an executor job). */
void lbr_batch_job(void *arg);

/* Outcomes a later round may get past (a transient give-up). */
int lbr_batch_retry_later(enum lbr_outcome o);
/* The member reference a plugin gets for observed member m. */
void lbr_batch_ref(const struct lbr_obs_member *m, struct lbr_member_ref *r);
/* Append a copy of s to a growing string list (out of memory: dropped). */
void lbr_batch_remember(char ***arr, size_t *n, size_t *cap, const char *s);

/* Is member `id` free of every planned rule update that has not
 * succeeded (so that releasing it leaves no policy naming it)? */
int lbr_batch_member_rules_ok(const struct lbr_pool_rt *p, const char *id);

#endif
