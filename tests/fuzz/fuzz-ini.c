/*
 * Fuzz target: the INI configuration path, lbr_cfg_load().
 *
 * lbr_cfg_load() takes a path, so the input is written to a memfd and
 * handed over as /proc/self/fd/N.  Provider sections load the real plugins
 * from the build tree, so the plugins' key checks and open() run too, and
 * the environment variables used by `env:` secrets in the seeds are set.
 *
 * The plugin directory is always passed as the override argument: a
 * `plugin_dir` line in a fuzz input must not make the target dlopen()
 * arbitrary system libraries.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent/cfg.h"
#include "agent/log.h"

#ifndef LBR_FUZZ_PLUGIN_DIR
#define LBR_FUZZ_PLUGIN_DIR ""
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *plugin_dir;

/* lbr_cfg_load() opens each provider once (no network): the plugins get
 * a host whose services do nothing, as open() and check_target() must not
 * call them anyway. */
static void fz_log(struct lbr_call *call, int level, const char *fmt, ...)
{
	(void)call;
	(void)level;
	(void)fmt;
}

static int64_t fz_now(struct lbr_call *call)
{
	(void)call;
	return 0;
}

static const struct lbr_host fz_host = {
	.struct_size = sizeof(struct lbr_host),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.log = fz_log,
	.now = fz_now,
};

static void setup(void)
{
	static const char *const vars[][2] = {
		{ "HW_AK", "FUZZAKFUZZAKFUZZAK01" },
		{ "HW_SK", "fuzzSecretKeyMustNeverLeak0123456789abcd" },
		{ "HW_ACCESS_KEY", "FUZZAKFUZZAKFUZZAK01" },
		{ "HW_SECRET_KEY", "fuzzSecretKeyMustNeverLeak0123456789abcd" },
		{ "HW_TOKEN", "fuzzTokenMustNeverLeak" },
		{ "SC_PUBLIC_KEY", "fuzzPublicKeyUCloudExample0001" },
		{ "SC_PRIVATE_KEY", "fuzzPrivateKeyMustNeverLeak0123456789" },
		{ "UC_PUBLIC_KEY", "fuzzPublicKeyUCloudExample0001" },
		{ "UC_PRIVATE_KEY", "fuzzPrivateKeyMustNeverLeak0123456789" },
		{ "EMPTY", "" },
	};
	static const char *const plugins[] = { "huaweicloud", "ucloud" };
	size_t i;

	plugin_dir = getenv("LBR_FUZZ_PLUGIN_DIR");
	if (!plugin_dir || !*plugin_dir)
		plugin_dir = getenv("LBR_TEST_PLUGIN_DIR");
	if (!plugin_dir || !*plugin_dir)
		plugin_dir = LBR_FUZZ_PLUGIN_DIR;
	setenv("LBRECONCILE_PLUGIN_DIR", plugin_dir, 1);
	/* Pin the plugins: the loader dlclose()s them after every input,
	 * and unmapping an instrumented plugin would pull its coverage
	 * counters from under libFuzzer (and reloading costs time). */
	for (i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
		char so[4096];

		snprintf(so, sizeof(so), "%s/%s.so", plugin_dir, plugins[i]);
		(void)dlopen(so, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	}
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		setenv(vars[i][0], vars[i][1], 1);
	/* Warnings (literal secrets, unused providers) would flood the
	 * fuzzer's output; the messages are not what is under test. */
	lbr_log_level = -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct lbr_cfg *cfg = NULL;
	char path[64], err[1024];
	size_t off = 0;
	ssize_t n;
	int fd, r;

	if (!ready) {
		setup();
		ready = 1;
	}
	fd = memfd_create("lbr-fuzz.ini", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	while (off < size) {
		n = write(fd, data + off, size - off);
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	r = lbr_cfg_load(path, plugin_dir, &fz_host, &cfg, err, sizeof(err));
	if (strnlen(err, sizeof(err)) >= sizeof(err))
		abort();
	if (r == 0) {
		size_t i;

		if (!cfg || !cfg->n_pools)
			abort();
		/* Every accepted pool resolved its provider and plugin. */
		for (i = 0; i < cfg->n_pools; i++) {
			struct lbr_kv *kv;

			if (!cfg->pools[i].provider ||
			    !cfg->pools[i].provider->plugin)
				abort();
			/* The member view matches the members. */
			if (cfg->pools[i].n_members &&
			    cfg->pools[i].specs[0].address != cfg->pools[i].members[0].address)
				abort();
			if (lbr_cfg_pool_find(cfg, cfg->pools[i].name) == NULL)
				abort();
			kv = lbr_cfg_provider_kv(cfg->pools[i].provider);
			free(kv);
		}
	} else if (cfg) {
		abort(); /* nothing is handed out on failure */
	}
	/* A secret resolved through env: never reaches an error message
	 * (unless the input itself spelled it out as a plain value). */
	if (strstr(err, "MustNeverLeak") &&
	    !memmem(data, size, "MustNeverLeak", 13))
		abort();
	lbr_cfg_free(cfg);
	close(fd);
	return 0;
}
