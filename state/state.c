/*
 * The public face of the store: opening a location picks a backend from
 * the table below, and every lbr_state_* store function dispatches through
 * its struct lbr_state_ops.  Also the helpers the backends share (UUIDs,
 * times, lock info, audit lines, the serial/lineage rule).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "state/state-int.h"

/* Checked in order: the first whose match() accepts the spec opens it. */
static const struct lbr_state_ops *const backends[] = {
	&lbr_state_etcd_ops,
	&lbr_state_local_ops,
};

/* Lock info is a small JSON object; anything bigger is not ours. */
#define MAX_LOCK_SIZE 4096

static pthread_mutex_t msg_mu = PTHREAD_MUTEX_INITIALIZER;

void lbr_state_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int lbr_state_uuid(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	/* The kernel's generator: OpenSSL's would be seeded first, which
	 * costs milliseconds at every start for 16 bytes. */
	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return LBR_EIO;
		got += (size_t)r;
	}
	/* RFC 4122 §4.4: version 4, variant 10xx. */
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

int lbr_state_uuid_valid(const char *s)
{
	size_t i;

	if (!s || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i]) {
			return 0;
		}
	}
	return 1;
}

void lbr_state_fmt_time(int64_t t, char buf[LBR_TIME_LEN])
{
	/* Audit lines of one pass mostly share their second: keep the last
	 * one formatted (per thread). */
	static __thread int64_t last_t = -1;
	static __thread char last[LBR_TIME_LEN];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == last_t && t >= 0) {
		memcpy(buf, last, LBR_TIME_LEN);
		return;
	}

	/* Four-digit year always (strftime's %Y drops leading zeros, which
	 * the parser would then refuse: found by fuzzing). */
	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		snprintf(buf, LBR_TIME_LEN, "1970-01-01T00:00:00Z");
	else
		snprintf(buf, LBR_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(last, buf, LBR_TIME_LEN);
	last_t = t;
}

int lbr_state_parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	int Y, M, D, h, m, sec, n = -1;
	const char *p;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) != 6 || n != 19)
		return -1;
	/* sscanf accepts signs and spaces inside %d; insist on digits. */
	for (int i = 0; i < 19; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return -1;
		} else if (i == 10) {
			if (s[i] != 'T')
				return -1;
		} else if (i == 13 || i == 16) {
			if (s[i] != ':')
				return -1;
		} else if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
	}
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (strcmp(p, "Z") != 0 || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 ||
	    sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*out = (int64_t)t;
	return 0;
}

void lbr_state_setmsg(struct lbr_state_store *st, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&msg_mu);
	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&msg_mu);
}

uint64_t lbr_state_now_ms(void)
{
	struct timespec ts;

	/* The lease's clock: see lbr_mono_us() (CLOCK_BOOTTIME, which a
	 * suspend does not stop). */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void lbr_state_quote_raw(const char *buf, size_t len, size_t max, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (!outlen)
		return;
	for (i = 0; i < len && i < max && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (i < len && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* ---- lock info ------------------------------------------------------- */

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* Parse lock info text; fields that are absent or malformed stay zero.
 * 0 when an id was found, -1 otherwise. */
int lbr_state_lock_info_parse(const char *buf, size_t len, struct lbr_lock_info *info)
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
	if (json_object_object_get_ex(root, "pid", &v) && json_object_is_type(v, json_type_int))
		info->pid = (long)json_object_get_int64(v);
	if (json_object_object_get_ex(root, "host", &v) && json_object_is_type(v, json_type_string))
		copy_str(info->host, sizeof(info->host), json_object_get_string(v));
	if (json_object_object_get_ex(root, "operation", &v) &&
	    json_object_is_type(v, json_type_string))
		copy_str(info->operation, sizeof(info->operation), json_object_get_string(v));
	if (json_object_object_get_ex(root, "created", &v) &&
	    json_object_is_type(v, json_type_string))
		(void)lbr_state_parse_time(json_object_get_string(v), &info->created);
	if (json_object_object_get_ex(root, "id", &v) && json_object_is_type(v, json_type_string) &&
	    lbr_state_uuid_valid(json_object_get_string(v))) {
		copy_str(info->id, sizeof(info->id), json_object_get_string(v));
		r = 0;
	}
out:
	json_object_put(root);
	return r;
}

void lbr_state_describe_holder(const struct lbr_lock_info *h, char *buf, size_t n)
{
	char when[LBR_TIME_LEN];

	if (!h->id[0]) {
		snprintf(buf, n, "another process (no lock info yet)");
		return;
	}
	lbr_state_fmt_time(h->created, when);
	snprintf(buf, n, "pid %ld on %s (%s since %s, lock id %s)", h->pid,
		 h->host[0] ? h->host : "?", h->operation[0] ? h->operation : "?", when, h->id);
}

int lbr_state_check_lock_id(const struct lbr_state_store *st, const char *id,
			    const struct lbr_lock_info *h, char *err, size_t errlen)
{
	if (id && strcmp(id, h->id) == 0)
		return 0;
	lbr_state_seterr(err, errlen, "state: lock id '%s' does not match the lock on '%s' (%s)",
			 id ? id : "", st->location, h->id);
	return LBR_EINVAL;
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
	    json_object_object_add(o, "pid", json_object_new_int64((int64_t)getpid())) ||
	    json_object_object_add(o, "host", json_object_new_string(host)) ||
	    json_object_object_add(o, "operation", json_object_new_string(operation)) ||
	    json_object_object_add(o, "created", json_object_new_string(when)))
		goto out;
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(o);
	return s;
}

/* ---- saving ---------------------------------------------------------- */

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
			   const struct lbr_state *doc, char lineage[37], uint64_t *serial,
			   char *err, size_t errlen)
{
	if (disk && doc->lineage[0] && strcmp(disk->lineage, doc->lineage)) {
		lbr_state_seterr(err, errlen,
				 "state: '%s' belongs to lineage "
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
		lbr_state_seterr(err, errlen, "state: serial of '%s' overflows", location);
		return LBR_EINVAL;
	}
	(*serial)++;
	return 0;
}

char *lbr_state_render(const struct lbr_state *doc, const char lineage[37], uint64_t serial,
		       int64_t *updated_at, char **ver)
{
	struct lbr_state tmpdoc;
	char *text;

	*ver = strdup(PACKAGE_VERSION);
	if (!*ver)
		return NULL;
	*updated_at = (int64_t)time(NULL);
	tmpdoc = *doc;
	tmpdoc.format_version = LBR_STATE_FORMAT_VERSION;
	memcpy(tmpdoc.lineage, lineage, sizeof(tmpdoc.lineage));
	tmpdoc.serial = serial;
	tmpdoc.agent_version = *ver;
	tmpdoc.updated_at = *updated_at;
	text = lbr_state_to_json(&tmpdoc, NULL);
	if (!text) {
		free(*ver);
		*ver = NULL;
	}
	return text;
}

/* ---- audit lines ----------------------------------------------------- */

char *lbr_state_audit_line(const struct lbr_audit_rec *rec)
{
	size_t len;

	return lbr_state_audit_lines(rec, 1, &len);
}

/* ---- store ----------------------------------------------------------- */

int lbr_state_store_open(const char *spec, const char *base_dir, struct lbr_state_store **out,
			 char *err, size_t errlen)
{
	const struct lbr_state_ops *ops = NULL;
	struct lbr_state_store *st = NULL;
	size_t i;
	int r;

	*out = NULL;
	if (!spec || !*spec) {
		lbr_state_seterr(err, errlen, "state: empty state location");
		return LBR_EINVAL;
	}
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]) && !ops; i++)
		if (backends[i]->match(spec))
			ops = backends[i];
	if (!ops) {
		lbr_state_seterr(err, errlen,
				 "state: unsupported state location '%s' "
				 "(a path or etcd://HOST:PORT/PREFIX)",
				 spec);
		return LBR_EINVAL;
	}
	r = ops->open(spec, base_dir, &st, err, errlen);
	if (r < 0)
		return r;
	st->ops = ops;
	st->lock_ttl = LBR_STATE_DEFAULT_TTL;
	*out = st;
	return 0;
}

void lbr_state_store_free(struct lbr_state_store *st)
{
	if (!st)
		return;
	st->ops->unlock(st);
	free(st->location);
	free(st->audit_spool);
	st->location = NULL;
	st->audit_spool = NULL;
	st->ops->free(st);
}

/* What lbr_state_store_free_at_exit() left to the kernel; volatile, or
 * the compiler drops a static that is never read and the memory becomes
 * a leak to valgrind and LeakSanitizer. */
static struct lbr_state_store *volatile store_at_exit;

void lbr_state_store_free_at_exit(struct lbr_state_store *st)
{
	if (!st)
		return;
	if (!st->ops->leave) {
		lbr_state_store_free(st);
		return;
	}
	st->ops->unlock(st);
	st->ops->leave(st);
	store_at_exit = st;
}

const char *lbr_state_store_location(const struct lbr_state_store *st)
{
	return st ? st->location : NULL;
}

const char *lbr_state_store_kind(const struct lbr_state_store *st)
{
	return st ? st->ops->name : NULL;
}

const char *lbr_state_store_message(const struct lbr_state_store *st)
{
	return st && st->msg[0] ? st->msg : NULL;
}

int lbr_state_store_set_lock_ttl(struct lbr_state_store *st, int ttl_s)
{
	if (!st || ttl_s < 1 || ttl_s > 3600)
		return LBR_EINVAL;
	st->lock_ttl = ttl_s;
	return 0;
}

int lbr_state_store_set_audit_spool(struct lbr_state_store *st, const char *path)
{
	char *copy = NULL;

	if (!st)
		return LBR_EINVAL;
	if (path && *path) {
		copy = strdup(path);
		if (!copy)
			return LBR_ENOMEM;
	}
	free(st->audit_spool);
	st->audit_spool = copy;
	return 0;
}

int lbr_state_lock(struct lbr_state_store *st, const char *operation, int timeout_s,
		   struct lbr_lock_info *holder, char *err, size_t errlen)
{
	if (holder)
		memset(holder, 0, sizeof(*holder));
	return st->ops->lock(st, operation ? operation : "", timeout_s, holder, err, errlen);
}

int lbr_state_unlock(struct lbr_state_store *st)
{
	return st ? st->ops->unlock(st) : 0;
}

int lbr_state_keepalive(struct lbr_state_store *st, char *err, size_t errlen)
{
	return st->ops->keepalive(st, err, errlen);
}

uint64_t lbr_state_lock_valid_until_ms(const struct lbr_state_store *st)
{
	return st ? st->ops->valid_until_ms(st) : 0;
}

int lbr_state_force_unlock(struct lbr_state_store *st, const char *id, int force, char *err,
			   size_t errlen)
{
	return st->ops->force_unlock(st, id, force, err, errlen);
}

int lbr_state_lock_info(struct lbr_state_store *st, struct lbr_lock_info *info)
{
	memset(info, 0, sizeof(*info));
	return st->ops->lock_info(st, info);
}

int lbr_state_load(struct lbr_state_store *st, struct lbr_state **out, char *err, size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	st->msg[0] = '\0';
	return st->ops->load(st, out, err, errlen);
}

int lbr_state_save(struct lbr_state_store *st, struct lbr_state *doc, char *err, size_t errlen)
{
	if (!doc)
		return LBR_EINVAL;
	return st->ops->save(st, doc, err, errlen);
}

int lbr_state_audit(struct lbr_state_store *st, const struct lbr_audit_rec *rec)
{
	return st->ops->audit(st, rec);
}

int lbr_state_audit_many(struct lbr_state_store *st, const struct lbr_audit_rec *recs, size_t n,
			 int *rcs)
{
	size_t i;
	int worst = 0;

	if (st->ops->audit_many)
		return st->ops->audit_many(st, recs, n, rcs);
	for (i = 0; i < n; i++) {
		int r = st->ops->audit(st, &recs[i]);

		if (rcs)
			rcs[i] = r;
		/* A lost line (negative) outweighs one kept in the spool. */
		if ((r < 0 && worst >= 0) || (r > 0 && worst == 0))
			worst = r;
	}
	return worst;
}

int lbr_state_audit_flush(struct lbr_state_store *st)
{
	return st->ops->audit_flush(st);
}
