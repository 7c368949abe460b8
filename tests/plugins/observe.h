/*
 * Shared by the behaviour fixture plugins (forgetful, echo): the pool key
 * `observe = ADDR:PORT,ADDR:PORT,...` is what list_page reports, with ids
 * m1, m2, ... in that order ([V6]:PORT for IPv6).  No network: these
 * plugins exist to drive the core's engine against one exact behaviour.
 */
#ifndef LBR_FIXTURE_OBSERVE_H
#define LBR_FIXTURE_OBSERVE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbreconcile/provider.h"

static const char *fx_target_value(const struct lbr_target *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->kv[i].key, key))
			return t->kv[i].value;
	return NULL;
}

/* Add every member of `observe` to obs, each named `name` (may be NULL);
 * LBR_OUT_OK or LBR_OUT_INVALID. */
static enum lbr_outcome fx_observe(const struct lbr_host *host, struct lbr_obs *obs,
				   const struct lbr_target *t, const char *name)
{
	const char *list = fx_target_value(t, "observe"), *p, *end;
	char item[80], id[16], *colon, *addr;
	unsigned n = 0;

	if (!list)
		return LBR_OUT_OK;
	for (p = list; *p; p = *end ? end + 1 : end) {
		struct lbr_member_info m;
		size_t len;

		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (!len || len >= sizeof(item))
			return LBR_OUT_INVALID;
		memcpy(item, p, len);
		item[len] = '\0';
		colon = strrchr(item, ':');
		if (!colon)
			return LBR_OUT_INVALID;
		*colon = '\0';
		addr = item;
		if (addr[0] == '[') {
			addr++;
			if (colon[-1] != ']')
				return LBR_OUT_INVALID;
			colon[-1] = '\0';
		}
		snprintf(id, sizeof(id), "m%u", ++n);
		memset(&m, 0, sizeof(m));
		m.id = id;
		m.address = addr;
		m.port = (unsigned)strtoul(colon + 1, NULL, 10);
		m.weight = -1;
		m.enabled = -1;
		m.name = name;
		if (host->obs_add_member(obs, &m) < 0)
			return LBR_OUT_INVALID;
	}
	return LBR_OUT_OK;
}

#endif
