/*
 * The services table handed to plugins (struct lbr_host), and the core's
 * secret scrubbing: every secret value the configuration resolved is
 * removed from whatever a plugin hands back before it reaches output,
 * logs, state, the audit log or metrics.
 */
#ifndef LBR_HOST_H
#define LBR_HOST_H

#include <stddef.h>

#include "lbreconcile/provider.h"

struct lbr_cfg;

/* The table given to every plugin's open(). */
const struct lbr_host *lbr_host_table(void);

/* Remember the secret values of `cfg` (every key flagged secret) for
 * scrubbing; replaces the previous set.  0 or LBR_ENOMEM. */
int lbr_host_set_secrets(const struct lbr_cfg *cfg);
/* Forget (and wipe) the remembered secrets. */
void lbr_host_clear_secrets(void);
/* Replace every remembered secret in the NUL-terminated buf of `size`
 * bytes by "[redacted]". */
void lbr_scrub(char *buf, size_t size);
/* Scrub every text field of a call / item result. */
void lbr_scrub_result(struct lbr_call_result *res);
void lbr_scrub_item(struct lbr_item_result *it);

#endif
