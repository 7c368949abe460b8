/*
 * State backends: where lbreconcile records what it last observed and did.
 *
 * The document (struct lbr_state) is a plain in-memory tree owned by the
 * caller.  A backend (struct lbr_state_store) knows where the document lives
 * (a local JSON file, or etcd), holds the lock that serialises agents, and
 * appends the audit log.  json-c is used only inside state/.
 *
 * File layout of the local backend for state path FILE:
 *   FILE         the JSON document, mode 0600, written crash-safely
 *                (FILE.tmp, fsync, rename, fsync of the directory)
 *   FILE.backup  the previous version of FILE
 *   FILE.lock    flock()ed while an agent holds the lock; contains the
 *                lock info as JSON {"id","pid","host","operation","created"}
 *   FILE.log     audit log, one JSON object per line, appended and fsynced
 */
#ifndef LBR_STATE_H
#define LBR_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LBR_STATE_FORMAT_VERSION 1

struct lbr_state_member {
	char *id;
	char *address;   /* canonical text (inet_ntop) */
	unsigned port;
};

struct lbr_state_target { /* one key of the pool's target, e.g. pool_id */
	char *key;
	char *value;
};

struct lbr_state_pool {
	char *name;
	char *provider;                   /* [provider NAME] */
	struct lbr_state_target *targets;
	size_t n_targets;
	struct lbr_state_member *members; /* as last observed */
	size_t n_members;
	int64_t observed_at;              /* unix seconds */
	/* last apply result */
	char *last_result;                /* "converged", "error", "refused", "blocked", "not_converged" */
	int64_t last_apply_at;
	unsigned last_removed;
	unsigned last_errors;
};

struct lbr_state {
	int format_version;
	char lineage[37];    /* UUID; "" for a state never written */
	uint64_t serial;     /* incremented by every save */
	char *agent_version; /* version that wrote it */
	int64_t updated_at;
	struct lbr_state_pool *pools;
	size_t n_pools;
};

/* One line of the audit log. */
struct lbr_audit_rec {
	int64_t time;          /* unix seconds */
	const char *pool;
	const char *provider;
	const char *member_id; /* or rule id for rule updates */
	const char *address;   /* may be NULL */
	unsigned port;
	const char *action;    /* "remove", "update_rule", "drain", "restore" */
	const char *outcome;   /* "ok", "not_found", "error", ... */
	const char *request_id;/* may be NULL */
	const char *detail;    /* error text, may be NULL */
};

struct lbr_lock_info {
	char id[37];
	long pid;
	char host[256];
	char operation[32];
	int64_t created;
};

struct lbr_state_store;

/* Open the backend named by `spec` (a path, relative paths resolved against
 * `base_dir`, or etcd://HOST:PORT[,HOST:PORT]/PREFIX).  No I/O beyond what is
 * needed to check the location.  Returns 0 or LBR_EINVAL (err filled). */
/* What the etcd backend performs its HTTP exchanges with: a libcurl easy
 * handle in, a CURLcode out.  Default curl_easy_perform; the agent sets one
 * that lets its other tasks run meanwhile (agent/sched.h). */
void lbr_state_set_http_perform(int (*perform)(void *easy));

int lbr_state_store_open(const char *spec, const char *base_dir,
			 struct lbr_state_store **out, char *err, size_t errlen);
/* Releases the lock if held.  NULL is a no-op. */
void lbr_state_store_free(struct lbr_state_store *st);
/* The resolved location, for messages. */
const char *lbr_state_store_location(const struct lbr_state_store *st);

/* Take the lock for `operation` ("apply", "run"), waiting up to
 * timeout_s seconds.  0, LBR_ELOCKED (held: *holder filled when known), or
 * another negative code with err filled. */
int lbr_state_lock(struct lbr_state_store *st, const char *operation,
		   int timeout_s, struct lbr_lock_info *holder, char *err,
		   size_t errlen);
int lbr_state_unlock(struct lbr_state_store *st);
/* Break a stale lock whose id is `id` (`state unlock`).  0, LBR_ENOENT (no
 * lock), LBR_EINVAL (id mismatch), LBR_ELOCKED (held by a live process). */
int lbr_state_force_unlock(struct lbr_state_store *st, const char *id,
			   char *err, size_t errlen);
/* Read the current lock info without taking it.  0 (held, info filled),
 * 1 (stale lock info present, filled), LBR_ENOENT (no lock). */
int lbr_state_lock_info(struct lbr_state_store *st,
			struct lbr_lock_info *info);

/* Load the document.  A missing state gives an empty document (lineage "",
 * serial 0).  A corrupt one is LBR_ECORRUPT with err naming the file and
 * the problem; it is never replaced. */
int lbr_state_load(struct lbr_state_store *st, struct lbr_state **out,
		   char *err, size_t errlen);
/* Write the document crash-safely: assigns a lineage if empty, increments
 * serial, sets updated_at and agent_version.  Refuses (LBR_EFOREIGN) when
 * the stored lineage differs from doc->lineage, and LBR_EFENCED when the
 * lock was lost.  Caller must hold the lock. */
int lbr_state_save(struct lbr_state_store *st, struct lbr_state *doc,
		   char *err, size_t errlen);
/* Append one audit record (one write(); thread-safe).  Lines reach the
 * disk through a batched fdatasync at most 200 ms later, and always before
 * lbr_state_save() returns or the store is freed. */
int lbr_state_audit(struct lbr_state_store *st, const struct lbr_audit_rec *rec);
/* fdatasync the audit log now if lines are pending.  0 or LBR_EIO. */
int lbr_state_audit_flush(struct lbr_state_store *st);

/* Document helpers. */
struct lbr_state *lbr_state_new(void);
void lbr_state_free(struct lbr_state *doc);
/* Find a pool by name, or NULL. */
struct lbr_state_pool *lbr_state_pool_find(struct lbr_state *doc,
					   const char *name);
/* Replace or add pool `p` (deep copy). 0 or LBR_ENOMEM. */
int lbr_state_pool_put(struct lbr_state *doc, const struct lbr_state_pool *p);
/* Serialise to a pretty JSON string (malloc'd) — used by `state show`. */
char *lbr_state_to_json(const struct lbr_state *doc, const char *only_pool);
/* Parse a document from a buffer (used by load and by fuzzing). */
int lbr_state_parse(const char *buf, size_t len, struct lbr_state **out,
		    char *err, size_t errlen);

/* Added by state/: the last warning or error of `st` that had no err
 * buffer to go to, or NULL.  Set by lbr_state_load when FILE was missing and
 * FILE.backup was loaded instead (that warning is also copied into load's
 * err, which is otherwise left "" on success), by lbr_state_audit and by
 * lbr_state_unlock on failure.  Borrowed; valid until the next call on st. */
const char *lbr_state_store_message(const struct lbr_state_store *st);

#endif
