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
	const char *cmd;
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

/* The build passes SYSCONFDIR (configure's sysconfdir); /etc otherwise. */
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* Declared by agent/cfg.h once the config search lands there. */
int lbr_cfg_find(const char *cli_path, char *out, size_t outlen, char *err, size_t errlen);

static const char usage_text[] =
	"usage: lbreconcile [-c FILE] [--json] [-v|-q] [--metrics-file PATH] COMMAND [OPTIONS]\n"
	"\n"
	"commands:\n"
	"  validate                 check the config and plugins (no network)\n"
	"  plan [--pool NAME]... [--detailed-exitcode]\n"
	"                           show what apply would do; changes nothing\n"
	"  apply [--pool NAME]... [--auto-approve] [--force]\n"
	"                           reconcile the pools until converged\n"
	"  drift [--pool NAME]...   report drift (exit 2 when found)\n"
	"  run [--once]             apply every `interval` seconds\n"
	"  state list | show [POOL] | unlock [--force] LOCK_ID\n"
	"                           inspect the recorded state, break a stale lock\n"
	"  providers                list the plugins in plugin_dir\n"
	"  version                  print the version\n"
	"  help [COMMAND]           show this text or a command's options\n"
	"\n"
	"global options (before or after the command):\n"
	"  -c, --config FILE        config file (default: $LBRECONCILE_CONFIG,\n"
	"                           ./lbreconcile.ini, " SYSCONFDIR "/lbreconcile/lbreconcile.ini)\n"
	"      --json               machine-readable output (SPEC §6)\n"
	"  -v, --verbose            more log lines (twice: debug)\n"
	"  -q, --quiet              print nothing but errors\n"
	"      --metrics-file PATH  write Prometheus metrics after the pass\n"
	"  -V, --version            print the version\n"
	"  -h, --help               show help (after a command: its options)\n"
	"\n"
	"exit codes: 0 ok, 1 error, 2 changes pending / drift, 3 refused by a\n"
	"safety guard, 4 state lock held by someone else.\n";

/* Option letters a command accepts besides the global ones. */
struct cmd_spec {
	const char *name;
	const char *opts;
	int max_args; /* -1: the command checks */
	const char *help;
};

static const struct cmd_spec cmds[] = {
	{ "validate", "", 0,
	  "usage: lbreconcile [GLOBAL OPTIONS] validate\n"
	  "\n"
	  "Parse and check the config and its plugins and secrets; no network.\n"
	  "Exit 0 valid, 1 invalid.\n" },
	{ "plan", "pd", 0,
	  "usage: lbreconcile [GLOBAL OPTIONS] plan [--pool NAME]... [--detailed-exitcode]\n"
	  "\n"
	  "Observe the pools and show what apply would do; never changes anything.\n"
	  "\n"
	  "  -p, --pool NAME          only this pool (repeatable)\n"
	  "      --detailed-exitcode  exit 2 when changes are pending\n" },
	{ "apply", "paf", 0,
	  "usage: lbreconcile [GLOBAL OPTIONS] apply [--pool NAME]... [--auto-approve] [--force]\n"
	  "\n"
	  "Observe, act and re-observe until the pools converge.\n"
	  "\n"
	  "  -p, --pool NAME          only this pool (repeatable)\n"
	  "      --auto-approve       do not ask; needed without a terminal\n"
	  "      --force              override the deletion guards for this run\n" },
	{ "drift", "p", 0,
	  "usage: lbreconcile [GLOBAL OPTIONS] drift [--pool NAME]...\n"
	  "\n"
	  "Report drift from the config and changes made outside lbreconcile since\n"
	  "the last recorded state; exit 2 when there is drift.\n"
	  "\n"
	  "  -p, --pool NAME          only this pool (repeatable)\n" },
	{ "run", "o", 0,
	  "usage: lbreconcile [GLOBAL OPTIONS] run [--once]\n"
	  "\n"
	  "Daemon: an apply pass every `interval` seconds.  SIGHUP reloads the\n"
	  "config; SIGTERM and SIGINT finish in-flight calls and exit 0.\n"
	  "\n"
	  "      --once               one pass, then exit with its code\n" },
	{ "state", "f", -1,
	  "usage: lbreconcile [GLOBAL OPTIONS] state list\n"
	  "       lbreconcile [GLOBAL OPTIONS] state show [POOL]\n"
	  "       lbreconcile [GLOBAL OPTIONS] state unlock [--force] LOCK_ID\n"
	  "\n"
	  "Inspect the recorded state, or remove a lock left by an agent that is\n"
	  "gone.\n"
	  "\n"
	  "      --force              (unlock) remove the lock even if its holder\n"
	  "                           looks alive\n" },
	{ "providers", "", 0,
	  "usage: lbreconcile [GLOBAL OPTIONS] providers\n"
	  "\n"
	  "List the plugins in plugin_dir with their ABI version, capabilities\n"
	  "and keys.  A config is used for plugin_dir when one is found; none is\n"
	  "needed.\n" },
	{ "version", "", 0,
	  "usage: lbreconcile [GLOBAL OPTIONS] version\n"
	  "\n"
	  "Print the version and the plugin ABI; needs no config.\n" },
	{ "help", "", 1,
	  "usage: lbreconcile help [COMMAND]\n"
	  "\n"
	  "Show the list of commands, or one command's options.\n" },
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct cmd_spec *cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_CMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

/* Levenshtein distance, for "did you mean"; names are short. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64], prev, tmp;

	if (la > 63 || lb > 63)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The nearest command within two edits (and fewer than the name has
 * letters), or NULL. */
static const char *cmd_suggest(const char *name)
{
	const char *best = NULL;
	size_t i, d, bd = 3;

	for (i = 0; i < N_CMDS; i++) {
		d = edit_distance(name, cmds[i].name);
		if (d < bd && d < strlen(name)) {
			bd = d;
			best = cmds[i].name;
		}
	}
	return best;
}

static int unknown_command(const char *name)
{
	const char *s = cmd_suggest(name);

	if (s)
		lbr_log_msg(LBR_LOG_ERROR, "unknown command '%s'; did you mean '%s'?", name, s);
	else
		lbr_log_msg(LBR_LOG_ERROR, "unknown command '%s'", name);
	lbr_log_msg(LBR_LOG_ERROR, "see 'lbreconcile help' for the list of commands");
	return EXIT_ERROR;
}

/* The config file found by lbr_cfg_find, once a command needs it. */
static char cfg_found[4096];

static const char *config_path(const struct opts *o, char *err, size_t errlen)
{
	if (!cfg_found[0] && lbr_cfg_find(o->config, cfg_found, sizeof(cfg_found), err, errlen) < 0) {
		cfg_found[0] = '\0';
		return NULL;
	}
	return cfg_found;
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
	const char *path = config_path(o, err, sizeof(err));

	if (!path || lbr_cfg_load(path, NULL, cfg, err, sizeof(err)) < 0) {
		lbr_log_msg(LBR_LOG_ERROR, "%s", err);
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
	if (o->json)
		lbr_report_validate_json(stdout, cfg->path, cfg->n_pools, cfg->n_providers, members);
	else if (!o->quiet)
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
	lbr_report_init(&rep, o->cmd, o->json, o->quiet, doc);
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
	else {
		/* -q prints no plan, but asking for "yes" needs one. */
		if (work && interactive && !o->auto_approve)
			rep.quiet = 0;
		lbr_report_plan_human(&rep, e, 0);
	}
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
			lbr_metrics_pass_begin(metrics);
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
			lbr_metrics_pass_done(metrics, rc);
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
			/* The same file again: SIGHUP re-reads, it does not
			 * search anew. */
			if (lbr_cfg_load(cfg_found, NULL, &ncfg, err, sizeof(err)) < 0) {
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

	if (argc < 1 || (strcmp(argv[0], "list") && strcmp(argv[0], "show") && strcmp(argv[0], "unlock")) ||
	    (!strcmp(argv[0], "list") && argc != 1) || (!strcmp(argv[0], "show") && argc > 2) ||
	    (!strcmp(argv[0], "unlock") && argc != 2)) {
		lbr_log_msg(LBR_LOG_ERROR, "state: expected list, show [POOL] or unlock [--force] LOCK_ID");
		return EXIT_ERROR;
	}
	if (o->force && strcmp(argv[0], "unlock") != 0) {
		lbr_log_msg(LBR_LOG_ERROR, "state %s: option '--force' is not valid here (see 'lbreconcile state --help')",
			    argv[0]);
		return EXIT_ERROR;
	}
	rc = load_config(o, &cfg);
	if (rc)
		return rc;
	rc = open_store(cfg, &st);
	if (rc)
		goto out;
	if (!strcmp(argv[0], "unlock")) {
		/* --force is accepted here so that scripts can say it; the
		 * store refuses to break a lock whose holder is alive. */
		if (lbr_state_force_unlock(st, argv[1], err, sizeof(err)) < 0) {
			lbr_log_msg(LBR_LOG_ERROR, "%s", err);
			rc = EXIT_ERROR;
			goto out;
		}
		if (o->json)
			lbr_report_unlock_json(stdout, lbr_state_store_location(st), argv[1]);
		else if (!o->quiet)
			printf("lock %s removed from %s\n", argv[1], lbr_state_store_location(st));
		rc = EXIT_OK;
		goto out;
	}
	rc = load_state(st, &doc);
	if (rc)
		goto out;
	if (!strcmp(argv[0], "list")) {
		if (o->json) {
			lbr_report_state_list_json(stdout, lbr_state_store_location(st), doc);
			rc = EXIT_OK;
			goto out;
		}
		for (i = 0; i < doc->n_pools; i++) {
			struct lbr_state_pool *p = &doc->pools[i];
			char ts[32] = "-";

			if (p->last_apply_at)
				lbr_time_fmt(p->last_apply_at, ts, sizeof(ts));
			printf("%-20s provider %-10s members %-6zu last apply %s %s\n", p->name, p->provider,
			       p->n_members, p->last_result ? p->last_result : "-", ts);
		}
		rc = EXIT_OK;
	} else {
		char *js;

		if (argc == 2 && !lbr_state_pool_find(doc, argv[1])) {
			lbr_log_msg(LBR_LOG_ERROR, "state show: no pool \"%s\" in %s", argv[1],
				    lbr_state_store_location(st));
			rc = EXIT_ERROR;
			goto out;
		}
		/* The state document is JSON already: the same with --json. */
		js = lbr_state_to_json(doc, argc == 2 ? argv[1] : NULL);
		if (!js) {
			rc = EXIT_ERROR;
			goto out;
		}
		printf("%s\n", js);
		free(js);
		rc = EXIT_OK;
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

/* plugin_dir of the config, when one is found and loads; else NULL.  The
 * config is optional here, so a problem with it is only a warning (and
 * only at -v when nobody named the file). */
static struct lbr_cfg *providers_config(const struct opts *o)
{
	const char *env = getenv("LBRECONCILE_CONFIG");
	int named = o->config || (env && *env);
	int level = named ? LBR_LOG_WARN : LBR_LOG_INFO;
	struct lbr_cfg *cfg = NULL;
	char err[2048];
	const char *path = config_path(o, err, sizeof(err));

	if (!path) {
		if (named)
			lbr_log(level, "%s; listing the default plugin_dir", err);
		return NULL;
	}
	if (lbr_cfg_load(path, NULL, &cfg, err, sizeof(err)) < 0) {
		lbr_log(level, "ignoring the config (%s); listing the default plugin_dir", err);
		return NULL;
	}
	return cfg;
}

static int cmd_providers(const struct opts *o)
{
	const char *dir = NULL;
	struct lbr_cfg *cfg = providers_config(o);
	struct lbr_report_plugin *pl = NULL;
	struct lbr_plugin **loaded = NULL;
	char **errs = NULL, **files = NULL;
	size_t n = 0, cap = 0, i, k;
	DIR *d;
	struct dirent *de;
	char path[4096], err[1024];
	int rc = EXIT_OK;

	if (cfg)
		dir = cfg->plugin_dir;
	if (!dir)
		dir = getenv("LBRECONCILE_PLUGIN_DIR");
	if (!dir || !*dir)
		dir = LBR_PLUGIN_DIR;
	d = opendir(dir);
	if (!d) {
		lbr_log_msg(LBR_LOG_ERROR, "cannot open plugin_dir '%s' (%s)", dir, strerror(errno));
		lbr_cfg_free(cfg);
		return EXIT_ERROR;
	}
	/* Load every plugin first, then print: one document for --json. */
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 4 || strcmp(de->d_name + len - 3, ".so") != 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			void *a = realloc(loaded, nc * sizeof(*loaded)), *b, *c;

			if (a)
				loaded = a;
			b = a ? realloc(errs, nc * sizeof(*errs)) : NULL;
			if (b)
				errs = b;
			c = b ? realloc(files, nc * sizeof(*files)) : NULL;
			if (!c) {
				rc = EXIT_ERROR;
				break;
			}
			files = c;
			cap = nc;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		loaded[n] = NULL;
		errs[n] = NULL;
		files[n] = strdup(de->d_name);
		if (lbr_plugin_load_path(path, &loaded[n], err, sizeof(err)) < 0) {
			loaded[n] = NULL;
			errs[n] = strdup(err);
			rc = EXIT_ERROR;
		}
		n++;
	}
	closedir(d);
	if (o->json) {
		pl = calloc(n + 1, sizeof(*pl));
		for (i = 0; pl && i < n; i++) {
			pl[i].file = files[i] ? files[i] : "?";
			pl[i].p = loaded[i];
			pl[i].error = loaded[i] ? NULL : errs[i] ? errs[i] : "cannot load";
		}
		if (pl)
			lbr_report_providers_json(stdout, dir, pl, n);
		else
			rc = EXIT_ERROR;
	} else {
		printf("plugins in %s (core plugin ABI %d.%d):\n", dir, LBR_PROVIDER_ABI_MAJOR,
		       LBR_PROVIDER_ABI_MINOR);
		for (i = 0; i < n; i++) {
			struct lbr_plugin *p = loaded[i];
			const char *caps[16];
			size_t nc;

			if (!p) {
				printf("  %-12s REJECTED: %s\n", files[i] ? files[i] : "?",
				       errs[i] ? errs[i] : "cannot load");
				continue;
			}
			printf("  %-12s version %s, ABI %u.%u, capabilities:", p->name,
			       p->ops.version ? p->ops.version : "?", (unsigned)p->ops.abi_major,
			       (unsigned)p->ops.abi_minor);
			nc = lbr_report_caps(p->ops.caps, caps, 16);
			for (k = 0; k < nc; k++)
				printf(" %s", caps[k]);
			printf("\n    [provider] keys:\n");
			print_keys(p->ops.provider_keys);
			printf("    [pool] keys:\n");
			print_keys(p->ops.pool_keys);
		}
		if (!n)
			printf("  (none)\n");
	}
	for (i = 0; i < n; i++) {
		if (loaded[i])
			lbr_plugin_free(loaded[i]);
		free(errs[i]);
		free(files[i]);
	}
	free(pl);
	free(loaded);
	free(errs);
	free(files);
	lbr_cfg_free(cfg);
	return rc;
}

static int cmd_version(const struct opts *o)
{
	if (o->json)
		lbr_report_version_json(stdout, PACKAGE_VERSION);
	else
		printf("lbreconcile %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, LBR_PROVIDER_ABI_MAJOR,
		       LBR_PROVIDER_ABI_MINOR);
	return EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
	const struct cmd_spec *c;

	if (argc == 0) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	c = cmd_find(argv[0]);
	if (!c)
		return unknown_command(argv[0]);
	fputs(c->help, stdout);
	return EXIT_OK;
}

/* The option as the user typed it, for messages. */
static const char *opt_text(int c, char **argv, int idx, char *buf, size_t len)
{
	if (c > 0 && c < 128 && c != '?' && c != ':') {
		snprintf(buf, len, "-%c", c);
		return buf;
	}
	return idx > 0 ? argv[idx - 1] : "?";
}

static const struct option gopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "metrics-file", required_argument, NULL, 'm' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "pool", required_argument, NULL, 'p' },
	{ "detailed-exitcode", no_argument, NULL, 'd' },
	{ "auto-approve", no_argument, NULL, 'a' },
	{ "force", no_argument, NULL, 'f' },
	{ "once", no_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

/* The long name of a command option letter, for messages. */
static const char *long_name(int c)
{
	const struct option *op;

	for (op = gopts; op->name; op++)
		if (op->val == c)
			return op->name;
	return "?";
}

/*
 * Parse argv: global options, the command, then the command's options and
 * arguments in any order (`state unlock ID --force`).  Returns -1 to go
 * on, or the exit code (help, version, usage errors).  *cmd_out is the
 * command, argc/argv its arguments.
 */
static int parse_args(int *argcp, char ***argvp, struct opts *o, const struct cmd_spec **cmd_out)
{
	int argc = *argcp, c, want_help = 0, want_version = 0, sub_argc, i;
	char **argv = *argvp, **sub_argv, buf[8];
	const struct cmd_spec *spec = NULL;
	const char *cmd;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:vqhVp:", gopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'j': o->json = 1; break;
		case 'v': o->verbose++; break;
		case 'q': o->quiet = 1; break;
		case 'm': o->metrics_file = optarg; break;
		case 'h': want_help = 1; break;
		case 'V': want_version = 1; break;
		case ':':
			lbr_log_msg(LBR_LOG_ERROR, "option '%s' needs a value",
				    opt_text(optopt, argv, optind, buf, sizeof(buf)));
			return EXIT_ERROR;
		case '?':
			lbr_log_msg(LBR_LOG_ERROR, "unknown option '%s' (see 'lbreconcile help')",
				    opt_text(optopt, argv, optind, buf, sizeof(buf)));
			return EXIT_ERROR;
		default:
			lbr_log_msg(LBR_LOG_ERROR, "option '--%s' goes after a command (see 'lbreconcile help')",
				    long_name(c));
			return EXIT_ERROR;
		}
	}
	if (want_version && optind >= argc)
		return cmd_version(o);
	if (optind >= argc) {
		if (want_help) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		lbr_log_text(LBR_LOG_ERROR, usage_text);
		return EXIT_ERROR;
	}
	cmd = argv[optind++];
	spec = cmd_find(cmd);
	if (!spec)
		return unknown_command(cmd);
	sub_argc = argc - optind + 1;
	sub_argv = argv + optind - 1;
	/* GNU getopt permutes: options may follow the arguments.  "--" ends
	 * the options.  optind 0, not 1: glibc then also resets its
	 * permutation state from the first pass. */
	optind = 0;
	while ((c = getopt_long(sub_argc, sub_argv, ":c:vqhVp:", gopts, NULL)) != -1) {
		if (c != ':' && c != '?' && strchr("pdafo", c) && !strchr(spec->opts, c)) {
			lbr_log_msg(LBR_LOG_ERROR, "%s: option '--%s' is not valid for this command (see 'lbreconcile %s --help')",
				    spec->name, long_name(c), spec->name);
			return EXIT_ERROR;
		}
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'j': o->json = 1; break;
		case 'v': o->verbose++; break;
		case 'q': o->quiet = 1; break;
		case 'm': o->metrics_file = optarg; break;
		case 'h': want_help = 1; break;
		case 'V': want_version = 1; break;
		case 'p': o->pools[o->n_pools++] = optarg; break;
		case 'd': o->detailed = 1; break;
		case 'a': o->auto_approve = 1; break;
		case 'f': o->force = 1; break;
		case 'o': o->once = 1; break;
		case ':':
			lbr_log_msg(LBR_LOG_ERROR, "%s: option '%s' needs a value", spec->name,
				    opt_text(optopt, sub_argv, optind, buf, sizeof(buf)));
			return EXIT_ERROR;
		default:
			lbr_log_msg(LBR_LOG_ERROR, "%s: unknown option '%s' (see 'lbreconcile %s --help')",
				    spec->name, opt_text(optopt, sub_argv, optind, buf, sizeof(buf)),
				    spec->name);
			return EXIT_ERROR;
		}
	}
	argc = sub_argc - optind;
	argv = sub_argv + optind;
	if (want_help) {
		fputs(spec->help, stdout);
		return EXIT_OK;
	}
	if (want_version)
		return cmd_version(o);
	if (spec->max_args >= 0 && argc > spec->max_args) {
		lbr_log_msg(LBR_LOG_ERROR, "%s: unexpected argument '%s' (see 'lbreconcile %s --help')",
			    spec->name, argv[spec->max_args], spec->name);
		return EXIT_ERROR;
	}
	for (i = 0; i < argc; i++)
		if (!argv[i][0]) {
			lbr_log_msg(LBR_LOG_ERROR, "%s: empty argument", spec->name);
			return EXIT_ERROR;
		}
	*argcp = argc;
	*argvp = argv;
	*cmd_out = spec;
	return -1;
}

int main(int argc, char **argv)
{
	const struct cmd_spec *spec = NULL;
	struct opts o;
	const char *cmd;
	int rc;
	struct sigaction sa;

	lbr_log_setup();
	memset(&o, 0, sizeof(o));
	harden_process();
	o.pools = calloc((size_t)argc + 1, sizeof(char *));
	if (!o.pools)
		return EXIT_ERROR;
	rc = parse_args(&argc, &argv, &o, &spec);
	if (rc >= 0) {
		free(o.pools);
		return rc;
	}
	cmd = o.cmd = spec->name;
	if (o.verbose && o.quiet) {
		lbr_log_msg(LBR_LOG_ERROR, "-v and -q cannot be combined");
		free(o.pools);
		return EXIT_ERROR;
	}
	lbr_log_level = o.quiet ? LBR_LOG_ERROR : o.verbose >= 2 ? LBR_LOG_DEBUG
		: o.verbose ? LBR_LOG_INFO : LBR_LOG_WARN;
	/* Commands that need neither config nor network. */
	if (!strcmp(cmd, "help")) {
		rc = cmd_help(argc, argv);
		free(o.pools);
		return rc;
	}
	if (o.metrics_file) {
		static struct lbr_metrics m;

		m.command = cmd;
		lbr_metrics_pass_begin(&m);
		metrics = &m;
		metrics_path = o.metrics_file;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (lbr_http_global_init() < 0) {
		lbr_log_msg(LBR_LOG_ERROR, "cannot initialise libcurl");
		return EXIT_ERROR;
	}
	if (!strcmp(cmd, "validate"))
		rc = cmd_validate(&o);
	else if (!strcmp(cmd, "plan"))
		rc = cmd_plan(&o, 0);
	else if (!strcmp(cmd, "drift"))
		rc = cmd_plan(&o, 1);
	else if (!strcmp(cmd, "apply"))
		rc = cmd_apply(&o);
	else if (!strcmp(cmd, "run"))
		rc = cmd_run(&o);
	else if (!strcmp(cmd, "state"))
		rc = cmd_state(&o, argc, argv);
	else if (!strcmp(cmd, "providers"))
		rc = cmd_providers(&o);
	else if (!strcmp(cmd, "version"))
		rc = cmd_version(&o);
	else
		rc = unknown_command(cmd);
	if (metrics && strcmp(cmd, "run") != 0) {
		lbr_metrics_pass_done(metrics, rc);
		/* A warning when it fails: the pass keeps its exit code. */
		lbr_metrics_write(metrics, metrics_path);
	}
	if (metrics)
		lbr_metrics_release(metrics);
	lbr_http_global_cleanup();
	free(o.pools);
	return rc;
}
