/*
 * What the report files share (report.c, report-outside.c, report-docs.c).
 */
#ifndef LBR_REPORT_INT_H
#define LBR_REPORT_INT_H

#include <stddef.h>

#include <json-c/json.h>

#include "agent/runtime.h"

struct lbr_state;
struct lbr_state_pool;

/* Members changed outside lbreconcile: observed ids not in the recorded
 * state (appeared) and recorded ids no longer observed (disappeared),
 * leaving out members lbreconcile does not manage. */
struct outside {
	unsigned char *appeared;    /* per observed member */
	unsigned char *disappeared; /* per recorded member */
	size_t n_app, n_dis;
};

/* The recorded state of pool p when it names the same target, or NULL. */
const struct lbr_state_pool *lbr_report_recorded(const struct lbr_state *st,
						 const struct lbr_pool_rt *p);
/* 0, or -1 when out of memory (d zeroed). */
int lbr_report_outside_diff(const struct lbr_state_pool *sp, const struct lbr_pool_rt *p,
			    struct outside *d);
void lbr_report_outside_free(struct outside *d);

/* report-human.c: is the human plan printed at all (not -q, --json, run)?
 * One pool's block; its counts go to r->totals. */
struct lbr_report;
struct lbr_engine;
int lbr_report_human_plan_shown(const struct lbr_report *r);
void lbr_report_plan_pool_human(struct lbr_report *r, struct lbr_engine *e, struct lbr_pool_rt *p,
				int for_drift);

/* A JSON integer for a count. */
json_object *lbr_report_jcount(size_t n);
/* A JSON string, or NULL (JSON null) for NULL. */
json_object *lbr_report_jstr(const char *s);

#endif
