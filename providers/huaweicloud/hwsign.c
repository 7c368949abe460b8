/*
 * Huawei Cloud SDK-HMAC-SHA256 signer.  See hwsign.h for the contract and
 * /work/shared/reference/huaweicloud-elb.md §5.2 for the algorithm.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/provcommon.h"
#include "hwsign.h"

#define ALGORITHM "SDK-HMAC-SHA256"

/* A header prepared for signing: lower-cased name, trimmed value. */
struct sh {
	char *name;
	const char *value;
	size_t value_len;
};

/* A query pair, pointing into the caller's lbr_kv array. */
struct qp {
	const char *name;
	const char *value;
};

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int lbr_hw_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data ? data : "", len, md, &mdlen, lbr_pc_digest(LBR_PC_SHA256), NULL) !=
		    1 ||
	    mdlen != 32)
		return LBR_ERR;
	hex_encode(md, mdlen, out);
	return 0;
}

static int hmac_sha256_hex(const char *key, const char *msg, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!HMAC(lbr_pc_digest(LBR_PC_SHA256), key, (int)strlen(key), (const unsigned char *)msg,
		  strlen(msg), md, &mdlen) ||
	    mdlen != 32)
		return LBR_ERR;
	hex_encode(md, mdlen, out);
	/* The MAC itself is not secret once sent, but the buffer held key
	 * material inside HMAC(); wiping costs nothing. */
	explicit_bzero(md, sizeof(md));
	return 0;
}

int lbr_hw_format_date(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (len < LBR_HW_DATE_LEN || (int64_t)tt != t || !gmtime_r(&tt, &tm))
		return LBR_EINVAL;
	if (strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm) != LBR_HW_DATE_LEN - 1)
		return LBR_EINVAL;
	return 0;
}

/* A text being built in memory (signing runs for every request: no
 * stdio streams). */
struct sbuf {
	char *buf;
	size_t len, cap;
	int oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *nb;

		while (cap < b->len + n + 1)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb) {
			b->oom = 1;
			return;
		}
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_putc(struct sbuf *b, char c)
{
	sb_put(b, &c, 1);
}

/* Drop what an unfinished text holds; a no-op after sb_finish(). */
static void sb_drop(struct sbuf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}

/* Hand the text to *out (an empty one for nothing written), or fail when
 * memory ran out. */
static int sb_finish(struct sbuf *b, char **out)
{
	if (!b->oom && !b->buf)
		sb_put(b, "", 0);
	if (b->oom) {
		sb_drop(b);
		return LBR_ENOMEM;
	}
	*out = b->buf;
	b->buf = NULL; /* transferred: the builder starts over empty */
	b->len = b->cap = 0;
	return 0;
}

/* Append the encoding of `len` bytes of `s`. */
static int put_encoded(const struct lbr_host *host, struct sbuf *b, const char *s, size_t len)
{
	char *enc;

	if (len == 0)
		return 0;
	enc = host->url_encode(s, len);
	if (!enc)
		return LBR_ENOMEM;
	sb_puts(b, enc);
	free(enc);
	return b->oom ? LBR_ENOMEM : 0;
}

int lbr_hw_canonical_uri(const struct lbr_host *host, const char *path, char **out)
{
	struct sbuf sb = { 0 };
	char *dec = NULL;
	size_t dlen = 0, i, start;
	int r = LBR_ENOMEM;

	*out = NULL;
	if (!path)
		path = "";
	dec = host->url_decode(path, strlen(path), &dlen);
	if (!dec)
		goto out;
	/* Split the decoded path on '/' and encode each segment on its own,
	 * so a decoded '/' acts as a separator exactly as in the SDKs. */
	start = 0;
	for (i = 0; i <= dlen; i++) {
		if (i < dlen && dec[i] != '/')
			continue;
		if (put_encoded(host, &sb, dec + start, i - start) < 0)
			goto out;
		if (i < dlen)
			sb_putc(&sb, '/');
		start = i + 1;
	}
	/* The gateway signs every path with a trailing slash even though
	 * the request goes out without one. */
	if (dlen == 0 || dec[dlen - 1] != '/')
		sb_putc(&sb, '/');
	r = sb_finish(&sb, out);
out:
	sb_drop(&sb);
	free(dec);
	return r;
}

static int cmp_qp(const void *a, const void *b)
{
	const struct qp *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return strcmp(x->value, y->value);
}

int lbr_hw_canonical_query(const struct lbr_host *host, const struct lbr_kv *pairs, size_t n,
			   char **out)
{
	struct sbuf sb = { 0 };
	struct qp *v = NULL;
	size_t i;
	int r = LBR_ENOMEM;

	*out = NULL;
	if (n > 0) {
		v = calloc(n, sizeof(*v));
		if (!v)
			goto out;
	}
	for (i = 0; i < n; i++) {
		v[i].name = pairs[i].key ? pairs[i].key : "";
		v[i].value = pairs[i].value ? pairs[i].value : "";
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_qp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_putc(&sb, '&');
		if (put_encoded(host, &sb, v[i].name, strlen(v[i].name)) < 0)
			goto out;
		sb_putc(&sb, '=');
		if (put_encoded(host, &sb, v[i].value, strlen(v[i].value)) < 0)
			goto out;
	}
	r = sb_finish(&sb, out);
out:
	sb_drop(&sb);
	free(v);
	return r;
}

static int cmp_sh(const void *a, const void *b)
{
	const struct sh *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Lower-case the names and trim the values of the headers to sign, and
 * sort them by name.  Duplicates and unsignable bytes are refused. */
static int prepare_headers(const struct lbr_hw_sign_input *in, struct sh **out)
{
	struct sh *v = NULL;
	size_t i, j;
	int r = LBR_ENOMEM;

	*out = NULL;
	v = calloc(in->n_headers ? in->n_headers : 1, sizeof(*v));
	if (!v)
		goto out;
	for (i = 0; i < in->n_headers; i++) {
		const char *name = in->headers[i].key;
		const char *val = in->headers[i].value ? in->headers[i].value : "";
		size_t vlen;

		if (!name || !*name || strpbrk(name, "\r\n: \t") || strpbrk(val, "\r\n")) {
			r = LBR_EINVAL;
			goto out;
		}
		v[i].name = strdup(name);
		if (!v[i].name)
			goto out;
		for (j = 0; v[i].name[j]; j++)
			v[i].name[j] = (char)tolower((unsigned char)v[i].name[j]);
		while (*val == ' ' || *val == '\t')
			val++;
		vlen = strlen(val);
		while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
			vlen--;
		v[i].value = val;
		v[i].value_len = vlen;
	}
	if (in->n_headers > 1)
		qsort(v, in->n_headers, sizeof(*v), cmp_sh);
	for (i = 1; i < in->n_headers; i++) {
		if (strcmp(v[i - 1].name, v[i].name) == 0) {
			r = LBR_EINVAL;
			goto out;
		}
	}
	*out = v;
	v = NULL; /* transferred */
	r = 0;
out:
	if (v) {
		for (i = 0; i < in->n_headers; i++)
			free(v[i].name);
		free(v);
	}
	return r;
}

void lbr_hw_signature_release(struct lbr_hw_signature *sig)
{
	if (!sig)
		return;
	free(sig->canonical_uri);
	free(sig->canonical_query);
	free(sig->signed_headers);
	free(sig->canonical_request);
	free(sig->string_to_sign);
	free(sig->signature);
	free(sig->authorization);
	memset(sig, 0, sizeof(*sig));
}

int lbr_hw_sign(const struct lbr_host *host, const struct lbr_hw_sign_input *in,
		struct lbr_hw_signature *sig)
{
	struct sbuf sb = { 0 };
	struct sh *hdrs = NULL;
	size_t i;
	char body_hash[65], req_hash[65], mac[65];
	int r;

	memset(sig, 0, sizeof(*sig));
	r = prepare_headers(in, &hdrs);
	if (r < 0)
		goto out;
	r = LBR_ENOMEM;
	if (lbr_hw_canonical_uri(host, in->path, &sig->canonical_uri) < 0)
		goto out;
	if (lbr_hw_canonical_query(host, in->query, in->n_query, &sig->canonical_query) < 0)
		goto out;

	/* SignedHeaders: the sorted lower-case names joined with ';'. */
	for (i = 0; i < in->n_headers; i++) {
		if (i)
			sb_putc(&sb, ';');
		sb_puts(&sb, hdrs[i].name);
	}
	r = sb_finish(&sb, &sig->signed_headers);
	if (r < 0)
		goto out;

	r = LBR_ERR;
	if (lbr_hw_sha256_hex(in->body, in->body ? in->body_len : 0, body_hash) < 0)
		goto out;

	sb_puts(&sb, in->method ? in->method : "");
	sb_putc(&sb, '\n');
	sb_puts(&sb, sig->canonical_uri);
	sb_putc(&sb, '\n');
	sb_puts(&sb, sig->canonical_query);
	sb_putc(&sb, '\n');
	for (i = 0; i < in->n_headers; i++) {
		sb_puts(&sb, hdrs[i].name);
		sb_putc(&sb, ':');
		sb_put(&sb, hdrs[i].value, hdrs[i].value_len);
		sb_putc(&sb, '\n');
	}
	sb_putc(&sb, '\n');
	sb_puts(&sb, sig->signed_headers);
	sb_putc(&sb, '\n');
	sb_puts(&sb, body_hash);
	r = sb_finish(&sb, &sig->canonical_request);
	if (r < 0)
		goto out;

	r = LBR_ERR;
	if (lbr_hw_sha256_hex(sig->canonical_request, strlen(sig->canonical_request), req_hash) < 0)
		goto out;
	r = LBR_ENOMEM;
	if (asprintf(&sig->string_to_sign, "%s\n%s\n%s", ALGORITHM, in->date ? in->date : "",
		     req_hash) < 0) {
		sig->string_to_sign = NULL;
		goto out;
	}
	r = LBR_ERR;
	if (hmac_sha256_hex(in->secret_key ? in->secret_key : "", sig->string_to_sign, mac) < 0)
		goto out;
	r = LBR_ENOMEM;
	sig->signature = strdup(mac);
	if (!sig->signature)
		goto out;
	if (asprintf(&sig->authorization, "%s Access=%s, SignedHeaders=%s, Signature=%s", ALGORITHM,
		     in->access_key ? in->access_key : "", sig->signed_headers, mac) < 0) {
		sig->authorization = NULL;
		goto out;
	}
	r = 0;
out:
	sb_drop(&sb);
	if (hdrs) {
		for (i = 0; i < in->n_headers; i++)
			free(hdrs[i].name);
		free(hdrs);
	}
	if (r < 0)
		lbr_hw_signature_release(sig);
	return r;
}
