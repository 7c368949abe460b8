/*
 * INI configuration.  inih does the tokenising; this file feeds it one line
 * at a time through a reader that counts lines (so every message can name
 * FILE:LINE), refuses lines longer than inih's buffer instead of letting it
 * split them, and strips leading blanks so that no line is ever taken as a
 * continuation of the previous value.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "agent/cfg.h"
#include "agent/error.h"
#include "agent/log.h"

/* Large enough for pools of 100,000+ member lines. */
#define CFG_MAX_FILE (64 * 1024 * 1024)
/* inih's line buffer is 200 bytes including the line end and NUL. */
#define CFG_MAX_LINE 197

enum section_kind { SEC_NONE, SEC_AGENT, SEC_PROVIDER, SEC_POOL };

struct parse_ctx {
	struct lbr_cfg *cfg;
	const char *path;
	char *buf;
	size_t len, pos;
	int line;
	char err[1024];
	int err_line;
	/* current section */
	enum section_kind kind;
	char cur_section[256];
	int section_line;
	struct lbr_cfg_provider *prov;
	struct lbr_cfg_pool *pool;
	/* agent keys seen, to refuse duplicates */
	int seen_agent;
	unsigned agent_seen_mask;
	int agent_line;
	char *raw_max_delete;
	int max_delete_line;
	int state_line, plugin_dir_line;
	struct {
		char name[80];
		int line;
	} headers[1024];
	size_t n_headers;
};

static void set_err(struct parse_ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(struct parse_ctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[768];

	if (c->err[0])
		return; /* keep the first error */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, sizeof(c->err), "%s:%d: %s", c->path, line, msg);
	c->err_line = line;
}

static char *reader(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	size_t start, end, n, i;

	if (c->err[0] || c->pos >= c->len)
		return NULL;
	start = c->pos;
	end = start;
	while (end < c->len && c->buf[end] != '\n')
		end++;
	c->pos = end < c->len ? end + 1 : end;
	c->line++;
	n = end - start;
	if (n > 0 && c->buf[start + n - 1] == '\r')
		n--;
	for (i = start; i < start + n; i++) {
		if (c->buf[i] == '\0') {
			set_err(c, c->line, "line contains a NUL byte (is this a text file?)");
			return NULL;
		}
	}
	if (n > CFG_MAX_LINE || (int)n > num - 3) {
		set_err(c, c->line,
			"line is %zu bytes long; the INI parser's limit is %d bytes per line",
			n, CFG_MAX_LINE);
		return NULL;
	}
	/* Leading blanks are dropped: no continuation lines. */
	while (n > 0 && (c->buf[start] == ' ' || c->buf[start] == '\t')) {
		start++;
		n--;
	}
	memcpy(str, c->buf + start, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	/* A section header: note its line so that errors about a section with
	 * missing keys can point at it, and refuse a repeated header here:
	 * inih reports two back-to-back "[pool web]" sections as one. */
	if (n > 0 && str[0] == '[') {
		char *close = memchr(str, ']', n);
		size_t h;

		c->section_line = c->line;
		if (close) {
			char name[256];
			size_t l = (size_t)(close - str - 1);

			if (l >= sizeof(name))
				l = sizeof(name) - 1;
			memcpy(name, str + 1, l);
			name[l] = '\0';
			for (h = 0; h < c->n_headers; h++)
				if (!strcmp(c->headers[h].name, name)) {
					if (!strncmp(name, "pool ", 5))
						set_err(c, c->line, "duplicate pool \"%s\" (first defined at line %d)",
							name + 5, c->headers[h].line);
					else
						set_err(c, c->line, "duplicate section [%s] (first defined at line %d)",
							name, c->headers[h].line);
					return NULL;
				}
			if (c->n_headers < sizeof(c->headers) / sizeof(c->headers[0]) &&
			    strlen(name) < sizeof(c->headers[0].name)) {
				memcpy(c->headers[c->n_headers].name, name, strlen(name) + 1);
				c->headers[c->n_headers].line = c->line;
				c->n_headers++;
			}
		}
	}
	return str;
}

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
	if (!kv->key || !kv->value) {
		free(kv->key);
		free(kv->value);
		return LBR_ENOMEM;
	}
	(*n)++;
	return 0;
}

static struct lbr_cfg_kv *kv_find(struct lbr_cfg_kv *arr, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(arr[i].key, key) == 0)
			return &arr[i];
	return NULL;
}

static int parse_int(const char *s, long lo, long hi, long *out)
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

static int parse_bool(const char *s, int *out)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "on"))
		*out = 1;
	else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "off"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int begin_section(struct parse_ctx *c, const char *section)
{
	struct lbr_cfg *cfg = c->cfg;
	const char *name;
	size_t i;

	snprintf(c->cur_section, sizeof(c->cur_section), "%s", section);
	c->prov = NULL;
	c->pool = NULL;
	if (strcmp(section, "agent") == 0) {
		if (c->seen_agent) {
			set_err(c, c->section_line, "duplicate section [agent]");
			return 0;
		}
		c->seen_agent = 1;
		c->agent_line = c->section_line;
		c->kind = SEC_AGENT;
		return 1;
	}
	if (strncmp(section, "provider ", 9) == 0) {
		struct lbr_cfg_provider *p;

		name = section + 9;
		while (*name == ' ')
			name++;
		if (!lbr_name_valid(name)) {
			set_err(c, c->section_line,
				"bad provider name '%s' (letters, digits, '_', '-', '.'; at most 64)", name);
			return 0;
		}
		for (i = 0; i < cfg->n_providers; i++)
			if (strcmp(cfg->providers[i].name, name) == 0) {
				set_err(c, c->section_line,
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
		p->timeout_s = 30;
		cfg->n_providers++;
		c->kind = SEC_PROVIDER;
		return 1;
	}
	if (strncmp(section, "pool ", 5) == 0) {
		struct lbr_cfg_pool *p;

		name = section + 5;
		while (*name == ' ')
			name++;
		if (!lbr_name_valid(name)) {
			set_err(c, c->section_line,
				"bad pool name '%s' (letters, digits, '_', '-', '.'; at most 64)", name);
			return 0;
		}
		for (i = 0; i < cfg->n_pools; i++)
			if (strcmp(cfg->pools[i].name, name) == 0) {
				set_err(c, c->section_line,
					"duplicate pool \"%s\" (first defined at line %d)", name,
					cfg->pools[i].line);
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
		cfg->n_pools++;
		c->kind = SEC_POOL;
		return 1;
	}
	set_err(c, c->section_line,
		"unknown section [%s] (expected [agent], [provider NAME] or [pool NAME])", section);
	return 0;
}

/* Pointers into cfg arrays move when the arrays grow; re-find them. */
static void refresh_current(struct parse_ctx *c)
{
	c->prov = NULL;
	c->pool = NULL;
	if (c->kind == SEC_PROVIDER)
		c->prov = &c->cfg->providers[c->cfg->n_providers - 1];
	else if (c->kind == SEC_POOL)
		c->pool = &c->cfg->pools[c->cfg->n_pools - 1];
}

static int agent_key(struct parse_ctx *c, const char *name, const char *value)
{
	static const char *const keys[] = { "state", "plugin_dir", "parallelism", "interval",
					    "max_delete", "lock_timeout", "max_rounds", NULL };
	struct lbr_cfg *cfg = c->cfg;
	unsigned bit;
	long v;
	int i;

	for (i = 0; keys[i]; i++)
		if (strcmp(keys[i], name) == 0)
			break;
	if (!keys[i]) {
		set_err(c, c->line, "[agent]: unknown key '%s'", name);
		return 0;
	}
	bit = 1u << i;
	if (c->agent_seen_mask & bit) {
		set_err(c, c->line, "[agent]: duplicate key '%s'", name);
		return 0;
	}
	c->agent_seen_mask |= bit;
	if (!*value) {
		set_err(c, c->line, "[agent]: '%s' has an empty value", name);
		return 0;
	}
	if (!strcmp(name, "state")) {
		free(cfg->state);
		cfg->state = strdup(value);
		c->state_line = c->line;
	} else if (!strcmp(name, "plugin_dir")) {
		free(cfg->plugin_dir);
		cfg->plugin_dir = strdup(value);
		c->plugin_dir_line = c->line;
	} else if (!strcmp(name, "parallelism")) {
		if (parse_int(value, 1, 1024, &v) < 0) {
			set_err(c, c->line, "[agent]: parallelism must be a number from 1 to 1024, not '%s'", value);
			return 0;
		}
		cfg->parallelism = (int)v;
	} else if (!strcmp(name, "interval")) {
		if (parse_int(value, 1, 7 * 86400, &v) < 0) {
			set_err(c, c->line, "[agent]: interval must be a number of seconds from 1 to 604800, not '%s'", value);
			return 0;
		}
		cfg->interval = (int)v;
	} else if (!strcmp(name, "max_delete")) {
		char tmp[32];
		size_t n = strlen(value);
		int pct = n > 0 && value[n - 1] == '%';

		if (n >= sizeof(tmp)) {
			set_err(c, c->line, "[agent]: max_delete must be N or N%%, not '%s'", value);
			return 0;
		}
		memcpy(tmp, value, n + 1);
		if (pct)
			tmp[n - 1] = '\0';
		if (parse_int(tmp, 0, pct ? 100 : 1000000, &v) < 0) {
			set_err(c, c->line, "[agent]: max_delete must be N (0-1000000) or N%% (0-100%%), not '%s'", value);
			return 0;
		}
		cfg->max_delete = (int)v;
		cfg->max_delete_percent = pct;
	} else if (!strcmp(name, "lock_timeout")) {
		if (parse_int(value, 0, 86400, &v) < 0) {
			set_err(c, c->line, "[agent]: lock_timeout must be a number of seconds from 0 to 86400, not '%s'", value);
			return 0;
		}
		cfg->lock_timeout = (int)v;
	} else if (!strcmp(name, "max_rounds")) {
		if (parse_int(value, 1, 100, &v) < 0) {
			set_err(c, c->line, "[agent]: max_rounds must be a number from 1 to 100, not '%s'", value);
			return 0;
		}
		cfg->max_rounds = (int)v;
	}
	if ((!strcmp(name, "state") && !cfg->state) ||
	    (!strcmp(name, "plugin_dir") && !cfg->plugin_dir))
		return 0;
	return 1;
}

static int provider_key(struct parse_ctx *c, const char *name, const char *value)
{
	struct lbr_cfg_provider *p = c->prov;

	if (kv_find(p->kv, p->n_kv, name) || (!strcmp(name, "plugin") && p->plugin_name)) {
		set_err(c, c->line, "provider \"%s\": duplicate key '%s'", p->name, name);
		return 0;
	}
	if (!strcmp(name, "plugin")) {
		p->plugin_name = strdup(value);
		return p->plugin_name != NULL;
	}
	if (kv_add(&p->kv, &p->n_kv, &p->cap_kv, name, value, c->line) < 0)
		return 0;
	return 1;
}

static int pool_key(struct parse_ctx *c, const char *name, const char *value)
{
	struct lbr_cfg_pool *p = c->pool;
	char err[256];
	long v;

	if (!strcmp(name, "member")) {
		struct lbr_cfg_member m;

		memset(&m, 0, sizeof(m));
		if (lbr_addrport_parse(value, m.address, &m.port, err, sizeof(err)) < 0) {
			set_err(c, c->line, "pool \"%s\": bad member %s", p->name, err);
			return 0;
		}
		/* Duplicates are found after parsing, by sorting (pools can
		 * have 100,000 members). */
		m.line = c->line;
		if (lbr_grow((void **)&p->members, &p->cap_members, p->n_members, sizeof(m)) < 0)
			return 0;
		p->members[p->n_members++] = m;
		return 1;
	}
	if (!strcmp(name, "provider")) {
		if (p->provider_name) {
			set_err(c, c->line, "pool \"%s\": duplicate key 'provider'", p->name);
			return 0;
		}
		p->provider_name = strdup(value);
		p->provider_line = c->line;
		return p->provider_name != NULL;
	}
	if (kv_find(p->target, p->n_target, name)) {
		set_err(c, c->line, "pool \"%s\": duplicate key '%s'", p->name, name);
		return 0;
	}
	if (!strcmp(name, "drain")) {
		if (parse_int(value, 0, 3600, &v) < 0) {
			set_err(c, c->line, "pool \"%s\": drain must be a number of seconds from 0 to 3600, not '%s'",
				p->name, value);
			return 0;
		}
		p->drain_s = (int)v;
	} else if (!strcmp(name, "allow_empty")) {
		if (parse_bool(value, &p->allow_empty) < 0) {
			set_err(c, c->line, "pool \"%s\": allow_empty must be yes or no, not '%s'",
				p->name, value);
			return 0;
		}
	}
	/* Every other key is checked against the plugin's pool keys later;
	 * drain/allow_empty are recorded too, to refuse duplicates. */
	if (kv_add(&p->target, &p->n_target, &p->cap_target, name, value, c->line) < 0)
		return 0;
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;

	if (c->err[0])
		return 0;
	if (strcmp(section, c->cur_section) != 0 || c->kind == SEC_NONE) {
		if (!section[0]) {
			set_err(c, c->line, "key '%s' outside of any section", name);
			return 0;
		}
		if (!begin_section(c, section))
			goto fail;
	}
	refresh_current(c);
	if (!value)
		value = "";
	switch (c->kind) {
	case SEC_AGENT:
		if (!agent_key(c, name, value))
			goto fail;
		break;
	case SEC_PROVIDER:
		if (!provider_key(c, name, value))
			goto fail;
		break;
	case SEC_POOL:
		if (!pool_key(c, name, value))
			goto fail;
		break;
	default:
		goto fail;
	}
	return 1;
fail:
	if (!c->err[0])
		set_err(c, c->line, "out of memory");
	return 0;
}

/* Sections with no keys never reach the handler: scan the raw text for
 * headers so that "[pool x]" alone is still seen (and refused later). */
static void scan_empty_sections(struct parse_ctx *c)
{
	size_t pos = 0;
	int line = 0;

	while (pos < c->len && !c->err[0]) {
		size_t end = pos, s, e;
		char sec[256];

		while (end < c->len && c->buf[end] != '\n')
			end++;
		line++;
		s = pos;
		while (s < end && (c->buf[s] == ' ' || c->buf[s] == '\t'))
			s++;
		if (s < end && c->buf[s] == '[') {
			e = s + 1;
			while (e < end && c->buf[e] != ']')
				e++;
			if (e < end && e - s - 1 < sizeof(sec)) {
				size_t i, found = 0;
				const char *nm;

				memcpy(sec, c->buf + s + 1, e - s - 1);
				sec[e - s - 1] = '\0';
				if (!strncmp(sec, "pool ", 5)) {
					nm = sec + 5;
					for (i = 0; i < c->cfg->n_pools; i++)
						found |= !strcmp(c->cfg->pools[i].name, nm);
					if (!found)
						set_err(c, line, "pool \"%s\" has no keys (it needs provider and member lines)", nm);
				} else if (!strncmp(sec, "provider ", 9)) {
					nm = sec + 9;
					for (i = 0; i < c->cfg->n_providers; i++)
						found |= !strcmp(c->cfg->providers[i].name, nm);
					if (!found)
						set_err(c, line, "provider \"%s\" has no keys (it needs at least plugin =)", nm);
				} else if (strcmp(sec, "agent") != 0) {
					set_err(c, line, "unknown section [%s] (expected [agent], [provider NAME] or [pool NAME])", sec);
				}
			}
		}
		pos = end + 1;
	}
}

static int cmp_member(const void *a, const void *b)
{
	const struct lbr_cfg_member *x = a, *y = b;
	int c = strcmp(x->address, y->address);

	if (c)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

/* Sort each pool's members and refuse one listed twice, naming the first
 * line where the error is earliest in the file. */
static void check_duplicate_members(struct parse_ctx *c)
{
	size_t i, k;

	for (i = 0; i < c->cfg->n_pools && !c->err[0]; i++) {
		struct lbr_cfg_pool *p = &c->cfg->pools[i];
		int worst = 0, first = 0;
		char ap[80] = "";

		if (p->n_members > 1)
			qsort(p->members, p->n_members, sizeof(*p->members), cmp_member);
		for (k = 1; k < p->n_members; k++) {
			struct lbr_cfg_member *a = &p->members[k - 1], *b = &p->members[k];

			if (a->port == b->port && !strcmp(a->address, b->address) &&
			    (!worst || b->line < worst)) {
				worst = b->line;
				first = a->line;
				lbr_addrport_fmt(b->address, b->port, ap, sizeof(ap));
			}
		}
		if (worst)
			set_err(c, worst, "pool \"%s\": member %s is listed twice (also line %d)",
				p->name, ap, first);
	}
}

static char *resolve_path(const char *dir, const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	return lbr_asprintf("%s/%s", dir, p);
}

/* env:NAME, file:PATH, or a literal (warned about). */
static int resolve_secret(struct lbr_cfg *cfg, const char *owner, struct lbr_cfg_kv *kv,
			  char *err, size_t errlen)
{
	char *val = NULL;

	if (!strncmp(kv->value, "env:", 4)) {
		const char *e = getenv(kv->value + 4);

		if (!kv->value[4]) {
			snprintf(err, errlen, "%s:%d: %s: %s: 'env:' needs a variable name",
				 cfg->path, kv->line, owner, kv->key);
			return LBR_EINVAL;
		}
		if (!e || !*e) {
			snprintf(err, errlen, "%s:%d: %s: %s: environment variable %s is not set",
				 cfg->path, kv->line, owner, kv->key, kv->value + 4);
			return LBR_EINVAL;
		}
		val = strdup(e);
	} else if (!strncmp(kv->value, "file:", 5)) {
		char *path = resolve_path(cfg->dir, kv->value + 5);
		FILE *f;
		char line[4096];
		size_t n;

		if (!path)
			return LBR_ENOMEM;
		f = fopen(path, "re");
		if (!f) {
			snprintf(err, errlen, "%s:%d: %s: %s: cannot read '%s' (%s)", cfg->path,
				 kv->line, owner, kv->key, path, strerror(errno));
			free(path);
			return LBR_EINVAL;
		}
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		n = strlen(line);
		/* The secret is the first line (SPEC); one longer than the
		 * buffer is an error here, not a cut secret and an auth
		 * failure at the first call. */
		{
			int c = n == sizeof(line) - 1 && line[n - 1] != '\n' ? fgetc(f) : EOF;

			fclose(f);
			if (c != EOF && c != '\n' && c != '\r') {
				snprintf(err, errlen, "%s:%d: %s: %s: the first line of '%s' is longer than %zu bytes",
					 cfg->path, kv->line, owner, kv->key, path, sizeof(line) - 1);
				free(path);
				explicit_bzero(line, sizeof(line));
				return LBR_EINVAL;
			}
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n) {
			snprintf(err, errlen, "%s:%d: %s: %s: '%s' is empty", cfg->path, kv->line,
				 owner, kv->key, path);
			free(path);
			explicit_bzero(line, sizeof(line));
			return LBR_EINVAL;
		}
		val = strdup(line);
		explicit_bzero(line, sizeof(line));
		free(path);
	} else {
		lbr_warn("%s:%d: %s: %s is a literal secret in the config file; prefer env:NAME or file:PATH",
			 cfg->path, kv->line, owner, kv->key);
		val = strdup(kv->value);
	}
	if (!val)
		return LBR_ENOMEM;
	lbr_secret_free(kv->value);
	kv->value = val;
	kv->secret = 1;
	return 0;
}


static int check_provider(struct lbr_cfg *cfg, struct lbr_cfg_provider *p, char *err,
			  size_t errlen)
{
	char owner[128], perr[512];
	size_t i;
	const struct lbr_key_spec *ks;
	int r;

	snprintf(owner, sizeof(owner), "provider \"%s\"", p->name);
	if (!p->plugin_name) {
		snprintf(err, errlen, "%s:%d: %s: missing key 'plugin'", cfg->path, p->line, owner);
		return LBR_EINVAL;
	}
	r = lbr_plugin_load(cfg->plugin_dir, p->plugin_name, &p->plugin, perr, sizeof(perr));
	if (r < 0) {
		snprintf(err, errlen, "%s:%d: %s: %s", cfg->path, p->line, owner, perr);
		return r;
	}
	for (i = 0; i < p->n_kv; i++) {
		struct lbr_cfg_kv *kv = &p->kv[i];
		long v;

		if (!strcmp(kv->key, "ca_file")) {
			free(p->ca_file);
			p->ca_file = resolve_path(cfg->dir, kv->value);
			if (!p->ca_file)
				return LBR_ENOMEM;
			if (access(p->ca_file, R_OK) < 0) {
				snprintf(err, errlen, "%s:%d: %s: ca_file '%s' cannot be read (%s)",
					 cfg->path, kv->line, owner, p->ca_file, strerror(errno));
				return LBR_EINVAL;
			}
			continue;
		}
		if (!strcmp(kv->key, "allow_insecure_http")) {
			if (parse_bool(kv->value, &p->allow_insecure_http) < 0) {
				snprintf(err, errlen, "%s:%d: %s: allow_insecure_http must be yes or no",
					 cfg->path, kv->line, owner);
				return LBR_EINVAL;
			}
			continue;
		}
		if (!strcmp(kv->key, "timeout")) {
			if (parse_int(kv->value, 1, 600, &v) < 0) {
				snprintf(err, errlen, "%s:%d: %s: timeout must be a number of seconds from 1 to 600",
					 cfg->path, kv->line, owner);
				return LBR_EINVAL;
			}
			p->timeout_s = (int)v;
			continue;
		}
		ks = lbr_plugin_key(p->plugin->ops.provider_keys, kv->key);
		if (!ks) {
			snprintf(err, errlen, "%s:%d: %s: unknown key '%s' for plugin %s", cfg->path,
				 kv->line, owner, kv->key, p->plugin_name);
			return LBR_EINVAL;
		}
		if (!kv->value[0]) {
			snprintf(err, errlen, "%s:%d: %s: '%s' has an empty value", cfg->path,
				 kv->line, owner, kv->key);
			return LBR_EINVAL;
		}
		if ((ks->flags & LBR_KEY_ID) && !lbr_id_valid(kv->value)) {
			snprintf(err, errlen, "%s:%d: %s: %s '%s' is not a valid id ([A-Za-z0-9_-], at most 128)",
				 cfg->path, kv->line, owner, kv->key, kv->value);
			return LBR_EINVAL;
		}
		if (ks->flags & LBR_KEY_SECRET) {
			r = resolve_secret(cfg, owner, kv, err, errlen);
			if (r < 0)
				return r;
		}
		if (!strcmp(kv->key, "endpoint")) {
			p->endpoint = kv->value;
			if (strncmp(kv->value, "https://", 8) != 0) {
				if (strncmp(kv->value, "http://", 7) != 0) {
					snprintf(err, errlen, "%s:%d: %s: endpoint '%s' must start with https://",
						 cfg->path, kv->line, owner, kv->value);
					return LBR_EINVAL;
				}
				if (!lbr_url_is_loopback(kv->value) && !p->allow_insecure_http) {
					/* allow_insecure_http may come later in the
					 * section: checked again below. */
				}
			}
		}
	}
	if (p->endpoint && !strncmp(p->endpoint, "http://", 7) && !lbr_url_is_loopback(p->endpoint)) {
		struct lbr_cfg_kv *e = kv_find(p->kv, p->n_kv, "endpoint");

		if (!p->allow_insecure_http) {
			snprintf(err, errlen,
				 "%s:%d: %s: endpoint '%s' is plain http; use https:// or set allow_insecure_http = yes",
				 cfg->path, e->line, owner, p->endpoint);
			return LBR_EINVAL;
		}
		lbr_warn("%s:%d: %s: endpoint '%s' is plain http (allow_insecure_http = yes): credentials and data are not protected",
			 cfg->path, e->line, owner, p->endpoint);
	}
	for (ks = p->plugin->ops.provider_keys; ks->name; ks++) {
		if ((ks->flags & LBR_KEY_REQUIRED) && !kv_find(p->kv, p->n_kv, ks->name)) {
			snprintf(err, errlen, "%s:%d: %s: missing required key '%s'", cfg->path,
				 p->line, owner, ks->name);
			return LBR_EINVAL;
		}
	}
	/* Let the plugin check the values (no network). */
	{
		struct lbr_kv *kv = lbr_cfg_provider_kv(p);
		void *inst = NULL;
		extern const struct lbr_host *lbr_engine_host(void);

		if (!kv)
			return LBR_ENOMEM;
		perr[0] = '\0';
		r = p->plugin->ops.open(lbr_engine_host(), kv, p->n_kv, &inst, perr, sizeof(perr));
		free(kv);
		if (r < 0) {
			snprintf(err, errlen, "%s:%d: %s: %s", cfg->path, p->line, owner,
				 perr[0] ? perr : "rejected by the plugin");
			return LBR_EINVAL;
		}
		p->plugin->ops.close(inst);
	}
	return 0;
}

static int check_pool(struct lbr_cfg *cfg, struct lbr_cfg_pool *pool, char *err, size_t errlen)
{
	char owner[128], perr[512];
	const struct lbr_key_spec *ks;
	size_t i, n = 0;
	struct lbr_target t;
	void *inst = NULL;
	struct lbr_kv *pkv;
	int r;

	snprintf(owner, sizeof(owner), "pool \"%s\"", pool->name);
	if (!pool->provider_name) {
		snprintf(err, errlen, "%s:%d: %s: missing key 'provider'", cfg->path, pool->line, owner);
		return LBR_EINVAL;
	}
	for (i = 0; i < cfg->n_providers; i++)
		if (!strcmp(cfg->providers[i].name, pool->provider_name))
			pool->provider = &cfg->providers[i];
	if (!pool->provider) {
		snprintf(err, errlen, "%s:%d: %s: unknown provider \"%s\"", cfg->path,
			 pool->provider_line, owner, pool->provider_name);
		return LBR_EINVAL;
	}
	pool->provider->used = 1;
	pool->target_kv = calloc(pool->n_target + 1, sizeof(*pool->target_kv));
	if (!pool->target_kv)
		return LBR_ENOMEM;
	for (i = 0; i < pool->n_target; i++) {
		struct lbr_cfg_kv *kv = &pool->target[i];

		if (!strcmp(kv->key, "drain") || !strcmp(kv->key, "allow_empty"))
			continue;
		ks = lbr_plugin_key(pool->provider->plugin->ops.pool_keys, kv->key);
		if (!ks) {
			snprintf(err, errlen, "%s:%d: %s: unknown key '%s' for plugin %s", cfg->path,
				 kv->line, owner, kv->key, pool->provider->plugin_name);
			return LBR_EINVAL;
		}
		if (!kv->value[0] || ((ks->flags & LBR_KEY_ID) && !lbr_id_valid(kv->value))) {
			snprintf(err, errlen, "%s:%d: %s: %s '%s' is not a valid id ([A-Za-z0-9_-], at most 128)",
				 cfg->path, kv->line, owner, kv->key, kv->value);
			return LBR_EINVAL;
		}
		pool->target_kv[n].key = kv->key;
		pool->target_kv[n].value = kv->value;
		n++;
	}
	for (ks = pool->provider->plugin->ops.pool_keys; ks->name; ks++) {
		if ((ks->flags & LBR_KEY_REQUIRED) && !kv_find(pool->target, pool->n_target, ks->name)) {
			snprintf(err, errlen, "%s:%d: %s: missing required key '%s' (plugin %s)",
				 cfg->path, pool->line, owner, ks->name, pool->provider->plugin_name);
			return LBR_EINVAL;
		}
	}
	if (pool->n_members == 0 && !pool->allow_empty) {
		snprintf(err, errlen,
			 "%s:%d: %s: no member lines; this would remove every member (set allow_empty = yes if that is intended)",
			 cfg->path, pool->line, owner);
		return LBR_EINVAL;
	}
	if (pool->drain_s && !(pool->provider->plugin->ops.caps & LBR_CAP_DRAIN)) {
		snprintf(err, errlen, "%s:%d: %s: drain is not supported by plugin %s", cfg->path,
			 pool->line, owner, pool->provider->plugin_name);
		return LBR_EINVAL;
	}
	t.pool_name = pool->name;
	t.kv = pool->target_kv;
	t.n = n;
	pkv = lbr_cfg_provider_kv(pool->provider);
	if (!pkv)
		return LBR_ENOMEM;
	{
		extern const struct lbr_host *lbr_engine_host(void);

		perr[0] = '\0';
		r = pool->provider->plugin->ops.open(lbr_engine_host(), pkv, pool->provider->n_kv,
						     &inst, perr, sizeof(perr));
	}
	free(pkv);
	if (r == 0) {
		perr[0] = '\0';
		r = pool->provider->plugin->ops.check_target(inst, &t, perr, sizeof(perr));
		pool->provider->plugin->ops.close(inst);
		if (r < 0) {
			snprintf(err, errlen, "%s:%d: %s: %s", cfg->path, pool->line, owner,
				 perr[0] ? perr : "target rejected by the plugin");
			return LBR_EINVAL;
		}
	}
	return 0;
}

/* Two pools must not manage the same cloud object. */
static int check_overlap(struct lbr_cfg *cfg, char *err, size_t errlen)
{
	size_t i, j, k;

	for (i = 0; i < cfg->n_pools; i++)
		for (j = i + 1; j < cfg->n_pools; j++) {
			struct lbr_cfg_pool *a = &cfg->pools[i], *b = &cfg->pools[j];
			int same = 1;
			size_t na = 0, nb = 0;

			if (a->provider != b->provider)
				continue;
			for (k = 0; a->target_kv[k].key; k++)
				na++;
			for (k = 0; b->target_kv[k].key; k++)
				nb++;
			if (na != nb)
				continue;
			for (k = 0; k < na && same; k++) {
				size_t m;
				int found = 0;

				for (m = 0; m < nb; m++)
					if (!strcmp(a->target_kv[k].key, b->target_kv[m].key) &&
					    !strcmp(a->target_kv[k].value, b->target_kv[m].value))
						found = 1;
				same = found;
			}
			if (same) {
				snprintf(err, errlen, "%s:%d: pool \"%s\" targets the same %s as pool \"%s\" (line %d)",
					 cfg->path, b->line, b->name, a->target_kv[0].key ? a->target_kv[0].key : "object",
					 a->name, a->line);
				return LBR_EINVAL;
			}
		}
	return 0;
}

struct lbr_kv *lbr_cfg_provider_kv(const struct lbr_cfg_provider *p)
{
	struct lbr_kv *kv = calloc(p->n_kv + 1, sizeof(*kv));
	size_t i;

	if (!kv)
		return NULL;
	for (i = 0; i < p->n_kv; i++) {
		kv[i].key = p->kv[i].key;
		kv[i].value = p->kv[i].value;
	}
	return kv;
}

static char *dir_of(const char *path)
{
	char *abs = NULL, *slash, cwd[PATH_MAX];

	if (path[0] == '/') {
		abs = strdup(path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		abs = lbr_asprintf("%s/%s", cwd, path);
	}
	if (!abs)
		return NULL;
	slash = strrchr(abs, '/');
	if (slash == abs)
		slash[1] = '\0';
	else
		*slash = '\0';
	return abs;
}

int lbr_cfg_load(const char *path, const char *plugin_dir_override, struct lbr_cfg **out,
		 char *err, size_t errlen)
{
	int r = LBR_EINVAL, rc;
	struct parse_ctx c;
	struct lbr_cfg *cfg = NULL;
	FILE *f = NULL;
	size_t i;

	memset(&c, 0, sizeof(c));
	*out = NULL;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		goto oom;
	cfg->path = strdup(path);
	cfg->dir = dir_of(path);
	if (!cfg->path || !cfg->dir)
		goto oom;
	cfg->parallelism = 16;
	cfg->interval = 60;
	cfg->max_delete = 50;
	cfg->max_delete_percent = 1;
	cfg->lock_timeout = 0;
	cfg->max_rounds = 5;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: cannot read config file (%s)", path, strerror(errno));
		r = LBR_ENOENT;
		goto out;
	}
	c.buf = malloc(CFG_MAX_FILE + 1);
	if (!c.buf)
		goto oom;
	c.len = fread(c.buf, 1, CFG_MAX_FILE + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read config file (%s)", path, strerror(errno));
		r = LBR_EIO;
		goto out;
	}
	if (c.len > CFG_MAX_FILE) {
		snprintf(err, errlen, "%s: config file is larger than 64 MiB", path);
		goto out;
	}
	c.cfg = cfg;
	c.path = path;
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	ini_allow_no_value = false;
	rc = ini_parse_stream(reader, &c, handler, &c);
	if (c.err[0]) {
		snprintf(err, errlen, "%s", c.err);
		goto out;
	}
	if (rc == -2)
		goto oom;
	if (rc > 0) {
		snprintf(err, errlen, "%s:%d: syntax error (expected '[section]', 'key = value' or a comment)",
			 path, rc);
		goto out;
	}
	scan_empty_sections(&c);
	check_duplicate_members(&c);
	if (c.err[0]) {
		snprintf(err, errlen, "%s", c.err);
		goto out;
	}
	if (cfg->n_pools == 0) {
		snprintf(err, errlen, "%s: no [pool NAME] section: nothing to reconcile", path);
		goto out;
	}
	/* Paths relative to the config file's directory. */
	if (!cfg->state)
		cfg->state = strdup("lbreconcile.state.json");
	if (!cfg->state)
		goto oom;
	if (strncmp(cfg->state, "etcd://", 7) != 0) {
		char *abs = resolve_path(cfg->dir, cfg->state);

		if (!abs)
			goto oom;
		free(cfg->state);
		cfg->state = abs;
	}
	{
		const char *pd = cfg->plugin_dir;
		char *abs;

		if (plugin_dir_override && *plugin_dir_override)
			pd = plugin_dir_override;
		if (!pd)
			pd = getenv("LBRECONCILE_PLUGIN_DIR");
		if (!pd || !*pd)
			pd = LBR_PLUGIN_DIR;
		abs = resolve_path(cfg->dir, pd);
		if (!abs)
			goto oom;
		free(cfg->plugin_dir);
		cfg->plugin_dir = abs;
	}
	for (i = 0; i < cfg->n_providers; i++) {
		r = check_provider(cfg, &cfg->providers[i], err, errlen);
		if (r < 0)
			goto out;
	}
	for (i = 0; i < cfg->n_pools; i++) {
		r = check_pool(cfg, &cfg->pools[i], err, errlen);
		if (r < 0)
			goto out;
	}
	r = check_overlap(cfg, err, errlen);
	if (r < 0)
		goto out;
	for (i = 0; i < cfg->n_providers; i++)
		if (!cfg->providers[i].used)
			lbr_warn("%s:%d: provider \"%s\" is not used by any pool", path,
				 cfg->providers[i].line, cfg->providers[i].name);
	*out = cfg;
	cfg = NULL; /* transferred */
	r = 0;
	goto out;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
	r = LBR_ENOMEM;
out:
	if (f)
		fclose(f);
	if (c.buf) {
		explicit_bzero(c.buf, c.len); /* the file may hold literal secrets */
		free(c.buf);
	}
	free(c.raw_max_delete);
	lbr_cfg_free(cfg);
	return r;
}

static void kv_free(struct lbr_cfg_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		lbr_secret_free(kv[i].value); /* wipes every value; cheap */
	}
	free(kv);
}

void lbr_cfg_free(struct lbr_cfg *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_providers; i++) {
		struct lbr_cfg_provider *p = &cfg->providers[i];

		free(p->name);
		free(p->plugin_name);
		kv_free(p->kv, p->n_kv);
		free(p->ca_file);
		lbr_plugin_free(p->plugin);
	}
	free(cfg->providers);
	for (i = 0; i < cfg->n_pools; i++) {
		struct lbr_cfg_pool *p = &cfg->pools[i];

		free(p->name);
		free(p->provider_name);
		kv_free(p->target, p->n_target);
		free(p->target_kv);
		free(p->members);
	}
	free(cfg->pools);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->state);
	free(cfg->plugin_dir);
	free(cfg);
}

struct lbr_cfg_pool *lbr_cfg_pool_find(struct lbr_cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_pools; i++)
		if (!strcmp(cfg->pools[i].name, name))
			return &cfg->pools[i];
	return NULL;
}
