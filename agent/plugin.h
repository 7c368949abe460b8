/*
 * Plugin loader.  Loads <dir>/<name>.so with the checks of the house style:
 * absolute path, regular file not writable by group or others, RTLD_NOW |
 * RTLD_LOCAL, entry point present, ABI major equal, name equal to the file
 * name, required callbacks present (ABI 2: open, close, check_target,
 * list_page, remove_members); the description is copied into a zeroed
 * struct.  A plugin built for another ABI major (1.x included) is refused
 * with one line.  Capabilities are per instance in ABI 2: an optional
 * operation is used only when the instance's bit (from open(), masked by
 * lbr_plugin_fix_info()) and the function pointer are both set.
 */
#ifndef LBR_PLUGIN_H
#define LBR_PLUGIN_H

#include <stddef.h>

#include "lbreconcile/provider.h"

struct lbr_plugin {
	char *name;
	char *path;
	void *dl;
	struct lbr_provider ops; /* zeroed private copy */
};

/* Load plugin `name` from absolute directory `dir`.  0, or LBR_ENOENT /
 * LBR_EINVAL with one line in err. */
int lbr_plugin_load(const char *dir, const char *name, struct lbr_plugin **out, char *err,
		    size_t errlen);
/* Load from an explicit absolute path (name = basename without .so). */
int lbr_plugin_load_path(const char *path, struct lbr_plugin **out, char *err, size_t errlen);
void lbr_plugin_free(struct lbr_plugin *p);
/* Make what open() filled in `info` safe to use: caps limited to known
 * bits whose operation the plugin provides, a batch size of 0 read as 1,
 * `api` NUL-terminated.  Call after every successful open(). */
void lbr_plugin_fix_info(const struct lbr_plugin *p, struct lbr_instance_info *info);
/* Find a key spec by name in a NULL-terminated list, or NULL. */
const struct lbr_key_spec *lbr_plugin_key(const struct lbr_key_spec *list, const char *name);

#endif
