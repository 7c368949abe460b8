/*
 * lbreconcile: keep cloud load-balancer membership equal to what an INI
 * file declares.  This file is the command line; see SPEC §2.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/cfg.h"
#include "agent/engine.h"
#include "agent/error.h"
#include "agent/http.h"
#include "agent/log.h"
#include "agent/metrics.h"
#include "agent/report.h"
#include "agent/util.h"
#include "state/state.h"

enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_CHANGES = 2,
	EXIT_REFUSED = 3,
	EXIT_LOCKED = 4,
};

struct opts {
	const char *config;
	int json;
	int verbose;
	int quiet;
	const char *metrics_file;
	/* command options */
	const char **pools;
	size_t n_pools;
	int detailed;
	int auto_approve;
	int force;
	int once;
};

/* Set when --metrics-file is given: every pass records into it. */
static struct lbr_metrics *metrics;
static const char *metrics_path;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lbreconcile [-c FILE] [--json] [-v|-q] COMMAND [OPTIONS]\n"
		"\n"
		"commands:\n"
		"  validate                 check the config and plugins (no network)\n"
		"  plan [--pool NAME]... [--detailed-exitcode]\n"
		"                           show what apply would do; changes nothing\n"
		"  apply [--pool NAME]... [--auto-approve] [--force]\n"
		"                           remove undeclared members until converged\n"
		"  drift [--pool NAME]...   report drift (exit 2 when found)\n"
		"  run [--once]             apply every `interval` seconds\n"
		"  state list | show [POOL] | unlock LOCK_ID\n"
		"  providers                list the plugins in plugin_dir\n"
		"  version\n"
		"\n"
		"exit codes: 0 ok, 1 error, 2 changes pending / drift, 3 refused by a\n"
		"safety guard, 4 state lock held by someone else.\n");
}

static const char *config_path(const struct opts *o)
{
	const char *env = getenv("LBRECONCILE_CONFIG");

	if (o->config)
		return o->config;
	if (env && *env)
		return env;
	return "lbreconcile.ini";
}

static void on_signal(int sig)
{
	(void)sig;
	lbr_engine_stop = 1;
}

static void harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	/* Secrets live in this process's memory: no core dumps, no ptrace
	 * by other users. */
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
}

static int load_config(const struct opts *o, struct lbr_cfg **cfg)
{
	char err[2048];
	int r = lbr_cfg_load(config_path(o), NULL, cfg, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "lbreconcile: %s\n", err);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int cmd_validate(const struct opts *o)
{
	struct lbr_cfg *cfg = NULL;
	int rc = load_config(o, &cfg);
	size_t i, members = 0;

	if (rc)
		return rc;
	for (i = 0; i < cfg->n_pools; i++)
		members += cfg->pools[i].n_members;
	if (!o->quiet)
		printf("%s: ok (%zu pools, %zu providers, %zu declared members)\n", cfg->path,
		       cfg->n_pools, cfg->n_providers, members);
	lbr_cfg_free(cfg);
	return EXIT_OK;
}

/* Exit code precedence: 1, then 4, then 3, then 2. */
static int combine(int a, int b)
{
	static const int rank[] = { 0, 4, 1, 2, 3 }; /* by exit code */

	return rank[b] > rank[a] ? b : a;
}

static int pool_exit(const struct lbr_pool_rt *p, int plan_detailed)
{
	if (!p->obs_ok || p->error || p->n_blocked)
		return EXIT_ERROR;
	if (p->refused)
		return EXIT_REFUSED;
	if (plan_detailed && (p->n_remove || p->n_updates))
		return EXIT_CHANGES;
	return EXIT_OK;
}

static int open_store(struct lbr_cfg *cfg, struct lbr_state_store **st)
{
	char err[1024];

	if (lbr_state_store_open(cfg->state, cfg->dir, st, err, sizeof(err)) < 0) {
		fprintf(stderr, "lbreconcile: %s\n", err);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int load_state(struct lbr_state_store *st, struct lbr_state **doc)
{
	char err[1024];
	int r = lbr_state_load(st, doc, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "lbreconcile: %s\n", err);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* plan and drift: observe and report; never lock, never write. */
static int cmd_plan(const struct opts *o, int drift)
{
	struct lbr_cfg *cfg = NULL;
	struct lbr_state_store *st = NULL;
	struct lbr_state *doc = NULL;
	struct lbr_engine *e = NULL;
	struct lbr_report rep;
	char err[1024];
	int rc;
	size_t i;

	rc = load_config(o, &cfg);
	if (rc)
		goto out;
	rc = open_store(cfg, &st);
	if (rc)
		goto out;
	rc = load_state(st, &doc);
	if (rc)
		goto out;
	if (lbr_engine_new(cfg, o->pools, o->n_pools, 0, &e, err, sizeof(err)) < 0) {
		fprintf(stderr, "lbreconcile: %s\n", err);
		rc = EXIT_ERROR;
		goto out;
	}
	lbr_engine_observe_and_plan(e, doc);
	if (metrics)
		lbr_metrics_collect(metrics, e, doc);
	lbr_report_init(&rep, drift ? "drift" : "plan", o->json, o->quiet, doc);
	if (o->json)
		lbr_report_plan_json(&rep, e, drift);
	else
		lbr_report_plan_human(&rep, e, drift);
	rc = EXIT_OK;
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];
		int pe = pool_exit(p, !drift && o->detailed);

		/* Errors also go to stderr, whatever the output format. */
		if (p->error)
			fprintf(stderr, "lbreconcile: error: %s\n", p->error);
		else if (!p->obs_ok)
			fprintf(stderr, "lbreconcile: error: pool \"%s\": not observed\n", p->cfg->name);
		if (p->n_blocked)
			fprintf(stderr, "lbreconcile: error: pool \"%s\": %zu removal(s) would be blocked: %s\n",
				p->cfg->name, p->n_blocked, p->blocked[0].reason ? p->blocked[0].reason : "");
		if (p->refused && !drift)
			fprintf(stderr, "lbreconcile: pool \"%s\": apply would be refused: %s\n",
				p->cfg->name, p->refuse_msg);

		if (drift && pe == EXIT_OK && p->obs_ok) {
			size_t a, d;

			if (p->n_remove || p->n_missing || lbr_report_changed_outside(doc, p, &a, &d))
				pe = EXIT_CHANGES;
			if (p->refused)
				pe = EXIT_CHANGES; /* drift reports; the guard matters to apply */
		}
		if (drift && pe == EXIT_REFUSED)
			pe = EXIT_CHANGES;
		rc = combine(rc, pe);
	}
out:
	lbr_engine_free(e);
	lbr_state_free(doc);
	lbr_state_store_free(st);
	lbr_cfg_free(cfg);
	return rc;
}

static int confirm(void)
{
	char line[64];

	printf("\nDo you want to perform these actions?\n"
	       "  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	line[strcspn(line, "\r\n")] = '\0';
	return strcmp(line, "yes") == 0;
}

/* Record what the pass observed and did. */
static int record_state(struct lbr_engine *e, struct lbr_state_store *st, struct lbr_state *doc)
{
	char err[1024];
	size_t i, k;
	int64_t now = (int64_t)time(NULL);

	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];
		struct lbr_state_pool sp, *old;
		struct lbr_state_target *tg = NULL;
		struct lbr_state_member *mem = NULL;
		const char *result;
		int r;

		memset(&sp, 0, sizeof(sp));
		old = lbr_state_pool_find(doc, p->cfg->name);
		sp.name = (char *)p->cfg->name;
		sp.provider = p->prov->cfg->name;
		tg = calloc(p->target.n + 1, sizeof(*tg));
		if (!tg)
			return EXIT_ERROR;
		for (k = 0; k < p->target.n; k++) {
			tg[k].key = (char *)p->target.kv[k].key;
			tg[k].value = (char *)p->target.kv[k].value;
		}
		sp.targets = tg;
		sp.n_targets = p->target.n;
		if (p->obs_ok) {
			mem = calloc(p->obs->n_members + 1, sizeof(*mem));
			if (!mem) {
				free(tg);
				return EXIT_ERROR;
			}
			for (k = 0; k < p->obs->n_members; k++) {
				mem[k].id = p->obs->members[k].id;
				mem[k].address = p->obs->members[k].address;
				mem[k].port = p->obs->members[k].port;
			}
			sp.members = mem;
			sp.n_members = p->obs->n_members;
			sp.observed_at = now;
		} else if (old) {
			sp.members = old->members;
			sp.n_members = old->n_members;
			sp.observed_at = old->observed_at;
		}
		if (!p->obs_ok || p->error || p->n_blocked)
			result = p->n_blocked && !p->error && p->obs_ok ? "blocked" : "error";
		else if (p->refused)
			result = "refused";
		else if (p->frozen)
			result = "config_changed";
		else if (p->n_remove || p->n_pending)
			result = "not_converged";
		else
			result = "converged";
		sp.last_result = (char *)result;
		sp.last_apply_at = now;
		sp.last_removed = p->removed + p->already_gone;
		sp.last_errors = p->failed + (p->error ? 1u : 0u);
		r = lbr_state_pool_put(doc, &sp);
		free(tg);
		free(mem);
		if (r < 0)
			return EXIT_ERROR;
	}
	if (lbr_state_save(st, doc, err, sizeof(err)) < 0) {
		fprintf(stderr, "lbreconcile: %s\n", err);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int lock_store(struct lbr_cfg *cfg, struct lbr_state_store *st, const char *op)
{
	struct lbr_lock_info holder;
	char err[1024] = "";
	int r;

	memset(&holder, 0, sizeof(holder));
	r = lbr_state_lock(st, op, cfg->lock_timeout, &holder, err, sizeof(err));
	if (r == LBR_ELOCKED) {
		char ts[32] = "?";

		if (holder.created)
			lbr_time_fmt(holder.created, ts, sizeof(ts));
		fprintf(stderr,
			"lbreconcile: state '%s' is locked by %s (pid %ld on %s, %s since %s, lock id %s); waited %d s\n"
			"lbreconcile: if that agent is gone, run: lbreconcile state unlock %s\n",
			lbr_state_store_location(st), holder.operation[0] ? holder.operation : "another agent",
			holder.pid, holder.host[0] ? holder.host : "?", holder.operation, ts,
			holder.id[0] ? holder.id : "?", cfg->lock_timeout, holder.id[0] ? holder.id : "ID");
		return EXIT_LOCKED;
	}
	if (r < 0) {
		fprintf(stderr, "lbreconcile: %s\n", err[0] ? err : lbr_strerror(r));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* One apply pass with the lock held.  Returns the exit code. */
static int apply_pass(const struct opts *o, struct lbr_cfg *cfg, struct lbr_state_store *st,
		      int interactive)
{
	struct lbr_state *doc = NULL;
	struct lbr_engine *e = NULL;
	struct lbr_report rep;
	char err[1024];
	int rc;
	size_t i, work = 0;

	rc = load_state(st, &doc);
	if (rc)
		goto out;
	if (lbr_engine_new(cfg, o->pools, o->n_pools, 1, &e, err, sizeof(err)) < 0) {
		fprintf(stderr, "lbreconcile: %s\n", err);
		rc = EXIT_ERROR;
		goto out;
	}
	e->force = o->force;
	e->store = st;
	lbr_report_init(&rep, "apply", o->json, o->quiet, doc);
	e->sink = lbr_report_sink(&rep);
	lbr_engine_observe_and_plan(e, doc);
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];

		if (p->obs_ok && !p->refused)
			work += p->n_remove + p->n_updates;
	}
	rep.actions_total = (unsigned)work;
	if (o->json)
		lbr_report_plan_events(&rep, e);
	else if (!o->quiet || work)
		lbr_report_plan_human(&rep, e, 0);
	if (work && interactive && !o->auto_approve) {
		if (!confirm()) {
			fprintf(stderr, "lbreconcile: apply cancelled; nothing was changed\n");
			rc = EXIT_ERROR;
			goto out;
		}
	}
	if (work)
		lbr_engine_apply(e);
	rc = EXIT_OK;
	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];
		int pe = pool_exit(p, 0);

		if (pe == EXIT_OK && (p->n_remove || p->n_pending) && !p->refused && !p->frozen) {
			if (!p->error) {
				char *msg = lbr_asprintf("pool \"%s\": not converged after %d rounds (%zu members still listed)%s%s",
							 p->cfg->name, cfg->max_rounds, p->n_remove + p->n_pending,
							 p->soft_error ? "; last error: " : "",
							 p->soft_error ? p->soft_error : "");

				p->error = msg;
			}
			pe = EXIT_ERROR;
		}
		if (p->n_blocked && !p->error) {
			p->error = lbr_asprintf("pool \"%s\": %zu removal(s) blocked: %s", p->cfg->name,
						p->n_blocked, p->blocked[0].reason ? p->blocked[0].reason : "");
		}
		rc = combine(rc, pe);
	}
	if (record_state(e, st, doc) != EXIT_OK)
		rc = EXIT_ERROR;
	lbr_report_apply_summary(&rep, e, rc);
	if (metrics)
		lbr_metrics_collect(metrics, e, doc);
out:
	lbr_engine_free(e);
	lbr_state_free(doc);
	return rc;
}

static int cmd_apply(const struct opts *o)
{
	struct lbr_cfg *cfg = NULL;
	struct lbr_state_store *st = NULL;
	int rc, interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);

	/* A pipeline must say --auto-approve: refuse before any network
	 * call or lock. */
	if (!o->auto_approve && !interactive) {
		fprintf(stderr,
			"lbreconcile: apply needs confirmation but there is no terminal; use --auto-approve in pipelines\n");
		return EXIT_ERROR;
	}
	rc = load_config(o, &cfg);
	if (rc)
		goto out;
	rc = open_store(cfg, &st);
	if (rc)
		goto out;
	rc = lock_store(cfg, st, "apply");
	if (rc)
		goto out;
	rc = apply_pass(o, cfg, st, interactive);
	lbr_state_unlock(st);
out:
	lbr_state_store_free(st);
	lbr_cfg_free(cfg);
	return rc;
}

static volatile int reload_requested;

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

static int cmd_run(const struct opts *o)
{
	struct lbr_cfg *cfg = NULL;
	struct lbr_state_store *st = NULL;
	struct opts po = *o;
	int rc, failures = 0;

	po.auto_approve = 1;
	rc = load_config(o, &cfg);
	if (rc)
		return rc;
	signal(SIGHUP, on_hup);
	for (;;) {
		uint64_t wait_ms;
		double jitter;

		if (metrics)
			metrics->pass_start = lbr_metrics_now();
		rc = open_store(cfg, &st);
		if (!rc) {
			rc = lock_store(cfg, st, "run");
			if (!rc) {
				rc = apply_pass(&po, cfg, st, 0);
				lbr_state_unlock(st);
			}
		}
		lbr_state_store_free(st);
		st = NULL;
		if (metrics) {
			metrics->pass_end = lbr_metrics_now();
			metrics->exit_code = rc;
			metrics->passes++;
			metrics->passes_failed += rc != EXIT_OK;
			lbr_metrics_write(metrics, metrics_path);
		}
		if (o->once || lbr_engine_stop)
			break;
		failures = rc == EXIT_OK ? 0 : failures + 1;
		/* ±10 % jitter; after failures, back off up to 8× the
		 * interval but never stop. */
		jitter = 0.9 + 0.2 * lbr_random();
		wait_ms = (uint64_t)((double)cfg->interval * 1000.0 * jitter);
		if (failures > 1)
			wait_ms *= (uint64_t)(failures > 4 ? 8 : 1u << (failures - 1));
		if (rc != EXIT_OK)
			lbr_warn("pass failed (exit %d); next pass in %llu ms", rc,
				 (unsigned long long)wait_ms);
		else
			lbr_info("pass done; next pass in %llu ms", (unsigned long long)wait_ms);
		while (wait_ms > 0 && !lbr_engine_stop && !reload_requested) {
			uint64_t step = wait_ms > 200 ? 200 : wait_ms;

			lbr_sleep_ms(step, &lbr_engine_stop);
			wait_ms -= step;
		}
		if (lbr_engine_stop)
			break;
		if (reload_requested) {
			struct lbr_cfg *ncfg = NULL;
			char err[2048];

			reload_requested = 0;
			if (lbr_cfg_load(config_path(o), NULL, &ncfg, err, sizeof(err)) < 0) {
				lbr_err("reload failed, keeping the previous configuration: %s", err);
			} else {
				lbr_info("configuration reloaded from %s", ncfg->path);
				lbr_cfg_free(cfg);
				cfg = ncfg;
			}
		}
	}
	lbr_cfg_free(cfg);
	/* SIGTERM/SIGINT: in-flight calls finished and state was recorded. */
	return lbr_engine_stop ? EXIT_OK : rc;
}

static int cmd_state(const struct opts *o, int argc, char **argv)
{
	struct lbr_cfg *cfg = NULL;
	struct lbr_state_store *st = NULL;
	struct lbr_state *doc = NULL;
	char err[1024];
	int rc;
	size_t i;

	if (argc < 1) {
		fprintf(stderr, "lbreconcile: state: expected list, show [POOL] or unlock LOCK_ID\n");
		return EXIT_ERROR;
	}
	rc = load_config(o, &cfg);
	if (rc)
		return rc;
	rc = open_store(cfg, &st);
	if (rc)
		goto out;
	if (!strcmp(argv[0], "unlock")) {
		if (argc != 2) {
			fprintf(stderr, "lbreconcile: state unlock: expected LOCK_ID\n");
			rc = EXIT_ERROR;
			goto out;
		}
		if (lbr_state_force_unlock(st, argv[1], err, sizeof(err)) < 0) {
			fprintf(stderr, "lbreconcile: %s\n", err);
			rc = EXIT_ERROR;
			goto out;
		}
		if (!o->quiet)
			printf("lock %s removed from %s\n", argv[1], lbr_state_store_location(st));
		rc = EXIT_OK;
		goto out;
	}
	rc = load_state(st, &doc);
	if (rc)
		goto out;
	if (!strcmp(argv[0], "list") && argc == 1) {
		for (i = 0; i < doc->n_pools; i++) {
			struct lbr_state_pool *p = &doc->pools[i];
			char ts[32] = "-";

			if (p->last_apply_at)
				lbr_time_fmt(p->last_apply_at, ts, sizeof(ts));
			printf("%-20s provider %-10s members %-6zu last apply %s %s\n", p->name, p->provider,
			       p->n_members, p->last_result ? p->last_result : "-", ts);
		}
		rc = EXIT_OK;
	} else if (!strcmp(argv[0], "show") && argc <= 2) {
		char *js;

		if (argc == 2 && !lbr_state_pool_find(doc, argv[1])) {
			fprintf(stderr, "lbreconcile: state show: no pool \"%s\" in %s\n", argv[1],
				lbr_state_store_location(st));
			rc = EXIT_ERROR;
			goto out;
		}
		js = lbr_state_to_json(doc, argc == 2 ? argv[1] : NULL);
		if (!js) {
			rc = EXIT_ERROR;
			goto out;
		}
		printf("%s\n", js);
		free(js);
		rc = EXIT_OK;
	} else {
		fprintf(stderr, "lbreconcile: state: expected list, show [POOL] or unlock LOCK_ID\n");
		rc = EXIT_ERROR;
	}
out:
	lbr_state_free(doc);
	lbr_state_store_free(st);
	lbr_cfg_free(cfg);
	return rc;
}

static void print_keys(const struct lbr_key_spec *k)
{
	for (; k && k->name; k++)
		printf("      %-20s %s%s%s\n", k->name, k->flags & LBR_KEY_REQUIRED ? "(required) " : "",
		       k->flags & LBR_KEY_SECRET ? "(secret) " : "", k->help ? k->help : "");
}

static int cmd_providers(const struct opts *o)
{
	const char *dir = NULL;
	struct lbr_cfg *cfg = NULL;
	DIR *d;
	struct dirent *de;
	char path[4096], err[1024];
	int found = 0, rc = EXIT_OK;

	/* The config is optional here: without one, use the default dir. */
	if (access(config_path(o), R_OK) == 0) {
		if (load_config(o, &cfg))
			return EXIT_ERROR;
		dir = cfg->plugin_dir;
	}
	if (!dir)
		dir = getenv("LBRECONCILE_PLUGIN_DIR");
	if (!dir || !*dir)
		dir = LBR_PLUGIN_DIR;
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "lbreconcile: cannot open plugin_dir '%s' (%s)\n", dir, strerror(errno));
		lbr_cfg_free(cfg);
		return EXIT_ERROR;
	}
	printf("plugins in %s (core plugin ABI %d.%d):\n", dir, LBR_PROVIDER_ABI_MAJOR, LBR_PROVIDER_ABI_MINOR);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct lbr_plugin *p = NULL;

		if (n < 4 || strcmp(de->d_name + n - 3, ".so") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lbr_plugin_load_path(path, &p, err, sizeof(err)) < 0) {
			printf("  %-12s REJECTED: %s\n", de->d_name, err);
			rc = EXIT_ERROR;
			continue;
		}
		found++;
		printf("  %-12s version %s, ABI %u.%u, capabilities:%s%s%s%s\n", p->name,
		       p->ops.version ? p->ops.version : "?", (unsigned)p->ops.abi_major,
		       (unsigned)p->ops.abi_minor, " remove",
		       p->ops.caps & LBR_CAP_RULES ? " rules" : "", p->ops.caps & LBR_CAP_DRAIN ? " drain" : "",
		       p->ops.caps & LBR_CAP_COOPERATIVE ? " cooperative" : "");
		printf("    [provider] keys:\n");
		print_keys(p->ops.provider_keys);
		printf("    [pool] keys:\n");
		print_keys(p->ops.pool_keys);
		lbr_plugin_free(p);
	}
	closedir(d);
	if (!found)
		printf("  (none)\n");
	lbr_cfg_free(cfg);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option gopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "metrics-file", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "pool", required_argument, NULL, 'p' },
		{ "detailed-exitcode", no_argument, NULL, 'd' },
		{ "auto-approve", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "once", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	const char *cmd;
	int c, rc;
	struct sigaction sa;

	memset(&o, 0, sizeof(o));
	harden_process();
	o.pools = calloc((size_t)argc + 1, sizeof(char *));
	if (!o.pools)
		return EXIT_ERROR;
	/* Options may come before or after the command. */
	while ((c = getopt_long(argc, argv, "+c:vqh", gopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'j': o.json = 1; break;
		case 'v': o.verbose++; break;
		case 'q': o.quiet = 1; break;
		case 'm': o.metrics_file = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	cmd = argv[optind++];
	{
		int sub_argc = argc - optind + 1;
		char **sub_argv = argv + optind - 1;

		optind = 1;
		while ((c = getopt_long(sub_argc, sub_argv, "c:vqh", gopts, NULL)) != -1) {
			switch (c) {
			case 'c': o.config = optarg; break;
			case 'j': o.json = 1; break;
			case 'v': o.verbose++; break;
			case 'q': o.quiet = 1; break;
			case 'm': o.metrics_file = optarg; break;
			case 'p': o.pools[o.n_pools++] = optarg; break;
			case 'd': o.detailed = 1; break;
			case 'a': o.auto_approve = 1; break;
			case 'f': o.force = 1; break;
			case 'o': o.once = 1; break;
			case 'h': usage(stdout); return EXIT_OK;
			default: usage(stderr); return EXIT_ERROR;
			}
		}
		argc = sub_argc - optind;
		argv = sub_argv + optind;
	}
	if (o.metrics_file) {
		static struct lbr_metrics m;

		m.command = cmd;
		m.pass_start = lbr_metrics_now();
		metrics = &m;
		metrics_path = o.metrics_file;
	}
	if (o.verbose && o.quiet) {
		fprintf(stderr, "lbreconcile: -v and -q cannot be combined\n");
		return EXIT_ERROR;
	}
	lbr_log_level = o.quiet ? LBR_LOG_ERROR : o.verbose >= 2 ? LBR_LOG_DEBUG
		: o.verbose ? LBR_LOG_INFO : LBR_LOG_WARN;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (lbr_http_global_init() < 0) {
		fprintf(stderr, "lbreconcile: cannot initialise libcurl\n");
		return EXIT_ERROR;
	}
	/* Which options go with which command. */
	if ((o.n_pools && strcmp(cmd, "plan") && strcmp(cmd, "apply") && strcmp(cmd, "drift")) ||
	    (o.detailed && strcmp(cmd, "plan")) ||
	    ((o.auto_approve || o.force) && strcmp(cmd, "apply")) || (o.once && strcmp(cmd, "run"))) {
		fprintf(stderr, "lbreconcile: %s: option not valid for this command\n", cmd);
		rc = EXIT_ERROR;
	} else if (!strcmp(cmd, "validate") && argc == 0) {
		rc = cmd_validate(&o);
	} else if (!strcmp(cmd, "plan") && argc == 0) {
		rc = cmd_plan(&o, 0);
	} else if (!strcmp(cmd, "drift") && argc == 0) {
		rc = cmd_plan(&o, 1);
	} else if (!strcmp(cmd, "apply") && argc == 0) {
		rc = cmd_apply(&o);
	} else if (!strcmp(cmd, "run") && argc == 0) {
		rc = cmd_run(&o);
	} else if (!strcmp(cmd, "state")) {
		rc = cmd_state(&o, argc, argv);
	} else if (!strcmp(cmd, "providers") && argc == 0) {
		rc = cmd_providers(&o);
	} else if (!strcmp(cmd, "version") && argc == 0) {
		printf("lbreconcile %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, LBR_PROVIDER_ABI_MAJOR,
		       LBR_PROVIDER_ABI_MINOR);
		rc = EXIT_OK;
	} else {
		fprintf(stderr, "lbreconcile: unknown command or extra arguments: '%s'\n", cmd);
		usage(stderr);
		rc = EXIT_ERROR;
	}
	if (metrics && strcmp(cmd, "run") != 0) {
		metrics->pass_end = lbr_metrics_now();
		metrics->exit_code = rc;
		metrics->passes = 1;
		metrics->passes_failed = rc != EXIT_OK && !(rc == EXIT_CHANGES && strcmp(cmd, "apply"));
		if (lbr_metrics_write(metrics, metrics_path) < 0 && rc == EXIT_OK)
			rc = EXIT_ERROR;
	}
	if (metrics)
		lbr_metrics_release(metrics);
	lbr_http_global_cleanup();
	free(o.pools);
	return rc;
}
