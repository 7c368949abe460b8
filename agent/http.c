#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/curl-load.h"
#include "agent/error.h"
#include "agent/http.h"
#include "agent/sched.h"
#include "agent/util.h"

struct resp_priv {
	char *body;
	size_t len, cap, max;
	int too_big;
	char **headers; /* "name: value", raw */
	size_t n_headers, cap_headers;
};

static pthread_key_t easy_key;
static __thread char tl_ok_prefix[256];
static __thread int tl_ok_insecure;
static pthread_once_t easy_once = PTHREAD_ONCE_INIT;

static void easy_destroy(void *p)
{
	if (p)
		lbr_curl.easy_cleanup(p);
}

static void make_key(void)
{
	pthread_key_create(&easy_key, easy_destroy);
}

int lbr_http_global_init(void)
{
	/* libcurl loads on a thread of its own while the caller goes on;
	 * every use below waits for it (curl-load.h). */
	lbr_curl_load_start();
	pthread_once(&easy_once, make_key);
	return 0;
}

int lbr_http_ready(char *err, size_t errlen)
{
	return lbr_curl_wait(err, errlen);
}

void lbr_http_thread_cleanup(void)
{
	CURL *h;

	pthread_once(&easy_once, make_key);
	h = pthread_getspecific(easy_key);
	if (h) {
		/* A handle exists: libcurl was loaded. */
		lbr_curl.easy_cleanup(h);
		pthread_setspecific(easy_key, NULL);
	}
}

void lbr_http_global_cleanup(void)
{
	lbr_http_thread_cleanup();
	lbr_curl_unload();
}

/* The handle for this request; *task says whether it is a task's own (a
 * task has its own handle: the thread's is shared by all tasks). */
static CURL *thread_handle(int *task)
{
	CURL *h = lbr_sched_easy();

	*task = h != NULL;
	if (h) {
		lbr_curl.easy_reset(h); /* keeps the connection cache */
		return h;
	}
	pthread_once(&easy_once, make_key);
	h = pthread_getspecific(easy_key);
	if (!h) {
		h = lbr_curl.easy_init();
		if (h)
			pthread_setspecific(easy_key, h);
	} else {
		lbr_curl.easy_reset(h); /* keeps the connection cache */
	}
	return h;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct resp_priv *p = ud;
	size_t n = size * nmemb;

	if (p->len + n > p->max) {
		p->too_big = 1;
		return 0; /* aborts the transfer */
	}
	if (p->len + n + 1 > p->cap) {
		size_t ncap = p->cap ? p->cap : 16384;
		char *nb;

		while (ncap < p->len + n + 1)
			ncap *= 2;
		nb = realloc(p->body, ncap);
		if (!nb)
			return 0;
		p->body = nb;
		p->cap = ncap;
	}
	memcpy(p->body + p->len, ptr, n);
	p->len += n;
	p->body[p->len] = '\0';
	return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
	struct resp_priv *p = ud;
	size_t n = size * nitems, l = n;
	char *h;

	/* A new status line (after 100 Continue or a redirect) resets. */
	if (n >= 5 && !strncmp(buf, "HTTP/", 5)) {
		size_t i;

		for (i = 0; i < p->n_headers; i++)
			free(p->headers[i]);
		p->n_headers = 0;
		return n;
	}
	while (l > 0 && (buf[l - 1] == '\r' || buf[l - 1] == '\n'))
		l--;
	if (l == 0 || !memchr(buf, ':', l))
		return n;
	if (p->n_headers >= 256)
		return n; /* enough is enough */
	if (lbr_grow((void **)&p->headers, &p->cap_headers, p->n_headers, sizeof(char *)) < 0)
		return 0;
	h = strndup(buf, l);
	if (!h)
		return 0;
	p->headers[p->n_headers++] = h;
	return n;
}

static uint32_t parse_retry_after(const char *v)
{
	char *end;
	unsigned long s;
	time_t t;

	while (*v == ' ')
		v++;
	s = strtoul(v, &end, 10);
	if (end != v && (*end == '\0' || *end == ' '))
		return s > 3600 ? 3600000u : (uint32_t)s * 1000u;
	t = lbr_curl.getdate(v, NULL);
	if (t > 0) {
		time_t now = time(NULL);

		if (t <= now)
			return 0;
		return t - now > 3600 ? 3600000u : (uint32_t)(t - now) * 1000u;
	}
	return 0;
}

const char *lbr_http_header(const struct lbr_http_response *resp, const char *name)
{
	const struct resp_priv *p = resp->priv;
	size_t i, len = strlen(name);

	if (!p)
		return NULL;
	for (i = 0; i < p->n_headers; i++) {
		const char *h = p->headers[i];

		if (!strncasecmp(h, name, len) && h[len] == ':') {
			h += len + 1;
			while (*h == ' ' || *h == '\t')
				h++;
			return h;
		}
	}
	return NULL;
}

void lbr_http_release(struct lbr_http_response *resp)
{
	struct resp_priv *p;
	size_t i;

	if (!resp || !resp->priv)
		return;
	p = resp->priv;
	for (i = 0; i < p->n_headers; i++)
		free(p->headers[i]);
	free(p->headers);
	free(p->body);
	free(p);
	resp->priv = NULL;
	resp->body = NULL;
	resp->body_len = 0;
}

int lbr_http_perform(const struct lbr_http_opts *o, const struct lbr_http_request *req,
		     struct lbr_http_response *resp, char *err, size_t errlen)
{
	int r = LBR_ETRANSPORT, in_task = 0;
	CURL *h;
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, hostbuf[256];
	const char *hostname;
	struct curl_slist *hdrs = NULL;
	struct resp_priv *p = NULL;
	char cerr[CURL_ERROR_SIZE];
	CURLcode cc;
	size_t i, cand_len = 0;

	memset(resp, 0, sizeof(*resp));
	err[0] = '\0';
	if (lbr_curl_wait(err, errlen) < 0)
		return LBR_EFATAL;
	/* The scheme/host check below parses the URL; a plugin sends every
	 * request of a run to the same endpoint, so remember the last
	 * "scheme://host[:port]/" this thread accepted and skip the parse
	 * when the URL starts with it. */
	{
		const char *sep = strstr(req->url, "://");
		size_t plen = sep ? strcspn(sep + 3, "/?#") + (size_t)(sep + 3 - req->url) : 0;

		if (plen && req->url[plen] == '/' && plen + 1 < sizeof(tl_ok_prefix) &&
		    tl_ok_insecure == o->allow_insecure_http && tl_ok_prefix[0] &&
		    !strncmp(req->url, tl_ok_prefix, plen + 1) && tl_ok_prefix[plen + 1] == '\0')
			goto checked;
		tl_ok_prefix[0] = '\0';
		if (plen && req->url[plen] == '/' && plen + 1 < sizeof(tl_ok_prefix))
			cand_len = plen + 1;
	}
	u = lbr_curl.url();
	if (!u || lbr_curl.url_set(u, CURLUPART_URL, req->url, 0) != CURLUE_OK ||
	    lbr_curl.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    lbr_curl.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "malformed URL");
		r = LBR_EFATAL;
		goto out;
	}
	if (strcmp(scheme, "https") != 0) {
		if (strcmp(scheme, "http") != 0 ||
		    (!lbr_host_is_loopback(host) && !o->allow_insecure_http)) {
			snprintf(
				err, errlen,
				"refusing %s:// to %s (only https, or http to loopback unless allow_insecure_http = yes)",
				scheme, host);
			r = LBR_EFATAL;
			goto out;
		}
	}
	if (cand_len) {
		memcpy(tl_ok_prefix, req->url, cand_len);
		tl_ok_prefix[cand_len] = '\0';
		tl_ok_insecure = o->allow_insecure_http;
	}
checked:
	if (!host) {
		/* For messages only: the host part as written in the URL. */
		const char *sep = strstr(req->url, "://");
		size_t hl = sep ? strcspn(sep + 3, "/?#") : 0;

		if (hl >= sizeof(hostbuf))
			hl = sizeof(hostbuf) - 1;
		memcpy(hostbuf, sep ? sep + 3 : "", hl);
		hostbuf[hl] = '\0';
	}
	hostname = host ? host : hostbuf;
	h = thread_handle(&in_task);
	p = calloc(1, sizeof(*p));
	if (!h || !p) {
		snprintf(err, errlen, "out of memory");
		r = LBR_EFATAL;
		goto out;
	}
	p->max = o->max_body ? o->max_body : LBR_HTTP_MAX_BODY;
	cerr[0] = '\0';
	lbr_curl.easy_setopt(h, CURLOPT_URL, req->url);
	lbr_curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	lbr_curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	lbr_curl.easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	lbr_curl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	lbr_curl.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	lbr_curl.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file)
		lbr_curl.easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
	lbr_curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	lbr_curl.easy_setopt(h, CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : 30L);
	lbr_curl.easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	lbr_curl.easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	lbr_curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	lbr_curl.easy_setopt(h, CURLOPT_WRITEDATA, p);
	lbr_curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	lbr_curl.easy_setopt(h, CURLOPT_HEADERDATA, p);
	lbr_curl.easy_setopt(h, CURLOPT_USERAGENT, "lbreconcile/" PACKAGE_VERSION);
	lbr_curl.easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)p->max);
	for (i = 0; req->headers && req->headers[i]; i++) {
		struct curl_slist *n = lbr_curl.slist_append(hdrs, req->headers[i]);

		if (!n) {
			snprintf(err, errlen, "out of memory");
			r = LBR_EFATAL;
			goto out;
		}
		hdrs = n;
	}
	/* Never wait for a 100 Continue round trip. */
	hdrs = lbr_curl.slist_append(hdrs, "Expect:");
	lbr_curl.easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (!strcmp(req->method, "GET")) {
		lbr_curl.easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		lbr_curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body || strcmp(req->method, "DELETE") != 0) {
			lbr_curl.easy_setopt(h, CURLOPT_POSTFIELDS,
					     req->body ? (const char *)req->body : "");
			lbr_curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
					     (curl_off_t)req->body_len);
		}
	}
	cc = in_task ? (CURLcode)lbr_sched_perform(h) : lbr_curl.easy_perform(h);
	if (cc != CURLE_OK) {
		const char *why = cerr[0] ? cerr : lbr_curl.easy_strerror(cc);

		if (p->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
			snprintf(err, errlen,
				 "response from %s is larger than %zu bytes; abandoned", hostname,
				 p->max);
			r = LBR_EFATAL;
		} else if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
			   cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_ISSUER_ERROR ||
			   cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
			snprintf(
				err, errlen,
				"TLS certificate verification failed for %s (%s); set ca_file if it uses a private CA",
				hostname, why);
			r = LBR_EFATAL;
		} else if (cc == CURLE_OPERATION_TIMEDOUT) {
			snprintf(err, errlen, "timed out talking to %s (%s)", hostname, why);
			r = LBR_ETRANSPORT;
		} else {
			snprintf(err, errlen, "%s (%s)", lbr_curl.easy_strerror(cc), why);
			r = LBR_ETRANSPORT;
		}
		goto out;
	}
	lbr_curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (!p->body) {
		p->body = calloc(1, 1);
		if (!p->body) {
			snprintf(err, errlen, "out of memory");
			r = LBR_EFATAL;
			goto out;
		}
	}
	resp->body = p->body;
	resp->body_len = p->len;
	resp->priv = p;
	p = NULL; /* transferred */
	{
		const char *ra = lbr_http_header(resp, "Retry-After");

		if (ra)
			resp->retry_after_ms = parse_retry_after(ra);
	}
	r = 0;
out:
	if (p) {
		struct lbr_http_response tmp;

		memset(&tmp, 0, sizeof(tmp));
		tmp.priv = p;
		lbr_http_release(&tmp);
	}
	lbr_curl.slist_free_all(hdrs);
	lbr_curl.free(scheme);
	lbr_curl.free(host);
	lbr_curl.url_cleanup(u);
	return r;
}

char *lbr_http_url_encode(const char *s, size_t len)
{
	char *e, *d;

	if (len > (size_t)INT32_MAX || lbr_curl_wait(NULL, 0) < 0)
		return NULL;
	e = lbr_curl.easy_escape(NULL, s, (int)len);
	if (!e)
		return NULL;
	d = strdup(e);
	lbr_curl.free(e);
	return d;
}

char *lbr_http_url_decode(const char *s, size_t len, size_t *out_len)
{
	int n = 0;
	char *e, *d;

	if (len > (size_t)INT32_MAX || lbr_curl_wait(NULL, 0) < 0)
		return NULL;
	e = lbr_curl.easy_unescape(NULL, s, (int)len, &n);
	if (!e)
		return NULL;
	d = malloc((size_t)n + 1);
	if (d) {
		memcpy(d, e, (size_t)n);
		d[n] = '\0';
		if (out_len)
			*out_len = (size_t)n;
	}
	lbr_curl.free(e);
	return d;
}

void lbr_http_redact_url(const char *url, char *out, size_t len)
{
	static const char *const secret_params[] = { "Signature=",    "PublicKey=", "token=",
						     "X-Auth-Token=", "AccessKey=", NULL };
	size_t o = 0;
	const char *p = url;

	if (!len)
		return;
	while (*p && o + 1 < len) {
		int redacted = 0;

		if (p == url || p[-1] == '?' || p[-1] == '&') {
			int i;

			for (i = 0; secret_params[i]; i++) {
				size_t n = strlen(secret_params[i]);

				if (!strncasecmp(p, secret_params[i], n)) {
					int w = snprintf(out + o, len - o, "%sREDACTED",
							 secret_params[i]);

					o += (size_t)w < len - o ? (size_t)w : len - o - 1;
					p += n;
					while (*p && *p != '&')
						p++;
					redacted = 1;
					break;
				}
			}
		}
		if (!redacted)
			out[o++] = *p++;
	}
	out[o] = '\0';
}
