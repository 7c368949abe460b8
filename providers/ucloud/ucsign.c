/*
 * UCloud request parameters, SHA-1 signature and form encoding.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/provcommon.h"
#include "ucsign.h"

void lbr_uc_params_init(struct lbr_uc_params *p)
{
	p->v = NULL;
	p->n = 0;
	p->cap = 0;
}

void lbr_uc_params_release(struct lbr_uc_params *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->v[i].key);
		lbr_pc_free_secret(p->v[i].value);
	}
	free(p->v);
	lbr_uc_params_init(p);
}

const char *lbr_uc_params_get(const struct lbr_uc_params *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].key, key) == 0)
			return p->v[i].value;
	return NULL;
}

int lbr_uc_params_add(struct lbr_uc_params *p, const char *key, const char *value)
{
	int r = LBR_ENOMEM;
	char *k = NULL, *v = NULL;

	if (!key || !*key || strcmp(key, "Signature") == 0 || lbr_uc_params_get(p, key))
		return LBR_EINVAL;
	if (!value || !*value)
		return 0;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct lbr_uc_param *nv = realloc(p->v, cap * sizeof(*nv));

		if (!nv)
			goto out;
		p->v = nv;
		p->cap = cap;
	}
	k = strdup(key);
	v = strdup(value);
	if (!k || !v)
		goto out;
	p->v[p->n].key = k;
	p->v[p->n].value = v;
	p->n++;
	k = v = NULL; /* transferred */
	r = 0;
out:
	free(k);
	lbr_pc_free_secret(v);
	return r;
}

int lbr_uc_params_add_long(struct lbr_uc_params *p, const char *key, long value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", value);
	return lbr_uc_params_add(p, key, buf);
}

static int cmp_param(const void *a, const void *b)
{
	const struct lbr_uc_param *x = a, *y = b;

	/* strcmp() compares as unsigned char: the byte order the SDKs use. */
	return strcmp(x->key, y->key);
}

void lbr_uc_params_sort(struct lbr_uc_params *p)
{
	if (p->n > 1)
		qsort(p->v, p->n, sizeof(*p->v), cmp_param);
}

int lbr_uc_sign(struct lbr_uc_params *p, const char *private_key, char hex[41])
{
	static const char digits[] = "0123456789abcdef";
	int r = LBR_ENOMEM;
	size_t i, len = 0, off = 0;
	char *s = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	hex[0] = '\0';
	lbr_uc_params_sort(p);
	for (i = 0; i < p->n; i++)
		len += strlen(p->v[i].key) + strlen(p->v[i].value);
	len += strlen(private_key);

	s = malloc(len + 1);
	if (!s)
		goto out;
	for (i = 0; i < p->n; i++) {
		size_t kl = strlen(p->v[i].key), vl = strlen(p->v[i].value);

		memcpy(s + off, p->v[i].key, kl);
		off += kl;
		memcpy(s + off, p->v[i].value, vl);
		off += vl;
	}
	memcpy(s + off, private_key, strlen(private_key));
	off += strlen(private_key);
	s[off] = '\0';

	r = LBR_ERR;
	if (!EVP_Digest(s, off, md, &mdlen, lbr_pc_digest(LBR_PC_SHA1), NULL) || mdlen != 20)
		goto out;
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * mdlen] = '\0';
	r = 0;
out:
	if (s) {
		lbr_pc_wipe(s, len + 1);
		free(s);
	}
	lbr_pc_wipe(md, sizeof(md));
	return r;
}

/* Append "key=value" (both encoded) to the growing body. */
static int append_pair(char **buf, size_t *len, size_t *cap, lbr_uc_encode_fn enc, const char *key,
		       const char *value)
{
	int r = LBR_ENOMEM;
	char *ek = NULL, *ev = NULL;
	size_t need;

	ek = enc(key, strlen(key));
	ev = enc(value, strlen(value));
	if (!ek || !ev)
		goto out;
	need = *len + strlen(ek) + strlen(ev) + 3;
	if (need > *cap) {
		size_t ncap = *cap ? *cap : 256;
		char *nb;

		while (ncap < need)
			ncap *= 2;
		nb = malloc(ncap);
		if (!nb)
			goto out;
		/* Copy by hand rather than realloc() so the old buffer, which
		 * may hold the PublicKey, can be wiped. */
		if (*buf) {
			memcpy(nb, *buf, *len + 1);
			lbr_pc_wipe(*buf, *cap);
			free(*buf);
		}
		*buf = nb;
		*cap = ncap;
	}
	*len += (size_t)sprintf(*buf + *len, "%s%s=%s", *len ? "&" : "", ek, ev);
	r = 0;
out:
	free(ek);
	lbr_pc_free_secret(ev);
	return r;
}

int lbr_uc_form_body(const struct lbr_uc_params *p, const char *signature, lbr_uc_encode_fn enc,
		     char **out, size_t *out_len)
{
	int r = LBR_ENOMEM;
	char *buf = NULL;
	size_t len = 0, cap = 0, i;

	*out = NULL;
	*out_len = 0;
	for (i = 0; i < p->n; i++) {
		r = append_pair(&buf, &len, &cap, enc, p->v[i].key, p->v[i].value);
		if (r < 0)
			goto out;
	}
	if (signature) {
		r = append_pair(&buf, &len, &cap, enc, "Signature", signature);
		if (r < 0)
			goto out;
	}
	if (!buf) {
		r = LBR_ENOMEM;
		buf = strdup("");
		if (!buf)
			goto out;
	}
	*out = buf;
	*out_len = len;
	buf = NULL; /* transferred */
	r = 0;
out:
	if (buf) {
		lbr_pc_wipe(buf, cap);
		free(buf);
	}
	return r;
}
