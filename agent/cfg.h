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

#include "agent/selector.h"

struct lbr_cfg_kv {
	char *key;
	char *value; /* resolved; wiped on free when secret */
	int line;
	int secret;
};

/*
 * A provider.  The core's own keys (`plugin`, `ca_file`,
 * `allow_insecure_http`, `timeout`) are parsed here and never passed to
 * the plugin; `kv` holds the plugin's keys only.
 */
struct lbr_cfg_provider {
	char *name;
	int line;
	char *plugin_name;
	struct lbr_cfg_kv *kv; /* the plugin's keys (core keys left out) */
	size_t n_kv, cap_kv;
	char *ca_file; /* absolute, or NULL */
	int allow_insecure_http;
	int timeout_s;             /* request timeout, default 10 */
	int timeout_line;          /* 0 when the default */
	char *endpoint;            /* borrowed from kv, or NULL */
	struct lbr_plugin *plugin; /* loaded by lbr_cfg_load */
	/* What an instance opened with this configuration can do (open() at
	 * load time, masked by lbr_plugin_fix_info()).  That instance was
	 * closed before lbr_cfg_load() returned: the engine opens its own. */
	struct lbr_instance_info info;
	int used;
};

struct lbr_cfg_member {
	char address[LBR_ADDR_MAX];
	unsigned port;
	int line;
	int weight;     /* weight=N, -1 when not declared */
	char *name;     /* name=TEXT, or NULL */
	char *resource; /* resource=ID, or NULL */
};

/* Which observed members a pool may remove (SPEC §5a). */
enum lbr_prune {
	LBR_PRUNE_ALL = 0, /* default: exclusive membership */
	LBR_PRUNE_OWNED,   /* only members an earlier apply declared or created */
	LBR_PRUNE_NONE,    /* never remove */
};

struct lbr_cfg_pool {
	char *name;
	int line;
	char *provider_name;
	int provider_line;
	struct lbr_cfg_provider *provider;
	struct lbr_cfg_kv *target; /* the plugin's pool keys */
	size_t n_target, cap_target;
	struct lbr_kv *target_kv;       /* view of target for the plugin ABI,
				    * NULL-terminated, n_target entries */
	struct lbr_cfg_member *members; /* sorted by address, then port */
	size_t n_members, cap_members;
	/* View of members for the plugin ABI (same order; strings borrowed
	 * from members). */
	struct lbr_member_spec *specs;
	int drain_s;
	int allow_empty;
	int create;      /* create = yes */
	long max_create; /* creations per pass, -1 unlimited */
	enum lbr_prune prune;
	struct lbr_selector *protect; /* protect = SELECTOR lines, in order */
	size_t n_protect, cap_protect;
};

struct lbr_cfg {
	char *path; /* as given */
	char *dir;  /* absolute directory of the file */
	/* Absolute path of the local state file, or the etcd location in one
	 * canonical form, etcd://HOST:PORT[,HOST:PORT...]/PREFIX, with every
	 * `state_endpoint` line folded in and checked (see cfg.c). */
	char *state;
	int state_etcd;   /* 1 when state is an etcd location */
	char *plugin_dir; /* absolute */
	int parallelism;
	int interval;
	int max_delete;         /* count or percent */
	int max_delete_percent; /* 1 when max_delete is a percentage */
	int lock_timeout;
	int lock_ttl;        /* etcd lease, seconds; default 30 */
	int lock_ttl_line;   /* 0 when the default */
	char *audit_spool;   /* absolute, or NULL when not configured */
	char *state_ca_file; /* etcd over TLS: CA bundle (absolute), or NULL */
	int max_rounds;
	struct lbr_cfg_provider *providers;
	size_t n_providers, cap_providers;
	struct lbr_cfg_pool *pools;
	size_t n_pools, cap_pools;
};

/* Parse and validate FILE: syntax, keys, values, references, plugins
 * (loaded from plugin_dir or `plugin_dir_override`), secrets, the state
 * location.  Each provider is opened once with `host` (no network) to
 * learn its instance info and to run check_target on its pools, then
 * closed.  On failure returns a negative code and writes one
 * "FILE:LINE: ..." line into err.  Warnings (literal secrets) are logged. */
int lbr_cfg_load(const char *path, const char *plugin_dir_override, const struct lbr_host *host,
		 struct lbr_cfg **out, char *err, size_t errlen);
void lbr_cfg_free(struct lbr_cfg *cfg);
/* The process exits right after: the values (secrets among them) are
 * wiped, the memory is left to the kernel. */
void lbr_cfg_free_at_exit(struct lbr_cfg *cfg);
struct lbr_cfg_pool *lbr_cfg_pool_find(struct lbr_cfg *cfg, const char *name);
/* The plugin configuration of a provider as an lbr_kv array (secrets
 * included, core keys left out); caller frees the array (not the
 * strings). */
struct lbr_kv *lbr_cfg_provider_kv(const struct lbr_cfg_provider *p);

/* Which config file to use: `cli_path` (-c FILE) when not NULL, else
 * $LBRECONCILE_CONFIG when set and not empty, else ./lbreconcile.ini when
 * it exists, else SYSCONFDIR/lbreconcile/lbreconcile.ini when it exists.
 * Writes the path into out.  0, or LBR_ENOENT with one line in err naming
 * all four sources. */
int lbr_cfg_find(const char *cli_path, char *out, size_t outlen, char *err, size_t errlen);

#endif
