/*
 * Fixture plugin "capable" for the configuration tests: what its
 * instances can do is set by its provider keys, and it refuses anything
 * it was not meant to see, so a test can check what the core hands over.
 *
 * Provider keys: caps (comma list of create, weight, drain, rules),
 * weight_min, weight_max, token (secret), endpoint.  open() fails naming
 * any other key, so a core key (plugin, ca_file, allow_insecure_http,
 * timeout) reaching it is caught.  Pool keys: pool_id (required, id),
 * subnet_id (needed by create = yes, as a real cloud would), show (yes:
 * check_target fails with a description of the target it was given).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbreconcile/provider.h"

static const struct lbr_key_spec provider_keys[] = {
	{ "caps", 0, "create,weight,drain,rules" },
	{ "weight_min", 0, "lowest weight" },
	{ "weight_max", 0, "highest weight" },
	{ "token", LBR_KEY_SECRET, "a secret" },
	{ "endpoint", 0, "URL" },
	{ NULL, 0, NULL },
};
static const struct lbr_key_spec pool_keys[] = {
	{ "pool_id", LBR_KEY_REQUIRED | LBR_KEY_ID, "any id" },
	{ "subnet_id", LBR_KEY_ID, "needed for creation" },
	{ "show", 0, "yes: refuse, describing the target" },
	{ NULL, 0, NULL },
};

static int cp_open(const struct lbr_host *host, const struct lbr_kv *cfg, size_t n, void **out,
		   struct lbr_instance_info *info, char *err, size_t errlen)
{
	size_t i;

	(void)host;
	info->weight_min = 0;
	info->weight_max = 100;
	for (i = 0; i < n; i++) {
		const char *k = cfg[i].key, *v = cfg[i].value;

		if (!strcmp(k, "caps")) {
			if (strstr(v, "create"))
				info->caps |= LBR_CAP_CREATE;
			if (strstr(v, "weight"))
				info->caps |= LBR_CAP_WEIGHT;
			if (strstr(v, "drain"))
				info->caps |= LBR_CAP_DRAIN;
			if (strstr(v, "rules"))
				info->caps |= LBR_CAP_RULES;
		} else if (!strcmp(k, "weight_min")) {
			info->weight_min = atoi(v);
		} else if (!strcmp(k, "weight_max")) {
			info->weight_max = atoi(v);
		} else if (strcmp(k, "token") && strcmp(k, "endpoint")) {
			snprintf(err, errlen, "capable: was handed key '%s'", k);
			return LBR_EINVAL;
		}
	}
	if (cfg[n].key != NULL) {
		snprintf(err, errlen, "capable: the key list is not NULL-terminated");
		return LBR_EINVAL;
	}
	snprintf(info->api, sizeof(info->api), "t1");
	*out = calloc(1, 1);
	return *out ? 0 : LBR_ENOMEM;
}

static void cp_close(void *p)
{
	free(p);
}

static const char *value(const struct lbr_target *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->kv[i].key, key))
			return t->kv[i].value;
	return NULL;
}

static int cp_check(void *p, const struct lbr_target *t, char *err, size_t errlen)
{
	const char *show = value(t, "show");
	size_t i, off;

	(void)p;
	if (t->create && !value(t, "subnet_id")) {
		snprintf(err, errlen, "create = yes needs subnet_id");
		return LBR_EINVAL;
	}
	if (!show || strcmp(show, "yes"))
		return 0;
	off = (size_t)snprintf(err, errlen, "pool=%s n=%zu create=%d members=", t->pool_name, t->n,
			       t->create);
	for (i = 0; i < t->n_members && off < errlen; i++) {
		const struct lbr_member_spec *m = &t->members[i];

		off += (size_t)snprintf(err + off, errlen - off, "%s%s:%u/w%d/n=%s/r=%s",
					i ? "," : "", m->address, m->port, m->weight,
					m->name ? m->name : "-", m->resource ? m->resource : "-");
	}
	return LBR_EINVAL;
}

static int cp_list(void *p, struct lbr_call *c, const struct lbr_target *t, const char *cursor,
		   struct lbr_obs *obs, char *next, size_t nlen, struct lbr_call_result *res)
{
	(void)p;
	(void)c;
	(void)t;
	(void)cursor;
	(void)obs;
	(void)nlen;
	next[0] = '\0';
	res->outcome = LBR_OUT_OK;
	return 0;
}

static int cp_items(void *p, struct lbr_call *c, const struct lbr_target *t, size_t n,
		    struct lbr_item_result *items, struct lbr_call_result *res)
{
	size_t i;

	(void)p;
	(void)c;
	(void)t;
	for (i = 0; i < n; i++)
		items[i].outcome = LBR_OUT_OK;
	res->outcome = LBR_OUT_OK;
	return 0;
}

static int cp_remove(void *p, struct lbr_call *c, const struct lbr_target *t,
		     const struct lbr_member_ref *m, size_t n, struct lbr_item_result *items,
		     struct lbr_call_result *res)
{
	(void)m;
	return cp_items(p, c, t, n, items, res);
}

static int cp_create(void *p, struct lbr_call *c, const struct lbr_target *t,
		     const struct lbr_member_spec *m, size_t n, struct lbr_item_result *items,
		     struct lbr_call_result *res)
{
	(void)m;
	return cp_items(p, c, t, n, items, res);
}

static int cp_weights(void *p, struct lbr_call *c, const struct lbr_target *t,
		      const struct lbr_member_ref *m, const int *w, size_t n,
		      struct lbr_item_result *items, struct lbr_call_result *res)
{
	(void)m;
	(void)w;
	return cp_items(p, c, t, n, items, res);
}

static int cp_drain(void *p, struct lbr_call *c, const struct lbr_target *t,
		    const struct lbr_member_ref *m, size_t n, int drain,
		    struct lbr_item_result *items, struct lbr_call_result *res)
{
	(void)m;
	(void)drain;
	return cp_items(p, c, t, n, items, res);
}

static const struct lbr_provider desc = {
	.struct_size = sizeof(struct lbr_provider),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.name = "capable",
	.version = "0",
	.caps = LBR_CAP_CREATE | LBR_CAP_WEIGHT | LBR_CAP_DRAIN,
	.provider_keys = provider_keys,
	.pool_keys = pool_keys,
	.open = cp_open,
	.close = cp_close,
	.check_target = cp_check,
	.list_page = cp_list,
	.remove_members = cp_remove,
	.create_members = cp_create,
	.set_weights = cp_weights,
	.drain_members = cp_drain,
	/* no update_rule: caps = rules must not survive */
};

__attribute__((visibility("default"))) const struct lbr_provider *lbr_provider_entry(
	uint32_t major, uint32_t minor);

__attribute__((visibility("default"))) const struct lbr_provider *lbr_provider_entry(uint32_t major,
										     uint32_t minor)
{
	(void)major;
	(void)minor;
	return &desc;
}
