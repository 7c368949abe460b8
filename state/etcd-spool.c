/*
 * The etcd backend's audit spool: audit lines etcd did not take, kept in
 * a local file as "KEY<TAB>LINE" and put under their original keys later
 * (see etcd.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/etcd-int.h"

#define MAX_SPOOL (64u << 20)

/*
 * Put the spooled lines, in file order, and drop those etcd took.  0 when
 * the spool is empty afterwards (or another thread is replaying it), <0
 * (err filled) when a line could not be put.  No lock is held while
 * talking to etcd; lines appended meanwhile stay in the file.
 */
int lbr_etcd_spool_replay(struct etcd_store *e, char *err, size_t errlen)
{
	const char *path = e->base.audit_spool;
	char *buf = NULL, *cur = NULL, *p, *nl, *tab;
	size_t len = 0, done = 0, curlen = 0;
	int r;

	pthread_mutex_lock(&e->mu);
	if (!path || !e->spool_pending || e->spool_busy) {
		pthread_mutex_unlock(&e->mu);
		return 0;
	}
	e->spool_busy = 1;
	r = lbr_state_read_file(path, MAX_SPOOL, &buf, &len);
	pthread_mutex_unlock(&e->mu);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (r < 0) {
		lbr_state_seterr(err, errlen,
				 "state: cannot read the audit "
				 "spool '%s' (%s)",
				 path, strerror(-r));
		r = LBR_EIO;
		goto out;
	}
	for (p = buf; (nl = memchr(p, '\n', len - (size_t)(p - buf))); p = nl + 1) {
		*nl = '\0';
		tab = strchr(p, '\t');
		/* A line torn by a crash cannot be put: skip it. */
		if (tab && tab > p) {
			*tab = '\0';
			*nl = '\n';
			r = lbr_etcd_put(e, p, tab + 1, (size_t)(nl + 1 - (tab + 1)), err, errlen);
			if (r < 0)
				break;
		}
		done = (size_t)(nl + 1 - buf);
	}
	pthread_mutex_lock(&e->mu);
	if (done) {
		/* Keep what was not sent and what was appended since. */
		int rr = lbr_state_read_file(path, MAX_SPOOL, &cur, &curlen);

		if (rr == 0 && curlen >= done) {
			rr = lbr_state_replace_file(path, cur + done, curlen - done,
						    r < 0 ? NULL : err, r < 0 ? 0 : errlen);
			if (rr == 0)
				curlen -= done;
		}
		if (rr < 0 && r == 0)
			r = LBR_EIO;
		if (rr == 0 && curlen == 0)
			e->spool_pending = 0;
	} else if (r == 0 && len == 0) {
		e->spool_pending = 0;
	}
	pthread_mutex_unlock(&e->mu);
out:
	pthread_mutex_lock(&e->mu);
	if (r == 0 && !buf)
		e->spool_pending = 0;
	e->spool_busy = 0;
	pthread_mutex_unlock(&e->mu);
	free(buf);
	free(cur);
	return r;
}

int lbr_etcd_spool_append(struct etcd_store *e, const char *key, const char *line, char *err,
			  size_t errlen)
{
	size_t n = strlen(key) + strlen(line) + 2;
	char *rec = malloc(n);
	int r;

	if (!rec)
		return LBR_ENOMEM;
	snprintf(rec, n, "%s\t%s", key, line);
	pthread_mutex_lock(&e->mu);
	r = lbr_state_append_sync(e->base.audit_spool, rec, strlen(rec), err, errlen);
	if (r == 0)
		e->spool_pending = 1;
	pthread_mutex_unlock(&e->mu);
	free(rec);
	return r;
}
