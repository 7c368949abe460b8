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
#include "agent/report.h"
#include "agent/report-int.h"
#include "agent/util.h"
#include "state/state.h"

#define C_RED "\033[31m"
#define C_YEL "\033[33m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

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

static const char *col(const struct lbr_report *r, const char *c)
{
	return r->color ? c : "";
}

static const char *target_desc(const struct lbr_pool_rt *p, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < p->target.n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, ", %s %s", p->target.kv[i].key,
				      p->target.kv[i].value);
	return buf;
}

void lbr_report_plan_human(struct lbr_report *r, struct lbr_engine *e, int for_drift)
{
	size_t i, k, n_remove = 0, n_missing = 0, n_err = 0, n_refused = 0, n_blocked = 0;
	size_t n_changed = 0, n_updates = 0, n_create = 0, n_weights = 0;
	FILE *f = r->out;
	char ap[80], tgt[512];

	/* -q: nothing but errors (cron mails only on failure).  The daemon
	 * logs one summary line per pass that changed something, not the
	 * plan of every pass. */
	if (r->quiet || !strcmp(r->command, "run"))
		return;
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];
		struct lbr_report_lists l;
		size_t app = 0, dis = 0;

		if (p->obs_ok && for_drift)
			lbr_report_changed_outside(r->state, p, &app, &dis);
		memset(&l, 0, sizeof(l));
		lbr_report_lists_build(p, &l);
		fprintf(f, "%spool \"%s\"%s (provider %s%s): ", col(r, C_BOLD), p->cfg->name,
			col(r, C_OFF), p->prov->cfg->name, target_desc(p, tgt, sizeof(tgt)));
		if (!p->obs_ok) {
			fprintf(f, "not observed\n");
			fprintf(f, "  %serror:%s %s\n", col(r, C_RED), col(r, C_OFF),
				p->error ? p->error : "observation failed");
			n_err++;
			continue;
		}
		fprintf(f, "%zu observed, %zu desired\n", p->obs->n_members, p->cfg->n_members);
		if (p->warning[0])
			fprintf(f, "  %swarning:%s %s\n", col(r, C_YEL), col(r, C_OFF), p->warning);
		for (k = 0; k < p->plan.n_updates; k++) {
			struct lbr_obs_rule *rule = &p->obs->rules[p->plan.updates[k].rule];
			size_t m;

			if (strstr(rule->label, rule->id))
				fprintf(f, "  %s~ policy %s: keep", col(r, C_YEL), rule->label);
			else
				fprintf(f, "  %s~ policy %s (%s): keep", col(r, C_YEL), rule->id,
					rule->label);
			for (m = 0; m < p->plan.updates[k].n_keep; m++)
				fprintf(f, " %s", p->plan.updates[k].keep[m]);
			fprintf(f, "%s\n", col(r, C_OFF));
		}
		n_updates += p->plan.n_updates;
		for (k = 0; k < p->plan.n_remove; k++) {
			struct lbr_obs_member *m = &p->obs->members[p->plan.remove[k]];

			lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
			fprintf(f, "  %s- %-22s%s (member %s)  pool %s\n", col(r, C_RED), ap,
				col(r, C_OFF), m->id, p->cfg->name);
		}
		for (k = 0; k < p->plan.n_blocked; k++) {
			struct lbr_obs_member *m = &p->obs->members[p->plan.blocked[k].member];

			lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
			fprintf(f, "  ! blocked %s (member %s): %s\n", ap, m->id,
				p->plan.blocked[k].reason);
		}
		/* With create = yes a missing member is a creation (below). */
		for (k = 0; !p->cfg->create && k < p->plan.n_missing; k++) {
			struct lbr_cfg_member *m = &p->cfg->members[p->plan.missing[k]];

			lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
			fprintf(f, "  ? missing %s (declared at %s:%d, not in the pool)\n", ap,
				e->cfg->path, m->line);
		}
		for (k = 0; k < l.n_create; k++) {
			lbr_addrport_fmt(l.create[k].address, l.create[k].port, ap, sizeof(ap));
			if (l.create[k].weight_to >= 0)
				fprintf(f, "  + %s (create) weight %d  pool %s\n", ap,
					l.create[k].weight_to, p->cfg->name);
			else
				fprintf(f, "  + %s (create)  pool %s\n", ap, p->cfg->name);
		}
		for (k = 0; k < l.n_update; k++) {
			lbr_addrport_fmt(l.update[k].address, l.update[k].port, ap, sizeof(ap));
			fprintf(f, "  ~ %s weight %d -> %d  (member %s)  pool %s\n", ap,
				l.update[k].weight_from, l.update[k].weight_to,
				l.update[k].id ? l.update[k].id : "?", p->cfg->name);
		}
		if (l.n_protect || l.n_unmanaged || p->plan.n_weight_ignored) {
			fprintf(f, "  = kept: %zu protected, %zu unmanaged", l.n_protect,
				l.n_unmanaged);
			if (p->plan.n_weight_ignored)
				fprintf(f, " (%zu declared weight(s) not enforced: protected)",
					p->plan.n_weight_ignored);
			fprintf(f, "\n");
		}
		/* -v lists them, with why each is kept. */
		for (k = 0; lbr_log_level >= LBR_LOG_INFO && k < l.n_protect + l.n_unmanaged; k++) {
			const struct lbr_report_member *m = k < l.n_protect
								    ? &l.protect[k]
								    : &l.unmanaged[k - l.n_protect];

			lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
			fprintf(f, "    = %s (member %s) %s: %s\n", ap, m->id,
				k < l.n_protect ? "protected" : "unmanaged",
				m->reason ? m->reason : "");
		}
		if (for_drift && (app || dis)) {
			const struct lbr_state_pool *sp = lbr_report_recorded(r->state, p);
			struct outside d;

			if (lbr_report_outside_diff(sp, p, &d) < 0)
				memset(&d, 0, sizeof(d)); /* counted above, cannot list them */
			for (k = 0; d.appeared && k < p->obs->n_members; k++)
				if (d.appeared[k]) {
					lbr_addrport_fmt(p->obs->members[k].address,
							 p->obs->members[k].port, ap, sizeof(ap));
					fprintf(f,
						"  + appeared since the last recorded state: %s (member %s)\n",
						ap, p->obs->members[k].id);
				}
			for (k = 0; d.disappeared && k < sp->n_members; k++)
				if (d.disappeared[k]) {
					lbr_addrport_fmt(sp->members[k].address,
							 sp->members[k].port, ap, sizeof(ap));
					fprintf(f,
						"  x disappeared since the last recorded state: %s (member %s)\n",
						ap, sp->members[k].id);
				}
			lbr_report_outside_free(&d);
			n_changed += app + dis;
		}
		if (p->refused) {
			fprintf(f, "  %srefused:%s %s\n", col(r, C_RED), col(r, C_OFF),
				p->refuse_msg);
			n_refused++;
		}
		if (p->error) {
			fprintf(f, "  %serror:%s %s\n", col(r, C_RED), col(r, C_OFF), p->error);
			n_err++;
		}
		if (!p->plan.n_remove && !p->plan.n_missing && !p->plan.n_blocked && !p->refused &&
		    !p->plan.n_updates && !l.n_create && !l.n_update)
			fprintf(f, "  no changes\n");
		n_remove += p->plan.n_remove;
		n_missing += p->plan.n_missing;
		n_blocked += p->plan.n_blocked;
		n_create += l.n_create;
		n_weights += l.n_update;
		lbr_report_lists_release(&l);
	}
	if (for_drift)
		fprintf(f,
			"Drift: %zu to remove, %zu missing, %zu changed outside lbreconcile, %zu errors.\n",
			n_remove, n_missing, n_changed, n_err);
	else
		fprintf(f,
			"Plan: %zu to remove, %zu policy updates, %zu to create, %zu weight changes, %zu missing, %zu blocked, %zu refused, %zu errors.\n",
			n_remove, n_updates, n_create, n_weights, n_missing, n_blocked, n_refused,
			n_err);
	fflush(f);
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
	size_t refused, errors, changed_outside;
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
		c->blocked += p->plan.n_blocked;
		c->policy_updates += p->plan.n_updates;
		c->changed_outside += a + d;
		if (p->plan.n_remove || p->plan.n_updates || l.n_create || l.n_update)
			*changes = 1;
		if (p->plan.n_remove || p->plan.n_missing || l.n_create || l.n_update || a || d)
			*drift = 1;
	}
	c->refused += p->refused != 0;
	if (p->error || !p->obs_ok)
		c->errors++;
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

static void emit(struct lbr_report *r, json_object *ev)
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
	fflush(r->out);
	pthread_mutex_unlock(&r->mu);
	json_object_put(ev);
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

		/* The progress line is for people: only on a terminal. */
		if (r->progress && r->actions_total > 3) {
			pthread_mutex_lock(&r->mu);
			fprintf(stderr, "\rapplying: %u/%u calls done", done, r->actions_total);
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

struct lbr_event_sink lbr_report_sink(struct lbr_report *r)
{
	struct lbr_event_sink s = {
		.action = sink_action,
		.retry = sink_retry,
		.observed = sink_observed,
		.ud = r,
	};

	return s;
}

void lbr_report_plan_events(struct lbr_report *r, struct lbr_engine *e)
{
	struct counts c;
	size_t i;
	int changes = 0, drift = 0;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];
		json_object *ev = pool_json(r, p, &c, &changes, &drift);

		/* The event is a pool object with the event keys added. */
		json_object_object_add(ev, "type", json_object_new_string("plan"));
		json_object_object_add(ev, "pool", json_object_new_string(p->cfg->name));
		emit(r, ev);
	}
}

void lbr_report_apply_summary(struct lbr_report *r, struct lbr_engine *e, int exit_code)
{
	struct counts c;
	size_t i;
	unsigned removed = 0, gone = 0, failed = 0, updates = 0, created = 0, weights = 0;
	int changes = 0, drift = 0;

	if (r->progress && r->actions_total > 3)
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
		/* Counting keys: what a plan would still show now. */
		json_object_put(pool_json(r, p, &c, &changes, &drift));
	}
	if (r->json) {
		json_object *ev = event("summary", NULL);

		summary_counts(ev, e->n_pools, &c);
		/* What this pass did, in addition to the counting keys. */
		json_object_object_add(ev, "removed", json_object_new_int64(removed));
		json_object_object_add(ev, "already_gone", json_object_new_int64(gone));
		json_object_object_add(ev, "failed", json_object_new_int64(failed));
		json_object_object_add(ev, "policy_updated", json_object_new_int64(updates));
		json_object_object_add(ev, "created", json_object_new_int64(created));
		json_object_object_add(ev, "weights_set", json_object_new_int64(weights));
		json_object_object_add(ev, "api_calls",
				       json_object_new_int64((int64_t)e->calls_total));
		json_object_object_add(ev, "exit_code", json_object_new_int(exit_code));
		emit(r, ev);
		return;
	}
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

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
