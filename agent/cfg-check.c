/*
 * Configuration checks that need the plugins: provider and pool keys
 * against the plugins' key lists, secrets, what each provider instance can
 * do (opened once, no network) against what its pools ask for, overlaps,
 * and the request timeout against the etcd lease.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cfg-int.h"
#include "agent/error.h"
#include "agent/log.h"

/* The first line of `path` (SPEC: "first line, trailing newline
 * stripped"), malloc'd; NULL with err filled (`what` names the source). */
static char *read_first_line(struct lbr_cfg *cfg, const char *owner, const struct lbr_cfg_kv *kv,
			     const char *path, char *err, size_t errlen)
{
	char line[4096], *val = NULL;
	size_t n;
	FILE *f;
	int c;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s:%d: %s: %s: cannot read '%s' (%s)", cfg->path, kv->line,
			 owner, kv->key, path, strerror(errno));
		return NULL;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	n = strlen(line);
	/* A first line longer than the buffer is an error here, not a cut
	 * secret and an auth failure at the first call. */
	c = n == sizeof(line) - 1 && line[n - 1] != '\n' ? fgetc(f) : EOF;
	fclose(f);
	if (c != EOF && c != '\n' && c != '\r') {
		snprintf(err, errlen,
			 "%s:%d: %s: %s: the first line of '%s' is longer than %zu bytes",
			 cfg->path, kv->line, owner, kv->key, path, sizeof(line) - 1);
		goto out;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (!n) {
		snprintf(err, errlen, "%s:%d: %s: %s: '%s' is empty", cfg->path, kv->line, owner,
			 kv->key, path);
		goto out;
	}
	val = strdup(line);
	if (!val)
		snprintf(err, errlen, "%s: out of memory", cfg->path);
out:
	explicit_bzero(line, sizeof(line));
	return val;
}

/* env:NAME, file:PATH, cred:NAME ($CREDENTIALS_DIRECTORY/NAME, as systemd's
 * LoadCredential= provides), or a literal (warned about). */
static int resolve_secret(struct lbr_cfg *cfg, const char *owner, struct lbr_cfg_kv *kv, char *err,
			  size_t errlen)
{
	char *val = NULL, *path = NULL;

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
		if (!val)
			return LBR_ENOMEM;
	} else if (!strncmp(kv->value, "file:", 5)) {
		path = lbr_cfg_resolve_path(cfg->dir, kv->value + 5);
		if (!path)
			return LBR_ENOMEM;
		val = read_first_line(cfg, owner, kv, path, err, errlen);
		free(path);
		if (!val)
			return LBR_EINVAL;
	} else if (!strncmp(kv->value, "cred:", 5)) {
		const char *name = kv->value + 5, *dir = getenv("CREDENTIALS_DIRECTORY");

		if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
			snprintf(err, errlen,
				 "%s:%d: %s: %s: 'cred:' needs a credential name (no '/')",
				 cfg->path, kv->line, owner, kv->key);
			return LBR_EINVAL;
		}
		if (!dir || !*dir) {
			snprintf(
				err, errlen,
				"%s:%d: %s: %s: credential %s: CREDENTIALS_DIRECTORY is not set (systemd sets it for LoadCredential=)",
				cfg->path, kv->line, owner, kv->key, name);
			return LBR_EINVAL;
		}
		path = lbr_asprintf("%s/%s", dir, name);
		if (!path)
			return LBR_ENOMEM;
		if (access(path, F_OK) < 0 && errno == ENOENT) {
			snprintf(err, errlen, "%s:%d: %s: %s: credential %s not found in %s",
				 cfg->path, kv->line, owner, kv->key, name, dir);
			free(path);
			return LBR_EINVAL;
		}
		val = read_first_line(cfg, owner, kv, path, err, errlen);
		free(path);
		if (!val)
			return LBR_EINVAL;
	} else {
		lbr_warn(
			"%s:%d: %s: %s is a literal secret in the config file; prefer env:NAME, file:PATH or cred:NAME",
			cfg->path, kv->line, owner, kv->key);
		val = strdup(kv->value);
		if (!val)
			return LBR_ENOMEM;
	}
	lbr_secret_free(kv->value);
	kv->value = val;
	kv->secret = 1;
	return 0;
}

/* A plugin's message may quote what it was given: replace every secret of
 * the provider with "***" before the message goes anywhere. */
static void scrub(char *msg, size_t len, const struct lbr_cfg_provider *p)
{
	size_t i;

	for (i = 0; i < p->n_kv; i++) {
		const char *sec = p->kv[i].value;
		size_t sl = strlen(sec);
		char *hit, *from = msg;

		if (!p->kv[i].secret || !sl)
			continue;
		/* From after each replacement: a secret may be "*". */
		for (; (hit = strstr(from, sec)); from = hit + 3) {
			size_t tail = strlen(hit + sl);

			if (sl >= 3) {
				memcpy(hit, "***", 3);
				memmove(hit + 3, hit + sl, tail + 1);
			} else if (hit + 3 + tail < msg + len) {
				memmove(hit + 3, hit + sl, tail + 1);
				memcpy(hit, "***", 3);
			} else {
				*hit = '\0'; /* no room: cut the message */
				break;
			}
		}
	}
}

static int check_provider_keys(struct lbr_cfg *cfg, struct lbr_cfg_provider *p, const char *owner,
			       char *err, size_t errlen)
{
	const struct lbr_key_spec *ks;
	size_t i;
	int r;

	for (i = 0; i < p->n_kv; i++) {
		struct lbr_cfg_kv *kv = &p->kv[i];

		ks = lbr_plugin_key(p->plugin->ops.provider_keys, kv->key);
		if (!ks) {
			snprintf(err, errlen, "%s:%d: %s: unknown key '%s' for plugin %s",
				 cfg->path, kv->line, owner, kv->key, p->plugin_name);
			return LBR_EINVAL;
		}
		if (!kv->value[0]) {
			snprintf(err, errlen, "%s:%d: %s: '%s' has an empty value", cfg->path,
				 kv->line, owner, kv->key);
			return LBR_EINVAL;
		}
		if ((ks->flags & LBR_KEY_ID) && !lbr_id_valid(kv->value)) {
			snprintf(err, errlen,
				 "%s:%d: %s: %s '%s' is not a valid id ([A-Za-z0-9_-], at most 128)",
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
			if (strncmp(kv->value, "https://", 8) && strncmp(kv->value, "http://", 7)) {
				snprintf(err, errlen,
					 "%s:%d: %s: endpoint '%s' must start with https://",
					 cfg->path, kv->line, owner, kv->value);
				return LBR_EINVAL;
			}
			/* allow_insecure_http may come later in the section. */
			if (!strncmp(kv->value, "http://", 7) && !lbr_url_is_loopback(kv->value)) {
				if (!p->allow_insecure_http) {
					snprintf(
						err, errlen,
						"%s:%d: %s: endpoint '%s' is plain http; use https:// or set allow_insecure_http = yes",
						cfg->path, kv->line, owner, kv->value);
					return LBR_EINVAL;
				}
				lbr_warn(
					"%s:%d: %s: endpoint '%s' is plain http (allow_insecure_http = yes): credentials and data are not protected",
					cfg->path, kv->line, owner, kv->value);
			}
		}
	}
	for (ks = p->plugin->ops.provider_keys; ks->name; ks++) {
		if ((ks->flags & LBR_KEY_REQUIRED) && !lbr_cfg_kv_find(p->kv, p->n_kv, ks->name)) {
			snprintf(err, errlen, "%s:%d: %s: missing required key '%s'", cfg->path,
				 p->line, owner, ks->name);
			return LBR_EINVAL;
		}
	}
	return 0;
}

/* Load the plugin, check the keys, open an instance (*inst) to learn what
 * it can do. */
static int check_provider(struct lbr_cfg *cfg, struct lbr_cfg_provider *p,
			  const struct lbr_host *host, void **inst, char *err, size_t errlen)
{
	char owner[128], perr[512];
	struct lbr_kv *kv;
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
	r = check_provider_keys(cfg, p, owner, err, errlen);
	if (r < 0)
		return r;
	kv = lbr_cfg_provider_kv(p);
	if (!kv)
		return LBR_ENOMEM;
	memset(&p->info, 0, sizeof(p->info));
	p->info.struct_size = sizeof(p->info);
	perr[0] = '\0';
	r = p->plugin->ops.open(host, kv, p->n_kv, inst, &p->info, perr, sizeof(perr));
	free(kv);
	if (r < 0) {
		*inst = NULL;
		scrub(perr, sizeof(perr), p);
		snprintf(err, errlen, "%s:%d: %s: %s", cfg->path, p->line, owner,
			 perr[0] ? perr : "rejected by the plugin");
		return LBR_EINVAL;
	}
	lbr_plugin_fix_info(p->plugin, &p->info);
	return 0;
}

static int check_target_keys(struct lbr_cfg *cfg, struct lbr_cfg_pool *pool, const char *owner,
			     char *err, size_t errlen)
{
	const struct lbr_cfg_provider *prov = pool->provider;
	const struct lbr_key_spec *ks;
	size_t i;

	pool->target_kv = calloc(pool->n_target + 1, sizeof(*pool->target_kv));
	if (!pool->target_kv)
		return LBR_ENOMEM;
	for (i = 0; i < pool->n_target; i++) {
		struct lbr_cfg_kv *kv = &pool->target[i];

		ks = lbr_plugin_key(prov->plugin->ops.pool_keys, kv->key);
		if (!ks) {
			snprintf(err, errlen, "%s:%d: %s: unknown key '%s' for plugin %s",
				 cfg->path, kv->line, owner, kv->key, prov->plugin_name);
			return LBR_EINVAL;
		}
		if (!kv->value[0] || ((ks->flags & LBR_KEY_ID) && !lbr_id_valid(kv->value))) {
			snprintf(err, errlen,
				 "%s:%d: %s: %s '%s' is not a valid id ([A-Za-z0-9_-], at most 128)",
				 cfg->path, kv->line, owner, kv->key, kv->value);
			return LBR_EINVAL;
		}
		pool->target_kv[i].key = kv->key;
		pool->target_kv[i].value = kv->value;
	}
	for (ks = prov->plugin->ops.pool_keys; ks->name; ks++) {
		if ((ks->flags & LBR_KEY_REQUIRED) &&
		    !lbr_cfg_kv_find(pool->target, pool->n_target, ks->name)) {
			snprintf(err, errlen, "%s:%d: %s: missing required key '%s' (plugin %s)",
				 cfg->path, pool->line, owner, ks->name, prov->plugin_name);
			return LBR_EINVAL;
		}
	}
	return 0;
}

/* What the pool asks of its provider instance: draining, creation,
 * weights in the instance's range. */
static int check_caps(struct lbr_cfg *cfg, struct lbr_cfg_pool *pool, const char *owner, char *err,
		      size_t errlen)
{
	const struct lbr_cfg_provider *prov = pool->provider;
	const struct lbr_instance_info *info = &prov->info;
	char what[160], ap[80];
	size_t i;

	snprintf(what, sizeof(what), "provider \"%s\" (plugin %s%s%s)", prov->name,
		 prov->plugin_name, info->api[0] ? ", api " : "", info->api);
	if (pool->drain_s && !(info->caps & LBR_CAP_DRAIN)) {
		snprintf(err, errlen, "%s:%d: %s: drain is not supported by %s", cfg->path,
			 pool->line, owner, what);
		return LBR_EINVAL;
	}
	if (pool->create && !(info->caps & LBR_CAP_CREATE)) {
		snprintf(err, errlen, "%s:%d: %s: create = yes, but %s cannot create members",
			 cfg->path, pool->line, owner, what);
		return LBR_EINVAL;
	}
	for (i = 0; i < pool->n_members; i++) {
		const struct lbr_cfg_member *m = &pool->members[i];

		if (m->weight < 0)
			continue;
		lbr_addrport_fmt(m->address, m->port, ap, sizeof(ap));
		if (!(info->caps & LBR_CAP_WEIGHT)) {
			snprintf(err, errlen,
				 "%s:%d: %s: member %s: weight=%d, but %s cannot set weights",
				 cfg->path, m->line, owner, ap, m->weight, what);
			return LBR_EINVAL;
		}
		if (m->weight < info->weight_min || m->weight > info->weight_max) {
			snprintf(err, errlen,
				 "%s:%d: %s: member %s: weight=%d is out of range for %s (%d-%d)",
				 cfg->path, m->line, owner, ap, m->weight, what, info->weight_min,
				 info->weight_max);
			return LBR_EINVAL;
		}
	}
	return 0;
}

static int check_pool(struct lbr_cfg *cfg, struct lbr_cfg_pool *pool, void **insts, char *err,
		      size_t errlen)
{
	char owner[128], perr[512];
	struct lbr_cfg_provider *prov;
	struct lbr_target t;
	size_t i;
	int r;

	snprintf(owner, sizeof(owner), "pool \"%s\"", pool->name);
	if (!pool->provider_name) {
		snprintf(err, errlen, "%s:%d: %s: missing key 'provider'", cfg->path, pool->line,
			 owner);
		return LBR_EINVAL;
	}
	for (i = 0; i < cfg->n_providers; i++)
		if (!strcmp(cfg->providers[i].name, pool->provider_name))
			break;
	if (i == cfg->n_providers) {
		snprintf(err, errlen, "%s:%d: %s: unknown provider \"%s\"", cfg->path,
			 pool->provider_line, owner, pool->provider_name);
		return LBR_EINVAL;
	}
	prov = pool->provider = &cfg->providers[i];
	prov->used = 1;
	r = check_target_keys(cfg, pool, owner, err, errlen);
	if (r < 0)
		return r;
	if (pool->n_members == 0 && !pool->allow_empty) {
		snprintf(
			err, errlen,
			"%s:%d: %s: no member lines; this would remove every member (set allow_empty = yes if that is intended)",
			cfg->path, pool->line, owner);
		return LBR_EINVAL;
	}
	r = check_caps(cfg, pool, owner, err, errlen);
	if (r < 0)
		return r;
	pool->specs = calloc(pool->n_members + 1, sizeof(*pool->specs));
	if (!pool->specs)
		return LBR_ENOMEM;
	for (i = 0; i < pool->n_members; i++) {
		pool->specs[i].address = pool->members[i].address;
		pool->specs[i].port = pool->members[i].port;
		pool->specs[i].weight = pool->members[i].weight;
		pool->specs[i].name = pool->members[i].name;
		pool->specs[i].resource = pool->members[i].resource;
	}
	memset(&t, 0, sizeof(t));
	t.pool_name = pool->name;
	t.kv = pool->target_kv;
	t.n = pool->n_target;
	t.create = pool->create;
	t.members = pool->specs;
	t.n_members = pool->n_members;
	perr[0] = '\0';
	r = prov->plugin->ops.check_target(insts[prov - cfg->providers], &t, perr, sizeof(perr));
	if (r < 0) {
		scrub(perr, sizeof(perr), prov);
		snprintf(err, errlen, "%s:%d: %s: %s", cfg->path, pool->line, owner,
			 perr[0] ? perr : "target rejected by the plugin");
		return LBR_EINVAL;
	}
	return 0;
}

/* Two pools must not manage the same cloud object. */
static int check_overlap(struct lbr_cfg *cfg, char *err, size_t errlen)
{
	size_t i, j, k, m;

	for (i = 0; i < cfg->n_pools; i++)
		for (j = i + 1; j < cfg->n_pools; j++) {
			struct lbr_cfg_pool *a = &cfg->pools[i], *b = &cfg->pools[j];
			int same = 1;

			if (a->provider != b->provider || a->n_target != b->n_target)
				continue;
			for (k = 0; k < a->n_target && same; k++) {
				int found = 0;

				for (m = 0; m < b->n_target; m++)
					if (!strcmp(a->target_kv[k].key, b->target_kv[m].key) &&
					    !strcmp(a->target_kv[k].value, b->target_kv[m].value))
						found = 1;
				same = found;
			}
			if (same) {
				snprintf(
					err, errlen,
					"%s:%d: pool \"%s\" targets the same %s as pool \"%s\" (line %d)",
					cfg->path, b->line, b->name,
					a->n_target ? a->target_kv[0].key : "object", a->name,
					a->line);
				return LBR_EINVAL;
			}
		}
	return 0;
}

/*
 * Fencing (SPEC §7): with the etcd backend, no mutating request may start
 * after last keepalive acknowledgement + lock_ttl - margin.  The margin
 * must cover one request timeout (a request started just before the
 * deadline may run that long) plus one more (the keepalive whose answer
 * moved the deadline may itself have taken up to `timeout` to come back,
 * so the lease was renewed up to that long before the agent knew), plus
 * 2 s for the two clocks' rates and scheduling.  What is left must be
 * positive:  timeout * 2 + 2 < lock_ttl.  The defaults (10 s, 30 s) pass.
 */
static int check_fencing(struct lbr_cfg *cfg, char *err, size_t errlen)
{
	size_t i;

	if (!cfg->state_etcd)
		return 0; /* a local flock has no lease to outlive */
	for (i = 0; i < cfg->n_providers; i++) {
		const struct lbr_cfg_provider *p = &cfg->providers[i];
		int line = p->timeout_line      ? p->timeout_line
			   : cfg->lock_ttl_line ? cfg->lock_ttl_line
						: p->line;

		if (p->timeout_s * 2 + 2 < cfg->lock_ttl)
			continue;
		snprintf(
			err, errlen,
			"%s:%d: provider \"%s\": timeout %d s is too long for lock_ttl %d s (the etcd lock needs timeout * 2 + 2 < lock_ttl: raise lock_ttl to %d or lower timeout to %d)",
			cfg->path, line, p->name, p->timeout_s, cfg->lock_ttl, p->timeout_s * 2 + 3,
			(cfg->lock_ttl - 3) / 2);
		return LBR_EINVAL;
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

int lbr_cfg_check(struct lbr_cfg *cfg, const struct lbr_host *host, char *err, size_t errlen)
{
	void **insts = calloc(cfg->n_providers + 1, sizeof(*insts));
	size_t i;
	int r = LBR_ENOMEM;

	if (!insts) {
		snprintf(err, errlen, "%s: out of memory", cfg->path);
		return r;
	}
	for (i = 0; i < cfg->n_providers; i++) {
		r = check_provider(cfg, &cfg->providers[i], host, &insts[i], err, errlen);
		if (r < 0)
			goto out;
	}
	r = check_fencing(cfg, err, errlen);
	if (r < 0)
		goto out;
	for (i = 0; i < cfg->n_pools; i++) {
		r = check_pool(cfg, &cfg->pools[i], insts, err, errlen);
		if (r < 0)
			goto out;
	}
	r = check_overlap(cfg, err, errlen);
	if (r < 0)
		goto out;
	for (i = 0; i < cfg->n_providers; i++)
		if (!cfg->providers[i].used)
			lbr_warn("%s:%d: provider \"%s\" is not used by any pool", cfg->path,
				 cfg->providers[i].line, cfg->providers[i].name);
out:
	if (r == LBR_ENOMEM)
		snprintf(err, errlen, "%s: out of memory", cfg->path);
	/* The engine opens its own instances with its own host; these
	 * served validation only. */
	for (i = 0; i < cfg->n_providers; i++)
		if (insts[i] && cfg->providers[i].plugin)
			cfg->providers[i].plugin->ops.close(insts[i]);
	free(insts);
	return r;
}
