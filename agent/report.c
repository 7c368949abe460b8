#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent/log.h"
#include "agent/call.h"
#include "agent/plugin.h"
#include "agent/pool.h"
#include "agent/report.h"
#include "agent/report-int.h"
#include "agent/util.h"
#include "state/state.h"

void lbr_report_init(struct lbr_report *r, const char *command, int json, int quiet,
		     const struct lbr_state *state)
{
	const char *nc = getenv("NO_COLOR");

	memset(r, 0, sizeof(*r));
	r->out = stdout;
	r->json = json;
	r->quiet = quiet;
	r->command = command;
	r->state = state;
	r->color = !json && isatty(STDOUT_FILENO) && !(nc && *nc);
	r->progress = !json && !quiet && isatty(STDERR_FILENO);
	pthread_mutex_init(&r->mu, NULL);
}

void lbr_report_time_now(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03ldZ", sec, ts.tv_nsec / 1000000L);
}

void lbr_report_code_norm(const char *in, char *out, size_t len)
{
	static const char rc[] = "RetCode";
	size_t n = sizeof(rc) - 1;

	/* UCloud's numeric RetCode is written like Huawei's "ELB.8906":
	 * the namespace, a dot, the code. */
	if (!strncmp(in, rc, n) && (in[n] == ' ' || in[n] == ':' || in[n] == '=')) {
		const char *v = in + n;

		while (*v == ' ' || *v == ':' || *v == '=')
			v++;
		snprintf(out, len, "%s.%s", rc, v);
		return;
	}
	snprintf(out, len, "%s", in);
}

/* Counting keys of a summary: the same in every output (SPEC §6). */
struct counts {
	size_t remove, missing, create, update, protect, unmanaged, blocked, policy_updates;
	size_t refused, warnings, errors, changed_outside;
};

json_object *lbr_report_jcount(size_t n)
{
	return json_object_new_int64((int64_t)n);
}

json_object *lbr_report_jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *member_json(const char *id, const char *address, unsigned port)
{
	json_object *o = json_object_new_object();

	if (id)
		json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "address", json_object_new_string(address));
	json_object_object_add(o, "port", json_object_new_int((int)port));
	return o;
}

static json_object *weight_json(int w)
{
	return w < 0 ? NULL : json_object_new_int(w);
}

/* create: {address, port, weight}; update: {id, address, port,
 * weight: {from, to}}; protected / unmanaged: {id, address, port, reason}. */
static json_object *list_json(const struct lbr_report_member *m, size_t n, char kind)
{
	json_object *arr = json_object_new_array();
	size_t k;

	for (k = 0; k < n; k++) {
		json_object *o = member_json(kind == 'c' ? NULL
					     : m[k].id   ? m[k].id
							 : "",
					     m[k].address, m[k].port);

		if (kind == 'c') {
			json_object_object_add(o, "weight", weight_json(m[k].weight_to));
		} else if (kind == 'u') {
			json_object *w = json_object_new_object();

			json_object_object_add(w, "from", weight_json(m[k].weight_from));
			json_object_object_add(w, "to", weight_json(m[k].weight_to));
			json_object_object_add(o, "weight", w);
		} else {
			json_object_object_add(o, "reason", lbr_report_jstr(m[k].reason));
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

/*
 * One pool object, the same keys with the same types in plan --json,
 * drift --json and the plan events: a pool that failed still carries its
 * (empty) arrays.  Adds the pool's numbers to `c`; *changes and *drift set
 * when the pool has something to do / differs.
 */
/* The counting keys of a pool that say it did not go as planned: its
 * blocked removals, a refusal, an error.  pool_json counts them with the
 * others; the human apply summary counts only these. */
static void count_trouble(const struct lbr_pool_rt *p, struct counts *c)
{
	if (p->obs_ok)
		c->blocked += p->plan.n_blocked;
	c->refused += p->refused != 0;
	c->warnings += p->warning[0] != '\0';
	if (p->error || !p->obs_ok)
		c->errors++;
}

static json_object *pool_json(struct lbr_report *r, struct lbr_pool_rt *p, struct counts *c,
			      int *changes, int *drift)
{
	json_object *o = json_object_new_object(), *arr, *co, *app, *dis;
	const struct lbr_state_pool *sp = NULL;
	struct lbr_report_lists l;
	struct outside od;
	size_t k, a = 0, d = 0;

	memset(&l, 0, sizeof(l));
	lbr_report_lists_build(p, &l);
	json_object_object_add(o, "name", json_object_new_string(p->cfg->name));
	json_object_object_add(o, "provider", json_object_new_string(p->prov->cfg->name));
	json_object_object_add(o, "observed",
			       p->obs_ok ? lbr_report_jcount(p->obs->n_members) : NULL);
	json_object_object_add(o, "desired", lbr_report_jcount(p->cfg->n_members));
	arr = json_object_new_array();
	for (k = 0; p->obs_ok && k < p->plan.n_remove; k++) {
		struct lbr_obs_member *m = &p->obs->members[p->plan.remove[k]];

		json_object_array_add(arr, member_json(m->id, m->address, m->port));
	}
	json_object_object_add(o, "remove", arr);
	arr = json_object_new_array();
	for (k = 0; p->obs_ok && k < p->plan.n_missing; k++) {
		struct lbr_cfg_member *m = &p->cfg->members[p->plan.missing[k]];

		json_object_array_add(arr, member_json(NULL, m->address, m->port));
	}
	json_object_object_add(o, "missing", arr);
	json_object_object_add(o, "create", list_json(l.create, l.n_create, 'c'));
	json_object_object_add(o, "update", list_json(l.update, l.n_update, 'u'));
	json_object_object_add(o, "protected", list_json(l.protect, l.n_protect, 'p'));
	json_object_object_add(o, "unmanaged", list_json(l.unmanaged, l.n_unmanaged, 'p'));
	co = json_object_new_object();
	app = json_object_new_array();
	dis = json_object_new_array();
	if (p->obs_ok)
		sp = lbr_report_recorded(r->state, p);
	if (sp && lbr_report_outside_diff(sp, p, &od) == 0) {
		for (k = 0; k < p->obs->n_members; k++)
			if (od.appeared[k]) {
				json_object_array_add(app, member_json(p->obs->members[k].id,
								       p->obs->members[k].address,
								       p->obs->members[k].port));
				a++;
			}
		for (k = 0; k < sp->n_members; k++)
			if (od.disappeared[k]) {
				json_object_array_add(dis, member_json(sp->members[k].id
									       ? sp->members[k].id
									       : "",
								       sp->members[k].address,
								       sp->members[k].port));
				d++;
			}
		lbr_report_outside_free(&od);
	}
	json_object_object_add(co, "appeared", app);
	json_object_object_add(co, "disappeared", dis);
	json_object_object_add(o, "changed_outside", co);
	arr = json_object_new_array();
	for (k = 0; p->obs_ok && k < p->plan.n_blocked; k++) {
		struct lbr_obs_member *m = &p->obs->members[p->plan.blocked[k].member];
		json_object *b = member_json(m->id, m->address, m->port);

		json_object_object_add(b, "reason",
				       json_object_new_string(p->plan.blocked[k].reason
								      ? p->plan.blocked[k].reason
								      : ""));
		json_object_array_add(arr, b);
	}
	json_object_object_add(o, "blocked", arr);
	arr = json_object_new_array();
	for (k = 0; p->obs_ok && k < p->plan.n_updates; k++) {
		struct lbr_obs_rule *rule = &p->obs->rules[p->plan.updates[k].rule];
		json_object *u = json_object_new_object(), *keep = json_object_new_array();
		size_t m;

		json_object_object_add(u, "policy", json_object_new_string(rule->id));
		json_object_object_add(u, "label", json_object_new_string(rule->label));
		for (m = 0; m < p->plan.updates[k].n_keep; m++)
			json_object_array_add(keep,
					      json_object_new_string(p->plan.updates[k].keep[m]));
		json_object_object_add(u, "keep", keep);
		json_object_array_add(arr, u);
	}
	json_object_object_add(o, "policy_updates", arr);
	json_object_object_add(o, "refused",
			       p->refused ? json_object_new_string(p->refuse_msg) : NULL);
	json_object_object_add(o, "warning",
			       p->warning[0] ? json_object_new_string(p->warning) : NULL);
	json_object_object_add(o, "error",
			       p->error    ? json_object_new_string(p->error)
			       : p->obs_ok ? NULL
					   : json_object_new_string("observation failed"));
	if (p->obs_ok) {
		c->remove += p->plan.n_remove;
		c->missing += p->plan.n_missing;
		c->create += l.n_create;
		c->update += l.n_update;
		c->protect += l.n_protect;
		c->unmanaged += l.n_unmanaged;
		c->policy_updates += p->plan.n_updates;
		c->changed_outside += a + d;
		if (p->plan.n_remove || p->plan.n_updates || l.n_create || l.n_update)
			*changes = 1;
		if (lbr_pool_differs(p) || a || d)
			*drift = 1;
	}
	count_trouble(p, c);
	lbr_report_lists_release(&l);
	return o;
}

static void summary_counts(json_object *s, size_t pools, const struct counts *c)
{
	json_object_object_add(s, "pools", lbr_report_jcount(pools));
	json_object_object_add(s, "remove", lbr_report_jcount(c->remove));
	json_object_object_add(s, "missing", lbr_report_jcount(c->missing));
	json_object_object_add(s, "create", lbr_report_jcount(c->create));
	json_object_object_add(s, "update", lbr_report_jcount(c->update));
	json_object_object_add(s, "protected", lbr_report_jcount(c->protect));
	json_object_object_add(s, "unmanaged", lbr_report_jcount(c->unmanaged));
	json_object_object_add(s, "blocked", lbr_report_jcount(c->blocked));
	json_object_object_add(s, "policy_updates", lbr_report_jcount(c->policy_updates));
	json_object_object_add(s, "changed_outside", lbr_report_jcount(c->changed_outside));
	json_object_object_add(s, "refused", lbr_report_jcount(c->refused));
	json_object_object_add(s, "warnings", lbr_report_jcount(c->warnings));
	json_object_object_add(s, "errors", lbr_report_jcount(c->errors));
}

void lbr_report_plan_json(struct lbr_report *r, struct lbr_engine *e, int for_drift)
{
	json_object *doc = json_object_new_object(), *pools = json_object_new_array(), *sum;
	struct counts c;
	size_t i;
	int drift = 0, changes = 0;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < e->n_pools; i++)
		json_object_array_add(pools, pool_json(r, &e->pools[i], &c, &changes, &drift));
	json_object_object_add(doc, "format_version",
			       json_object_new_int(LBR_REPORT_FORMAT_VERSION));
	json_object_object_add(doc, "command",
			       json_object_new_string(for_drift ? "drift" : "plan"));
	if (for_drift)
		json_object_object_add(doc, "drift", json_object_new_boolean(drift));
	else
		json_object_object_add(doc, "changes", json_object_new_boolean(changes));
	json_object_object_add(doc, "pools", pools);
	sum = json_object_new_object();
	summary_counts(sum, e->n_pools, &c);
	json_object_object_add(doc, "summary", sum);
	fprintf(r->out, "%s\n",
		json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_SPACED |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(r->out);
	json_object_put(doc);
}

/* One event line; flushed unless `hold` (then the caller flushes). */
static void emit_line(struct lbr_report *r, json_object *ev, int hold)
{
	char ts[40];

	lbr_report_time_now(ts, sizeof(ts));
	json_object_object_add(ev, "format_version",
			       json_object_new_int(LBR_REPORT_FORMAT_VERSION));
	json_object_object_add(ev, "time", json_object_new_string(ts));
	pthread_mutex_lock(&r->mu);
	fprintf(r->out, "%s\n",
		json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!hold)
		fflush(r->out);
	pthread_mutex_unlock(&r->mu);
	json_object_put(ev);
}

static void emit(struct lbr_report *r, json_object *ev)
{
	emit_line(r, ev, 0);
}

static json_object *event(const char *type, const char *pool)
{
	json_object *ev = json_object_new_object();

	json_object_object_add(ev, "type", json_object_new_string(type));
	if (pool)
		json_object_object_add(ev, "pool", json_object_new_string(pool));
	return ev;
}

static void result_fields(json_object *ev, const struct lbr_call_result *res)
{
	char code[sizeof(res->code) + 8];

	lbr_report_code_norm(res->code, code, sizeof(code));
	json_object_object_add(ev, "outcome",
			       json_object_new_string(lbr_outcome_name(res->outcome)));
	json_object_object_add(ev, "http_status",
			       res->http_status ? json_object_new_int((int)res->http_status)
						: NULL);
	json_object_object_add(ev, "code", code[0] ? json_object_new_string(code) : NULL);
	json_object_object_add(ev, "request_id",
			       res->request_id[0] ? json_object_new_string(res->request_id) : NULL);
	json_object_object_add(ev, "message",
			       res->outcome != LBR_OUT_OK && res->message[0]
				       ? json_object_new_string(res->message)
				       : NULL);
}

static void sink_action(void *ud, struct lbr_pool_rt *p, enum lbr_op op, const char *id,
			const char *address, unsigned port, const struct lbr_call_result *res)
{
	struct lbr_report *r = ud;
	json_object *ev;

	if (!r->json) {
		unsigned done = __atomic_add_fetch(&r->actions_done, 1, __ATOMIC_RELAXED);

		/* The progress line is for people: only on a terminal.
		 * (Streaming apply: a plan printed later erases it first.) */
		if (r->progress && __atomic_load_n(&r->actions_total, __ATOMIC_RELAXED) > 3) {
			pthread_mutex_lock(&r->mu);
			fprintf(stderr, "\rapplying: %u/%u calls done", done,
				__atomic_load_n(&r->actions_total, __ATOMIC_RELAXED));
			r->progress_drawn = 1;
			pthread_mutex_unlock(&r->mu);
		}
		return;
	}
	ev = event("action", p->cfg->name);
	json_object_object_add(ev, "action", json_object_new_string(lbr_op_name(op)));
	json_object_object_add(ev, "id", lbr_report_jstr(id));
	/* Rule updates have no member address: null, never absent. */
	json_object_object_add(ev, "address", lbr_report_jstr(address));
	json_object_object_add(ev, "port", address ? json_object_new_int((int)port) : NULL);
	result_fields(ev, res);
	emit(r, ev);
}

static void sink_retry(void *ud, struct lbr_pool_rt *p, enum lbr_op op, const char *id,
		       const struct lbr_call_result *res, unsigned attempt, uint64_t wait_ms)
{
	struct lbr_report *r = ud;
	json_object *ev;

	if (!r->json)
		return;
	ev = event("retry", p->cfg->name);
	json_object_object_add(ev, "operation", json_object_new_string(lbr_op_name(op)));
	json_object_object_add(ev, "id", lbr_report_jstr(id));
	json_object_object_add(ev, "attempt", json_object_new_int((int)attempt));
	json_object_object_add(ev, "wait_ms", json_object_new_int64((int64_t)wait_ms));
	result_fields(ev, res);
	emit(r, ev);
}

static void sink_observed(void *ud, struct lbr_pool_rt *p, int round)
{
	struct lbr_report *r = ud;
	json_object *ev;

	if (!r->json)
		return;
	ev = event("observe", p->cfg->name);
	json_object_object_add(ev, "round", json_object_new_int(round));
	json_object_object_add(ev, "observed",
			       p->obs_ok && p->obs ? lbr_report_jcount(p->obs->n_members) : NULL);
	json_object_object_add(ev, "error",
			       p->obs_ok ? NULL
					 : json_object_new_string(p->error ? p->error
									   : "observation failed"));
	emit(r, ev);
}

static void plan_event_held(struct lbr_report *r, struct lbr_pool_rt *p, int hold)
{
	struct counts c;
	int changes = 0, drift = 0;
	json_object *ev;

	memset(&c, 0, sizeof(c));
	ev = pool_json(r, p, &c, &changes, &drift);
	/* The event is a pool object with the event keys added. */
	json_object_object_add(ev, "type", json_object_new_string("plan"));
	json_object_object_add(ev, "pool", json_object_new_string(p->cfg->name));
	emit_line(r, ev, hold);
}

static void plan_event(struct lbr_report *r, struct lbr_pool_rt *p)
{
	plan_event_held(r, p, 0);
}

/* Streaming apply: a pool's plan, before any change to it (written out
 * by sink_planned_flush, which the stream calls before it queues any
 * change to the pools it reported). */
static void sink_planned(void *ud, struct lbr_engine *e, struct lbr_pool_rt *p)
{
	struct lbr_report *r = ud;

	__atomic_add_fetch(&r->actions_total, (unsigned)lbr_pool_work(p), __ATOMIC_RELAXED);
	if (r->json) {
		plan_event_held(r, p, 1);
	} else if (lbr_report_human_plan_shown(r)) {
		pthread_mutex_lock(&r->mu);
		if (r->progress_drawn) /* the same terminal: erase the line first */
			fprintf(stderr, "\r%60s\r", "");
		pthread_mutex_unlock(&r->mu);
		lbr_report_plan_pool_human(r, e, p, 0);
	}
}

/* Out before any change to the pools just reported, even into a pipe. */
static void sink_planned_flush(void *ud)
{
	struct lbr_report *r = ud;

	pthread_mutex_lock(&r->mu);
	fflush(r->out);
	pthread_mutex_unlock(&r->mu);
}

struct lbr_event_sink lbr_report_sink(struct lbr_report *r)
{
	struct lbr_event_sink s = {
		.action = sink_action,
		.retry = sink_retry,
		.observed = sink_observed,
		.planned = sink_planned,
		.planned_flush = sink_planned_flush,
		.ud = r,
	};

	return s;
}

void lbr_report_plan_events(struct lbr_report *r, struct lbr_engine *e)
{
	size_t i;

	for (i = 0; i < e->n_pools; i++)
		plan_event(r, &e->pools[i]);
}

/* What a pass did, in a summary event besides the counting keys. */
static void pass_fields(json_object *ev, const unsigned did[6], uint64_t calls, int exit_code)
{
	static const char *const key[6] = {
		"removed", "already_gone", "failed", "policy_updated", "created", "weights_set",
	};
	size_t i;

	for (i = 0; i < 6; i++)
		json_object_object_add(ev, key[i], json_object_new_int64(did[i]));
	json_object_object_add(ev, "api_calls", json_object_new_int64((int64_t)calls));
	json_object_object_add(ev, "exit_code", json_object_new_int(exit_code));
}

void lbr_report_pass_failed(int json, int exit_code)
{
	static const unsigned none[6];
	struct lbr_report r;
	struct counts c;
	json_object *ev;

	if (!json)
		return;
	lbr_report_init(&r, "", 1, 0, NULL);
	memset(&c, 0, sizeof(c));
	ev = event("summary", NULL);
	summary_counts(ev, 0, &c);
	pass_fields(ev, none, 0, exit_code);
	emit(&r, ev);
	pthread_mutex_destroy(&r.mu);
}

void lbr_report_apply_summary(struct lbr_report *r, struct lbr_engine *e, int exit_code)
{
	struct counts c;
	size_t i;
	unsigned removed = 0, gone = 0, failed = 0, updates = 0, created = 0, weights = 0;
	int changes = 0, drift = 0;

	if (r->progress_drawn)
		fprintf(stderr, "\n");
	memset(&c, 0, sizeof(c));
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		removed += p->removed;
		created += p->created + p->already_there;
		weights += p->reweighted;
		gone += p->already_gone;
		failed += p->failed;
		updates += p->rule_updates;
	}
	if (r->json) {
		json_object *ev = event("summary", NULL);

		/* Counting keys: what a plan would still show now. */
		for (i = 0; i < e->n_pools; i++)
			json_object_put(pool_json(r, &e->pools[i], &c, &changes, &drift));

		const unsigned did[6] = { removed, gone, failed, updates, created, weights };

		summary_counts(ev, e->n_pools, &c);
		pass_fields(ev, did, e->calls_total, exit_code);
		emit(r, ev);
		return;
	}
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		/* The line below shows three counting keys: no need to build
		 * each pool's document for them. */
		count_trouble(p, &c);
		if (p->error)
			lbr_log_msg(LBR_LOG_ERROR, "error: %s", p->error);
		if (p->refused)
			lbr_log_msg(LBR_LOG_ERROR, "pool \"%s\" refused: %s", p->cfg->name,
				    p->refuse_msg);
	}
	/* -q: errors only.  The daemon: one line for a pass that changed or
	 * failed something, nothing for a pass with nothing to do. */
	if (r->quiet)
		return;
	if (!strcmp(r->command, "run") && !removed && !gone && !failed && !updates && !created &&
	    !weights && !c.errors && !c.refused && !c.blocked && exit_code == 0)
		return;
	fprintf(r->out,
		"Apply %s: %u removed, %u already gone, %u policy updates, %u failed, %u created, %u weights set, %zu blocked, %zu pools refused, %zu errors (%llu API calls).\n",
		exit_code == 0 ? "complete" : "incomplete", removed, gone, updates, failed, created,
		weights, c.blocked, c.refused, c.errors, (unsigned long long)e->calls_total);
	fflush(r->out);
}
