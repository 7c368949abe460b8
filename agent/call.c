/*
 * One plugin operation with retries: see call.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/call.h"
#include "agent/error.h"
#include "agent/exec.h"
#include "agent/host.h"
#include "agent/limiter.h"
#include "agent/log.h"
#include "agent/util.h"
#include "state/state.h"

const char *lbr_op_name(enum lbr_op op)
{
	static const char *const n[] = { "list",    "remove", "update_rule", "drain",
					 "restore", "create", "set_weight" };

	return (unsigned)op < LBR_OP_COUNT ? n[op] : "?";
}

const char *lbr_outcome_name(enum lbr_outcome o)
{
	static const char *const n[] = { "unset", "ok",      "not_found", "transient", "throttled",
					 "auth",  "invalid", "conflict",  "blocked",   "exists" };

	return (unsigned)o < LBR_OUTCOME_COUNT ? n[o] : "?";
}

void lbr_result_describe(const struct lbr_call_result *res, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	if (res->http_status)
		o += (size_t)snprintf(out + o, len - o, "HTTP %ld ", res->http_status);
	if (res->code[0] && o < len)
		o += (size_t)snprintf(out + o, len - o, "%s ", res->code);
	if (o > 0)
		out[--o] = '\0'; /* drop the trailing space */
	if (o < len)
		o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ": " : "",
				      res->message[0] ? res->message
						      : lbr_outcome_name(res->outcome));
	if (res->request_id[0] && o < len)
		snprintf(out + o, len - o, " (request id %s)", res->request_id);
}

void lbr_item_as_result(const struct lbr_call_result *call, const struct lbr_item_result *it,
			struct lbr_call_result *out)
{
	*out = *call;
	if (call->outcome != LBR_OUT_OK)
		return;
	out->outcome = it->outcome;
	if (it->message[0] || it->outcome != LBR_OUT_OK)
		snprintf(out->message, sizeof(out->message), "%s",
			 it->message[0] ? it->message : lbr_outcome_name(it->outcome));
	else
		out->message[0] = '\0';
}

/* ---------------------------------------------------------------- audit */

/* Say which line did not reach the audit log, and where it went instead. */
static void audit_warn(struct lbr_engine *e, const struct lbr_audit_rec *rec, int r)
{
	char ap[80] = "";

	if (r == 0)
		return;
	if (rec->address)
		lbr_addrport_fmt(rec->address, rec->port, ap, sizeof(ap));
	if (r > 0)
		lbr_warn(
			"state: '%s' did not take the audit line (%s %s %s %s); kept in the audit spool '%s'",
			lbr_state_store_location(e->store), rec->action,
			rec->member_id ? rec->member_id : "-", ap, rec->outcome,
			e->cfg->audit_spool ? e->cfg->audit_spool : "?");
	else {
		/* Every mutating call has its audit record (SPEC §7): once
		 * one is lost, no more are made and the pass fails. */
		__atomic_store_n(&e->audit_lost, 1, __ATOMIC_RELEASE);
		lbr_err("state: cannot append to the audit log of '%s': %s %s %s %s (line lost); "
			"no further changes are sent in this pass",
			lbr_state_store_location(e->store), rec->action,
			rec->member_id ? rec->member_id : "-", ap, rec->outcome);
	}
}

/* The member (address, port, id) of item i of a call, for the audit log. */
static void item_member(const struct lbr_call *c, size_t i, const char **id, const char **addr,
			unsigned *port)
{
	*id = c->object_id;
	*addr = NULL;
	*port = 0;
	if (c->m) {
		*id = c->m[i].id;
		*addr = c->m[i].address;
		*port = c->m[i].port;
	} else if (c->specs) {
		*id = c->items && c->items[i].id[0] ? c->items[i].id : NULL;
		*addr = c->specs[i].address;
		*port = c->specs[i].port;
	}
}

/* One audit-log line for every member of every mutating request that was
 * sent (each retry is its own line): what reached the cloud and its
 * answer, with the request id of the call (shared by a batch). */
/* Fill rec (and, for a failure, detail) for item i of call c. */
static void audit_rec(struct lbr_call *c, const struct lbr_call_result *res, size_t i, int64_t now,
		      struct lbr_audit_rec *rec, char (*detail)[1024])
{
	struct lbr_call_result ir;

	memset(rec, 0, sizeof(*rec));
	if (c->items && c->n)
		lbr_item_as_result(res, &c->items[i], &ir);
	else
		ir = *res;
	rec->time = now;
	rec->pool = c->pool->cfg->name;
	rec->provider = c->prov->cfg->name;
	item_member(c, i, &rec->member_id, &rec->address, &rec->port);
	rec->action = lbr_op_name(c->op);
	rec->outcome = lbr_outcome_name(ir.outcome);
	/* The call's request id (ir's is a copy of it). */
	rec->request_id = res->request_id[0] ? res->request_id : NULL;
	if (ir.outcome != LBR_OUT_OK) {
		if (detail) {
			lbr_result_describe(&ir, *detail, sizeof(*detail));
			rec->detail = *detail;
		} else {
			rec->detail = "(out of memory describing the error)";
		}
	}
	if (c->doubt && c->op == LBR_OP_REMOVE &&
	    (ir.outcome == LBR_OUT_TRANSIENT || ir.outcome == LBR_OUT_THROTTLED)) {
		size_t l = strlen(c->doubt[i]);

		snprintf(c->doubt[i] + l, sizeof(c->doubt[i]) - l, "%s%s", l ? " " : "",
			 ir.request_id[0] ? ir.request_id : "-");
	}
}

static void audit_attempt(struct lbr_call *c, const struct lbr_call_result *res)
{
	struct lbr_engine *e = c->e;
	size_t i, n = c->n ? c->n : 1;
	int64_t now = (int64_t)time(NULL);
	struct lbr_audit_rec *rec;
	char(*detail)[1024] = NULL;
	int *rcs, fail = 0;

	if (!e->store || c->op == LBR_OP_LIST)
		return;
	/* Refused by fencing before anything went out: not a call to the
	 * cloud, so not an audit line (the pass reports the lost lock). */
	if (c->http_refused && c->http_sent == 0)
		return;
	/* The lines of one request are written together (one write() for
	 * the local log). */
	rec = calloc(n, sizeof(*rec));
	rcs = calloc(n, sizeof(*rcs));
	for (i = 0; !fail && i < n; i++)
		fail = res->outcome != LBR_OUT_OK ||
		       (c->items && c->n && c->items[i].outcome != LBR_OUT_OK);
	if (fail)
		detail = calloc(n, sizeof(*detail)); /* NULL: a shorter line */
	if (!rec || !rcs) {
		/* Short of memory: one line at a time, on the stack. */
		for (i = 0; i < n; i++) {
			struct lbr_audit_rec one;
			char d1[1024];

			audit_rec(c, res, i, now, &one, &d1);
			audit_warn(e, &one, lbr_state_audit(e->store, &one));
		}
	} else {
		for (i = 0; i < n; i++)
			audit_rec(c, res, i, now, &rec[i], detail ? &detail[i] : NULL);
		/* Thread-safe; fsyncs are shared. */
		if (lbr_state_audit_many(e->store, rec, n, rcs) != 0)
			for (i = 0; i < n; i++)
				audit_warn(e, &rec[i], rcs[i]);
	}
	free(rec);
	free(rcs);
	free(detail);
}

/* ------------------------------------------------------------- attempts */

static int attempt_list(struct lbr_call *c, const struct lbr_provider *ops,
			struct lbr_call_result *res)
{
	size_t nm = c->obs->n_members, nr = c->obs->n_rules;
	int r;

	c->next_cursor[0] = '\0';
	r = ops->list_page(c->prov->inst, c, &c->pool->target, c->cursor, c->obs, c->next_cursor,
			   c->next_len, res);
	/* The core refused something the plugin listed: that reason is the
	 * precise one, whatever the plugin made of the refusal. */
	if (r == 0 && c->obs->err[0]) {
		res->outcome = LBR_OUT_INVALID;
		snprintf(res->message, sizeof(res->message), "%s", c->obs->err);
	}
	if (r < 0 || res->outcome != LBR_OUT_OK) {
		/* A failed page leaves nothing behind: a retry must not add
		 * the same members twice. */
		lbr_obs_truncate(c->obs, nm, nr);
		c->obs->err[0] = '\0';
	}
	return r;
}

static int attempt_op(struct lbr_call *c, struct lbr_call_result *res)
{
	const struct lbr_provider *ops = &c->prov->cfg->plugin->ops;
	void *inst = c->prov->inst;
	const struct lbr_target *t = &c->pool->target;

	if (c->items)
		memset(c->items, 0, c->n * sizeof(*c->items));
	switch (c->op) {
	case LBR_OP_LIST: return attempt_list(c, ops, res);
	case LBR_OP_REMOVE: return ops->remove_members(inst, c, t, c->m, c->n, c->items, res);
	case LBR_OP_CREATE: return ops->create_members(inst, c, t, c->specs, c->n, c->items, res);
	case LBR_OP_WEIGHT:
		return ops->set_weights(inst, c, t, c->m, c->weights, c->n, c->items, res);
	case LBR_OP_DRAIN:
	case LBR_OP_RESTORE:
		return ops->drain_members(inst, c, t, c->m, c->n, c->op == LBR_OP_DRAIN, c->items,
					  res);
	case LBR_OP_UPDATE_RULE:
		return ops->update_rule(inst, c, t, c->rule, c->ids, c->n_ids, res);
	default: return LBR_EINVAL;
	}
}

/* What the plugin left unset is a failure, never a success. */
static void check_outcomes(struct lbr_call *c, int r, struct lbr_call_result *res)
{
	size_t i;

	if (r < 0) {
		if (!res->message[0])
			snprintf(res->message, sizeof(res->message),
				 "plugin failed internally (%s)", lbr_strerror(r));
		res->outcome = LBR_OUT_INVALID;
	} else if (res->outcome == LBR_OUT_UNSET || (unsigned)res->outcome >= LBR_OUTCOME_COUNT) {
		snprintf(res->message, sizeof(res->message),
			 "the plugin did not report an outcome for this call");
		res->outcome = LBR_OUT_INVALID;
	}
	lbr_scrub_result(res);
	for (i = 0; c->items && i < c->n; i++)
		lbr_scrub_item(&c->items[i]);
	if (!c->items || res->outcome != LBR_OUT_OK)
		return;
	for (i = 0; i < c->n; i++) {
		struct lbr_item_result *it = &c->items[i];

		if (it->outcome == LBR_OUT_UNSET || (unsigned)it->outcome >= LBR_OUTCOME_COUNT) {
			it->outcome = LBR_OUT_INVALID;
			snprintf(it->message, sizeof(it->message),
				 "the plugin did not report an outcome for this member");
		}
	}
}

/* Outcome that drives retries and the limiter: the call's, or for a batch
 * answered OK, the worst retryable item (a batch is retried whole: items
 * already done answer "not found" / "existed" the second time). */
static enum lbr_outcome effective(const struct lbr_call *c, const struct lbr_call_result *res)
{
	size_t i;

	if (!c->items || res->outcome != LBR_OUT_OK)
		return res->outcome;
	for (i = 0; i < c->n; i++)
		if (c->items[i].outcome == LBR_OUT_TRANSIENT ||
		    c->items[i].outcome == LBR_OUT_THROTTLED)
			return c->items[i].outcome;
	return LBR_OUT_OK;
}

static int call_attempt(void *ud, struct lbr_call_result *res)
{
	struct lbr_call *c = ud;
	enum lbr_outcome eff;
	int r;

	memset(res, 0, sizeof(*res));
	lbr_limiter_acquire(c->prov);
	c->http_sent = 0;
	c->http_refused = 0;
	r = attempt_op(c, res);
	check_outcomes(c, r, res);
	eff = effective(c, res);
	lbr_limiter_release(c->prov, c->op, eff);
	audit_attempt(c, res);
	__atomic_add_fetch(&c->e->calls_total, 1, __ATOMIC_RELAXED);
	if (eff != res->outcome) {
		/* Retry the batch whole: say why in the call's result. */
		res->outcome = eff;
		snprintf(res->message, sizeof(res->message), "some members failed transiently (%s)",
			 lbr_outcome_name(eff));
	}
	if (res->outcome != LBR_OUT_AUTH)
		return 0;
	pthread_mutex_lock(&c->prov->mu);
	if (!c->prov->auth_failed) {
		/* Stop every other call to this provider now: Huawei locks
		 * an AK after more than 5 consecutive failures. */
		c->prov->auth_failed = 1;
		snprintf(c->prov->auth_msg, sizeof(c->prov->auth_msg), "%s%s%s", res->code,
			 res->code[0] ? " " : "", res->message);
	}
	pthread_mutex_unlock(&c->prov->mu);
	return 0;
}

static int call_stop(void *ud, struct lbr_call_result *res)
{
	struct lbr_call *c = ud;

	if (c->prov->auth_failed) {
		res->outcome = LBR_OUT_AUTH;
		snprintf(res->message, sizeof(res->message),
			 "not attempted: provider \"%s\" rejected the credentials (%.400s)",
			 c->prov->cfg->name, c->prov->auth_msg);
		return 1;
	}
	if (lbr_engine_stop) {
		res->outcome = LBR_OUT_INVALID;
		snprintf(res->message, sizeof(res->message), "not attempted: shutting down");
		return 1;
	}
	if (c->op != LBR_OP_LIST && __atomic_load_n(&c->e->fenced, __ATOMIC_ACQUIRE)) {
		res->outcome = LBR_OUT_INVALID;
		snprintf(res->message, sizeof(res->message),
			 "not attempted: the state lock may have expired (fencing)");
		return 1;
	}
	if (c->op != LBR_OP_LIST && __atomic_load_n(&c->e->audit_lost, __ATOMIC_ACQUIRE)) {
		res->outcome = LBR_OUT_INVALID;
		snprintf(res->message, sizeof(res->message),
			 "not attempted: the audit log cannot be written");
		return 1;
	}
	return 0;
}

static void call_on_retry(void *ud, const struct lbr_call_result *res, unsigned attempt,
			  uint64_t wait_ms)
{
	struct lbr_call *c = ud;

	__atomic_add_fetch(&c->prov->stats.retries, 1, __ATOMIC_RELAXED);
	lbr_info("pool \"%s\": %s %s: %s%s%s (attempt %u), retrying in %llu ms", c->pool->cfg->name,
		 lbr_op_name(c->op), c->object_id ? c->object_id : "", res->code,
		 res->code[0] ? " " : "", res->message, attempt, (unsigned long long)wait_ms);
	if (c->e->sink.retry)
		c->e->sink.retry(c->e->sink.ud, c->pool, c->op, c->object_id, res, attempt,
				 wait_ms);
}

static int sleep_stop(void *ud, uint64_t ms)
{
	(void)ud;
	return lbr_exec_sleep_ms(ms, &lbr_engine_stop);
}

void lbr_call_run(struct lbr_call *c, struct lbr_call_result *res)
{
	struct lbr_retry_hooks h = {
		.attempt = call_attempt,
		.stop = call_stop,
		.on_retry = call_on_retry,
		.ud = c,
	};
	struct lbr_clock clk = *c->e->clock;

	memset(res, 0, sizeof(*res));
	if (clk.sleep_ms == lbr_clock_real.sleep_ms)
		clk.sleep_ms = sleep_stop;
	if (lbr_retry_run(&c->e->policy, &clk, &h, res) < 0 && !res->message[0])
		snprintf(res->message, sizeof(res->message), "internal error");
	if (c->items && res->outcome != LBR_OUT_OK) {
		size_t i;

		/* The call failed as a whole: so did every item it did not
		 * answer for (a batch whose last answer had some items done and
		 * some transient keeps what each item got). */
		for (i = 0; i < c->n; i++) {
			if (c->items[i].outcome != LBR_OUT_UNSET &&
			    (unsigned)c->items[i].outcome < LBR_OUTCOME_COUNT)
				continue;
			c->items[i].outcome = res->outcome;
			snprintf(c->items[i].message, sizeof(c->items[i].message), "%.250s",
				 res->message);
		}
	}
}

/* ----------------------------------------------------------- pool notes */

static void pool_note(struct lbr_pool_rt *p, char **slot, int soft, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	pthread_mutex_lock(&p->mu);
	if (!*slot) {
		*slot = msg;
		msg = NULL;
	}
	if (soft)
		p->touched = 1;
	pthread_mutex_unlock(&p->mu);
	free(msg);
}

void lbr_pool_error(struct lbr_pool_rt *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pool_note(p, &p->error, 0, fmt, ap);
	va_end(ap);
}

void lbr_pool_soft_error(struct lbr_pool_rt *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pool_note(p, &p->soft_error, 1, fmt, ap);
	va_end(ap);
}

void lbr_call_audit_line(struct lbr_engine *e, struct lbr_pool_rt *p, const char *action,
			 const char *id, const char *address, unsigned port, const char *outcome,
			 const char *detail)
{
	struct lbr_audit_rec rec;

	if (!e->store)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.time = (int64_t)time(NULL);
	rec.pool = p->cfg->name;
	rec.provider = p->prov->cfg->name;
	rec.member_id = id;
	rec.address = address;
	rec.port = port;
	rec.action = action;
	rec.outcome = outcome;
	rec.detail = detail;
	audit_warn(e, &rec, lbr_state_audit(e->store, &rec));
}

void lbr_call_event(struct lbr_engine *e, struct lbr_pool_rt *p, enum lbr_op op, const char *id,
		    const char *address, unsigned port, const struct lbr_call_result *res)
{
	if (e->sink.action)
		e->sink.action(e->sink.ud, p, op, id, address, port, res);
}
