/*
 * The observation container: see obs.h.  Every value a cloud returns is
 * checked here before the plan may see it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/error.h"
#include "agent/obs.h"
#include "agent/util.h"

#define LBR_MAX_OBSERVED 2000000u

struct lbr_obs *lbr_obs_new(void)
{
	return calloc(1, sizeof(struct lbr_obs));
}

static void member_free(struct lbr_obs_member *m)
{
	free(m->id);
	free(m->name);
	free(m->instance_id);
	free(m->type);
	m->id = m->name = m->instance_id = m->type = NULL;
}

static int obs_fail(struct lbr_obs *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int obs_fail(struct lbr_obs *o, const char *fmt, ...)
{
	va_list ap;

	if (!o->err[0]) {
		va_start(ap, fmt);
		vsnprintf(o->err, sizeof(o->err), fmt, ap);
		va_end(ap);
	}
	return LBR_EINVAL;
}

/* Print an untrusted string safely inside a message. */
void lbr_obs_sanitize(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; in && *in && o + 5 < len; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\')
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
		if (o > 60) {
			snprintf(out + o, len - o, "...");
			return;
		}
	}
	out[o] = '\0';
}

int lbr_obs_add_member(struct lbr_obs *o, const struct lbr_member_info *m)
{
	struct lbr_obs_member *d;
	char safe[128];

	if (!m->id || !lbr_id_valid(m->id)) {
		lbr_obs_sanitize(m->id, safe, sizeof(safe));
		return obs_fail(
			o, "the cloud returned member id '%s', which is not [A-Za-z0-9_-]{1,128}",
			safe);
	}
	if (o->n_members >= LBR_MAX_OBSERVED)
		return obs_fail(o, "more than %u members listed", LBR_MAX_OBSERVED);
	if (m->port < 1 || m->port > 65535)
		return obs_fail(o, "member %s has port %u", m->id, m->port);
	if (lbr_grow((void **)&o->members, &o->cap_members, o->n_members, sizeof(*d)) < 0)
		return obs_fail(o, "out of memory");
	d = &o->members[o->n_members];
	memset(d, 0, sizeof(*d));
	if (!m->address || lbr_addr_canon(m->address, d->address) < 0) {
		lbr_obs_sanitize(m->address, safe, sizeof(safe));
		return obs_fail(o, "member %s has address '%s', which is not an IP address", m->id,
				safe);
	}
	d->id = strdup(m->id);
	if (!d->id)
		return obs_fail(o, "out of memory");
	d->port = m->port;
	d->weight = m->weight;
	d->enabled = m->enabled;
	if ((m->name && m->name[0] && !(d->name = strdup(m->name))) ||
	    (m->instance_id && m->instance_id[0] && !(d->instance_id = strdup(m->instance_id))) ||
	    (m->type && m->type[0] && !(d->type = strdup(m->type)))) {
		member_free(d);
		return obs_fail(o, "out of memory");
	}
	o->n_members++;
	return 0;
}

static void rule_free(struct lbr_obs_rule *r)
{
	size_t i;

	free(r->id);
	free(r->label);
	for (i = 0; i < r->n_members; i++)
		free(r->member_ids[i]);
	free(r->member_ids);
	for (i = 0; i < r->n_attrs; i++) {
		free((char *)r->attrs[i].key);
		free((char *)r->attrs[i].value);
	}
	free(r->attrs);
}

int lbr_obs_add_rule(struct lbr_obs *o, const struct lbr_rule_info *r)
{
	struct lbr_obs_rule d;
	size_t i;
	char safe[128];

	memset(&d, 0, sizeof(d));
	if (!r->id || !lbr_id_valid(r->id)) {
		lbr_obs_sanitize(r->id, safe, sizeof(safe));
		return obs_fail(o,
				"the cloud returned rule id '%s', which is not [A-Za-z0-9_-]{1,128}",
				safe);
	}
	for (i = 0; i < r->n_members; i++)
		if (!lbr_id_valid(r->member_ids[i])) {
			lbr_obs_sanitize(r->member_ids[i], safe, sizeof(safe));
			return obs_fail(o, "rule %s names member id '%s', which is not valid",
					r->id, safe);
		}
	if (lbr_grow((void **)&o->rules, &o->cap_rules, o->n_rules, sizeof(d)) < 0)
		return obs_fail(o, "out of memory");
	d.id = strdup(r->id);
	d.label = strdup(r->label ? r->label : r->id);
	d.never_empty = r->never_empty;
	d.member_ids = calloc(r->n_members + 1, sizeof(char *));
	d.attrs = calloc(r->n_attrs + 1, sizeof(struct lbr_kv));
	if (!d.id || !d.label || !d.member_ids || !d.attrs)
		goto oom;
	for (i = 0; i < r->n_members; i++) {
		d.member_ids[i] = strdup(r->member_ids[i]);
		if (!d.member_ids[i])
			goto oom;
		d.n_members++;
	}
	for (i = 0; i < r->n_attrs; i++) {
		d.attrs[i].key = strdup(r->attrs[i].key);
		d.attrs[i].value = strdup(r->attrs[i].value ? r->attrs[i].value : "");
		if (!d.attrs[i].key || !d.attrs[i].value) {
			free((char *)d.attrs[i].key);
			free((char *)d.attrs[i].value);
			goto oom;
		}
		d.n_attrs++;
	}
	o->rules[o->n_rules++] = d;
	return 0;
oom:
	rule_free(&d);
	return obs_fail(o, "out of memory");
}

void lbr_obs_free(struct lbr_obs *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < o->n_members; i++)
		member_free(&o->members[i]);
	free(o->members);
	for (i = 0; i < o->n_rules; i++)
		rule_free(&o->rules[i]);
	free(o->rules);
	free(o);
}

void lbr_obs_truncate(struct lbr_obs *o, size_t nm, size_t nr)
{
	while (o->n_members > nm)
		member_free(&o->members[--o->n_members]);
	while (o->n_rules > nr)
		rule_free(&o->rules[--o->n_rules]);
}
