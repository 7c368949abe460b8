/*
 * Configuration sections and keys, one at a time as inih hands them over.
 * Everything that needs only the line itself is checked here (values,
 * duplicates, member attributes, selectors), so that the message names the
 * line; checks that need a plugin are in cfg-check.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cfg-int.h"
#include "agent/error.h"

static int kv_add(struct lbr_cfg_kv **arr, size_t *n, size_t *cap, const char *key,
		  const char *value, int line)
{
	struct lbr_cfg_kv *kv;

	if (lbr_grow((void **)arr, cap, *n, sizeof(**arr)) < 0)
		return LBR_ENOMEM;
	kv = &(*arr)[*n];
	kv->key = strdup(key);
	kv->value = strdup(value);
	kv->line = line;
	kv->secret = 0;
	if (!kv->key || !kv->value) {
		free(kv->key);
		free(kv->value);
		return LBR_ENOMEM;
	}
	(*n)++;
	return 0;
}

struct lbr_cfg_kv *lbr_cfg_kv_find(struct lbr_cfg_kv *arr, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(arr[i].key, key) == 0)
			return &arr[i];
	return NULL;
}

int lbr_cfg_parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	if (!*s)
		return -1;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int lbr_cfg_parse_bool(const char *s, int *out)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "on"))
		*out = 1;
	else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "off"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int begin_section(struct lbr_cfg_parse *c, const char *section)
{
	struct lbr_cfg *cfg = c->cfg;
	const char *name;
	size_t i;

	snprintf(c->cur_section, sizeof(c->cur_section), "%s", section);
	c->prov = NULL;
	c->pool = NULL;
	c->section_seen = 0;
	if (strcmp(section, "agent") == 0) {
		if (c->seen_agent) {
			lbr_cfg_set_err(c, c->section_line, "duplicate section [agent]");
			return 0;
		}
		c->seen_agent = 1;
		c->kind = LBR_SEC_AGENT;
		return 1;
	}
	if (strncmp(section, "provider ", 9) == 0) {
		struct lbr_cfg_provider *p;

		name = section + 9;
		while (*name == ' ')
			name++;
		if (!lbr_name_valid(name)) {
			lbr_cfg_set_err(
				c, c->section_line,
				"bad provider name '%s' (letters, digits, '_', '-', '.'; at most 64)",
				name);
			return 0;
		}
		for (i = 0; i < cfg->n_providers; i++)
			if (strcmp(cfg->providers[i].name, name) == 0) {
				lbr_cfg_set_err(
					c, c->section_line,
					"duplicate section [provider %s] (first defined at line %d)",
					name, cfg->providers[i].line);
				return 0;
			}
		if (lbr_grow((void **)&cfg->providers, &cfg->cap_providers, cfg->n_providers,
			     sizeof(*cfg->providers)) < 0)
			return 0;
		p = &cfg->providers[cfg->n_providers];
		memset(p, 0, sizeof(*p));
		p->name = strdup(name);
		if (!p->name)
			return 0;
		p->line = c->section_line;
		/* Short enough that the default lock_ttl covers it (see
		 * cfg-check.c). */
		p->timeout_s = 10;
		cfg->n_providers++;
		c->kind = LBR_SEC_PROVIDER;
		return 1;
	}
	if (strncmp(section, "pool ", 5) == 0) {
		struct lbr_cfg_pool *p;

		name = section + 5;
		while (*name == ' ')
			name++;
		if (!lbr_name_valid(name)) {
			lbr_cfg_set_err(
				c, c->section_line,
				"bad pool name '%s' (letters, digits, '_', '-', '.'; at most 64)",
				name);
			return 0;
		}
		for (i = 0; i < cfg->n_pools; i++)
			if (strcmp(cfg->pools[i].name, name) == 0) {
				lbr_cfg_set_err(c, c->section_line,
						"duplicate pool \"%s\" (first defined at line %d)",
						name, cfg->pools[i].line);
				return 0;
			}
		if (lbr_grow((void **)&cfg->pools, &cfg->cap_pools, cfg->n_pools,
			     sizeof(*cfg->pools)) < 0)
			return 0;
		p = &cfg->pools[cfg->n_pools];
		memset(p, 0, sizeof(*p));
		p->name = strdup(name);
		if (!p->name)
			return 0;
		p->line = c->section_line;
		p->drain_s = 0;
		p->max_create = -1;
		p->prune = LBR_PRUNE_ALL;
		cfg->n_pools++;
		c->kind = LBR_SEC_POOL;
		return 1;
	}
	lbr_cfg_set_err(c, c->section_line,
			"unknown section [%s] (expected [agent], [provider NAME] or [pool NAME])",
			section);
	return 0;
}

/* Pointers into cfg arrays move when the arrays grow; re-find them. */
static void refresh_current(struct lbr_cfg_parse *c)
{
	c->prov = NULL;
	c->pool = NULL;
	if (c->kind == LBR_SEC_PROVIDER)
		c->prov = &c->cfg->providers[c->cfg->n_providers - 1];
	else if (c->kind == LBR_SEC_POOL)
		c->pool = &c->cfg->pools[c->cfg->n_pools - 1];
}

/* A key of a section that may appear once: 0 and an error when seen. */
static int once(struct lbr_cfg_parse *c, unsigned bit, const char *owner, const char *name)
{
	if (c->section_seen & bit) {
		lbr_cfg_set_err(c, c->line, "%s: duplicate key '%s'", owner, name);
		return 0;
	}
	c->section_seen |= bit;
	return 1;
}

static int agent_key(struct lbr_cfg_parse *c, const char *name, const char *value)
{
	static const char *const keys[] = { "state",         "plugin_dir", "parallelism",
					    "interval",      "max_delete", "lock_timeout",
					    "max_rounds",    "lock_ttl",   "audit_spool",
					    "state_ca_file", NULL };
	struct lbr_cfg *cfg = c->cfg;
	unsigned bit;
	long v;
	int i;

	for (i = 0; keys[i]; i++)
		if (strcmp(keys[i], name) == 0)
			break;
	if (!keys[i] && strcmp(name, "state_endpoint")) {
		lbr_cfg_set_err(c, c->line, "[agent]: unknown key '%s'", name);
		return 0;
	}
	if (!*value) {
		lbr_cfg_set_err(c, c->line, "[agent]: '%s' has an empty value", name);
		return 0;
	}
	/* Repeated: one etcd endpoint per line, so that a location naming
	 * many endpoints fits inih's line limit (checked in cfg.c). */
	if (!strcmp(name, "state_endpoint")) {
		struct lbr_cfg_endpoint *e;

		if (lbr_grow((void **)&c->endpoints, &c->cap_endpoints, c->n_endpoints,
			     sizeof(*c->endpoints)) < 0)
			return 0;
		e = &c->endpoints[c->n_endpoints];
		e->line = c->line;
		e->hostport = strdup(value);
		if (!e->hostport)
			return 0;
		c->n_endpoints++;
		return 1;
	}
	bit = 1u << i;
	if (c->agent_seen_mask & bit) {
		lbr_cfg_set_err(c, c->line, "[agent]: duplicate key '%s'", name);
		return 0;
	}
	c->agent_seen_mask |= bit;
	if (!strcmp(name, "state")) {
		cfg->state = strdup(value);
		c->state_line = c->line;
		return cfg->state != NULL;
	} else if (!strcmp(name, "plugin_dir")) {
		cfg->plugin_dir = strdup(value);
		return cfg->plugin_dir != NULL;
	} else if (!strcmp(name, "audit_spool")) {
		cfg->audit_spool = lbr_cfg_resolve_path(cfg->dir, value);
		return cfg->audit_spool != NULL;
	} else if (!strcmp(name, "state_ca_file")) {
		/* etcd over TLS: the CA that signs its certificate. */
		cfg->state_ca_file = lbr_cfg_resolve_path(cfg->dir, value);
		if (!cfg->state_ca_file)
			return 0;
		if (access(cfg->state_ca_file, R_OK) < 0) {
			lbr_cfg_set_err(c, c->line,
					"[agent]: state_ca_file '%s' cannot be read (%s)",
					cfg->state_ca_file, strerror(errno));
			return 0;
		}
		return 1;
	} else if (!strcmp(name, "parallelism")) {
		if (lbr_cfg_parse_int(value, 1, 1024, &v) < 0) {
			lbr_cfg_set_err(
				c, c->line,
				"[agent]: parallelism must be a number from 1 to 1024, not '%s'",
				value);
			return 0;
		}
		cfg->parallelism = (int)v;
	} else if (!strcmp(name, "interval")) {
		if (lbr_cfg_parse_int(value, 1, 7 * 86400, &v) < 0) {
			lbr_cfg_set_err(
				c, c->line,
				"[agent]: interval must be a number of seconds from 1 to 604800, not '%s'",
				value);
			return 0;
		}
		cfg->interval = (int)v;
	} else if (!strcmp(name, "max_delete")) {
		char tmp[32];
		size_t n = strlen(value);
		int pct = n > 0 && value[n - 1] == '%';

		if (n >= sizeof(tmp)) {
			lbr_cfg_set_err(c, c->line,
					"[agent]: max_delete must be N or N%%, not '%s'", value);
			return 0;
		}
		memcpy(tmp, value, n + 1);
		if (pct)
			tmp[n - 1] = '\0';
		if (lbr_cfg_parse_int(tmp, 0, pct ? 100 : 1000000, &v) < 0) {
			lbr_cfg_set_err(
				c, c->line,
				"[agent]: max_delete must be N (0-1000000) or N%% (0-100%%), not '%s'",
				value);
			return 0;
		}
		cfg->max_delete = (int)v;
		cfg->max_delete_percent = pct;
	} else if (!strcmp(name, "lock_timeout")) {
		if (lbr_cfg_parse_int(value, 0, 86400, &v) < 0) {
			lbr_cfg_set_err(
				c, c->line,
				"[agent]: lock_timeout must be a number of seconds from 0 to 86400, not '%s'",
				value);
			return 0;
		}
		cfg->lock_timeout = (int)v;
	} else if (!strcmp(name, "lock_ttl")) {
		/* etcd grants leases of at least a few seconds; 5 leaves
		 * room for the smallest timeout (see cfg-check.c). */
		if (lbr_cfg_parse_int(value, 5, 86400, &v) < 0) {
			lbr_cfg_set_err(
				c, c->line,
				"[agent]: lock_ttl must be a number of seconds from 5 to 86400, not '%s'",
				value);
			return 0;
		}
		cfg->lock_ttl = (int)v;
		cfg->lock_ttl_line = c->line;
	} else if (!strcmp(name, "max_rounds")) {
		if (lbr_cfg_parse_int(value, 1, 100, &v) < 0) {
			lbr_cfg_set_err(
				c, c->line,
				"[agent]: max_rounds must be a number from 1 to 100, not '%s'",
				value);
			return 0;
		}
		cfg->max_rounds = (int)v;
	}
	return 1;
}

/* The core's own provider keys: never passed to the plugin. */
static int provider_core_key(struct lbr_cfg_parse *c, struct lbr_cfg_provider *p, const char *owner,
			     const char *name, const char *value)
{
	long v;

	if (!strcmp(name, "plugin")) {
		if (!once(c, LBR_SEEN_PLUGIN, owner, name))
			return -1;
		p->plugin_name = strdup(value);
		return p->plugin_name ? 1 : -2;
	}
	if (!strcmp(name, "ca_file")) {
		if (!once(c, LBR_SEEN_CA_FILE, owner, name))
			return -1;
		if (!*value) {
			lbr_cfg_set_err(c, c->line, "%s: 'ca_file' has an empty value", owner);
			return -1;
		}
		p->ca_file = lbr_cfg_resolve_path(c->cfg->dir, value);
		if (!p->ca_file)
			return -2;
		if (access(p->ca_file, R_OK) < 0) {
			lbr_cfg_set_err(c, c->line, "%s: ca_file '%s' cannot be read (%s)", owner,
					p->ca_file, strerror(errno));
			return -1;
		}
		return 1;
	}
	if (!strcmp(name, "allow_insecure_http")) {
		if (!once(c, LBR_SEEN_INSECURE, owner, name))
			return -1;
		if (lbr_cfg_parse_bool(value, &p->allow_insecure_http) < 0) {
			lbr_cfg_set_err(c, c->line,
					"%s: allow_insecure_http must be yes or no, not '%s'",
					owner, value);
			return -1;
		}
		return 1;
	}
	if (!strcmp(name, "timeout")) {
		if (!once(c, LBR_SEEN_TIMEOUT, owner, name))
			return -1;
		if (lbr_cfg_parse_int(value, 1, 600, &v) < 0) {
			lbr_cfg_set_err(
				c, c->line,
				"%s: timeout must be a number of seconds from 1 to 600, not '%s'",
				owner, value);
			return -1;
		}
		p->timeout_s = (int)v;
		p->timeout_line = c->line;
		return 1;
	}
	return 0;
}

static int provider_key(struct lbr_cfg_parse *c, const char *name, const char *value)
{
	struct lbr_cfg_provider *p = c->prov;
	char owner[96];
	int r;

	snprintf(owner, sizeof(owner), "provider \"%s\"", p->name);
	r = provider_core_key(c, p, owner, name, value);
	if (r)
		return r > 0;
	if (lbr_cfg_kv_find(p->kv, p->n_kv, name)) {
		lbr_cfg_set_err(c, c->line, "%s: duplicate key '%s'", owner, name);
		return 0;
	}
	return kv_add(&p->kv, &p->n_kv, &p->cap_kv, name, value, c->line) == 0;
}

/* name= is free text for the cloud: printable, no blanks (they separate
 * attributes), at most 255 bytes (Huawei's limit). */
static int member_name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || s[n] == 0x7f || n >= 255)
			return 0;
	return n > 0;
}

/* ADDRESS:PORT [weight=N] [name=TEXT] [resource=ID], blank-separated. */
static int parse_member(struct lbr_cfg_parse *c, struct lbr_cfg_pool *p, const char *value,
			struct lbr_cfg_member *m)
{
	char buf[256], why[256], ap[80], *tok, *save = NULL;
	long v;

	if (strlen(value) >= sizeof(buf)) {
		lbr_cfg_set_err(c, c->line, "pool \"%s\": member line too long", p->name);
		return -1;
	}
	memcpy(buf, value, strlen(value) + 1);
	tok = strtok_r(buf, " \t", &save);
	if (!tok || lbr_addrport_parse(tok, m->address, &m->port, why, sizeof(why)) < 0) {
		lbr_cfg_set_err(c, c->line, "pool \"%s\": bad member %s", p->name,
				tok ? why : "'' (expected ADDRESS:PORT)");
		return -1;
	}
	lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(tok, '='), *val;
		int dup;

		if (!eq) {
			lbr_cfg_set_err(
				c, c->line,
				"pool \"%s\": member %s: '%s' is not KEY=VALUE (weight=, name= or resource=)",
				p->name, ap, tok);
			return -1;
		}
		*eq = '\0';
		val = eq + 1;
		if (!strcmp(tok, "weight")) {
			dup = m->weight >= 0;
			if (!dup && lbr_cfg_parse_int(val, 0, 65535, &v) < 0) {
				lbr_cfg_set_err(
					c, c->line,
					"pool \"%s\": member %s: weight must be a number, not '%s'",
					p->name, ap, val);
				return -1;
			}
			if (!dup)
				m->weight = (int)v;
		} else if (!strcmp(tok, "name")) {
			dup = m->name != NULL;
			if (!dup && !member_name_ok(val)) {
				lbr_cfg_set_err(
					c, c->line,
					"pool \"%s\": member %s: bad name '%s' (1 to 255 printable characters, no blanks)",
					p->name, ap, val);
				return -1;
			}
			if (!dup && !(m->name = strdup(val)))
				return -2;
		} else if (!strcmp(tok, "resource")) {
			dup = m->resource != NULL;
			if (!dup && !lbr_id_valid(val)) {
				lbr_cfg_set_err(
					c, c->line,
					"pool \"%s\": member %s: resource '%s' is not a valid id ([A-Za-z0-9_-], at most 128)",
					p->name, ap, val);
				return -1;
			}
			if (!dup && !(m->resource = strdup(val)))
				return -2;
		} else {
			lbr_cfg_set_err(
				c, c->line,
				"pool \"%s\": member %s: unknown attribute '%s' (expected weight=, name= or resource=)",
				p->name, ap, tok);
			return -1;
		}
		if (dup) {
			lbr_cfg_set_err(c, c->line,
					"pool \"%s\": member %s: duplicate attribute '%s'", p->name,
					ap, tok);
			return -1;
		}
	}
	return 0;
}

static int pool_member(struct lbr_cfg_parse *c, struct lbr_cfg_pool *p, const char *value)
{
	struct lbr_cfg_member m;
	int r;

	memset(&m, 0, sizeof(m));
	m.weight = -1;
	m.line = c->line;
	r = parse_member(c, p, value, &m);
	/* Duplicates are found after parsing, by sorting (pools can have
	 * 100,000 members). */
	if (r == 0 && lbr_grow((void **)&p->members, &p->cap_members, p->n_members, sizeof(m)) < 0)
		r = -2;
	if (r < 0) {
		free(m.name);
		free(m.resource);
		return 0;
	}
	p->members[p->n_members++] = m;
	return 1;
}

static int pool_protect(struct lbr_cfg_parse *c, struct lbr_cfg_pool *p, const char *value)
{
	struct lbr_selector s;
	char why[512];

	if (lbr_selector_parse(value, &s, why, sizeof(why)) < 0) {
		lbr_cfg_set_err(c, c->line, "pool \"%s\": protect: %s", p->name, why);
		return 0;
	}
	s.line = c->line;
	if (lbr_grow((void **)&p->protect, &p->cap_protect, p->n_protect, sizeof(s)) < 0)
		return 0;
	p->protect[p->n_protect++] = s;
	return 1;
}

static int pool_key(struct lbr_cfg_parse *c, const char *name, const char *value)
{
	struct lbr_cfg_pool *p = c->pool;
	char owner[96];
	long v;

	/* member lines are most of a big file: no owner text for them */
	if (!strcmp(name, "member"))
		return pool_member(c, p, value);
	if (!strcmp(name, "protect"))
		return pool_protect(c, p, value);
	snprintf(owner, sizeof(owner), "pool \"%s\"", p->name);
	if (!strcmp(name, "provider")) {
		if (!once(c, LBR_SEEN_PROVIDER, owner, name))
			return 0;
		p->provider_name = strdup(value);
		p->provider_line = c->line;
		return p->provider_name != NULL;
	}
	if (!strcmp(name, "drain")) {
		if (!once(c, LBR_SEEN_DRAIN, owner, name))
			return 0;
		if (lbr_cfg_parse_int(value, 0, 3600, &v) < 0) {
			lbr_cfg_set_err(
				c, c->line,
				"%s: drain must be a number of seconds from 0 to 3600, not '%s'",
				owner, value);
			return 0;
		}
		p->drain_s = (int)v;
		return 1;
	}
	if (!strcmp(name, "allow_empty") || !strcmp(name, "create")) {
		int create = name[0] == 'c';

		if (!once(c, create ? LBR_SEEN_CREATE : LBR_SEEN_ALLOW_EMPTY, owner, name))
			return 0;
		if (lbr_cfg_parse_bool(value, create ? &p->create : &p->allow_empty) < 0) {
			lbr_cfg_set_err(c, c->line, "%s: %s must be yes or no, not '%s'", owner,
					name, value);
			return 0;
		}
		return 1;
	}
	if (!strcmp(name, "max_create")) {
		if (!once(c, LBR_SEEN_MAX_CREATE, owner, name))
			return 0;
		if (!strcmp(value, "unlimited")) {
			p->max_create = -1;
		} else if (lbr_cfg_parse_int(value, 0, 1000000, &v) < 0) {
			lbr_cfg_set_err(
				c, c->line,
				"%s: max_create must be a number from 0 to 1000000 or 'unlimited', not '%s'",
				owner, value);
			return 0;
		} else {
			p->max_create = v;
		}
		return 1;
	}
	if (!strcmp(name, "prune")) {
		if (!once(c, LBR_SEEN_PRUNE, owner, name))
			return 0;
		if (!strcmp(value, "all")) {
			p->prune = LBR_PRUNE_ALL;
		} else if (!strcmp(value, "owned")) {
			p->prune = LBR_PRUNE_OWNED;
		} else if (!strcmp(value, "none")) {
			p->prune = LBR_PRUNE_NONE;
		} else {
			lbr_cfg_set_err(c, c->line,
					"%s: prune must be all, owned or none, not '%s'", owner,
					value);
			return 0;
		}
		return 1;
	}
	/* Every other key is checked against the plugin's pool keys later. */
	if (lbr_cfg_kv_find(p->target, p->n_target, name)) {
		lbr_cfg_set_err(c, c->line, "%s: duplicate key '%s'", owner, name);
		return 0;
	}
	return kv_add(&p->target, &p->n_target, &p->cap_target, name, value, c->line) == 0;
}

int lbr_cfg_handler(void *user, const char *section, const char *name, const char *value)
{
	struct lbr_cfg_parse *c = user;

	if (c->err[0])
		return 0;
	if (strcmp(section, c->cur_section) != 0 || c->kind == LBR_SEC_NONE) {
		if (!section[0]) {
			lbr_cfg_set_err(c, c->line, "key '%s' outside of any section", name);
			return 0;
		}
		if (!begin_section(c, section))
			goto fail;
	}
	refresh_current(c);
	if (!value)
		value = "";
	switch (c->kind) {
	case LBR_SEC_AGENT:
		if (!agent_key(c, name, value))
			goto fail;
		break;
	case LBR_SEC_PROVIDER:
		if (!provider_key(c, name, value))
			goto fail;
		break;
	case LBR_SEC_POOL:
		if (!pool_key(c, name, value))
			goto fail;
		break;
	default: goto fail;
	}
	return 1;
fail:
	if (!c->err[0])
		lbr_cfg_set_err(c, c->line, "out of memory");
	return 0;
}
