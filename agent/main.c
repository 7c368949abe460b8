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
#include "agent/cli.h"
#include "agent/runtime.h"
#include "agent/host.h"
#include "agent/error.h"
#include "agent/http.h"
#include "agent/lease.h"
#include "agent/log.h"
#include "agent/metrics.h"
#include "agent/report.h"
#include "agent/util.h"
#include "state/state.h"

/* Set when --metrics-file is given: every pass records into it. */
#ifndef LBR_SYSCONFDIR
#define LBR_SYSCONFDIR "/etc"
#endif

struct lbr_metrics *lbr_cli_metrics;
const char *lbr_cli_metrics_path;

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
	"                           ./lbreconcile.ini, " LBR_SYSCONFDIR
	"/lbreconcile/lbreconcile.ini)\n"
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
/* What a command does besides its own work (cmd_spec.does). */
#define CMD_CALLS 1    /* may call a cloud or etcd: load libcurl from the start */
#define CMD_ONE_PASS 2 /* one pass over the pools, then exit: prefault its heap */

struct cmd_spec {
	const char *name;
	const char *opts;
	int max_args; /* -1: the command checks */
	unsigned does;
	const char *help;
};

static const struct cmd_spec cmds[] = {
	{ "validate", "", 0, 0,
	  "usage: lbreconcile [GLOBAL OPTIONS] validate\n"
	  "\n"
	  "Parse and check the config and its plugins and secrets; no network.\n"
	  "Exit 0 valid, 1 invalid.\n" },
	{ "plan", "pd", 0, CMD_CALLS | CMD_ONE_PASS,
	  "usage: lbreconcile [GLOBAL OPTIONS] plan [--pool NAME]... [--detailed-exitcode]\n"
	  "\n"
	  "Observe the pools and show what apply would do; never changes anything.\n"
	  "\n"
	  "  -p, --pool NAME          only this pool (repeatable)\n"
	  "      --detailed-exitcode  exit 2 when changes are pending\n" },
	{ "apply", "paf", 0, CMD_CALLS | CMD_ONE_PASS,
	  "usage: lbreconcile [GLOBAL OPTIONS] apply [--pool NAME]... [--auto-approve] [--force]\n"
	  "\n"
	  "Observe, act and re-observe until the pools converge.\n"
	  "\n"
	  "  -p, --pool NAME          only this pool (repeatable)\n"
	  "      --auto-approve       do not ask; needed without a terminal\n"
	  "      --force              override the deletion guards for this run\n" },
	{ "drift", "p", 0, CMD_CALLS | CMD_ONE_PASS,
	  "usage: lbreconcile [GLOBAL OPTIONS] drift [--pool NAME]...\n"
	  "\n"
	  "Report drift from the config and changes made outside lbreconcile since\n"
	  "the last recorded state; exit 2 when there is drift.\n"
	  "\n"
	  "  -p, --pool NAME          only this pool (repeatable)\n" },
	{ "run", "o", 0, CMD_CALLS,
	  "usage: lbreconcile [GLOBAL OPTIONS] run [--once]\n"
	  "\n"
	  "Daemon: an apply pass every `interval` seconds.  SIGHUP reloads the\n"
	  "config; SIGTERM and SIGINT finish in-flight calls and exit 0.\n"
	  "\n"
	  "      --once               one pass, then exit with its code\n" },
	{ "state", "f", -1, CMD_CALLS,
	  "usage: lbreconcile [GLOBAL OPTIONS] state list\n"
	  "       lbreconcile [GLOBAL OPTIONS] state show [POOL]\n"
	  "       lbreconcile [GLOBAL OPTIONS] state unlock [--force] LOCK_ID\n"
	  "\n"
	  "Inspect the recorded state, or remove a lock left by an agent that is\n"
	  "gone.\n"
	  "\n"
	  "      --force              (unlock) remove the lock even if its holder\n"
	  "                           looks alive\n" },
	{ "providers", "", 0, 0,
	  "usage: lbreconcile [GLOBAL OPTIONS] providers\n"
	  "\n"
	  "List the plugins in plugin_dir with their ABI version, capabilities\n"
	  "and keys.  A config is used for plugin_dir when one is found; none is\n"
	  "needed.\n" },
	{ "version", "", 0, 0,
	  "usage: lbreconcile [GLOBAL OPTIONS] version\n"
	  "\n"
	  "Print the version and the plugin ABI; needs no config.\n" },
	{ "help", "", 1, 0,
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

const char *lbr_cli_config_path(const struct lbr_opts *o, char *err, size_t errlen)
{
	if (!cfg_found[0] &&
	    lbr_cfg_find(o->config, cfg_found, sizeof(cfg_found), err, errlen) < 0) {
		cfg_found[0] = '\0';
		return NULL;
	}
	return cfg_found;
}

/* A pass's heap grows with the configuration (observations, plans and
 * state of the pools it names): some 64 bytes for each byte of the file
 * (8 MiB for S5's 141 KB, 5,200 members).  Faulted in at once before
 * the file is read (lbr_heap_prefault). */
static void prefault_for(const struct lbr_opts *o)
{
	char err[512];
	const char *path = lbr_cli_config_path(o, err, sizeof(err));
	struct stat sb;

	/* A config that cannot be found is reported when it is loaded. */
	if (path && stat(path, &sb) == 0 && sb.st_size > 0)
		lbr_heap_prefault((size_t)sb.st_size * 64);
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

int lbr_cli_load_config(const struct lbr_opts *o, struct lbr_cfg **cfg)
{
	char err[2048];
	const char *path = lbr_cli_config_path(o, err, sizeof(err));

	if (!path || lbr_cfg_load(path, NULL, lbr_host_table(), cfg, err, sizeof(err)) < 0) {
		lbr_log_msg(LBR_LOG_ERROR, "%s", err);
		return EXIT_ERROR;
	}
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

/* A global option (valid before and after the command): 1 when c was one. */
static int global_opt(struct lbr_opts *o, int c, int *want_help, int *want_version)
{
	switch (c) {
	case 'c': o->config = optarg; return 1;
	case 'j': o->json = 1; return 1;
	case 'v': o->verbose++; return 1;
	case 'q': o->quiet = 1; return 1;
	case 'm': o->metrics_file = optarg; return 1;
	case 'h': *want_help = 1; return 1;
	case 'V': *want_version = 1; return 1;
	default: return 0;
	}
}

/*
 * Parse argv: global options, the command, then the command's options and
 * arguments in any order (`state unlock ID --force`).  Returns -1 to go
 * on, or the exit code (help, version, usage errors).  *cmd_out is the
 * command, argc/argv its arguments.
 */
static int parse_args(int *argcp, char ***argvp, struct lbr_opts *o,
		      const struct cmd_spec **cmd_out)
{
	int argc = *argcp, c, want_help = 0, want_version = 0, sub_argc, i;
	char **argv = *argvp, **sub_argv, buf[8];
	const struct cmd_spec *spec = NULL;
	const char *cmd;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:vqhVp:", gopts, NULL)) != -1) {
		if (global_opt(o, c, &want_help, &want_version))
			continue;
		switch (c) {
		case ':':
			lbr_log_msg(LBR_LOG_ERROR, "option '%s' needs a value",
				    opt_text(optopt, argv, optind, buf, sizeof(buf)));
			return EXIT_ERROR;
		case '?':
			lbr_log_msg(LBR_LOG_ERROR, "unknown option '%s' (see 'lbreconcile help')",
				    opt_text(optopt, argv, optind, buf, sizeof(buf)));
			return EXIT_ERROR;
		default:
			lbr_log_msg(LBR_LOG_ERROR,
				    "option '--%s' goes after a command (see 'lbreconcile help')",
				    long_name(c));
			return EXIT_ERROR;
		}
	}
	if (want_version && optind >= argc)
		return lbr_cmd_version(o);
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
			lbr_log_msg(
				LBR_LOG_ERROR,
				"%s: option '--%s' is not valid for this command (see 'lbreconcile %s --help')",
				spec->name, long_name(c), spec->name);
			return EXIT_ERROR;
		}
		if (global_opt(o, c, &want_help, &want_version))
			continue;
		switch (c) {
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
			lbr_log_msg(LBR_LOG_ERROR,
				    "%s: unknown option '%s' (see 'lbreconcile %s --help')",
				    spec->name,
				    opt_text(optopt, sub_argv, optind, buf, sizeof(buf)),
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
		return lbr_cmd_version(o);
	if (spec->max_args >= 0 && argc > spec->max_args) {
		lbr_log_msg(LBR_LOG_ERROR,
			    "%s: unexpected argument '%s' (see 'lbreconcile %s --help')",
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
	struct lbr_opts o;
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
	lbr_log_level = o.quiet          ? LBR_LOG_ERROR
			: o.verbose >= 2 ? LBR_LOG_DEBUG
			: o.verbose      ? LBR_LOG_INFO
					 : LBR_LOG_WARN;
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
		lbr_cli_metrics = &m;
		lbr_cli_metrics_path = o.metrics_file;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* libcurl loads in the background while the configuration is read;
	 * commands that make no call do not load it at all. */
	if ((spec->does & CMD_CALLS) && lbr_http_global_init() < 0) {
		lbr_log_msg(LBR_LOG_ERROR, "cannot initialise libcurl");
		return EXIT_ERROR;
	}
	/* One pass, then exit: not the daemon, whose heap should shrink
	 * between passes (the malloc settings stay for the process's life). */
	if (spec->does & CMD_ONE_PASS)
		prefault_for(&o);
	lbr_lease_install_io(NULL);
	if (!strcmp(cmd, "validate"))
		rc = lbr_cmd_validate(&o);
	else if (!strcmp(cmd, "plan"))
		rc = lbr_cmd_plan(&o, 0);
	else if (!strcmp(cmd, "drift"))
		rc = lbr_cmd_plan(&o, 1);
	else if (!strcmp(cmd, "apply"))
		rc = lbr_cmd_apply(&o);
	else if (!strcmp(cmd, "run"))
		rc = lbr_cmd_run(&o);
	else if (!strcmp(cmd, "state"))
		rc = lbr_cmd_state(&o, argc, argv);
	else if (!strcmp(cmd, "providers"))
		rc = lbr_cmd_providers(&o);
	else if (!strcmp(cmd, "version"))
		rc = lbr_cmd_version(&o);
	else
		rc = unknown_command(cmd);
	if (lbr_cli_metrics && strcmp(cmd, "run") != 0) {
		lbr_metrics_pass_done(lbr_cli_metrics, rc);
		/* A warning when it fails: the pass keeps its exit code. */
		lbr_metrics_write(lbr_cli_metrics, lbr_cli_metrics_path);
	}
	if (lbr_cli_metrics)
		lbr_metrics_release(lbr_cli_metrics);
	lbr_http_global_cleanup();
	free(o.pools);
	return rc;
}
