/*
 * See fuzzhost.h.  Deliberately stricter than the real core where that
 * finds bugs (exact-size bodies, every string walked) and simpler where
 * the core's behaviour is not what is being fuzzed (no real HTTP).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/fuzz/fuzzhost.h"

static long resp_status;
static const void *resp_body;
static size_t resp_len;
static int resp_rc;
static size_t n_members, n_rules, n_requests;
static int call_token, obs_token;

/* Walk a string the plugin handed over; volatile so the loop stays. */
static size_t touch(const char *s)
{
	volatile size_t n = 0;

	if (!s)
		return 0;
	while (s[n])
		n++;
	return n;
}

static int h_http(struct lbr_call *call, const struct lbr_http_request *req,
		  struct lbr_http_response *resp, char *err, size_t errlen)
{
	char *copy;
	size_t i;

	(void)call;
	n_requests++;
	touch(req->method);
	touch(req->url);
	for (i = 0; req->headers && req->headers[i]; i++)
		touch(req->headers[i]);
	if (req->body && req->body_len) {
		/* Read the whole declared body once. */
		volatile unsigned char x = 0;

		for (i = 0; i < req->body_len; i++)
			x ^= ((const unsigned char *)req->body)[i];
		(void)x;
	}
	memset(resp, 0, sizeof(*resp));
	if (resp_rc < 0) {
		snprintf(err, errlen, "fuzz: transport failure %d", resp_rc);
		return resp_rc;
	}
	/* NUL-terminated like the core's, but not one byte longer. */
	copy = malloc(resp_len + 1);
	if (!copy) {
		snprintf(err, errlen, "fuzz: out of memory");
		return -1;
	}
	if (resp_len)
		memcpy(copy, resp_body, resp_len);
	copy[resp_len] = '\0';
	resp->status = resp_status;
	resp->body = copy;
	resp->body_len = resp_len;
	resp->retry_after_ms = resp_status == 429 ? 1500 : 0;
	resp->priv = copy;
	return 0;
}

static const char *h_http_header(const struct lbr_http_response *resp,
				 const char *name)
{
	/* Longer than any result field and with a control byte, so that
	 * truncation and sanitising of request ids run on every call. */
	static const char rid[] =
		"req-0123456789abcdef0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef0123456789abcdef\x01"
		"0123456789abcdef0123456789abcdef";

	touch(name);
	if (!resp || !resp->priv)
		return NULL;
	if (!strcasecmp(name, "Retry-After"))
		return "2";
	if (strcasestr(name, "request"))
		return rid;
	return NULL;
}

static void h_http_release(struct lbr_http_response *resp)
{
	free(resp->priv);
	resp->priv = NULL;
	resp->body = NULL;
	resp->body_len = 0;
}

static void h_log(struct lbr_call *call, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	(void)call;
	(void)level;
	/* Format (so bad format arguments are caught) but print nothing:
	 * libFuzzer runs millions of inputs. */
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}

static int64_t h_now(struct lbr_call *call)
{
	(void)call;
	return 1700000000; /* 2023-11-14T22:13:20Z */
}

static int h_obs_add_member(struct lbr_obs *obs,
			    const struct lbr_member_info *m)
{
	if (obs != fuzz_obs() || !m)
		abort();
	touch(m->id);
	touch(m->address);
	touch(m->name);
	touch(m->instance_id);
	touch(m->type);
	/* The ABI promises these; a plugin breaking them is a bug. */
	if (!m->id || !m->address || m->port < 1 || m->port > 65535)
		abort();
	if (m->type && strcmp(m->type, "ip") != 0 &&
	    strcmp(m->type, "instance") != 0)
		abort();
	n_members++;
	return 0;
}

static int h_obs_add_rule(struct lbr_obs *obs, const struct lbr_rule_info *r)
{
	size_t i;

	if (obs != fuzz_obs() || !r || !r->id)
		abort();
	touch(r->id);
	touch(r->label);
	for (i = 0; i < r->n_members; i++)
		touch(r->member_ids[i]);
	for (i = 0; i < r->n_attrs; i++) {
		touch(r->attrs[i].key);
		touch(r->attrs[i].value);
	}
	n_rules++;
	return 0;
}

static char *h_url_encode(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(len * 3 + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *h_url_decode(const char *s, size_t len, size_t *out_len)
{
	char *out = malloc(len + 1);
	size_t i, n = 0;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			out[n++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

static const struct lbr_host host = {
	.struct_size = sizeof(struct lbr_host),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.http = h_http,
	.http_header = h_http_header,
	.http_release = h_http_release,
	.log = h_log,
	.now = h_now,
	.obs_add_member = h_obs_add_member,
	.obs_add_rule = h_obs_add_rule,
	.url_encode = h_url_encode,
	.url_decode = h_url_decode,
};

const struct lbr_host *fuzz_host(void)
{
	return &host;
}

struct lbr_call *fuzz_call(void)
{
	return (struct lbr_call *)&call_token;
}

struct lbr_obs *fuzz_obs(void)
{
	return (struct lbr_obs *)&obs_token;
}

void fuzz_host_set_response(long status, const void *body, size_t len,
			    int transport_rc)
{
	resp_status = status;
	resp_body = body;
	resp_len = len;
	resp_rc = transport_rc;
}

size_t fuzz_host_n_members(void)
{
	return n_members;
}

size_t fuzz_host_n_rules(void)
{
	return n_rules;
}

size_t fuzz_host_n_requests(void)
{
	return n_requests;
}

void fuzz_host_reset(void)
{
	n_members = n_rules = n_requests = 0;
	fuzz_host_set_response(0, NULL, 0, 0);
}
