/*
 * Plugin loader.  Loads <dir>/<name>.so with the checks of the house style:
 * absolute path, regular file not writable by group or others, RTLD_NOW |
 * RTLD_LOCAL, entry point present, ABI major equal, name equal to the file
 * name, required callbacks present; the description is copied into a zeroed
 * struct and optional operations are kept only when both the capability
 * bit and the pointer are set.
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
int lbr_plugin_load(const char *dir, const char *name, struct lbr_plugin **out,
		    char *err, size_t errlen);
/* Load from an explicit absolute path (name = basename without .so). */
int lbr_plugin_load_path(const char *path, struct lbr_plugin **out, char *err,
			 size_t errlen);
void lbr_plugin_free(struct lbr_plugin *p);
/* Find a key spec by name in a NULL-terminated list, or NULL. */
const struct lbr_key_spec *lbr_plugin_key(const struct lbr_key_spec *list,
					  const char *name);

#endif
