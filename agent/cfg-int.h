/*
 * Internal to the configuration code, which is split in three files:
 * cfg.c (reading the file, the state location, load/free/find),
 * cfg-keys.c (sections and keys as inih hands them over) and
 * cfg-check.c (validation against the plugins, secrets).
 */
#ifndef LBR_CFG_INT_H
#define LBR_CFG_INT_H

#include <stddef.h>

#include "agent/cfg.h"

enum lbr_cfg_section { LBR_SEC_NONE, LBR_SEC_AGENT, LBR_SEC_PROVIDER, LBR_SEC_POOL };

/* Core keys of a [pool] or [provider] section, to refuse duplicates. */
enum {
	LBR_SEEN_PLUGIN = 1u << 0,
	LBR_SEEN_CA_FILE = 1u << 1,
	LBR_SEEN_INSECURE = 1u << 2,
	LBR_SEEN_TIMEOUT = 1u << 3,
	LBR_SEEN_PROVIDER = 1u << 4,
	LBR_SEEN_DRAIN = 1u << 5,
	LBR_SEEN_ALLOW_EMPTY = 1u << 6,
	LBR_SEEN_CREATE = 1u << 7,
	LBR_SEEN_MAX_CREATE = 1u << 8,
	LBR_SEEN_PRUNE = 1u << 9,
};

struct lbr_cfg_endpoint {
	char *hostport;
	int line;
};

struct lbr_cfg_parse {
	struct lbr_cfg *cfg;
	const char *path;
	char *buf;
	size_t len, pos;
	int line;
	char err[1024];
	/* current section */
	enum lbr_cfg_section kind;
	char cur_section[256];
	int section_line;
	unsigned section_seen; /* LBR_SEEN_* of the current section */
	struct lbr_cfg_provider *prov;
	struct lbr_cfg_pool *pool;
	/* [agent] */
	int seen_agent;
	unsigned agent_seen_mask;
	int state_line;
	struct lbr_cfg_endpoint *endpoints; /* state_endpoint lines */
	size_t n_endpoints, cap_endpoints;
	struct {
		char name[80];
		int line;
	} headers[1024];
	size_t n_headers;
};

/* Record the first error as "FILE:LINE: message". */
void lbr_cfg_set_err(struct lbr_cfg_parse *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* inih's handler (cfg-keys.c). */
int lbr_cfg_handler(void *user, const char *section, const char *name, const char *value);

int lbr_cfg_parse_int(const char *s, long lo, long hi, long *out);
int lbr_cfg_parse_bool(const char *s, int *out);
/* p when absolute, else dir/p; malloc'd or NULL. */
char *lbr_cfg_resolve_path(const char *dir, const char *p);
struct lbr_cfg_kv *lbr_cfg_kv_find(struct lbr_cfg_kv *arr, size_t n, const char *key);
/* 0 when HOST:PORT (or [V6]:PORT) is a usable etcd endpoint, else
 * LBR_EINVAL with the reason in err. */
int lbr_cfg_endpoint_check(const char *s, size_t len, char *err, size_t errlen);

/* Everything after parsing (cfg-check.c): plugins, keys, secrets,
 * targets, overlaps, the request timeout against lock_ttl. */
int lbr_cfg_check(struct lbr_cfg *cfg, const struct lbr_host *host, char *err, size_t errlen);

#endif
