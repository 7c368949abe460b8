#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent/report.h"
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

/* Recorded members of the pool, if the recorded target is the same. */
static const struct lbr_state_pool *recorded(const struct lbr_state *st, const struct lbr_pool_rt *p)
{
	const struct lbr_state_pool *sp;
	size_t i, k;

	if (!st)
		return NULL;
	sp = lbr_state_pool_find((struct lbr_state *)st, p->cfg->name);
	if (!sp || strcmp(sp->provider, p->prov->cfg->name) != 0)
		return NULL;
	for (i = 0; i < p->target.n; i++) {
		int found = 0;

		for (k = 0; k < sp->n_targets; k++)
			if (!strcmp(sp->targets[k].key, p->target.kv[i].key) &&
			    !strcmp(sp->targets[k].value, p->target.kv[i].value))
				found = 1;
		if (!found)
			return NULL;
	}
	return sp;
}

/*
 * Members changed outside lbreconcile: observed ids not in the recorded
 * state (appeared) and recorded ids no longer observed (disappeared).
 * Both lists are sorted once and merged: pools of 100,000 members made a
 * scan of one list per member of the other take minutes.
 */
struct idref {
	const char *id;
	size_t i;
};

static int idref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct idref *)a)->id, ((const struct idref *)b)->id);
}

struct outside {
	unsigned char *appeared;    /* per observed member */
	unsigned char *disappeared; /* per recorded member */
	size_t n_app, n_dis;
};

static void outside_free(struct outside *d)
{
	free(d->appeared);
	free(d->disappeared);
	memset(d, 0, sizeof(*d));
}

static int outside_diff(const struct lbr_state_pool *sp, const struct lbr_obs *o, struct outside *d)
{
	size_t no = o->n_members, ns = sp->n_members, i, j;
	struct idref *ro = malloc((no ? no : 1) * sizeof(*ro));
	struct idref *rs = malloc((ns ? ns : 1) * sizeof(*rs));

	memset(d, 0, sizeof(*d));
	d->appeared = calloc(no ? no : 1, 1);
	d->disappeared = calloc(ns ? ns : 1, 1);
	if (!ro || !rs || !d->appeared || !d->disappeared) {
		free(ro);
		free(rs);
		outside_free(d);
		return -1;
	}
	for (i = 0; i < no; i++)
		ro[i] = (struct idref){ o->members[i].id, i };
	for (j = 0; j < ns; j++)
		rs[j] = (struct idref){ sp->members[j].id ? sp->members[j].id : "", j };
	qsort(ro, no, sizeof(*ro), idref_cmp);
	qsort(rs, ns, sizeof(*rs), idref_cmp);
	for (i = j = 0; i < no || j < ns;) {
		int c = i >= no ? 1 : j >= ns ? -1 : strcmp(ro[i].id, rs[j].id);

		if (c < 0) {
			d->appeared[ro[i++].i] = 1;
			d->n_app++;
		} else if (c > 0) {
			d->disappeared[rs[j++].i] = 1;
			d->n_dis++;
		} else {
			const char *id = ro[i].id;

			while (i < no && !strcmp(ro[i].id, id))
				i++;
			while (j < ns && !strcmp(rs[j].id, id))
				j++;
		}
	}
	free(ro);
	free(rs);
	return 0;
}

size_t lbr_report_changed_outside(const struct lbr_state *st, const struct lbr_pool_rt *p,
				  size_t *appeared, size_t *disappeared)
{
	const struct lbr_state_pool *sp = recorded(st, p);
	struct outside d;

	*appeared = *disappeared = 0;
	if (!sp || !p->obs_ok || outside_diff(sp, p->obs, &d) < 0)
		return 0;
	*appeared = d.n_app;
	*disappeared = d.n_dis;
	outside_free(&d);
	return *appeared + *disappeared;
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
	size_t n_changed = 0, n_updates = 0;
	FILE *f = r->out;
	char ap[80], tgt[512];

	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];
		size_t app = 0, dis = 0;
		int interesting;

		if (p->obs_ok && for_drift)
			lbr_report_changed_outside(r->state, p, &app, &dis);
		interesting = !p->obs_ok || p->n_remove || p->n_missing || p->n_blocked || p->refused ||
			      p->n_updates || p->warning[0] || (for_drift && (app || dis));
		if (r->quiet && !interesting)
			continue;
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
		for (k = 0; k < p->n_updates; k++) {
			struct lbr_obs_rule *rule = &p->obs->rules[p->updates[k].rule];
			size_t m;

			if (strstr(rule->label, rule->id))
				fprintf(f, "  %s~ policy %s: keep", col(r, C_YEL), rule->label);
			else
				fprintf(f, "  %s~ policy %s (%s): keep", col(r, C_YEL), rule->id, rule->label);
			for (m = 0; m < p->updates[k].n_keep; m++)
				fprintf(f, " %s", p->updates[k].keep[m]);
			fprintf(f, "%s\n", col(r, C_OFF));
		}
		n_updates += p->n_updates;
		for (k = 0; k < p->n_remove; k++) {
			struct lbr_obs_member *m = &p->obs->members[p->remove[k]];

			lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
			fprintf(f, "  %s- %-22s%s (member %s)  pool %s\n", col(r, C_RED), ap,
				col(r, C_OFF), m->id, p->cfg->name);
		}
		for (k = 0; k < p->n_blocked; k++) {
			struct lbr_obs_member *m = &p->obs->members[p->blocked[k].member];

			lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
			fprintf(f, "  ! blocked %s (member %s): %s\n", ap, m->id, p->blocked[k].reason);
		}
		for (k = 0; k < p->n_missing; k++) {
			struct lbr_cfg_member *m = &p->cfg->members[p->missing[k]];

			lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
			fprintf(f, "  ? missing %s (declared at %s:%d, not in the pool)\n", ap,
				e->cfg->path, m->line);
		}
		if (for_drift && (app || dis)) {
			const struct lbr_state_pool *sp = recorded(r->state, p);
			struct outside d;

			if (outside_diff(sp, p->obs, &d) < 0)
				memset(&d, 0, sizeof(d)); /* counted above, cannot list them */
			for (k = 0; d.appeared && k < p->obs->n_members; k++)
				if (d.appeared[k]) {
					lbr_addrport_fmt(p->obs->members[k].address, p->obs->members[k].port, ap, sizeof(ap));
					fprintf(f, "  + appeared since the last recorded state: %s (member %s)\n",
						ap, p->obs->members[k].id);
				}
			for (k = 0; d.disappeared && k < sp->n_members; k++)
				if (d.disappeared[k]) {
					lbr_addrport_fmt(sp->members[k].address, sp->members[k].port, ap, sizeof(ap));
					fprintf(f, "  x disappeared since the last recorded state: %s (member %s)\n",
						ap, sp->members[k].id);
				}
			outside_free(&d);
			n_changed += app + dis;
		}
		if (p->refused) {
			fprintf(f, "  %srefused:%s %s\n", col(r, C_RED), col(r, C_OFF), p->refuse_msg);
			n_refused++;
		}
		if (p->error) {
			fprintf(f, "  %serror:%s %s\n", col(r, C_RED), col(r, C_OFF), p->error);
			n_err++;
		}
		if (!p->n_remove && !p->n_missing && !p->n_blocked && !p->refused && !p->n_updates)
			fprintf(f, "  no changes\n");
		n_remove += p->n_remove;
		n_missing += p->n_missing;
		n_blocked += p->n_blocked;
	}
	if (for_drift)
		fprintf(f, "Drift: %zu to remove, %zu missing, %zu changed outside lbreconcile, %zu errors.\n",
			n_remove, n_missing, n_changed, n_err);
	else
		fprintf(f, "Plan: %zu to remove, %zu policy updates, %zu missing, %zu blocked, %zu refused, %zu errors.\n",
			n_remove, n_updates, n_missing, n_blocked, n_refused, n_err);
	fflush(f);
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

static json_object *pool_json(struct lbr_report *r, struct lbr_pool_rt *p, int for_drift,
			      size_t *n_remove, size_t *n_missing, size_t *n_err, int *drift)
{
	json_object *o = json_object_new_object(), *arr, *co, *app, *dis;
	const struct lbr_state_pool *sp = NULL;
	struct outside od;
	size_t k, a = 0, d = 0;

	(void)for_drift;
	json_object_object_add(o, "name", json_object_new_string(p->cfg->name));
	json_object_object_add(o, "provider", json_object_new_string(p->prov->cfg->name));
	json_object_object_add(o, "observed", p->obs_ok ? json_object_new_int64((int64_t)p->obs->n_members) : NULL);
	json_object_object_add(o, "desired", json_object_new_int64((int64_t)p->cfg->n_members));
	arr = json_object_new_array();
	for (k = 0; p->obs_ok && k < p->n_remove; k++) {
		struct lbr_obs_member *m = &p->obs->members[p->remove[k]];

		json_object_array_add(arr, member_json(m->id, m->address, m->port));
	}
	json_object_object_add(o, "remove", arr);
	arr = json_object_new_array();
	for (k = 0; p->obs_ok && k < p->n_missing; k++) {
		struct lbr_cfg_member *m = &p->cfg->members[p->missing[k]];

		json_object_array_add(arr, member_json(NULL, m->address, m->port));
	}
	json_object_object_add(o, "missing", arr);
	co = json_object_new_object();
	app = json_object_new_array();
	dis = json_object_new_array();
	if (p->obs_ok)
		sp = recorded(r->state, p);
	if (sp && outside_diff(sp, p->obs, &od) == 0) {
		for (k = 0; k < p->obs->n_members; k++)
			if (od.appeared[k]) {
				json_object_array_add(app, member_json(p->obs->members[k].id,
							     p->obs->members[k].address, p->obs->members[k].port));
				a++;
			}
		for (k = 0; k < sp->n_members; k++)
			if (od.disappeared[k]) {
				json_object_array_add(dis, member_json(sp->members[k].id,
							     sp->members[k].address, sp->members[k].port));
				d++;
			}
		outside_free(&od);
	}
	json_object_object_add(co, "appeared", app);
	json_object_object_add(co, "disappeared", dis);
	json_object_object_add(o, "changed_outside", co);
	/* Additions to the §6 shape, for what §6 does not cover. */
	arr = json_object_new_array();
	for (k = 0; p->obs_ok && k < p->n_blocked; k++) {
		struct lbr_obs_member *m = &p->obs->members[p->blocked[k].member];
		json_object *b = member_json(m->id, m->address, m->port);

		json_object_object_add(b, "reason", json_object_new_string(p->blocked[k].reason ? p->blocked[k].reason : ""));
		json_object_array_add(arr, b);
	}
	json_object_object_add(o, "blocked", arr);
	arr = json_object_new_array();
	for (k = 0; p->obs_ok && k < p->n_updates; k++) {
		struct lbr_obs_rule *rule = &p->obs->rules[p->updates[k].rule];
		json_object *u = json_object_new_object(), *keep = json_object_new_array();
		size_t m;

		json_object_object_add(u, "policy", json_object_new_string(rule->id));
		json_object_object_add(u, "label", json_object_new_string(rule->label));
		for (m = 0; m < p->updates[k].n_keep; m++)
			json_object_array_add(keep, json_object_new_string(p->updates[k].keep[m]));
		json_object_object_add(u, "keep", keep);
		json_object_array_add(arr, u);
	}
	json_object_object_add(o, "policy_updates", arr);
	json_object_object_add(o, "refused", p->refused ? json_object_new_string(p->refuse_msg) : NULL);
	json_object_object_add(o, "warning", p->warning[0] ? json_object_new_string(p->warning) : NULL);
	json_object_object_add(o, "error", p->error ? json_object_new_string(p->error)
					 : p->obs_ok ? NULL : json_object_new_string("observation failed"));
	if (p->obs_ok) {
		*n_remove += p->n_remove;
		*n_missing += p->n_missing;
		if (p->n_remove || p->n_missing || a || d)
			*drift = 1;
	}
	if (p->error || !p->obs_ok)
		(*n_err)++;
	return o;
}

void lbr_report_plan_json(struct lbr_report *r, struct lbr_engine *e, int for_drift)
{
	json_object *doc = json_object_new_object(), *pools = json_object_new_array(), *sum;
	size_t i, n_remove = 0, n_missing = 0, n_err = 0;
	int drift = 0, changes = 0;

	for (i = 0; i < e->n_pools; i++) {
		json_object_array_add(pools, pool_json(r, &e->pools[i], for_drift, &n_remove, &n_missing,
						       &n_err, &drift));
		changes |= e->pools[i].obs_ok && (e->pools[i].n_remove || e->pools[i].n_updates);
	}
	json_object_object_add(doc, "format_version", json_object_new_int(1));
	json_object_object_add(doc, "command", json_object_new_string(for_drift ? "drift" : "plan"));
	if (for_drift)
		json_object_object_add(doc, "drift", json_object_new_boolean(drift));
	else
		json_object_object_add(doc, "changes", json_object_new_boolean(changes));
	json_object_object_add(doc, "pools", pools);
	sum = json_object_new_object();
	json_object_object_add(sum, "pools", json_object_new_int64((int64_t)e->n_pools));
	json_object_object_add(sum, "remove", json_object_new_int64((int64_t)n_remove));
	json_object_object_add(sum, "missing", json_object_new_int64((int64_t)n_missing));
	json_object_object_add(sum, "errors", json_object_new_int64((int64_t)n_err));
	json_object_object_add(doc, "summary", sum);
	fprintf(r->out, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_SPACED |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(r->out);
	json_object_put(doc);
}

static void emit(struct lbr_report *r, json_object *ev)
{
	char ts[32];

	lbr_time_fmt((int64_t)time(NULL), ts, sizeof(ts));
	json_object_object_add(ev, "format_version", json_object_new_int(1));
	json_object_object_add(ev, "time", json_object_new_string(ts));
	pthread_mutex_lock(&r->mu);
	fprintf(r->out, "%s\n", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
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
	json_object_object_add(ev, "outcome", json_object_new_string(lbr_outcome_name(res->outcome)));
	json_object_object_add(ev, "http_status", res->http_status ? json_object_new_int((int)res->http_status) : NULL);
	json_object_object_add(ev, "code", res->code[0] ? json_object_new_string(res->code) : NULL);
	json_object_object_add(ev, "request_id", res->request_id[0] ? json_object_new_string(res->request_id) : NULL);
	json_object_object_add(ev, "message",
			       res->outcome != LBR_OUT_OK && res->message[0] ? json_object_new_string(res->message) : NULL);
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
	json_object_object_add(ev, "id", json_object_new_string(id));
	if (address) {
		json_object_object_add(ev, "address", json_object_new_string(address));
		json_object_object_add(ev, "port", json_object_new_int((int)port));
	}
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
	json_object_object_add(ev, "id", id ? json_object_new_string(id) : NULL);
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
	json_object_object_add(ev, "observed", json_object_new_int64((int64_t)p->obs->n_members));
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
	size_t i, k;

	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];
		json_object *ev = event("plan", p->cfg->name), *arr;

		if (!p->obs_ok) {
			json_object_object_add(ev, "error", json_object_new_string(p->error ? p->error : "observation failed"));
			emit(r, ev);
			continue;
		}
		arr = json_object_new_array();
		for (k = 0; k < p->n_remove; k++) {
			struct lbr_obs_member *m = &p->obs->members[p->remove[k]];

			json_object_array_add(arr, member_json(m->id, m->address, m->port));
		}
		json_object_object_add(ev, "remove", arr);
		arr = json_object_new_array();
		for (k = 0; k < p->n_missing; k++) {
			struct lbr_cfg_member *m = &p->cfg->members[p->missing[k]];

			json_object_array_add(arr, member_json(NULL, m->address, m->port));
		}
		json_object_object_add(ev, "missing", arr);
		json_object_object_add(ev, "policy_updates", json_object_new_int64((int64_t)p->n_updates));
		json_object_object_add(ev, "blocked", json_object_new_int64((int64_t)p->n_blocked));
		json_object_object_add(ev, "refused", p->refused ? json_object_new_string(p->refuse_msg) : NULL);
		emit(r, ev);
	}
}

void lbr_report_apply_summary(struct lbr_report *r, struct lbr_engine *e, int exit_code)
{
	size_t i;
	unsigned removed = 0, gone = 0, failed = 0, updates = 0, errors = 0, refused = 0, blocked = 0;
	size_t missing = 0;

	if (r->progress && r->actions_total > 3)
		fprintf(stderr, "\n");
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		removed += p->removed;
		gone += p->already_gone;
		failed += p->failed;
		updates += p->rule_updates;
		errors += p->error != NULL || !p->obs_ok;
		refused += p->refused != 0;
		blocked += (unsigned)p->n_blocked;
		missing += p->obs_ok ? p->n_missing : 0;
	}
	if (r->json) {
		json_object *ev = event("summary", NULL);

		json_object_object_add(ev, "pools", json_object_new_int64((int64_t)e->n_pools));
		json_object_object_add(ev, "removed", json_object_new_int((int)removed));
		json_object_object_add(ev, "already_gone", json_object_new_int((int)gone));
		json_object_object_add(ev, "failed", json_object_new_int((int)failed));
		json_object_object_add(ev, "policy_updates", json_object_new_int((int)updates));
		json_object_object_add(ev, "missing", json_object_new_int64((int64_t)missing));
		json_object_object_add(ev, "blocked", json_object_new_int((int)blocked));
		json_object_object_add(ev, "refused", json_object_new_int((int)refused));
		json_object_object_add(ev, "errors", json_object_new_int((int)errors));
		json_object_object_add(ev, "api_calls", json_object_new_int64((int64_t)e->calls_total));
		json_object_object_add(ev, "exit_code", json_object_new_int(exit_code));
		emit(r, ev);
		return;
	}
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		if (p->error)
			fprintf(stderr, "lbreconcile: error: %s\n", p->error);
		if (p->refused)
			fprintf(stderr, "lbreconcile: pool \"%s\" refused: %s\n", p->cfg->name, p->refuse_msg);
	}
	if (r->quiet && !removed && !gone && !failed && !updates && !errors && !refused && !blocked)
		return;
	fprintf(r->out,
		"Apply %s: %u removed, %u already gone, %u policy updates, %u failed, %u blocked, %u pools refused, %u errors (%llu API calls).\n",
		exit_code == 0 ? "complete" : "incomplete", removed, gone, updates, failed, blocked,
		refused, errors, (unsigned long long)e->calls_total);
	fflush(r->out);
}
