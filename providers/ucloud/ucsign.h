/*
 * UCloud / SurferCloud API request parameters and signature.
 *
 * The UCloud gateway authenticates a request by a SHA-1 over the request's
 * flattened parameters: sorted by name (plain byte order), concatenated as
 * name + value with no separators and the values NOT percent-encoded, then
 * the private key appended.  The digest is sent, in lower-case hex, as the
 * parameter "Signature", which is itself never signed.
 *
 * This module keeps a request's parameters, signs them and renders them as
 * an application/x-www-form-urlencoded body.  It has no knowledge of the
 * ULB operations, so it can be checked against the published vectors.
 */
#ifndef LBR_UCSIGN_H
#define LBR_UCSIGN_H

#include <stddef.h>

/* One flattened parameter ("BackendId.0" = "backend-xx").  Both strings
 * are owned by the parameter list. */
struct lbr_uc_param {
	char *key;
	char *value;
};

/* A request's parameters.  Initialise with lbr_uc_params_init(), free
 * with lbr_uc_params_release(). */
struct lbr_uc_params {
	struct lbr_uc_param *v;
	size_t n;
	size_t cap;
};

/* Percent-encoder used to build the body: returns a malloc'd encoding of
 * `len` bytes of `s` (RFC 3986 unreserved bytes kept, everything else
 * %XX, space as %20), or NULL when out of memory.  The plugin passes the
 * host's url_encode. */
typedef char *(*lbr_uc_encode_fn)(const char *s, size_t len);

/* Prepare an empty list in caller storage. */
void lbr_uc_params_init(struct lbr_uc_params *p);

/* Wipe every value (the list holds the PublicKey) and free the list.  The
 * list is empty afterwards and may be reused.  NULL is a no-op. */
void lbr_uc_params_release(struct lbr_uc_params *p);

/*
 * Add a copy of key/value.  An empty or NULL value is skipped (returns 0):
 * the gateway signs whatever it receives and SDKs do not send empty
 * parameters, so neither do we.
 * Returns 0, LBR_EINVAL for an empty key, a key named "Signature" or a key
 * already present, LBR_ENOMEM when out of memory.
 */
int lbr_uc_params_add(struct lbr_uc_params *p, const char *key, const char *value);

/* Same as lbr_uc_params_add() with the decimal text of `value`. */
int lbr_uc_params_add_long(struct lbr_uc_params *p, const char *key, long value);

/* Value of `key`, or NULL.  Borrowed from the list. */
const char *lbr_uc_params_get(const struct lbr_uc_params *p, const char *key);

/* Sort the list by key, plain byte order (so "CPU" < "ChargeType" and
 * "BackendId.10" < "BackendId.2", as the gateway expects). */
void lbr_uc_params_sort(struct lbr_uc_params *p);

/*
 * Compute the signature of `p` with `private_key` into `hex` (40 lower-case
 * hex digits and a NUL).  Sorts `p` first.  Returns 0, LBR_ENOMEM, or
 * LBR_ERR when libcrypto fails.  The string-to-sign, which contains the
 * private key, is wiped before it is freed.
 */
int lbr_uc_sign(struct lbr_uc_params *p, const char *private_key, char hex[41]);

/*
 * Render `p` in its current order, followed by Signature=`signature` when
 * it is not NULL, as "k=v&k=v..." with keys and values percent-encoded by
 * `enc`.  On success *out receives a malloc'd NUL-terminated string (the
 * caller frees it; it contains the PublicKey, so wipe it first) and
 * *out_len its length.  Returns 0 or LBR_ENOMEM.
 */
int lbr_uc_form_body(const struct lbr_uc_params *p, const char *signature, lbr_uc_encode_fn enc,
		     char **out, size_t *out_len);

#endif
