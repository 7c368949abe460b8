/*
 * Observe: see observe.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/call.h"
#include "agent/exec.h"
#include "agent/observe.h"
#include "agent/sched.h"
#include "agent/util.h"

#define LBR_MAX_PAGES 100000u

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* How many other pools of prov wait for its first call: the connections
 * worth opening while that call is in flight (lbr_sched_warm). */
static unsigned others_waiting(const struct lbr_engine *e, const struct lbr_prov_rt *prov)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < e->n_pools; i++)
		n += e->pools[i].prov == prov;
	return n ? n - 1 : 0;
}

/* List every page of pool p into obs.  0, or -1 with why filled.  *prober:
 * this is the provider's first call, which the others wait for. */
static int list_all(struct lbr_engine *e, struct lbr_pool_rt *p, struct lbr_obs *obs, int *prober,
		    char *why, size_t whylen)
{
	struct lbr_prov_rt *prov = p->prov;
	char cursor[1024] = "", next[1024];
	struct lbr_call c;
	struct lbr_call_result res;
	unsigned pages = 0;
	char desc[1024];

	for (;;) {
		memset(&c, 0, sizeof(c));
		c.e = e;
		c.prov = prov;
		c.pool = p;
		c.op = LBR_OP_LIST;
		c.cursor = cursor;
		c.next_cursor = next;
		c.next_len = sizeof(next);
		c.obs = obs;
		next[0] = '\0';
		if (*prober)
			lbr_sched_warm(others_waiting(e, prov));
		lbr_call_run(&c, &res);
		if (*prober) {
			lbr_sched_warm(0);
			pthread_mutex_lock(&prov->mu);
			prov->probe = 2;
			lbr_exec_cond_broadcast(&prov->cv);
			pthread_mutex_unlock(&prov->mu);
			*prober = 0;
		}
		if (res.outcome != LBR_OUT_OK) {
			lbr_result_describe(&res, desc, sizeof(desc));
			snprintf(why, whylen,
				 "pool \"%s\": cannot list members (provider \"%s\"): %s",
				 p->cfg->name, prov->cfg->name, desc);
			return -1;
		}
		if (!next[0])
			break;
		if (++pages >= LBR_MAX_PAGES || !strcmp(next, cursor)) {
			char safe[128];

			lbr_obs_sanitize(next, safe, sizeof(safe)); /* the cloud's text */
			snprintf(
				why, whylen,
				"pool \"%s\": listing does not end (cursor '%s' repeated or over %u pages)",
				p->cfg->name, safe, LBR_MAX_PAGES);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", next);
	}
	/* The same id twice means the paging went wrong: do not act on it. */
	{
		size_t i, n = obs->n_members;
		const char **ids = malloc((n ? n : 1) * sizeof(char *));

		if (!ids) {
			snprintf(why, whylen, "pool \"%s\": out of memory", p->cfg->name);
			return -1;
		}
		for (i = 0; i < n; i++)
			ids[i] = obs->members[i].id;
		qsort(ids, n, sizeof(char *), cmp_strp);
		for (i = 1; i < n; i++)
			if (!strcmp(ids[i - 1], ids[i])) {
				snprintf(
					why, whylen,
					"pool \"%s\": the cloud listed member %s twice; not acting on an inconsistent listing",
					p->cfg->name, ids[i]);
				free(ids);
				return -1;
			}
		free(ids);
	}
	return 0;
}

int lbr_observe_peek(struct lbr_engine *e, struct lbr_pool_rt *p, struct lbr_obs **out, char *why,
		     size_t whylen)
{
	struct lbr_obs *obs = lbr_obs_new();
	int prober = 0;

	*out = NULL;
	if (!obs) {
		snprintf(why, whylen, "pool \"%s\": out of memory", p->cfg->name);
		return -1;
	}
	if (list_all(e, p, obs, &prober, why, whylen) < 0) {
		lbr_obs_free(obs);
		return -1;
	}
	*out = obs;
	return 0;
}

void lbr_observe_job(void *arg)
{
	struct lbr_observe_job *j = arg;
	struct lbr_pool_rt *p = j->p;
	struct lbr_prov_rt *prov = p->prov;
	struct lbr_obs *obs = lbr_obs_new();
	int prober = 0;
	char why[1536];

	p->obs_ok = 0;
	if (!obs) {
		lbr_pool_error(p, "pool \"%s\": out of memory", p->cfg->name);
		return;
	}
	/* The first call to each provider runs alone, so that bad
	 * credentials cost exactly one rejected call. */
	pthread_mutex_lock(&prov->mu);
	while (prov->probe == 1)
		lbr_exec_cond_wait(&prov->cv, &prov->mu);
	if (prov->probe == 0) {
		prov->probe = 1;
		prober = 1;
	}
	pthread_mutex_unlock(&prov->mu);
	if (list_all(j->e, p, obs, &prober, why, sizeof(why)) < 0) {
		lbr_pool_error(p, "%s", why);
		lbr_obs_free(obs);
		return;
	}
	/* The plan holds indices into the observation it was made from:
	 * it goes with it, and only a new plan may follow. */
	lbr_plan_release(&p->plan);
	lbr_obs_free(p->obs);
	p->obs = obs;
	p->obs_gen++;
	p->obs_ok = 1;
	if (!p->observed_once) {
		p->observed_once = 1;
		p->first_observed = obs->n_members;
	}
	if (j->e->sink.observed)
		j->e->sink.observed(j->e->sink.ud, p, j->round);
}

void lbr_observe_pools(struct lbr_engine *e, int round, int only_touched)
{
	struct lbr_observe_job *jobs = calloc(e->n_pools ? e->n_pools : 1, sizeof(*jobs));
	size_t i, n = 0;

	if (!jobs) {
		for (i = 0; i < e->n_pools; i++)
			lbr_pool_error(&e->pools[i], "pool \"%s\": out of memory",
				       e->pools[i].cfg->name);
		return;
	}
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		if (only_touched && !p->touched && !p->plan.n_pending && !p->plan.n_create_pending)
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
	lbr_exec_run(e->exec, lbr_observe_job, jobs, sizeof(*jobs), n);
	free(jobs);
}
