/*
 * The fake clouds' world: Huawei accounts and pools with members, UCloud
 * accounts and VServers with backends and policies, plus the control API
 * that creates and inspects them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakecloud.h"

struct fc_world fc_w;

static pthread_mutex_t world_mu = PTHREAD_MUTEX_INITIALIZER;

static struct fc_settings settings = {
	.release_blocked_retcode = 4110,
	.not_found_retcode = 4093,
	.lockout_threshold = 5,
	.lockout_s = 300,
	.rl_op = "any",
	.hold_after = -1,
};

void fc_world_lock(void)
{
	pthread_mutex_lock(&world_mu);
}

void fc_world_unlock(void)
{
	pthread_mutex_unlock(&world_mu);
}

struct fc_settings *fc_settings(void)
{
	return &settings;
}

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Integer member 'key' of 'o'; 'def' when absent. -1 'bad' on wrong type. */
static int jint(json_object *o, const char *key, int def, bool *bad)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return def;
	if (!json_object_is_type(v, json_type_int)) {
		if (bad)
			*bad = true;
		return def;
	}
	return json_object_get_int(v);
}

/* Array member 'key' of 'o', NULL when absent or not an array. */
static json_object *jarr(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

bool fc_hw_member_listed(const struct fc_hw_member *m, int64_t now)
{
	return m->gone_at_ms < 0 || now < m->gone_at_ms + settings.eventual_ms;
}

bool fc_uc_backend_listed(const struct fc_uc_backend *b, int64_t now)
{
	return b->gone_at_ms < 0 || now < b->gone_at_ms + settings.eventual_ms;
}

/* ---------------------------------------------------------------- hw */

static void member_release(struct fc_hw_member *m)
{
	free(m->name);
	free(m->address);
	free(m->subnet_id);
	free(m->operating_status);
	free(m->member_type);
	free(m->instance_id);
}

struct fc_hw_pool *fc_hw_pool_find(const char *pool_id)
{
	size_t i;

	for (i = 0; i < fc_w.npools; i++)
		if (strcmp(fc_w.pools[i].pool_id, pool_id) == 0)
			return &fc_w.pools[i];
	return NULL;
}

/* Index of the first member whose id is >= 'id' (binary search). */
static size_t member_lower_bound(const struct fc_hw_pool *p, const char *id)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(p->m[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct fc_hw_member *fc_hw_member_find(struct fc_hw_pool *p, const char *id)
{
	size_t i = member_lower_bound(p, id);

	if (i < p->n && strcmp(p->m[i].id, id) == 0)
		return &p->m[i];
	return NULL;
}

/* While a whole pool is loaded from the control API or --state, members
 * are appended unsorted and checked once at the end (sorting), instead of
 * a sorted insert and a linear duplicate scan per member: 100,000-member
 * pools load in well under a second. */
static bool bulk_loading;

struct fc_hw_member *fc_hw_member_add(struct fc_hw_pool *p, const char *id, const char *name,
				      const char *address, int port, const char *subnet_id,
				      int weight)
{
	struct fc_hw_member m = {
		.port = port, .weight = weight, .admin_state_up = true, .gone_at_ms = -1
	};
	char gen[40];
	size_t i;

	if (!id) {
		/* Retry on the (astronomically unlikely) collision. */
		do
			fc_uuid(gen);
		while (!bulk_loading && fc_hw_member_find(p, gen));
		id = gen;
	}
	snprintf(m.id, sizeof(m.id), "%s", id);
	m.name = xstrdup(name);
	m.address = xstrdup(address);
	m.subnet_id = xstrdup(subnet_id);
	m.operating_status = xstrdup("ONLINE");
	if (!m.name || !m.address || !m.subnet_id || !m.operating_status ||
	    fc_hw_member_set_kind(&m, NULL, NULL) < 0)
		goto fail;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct fc_hw_member *nm = realloc(p->m, cap * sizeof(*nm));

		if (!nm)
			goto fail;
		p->m = nm;
		p->cap = cap;
	}
	i = bulk_loading ? p->n : member_lower_bound(p, m.id);
	memmove(&p->m[i + 1], &p->m[i], (p->n - i) * sizeof(*p->m));
	p->m[i] = m;
	p->n++;
	return &p->m[i];
fail:
	member_release(&m);
	return NULL;
}

int fc_hw_member_set_kind(struct fc_hw_member *m, const char *type, const char *instance_id)
{
	char gen[40];
	unsigned long h = 5381;
	const char *a;
	char *nt, *ni;

	if (!type)
		type = m->subnet_id[0] ? "instance" : "ip";
	if (!instance_id) {
		instance_id = "";
		if (strcmp(type, "instance") == 0) {
			/* An ECS-looking UUID derived from the address, so
			 * that the same world gives the same ids. */
			for (a = m->address; *a; a++)
				h = h * 33 + (unsigned char)*a;
			snprintf(gen, sizeof(gen), "%08lx-0000-4000-8000-%012lx", h & 0xffffffffUL,
				 (h * 2654435761UL) & 0xffffffffffffUL);
			instance_id = gen;
		}
	}
	nt = strdup(type);
	ni = strdup(instance_id);
	if (!nt || !ni) {
		free(nt);
		free(ni);
		return -1;
	}
	free(m->member_type);
	free(m->instance_id);
	m->member_type = nt;
	m->instance_id = ni;
	return 0;
}

static void member_drop(struct fc_hw_pool *p, size_t i)
{
	member_release(&p->m[i]);
	memmove(&p->m[i], &p->m[i + 1], (p->n - i - 1) * sizeof(*p->m));
	p->n--;
}

void fc_hw_member_remove(struct fc_hw_pool *p, struct fc_hw_member *m)
{
	if (settings.eventual_ms > 0) {
		m->gone_at_ms = fc_now_ms();
		return;
	}
	member_drop(p, (size_t)(m - p->m));
}

void fc_hw_pool_purge(struct fc_hw_pool *p, int64_t now)
{
	size_t i = 0;

	while (i < p->n) {
		if (p->m[i].gone_at_ms >= 0 && !fc_hw_member_listed(&p->m[i], now))
			member_drop(p, i);
		else
			i++;
	}
}

json_object *fc_hw_member_json(const struct fc_hw_pool *p, const struct fc_hw_member *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(m->id));
	json_object_object_add(o, "name", json_object_new_string(m->name));
	json_object_object_add(o, "address", json_object_new_string(m->address));
	json_object_object_add(o, "protocol_port", json_object_new_int(m->port));
	json_object_object_add(o, "subnet_id", json_object_new_string(m->subnet_id));
	json_object_object_add(o, "weight", json_object_new_int(m->weight));
	json_object_object_add(o, "admin_state_up", json_object_new_boolean(m->admin_state_up));
	json_object_object_add(o, "operating_status", json_object_new_string(m->operating_status));
	json_object_object_add(o, "tenant_id", json_object_new_string(p->project_id));
	json_object_object_add(o, "project_id", json_object_new_string(p->project_id));
	return o;
}

static void pool_release(struct fc_hw_pool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		member_release(&p->m[i]);
	free(p->m);
	free(p->project_id);
	free(p->pool_id);
	free(p->lb_id);
	free(p->listener_id);
	free(p->name);
	memset(p, 0, sizeof(*p));
}

static bool valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Validate and add one control-API member object; 0 or -1 with 'err'. */
static int control_member_add(struct fc_hw_pool *p, json_object *jm, struct fc_hw_member **out,
			      char *err, size_t errlen)
{
	const char *addr = jstr(jm, "address"), *id = jstr(jm, "id");
	const char *ops = jstr(jm, "operating_status");
	const char *subnet = jstr(jm, "subnet_id");
	const char *type = jstr(jm, "member_type");
	json_object *v;
	bool bad = false;
	int port = jint(jm, "protocol_port", -1, &bad);
	int weight = jint(jm, "weight", 1, &bad);
	struct fc_hw_member *m;
	size_t i;

	if (!json_object_is_type(jm, json_type_object) || !addr || !valid_ip(addr) || bad ||
	    port < 1 || port > 65535 || weight < 0 || weight > 100) {
		snprintf(err, errlen,
			 "member needs a valid address, "
			 "protocol_port 1..65535 and weight 0..100");
		return -1;
	}
	if (!subnet)
		subnet = jstr(jm, "subnet_cidr_id");
	if (type && strcmp(type, "ip") && strcmp(type, "instance")) {
		snprintf(err, errlen, "member_type must be ip or instance");
		return -1;
	}
	if (!bulk_loading && id && fc_hw_member_find(p, id)) {
		snprintf(err, errlen, "member id '%s' already exists", id);
		return -1;
	}
	for (i = 0; !bulk_loading && i < p->n; i++) {
		if (p->m[i].gone_at_ms < 0 && p->m[i].port == port &&
		    strcmp(p->m[i].address, addr) == 0) {
			snprintf(err, errlen, "duplicate member %s:%d", addr, port);
			return -1;
		}
	}
	m = fc_hw_member_add(p, id, jstr(jm, "name"), addr, port, subnet, weight);
	if (!m || ((type || jstr(jm, "instance_id")) &&
		   fc_hw_member_set_kind(m, type, jstr(jm, "instance_id")) < 0)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (json_object_object_get_ex(jm, "admin_state_up", &v))
		m->admin_state_up = json_object_get_boolean(v);
	if (ops) {
		free(m->operating_status);
		m->operating_status = xstrdup(ops);
	}
	if (out)
		*out = m;
	return 0;
}

static int cmp_member_id(const void *a, const void *b)
{
	return strcmp(((const struct fc_hw_member *)a)->id, ((const struct fc_hw_member *)b)->id);
}

static int cmp_member_addr(const void *a, const void *b)
{
	const struct fc_hw_member *x = *(const struct fc_hw_member *const *)a;
	const struct fc_hw_member *y = *(const struct fc_hw_member *const *)b;
	int c = strcmp(x->address, y->address);

	return c ? c : (x->port > y->port) - (x->port < y->port);
}

/* After a bulk load: sort by id, refuse duplicate ids and duplicate
 * address:port pairs. */
static int bulk_check(struct fc_hw_pool *p, char *err, size_t errlen)
{
	struct fc_hw_member **by_addr;
	size_t i;
	int r = 0;

	if (p->n > 1)
		qsort(p->m, p->n, sizeof(*p->m), cmp_member_id);
	for (i = 1; i < p->n; i++)
		if (strcmp(p->m[i - 1].id, p->m[i].id) == 0) {
			snprintf(err, errlen, "member id '%s' already exists", p->m[i].id);
			return -1;
		}
	by_addr = malloc((p->n ? p->n : 1) * sizeof(*by_addr));
	if (!by_addr) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < p->n; i++)
		by_addr[i] = &p->m[i];
	if (p->n > 1)
		qsort(by_addr, p->n, sizeof(*by_addr), cmp_member_addr);
	for (i = 1; i < p->n; i++)
		if (cmp_member_addr(&by_addr[i - 1], &by_addr[i]) == 0) {
			snprintf(err, errlen, "duplicate member %s:%d", by_addr[i]->address,
				 by_addr[i]->port);
			r = -1;
			break;
		}
	free(by_addr);
	return r;
}

/* A member in the control API's shape: the v2 fields plus the v3 ones. */
static json_object *member_dump(const struct fc_hw_pool *p, const struct fc_hw_member *m)
{
	json_object *o = fc_hw_member_json(p, m);

	json_object_object_add(o, "member_type", json_object_new_string(m->member_type));
	json_object_object_add(o, "instance_id", json_object_new_string(m->instance_id));
	return o;
}

/* Control-API change of a member's attributes (PATCH): only the keys
 * sent change.  0 or -1 with 'err'. */
static int member_patch(struct fc_hw_member *m, json_object *jm, char *err, size_t errlen)
{
	static const char *const strs[] = { "name", "operating_status", "member_type",
					    "instance_id" };
	json_object *v;
	bool bad = false;
	int weight = jint(jm, "weight", m->weight, &bad);
	const char *type = jstr(jm, "member_type");
	size_t i;

	if (!json_object_is_type(jm, json_type_object) || bad || weight < 0 || weight > 100 ||
	    (type && strcmp(type, "ip") && strcmp(type, "instance"))) {
		snprintf(err, errlen,
			 "patch needs an object with weight "
			 "0..100 and member_type ip or instance");
		return -1;
	}
	json_object_object_foreach(jm, key, val)
	{
		(void)val;
		for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
			if (strcmp(key, strs[i]) == 0)
				break;
		if (i == sizeof(strs) / sizeof(strs[0]) && strcmp(key, "weight") &&
		    strcmp(key, "admin_state_up")) {
			snprintf(err, errlen, "unknown member attribute '%s'", key);
			return -1;
		}
		if (i < sizeof(strs) / sizeof(strs[0]) &&
		    !json_object_is_type(val, json_type_string)) {
			snprintf(err, errlen, "%s must be a string", key);
			return -1;
		}
	}
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const char *nv = jstr(jm, strs[i]);
		char **slot = i == 0   ? &m->name
			      : i == 1 ? &m->operating_status
			      : i == 2 ? &m->member_type
				       : &m->instance_id;
		char *c;

		if (!nv)
			continue;
		c = strdup(nv);
		if (!c) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*slot);
		*slot = c;
	}
	/* A type changed alone gets a matching instance id. */
	if (type && !jstr(jm, "instance_id") &&
	    fc_hw_member_set_kind(m, type, strcmp(type, "ip") ? NULL : "") < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->weight = weight;
	if (json_object_object_get_ex(jm, "admin_state_up", &v))
		m->admin_state_up = json_object_get_boolean(v);
	return 0;
}

static json_object *pool_dump(const struct fc_hw_pool *p)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t i;

	json_object_object_add(o, "project_id", json_object_new_string(p->project_id));
	json_object_object_add(o, "pool_id", json_object_new_string(p->pool_id));
	json_object_object_add(o, "loadbalancer_id", json_object_new_string(p->lb_id));
	json_object_object_add(o, "listener_id", json_object_new_string(p->listener_id));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "api", json_object_new_string(p->v3 ? "v3" : "v2"));
	/* The dump shows the truth: members removed but still listed
	 * because of eventual_ms are already gone here. */
	for (i = 0; i < p->n; i++)
		if (p->m[i].gone_at_ms < 0)
			json_object_array_add(a, member_dump(p, &p->m[i]));
	json_object_object_add(o, "members", a);
	return o;
}

/* Create or replace a pool from its control-API object. */
static int pool_put(json_object *jp, struct fc_hw_pool **out, char *err, size_t errlen)
{
	const char *proj = jstr(jp, "project_id"), *pid = jstr(jp, "pool_id");
	const char *lb = jstr(jp, "loadbalancer_id");
	const char *lis = jstr(jp, "listener_id");
	struct fc_hw_pool np = { 0 }, *slot;
	json_object *ms;
	char gen_pool[40], gen_lb[40], gen_lis[40];
	size_t i;

	if (!proj) {
		snprintf(err, errlen, "pool needs project_id");
		return -1;
	}
	if (!pid) {
		fc_uuid(gen_pool);
		pid = gen_pool;
	}
	if (!lb) {
		fc_uuid(gen_lb);
		lb = gen_lb;
	}
	if (!lis) {
		fc_uuid(gen_lis);
		lis = gen_lis;
	}
	np.project_id = xstrdup(proj);
	np.pool_id = xstrdup(pid);
	np.lb_id = xstrdup(lb);
	np.listener_id = xstrdup(lis);
	np.name = xstrdup(jstr(jp, "name"));
	if (jstr(jp, "api") && strcmp(jstr(jp, "api"), "v2") != 0) {
		if (strcmp(jstr(jp, "api"), "v3") != 0) {
			snprintf(err, errlen, "api must be v2 or v3");
			goto fail;
		}
		np.v3 = true;
	}
	if (json_object_object_get_ex(jp, "members", &ms)) {
		if (!json_object_is_type(ms, json_type_array)) {
			snprintf(err, errlen, "members must be an array");
			goto fail;
		}
		bulk_loading = true;
		for (i = 0; i < json_object_array_length(ms); i++)
			if (control_member_add(&np, json_object_array_get_idx(ms, i), NULL, err,
					       errlen) < 0) {
				bulk_loading = false;
				goto fail;
			}
		bulk_loading = false;
		if (bulk_check(&np, err, errlen) < 0)
			goto fail;
	}
	slot = fc_hw_pool_find(pid);
	if (slot) {
		pool_release(slot);
	} else {
		struct fc_hw_pool *nps = realloc(fc_w.pools, (fc_w.npools + 1) * sizeof(*nps));

		if (!nps) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		fc_w.pools = nps;
		slot = &fc_w.pools[fc_w.npools++];
	}
	*slot = np;
	*out = slot;
	return 0;
fail:
	pool_release(&np);
	return -1;
}

static int hw_account_put(json_object *ja, char *err, size_t errlen)
{
	const char *ak = jstr(ja, "ak"), *sk = jstr(ja, "sk");
	const char *tok = jstr(ja, "token"), *proj = jstr(ja, "project_id");
	struct fc_hw_account a = { 0 }, *slot = NULL;
	size_t i;

	if ((!ak || !sk) && !tok) {
		snprintf(err, errlen, "account needs ak+sk or token");
		return -1;
	}
	if (ak && !sk) {
		snprintf(err, errlen, "account with ak needs sk");
		return -1;
	}
	a.ak = ak ? strdup(ak) : NULL;
	a.sk = sk ? strdup(sk) : NULL;
	a.token = tok ? strdup(tok) : NULL;
	a.project_id = xstrdup(proj);
	/* Re-registering an AK replaces it (and lifts a lockout). */
	for (i = 0; ak && i < fc_w.nhwa; i++)
		if (fc_w.hwa[i].ak && strcmp(fc_w.hwa[i].ak, ak) == 0)
			slot = &fc_w.hwa[i];
	if (slot) {
		free(slot->ak);
		free(slot->sk);
		free(slot->token);
		free(slot->project_id);
	} else {
		struct fc_hw_account *na = realloc(fc_w.hwa, (fc_w.nhwa + 1) * sizeof(*na));

		if (!na) {
			snprintf(err, errlen, "out of memory");
			free(a.ak);
			free(a.sk);
			free(a.token);
			free(a.project_id);
			return -1;
		}
		fc_w.hwa = na;
		slot = &fc_w.hwa[fc_w.nhwa++];
	}
	*slot = a;
	return 0;
}

/* ---------------------------------------------------------------- uc */

static void backend_release(struct fc_uc_backend *b)
{
	free(b->ip);
	free(b->resource_id);
	free(b->resource_type);
	free(b->resource_name);
	free(b->subnet_id);
	free(b->vpc_id);
}

static void policy_release(struct fc_uc_policy *p)
{
	size_t i;

	for (i = 0; i < p->nb; i++)
		free(p->bids[i]);
	free(p->bids);
	free(p->id);
	free(p->type);
	free(p->match);
	free(p->mode);
}

static void vserver_release(struct fc_uc_vserver *v)
{
	size_t i;

	for (i = 0; i < v->nb; i++)
		backend_release(&v->b[i]);
	for (i = 0; i < v->np; i++)
		policy_release(&v->p[i]);
	free(v->b);
	free(v->p);
	free(v->project_id);
	free(v->region);
	free(v->ulb_id);
	free(v->vserver_id);
	free(v->protocol);
	memset(v, 0, sizeof(*v));
}

struct fc_uc_vserver *fc_uc_vserver_find(const char *vserver_id)
{
	size_t i;

	for (i = 0; i < fc_w.nvs; i++)
		if (strcmp(fc_w.vs[i].vserver_id, vserver_id) == 0)
			return &fc_w.vs[i];
	return NULL;
}

struct fc_uc_backend *fc_uc_backend_find(const char *project_id, const char *ulb_id,
					 const char *bid, struct fc_uc_vserver **vout)
{
	size_t i, j;

	for (i = 0; i < fc_w.nvs; i++) {
		struct fc_uc_vserver *v = &fc_w.vs[i];

		if (strcmp(v->ulb_id, ulb_id) != 0 ||
		    (project_id && strcmp(v->project_id, project_id) != 0))
			continue;
		for (j = 0; j < v->nb; j++) {
			if (strcmp(v->b[j].id, bid) == 0) {
				if (vout)
					*vout = v;
				return &v->b[j];
			}
		}
	}
	return NULL;
}

/* Is 'bid' used by any vserver of 'ulb_id' other than 'skip'? */
static bool ulb_bid_taken(const char *ulb_id, const char *bid, const struct fc_uc_vserver *also)
{
	size_t j;

	if (fc_uc_backend_find(NULL, ulb_id, bid, NULL))
		return true;
	/* 'also' may not be in the world yet (a vserver being built). */
	for (j = 0; also && j < also->nb; j++)
		if (strcmp(also->b[j].id, bid) == 0)
			return true;
	return false;
}

struct fc_uc_backend *fc_uc_backend_add(struct fc_uc_vserver *v, const char *id, const char *ip,
					int port, int enabled, int weight, const char *resource_id)
{
	struct fc_uc_backend b = {
		.port = port, .enabled = enabled, .weight = weight, .gone_at_ms = -1
	};
	char gen[32], rnd[9];

	if (!id) {
		do {
			fc_rand_alnum(rnd, 8);
			snprintf(gen, sizeof(gen), "backend-%s", rnd);
		} while (ulb_bid_taken(v->ulb_id, gen, v));
		id = gen;
	}
	snprintf(b.id, sizeof(b.id), "%s", id);
	b.ip = xstrdup(ip);
	if (resource_id) {
		b.resource_id = xstrdup(resource_id);
	} else {
		fc_rand_alnum(rnd, 8);
		snprintf(gen, sizeof(gen), "uhost-%s", rnd);
		b.resource_id = xstrdup(gen);
	}
	b.resource_type = xstrdup("UHost");
	b.resource_name = xstrdup(b.resource_id);
	b.subnet_id = xstrdup("subnet-fake0001");
	b.vpc_id = xstrdup("uvnet-fake0001");
	if (!b.ip || !b.resource_id || !b.resource_type || !b.resource_name || !b.subnet_id ||
	    !b.vpc_id)
		goto fail;
	if (v->nb == v->capb) {
		size_t cap = v->capb ? v->capb * 2 : 16;
		struct fc_uc_backend *nb = realloc(v->b, cap * sizeof(*nb));

		if (!nb)
			goto fail;
		v->b = nb;
		v->capb = cap;
	}
	v->b[v->nb] = b;
	return &v->b[v->nb++];
fail:
	backend_release(&b);
	return NULL;
}

static void backend_drop(struct fc_uc_vserver *v, size_t i)
{
	backend_release(&v->b[i]);
	memmove(&v->b[i], &v->b[i + 1], (v->nb - i - 1) * sizeof(*v->b));
	v->nb--;
}

void fc_uc_backend_remove(struct fc_uc_vserver *v, struct fc_uc_backend *b)
{
	if (settings.eventual_ms > 0) {
		b->gone_at_ms = fc_now_ms();
		return;
	}
	backend_drop(v, (size_t)(b - v->b));
}

void fc_uc_vserver_purge(struct fc_uc_vserver *v, int64_t now)
{
	size_t i = 0;

	while (i < v->nb) {
		if (v->b[i].gone_at_ms >= 0 && !fc_uc_backend_listed(&v->b[i], now))
			backend_drop(v, i);
		else
			i++;
	}
}

bool fc_uc_backend_in_policy(const struct fc_uc_vserver *v, const char *bid)
{
	size_t i, j;

	for (i = 0; i < v->np; i++)
		for (j = 0; j < v->p[i].nb; j++)
			if (strcmp(v->p[i].bids[j], bid) == 0)
				return true;
	return false;
}

static json_object *backend_dump(const struct fc_uc_backend *b)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "backend_id", json_object_new_string(b->id));
	json_object_object_add(o, "private_ip", json_object_new_string(b->ip));
	json_object_object_add(o, "port", json_object_new_int(b->port));
	json_object_object_add(o, "enabled", json_object_new_int(b->enabled));
	json_object_object_add(o, "weight", json_object_new_int(b->weight));
	json_object_object_add(o, "resource_id", json_object_new_string(b->resource_id));
	json_object_object_add(o, "resource_type", json_object_new_string(b->resource_type));
	json_object_object_add(o, "resource_name", json_object_new_string(b->resource_name));
	json_object_object_add(o, "vpc_id", json_object_new_string(b->vpc_id));
	json_object_object_add(o, "subnet_id", json_object_new_string(b->subnet_id));
	return o;
}

/*
 * Set the string attributes a control object names (resource_name,
 * resource_type, resource_id, vpc_id, subnet_id) and, for a PATCH,
 * weight and enabled.  0 or -1 with 'err'.
 */
static int backend_patch(struct fc_uc_backend *b, json_object *jb, bool numbers, char *err,
			 size_t errlen)
{
	static const char *const keys[] = { "resource_name", "resource_type", "resource_id",
					    "vpc_id", "subnet_id" };
	char **slots[] = { &b->resource_name, &b->resource_type, &b->resource_id, &b->vpc_id,
			   &b->subnet_id };
	bool bad = false;
	int weight = jint(jb, "weight", b->weight, &bad);
	int enabled = jint(jb, "enabled", b->enabled, &bad);
	size_t i;

	if (numbers && (!json_object_is_type(jb, json_type_object) || bad || weight < 0 ||
			weight > 100 || (enabled != 0 && enabled != 1))) {
		snprintf(err, errlen,
			 "patch needs an object with weight "
			 "0..100 and enabled 0/1");
		return -1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = jstr(jb, keys[i]);
		char *c;

		if (!v)
			continue;
		c = strdup(v);
		if (!c) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*slots[i]);
		*slots[i] = c;
	}
	if (numbers) {
		b->weight = weight;
		b->enabled = enabled;
	}
	return 0;
}

static json_object *vserver_dump(const struct fc_uc_vserver *v)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	json_object *pa = json_object_new_array();
	size_t i, j;

	json_object_object_add(o, "project_id", json_object_new_string(v->project_id));
	json_object_object_add(o, "region", json_object_new_string(v->region));
	json_object_object_add(o, "ulb_id", json_object_new_string(v->ulb_id));
	json_object_object_add(o, "vserver_id", json_object_new_string(v->vserver_id));
	json_object_object_add(o, "protocol", json_object_new_string(v->protocol));
	json_object_object_add(o, "frontend_port", json_object_new_int(v->frontend_port));
	for (i = 0; i < v->nb; i++)
		if (v->b[i].gone_at_ms < 0)
			json_object_array_add(a, backend_dump(&v->b[i]));
	json_object_object_add(o, "backends", a);
	for (i = 0; i < v->np; i++) {
		const struct fc_uc_policy *p = &v->p[i];
		json_object *po = json_object_new_object();
		json_object *ids = json_object_new_array();

		json_object_object_add(po, "policy_id", json_object_new_string(p->id));
		json_object_object_add(po, "type", json_object_new_string(p->type));
		json_object_object_add(po, "match", json_object_new_string(p->match));
		json_object_object_add(po, "domain_match_mode", json_object_new_string(p->mode));
		json_object_object_add(po, "priority", json_object_new_int(p->priority));
		for (j = 0; j < p->nb; j++)
			json_object_array_add(ids, json_object_new_string(p->bids[j]));
		json_object_object_add(po, "backend_ids", ids);
		json_object_array_add(pa, po);
	}
	json_object_object_add(o, "policies", pa);
	return o;
}

static int control_backend_add(struct fc_uc_vserver *v, json_object *jb, struct fc_uc_backend **out,
			       char *err, size_t errlen)
{
	const char *ip = jstr(jb, "private_ip"), *id = jstr(jb, "backend_id");
	bool bad = false;
	int port = jint(jb, "port", 80, &bad);
	int enabled = jint(jb, "enabled", 1, &bad);
	int weight = jint(jb, "weight", 1, &bad);
	struct fc_uc_backend *b;

	if (!json_object_is_type(jb, json_type_object) || !ip || !valid_ip(ip) || bad || port < 1 ||
	    port > 65535 || (enabled != 0 && enabled != 1) || weight < 0 || weight > 100) {
		snprintf(err, errlen,
			 "backend needs a valid private_ip, port "
			 "1..65535, enabled 0/1 and weight 0..100");
		return -1;
	}
	if (id && ulb_bid_taken(v->ulb_id, id, v)) {
		snprintf(err, errlen, "backend id '%s' already used in %s", id, v->ulb_id);
		return -1;
	}
	b = fc_uc_backend_add(v, id, ip, port, enabled, weight, jstr(jb, "resource_id"));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* A resource id given without a name is also its name. */
	if (backend_patch(b, jb, false, err, errlen) < 0)
		return -1;
	if (out)
		*out = b;
	return 0;
}

static int policy_from_json(struct fc_uc_vserver *v, json_object *jp, char *err, size_t errlen)
{
	struct fc_uc_policy p = { 0 };
	json_object *ids;
	const char *pid = jstr(jp, "policy_id"), *type = jstr(jp, "type");
	const char *match = jstr(jp, "match");
	const char *mode = jstr(jp, "domain_match_mode");
	bool bad = false;
	char gen[32], rnd[9];
	size_t i, j;

	if (!json_object_is_type(jp, json_type_object) || !match) {
		snprintf(err, errlen, "policy needs match");
		return -1;
	}
	if (!pid) {
		fc_rand_alnum(rnd, 8);
		snprintf(gen, sizeof(gen), "policy-%s", rnd);
		pid = gen;
	}
	p.id = xstrdup(pid);
	p.type = xstrdup(type ? type : "Domain");
	p.match = xstrdup(match);
	p.mode = xstrdup(mode ? mode : "Regular");
	p.priority = jint(jp, "priority", 0, &bad);
	if (json_object_object_get_ex(jp, "backend_ids", &ids)) {
		size_t n;

		if (!json_object_is_type(ids, json_type_array)) {
			snprintf(err, errlen, "backend_ids must be an array");
			goto fail;
		}
		n = json_object_array_length(ids);
		p.bids = calloc(n ? n : 1, sizeof(*p.bids));
		if (!p.bids)
			goto oom;
		for (i = 0; i < n; i++) {
			const char *bid = json_object_get_string(json_object_array_get_idx(ids, i));
			bool found = false;

			for (j = 0; j < v->nb; j++)
				if (strcmp(v->b[j].id, bid) == 0)
					found = true;
			if (!found) {
				snprintf(err, errlen,
					 "policy %s: backend '%s' "
					 "is not in the vserver",
					 pid, bid);
				goto fail;
			}
			p.bids[p.nb] = strdup(bid);
			if (!p.bids[p.nb])
				goto oom;
			p.nb++;
		}
	}
	if (bad) {
		snprintf(err, errlen, "policy priority must be an integer");
		goto fail;
	}
	if (v->np == v->capp) {
		size_t cap = v->capp ? v->capp * 2 : 4;
		struct fc_uc_policy *np = realloc(v->p, cap * sizeof(*np));

		if (!np)
			goto oom;
		v->p = np;
		v->capp = cap;
	}
	v->p[v->np++] = p;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	policy_release(&p);
	return -1;
}

static int vserver_put(json_object *jv, struct fc_uc_vserver **out, char *err, size_t errlen)
{
	const char *proj = jstr(jv, "project_id"), *ulb = jstr(jv, "ulb_id");
	const char *vsid = jstr(jv, "vserver_id"), *reg = jstr(jv, "region");
	const char *proto = jstr(jv, "protocol");
	struct fc_uc_vserver nv = { 0 }, *slot;
	json_object *arr;
	bool bad = false;
	size_t i;

	if (!proj || !ulb || !vsid) {
		snprintf(err, errlen,
			 "vserver needs project_id, ulb_id and "
			 "vserver_id");
		return -1;
	}
	nv.project_id = xstrdup(proj);
	nv.region = xstrdup(reg ? reg : "cn-bj2");
	nv.ulb_id = xstrdup(ulb);
	nv.vserver_id = xstrdup(vsid);
	nv.protocol = xstrdup(proto ? proto : "HTTP");
	nv.frontend_port = jint(jv, "frontend_port", 80, &bad);
	if (bad) {
		snprintf(err, errlen, "frontend_port must be an integer");
		goto fail;
	}
	/* Replacing a vserver frees its backend ids for reuse. */
	slot = fc_uc_vserver_find(vsid);
	if (slot) {
		free(slot->ulb_id);
		slot->ulb_id = xstrdup("");
	}
	if ((arr = jarr(jv, "backends"))) {
		for (i = 0; i < json_object_array_length(arr); i++)
			if (control_backend_add(&nv, json_object_array_get_idx(arr, i), NULL, err,
						errlen) < 0)
				goto fail_restore;
	}
	if ((arr = jarr(jv, "policies"))) {
		for (i = 0; i < json_object_array_length(arr); i++)
			if (policy_from_json(&nv, json_object_array_get_idx(arr, i), err, errlen) <
			    0)
				goto fail_restore;
	}
	if (slot) {
		vserver_release(slot);
	} else {
		struct fc_uc_vserver *nvs = realloc(fc_w.vs, (fc_w.nvs + 1) * sizeof(*nvs));

		if (!nvs) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		fc_w.vs = nvs;
		slot = &fc_w.vs[fc_w.nvs++];
	}
	*slot = nv;
	*out = slot;
	return 0;
fail_restore:
	if (slot) {
		free(slot->ulb_id);
		slot->ulb_id = xstrdup(ulb);
	}
fail:
	vserver_release(&nv);
	return -1;
}

static int uc_account_put(json_object *ja, char *err, size_t errlen)
{
	const char *pub = jstr(ja, "public_key"), *priv = jstr(ja, "private_key");
	struct fc_uc_account *na, *slot = NULL;
	size_t i;

	if (!pub || !priv) {
		snprintf(err, errlen, "account needs public_key and private_key");
		return -1;
	}
	for (i = 0; i < fc_w.nuca; i++)
		if (strcmp(fc_w.uca[i].pub, pub) == 0)
			slot = &fc_w.uca[i];
	if (slot) {
		free(slot->pub);
		free(slot->priv);
		free(slot->project_id);
	} else {
		na = realloc(fc_w.uca, (fc_w.nuca + 1) * sizeof(*na));
		if (!na) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		fc_w.uca = na;
		slot = &fc_w.uca[fc_w.nuca++];
	}
	slot->pub = xstrdup(pub);
	slot->priv = xstrdup(priv);
	slot->project_id = xstrdup(jstr(ja, "project_id"));
	return 0;
}

/* ----------------------------------------------------------- control */

static void control_error(struct fc_req *r, int status, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	fc_reply_json(r, status, o, NULL);
}

static bool is(const struct fc_req *r, const char *m)
{
	return strcmp(r->method, m) == 0;
}

/* Split "a/b/c" into at most 'max' components (modifies 's'). */
static int split_path(char *s, char **parts, int max)
{
	int n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(s, "/", &save); t && n < max; t = strtok_r(NULL, "/", &save))
		parts[n++] = t;
	return t ? -1 : n;
}

static void control_hw(struct fc_req *r, char **pp, int n, json_object *body)
{
	char err[256];
	struct fc_hw_pool *p;
	struct fc_hw_member *m;

	if (n == 2 && strcmp(pp[1], "accounts") == 0 && is(r, "POST")) {
		json_object *o;

		if (hw_account_put(body, err, sizeof(err)) < 0)
			return control_error(r, 400, err);
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		return fc_reply_json(r, 201, o, NULL);
	}
	if (n == 2 && strcmp(pp[1], "pools") == 0 && is(r, "POST")) {
		if (pool_put(body, &p, err, sizeof(err)) < 0)
			return control_error(r, 400, err);
		return fc_reply_json(r, 201, pool_dump(p), NULL);
	}
	if (n < 3 || strcmp(pp[1], "pools") != 0)
		return control_error(r, 404, "no such control endpoint");
	p = fc_hw_pool_find(pp[2]);
	if (!p)
		return control_error(r, 404, "no such pool");
	fc_hw_pool_purge(p, fc_now_ms());
	if (n == 3 && is(r, "GET"))
		return fc_reply_json(r, 200, pool_dump(p), NULL);
	if (n == 4 && strcmp(pp[3], "members") == 0 && is(r, "POST")) {
		if (control_member_add(p, body, &m, err, sizeof(err)) < 0)
			return control_error(r, 400, err);
		return fc_reply_json(r, 201, member_dump(p, m), NULL);
	}
	if (n == 5 && strcmp(pp[3], "members") == 0 && is(r, "PATCH")) {
		m = fc_hw_member_find(p, pp[4]);
		if (!m || m->gone_at_ms >= 0)
			return control_error(r, 404, "no such member");
		if (member_patch(m, body, err, sizeof(err)) < 0)
			return control_error(r, 400, err);
		return fc_reply_json(r, 200, member_dump(p, m), NULL);
	}
	if (n == 5 && strcmp(pp[3], "members") == 0 && is(r, "DELETE")) {
		m = fc_hw_member_find(p, pp[4]);
		if (!m || m->gone_at_ms >= 0)
			return control_error(r, 404, "no such member");
		/* Out-of-band removal is immediate, whatever eventual_ms says. */
		member_drop(p, (size_t)(m - p->m));
		return fc_reply_raw(r, 204, NULL, 0, NULL);
	}
	control_error(r, 404, "no such control endpoint");
}

static void control_uc(struct fc_req *r, char **pp, int n, json_object *body)
{
	char err[256];
	struct fc_uc_vserver *v;
	struct fc_uc_backend *b;

	if (n == 2 && strcmp(pp[1], "accounts") == 0 && is(r, "POST")) {
		json_object *o;

		if (uc_account_put(body, err, sizeof(err)) < 0)
			return control_error(r, 400, err);
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		return fc_reply_json(r, 201, o, NULL);
	}
	if (n == 2 && strcmp(pp[1], "vservers") == 0 && is(r, "POST")) {
		if (vserver_put(body, &v, err, sizeof(err)) < 0)
			return control_error(r, 400, err);
		return fc_reply_json(r, 201, vserver_dump(v), NULL);
	}
	if (n < 3 || strcmp(pp[1], "vservers") != 0)
		return control_error(r, 404, "no such control endpoint");
	v = fc_uc_vserver_find(pp[2]);
	if (!v)
		return control_error(r, 404, "no such vserver");
	fc_uc_vserver_purge(v, fc_now_ms());
	if (n == 3 && is(r, "GET"))
		return fc_reply_json(r, 200, vserver_dump(v), NULL);
	if (n == 4 && strcmp(pp[3], "backends") == 0 && is(r, "POST")) {
		if (control_backend_add(v, body, &b, err, sizeof(err)) < 0)
			return control_error(r, 400, err);
		return fc_reply_json(r, 201, backend_dump(b), NULL);
	}
	if (n == 5 && strcmp(pp[3], "backends") == 0 && is(r, "PATCH")) {
		size_t i;

		for (i = 0; i < v->nb; i++)
			if (strcmp(v->b[i].id, pp[4]) == 0 && v->b[i].gone_at_ms < 0)
				break;
		if (i == v->nb)
			return control_error(r, 404, "no such backend");
		if (backend_patch(&v->b[i], body, true, err, sizeof(err)) < 0)
			return control_error(r, 400, err);
		return fc_reply_json(r, 200, backend_dump(&v->b[i]), NULL);
	}
	if (n == 5 && strcmp(pp[3], "backends") == 0 && is(r, "DELETE")) {
		size_t i, j;

		for (i = 0; i < v->nb; i++)
			if (strcmp(v->b[i].id, pp[4]) == 0 && v->b[i].gone_at_ms < 0)
				break;
		if (i == v->nb)
			return control_error(r, 404, "no such backend");
		/* Out of band: also drop it from the policies, as the real
		 * console would have had to. */
		for (j = 0; j < v->np; j++) {
			struct fc_uc_policy *p = &v->p[j];
			size_t k = 0;

			while (k < p->nb) {
				if (strcmp(p->bids[k], pp[4]) == 0) {
					free(p->bids[k]);
					memmove(&p->bids[k], &p->bids[k + 1],
						(p->nb - k - 1) * sizeof(char *));
					p->nb--;
				} else {
					k++;
				}
			}
		}
		backend_drop(v, i);
		return fc_reply_raw(r, 204, NULL, 0, NULL);
	}
	control_error(r, 404, "no such control endpoint");
}

void fc_world_control(struct fc_req *r, const char *sub, json_object *body)
{
	char *copy = strdup(sub), *pp[6];
	int n;

	if (!copy)
		return control_error(r, 500, "out of memory");
	n = split_path(copy, pp, 6);
	fc_world_lock();
	if (n < 2)
		control_error(r, 404, "no such control endpoint");
	else if (strcmp(pp[0], "hw") == 0)
		control_hw(r, pp, n, body);
	else if (strcmp(pp[0], "uc") == 0)
		control_uc(r, pp, n, body);
	else
		control_error(r, 404, "no such control endpoint");
	fc_world_unlock();
	free(copy);
}

int fc_world_load(json_object *root, char *err, size_t errlen)
{
	json_object *cloud, *arr;
	struct fc_hw_pool *p;
	struct fc_uc_vserver *v;
	size_t i;
	int r = -1;

	fc_world_lock();
	if (json_object_object_get_ex(root, "hw", &cloud)) {
		if ((arr = jarr(cloud, "accounts")))
			for (i = 0; i < json_object_array_length(arr); i++)
				if (hw_account_put(json_object_array_get_idx(arr, i), err, errlen) <
				    0)
					goto out;
		if ((arr = jarr(cloud, "pools")))
			for (i = 0; i < json_object_array_length(arr); i++)
				if (pool_put(json_object_array_get_idx(arr, i), &p, err, errlen) <
				    0)
					goto out;
	}
	if (json_object_object_get_ex(root, "uc", &cloud)) {
		if ((arr = jarr(cloud, "accounts")))
			for (i = 0; i < json_object_array_length(arr); i++)
				if (uc_account_put(json_object_array_get_idx(arr, i), err, errlen) <
				    0)
					goto out;
		if ((arr = jarr(cloud, "vservers")))
			for (i = 0; i < json_object_array_length(arr); i++)
				if (vserver_put(json_object_array_get_idx(arr, i), &v, err,
						errlen) < 0)
					goto out;
	}
	r = 0;
out:
	fc_world_unlock();
	return r;
}

json_object *fc_world_dump(void)
{
	json_object *root = json_object_new_object();
	json_object *hw = json_object_new_object(), *uc = json_object_new_object();
	json_object *a;
	size_t i;
	int64_t now = fc_now_ms();

	fc_world_lock();
	/* Accounts are listed without their secrets. */
	a = json_object_new_array();
	for (i = 0; i < fc_w.nhwa; i++) {
		json_object *o = json_object_new_object();

		if (fc_w.hwa[i].ak)
			json_object_object_add(o, "ak", json_object_new_string(fc_w.hwa[i].ak));
		json_object_object_add(o, "project_id",
				       json_object_new_string(fc_w.hwa[i].project_id));
		json_object_array_add(a, o);
	}
	json_object_object_add(hw, "accounts", a);
	a = json_object_new_array();
	for (i = 0; i < fc_w.npools; i++) {
		fc_hw_pool_purge(&fc_w.pools[i], now);
		json_object_array_add(a, pool_dump(&fc_w.pools[i]));
	}
	json_object_object_add(hw, "pools", a);
	a = json_object_new_array();
	for (i = 0; i < fc_w.nuca; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "public_key", json_object_new_string(fc_w.uca[i].pub));
		json_object_object_add(o, "project_id",
				       json_object_new_string(fc_w.uca[i].project_id));
		json_object_array_add(a, o);
	}
	json_object_object_add(uc, "accounts", a);
	a = json_object_new_array();
	for (i = 0; i < fc_w.nvs; i++) {
		fc_uc_vserver_purge(&fc_w.vs[i], now);
		json_object_array_add(a, vserver_dump(&fc_w.vs[i]));
	}
	json_object_object_add(uc, "vservers", a);
	fc_world_unlock();
	json_object_object_add(root, "hw", hw);
	json_object_object_add(root, "uc", uc);
	return root;
}
