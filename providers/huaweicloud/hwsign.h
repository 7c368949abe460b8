/*
 * Huawei Cloud "SDK-HMAC-SHA256" request signing (AK/SK authentication).
 *
 * The algorithm is Huawei's API-gateway signature: a canonical request
 * (method, canonical URI, canonical query, canonical headers, signed header
 * list, SHA-256 of the body) is hashed into a string to sign, which is
 * HMAC-SHA256'd with the secret key as is (no key derivation).  The
 * intermediates are exposed so that the unit test can compare every step
 * against the published vectors.
 *
 * Percent-encoding and decoding are borrowed from the core through
 * struct lbr_host (url_encode / url_decode) so that the plugin contains no
 * hand-written URL coding; SHA-256 and HMAC come from libcrypto.
 */
#ifndef LBR_HWSIGN_H
#define LBR_HWSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "lbreconcile/provider.h"

/* Length of an X-Sdk-Date value ("20240513T093015Z") plus its NUL. */
#define LBR_HW_DATE_LEN 17

/* Everything that goes into one signature.  All strings are borrowed. */
struct lbr_hw_sign_input {
	const char *method;         /* upper-case: "GET", "DELETE", ... */
	const char *path;           /* URL path as sent, may hold %XX */
	const struct lbr_kv *query; /* decoded name/value pairs, any order */
	size_t n_query;
	const struct lbr_kv *headers; /* the headers to sign, any case/order */
	size_t n_headers;
	const void *body; /* NULL or body_len bytes */
	size_t body_len;
	const char *access_key;
	const char *secret_key;
	const char *date; /* the X-Sdk-Date header value */
};

/*
 * Result of lbr_hw_sign().  Every string is malloc'd and owned by the
 * struct; release with lbr_hw_signature_release().
 */
struct lbr_hw_signature {
	char *canonical_uri;   /* decoded, re-encoded, trailing '/' */
	char *canonical_query; /* sorted and encoded; also the wire query */
	char *signed_headers;  /* "host;x-project-id;x-sdk-date" */
	char *canonical_request;
	char *string_to_sign;
	char *signature;     /* 64 lower-case hex digits */
	char *authorization; /* the complete Authorization header value */
};

/*
 * Canonical URI of `path`: percent-decode it, split it on '/', encode every
 * segment (all bytes but A-Z a-z 0-9 - _ . ~ become %XX) and make sure it
 * ends with '/'.  An empty path is "/".
 *
 * Returns 0 and a malloc'd string in *out (caller frees), or LBR_ENOMEM.
 */
int lbr_hw_canonical_uri(const struct lbr_host *host, const char *path, char **out);

/*
 * Canonical query string of `n` decoded pairs: sorted by name, then by
 * value (byte order), names and values encoded like URI segments, joined as
 * "name=value" with '&'.  A NULL value is written as "name=".  No pairs give
 * "".  The plugin sends exactly this string as the request's query, so the
 * gateway sees what was signed.
 *
 * Returns 0 and a malloc'd string in *out (caller frees), or LBR_ENOMEM.
 */
int lbr_hw_canonical_query(const struct lbr_host *host, const struct lbr_kv *pairs, size_t n,
			   char **out);

/*
 * Sign one request.  `sig` is caller storage; on success every field is
 * set, on failure every field is NULL.
 *
 * Returns 0, LBR_ENOMEM, or LBR_EINVAL (a header name or value that
 * cannot be signed: empty name, or a CR/LF in either).
 */
int lbr_hw_sign(const struct lbr_host *host, const struct lbr_hw_sign_input *in,
		struct lbr_hw_signature *sig);

/* Free the strings of `sig` and NULL them.  Safe on a zeroed struct. */
void lbr_hw_signature_release(struct lbr_hw_signature *sig);

/*
 * Format `t` (seconds since the epoch, UTC) as an X-Sdk-Date value,
 * "YYYYMMDDTHHMMSSZ", into buf (at least LBR_HW_DATE_LEN bytes).
 *
 * Returns 0, or LBR_EINVAL when the time cannot be represented.
 */
int lbr_hw_format_date(int64_t t, char *buf, size_t len);

/* Lower-case hex SHA-256 of `len` bytes (out: 65 bytes).  0 or LBR_ERR. */
int lbr_hw_sha256_hex(const void *data, size_t len, char out[65]);

#endif
