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
		tap_is_str(p->name, "fixture", "name taken from the file");
		tap_ok(!(p->ops.caps & LBR_CAP_DRAIN) && !p->ops.drain_member,
		       "a capability bit without its callback is cleared");
		tap_ok(p->ops.caps == 0, "unknown bits, and COOPERATIVE from a 1.0 plugin, are cleared (caps %#llx)",
		       (unsigned long long)p->ops.caps);
		tap_is_int(p->ops.abi_minor, 0, "a plugin built against ABI 1.0 still loads");
		lbr_plugin_free(p);
		p = NULL;
	}
	expect_reject("badmajor.so", "plugin ABI 2.0", "a plugin built for another ABI major");
	expect_reject("short.so", "truncated description", "a plugin whose struct is too short");
	expect_reject("noentry.so", "no entry point lbr_provider_entry", "a plugin without the entry point");
	expect_reject("wrongname.so", "calls itself 'someone-else', expected 'wrongname'",
		      "a plugin whose name does not match its file");
	expect_reject("nullcb.so", "required operation remove_member", "a plugin missing a required callback");
	expect_reject("does-not-exist.so", "No such file", "a missing plugin");

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
	tap_ok(r < 0 && strstr(err, "writable by group or others"), "a world-writable plugin is refused");
	chmod(path, 0644);
	r = lbr_plugin_load_path(path, &p, err, sizeof(err));
	tap_ok(r == 0, "the same file with mode 0644 loads");
	lbr_plugin_free(p);
	p = NULL;
	unlink(path);
	rmdir(tmpl);

	/* The real plugins. */
	r = lbr_plugin_load(real, "huaweicloud", &p, err, sizeof(err));
	tap_ok(r == 0, "huaweicloud.so loads (%s)", r ? err : "ok");
	if (p)
		tap_ok((p->ops.caps & LBR_CAP_DRAIN) && p->ops.drain_member, "huaweicloud can drain");
	if (p)
		tap_ok(p->ops.caps & LBR_CAP_COOPERATIVE, "huaweicloud may run as cooperative tasks");
	lbr_plugin_free(p);
	p = NULL;
	r = lbr_plugin_load(real, "ucloud", &p, err, sizeof(err));
	tap_ok(r == 0, "ucloud.so loads (%s)", r ? err : "ok");
	if (p)
		tap_ok((p->ops.caps & LBR_CAP_RULES) && p->ops.update_rule, "ucloud handles L7 rules");
	if (p)
		tap_ok(p->ops.caps & LBR_CAP_COOPERATIVE, "ucloud may run as cooperative tasks");
	lbr_plugin_free(p);
	p = NULL;
	r = lbr_plugin_load(real, "Bad/Name", &p, err, sizeof(err));
	tap_ok(r < 0 && strstr(err, "not a valid plugin name"), "a plugin name with a slash is refused");
	return tap_done();
}
