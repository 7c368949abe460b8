/*
 * Configuration: the INI file parsed with inih, validated against the
 * plugins' key lists, with secrets resolved.  <ini.h> is used only in
 * cfg.c.
 */
#ifndef LBR_CFG_H
#define LBR_CFG_H

#include <stddef.h>

#include "agent/plugin.h"
#include "agent/util.h"

struct lbr_cfg_kv {
	char *key;
	char *value; /* resolved; wiped on free when secret */
	int line;
	int secret;
};

struct lbr_cfg_provider {
	char *name;
	int line;
	char *plugin_name;
	struct lbr_cfg_kv *kv; /* every key but `plugin` */
	size_t n_kv, cap_kv;
	char *ca_file;         /* absolute, or NULL */
	int allow_insecure_http;
	int timeout_s;
	char *endpoint;        /* borrowed from kv, or NULL */
	struct lbr_plugin *plugin; /* loaded by lbr_cfg_load */
	int used;
};

struct lbr_cfg_member {
	char address[LBR_ADDR_MAX];
	unsigned port;
	int line;
};

struct lbr_cfg_pool {
	char *name;
	int line;
	char *provider_name;
	int provider_line;
	struct lbr_cfg_provider *provider;
	struct lbr_cfg_kv *target; /* plugin pool keys */
	size_t n_target, cap_target;
	struct lbr_kv *target_kv;  /* view of target for the plugin ABI */
	struct lbr_cfg_member *members;
	size_t n_members, cap_members;
	int drain_s;
	int allow_empty;
};

struct lbr_cfg {
	char *path; /* as given */
	char *dir;  /* absolute directory of the file */
	char *state;
	char *plugin_dir; /* absolute */
	int parallelism;
	int interval;
	int max_delete;         /* count or percent */
	int max_delete_percent; /* 1 when max_delete is a percentage */
	int lock_timeout;
	int max_rounds;
	struct lbr_cfg_provider *providers;
	size_t n_providers, cap_providers;
	struct lbr_cfg_pool *pools;
	size_t n_pools, cap_pools;
};

/* Parse and validate FILE: syntax, keys, values, references, plugins
 * (loaded from plugin_dir or `plugin_dir_override`), secrets.  No network.
 * On failure returns a negative code and writes one "FILE:LINE: ..." line
 * into err.  Warnings (literal secrets) are logged. */
int lbr_cfg_load(const char *path, const char *plugin_dir_override,
		 struct lbr_cfg **out, char *err, size_t errlen);
void lbr_cfg_free(struct lbr_cfg *cfg);
struct lbr_cfg_pool *lbr_cfg_pool_find(struct lbr_cfg *cfg, const char *name);
/* The plugin configuration of a provider as an lbr_kv array (secrets
 * included); caller frees the array (not the strings). */
struct lbr_kv *lbr_cfg_provider_kv(const struct lbr_cfg_provider *p);

#endif
