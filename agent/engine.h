/*
 * The reconciliation engine: provider instances, the worker pool, the
 * host services handed to plugins, and the observe → plan → guard → act →
 * verify loop of SPEC §4.
 */
#ifndef LBR_ENGINE_H
#define LBR_ENGINE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/cfg.h"
#include "agent/retry.h"
#include "lbreconcile/provider.h"

struct lbr_state;
struct lbr_state_store;
struct lbr_audit_rec;

/* The services table given to plugins. */
const struct lbr_host *lbr_engine_host(void);

/* Set by signal handlers: finish in-flight calls, start no new ones. */
extern volatile int lbr_engine_stop;

struct lbr_obs_member {
	char *id;
	char address[LBR_ADDR_MAX];
	unsigned port;
	int weight;
	int enabled;
};

struct lbr_obs_rule {
	char *id;
	char *label;
	int never_empty;
	char **member_ids;
	size_t n_members;
	struct lbr_kv *attrs;
	size_t n_attrs;
};

struct lbr_obs {
	struct lbr_obs_member *members;
	size_t n_members, cap_members;
	struct lbr_obs_rule *rules;
	size_t n_rules, cap_rules;
	char err[256]; /* first rejected value */
};

enum lbr_op {
	LBR_OP_LIST = 0,
	LBR_OP_REMOVE,
	LBR_OP_UPDATE_RULE,
	LBR_OP_DRAIN,
	LBR_OP_RESTORE,
	LBR_OP_COUNT
};
const char *lbr_op_name(enum lbr_op op);

#define LBR_OUTCOME_COUNT 8
const char *lbr_outcome_name(enum lbr_outcome o);

/* Per provider, for metrics. */
struct lbr_prov_stats {
	uint64_t calls[LBR_OP_COUNT][LBR_OUTCOME_COUNT]; /* attempts */
	uint64_t retries;
	uint64_t throttled;
};

#define LBR_RATE_RING 1024

struct lbr_prov_rt {
	struct lbr_cfg_provider *cfg;
	void *inst;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int probe;          /* 0 not probed, 1 probing, 2 done */
	volatile int auth_failed;
	char auth_msg[640];
	/* adaptive concurrency (AIMD): at most `window` calls in flight */
	double window;
	int inflight;             /* atomic */
	int limited;              /* atomic: 1 once throttling changed window/rate */
	int waiting;
	unsigned long ticket_next, ticket_serving; /* slots go first come, first served */
	int max_window;
	uint64_t last_cut_ms;
	/* pacing once the cloud throttles: `rate` calls per second (0 = not
	 * paced), the next send slot, and recent successes to measure what
	 * the cloud lets through */
	double rate;
	uint64_t next_send_us;
	uint64_t last_inc_ms;
	uint64_t ok_ring[LBR_RATE_RING];
	unsigned ok_head;
	uint64_t thr_ring[LBR_RATE_RING];
	unsigned thr_head;
	struct lbr_prov_stats stats;
};

/* A planned L7 rule update: set rule to exactly `keep`. */
struct lbr_rule_update {
	size_t rule;       /* index into obs->rules */
	char **keep;       /* borrowed member ids (from obs) */
	size_t n_keep;
	int done, failed;
};

enum lbr_pool_status {
	LBR_POOL_OK = 0,       /* converged / nothing to do */
	LBR_POOL_PENDING,      /* plan: changes pending */
	LBR_POOL_ERROR,
	LBR_POOL_REFUSED,      /* safety guard */
	LBR_POOL_BLOCKED,      /* a removal is blocked by an L7 rule */
	LBR_POOL_SKIPPED,      /* not attempted (provider stopped, shutdown) */
};

struct lbr_blocked {
	size_t member;   /* index into obs->members */
	char *reason;
};

enum lbr_drain_state {
	LBR_DRAIN_PENDING = 0,
	LBR_DRAIN_DRAINED,
	LBR_DRAIN_DONE,
	LBR_DRAIN_RESTORED,
	LBR_DRAIN_FAILED,
};

struct lbr_drain_entry {
	size_t member; /* index into obs->members */
	enum lbr_drain_state state;
};

struct lbr_pool_rt {
	struct lbr_cfg_pool *cfg;
	struct lbr_prov_rt *prov;
	struct lbr_target target;
	struct lbr_obs *obs;
	int obs_ok;
	int observed_once;
	size_t first_observed;
	/* plan (indices into obs->members / cfg->members) */
	size_t *remove;
	size_t n_remove;
	size_t *missing;
	size_t n_missing;
	struct lbr_blocked *blocked;
	size_t n_blocked;
	struct lbr_rule_update *updates;
	size_t n_updates;
	size_t *pending;          /* removed earlier but still listed */
	size_t n_pending;
	/* guard */
	long delete_budget;       /* -1: unlimited (--force) */
	int refused;
	char refuse_msg[256];
	char warning[256];
	/* results of apply */
	unsigned removed, already_gone, failed, rule_updates, restored;
	struct lbr_drain_entry *drain;
	size_t n_drain;
	uint64_t drain_deadline_ms;
	int frozen;               /* config changed during a drain: hands off */
	int inline_verify;        /* the last removal job re-observes the pool */
	int jobs_left;            /* atomic: removal jobs still running */
	int verified;             /* re-observed (and re-planned) in this round */
	char **removed_ids;       /* ids removed successfully (any round) */
	size_t n_removed_ids, cap_removed_ids;
	int touched;
	enum lbr_pool_status status;
	char *error;              /* first error, full text: stops the pool */
	char *soft_error;         /* first give-up on a transient error */
	pthread_mutex_t mu;
};

struct lbr_event_sink {
	/* A mutating call finished (after retries). */
	void (*action)(void *ud, struct lbr_pool_rt *p, enum lbr_op op, const char *object_id,
		       const char *address, unsigned port, const struct lbr_call_result *res);
	/* A retry is about to wait. */
	void (*retry)(void *ud, struct lbr_pool_rt *p, enum lbr_op op, const char *object_id,
		      const struct lbr_call_result *res, unsigned attempt, uint64_t wait_ms);
	/* A pool was observed (ok or not). */
	void (*observed)(void *ud, struct lbr_pool_rt *p, int round);
	void *ud;
};

struct lbr_engine {
	struct lbr_cfg *cfg;
	struct lbr_prov_rt *provs;
	size_t n_provs;
	struct lbr_pool_rt *pools; /* selected pools only */
	size_t n_pools;
	int allow_mutate;          /* 0 for plan/drift: enforced */
	int force;
	struct lbr_retry_policy policy;
	const struct lbr_clock *clock;
	struct lbr_state_store *store;  /* for the audit log; may be NULL */
	struct lbr_event_sink sink;
	uint64_t calls_total;
	int round;
};

/* Build an engine for `cfg`, selecting `pools` (n == 0: all).  Opens
 * provider instances.  0, or negative with err filled. */
int lbr_engine_new(struct lbr_cfg *cfg, const char *const *pools, size_t n, int allow_mutate,
		   struct lbr_engine **out, char *err, size_t errlen);
void lbr_engine_free(struct lbr_engine *e);

/* Observe every selected pool (first call per provider alone), then plan
 * and guard.  `state` (may be NULL) is used for the shrink warning. */
void lbr_engine_observe_and_plan(struct lbr_engine *e, const struct lbr_state *state);
/* Act, verify and repeat until converged or max_rounds.  Requires
 * allow_mutate. */
void lbr_engine_apply(struct lbr_engine *e);
/* Re-plan one pool from its current observation. */
void lbr_engine_plan_pool(struct lbr_engine *e, struct lbr_pool_rt *p);

void lbr_obs_free(struct lbr_obs *o);

#endif
