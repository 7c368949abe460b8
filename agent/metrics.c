#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/error.h"
#include "agent/log.h"
#include "agent/metrics.h"
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
		mp->blocked = (unsigned)p->n_blocked;
		mp->missing = p->obs_ok ? (unsigned)p->n_missing : 0;
		mp->errors = (p->error || !p->obs_ok ? 1u : 0u);
		mp->policy_updates = p->rule_updates;
		if (p->obs_ok)
			lbr_report_changed_outside(state, p, &app, &dis);
		mp->drift = p->obs_ok && (p->n_remove || p->n_missing || p->n_pending || app || dis);
	}
	for (i = 0; i < e->n_provs; i++) {
		struct lbr_metrics_provider *mp = prov_slot(m, e->provs[i].cfg->name);
		const struct lbr_prov_stats *s = &e->provs[i].stats;

		if (!mp)
			continue;
		for (o = 0; o < LBR_OP_COUNT; o++)
			for (k = 0; k < LBR_OUTCOME_COUNT; k++)
				mp->stats.calls[o][k] += s->calls[o][k];
		mp->stats.retries += s->retries;
		mp->stats.throttled += s->throttled;
	}
}

void lbr_metrics_release(struct lbr_metrics *m)
{
	free(m->pools);
	free(m->provs);
	m->pools = NULL;
	m->provs = NULL;
	m->n_pools = m->n_provs = 0;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int lbr_metrics_write(const struct lbr_metrics *m, const char *path)
{
	char *tmp = lbr_asprintf("%s.tmp", path);
	FILE *f = NULL;
	int fd = -1, r = LBR_EIO;
	size_t i, o, k;

	if (!tmp)
		return LBR_ENOMEM;
	unlink(tmp);
	/* 0644: node_exporter reads it; it holds no secret. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || fchmod(fd, 0644) < 0)
		goto fail;
	f = fdopen(fd, "w");
	if (!f)
		goto fail;
	fd = -1;
	family(f, "lbreconcile_last_pass_start_timestamp_seconds", "gauge",
	       "Unix time the last pass started.");
	fprintf(f, "lbreconcile_last_pass_start_timestamp_seconds{command=\"%s\"} %.3f\n", m->command,
		m->pass_start);
	family(f, "lbreconcile_last_pass_end_timestamp_seconds", "gauge", "Unix time the last pass ended.");
	fprintf(f, "lbreconcile_last_pass_end_timestamp_seconds{command=\"%s\"} %.3f\n", m->command,
		m->pass_end);
	family(f, "lbreconcile_last_pass_duration_seconds", "gauge", "Duration of the last pass.");
	fprintf(f, "lbreconcile_last_pass_duration_seconds{command=\"%s\"} %.3f\n", m->command,
		m->pass_end - m->pass_start);
	family(f, "lbreconcile_last_pass_success", "gauge", "1 when the last pass exited 0 (or 2 for plan/drift).");
	fprintf(f, "lbreconcile_last_pass_success{command=\"%s\"} %d\n", m->command,
		m->exit_code == 0 || (m->exit_code == 2 && strcmp(m->command, "apply") != 0 &&
				      strcmp(m->command, "run") != 0));
	family(f, "lbreconcile_last_pass_exit_code", "gauge", "Exit code of the last pass.");
	fprintf(f, "lbreconcile_last_pass_exit_code{command=\"%s\"} %d\n", m->command, m->exit_code);
	family(f, "lbreconcile_passes_total", "counter", "Passes run by this process.");
	fprintf(f, "lbreconcile_passes_total{command=\"%s\"} %llu\n", m->command,
		(unsigned long long)m->passes);
	family(f, "lbreconcile_passes_failed_total", "counter", "Passes that did not succeed.");
	fprintf(f, "lbreconcile_passes_failed_total{command=\"%s\"} %llu\n", m->command,
		(unsigned long long)m->passes_failed);

#define POOL_GAUGE(metric, help, expr)                                                   \
	do {                                                                              \
		family(f, metric, "gauge", help);                                         \
		for (i = 0; i < m->n_pools; i++) {                                        \
			const struct lbr_metrics_pool *p = &m->pools[i];                  \
			fprintf(f, "%s{pool=\"%s\",provider=\"%s\"} %ld\n", metric, p->name, \
				p->provider, (long)(expr));                               \
		}                                                                         \
	} while (0)
	POOL_GAUGE("lbreconcile_pool_members_observed", "Members observed in the last pass (-1: not observed).",
		   p->observed);
	POOL_GAUGE("lbreconcile_pool_members_removed", "Members removed in the last pass.", p->removed);
	POOL_GAUGE("lbreconcile_pool_members_blocked", "Removals blocked by an L7 policy in the last pass.",
		   p->blocked);
	POOL_GAUGE("lbreconcile_pool_members_missing", "Declared members not in the pool.", p->missing);
	POOL_GAUGE("lbreconcile_pool_policy_updates", "L7 policies updated in the last pass.", p->policy_updates);
	POOL_GAUGE("lbreconcile_pool_drift", "1 when the pool differs from the config or the recorded state.",
		   p->drift);
	POOL_GAUGE("lbreconcile_pool_errors", "1 when the pool ended the last pass with an error.", p->errors);
#undef POOL_GAUGE

	family(f, "lbreconcile_api_calls_total", "counter", "API requests by provider, operation and outcome.");
	for (i = 0; i < m->n_provs; i++)
		for (o = 0; o < LBR_OP_COUNT; o++)
			for (k = 0; k < LBR_OUTCOME_COUNT; k++)
				if (m->provs[i].stats.calls[o][k])
					fprintf(f,
						"lbreconcile_api_calls_total{provider=\"%s\",operation=\"%s\",outcome=\"%s\"} %llu\n",
						m->provs[i].name, lbr_op_name((enum lbr_op)o),
						lbr_outcome_name((enum lbr_outcome)k),
						(unsigned long long)m->provs[i].stats.calls[o][k]);
	family(f, "lbreconcile_api_retries_total", "counter", "API requests retried.");
	for (i = 0; i < m->n_provs; i++)
		fprintf(f, "lbreconcile_api_retries_total{provider=\"%s\"} %llu\n", m->provs[i].name,
			(unsigned long long)m->provs[i].stats.retries);
	family(f, "lbreconcile_api_throttled_total", "counter", "API requests answered with throttling.");
	for (i = 0; i < m->n_provs; i++)
		fprintf(f, "lbreconcile_api_throttled_total{provider=\"%s\"} %llu\n", m->provs[i].name,
			(unsigned long long)m->provs[i].stats.throttled);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		goto fail;
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (rename(tmp, path) < 0)
		goto fail;
	r = 0;
	goto out;
fail:
	lbr_err("metrics: cannot write '%s' (%s)", path, strerror(errno));
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	return r;
}
