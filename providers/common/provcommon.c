/*
 * Helpers shared by the bundled provider plugins (see provcommon.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/provcommon.h"

/* [A-Za-z0-9_-] as a table: every listed id goes through here. */
static const unsigned char id_char[256] = {
	['-'] = 1, ['_'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1,
	['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
	['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1,
	['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
	['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

int lbr_pc_valid_id(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (!s)
		return 0;
	for (n = 0; p[n]; n++)
		if (!id_char[p[n]] || n >= max)
			return 0;
	return n >= 1;
}

const char *lbr_pc_kv_get(const struct lbr_kv *kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; kv && i < n; i++)
		if (kv[i].key && strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

void lbr_pc_copy_clean(char *dst, size_t len, const char *src)
{
	size_t i, n;

	if (!dst || len == 0)
		return;
	if (!src)
		src = "";
	n = strnlen(src, len);
	if (n > len - 1) {
		n = len - 1;
		/* Back off to the first byte of a multi-byte character. */
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	dst[n] = '\0';
}

static void vformat_clean(char *dst, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vformat_clean(char *dst, size_t len, const char *fmt, va_list ap)
{
	char tmp[1024];

	/* Format into a larger buffer first so that the cut lands on a
	 * character boundary, not wherever vsnprintf stopped. */
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	lbr_pc_copy_clean(dst, len, tmp);
}

void lbr_pc_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vformat_clean(err, errlen, fmt, ap);
	va_end(ap);
}

void lbr_pc_res_msg(struct lbr_call_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat_clean(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

void lbr_pc_res_vmsg(struct lbr_call_result *res, const char *fmt, va_list ap)
{
	vformat_clean(res->message, sizeof(res->message), fmt, ap);
}

void lbr_pc_item_msg(struct lbr_item_result *item, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat_clean(item->message, sizeof(item->message), fmt, ap);
	va_end(ap);
}

void lbr_pc_results_init(struct lbr_call_result *res, struct lbr_item_result *items, size_t n)
{
	if (res)
		memset(res, 0, sizeof(*res));
	if (items && n)
		memset(items, 0, n * sizeof(*items));
}

void lbr_pc_items_from_call(const struct lbr_call_result *res, struct lbr_item_result *items,
			    size_t n)
{
	size_t i;

	for (i = 0; items && i < n; i++) {
		items[i].outcome = res->outcome;
		lbr_pc_copy_clean(items[i].message, sizeof(items[i].message), res->message);
	}
}

void lbr_pc_wipe(void *buf, size_t len)
{
	if (!buf || !len)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(buf, len);
#else
	OPENSSL_cleanse(buf, len);
#endif
}

void lbr_pc_free_secret(char *s)
{
	if (!s)
		return;
	lbr_pc_wipe(s, strlen(s));
	free(s);
}

void lbr_pc_redact(char *buf, size_t size, const char *secret, const char *mask)
{
	size_t sl, ml = strlen(mask);
	char *from = buf, *hit;

	if (!buf || !secret || !*secret || size == 0)
		return;
	sl = strlen(secret);
	while ((hit = strstr(from, secret)) != NULL) {
		size_t pos = (size_t)(hit - buf), tail = strlen(hit + sl);

		if (pos + ml >= size) {
			memcpy(hit, mask, size - 1 - pos);
			buf[size - 1] = '\0';
			break;
		}
		if (pos + ml + tail >= size)
			tail = size - 1 - pos - ml;
		memmove(hit + ml, hit + sl, tail);
		memcpy(hit, mask, ml);
		hit[ml + tail] = '\0';
		from = hit + ml;
	}
}

void lbr_pc_redact_result(struct lbr_call_result *res, const char *secret, const char *mask)
{
	lbr_pc_redact(res->code, sizeof(res->code), secret, mask);
	lbr_pc_redact(res->message, sizeof(res->message), secret, mask);
	lbr_pc_redact(res->request_id, sizeof(res->request_id), secret, mask);
}

static int valid_hostname(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int valid_ipv6_literal(const char *s, size_t n)
{
	size_t i, colons = 0;

	if (n < 2)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == ':')
			colons++;
		else if (!((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
			   (c >= '0' && c <= '9') || c == '.'))
			return 0;
	}
	return colons >= 2;
}

static int valid_path(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return 0;
	}
	return 1;
}

int lbr_pc_parse_endpoint(const char *url, unsigned flags, struct lbr_pc_endpoint *ep, char *err,
			  size_t errlen)
{
	const char *scheme, *auth, *end, *host, *hend, *port = NULL, *c;
	size_t alen, hlen, plen;
	unsigned long portnum = 0, defport;
	char *stop;
	int r = LBR_EINVAL;

	memset(ep, 0, sizeof(*ep));
	if (!url || !*url) {
		lbr_pc_set_err(err, errlen, "endpoint is empty");
		goto out;
	}
	/* Nothing in a URL is a control character or a space; one would
	 * also end up in a header or a log line. */
	for (c = url; *c; c++) {
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c == 0x7f) {
			lbr_pc_set_err(err, errlen,
				       "endpoint contains a space or a control "
				       "character");
			goto out;
		}
	}
	if (strncasecmp(url, "https://", 8) == 0) {
		scheme = "https";
		defport = 443;
		auth = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		scheme = "http";
		defport = 80;
		auth = url + 7;
	} else {
		lbr_pc_set_err(err, errlen,
			       "endpoint '%.200s' must start with https:// or "
			       "http://",
			       url);
		goto out;
	}
	end = auth + strcspn(auth, "/?#");
	alen = (size_t)(end - auth);
	/* User information may hold a password: refuse it without echoing
	 * the value. */
	if (memchr(auth, '@', alen)) {
		lbr_pc_set_err(err, errlen,
			       "endpoint must not contain user information "
			       "(user:password@); put credentials in the "
			       "provider's secret keys");
		goto out;
	}
	if (strpbrk(end, "?#") || (*end && !(flags & LBR_PC_EP_PATH) && strcmp(end, "/") != 0)) {
		lbr_pc_set_err(err, errlen,
			       "endpoint '%.200s' must be scheme://host[:port]%s "
			       "with no %squery or fragment",
			       url, (flags & LBR_PC_EP_PATH) ? "[/path]" : "",
			       (flags & LBR_PC_EP_PATH) ? "" : "path, ");
		goto out;
	}
	if (!valid_path(end)) {
		lbr_pc_set_err(err, errlen, "endpoint '%.200s' has a malformed path", url);
		goto out;
	}
	host = auth;
	if (alen == 0) {
		lbr_pc_set_err(err, errlen, "endpoint '%.200s' has no host", url);
		goto out;
	}
	if (*host == '[') {
		hend = memchr(host, ']', alen);
		if (!hend || !valid_ipv6_literal(host + 1, (size_t)(hend - host - 1))) {
			lbr_pc_set_err(err, errlen,
				       "endpoint '%.200s' has a malformed IPv6 "
				       "address",
				       url);
			goto out;
		}
		hend++;
	} else {
		hend = memchr(host, ':', alen);
		if (!hend)
			hend = end;
		if (hend == host) {
			lbr_pc_set_err(err, errlen, "endpoint '%.200s' has no host", url);
			goto out;
		}
		if (!valid_hostname(host, (size_t)(hend - host))) {
			lbr_pc_set_err(err, errlen,
				       "endpoint '%.200s' has a malformed host "
				       "name",
				       url);
			goto out;
		}
	}
	hlen = (size_t)(hend - host);
	if (hend < end) {
		if (*hend != ':' || hend + 1 == end) {
			lbr_pc_set_err(err, errlen, "endpoint '%.200s' has a malformed port", url);
			goto out;
		}
		port = hend + 1;
		errno = 0;
		portnum = strtoul(port, &stop, 10);
		if (stop != end || errno || *port < '0' || *port > '9' || portnum < 1 ||
		    portnum > 65535) {
			lbr_pc_set_err(err, errlen,
				       "endpoint '%.200s': port must be "
				       "1..65535",
				       url);
			goto out;
		}
	}
	plen = strlen(end);
	while (plen > 0 && end[plen - 1] == '/')
		plen--;
	r = LBR_ENOMEM;
	if (port && portnum != defport) {
		if (asprintf(&ep->host, "%.*s:%lu", (int)hlen, host, portnum) < 0)
			ep->host = NULL;
	} else {
		ep->host = strndup(host, hlen);
	}
	if (!ep->host)
		goto out;
	if (asprintf(&ep->base, "%s://%s", scheme, ep->host) < 0) {
		ep->base = NULL;
		goto out;
	}
	ep->path = strndup(end, plen);
	if (!ep->path)
		goto out;
	r = 0;
out:
	if (r == LBR_ENOMEM)
		lbr_pc_set_err(err, errlen, "out of memory");
	if (r < 0)
		lbr_pc_endpoint_free(ep);
	return r;
}

void lbr_pc_endpoint_free(struct lbr_pc_endpoint *ep)
{
	if (!ep)
		return;
	free(ep->base);
	free(ep->host);
	free(ep->path);
	memset(ep, 0, sizeof(*ep));
}

const char *lbr_pc_outcome_name(enum lbr_outcome o)
{
	switch (o) {
	case LBR_OUT_UNSET: return "unset";
	case LBR_OUT_OK: return "ok";
	case LBR_OUT_NOT_FOUND: return "not found";
	case LBR_OUT_TRANSIENT: return "transient";
	case LBR_OUT_THROTTLED: return "throttled";
	case LBR_OUT_AUTH: return "auth";
	case LBR_OUT_INVALID: return "invalid";
	case LBR_OUT_CONFLICT: return "conflict";
	case LBR_OUT_BLOCKED: return "blocked";
	case LBR_OUT_EXISTS: return "exists";
	}
	return "unknown";
}

static pthread_once_t digest_once = PTHREAD_ONCE_INIT;
static const EVP_MD *digests[LBR_PC_SHA256 + 1];

/* The method OpenSSL 1.1 hands out (and OpenSSL 3 resolves per use). */
static const EVP_MD *builtin_digest(enum lbr_pc_digest d)
{
	return d == LBR_PC_SHA1 ? EVP_sha1() : EVP_sha256();
}

static void fetch_digests(void)
{
	static const char *const names[] = { "SHA1", "SHA256" };
	size_t i;

	for (i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
		digests[i] = EVP_MD_fetch(NULL, names[i], NULL);
#else
		(void)names;
#endif
		if (!digests[i])
			digests[i] = builtin_digest((enum lbr_pc_digest)i);
	}
}

const EVP_MD *lbr_pc_digest(enum lbr_pc_digest d)
{
	pthread_once(&digest_once, fetch_digests);
	return digests[d == LBR_PC_SHA1 ? LBR_PC_SHA1 : LBR_PC_SHA256];
}

/* Give the fetched methods back when the plugin is unloaded. */
__attribute__((destructor)) static void release_digests(void)
{
	size_t i;

	for (i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
		if (digests[i] && digests[i] != builtin_digest((enum lbr_pc_digest)i))
			EVP_MD_free((EVP_MD *)digests[i]);
#endif
		digests[i] = NULL;
	}
}
