/*
 * Internals shared by the files of state/: the backend vtable, the part of
 * the store every backend shares, and small helpers (UUIDs, RFC 3339
 * times, error formatting, file I/O).  Not installed and not included
 * outside state/.
 *
 * Adding a backend: write one file defining a `const struct lbr_state_ops`
 * and add it to the table in state.c (and its file to local.mk).
 */
#ifndef LBR_STATE_INT_H
#define LBR_STATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "state/state.h"

#define LBR_STATE_DEFAULT_TTL 15

/*
 * One backend.  The public functions of state.h check their arguments and
 * call these; each has the contract of its public namesake.  A backend's
 * store is a struct that starts with struct lbr_state_store.
 */
struct lbr_state_ops {
	const char *name;
	/* 1 when spec names this backend (checked in table order). */
	int (*match)(const char *spec);
	/* Allocate the store (location and ops are set by the caller). */
	int (*open)(const char *spec, const char *base_dir, struct lbr_state_store **out, char *err,
		    size_t errlen);
	/* Release what open allocated, the store itself included; the lock
	 * was released already. */
	void (*free)(struct lbr_state_store *st);
	/* optional: the process is about to exit; make what was written
	 * durable and leave the rest (threads included) to the kernel. */
	void (*leave)(struct lbr_state_store *st);
	int (*lock)(struct lbr_state_store *st, const char *operation, int timeout_s,
		    struct lbr_lock_info *holder, char *err, size_t errlen);
	int (*unlock)(struct lbr_state_store *st);
	int (*keepalive)(struct lbr_state_store *st, char *err, size_t errlen);
	uint64_t (*valid_until_ms)(const struct lbr_state_store *st);
	int (*force_unlock)(struct lbr_state_store *st, const char *id, int force, char *err,
			    size_t errlen);
	int (*lock_info)(struct lbr_state_store *st, struct lbr_lock_info *info);
	int (*load)(struct lbr_state_store *st, struct lbr_state **out, char *err, size_t errlen);
	int (*save)(struct lbr_state_store *st, struct lbr_state *doc, char *err, size_t errlen);
	/* Sets st->msg (under lbr_state_msg_mu) when it does not return 0. */
	int (*audit)(struct lbr_state_store *st, const struct lbr_audit_rec *rec);
	/* optional: n records at once, rcs[i] each one's result (as audit) */
	int (*audit_many)(struct lbr_state_store *st, const struct lbr_audit_rec *recs, size_t n,
			  int *rcs);
	int (*audit_flush)(struct lbr_state_store *st);
};

extern const struct lbr_state_ops lbr_state_local_ops;
extern const struct lbr_state_ops lbr_state_etcd_ops;

struct lbr_state_store {
	const struct lbr_state_ops *ops;
	char *location;    /* what messages name: the resolved path or the URL */
	char lock_id[37];  /* id written into the lock info while held */
	char msg[512];     /* last warning or error not returned through err */
	int lock_ttl;      /* seconds */
	char *audit_spool; /* NULL: no spool */
};

/* Longest RFC 3339 UTC text we write: "YYYY-MM-DDTHH:MM:SSZ" + NUL. */
#define LBR_TIME_LEN 32

/* printf into err (when err is non-NULL and errlen > 0). */
void lbr_state_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* printf into st->msg under a mutex (audit runs on several threads). */
void lbr_state_setmsg(struct lbr_state_store *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

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
int lbr_state_parse_file(const char *path, const char *buf, size_t len, struct lbr_state **out,
			 char *err, size_t errlen);

/* Lock info text {"id","pid","host","operation","created"} (malloc'd, or
 * NULL on ENOMEM), and its parser: fields absent or malformed stay zero;
 * 0 when a valid id was found, -1 otherwise. */
char *lbr_state_lock_info_json(const char *id, const char *operation);
int lbr_state_lock_info_parse(const char *buf, size_t len, struct lbr_lock_info *info);
/* "pid P on HOST (OPERATION since TIME, lock id ID)" for messages. */
void lbr_state_describe_holder(const struct lbr_lock_info *h, char *buf, size_t n);
/* Before breaking the lock on st held as h: 0 when the operator named
 * it by its id, else LBR_EINVAL with err saying whose it is. */
int lbr_state_check_lock_id(const struct lbr_state_store *st, const char *id,
			    const struct lbr_lock_info *h, char *err, size_t errlen);
/* At most max bytes of buf as printable text: bytes outside 0x20..0x7e as
 * \xNN, "..." when cut. */
void lbr_state_quote_raw(const char *buf, size_t len, size_t max, char *out, size_t outlen);

/* The audit record as one JSON line with "\n" (malloc'd) or NULL. */
char *lbr_state_audit_line(const struct lbr_audit_rec *rec);
/* n records, one line each, in one buffer (malloc'd, *len bytes) or NULL
 * (doc-write.c: json-c's plain layout without json-c). */
char *lbr_state_audit_lines(const struct lbr_audit_rec *recs, size_t n, size_t *len);
/* Serial/lineage rule shared by the backends: checks doc against the
 * stored document `disk` (may be NULL) and fills the new lineage and
 * serial.  0, LBR_EFOREIGN or LBR_EINVAL/LBR_EIO with err filled. */
int lbr_state_next_version(const char *location, const struct lbr_state *disk,
			   const struct lbr_state *doc, char lineage[37], uint64_t *serial,
			   char *err, size_t errlen);
/* The document text to store for doc with the given version (malloc'd or
 * NULL); *updated_at and *ver receive what adopt_version then takes. */
char *lbr_state_render(const struct lbr_state *doc, const char lineage[37], uint64_t serial,
		       int64_t *updated_at, char **ver);
/* After a successful write by a backend: give the caller's document the
 * version that was written.  Takes ownership of agent_version. */
void lbr_state_adopt_version(struct lbr_state *doc, const char lineage[37], uint64_t serial,
			     int64_t updated_at, char *agent_version);

/* ---- document internals (doc.c) ---- */

/* Sort the ownership record by strcmp and drop duplicates; returns how
 * many were dropped. */
size_t lbr_state_owned_sort(struct lbr_state_pool *p);
/* 1 when s is a valid counter name. */
int lbr_state_counter_name_valid(const char *s);

/* ---- files (file.c) ---- */

/* spec resolved against base_dir when relative (malloc'd) or NULL. */
char *lbr_state_resolve_path(const char *spec, const char *base_dir);
/* path + suffix (malloc'd) or NULL. */
char *lbr_state_suffix(const char *path, const char *suffix);
/* Read a whole file.  0, or -errno (ENOENT for a missing file, EFBIG when
 * larger than max). */
int lbr_state_read_file(const char *path, size_t max, char **out, size_t *outlen);
int lbr_state_write_all(int fd, const char *buf, size_t len);
/* fsync the directory holding path.  0 or LBR_EIO/LBR_ENOMEM + err. */
int lbr_state_fsync_dir(const char *path, char *err, size_t errlen);
/* Create tmp (replacing a stale one) with exactly buf, mode 0600, fsynced. */
int lbr_state_write_tmp(const char *tmp, const char *buf, size_t len, char *err, size_t errlen);
/* The same with the document's JSON (lbr_state_to_json's bytes), streamed:
 * a 100,000-member state is never held in memory as text. */
int lbr_state_write_tmp_doc(const char *tmp, const struct lbr_state *doc, char *err, size_t errlen);
/* Write doc as lbr_state_to_json(doc, NULL) would, to fd.  0, or -1 with
 * errno. */
int lbr_state_write_json_fd(const struct lbr_state *doc, int fd);
/* rename + fsync of the directory; unlinks `from` on failure. */
int lbr_state_rename_durable(const char *from, const char *to, char *err, size_t errlen);
/* Append buf to path (created 0600) with one write() and fdatasync. */
int lbr_state_append_sync(const char *path, const char *buf, size_t len, char *err, size_t errlen);
/* Replace path by buf crash-safely (path.tmp + rename); len 0 unlinks. */
int lbr_state_replace_file(const char *path, const char *buf, size_t len, char *err, size_t errlen);

#endif
