/*
 * fuzz-ini compiles every source of the core into its binary (so that
 * all of it carries the coverage instrumentation).  The command layer
 * (cmd-pass.c, cmd-info.c) refers to what main.c defines; main.c cannot
 * come along (it has its own main()), and lbr_cfg_load() never reaches
 * the commands, so these stand-ins only satisfy the linker.
 */
#include "config.h"

#include <stdlib.h>

#include "agent/cli.h"

struct lbr_metrics *lbr_cli_metrics;
const char *lbr_cli_metrics_path;

const char *lbr_cli_config_path(const struct lbr_opts *o, char *err,
				size_t errlen)
{
	(void)o;
	(void)err;
	(void)errlen;
	abort(); /* not reachable from lbr_cfg_load() */
}

int lbr_cli_load_config(const struct lbr_opts *o, struct lbr_cfg **cfg)
{
	(void)o;
	(void)cfg;
	abort(); /* not reachable from lbr_cfg_load() */
}
