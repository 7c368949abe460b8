/*
 * Reconciliation engine.  See engine.h and SPEC §4.
 *
 * Threads: a fixed pool of `parallelism` workers lives as long as the
 * engine, so that each keeps its libcurl handle (and its connections)
 * across the observe, act and verify phases.  The main thread hands the
 * pool one batch of jobs at a time and waits for it.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/engine.h"
#include "agent/error.h"
#include "agent/http.h"
#include "agent/log.h"
#include "agent/sched.h"
#include "agent/util.h"
#include "state/state.h"

#define LBR_MAX_OBSERVED 2000000u
#define LBR_MAX_PAGES 100000u

volatile int lbr_engine_stop;

/* ---------------------------------------------------------------- calls */

struct lbr_call {
	struct lbr_engine *e;
	struct lbr_prov_rt *prov;
	struct lbr_pool_rt *pool;
	enum lbr_op op;
	const char *object_id; /* for events */
	/* LIST */
	const char *cursor;
	char *next_cursor;
	size_t next_len;
	struct lbr_obs *obs;
	/* REMOVE / DRAIN / RESTORE */
	const struct lbr_member_ref *m;
	/* UPDATE_RULE */
	const struct lbr_rule_ref *rule;
	const char *const *ids;
	size_t n_ids;
};

const char *lbr_op_name(enum lbr_op op)
{
	static const char *const n[] = { "list", "remove", "update_rule", "drain", "restore" };

	return op < LBR_OP_COUNT ? n[op] : "?";
}

const char *lbr_outcome_name(enum lbr_outcome o)
{
	static const char *const n[] = { "ok", "not_found", "transient", "throttled",
					 "auth", "invalid", "conflict", "blocked" };

	return (unsigned)o < LBR_OUTCOME_COUNT ? n[o] : "?";
}

static int h_http(struct lbr_call *call, const struct lbr_http_request *req,
		  struct lbr_http_response *resp, char *err, size_t errlen)
{
	struct lbr_http_opts o;
	char red[1024];
	uint64_t t0 = lbr_mono_ms();
	int r;

	memset(&o, 0, sizeof(o));
	if (call && call->prov) {
		o.ca_file = call->prov->cfg->ca_file;
		o.allow_insecure_http = call->prov->cfg->allow_insecure_http;
		o.timeout_s = call->prov->cfg->timeout_s;
	}
	/* The core enforces that plan and drift never mutate: any method
	 * but GET on a read-only engine is refused here too, whatever the
	 * plugin does.  (UCloud reads are POSTs: they are allowed only for
	 * the list operation.) */
	if (call && !call->e->allow_mutate && call->op != LBR_OP_LIST) {
		snprintf(err, errlen, "internal error: mutating call attempted in a read-only command");
		return LBR_HOST_EFATAL;
	}
	r = lbr_http_perform(&o, req, resp, err, errlen);
	if (lbr_log_level >= LBR_LOG_DEBUG) {
		lbr_http_redact_url(req->url, red, sizeof(red));
		if (r == 0)
			lbr_debug("http: %s %s -> %ld (%llu ms)", req->method, red, resp->status,
				  (unsigned long long)(lbr_mono_ms() - t0));
		else
			lbr_debug("http: %s %s -> %s (%llu ms)", req->method, red, err,
				  (unsigned long long)(lbr_mono_ms() - t0));
	}
	return r;
}

static void h_log(struct lbr_call *call, int level, const char *fmt, ...)
{
	char tag[300] = "";
	va_list ap;

	if (level > lbr_log_level)
		return;
	if (call && call->pool)
		snprintf(tag, sizeof(tag), "pool \"%s\": ", call->pool->cfg->name);
	else if (call && call->prov)
		snprintf(tag, sizeof(tag), "provider \"%s\": ", call->prov->cfg->name);
	va_start(ap, fmt);
	lbr_vlog(level, tag, fmt, ap);
	va_end(ap);
}

static int64_t h_now(struct lbr_call *call)
{
	(void)call;
	return (int64_t)time(NULL);
}

static int obs_fail(struct lbr_obs *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int obs_fail(struct lbr_obs *o, const char *fmt, ...)
{
	va_list ap;

	if (!o->err[0]) {
		va_start(ap, fmt);
		vsnprintf(o->err, sizeof(o->err), fmt, ap);
		va_end(ap);
	}
	return LBR_EINVAL;
}

/* Print an untrusted string safely inside a message. */
static void sanitize(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; in && *in && o + 5 < len; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\')
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
		if (o > 60) {
			snprintf(out + o, len - o, "...");
			return;
		}
	}
	out[o] = '\0';
}

static int h_obs_add_member(struct lbr_obs *o, const struct lbr_member_info *m)
{
	struct lbr_obs_member *d;
	char safe[128];

	if (!m->id || !lbr_id_valid(m->id)) {
		sanitize(m->id, safe, sizeof(safe));
		return obs_fail(o, "the cloud returned member id '%s', which is not [A-Za-z0-9_-]{1,128}", safe);
	}
	if (o->n_members >= LBR_MAX_OBSERVED)
		return obs_fail(o, "more than %u members listed", LBR_MAX_OBSERVED);
	if (m->port < 1 || m->port > 65535)
		return obs_fail(o, "member %s has port %u", m->id, m->port);
	if (lbr_grow((void **)&o->members, &o->cap_members, o->n_members, sizeof(*d)) < 0)
		return obs_fail(o, "out of memory");
	d = &o->members[o->n_members];
	memset(d, 0, sizeof(*d));
	if (!m->address || lbr_addr_canon(m->address, d->address) < 0) {
		sanitize(m->address, safe, sizeof(safe));
		return obs_fail(o, "member %s has address '%s', which is not an IP address", m->id, safe);
	}
	d->id = strdup(m->id);
	if (!d->id)
		return obs_fail(o, "out of memory");
	d->port = m->port;
	d->weight = m->weight;
	d->enabled = m->enabled;
	o->n_members++;
	return 0;
}

static void rule_free(struct lbr_obs_rule *r)
{
	size_t i;

	free(r->id);
	free(r->label);
	for (i = 0; i < r->n_members; i++)
		free(r->member_ids[i]);
	free(r->member_ids);
	for (i = 0; i < r->n_attrs; i++) {
		free((char *)r->attrs[i].key);
		free((char *)r->attrs[i].value);
	}
	free(r->attrs);
}

static int h_obs_add_rule(struct lbr_obs *o, const struct lbr_rule_info *r)
{
	struct lbr_obs_rule d;
	size_t i;
	char safe[128];

	memset(&d, 0, sizeof(d));
	if (!r->id || !lbr_id_valid(r->id)) {
		sanitize(r->id, safe, sizeof(safe));
		return obs_fail(o, "the cloud returned rule id '%s', which is not [A-Za-z0-9_-]{1,128}", safe);
	}
	for (i = 0; i < r->n_members; i++)
		if (!lbr_id_valid(r->member_ids[i])) {
			sanitize(r->member_ids[i], safe, sizeof(safe));
			return obs_fail(o, "rule %s names member id '%s', which is not valid", r->id, safe);
		}
	if (lbr_grow((void **)&o->rules, &o->cap_rules, o->n_rules, sizeof(d)) < 0)
		return obs_fail(o, "out of memory");
	d.id = strdup(r->id);
	d.label = strdup(r->label ? r->label : r->id);
	d.never_empty = r->never_empty;
	d.member_ids = calloc(r->n_members + 1, sizeof(char *));
	d.attrs = calloc(r->n_attrs + 1, sizeof(struct lbr_kv));
	if (!d.id || !d.label || !d.member_ids || !d.attrs)
		goto oom;
	for (i = 0; i < r->n_members; i++) {
		d.member_ids[i] = strdup(r->member_ids[i]);
		if (!d.member_ids[i])
			goto oom;
		d.n_members++;
	}
	for (i = 0; i < r->n_attrs; i++) {
		d.attrs[i].key = strdup(r->attrs[i].key);
		d.attrs[i].value = strdup(r->attrs[i].value ? r->attrs[i].value : "");
		if (!d.attrs[i].key || !d.attrs[i].value) {
			free((char *)d.attrs[i].key);
			free((char *)d.attrs[i].value);
			goto oom;
		}
		d.n_attrs++;
	}
	o->rules[o->n_rules++] = d;
	return 0;
oom:
	rule_free(&d);
	return obs_fail(o, "out of memory");
}

static const struct lbr_host the_host = {
	.struct_size = sizeof(struct lbr_host),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.http = h_http,
	.http_header = lbr_http_header,
	.http_release = lbr_http_release,
	.log = h_log,
	.now = h_now,
	.obs_add_member = h_obs_add_member,
	.obs_add_rule = h_obs_add_rule,
	.url_encode = lbr_http_url_encode,
	.url_decode = lbr_http_url_decode,
};

const struct lbr_host *lbr_engine_host(void)
{
	return &the_host;
}

void lbr_obs_free(struct lbr_obs *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < o->n_members; i++)
		free(o->members[i].id);
	free(o->members);
	for (i = 0; i < o->n_rules; i++)
		rule_free(&o->rules[i]);
	free(o->rules);
	free(o);
}

static void obs_truncate(struct lbr_obs *o, size_t nm, size_t nr)
{
	while (o->n_members > nm)
		free(o->members[--o->n_members].id);
	while (o->n_rules > nr)
		rule_free(&o->rules[--o->n_rules]);
}

/* ---------------------------------------------------------- worker pool */

struct workq {
	struct lbr_sched *sched; /* cooperative tasks; or else threads: */
	pthread_t *th;
	int n;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	void (*fn)(void *arg);
	char *args;
	size_t argsz, n_jobs, next, done;
	int quit;
};

static struct workq *wq_global; /* one engine at a time */

/* The etcd state backend's HTTP goes through the same loop as the cloud
 * calls when it runs in a task (the audit PUT after each removal). */
static int state_http_perform(void *easy)
{
	return (int)lbr_sched_perform(easy);
}

/* Condition waits that work in both executors: a task must give the
 * thread back instead of blocking it (the mutex is never held across). */
static void cv_wait(pthread_cond_t *cv, pthread_mutex_t *mu)
{
	if (lbr_sched_in_task()) {
		pthread_mutex_unlock(mu);
		lbr_sched_park(cv, 0);
		pthread_mutex_lock(mu);
	} else {
		pthread_cond_wait(cv, mu);
	}
}

static void cv_broadcast(pthread_cond_t *cv)
{
	pthread_cond_broadcast(cv);
	lbr_sched_wake(cv);
}

static void *worker_main(void *ud)
{
	struct workq *q = ud;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		size_t i;

		while (!q->quit && q->next >= q->n_jobs)
			pthread_cond_wait(&q->cv_work, &q->mu);
		if (q->quit)
			break;
		i = q->next++;
		pthread_mutex_unlock(&q->mu);
		q->fn(q->args + i * q->argsz);
		pthread_mutex_lock(&q->mu);
		if (++q->done == q->n_jobs)
			pthread_cond_broadcast(&q->cv_done);
	}
	pthread_mutex_unlock(&q->mu);
	lbr_http_thread_cleanup();
	return NULL;
}

/* Which executor: cooperative tasks on this thread when every provider
 * allows it (LBR_CAP_COOPERATIVE), threads otherwise.
 * LBRECONCILE_EXECUTOR=threads forces threads. */
static int wq_start(int n, int cooperative)
{
	struct workq *q = calloc(1, sizeof(*q));
	const char *ex = getenv("LBRECONCILE_EXECUTOR");
	int i;

	if (!q)
		return LBR_ENOMEM;
	if (ex && !strcmp(ex, "threads"))
		cooperative = 0;
	if (cooperative) {
		if (lbr_sched_new((unsigned)n, &q->sched) < 0) {
			free(q);
			return LBR_ENOMEM;
		}
		lbr_debug("executor: %d cooperative tasks on one thread", n);
		wq_global = q;
		return 0;
	}
	q->th = calloc((size_t)n, sizeof(*q->th));
	if (!q->th) {
		free(q);
		return LBR_ENOMEM;
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv_work, NULL);
	pthread_cond_init(&q->cv_done, NULL);
	for (i = 0; i < n; i++) {
		if (pthread_create(&q->th[i], NULL, worker_main, q) != 0)
			break;
		q->n++;
	}
	if (q->n == 0) {
		free(q->th);
		free(q);
		return LBR_ERR;
	}
	lbr_debug("executor: %d threads", q->n);
	wq_global = q;
	return 0;
}

static void wq_stop(void)
{
	struct workq *q = wq_global;
	int i;

	if (!q)
		return;
	if (q->sched) {
		lbr_sched_free(q->sched);
		free(q);
		wq_global = NULL;
		return;
	}
	pthread_mutex_lock(&q->mu);
	q->quit = 1;
	pthread_cond_broadcast(&q->cv_work);
	pthread_mutex_unlock(&q->mu);
	for (i = 0; i < q->n; i++)
		pthread_join(q->th[i], NULL);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv_work);
	pthread_cond_destroy(&q->cv_done);
	free(q->th);
	free(q);
	wq_global = NULL;
}

/* Run fn over n argument records of size argsz and wait for all. */
static void wq_run(void (*fn)(void *), void *args, size_t argsz, size_t n)
{
	struct workq *q = wq_global;

	if (!n)
		return;
	if (q->sched) {
		lbr_sched_run(q->sched, fn, args, argsz, n);
		return;
	}
	pthread_mutex_lock(&q->mu);
	q->fn = fn;
	q->args = args;
	q->argsz = argsz;
	q->n_jobs = n;
	q->next = 0;
	q->done = 0;
	pthread_cond_broadcast(&q->cv_work);
	while (q->done < q->n_jobs)
		pthread_cond_wait(&q->cv_done, &q->mu);
	/* No job left to take until the next batch is set up under the
	 * same lock. */
	q->n_jobs = 0;
	q->next = 0;
	pthread_mutex_unlock(&q->mu);
}

/* ------------------------------------------------- one call with retries */


/* Wait for a slot: at most `window` calls in flight for the provider and,
 * once it has throttled us, no faster than `rate` calls per second. */
static void limiter_acquire(struct lbr_prov_rt *p)
{
	uint64_t now, t = 0;

	/* Fast path: while the provider has never throttled us, the worker
	 * count alone bounds the calls in flight; no lock is needed. */
	if (!__atomic_load_n(&p->limited, __ATOMIC_ACQUIRE)) {
		__atomic_add_fetch(&p->inflight, 1, __ATOMIC_ACQ_REL);
		return;
	}
	pthread_mutex_lock(&p->mu);
	/* In order of arrival: a caller that just gave a slot back must not
	 * take it again ahead of those already waiting (with tasks, which
	 * run until they yield, it always would: a few would do all the
	 * work while the others wait for the whole batch). */
	{
		unsigned long me = p->ticket_next++;

		while (me != p->ticket_serving ||
		       __atomic_load_n(&p->inflight, __ATOMIC_ACQUIRE) >= (int)p->window) {
			p->waiting++;
			cv_wait(&p->cv, &p->mu);
			p->waiting--;
		}
		p->ticket_serving++;
	}
	__atomic_add_fetch(&p->inflight, 1, __ATOMIC_ACQ_REL);
	if (p->waiting)
		cv_broadcast(&p->cv); /* the next in line may fit too */
	if (p->rate > 0) {
		now = lbr_mono_us();
		t = p->next_send_us > now ? p->next_send_us : now;
		p->next_send_us = t + (uint64_t)(1e6 / p->rate);
		t = t > now ? t - now : 0;
	}
	pthread_mutex_unlock(&p->mu);
	if (t)
		lbr_sched_sleep_us(t); /* a plain sleep outside a task */
}

static unsigned recent(const uint64_t *ring, uint64_t now)
{
	unsigned i, n = 0;

	for (i = 0; i < LBR_RATE_RING; i++) {
		uint64_t t = __atomic_load_n(&ring[i], __ATOMIC_RELAXED);

		if (t && t + 1000 >= now)
			n++;
	}
	return n;
}

/* Adapt to throttling.  A throttled answer is a rate signal only when it is
 * not a stray one: at least 3 in the last second and at least 10 % of the
 * answers (a few random 429s are just retried).  The first signal starts
 * pacing at 90 % of what got through in the last second; each further one
 * (once paced: any throttled answer, at most one cut per 250 ms, so that
 * a burst of 429s counts once) takes 20 % off.  After a second without a
 * signal the rate grows by 1.5 % every 100 ms, probing for more; far above
 * any limit met, pacing stops.
 * Concurrency follows: halved (not below 2) on a signal, +1/window per
 * success. */
static void limiter_release(struct lbr_prov_rt *p, enum lbr_op op, enum lbr_outcome o)
{
	uint64_t now = lbr_mono_ms();
	int ok = o == LBR_OUT_OK || o == LBR_OUT_NOT_FOUND;

	__atomic_sub_fetch(&p->inflight, 1, __ATOMIC_ACQ_REL);
	if ((unsigned)o < LBR_OUTCOME_COUNT)
		__atomic_add_fetch(&p->stats.calls[op][o], 1, __ATOMIC_RELAXED);
	if (ok) {
		unsigned i = __atomic_fetch_add(&p->ok_head, 1, __ATOMIC_RELAXED);

		__atomic_store_n(&p->ok_ring[i % LBR_RATE_RING], now, __ATOMIC_RELAXED);
		if (!__atomic_load_n(&p->limited, __ATOMIC_ACQUIRE))
			return; /* nothing to adapt */
	}
	pthread_mutex_lock(&p->mu);
	if (o == LBR_OUT_THROTTLED) {
		unsigned thr, okn;

		p->stats.throttled++;
		p->thr_ring[p->thr_head++ % LBR_RATE_RING] = now;
		thr = recent(p->thr_ring, now);
		okn = recent(p->ok_ring, now);
		/* Not paced yet: only a real signal starts pacing.  Paced:
		 * any throttled answer means we are above the limit again. */
		if ((p->rate > 0 ? now - p->last_cut_ms >= 250
				 : thr >= 3 && thr * 10 >= okn + thr && now - p->last_cut_ms >= 500)) {
			if (p->rate <= 0)
				p->rate = okn > 2 ? okn * 0.9 : 2;
			else
				p->rate = p->rate * 0.8 < 1 ? 1 : p->rate * 0.8;
			p->window = p->window / 2 < 2 ? 2 : p->window / 2;
			p->last_cut_ms = now;
			__atomic_store_n(&p->limited, 1, __ATOMIC_RELEASE);
		}
	} else if (ok) {
		p->window += 1.0 / p->window;
		if (p->window > p->max_window)
			p->window = p->max_window;
		if (p->rate > 0 && now - p->last_cut_ms >= 1000 && now - p->last_inc_ms >= 100) {
			p->rate *= 1.015;
			p->last_inc_ms = now;
			if (p->rate > 20000)
				p->rate = 0; /* no longer throttled in any way that matters */
		}
		if (p->rate <= 0 && p->window >= p->max_window)
			__atomic_store_n(&p->limited, 0, __ATOMIC_RELEASE);
	}
	if (p->waiting)
		cv_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* "HTTP 500 ELB.8906: Internal server error. (request id ...)" */
static void describe_result(const struct lbr_call_result *res, char *out, size_t len)
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
				      res->message[0] ? res->message : lbr_outcome_name(res->outcome));
	if (res->request_id[0] && o < len)
		snprintf(out + o, len - o, " (request id %s)", res->request_id);
}

/* Append one audit-log line for every mutating request that was sent
 * (each retry is its own line): what reached the cloud, and its answer. */
static void audit_attempt(struct lbr_call *c, const struct lbr_call_result *res)
{
	struct lbr_engine *e = c->e;
	struct lbr_audit_rec rec;
	char detail[1024];

	if (!e->store || c->op == LBR_OP_LIST)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.time = (int64_t)time(NULL);
	rec.pool = c->pool->cfg->name;
	rec.provider = c->prov->cfg->name;
	rec.member_id = c->object_id;
	if (c->m) {
		rec.address = c->m->address;
		rec.port = c->m->port;
	}
	rec.action = lbr_op_name(c->op);
	rec.outcome = lbr_outcome_name(res->outcome);
	rec.request_id = res->request_id[0] ? res->request_id : NULL;
	if (res->outcome != LBR_OUT_OK) {
		describe_result(res, detail, sizeof(detail));
		rec.detail = detail;
	}
	/* lbr_state_audit is thread-safe and shares fsyncs between threads. */
	if (lbr_state_audit(e->store, &rec) < 0)
		lbr_warn("state: cannot append to the audit log of '%s'", lbr_state_store_location(e->store));
}

static int call_attempt(void *ud, struct lbr_call_result *res)
{
	struct lbr_call *c = ud;
	const struct lbr_provider *ops = &c->prov->cfg->plugin->ops;
	size_t nm = 0, nr = 0;
	int r;

	limiter_acquire(c->prov);
	switch (c->op) {
	case LBR_OP_LIST:
		nm = c->obs->n_members;
		nr = c->obs->n_rules;
		c->next_cursor[0] = '\0';
		r = ops->list_page(c->prov->inst, c, &c->pool->target, c->cursor, c->obs,
				   c->next_cursor, c->next_len, res);
		if (r == 0 && res->outcome == LBR_OUT_OK && c->obs->err[0]) {
			res->outcome = LBR_OUT_INVALID;
			snprintf(res->message, sizeof(res->message), "%s", c->obs->err);
		}
		if (r < 0 || res->outcome != LBR_OUT_OK) {
			/* A failed page leaves nothing behind: a retry
			 * must not add the same members twice. */
			obs_truncate(c->obs, nm, nr);
			c->obs->err[0] = '\0';
		}
		break;
	case LBR_OP_REMOVE:
		r = ops->remove_member(c->prov->inst, c, &c->pool->target, c->m, res);
		break;
	case LBR_OP_UPDATE_RULE:
		r = ops->update_rule(c->prov->inst, c, &c->pool->target, c->rule, c->ids, c->n_ids, res);
		break;
	case LBR_OP_DRAIN:
	case LBR_OP_RESTORE:
		r = ops->drain_member(c->prov->inst, c, &c->pool->target, c->m,
				      c->op == LBR_OP_DRAIN, res);
		break;
	default:
		r = -1;
	}
	if (r < 0 && !res->message[0])
		snprintf(res->message, sizeof(res->message), "plugin failed internally");
	if (r < 0)
		res->outcome = LBR_OUT_INVALID;
	limiter_release(c->prov, c->op, res->outcome);
	audit_attempt(c, res);
	__atomic_add_fetch(&c->e->calls_total, 1, __ATOMIC_RELAXED);
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
		c->e->sink.retry(c->e->sink.ud, c->pool, c->op, c->object_id, res, attempt, wait_ms);
}

static int sleep_stop(void *ud, uint64_t ms)
{
	(void)ud;
	return lbr_sleep_ms(ms, &lbr_engine_stop);
}

static void run_call(struct lbr_call *c, struct lbr_call_result *res)
{
	struct lbr_retry_hooks h = {
		.attempt = call_attempt,
		.stop = call_stop,
		.on_retry = call_on_retry,
		.ud = c,
	};
	struct lbr_clock clk = *c->e->clock;

	if (clk.sleep_ms == lbr_clock_real.sleep_ms)
		clk.sleep_ms = sleep_stop;
	if (lbr_retry_run(&c->e->policy, &clk, &h, res) < 0 && !res->message[0])
		snprintf(res->message, sizeof(res->message), "internal error");
}

/* Keep the first message in *slot (the pool's error or soft error). */
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

/* An error that stops all work on the pool for this pass. */
static void pool_error(struct lbr_pool_rt *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pool_error(struct lbr_pool_rt *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pool_note(p, &p->error, 0, fmt, ap);
	va_end(ap);
}

/* A failure that a later round may get past (the retries of one call gave
 * up on a transient error): remembered, but the pool keeps being worked
 * on.  If the pool still has not converged at the end, it becomes the
 * pool's error. */
static void pool_soft_error(struct lbr_pool_rt *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void pool_soft_error(struct lbr_pool_rt *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pool_note(p, &p->soft_error, 1, fmt, ap);
	va_end(ap);
}

/* --------------------------------------------------------------- observe */

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct observe_job {
	struct lbr_engine *e;
	struct lbr_pool_rt *p;
	int round;
};

static void observe_job(void *arg)
{
	struct observe_job *j = arg;
	struct lbr_pool_rt *p = j->p;
	struct lbr_prov_rt *prov = p->prov;
	struct lbr_obs *obs = calloc(1, sizeof(*obs));
	char cursor[1024] = "", next[1024];
	struct lbr_call c;
	struct lbr_call_result res;
	int prober = 0;
	unsigned pages = 0;
	char desc[1024];

	p->obs_ok = 0;
	if (!obs) {
		pool_error(p, "pool \"%s\": out of memory", p->cfg->name);
		return;
	}
	/* The first call to each provider runs alone, so that bad
	 * credentials cost exactly one rejected call. */
	pthread_mutex_lock(&prov->mu);
	while (prov->probe == 1)
		cv_wait(&prov->cv, &prov->mu);
	if (prov->probe == 0) {
		prov->probe = 1;
		prober = 1;
	}
	pthread_mutex_unlock(&prov->mu);

	for (;;) {
		memset(&c, 0, sizeof(c));
		c.e = j->e;
		c.prov = prov;
		c.pool = p;
		c.op = LBR_OP_LIST;
		c.cursor = cursor;
		c.next_cursor = next;
		c.next_len = sizeof(next);
		c.obs = obs;
		next[0] = '\0';
		run_call(&c, &res);
		if (prober) {
			pthread_mutex_lock(&prov->mu);
			prov->probe = 2;
			cv_broadcast(&prov->cv);
			pthread_mutex_unlock(&prov->mu);
			prober = 0;
		}
		if (res.outcome != LBR_OUT_OK) {
			describe_result(&res, desc, sizeof(desc));
			pool_error(p, "pool \"%s\": cannot list members (provider \"%s\"): %s",
				   p->cfg->name, prov->cfg->name, desc);
			lbr_obs_free(obs);
			return;
		}
		if (!next[0])
			break;
		if (++pages >= LBR_MAX_PAGES || !strcmp(next, cursor)) {
			char safe[128];

			sanitize(next, safe, sizeof(safe)); /* the cloud's text */
			pool_error(p, "pool \"%s\": listing does not end (cursor '%s' repeated or over %u pages)",
				   p->cfg->name, safe, LBR_MAX_PAGES);
			lbr_obs_free(obs);
			return;
		}
		snprintf(cursor, sizeof(cursor), "%s", next);
	}
	/* The same id twice means the paging went wrong: do not act on it. */
	{
		size_t i, n = obs->n_members;
		const char **ids = malloc((n ? n : 1) * sizeof(char *));

		if (!ids) {
			pool_error(p, "pool \"%s\": out of memory", p->cfg->name);
			lbr_obs_free(obs);
			return;
		}
		for (i = 0; i < n; i++)
			ids[i] = obs->members[i].id;
		qsort(ids, n, sizeof(char *), cmp_strp);
		for (i = 1; i < n; i++)
			if (!strcmp(ids[i - 1], ids[i])) {
				pool_error(p, "pool \"%s\": the cloud listed member %s twice; not acting on an inconsistent listing",
					   p->cfg->name, ids[i]);
				free(ids);
				lbr_obs_free(obs);
				return;
			}
		free(ids);
	}
	lbr_obs_free(p->obs);
	p->obs = obs;
	p->obs_ok = 1;
	if (!p->observed_once) {
		p->observed_once = 1;
		p->first_observed = obs->n_members;
	}
	if (j->e->sink.observed)
		j->e->sink.observed(j->e->sink.ud, p, j->round);
}

static void observe_pools(struct lbr_engine *e, int round, int only_touched)
{
	struct observe_job *jobs = calloc(e->n_pools ? e->n_pools : 1, sizeof(*jobs));
	size_t i, n = 0;

	if (!jobs) {
		for (i = 0; i < e->n_pools; i++)
			pool_error(&e->pools[i], "pool \"%s\": out of memory", e->pools[i].cfg->name);
		return;
	}
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		if (only_touched && !p->touched && !p->n_pending)
			continue;
		if (only_touched && p->verified)
			continue; /* already re-observed by its last removal */
		if (p->refused || (only_touched && p->error))
			continue;
		jobs[n].e = e;
		jobs[n].p = p;
		jobs[n].round = round;
		n++;
	}
	wq_run(observe_job, jobs, sizeof(*jobs), n);
	free(jobs);
}

/* ------------------------------------------------------------------ plan */

struct key_ref {
	const char *address;
	unsigned port;
	size_t idx;
};

static int cmp_key(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->address, y->address);

	if (c)
		return c;
	return (x->port > y->port) - (x->port < y->port);
}

static int removed_before(struct lbr_pool_rt *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->n_removed_ids; i++)
		if (!strcmp(p->removed_ids[i], id))
			return 1;
	return 0;
}

static void plan_clear(struct lbr_pool_rt *p)
{
	size_t i;

	free(p->remove);
	free(p->missing);
	free(p->pending);
	for (i = 0; i < p->n_blocked; i++)
		free(p->blocked[i].reason);
	free(p->blocked);
	for (i = 0; i < p->n_updates; i++)
		free(p->updates[i].keep);
	free(p->updates);
	p->remove = p->missing = p->pending = NULL;
	p->blocked = NULL;
	p->updates = NULL;
	p->n_remove = p->n_missing = p->n_pending = p->n_blocked = p->n_updates = 0;
}

static int in_remove(const struct lbr_pool_rt *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->n_remove; i++)
		if (!strcmp(p->obs->members[p->remove[i]].id, id))
			return 1;
	return 0;
}

/* L7 rules: a rule that would lose every member blocks the removal of the
 * members it still holds; that can change other rules' outcome, so repeat
 * until nothing changes. */
static int plan_rules(struct lbr_pool_rt *p)
{
	struct lbr_obs *o = p->obs;
	size_t r, i, k;
	int changed = 1;

	while (changed) {
		changed = 0;
		for (r = 0; r < o->n_rules; r++) {
			struct lbr_obs_rule *rule = &o->rules[r];
			size_t keep = 0, hit = 0;

			for (i = 0; i < rule->n_members; i++) {
				if (in_remove(p, rule->member_ids[i]))
					hit++;
				else
					keep++;
			}
			if (!hit || keep || !rule->never_empty)
				continue;
			/* Block every removal this rule would lose. */
			for (i = 0; i < p->n_remove;) {
				struct lbr_obs_member *m = &o->members[p->remove[i]];
				int in_rule = 0;

				for (k = 0; k < rule->n_members; k++)
					if (!strcmp(rule->member_ids[k], m->id))
						in_rule = 1;
				if (!in_rule) {
					i++;
					continue;
				}
				{
					struct lbr_blocked *nb = realloc(p->blocked, (p->n_blocked + 1) * sizeof(*nb));

					if (!nb)
						return LBR_ENOMEM;
					p->blocked = nb;
				}
				p->blocked[p->n_blocked].member = p->remove[i];
				p->blocked[p->n_blocked].reason =
					lbr_asprintf("forwarding policy %s (%s) would be left without backends",
						     rule->id, rule->label);
				p->n_blocked++;
				p->remove[i] = p->remove[--p->n_remove];
				changed = 1;
			}
		}
	}
	/* Updates for every rule that names a member still being removed. */
	for (r = 0; r < o->n_rules; r++) {
		struct lbr_obs_rule *rule = &o->rules[r];
		struct lbr_rule_update *u;
		size_t hit = 0;

		for (i = 0; i < rule->n_members; i++)
			hit += (size_t)in_remove(p, rule->member_ids[i]);
		if (!hit)
			continue;
		u = realloc(p->updates, (p->n_updates + 1) * sizeof(*u));
		if (!u)
			return LBR_ENOMEM;
		p->updates = u;
		u = &p->updates[p->n_updates];
		memset(u, 0, sizeof(*u));
		u->rule = r;
		u->keep = calloc(rule->n_members + 1, sizeof(char *));
		if (!u->keep)
			return LBR_ENOMEM;
		for (i = 0; i < rule->n_members; i++)
			if (!in_remove(p, rule->member_ids[i]))
				u->keep[u->n_keep++] = rule->member_ids[i];
		p->n_updates++;
	}
	return 0;
}

void lbr_engine_plan_pool(struct lbr_engine *e, struct lbr_pool_rt *p)
{
	struct lbr_cfg_pool *cp = p->cfg;
	struct lbr_obs *o = p->obs;
	struct key_ref *want = NULL, *have = NULL;
	size_t i, a, b;

	plan_clear(p);
	if (!p->obs_ok || !o)
		return;
	want = calloc(cp->n_members + 1, sizeof(*want));
	have = calloc(o->n_members + 1, sizeof(*have));
	p->remove = calloc(o->n_members + 1, sizeof(size_t));
	p->pending = calloc(o->n_members + 1, sizeof(size_t));
	p->missing = calloc(cp->n_members + 1, sizeof(size_t));
	if (!want || !have || !p->remove || !p->missing || !p->pending)
		goto oom;
	for (i = 0; i < cp->n_members; i++) {
		want[i].address = cp->members[i].address;
		want[i].port = cp->members[i].port;
		want[i].idx = i;
	}
	for (i = 0; i < o->n_members; i++) {
		have[i].address = o->members[i].address;
		have[i].port = o->members[i].port;
		have[i].idx = i;
	}
	qsort(want, cp->n_members, sizeof(*want), cmp_key);
	qsort(have, o->n_members, sizeof(*have), cmp_key);
	/* Merge the two sorted lists. */
	a = b = 0;
	while (a < cp->n_members || b < o->n_members) {
		int c;

		if (a >= cp->n_members)
			c = 1;
		else if (b >= o->n_members)
			c = -1;
		else
			c = cmp_key(&want[a], &have[b]);
		if (c < 0) {
			p->missing[p->n_missing++] = want[a++].idx;
		} else if (c > 0) {
			size_t m = have[b++].idx;

			if (removed_before(p, o->members[m].id))
				p->pending[p->n_pending++] = m;
			else
				p->remove[p->n_remove++] = m;
		} else {
			/* Declared: every observed member with this key
			 * stays. */
			struct key_ref *w = &want[a];

			while (b < o->n_members && cmp_key(w, &have[b]) == 0)
				b++;
			a++;
		}
	}
	if (plan_rules(p) < 0)
		goto oom;
	/* Guard: max_delete per pool and pass. */
	if (!e->force && p->n_remove > 0) {
		/* The budget is for the whole pass: what earlier rounds
		 * removed counts against it, failed attempts do not. */
		long budget = p->delete_budget < 0 ? -1
			: p->delete_budget - (long)(p->removed + p->already_gone);

		if (budget >= 0 && (long)p->n_remove > budget) {
			long limit = e->cfg->max_delete_percent
				? (long)(p->first_observed * (size_t)e->cfg->max_delete / 100)
				: e->cfg->max_delete;

			p->refused = 1;
			snprintf(p->refuse_msg, sizeof(p->refuse_msg),
				 "would remove %zu of %zu observed members, more than max_delete = %d%s (%ld); use --force to override",
				 p->n_remove + (size_t)(p->removed + p->already_gone), p->first_observed,
				 e->cfg->max_delete, e->cfg->max_delete_percent ? "%" : "", limit);
		}
	}
	free(want);
	free(have);
	return;
oom:
	free(want);
	free(have);
	plan_clear(p);
	p->obs_ok = 0;
	pool_error(p, "pool \"%s\": out of memory while planning", cp->name);
}

static void set_budget(struct lbr_engine *e, struct lbr_pool_rt *p)
{
	if (e->force) {
		p->delete_budget = -1;
		return;
	}
	if (e->cfg->max_delete_percent)
		p->delete_budget = (long)(p->first_observed * (size_t)e->cfg->max_delete / 100);
	else
		p->delete_budget = e->cfg->max_delete;
}

void lbr_engine_observe_and_plan(struct lbr_engine *e, const struct lbr_state *state)
{
	size_t i;

	observe_pools(e, 1, 0);
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		if (!p->obs_ok)
			continue;
		set_budget(e, p);
		lbr_engine_plan_pool(e, p);
		if (state) {
			const struct lbr_state_pool *sp =
				lbr_state_pool_find((struct lbr_state *)state, p->cfg->name);

			if (sp && sp->n_members >= 4 && p->obs->n_members < sp->n_members / 2)
				snprintf(p->warning, sizeof(p->warning),
					 "listing shrank from %zu members (last recorded state) to %zu",
					 sp->n_members, p->obs->n_members);
		}
	}
}

/* ------------------------------------------------------------------- act */

/* The final outcome of a mutating call (after retries), for the report. */
static void audit(struct lbr_engine *e, struct lbr_pool_rt *p, enum lbr_op op, const char *id,
		  const char *address, unsigned port, const struct lbr_call_result *res)
{
	if (e->sink.action)
		e->sink.action(e->sink.ud, p, op, id, address, port, res);
}

enum act_kind { ACT_REMOVE = 0, ACT_DRAIN, ACT_RESTORE };

struct act_job {
	struct lbr_engine *e;
	struct lbr_pool_rt *p;
	size_t idx; /* member index or update index */
	enum act_kind kind;
};

static void update_job(void *arg)
{
	struct act_job *j = arg;
	struct lbr_pool_rt *p = j->p;
	struct lbr_rule_update *u = &p->updates[j->idx];
	struct lbr_obs_rule *rule = &p->obs->rules[u->rule];
	struct lbr_rule_ref ref = { .id = rule->id, .attrs = rule->attrs, .n_attrs = rule->n_attrs };
	struct lbr_call c;
	struct lbr_call_result res;
	char desc[1024];

	memset(&c, 0, sizeof(c));
	c.e = j->e;
	c.prov = p->prov;
	c.pool = p;
	c.op = LBR_OP_UPDATE_RULE;
	c.object_id = rule->id;
	c.rule = &ref;
	c.ids = (const char *const *)u->keep;
	c.n_ids = u->n_keep;
	/* Never empty a rule that must keep a member, whatever the plan says. */
	if (rule->never_empty && u->n_keep == 0) {
		u->failed = 1;
		return;
	}
	run_call(&c, &res);
	p->touched = 1;
	audit(j->e, p, LBR_OP_UPDATE_RULE, rule->id, NULL, 0, &res);
	if (res.outcome == LBR_OUT_OK) {
		u->done = 1;
		pthread_mutex_lock(&p->mu);
		p->rule_updates++;
		pthread_mutex_unlock(&p->mu);
	} else {
		u->failed = 1;
		describe_result(&res, desc, sizeof(desc));
		if (res.outcome == LBR_OUT_TRANSIENT || res.outcome == LBR_OUT_THROTTLED)
			pool_soft_error(p, "pool \"%s\": cannot update forwarding policy %s (%s): %s",
					p->cfg->name, rule->id, rule->label, desc);
		else
			pool_error(p, "pool \"%s\": cannot update forwarding policy %s (%s): %s",
				   p->cfg->name, rule->id, rule->label, desc);
	}
}

static int member_rules_ok(struct lbr_pool_rt *p, const char *id)
{
	size_t i, k;

	for (i = 0; i < p->n_updates; i++) {
		struct lbr_obs_rule *rule = &p->obs->rules[p->updates[i].rule];

		if (p->updates[i].done)
			continue;
		for (k = 0; k < rule->n_members; k++)
			if (!strcmp(rule->member_ids[k], id))
				return 0;
	}
	return 1;
}

/* Drain (weight 0 / Enabled=0) or restore one member. */
static void drain_job(struct act_job *j)
{
	struct lbr_pool_rt *p = j->p;
	struct lbr_obs_member *m = &p->obs->members[j->idx];
	struct lbr_member_ref ref = { .id = m->id, .address = m->address, .port = m->port,
				      .weight = m->weight, .enabled = m->enabled };
	enum lbr_op op = j->kind == ACT_DRAIN ? LBR_OP_DRAIN : LBR_OP_RESTORE;
	struct lbr_call c;
	struct lbr_call_result res;
	char desc[1024], ap[80];
	size_t k;

	lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
	memset(&c, 0, sizeof(c));
	c.e = j->e;
	c.prov = p->prov;
	c.pool = p;
	c.op = op;
	c.object_id = m->id;
	c.m = &ref;
	run_call(&c, &res);
	p->touched = 1;
	audit(j->e, p, op, m->id, m->address, m->port, &res);
	pthread_mutex_lock(&p->mu);
	for (k = 0; k < p->n_drain; k++)
		if (p->drain[k].member == j->idx)
			p->drain[k].state = res.outcome == LBR_OUT_OK
				? (op == LBR_OP_DRAIN ? LBR_DRAIN_DRAINED : LBR_DRAIN_RESTORED)
				: LBR_DRAIN_FAILED;
	if (op == LBR_OP_RESTORE && res.outcome == LBR_OUT_OK)
		p->restored++;
	if (res.outcome != LBR_OUT_OK)
		p->failed++;
	pthread_mutex_unlock(&p->mu);
	if (res.outcome != LBR_OUT_OK) {
		describe_result(&res, desc, sizeof(desc));
		pool_error(p, "pool \"%s\": cannot %s %s (member %s): %s", p->cfg->name,
			   op == LBR_OP_DRAIN ? "drain" : "restore", ap, m->id, desc);
	}
}

static void remove_one(struct act_job *j);

/* A removal job; the last one of a pool re-observes the pool at once (the
 * verification listing) instead of waiting for every other pool's removals
 * to finish: the slowest pool no longer holds up everyone's verification. */
static void remove_job(void *arg)
{
	struct act_job *j = arg;
	struct lbr_pool_rt *p = j->p;

	remove_one(j);
	if (j->kind == ACT_REMOVE && p->inline_verify &&
	    __atomic_sub_fetch(&p->jobs_left, 1, __ATOMIC_ACQ_REL) == 0) {
		struct observe_job oj = { .e = j->e, .p = p, .round = j->e->round + 1 };

		if (lbr_engine_stop || (p->prov->auth_failed && !p->touched))
			return;
		observe_job(&oj);
		if (p->obs_ok && !p->error && !p->frozen)
			lbr_engine_plan_pool(j->e, p);
		p->verified = 1;
	}
}

static void remove_one(struct act_job *j)
{
	struct lbr_pool_rt *p = j->p;
	struct lbr_obs_member *m = &p->obs->members[j->idx];
	struct lbr_member_ref ref = { .id = m->id, .address = m->address, .port = m->port,
				      .weight = m->weight, .enabled = m->enabled };
	struct lbr_call c;
	struct lbr_call_result res;
	char desc[1024], ap[80];

	if (j->kind != ACT_REMOVE) {
		drain_job(j);
		return;
	}
	lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
	if (!member_rules_ok(p, m->id)) {
		pool_soft_error(p, "pool \"%s\": not removing %s (member %s): a forwarding policy naming it could not be updated",
				p->cfg->name, ap, m->id);
		pthread_mutex_lock(&p->mu);
		p->failed++;
		pthread_mutex_unlock(&p->mu);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.e = j->e;
	c.prov = p->prov;
	c.pool = p;
	c.op = LBR_OP_REMOVE;
	c.object_id = m->id;
	c.m = &ref;
	run_call(&c, &res);
	if (res.outcome == LBR_OUT_AUTH && !res.http_status && !res.code[0]) {
		/* Not attempted because another call hit an auth error. */
		pool_error(p, "pool \"%s\": remove %s (member %s): %s", p->cfg->name, ap, m->id, res.message);
		pthread_mutex_lock(&p->mu);
		p->failed++;
		pthread_mutex_unlock(&p->mu);
		return;
	}
	p->touched = 1;
	audit(j->e, p, LBR_OP_REMOVE, m->id, m->address, m->port, &res);
	pthread_mutex_lock(&p->mu);
	if (res.outcome == LBR_OUT_OK || res.outcome == LBR_OUT_NOT_FOUND) {
		if (res.outcome == LBR_OUT_OK)
			p->removed++;
		else
			p->already_gone++;
		if (lbr_grow((void **)&p->removed_ids, &p->cap_removed_ids, p->n_removed_ids,
			     sizeof(char *)) == 0) {
			p->removed_ids[p->n_removed_ids] = strdup(m->id);
			if (p->removed_ids[p->n_removed_ids])
				p->n_removed_ids++;
		}
		pthread_mutex_unlock(&p->mu);
		return;
	}
	p->failed++;
	pthread_mutex_unlock(&p->mu);
	describe_result(&res, desc, sizeof(desc));
	if (res.outcome == LBR_OUT_TRANSIENT || res.outcome == LBR_OUT_THROTTLED)
		pool_soft_error(p, "pool \"%s\": cannot remove %s (member %s): %s", p->cfg->name, ap,
				m->id, desc);
	else
		pool_error(p, "pool \"%s\": cannot remove %s (member %s): %s", p->cfg->name, ap, m->id,
			   desc);
}

/* Is addr:port declared in pool `name` of a freshly read config? */
static int declared_in(struct lbr_cfg *cfg, const char *name, const char *addr, unsigned port)
{
	struct lbr_cfg_pool *cp = cfg ? lbr_cfg_pool_find(cfg, name) : NULL;
	size_t i;

	for (i = 0; cp && i < cp->n_members; i++)
		if (cp->members[i].port == port && !strcmp(cp->members[i].address, addr))
			return 1;
	return 0;
}

/* Phase 3: wait for each draining pool's deadline, in deadline order, then
 * read the config file again: a member declared again in the meantime is
 * restored to its previous weight/enabled, the others are removed. */
static void finish_drains(struct lbr_engine *e)
{
	for (;;) {
		struct lbr_pool_rt *next = NULL;
		struct lbr_cfg *fresh = NULL;
		struct act_job *jobs;
		char err[2048];
		size_t i, k, n = 0;
		uint64_t now;
		int bad_cfg = 0;

		for (i = 0; i < e->n_pools; i++) {
			struct lbr_pool_rt *p = &e->pools[i];
			int waiting = 0;

			for (k = 0; k < p->n_drain; k++)
				waiting |= p->drain[k].state == LBR_DRAIN_DRAINED;
			if (waiting && (!next || p->drain_deadline_ms < next->drain_deadline_ms))
				next = p;
		}
		if (!next)
			return;
		now = lbr_mono_ms();
		if (next->drain_deadline_ms > now)
			lbr_sleep_ms(next->drain_deadline_ms - now, &lbr_engine_stop);
		if (lbr_engine_stop) {
			/* Leave drained members as they are: the next pass sees
			 * them undeclared and finishes the job. */
			for (i = 0; i < e->n_pools; i++)
				e->pools[i].n_drain = 0;
			return;
		}
		if (lbr_cfg_load(e->cfg->path, NULL, &fresh, err, sizeof(err)) < 0) {
			lbr_err("drain: cannot re-read the configuration (%s); restoring drained members instead of removing them",
				err);
			bad_cfg = 1;
		}
		now = lbr_mono_ms();
		for (i = 0; i < e->n_pools; i++)
			n += e->pools[i].n_drain;
		jobs = calloc(n + 1, sizeof(*jobs));
		n = 0;
		for (i = 0; jobs && i < e->n_pools; i++) {
			struct lbr_pool_rt *p = &e->pools[i];

			if (p->drain_deadline_ms > now && p != next)
				continue;
			for (k = 0; k < p->n_drain; k++) {
				struct lbr_obs_member *m = &p->obs->members[p->drain[k].member];

				if (p->drain[k].state != LBR_DRAIN_DRAINED)
					continue;
				jobs[n].e = e;
				jobs[n].p = p;
				jobs[n].idx = p->drain[k].member;
				jobs[n].kind = bad_cfg || declared_in(fresh, p->cfg->name, m->address, m->port)
					? ACT_RESTORE : ACT_REMOVE;
				p->drain[k].state = LBR_DRAIN_DONE;
				if (jobs[n].kind == ACT_RESTORE) {
					char ap[80];

					/* The config changed under us: this pass
					 * stops acting on the pool; the next pass
					 * works from the new config. */
					p->frozen = 1;
					lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
					lbr_warn("pool \"%s\": %s is declared again; restoring it instead of removing it",
						 p->cfg->name, ap);
				}
				n++;
			}
		}
		if (jobs) {
			/* Restores flip the state of the entry back; removals
			 * leave DONE. */
			wq_run(remove_job, jobs, sizeof(*jobs), n);
			free(jobs);
		}
		lbr_cfg_free(fresh);
		if (!jobs)
			return;
	}
}

static int pool_can_act(const struct lbr_pool_rt *p)
{
	return p->obs_ok && !p->refused && !p->error && !p->frozen;
}

static size_t act_round(struct lbr_engine *e)
{
	struct act_job *jobs;
	size_t i, k, n = 0, total = 0;

	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		p->touched = 0;
		p->verified = 0;
		p->inline_verify = 0;
		if (!pool_can_act(p))
			continue;
		total += p->n_updates + p->n_remove;
	}
	if (!total)
		return 0;
	jobs = calloc(total, sizeof(*jobs));
	if (!jobs) {
		lbr_err("out of memory");
		return 0;
	}
	/* Phase 1: rule updates, so that no backend is released while a
	 * forwarding policy still names it. */
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		if (!pool_can_act(p))
			continue;
		for (k = 0; k < p->n_updates; k++) {
			jobs[n].e = e;
			jobs[n].p = p;
			jobs[n].idx = k;
			n++;
		}
	}
	wq_run(update_job, jobs, sizeof(*jobs), n);
	/* Phase 2: removals, and drains for pools with `drain`: those are
	 * removed (or restored) when their own wait ends, in phase 3, so
	 * that a drain never holds up another pool. */
	n = 0;
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];
		int drain = p->cfg->drain_s > 0;

		/* A pool with an error (in this round's rule updates, or in an
		 * earlier round, whose plan is then stale) is not acted on. */
		if (!pool_can_act(p) || p->prov->auth_failed)
			continue;
		if (drain) {
			free(p->drain);
			p->drain = calloc(p->n_remove + 1, sizeof(*p->drain));
			p->n_drain = 0;
			if (!p->drain) {
				pool_error(p, "pool \"%s\": out of memory", p->cfg->name);
				continue;
			}
			p->drain_deadline_ms = lbr_mono_ms() + (uint64_t)p->cfg->drain_s * 1000u;
		}
		p->inline_verify = !drain && p->n_remove > 0;
		p->jobs_left = p->inline_verify ? (int)p->n_remove : 0;
		for (k = 0; k < p->n_remove; k++) {
			jobs[n].e = e;
			jobs[n].p = p;
			jobs[n].idx = p->remove[k];
			jobs[n].kind = drain ? ACT_DRAIN : ACT_REMOVE;
			if (drain) {
				p->drain[p->n_drain].member = p->remove[k];
				p->drain[p->n_drain].state = LBR_DRAIN_PENDING;
				p->n_drain++;
			}
			n++;
		}
	}
	wq_run(remove_job, jobs, sizeof(*jobs), n);
	free(jobs);
	finish_drains(e);
	return total;
}

void lbr_engine_apply(struct lbr_engine *e)
{
	int round;
	size_t i;
	unsigned pending_waits = 0;

	if (!e->allow_mutate) {
		lbr_err("internal error: apply on a read-only engine");
		return;
	}
	for (round = 1; round <= e->cfg->max_rounds && !lbr_engine_stop; round++) {
		size_t acted;

		e->round = round;
		acted = act_round(e);
		size_t pending = 0;

		for (i = 0; i < e->n_pools; i++)
			pending += e->pools[i].n_pending;
		if (!acted && !pending)
			break;
		if (!acted && pending) {
			/* Removed members still listed: the cloud is
			 * eventually consistent.  Wait, then look again,
			 * without removing them a second time. */
			uint64_t w = 500ull << (pending_waits < 4 ? pending_waits : 4);

			pending_waits++;
			lbr_sleep_ms(w, &lbr_engine_stop);
		}
		observe_pools(e, round + 1, 1);
		for (i = 0; i < e->n_pools; i++) {
			struct lbr_pool_rt *p = &e->pools[i];

			if ((p->touched || p->n_pending) && p->obs_ok && !p->error && !p->frozen &&
			    !p->verified)
				lbr_engine_plan_pool(e, p);
		}
	}
}

/* --------------------------------------------------------- construction */

int lbr_engine_new(struct lbr_cfg *cfg, const char *const *pools, size_t n, int allow_mutate,
		   struct lbr_engine **out, char *err, size_t errlen)
{
	int r = LBR_ENOMEM;
	struct lbr_engine *e = calloc(1, sizeof(*e));
	size_t i, k;

	*out = NULL;
	if (!e)
		goto oom;
	e->cfg = cfg;
	e->allow_mutate = allow_mutate;
	e->policy = lbr_retry_default;
	e->clock = &lbr_clock_real;
	for (i = 0; i < n; i++)
		if (!lbr_cfg_pool_find(cfg, pools[i])) {
			snprintf(err, errlen, "--pool %s: no such pool in %s", pools[i], cfg->path);
			r = LBR_EINVAL;
			goto fail;
		}
	e->provs = calloc(cfg->n_providers + 1, sizeof(*e->provs));
	e->pools = calloc(cfg->n_pools + 1, sizeof(*e->pools));
	if (!e->provs || !e->pools)
		goto oom;
	for (i = 0; i < cfg->n_providers; i++) {
		struct lbr_prov_rt *pr = &e->provs[i];
		struct lbr_kv *kv;
		char perr[512] = "";

		pr->cfg = &cfg->providers[i];
		pthread_mutex_init(&pr->mu, NULL);
		pthread_cond_init(&pr->cv, NULL);
		pr->max_window = cfg->parallelism;
		pr->window = cfg->parallelism;
		e->n_provs++;
		kv = lbr_cfg_provider_kv(pr->cfg);
		if (!kv)
			goto oom;
		r = pr->cfg->plugin->ops.open(&the_host, kv, pr->cfg->n_kv, &pr->inst, perr, sizeof(perr));
		free(kv);
		if (r < 0) {
			snprintf(err, errlen, "%s:%d: provider \"%s\": %s", cfg->path, pr->cfg->line,
				 pr->cfg->name, perr);
			r = LBR_EINVAL;
			goto fail;
		}
	}
	for (i = 0; i < cfg->n_pools; i++) {
		struct lbr_cfg_pool *cp = &cfg->pools[i];
		struct lbr_pool_rt *p;
		int sel = n == 0;

		for (k = 0; k < n; k++)
			sel |= !strcmp(pools[k], cp->name);
		if (!sel)
			continue;
		p = &e->pools[e->n_pools++];
		p->cfg = cp;
		pthread_mutex_init(&p->mu, NULL);
		for (k = 0; k < e->n_provs; k++)
			if (e->provs[k].cfg == cp->provider)
				p->prov = &e->provs[k];
		p->target.pool_name = cp->name;
		p->target.kv = cp->target_kv;
		for (k = 0; cp->target_kv[k].key; k++)
			p->target.n++;
		p->delete_budget = -1;
	}
	{
		int coop = 1;

		for (i = 0; i < e->n_provs; i++)
			coop &= !!(e->provs[i].cfg->plugin->ops.caps & LBR_CAP_COOPERATIVE);
		r = wq_start(cfg->parallelism, coop);
		lbr_state_set_http_perform(state_http_perform);
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot start the workers (threads or tasks)");
		r = LBR_ERR;
		goto fail;
	}
	*out = e;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	r = LBR_ENOMEM;
fail:
	lbr_engine_free(e);
	return r;
}

void lbr_engine_free(struct lbr_engine *e)
{
	size_t i, k;

	if (!e)
		return;
	wq_stop();
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		plan_clear(p);
		free(p->drain);
		lbr_obs_free(p->obs);
		for (k = 0; k < p->n_removed_ids; k++)
			free(p->removed_ids[k]);
		free(p->removed_ids);
		free(p->error);
		free(p->soft_error);
		pthread_mutex_destroy(&p->mu);
	}
	free(e->pools);
	for (i = 0; i < e->n_provs; i++) {
		struct lbr_prov_rt *pr = &e->provs[i];

		if (pr->inst)
			pr->cfg->plugin->ops.close(pr->inst);
		pthread_mutex_destroy(&pr->mu);
		pthread_cond_destroy(&pr->cv);
	}
	free(e->provs);
	free(e);
}
