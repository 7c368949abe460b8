/*
 * The state document in memory: helpers, the ownership record, counters,
 * and the writer (lbr_state_to_json).  The parser is in doc-parse.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/state-int.h"

/* ---- document helpers ------------------------------------------------ */

struct lbr_state *lbr_state_new(void)
{
	struct lbr_state *doc = calloc(1, sizeof(*doc));

	if (doc)
		doc->format_version = LBR_STATE_FORMAT_VERSION;
	return doc;
}

static void pool_release(struct lbr_state_pool *p)
{
	size_t i;

	free(p->name);
	free(p->provider);
	for (i = 0; i < p->n_targets; i++) {
		free(p->targets[i].key);
		free(p->targets[i].value);
	}
	free(p->targets);
	for (i = 0; i < p->n_members; i++) {
		free(p->members[i].id);
		free(p->members[i].address);
		free(p->members[i].name);
	}
	free(p->members);
	free(p->last_result);
	for (i = 0; i < p->n_owned; i++)
		free(p->owned[i]);
	free(p->owned);
	memset(p, 0, sizeof(*p));
}

void lbr_state_free(struct lbr_state *doc)
{
	size_t i;

	if (!doc)
		return;
	for (i = 0; i < doc->n_pools; i++)
		pool_release(&doc->pools[i]);
	free(doc->pools);
	for (i = 0; i < doc->n_counters; i++)
		free(doc->counters[i].name);
	free(doc->counters);
	free(doc->agent_version);
	free(doc);
}

struct lbr_state_pool *lbr_state_pool_find(struct lbr_state *doc, const char *name)
{
	size_t i;

	if (!doc || !name)
		return NULL;
	for (i = 0; i < doc->n_pools; i++)
		if (doc->pools[i].name && strcmp(doc->pools[i].name, name) == 0)
			return &doc->pools[i];
	return NULL;
}

/* strdup that maps NULL to NULL and reports failure through *bad. */
static char *dup_or_null(const char *s, int *bad)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*bad = 1;
	return d;
}

/* calloc() for the n elements of a copied array: NULL when n is 0, and
 * NULL with *bad set when memory runs out. */
static void *calloc_or_null(size_t n, size_t size, int *bad)
{
	void *p;

	if (!n)
		return NULL;
	p = calloc(n, size);
	if (!p)
		*bad = 1;
	return p;
}

static int pool_copy(struct lbr_state_pool *dst, const struct lbr_state_pool *src)
{
	int bad = 0;
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->name = dup_or_null(src->name, &bad);
	dst->provider = dup_or_null(src->provider, &bad);
	dst->last_result = dup_or_null(src->last_result, &bad);
	dst->observed_at = src->observed_at;
	dst->last_apply_at = src->last_apply_at;
	dst->last_removed = src->last_removed;
	dst->last_errors = src->last_errors;
	dst->targets = calloc_or_null(src->n_targets, sizeof(*dst->targets), &bad);
	dst->n_targets = dst->targets ? src->n_targets : 0;
	for (i = 0; i < dst->n_targets; i++) {
		dst->targets[i].key = dup_or_null(src->targets[i].key, &bad);
		dst->targets[i].value = dup_or_null(src->targets[i].value, &bad);
	}
	dst->members = calloc_or_null(src->n_members, sizeof(*dst->members), &bad);
	dst->n_members = dst->members ? src->n_members : 0;
	for (i = 0; i < dst->n_members; i++) {
		dst->members[i].id = dup_or_null(src->members[i].id, &bad);
		dst->members[i].address = dup_or_null(src->members[i].address, &bad);
		dst->members[i].port = src->members[i].port;
		dst->members[i].name = dup_or_null(src->members[i].name, &bad);
		dst->members[i].weight = src->members[i].weight;
	}
	dst->has_owned = src->has_owned;
	dst->owned = calloc_or_null(src->n_owned, sizeof(*dst->owned), &bad);
	for (i = 0; dst->owned && i < src->n_owned; i++) {
		if (!src->owned[i])
			continue;
		dst->owned[dst->n_owned] = dup_or_null(src->owned[i], &bad);
		if (dst->owned[dst->n_owned])
			dst->n_owned++;
	}
	if (dst->owned)
		lbr_state_owned_sort(dst);
	if (bad) {
		pool_release(dst);
		return LBR_ENOMEM;
	}
	return 0;
}

int lbr_state_pool_put(struct lbr_state *doc, const struct lbr_state_pool *p)
{
	struct lbr_state_pool copy, *old, *grown;

	if (!doc || !p || !p->name)
		return LBR_EINVAL;
	if (pool_copy(&copy, p) < 0)
		return LBR_ENOMEM;
	old = lbr_state_pool_find(doc, p->name);
	if (old) {
		pool_release(old);
		*old = copy;
		return 0;
	}
	grown = realloc(doc->pools, (doc->n_pools + 1) * sizeof(*grown));
	if (!grown) {
		pool_release(&copy);
		return LBR_ENOMEM;
	}
	doc->pools = grown;
	doc->pools[doc->n_pools++] = copy;
	return 0;
}

/* ---- ownership record ------------------------------------------------ */

int lbr_state_member_key(const char *addr, unsigned port, char out[LBR_STATE_KEY_LEN])
{
	unsigned char buf[16];
	char text[INET6_ADDRSTRLEN];

	if (!addr || port < 1 || port > 65535)
		return LBR_EINVAL;
	if (inet_pton(AF_INET, addr, buf) == 1) {
		inet_ntop(AF_INET, buf, text, sizeof(text));
		snprintf(out, LBR_STATE_KEY_LEN, "%s:%u", text, port);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, buf) == 1) {
		inet_ntop(AF_INET6, buf, text, sizeof(text));
		snprintf(out, LBR_STATE_KEY_LEN, "[%s]:%u", text, port);
		return 0;
	}
	return LBR_EINVAL;
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t lbr_state_owned_sort(struct lbr_state_pool *p)
{
	size_t i, n = 0, dropped = 0;

	if (p->n_owned > 1)
		qsort(p->owned, p->n_owned, sizeof(*p->owned), str_ptr_cmp);
	for (i = 0; i < p->n_owned; i++) {
		if (n && strcmp(p->owned[n - 1], p->owned[i]) == 0) {
			free(p->owned[i]);
			dropped++;
			continue;
		}
		p->owned[n++] = p->owned[i];
	}
	p->n_owned = n;
	return dropped;
}

/* Index of key in the sorted record, or where it would go (*found 0). */
static size_t owned_find(const struct lbr_state_pool *p, const char *key, int *found)
{
	size_t lo = 0, hi = p->n_owned;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->owned[mid], key);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int lbr_state_pool_owns(const struct lbr_state_pool *p, const char *addr, unsigned port)
{
	char key[LBR_STATE_KEY_LEN];
	int found;

	if (!p || !p->has_owned || lbr_state_member_key(addr, port, key) < 0)
		return 0;
	owned_find(p, key, &found);
	return found;
}

/* Where (addr, port) is or would go in p's owned list, for own and
 * disown; either one makes p keep such a list from now on. */
static int owned_slot(struct lbr_state_pool *p, const char *addr, unsigned port, char *key,
		      size_t *at, int *found)
{
	if (!p || lbr_state_member_key(addr, port, key) < 0)
		return LBR_EINVAL;
	p->has_owned = 1;
	*at = owned_find(p, key, found);
	return 0;
}

int lbr_state_pool_own(struct lbr_state_pool *p, const char *addr, unsigned port)
{
	char key[LBR_STATE_KEY_LEN], **grown, *copy;
	size_t at;
	int found;

	if (owned_slot(p, addr, port, key, &at, &found) < 0)
		return LBR_EINVAL;
	if (found)
		return 0;
	copy = strdup(key);
	grown = copy ? realloc(p->owned, (p->n_owned + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(copy);
		return LBR_ENOMEM;
	}
	p->owned = grown;
	memmove(&p->owned[at + 1], &p->owned[at], (p->n_owned - at) * sizeof(*p->owned));
	p->owned[at] = copy;
	p->n_owned++;
	return 0;
}

int lbr_state_pool_disown(struct lbr_state_pool *p, const char *addr, unsigned port)
{
	char key[LBR_STATE_KEY_LEN];
	size_t at;
	int found;

	if (owned_slot(p, addr, port, key, &at, &found) < 0)
		return LBR_EINVAL;
	if (!found)
		return 0;
	free(p->owned[at]);
	memmove(&p->owned[at], &p->owned[at + 1], (p->n_owned - at - 1) * sizeof(*p->owned));
	p->n_owned--;
	return 0;
}

/* ---- counters -------------------------------------------------------- */

int lbr_state_counter_name_valid(const char *s)
{
	size_t i;

	/* A series key: metric family and label values joined by '/',
	 * e.g. "metrics/api_calls_total/hw-main/remove/ok". */
	if (!s || !*s || strlen(s) > 256 || (*s >= '0' && *s <= '9'))
		return 0;
	for (i = 0; s[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_:/.-",
			    s[i]))
			return 0;
	return 1;
}

uint64_t lbr_state_counter_get(const struct lbr_state *doc, const char *name)
{
	size_t i;

	if (!doc || !name)
		return 0;
	for (i = 0; i < doc->n_counters; i++)
		if (doc->counters[i].name && !strcmp(doc->counters[i].name, name))
			return doc->counters[i].value;
	return 0;
}

int lbr_state_counter_add(struct lbr_state *doc, const char *name, uint64_t delta)
{
	const uint64_t max = (uint64_t)INT64_MAX - 1;
	struct lbr_state_counter *c = NULL, *grown;
	size_t i;

	if (!doc || !lbr_state_counter_name_valid(name))
		return LBR_EINVAL;
	for (i = 0; i < doc->n_counters && !c; i++)
		if (doc->counters[i].name && !strcmp(doc->counters[i].name, name))
			c = &doc->counters[i];
	if (!c) {
		char *copy = strdup(name);

		grown = copy ? realloc(doc->counters, (doc->n_counters + 1) * sizeof(*grown))
			     : NULL;
		if (!grown) {
			free(copy);
			return LBR_ENOMEM;
		}
		doc->counters = grown;
		c = &doc->counters[doc->n_counters++];
		c->name = copy;
		c->value = 0;
	}
	/* A counter that stops at the top is wrong for ever; one that wraps
	 * would read as a reset.  2^63 events will not happen. */
	c->value = delta > max - c->value ? max : c->value + delta;
	return 0;
}
