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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state/state-int.h"

/* A state document bigger than this is not something we wrote. */
#define MAX_STATE_SIZE (64u << 20)
#define MAX_LOCK_SIZE 4096
#define LOCK_POLL_NS 100000000L

struct local_store {
	struct lbr_state_store base;
	char *path;     /* FILE */
	char *lockpath; /* FILE.lock */
	int lock_fd;    /* fd of FILE.lock while we hold it, else -1 */
	/* audit log, kept open; group commit by a thread of its own (see
	 * the audit log section below).  All under audit_mu. */
	int audit_fd1;          /* fd + 1; 0 = not open yet */
	uint64_t audit_written; /* lines written */
	uint64_t audit_synced;  /* lines known to be on disk */
	int audit_syncing;      /* a thread is in fdatasync() */
	uint64_t audit_last_sync_ms;
	int audit_err;           /* errno of a failed fdatasync, sticky */
	int syncer_state;        /* 0 none, 1 running, 2 told to stop, -1 failed */
	int syncer_idle;         /* the syncer waits for lines to be written */
	pthread_t syncer;        /* while syncer_state is 1 or 2 */
	pthread_cond_t audit_cv; /* lines written, a sync done, stop */
};

static struct local_store *L(const struct lbr_state_store *st)
{
	return (struct local_store *)st;
}

static int local_audit_flush(struct lbr_state_store *st);
static int init_audit_cv(struct local_store *l);
static void stop_syncer(struct local_store *l);

static int local_match(const char *spec)
{
	return strstr(spec, "://") == NULL;
}

static void local_free(struct lbr_state_store *st)
{
	struct local_store *l = L(st);

	if (l->audit_fd1) {
		stop_syncer(l);
		local_audit_flush(st);
		close(l->audit_fd1 - 1);
	}
	pthread_cond_destroy(&l->audit_cv);
	free(l->path);
	free(l->lockpath);
	free(st->location);
	free(l);
}

/* At exit: the audit log synced as by local_free, here; the syncer is
 * left asleep rather than woken and joined (that cost 0.3-1.1 ms at the
 * end of every apply), and the descriptor and the memory go with the
 * process. */
static void local_leave(struct lbr_state_store *st)
{
	if (L(st)->audit_fd1)
		local_audit_flush(st);
}

static int local_open(const char *spec, const char *base_dir, struct lbr_state_store **out,
		      char *err, size_t errlen)
{
	struct local_store *l = NULL;
	struct stat sb;
	char *path, *copy = NULL, *dir;
	int r = LBR_EINVAL;

	*out = NULL;
	path = lbr_state_resolve_path(spec, base_dir);
	if (!path)
		return LBR_ENOMEM;
	if (path[strlen(path) - 1] == '/') {
		lbr_state_seterr(err, errlen,
				 "state: '%s' is a directory, not "
				 "a state file",
				 path);
		goto out;
	}
	copy = strdup(path);
	if (!copy) {
		r = LBR_ENOMEM;
		goto out;
	}
	dir = dirname(copy);
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		lbr_state_seterr(err, errlen,
				 "state: directory '%s' of '%s' "
				 "does not exist",
				 dir, path);
		goto out;
	}
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		lbr_state_seterr(err, errlen,
				 "state: '%s' is not a regular "
				 "file",
				 path);
		goto out;
	}
	r = LBR_ENOMEM;
	l = calloc(1, sizeof(*l));
	if (!l)
		goto out;
	l->lock_fd = -1;
	if (init_audit_cv(l) < 0) {
		free(l);
		l = NULL;
		goto out;
	}
	l->base.location = strdup(path);
	l->lockpath = lbr_state_suffix(path, ".lock");
	if (!l->base.location || !l->lockpath)
		goto out;
	l->path = path;
	path = NULL; /* transferred */
	*out = &l->base;
	l = NULL; /* transferred */
	r = 0;
out:
	if (l)
		local_free(&l->base);
	free(path);
	free(copy);
	return r;
}

/* ---- lock ------------------------------------------------------------ */

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

/*
 * Someone else holds the lock whose file is open as fd: say who in err
 * ("state: 'FILE' is locked by " what, the holder, then tail), copy
 * their lock info to *holder when it is not NULL, and return
 * LBR_ELOCKED.
 */
static int locked_by(const struct lbr_state_store *st, int fd, const char *what, const char *tail,
		     struct lbr_lock_info *holder, char *err, size_t errlen)
{
	struct lbr_lock_info h;
	char desc[400];

	read_lock_info(fd, &h);
	if (holder)
		*holder = h;
	lbr_state_describe_holder(&h, desc, sizeof(desc));
	lbr_state_seterr(err, errlen, "state: '%s' is locked by %s%s%s", st->location, what, desc,
			 tail);
	return LBR_ELOCKED;
}

static int audit_open_locked(struct local_store *l, char *err, size_t errlen);
static pthread_mutex_t audit_mu;

static int local_lock(struct lbr_state_store *st, const char *operation, int timeout_s,
		      struct lbr_lock_info *holder, char *err, size_t errlen)
{
	struct stat a, b;
	char *info = NULL, id[37];
	struct local_store *l = L(st);
	uint64_t deadline;
	int fd = -1, r = LBR_EIO;

	if (holder)
		memset(holder, 0, sizeof(*holder));
	if (l->lock_fd >= 0) {
		lbr_state_seterr(err, errlen,
				 "state: lock on '%s' is already "
				 "held by this agent",
				 st->location);
		return LBR_EINVAL;
	}
	deadline = lbr_state_now_ms() + (uint64_t)(timeout_s > 0 ? timeout_s : 0) * 1000u;
	for (;;) {
		fd = open(l->lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
		if (fd < 0) {
			lbr_state_seterr(err, errlen,
					 "state: cannot open '%s' "
					 "(%s)",
					 l->lockpath, strerror(errno));
			goto out;
		}
		/* Fix a mode the umask spoiled; harmless if not ours. */
		(void)fchmod(fd, 0600);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			/* Someone may have replaced the file between our open
			 * and flock: then our lock guards nothing. */
			if (fstat(fd, &a) == 0 && stat(l->lockpath, &b) == 0 &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
				break;
			close(fd);
			fd = -1;
			continue;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			lbr_state_seterr(err, errlen,
					 "state: cannot lock '%s' "
					 "(%s)",
					 l->lockpath, strerror(errno));
			goto out;
		}
		if (lbr_state_now_ms() >= deadline) {
			r = locked_by(st, fd, "", "", holder, err, errlen);
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
	/* Not fsynced, for the reason given at local_unlock. */
	if (ftruncate(fd, 0) < 0 || pwrite(fd, info, strlen(info), 0) != (ssize_t)strlen(info)) {
		lbr_state_seterr(err, errlen, "state: cannot write '%s' (%s)", l->lockpath,
				 strerror(errno));
		goto out;
	}
	/* Only apply and run lock: the audit log they will append to is
	 * opened now, so that a log that cannot be written stops the pass
	 * before its first call rather than after it. */
	pthread_mutex_lock(&audit_mu);
	r = audit_open_locked(l, err, errlen);
	pthread_mutex_unlock(&audit_mu);
	if (r < 0)
		goto out;
	l->lock_fd = fd;
	fd = -1; /* transferred */
	memcpy(st->lock_id, id, sizeof(id));
	r = 0;
out:
	if (fd >= 0)
		close(fd); /* releases the flock if we took it */
	free(info);
	return r;
}

static int local_unlock(struct lbr_state_store *st)
{
	struct local_store *l = L(st);
	int r = 0;

	if (l->lock_fd < 0)
		return 0;
	/* Clear the info first so nobody reads a released lock as stale.
	 * No fsync: the flock is the lock and it does not outlive this
	 * process, let alone a crash of the machine; the info only names a
	 * holder, and a stale one on disk is read as such (lock_info). */
	if (ftruncate(l->lock_fd, 0) < 0) {
		snprintf(st->msg, sizeof(st->msg),
			 "state: cannot clear '%s.lock' "
			 "(%s)",
			 l->path, strerror(errno));
		r = LBR_EIO;
	}
	close(l->lock_fd);
	l->lock_fd = -1;
	st->lock_id[0] = '\0';
	return r;
}

static int local_force_unlock(struct lbr_state_store *st, const char *id, int force, char *err,
			      size_t errlen)
{
	struct local_store *l = L(st);
	struct lbr_lock_info h;
	int fd = -1, r = LBR_EIO;

	/* A live holder's flock cannot be broken from outside, force or
	 * not: it goes when that process exits. */
	(void)force;
	fd = open(l->lockpath, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT) {
			lbr_state_seterr(err, errlen, "state: '%s' is not locked", st->location);
			r = LBR_ENOENT;
		} else {
			lbr_state_seterr(err, errlen,
					 "state: cannot open '%s' "
					 "(%s)",
					 l->lockpath, strerror(errno));
		}
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			lbr_state_seterr(err, errlen,
					 "state: cannot lock '%s' "
					 "(%s)",
					 l->lockpath, strerror(errno));
			goto out;
		}
		/* A live process holds it: breaking it would let two agents
		 * act at once.  That process releases it when it exits. */
		r = locked_by(st, fd, "live ", "; not breaking it", NULL, err, errlen);
		goto out;
	}
	if (read_lock_info(fd, &h) < 0) {
		lbr_state_seterr(err, errlen, "state: '%s' is not locked", st->location);
		r = LBR_ENOENT;
		goto out;
	}
	r = lbr_state_check_lock_id(st, id, &h, err, errlen);
	if (r < 0)
		goto out;
	r = LBR_EIO;
	if (ftruncate(fd, 0) < 0 || fsync(fd) < 0) {
		lbr_state_seterr(err, errlen, "state: cannot clear '%s' (%s)", l->lockpath,
				 strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static int local_lock_info(struct lbr_state_store *st, struct lbr_lock_info *info)
{
	struct local_store *l = L(st);
	int fd = -1, held, found, r = LBR_ENOENT;

	fd = open(l->lockpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
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
	return r;
}
/* ---- document -------------------------------------------------------- */

/* Read and parse FILE, falling back to FILE.backup when FILE is missing.
 * *doc is NULL when neither exists.  *raw (FILE's bytes, for the backup)
 * is set only when FILE itself was read. */
static int read_current(struct lbr_state_store *st, struct lbr_state **doc, char **raw,
			size_t *rawlen, int *from_backup, char *err, size_t errlen)
{
	struct local_store *l = L(st);
	char *backup = NULL, *buf = NULL;
	size_t len = 0;
	int r;

	*doc = NULL;
	*raw = NULL;
	*rawlen = 0;
	*from_backup = 0;
	r = lbr_state_read_file(l->path, MAX_STATE_SIZE, &buf, &len);
	if (r == 0) {
		r = lbr_state_parse_file(l->path, buf, len, doc, err, errlen);
		if (r < 0)
			goto out;
		*raw = buf;
		*rawlen = len;
		buf = NULL; /* transferred */
		goto out;
	}
	if (r != -ENOENT) {
		lbr_state_seterr(err, errlen, "state: cannot read '%s' (%s)", l->path,
				 r == -EFBIG ? "file too large" : strerror(-r));
		r = r == -ENOMEM ? LBR_ENOMEM : LBR_EIO;
		goto out;
	}
	backup = lbr_state_suffix(l->path, ".backup");
	if (!backup) {
		r = LBR_ENOMEM;
		goto out;
	}
	r = lbr_state_read_file(backup, MAX_STATE_SIZE, &buf, &len);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (r < 0) {
		lbr_state_seterr(err, errlen, "state: cannot read '%s' (%s)", backup,
				 r == -EFBIG ? "file too large" : strerror(-r));
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

static int local_load(struct lbr_state_store *st, struct lbr_state **out, char *err, size_t errlen)
{
	struct local_store *l = L(st);
	struct lbr_state *doc = NULL;
	char *raw = NULL;
	size_t rawlen;
	int from_backup, r;

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
		snprintf(st->msg, sizeof(st->msg),
			 "state: '%s' is missing; "
			 "loaded the previous version from '%s.backup' "
			 "(serial %llu)",
			 l->path, l->path, (unsigned long long)doc->serial);
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
	struct local_store *l = L(st);
	struct stat a, b;
	int r = 0;

	if (l->lock_fd < 0) {
		lbr_state_seterr(err, errlen,
				 "state: cannot save '%s' without "
				 "holding its lock",
				 st->location);
		return LBR_EINVAL;
	}
	if (fstat(l->lock_fd, &a) < 0 || stat(l->lockpath, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		lbr_state_seterr(err, errlen,
				 "state: '%s' was removed or "
				 "replaced while we held it; not saving",
				 l->lockpath);
		r = LBR_EFENCED;
	}
	return r;
}

static int local_save(struct lbr_state_store *st, struct lbr_state *doc, char *err, size_t errlen)
{
	struct local_store *l = L(st);
	struct lbr_state *disk = NULL, tmpdoc;
	char *raw = NULL, *tmp = NULL, *backup = NULL;
	char *backup_tmp = NULL, *ver = NULL;
	char lineage[37];
	uint64_t serial;
	size_t rawlen;
	int from_backup, r;

	/* The audit log is on disk before the state that follows from it. */
	if (local_audit_flush(st) < 0)
		lbr_state_seterr(err, errlen, "state: cannot sync the audit log of '%s' (%s)",
				 st->location, strerror(l->audit_err));
	r = check_fence(st, err, errlen);
	if (r < 0)
		goto out;
	/* Re-read what is on disk: a corrupt or foreign file is never
	 * overwritten, and the serial continues from the stored one. */
	r = read_current(st, &disk, &raw, &rawlen, &from_backup, err, errlen);
	if (r < 0)
		goto out;
	r = lbr_state_next_version(st->location, disk, doc, lineage, &serial, err, errlen);
	if (r < 0)
		goto out;

	ver = strdup(PACKAGE_VERSION);
	tmp = lbr_state_suffix(l->path, ".tmp");
	backup = lbr_state_suffix(l->path, ".backup");
	backup_tmp = lbr_state_suffix(l->path, ".backup.tmp");
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
	/* Streamed to the file: never the whole text in memory. */
	r = lbr_state_write_tmp_doc(tmp, &tmpdoc, err, errlen);
	if (r < 0)
		goto out;
	if (raw) {
		r = lbr_state_write_tmp(backup_tmp, raw, rawlen, err, errlen);
		if (r == 0)
			r = lbr_state_rename_durable(backup_tmp, backup, err, errlen);
		if (r < 0) {
			unlink(tmp);
			goto out;
		}
	}
	r = lbr_state_rename_durable(tmp, l->path, err, errlen);
	if (r < 0)
		goto out;

	lbr_state_adopt_version(doc, lineage, serial, tmpdoc.updated_at, ver);
	ver = NULL; /* transferred */
	r = 0;
out:
	lbr_state_free(disk);
	free(raw);
	free(tmp);
	free(backup);
	free(backup_tmp);
	free(ver);
	return r;
}
/* ---- audit log ------------------------------------------------------- */

/* Every caller appends its lines with one write() on a descriptor kept
 * open with O_APPEND, so they are in the kernel before the call returns
 * and survive the agent being killed.  Syncing them to disk is a group
 * commit done by a thread of its own: at most one fdatasync() every
 * AUDIT_SYNC_MS while lines keep coming, so no caller ever waits for the
 * disk (on the cooperative executor a caller that did would hold up every
 * call in flight), and always one before the state is saved or the store
 * closed (lbr_state_audit_flush).  A power loss can therefore lose at
 * most the last AUDIT_SYNC_MS of lines; an fsync per line cost 75 us of
 * CPU per API call. */
#define AUDIT_SYNC_MS 50
static pthread_mutex_t audit_mu = PTHREAD_MUTEX_INITIALIZER;

/* Open FILE.log for appending unless it is open; audit_mu held. */
static int audit_open_locked(struct local_store *l, char *err, size_t errlen)
{
	char *logpath;
	int fd;

	if (l->audit_fd1)
		return 0;
	logpath = lbr_state_suffix(l->path, ".log");
	if (!logpath) {
		lbr_state_seterr(err, errlen, "state: out of memory");
		return LBR_ENOMEM;
	}
	fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0) {
		lbr_state_seterr(err, errlen, "state: cannot append to the audit log '%s' (%s)",
				 logpath, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(logpath);
		return LBR_EIO;
	}
	free(logpath);
	l->audit_fd1 = fd + 1;
	return 0;
}

/* The audit syncer's clock: that of its condition variable (CLOCK_MONOTONIC;
 * a condition variable cannot wait on CLOCK_BOOTTIME, the lock's clock). */
static uint64_t audit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int init_audit_cv(struct local_store *l)
{
	pthread_condattr_t a;
	int r;

	if (pthread_condattr_init(&a) != 0)
		return -1;
	r = pthread_condattr_setclock(&a, CLOCK_MONOTONIC) == 0 &&
			    pthread_cond_init(&l->audit_cv, &a) == 0
		    ? 0
		    : -1;
	pthread_condattr_destroy(&a);
	return r;
}

/* One fdatasync() of everything written so far; audit_mu held on entry
 * and on return, released during the call. */
static void sync_now(struct local_store *l)
{
	uint64_t target = l->audit_written;
	int rc, e;

	l->audit_syncing = 1;
	pthread_mutex_unlock(&audit_mu);
	rc = fdatasync(l->audit_fd1 - 1);
	e = errno;
	pthread_mutex_lock(&audit_mu);
	l->audit_syncing = 0;
	l->audit_last_sync_ms = audit_now_ms();
	if (rc < 0)
		l->audit_err = e;
	else if (target > l->audit_synced)
		l->audit_synced = target;
	pthread_cond_broadcast(&l->audit_cv);
}

static void *syncer_main(void *arg)
{
	struct local_store *l = arg;
	struct timespec at;
	uint64_t due;

	pthread_mutex_lock(&audit_mu);
	while (l->syncer_state == 1) {
		if (l->audit_written == l->audit_synced || l->audit_syncing) {
			l->syncer_idle = 1;
			pthread_cond_wait(&l->audit_cv, &audit_mu);
			l->syncer_idle = 0;
			continue;
		}
		due = l->audit_last_sync_ms + AUDIT_SYNC_MS;
		if (audit_now_ms() < due) {
			at.tv_sec = (time_t)(due / 1000);
			at.tv_nsec = (long)(due % 1000) * 1000000L;
			pthread_cond_timedwait(&l->audit_cv, &audit_mu, &at);
			continue;
		}
		sync_now(l);
	}
	pthread_mutex_unlock(&audit_mu);
	return NULL;
}

/* With audit_mu held, after lines were written: start the syncer if it
 * is not running, or tell it.  When no thread can be made (once is
 * enough to know), the writer syncs when AUDIT_SYNC_MS have passed, as
 * before the syncer existed. */
static void after_audit_write(struct local_store *l)
{
	sigset_t all, old;

	if (l->syncer_state == 0) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		l->syncer_state = pthread_create(&l->syncer, NULL, syncer_main, l) == 0 ? 1 : -1;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (l->syncer_state < 0) {
		if (!l->audit_syncing && audit_now_ms() - l->audit_last_sync_ms >= AUDIT_SYNC_MS)
			sync_now(l);
		return;
	}
	/* Only a syncer with nothing to do needs the news; one waiting for
	 * its next turn will see these lines then. */
	if (l->syncer_idle)
		pthread_cond_broadcast(&l->audit_cv);
}

static void stop_syncer(struct local_store *l)
{
	pthread_mutex_lock(&audit_mu);
	if (l->syncer_state != 1) {
		pthread_mutex_unlock(&audit_mu);
		return;
	}
	l->syncer_state = 2;
	pthread_cond_broadcast(&l->audit_cv);
	pthread_mutex_unlock(&audit_mu);
	pthread_join(l->syncer, NULL);
	pthread_mutex_lock(&audit_mu);
	l->syncer_state = 0;
	pthread_mutex_unlock(&audit_mu);
}

static int local_audit_flush(struct lbr_state_store *st)
{
	struct local_store *l = L(st);
	int r = 0;

	pthread_mutex_lock(&audit_mu);
	/* A sync in progress may not cover the last lines: wait for it,
	 * then sync whatever is left here. */
	while (l->audit_syncing)
		pthread_cond_wait(&l->audit_cv, &audit_mu);
	if (l->audit_fd1 && l->audit_written != l->audit_synced)
		sync_now(l);
	if (l->audit_err)
		r = LBR_EIO;
	pthread_mutex_unlock(&audit_mu);
	return r;
}

/* Append n records with one write(): lines of one request land together. */
static int local_audit_many(struct lbr_state_store *st, const struct lbr_audit_rec *recs, size_t n,
			    int *rcs)
{
	struct local_store *l = L(st);
	char *logpath = NULL, *line = NULL;
	size_t len = 0, i;
	int r = LBR_ENOMEM, fd, rc_w;

	line = lbr_state_audit_lines(recs, n, &len);
	if (!line)
		goto out_nolock;
	pthread_mutex_lock(&audit_mu);
	r = audit_open_locked(l, st->msg, sizeof(st->msg));
	if (r < 0)
		goto out;
	fd = l->audit_fd1 - 1;
	r = LBR_EIO;
	/* With O_APPEND one write() lands whole; no need to hold the lock
	 * (the descriptor stays open until the store is freed). */
	pthread_mutex_unlock(&audit_mu);
	rc_w = lbr_state_write_all(fd, line, len);
	pthread_mutex_lock(&audit_mu);
	if (rc_w < 0) {
		snprintf(st->msg, sizeof(st->msg),
			 "state: cannot append to the audit log of "
			 "'%s' (%s)",
			 l->path, strerror(errno));
		goto out;
	}
	l->audit_written += n;
	after_audit_write(l);
	if (l->audit_err) {
		snprintf(st->msg, sizeof(st->msg),
			 "state: cannot sync the audit log of "
			 "'%s' (%s)",
			 l->path, strerror(l->audit_err));
		goto out;
	}
	r = 0;
out:
	pthread_mutex_unlock(&audit_mu);
out_nolock:
	if (r == LBR_ENOMEM)
		snprintf(st->msg, sizeof(st->msg),
			 "state: out of memory "
			 "writing the audit log");
	free(line);
	free(logpath);
	for (i = 0; rcs && i < n; i++)
		rcs[i] = r;
	return r;
}

static int local_audit(struct lbr_state_store *st, const struct lbr_audit_rec *rec)
{
	return local_audit_many(st, rec, 1, NULL);
}

static uint64_t local_valid_until(const struct lbr_state_store *st)
{
	/* flock() is ours until we close the descriptor or exit. */
	return L(st)->lock_fd >= 0 ? UINT64_MAX : 0;
}

static int local_keepalive(struct lbr_state_store *st, char *err, size_t errlen)
{
	return check_fence(st, err, errlen);
}

const struct lbr_state_ops lbr_state_local_ops = {
	.name = "local",
	.match = local_match,
	.open = local_open,
	.free = local_free,
	.leave = local_leave,
	.lock = local_lock,
	.unlock = local_unlock,
	.keepalive = local_keepalive,
	.valid_until_ms = local_valid_until,
	.force_unlock = local_force_unlock,
	.lock_info = local_lock_info,
	.load = local_load,
	.save = local_save,
	.audit = local_audit,
	.audit_many = local_audit_many,
	.audit_flush = local_audit_flush,
};
