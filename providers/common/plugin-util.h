/*
 * Small helpers both bundled plugins need.  Header-only (static inline):
 * each plugin is its own shared object exporting nothing but its entry
 * point, so each gets its own private copy.
 *
 * Superseded by provcommon.h (libprovcommon.la, the same functions as
 * lbr_pc_* plus message formatting and endpoint parsing); kept until the
 * ucloud plugin has switched, then to be removed.  huaweicloud no longer
 * uses it.
 */
#ifndef LBR_PLUGIN_UTIL_H
#define LBR_PLUGIN_UTIL_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lbreconcile/provider.h"

/* [A-Za-z0-9_-]{1,max}: the ids a plugin puts into URLs, requests and
 * messages. */
static inline int lbr_pu_valid_id(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return 0;
	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return n >= 1 && n <= max;
}

/* The value of `key` in a key/value list, or NULL. */
static inline const char *lbr_pu_kv_get(const struct lbr_kv *kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kv[i].key && strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

/* Zero memory that held a secret, in a way the compiler keeps. */
static inline void lbr_pu_wipe(void *buf, size_t len)
{
	if (!buf || !len)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(buf, len);
#else
	OPENSSL_cleanse(buf, len);
#endif
}

static inline void lbr_pu_free_secret(char *s)
{
	if (!s)
		return;
	lbr_pu_wipe(s, strlen(s));
	free(s);
}

/* Copy text from a cloud into a fixed buffer for messages: control
 * characters become spaces (no forged log lines), and a cut never leaves
 * half a UTF-8 character at the end. */
static inline void lbr_pu_copy_clean(char *dst, size_t len, const char *src)
{
	size_t i, n;

	if (len == 0)
		return;
	if (!src)
		src = "";
	n = strlen(src);
	if (n > len - 1) {
		n = len - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	dst[n] = '\0';
}

/* Replace every occurrence of `secret` in the NUL-terminated buf (of
 * `size` bytes) with `mask`.  The search goes on after each mask, so a
 * secret that occurs in the mask cannot make it loop; when the mask does
 * not fit, the text is cut there (it is a truncated message anyway). */
static inline void lbr_pu_redact(char *buf, size_t size, const char *secret, const char *mask)
{
	size_t sl, ml = strlen(mask);
	char *from = buf, *hit;

	if (!secret || !*secret || size == 0)
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

#endif
