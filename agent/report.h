/*
 * Output: the human plan, the JSON documents of `plan --json` and
 * `drift --json` (SPEC §6), and the JSON event stream of `apply --json`.
 * json-c is used here (and in state/ and the plugins) only.
 */
#ifndef LBR_REPORT_H
#define LBR_REPORT_H

#include <stdio.h>

#include "agent/engine.h"

struct lbr_state;

struct lbr_report {
	FILE *out;
	int json;   /* --json */
	int quiet;  /* -q */
	int color;  /* stdout is a terminal and NO_COLOR unset */
	const char *command;
	const struct lbr_state *state;
	pthread_mutex_t mu;
	/* apply progress */
	int progress;              /* draw a progress line on stderr */
	unsigned actions_done, actions_total;
};

void lbr_report_init(struct lbr_report *r, const char *command, int json, int quiet,
		     const struct lbr_state *state);
/* Event sink for the engine (apply/run). */
struct lbr_event_sink lbr_report_sink(struct lbr_report *r);

/* Human plan of every pool (plan, apply before acting). */
void lbr_report_plan_human(struct lbr_report *r, struct lbr_engine *e, int for_drift);
/* The JSON document for plan/drift. */
void lbr_report_plan_json(struct lbr_report *r, struct lbr_engine *e, int for_drift);
/* One "plan" event per pool (apply --json). */
void lbr_report_plan_events(struct lbr_report *r, struct lbr_engine *e);
/* The outcome of apply: human summary or the final "summary" event. */
void lbr_report_apply_summary(struct lbr_report *r, struct lbr_engine *e, int exit_code);

/* Drift helpers: members that appeared/disappeared since the recorded
 * state (by id); n_* set to counts. */
size_t lbr_report_changed_outside(const struct lbr_state *st, const struct lbr_pool_rt *p,
				  size_t *appeared, size_t *disappeared);

#endif
