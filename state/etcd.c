/*
 * The etcd v3 backend (state = etcd://HOST:PORT[,HOST:PORT]/PREFIX):
 *
 *   PREFIX/state         the document (same JSON as the local file)
 *   PREFIX/state.backup  the previous document, written in the same txn
 *   PREFIX/lock          the lock info, created only if absent
 *                        (create_revision == 0) and bound to a lease of
 *                        lock_ttl seconds
 *   PREFIX/audit/NNN     one audit record per key, NNN = time of the record
 *
 * The lease is granted only once the lock key is seen free, and revoked
 * again if another agent wins the race, so waiting for the lock
 * (lock_timeout) may take longer than the TTL.  Nothing here runs in the
 * background: the agent renews the lease with lbr_state_keepalive() and
 * learns from lbr_state_lock_valid_until_ms() until when the lock is
 * surely its own (the send time of the last acknowledged grant or
 * keepalive plus the TTL etcd granted).
 *
 * Fencing: every write of PREFIX/state is a transaction conditioned on the
 * lock key still having the create_revision our lock got.  If our lease
 * expired (a long pause, a partition) and another agent took the lock, the
 * key was deleted and recreated with a newer revision, so our late write
 * fails instead of overwriting the newer agent's state: LBR_EFENCED.  A
 * save after the valid-until time is refused without even trying.
 *
 * Audit lines that etcd does not take go to the audit spool file (when
 * one is set) as "KEY<TAB>LINE", and are put under their original keys,
 * in order, before the next line that reaches etcd and before the next
 * save: a key names its record's time, so a replayed line sorts where it
 * belongs, and replaying one twice (a crash mid-replay) rewrites the same
 * key with the same value.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state/etcd-int.h"

#define LOCK_POLL_NS 100000000L

static struct etcd_store *E(const struct lbr_state_store *st)
{
	return (struct etcd_store *)st;
}

static int etcd_match(const char *spec)
{
	return strncmp(spec, "etcd://", 7) == 0;
}

static void etcd_free(struct lbr_state_store *st)
{
	struct etcd_store *e = E(st);
	size_t i;

	for (i = 0; i < e->n_endpoints; i++)
		free(e->endpoints[i]);
	free(e->endpoints);
	free(e->prefix);
	free(e->k_lock);
	free(e->k_state);
	free(e->k_backup);
	free(e->k_audit);
	free(e->state_name);
	free(st->location);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

static int etcd_open(const char *spec, const char *base_dir, struct lbr_state_store **out,
		     char *err, size_t errlen)
{
	struct etcd_store *e;
	int r;

	(void)base_dir;
	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return LBR_ENOMEM;
	pthread_mutex_init(&e->mu, NULL);
	/* A spool left by an earlier run is replayed first. */
	e->spool_pending = 1;
	e->base.location = strdup(spec);
	r = e->base.location ? lbr_etcd_parse_spec(e, spec, err, errlen) : LBR_ENOMEM;
	if (r < 0) {
		etcd_free(&e->base);
		return r;
	}
	*out = &e->base;
	return 0;
}

/* ---- lease ----------------------------------------------------------- */

/* lease/grant (id 0, ttl given) or lease/keepalive, lease/revoke,
 * lease/timetolive (id given).  *id_out and *ttl_out when non-NULL. */
static int lease_call(struct etcd_store *e, const char *api, int64_t id, int ttl, int64_t *id_out,
		      int64_t *ttl_out, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *resp = NULL;
	int r;

	if (!req)
		return LBR_ENOMEM;
	if (id)
		json_object_object_add(req, "ID", lbr_etcd_i64(id));
	else
		json_object_object_add(req, "TTL", json_object_new_int(ttl));
	r = lbr_etcd_call(e, api, req, &resp, err, errlen);
	json_object_put(req);
	if (r < 0)
		return r;
	if (id_out)
		*id_out = lbr_etcd_jint(resp, "ID");
	if (ttl_out)
		*ttl_out = lbr_etcd_jint(resp, "TTL");
	json_object_put(resp);
	return 0;
}

static void lease_revoke(struct etcd_store *e, int64_t lease)
{
	char err[256];

	if (lease)
		lease_call(e, "lease/revoke", lease, 0, NULL, NULL, err, sizeof(err));
}

/* ---- lock ------------------------------------------------------------ */

/* Describe the holder of a lock value for messages; 0, or -1 when the
 * value is garbage (then buf shows it raw with the command clearing it). */
static int describe_value(struct etcd_store *e, const struct etcd_kv *kv, struct lbr_lock_info *h,
			  char *buf, size_t n)
{
	char raw[300], cmd[600];

	if (lbr_state_lock_info_parse(kv->value, kv->len, h) == 0) {
		lbr_state_describe_holder(h, buf, n);
		return 0;
	}
	memset(h, 0, sizeof(*h));
	lbr_state_quote_raw(kv->value, kv->len, 200, raw, sizeof(raw));
	lbr_etcd_clear_cmd(e, cmd, sizeof(cmd));
	snprintf(buf, n,
		 "a lock whose value is not lock info: '%s'; if no "
		 "agent holds it, clear it with: %s",
		 raw, cmd);
	return -1;
}

/* Try once to create the lock key with a fresh lease.  1 taken, 0 held by
 * someone else (*kv holds their value), <0 error. */
static int try_lock(struct lbr_state_store *st, const char *info, struct etcd_kv *kv, char *err,
		    size_t errlen)
{
	struct etcd_store *e = E(st);
	json_object *put, *resp = NULL, *v, *rs;
	int64_t lease = 0, ttl = 0;
	uint64_t t0;
	int ok, r;

	t0 = lbr_state_now_ms();
	r = lease_call(e, "lease/grant", 0, st->lock_ttl, &lease, &ttl, err, errlen);
	if (r < 0)
		return r;
	if (!lease) {
		lbr_state_seterr(err, errlen, "state: etcd granted no lease");
		return LBR_ECORRUPT;
	}
	put = lbr_etcd_kv_obj(e->k_lock, info, strlen(info));
	if (put)
		json_object_object_add(put, "lease", lbr_etcd_i64(lease));
	r = lbr_etcd_txn(e, lbr_etcd_cmp_create(e->k_lock, 0), lbr_etcd_op("request_put", put),
			 lbr_etcd_op("request_range", lbr_etcd_kv_obj(e->k_lock, NULL, 0)), &ok,
			 &resp, err, errlen);
	if (r < 0 || !ok) {
		lease_revoke(e, lease);
		/* The failure branch read the winner's value. */
		if (r == 0 && json_object_object_get_ex(resp, "responses", &v) &&
		    json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0 &&
		    json_object_object_get_ex(json_object_array_get_idx(v, 0), "response_range",
					      &rs))
			lbr_etcd_kv_from(rs, kv);
		json_object_put(resp);
		return r;
	}
	pthread_mutex_lock(&e->mu);
	e->lease = lease;
	/* The put's revision is the lock key's create_revision. */
	e->lock_rev = lbr_etcd_jint(json_object_object_get_ex(resp, "header", &v) ? v : NULL,
				    "revision");
	e->valid_until = t0 + (uint64_t)(ttl > 0 ? ttl : st->lock_ttl) * 1000u;
	e->lost = 0;
	pthread_mutex_unlock(&e->mu);
	json_object_put(resp);
	return 1;
}

static int etcd_lock(struct lbr_state_store *st, const char *operation, int timeout_s,
		     struct lbr_lock_info *holder, char *err, size_t errlen)
{
	struct etcd_store *e = E(st);
	struct lbr_lock_info h;
	struct etcd_kv kv = { 0 };
	char id[37], *info = NULL, desc[1000];
	uint64_t deadline;
	int r;

	if (e->lease) {
		lbr_state_seterr(err, errlen,
				 "state: lock on '%s' is already "
				 "held by this agent",
				 st->location);
		return LBR_EINVAL;
	}
	r = lbr_state_uuid(id);
	if (r < 0)
		return r;
	info = lbr_state_lock_info_json(id, operation);
	if (!info)
		return LBR_ENOMEM;
	deadline = lbr_state_now_ms() + (uint64_t)(timeout_s > 0 ? timeout_s : 0) * 1000u;
	for (;;) {
		/* No lease is granted while the key is taken: a wait longer
		 * than the TTL must not outlive our own lease. */
		r = lbr_etcd_get(e, e->k_lock, &kv, err, errlen);
		if (r < 0)
			goto out;
		if (!kv.found) {
			r = try_lock(st, info, &kv, err, errlen);
			if (r < 0)
				goto out;
			if (r == 1)
				break;
		}
		if (kv.found && lbr_state_now_ms() >= deadline) {
			describe_value(e, &kv, &h, desc, sizeof(desc));
			if (holder)
				*holder = h;
			lbr_state_seterr(err, errlen,
					 "state: '%s' is locked by "
					 "%s",
					 st->location, desc);
			r = LBR_ELOCKED;
			goto out;
		}
		lbr_etcd_kv_release(&kv);
		nanosleep(&(struct timespec){ 0, LOCK_POLL_NS }, NULL);
	}
	memcpy(st->lock_id, id, sizeof(id));
	r = 0;
out:
	lbr_etcd_kv_release(&kv);
	free(info);
	return r;
}

static int etcd_unlock(struct lbr_state_store *st)
{
	struct etcd_store *e = E(st);
	int64_t lease;

	pthread_mutex_lock(&e->mu);
	lease = e->lease;
	e->lease = 0;
	e->lock_rev = 0;
	e->valid_until = 0;
	e->lost = 0;
	pthread_mutex_unlock(&e->mu);
	/* Revoking the lease deletes the lock key with it. */
	lease_revoke(e, lease);
	st->lock_id[0] = '\0';
	return 0;
}

static int etcd_keepalive(struct lbr_state_store *st, char *err, size_t errlen)
{
	struct etcd_store *e = E(st);
	int64_t lease, ttl = 0;
	uint64_t t0;
	int r;

	pthread_mutex_lock(&e->mu);
	lease = e->lost ? 0 : e->lease;
	pthread_mutex_unlock(&e->mu);
	if (!lease) {
		lbr_state_seterr(err, errlen,
				 "state: the lock on '%s' is not "
				 "held",
				 st->location);
		return e->lease ? LBR_EFENCED : LBR_EINVAL;
	}
	t0 = lbr_state_now_ms();
	r = lease_call(e, "lease/keepalive", lease, 0, NULL, &ttl, err, errlen);
	if (r < 0 && r != LBR_ENOENT)
		return r;
	pthread_mutex_lock(&e->mu);
	if (r == LBR_ENOENT || ttl <= 0) {
		e->lost = 1;
		e->valid_until = 0;
		r = LBR_EFENCED;
	} else if (e->lease == lease) {
		if (t0 + (uint64_t)ttl * 1000u > e->valid_until)
			e->valid_until = t0 + (uint64_t)ttl * 1000u;
		r = 0;
	}
	pthread_mutex_unlock(&e->mu);
	if (r == LBR_EFENCED)
		lbr_state_seterr(err, errlen,
				 "state: lost the lock on '%s' "
				 "(lease expired or revoked)",
				 st->location);
	return r;
}

static uint64_t etcd_valid_until(const struct lbr_state_store *st)
{
	struct etcd_store *e = E(st);
	uint64_t t;

	pthread_mutex_lock(&e->mu);
	t = e->lease && !e->lost ? e->valid_until : 0;
	pthread_mutex_unlock(&e->mu);
	return t;
}

static int etcd_lock_info(struct lbr_state_store *st, struct lbr_lock_info *info)
{
	struct etcd_store *e = E(st);
	struct etcd_kv kv;
	char err[512], desc[1000];
	int r;

	r = lbr_etcd_get(e, e->k_lock, &kv, err, sizeof(err));
	if (r < 0) {
		lbr_state_setmsg(st, "%s", err);
		return r;
	}
	/* An expired lease deletes the key by itself: no stale locks. */
	r = kv.found ? 0 : LBR_ENOENT;
	if (kv.found && describe_value(e, &kv, info, desc, sizeof(desc)) < 0)
		lbr_state_setmsg(st, "state: '%s' is locked by %s", st->location, desc);
	lbr_etcd_kv_release(&kv);
	return r;
}

static int etcd_force_unlock(struct lbr_state_store *st, const char *id, int force, char *err,
			     size_t errlen)
{
	struct etcd_store *e = E(st);
	struct lbr_lock_info h;
	struct etcd_kv kv;
	char desc[1000];
	int64_t ttl = -1;
	int ok, r;

	r = lbr_etcd_get(e, e->k_lock, &kv, err, errlen);
	if (r < 0)
		return r;
	if (!kv.found) {
		lbr_state_seterr(err, errlen, "state: '%s' is not locked", st->location);
		r = LBR_ENOENT;
		goto out;
	}
	if (describe_value(e, &kv, &h, desc, sizeof(desc)) < 0) {
		lbr_state_seterr(err, errlen, "state: '%s' is locked by %s", st->location, desc);
		r = LBR_ECORRUPT;
		goto out;
	}
	r = lbr_state_check_lock_id(st, id, &h, err, errlen);
	if (r < 0)
		goto out;
	if (kv.lease) {
		r = lease_call(e, "lease/timetolive", kv.lease, 0, NULL, &ttl, err, errlen);
		if (r == LBR_ENOENT)
			ttl = -1;
		else if (r < 0)
			goto out;
	}
	if (ttl > 0 && !force) {
		lbr_state_seterr(err, errlen,
				 "state: '%s' is locked by %s, "
				 "whose lease is alive (%llds left); not "
				 "breaking it without force",
				 st->location, desc, (long long)ttl);
		r = LBR_ELOCKED;
		goto out;
	}
	/* Delete exactly the lock we looked at, not a newer one. */
	r = lbr_etcd_txn(e, lbr_etcd_cmp_create(e->k_lock, kv.create_rev),
			 lbr_etcd_op("request_delete_range", lbr_etcd_kv_obj(e->k_lock, NULL, 0)),
			 NULL, &ok, NULL, err, errlen);
	if (r < 0)
		goto out;
	if (!ok) {
		lbr_state_seterr(err, errlen,
				 "state: the lock on '%s' changed "
				 "while breaking it",
				 st->location);
		r = LBR_ELOCKED;
		goto out;
	}
	/* The holder's next keepalive then says it lost the lock. */
	lease_revoke(e, kv.lease);
	r = 0;
out:
	lbr_etcd_kv_release(&kv);
	return r;
}

static int etcd_audit(struct lbr_state_store *st, const struct lbr_audit_rec *rec)
{
	static unsigned long seq;
	struct etcd_store *e = E(st);
	struct timespec ts;
	char key[600], why[512] = "", serr[512] = "", *line;
	int r;

	line = lbr_state_audit_line(rec);
	if (!line) {
		lbr_state_setmsg(st, "state: out of memory writing the audit log");
		return LBR_ENOMEM;
	}
	/* Nanoseconds plus pid keep keys in time order; the sequence number
	 * keeps two lines of the same nanosecond apart (several calls may
	 * audit at once). */
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(key, sizeof(key), "%s/%020lld-%ld-%06lu", e->k_audit,
		 (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, (long)getpid(),
		 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED) % 1000000u);
	/* Older lines first; while they cannot be replayed etcd is not
	 * tried again for this one. */
	r = lbr_etcd_spool_replay(e, why, sizeof(why));
	if (r == 0)
		r = lbr_etcd_put(e, key, line, strlen(line), why, sizeof(why));
	if (r == 0)
		goto out;
	if (!st->audit_spool) {
		lbr_state_setmsg(st, "%s (audit line lost: %s %s %s %s:%u)", why,
				 rec->pool ? rec->pool : "-", rec->action ? rec->action : "-",
				 rec->member_id ? rec->member_id : "-",
				 rec->address ? rec->address : "-", rec->port);
		goto out;
	}
	if (lbr_etcd_spool_append(e, key, line, serr, sizeof(serr)) < 0) {
		lbr_state_setmsg(st, "%s; %s (audit line lost: %s %s %s %s:%u)", why, serr,
				 rec->pool ? rec->pool : "-", rec->action ? rec->action : "-",
				 rec->member_id ? rec->member_id : "-",
				 rec->address ? rec->address : "-", rec->port);
		r = LBR_EIO;
		goto out;
	}
	lbr_state_setmsg(st,
			 "%s; audit line (%s %s %s %s:%u) kept in '%s' "
			 "for replay",
			 why, rec->pool ? rec->pool : "-", rec->action ? rec->action : "-",
			 rec->member_id ? rec->member_id : "-", rec->address ? rec->address : "-",
			 rec->port, st->audit_spool);
	r = 1;
out:
	free(line);
	return r;
}

static int etcd_audit_flush(struct lbr_state_store *st)
{
	char why[512] = "";
	int r = lbr_etcd_spool_replay(E(st), why, sizeof(why));

	if (r < 0) {
		lbr_state_setmsg(st, "%s", why);
		return LBR_EIO;
	}
	return 0;
}

/* ---- document -------------------------------------------------------- */

static int etcd_load(struct lbr_state_store *st, struct lbr_state **out, char *err, size_t errlen)
{
	struct etcd_store *e = E(st);
	struct etcd_kv kv;
	int r;

	r = lbr_etcd_get(e, e->k_state, &kv, err, errlen);
	if (r < 0)
		return r;
	if (kv.found) {
		r = lbr_state_parse_file(e->state_name, kv.value, kv.len, out, err, errlen);
	} else {
		*out = lbr_state_new();
		r = *out ? 0 : LBR_ENOMEM;
	}
	lbr_etcd_kv_release(&kv);
	return r;
}

static int etcd_save(struct lbr_state_store *st, struct lbr_state *doc, char *err, size_t errlen)
{
	struct etcd_store *e = E(st);
	struct lbr_state *disk = NULL;
	json_object *ops = NULL, *put;
	char lineage[37], *text = NULL, *ver = NULL, why[512];
	int64_t lock_rev, updated_at;
	uint64_t serial, valid_until;
	struct etcd_kv kv = { 0 };
	int lost, ok, r;

	pthread_mutex_lock(&e->mu);
	lost = e->lost || !e->lease;
	lock_rev = e->lock_rev;
	valid_until = e->valid_until;
	pthread_mutex_unlock(&e->mu);
	if (!e->lease) {
		lbr_state_seterr(err, errlen,
				 "state: cannot save '%s' without "
				 "holding its lock",
				 st->location);
		return LBR_EINVAL;
	}
	if (lost || lbr_state_now_ms() >= valid_until) {
		lbr_state_seterr(err, errlen,
				 "state: lost the lock on '%s' "
				 "(lease expired%s); not saving",
				 st->location, lost ? "" : ": no keepalive within the TTL");
		return LBR_EFENCED;
	}
	/* The audit lines of this pass go first; a failure here is the
	 * audit's to report, not a reason to lose the state. */
	if (lbr_etcd_spool_replay(e, why, sizeof(why)) < 0)
		lbr_state_setmsg(st, "%s", why);
	r = lbr_etcd_get(e, e->k_state, &kv, err, errlen);
	if (r < 0)
		goto out;
	if (kv.found) {
		r = lbr_state_parse_file(e->state_name, kv.value, kv.len, &disk, err, errlen);
		if (r < 0)
			goto out;
	}
	r = lbr_state_next_version(st->location, disk, doc, lineage, &serial, err, errlen);
	if (r < 0)
		goto out;
	r = LBR_ENOMEM;
	text = lbr_state_render(doc, lineage, serial, &updated_at, &ver);
	if (!text)
		goto out;
	ops = lbr_etcd_op("request_put", lbr_etcd_kv_obj(e->k_state, text, strlen(text)));
	if (!ops)
		goto out;
	if (kv.found) {
		put = json_object_new_object();
		if (!put)
			goto out;
		json_object_object_add(put, "request_put",
				       lbr_etcd_kv_obj(e->k_backup, kv.value, kv.len));
		json_object_array_add(ops, put);
	}
	r = lbr_etcd_txn(e, lbr_etcd_cmp_create(e->k_lock, lock_rev), ops, NULL, &ok, NULL, err,
			 errlen);
	ops = NULL; /* consumed */
	if (r < 0)
		goto out;
	if (!ok) {
		lbr_state_seterr(err, errlen,
				 "state: lost the lock on '%s' "
				 "before writing (fenced); not saving",
				 st->location);
		r = LBR_EFENCED;
		goto out;
	}
	lbr_state_adopt_version(doc, lineage, serial, updated_at, ver);
	ver = NULL; /* transferred */
	r = 0;
out:
	json_object_put(ops);
	lbr_etcd_kv_release(&kv);
	lbr_state_free(disk);
	free(text);
	free(ver);
	return r;
}

const struct lbr_state_ops lbr_state_etcd_ops = {
	.name = "etcd",
	.match = etcd_match,
	.open = etcd_open,
	.free = etcd_free,
	.lock = etcd_lock,
	.unlock = etcd_unlock,
	.keepalive = etcd_keepalive,
	.valid_until_ms = etcd_valid_until,
	.force_unlock = etcd_force_unlock,
	.lock_info = etcd_lock_info,
	.load = etcd_load,
	.save = etcd_save,
	.audit = etcd_audit,
	.audit_flush = etcd_audit_flush,
};
