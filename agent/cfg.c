/*
 * INI configuration.  inih does the tokenising; this file feeds it one line
 * at a time through a reader that counts lines (so every message can name
 * FILE:LINE), refuses lines longer than inih's buffer instead of letting it
 * split them, and strips leading blanks so that no line is ever taken as a
 * continuation of the previous value.
 *
 * The keys themselves are handled in cfg-keys.c, the checks that need the
 * plugins in cfg-check.c.
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

#include "agent/cfg-int.h"
#include "agent/error.h"
#include "agent/log.h"

/* Large enough for pools of 100,000+ member lines. */
#define CFG_MAX_FILE (64 * 1024 * 1024)
/* inih's line buffer is 200 bytes including the line end and NUL. */
#define CFG_MAX_LINE 198

void lbr_cfg_set_err(struct lbr_cfg_parse *c, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[768];

	if (c->err[0])
		return; /* keep the first error */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, sizeof(c->err), "%s:%d: %s", c->path, line, msg);
}

static char *reader(char *str, int num, void *stream)
{
	struct lbr_cfg_parse *c = stream;
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
			lbr_cfg_set_err(c, c->line,
					"line contains a NUL byte (is this a text file?)");
			return NULL;
		}
	}
	if (n > CFG_MAX_LINE || (int)n > num - 2) {
		lbr_cfg_set_err(
			c, c->line,
			"line is %zu bytes long; the INI parser's limit is %d bytes per line", n,
			CFG_MAX_LINE);
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
						lbr_cfg_set_err(
							c, c->line,
							"duplicate pool \"%s\" (first defined at line %d)",
							name + 5, c->headers[h].line);
					else
						lbr_cfg_set_err(
							c, c->line,
							"duplicate section [%s] (first defined at line %d)",
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

/* Sections with no keys never reach the handler: scan the raw text for
 * headers so that "[pool x]" alone is still seen (and refused later). */
static void scan_empty_sections(struct lbr_cfg_parse *c)
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
						lbr_cfg_set_err(
							c, line,
							"pool \"%s\" has no keys (it needs provider and member lines)",
							nm);
				} else if (!strncmp(sec, "provider ", 9)) {
					nm = sec + 9;
					for (i = 0; i < c->cfg->n_providers; i++)
						found |= !strcmp(c->cfg->providers[i].name, nm);
					if (!found)
						lbr_cfg_set_err(
							c, line,
							"provider \"%s\" has no keys (it needs at least plugin =)",
							nm);
				} else if (strcmp(sec, "agent") != 0) {
					lbr_cfg_set_err(
						c, line,
						"unknown section [%s] (expected [agent], [provider NAME] or [pool NAME])",
						sec);
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
static void check_duplicate_members(struct lbr_cfg_parse *c)
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
			lbr_cfg_set_err(c, worst,
					"pool \"%s\": member %s is listed twice (also line %d)",
					p->name, ap, first);
	}
}

char *lbr_cfg_resolve_path(const char *dir, const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	return lbr_asprintf("%s/%s", dir, p);
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

#define ETCD_FORM "etcd://HOST:PORT[,HOST:PORT]/PREFIX, or etcd:///PREFIX with state_endpoint lines"

int lbr_cfg_endpoint_check(const char *s, size_t len, char *err, size_t errlen)
{
	size_t i, hl;
	unsigned long port = 0;

	if (len == 0) {
		snprintf(err, errlen, "empty endpoint");
		return LBR_EINVAL;
	}
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close || close == s + 1 || (size_t)(close - s) + 1 >= len || close[1] != ':')
			goto form;
		for (i = 1; s + i < close; i++)
			if (!strchr("0123456789abcdefABCDEF:.", s[i]))
				goto form;
		hl = (size_t)(close - s) + 1;
	} else {
		for (hl = 0; hl < len && s[hl] != ':'; hl++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-",
				    s[hl]))
				goto form;
		if (hl == 0 || hl == len)
			goto form;
	}
	if (len - hl - 1 == 0 || len - hl - 1 > 5)
		goto port;
	for (i = hl + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto port;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	if (port >= 1 && port <= 65535)
		return 0;
port:
	snprintf(err, errlen, "endpoint '%.*s': the port must be a number from 1 to 65535",
		 (int)len, s);
	return LBR_EINVAL;
form:
	snprintf(err, errlen, "endpoint '%.*s' is not HOST:PORT or [IPV6]:PORT", (int)len, s);
	return LBR_EINVAL;
}

static int add_part(char **acc, const char *sep, const char *s, size_t len)
{
	char *n = lbr_asprintf("%s%s%.*s", *acc, sep, (int)len, s);

	if (!n)
		return LBR_ENOMEM;
	free(*acc);
	*acc = n;
	return 0;
}

/*
 * The etcd location, checked as the state backend will use it, with the
 * `state_endpoint = HOST:PORT` lines (repeated) added to the endpoints
 * the URL names; `state = etcd:///PREFIX` names none itself, so that any
 * number of endpoints fits inih's line limit.  cfg->state becomes the one
 * canonical etcd://EP[,EP...]/PREFIX the backend opens.
 */
static int etcd_location(struct lbr_cfg_parse *c)
{
	struct lbr_cfg *cfg = c->cfg;
	const char *spec = cfg->state, *hosts = spec + 7, *slash, *p, *comma;
	char why[256], *acc;
	size_t i, n = 0;

	slash = strchr(hosts, '/');
	if (!slash || !slash[1]) {
		lbr_cfg_set_err(c, c->state_line,
				"[agent]: state '%s': missing /PREFIX (expected %s)", spec,
				ETCD_FORM);
		return LBR_EINVAL;
	}
	for (i = 1; slash[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/",
			    slash[i]) ||
		    i > 500) {
			lbr_cfg_set_err(
				c, c->state_line,
				"[agent]: state '%s': bad prefix (letters, digits, '.', '_', '-', '/'; at most 500)",
				spec);
			return LBR_EINVAL;
		}
	acc = strdup("etcd://");
	if (!acc)
		return LBR_ENOMEM;
	/* "etcd:///P" names no endpoint; otherwise every part between
	 * commas must be one, the last one too ("h:1,/p"). */
	for (p = hosts; slash > hosts; p = comma + 1) {
		comma = memchr(p, ',', (size_t)(slash - p));
		if (!comma)
			comma = slash;
		if (lbr_cfg_endpoint_check(p, (size_t)(comma - p), why, sizeof(why)) < 0) {
			lbr_cfg_set_err(c, c->state_line, "[agent]: state '%s': %s%s", spec, why,
					comma == p ? " (a stray ',')" : "");
			goto bad;
		}
		if (add_part(&acc, n++ ? "," : "", p, (size_t)(comma - p)) < 0)
			goto oom;
		if (comma == slash)
			break;
	}
	for (i = 0; i < c->n_endpoints; i++) {
		const struct lbr_cfg_endpoint *e = &c->endpoints[i];

		if (lbr_cfg_endpoint_check(e->hostport, strlen(e->hostport), why, sizeof(why)) <
		    0) {
			lbr_cfg_set_err(c, e->line, "[agent]: state_endpoint: %s", why);
			goto bad;
		}
		if (add_part(&acc, n++ ? "," : "", e->hostport, strlen(e->hostport)) < 0)
			goto oom;
	}
	if (!n) {
		lbr_cfg_set_err(c, c->state_line,
				"[agent]: state '%s': no etcd endpoint (expected %s)", spec,
				ETCD_FORM);
		goto bad;
	}
	if (add_part(&acc, "", slash, strlen(slash)) < 0)
		goto oom;
	free(cfg->state);
	cfg->state = acc;
	cfg->state_etcd = 1;
	return 0;
oom:
	free(acc);
	return LBR_ENOMEM;
bad:
	free(acc);
	return LBR_EINVAL;
}

/* The state location: a path relative to the config file, or etcd. */
static int state_location(struct lbr_cfg_parse *c)
{
	struct lbr_cfg *cfg = c->cfg;
	char *abs;

	if (!cfg->state)
		cfg->state = strdup("lbreconcile.state.json");
	if (!cfg->state)
		return LBR_ENOMEM;
	if (!strncmp(cfg->state, "etcd://", 7))
		return etcd_location(c);
	if (c->n_endpoints) {
		lbr_cfg_set_err(
			c, c->endpoints[0].line,
			"[agent]: state_endpoint is for an etcd state (state = etcd:///PREFIX), not '%s'",
			cfg->state);
		return LBR_EINVAL;
	}
	if (strstr(cfg->state, "://")) {
		lbr_cfg_set_err(c, c->state_line,
				"[agent]: unsupported state location '%s' (a path or %s)",
				cfg->state, ETCD_FORM);
		return LBR_EINVAL;
	}
	abs = lbr_cfg_resolve_path(cfg->dir, cfg->state);
	if (!abs)
		return LBR_ENOMEM;
	free(cfg->state);
	cfg->state = abs;
	return 0;
}

int lbr_cfg_load(const char *path, const char *plugin_dir_override, const struct lbr_host *host,
		 struct lbr_cfg **out, char *err, size_t errlen)
{
	int r = LBR_EINVAL, rc;
	struct lbr_cfg_parse c;
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
	cfg->lock_ttl = 30;
	cfg->max_rounds = 5;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: cannot read config file (%s)", path, strerror(errno));
		r = LBR_ENOENT;
		goto out;
	}
	/* Read in growing steps: a config is usually a few KiB, and a 64 MiB
	 * buffer for each one is slow under sanitizers and in the fuzzer. */
	{
		size_t cap = 0;

		for (;;) {
			size_t got;

			if (c.len == cap) {
				size_t ncap = cap ? cap * 4 : 16384;
				char *nb;

				if (ncap > CFG_MAX_FILE + 1)
					ncap = CFG_MAX_FILE + 1;
				if (ncap == cap)
					break; /* full: over the limit */
				nb = realloc(c.buf, ncap);
				if (!nb)
					goto oom;
				c.buf = nb;
				cap = ncap;
			}
			got = fread(c.buf + c.len, 1, cap - c.len, f);
			c.len += got;
			if (got == 0)
				break;
		}
	}
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
	rc = ini_parse_stream(reader, &c, lbr_cfg_handler, &c);
	if (c.err[0]) {
		snprintf(err, errlen, "%s", c.err);
		goto out;
	}
	if (rc == -2)
		goto oom;
	if (rc > 0) {
		snprintf(err, errlen,
			 "%s:%d: syntax error (expected '[section]', 'key = value' or a comment)",
			 path, rc);
		goto out;
	}
	scan_empty_sections(&c);
	check_duplicate_members(&c);
	if (!c.err[0] && state_location(&c) == LBR_ENOMEM)
		goto oom;
	if (c.err[0]) {
		snprintf(err, errlen, "%s", c.err);
		goto out;
	}
	if (cfg->n_pools == 0) {
		snprintf(err, errlen, "%s: no [pool NAME] section: nothing to reconcile", path);
		goto out;
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
		abs = lbr_cfg_resolve_path(cfg->dir, pd);
		if (!abs)
			goto oom;
		free(cfg->plugin_dir);
		cfg->plugin_dir = abs;
	}
	r = lbr_cfg_check(cfg, host, err, errlen);
	if (r < 0)
		goto out;
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
	for (i = 0; i < c.n_endpoints; i++)
		free(c.endpoints[i].hostport);
	free(c.endpoints);
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

/* What lbr_cfg_free_at_exit() left to the kernel (volatile: a static that
 * is never read is dropped by the compiler, and the memory would become a
 * leak to valgrind and LeakSanitizer). */
static struct lbr_cfg *volatile cfg_at_exit;

void lbr_cfg_free_at_exit(struct lbr_cfg *cfg)
{
	size_t i, k;

	if (!cfg)
		return;
	/* Every value is wiped as by lbr_cfg_free (the secrets among them);
	 * the rest goes with the process. */
	for (i = 0; i < cfg->n_providers; i++)
		for (k = 0; k < cfg->providers[i].n_kv; k++)
			if (cfg->providers[i].kv[k].value)
				explicit_bzero(cfg->providers[i].kv[k].value,
					       strlen(cfg->providers[i].kv[k].value));
	for (i = 0; i < cfg->n_pools; i++)
		for (k = 0; k < cfg->pools[i].n_target; k++)
			if (cfg->pools[i].target[k].value)
				explicit_bzero(cfg->pools[i].target[k].value,
					       strlen(cfg->pools[i].target[k].value));
	cfg_at_exit = cfg;
}

void lbr_cfg_free(struct lbr_cfg *cfg)
{
	size_t i, k;

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
		for (k = 0; k < p->n_members; k++) {
			free(p->members[k].name);
			free(p->members[k].resource);
		}
		free(p->members);
		free(p->specs);
		free(p->protect);
	}
	free(cfg->pools);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->state);
	free(cfg->plugin_dir);
	free(cfg->audit_spool);
	free(cfg->state_ca_file);
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

#ifndef LBR_SYSCONFDIR
#define LBR_SYSCONFDIR "/etc"
#endif

int lbr_cfg_find(const char *cli_path, char *out, size_t outlen, char *err, size_t errlen)
{
	static const char sys[] = LBR_SYSCONFDIR "/lbreconcile/lbreconcile.ini";
	const char *env = getenv("LBRECONCILE_CONFIG"), *found = NULL;

	if (cli_path)
		found = cli_path;
	else if (env && *env)
		found = env;
	else if (access("lbreconcile.ini", F_OK) == 0)
		found = "lbreconcile.ini";
	else if (access(sys, F_OK) == 0)
		found = sys;
	if (!found) {
		snprintf(
			err, errlen,
			"no configuration file: no -c FILE given, LBRECONCILE_CONFIG is not set, and neither ./lbreconcile.ini nor %s exists",
			sys);
		return LBR_ENOENT;
	}
	if (strlen(found) >= outlen) {
		snprintf(err, errlen, "configuration file name too long: '%.64s...'", found);
		return LBR_EINVAL;
	}
	memcpy(out, found, strlen(found) + 1);
	return 0;
}
