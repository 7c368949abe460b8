/*
 * The local state backend: a JSON file next to its lock, backup and audit
 * log (see state.h for the layout).
 *
 * Crash safety of lbr_state_save, for state path FILE:
 *   1. the new document goes to FILE.tmp (created O_EXCL, 0600), fsync;
 *   2. the bytes of the current FILE (already read and parsed, so known to
 *      be good) go to FILE.backup.tmp, fsync, rename to FILE.backup, fsync
 *      of the directory;
 *   3. rename FILE.tmp to FILE, fsync of the directory.
 * A crash before 3 leaves FILE as it was (its serial unchanged); a crash
 * after 3 leaves the new FILE.  FILE.backup only ever changes by an atomic
 * rename of a complete, fsynced copy of a good document, and the directory
 * fsync between 2 and 3 makes sure a power loss cannot apply the rename of
 * FILE without the rename of FILE.backup before it.  So FILE always parses
 * (or is absent before the first save), FILE.backup always parses, and the
 * serial in FILE never goes backwards.  If FILE vanishes (an operator
 * mistake), load falls back to FILE.backup and says so.
 *
 * The lock is flock() on FILE.lock.  The lock file is never unlinked: an
 * agent that unlinked it while holding the lock would let the next agent
 * create and lock a fresh inode while a third still waits on the old one,
 * and two agents would then both believe they hold the lock.  Releasing
 * truncates the lock info and closes the descriptor.
 */
#include "config.h"

#include <pthread.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent/error.h"
#include "state/state-int.h"

/* A state document bigger than this is not something we wrote. */
#define MAX_STATE_SIZE (64u << 20)
#define MAX_LOCK_SIZE 4096
#define LOCK_POLL_NS 100000000L

static char *with_suffix(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s", path, suffix);
	return s;
}

/* Read a whole file.  0, or -errno (ENOENT for a missing file, EFBIG when
 * larger than max). */
static int read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	char *buf = NULL, *grown;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, r;

	*out = NULL;
	*outlen = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if (cap > max + 1)
				cap = max + 1;
			if (len == cap) {
				r = -EFBIG;
				goto fail;
			}
			grown = realloc(buf, cap + 1);
			if (!grown) {
				r = -ENOMEM;
				goto fail;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
fail:
	close(fd);
	free(buf);
	return r;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync the directory holding path, so that renames in it are durable. */
static int fsync_dir(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path), *dir;
	int fd = -1, r = LBR_EIO;

	if (!copy)
		return LBR_ENOMEM;
	dir = dirname(copy);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		lbr_state_seterr(err, errlen, "state: cannot open directory "
				 "'%s' (%s)", dir, strerror(errno));
		goto out;
	}
	/* Some file systems cannot fsync a directory; they say EINVAL and
	 * there is nothing better we could do about it. */
	if (fsync(fd) < 0 && errno != EINVAL) {
		lbr_state_seterr(err, errlen, "state: cannot fsync directory "
				 "'%s' (%s)", dir, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

/* Create tmp (replacing a stale one) with exactly buf, mode 0600, fsynced. */
static int write_tmp(const char *tmp, const char *buf, size_t len, char *err,
		     size_t errlen)
{
	int fd = -1, r = LBR_EIO;

	/* A stale tmp is left by a crashed save; we hold the lock, so no live
	 * agent is writing it. */
	if (unlink(tmp) < 0 && errno != ENOENT) {
		lbr_state_seterr(err, errlen, "state: cannot remove stale '%s' "
				 "(%s)", tmp, strerror(errno));
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		lbr_state_seterr(err, errlen, "state: cannot create '%s' (%s)",
				 tmp, strerror(errno));
		goto out;
	}
	/* The umask may have taken bits away; state may hold nothing secret
	 * but still describes the infrastructure, so be exact. */
	if (fchmod(fd, 0600) < 0 || write_all(fd, buf, len) < 0 ||
	    fsync(fd) < 0) {
		lbr_state_seterr(err, errlen, "state: cannot write '%s' (%s)",
				 tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		lbr_state_seterr(err, errlen, "state: cannot write '%s' (%s)",
				 tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	return r;
}

static int rename_durable(const char *from, const char *to, char *err,
			  size_t errlen)
{
	if (rename(from, to) < 0) {
		lbr_state_seterr(err, errlen, "state: cannot rename '%s' to "
				 "'%s' (%s)", from, to, strerror(errno));
		unlink(from);
		return LBR_EIO;
	}
	return fsync_dir(to, err, errlen);
}

int lbr_state_local_open(const char *path, struct lbr_state_store **out,
			 char *err, size_t errlen)
{
	struct lbr_state_store *st = NULL;
	struct stat sb;
	char *copy = NULL, *dir;
	int r = LBR_EINVAL;

	*out = NULL;
	if (path[strlen(path) - 1] == '/') {
		lbr_state_seterr(err, errlen, "state: '%s' is a directory, not "
				 "a state file", path);
		goto out;
	}
	copy = strdup(path);
	if (!copy) {
		r = LBR_ENOMEM;
		goto out;
	}
	dir = dirname(copy);
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		lbr_state_seterr(err, errlen, "state: directory '%s' of '%s' "
				 "does not exist", dir, path);
		goto out;
	}
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		lbr_state_seterr(err, errlen, "state: '%s' is not a regular "
				 "file", path);
		goto out;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		r = LBR_ENOMEM;
		goto out;
	}
	st->kind = LBR_STORE_LOCAL;
	st->lock_fd = -1;
	st->path = strdup(path);
	st->location = strdup(path);
	if (!st->path || !st->location) {
		r = LBR_ENOMEM;
		goto out;
	}
	*out = st;
	st = NULL; /* transferred */
	r = 0;
out:
	lbr_state_store_free(st);
	free(copy);
	return r;
}

void lbr_state_store_free(struct lbr_state_store *st)
{
	if (!st)
		return;
	lbr_state_unlock(st);
	if (st->kind == LBR_STORE_ETCD)
		lbr_state_etcd_free(st);
	if (st->audit_fd1) {
		lbr_state_audit_flush(st);
		close(st->audit_fd1 - 1);
	}
	free(st->path);
	free(st->location);
	free(st);
}

/* ---- lock ------------------------------------------------------------ */

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* Parse lock info text; fields that are absent or malformed stay zero.
 * 0 when an id was found, -1 otherwise. */
int lbr_state_lock_info_parse(const char *buf, size_t len,
			      struct lbr_lock_info *info)
{
	struct json_tokener *tok;
	json_object *root, *v;
	int r = -1;

	memset(info, 0, sizeof(*info));
	if (len == 0 || len > MAX_LOCK_SIZE)
		return -1;
	tok = json_tokener_new();
	if (!tok)
		return -1;
	root = json_tokener_parse_ex(tok, buf, (int)len);
	json_tokener_free(tok);
	if (!root || !json_object_is_type(root, json_type_object))
		goto out;
	if (json_object_object_get_ex(root, "pid", &v) &&
	    json_object_is_type(v, json_type_int))
		info->pid = (long)json_object_get_int64(v);
	if (json_object_object_get_ex(root, "host", &v) &&
	    json_object_is_type(v, json_type_string))
		copy_str(info->host, sizeof(info->host),
			 json_object_get_string(v));
	if (json_object_object_get_ex(root, "operation", &v) &&
	    json_object_is_type(v, json_type_string))
		copy_str(info->operation, sizeof(info->operation),
			 json_object_get_string(v));
	if (json_object_object_get_ex(root, "created", &v) &&
	    json_object_is_type(v, json_type_string))
		(void)lbr_state_parse_time(json_object_get_string(v),
					  &info->created);
	if (json_object_object_get_ex(root, "id", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    lbr_state_uuid_valid(json_object_get_string(v))) {
		copy_str(info->id, sizeof(info->id), json_object_get_string(v));
		r = 0;
	}
out:
	json_object_put(root);
	return r;
}

/* Read the lock info through an open descriptor of FILE.lock. */
static int read_lock_info(int fd, struct lbr_lock_info *info)
{
	char buf[MAX_LOCK_SIZE + 1];
	ssize_t n;

	do
		n = pread(fd, buf, MAX_LOCK_SIZE, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		memset(info, 0, sizeof(*info));
		return -1;
	}
	buf[n] = '\0';
	return lbr_state_lock_info_parse(buf, (size_t)n, info);
}

void lbr_state_describe_holder(const struct lbr_lock_info *h, char *buf,
			       size_t n)
{
	char when[LBR_TIME_LEN];

	if (!h->id[0]) {
		snprintf(buf, n, "another process (no lock info yet)");
		return;
	}
	lbr_state_fmt_time(h->created, when);
	snprintf(buf, n, "pid %ld on %s (%s since %s, lock id %s)", h->pid,
		 h->host[0] ? h->host : "?",
		 h->operation[0] ? h->operation : "?", when, h->id);
}

char *lbr_state_lock_info_json(const char *id, const char *operation)
{
	char host[256] = "", when[LBR_TIME_LEN];
	json_object *o = json_object_new_object();
	char *s = NULL;

	if (!o)
		return NULL;
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	lbr_state_fmt_time((int64_t)time(NULL), when);
	if (json_object_object_add(o, "id", json_object_new_string(id)) ||
	    json_object_object_add(o, "pid",
				   json_object_new_int64((int64_t)getpid())) ||
	    json_object_object_add(o, "host", json_object_new_string(host)) ||
	    json_object_object_add(o, "operation",
				   json_object_new_string(operation)) ||
	    json_object_object_add(o, "created", json_object_new_string(when)))
		goto out;
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(o);
	return s;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lbr_state_lock(struct lbr_state_store *st, const char *operation,
		   int timeout_s, struct lbr_lock_info *holder, char *err,
		   size_t errlen)
{
	struct lbr_lock_info h;
	struct stat a, b;
	char *lockpath = NULL, *info = NULL, desc[400], id[37];
	int64_t deadline;
	int fd = -1, r = LBR_EIO;

	if (st->kind == LBR_STORE_ETCD)
		return lbr_state_etcd_lock(st, operation, timeout_s, holder,
					   err, errlen);

	if (holder)
		memset(holder, 0, sizeof(*holder));
	if (st->lock_fd >= 0) {
		lbr_state_seterr(err, errlen, "state: lock on '%s' is already "
				 "held by this agent", st->location);
		return LBR_EINVAL;
	}
	lockpath = with_suffix(st->path, ".lock");
	if (!lockpath)
		return LBR_ENOMEM;
	deadline = mono_ms() + (int64_t)(timeout_s > 0 ? timeout_s : 0) * 1000;
	for (;;) {
		fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
			  O_NOCTTY, 0600);
		if (fd < 0) {
			lbr_state_seterr(err, errlen, "state: cannot open '%s' "
					 "(%s)", lockpath, strerror(errno));
			goto out;
		}
		/* Fix a mode the umask spoiled; harmless if not ours. */
		(void)fchmod(fd, 0600);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			/* Someone may have replaced the file between our open
			 * and flock: then our lock guards nothing. */
			if (fstat(fd, &a) == 0 && stat(lockpath, &b) == 0 &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
				break;
			close(fd);
			fd = -1;
			continue;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			lbr_state_seterr(err, errlen, "state: cannot lock '%s' "
					 "(%s)", lockpath, strerror(errno));
			goto out;
		}
		if (mono_ms() >= deadline) {
			read_lock_info(fd, &h);
			if (holder)
				*holder = h;
			lbr_state_describe_holder(&h, desc, sizeof(desc));
			lbr_state_seterr(err, errlen, "state: '%s' is locked by "
					 "%s", st->location, desc);
			r = LBR_ELOCKED;
			goto out;
		}
		close(fd);
		fd = -1;
		nanosleep(&(struct timespec){ 0, LOCK_POLL_NS }, NULL);
	}

	r = lbr_state_uuid(id);
	if (r < 0) {
		lbr_state_seterr(err, errlen, "state: cannot generate a lock id");
		goto out;
	}
	r = LBR_EIO;
	info = lbr_state_lock_info_json(id, operation ? operation : "");
	if (!info) {
		r = LBR_ENOMEM;
		goto out;
	}
	if (ftruncate(fd, 0) < 0 ||
	    pwrite(fd, info, strlen(info), 0) != (ssize_t)strlen(info) ||
	    fsync(fd) < 0) {
		lbr_state_seterr(err, errlen, "state: cannot write '%s' (%s)",
				 lockpath, strerror(errno));
		goto out;
	}
	st->lock_fd = fd;
	fd = -1; /* transferred */
	memcpy(st->lock_id, id, sizeof(id));
	r = 0;
out:
	if (fd >= 0)
		close(fd); /* releases the flock if we took it */
	free(info);
	free(lockpath);
	return r;
}

int lbr_state_unlock(struct lbr_state_store *st)
{
	int r = 0;

	if (st && st->kind == LBR_STORE_ETCD)
		return lbr_state_etcd_unlock(st);
	if (!st || st->lock_fd < 0)
		return 0;
	/* Clear the info first so nobody reads a released lock as stale. */
	if (ftruncate(st->lock_fd, 0) < 0 || fsync(st->lock_fd) < 0) {
		snprintf(st->msg, sizeof(st->msg), "state: cannot clear '%s.lock' "
			 "(%s)", st->path, strerror(errno));
		r = LBR_EIO;
	}
	close(st->lock_fd);
	st->lock_fd = -1;
	st->lock_id[0] = '\0';
	return r;
}

int lbr_state_force_unlock(struct lbr_state_store *st, const char *id,
			   char *err, size_t errlen)
{
	struct lbr_lock_info h;
	char *lockpath, desc[400];
	int fd = -1, r = LBR_EIO;

	if (st->kind == LBR_STORE_ETCD)
		return lbr_state_etcd_force_unlock(st, id, err, errlen);
	lockpath = with_suffix(st->path, ".lock");

	if (!lockpath)
		return LBR_ENOMEM;
	fd = open(lockpath, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT) {
			lbr_state_seterr(err, errlen, "state: '%s' is not locked",
					 st->location);
			r = LBR_ENOENT;
		} else {
			lbr_state_seterr(err, errlen, "state: cannot open '%s' "
					 "(%s)", lockpath, strerror(errno));
		}
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			lbr_state_seterr(err, errlen, "state: cannot lock '%s' "
					 "(%s)", lockpath, strerror(errno));
			goto out;
		}
		/* A live process holds it: breaking it would let two agents
		 * act at once.  That process releases it when it exits. */
		read_lock_info(fd, &h);
		lbr_state_describe_holder(&h, desc, sizeof(desc));
		lbr_state_seterr(err, errlen, "state: '%s' is locked by live "
				 "%s; not breaking it", st->location, desc);
		r = LBR_ELOCKED;
		goto out;
	}
	if (read_lock_info(fd, &h) < 0) {
		lbr_state_seterr(err, errlen, "state: '%s' is not locked",
				 st->location);
		r = LBR_ENOENT;
		goto out;
	}
	if (!id || strcmp(id, h.id) != 0) {
		lbr_state_seterr(err, errlen, "state: lock id '%s' does not "
				 "match the lock on '%s' (%s)", id ? id : "",
				 st->location, h.id);
		r = LBR_EINVAL;
		goto out;
	}
	if (ftruncate(fd, 0) < 0 || fsync(fd) < 0) {
		lbr_state_seterr(err, errlen, "state: cannot clear '%s' (%s)",
				 lockpath, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(lockpath);
	return r;
}

int lbr_state_lock_info(struct lbr_state_store *st, struct lbr_lock_info *info)
{
	char *lockpath;
	int fd = -1, held, found, r = LBR_ENOENT;

	if (st->kind == LBR_STORE_ETCD)
		return lbr_state_etcd_lock_info(st, info);
	memset(info, 0, sizeof(*info));
	lockpath = with_suffix(st->path, ".lock");
	if (!lockpath)
		return LBR_ENOMEM;
	fd = open(lockpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		goto out;
	/* A shared lock conflicts only with a holder's exclusive one, so two
	 * readers do not disturb each other.  An agent locking with timeout 0
	 * at this very instant can still see us as the holder; this is a
	 * diagnostic and the window is a few microseconds. */
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	found = read_lock_info(fd, info) == 0;
	if (held)
		r = 0;
	else if (found)
		r = 1;
out:
	if (fd >= 0)
		close(fd);
	free(lockpath);
	return r;
}

/* ---- document -------------------------------------------------------- */

/* Read and parse FILE, falling back to FILE.backup when FILE is missing.
 * *doc is NULL when neither exists.  *raw (FILE's bytes, for the backup)
 * is set only when FILE itself was read. */
static int read_current(struct lbr_state_store *st, struct lbr_state **doc,
			char **raw, size_t *rawlen, int *from_backup,
			char *err, size_t errlen)
{
	char *backup = NULL, *buf = NULL;
	size_t len = 0;
	int r;

	*doc = NULL;
	*raw = NULL;
	*rawlen = 0;
	*from_backup = 0;
	r = read_file(st->path, MAX_STATE_SIZE, &buf, &len);
	if (r == 0) {
		r = lbr_state_parse_file(st->path, buf, len, doc, err, errlen);
		if (r < 0)
			goto out;
		*raw = buf;
		*rawlen = len;
		buf = NULL; /* transferred */
		goto out;
	}
	if (r != -ENOENT) {
		lbr_state_seterr(err, errlen, "state: cannot read '%s' (%s)",
				 st->path, r == -EFBIG ? "file too large" :
				 strerror(-r));
		r = r == -ENOMEM ? LBR_ENOMEM : LBR_EIO;
		goto out;
	}
	backup = with_suffix(st->path, ".backup");
	if (!backup) {
		r = LBR_ENOMEM;
		goto out;
	}
	r = read_file(backup, MAX_STATE_SIZE, &buf, &len);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (r < 0) {
		lbr_state_seterr(err, errlen, "state: cannot read '%s' (%s)",
				 backup, r == -EFBIG ? "file too large" :
				 strerror(-r));
		r = r == -ENOMEM ? LBR_ENOMEM : LBR_EIO;
		goto out;
	}
	r = lbr_state_parse_file(backup, buf, len, doc, err, errlen);
	if (r < 0)
		goto out;
	*from_backup = 1;
out:
	free(buf);
	free(backup);
	return r;
}

int lbr_state_load(struct lbr_state_store *st, struct lbr_state **out,
		   char *err, size_t errlen)
{
	struct lbr_state *doc = NULL;
	char *raw = NULL;
	size_t rawlen;
	int from_backup, r;

	if (st->kind == LBR_STORE_ETCD)
		return lbr_state_etcd_load(st, out, err, errlen);

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	st->msg[0] = '\0';
	r = read_current(st, &doc, &raw, &rawlen, &from_backup, err, errlen);
	if (r < 0)
		goto out;
	if (!doc) {
		doc = lbr_state_new();
		if (!doc) {
			r = LBR_ENOMEM;
			goto out;
		}
	}
	if (from_backup) {
		snprintf(st->msg, sizeof(st->msg), "state: '%s' is missing; "
			 "loaded the previous version from '%s.backup' "
			 "(serial %llu)", st->path, st->path,
			 (unsigned long long)doc->serial);
		lbr_state_seterr(err, errlen, "%s", st->msg);
	}
	*out = doc;
	doc = NULL; /* transferred */
	r = 0;
out:
	free(raw);
	lbr_state_free(doc);
	return r;
}

/* Still holding the lock?  Our descriptor must be the file at FILE.lock. */
static int check_fence(struct lbr_state_store *st, char *err, size_t errlen)
{
	struct stat a, b;
	char *lockpath;
	int r = 0;

	if (st->lock_fd < 0) {
		lbr_state_seterr(err, errlen, "state: cannot save '%s' without "
				 "holding its lock", st->location);
		return LBR_EINVAL;
	}
	lockpath = with_suffix(st->path, ".lock");
	if (!lockpath)
		return LBR_ENOMEM;
	if (fstat(st->lock_fd, &a) < 0 || stat(lockpath, &b) < 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		lbr_state_seterr(err, errlen, "state: '%s' was removed or "
				 "replaced while we held it; not saving",
				 lockpath);
		r = LBR_EFENCED;
	}
	free(lockpath);
	return r;
}

void lbr_state_adopt_version(struct lbr_state *doc, const char lineage[37], uint64_t serial,
			     int64_t updated_at, char *agent_version)
{
	doc->format_version = LBR_STATE_FORMAT_VERSION;
	memcpy(doc->lineage, lineage, 37);
	doc->serial = serial;
	doc->updated_at = updated_at;
	free(doc->agent_version);
	doc->agent_version = agent_version;
}

int lbr_state_next_version(const char *location, const struct lbr_state *disk,
			   const struct lbr_state *doc, char lineage[37],
			   uint64_t *serial, char *err, size_t errlen)
{
	if (disk && doc->lineage[0] && strcmp(disk->lineage, doc->lineage)) {
		lbr_state_seterr(err, errlen, "state: '%s' belongs to lineage "
				 "%s, not %s; refusing to overwrite it",
				 location, disk->lineage, doc->lineage);
		return LBR_EFOREIGN;
	}
	if (doc->lineage[0])
		memcpy(lineage, doc->lineage, 37);
	else if (disk)
		memcpy(lineage, disk->lineage, 37);
	else if (lbr_state_uuid(lineage) < 0) {
		lbr_state_seterr(err, errlen, "state: cannot generate a lineage");
		return LBR_EIO;
	}
	*serial = doc->serial;
	if (disk && disk->serial > *serial)
		*serial = disk->serial;
	if (*serial >= (uint64_t)INT64_MAX - 1) {
		lbr_state_seterr(err, errlen, "state: serial of '%s' overflows",
				 location);
		return LBR_EINVAL;
	}
	(*serial)++;
	return 0;
}

int lbr_state_save(struct lbr_state_store *st, struct lbr_state *doc,
		   char *err, size_t errlen)
{
	struct lbr_state *disk = NULL, tmpdoc;
	char *raw = NULL, *text = NULL, *tmp = NULL, *backup = NULL;
	char *backup_tmp = NULL, *ver = NULL;
	char lineage[37];
	uint64_t serial;
	size_t rawlen;
	int from_backup, r;

	if (st->kind == LBR_STORE_ETCD)
		return lbr_state_etcd_save(st, doc, err, errlen);

	/* The audit log is on disk before the state that follows from it. */
	if (lbr_state_audit_flush(st) < 0)
		lbr_state_seterr(err, errlen, "state: cannot sync the audit log of '%s' (%s)",
				 st->location, strerror(st->audit_err));
	r = check_fence(st, err, errlen);
	if (r < 0)
		goto out;
	/* Re-read what is on disk: a corrupt or foreign file is never
	 * overwritten, and the serial continues from the stored one. */
	r = read_current(st, &disk, &raw, &rawlen, &from_backup, err, errlen);
	if (r < 0)
		goto out;
	r = lbr_state_next_version(st->location, disk, doc, lineage, &serial,
				   err, errlen);
	if (r < 0)
		goto out;

	ver = strdup(PACKAGE_VERSION);
	tmp = with_suffix(st->path, ".tmp");
	backup = with_suffix(st->path, ".backup");
	backup_tmp = with_suffix(st->path, ".backup.tmp");
	if (!ver || !tmp || !backup || !backup_tmp) {
		r = LBR_ENOMEM;
		goto out;
	}
	tmpdoc = *doc;
	tmpdoc.format_version = LBR_STATE_FORMAT_VERSION;
	memcpy(tmpdoc.lineage, lineage, sizeof(lineage));
	tmpdoc.serial = serial;
	tmpdoc.agent_version = ver;
	tmpdoc.updated_at = (int64_t)time(NULL);
	text = lbr_state_to_json(&tmpdoc, NULL);
	if (!text) {
		r = LBR_ENOMEM;
		goto out;
	}

	r = write_tmp(tmp, text, strlen(text), err, errlen);
	if (r < 0)
		goto out;
	if (raw) {
		r = write_tmp(backup_tmp, raw, rawlen, err, errlen);
		if (r == 0)
			r = rename_durable(backup_tmp, backup, err, errlen);
		if (r < 0) {
			unlink(tmp);
			goto out;
		}
	}
	r = rename_durable(tmp, st->path, err, errlen);
	if (r < 0)
		goto out;

	lbr_state_adopt_version(doc, lineage, serial, tmpdoc.updated_at, ver);
	ver = NULL; /* transferred */
	r = 0;
out:
	lbr_state_free(disk);
	free(raw);
	free(text);
	free(tmp);
	free(backup);
	free(backup_tmp);
	free(ver);
	return r;
}

/* ---- audit log ------------------------------------------------------- */

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

char *lbr_state_audit_line(const struct lbr_audit_rec *rec)
{
	char when[LBR_TIME_LEN], *line = NULL;
	json_object *o = json_object_new_object();
	const char *txt;
	size_t len;

	if (!o)
		return NULL;
	lbr_state_fmt_time(rec->time ? rec->time : (int64_t)time(NULL), when);
	/* json_object_object_add takes NULL as JSON null. */
	if (json_object_object_add(o, "time", json_object_new_string(when)) ||
	    json_object_object_add(o, "pool", str_or_null(rec->pool)) ||
	    json_object_object_add(o, "provider", str_or_null(rec->provider)) ||
	    json_object_object_add(o, "member", str_or_null(rec->member_id)) ||
	    json_object_object_add(o, "address", str_or_null(rec->address)) ||
	    json_object_object_add(o, "port",
				   json_object_new_int((int)rec->port)) ||
	    json_object_object_add(o, "action", str_or_null(rec->action)) ||
	    json_object_object_add(o, "outcome", str_or_null(rec->outcome)) ||
	    json_object_object_add(o, "request_id",
				   str_or_null(rec->request_id)) ||
	    json_object_object_add(o, "detail", str_or_null(rec->detail)))
		goto out;
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!txt)
		goto out;
	len = strlen(txt);
	line = malloc(len + 2);
	if (!line)
		goto out;
	memcpy(line, txt, len);
	line[len++] = '\n';
	line[len] = '\0';
out:
	json_object_put(o);
	return line;
}

/* Several threads append at once (one per removal in flight).  Each line
 * is one write() on a descriptor kept open with O_APPEND, so it is in the
 * kernel before the call returns and survives the agent being killed.
 * Syncing to disk is batched: at most one fdatasync() every 200 ms while
 * calls keep coming, never blocking the callers that do not run it, and
 * always one before the state is saved or the store closed
 * (lbr_state_audit_flush).  A power loss can therefore lose at most the
 * last 200 ms of lines; an fsync per line cost 75 us of CPU per API call. */
#define AUDIT_SYNC_MS 200
static pthread_mutex_t audit_mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t audit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int lbr_state_audit_flush(struct lbr_state_store *st)
{
	int r = 0;

	pthread_mutex_lock(&audit_mu);
	if (st->audit_fd1 && st->audit_written != st->audit_synced) {
		if (fdatasync(st->audit_fd1 - 1) < 0) {
			st->audit_err = errno;
			r = LBR_EIO;
		} else {
			st->audit_synced = st->audit_written;
		}
	}
	if (st->audit_err)
		r = LBR_EIO;
	pthread_mutex_unlock(&audit_mu);
	return r;
}

int lbr_state_audit(struct lbr_state_store *st, const struct lbr_audit_rec *rec)
{
	char *logpath = NULL, *line = NULL;
	int r = LBR_ENOMEM, fd, rc_w;

	if (st->kind == LBR_STORE_ETCD) {
		/* Not under audit_mu: the PUT may let other tasks run
		 * (lbr_state_set_http_perform), and one of them may audit. */
		char msg[sizeof(st->msg)] = "";

		r = lbr_state_etcd_audit(st, rec, msg, sizeof(msg));
		if (r < 0) {
			pthread_mutex_lock(&audit_mu);
			snprintf(st->msg, sizeof(st->msg), "%s", msg[0] ? msg :
				 "state: etcd audit: out of memory");
			pthread_mutex_unlock(&audit_mu);
		}
		return r;
	}
	line = lbr_state_audit_line(rec);
	if (!line)
		goto out_nolock;
	pthread_mutex_lock(&audit_mu);
	if (!st->audit_fd1) {
		logpath = with_suffix(st->path, ".log");
		if (!logpath)
			goto out;
		fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			  O_NOFOLLOW | O_NOCTTY, 0600);
		if (fd < 0 || fchmod(fd, 0600) < 0) {
			snprintf(st->msg, sizeof(st->msg), "state: cannot append to "
				 "'%s' (%s)", logpath, strerror(errno));
			if (fd >= 0)
				close(fd);
			r = LBR_EIO;
			goto out;
		}
		st->audit_fd1 = fd + 1;
	}
	fd = st->audit_fd1 - 1;
	r = LBR_EIO;
	/* With O_APPEND one write() lands whole; no need to hold the lock
	 * (the descriptor stays open until the store is freed). */
	pthread_mutex_unlock(&audit_mu);
	rc_w = write_all(fd, line, strlen(line));
	pthread_mutex_lock(&audit_mu);
	if (rc_w < 0) {
		snprintf(st->msg, sizeof(st->msg), "state: cannot append to the audit log of "
			 "'%s' (%s)", st->path, strerror(errno));
		goto out;
	}
	++st->audit_written;
	if (!st->audit_syncing && audit_now_ms() - st->audit_last_sync_ms >= AUDIT_SYNC_MS) {
		uint64_t target = st->audit_written;
		int rc;

		st->audit_syncing = 1;
		pthread_mutex_unlock(&audit_mu);
		rc = fdatasync(fd);
		pthread_mutex_lock(&audit_mu);
		st->audit_syncing = 0;
		st->audit_last_sync_ms = audit_now_ms();
		if (rc < 0)
			st->audit_err = errno;
		else if (target > st->audit_synced)
			st->audit_synced = target;
	}
	if (st->audit_err) {
		snprintf(st->msg, sizeof(st->msg), "state: cannot sync the audit log of "
			 "'%s' (%s)", st->path, strerror(st->audit_err));
		goto out;
	}
	r = 0;
out:
	pthread_mutex_unlock(&audit_mu);
out_nolock:
	if (r == LBR_ENOMEM)
		snprintf(st->msg, sizeof(st->msg), "state: out of memory "
			 "writing the audit log");
	free(line);
	free(logpath);
	return r;
}
