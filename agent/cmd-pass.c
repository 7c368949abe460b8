/*
 * The commands that observe clouds: plan, drift, apply and run.  A pass
 * (lock, state, engine, record) is put together here; its phases are the
 * engine's (engine.h).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/cfg.h"
#include "agent/cli.h"
#include "agent/engine.h"
#include "agent/pool.h"
#include "agent/verify.h"
#include "agent/host.h"
#include "agent/error.h"
#include "agent/lease.h"
#include "agent/log.h"
#include "agent/metrics.h"
#include "agent/record.h"
#include "agent/report.h"
#include "agent/stream.h"
#include "agent/util.h"
#include "state/state.h"

/* Exit code precedence: 1, then 4, then 3, then 2. */
static int combine(int a, int b)
{
	static const int rank[] = { 0, 4, 1, 2, 3 }; /* by exit code */

	return rank[b] > rank[a] ? b : a;
}

static int pool_exit(const struct lbr_pool_rt *p, int plan_detailed)
{
	if (!p->obs_ok || p->error || p->plan.n_blocked)
		return EXIT_ERROR;
	if (p->refused)
		return EXIT_REFUSED;
	/* Missing members are pending only where create = yes (they are
	 * then in the plan's creations). */
	if (plan_detailed && lbr_pool_work(p))
		return EXIT_CHANGES;
	return EXIT_OK;
}

int lbr_cli_open_store(struct lbr_cfg *cfg, struct lbr_state_store **st)
{
	char err[1024];

	lbr_lease_install_io(cfg->state_ca_file);
	if (lbr_state_store_open(cfg->state, cfg->dir, st, err, sizeof(err)) < 0) {
		fprintf(stderr, "lbreconcile: %s\n", err);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int lbr_cli_load_state(struct lbr_state_store *st, struct lbr_state **doc)
{
	char err[1024];
	int r = lbr_state_load(st, doc, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "lbreconcile: %s\n", err);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int lbr_cli_open_all(const struct lbr_opts *o, struct lbr_cfg **cfg, struct lbr_state_store **st,
		     struct lbr_state **doc)
{
	int rc = lbr_cli_load_config(o, cfg);

	if (!rc)
		rc = lbr_cli_open_store(*cfg, st);
	if (!rc && doc)
		rc = lbr_cli_load_state(*st, doc);
	return rc;
}

/* plan and drift: observe and report; never lock, never write. */
int lbr_cmd_plan(const struct lbr_opts *o, int drift)
{
	struct lbr_cfg *cfg = NULL;
	struct lbr_state_store *st = NULL;
	struct lbr_state *doc = NULL;
	struct lbr_engine *e = NULL;
	struct lbr_report rep;
	char err[1024];
	int rc;
	size_t i;

	rc = lbr_cli_open_all(o, &cfg, &st, &doc);
	if (rc)
		goto out;
	if (lbr_engine_new(cfg, o->pools, o->n_pools, 0, &e, err, sizeof(err)) < 0) {
		fprintf(stderr, "lbreconcile: %s\n", err);
		rc = EXIT_ERROR;
		goto out;
	}
	lbr_engine_observe_and_plan(e, doc);
	if (lbr_cli_metrics) {
		lbr_metrics_collect(lbr_cli_metrics, e, doc);
		lbr_metrics_load_bases(lbr_cli_metrics, doc);
	}
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
			fprintf(stderr, "lbreconcile: error: pool \"%s\": not observed\n",
				p->cfg->name);
		if (p->plan.n_blocked)
			fprintf(stderr,
				"lbreconcile: %spool \"%s\": %zu removal(s) would be blocked: %s\n",
				drift ? "" : "error: ", p->cfg->name, p->plan.n_blocked,
				p->plan.blocked[0].reason ? p->plan.blocked[0].reason : "");
		if (p->refused && !drift)
			fprintf(stderr, "lbreconcile: pool \"%s\": apply would be refused: %s\n",
				p->cfg->name, p->refuse_msg);

		/* drift: whatever differs from the file or the recorded state
		 * is drift (2), a weight or an L7-blocked removal included; a
		 * pool a guard would refuse has something to do, so it is
		 * drift too (the guard matters to apply).  The same test as
		 * the document's "drift" and the drift gauge. */
		if (drift && p->obs_ok && !p->error) {
			size_t a, d;

			pe = lbr_pool_differs(p) || lbr_report_changed_outside(doc, p, &a, &d)
				     ? EXIT_CHANGES
				     : EXIT_OK;
		}
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

/* Take the state lock (and start renewing its lease); unlock_store gives
 * it back. */
static int lock_store(struct lbr_cfg *cfg, struct lbr_state_store *st, const char *op,
		      struct lbr_lease **lease)
{
	struct lbr_lock_info holder;
	char err[1024] = "";
	int r;

	*lease = NULL;
	memset(&holder, 0, sizeof(holder));
	if (lbr_state_store_set_lock_ttl(st, cfg->lock_ttl) < 0 ||
	    (cfg->audit_spool && lbr_state_store_set_audit_spool(st, cfg->audit_spool) < 0)) {
		fprintf(stderr, "lbreconcile: state '%s': cannot set lock_ttl or audit_spool\n",
			lbr_state_store_location(st));
		return EXIT_ERROR;
	}
	r = lbr_state_lock(st, op, cfg->lock_timeout, &holder, err, sizeof(err));
	if (r == LBR_ELOCKED) {
		char ts[32] = "?";

		if (holder.created)
			lbr_time_fmt(holder.created, ts, sizeof(ts));
		fprintf(stderr,
			"lbreconcile: state '%s' is locked by %s (pid %ld on %s, %s since %s, lock id %s); waited %d s\n"
			"lbreconcile: if that agent is gone, run: lbreconcile state unlock %s\n",
			lbr_state_store_location(st),
			holder.operation[0] ? holder.operation : "another agent", holder.pid,
			holder.host[0] ? holder.host : "?", holder.operation, ts,
			holder.id[0] ? holder.id : "?", cfg->lock_timeout,
			holder.id[0] ? holder.id : "ID");
		return EXIT_LOCKED;
	}
	if (r < 0) {
		fprintf(stderr, "lbreconcile: %s\n", err[0] ? err : lbr_strerror(r));
		return EXIT_ERROR;
	}
	if (lbr_lease_start(st, cfg->lock_ttl, lease) < 0) {
		fprintf(stderr, "lbreconcile: cannot start renewing the lock of '%s'\n",
			lbr_state_store_location(st));
		lbr_state_unlock(st);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static void unlock_store(struct lbr_state_store *st, struct lbr_lease *lease)
{
	lbr_lease_stop(lease);
	lbr_state_unlock(st);
}

/* The state document an `apply` leaves to the kernel (see
 * lbr_engine_free_at_exit; volatile for the same reason). */
static struct lbr_state *volatile doc_at_exit;

/* One apply pass with the lock held.  Returns the exit code.  at_exit:
 * the process ends right after it (apply, not run). */
static int apply_pass(const struct lbr_opts *o, struct lbr_cfg *cfg, struct lbr_state_store *st,
		      int interactive, int at_exit)
{
	struct lbr_state *doc = NULL;
	struct lbr_engine *e = NULL;
	struct lbr_report rep;
	char err[1024] = "";
	int rc, summarized = 0;
	size_t i, work = 0, streamed = 0;

	rc = lbr_cli_load_state(st, &doc);
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
	if (!interactive || o->auto_approve) {
		/* Nobody to ask: each pool's first round starts as soon as
		 * its plan (and every plan before it) is out. */
		streamed = lbr_stream_first_round(e, doc);
		lbr_report_plan_end(&rep);
		for (i = 0; i < e->n_pools; i++)
			work += lbr_pool_work(&e->pools[i]);
	} else {
		lbr_engine_observe_and_plan(e, doc);
		for (i = 0; i < e->n_pools; i++)
			work += lbr_pool_work(&e->pools[i]);
		rep.actions_total = (unsigned)work;
		if (o->json)
			lbr_report_plan_events(&rep, e);
		else {
			/* -q prints no plan, but asking for "yes" needs one. */
			if (work)
				rep.quiet = 0;
			lbr_report_plan_human(&rep, e, 0);
		}
		if (work && !confirm()) {
			fprintf(stderr, "lbreconcile: apply cancelled; nothing was changed\n");
			rc = EXIT_ERROR;
			goto out;
		}
	}
	if (work || streamed)
		lbr_engine_apply(e);
	lbr_engine_finish(e);
	rc = EXIT_OK;
	for (i = 0; i < e->n_pools; i++)
		rc = combine(rc, pool_exit(&e->pools[i], 0));
	if (lbr_cli_metrics) {
		/* Counters are kept with the state: they go into the document
		 * before it is saved (NULL: our own removals are no drift). */
		lbr_metrics_collect(lbr_cli_metrics, e, NULL);
		lbr_metrics_pass_done(lbr_cli_metrics, rc);
		if (lbr_metrics_store_totals(lbr_cli_metrics, doc) < 0)
			lbr_warn("metrics: cannot keep the counters in the state (out of memory)");
	}
	if (lbr_record(e, st, doc, err, sizeof(err)) < 0 || e->fenced) {
		/* Fencing: what was done is in the audit log; the state is
		 * written only under a lock still held. */
		if (e->fenced)
			fprintf(stderr,
				"lbreconcile: lost the state lock of '%s' during the pass; stopped sending changes%s%s\n",
				lbr_state_store_location(st), err[0] ? ": " : "", err);
		else
			fprintf(stderr, "lbreconcile: %s\n", err);
		rc = EXIT_ERROR;
	}
	if (e->audit_lost) {
		fprintf(stderr,
			"lbreconcile: the audit log of '%s' lost a line during the pass; stopped "
			"sending changes\n",
			lbr_state_store_location(st));
		rc = combine(rc, EXIT_ERROR);
	}
	lbr_report_apply_summary(&rep, e, rc);
	summarized = 1;
	if (lbr_cli_metrics)
		lbr_metrics_pass_done(lbr_cli_metrics, rc);
out:
	/* --json: every pass ends with its summary event (SPEC §2). */
	if (!summarized)
		lbr_report_pass_failed(o->json, rc);
	if (at_exit) {
		/* The process ends after this pass: freeing every member's
		 * strings one by one would only delay the exit. */
		lbr_engine_free_at_exit(e);
		doc_at_exit = doc;
	} else {
		lbr_engine_free(e);
		lbr_state_free(doc);
	}
	return rc;
}

int lbr_cmd_apply(const struct lbr_opts *o)
{
	struct lbr_cfg *cfg = NULL;
	struct lbr_state_store *st = NULL;
	struct lbr_lease *lease = NULL;
	int rc, interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);

	/* A pipeline must say --auto-approve: refuse before any network
	 * call or lock. */
	if (!o->auto_approve && !interactive) {
		fprintf(stderr,
			"lbreconcile: apply needs confirmation but there is no terminal; use --auto-approve in pipelines\n");
		return EXIT_ERROR;
	}
	rc = lbr_cli_open_all(o, &cfg, &st, NULL);
	if (rc)
		goto out;
	rc = lock_store(cfg, st, "apply", &lease);
	if (rc) {
		lbr_report_pass_failed(o->json, rc);
		goto out;
	}
	rc = apply_pass(o, cfg, st, interactive, 1);
	unlock_store(st, lease);
out:
	/* The process ends now: the audit log is synced, the rest is left
	 * to the kernel. */
	lbr_state_store_free_at_exit(st);
	lbr_cfg_free_at_exit(cfg);
	return rc;
}

static volatile int reload_requested;

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

int lbr_cmd_run(const struct lbr_opts *o)
{
	struct lbr_cfg *cfg = NULL;
	struct lbr_state_store *st = NULL;
	struct lbr_opts po = *o;
	struct lbr_lease *lease = NULL;
	int rc, failures = 0, passed;

	po.auto_approve = 1;
	rc = lbr_cli_load_config(o, &cfg);
	if (rc)
		return rc;
	signal(SIGHUP, on_hup);
	for (;;) {
		uint64_t wait_ms;
		double jitter;

		if (lbr_cli_metrics)
			lbr_metrics_pass_begin(lbr_cli_metrics);
		passed = 0;
		rc = lbr_cli_open_store(cfg, &st);
		if (!rc) {
			rc = lock_store(cfg, st, "run", &lease);
			if (!rc) {
				rc = apply_pass(&po, cfg, st, 0, 0);
				passed = 1;
				unlock_store(st, lease);
			}
		}
		if (!passed)
			lbr_report_pass_failed(o->json, rc);
		lbr_state_store_free(st);
		st = NULL;
		if (lbr_cli_metrics) {
			lbr_metrics_pass_done(lbr_cli_metrics, rc);
			lbr_metrics_write(lbr_cli_metrics, lbr_cli_metrics_path);
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
			if (lbr_cfg_load(cfg->path, NULL, lbr_host_table(), &ncfg, err,
					 sizeof(err)) < 0) {
				lbr_err("reload failed, keeping the previous configuration: %s",
					err);
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
