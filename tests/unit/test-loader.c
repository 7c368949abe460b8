/*
 * Plugin loader: every rejection path with its fixture plugin, and the
 * real plugins load.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/error.h"
#include "agent/plugin.h"
#include "tests/unit/tap.h"

static const char *dir;

static int load(const char *file, struct lbr_plugin **p, char *err, size_t len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return lbr_plugin_load_path(path, p, err, len);
}

static void expect_reject(const char *file, const char *needle, const char *what)
{
	struct lbr_plugin *p = NULL;
	char err[1024] = "";
	int r = load(file, &p, err, sizeof(err));

	tap_ok(r < 0 && p == NULL, "%s is rejected", what);
	if (!tap_ok(strstr(err, needle) != NULL, "%s: message says '%s'", what, needle))
		printf("#   message: %s\n", err);
	tap_ok(strchr(err, '\n') == NULL && err[0], "%s: one line", what);
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	FILE *in = fopen(from, "rb"), *out;
	char buf[65536];
	size_t n;

	if (!in)
		return -1;
	out = fopen(to, "wb");
	if (!out) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	return chmod(to, mode);
}

int main(void)
{
	struct lbr_plugin *p = NULL;
	char err[1024], tmpl[] = "/tmp/lbr-loader.XXXXXX", path[4096], src[4096];
	const char *real = getenv("LBR_TEST_PLUGIN_DIR");
	int r;

	dir = getenv("LBR_TEST_FIXTURE_DIR");
	if (!dir || !real) {
		printf("1..0 # SKIP LBR_TEST_FIXTURE_DIR / LBR_TEST_PLUGIN_DIR not set\n");
		return 0;
	}
	umask(022);

	r = load("fixture.so", &p, err, sizeof(err));
	tap_ok(r == 0 && p != NULL, "the good fixture loads (%s)", r ? err : "ok");
	if (p) {
		struct lbr_instance_info info;
		void *inst = NULL;

		tap_is_str(p->name, "fixture", "name taken from the file");
		tap_ok(!(p->ops.caps & LBR_CAP_DRAIN) && !p->ops.drain_members,
		       "a capability bit without its callback is cleared");
		tap_ok(p->ops.caps == LBR_CAP_COOPERATIVE,
		       "unknown bits are cleared, COOPERATIVE kept (caps %#llx)",
		       (unsigned long long)p->ops.caps);
		tap_ok(p->ops.remove_members && p->ops.list_page && p->ops.check_target,
		       "the required operations are kept");
		/* The instance claims every bit: only what has code survives. */
		memset(&info, 0, sizeof(info));
		info.struct_size = sizeof(info);
		r = p->ops.open(NULL, NULL, 0, &inst, &info, err, sizeof(err));
		tap_ok(r == 0, "the fixture opens an instance");
		info.batch[LBR_BATCH_CREATE] = 7;
		lbr_plugin_fix_info(p, &info);
		tap_ok(info.caps == LBR_CAP_COOPERATIVE,
		       "instance caps are limited to operations the plugin has (caps %#llx)",
		       (unsigned long long)info.caps);
		tap_ok(info.batch[LBR_BATCH_REMOVE] == 1 && info.batch[LBR_BATCH_WEIGHT] == 1 &&
			       info.batch[LBR_BATCH_DRAIN] == 1,
		       "a batch size of 0 reads as 1");
		tap_is_int(info.batch[LBR_BATCH_CREATE], 7, "a stated batch size is kept");
		tap_is_int(info.weight_max, 100, "the weight range is kept");
		p->ops.close(inst);
		lbr_plugin_free(p);
		p = NULL;
	}
	expect_reject(
		"abi1.so",
		"plugin 'abi1': built for plugin ABI 1.1, this lbreconcile needs ABI 2 (rebuild it against <lbreconcile/provider.h> 2.x)",
		"a plugin built for ABI 1.1");
	expect_reject("badmajor.so", "built for plugin ABI 3.0, this lbreconcile needs ABI 2",
		      "a plugin built for a later ABI major");
	expect_reject("short.so", "truncated description", "a plugin whose struct is too short");
	expect_reject("noentry.so", "no entry point lbr_provider_entry",
		      "a plugin without the entry point");
	expect_reject("wrongname.so", "calls itself 'someone-else', expected 'wrongname'",
		      "a plugin whose name does not match its file");
	expect_reject("nullcb.so", "required operation remove_members",
		      "a plugin missing a required callback");
	expect_reject("does-not-exist.so", "No such file", "a missing plugin");

	/* The behaviour fixtures load. */
	r = load("forgetful.so", &p, err, sizeof(err));
	tap_ok(r == 0, "forgetful.so loads (%s)", r ? err : "ok");
	lbr_plugin_free(p);
	p = NULL;
	r = load("echo.so", &p, err, sizeof(err));
	tap_ok(r == 0, "echo.so loads (%s)", r ? err : "ok");
	lbr_plugin_free(p);
	p = NULL;

	r = lbr_plugin_load_path("relative/fixture.so", &p, err, sizeof(err));
	tap_ok(r < 0 && strstr(err, "not an absolute path"), "a relative path is refused: %s", err);

	/* Group- or world-writable copies of a good plugin are refused. */
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(src, sizeof(src), "%s/fixture.so", dir);
	snprintf(path, sizeof(path), "%s/fixture.so", tmpl);
	tap_ok(copy_file(src, path, 0664) == 0, "copied the fixture (mode 0664)");
	r = lbr_plugin_load_path(path, &p, err, sizeof(err));
	tap_ok(r < 0 && strstr(err, "writable by group or others (mode 664)"),
	       "a group-writable plugin is refused: %s", err);
	chmod(path, 0646);
	r = lbr_plugin_load_path(path, &p, err, sizeof(err));
	tap_ok(r < 0 && strstr(err, "writable by group or others"),
	       "a world-writable plugin is refused");
	chmod(path, 0644);
	r = lbr_plugin_load_path(path, &p, err, sizeof(err));
	tap_ok(r == 0, "the same file with mode 0644 loads");
	lbr_plugin_free(p);
	p = NULL;
	unlink(path);
	rmdir(tmpl);

	/* The real plugins (ported to ABI 2 on their own branches: until
	 * then they do not build or are refused, and these checks are
	 * skipped). */
	r = lbr_plugin_load(real, "huaweicloud", &p, err, sizeof(err));
	if (r == LBR_ENOENT || (r < 0 && strstr(err, "built for plugin ABI 1."))) {
		printf("ok %d # SKIP huaweicloud.so is not built or still ABI 1\n", ++tap_n);
	} else {
		tap_ok(r == 0, "huaweicloud.so loads (%s)", r ? err : "ok");
		if (p)
			tap_ok((p->ops.caps & LBR_CAP_DRAIN) && p->ops.drain_members,
			       "huaweicloud can drain");
		if (p)
			tap_ok(p->ops.caps & LBR_CAP_COOPERATIVE,
			       "huaweicloud may run as cooperative tasks");
	}
	lbr_plugin_free(p);
	p = NULL;
	r = lbr_plugin_load(real, "ucloud", &p, err, sizeof(err));
	if (r == LBR_ENOENT || (r < 0 && strstr(err, "built for plugin ABI 1."))) {
		printf("ok %d # SKIP ucloud.so is not built or still ABI 1\n", ++tap_n);
	} else {
		tap_ok(r == 0, "ucloud.so loads (%s)", r ? err : "ok");
		if (p)
			tap_ok((p->ops.caps & LBR_CAP_RULES) && p->ops.update_rule,
			       "ucloud handles L7 rules");
		if (p)
			tap_ok(p->ops.caps & LBR_CAP_COOPERATIVE,
			       "ucloud may run as cooperative tasks");
	}
	lbr_plugin_free(p);
	p = NULL;
	r = lbr_plugin_load(real, "Bad/Name", &p, err, sizeof(err));
	tap_ok(r < 0 && strstr(err, "not a valid plugin name"),
	       "a plugin name with a slash is refused");
	return tap_done();
}
