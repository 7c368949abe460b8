/*
 * fakecloud: the HTTP server core.  It owns the listening socket
 * (libmicrohttpd, one thread per connection so that injected latency on
 * one connection never blocks another), the request log, the statistics,
 * fault rules, the rate limiter and the /_fake/ control API; hw.c and uc.c
 * emulate the two clouds.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "fakecloud.h"

#define FC_MAX_BODY (12 * 1024 * 1024)

static int64_t t0_ms;

/* ------------------------------------------------------------ helpers */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t fc_now_ms(void)
{
	return mono_ms() - t0_ms;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleep until at_us on CLOCK_MONOTONIC (no-op when past). */
static void sleep_until_us(int64_t at_us)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(at_us / 1000000);
	ts.tv_nsec = (long)(at_us % 1000000) * 1000L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* A small seeded PRNG (xorshift64*): ids are reproducible with --seed. */
static pthread_mutex_t rng_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rng_next(void)
{
	uint64_t x;

	pthread_mutex_lock(&rng_mu);
	x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	pthread_mutex_unlock(&rng_mu);
	return x * 2685821657736338717ULL;
}

static double rng_unit(void)
{
	return (double)(rng_next() >> 11) / (double)(1ULL << 53);
}

void fc_rand_hex(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = hex[(rng_next() >> 32) & 15];
	out[n] = '\0';
}

void fc_rand_alnum(char *out, size_t n)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = set[(rng_next() >> 32) % 36];
	out[n] = '\0';
}

void fc_uuid(char *out)
{
	char h[33];

	fc_rand_hex(h, 32);
	h[12] = '4';
	h[16] = "89ab"[(rng_next() >> 40) & 3];
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static void to_hex(const unsigned char *d, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[2 * n] = '\0';
}

void fc_sha256_hex(const void *data, size_t len, char *hex)
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256(data, len, d);
	to_hex(d, sizeof(d), hex);
}

void fc_sha1_hex(const void *data, size_t len, char *hex)
{
	unsigned char d[SHA_DIGEST_LENGTH];

	SHA1(data, len, d);
	to_hex(d, sizeof(d), hex);
}

void fc_hmac_sha256_hex(const char *key, const void *data, size_t len, char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	HMAC(EVP_sha256(), key, (int)strlen(key), data, len, d, &dlen);
	to_hex(d, dlen, hex);
}

int fc_params_add(struct fc_params *p, const char *k, size_t klen, const char *v, size_t vlen)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct fc_kv *nv = realloc(p->v, cap * sizeof(*nv));

		if (!nv)
			return -1;
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n].k = strndup(k, klen);
	p->v[p->n].v = strndup(v, vlen);
	if (!p->v[p->n].k || !p->v[p->n].v) {
		free(p->v[p->n].k);
		free(p->v[p->n].v);
		return -1;
	}
	p->n++;
	return 0;
}

const char *fc_params_get(const struct fc_params *p, const char *k)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].k, k) == 0)
			return p->v[i].v;
	return NULL;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct fc_kv *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c ? c : strcmp(x->v, y->v);
}

void fc_params_sort(struct fc_params *p)
{
	if (p->n)
		qsort(p->v, p->n, sizeof(*p->v), kv_cmp);
}

void fc_params_release(struct fc_params *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].k);
		free(p->v[i].v);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

void fc_unescape(char *s)
{
	/* libmicrohttpd's decoder handles %XX only, which is what we want:
	 * '+' is handled by the caller according to the body type. */
	MHD_http_unescape(s);
}

int fc_parse_urlencoded(struct fc_params *p, const char *s, size_t len, bool plus_is_space)
{
	const char *end = s + len;

	while (s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *seg_end = amp ? amp : end;
		const char *eq = memchr(s, '=', (size_t)(seg_end - s));
		char *k, *v, *c;
		int rc;

		if (seg_end == s) {
			s = seg_end + 1;
			continue;
		}
		k = strndup(s, (size_t)((eq ? eq : seg_end) - s));
		v = eq ? strndup(eq + 1, (size_t)(seg_end - eq - 1)) : strdup("");
		if (!k || !v) {
			free(k);
			free(v);
			return -1;
		}
		if (plus_is_space) {
			for (c = k; *c; c++)
				if (*c == '+')
					*c = ' ';
			for (c = v; *c; c++)
				if (*c == '+')
					*c = ' ';
		}
		fc_unescape(k);
		fc_unescape(v);
		rc = fc_params_add(p, k, strlen(k), v, strlen(v));
		free(k);
		free(v);
		if (rc < 0)
			return -1;
		s = seg_end + 1;
	}
	return 0;
}

/* ------------------------------------------------------------ replies */

void fc_hdr(struct fc_req *r, const char *name, const char *value)
{
	if (r->nhdrs >= FC_MAX_HDRS)
		return;
	r->hdrs[r->nhdrs].k = strdup(name);
	r->hdrs[r->nhdrs].v = strdup(value);
	r->nhdrs++;
}

void fc_reply_raw(struct fc_req *r, int status, const char *text, size_t len, const char *ctype)
{
	free(r->resp_body);
	r->resp_body = NULL;
	r->resp_len = 0;
	if (text && len) {
		/* NUL-terminated too, so that post-processing can parse it. */
		r->resp_body = malloc(len + 1);
		if (r->resp_body) {
			memcpy(r->resp_body, text, len);
			r->resp_body[len] = '\0';
			r->resp_len = len;
		}
	}
	r->status = status;
	r->ctype = ctype;
}

void fc_reply_json(struct fc_req *r, int status, json_object *obj, const char *ctype)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
								    JSON_C_TO_STRING_NOSLASHESCAPE);

	fc_reply_raw(r, status, s, strlen(s), ctype ? ctype : "application/json; charset=UTF-8");
	json_object_put(obj);
}

/* ------------------------------------------------------ faults, limits */

struct fault_rule {
	char cloud[8];
	char op[64];
	long count; /* remaining; -1 = unlimited */
	double probability;
	struct fc_fault_hit hit;
	char name[24]; /* what the log's "fault" says */
};

static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fault_rule *faults;
static size_t nfaults;

/* Does a rule/setting 'op' name this request? */
static bool op_matches(const char *op, const struct fc_req *r)
{
	const char *a = r->action;

	if (strcmp(op, "any") == 0 || strcmp(op, r->op) == 0)
		return true;
	/* The generic names also select their Huawei v3 counterparts
	 * ("list" matches "v3_list"). */
	if (strcmp(r->cloud, "hw") == 0)
		return strncmp(r->op, "v3_", 3) == 0 && strcmp(op, r->op + 3) == 0;
	if (!a[0])
		return false;
	/* Generic names also select the UCloud actions doing the same job. */
	if (strcmp(op, "list") == 0)
		return !strcmp(a, "DescribeVServer") || !strcmp(a, "DescribeULB");
	if (strcmp(op, "delete") == 0)
		return !strcmp(a, "ReleaseBackend");
	if (strcmp(op, "update") == 0)
		return !strcmp(a, "UpdateBackendAttribute") || !strcmp(a, "UpdatePolicy");
	if (strcmp(op, "create") == 0)
		return !strcmp(a, "AllocateBackend");
	return false;
}

void fc_fault_check(const struct fc_req *r, struct fc_fault_hit *hit)
{
	size_t i;

	memset(hit, 0, sizeof(*hit));
	hit->retry_after = -1;
	pthread_mutex_lock(&fault_mu);
	for (i = 0; i < nfaults; i++) {
		struct fault_rule *f = &faults[i];

		if (f->count == 0)
			continue;
		if (strcmp(f->cloud, "any") != 0 && strcmp(f->cloud, r->cloud))
			continue;
		if (!op_matches(f->op, r))
			continue;
		if (f->probability < 1.0 && rng_unit() >= f->probability)
			continue;
		if (f->count > 0)
			f->count--;
		*hit = f->hit;
		break;
	}
	pthread_mutex_unlock(&fault_mu);
}

static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;
static double rl_tokens;
static int64_t rl_last_ms = -1;

bool fc_rate_limited(const struct fc_req *r)
{
	struct fc_settings *s = fc_settings();
	double rate;
	char op[64];
	bool limited = false;
	int64_t now = fc_now_ms();

	fc_world_lock();
	rate = s->rl_per_sec;
	memcpy(op, s->rl_op, sizeof(op));
	fc_world_unlock();
	if (rate <= 0 || !op_matches(op, r))
		return false;
	pthread_mutex_lock(&rl_mu);
	/* A bucket of one second's worth of tokens, refilled continuously. */
	if (rl_last_ms < 0) {
		rl_tokens = rate;
	} else {
		rl_tokens += (double)(now - rl_last_ms) * rate / 1000.0;
		if (rl_tokens > rate)
			rl_tokens = rate;
	}
	rl_last_ms = now;
	if (rl_tokens >= 1.0)
		rl_tokens -= 1.0;
	else
		limited = true;
	pthread_mutex_unlock(&rl_mu);
	return limited;
}

/* ---------------------------------------------------------- log, stats */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_fp;
static char **log_lines;
static size_t log_n, log_cap;
static unsigned long log_seq;
static unsigned long conn_total; /* numbering, never reset */
static unsigned long stat_conns, stat_requests;
static json_object *stat_by_op;

static void log_request(struct fc_req *r)
{
	json_object *o = json_object_new_object();
	const char *line;
	char *copy;
	json_object *cnt;

	pthread_mutex_lock(&log_mu);
	json_object_object_add(o, "seq", json_object_new_int64(++log_seq));
	json_object_object_add(o, "t_ms", json_object_new_int64(fc_now_ms()));
	json_object_object_add(o, "t_start_ms", json_object_new_int64(r->t_start_ms));
	json_object_object_add(o, "cloud", json_object_new_string(r->cloud));
	json_object_object_add(o, "conn", json_object_new_int64(r->conn_no));
	json_object_object_add(o, "method", json_object_new_string(r->method));
	json_object_object_add(o, "path", json_object_new_string(r->path));
	json_object_object_add(o, "query", json_object_new_string(r->query));
	json_object_object_add(o, "op", json_object_new_string(r->op));
	if (r->pool_id)
		json_object_object_add(o, "pool_id", json_object_new_string(r->pool_id));
	if (r->member_id)
		json_object_object_add(o, "member_id", json_object_new_string(r->member_id));
	/* Huawei request bodies carry no secret (auth is in headers): log
	 * them so tests can assert what was sent (drain's explicit 0). */
	if (strcmp(r->cloud, "hw") == 0 && r->body && r->body_len)
		json_object_object_add(o, "body",
				       json_object_new_string_len(r->body, (int)r->body_len));
	if (strcmp(r->cloud, "uc") == 0) {
		json_object_object_add(o, "action", json_object_new_string(r->action));
		json_object_object_add(o, "params",
				       r->params_log ? json_object_get(r->params_log)
						     : json_object_new_object());
	}
	json_object_object_add(o, "auth", json_object_new_string(r->auth ? r->auth : "none"));
	if (r->locked)
		json_object_object_add(o, "locked", json_object_new_boolean(1));
	json_object_object_add(o, "status", json_object_new_int(r->reset ? 0 : r->status));
	if (r->has_retcode)
		json_object_object_add(o, "retcode", json_object_new_int(r->retcode));
	if (r->fault)
		json_object_object_add(o, "fault", json_object_new_string(r->fault));
	json_object_object_add(o, "applied", json_object_new_boolean(r->applied));
	json_object_object_add(o, "request_id", json_object_new_string(r->reqid));
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (log_fp) {
		fputs(line, log_fp);
		fputc('\n', log_fp);
		fflush(log_fp);
	}
	copy = strdup(line);
	if (copy && log_n == log_cap) {
		size_t cap = log_cap ? log_cap * 2 : 1024;
		char **nl = realloc(log_lines, cap * sizeof(*nl));

		if (nl) {
			log_lines = nl;
			log_cap = cap;
		}
	}
	if (copy && log_n < log_cap)
		log_lines[log_n++] = copy;
	else
		free(copy);
	stat_requests++;
	if (json_object_object_get_ex(stat_by_op, r->op, &cnt))
		json_object_set_int64(cnt, json_object_get_int64(cnt) + 1);
	else
		json_object_object_add(stat_by_op, r->op, json_object_new_int64(1));
	pthread_mutex_unlock(&log_mu);
	json_object_put(o);
}

static void log_reply(struct fc_req *r)
{
	size_t i, len = 2;
	char *buf, *p;

	pthread_mutex_lock(&log_mu);
	for (i = 0; i < log_n; i++)
		len += strlen(log_lines[i]) + 2;
	buf = malloc(len + 1);
	if (buf) {
		p = buf;
		*p++ = '[';
		for (i = 0; i < log_n; i++) {
			size_t l = strlen(log_lines[i]);

			if (i)
				*p++ = ',';
			memcpy(p, log_lines[i], l);
			p += l;
		}
		*p++ = ']';
		*p = '\0';
	}
	pthread_mutex_unlock(&log_mu);
	if (!buf) {
		fc_reply_raw(r, 500, "out of memory", 13, "text/plain");
		return;
	}
	fc_reply_raw(r, 200, buf, strlen(buf), "application/json; charset=UTF-8");
	free(buf);
}

/* Cloud requests let through the hold gate since the last log clear, and
 * those waiting in it now (under log_mu). */
static size_t hold_admitted, hold_waiting;

static void log_clear(void)
{
	size_t i;

	pthread_mutex_lock(&log_mu);
	for (i = 0; i < log_n; i++)
		free(log_lines[i]);
	log_n = 0;
	hold_admitted = 0;
	pthread_mutex_unlock(&log_mu);
}

/* The hold gate (setting hold_after): 0 when the request may go on, 1 when
 * it was held (and must not be executed). */
static int hold_gate(void)
{
	int held = 0, hold;

	for (;;) {
		fc_world_lock();
		hold = fc_settings()->hold_after;
		fc_world_unlock();
		pthread_mutex_lock(&log_mu);
		if (hold < 0 || hold_admitted < (size_t)hold) {
			if (!held)
				hold_admitted++;
			else
				hold_waiting--;
			pthread_mutex_unlock(&log_mu);
			return held;
		}
		if (!held)
			hold_waiting++;
		pthread_mutex_unlock(&log_mu);
		held = 1;
		sleep_ms(10);
	}
}

/* The pause gate (fault effect `pause`): a matched request waits here
 * until POST /_fake/release, then goes on as if nothing matched. */
static pthread_mutex_t pause_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pause_cv = PTHREAD_COND_INITIALIZER;
static unsigned long pause_gen;
static size_t paused_now;

static void pause_wait(void)
{
	unsigned long gen;

	pthread_mutex_lock(&pause_mu);
	gen = pause_gen;
	paused_now++;
	while (pause_gen == gen)
		pthread_cond_wait(&pause_cv, &pause_mu);
	paused_now--;
	pthread_mutex_unlock(&pause_mu);
}

static size_t pause_count(void)
{
	size_t n;

	pthread_mutex_lock(&pause_mu);
	n = paused_now;
	pthread_mutex_unlock(&pause_mu);
	return n;
}

static void pause_release(void)
{
	pthread_mutex_lock(&pause_mu);
	pause_gen++;
	pthread_cond_broadcast(&pause_cv);
	pthread_mutex_unlock(&pause_mu);
}

/* ------------------------------------------------------- control API */

static void ctl_error(struct fc_req *r, int status, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	fc_reply_json(r, status, o, NULL);
}

static int fault_from_json(json_object *j, struct fault_rule *f, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		enum fc_effect eff;
		bool boolean;
	} effs[] = {
		{ "status", FC_EFF_STATUS, false },
		{ "retcode", FC_EFF_RETCODE, false },
		{ "retcode_as_string", FC_EFF_RETCODE_STR, true },
		{ "reset", FC_EFF_RESET, true },
		{ "applied_then", FC_EFF_APPLIED_THEN, false },
		{ "conflict", FC_EFF_CONFLICT, true },
		{ "garbage", FC_EFF_GARBAGE, true },
		{ "truncate", FC_EFF_TRUNCATE, true },
		{ "partial", FC_EFF_PARTIAL, false },
		{ "pause", FC_EFF_PAUSE, true },
	};
	json_object *v;
	const char *s;
	size_t i;
	int neff = 0;

	memset(f, 0, sizeof(*f));
	snprintf(f->cloud, sizeof(f->cloud), "any");
	snprintf(f->op, sizeof(f->op), "any");
	f->count = -1;
	f->probability = 1.0;
	f->hit.retry_after = -1;
	if (!json_object_is_type(j, json_type_object)) {
		snprintf(err, errlen, "a fault rule is a JSON object");
		return -1;
	}
	if (json_object_object_get_ex(j, "cloud", &v)) {
		s = json_object_get_string(v);
		if (strcmp(s, "hw") && strcmp(s, "uc") && strcmp(s, "any")) {
			snprintf(err, errlen, "cloud must be hw, uc or any");
			return -1;
		}
		snprintf(f->cloud, sizeof(f->cloud), "%s", s);
	}
	if (json_object_object_get_ex(j, "op", &v))
		snprintf(f->op, sizeof(f->op), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(j, "count", &v) && !json_object_is_type(v, json_type_null))
		f->count = json_object_get_int64(v);
	if (json_object_object_get_ex(j, "probability", &v))
		f->probability = json_object_get_double(v);
	if (json_object_object_get_ex(j, "delay_ms", &v)) {
		f->hit.delay_ms = json_object_get_int(v);
		f->hit.effect = FC_EFF_DELAY;
		snprintf(f->name, sizeof(f->name), "delay");
	}
	if (json_object_object_get_ex(j, "retry_after", &v))
		f->hit.retry_after = json_object_get_int(v);
	for (i = 0; i < sizeof(effs) / sizeof(effs[0]); i++) {
		if (!json_object_object_get_ex(j, effs[i].key, &v))
			continue;
		if (effs[i].boolean && !json_object_get_boolean(v))
			continue;
		f->hit.effect = effs[i].eff;
		f->hit.value = effs[i].boolean ? 0 : json_object_get_int(v);
		snprintf(f->name, sizeof(f->name), "%s", effs[i].key);
		neff++;
	}
	if (neff > 1) {
		snprintf(err, errlen,
			 "a fault rule has exactly one effect "
			 "(delay_ms and retry_after may be added)");
		return -1;
	}
	if (f->hit.effect == FC_EFF_NONE) {
		snprintf(err, errlen, "a fault rule needs an effect");
		return -1;
	}
	/* partial: apply the first N items of a batch, then answer
	 * "partial_status" (default 500). */
	f->hit.then_status = 500;
	if (json_object_object_get_ex(j, "partial_status", &v))
		f->hit.then_status = json_object_get_int(v);
	if (f->hit.effect == FC_EFF_PARTIAL &&
	    (f->hit.value < 0 || f->hit.then_status < 100 || f->hit.then_status > 599)) {
		snprintf(err, errlen,
			 "partial needs a count of items >= 0 "
			 "and partial_status an HTTP status code");
		return -1;
	}
	if ((f->hit.effect == FC_EFF_STATUS || f->hit.effect == FC_EFF_APPLIED_THEN) &&
	    (f->hit.value < 100 || f->hit.value > 599)) {
		snprintf(err, errlen, "status must be an HTTP status code");
		return -1;
	}
	if (f->count < -1 || f->probability < 0 || f->probability > 1) {
		snprintf(err, errlen, "bad count or probability");
		return -1;
	}
	return 0;
}

static json_object *faults_dump(void)
{
	json_object *a = json_object_new_array();
	size_t i;

	pthread_mutex_lock(&fault_mu);
	for (i = 0; i < nfaults; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "cloud", json_object_new_string(faults[i].cloud));
		json_object_object_add(o, "op", json_object_new_string(faults[i].op));
		json_object_object_add(o, "effect", json_object_new_string(faults[i].name));
		json_object_object_add(o, "remaining", json_object_new_int64(faults[i].count));
		json_object_array_add(a, o);
	}
	pthread_mutex_unlock(&fault_mu);
	return a;
}

static void ctl_faults(struct fc_req *r, json_object *body)
{
	struct fault_rule f;
	char err[256];

	if (strcmp(r->method, "DELETE") == 0) {
		pthread_mutex_lock(&fault_mu);
		free(faults);
		faults = NULL;
		nfaults = 0;
		pthread_mutex_unlock(&fault_mu);
		return fc_reply_raw(r, 204, NULL, 0, NULL);
	}
	if (strcmp(r->method, "GET") == 0)
		return fc_reply_json(r, 200, faults_dump(), NULL);
	if (strcmp(r->method, "POST") != 0)
		return ctl_error(r, 405, "method not allowed");
	if (fault_from_json(body, &f, err, sizeof(err)) < 0)
		return ctl_error(r, 400, err);
	pthread_mutex_lock(&fault_mu);
	{
		struct fault_rule *nf = realloc(faults, (nfaults + 1) * sizeof(*nf));

		if (nf) {
			faults = nf;
			faults[nfaults++] = f;
		}
	}
	pthread_mutex_unlock(&fault_mu);
	fc_reply_json(r, 201, faults_dump(), NULL);
}

static json_object *settings_dump(void)
{
	struct fc_settings *s = fc_settings();
	json_object *o = json_object_new_object(), *rl;

	json_object_object_add(o, "latency_ms", json_object_new_int(s->latency_ms));
	json_object_object_add(o, "latency_split", json_object_new_int(s->latency_split));
	json_object_object_add(o, "eventual_ms", json_object_new_int(s->eventual_ms));
	json_object_object_add(o, "page_max", json_object_new_int(s->page_max));
	json_object_object_add(o, "release_blocked_retcode",
			       json_object_new_int(s->release_blocked_retcode));
	json_object_object_add(o, "not_found_retcode", json_object_new_int(s->not_found_retcode));
	json_object_object_add(o, "lockout_threshold", json_object_new_int(s->lockout_threshold));
	json_object_object_add(o, "lockout_s", json_object_new_int(s->lockout_s));
	json_object_object_add(o, "hold_after", json_object_new_int(s->hold_after));
	pthread_mutex_lock(&log_mu);
	json_object_object_add(o, "held_now", json_object_new_int64((int64_t)hold_waiting));
	json_object_object_add(o, "paused_now", json_object_new_int64((int64_t)pause_count()));
	pthread_mutex_unlock(&log_mu);
	json_object_object_add(o, "clock_offset_s", json_object_new_int64(s->clock_offset_s));
	if (s->rl_per_sec > 0) {
		rl = json_object_new_object();
		json_object_object_add(rl, "op", json_object_new_string(s->rl_op));
		json_object_object_add(rl, "per_sec", json_object_new_double(s->rl_per_sec));
		json_object_object_add(o, "rate_limit", rl);
	} else {
		json_object_object_add(o, "rate_limit", NULL);
	}
	return o;
}

static void ctl_settings(struct fc_req *r, json_object *body)
{
	static const struct {
		const char *key;
		size_t off;
	} ints[] = {
		{ "latency_ms", offsetof(struct fc_settings, latency_ms) },
		{ "latency_split", offsetof(struct fc_settings, latency_split) },
		{ "eventual_ms", offsetof(struct fc_settings, eventual_ms) },
		{ "page_max", offsetof(struct fc_settings, page_max) },
		{ "release_blocked_retcode",
		  offsetof(struct fc_settings, release_blocked_retcode) },
		{ "not_found_retcode", offsetof(struct fc_settings, not_found_retcode) },
		{ "lockout_threshold", offsetof(struct fc_settings, lockout_threshold) },
		{ "lockout_s", offsetof(struct fc_settings, lockout_s) },
		{ "hold_after", offsetof(struct fc_settings, hold_after) },
	};
	struct fc_settings *s = fc_settings();
	json_object *v, *x;
	size_t i;

	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0)
		return ctl_error(r, 405, "method not allowed");
	if (strcmp(r->method, "POST") == 0 && !json_object_is_type(body, json_type_object))
		return ctl_error(r, 400, "settings must be a JSON object");
	fc_world_lock();
	for (i = 0; body && i < sizeof(ints) / sizeof(ints[0]); i++)
		if (json_object_object_get_ex(body, ints[i].key, &v))
			*(int *)((char *)s + ints[i].off) = json_object_get_int(v);
	if (body && json_object_object_get_ex(body, "clock_offset_s", &v))
		s->clock_offset_s = json_object_get_int64(v);
	if (body && json_object_object_get_ex(body, "rate_limit", &v)) {
		s->rl_per_sec = 0;
		if (json_object_is_type(v, json_type_object)) {
			snprintf(s->rl_op, sizeof(s->rl_op), "any");
			if (json_object_object_get_ex(v, "op", &x))
				snprintf(s->rl_op, sizeof(s->rl_op), "%s",
					 json_object_get_string(x));
			if (json_object_object_get_ex(v, "per_sec", &x))
				s->rl_per_sec = json_object_get_double(x);
		}
		pthread_mutex_lock(&rl_mu);
		rl_last_ms = -1;
		pthread_mutex_unlock(&rl_mu);
	}
	v = settings_dump();
	fc_world_unlock();
	fc_reply_json(r, 200, v, NULL);
}

static void ctl_stats(struct fc_req *r)
{
	json_object *o;

	pthread_mutex_lock(&log_mu);
	if (strcmp(r->method, "DELETE") == 0) {
		stat_requests = 0;
		stat_conns = 0;
		json_object_put(stat_by_op);
		stat_by_op = json_object_new_object();
		pthread_mutex_unlock(&log_mu);
		return fc_reply_raw(r, 204, NULL, 0, NULL);
	}
	o = json_object_new_object();
	json_object_object_add(o, "requests", json_object_new_int64((int64_t)stat_requests));
	json_object_object_add(o, "connections", json_object_new_int64((int64_t)stat_conns));
	json_object_object_add(o, "by_op", json_object_get(stat_by_op));
	/* by_op is shared with log_request(): serialise under the lock. */
	fc_reply_json(r, 200, o, NULL);
	pthread_mutex_unlock(&log_mu);
}

static void control(struct fc_req *r)
{
	const char *sub = r->path + strlen("/_fake/");
	json_object *body = NULL;
	bool is_get = strcmp(r->method, "GET") == 0;
	bool is_del = strcmp(r->method, "DELETE") == 0;

	if (r->body_len) {
		struct json_tokener *tok = json_tokener_new();

		if (tok) {
			body = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
			if (json_tokener_get_error(tok) != json_tokener_success) {
				json_object_put(body);
				body = NULL;
			}
			json_tokener_free(tok);
		}
		if (!body) {
			ctl_error(r, 400, "body is not valid JSON");
			return;
		}
	}
	if (strcmp(sub, "faults") == 0)
		ctl_faults(r, body);
	else if (strcmp(sub, "settings") == 0)
		ctl_settings(r, body);
	else if (strcmp(sub, "log") == 0 && is_get)
		log_reply(r);
	else if (strcmp(sub, "log") == 0 && is_del)
		log_clear(), fc_reply_raw(r, 204, NULL, 0, NULL);
	else if (strcmp(sub, "stats") == 0 && (is_get || is_del))
		ctl_stats(r);
	else if (strcmp(sub, "release") == 0 && strcmp(r->method, "POST") == 0)
		pause_release(), fc_reply_raw(r, 204, NULL, 0, NULL);
	else if (strcmp(sub, "state") == 0 && is_get)
		fc_reply_json(r, 200, fc_world_dump(), NULL);
	else if (strncmp(sub, "hw/", 3) == 0 || strncmp(sub, "uc/", 3) == 0)
		fc_world_control(r, sub, body);
	else
		ctl_error(r, 404, "no such control endpoint");
	json_object_put(body);
}

/* ---------------------------------------------------- cloud requests */

static void fault_status_reply(struct fc_req *r, int status, int retry_after)
{
	if (strcmp(r->cloud, "hw") == 0)
		fc_hw_fault_reply(r, status, retry_after);
	else
		fc_uc_fault_status(r, status, retry_after);
}

static void cloud_request(struct fc_req *r)
{
	struct fc_fault_hit hit;
	int latency;
	bool hw;

	hw = strcmp(r->path, "/") != 0;
	r->cloud = hw ? "hw" : "uc";
	if (hw) {
		fc_rand_hex(r->reqid, 32);
		fc_hdr(r, "X-Request-Id", r->reqid);
		fc_hdr(r, "Server", "api-gateway");
		fc_hw_classify(r);
	} else {
		fc_uuid(r->reqid);
		fc_hdr(r, "X-UCLOUD-REQUEST-UUID", r->reqid);
		fc_uc_classify(r);
	}
	if (hold_gate()) {
		r->fault = "held";
		r->reset = true;
		return;
	}
	fc_world_lock();
	latency = fc_settings()->latency_ms;
	r->latency_split = fc_settings()->latency_split;
	fc_world_unlock();
	if (latency > 0 && r->latency_split)
		sleep_until_us(r->t_start_us + (int64_t)latency * 500);
	else if (latency > 0)
		sleep_ms(latency);
	r->latency_ms = latency;

	fc_fault_check(r, &hit);
	if (hit.effect == FC_EFF_PAUSE) {
		pause_wait();
		hit.effect = FC_EFF_NONE;
	}
	if (hit.effect != FC_EFF_NONE) {
		r->fault = hit.effect == FC_EFF_DELAY ? "delay" : NULL;
		if (hit.delay_ms > 0)
			sleep_ms(hit.delay_ms);
	}
	switch (hit.effect) {
	case FC_EFF_RESET:
		r->fault = "reset";
		r->reset = true;
		return;
	case FC_EFF_STATUS:
		r->fault = "status";
		fault_status_reply(r, hit.value, hit.retry_after);
		return;
	case FC_EFF_RETCODE:
		r->fault = "retcode";
		if (hw)
			fc_hw_fault_reply(r, 503, hit.retry_after);
		else
			fc_uc_fault_retcode(r, hit.value, hit.retry_after);
		return;
	case FC_EFF_CONFLICT:
		r->fault = "conflict";
		fault_status_reply(r, 409, hit.retry_after);
		return;
	default: break;
	}
	if (fc_rate_limited(r)) {
		r->fault = "rate_limit";
		fault_status_reply(r, 429, hit.retry_after);
		return;
	}
	if (hit.effect == FC_EFF_PARTIAL) {
		r->batch_cut = true;
		r->batch_keep = hit.value;
	}
	if (hw)
		fc_hw_execute(r);
	else
		fc_uc_execute(r);

	switch (hit.effect) {
	case FC_EFF_PARTIAL:
		r->fault = "partial";
		fault_status_reply(r, hit.then_status, hit.retry_after);
		break;
	case FC_EFF_APPLIED_THEN:
		r->fault = "applied_then";
		fault_status_reply(r, hit.value, hit.retry_after);
		break;
	case FC_EFF_GARBAGE:
		r->fault = "garbage";
		r->has_retcode = false;
		fc_reply_raw(r, 200, "<html><body>502 Bad Gateway</body>", 34,
			     "application/json; charset=UTF-8");
		break;
	case FC_EFF_TRUNCATE: {
		const char *fallback = hw ? "{\"members\":[{\"id\":" : "{\"Action\":\"";
		char *b = r->resp_body;
		size_t n = r->resp_len;

		r->fault = "truncate";
		r->resp_body = NULL;
		if (b && n > 1)
			fc_reply_raw(r, 200, b, n / 2,
				     r->ctype ? r->ctype : "application/json; charset=UTF-8");
		else
			fc_reply_raw(r, 200, fallback, strlen(fallback),
				     "application/json; charset=UTF-8");
		free(b);
		break;
	}
	case FC_EFF_RETCODE_STR:
		r->fault = "retcode_as_string";
		if (!hw)
			fc_uc_retcode_as_string(r);
		break;
	default: break;
	}
}

/* ------------------------------------------------- MHD plumbing, main */

static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct fc_req *r = calloc(1, sizeof(*r));
	const char *q;

	(void)cls;
	if (!r)
		return NULL;
	r->mc = c;
	r->t_start_ms = fc_now_ms();
	r->t_start_us = mono_us();
	r->raw_uri = strdup(uri ? uri : "/");
	q = r->raw_uri ? strchr(r->raw_uri, '?') : NULL;
	r->path = r->raw_uri
			  ? strndup(r->raw_uri, q ? (size_t)(q - r->raw_uri) : strlen(r->raw_uri))
			  : NULL;
	r->query = strdup(q ? q + 1 : "");
	/* A fragment never reaches a server, but be safe. */
	if (r->query) {
		char *h = strchr(r->query, '#');

		if (h)
			*h = '\0';
	}
	snprintf(r->op, sizeof(r->op), "unknown");
	return r;
}

static void req_free(struct fc_req *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].k);
		free(r->hdrs[i].v);
	}
	fc_params_release(&r->uparams);
	json_object_put(r->params_log);
	free(r->method);
	free(r->raw_uri);
	free(r->path);
	free(r->query);
	free(r->body);
	free(r->resp_body);
	free(r->pool_id);
	free(r->member_id);
	free(r);
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	req_free(*con_cls);
	*con_cls = NULL;
}

static void conn_cb(void *cls, struct MHD_Connection *c, void **socket_ctx,
		    enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)c;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&log_mu);
	conn_total++;
	stat_conns++;
	*socket_ctx = (void *)(uintptr_t)conn_total;
	pthread_mutex_unlock(&log_mu);
}

static enum MHD_Result send_reply(struct fc_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int i;

	if (r->reset)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(r->resp_len, r->resp_body ? r->resp_body : "",
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (r->ctype && r->resp_len)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
	for (i = 0; i < r->nhdrs; i++)
		MHD_add_response_header(resp, r->hdrs[i].k, r->hdrs[i].v);
	ret = MHD_queue_response(r->mc, (unsigned int)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct fc_req *r = *con_cls;
	const union MHD_ConnectionInfo *ci;

	(void)cls;
	(void)url;
	(void)version;
	if (!r || !r->path || !r->query)
		return MHD_NO;
	if (!r->headers_seen) {
		r->headers_seen = true;
		r->method = strdup(method);
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		if (ci)
			r->conn_no = (unsigned long)(uintptr_t)ci->socket_context;
		return r->method ? MHD_YES : MHD_NO;
	}
	if (*upload_size) {
		if (r->body_len + *upload_size > FC_MAX_BODY) {
			r->too_big = true;
		} else {
			if (r->body_len + *upload_size + 1 > r->body_cap) {
				size_t cap = (r->body_len + *upload_size) * 2 + 1;
				char *nb = realloc(r->body, cap);

				if (!nb)
					return MHD_NO;
				r->body = nb;
				r->body_cap = cap;
			}
			memcpy(r->body + r->body_len, upload, *upload_size);
			r->body_len += *upload_size;
			r->body[r->body_len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!r->body) {
		r->body = strdup("");
		if (!r->body)
			return MHD_NO;
	}
	if (strncmp(r->path, "/_fake/", 7) == 0) {
		control(r);
		return send_reply(r);
	}
	if (r->too_big) {
		r->cloud = strcmp(r->path, "/") ? "hw" : "uc";
		fc_rand_hex(r->reqid, 32);
		fc_reply_raw(r, 413, "Request entity too large.", 25, "text/plain");
	} else {
		cloud_request(r);
	}
	log_request(r);
	/* Split latency: the answer leaves latency_ms after the request came. */
	if (r->latency_split && r->latency_ms > 0)
		sleep_until_us(r->t_start_us + (int64_t)r->latency_ms * 1000);
	return send_reply(r);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

static int write_port_file(const char *path, unsigned int port)
{
	char tmp[4096];
	FILE *f;
	int r = -1;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp, "w");
	if (!f)
		goto out;
	if (fprintf(f, "%u\n", port) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		unlink(tmp);
		goto out;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	r = 0;
out:
	if (r < 0)
		fprintf(stderr, "fakecloud: cannot write port file '%s' (%s)\n", path,
			strerror(errno));
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fakecloud --port-file FILE [--listen 127.0.0.1|::1] "
		   "[--port N]\n"
		   "                 [--log FILE] [--latency-ms N] [--latency-split] "
		   "[--tls-cert PEM --tls-key PEM]\n"
		   "                 [--state FILE.json] [--seed N] "
		   "[--clock-offset S] [--idle-timeout S]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port-file", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'P' },
		{ "log", required_argument, NULL, 'L' },
		{ "latency-ms", required_argument, NULL, 'd' },
		{ "latency-split", no_argument, NULL, 'D' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "clock-offset", required_argument, NULL, 'o' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *port_file = NULL, *listen_addr = "127.0.0.1";
	const char *log_path = NULL, *cert_path = NULL, *key_path = NULL;
	const char *state_path = NULL;
	char *cert = NULL, *key = NULL;
	long port = 0, idle_s = 120;
	bool seeded = false;
	uint64_t seed = 0;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr *sa;
	struct MHD_Daemon *d = NULL;
	const union MHD_DaemonInfo *di;
	unsigned int flags;
	sigset_t sigs;
	int opt, sig, ret = 1;

	t0_ms = mono_ms();
	stat_by_op = json_object_new_object();
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': port_file = optarg; break;
		case 'l': listen_addr = optarg; break;
		case 'P': port = strtol(optarg, NULL, 10); break;
		case 'L': log_path = optarg; break;
		case 'd': fc_settings()->latency_ms = atoi(optarg); break;
		case 'D': fc_settings()->latency_split = 1; break;
		case 'c': cert_path = optarg; break;
		case 'k': key_path = optarg; break;
		case 's': state_path = optarg; break;
		case 'S':
			seed = strtoull(optarg, NULL, 10);
			seeded = true;
			break;
		case 'o': fc_settings()->clock_offset_s = strtoll(optarg, NULL, 10); break;
		case 'i': idle_s = strtol(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!port_file || optind != argc || port < 0 || port > 65535 || (!cert_path != !key_path) ||
	    idle_s < 1 || idle_s > 3600) {
		usage(stderr);
		return 2;
	}
	if (!seeded)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20) ^
		       (uint64_t)mono_ms() << 40;
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;

	if (state_path) {
		json_object *st = json_object_from_file(state_path);
		char err[256];

		if (!st) {
			fprintf(stderr, "fakecloud: cannot read state '%s' (%s)\n", state_path,
				json_util_get_last_err());
			goto out;
		}
		if (fc_world_load(st, err, sizeof(err)) < 0) {
			fprintf(stderr, "fakecloud: state '%s': %s\n", state_path, err);
			json_object_put(st);
			goto out;
		}
		json_object_put(st);
	}
	if (log_path) {
		log_fp = fopen(log_path, "w");
		if (!log_fp) {
			fprintf(stderr, "fakecloud: cannot open log '%s' (%s)\n", log_path,
				strerror(errno));
			goto out;
		}
	}

	/* Latency is the time a call takes: sleep no longer than asked (the
	 * default slack, 50 us per wake-up, is inherited by the connection
	 * threads started below). */
	if (fc_settings()->latency_split)
		(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	if (MHD_is_feature_supported(MHD_FEATURE_POLL))
		flags |= MHD_USE_POLL;
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, listen_addr, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&sin;
	} else if (inet_pton(AF_INET6, listen_addr, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&sin6;
		flags |= MHD_USE_IPv6;
	} else {
		fprintf(stderr, "fakecloud: bad --listen address '%s'\n", listen_addr);
		goto out;
	}
	if (cert_path) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			fprintf(stderr, "fakecloud: libmicrohttpd was built "
					"without TLS support\n");
			goto out;
		}
		cert = slurp(cert_path);
		key = slurp(key_path);
		if (!cert || !key) {
			fprintf(stderr,
				"fakecloud: cannot read TLS cert/key "
				"'%s'/'%s'\n",
				cert_path, key_path);
			goto out;
		}
		flags |= MHD_USE_TLS;
	}

	/* Block the signals before any thread exists so that only the
	 * sigwait() below receives them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (cert)
		d = MHD_start_daemon(flags, 0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, sa,
				     MHD_OPTION_URI_LOG_CALLBACK, uri_cb, NULL,
				     MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
				     MHD_OPTION_NOTIFY_CONNECTION, conn_cb, NULL,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4000,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)idle_s,
				     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
				     MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, sa,
				     MHD_OPTION_URI_LOG_CALLBACK, uri_cb, NULL,
				     MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
				     MHD_OPTION_NOTIFY_CONNECTION, conn_cb, NULL,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4000,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)idle_s,
				     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "fakecloud: cannot listen on %s port %ld\n", listen_addr, port);
		goto out;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (!di || write_port_file(port_file, di->port) < 0)
		goto out;

	do {
		if (sigwait(&sigs, &sig) != 0)
			break;
	} while (sig != SIGINT && sig != SIGTERM);
	ret = 0;
out:
	if (d) {
		pause_release(); /* a paused request would keep its thread */
		MHD_stop_daemon(d);
	}
	if (log_fp)
		fclose(log_fp);
	free(cert);
	free(key);
	log_clear();
	free(log_lines);
	json_object_put(stat_by_op);
	return ret;
}
