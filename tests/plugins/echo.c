/*
 * Fixture plugin "echo": a careless third-party plugin that puts the value
 * of its secret key into every field it hands back (call result code,
 * message and request id, item ids and messages), into every log line,
 * and into its check_target() error when the pool says `fail_check = yes`.
 * The core scrubs every secret it resolved from all of them: nothing of
 * the secret may reach output, logs, state, audit or metrics.
 *
 * Provider keys: secret_key (required, secret).  Pool keys: pool_id
 * (required), observe (see observe.h), fail_check.  Every operation
 * succeeds; removal is one member per call.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "lbreconcile/provider.h"
#include "tests/plugins/observe.h"

struct echo {
	const struct lbr_host *host;
	char secret[256];
};

static const struct lbr_key_spec provider_keys[] = {
	{ "secret_key", LBR_KEY_REQUIRED | LBR_KEY_SECRET, "echoed everywhere" },
	{ NULL, 0, NULL },
};
static const struct lbr_key_spec pool_keys[] = {
	{ "pool_id", LBR_KEY_REQUIRED | LBR_KEY_ID, "any id" },
	{ "observe", 0, "ADDR:PORT,... that list_page reports" },
	{ "fail_check", 0, "yes: check_target fails, echoing the secret" },
	{ "echo_id", 0, "yes: list one more member whose id is the secret" },
	{ "echo_name", 0, "yes: name every listed member after the secret" },
	{ NULL, 0, NULL },
};

static int ec_open(const struct lbr_host *host, const struct lbr_kv *cfg, size_t n, void **out,
		   struct lbr_instance_info *info, char *err, size_t errlen)
{
	struct echo *e = calloc(1, sizeof(*e));
	size_t i;

	if (!e) {
		snprintf(err, errlen, "echo: out of memory");
		return LBR_ENOMEM;
	}
	e->host = host;
	for (i = 0; i < n; i++)
		if (!strcmp(cfg[i].key, "secret_key"))
			snprintf(e->secret, sizeof(e->secret), "%s", cfg[i].value);
	info->caps = LBR_CAP_COOPERATIVE;
	info->weight_min = 0;
	info->weight_max = 100;
	snprintf(info->api, sizeof(info->api), "echo");
	*out = e;
	return 0;
}

static void ec_close(void *p)
{
	struct echo *e = p;

	if (!e)
		return;
	explicit_bzero(e->secret, sizeof(e->secret));
	free(e);
}

static int ec_check(void *p, const struct lbr_target *t, char *err, size_t errlen)
{
	struct echo *e = p;
	const char *fail = fx_target_value(t, "fail_check");

	if (fail && !strcmp(fail, "yes")) {
		snprintf(err, errlen, "echo: target refused (secret_key is %s)", e->secret);
		return LBR_EINVAL;
	}
	return 0;
}

/* Copy `prefix` + the secret into dst, cut to fit (as a real plugin would). */
static void put(char *dst, size_t len, const char *prefix, const char *secret)
{
	size_t pl = strlen(prefix), sl = strlen(secret);

	if (pl >= len)
		pl = len - 1;
	memcpy(dst, prefix, pl);
	if (sl > len - 1 - pl)
		sl = len - 1 - pl;
	memcpy(dst + pl, secret, sl);
	dst[pl + sl] = '\0';
}

static void fill(struct echo *e, struct lbr_call_result *res)
{
	res->outcome = LBR_OUT_OK;
	res->http_status = 200;
	put(res->code, sizeof(res->code), "", e->secret);
	put(res->message, sizeof(res->message), "echo: secret_key=", e->secret);
	put(res->request_id, sizeof(res->request_id), "", e->secret);
}

static int ec_list(void *p, struct lbr_call *c, const struct lbr_target *t, const char *cursor,
		   struct lbr_obs *obs, char *next, size_t nlen, struct lbr_call_result *res)
{
	struct echo *e = p;
	char name[300];

	(void)cursor;
	(void)nlen;
	next[0] = '\0';
	e->host->log(c, LBR_LOG_WARN, "echo: listing with secret_key=%s", e->secret);
	fill(e, res);
	/* echo_name = yes: every listed member is named after the secret. */
	snprintf(name, sizeof(name), "node-%s", e->secret);
	res->outcome = fx_observe(e->host, obs, t,
				  fx_target_value(t, "echo_name") &&
						  !strcmp(fx_target_value(t, "echo_name"), "yes")
					  ? name
					  : NULL);
	if (res->outcome == LBR_OUT_OK && fx_target_value(t, "echo_id") &&
	    !strcmp(fx_target_value(t, "echo_id"), "yes")) {
		struct lbr_member_info m;

		memset(&m, 0, sizeof(m));
		m.id = e->secret;
		m.address = "10.0.9.9";
		m.port = 80;
		m.weight = -1;
		m.enabled = -1;
		if (e->host->obs_add_member(obs, &m) < 0)
			res->outcome = LBR_OUT_INVALID;
	}
	return 0;
}

static int ec_remove(void *p, struct lbr_call *c, const struct lbr_target *t,
		     const struct lbr_member_ref *m, size_t n, struct lbr_item_result *items,
		     struct lbr_call_result *res)
{
	struct echo *e = p;
	size_t i;

	(void)t;
	for (i = 0; i < n; i++) {
		e->host->log(c, LBR_LOG_WARN, "echo: removing %s with secret_key=%s", m[i].id,
			     e->secret);
		items[i].outcome = LBR_OUT_OK;
		put(items[i].id, sizeof(items[i].id), "", e->secret);
		put(items[i].message, sizeof(items[i].message), "removed with ", e->secret);
	}
	fill(e, res);
	return 0;
}

static const struct lbr_provider desc = {
	.struct_size = sizeof(struct lbr_provider),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.name = "echo",
	.version = "0",
	.caps = LBR_CAP_COOPERATIVE,
	.provider_keys = provider_keys,
	.pool_keys = pool_keys,
	.open = ec_open,
	.close = ec_close,
	.check_target = ec_check,
	.list_page = ec_list,
	.remove_members = ec_remove,
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
