/*
 * The engine's objects: provider instances and pool runtimes, and the
 * observe-then-plan entry point.  The phases live in their own files (see
 * engine.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/call.h"
#include "agent/engine.h"
#include "agent/error.h"
#include "agent/exec.h"
#include "agent/guard.h"
#include "agent/http.h"
#include "agent/host.h"
#include "agent/limiter.h"
#include "agent/log.h"
#include "agent/observe.h"
#include "agent/pool.h"
#include "agent/preconnect.h"
#include "agent/util.h"
#include "state/state.h"

void lbr_engine_observe_and_plan(struct lbr_engine *e, const struct lbr_state *state)
{
	size_t i;

	/* Only a record of the same provider and target: ownership never
	 * carries over to another backend group. */
	for (i = 0; i < e->n_pools; i++)
		e->pools[i].rec = lbr_pool_record(state, &e->pools[i]);
	lbr_observe_pools(e, 1, 0);
	for (i = 0; i < e->n_pools; i++)
		lbr_pool_plan_first(e, &e->pools[i]);
}

/* --------------------------------------------------------- construction */

static int open_provider(struct lbr_prov_rt *pr, char *err, size_t errlen)
{
	struct lbr_kv *kv = lbr_cfg_provider_kv(pr->cfg);
	char perr[512] = "";
	int r;

	if (!kv) {
		snprintf(err, errlen, "out of memory");
		return LBR_ENOMEM;
	}
	memset(&pr->info, 0, sizeof(pr->info));
	pr->info.struct_size = sizeof(pr->info);
	r = pr->cfg->plugin->ops.open(lbr_host_table(), kv, pr->cfg->n_kv, &pr->inst, &pr->info,
				      perr, sizeof(perr));
	free(kv);
	lbr_plugin_fix_info(pr->cfg->plugin, &pr->info);
	if (r < 0) {
		lbr_scrub(perr, sizeof(perr));
		snprintf(err, errlen, "provider \"%s\": %s", pr->cfg->name, perr);
		return LBR_EINVAL;
	}
	return 0;
}

static int select_pools(struct lbr_engine *e, const char *const *pools, size_t n)
{
	struct lbr_cfg *cfg = e->cfg;
	size_t i, k;

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
		pthread_cond_init(&p->cv, NULL);
		for (k = 0; k < e->n_provs; k++)
			if (e->provs[k].cfg == cp->provider)
				p->prov = &e->provs[k];
		p->target.pool_name = cp->name;
		p->target.kv = cp->target_kv;
		for (k = 0; cp->target_kv[k].key; k++)
			p->target.n++;
		p->target.create = cp->create;
		p->target.members = cp->specs;
		p->target.n_members = cp->n_members;
	}
	return 0;
}

int lbr_engine_new(struct lbr_cfg *cfg, const char *const *pools, size_t n, int allow_mutate,
		   struct lbr_engine **out, char *err, size_t errlen)
{
	int r = LBR_ENOMEM, coop = 1;
	struct lbr_engine *e = calloc(1, sizeof(*e));
	size_t i;

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
	if (lbr_host_set_secrets(cfg) < 0)
		goto oom;
	e->provs = calloc(cfg->n_providers + 1, sizeof(*e->provs));
	e->pools = calloc(cfg->n_pools + 1, sizeof(*e->pools));
	if (!e->provs || !e->pools)
		goto oom;
	for (i = 0; i < cfg->n_providers; i++) {
		struct lbr_prov_rt *pr = &e->provs[i];

		pr->cfg = &cfg->providers[i];
		pthread_mutex_init(&pr->mu, NULL);
		pthread_cond_init(&pr->cv, NULL);
		lbr_limiter_init(pr, cfg->parallelism);
		e->n_provs++;
		r = open_provider(pr, err, errlen);
		if (r < 0)
			goto fail;
		coop &= !!(pr->info.caps & LBR_CAP_COOPERATIVE);
	}
	select_pools(e, pools, n);
	/* Every call goes through libcurl, loading since the start. */
	if (lbr_http_ready(err, errlen) < 0) {
		r = LBR_ERR;
		goto fail;
	}
	if (lbr_preconnect_configure(err, errlen) < 0) {
		r = LBR_ERR;
		goto fail;
	}
	r = lbr_exec_new((unsigned)cfg->parallelism, coop, &e->exec);
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

static void free_strings(char **s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

/* What lbr_engine_free_at_exit() left to the kernel.  volatile: a static
 * that is written and never read is dropped by the compiler, and the
 * memory would then be unreachable (a leak to valgrind and LSan). */
static struct lbr_pool_rt *volatile pools_at_exit;
static struct lbr_exec *volatile exec_at_exit;

void lbr_engine_free_at_exit(struct lbr_engine *e)
{
	if (!e)
		return;
	pools_at_exit = e->pools;
	e->pools = NULL;
	e->n_pools = 0;
	/* The executor too: its connections are closed and its task stacks
	 * unmapped by the kernel at exit (3.5 ms less on a VM, where libcurl
	 * closing 32 connections and the unmapping took that long). */
	exec_at_exit = e->exec;
	e->exec = NULL;
	lbr_engine_free(e);
}

void lbr_engine_free(struct lbr_engine *e)
{
	size_t i, k;

	if (!e)
		return;
	lbr_exec_free(e->exec);
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		lbr_plan_release(&p->plan);
		free(p->drain);
		lbr_obs_free(p->obs);
		free_strings(p->removed_ids, p->n_removed_ids);
		free_strings(p->created_keys, p->n_created_keys);
		for (k = 0; k < p->n_doubt; k++)
			free(p->doubt[k].id);
		free(p->doubt);
		free(p->error);
		free(p->soft_error);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
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
	lbr_host_clear_secrets();
	free(e);
}
