/*
 * Internals shared by the files of state/: the store object and small
 * helpers (UUIDs, RFC 3339 times, error formatting).  Not installed and not
 * included outside state/.
 */
#ifndef LBR_STATE_INT_H
#define LBR_STATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "state/state.h"

enum lbr_store_kind {
	LBR_STORE_LOCAL,
	LBR_STORE_ETCD,
};

struct lbr_state_store {
	enum lbr_store_kind kind;
	char *location;   /* what messages name: the resolved path or the URL */
	char *path;       /* local: FILE */
	int lock_fd;      /* local: fd of FILE.lock while we hold it, else -1 */
	char lock_id[37]; /* id written into the lock info while held */
	char msg[512];    /* last warning or error not returned through err */
	struct lbr_etcd *etcd; /* etcd: connection, lease and lock (etcd.c) */
	/* local audit log, kept open; group commit (see lbr_state_audit) */
	int audit_fd1;            /* fd + 1; 0 = not open yet */
	uint64_t audit_written;   /* lines written */
	uint64_t audit_synced;    /* lines known to be on disk */
	int audit_syncing;        /* a thread is in fdatasync() */
	uint64_t audit_last_sync_ms;
	int audit_err;            /* errno of a failed fdatasync, sticky */
};

/* Longest RFC 3339 UTC text we write: "YYYY-MM-DDTHH:MM:SSZ" + NUL. */
#define LBR_TIME_LEN 32

/* printf into err (when err is non-NULL and errlen > 0). */
void lbr_state_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fill out with a random (version 4) UUID.  0 or LBR_EIO. */
int lbr_state_uuid(char out[37]);
/* 1 when s is a UUID in canonical 8-4-4-4-12 lowercase/uppercase hex form. */
int lbr_state_uuid_valid(const char *s);

/* Format unix seconds as RFC 3339 UTC ("2024-05-01T12:00:00Z"). */
void lbr_state_fmt_time(int64_t t, char buf[LBR_TIME_LEN]);
/* Parse what lbr_state_fmt_time writes (an optional fraction of a second
 * is accepted and dropped).  0 or -1. */
int lbr_state_parse_time(const char *s, int64_t *out);

/* lbr_state_parse, with err naming the file: "state: 'PATH' is corrupt
 * (why)".  Same return codes. */
int lbr_state_parse_file(const char *path, const char *buf, size_t len,
			 struct lbr_state **out, char *err, size_t errlen);

/* Local backend: open for a resolved path (takes ownership of nothing). */
int lbr_state_local_open(const char *path, struct lbr_state_store **out,
			 char *err, size_t errlen);
/* Lock info text {"id","pid","host","operation","created"} (malloc'd, or
 * NULL on ENOMEM), and its parser: fields absent or malformed stay zero;
 * 0 when a valid id was found, -1 otherwise. */
char *lbr_state_lock_info_json(const char *id, const char *operation);
int lbr_state_lock_info_parse(const char *buf, size_t len,
			      struct lbr_lock_info *info);
/* "pid P on HOST (OPERATION since TIME, lock id ID)" for messages. */
void lbr_state_describe_holder(const struct lbr_lock_info *h, char *buf,
			       size_t n);

/* etcd backend (etcd.c): same contracts as the public functions. */
struct lbr_etcd;
int lbr_state_etcd_open(const char *spec, struct lbr_state_store **out,
			char *err, size_t errlen);
void lbr_state_etcd_free(struct lbr_state_store *st);
int lbr_state_etcd_lock(struct lbr_state_store *st, const char *operation,
			int timeout_s, struct lbr_lock_info *holder, char *err,
			size_t errlen);
int lbr_state_etcd_unlock(struct lbr_state_store *st);
int lbr_state_etcd_force_unlock(struct lbr_state_store *st, const char *id,
				char *err, size_t errlen);
int lbr_state_etcd_lock_info(struct lbr_state_store *st,
			     struct lbr_lock_info *info);
int lbr_state_etcd_load(struct lbr_state_store *st, struct lbr_state **out,
			char *err, size_t errlen);
int lbr_state_etcd_save(struct lbr_state_store *st, struct lbr_state *doc,
			char *err, size_t errlen);
int lbr_state_etcd_audit(struct lbr_state_store *st,
			 const struct lbr_audit_rec *rec, char *err, size_t errlen);
/* The audit record as one JSON line with "\n" (malloc'd) or NULL. */
char *lbr_state_audit_line(const struct lbr_audit_rec *rec);
/* Serial/lineage rule shared by both backends: checks doc against the
 * stored document `disk` (may be NULL) and fills the new lineage and
 * serial.  0, LBR_EFOREIGN or LBR_EINVAL/LBR_EIO with err filled. */
int lbr_state_next_version(const char *location, const struct lbr_state *disk,
			   const struct lbr_state *doc, char lineage[37],
			   uint64_t *serial, char *err, size_t errlen);
/* After a successful write by either backend: give the caller's document
 * the version that was written.  Takes ownership of agent_version. */
void lbr_state_adopt_version(struct lbr_state *doc, const char lineage[37], uint64_t serial,
			     int64_t updated_at, char *agent_version);

#endif
