/*
 * Fixture plugin "forgetful": its remove_members() classifies the call as
 * LBR_OUT_OK and returns 0, but never sets an item's outcome, so every
 * item stays LBR_OUT_UNSET.  The core must count each such item as a
 * failure, never as a removal (provider.h: "unset is never success").
 *
 * Pool keys: pool_id (required), observe (what list_page reports, see
 * observe.h).  No provider keys.  Removes up to 50 members per call.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "lbreconcile/provider.h"
#include "tests/plugins/observe.h"

struct forgetful {
	const struct lbr_host *host;
};

static const struct lbr_key_spec provider_keys[] = { { NULL, 0, NULL } };
static const struct lbr_key_spec pool_keys[] = {
	{ "pool_id", LBR_KEY_REQUIRED | LBR_KEY_ID, "any id" },
	{ "observe", 0, "ADDR:PORT,... that list_page reports" },
	{ NULL, 0, NULL },
};

static int fg_open(const struct lbr_host *host, const struct lbr_kv *cfg, size_t n, void **out,
		   struct lbr_instance_info *info, char *err, size_t errlen)
{
	struct forgetful *f = calloc(1, sizeof(*f));

	(void)cfg;
	(void)n;
	if (!f) {
		snprintf(err, errlen, "forgetful: out of memory");
		return LBR_ENOMEM;
	}
	f->host = host;
	info->caps = LBR_CAP_COOPERATIVE;
	info->batch[LBR_BATCH_REMOVE] = 50;
	info->weight_min = 0;
	info->weight_max = 100;
	snprintf(info->api, sizeof(info->api), "test");
	*out = f;
	return 0;
}

static void fg_close(void *p)
{
	free(p);
}

static int fg_check(void *p, const struct lbr_target *t, char *err, size_t errlen)
{
	(void)p;
	(void)t;
	(void)err;
	(void)errlen;
	return 0;
}

static int fg_list(void *p, struct lbr_call *c, const struct lbr_target *t, const char *cursor,
		   struct lbr_obs *obs, char *next, size_t nlen, struct lbr_call_result *res)
{
	struct forgetful *f = p;

	(void)c;
	(void)cursor;
	(void)nlen;
	next[0] = '\0';
	res->outcome = fx_observe(f->host, obs, t, NULL);
	res->http_status = 200;
	return 0;
}

/* The bug under test: the call is OK, the items are left as they came. */
static int fg_remove(void *p, struct lbr_call *c, const struct lbr_target *t,
		     const struct lbr_member_ref *m, size_t n, struct lbr_item_result *items,
		     struct lbr_call_result *res)
{
	(void)p;
	(void)c;
	(void)t;
	(void)m;
	(void)n;
	(void)items;
	res->outcome = LBR_OUT_OK;
	res->http_status = 200;
	return 0;
}

static const struct lbr_provider desc = {
	.struct_size = sizeof(struct lbr_provider),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.name = "forgetful",
	.version = "0",
	.caps = LBR_CAP_COOPERATIVE,
	.provider_keys = provider_keys,
	.pool_keys = pool_keys,
	.open = fg_open,
	.close = fg_close,
	.check_target = fg_check,
	.list_page = fg_list,
	.remove_members = fg_remove,
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
