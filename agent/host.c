/*
 * The services table plugins get, and secret scrubbing.  See host.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "agent/runtime.h"
#include "agent/cfg.h"
#include "agent/error.h"
#include "agent/host.h"
#include "agent/http.h"
#include "agent/log.h"
#include "agent/obs.h"
#include "agent/util.h"
#include "common/provcommon.h"
#include "state/state.h"

/* ------------------------------------------------------------- secrets */

static pthread_rwlock_t secrets_mu = PTHREAD_RWLOCK_INITIALIZER;
static char **secrets;
static size_t n_secrets;
/* For the scan: the bytes a secret starts with, and the shortest length
 * (every member field of every listing is checked). */
static unsigned char secret_first[256];
static size_t secret_min;

static void wipe_free(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void lbr_host_clear_secrets(void)
{
	size_t i;

	pthread_rwlock_wrlock(&secrets_mu);
	for (i = 0; i < n_secrets; i++)
		wipe_free(secrets[i]);
	free(secrets);
	secrets = NULL;
	n_secrets = 0;
	memset(secret_first, 0, sizeof(secret_first));
	secret_min = 0;
	pthread_rwlock_unlock(&secrets_mu);
}

int lbr_host_set_secrets(const struct lbr_cfg *cfg)
{
	size_t i, k, n = 0;
	char **s;

	for (i = 0; i < cfg->n_providers; i++)
		n += cfg->providers[i].n_kv;
	s = calloc(n + 1, sizeof(char *));
	if (!s)
		return LBR_ENOMEM;
	n = 0;
	for (i = 0; i < cfg->n_providers; i++)
		for (k = 0; k < cfg->providers[i].n_kv; k++) {
			const struct lbr_cfg_kv *kv = &cfg->providers[i].kv[k];

			/* A secret of one or two characters would turn
			 * every message into noise; such a secret is no
			 * secret anyway. */
			if (!kv->secret || !kv->value || strlen(kv->value) < 3)
				continue;
			s[n] = strdup(kv->value);
			if (!s[n]) {
				while (n)
					wipe_free(s[--n]);
				free(s);
				return LBR_ENOMEM;
			}
			n++;
		}
	lbr_host_clear_secrets();
	pthread_rwlock_wrlock(&secrets_mu);
	secrets = s;
	n_secrets = n;
	for (i = 0; i < n; i++) {
		size_t len = strlen(s[i]);

		secret_first[(unsigned char)s[i][0]] = 1;
		if (!secret_min || len < secret_min)
			secret_min = len;
	}
	pthread_rwlock_unlock(&secrets_mu);
	return 0;
}

/* Does s contain a secret?  Called with secrets_mu held.  One pass over
 * s: only where a secret could start is it compared. */
static int secret_in(const char *s)
{
	size_t len = strlen(s), i, k;

	if (!n_secrets || len < secret_min)
		return 0;
	for (i = 0; i + secret_min <= len; i++) {
		if (!secret_first[(unsigned char)s[i]])
			continue;
		for (k = 0; k < n_secrets; k++)
			if (secrets[k][0] == s[i] &&
			    !strncmp(s + i, secrets[k], strlen(secrets[k])))
				return 1;
	}
	return 0;
}

void lbr_scrub(char *buf, size_t size)
{
	size_t i;

	if (!buf || !size)
		return;
	buf[size - 1] = '\0';
	pthread_rwlock_rdlock(&secrets_mu);
	if (secret_in(buf))
		for (i = 0; i < n_secrets; i++) /* the plugins' own helper */
			lbr_pc_redact(buf, size, secrets[i], "[redacted]");
	pthread_rwlock_unlock(&secrets_mu);
}

void lbr_scrub_result(struct lbr_call_result *res)
{
	lbr_scrub(res->code, sizeof(res->code));
	lbr_scrub(res->message, sizeof(res->message));
	lbr_scrub(res->request_id, sizeof(res->request_id));
}

void lbr_scrub_item(struct lbr_item_result *it)
{
	lbr_scrub(it->id, sizeof(it->id));
	lbr_scrub(it->message, sizeof(it->message));
}

/* ---------------------------------------------------------------- table */

/* Fencing (SPEC §7): no mutating request once the lock may have expired by
 * our own monotonic clock.  The margin covers one whole request: a request
 * sent just before the deadline may be in flight for `timeout` seconds. */
static int fenced(struct lbr_call *call, char *err, size_t errlen)
{
	struct lbr_engine *e = call->e;
	uint64_t until, margin;

	if (!e->store)
		return 0;
	until = lbr_state_lock_valid_until_ms(e->store);
	margin = (uint64_t)(call->prov->cfg->timeout_s > 0 ? call->prov->cfg->timeout_s : 10) *
			 1000u +
		 1000u;
	if (until != UINT64_MAX && (until == 0 || lbr_mono_ms() + margin >= until)) {
		__atomic_store_n(&e->fenced, 1, __ATOMIC_RELEASE);
		snprintf(err, errlen, "not sent: the state lock may have expired (fencing)");
		return 1;
	}
	return 0;
}

static int h_http(struct lbr_call *call, const struct lbr_http_request *req,
		  struct lbr_http_response *resp, char *err, size_t errlen)
{
	struct lbr_http_opts o;
	char red[1024];
	uint64_t t0 = lbr_mono_ms();
	int r;

	memset(&o, 0, sizeof(o));
	if (call && call->prov) {
		o.ca_file = call->prov->cfg->ca_file;
		o.allow_insecure_http = call->prov->cfg->allow_insecure_http;
		o.timeout_s = call->prov->cfg->timeout_s;
	}
	/* plan and drift never mutate: any request for an operation other
	 * than a listing on a read-only engine is refused here, whatever the
	 * plugin does.  (UCloud reads are POSTs, so the check is on the
	 * operation, not the method.) */
	if (call && call->op != LBR_OP_LIST) {
		if (!call->e->allow_mutate) {
			snprintf(err, errlen,
				 "internal error: mutating call attempted in a read-only command");
			return LBR_EFATAL;
		}
		if (fenced(call, err, errlen)) {
			call->http_refused = 1;
			return LBR_EFATAL;
		}
	}
	if (call)
		call->http_sent++;
	r = lbr_http_perform(&o, req, resp, err, errlen);
	if (lbr_log_level >= LBR_LOG_DEBUG) {
		lbr_http_redact_url(req->url, red, sizeof(red));
		if (r == 0)
			lbr_debug("http: %s %s -> %ld (%llu ms)", req->method, red, resp->status,
				  (unsigned long long)(lbr_mono_ms() - t0));
		else
			lbr_debug("http: %s %s -> %s (%llu ms)", req->method, red, err,
				  (unsigned long long)(lbr_mono_ms() - t0));
	}
	return r;
}

static void h_log(struct lbr_call *call, int level, const char *fmt, ...)
{
	char tag[300] = "", line[2048];
	va_list ap;

	if (level > lbr_log_level)
		return;
	if (call && call->pool)
		snprintf(tag, sizeof(tag), "pool \"%s\": ", call->pool->cfg->name);
	else if (call && call->prov)
		snprintf(tag, sizeof(tag), "provider \"%s\": ", call->prov->cfg->name);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	lbr_scrub(line, sizeof(line));
	lbr_log(level, "%s%s", tag, line);
}

static int64_t h_now(struct lbr_call *call)
{
	(void)call;
	return (int64_t)time(NULL);
}

/* Does s contain any secret the core resolved? */
static int has_secret(const char *s)
{
	int hit;

	if (!s || !*s)
		return 0;
	pthread_rwlock_rdlock(&secrets_mu);
	hit = secret_in(s);
	pthread_rwlock_unlock(&secrets_mu);
	return hit;
}

/* What a plugin lists is scrubbed too.  A rule label (shown, never acted
 * on) holding a secret is replaced whole.  Everything else a member or rule
 * carries is acted on: ids and addresses name what is removed, a member's
 * name, instance id and type decide what `protect` selectors match (a
 * redacted name would unprotect a member), and rule attributes are re-sent
 * verbatim.  None of those can be changed, so the listing is refused. */
static int h_obs_add_member(struct lbr_obs *o, const struct lbr_member_info *m)
{
	if (has_secret(m->id) || has_secret(m->address) || has_secret(m->name) ||
	    has_secret(m->instance_id) || has_secret(m->type)) {
		if (!o->err[0])
			snprintf(
				o->err, sizeof(o->err),
				"the plugin listed a member whose id, address, name, instance id or type contains a secret value; not acting on this listing");
		return LBR_EINVAL;
	}
	return lbr_obs_add_member(o, m);
}

static int h_obs_add_rule(struct lbr_obs *o, const struct lbr_rule_info *r)
{
	struct lbr_rule_info c = *r;
	size_t i;
	int bad = has_secret(r->id);

	for (i = 0; !bad && i < r->n_members; i++)
		bad = has_secret(r->member_ids[i]);
	for (i = 0; !bad && i < r->n_attrs; i++)
		bad = has_secret(r->attrs[i].key) || has_secret(r->attrs[i].value);
	if (bad) {
		if (!o->err[0])
			snprintf(
				o->err, sizeof(o->err),
				"the plugin listed a rule whose id, members or attributes contain a secret value; not acting on this listing");
		return LBR_EINVAL;
	}
	if (has_secret(c.label))
		c.label = "[redacted]";
	return lbr_obs_add_rule(o, &c);
}

static const struct lbr_host the_host = {
	.struct_size = sizeof(struct lbr_host),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.http = h_http,
	.http_header = lbr_http_header,
	.http_release = lbr_http_release,
	.log = h_log,
	.now = h_now,
	.obs_add_member = h_obs_add_member,
	.obs_add_rule = h_obs_add_rule,
	.url_encode = lbr_http_url_encode,
	.url_decode = lbr_http_url_decode,
};

const struct lbr_host *lbr_host_table(void)
{
	return &the_host;
}
