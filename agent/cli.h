/*
 * What the command layer shares between main.c (parsing the command line)
 * and the commands (cmd-pass.c: plan, drift, apply, run; cmd-info.c:
 * validate, state, providers, version).
 */
#ifndef LBR_CLI_H
#define LBR_CLI_H

#include <stddef.h>

struct lbr_cfg;
struct lbr_metrics;

enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_CHANGES = 2,
	EXIT_REFUSED = 3,
	EXIT_LOCKED = 4,
};

struct lbr_opts {
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
extern struct lbr_metrics *lbr_cli_metrics;
extern const char *lbr_cli_metrics_path;

/* The config file in use (-c, $LBRECONCILE_CONFIG, ./lbreconcile.ini,
 * SYSCONFDIR/lbreconcile/lbreconcile.ini), found once; NULL with err. */
const char *lbr_cli_config_path(const struct lbr_opts *o, char *err, size_t errlen);
/* Load and validate it; an exit code (0 or EXIT_ERROR, reported). */
int lbr_cli_load_config(const struct lbr_opts *o, struct lbr_cfg **cfg);

struct lbr_state_store;
struct lbr_state;
/* Open the config's state backend / load its document; exit codes. */
int lbr_cli_open_store(struct lbr_cfg *cfg, struct lbr_state_store **st);
int lbr_cli_load_state(struct lbr_state_store *st, struct lbr_state **doc);

/* The three above in a row (doc NULL: the state is not loaded); what was
 * opened is left for the caller to free, whatever the exit code. */
int lbr_cli_open_all(const struct lbr_opts *o, struct lbr_cfg **cfg, struct lbr_state_store **st,
		     struct lbr_state **doc);

int lbr_cmd_validate(const struct lbr_opts *o);
int lbr_cmd_plan(const struct lbr_opts *o, int drift);
int lbr_cmd_apply(const struct lbr_opts *o);
int lbr_cmd_run(const struct lbr_opts *o);
int lbr_cmd_state(const struct lbr_opts *o, int argc, char **argv);
int lbr_cmd_providers(const struct lbr_opts *o);
int lbr_cmd_version(const struct lbr_opts *o);

#endif
