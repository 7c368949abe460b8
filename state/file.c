/*
 * File helpers of state/: whole-file reads, crash-safe replacement, and
 * synced appends (the local backend and the etcd backend's audit spool).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/state-int.h"

char *lbr_state_suffix(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s", path, suffix);
	return s;
}

/* Read a whole file.  0, or -errno (ENOENT for a missing file, EFBIG when
 * larger than max). */
int lbr_state_read_file(const char *path, size_t max, char **out, size_t *outlen)
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

int lbr_state_write_all(int fd, const char *buf, size_t len)
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
int lbr_state_fsync_dir(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path), *dir;
	int fd = -1, r = LBR_EIO;

	if (!copy)
		return LBR_ENOMEM;
	dir = dirname(copy);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		lbr_state_seterr(err, errlen,
				 "state: cannot open directory "
				 "'%s' (%s)",
				 dir, strerror(errno));
		goto out;
	}
	/* Some file systems cannot fsync a directory; they say EINVAL and
	 * there is nothing better we could do about it. */
	if (fsync(fd) < 0 && errno != EINVAL) {
		lbr_state_seterr(err, errlen,
				 "state: cannot fsync directory "
				 "'%s' (%s)",
				 dir, strerror(errno));
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
/* What write_tmp puts in the file: a buffer or a document. */
struct tmp_content {
	const char *buf;
	size_t len;
	const struct lbr_state *doc;
};

static int write_content(int fd, const struct tmp_content *c)
{
	if (c->doc)
		return lbr_state_write_json_fd(c->doc, fd);
	return lbr_state_write_all(fd, c->buf, c->len);
}

static int write_tmp(const char *tmp, const struct tmp_content *c, char *err, size_t errlen)
{
	int fd = -1, r = LBR_EIO;

	/* A stale tmp is left by a crashed save; we hold the lock, so no live
	 * agent is writing it. */
	if (unlink(tmp) < 0 && errno != ENOENT) {
		lbr_state_seterr(err, errlen,
				 "state: cannot remove stale '%s' "
				 "(%s)",
				 tmp, strerror(errno));
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		lbr_state_seterr(err, errlen, "state: cannot create '%s' (%s)", tmp,
				 strerror(errno));
		goto out;
	}
	/* The umask may have taken bits away; state may hold nothing secret
	 * but still describes the infrastructure, so be exact. */
	if (fchmod(fd, 0600) < 0 || write_content(fd, c) < 0 || fsync(fd) < 0) {
		lbr_state_seterr(err, errlen, "state: cannot write '%s' (%s)", tmp,
				 strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		lbr_state_seterr(err, errlen, "state: cannot write '%s' (%s)", tmp,
				 strerror(errno));
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

int lbr_state_write_tmp(const char *tmp, const char *buf, size_t len, char *err, size_t errlen)
{
	struct tmp_content c = { .buf = buf, .len = len };

	return write_tmp(tmp, &c, err, errlen);
}

int lbr_state_write_tmp_doc(const char *tmp, const struct lbr_state *doc, char *err, size_t errlen)
{
	struct tmp_content c = { .doc = doc };

	return write_tmp(tmp, &c, err, errlen);
}

int lbr_state_rename_durable(const char *from, const char *to, char *err, size_t errlen)
{
	if (rename(from, to) < 0) {
		lbr_state_seterr(err, errlen,
				 "state: cannot rename '%s' to "
				 "'%s' (%s)",
				 from, to, strerror(errno));
		unlink(from);
		return LBR_EIO;
	}
	return lbr_state_fsync_dir(to, err, errlen);
}

int lbr_state_append_sync(const char *path, const char *buf, size_t len, char *err, size_t errlen)
{
	int fd, r = LBR_EIO;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		lbr_state_seterr(err, errlen, "state: cannot open '%s' (%s)", path,
				 strerror(errno));
		return LBR_EIO;
	}
	if (lbr_state_write_all(fd, buf, len) < 0 || fdatasync(fd) < 0) {
		lbr_state_seterr(err, errlen, "state: cannot append to '%s' (%s)", path,
				 strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

int lbr_state_replace_file(const char *path, const char *buf, size_t len, char *err, size_t errlen)
{
	char *tmp;
	int r;

	if (len == 0) {
		if (unlink(path) < 0 && errno != ENOENT) {
			lbr_state_seterr(err, errlen,
					 "state: cannot remove '%s' "
					 "(%s)",
					 path, strerror(errno));
			return LBR_EIO;
		}
		return lbr_state_fsync_dir(path, err, errlen);
	}
	tmp = lbr_state_suffix(path, ".tmp");
	if (!tmp)
		return LBR_ENOMEM;
	r = lbr_state_write_tmp(tmp, buf, len, err, errlen);
	if (r == 0)
		r = lbr_state_rename_durable(tmp, path, err, errlen);
	free(tmp);
	return r;
}

/* spec resolved against base_dir when relative (malloc'd) or NULL. */
char *lbr_state_resolve_path(const char *spec, const char *base_dir)
{
	size_t n;
	char *path;

	if (spec[0] == '/' || !base_dir || !*base_dir)
		return strdup(spec);
	n = strlen(base_dir) + strlen(spec) + 2;
	path = malloc(n);
	if (path)
		snprintf(path, n, "%s%s%s", base_dir,
			 base_dir[strlen(base_dir) - 1] == '/' ? "" : "/", spec);
	return path;
}
