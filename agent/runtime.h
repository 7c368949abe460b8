/*
 * The objects every phase of a pass works on: provider instances and their
 * limiters, pool runtimes with their plan and results, the engine, and the
 * event sink.  Types only; the phases are declared in their own headers
 * (engine.h lists them).
 */
#ifndef LBR_RUNTIME_H
#define LBR_RUNTIME_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/cfg.h"
#include "agent/exec.h"
#include "agent/plan.h"
#include "agent/retry.h"
#include "lbreconcile/provider.h"

struct lbr_state;
struct lbr_state_store;
struct lbr_exec;

enum lbr_op {
	LBR_OP_LIST = 0,
	LBR_OP_REMOVE,
	LBR_OP_UPDATE_RULE,
	LBR_OP_DRAIN,
	LBR_OP_RESTORE,
	LBR_OP_CREATE,
	LBR_OP_WEIGHT,
	LBR_OP_COUNT
};

/* Per provider, for metrics. */
struct lbr_prov_stats {
	uint64_t calls[LBR_OP_COUNT][LBR_OUTCOME_COUNT]; /* attempts */
	uint64_t retries;
	uint64_t throttled;
};

#define LBR_RATE_RING 1024

/* The adaptive limiter of one provider (limiter.c). */
struct lbr_limiter {
	double window; /* at most `window` calls in flight */
	int inflight;  /* atomic */
	int limited;   /* atomic: 1 once throttling changed window/rate */
	int waiting;
	unsigned long ticket_next, ticket_serving; /* first come, first served */
	int max_window;
	uint64_t last_cut_ms;
	double rate; /* calls per second once paced, 0 = not paced */
	uint64_t next_send_us;
	uint64_t last_inc_ms;
	uint64_t ok_ring[LBR_RATE_RING];
	unsigned ok_head;
	uint64_t thr_ring[LBR_RATE_RING];
	unsigned thr_head;
};

struct lbr_prov_rt {
	struct lbr_cfg_provider *cfg;
	void *inst;
	struct lbr_instance_info info; /* what this instance can do */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int probe; /* 0 not probed, 1 probing, 2 done */
	volatile int auth_failed;
	char auth_msg[640];
	struct lbr_limiter lim;
	struct lbr_prov_stats stats;
};

enum lbr_pool_status {
	LBR_POOL_OK = 0,  /* converged / nothing to do */
	LBR_POOL_PENDING, /* plan: changes pending */
	LBR_POOL_ERROR,
	LBR_POOL_REFUSED, /* safety guard */
	LBR_POOL_BLOCKED, /* a removal is blocked by an L7 rule */
	LBR_POOL_SKIPPED, /* not attempted (provider stopped, shutdown) */
};

/* A removal whose every attempt ended in doubt (no answer, or a transient
 * one, after the request may have been applied): verification decides. */
struct lbr_doubt {
	char *id;
	char address[LBR_ADDR_MAX];
	unsigned port;
	char requests[256]; /* request ids of the doubtful attempts, "-" when none */
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
	const struct lbr_state_pool *rec; /* recorded state of the pool, or NULL */
	struct lbr_obs *obs;
	int obs_ok;
	int observed_once;
	size_t first_observed;
	size_t first_base; /* max_delete's base at the first plan */
	int base_set;
	struct lbr_plan plan;
	unsigned obs_gen; /* observations taken; the plan is of plan_gen */
	unsigned plan_gen;
	/* guard */
	int refused;
	char refuse_msg[256];
	char warning[256];
	/* results of apply */
	unsigned removed, already_gone, failed, rule_updates, restored;
	unsigned created, already_there, reweighted;
	int make_failed;   /* a creation or weight change failed: no
				   * removal in this pass (make before break) */
	int hold_removals; /* creations not verified yet: no removal
				   * in this round */
	struct lbr_drain_entry *drain;
	size_t n_drain;
	uint64_t drain_deadline_ms;
	int frozen;         /* config changed during a drain: hands off */
	int inline_verify;  /* the last removal job re-observes the pool */
	int jobs_left;      /* atomic: removal jobs still running */
	int rules_left;     /* rule updates still running (under mu) */
	int rules_deferred; /* draining: rule updates wait for the drain's end */
	int verified;       /* re-observed (and re-planned) in this round */
	int streamed;       /* round 1 was done as soon as planned (stream.c) */
	char **removed_ids; /* ids removed successfully (any round) */
	size_t n_removed_ids, cap_removed_ids;
	struct lbr_doubt *doubt; /* removals that ended in doubt (see verify.h) */
	size_t n_doubt, cap_doubt;
	char **created_keys; /* "ADDRESS:PORT" created in this pass */
	size_t n_created_keys, cap_created_keys;
	int touched;
	char *error;      /* first error, full text: stops the pool */
	char *soft_error; /* first give-up on a transient error */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* rules_left reached 0 */
};

struct lbr_engine;

struct lbr_event_sink {
	/* A mutating call finished (after retries), once per member. */
	void (*action)(void *ud, struct lbr_pool_rt *p, enum lbr_op op, const char *object_id,
		       const char *address, unsigned port, const struct lbr_call_result *res);
	/* A retry is about to wait. */
	void (*retry)(void *ud, struct lbr_pool_rt *p, enum lbr_op op, const char *object_id,
		      const struct lbr_call_result *res, unsigned attempt, uint64_t wait_ms);
	/* A pool was observed (ok or not). */
	void (*observed)(void *ud, struct lbr_pool_rt *p, int round);
	/* Streaming apply (stream.c): pool p's first plan is final; called in
	 * the order of the config, before any change to p. */
	void (*planned)(void *ud, struct lbr_engine *e, struct lbr_pool_rt *p);
	/* After one or more `planned` in a row, before any change to their
	 * pools: what they wrote goes out now (`planned` may buffer it). */
	void (*planned_flush)(void *ud);
	void *ud;
};

struct lbr_engine {
	struct lbr_cfg *cfg;
	struct lbr_prov_rt *provs;
	size_t n_provs;
	struct lbr_pool_rt *pools; /* selected pools only */
	size_t n_pools;
	int allow_mutate; /* 0 for plan/drift: enforced */
	int force;
	struct lbr_retry_policy policy;
	const struct lbr_clock *clock;
	struct lbr_state_store *store; /* lock, fencing and audit log; may be NULL */
	struct lbr_exec *exec;
	struct lbr_event_sink sink;
	uint64_t calls_total;
	int round;
	int fenced;     /* the lock may have expired: no more mutating calls */
	int audit_lost; /* an audit line was lost: no more mutating calls */
};

/* One operation in progress; handed to plugins as the opaque lbr_call. */
struct lbr_call {
	struct lbr_engine *e;
	struct lbr_prov_rt *prov;
	struct lbr_pool_rt *pool;
	enum lbr_op op;
	const char *object_id; /* for events and retries: a member or rule id */
	/* LIST */
	const char *cursor;
	char *next_cursor;
	size_t next_len;
	struct lbr_obs *obs;
	/* REMOVE / DRAIN / RESTORE / WEIGHT: n members; CREATE: n specs */
	const struct lbr_member_ref *m;
	const struct lbr_member_spec *specs;
	const int *weights;
	size_t n;
	struct lbr_item_result *items; /* n of them */
	char (*doubt)[256];            /* REMOVE: n buffers collecting the request
					* ids of attempts that ended in doubt */
	/* UPDATE_RULE */
	const struct lbr_rule_ref *rule;
	const char *const *ids;
	size_t n_ids;
	/* Per attempt, kept by the host's http service: requests performed,
	 * and whether one was refused before it was sent (fencing). */
	unsigned http_sent;
	int http_refused;
};

#endif
