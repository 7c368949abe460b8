/*
 * State backends: where lbreconcile records what it last observed and did.
 *
 * The document (struct lbr_state) is a plain in-memory tree owned by the
 * caller.  A backend (struct lbr_state_store) knows where the document lives
 * (a local JSON file, or etcd), holds the lock that serialises agents, and
 * appends the audit log.  json-c is used only inside state/.  state/ sits
 * below the agent: it includes only <lbreconcile/provider.h> (error codes,
 * HTTP exchange types) and is handed the agent's HTTP client at run time
 * (lbr_state_set_io).
 *
 * File layout of the local backend for state path FILE:
 *   FILE         the JSON document, mode 0600, written crash-safely
 *                (FILE.tmp, fsync, rename, fsync of the directory)
 *   FILE.backup  the previous version of FILE
 *   FILE.lock    flock()ed while an agent holds the lock; contains the
 *                lock info as JSON {"id","pid","host","operation","created"}
 *   FILE.log     audit log, one JSON object per line, appended and fsynced
 *
 * Document format versions:
 *   1  the original document.
 *   2  adds per pool "owned" (the members lbreconcile owns, as canonical
 *      "ADDRESS:PORT" strings; absent = no record yet), per member "name"
 *      and "weight" (absent when unknown) and the top-level "counters"
 *      object (name -> non-negative integer).
 * Upgrade: a version-1 document loads with format_version 1, no ownership
 * record (has_owned 0 in every pool) and no counters; whatever a version-1
 * document holds under those keys is ignored.  The next lbr_state_save()
 * writes it as version 2, keeping its lineage and continuing its serial.
 * A document of a version above LBR_STATE_FORMAT_VERSION is refused with
 * LBR_EINVAL and never overwritten.
 */
#ifndef LBR_STATE_H
#define LBR_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lbreconcile/provider.h"

#define LBR_STATE_FORMAT_VERSION 2

struct lbr_state_member {
	char *id;
	char *address; /* canonical text (inet_ntop) */
	unsigned port;
	char *name; /* member name as observed; NULL when none */
	int weight; /* as observed; -1 when unknown (zero is a weight) */
};

struct lbr_state_target { /* one key of the pool's target, e.g. pool_id */
	char *key;
	char *value;
};

/* Longest canonical member key "[IPv6]:PORT" with its NUL. */
#define LBR_STATE_KEY_LEN 56

struct lbr_state_pool {
	char *name;
	char *provider; /* [provider NAME] */
	struct lbr_state_target *targets;
	size_t n_targets;
	struct lbr_state_member *members; /* as last observed */
	size_t n_members;
	int64_t observed_at; /* unix seconds */
	/* last apply result */
	char *last_result; /* "converged", "error", "refused", "blocked", "not_converged" */
	int64_t last_apply_at;
	unsigned last_removed;
	unsigned last_errors;
	/* Ownership record (format 2): the members lbreconcile owns, as
	 * canonical keys (lbr_state_member_key), sorted by strcmp and without
	 * duplicates (the parser, lbr_state_pool_put and lbr_state_pool_own
	 * keep it so; lbr_state_pool_owns relies on it).  has_owned says that
	 * a record exists: 0 = never recorded (a pool with no state owns
	 * nothing), 1 with n_owned 0 = recorded, owns nothing. */
	char **owned;
	size_t n_owned;
	int has_owned;
};

/* A named counter kept across runs (for metrics). */
struct lbr_state_counter {
	char *name;     /* [A-Za-z_:][A-Za-z0-9_:]{0,127} */
	uint64_t value; /* 0 .. INT64_MAX - 1 */
};

struct lbr_state {
	int format_version;
	char lineage[37];    /* UUID; "" for a state never written */
	uint64_t serial;     /* incremented by every save */
	char *agent_version; /* version that wrote it */
	int64_t updated_at;
	struct lbr_state_pool *pools;
	size_t n_pools;
	struct lbr_state_counter *counters; /* format 2 */
	size_t n_counters;
};

/* One line of the audit log. */
struct lbr_audit_rec {
	int64_t time; /* unix seconds */
	const char *pool;
	const char *provider;
	const char *member_id; /* or rule id for rule updates */
	const char *address;   /* may be NULL */
	unsigned port;
	const char *action;     /* "remove", "update_rule", "drain", "restore" */
	const char *outcome;    /* "ok", "not_found", "error", ... */
	const char *request_id; /* may be NULL */
	const char *detail;     /* error text, may be NULL */
};

struct lbr_lock_info {
	char id[37];
	long pid;
	char host[256];
	char operation[32];
	int64_t created;
};

struct lbr_state_store;

/*
 * What the etcd backend performs its HTTP exchanges with.  http() sends one
 * request and returns 0 with `resp` filled (whatever the status; release()
 * is then called on it) or a negative code for a transport failure with a
 * one-line reason in err.  It may let other tasks of the agent run
 * meanwhile; state/ holds no lock across it.  ca_file (may be NULL) is only
 * looked at by state/ to choose the scheme: with a ca_file the etcd
 * endpoints are spoken to over https, without one over plain http; the
 * agent's http() is expected to verify the peer with it.
 */
struct lbr_state_io {
	int (*http)(void *ud, const struct lbr_http_request *req, struct lbr_http_response *resp,
		    char *err, size_t errlen);
	void (*release)(void *ud, struct lbr_http_response *resp);
	void *ud;
	const char *ca_file;
};
/* Install the HTTP client for every etcd store (copied; NULL removes it).
 * Without one, every etcd operation fails with LBR_EIO ("no HTTP client").
 * Call before opening stores, not while one is in use. */
void lbr_state_set_io(const struct lbr_state_io *io);

/* Open the backend named by `spec` (a path, relative paths resolved against
 * `base_dir`, or etcd://HOST:PORT[,HOST:PORT]/PREFIX).  No I/O beyond what is
 * needed to check the location.  Returns 0 or LBR_EINVAL (err filled). */
int lbr_state_store_open(const char *spec, const char *base_dir, struct lbr_state_store **out,
			 char *err, size_t errlen);
/* Releases the lock if held.  NULL is a no-op. */
void lbr_state_store_free(struct lbr_state_store *st);
/* The same when the process exits right after: the lock is released and
 * the audit log synced as by lbr_state_store_free; a backend that can
 * (local) leaves its memory and its threads to the kernel instead of
 * waiting for them, the others (etcd) are freed in full. */
void lbr_state_store_free_at_exit(struct lbr_state_store *st);
/* The resolved location, for messages. */
const char *lbr_state_store_location(const struct lbr_state_store *st);
/* The backend's name: "local" or "etcd". */
const char *lbr_state_store_kind(const struct lbr_state_store *st);

/* Lease TTL of the lock in seconds (1..3600; default 15), used by the etcd
 * backend for the next lbr_state_lock().  The local backend's flock needs
 * none and ignores it.  0 or LBR_EINVAL. */
int lbr_state_store_set_lock_ttl(struct lbr_state_store *st, int ttl_s);
/* Local file where audit lines that cannot reach the backend are kept
 * (etcd backend), appended one per line and replayed in order, under their
 * original keys, before the next audit line that reaches etcd and before
 * the next save.  Lines left by an earlier run are replayed too.  NULL
 * turns spooling off.  The local backend ignores it.  0 or LBR_ENOMEM. */
int lbr_state_store_set_audit_spool(struct lbr_state_store *st, const char *path);

/* Take the lock for `operation` ("apply", "run"), waiting up to
 * timeout_s seconds.  0, LBR_ELOCKED (held: *holder filled when known), or
 * another negative code with err filled.  etcd: the lease (lock_ttl) is
 * granted only when the lock key is free, so timeout_s may exceed the TTL;
 * nothing keeps it alive in the background: call lbr_state_keepalive()
 * well within the TTL (every ttl/3 s) while holding the lock. */
int lbr_state_lock(struct lbr_state_store *st, const char *operation, int timeout_s,
		   struct lbr_lock_info *holder, char *err, size_t errlen);
int lbr_state_unlock(struct lbr_state_store *st);
/* Renew the lock.  etcd: one lease keepalive; on success the lock is held
 * until lbr_state_lock_valid_until_ms().  0; LBR_EFENCED when the lease is
 * gone (the lock is lost: saves are refused); LBR_EIO when etcd could not
 * be asked (the lock may still be valid until the old deadline); LBR_EINVAL
 * when the lock is not held.  local: checks that FILE.lock is still the
 * file we locked (0 or LBR_EFENCED). */
int lbr_state_keepalive(struct lbr_state_store *st, char *err, size_t errlen);
/* CLOCK_BOOTTIME milliseconds until which the lock is surely held: for
 * etcd the time the last successful keepalive (or the grant) was sent plus
 * the TTL etcd granted; UINT64_MAX for the local backend while it holds
 * the flock; 0 when not held or lost. */
uint64_t lbr_state_lock_valid_until_ms(const struct lbr_state_store *st);
/* CLOCK_BOOTTIME now in milliseconds (the clock of the function above; it
 * goes on during a suspend, as the etcd lease does). */
uint64_t lbr_state_now_ms(void);
/* Break a stale lock whose id is `id` (`state unlock`).  0, LBR_ENOENT (no
 * lock), LBR_EINVAL (id mismatch), LBR_ELOCKED (held by a live process:
 * local always; etcd when the lock's lease is still alive and `force` is 0,
 * err naming the holder and the TTL left), LBR_ECORRUPT (etcd: the lock
 * value is not lock info; err shows it raw with the command clearing it). */
int lbr_state_force_unlock(struct lbr_state_store *st, const char *id, int force, char *err,
			   size_t errlen);
/* Read the current lock info without taking it.  0 (held, info filled),
 * 1 (stale lock info present, filled), LBR_ENOENT (no lock).  When the
 * lock is held but its value is garbage, info->id is "" and
 * lbr_state_store_message() shows the raw value and how to clear it. */
int lbr_state_lock_info(struct lbr_state_store *st, struct lbr_lock_info *info);

/* Load the document.  A missing state gives an empty document (lineage "",
 * serial 0).  A corrupt one is LBR_ECORRUPT with err naming the file and
 * the problem; it is never replaced.  An answer that is not etcd's (no
 * "header") is LBR_ECORRUPT too, never an empty state. */
int lbr_state_load(struct lbr_state_store *st, struct lbr_state **out, char *err, size_t errlen);
/* Write the document crash-safely as format LBR_STATE_FORMAT_VERSION:
 * assigns a lineage if empty, increments serial, sets updated_at and
 * agent_version.  Refuses (LBR_EFOREIGN) when the stored lineage differs
 * from doc->lineage, and LBR_EFENCED when the lock was lost (etcd: also
 * when lbr_state_lock_valid_until_ms() has passed).  Caller must hold the
 * lock. */
int lbr_state_save(struct lbr_state_store *st, struct lbr_state *doc, char *err, size_t errlen);
/* Append one audit record (thread-safe).  0: recorded by the backend.
 * 1 (etcd): etcd could not take it; it went to the audit spool and
 * lbr_state_store_message() says why.  Negative: lost (message says why).
 * local: one write(); lines reach the disk through a batched fdatasync at
 * most 200 ms later, and always before lbr_state_save() returns or the
 * store is freed. */
int lbr_state_audit(struct lbr_state_store *st, const struct lbr_audit_rec *rec);
/* The records of one request at once (local: one write()); rcs (may be
 * NULL) gets each record's result as lbr_state_audit would return it.
 * Returns 0 when every record was recorded, else a failing result. */
int lbr_state_audit_many(struct lbr_state_store *st, const struct lbr_audit_rec *recs, size_t n,
			 int *rcs);
/* local: fdatasync the audit log now if lines are pending.  etcd: replay
 * the audit spool now.  0 or LBR_EIO. */
int lbr_state_audit_flush(struct lbr_state_store *st);

/* Document helpers. */
struct lbr_state *lbr_state_new(void);
void lbr_state_free(struct lbr_state *doc);
/* Find a pool by name, or NULL. */
struct lbr_state_pool *lbr_state_pool_find(struct lbr_state *doc, const char *name);
/* Replace or add pool `p` (deep copy; owned keys are sorted and
 * deduplicated in the copy). 0, LBR_EINVAL or LBR_ENOMEM. */
int lbr_state_pool_put(struct lbr_state *doc, const struct lbr_state_pool *p);
/* Canonical member key: "10.0.0.9:80", "[2001:db8::5]:80" (inet_ntop text,
 * port 1..65535).  0 or LBR_EINVAL (not an IP address, bad port). */
int lbr_state_member_key(const char *addr, unsigned port, char out[LBR_STATE_KEY_LEN]);
/* 1 when the pool's ownership record holds addr:port (any spelling of the
 * address), else 0 (also when there is no record). */
int lbr_state_pool_owns(const struct lbr_state_pool *p, const char *addr, unsigned port);
/* Add to / remove from the pool's ownership record (creating the record:
 * has_owned becomes 1).  0, LBR_EINVAL (bad address or port), LBR_ENOMEM. */
int lbr_state_pool_own(struct lbr_state_pool *p, const char *addr, unsigned port);
int lbr_state_pool_disown(struct lbr_state_pool *p, const char *addr, unsigned port);
/* Counters: the value of `name` (0 when absent), and add delta to it
 * (created at 0; saturates at INT64_MAX - 1).  add: 0, LBR_EINVAL (bad
 * name), LBR_ENOMEM. */
uint64_t lbr_state_counter_get(const struct lbr_state *doc, const char *name);
int lbr_state_counter_add(struct lbr_state *doc, const char *name, uint64_t delta);
/* Serialise to a pretty JSON string (malloc'd) — used by `state show`. */
char *lbr_state_to_json(const struct lbr_state *doc, const char *only_pool);
/* Parse a document from a buffer (used by load and by fuzzing). */
int lbr_state_parse(const char *buf, size_t len, struct lbr_state **out, char *err, size_t errlen);

/* The last warning or error of `st` that had no err buffer to go to, or
 * NULL.  Set by lbr_state_load when FILE was missing and FILE.backup was
 * loaded instead (that warning is also copied into load's err, which is
 * otherwise left "" on success), by lbr_state_audit (failure or spooling),
 * by lbr_state_lock_info (etcd: garbage lock value, etcd error) and by
 * lbr_state_unlock on failure.  Borrowed; valid until the next call on st. */
const char *lbr_state_store_message(const struct lbr_state_store *st);

#endif
