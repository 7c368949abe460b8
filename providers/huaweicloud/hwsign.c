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

/* A text being built in memory with open_memstream(). */
struct mstream {
	FILE *f;
	char *buf;
	size_t size;
};

static int ms_open(struct mstream *ms)
{
	ms->buf = NULL;
	ms->size = 0;
	ms->f = open_memstream(&ms->buf, &ms->size);
	return ms->f ? 0 : LBR_ENOMEM;
}

/* Close the stream and hand its text to *out, or fail on any write
 * error (open_memstream reports out of memory through ferror/fclose). */
static int ms_finish(struct mstream *ms, char **out)
{
	int bad = ferror(ms->f);

	bad |= fclose(ms->f) != 0;
	ms->f = NULL;
	if (bad || !ms->buf) {
		free(ms->buf);
		ms->buf = NULL;
		return LBR_ENOMEM;
	}
	*out = ms->buf;
	ms->buf = NULL; /* transferred */
	return 0;
}

/* Drop what an unfinished stream holds; a no-op after ms_finish(). */
static void ms_drop(struct mstream *ms)
{
	if (ms->f)
		fclose(ms->f);
	ms->f = NULL;
	free(ms->buf);
	ms->buf = NULL;
}

/* Append the encoding of `len` bytes of `s` to f. */
static int put_encoded(const struct lbr_host *host, FILE *f, const char *s, size_t len)
{
	char *enc;
	int r = 0;

	if (len == 0)
		return 0;
	enc = host->url_encode(s, len);
	if (!enc)
		return LBR_ENOMEM;
	if (fputs(enc, f) == EOF)
		r = LBR_ENOMEM;
	free(enc);
	return r;
}

int lbr_hw_canonical_uri(const struct lbr_host *host, const char *path, char **out)
{
	struct mstream ms = { 0 };
	char *dec = NULL;
	size_t dlen = 0, i, start;
	int r = LBR_ENOMEM;

	*out = NULL;
	if (!path)
		path = "";
	dec = host->url_decode(path, strlen(path), &dlen);
	if (!dec)
		goto out;
	if (ms_open(&ms) < 0)
		goto out;
	/* Split the decoded path on '/' and encode each segment on its own,
	 * so a decoded '/' acts as a separator exactly as in the SDKs. */
	start = 0;
	for (i = 0; i <= dlen; i++) {
		if (i < dlen && dec[i] != '/')
			continue;
		if (put_encoded(host, ms.f, dec + start, i - start) < 0)
			goto out;
		if (i < dlen)
			fputc('/', ms.f);
		start = i + 1;
	}
	/* The gateway signs every path with a trailing slash even though
	 * the request goes out without one. */
	if (dlen == 0 || dec[dlen - 1] != '/')
		fputc('/', ms.f);
	r = ms_finish(&ms, out);
out:
	ms_drop(&ms);
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
	struct mstream ms = { 0 };
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
	if (ms_open(&ms) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputc('&', ms.f);
		if (put_encoded(host, ms.f, v[i].name, strlen(v[i].name)) < 0)
			goto out;
		fputc('=', ms.f);
		if (put_encoded(host, ms.f, v[i].value, strlen(v[i].value)) < 0)
			goto out;
	}
	r = ms_finish(&ms, out);
out:
	ms_drop(&ms);
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
	struct mstream ms = { 0 };
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
	if (ms_open(&ms) < 0)
		goto out;
	for (i = 0; i < in->n_headers; i++)
		fprintf(ms.f, "%s%s", i ? ";" : "", hdrs[i].name);
	r = ms_finish(&ms, &sig->signed_headers);
	if (r < 0)
		goto out;

	r = LBR_ERR;
	if (lbr_hw_sha256_hex(in->body, in->body ? in->body_len : 0, body_hash) < 0)
		goto out;

	r = LBR_ENOMEM;
	if (ms_open(&ms) < 0)
		goto out;
	fprintf(ms.f, "%s\n%s\n%s\n", in->method, sig->canonical_uri, sig->canonical_query);
	for (i = 0; i < in->n_headers; i++)
		fprintf(ms.f, "%s:%.*s\n", hdrs[i].name, (int)hdrs[i].value_len, hdrs[i].value);
	fprintf(ms.f, "\n%s\n%s", sig->signed_headers, body_hash);
	r = ms_finish(&ms, &sig->canonical_request);
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
	ms_drop(&ms);
	if (hdrs) {
		for (i = 0; i < in->n_headers; i++)
			free(hdrs[i].name);
		free(hdrs);
	}
	if (r < 0)
		lbr_hw_signature_release(sig);
	return r;
}
