/*
 * Fixture plugins for the loader tests.  One source, compiled several
 * times with a different FIXTURE_* macro, each producing a plugin that the
 * loader must reject for exactly one reason (or, without one, accept).
 * FIXTURE_ABI1 builds a plugin that describes itself as ABI 1.1.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lbreconcile/provider.h"

#ifndef FIXTURE_NAME
#define FIXTURE_NAME "fixture"
#endif

__attribute__((unused)) static const struct lbr_key_spec keys[] = {
	{ "pool_id", LBR_KEY_REQUIRED | LBR_KEY_ID, "test" }, { NULL, 0, NULL }
};

__attribute__((unused)) static int f_open(const struct lbr_host *host, const struct lbr_kv *cfg,
					  size_t n, void **out, struct lbr_instance_info *info,
					  char *err, size_t errlen)
{
	(void)host;
	(void)cfg;
	(void)n;
	(void)err;
	(void)errlen;
	/* Claims everything; the core must keep only what has code. */
	info->caps = ~UINT64_C(0);
	info->weight_min = 0;
	info->weight_max = 100;
	*out = NULL;
	return 0;
}

__attribute__((unused)) static void f_close(void *p)
{
	(void)p;
}

__attribute__((unused)) static int f_check(void *p, const struct lbr_target *t, char *err,
					   size_t errlen)
{
	(void)p;
	(void)t;
	(void)err;
	(void)errlen;
	return 0;
}

__attribute__((unused)) static int f_list(void *p, struct lbr_call *c, const struct lbr_target *t,
					  const char *cursor, struct lbr_obs *obs, char *next,
					  size_t nlen, struct lbr_call_result *res)
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
					    const struct lbr_member_ref *m, size_t n,
					    struct lbr_item_result *items,
					    struct lbr_call_result *res)
{
	size_t i;

	(void)p;
	(void)c;
	(void)t;
	(void)m;
	for (i = 0; i < n; i++)
		items[i].outcome = LBR_OUT_OK;
	memset(res, 0, sizeof(*res));
	res->outcome = LBR_OUT_OK;
	return 0;
}

#ifdef FIXTURE_ABI1
/* The head of an ABI 1.x description: the version fields sit where they
 * sit in every major, so the loader can read them and refuse. */
struct abi1_provider {
	uint32_t struct_size;
	uint32_t abi_major;
	uint32_t abi_minor;
	const char *name;
	const char *version;
	uint64_t caps;
	const void *provider_keys, *pool_keys;
	void *ops[8];
};

static const struct abi1_provider desc1 = {
	.struct_size = sizeof(struct abi1_provider),
	.abi_major = 1,
	.abi_minor = 1,
	.name = FIXTURE_NAME,
	.version = "1.1",
};
#define DESC ((const struct lbr_provider *)(const void *)&desc1)
#else
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
	.abi_minor = 0,
#ifdef FIXTURE_WRONG_NAME
	.name = "someone-else",
#else
	.name = FIXTURE_NAME,
#endif
	.version = "0",
	/* DRAIN without drain_members must be cleared, and so must an
	 * unknown bit (1 << 20); COOPERATIVE needs no operation. */
	.caps = LBR_CAP_DRAIN | LBR_CAP_COOPERATIVE | (UINT64_C(1) << 20),
	.provider_keys = keys + 1,
	.pool_keys = keys,
	.open = f_open,
	.close = f_close,
	.check_target = f_check,
	.list_page = f_list,
#ifndef FIXTURE_NULL_CALLBACK
	.remove_members = f_remove,
#endif
};
#define DESC (&desc)
#endif /* FIXTURE_ABI1 */

#ifndef FIXTURE_NO_ENTRY
__attribute__((visibility("default"))) const struct lbr_provider *lbr_provider_entry(
	uint32_t major, uint32_t minor);

__attribute__((visibility("default"))) const struct lbr_provider *lbr_provider_entry(uint32_t major,
										     uint32_t minor)
{
	(void)major;
	(void)minor;
	return DESC;
}
#else
__attribute__((visibility("default"))) int lbr_something_else(void);
__attribute__((visibility("default"))) int lbr_something_else(void)
{
	return DESC->struct_size != 0;
}
#endif
