/*
 * Mock implementation of the core's host services for plugin unit tests.
 * See mockhost.h.  Everything is kept in static arrays and reset by
 * mock_reset(); tests are single-threaded.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "tests/unit/mockhost.h"

#define MOCK_MAX 256

struct canned {
	long status;
	char *body;
	char **headers;
	size_t n_headers;
	int rc; /* < 0: transport error */
	char *errmsg;
};

static struct canned queue[MOCK_MAX];
static size_t q_head, q_tail;
static struct mock_request requests[MOCK_MAX];
static size_t n_requests;
static struct mock_member members[4096];
static size_t n_members;
static struct mock_rule rules[MOCK_MAX];
static size_t n_rules;
static int64_t now_value;
static int obs_fail;
static size_t n_logs;
static char last_log[1024];

/* The response handed to the plugin keeps a pointer to its canned entry
 * so that http_header() can find the headers. */
struct mock_resp_priv {
	struct canned *c;
};

static char *xstrdup(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		abort(); /* a test host may abort on OOM */
	return d;
}

static char **copy_list(const char *const *list, size_t *n_out)
{
	size_t n = 0, i;
	char **out;

	while (list && list[n])
		n++;
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		abort();
	for (i = 0; i < n; i++)
		out[i] = xstrdup(list[i]);
	*n_out = n;
	return out;
}

static void free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
}

void mock_reset(void)
{
	size_t i, j;

	for (i = 0; i < q_tail; i++) {
		free(queue[i].body);
		free(queue[i].errmsg);
		free_list(queue[i].headers, queue[i].n_headers);
	}
	q_head = q_tail = 0;
	for (i = 0; i < n_requests; i++) {
		free(requests[i].method);
		free(requests[i].url);
		free(requests[i].body);
		free_list(requests[i].headers, requests[i].n_headers);
	}
	n_requests = 0;
	for (i = 0; i < n_members; i++) {
		free(members[i].id);
		free(members[i].address);
		free(members[i].name);
		free(members[i].instance_id);
		free(members[i].type);
	}
	n_members = 0;
	for (i = 0; i < n_rules; i++) {
		free(rules[i].id);
		free(rules[i].label);
		free_list(rules[i].member_ids, rules[i].n_members);
		for (j = 0; j < rules[i].n_attrs; j++) {
			free((char *)rules[i].attrs[j].key);
			free((char *)rules[i].attrs[j].value);
		}
		free(rules[i].attrs);
	}
	n_rules = 0;
	now_value = 0;
	obs_fail = 0;
	n_logs = 0;
	last_log[0] = '\0';
}

void mock_push_response(long status, const char *body, const char *const *headers)
{
	struct canned *c;

	if (q_tail >= MOCK_MAX)
		abort();
	c = &queue[q_tail++];
	memset(c, 0, sizeof(*c));
	c->status = status;
	c->body = xstrdup(body ? body : "");
	c->headers = copy_list(headers, &c->n_headers);
}

void mock_push_transport_error(int rc, const char *msg)
{
	struct canned *c;

	if (q_tail >= MOCK_MAX)
		abort();
	c = &queue[q_tail++];
	memset(c, 0, sizeof(*c));
	c->rc = rc < 0 ? rc : -1;
	c->errmsg = xstrdup(msg ? msg : "transport error");
}

void mock_set_now(int64_t t)
{
	now_value = t;
}
void mock_set_obs_fail(int fail)
{
	obs_fail = fail;
}

static int m_http(struct lbr_call *call, const struct lbr_http_request *req,
		  struct lbr_http_response *resp, char *err, size_t errlen)
{
	struct mock_request *r;
	struct canned *c;
	struct mock_resp_priv *priv;

	(void)call;
	if (n_requests >= MOCK_MAX)
		abort();
	r = &requests[n_requests++];
	memset(r, 0, sizeof(*r));
	r->method = xstrdup(req->method);
	r->url = xstrdup(req->url);
	r->headers = copy_list(req->headers, &r->n_headers);
	if (req->body) {
		r->body = malloc(req->body_len + 1);
		if (!r->body)
			abort();
		memcpy(r->body, req->body, req->body_len);
		r->body[req->body_len] = '\0';
		r->body_len = req->body_len;
	}
	memset(resp, 0, sizeof(*resp));
	if (q_head >= q_tail) {
		snprintf(err, errlen, "mock: no canned response queued");
		return -1;
	}
	c = &queue[q_head++];
	if (c->rc < 0) {
		snprintf(err, errlen, "%s", c->errmsg);
		return c->rc;
	}
	priv = malloc(sizeof(*priv));
	if (!priv)
		abort();
	priv->c = c;
	resp->status = c->status;
	resp->body = c->body;
	resp->body_len = strlen(c->body);
	resp->priv = priv;
	{
		const char *ra = NULL;
		size_t i;

		for (i = 0; i < c->n_headers; i++)
			if (strncasecmp(c->headers[i], "Retry-After:", 12) == 0)
				ra = c->headers[i] + 12;
		if (ra)
			resp->retry_after_ms = (uint32_t)strtoul(ra, NULL, 10) * 1000u;
	}
	return 0;
}

static const char *m_http_header(const struct lbr_http_response *resp, const char *name)
{
	const struct mock_resp_priv *priv = resp->priv;
	size_t i, len = strlen(name);

	if (!priv)
		return NULL;
	for (i = 0; i < priv->c->n_headers; i++) {
		const char *h = priv->c->headers[i];

		if (strncasecmp(h, name, len) == 0 && h[len] == ':') {
			h += len + 1;
			while (*h == ' ')
				h++;
			return h;
		}
	}
	return NULL;
}

static void m_http_release(struct lbr_http_response *resp)
{
	free(resp->priv);
	resp->priv = NULL;
	resp->body = NULL;
}

static void m_log(struct lbr_call *call, int level, const char *fmt, ...)
{
	va_list ap;

	(void)call;
	(void)level;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	n_logs++;
	printf("# plugin log: %s\n", last_log);
}

static int64_t m_now(struct lbr_call *call)
{
	(void)call;
	return now_value;
}

static int m_obs_add_member(struct lbr_obs *obs, const struct lbr_member_info *m)
{
	struct mock_member *d;

	(void)obs;
	if (obs_fail || n_members >= sizeof(members) / sizeof(members[0]))
		return -1;
	d = &members[n_members++];
	d->id = xstrdup(m->id);
	d->address = xstrdup(m->address);
	d->port = m->port;
	d->weight = m->weight;
	d->enabled = m->enabled;
	d->name = m->name ? xstrdup(m->name) : NULL;
	d->instance_id = m->instance_id ? xstrdup(m->instance_id) : NULL;
	d->type = m->type ? xstrdup(m->type) : NULL;
	return 0;
}

static int m_obs_add_rule(struct lbr_obs *obs, const struct lbr_rule_info *r)
{
	struct mock_rule *d;
	size_t i;

	(void)obs;
	if (obs_fail || n_rules >= MOCK_MAX)
		return -1;
	d = &rules[n_rules++];
	d->id = xstrdup(r->id);
	d->label = xstrdup(r->label);
	d->never_empty = r->never_empty;
	d->member_ids = calloc(r->n_members + 1, sizeof(char *));
	d->attrs = calloc(r->n_attrs + 1, sizeof(struct lbr_kv));
	if (!d->member_ids || !d->attrs)
		abort();
	for (i = 0; i < r->n_members; i++)
		d->member_ids[i] = xstrdup(r->member_ids[i]);
	d->n_members = r->n_members;
	for (i = 0; i < r->n_attrs; i++) {
		d->attrs[i].key = xstrdup(r->attrs[i].key);
		d->attrs[i].value = xstrdup(r->attrs[i].value);
	}
	d->n_attrs = r->n_attrs;
	return 0;
}

static char *m_url_encode(const char *s, size_t len)
{
	char *e = curl_easy_escape(NULL, s, (int)len);
	char *d;

	if (!e)
		return NULL;
	d = strdup(e);
	curl_free(e);
	return d;
}

static char *m_url_decode(const char *s, size_t len, size_t *out_len)
{
	int n = 0;
	char *e = curl_easy_unescape(NULL, s, (int)len, &n);
	char *d;

	if (!e)
		return NULL;
	d = malloc((size_t)n + 1);
	if (d) {
		memcpy(d, e, (size_t)n);
		d[n] = '\0';
		*out_len = (size_t)n;
	}
	curl_free(e);
	return d;
}

static const struct lbr_host the_host = {
	.struct_size = sizeof(struct lbr_host),
	.abi_major = LBR_PROVIDER_ABI_MAJOR,
	.abi_minor = LBR_PROVIDER_ABI_MINOR,
	.http = m_http,
	.http_header = m_http_header,
	.http_release = m_http_release,
	.log = m_log,
	.now = m_now,
	.obs_add_member = m_obs_add_member,
	.obs_add_rule = m_obs_add_rule,
	.url_encode = m_url_encode,
	.url_decode = m_url_decode,
};

const struct lbr_host *mock_host(void)
{
	return &the_host;
}
struct lbr_call *mock_call(void)
{
	return (struct lbr_call *)&the_host;
}
struct lbr_obs *mock_obs(void)
{
	return (struct lbr_obs *)&the_host;
}
size_t mock_n_requests(void)
{
	return n_requests;
}
const struct mock_request *mock_request_at(size_t i)
{
	return i < n_requests ? &requests[i] : NULL;
}

const char *mock_request_header(size_t i, const char *name)
{
	size_t k, len = strlen(name);

	if (i >= n_requests)
		return NULL;
	for (k = 0; k < requests[i].n_headers; k++) {
		const char *h = requests[i].headers[k];

		if (strncasecmp(h, name, len) == 0 && h[len] == ':') {
			h += len + 1;
			while (*h == ' ')
				h++;
			return h;
		}
	}
	return NULL;
}

size_t mock_n_members(void)
{
	return n_members;
}
const struct mock_member *mock_member_at(size_t i)
{
	return i < n_members ? &members[i] : NULL;
}
size_t mock_n_rules(void)
{
	return n_rules;
}
const struct mock_rule *mock_rule_at(size_t i)
{
	return i < n_rules ? &rules[i] : NULL;
}
size_t mock_n_logs(void)
{
	return n_logs;
}
const char *mock_last_log(void)
{
	return last_log;
}
