/*
 * Plan: see plan.h.  Both lists are sorted by ADDRESS:PORT and merged, so a
 * pool of N members is planned in O(N log N).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/error.h"
#include "agent/plan.h"
#include "agent/selector.h"
#include "agent/util.h"
#include "state/state.h"

struct key_ref {
	const char *address;
	unsigned port;
	size_t idx;
};

static int cmp_key(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->address, y->address);

	if (c)
		return c;
	return (x->port > y->port) - (x->port < y->port);
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void lbr_plan_release(struct lbr_plan *p)
{
	size_t i;

	free(p->remove);
	free(p->missing);
	free(p->create);
	free(p->reweight);
	free(p->protect);
	free(p->unmanaged);
	free(p->pending);
	for (i = 0; i < p->n_blocked; i++)
		free(p->blocked[i].reason);
	free(p->blocked);
	for (i = 0; i < p->n_updates; i++)
		free(p->updates[i].keep);
	free(p->updates);
	memset(p, 0, sizeof(*p));
}

static int cmp_decl(const void *key, const void *elem)
{
	const struct key_ref *k = key;
	const struct lbr_cfg_member *m = elem;
	int c = strcmp(k->address, m->address);

	if (c)
		return c;
	return (k->port > m->port) - (k->port < m->port);
}

int lbr_plan_managed(const struct lbr_cfg_pool *cp, const struct lbr_state_pool *rec,
		     const char *address, unsigned port, const char *name, const char *instance_id,
		     const char *type)
{
	struct key_ref k = { .address = address, .port = port };
	size_t i;

	for (i = 0; i < cp->n_protect; i++)
		if (lbr_selector_match(&cp->protect[i], address, port, name, instance_id, type))
			return 0;
	if (bsearch(&k, cp->members, cp->n_members, sizeof(*cp->members), cmp_decl))
		return 1;
	if (cp->prune == LBR_PRUNE_ALL)
		return 1;
	if (cp->prune == LBR_PRUNE_OWNED)
		return rec && rec->has_owned && lbr_state_pool_owns(rec, address, port);
	return 0;
}

size_t lbr_plan_base(const struct lbr_plan *p, size_t n_observed)
{
	size_t out = p->n_protect + p->n_unmanaged;

	return n_observed > out ? n_observed - out : 0;
}

/* The first protect selector matching observed member m, or NULL. */
static const struct lbr_selector *protected_by(const struct lbr_cfg_pool *cp,
					       const struct lbr_obs_member *m)
{
	size_t i;

	for (i = 0; i < cp->n_protect; i++)
		if (lbr_selector_match(&cp->protect[i], m->address, m->port, m->name,
				       m->instance_id, m->type))
			return &cp->protect[i];
	return NULL;
}

static void keep(struct lbr_plan_keep *k, size_t *n, size_t member, const char *why)
{
	k[*n].member = member;
	snprintf(k[*n].why, sizeof(k[*n].why), "%s", why);
	(*n)++;
}

static int in_remove(const struct lbr_plan *p, const struct lbr_obs *o, const char *id)
{
	size_t i;

	for (i = 0; i < p->n_remove; i++)
		if (!strcmp(o->members[p->remove[i]].id, id))
			return 1;
	return 0;
}

static int rule_names(const struct lbr_obs_rule *rule, const char *id)
{
	size_t k;

	for (k = 0; k < rule->n_members; k++)
		if (!strcmp(rule->member_ids[k], id))
			return 1;
	return 0;
}

/* L7 rules: a rule that must never be empty and would lose every member
 * blocks the removal of the members it still holds; that can change other
 * rules' outcome, so repeat until nothing changes (a fixpoint). */
static int plan_rules(struct lbr_plan *p, const struct lbr_obs *o)
{
	size_t r, i;
	int changed = 1;

	while (changed) {
		changed = 0;
		for (r = 0; r < o->n_rules; r++) {
			const struct lbr_obs_rule *rule = &o->rules[r];
			size_t keepn = 0, hit = 0;

			for (i = 0; i < rule->n_members; i++) {
				if (in_remove(p, o, rule->member_ids[i]))
					hit++;
				else
					keepn++;
			}
			if (!hit || keepn || !rule->never_empty)
				continue;
			for (i = 0; i < p->n_remove;) {
				const struct lbr_obs_member *m = &o->members[p->remove[i]];
				struct lbr_blocked *nb;

				if (!rule_names(rule, m->id)) {
					i++;
					continue;
				}
				nb = realloc(p->blocked, (p->n_blocked + 1) * sizeof(*nb));
				if (!nb)
					return LBR_ENOMEM;
				p->blocked = nb;
				nb[p->n_blocked].member = p->remove[i];
				nb[p->n_blocked].reason = lbr_asprintf(
					"forwarding policy %s (%s) would be left without backends",
					rule->id, rule->label);
				if (!nb[p->n_blocked].reason)
					return LBR_ENOMEM;
				p->n_blocked++;
				p->remove[i] = p->remove[--p->n_remove];
				changed = 1;
			}
		}
	}
	/* An update for every rule that names a member still being removed. */
	for (r = 0; r < o->n_rules; r++) {
		const struct lbr_obs_rule *rule = &o->rules[r];
		struct lbr_rule_update *u;
		size_t hit = 0;

		for (i = 0; i < rule->n_members; i++)
			hit += (size_t)in_remove(p, o, rule->member_ids[i]);
		if (!hit)
			continue;
		u = realloc(p->updates, (p->n_updates + 1) * sizeof(*u));
		if (!u)
			return LBR_ENOMEM;
		p->updates = u;
		u = &p->updates[p->n_updates];
		memset(u, 0, sizeof(*u));
		u->rule = r;
		u->keep = calloc(rule->n_members + 1, sizeof(char *));
		if (!u->keep)
			return LBR_ENOMEM;
		p->n_updates++;
		for (i = 0; i < rule->n_members; i++)
			if (!in_remove(p, o, rule->member_ids[i]))
				u->keep[u->n_keep++] = rule->member_ids[i];
	}
	return 0;
}

/* An undeclared, unprotected observed member: removed, pending, or left
 * alone as unmanaged. */
static void undeclared(const struct lbr_plan_input *in, struct lbr_plan *p, size_t m,
		       const char *const *removed, size_t n_removed)
{
	const struct lbr_obs_member *om = &in->obs->members[m];
	const struct lbr_cfg_pool *cp = in->pool;
	const char *id = om->id;

	if (cp->prune == LBR_PRUNE_NONE) {
		keep(p->unmanaged, &p->n_unmanaged, m, "prune = none");
		return;
	}
	if (cp->prune == LBR_PRUNE_OWNED &&
	    !(in->rec && in->rec->has_owned &&
	      lbr_state_pool_owns(in->rec, om->address, om->port))) {
		keep(p->unmanaged, &p->n_unmanaged, m,
		     in->rec && in->rec->has_owned ? "not owned (prune = owned)"
						   : "no ownership record yet (prune = owned)");
		return;
	}
	if (n_removed && bsearch(&id, removed, n_removed, sizeof(char *), cmp_strp))
		p->pending[p->n_pending++] = m;
	else
		p->remove[p->n_remove++] = m;
}

/* Was declared member d created earlier in this pass (and is not listed
 * yet: the cloud may be slow to show it)? */
static int created_before(const struct lbr_plan_input *in, const struct lbr_cfg_member *d)
{
	char key[80];
	size_t i;

	if (!in->n_created_keys)
		return 0;
	lbr_addrport_fmt(d->address, d->port, key, sizeof(key));
	for (i = 0; i < in->n_created_keys; i++)
		if (!strcmp(in->created_keys[i], key))
			return 1;
	return 0;
}

int lbr_plan_pool(const struct lbr_plan_input *in, struct lbr_plan *p)
{
	const struct lbr_cfg_pool *cp = in->pool;
	const struct lbr_obs *o = in->obs;
	struct key_ref *want = NULL, *have = NULL;
	const char **removed = NULL;
	size_t i, a, b, nd = cp->n_members, no = o->n_members;
	int r = LBR_ENOMEM;

	memset(p, 0, sizeof(*p));
	want = calloc(nd + 1, sizeof(*want));
	have = calloc(no + 1, sizeof(*have));
	removed = calloc(in->n_removed_ids + 1, sizeof(char *));
	p->remove = calloc(no + 1, sizeof(size_t));
	p->pending = calloc(no + 1, sizeof(size_t));
	p->protect = calloc(no + 1, sizeof(*p->protect));
	p->unmanaged = calloc(no + 1, sizeof(*p->unmanaged));
	p->reweight = calloc(no + 1, sizeof(*p->reweight));
	p->missing = calloc(nd + 1, sizeof(size_t));
	p->create = calloc(nd + 1, sizeof(size_t));
	if (!want || !have || !removed || !p->remove || !p->pending || !p->protect ||
	    !p->unmanaged || !p->reweight || !p->missing || !p->create)
		goto out;
	for (i = 0; i < in->n_removed_ids; i++)
		removed[i] = in->removed_ids[i];
	qsort(removed, in->n_removed_ids, sizeof(char *), cmp_strp);
	for (i = 0; i < nd; i++) {
		want[i].address = cp->members[i].address;
		want[i].port = cp->members[i].port;
		want[i].idx = i;
	}
	for (i = 0; i < no; i++) {
		have[i].address = o->members[i].address;
		have[i].port = o->members[i].port;
		have[i].idx = i;
	}
	qsort(want, nd, sizeof(*want), cmp_key);
	qsort(have, no, sizeof(*have), cmp_key);
	a = b = 0;
	while (a < nd || b < no) {
		int c = a >= nd ? 1 : b >= no ? -1 : cmp_key(&want[a], &have[b]);

		if (c < 0) {
			p->missing[p->n_missing++] = want[a].idx;
			if (cp->create) {
				if (created_before(in, &cp->members[want[a].idx]))
					p->n_create_pending++;
				else
					p->create[p->n_create++] = want[a].idx;
			}
			a++;
			continue;
		}
		if (c > 0) {
			size_t m = have[b++].idx;
			const struct lbr_selector *s = protected_by(cp, &o->members[m]);

			if (s) {
				char d[80];

				lbr_selector_describe(s, d, sizeof(d));
				keep(p->protect, &p->n_protect, m, d);
				continue;
			}
			undeclared(in, p, m, removed, in->n_removed_ids);
			continue;
		}
		/* Declared: every observed member with this key stays; its
		 * declared weight is enforced unless a selector protects it. */
		{
			const struct lbr_cfg_member *dm = &cp->members[want[a].idx];

			for (; b < no && cmp_key(&want[a], &have[b]) == 0; b++) {
				size_t m = have[b].idx;
				const struct lbr_obs_member *om = &o->members[m];
				const struct lbr_selector *s = protected_by(cp, om);

				if (s) {
					char d[80];

					lbr_selector_describe(s, d, sizeof(d));
					keep(p->protect, &p->n_protect, m, d);
					if (dm->weight >= 0 && om->weight != dm->weight)
						p->n_weight_ignored++;
					continue;
				}
				if (dm->weight >= 0 && in->can_weight && om->weight != dm->weight) {
					struct lbr_plan_reweight *w = &p->reweight[p->n_reweight++];

					w->member = m;
					w->decl = want[a].idx;
					w->from = om->weight;
					w->to = dm->weight;
				}
			}
			a++;
		}
	}
	r = plan_rules(p, o);
out:
	free(want);
	free(have);
	free(removed);
	if (r < 0)
		lbr_plan_release(p);
	return r;
}
