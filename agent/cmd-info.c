/*
 * The commands that read but do not reconcile: validate, state, providers,
 * version.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/cfg.h"
#include "agent/cli.h"
#include "agent/runtime.h"
#include "agent/host.h"
#include "agent/error.h"
#include "agent/lease.h"
#include "agent/log.h"
#include "agent/metrics.h"
#include "agent/record.h"
#include "agent/report.h"
#include "agent/util.h"
#include "state/state.h"

int lbr_cmd_validate(const struct lbr_opts *o)
{
	struct lbr_cfg *cfg = NULL;
	int rc = lbr_cli_load_config(o, &cfg);
	size_t i, members = 0;

	if (rc)
		return rc;
	for (i = 0; i < cfg->n_pools; i++)
		members += cfg->pools[i].n_members;
	if (o->json)
		lbr_report_validate_json(stdout, cfg->path, cfg->n_pools, cfg->n_providers,
					 members);
	else if (!o->quiet)
		printf("%s: ok (%zu pools, %zu providers, %zu declared members)\n", cfg->path,
		       cfg->n_pools, cfg->n_providers, members);
	lbr_cfg_free(cfg);
	return EXIT_OK;
}

int lbr_cmd_state(const struct lbr_opts *o, int argc, char **argv)
{
	struct lbr_cfg *cfg = NULL;
	struct lbr_state_store *st = NULL;
	struct lbr_state *doc = NULL;
	char err[1024];
	int rc;
	size_t i;

	if (argc < 1 ||
	    (strcmp(argv[0], "list") && strcmp(argv[0], "show") && strcmp(argv[0], "unlock")) ||
	    (!strcmp(argv[0], "list") && argc != 1) || (!strcmp(argv[0], "show") && argc > 2) ||
	    (!strcmp(argv[0], "unlock") && argc != 2)) {
		lbr_log_msg(LBR_LOG_ERROR,
			    "state: expected list, show [POOL] or unlock [--force] LOCK_ID");
		return EXIT_ERROR;
	}
	if (o->force && strcmp(argv[0], "unlock") != 0) {
		lbr_log_msg(
			LBR_LOG_ERROR,
			"state %s: option '--force' is not valid here (see 'lbreconcile state --help')",
			argv[0]);
		return EXIT_ERROR;
	}
	rc = lbr_cli_open_all(o, &cfg, &st, NULL);
	if (rc)
		goto out;
	if (!strcmp(argv[0], "unlock")) {
		/* --force is accepted here so that scripts can say it; the
		 * store refuses to break a lock whose holder is alive. */
		if (lbr_state_force_unlock(st, argv[1], o->force, err, sizeof(err)) < 0) {
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
	rc = lbr_cli_load_state(st, &doc);
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
			printf("%-20s provider %-10s members %-6zu last apply %s %s\n", p->name,
			       p->provider, p->n_members, p->last_result ? p->last_result : "-",
			       ts);
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
		printf("      %-20s %s%s%s\n", k->name,
		       k->flags & LBR_KEY_REQUIRED ? "(required) " : "",
		       k->flags & LBR_KEY_SECRET ? "(secret) " : "", k->help ? k->help : "");
}

/* plugin_dir of the config, when one is found and loads; else NULL.  The
 * config is optional here, so a problem with it is only a warning (and
 * only at -v when nobody named the file). */
static struct lbr_cfg *providers_config(const struct lbr_opts *o)
{
	const char *env = getenv("LBRECONCILE_CONFIG");
	int named = o->config || (env && *env);
	int level = named ? LBR_LOG_WARN : LBR_LOG_INFO;
	struct lbr_cfg *cfg = NULL;
	char err[2048];
	const char *path = lbr_cli_config_path(o, err, sizeof(err));

	if (!path) {
		if (named)
			lbr_log(level, "%s; listing the default plugin_dir", err);
		return NULL;
	}
	if (lbr_cfg_load(path, NULL, lbr_host_table(), &cfg, err, sizeof(err)) < 0) {
		lbr_log(level, "ignoring the config (%s); listing the default plugin_dir", err);
		return NULL;
	}
	return cfg;
}

int lbr_cmd_providers(const struct lbr_opts *o)
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
		lbr_log_msg(LBR_LOG_ERROR, "cannot open plugin_dir '%s' (%s)", dir,
			    strerror(errno));
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
			lbr_report_providers_json(stdout, dir, pl, n, cfg);
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
		if (cfg)
			lbr_report_instances_human(stdout, cfg);
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

int lbr_cmd_version(const struct lbr_opts *o)
{
	if (o->json)
		lbr_report_version_json(stdout, PACKAGE_VERSION);
	else
		printf("lbreconcile %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
		       LBR_PROVIDER_ABI_MAJOR, LBR_PROVIDER_ABI_MINOR);
	return EXIT_OK;
}
