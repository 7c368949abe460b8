/*
 * Output: the human plan, the JSON documents of `plan --json` and
 * `drift --json` (SPEC §6), and the JSON event stream of `apply --json`.
 * json-c is used here (and in state/ and the plugins) only.
 */
#ifndef LBR_REPORT_H
#define LBR_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "agent/runtime.h"

struct lbr_state;

/* JSON format_version of plan/drift documents and of events (SPEC §6). */
#define LBR_REPORT_FORMAT_VERSION 2

/*
 * A member in one of a pool's lists that the engine's plan will provide:
 * `create` (declared, to be added), `update` (weight to change),
 * `protected` (not removed because of ownership or a guard) and
 * `unmanaged` (owned by someone else, left alone).  Strings are borrowed.
 */
struct lbr_report_member {
	const char *id; /* NULL: not in the pool (create) */
	const char *address;
	unsigned port;
	int weight_from;    /* -1: none (create: no current weight) */
	int weight_to;      /* -1: none (protected, unmanaged) */
	const char *reason; /* NULL: none */
};

struct lbr_report_lists {
	const struct lbr_report_member *create, *update, *protect, *unmanaged;
	size_t n_create, n_update, n_protect, n_unmanaged;
};

/* Fills `out` (zeroed by the caller) with a pool's lists; NULL: all empty. */
/* The lists of pool p's plan (empty when not observed); release them. */
void lbr_report_lists_build(const struct lbr_pool_rt *p, struct lbr_report_lists *out);
void lbr_report_lists_release(struct lbr_report_lists *l);

/* The counts of the plans shown (the "Plan:" / "Drift:" line). */
struct lbr_report_totals {
	size_t n_remove, n_missing, n_err, n_refused, n_blocked;
	size_t n_changed, n_updates, n_create, n_weights;
};

struct lbr_report {
	FILE *out;
	int json;  /* --json */
	int quiet; /* -q */
	int color; /* stdout is a terminal and NO_COLOR unset */
	const char *command;
	const struct lbr_state *state;
	pthread_mutex_t mu;
	/* apply progress */
	int progress; /* draw a progress line on stderr */
	unsigned actions_done, actions_total;
	int progress_drawn; /* the progress line is on the screen */
	struct lbr_report_totals totals;
};

void lbr_report_init(struct lbr_report *r, const char *command, int json, int quiet,
		     const struct lbr_state *state);
/* Event sink for the engine (apply/run). */
struct lbr_event_sink lbr_report_sink(struct lbr_report *r);

/* Human plan of every pool (plan, apply before acting). */
void lbr_report_plan_human(struct lbr_report *r, struct lbr_engine *e, int for_drift);
/* Streaming apply: the sink printed each pool's plan (or emitted its
 * event) as it came; this prints the line of counts after them. */
void lbr_report_plan_end(struct lbr_report *r);
/* The JSON document for plan/drift. */
void lbr_report_plan_json(struct lbr_report *r, struct lbr_engine *e, int for_drift);
/* One "plan" event per pool (apply --json). */
void lbr_report_plan_events(struct lbr_report *r, struct lbr_engine *e);
/* The outcome of apply: human summary or the final "summary" event. */
void lbr_report_apply_summary(struct lbr_report *r, struct lbr_engine *e, int exit_code);
/* With json: the summary event of a pass that failed before it observed
 * anything (the lock, the state): zero counts and exit_code. */
void lbr_report_pass_failed(int json, int exit_code);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (RFC 3339, UTC, milliseconds) of now. */
void lbr_report_time_now(char *out, size_t len);
/* One form of a cloud error code for both clouds: "RetCode.4093" (UCloud),
 * "ELB.8906" (Huawei).  Rewrites "RetCode 4093" / "RetCode:4093". */
void lbr_report_code_norm(const char *in, char *out, size_t len);

/* --json of the other commands: one document each, format_version as
 * above.  A plugin that failed to load has p NULL and error set. */
struct lbr_plugin;
struct lbr_report_plugin {
	const char *file;
	const struct lbr_plugin *p;
	const char *error;
};
struct lbr_cfg;
/* `cfg` (may be NULL) adds its provider instances: api, capabilities,
 * batch limits and weight range as their plugins' open() stated them. */
void lbr_report_providers_json(FILE *f, const char *dir, const struct lbr_report_plugin *pl,
			       size_t n, const struct lbr_cfg *cfg);
void lbr_report_instances_human(FILE *f, const struct lbr_cfg *cfg);
void lbr_report_version_json(FILE *f, const char *version);
void lbr_report_validate_json(FILE *f, const char *path, size_t pools, size_t providers,
			      size_t members);
void lbr_report_state_list_json(FILE *f, const char *location, const struct lbr_state *doc);
void lbr_report_unlock_json(FILE *f, const char *location, const char *id);
/* Names of the capability bits set in `caps`, in a fixed order;
 * returns how many were written into names (at most max). */
size_t lbr_report_caps(uint64_t caps, const char **names, size_t max);

/* Drift helpers: members that appeared/disappeared since the recorded
 * state (by id); n_* set to counts. */
size_t lbr_report_changed_outside(const struct lbr_state *st, const struct lbr_pool_rt *p,
				  size_t *appeared, size_t *disappeared);

#endif
