/*
 * Record: see record.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/error.h"
#include "agent/pool.h"
#include "agent/record.h"
#include "agent/util.h"
#include "state/state.h"

const char *lbr_pool_result(const struct lbr_pool_rt *p)
{
	if (!p->obs_ok || p->error || p->plan.n_blocked)
		return p->plan.n_blocked && !p->error && p->obs_ok ? "blocked" : "error";
	if (p->refused)
		return "refused";
	if (p->frozen)
		return "config_changed";
	if (lbr_pool_work(p) || p->plan.n_pending || p->plan.n_create_pending)
		return "not_converged";
	return "converged";
}

void lbr_engine_finish(struct lbr_engine *e)
{
	size_t i;

	for (i = 0; i < e->n_pools; i++) {
		struct lbr_pool_rt *p = &e->pools[i];
		size_t left = lbr_pool_work(p) + p->plan.n_pending + p->plan.n_create_pending;

		if (p->obs_ok && !p->error && !p->refused && !p->frozen && left) {
			if (p->make_failed || p->hold_removals)
				p->error = lbr_asprintf(
					"pool \"%s\": removals held back: new members or weights were not in place (make before break)%s%s",
					p->cfg->name, p->soft_error ? "; last error: " : "",
					p->soft_error ? p->soft_error : "");
			else
				p->error = lbr_asprintf(
					"pool \"%s\": not converged after %d rounds (%zu changes left)%s%s",
					p->cfg->name, e->cfg->max_rounds, left,
					p->soft_error ? "; last error: " : "",
					p->soft_error ? p->soft_error : "");
		}
		if (p->plan.n_blocked && !p->error)
			p->error = lbr_asprintf("pool \"%s\": %zu removal(s) blocked: %s",
						p->cfg->name, p->plan.n_blocked,
						p->plan.blocked[0].reason
							? p->plan.blocked[0].reason
							: "");
	}
}

/* Append a copy of k to the list (duplicates are dropped later). */
static int push_key(char ***keys, size_t *n, size_t *cap, const char *k)
{
	if (lbr_grow((void **)keys, cap, *n, sizeof(char *)) < 0)
		return LBR_ENOMEM;
	(*keys)[*n] = strdup(k);
	if (!(*keys)[*n])
		return LBR_ENOMEM;
	(*n)++;
	return 0;
}

static int cmp_keyp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_keys(char **keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* The new ownership record of pool p: declared now, created by this pass,
 * and owned before and still listed (not removed yet: still ours); sorted
 * by strcmp, without duplicates, as the state keeps it.  O(n log n): a
 * pool may have 100,000 members. */
static int owned_keys(const struct lbr_pool_rt *p, const struct lbr_state_pool *old, int held,
		      char ***out, size_t *n_out)
{
	char **keys = NULL, **listed = NULL, ap[80];
	size_t n = 0, cap = 0, n_listed = 0, cap_listed = 0, i, k;
	int r = 0;

	for (i = 0; r == 0 && i < p->cfg->n_members; i++) {
		lbr_addrport_fmt(p->cfg->members[i].address, p->cfg->members[i].port, ap,
				 sizeof(ap));
		r = push_key(&keys, &n, &cap, ap);
	}
	for (i = 0; r == 0 && i < p->n_created_keys; i++)
		r = push_key(&keys, &n, &cap, p->created_keys[i]);
	/* p->rec was set at the start of the pass only when the record was
	 * of the same target; it is only tested, never followed: recording
	 * an earlier new pool may have moved the document's pools (old is
	 * this pool's record, looked up again).  An old key is kept when the pool was not listed (nothing is known to
	 * be gone), its empty listing is held (SPEC §5: not acted on, so
	 * not believed either) or the listing still has it. */
	if (r == 0 && old && p->rec && old->has_owned && old->n_owned) {
		for (k = 0; r == 0 && p->obs_ok && k < p->obs->n_members; k++) {
			lbr_addrport_fmt(p->obs->members[k].address, p->obs->members[k].port, ap,
					 sizeof(ap));
			r = push_key(&listed, &n_listed, &cap_listed, ap);
		}
		if (n_listed)
			qsort(listed, n_listed, sizeof(*listed), cmp_keyp);
		for (i = 0; r == 0 && i < old->n_owned; i++) {
			const char *key = old->owned[i];

			if (!p->obs_ok || held ||
			    (n_listed &&
			     bsearch(&key, listed, n_listed, sizeof(*listed), cmp_keyp)))
				r = push_key(&keys, &n, &cap, key);
		}
	}
	free_keys(listed, n_listed);
	if (r < 0) {
		free_keys(keys, n);
		return r;
	}
	if (n > 1) {
		qsort(keys, n, sizeof(*keys), cmp_keyp);
		for (i = 1, k = 1; i < n; i++) {
			if (strcmp(keys[i], keys[k - 1]) == 0)
				free(keys[i]);
			else
				keys[k++] = keys[i];
		}
		n = k;
	}
	*out = keys;
	*n_out = n;
	return 0;
}

static int record_pool(struct lbr_pool_rt *p, struct lbr_state *doc, int64_t now, int force)
{
	struct lbr_state_pool sp, *old = lbr_state_pool_find(doc, p->cfg->name);
	struct lbr_state_target *tg = calloc(p->target.n + 1, sizeof(*tg));
	struct lbr_state_member *mem = NULL;
	char **owned = NULL, **gone = NULL;
	size_t k, n_owned = 0;
	int r = LBR_ENOMEM;
	/* An empty listing of a pool recorded with members (SPEC §5) is not
	 * acted on (guard.c) nor believed: it replaces neither the recorded
	 * members nor the ownership, so the next pass holds too, whether
	 * this one had anything to do or not; --force believes it. */
	int held = p->obs_ok && p->obs->n_members == 0 && p->first_observed == 0 && old && p->rec &&
		   old->n_members && !force;

	memset(&sp, 0, sizeof(sp));
	if (!tg)
		goto out;
	sp.name = (char *)p->cfg->name;
	sp.provider = p->prov->cfg->name;
	for (k = 0; k < p->target.n; k++) {
		tg[k].key = (char *)p->target.kv[k].key;
		tg[k].value = (char *)p->target.kv[k].value;
	}
	sp.targets = tg;
	sp.n_targets = p->target.n;
	if (p->obs_ok && !held) {
		mem = calloc(p->obs->n_members + 1, sizeof(*mem));
		if (!mem)
			goto out;
		for (k = 0; k < p->obs->n_members; k++) {
			mem[k].id = p->obs->members[k].id;
			mem[k].address = p->obs->members[k].address;
			mem[k].port = p->obs->members[k].port;
			mem[k].name = p->obs->members[k].name;
			mem[k].weight = p->obs->members[k].weight;
		}
		sp.members = mem;
		sp.n_members = p->obs->n_members;
		sp.observed_at = now;
	} else if (!p->obs_ok && p->obs && p->observed_once) {
		/* The pass listed the pool, then a later listing (the
		 * verification) failed: what it last saw, less what it
		 * removed since, is closer to the cloud than the old record
		 * (whose members it removed would look like changes made
		 * outside lbreconcile to the next drift). */
		mem = calloc(p->obs->n_members + 1, sizeof(*mem));
		gone = calloc(p->n_removed_ids + 1, sizeof(*gone));
		if (!mem || !gone)
			goto out;
		memcpy(gone, p->removed_ids, p->n_removed_ids * sizeof(*gone));
		qsort(gone, p->n_removed_ids, sizeof(*gone), cmp_keyp);
		for (k = 0; k < p->obs->n_members; k++) {
			struct lbr_obs_member *m = &p->obs->members[k];
			const char *id = m->id;

			if (p->n_removed_ids &&
			    bsearch(&id, gone, p->n_removed_ids, sizeof(*gone), cmp_keyp))
				continue;
			mem[sp.n_members].id = m->id;
			mem[sp.n_members].address = m->address;
			mem[sp.n_members].port = m->port;
			mem[sp.n_members].name = m->name;
			mem[sp.n_members++].weight = m->weight;
		}
		sp.members = mem;
		sp.observed_at = now;
	} else if (old) {
		sp.members = old->members;
		sp.n_members = old->n_members;
		sp.observed_at = old->observed_at;
	}
	if (owned_keys(p, old, held, &owned, &n_owned) < 0)
		goto out;
	sp.owned = owned;
	sp.n_owned = n_owned;
	sp.has_owned = 1;
	sp.last_result = (char *)lbr_pool_result(p);
	sp.last_apply_at = now;
	sp.last_removed = p->removed + p->already_gone;
	sp.last_errors = p->failed + (p->error ? 1u : 0u);
	/* Deep copy: old (and what sp borrows from it) is replaced here. */
	r = lbr_state_pool_put(doc, &sp);
out:
	for (k = 0; k < n_owned; k++)
		free(owned[k]);
	free(owned);
	free(gone);
	free(tg);
	free(mem);
	return r;
}

int lbr_record(struct lbr_engine *e, struct lbr_state_store *st, struct lbr_state *doc, char *err,
	       size_t errlen)
{
	int64_t now = (int64_t)time(NULL);
	size_t i;
	int r;

	for (i = 0; i < e->n_pools; i++) {
		r = record_pool(&e->pools[i], doc, now, e->force);
		/* The document's pools may have moved: no pointer into it
		 * survives the recording. */
		e->pools[i].rec = NULL;
		if (r < 0) {
			snprintf(err, errlen, "state: cannot record pool \"%s\" (%s)",
				 e->pools[i].cfg->name, lbr_strerror(r));
			return r;
		}
	}
	return lbr_state_save(st, doc, err, errlen);
}
