/*
 * An observation: the members (and L7 rules) of one pool as a plugin
 * listed them.  Built through the host table (host.c), read by the plan.
 */
#ifndef LBR_OBS_H
#define LBR_OBS_H

#include <stddef.h>

#include "agent/util.h"
#include "lbreconcile/provider.h"

struct lbr_obs_member {
	char *id;
	char address[LBR_ADDR_MAX]; /* canonical text */
	unsigned port;
	int weight;        /* -1 unknown */
	int enabled;       /* -1 unknown */
	char *name;        /* NULL when none */
	char *instance_id; /* NULL when none */
	char *type;        /* "ip", "instance" or NULL */
};

struct lbr_obs_rule {
	char *id;
	char *label;
	int never_empty;
	char **member_ids;
	size_t n_members;
	struct lbr_kv *attrs;
	size_t n_attrs;
};

struct lbr_obs {
	struct lbr_obs_member *members;
	size_t n_members, cap_members;
	struct lbr_obs_rule *rules;
	size_t n_rules, cap_rules;
	char err[256]; /* first rejected value */
};

/* A new empty observation, or NULL when out of memory. */
struct lbr_obs *lbr_obs_new(void);
/* Add a member / rule (copies every string).  0, or LBR_EINVAL /
 * LBR_ENOMEM with o->err saying why (the first error is kept). */
int lbr_obs_add_member(struct lbr_obs *o, const struct lbr_member_info *m);
int lbr_obs_add_rule(struct lbr_obs *o, const struct lbr_rule_info *r);
/* Drop members and rules past the first nm / nr (a failed page). */
void lbr_obs_truncate(struct lbr_obs *o, size_t nm, size_t nr);
/* Copy untrusted text (a cloud's id or cursor) into out for a message:
 * control characters, quotes and backslashes escaped, cut after ~60 bytes. */
void lbr_obs_sanitize(const char *in, char *out, size_t len);
/* NULL is a no-op. */
void lbr_obs_free(struct lbr_obs *o);

#endif
