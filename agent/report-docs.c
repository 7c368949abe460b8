/*
 * The small JSON documents: providers, version, validate, state list,
 * state unlock.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "agent/cfg.h"
#include "agent/plan.h"
#include "agent/plugin.h"
#include "agent/report.h"
#include "agent/report-int.h"
#include "agent/util.h"
#include "state/state.h"

static void print_doc(FILE *f, json_object *doc)
{
	fprintf(f, "%s\n",
		json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_SPACED |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(f);
	json_object_put(doc);
}

static json_object *doc_new(const char *command)
{
	json_object *doc = json_object_new_object();

	json_object_object_add(doc, "format_version",
			       json_object_new_int(LBR_REPORT_FORMAT_VERSION));
	json_object_object_add(doc, "command", json_object_new_string(command));
	return doc;
}

static json_object *abi_json(unsigned major, unsigned minor)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "major", json_object_new_int64(major));
	json_object_object_add(o, "minor", json_object_new_int64(minor));
	return o;
}

size_t lbr_report_caps(uint64_t caps, const char **names, size_t max)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} all[] = {
		{ LBR_CAP_RULES, "rules" },
		{ LBR_CAP_DRAIN, "drain" },
		{ LBR_CAP_CREATE, "create" },
		{ LBR_CAP_WEIGHT, "weight" },
		{ LBR_CAP_COOPERATIVE, "cooperative" },
	};
	size_t i, n = 0;

	/* Removal is what every plugin does: always listed first. */
	if (n < max)
		names[n++] = "remove";
	for (i = 0; i < sizeof(all) / sizeof(all[0]) && n < max; i++)
		if (caps & all[i].bit)
			names[n++] = all[i].name;
	return n;
}

static json_object *keys_json(const struct lbr_key_spec *k)
{
	json_object *arr = json_object_new_array();

	for (; k && k->name; k++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(k->name));
		json_object_object_add(o, "required",
				       json_object_new_boolean(!!(k->flags & LBR_KEY_REQUIRED)));
		json_object_object_add(o, "secret",
				       json_object_new_boolean(!!(k->flags & LBR_KEY_SECRET)));
		json_object_object_add(o, "help", lbr_report_jstr(k->help));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* What each configured provider instance can do (from its open()). */
static json_object *instances_json(const struct lbr_cfg *cfg)
{
	static const char *const ops[LBR_BATCH_COUNT] = { "remove", "create", "weight", "drain" };
	json_object *arr = json_object_new_array();
	size_t i, k, nc;

	for (i = 0; cfg && i < cfg->n_providers; i++) {
		const struct lbr_cfg_provider *pr = &cfg->providers[i];
		json_object *o = json_object_new_object(), *caps = json_object_new_array();
		json_object *b = json_object_new_object(), *w = json_object_new_object();
		const char *names[16];

		json_object_object_add(o, "name", json_object_new_string(pr->name));
		json_object_object_add(o, "plugin", json_object_new_string(pr->plugin_name));
		json_object_object_add(o, "api",
				       lbr_report_jstr(pr->info.api[0] ? pr->info.api : NULL));
		nc = lbr_report_caps(pr->info.caps, names, 16);
		for (k = 0; k < nc; k++)
			json_object_array_add(caps, json_object_new_string(names[k]));
		json_object_object_add(o, "capabilities", caps);
		for (k = 0; k < LBR_BATCH_COUNT; k++)
			json_object_object_add(
				b, ops[k],
				json_object_new_int64(pr->info.batch[k] ? (int64_t)pr->info.batch[k]
									: 1));
		json_object_object_add(o, "batch", b);
		json_object_object_add(w, "min", json_object_new_int(pr->info.weight_min));
		json_object_object_add(w, "max", json_object_new_int(pr->info.weight_max));
		json_object_object_add(o, "weight", w);
		json_object_array_add(arr, o);
	}
	return arr;
}

void lbr_report_instances_human(FILE *f, const struct lbr_cfg *cfg)
{
	size_t i, k, nc;

	fprintf(f, "provider instances in %s:\n", cfg->path);
	for (i = 0; i < cfg->n_providers; i++) {
		const struct lbr_cfg_provider *pr = &cfg->providers[i];
		const char *names[16];

		fprintf(f,
			"  %-12s plugin %s, api %s, batch: remove %u, create %u, weight %u, drain %u, weights %d-%d, capabilities:",
			pr->name, pr->plugin_name, pr->info.api[0] ? pr->info.api : "-",
			pr->info.batch[LBR_BATCH_REMOVE] ? pr->info.batch[LBR_BATCH_REMOVE] : 1,
			pr->info.batch[LBR_BATCH_CREATE] ? pr->info.batch[LBR_BATCH_CREATE] : 1,
			pr->info.batch[LBR_BATCH_WEIGHT] ? pr->info.batch[LBR_BATCH_WEIGHT] : 1,
			pr->info.batch[LBR_BATCH_DRAIN] ? pr->info.batch[LBR_BATCH_DRAIN] : 1,
			pr->info.weight_min, pr->info.weight_max);
		nc = lbr_report_caps(pr->info.caps, names, 16);
		for (k = 0; k < nc; k++)
			fprintf(f, " %s", names[k]);
		fprintf(f, "\n");
	}
}

void lbr_report_providers_json(FILE *f, const char *dir, const struct lbr_report_plugin *pl,
			       size_t n, const struct lbr_cfg *cfg)
{
	json_object *doc = doc_new("providers"), *arr = json_object_new_array();
	size_t i, k, nc;

	json_object_object_add(doc, "plugin_dir", json_object_new_string(dir));
	json_object_object_add(doc, "abi",
			       abi_json(LBR_PROVIDER_ABI_MAJOR, LBR_PROVIDER_ABI_MINOR));
	for (i = 0; i < n; i++) {
		const struct lbr_plugin *p = pl[i].p;
		json_object *o = json_object_new_object(), *caps = json_object_new_array();
		const char *names[16];

		json_object_object_add(o, "file", json_object_new_string(pl[i].file));
		json_object_object_add(o, "name", p ? lbr_report_jstr(p->name) : NULL);
		json_object_object_add(o, "version", p ? lbr_report_jstr(p->ops.version) : NULL);
		json_object_object_add(o, "abi",
				       p ? abi_json(p->ops.abi_major, p->ops.abi_minor) : NULL);
		nc = p ? lbr_report_caps(p->ops.caps, names, 16) : 0;
		for (k = 0; k < nc; k++)
			json_object_array_add(caps, json_object_new_string(names[k]));
		json_object_object_add(o, "capabilities", caps);
		json_object_object_add(o, "provider_keys",
				       keys_json(p ? p->ops.provider_keys : NULL));
		json_object_object_add(o, "pool_keys", keys_json(p ? p->ops.pool_keys : NULL));
		json_object_object_add(o, "error", lbr_report_jstr(pl[i].error));
		json_object_array_add(arr, o);
	}
	json_object_object_add(doc, "plugins", arr);
	json_object_object_add(doc, "instances", instances_json(cfg));
	print_doc(f, doc);
}

void lbr_report_version_json(FILE *f, const char *version)
{
	json_object *doc = doc_new("version");

	json_object_object_add(doc, "version", json_object_new_string(version));
	json_object_object_add(doc, "abi",
			       abi_json(LBR_PROVIDER_ABI_MAJOR, LBR_PROVIDER_ABI_MINOR));
	print_doc(f, doc);
}

void lbr_report_validate_json(FILE *f, const char *path, size_t pools, size_t providers,
			      size_t members)
{
	json_object *doc = doc_new("validate"), *n = json_object_new_object();

	/* The counts have an object of their own: at the top of a document
	 * "pools" is the array of plan, drift and state list (SPEC §6). */
	json_object_object_add(doc, "config", json_object_new_string(path));
	json_object_object_add(doc, "valid", json_object_new_boolean(1));
	json_object_object_add(n, "pools", lbr_report_jcount(pools));
	json_object_object_add(n, "providers", lbr_report_jcount(providers));
	json_object_object_add(n, "members", lbr_report_jcount(members));
	json_object_object_add(doc, "counts", n);
	print_doc(f, doc);
}

static json_object *time_json(int64_t t)
{
	char ts[32];

	if (!t)
		return NULL;
	lbr_time_fmt(t, ts, sizeof(ts));
	return json_object_new_string(ts);
}

void lbr_report_state_list_json(FILE *f, const char *location, const struct lbr_state *doc)
{
	json_object *o = doc_new("state list"), *arr = json_object_new_array();
	size_t i;

	json_object_object_add(o, "state", json_object_new_string(location));
	for (i = 0; i < doc->n_pools; i++) {
		const struct lbr_state_pool *p = &doc->pools[i];
		json_object *po = json_object_new_object();

		json_object_object_add(po, "name", json_object_new_string(p->name));
		json_object_object_add(po, "provider", lbr_report_jstr(p->provider));
		json_object_object_add(po, "members", lbr_report_jcount(p->n_members));
		json_object_object_add(po, "observed_at", time_json(p->observed_at));
		json_object_object_add(po, "last_result", lbr_report_jstr(p->last_result));
		json_object_object_add(po, "last_apply_at", time_json(p->last_apply_at));
		json_object_array_add(arr, po);
	}
	json_object_object_add(o, "pools", arr);
	print_doc(f, o);
}

void lbr_report_unlock_json(FILE *f, const char *location, const char *id)
{
	json_object *o = doc_new("state unlock");

	json_object_object_add(o, "state", json_object_new_string(location));
	json_object_object_add(o, "lock_id", json_object_new_string(id));
	json_object_object_add(o, "removed", json_object_new_boolean(1));
	print_doc(f, o);
}
