/*
 * The plan and guard phases as pure functions: the diff by ADDRESS:PORT
 * (IPv6 and ports included), the L7 fixpoint that never empties a Custom
 * policy, prune / protect / ownership, creations and weight changes, and
 * max_delete / max_create.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cfg.h"
#include "agent/guard.h"
#include "agent/host.h"
#include "agent/obs.h"
#include "agent/plan.h"
#include "agent/selector.h"
#include "agent/util.h"
#include "state/state.h"
#include "tests/unit/tap.h"

/* ------------------------------------------------------------ fixtures */

static struct lbr_cfg_pool pool;
static struct lbr_cfg_member decl[16];
static struct lbr_member_spec specs[16];
static struct lbr_selector sels[4];
static struct lbr_obs *obs;

static void reset(void)
{
	memset(&pool, 0, sizeof(pool));
	memset(decl, 0, sizeof(decl));
	memset(sels, 0, sizeof(sels));
	pool.name = "web";
	pool.members = decl;
	pool.specs = specs;
	pool.max_create = -1;
	pool.prune = LBR_PRUNE_ALL;
	lbr_obs_free(obs);
	obs = lbr_obs_new();
}

static void declare(const char *addr, unsigned port, int weight)
{
	struct lbr_cfg_member *m = &decl[pool.n_members];

	snprintf(m->address, sizeof(m->address), "%s", addr);
	m->port = port;
	m->weight = weight;
	specs[pool.n_members].address = m->address;
	specs[pool.n_members].port = port;
	specs[pool.n_members].weight = weight;
	pool.n_members++;
}

static void protect(const char *text)
{
	char err[256];

	if (lbr_selector_parse(text, &sels[pool.n_protect], err, sizeof(err)) < 0) {
		printf("# bad selector %s: %s\n", text, err);
		abort();
	}
	pool.protect = sels;
	pool.n_protect++;
}

static void observe(const char *id, const char *addr, unsigned port, int weight, const char *name)
{
	struct lbr_member_info m = {
		.id = id, .address = addr, .port = port, .weight = weight, .enabled = 1, .name = name
	};

	if (lbr_obs_add_member(obs, &m) < 0) {
		printf("# rejected %s: %s\n", id, obs->err);
		abort();
	}
}

static void rule(const char *id, int never_empty, const char *const *ids, size_t n)
{
	struct lbr_rule_info r = {
		.id = id, .label = id, .never_empty = never_empty, .member_ids = ids, .n_members = n
	};

	if (lbr_obs_add_rule(obs, &r) < 0)
		abort();
}

static int plan(struct lbr_plan *p, const struct lbr_state_pool *rec)
{
	struct lbr_plan_input in = { .pool = &pool, .obs = obs, .rec = rec, .can_weight = 1 };

	return lbr_plan_pool(&in, p);
}

/* "id,id,..." of the observed members at the given indices, sorted. */
static const char *ids_of(const size_t *idx, size_t n)
{
	static char buf[512];
	const char *v[32];
	size_t i, j;

	for (i = 0; i < n; i++)
		v[i] = obs->members[idx[i]].id;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "", v[i]);
	return buf;
}

static const char *keep_ids(const struct lbr_plan_keep *k, size_t n)
{
	size_t idx[32], i;

	for (i = 0; i < n; i++)
		idx[i] = k[i].member;
	return ids_of(idx, n);
}

/* --------------------------------------------------------------- tests */

static void test_diff(void)
{
	struct lbr_plan p;

	reset();
	declare("10.0.0.1", 80, -1);
	declare("10.0.0.2", 80, -1);
	declare("2001:db8::5", 443, -1);
	observe("m1", "10.0.0.1", 80, 1, NULL);
	observe("m2", "10.0.0.2", 8080, 1, NULL);        /* same address, other port */
	observe("m3", "2001:0db8:0:0::5", 443, 1, NULL); /* non-canonical IPv6 */
	observe("m4", "10.0.0.9", 80, 1, NULL);
	tap_is_int(plan(&p, NULL), 0, "plan succeeds");
	tap_is_str(ids_of(p.remove, p.n_remove), "m2,m4",
		   "the port is part of identity; undeclared removed");
	tap_is_int(p.n_missing, 1, "one declared member missing");
	tap_is_str(decl[p.missing[0]].address, "10.0.0.2",
		   "10.0.0.2:80 is missing (8080 does not count)");
	tap_is_int(p.n_create, 0, "nothing created without create = yes");
	tap_is_int(p.n_unmanaged + p.n_protect, 0, "prune = all: nothing unmanaged");
	lbr_plan_release(&p);

	pool.create = 1;
	tap_is_int(plan(&p, NULL), 0, "plan with create = yes");
	tap_is_int(p.n_create, 1, "create = yes: the missing member is to be created");
	lbr_plan_release(&p);

	reset();
	declare("10.0.0.1", 80, -1);
	observe("a", "10.0.0.1", 80, 1, NULL);
	observe("b", "10.0.0.1", 80, 1, NULL);
	plan(&p, NULL);
	tap_is_int(p.n_remove, 0, "two members with a declared key both stay");
	lbr_plan_release(&p);
}

static void test_removed_before(void)
{
	struct lbr_plan p;
	const char *gone[] = { "m9" };
	struct lbr_plan_input in;

	reset();
	declare("10.0.0.1", 80, -1);
	observe("m1", "10.0.0.1", 80, 1, NULL);
	observe("m9", "10.0.0.9", 80, 1, NULL);
	memset(&in, 0, sizeof(in));
	in.pool = &pool;
	in.obs = obs;
	in.removed_ids = gone;
	in.n_removed_ids = 1;
	tap_is_int(lbr_plan_pool(&in, &p), 0, "plan with earlier removals");
	tap_is_int(p.n_remove, 0, "a member removed earlier in the pass is not removed again");
	tap_is_str(ids_of(p.pending, p.n_pending), "m9", "it is pending (still listed)");
	lbr_plan_release(&p);
}

static void test_weights(void)
{
	struct lbr_plan p;

	reset();
	declare("10.0.0.1", 80, 5);
	declare("10.0.0.2", 80, 0);
	declare("10.0.0.3", 80, -1);
	declare("10.0.0.4", 80, 7);
	observe("m1", "10.0.0.1", 80, 1, NULL);
	observe("m2", "10.0.0.2", 80, 3, NULL);
	observe("m3", "10.0.0.3", 80, 9, NULL);
	observe("m4", "10.0.0.4", 80, 7, "canary");
	protect("name:can*");
	plan(&p, NULL);
	tap_is_int(p.n_reweight, 2, "two declared weights differ");
	tap_ok(p.n_reweight == 2 && p.reweight[0].from == 1 && p.reweight[0].to == 5,
	       "10.0.0.1:80 weight 1 -> 5");
	tap_ok(p.n_reweight == 2 && p.reweight[1].from == 3 && p.reweight[1].to == 0,
	       "10.0.0.2:80 weight 3 -> 0 (zero is a weight, not 'unset')");
	tap_is_str(keep_ids(p.protect, p.n_protect), "m4",
		   "a protected declared member is listed as protected");
	lbr_plan_release(&p);

	/* Protection wins over a declared weight. */
	reset();
	declare("10.0.0.4", 80, 7);
	observe("m4", "10.0.0.4", 80, 2, "canary");
	protect("10.0.0.0/24");
	plan(&p, NULL);
	tap_is_int(p.n_reweight, 0, "a protected member is never re-weighted");
	tap_is_int(p.n_weight_ignored, 1, "the ignored declared weight is counted");
	lbr_plan_release(&p);
}

static void test_protect_prune(void)
{
	struct lbr_plan p;
	struct lbr_state_pool rec;
	char *owned[] = { "10.0.0.8:80", "[2001:db8::8]:80" };

	reset();
	declare("10.0.0.1", 80, -1);
	observe("m1", "10.0.0.1", 80, 1, NULL);
	observe("as1", "10.0.0.50", 80, 1, "as-web-1");
	observe("ops", "10.8.3.3", 80, 1, NULL);
	observe("m8", "10.0.0.8", 80, 1, NULL);
	observe("v6", "2001:db8::8", 80, 1, NULL);
	protect("name:as-*");
	protect("10.8.0.0/16");
	plan(&p, NULL);
	tap_is_str(keep_ids(p.protect, p.n_protect), "as1,ops", "name and CIDR selectors protect");
	tap_is_str(ids_of(p.remove, p.n_remove), "m8,v6", "prune = all removes the rest");
	tap_is_int(lbr_plan_base(&p, obs->n_members), 3, "max_delete base leaves protected out");
	lbr_plan_release(&p);

	pool.prune = LBR_PRUNE_OWNED;
	plan(&p, NULL);
	tap_is_int(p.n_remove, 0, "prune = owned without a record removes nothing");
	tap_is_int(p.n_unmanaged, 2, "undeclared members are unmanaged");
	tap_ok(p.n_unmanaged && strstr(p.unmanaged[0].why, "no ownership record") != NULL,
	       "and the reason says there is no record yet");
	lbr_plan_release(&p);

	memset(&rec, 0, sizeof(rec));
	rec.owned = owned;
	rec.n_owned = 2;
	rec.has_owned = 1;
	plan(&p, &rec);
	tap_is_str(ids_of(p.remove, p.n_remove), "m8,v6",
		   "prune = owned removes owned members only (IPv6 key too)");
	tap_is_int(p.n_unmanaged, 0, "nothing else undeclared is left");
	tap_is_int(lbr_plan_base(&p, obs->n_members), 3, "base: 5 observed - 2 protected");
	lbr_plan_release(&p);

	rec.n_owned = 1;
	plan(&p, &rec);
	tap_is_str(ids_of(p.remove, p.n_remove), "m8", "an unowned undeclared member is kept");
	tap_is_str(keep_ids(p.unmanaged, p.n_unmanaged), "v6", "and reported as unmanaged");
	lbr_plan_release(&p);

	pool.prune = LBR_PRUNE_NONE;
	plan(&p, &rec);
	tap_is_int(p.n_remove, 0, "prune = none removes nothing");
	tap_is_int(p.n_unmanaged, 2, "everything undeclared is unmanaged");
	lbr_plan_release(&p);
}

static void test_rules(void)
{
	struct lbr_plan p;
	const char *both[] = { "m8", "m9" }, *keepone[] = { "m1", "m8" }, *only9[] = { "m9" };

	/* Custom policy with only undeclared members: never emptied. */
	reset();
	declare("10.0.0.1", 80, -1);
	observe("m1", "10.0.0.1", 80, 1, NULL);
	observe("m8", "10.0.0.8", 80, 1, NULL);
	observe("m9", "10.0.0.9", 80, 1, NULL);
	rule("pol-a", 1, both, 2);
	plan(&p, NULL);
	tap_is_int(p.n_remove, 0, "removals that would empty a Custom policy are blocked");
	tap_is_int(p.n_blocked, 2, "both members are blocked");
	tap_ok(p.n_blocked && strstr(p.blocked[0].reason, "pol-a") != NULL,
	       "the reason names the policy");
	tap_is_int(p.n_updates, 0, "and the policy is left unchanged");
	lbr_plan_release(&p);

	/* A policy that keeps a declared member is updated to it. */
	reset();
	declare("10.0.0.1", 80, -1);
	observe("m1", "10.0.0.1", 80, 1, NULL);
	observe("m8", "10.0.0.8", 80, 1, NULL);
	rule("pol-b", 1, keepone, 2);
	plan(&p, NULL);
	tap_is_str(ids_of(p.remove, p.n_remove), "m8", "m8 is removed");
	tap_is_int(p.n_updates, 1, "the policy is updated first");
	tap_ok(p.n_updates == 1 && p.updates[0].n_keep == 1 && !strcmp(p.updates[0].keep[0], "m1"),
	       "to exactly the member it keeps");
	lbr_plan_release(&p);

	/* Fixpoint: blocking m9 via pol-c keeps pol-d (m8 + m9) from losing
	 * m9; pol-d then only loses m8 and is updated to m9. */
	reset();
	declare("10.0.0.1", 80, -1);
	observe("m1", "10.0.0.1", 80, 1, NULL);
	observe("m8", "10.0.0.8", 80, 1, NULL);
	observe("m9", "10.0.0.9", 80, 1, NULL);
	rule("pol-c", 1, only9, 1);
	rule("pol-d", 1, both, 2);
	plan(&p, NULL);
	tap_is_str(ids_of(p.remove, p.n_remove), "m8",
		   "fixpoint: m9 blocked by pol-c, m8 still removed");
	tap_ok(p.n_updates == 1 && p.updates[0].n_keep == 1 && !strcmp(p.updates[0].keep[0], "m9"),
	       "fixpoint: pol-d keeps m9");
	lbr_plan_release(&p);

	/* A non-Custom rule may be emptied. */
	reset();
	declare("10.0.0.1", 80, -1);
	observe("m1", "10.0.0.1", 80, 1, NULL);
	observe("m9", "10.0.0.9", 80, 1, NULL);
	rule("pol-e", 0, only9, 1);
	plan(&p, NULL);
	tap_ok(p.n_remove == 1 && p.n_updates == 1 && p.updates[0].n_keep == 0,
	       "a rule that may be empty is updated to nothing");
	lbr_plan_release(&p);
}

static void test_guard(void)
{
	struct lbr_plan p;
	struct lbr_guard_input g;
	char msg[256];
	int i;
	char id[8], addr[32];

	reset();
	declare("10.0.0.1", 80, -1);
	observe("m1", "10.0.0.1", 80, 1, NULL);
	for (i = 2; i <= 4; i++) {
		snprintf(id, sizeof(id), "m%d", i);
		snprintf(addr, sizeof(addr), "10.0.0.%d", i);
		observe(id, addr, 80, 1, NULL);
	}
	plan(&p, NULL);
	memset(&g, 0, sizeof(g));
	g.max_delete = 50;
	g.max_delete_percent = 1;
	g.max_create = -1;
	g.base = lbr_plan_base(&p, obs->n_members);
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 1,
		   "3 of 4 is more than 50%%: refused");
	tap_ok(strstr(msg, "would remove 3 of 4") && strstr(msg, "max_delete = 50%") &&
		       strstr(msg, "--force"),
	       "the refusal says what, the limit and how to override");
	g.force = 1;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 0, "--force overrides max_delete");
	g.force = 0;
	g.max_delete = 3;
	g.max_delete_percent = 0;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 0, "max_delete = 3 allows 3");
	g.removed_before = 1;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 1,
		   "removals of earlier rounds count against the pass's budget");
	lbr_plan_release(&p);

	/* Protected and unmanaged members are out of the base. */
	reset();
	declare("10.0.0.1", 80, -1);
	observe("m1", "10.0.0.1", 80, 1, NULL);
	observe("m2", "10.0.0.2", 80, 1, NULL);
	observe("as1", "10.0.0.3", 80, 1, "as-1");
	observe("as2", "10.0.0.4", 80, 1, "as-2");
	protect("name:as-*");
	plan(&p, NULL);
	g.max_delete = 50;
	g.max_delete_percent = 1;
	g.removed_before = 0;
	g.base = lbr_plan_base(&p, obs->n_members);
	tap_is_int(g.base, 2, "base is 2 (two protected members left out)");
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 0,
		   "removing 1 of 2 managed is within 50%%");
	lbr_plan_release(&p);

	/* max_create */
	reset();
	pool.create = 1;
	declare("10.0.0.1", 80, -1);
	declare("10.0.0.2", 80, -1);
	declare("10.0.0.3", 80, -1);
	plan(&p, NULL);
	memset(&g, 0, sizeof(g));
	g.max_delete = 50;
	g.max_delete_percent = 1;
	g.max_create = 2;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 1,
		   "3 creations refused by max_create = 2");
	tap_ok(strstr(msg, "max_create = 2") != NULL, "the refusal names max_create");
	g.force = 1;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 1,
		   "--force does not lift max_create");
	g.max_create = -1;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 0, "unlimited by default");

	/* An empty first listing of a pool recorded with members (SPEC §5:
	 * an empty observation never leads to action). */
	g.force = 0;
	g.first_observed = 0;
	g.recorded = 3;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 1,
		   "empty listing, 3 recorded: the 3 creations are refused");
	tap_is_str(msg,
		   "the listing is empty but the last recorded state has 3 members: an empty "
		   "listing is not acted on; use --force to override",
		   "the refusal says why and how to override");
	g.force = 1;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 0, "--force lifts it");
	g.force = 0;
	g.recorded = 0;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 0,
		   "empty listing and nothing recorded (a new pool): created");
	g.recorded = 3;
	g.first_observed = 1;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 0,
		   "a listing that was not empty at the first plan: created");
	lbr_plan_release(&p);
	reset();
	declare("10.0.0.1", 80, -1);
	plan(&p, NULL);
	g.first_observed = 0;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 0,
		   "empty listing with nothing to do: not refused");
	lbr_plan_release(&p);
}

static void test_created_pending(void)
{
	struct lbr_plan p;
	struct lbr_plan_input in;
	struct lbr_guard_input g;
	const char *made[] = { "10.0.0.2:80" };
	char msg[256];

	/* A member created earlier in the pass that the cloud does not list
	 * yet is neither created again nor counted twice by max_create. */
	reset();
	pool.create = 1;
	pool.max_create = 1;
	declare("10.0.0.1", 80, -1);
	declare("10.0.0.2", 80, -1);
	observe("m1", "10.0.0.1", 80, 1, NULL);
	memset(&in, 0, sizeof(in));
	in.pool = &pool;
	in.obs = obs;
	in.created_keys = made;
	in.n_created_keys = 1;
	tap_is_int(lbr_plan_pool(&in, &p), 0, "plan with an earlier creation");
	tap_is_int(p.n_create, 0, "a member created earlier is not created again");
	tap_is_int(p.n_create_pending, 1, "it is pending until a listing shows it");
	memset(&g, 0, sizeof(g));
	g.max_delete = 50;
	g.max_delete_percent = 1;
	g.max_create = 1;
	g.created_before = 1;
	tap_is_int(lbr_guard_check(&g, &p, msg, sizeof(msg)), 0,
		   "max_create = 1 after one creation: not refused (no double count)");
	lbr_plan_release(&p);
}

/* The address helpers' fast paths give what inet_pton/inet_ntop and
 * snprintf gave, for canonical and odd inputs alike. */
static void test_addr_helpers(void)
{
	static const char *const in[] = {
		"10.0.0.1",
		"0.0.0.0",
		"255.255.255.255",
		"1.2.3.4",
		"192.168.100.200",
		"010.0.0.1",
		"10.00.0.1",
		"10.0.0.01",
		"256.0.0.1",
		"1.2.3",
		"1.2.3.4.5",
		"1.2.3.4 ",
		" 1.2.3.4",
		"1..2.3",
		"1.2.3.",
		".1.2.3",
		"1234.1.1.1",
		"a.b.c.d",
		"",
		"::1",
		"2001:db8::5",
		"2001:DB8:0:0::5",
		"::ffff:10.0.0.1",
		"10.0.0.1:80",
		"0x0a.0.0.1",
		"1.2.3.4\n",
		"99.99.99.99",
		"100.100.100.1000",
	};
	unsigned i, bad = 0, seed = 7;
	char got[LBR_ADDR_MAX], want[LBR_ADDR_MAX], a[80], b[80];

	for (i = 0; i < sizeof(in) / sizeof(in[0]) + 20000; i++) {
		char rnd[24];
		const char *s = in[i % (sizeof(in) / sizeof(in[0]))];
		unsigned char buf[16];
		int rg, rw = -1;

		if (i >= sizeof(in) / sizeof(in[0])) {
			/* Random dotted strings: digits, dots, a stray letter. */
			size_t k, n = 1 + (seed = seed * 1103515245u + 12345u) % 18;

			for (k = 0; k < n; k++) {
				unsigned r = (seed = seed * 1103515245u + 12345u) >> 16;

				rnd[k] = r % 13 < 3     ? '.'
					 : r % 13 == 12 ? 'x'
							: (char)('0' + r % 10);
			}
			rnd[n] = '\0';
			s = rnd;
		}
		memset(got, 0, sizeof(got));
		rg = lbr_addr_canon(s, got);
		if (inet_pton(AF_INET, s, buf) == 1)
			rw = inet_ntop(AF_INET, buf, want, sizeof(want)) ? 0 : -1;
		else if (inet_pton(AF_INET6, s, buf) == 1)
			rw = inet_ntop(AF_INET6, buf, want, sizeof(want)) ? 0 : -1;
		if ((rg == 0) != (rw == 0) || (rg == 0 && strcmp(got, want))) {
			if (bad++ < 3)
				printf("# canon('%s'): got %d '%s', inet_ntop %d '%s'\n", s, rg,
				       rg == 0 ? got : "", rw, rw == 0 ? want : "");
		}
	}
	tap_ok(bad == 0, "lbr_addr_canon agrees with inet_pton/inet_ntop on %u inputs", i);
	bad = 0;
	for (i = 0; i < 4000; i++) {
		const char *addr = i % 3 == 0 ? "2001:db8::5" : i % 3 == 1 ? "10.0.0.1" : "";
		unsigned port = i % 2 ? i * 17 % 65536 : i % 10;
		size_t len = 1 + i % 26;

		memset(a, 'X', sizeof(a));
		memset(b, 'X', sizeof(b));
		lbr_addrport_fmt(addr, port, a, len);
		if (strchr(addr, ':'))
			snprintf(b, len, "[%s]:%u", addr, port);
		else
			snprintf(b, len, "%s:%u", addr, port);
		if (memcmp(a, b, sizeof(a)))
			bad++;
	}
	tap_ok(bad == 0, "lbr_addrport_fmt writes what snprintf did, truncation included");
}

/* The secret scan (one pass, compare only where a secret may start) finds
 * exactly what strstr() finds, for every field a listing carries and in
 * lbr_scrub(): random texts over a small alphabet, so that near misses
 * and overlaps are frequent. */
static void test_secret_scan(void)
{
	static const char *sec[] = { "xyz", "abcab", "zzzzzz", "b3x" };
	struct lbr_cfg_kv kv[4];
	struct lbr_cfg_provider prov;
	struct lbr_cfg cfg;
	const char alpha[] = "abcxyz3";
	unsigned seed = 7, i, k, bad = 0, scrub_bad = 0, hits = 0;

	memset(&cfg, 0, sizeof(cfg));
	memset(&prov, 0, sizeof(prov));
	for (i = 0; i < 4; i++)
		kv[i] = (struct lbr_cfg_kv){ "k", (char *)sec[i], 1, 1 };
	prov.kv = kv;
	prov.n_kv = 4;
	cfg.providers = &prov;
	cfg.n_providers = 1;
	tap_is_int(lbr_host_set_secrets(&cfg), 0, "secrets set");
	for (i = 0; i < 20000; i++) {
		char text[40], buf[64];
		unsigned len = (seed = seed * 1103515245u + 12345u) >> 16 & 31;
		int want = 0, got;
		struct lbr_obs *o = lbr_obs_new();
		struct lbr_member_info m = { "m-1", "10.0.0.1", 80, 1, 1, NULL, NULL, NULL };

		for (k = 0; k < len; k++)
			text[k] = alpha[((seed = seed * 1103515245u + 12345u) >> 16) % 7];
		text[len] = '\0';
		for (k = 0; k < 4; k++)
			want |= strstr(text, sec[k]) != NULL;
		hits += want;
		/* each field in turn */
		m.name = text;
		got = lbr_host_table()->obs_add_member(o, &m) != 0;
		bad += got != want;
		m.name = NULL;
		m.type = text;
		got = lbr_host_table()->obs_add_member(o, &m) != 0;
		bad += got != want;
		m.type = NULL;
		lbr_obs_free(o);
		snprintf(buf, sizeof(buf), "%s", text);
		lbr_scrub(buf, sizeof(buf));
		got = strcmp(buf, text) != 0;
		scrub_bad += got != want || (want && !strstr(buf, "[redacted]"));
	}
	tap_ok(hits > 1000 && hits < 18000, "the texts hold a secret %u times in 20000", hits);
	tap_is_int(bad, 0, "a listed field is refused exactly when strstr() finds a secret in it");
	tap_is_int(scrub_bad, 0,
		   "lbr_scrub() redacts exactly the texts strstr() finds a secret in");
	lbr_host_clear_secrets();
	{
		char buf[16] = "xyz";

		lbr_scrub(buf, sizeof(buf));
		tap_is_str(buf, "xyz", "without secrets nothing is redacted");
	}
}

int main(void)
{
	test_secret_scan();
	test_diff();
	test_removed_before();
	test_weights();
	test_protect_prune();
	test_rules();
	test_guard();
	test_created_pending();
	test_addr_helpers();
	lbr_obs_free(obs);
	return tap_done();
}
