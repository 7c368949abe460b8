/*
 * Fixture plugins for the loader tests.  One source, compiled several
 * times with a different FIXTURE_* macro, each producing a plugin that the
 * loader must reject for exactly one reason (or, for FIXTURE_GOOD, accept).
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "lbreconcile/provider.h"

#ifndef FIXTURE_NAME
#define FIXTURE_NAME "fixture"
#endif

static const struct lbr_key_spec keys[] = { { "pool_id", LBR_KEY_REQUIRED | LBR_KEY_ID, "test" },
					    { NULL, 0, NULL } };

static int f_open(const struct lbr_host *host, const struct lbr_kv *cfg, size_t n, void **out,
		  char *err, size_t errlen)
{
	(void)host;
	(void)cfg;
	(void)n;
	(void)err;
	(void)errlen;
	*out = NULL;
	return 0;
}

static void f_close(void *p)
{
	(void)p;
}

static int f_check(void *p, const struct lbr_target *t, char *err, size_t errlen)
{
	(void)p;
	(void)t;
	(void)err;
	(void)errlen;
	return 0;
}

static int f_list(void *p, struct lbr_call *c, const struct lbr_target *t, const char *cursor,
		  struct lbr_obs *obs, char *next, size_t nlen, struct lbr_call_result *res)
{
	(void)p;
	(void)c;
	(void)t;
	(void)cursor;
	(void)obs;
	(void)nlen;
	next[0] = '\0';
	memset(res, 0, sizeof(*res));
	return 0;
}

__attribute__((unused)) static int f_remove(void *p, struct lbr_call *c, const struct lbr_target *t,
		    const struct lbr_member_ref *m, struct lbr_call_result *res)
{
	(void)p;
	(void)c;
	(void)t;
	(void)m;
	memset(res, 0, sizeof(*res));
	return 0;
}

static const struct lbr_provider desc = {
	.struct_size =
#ifdef FIXTURE_SHORT
		offsetof(struct lbr_provider, list_page),
#else
		sizeof(struct lbr_provider),
#endif
#ifdef FIXTURE_BAD_MAJOR
	.abi_major = LBR_PROVIDER_ABI_MAJOR + 1,
#else
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
#endif
	.abi_minor = 0, /* built against 1.0: before LBR_CAP_COOPERATIVE */
#ifdef FIXTURE_WRONG_NAME
	.name = "someone-else",
#else
	.name = FIXTURE_NAME,
#endif
	.version = "0",
	/* DRAIN without drain_member must be cleared; bit 4 means nothing
	 * yet, and bit 3 (COOPERATIVE) meant nothing in ABI 1.0: neither
	 * may survive. */
	.caps = LBR_CAP_DRAIN | LBR_CAP_COOPERATIVE | (UINT64_C(1) << 4),
	.provider_keys = keys + 1,
	.pool_keys = keys,
	.open = f_open,
	.close = f_close,
	.check_target = f_check,
	.list_page = f_list,
#ifndef FIXTURE_NULL_CALLBACK
	.remove_member = f_remove,
#endif
};

#ifndef FIXTURE_NO_ENTRY
__attribute__((visibility("default"))) const struct lbr_provider *
lbr_provider_entry(uint32_t major, uint32_t minor);

__attribute__((visibility("default"))) const struct lbr_provider *
lbr_provider_entry(uint32_t major, uint32_t minor)
{
	(void)major;
	(void)minor;
	return &desc;
}
#else
__attribute__((visibility("default"))) int lbr_something_else(void);
__attribute__((visibility("default"))) int lbr_something_else(void)
{
	return desc.struct_size != 0;
}
#endif
