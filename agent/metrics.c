#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/error.h"
#include "agent/call.h"
#include "agent/log.h"
#include "agent/metrics.h"
#include "agent/pool.h"
#include "state/state.h"
#include "agent/report.h"
#include "agent/util.h"

double lbr_metrics_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct lbr_metrics_provider *prov_slot(struct lbr_metrics *m, const char *name)
{
	struct lbr_metrics_provider *p;
	size_t i;

	for (i = 0; i < m->n_provs; i++)
		if (!strcmp(m->provs[i].name, name))
			return &m->provs[i];
	p = realloc(m->provs, (m->n_provs + 1) * sizeof(*p));
	if (!p)
		return NULL;
	m->provs = p;
	p = &m->provs[m->n_provs++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

void lbr_metrics_collect(struct lbr_metrics *m, const struct lbr_engine *e,
			 const struct lbr_state *state)
{
	size_t i, o, k;

	free(m->pools);
	m->pools = calloc(e->n_pools + 1, sizeof(*m->pools));
	m->n_pools = 0;
	for (i = 0; m->pools && i < e->n_pools; i++) {
		const struct lbr_pool_rt *p = &e->pools[i];
		struct lbr_metrics_pool *mp = &m->pools[m->n_pools++];
		size_t app = 0, dis = 0;

		snprintf(mp->name, sizeof(mp->name), "%s", p->cfg->name);
		snprintf(mp->provider, sizeof(mp->provider), "%s", p->prov->cfg->name);
		mp->observed = p->obs_ok ? (long)p->obs->n_members : -1;
		mp->removed = p->removed + p->already_gone;
		mp->blocked = (unsigned)p->plan.n_blocked;
		mp->missing = p->obs_ok ? (unsigned)p->plan.n_missing : 0;
		mp->errors = (p->error || !p->obs_ok ? 1u : 0u);
		mp->policy_updates = p->rule_updates;
		if (p->obs_ok)
			lbr_report_changed_outside(state, p, &app, &dis);
		mp->drift = lbr_pool_differs(p) || (p->obs_ok && (app || dis));
	}
	for (i = 0; i < e->n_provs; i++) {
		struct lbr_metrics_provider *mp = prov_slot(m, e->provs[i].cfg->name);
		const struct lbr_prov_stats *s = &e->provs[i].stats;

		if (!mp)
			continue;
		for (o = 0; o < LBR_OP_COUNT; o++)
			for (k = 0; k < LBR_OUTCOME_COUNT; k++)
				mp->calls[o][k].delta += s->calls[o][k];
		mp->retries.delta += s->retries;
		mp->throttled.delta += s->throttled;
	}
}

static int pass_ok(const char *command, int exit_code)
{
	/* plan and drift report changes with exit 2: a pass that worked */
	return exit_code == 0 || (exit_code == 2 && command && strcmp(command, "apply") != 0 &&
				  strcmp(command, "run") != 0);
}

void lbr_metrics_pass_begin(struct lbr_metrics *m)
{
	m->pass_start = lbr_metrics_now();
	m->pass_counted = m->pass_failed_counted = 0;
}

void lbr_metrics_pass_done(struct lbr_metrics *m, int exit_code)
{
	m->pass_end = lbr_metrics_now();
	m->exit_code = exit_code;
	if (!m->pass_counted) {
		m->passes.delta++;
		m->pass_counted = 1;
	}
	if (!pass_ok(m->command, exit_code) && !m->pass_failed_counted) {
		m->passes_failed.delta++;
		m->pass_failed_counted = 1;
	}
}

int lbr_metrics_counter_key(char *out, size_t len, const char *family, const char *a, const char *b,
			    const char *c)
{
	int n = snprintf(out, len, "metrics/%s%s%s%s%s%s%s", family, a ? "/" : "", a ? a : "",
			 b ? "/" : "", b ? b : "", c ? "/" : "", c ? c : "");

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * Every counter series with its state key, visited in one place so that
 * loading and storing cannot disagree on a name.  `fn` returns negative
 * to stop.
 */
static int each_counter(struct lbr_metrics *m, void *ud,
			int (*fn)(void *ud, const char *key, struct lbr_metrics_counter *c))
{
	const char *cmd = m->command ? m->command : "none";
	char key[512];
	size_t i, o, k;
	int r = 0;

	if (!lbr_metrics_counter_key(key, sizeof(key), "passes_total", cmd, NULL, NULL))
		r = fn(ud, key, &m->passes);
	if (r >= 0 &&
	    !lbr_metrics_counter_key(key, sizeof(key), "passes_failed_total", cmd, NULL, NULL))
		r = fn(ud, key, &m->passes_failed);
	for (i = 0; r >= 0 && i < m->n_provs; i++) {
		struct lbr_metrics_provider *p = &m->provs[i];

		for (o = 0; r >= 0 && o < LBR_OP_COUNT; o++)
			for (k = 0; r >= 0 && k < LBR_OUTCOME_COUNT; k++)
				if (!lbr_metrics_counter_key(key, sizeof(key), "api_calls_total",
							     p->name, lbr_op_name((enum lbr_op)o),
							     lbr_outcome_name((enum lbr_outcome)k)))
					r = fn(ud, key, &p->calls[o][k]);
		if (r >= 0 && !lbr_metrics_counter_key(key, sizeof(key), "api_retries_total",
						       p->name, NULL, NULL))
			r = fn(ud, key, &p->retries);
		if (r >= 0 && !lbr_metrics_counter_key(key, sizeof(key), "api_throttled_total",
						       p->name, NULL, NULL))
			r = fn(ud, key, &p->throttled);
	}
	return r;
}

static int load_one(void *ud, const char *key, struct lbr_metrics_counter *c)
{
	c->base = lbr_state_counter_get(ud, key);
	return 0;
}

void lbr_metrics_load_bases(struct lbr_metrics *m, const struct lbr_state *doc)
{
	if (doc)
		each_counter(m, (void *)doc, load_one);
}

static int store_one(void *ud, const char *key, struct lbr_metrics_counter *c)
{
	struct lbr_state *doc = ud;

	if (c->delta && lbr_state_counter_add(doc, key, c->delta) < 0)
		return LBR_ENOMEM;
	c->moved += c->delta;
	/* Another process may have added since our load: show the total. */
	c->base = lbr_state_counter_get(doc, key);
	c->delta = 0;
	return 0;
}

int lbr_metrics_store_totals(struct lbr_metrics *m, struct lbr_state *doc)
{
	if (!doc)
		return 0;
	return each_counter(m, doc, store_one) < 0 ? LBR_ENOMEM : 0;
}

void lbr_metrics_release(struct lbr_metrics *m)
{
	free(m->pools);
	free(m->provs);
	m->pools = NULL;
	m->provs = NULL;
	m->n_pools = m->n_provs = 0;
}

static unsigned long long total(const struct lbr_metrics_counter *c)
{
	return (unsigned long long)(c->base + c->delta);
}

/* A label value in the text format: backslash, quote and newline escaped. */
static void label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/*
 * The counter series of the file a write replaces ("NAME{labels}" and its
 * value), so that counters go on from what it showed.  Lines that are not
 * an lbreconcile_*_total sample with an integer value are ignored.
 */
struct prev_series {
	char *series;
	uint64_t value;
	int done; /* printed by this write */
};

struct prev {
	struct prev_series *s;
	size_t n;
};

#define PREV_MAX_BYTES (4 * 1024 * 1024)

/* Read the file a write replaces: a regular file of at most 4 MiB (what
 * this program writes is a few KiB), never a FIFO, a device or a link. */
static char *prev_read(const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PREV_MAX_BYTES)
		goto fail;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto fail;
	while (n < (size_t)st.st_size) {
		r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	close(fd);
	*len = n;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static int cmp_series(const void *a, const void *b)
{
	const struct prev_series *x = a, *y = b;
	int c = strcmp(x->series, y->series);

	return c ? c : (x->value > y->value) - (x->value < y->value);
}

/* One sample per series (a file put together by hand may repeat one; the
 * textfile collector refuses such a file): the largest value is kept. */
static void prev_dedup(struct prev *pv)
{
	size_t i, k = 0;

	if (pv->n < 2)
		return;
	qsort(pv->s, pv->n, sizeof(*pv->s), cmp_series);
	for (i = 0; i < pv->n; i++) {
		if (i + 1 < pv->n && strcmp(pv->s[i].series, pv->s[i + 1].series) == 0) {
			free(pv->s[i].series);
			continue;
		}
		pv->s[k++] = pv->s[i];
	}
	pv->n = k;
}

static void prev_load(struct prev *pv, const char *path)
{
	size_t len = 0, nl;
	char *buf = prev_read(path, &len), *line, *next, *sp, *end;

	memset(pv, 0, sizeof(*pv));
	for (line = buf; line && line < buf + len; line = next) {
		struct prev_series *ns;
		unsigned long long v;

		next = memchr(line, '\n', (size_t)(buf + len - line));
		if (next)
			*next++ = '\0';
		else
			next = buf + len;
		sp = strrchr(line, ' ');
		if (strncmp(line, "lbreconcile_", 12) != 0 || !sp || sp[1] < '0' || sp[1] > '9')
			continue;
		*sp = '\0';
		nl = strcspn(line, "{");
		/* NAME or NAME{...}: a sample with a timestamp is not ours. */
		if (nl < 6 || strncmp(line + nl - 6, "_total", 6) != 0 ||
		    (line[nl] ? line[sp - line - 1] != '}' : strchr(line, ' ') != NULL))
			continue;
		errno = 0;
		v = strtoull(sp + 1, &end, 10);
		if (errno || *end)
			continue;
		ns = realloc(pv->s, (pv->n + 1) * sizeof(*pv->s));
		if (!ns)
			break;
		pv->s = ns;
		ns[pv->n].series = strdup(line);
		if (!ns[pv->n].series)
			break;
		ns[pv->n].value = v;
		ns[pv->n++].done = 0;
	}
	free(buf);
	prev_dedup(pv);
}

static uint64_t prev_take(struct prev *pv, const char *series)
{
	size_t i;

	for (i = 0; i < pv->n; i++) {
		if (!pv->s[i].done && strcmp(pv->s[i].series, series) == 0) {
			pv->s[i].done = 1;
			return pv->s[i].value;
		}
	}
	return 0;
}

/* The series of `name` this write did not show: kept as they were. */
static void prev_rest(FILE *f, struct prev *pv, const char *name)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < pv->n; i++) {
		const char *s = pv->s[i].series;

		if (pv->s[i].done || strncmp(s, name, nl) != 0 || (s[nl] && s[nl] != '{'))
			continue;
		pv->s[i].done = 1;
		fprintf(f, "%s %llu\n", s, (unsigned long long)pv->s[i].value);
	}
}

static void prev_free(struct prev *pv)
{
	size_t i;

	for (i = 0; i < pv->n; i++)
		free(pv->s[i].series);
	free(pv->s);
	memset(pv, 0, sizeof(*pv));
}

/* NAME{k="v",...} with the values escaped; `kv` holds n key/value pairs. */
static const char *series_of(char *buf, size_t len, const char *name, const char *const *kv,
			     size_t n)
{
	size_t i, at;
	const char *v;

	at = (size_t)snprintf(buf, len, "%s{", name);
	for (i = 0; i < n && at < len; i++) {
		at += (size_t)snprintf(buf + at, len - at, "%s%s=\"", i ? "," : "", kv[2 * i]);
		for (v = kv[2 * i + 1]; *v && at + 3 < len; v++) {
			if (*v == '\\' || *v == '"')
				buf[at++] = '\\';
			if (*v == '\n') {
				buf[at++] = '\\';
				buf[at++] = 'n';
			} else {
				buf[at++] = *v;
			}
		}
		if (at + 1 < len)
			buf[at++] = '"';
		buf[at < len ? at : len - 1] = '\0';
	}
	if (at + 1 < len) {
		buf[at++] = '}';
		buf[at] = '\0';
	}
	return buf;
}

/* One counter sample: the larger of what the state says and what the file
 * showed plus what this process counted since it last wrote the file. */
static void counter(FILE *f, struct prev *pv, const char *series, struct lbr_metrics_counter *c)
{
	uint64_t s = c->base + c->delta, own = c->moved + c->delta;
	uint64_t v = prev_take(pv, series) + (own >= c->shown ? own - c->shown : 0);

	c->shown_new = own;
	fprintf(f, "%s %llu\n", series, (unsigned long long)(v > s ? v : s));
}

static int commit_shown(void *ud, const char *key, struct lbr_metrics_counter *c)
{
	(void)ud;
	(void)key;
	c->shown = c->shown_new;
	return 0;
}

static int forget_shown(void *ud, const char *key, struct lbr_metrics_counter *c)
{
	(void)ud;
	(void)key;
	c->shown_new = c->shown;
	return 0;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* NAME{command="CMD"} */
static void cmd_series(FILE *f, const char *name, const char *cmd)
{
	fprintf(f, "%s{command=\"", name);
	label(f, cmd);
	fputs("\"} ", f);
}

static void pool_series(FILE *f, const char *name, const struct lbr_metrics_pool *p, long v)
{
	fprintf(f, "%s{pool=\"", name);
	label(f, p->name);
	fputs("\",provider=\"", f);
	label(f, p->provider);
	fprintf(f, "\"} %ld\n", v);
}

static void body(FILE *f, struct lbr_metrics *m, struct prev *pv)
{
	const char *cmd = m->command ? m->command : "none";
	const char *kv[6];
	char sb[768];
	size_t i, o, k;

	family(f, "lbreconcile_last_pass_start_timestamp_seconds", "gauge",
	       "Unix time the last pass started.");
	cmd_series(f, "lbreconcile_last_pass_start_timestamp_seconds", cmd);
	fprintf(f, "%.3f\n", m->pass_start);
	family(f, "lbreconcile_last_pass_end_timestamp_seconds", "gauge",
	       "Unix time the last pass ended.");
	cmd_series(f, "lbreconcile_last_pass_end_timestamp_seconds", cmd);
	fprintf(f, "%.3f\n", m->pass_end);
	family(f, "lbreconcile_last_pass_duration_seconds", "gauge", "Duration of the last pass.");
	cmd_series(f, "lbreconcile_last_pass_duration_seconds", cmd);
	fprintf(f, "%.3f\n", m->pass_end > m->pass_start ? m->pass_end - m->pass_start : 0.0);
	family(f, "lbreconcile_last_pass_success", "gauge",
	       "1 when the last pass exited 0 (or 2 for plan and drift).");
	cmd_series(f, "lbreconcile_last_pass_success", cmd);
	fprintf(f, "%d\n", pass_ok(cmd, m->exit_code));
	family(f, "lbreconcile_last_pass_exit_code", "gauge", "Exit code of the last pass.");
	cmd_series(f, "lbreconcile_last_pass_exit_code", cmd);
	fprintf(f, "%d\n", m->exit_code);
	kv[0] = "command";
	kv[1] = cmd;
	family(f, "lbreconcile_passes_total", "counter", "Passes run with this state.");
	counter(f, pv, series_of(sb, sizeof(sb), "lbreconcile_passes_total", kv, 1), &m->passes);
	prev_rest(f, pv, "lbreconcile_passes_total");
	family(f, "lbreconcile_passes_failed_total", "counter", "Passes that did not succeed.");
	counter(f, pv, series_of(sb, sizeof(sb), "lbreconcile_passes_failed_total", kv, 1),
		&m->passes_failed);
	prev_rest(f, pv, "lbreconcile_passes_failed_total");

#define POOL_GAUGE(metric, help, expr)                                   \
	do {                                                             \
		family(f, metric, "gauge", help);                        \
		for (i = 0; i < m->n_pools; i++) {                       \
			const struct lbr_metrics_pool *p = &m->pools[i]; \
			pool_series(f, metric, p, (long)(expr));         \
		}                                                        \
	} while (0)
	POOL_GAUGE("lbreconcile_pool_members_observed",
		   "Members observed in the last pass (-1: not observed).", p->observed);
	POOL_GAUGE("lbreconcile_pool_members_removed", "Members removed in the last pass.",
		   p->removed);
	POOL_GAUGE("lbreconcile_pool_members_blocked",
		   "Removals blocked by an L7 policy in the last pass.", p->blocked);
	POOL_GAUGE("lbreconcile_pool_members_missing", "Declared members not in the pool.",
		   p->missing);
	POOL_GAUGE("lbreconcile_pool_policy_updates", "L7 policies updated in the last pass.",
		   p->policy_updates);
	POOL_GAUGE("lbreconcile_pool_drift",
		   "1 when the pool differs from the config or the recorded state.", p->drift);
	POOL_GAUGE("lbreconcile_pool_errors", "1 when the pool ended the last pass with an error.",
		   p->errors);
#undef POOL_GAUGE

	family(f, "lbreconcile_api_calls_total", "counter",
	       "API requests by provider, operation and outcome.");
	for (i = 0; i < m->n_provs; i++) {
		kv[0] = "provider";
		kv[1] = m->provs[i].name;
		kv[2] = "operation";
		kv[4] = "outcome";
		for (o = 0; o < LBR_OP_COUNT; o++)
			for (k = 0; k < LBR_OUTCOME_COUNT; k++) {
				struct lbr_metrics_counter *c = &m->provs[i].calls[o][k];

				/* Series never counted stay out (those the file
				 * has are kept below). */
				if (!total(c) && c->moved + c->delta == c->shown)
					continue;
				kv[3] = lbr_op_name((enum lbr_op)o);
				kv[5] = lbr_outcome_name((enum lbr_outcome)k);
				counter(f, pv,
					series_of(sb, sizeof(sb), "lbreconcile_api_calls_total", kv,
						  3),
					c);
			}
	}
	prev_rest(f, pv, "lbreconcile_api_calls_total");
	family(f, "lbreconcile_api_retries_total", "counter", "API requests retried.");
	for (i = 0; i < m->n_provs; i++) {
		kv[0] = "provider";
		kv[1] = m->provs[i].name;
		counter(f, pv, series_of(sb, sizeof(sb), "lbreconcile_api_retries_total", kv, 1),
			&m->provs[i].retries);
	}
	prev_rest(f, pv, "lbreconcile_api_retries_total");
	family(f, "lbreconcile_api_throttled_total", "counter",
	       "API requests answered with throttling.");
	for (i = 0; i < m->n_provs; i++) {
		kv[0] = "provider";
		kv[1] = m->provs[i].name;
		counter(f, pv, series_of(sb, sizeof(sb), "lbreconcile_api_throttled_total", kv, 1),
			&m->provs[i].throttled);
	}
	prev_rest(f, pv, "lbreconcile_api_throttled_total");
}

/* Processes writing one file take turns (an flock on PATH.lock), so that
 * each goes on from what the one before wrote and no counter goes back.
 * After 2 s (a stuck writer) the write goes ahead without it: -1. */
static int take_turn(const char *path)
{
	char *lp = lbr_asprintf("%s.lock", path);
	int fd, i;

	if (!lp)
		return -1;
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
	free(lp);
	if (fd < 0)
		return -1;
	for (i = 0; i < 200; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	close(fd);
	return -1;
}

int lbr_metrics_write(struct lbr_metrics *m, const char *path)
{
	char *tmp = lbr_asprintf("%s.tmp", path);
	struct prev pv;
	FILE *f = NULL;
	int fd = -1, r = LBR_EIO, saved, turn;

	if (!tmp)
		return LBR_ENOMEM;
	turn = take_turn(path);
	prev_load(&pv, path);
	unlink(tmp);
	/* 0644: node_exporter reads it; it holds no secret. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || fchmod(fd, 0644) < 0)
		goto fail;
	f = fdopen(fd, "w");
	if (!f)
		goto fail;
	fd = -1;
	body(f, m, &pv);
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0)
		goto fail;
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (rename(tmp, path) < 0)
		goto fail;
	each_counter(m, NULL, commit_shown);
	r = 0;
	goto out;
fail:
	saved = errno;
	/* The pass itself is what matters: a monitoring file that cannot be
	 * written is a warning, and the pass keeps its exit code. */
	lbr_warn("metrics: cannot write '%s' (%s)", path, strerror(saved));
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	each_counter(m, NULL, forget_shown);
out:
	if (turn >= 0)
		close(turn); /* releases the flock */
	prev_free(&pv);
	free(tmp);
	return r;
}
