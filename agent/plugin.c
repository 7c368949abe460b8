#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/error.h"
#include "agent/plugin.h"
#include "agent/util.h"

/* The part of struct lbr_provider every 2.x plugin must provide: up to and
 * including remove_members, the last required operation. */
#define REQUIRED_SIZE                                    \
	(offsetof(struct lbr_provider, remove_members) + \
	 sizeof(((struct lbr_provider *)0)->remove_members))

/* Every capability bit that names an optional operation, and whether the
 * operation is present in `ops`. */
static uint64_t present_caps(const struct lbr_provider *ops)
{
	uint64_t caps = LBR_CAP_COOPERATIVE;

	if (ops->update_rule)
		caps |= LBR_CAP_RULES;
	if (ops->drain_members)
		caps |= LBR_CAP_DRAIN;
	if (ops->create_members)
		caps |= LBR_CAP_CREATE;
	if (ops->set_weights)
		caps |= LBR_CAP_WEIGHT;
	return caps;
}

void lbr_plugin_fix_info(const struct lbr_plugin *p, struct lbr_instance_info *info)
{
	size_t i;

	/* An instance cannot do more than the plugin has code for, and a
	 * bit this core does not know means nothing. */
	info->caps &= present_caps(&p->ops);
	for (i = 0; i < LBR_BATCH_COUNT; i++)
		if (info->batch[i] == 0)
			info->batch[i] = 1;
	info->api[sizeof(info->api) - 1] = '\0';
}

const struct lbr_key_spec *lbr_plugin_key(const struct lbr_key_spec *list, const char *name)
{
	for (; list && list->name; list++)
		if (strcmp(list->name, name) == 0)
			return list;
	return NULL;
}

void lbr_plugin_free(struct lbr_plugin *p)
{
	if (!p)
		return;
	if (p->dl)
		dlclose(p->dl);
	free(p->name);
	free(p->path);
	free(p);
}

static int plugin_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return i > 0 && i <= 64;
}

int lbr_plugin_load_path(const char *path, struct lbr_plugin **out, char *err, size_t errlen)
{
	int r = LBR_EINVAL;
	struct lbr_plugin *p = NULL;
	const char *base, *dot;
	struct stat st;
	lbr_provider_entry_fn entry;
	const struct lbr_provider *desc;

	*out = NULL;
	if (path[0] != '/') {
		snprintf(err, errlen, "plugin: '%s' is not an absolute path", path);
		goto out;
	}
	base = strrchr(path, '/') + 1;
	dot = strrchr(base, '.');
	if (!dot || strcmp(dot, ".so") != 0) {
		snprintf(err, errlen, "plugin: '%s' does not end in .so", path);
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		r = LBR_ENOMEM;
		snprintf(err, errlen, "plugin: out of memory");
		goto out;
	}
	p->path = strdup(path);
	p->name = strndup(base, (size_t)(dot - base));
	if (!p->path || !p->name) {
		r = LBR_ENOMEM;
		snprintf(err, errlen, "plugin: out of memory");
		goto out;
	}
	if (stat(path, &st) < 0) {
		r = errno == ENOENT ? LBR_ENOENT : LBR_EIO;
		snprintf(err, errlen, "plugin: cannot load '%s' (%s)", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "plugin: '%s' is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "plugin: refusing '%s': it is writable by group or others (mode %03o)",
			 path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		snprintf(err, errlen, "plugin: cannot load '%s' (%s)", path, dlerror());
		goto out;
	}
	*(void **)(&entry) = dlsym(p->dl, LBR_PROVIDER_ENTRY);
	if (!entry) {
		snprintf(err, errlen, "plugin: '%s' has no entry point %s()", path,
			 LBR_PROVIDER_ENTRY);
		goto out;
	}
	desc = entry(LBR_PROVIDER_ABI_MAJOR, LBR_PROVIDER_ABI_MINOR);
	if (!desc) {
		snprintf(err, errlen,
			 "plugin: '%s' declined to load (its entry point returned NULL)", path);
		goto out;
	}
	/* Check the version fields before trusting anything else. */
	if (desc->struct_size < offsetof(struct lbr_provider, name) + sizeof(desc->name)) {
		snprintf(err, errlen, "plugin: '%s' has a truncated description (struct_size %u)",
			 path, (unsigned)desc->struct_size);
		goto out;
	}
	if (desc->abi_major != LBR_PROVIDER_ABI_MAJOR) {
		/* ABI 1.x is not adapted (see provider.h): one line that says
		 * what to do about it. */
		snprintf(
			err, errlen,
			"plugin '%s': built for plugin ABI %u.%u, this lbreconcile needs ABI %u (rebuild it against <lbreconcile/provider.h> %u.x)",
			p->name, (unsigned)desc->abi_major, (unsigned)desc->abi_minor,
			(unsigned)LBR_PROVIDER_ABI_MAJOR, (unsigned)LBR_PROVIDER_ABI_MAJOR);
		goto out;
	}
	if (desc->struct_size < REQUIRED_SIZE) {
		snprintf(
			err, errlen,
			"plugin: '%s' has a truncated description (struct_size %u, need at least %zu)",
			path, (unsigned)desc->struct_size, (size_t)REQUIRED_SIZE);
		goto out;
	}
	memcpy(&p->ops, desc,
	       desc->struct_size < sizeof(p->ops) ? desc->struct_size : sizeof(p->ops));
	if (!p->ops.name || strcmp(p->ops.name, p->name) != 0) {
		snprintf(err, errlen, "plugin: '%s' calls itself '%s', expected '%s'", path,
			 p->ops.name ? p->ops.name : "(null)", p->name);
		goto out;
	}
	if (!plugin_name_ok(p->name)) {
		snprintf(err, errlen, "plugin: '%s': bad plugin name", path);
		goto out;
	}
	{
		const char *missing = !p->ops.open             ? "open"
				      : !p->ops.close          ? "close"
				      : !p->ops.check_target   ? "check_target"
				      : !p->ops.list_page      ? "list_page"
				      : !p->ops.remove_members ? "remove_members"
				      : !p->ops.provider_keys  ? "provider_keys"
				      : !p->ops.pool_keys      ? "pool_keys"
							       : NULL;

		if (missing) {
			snprintf(err, errlen,
				 "plugin: '%s' does not provide the required operation %s", path,
				 missing);
			goto out;
		}
	}
	/* Optional operations: a bit without its pointer is cleared here (the
	 * listing shows what can really run); an operation without its bit
	 * stays, as an instance may still claim it (lbr_plugin_fix_info). */
	p->ops.caps &= present_caps(&p->ops);
	*out = p;
	p = NULL; /* transferred */
	r = 0;
out:
	lbr_plugin_free(p);
	return r;
}

int lbr_plugin_load(const char *dir, const char *name, struct lbr_plugin **out, char *err,
		    size_t errlen)
{
	char path[4096];
	int r;

	*out = NULL;
	if (!plugin_name_ok(name)) {
		snprintf(err, errlen, "plugin: '%s' is not a valid plugin name", name);
		return LBR_EINVAL;
	}
	if (dir[0] != '/') {
		snprintf(err, errlen, "plugin: plugin_dir '%s' is not an absolute path", dir);
		return LBR_EINVAL;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.so", dir, name) >= sizeof(path)) {
		snprintf(err, errlen, "plugin: path too long");
		return LBR_EINVAL;
	}
	r = lbr_plugin_load_path(path, out, err, errlen);
	if (r == LBR_ENOENT)
		snprintf(err, errlen, "plugin '%s' not found (no %s)", name, path);
	return r;
}
