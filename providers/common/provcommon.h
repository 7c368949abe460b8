/*
 * Helpers shared by the bundled provider plugins, built once as the
 * convenience library providers/common/libprovcommon.la and linked into
 * each plugin.  It is compiled with -fvisibility=hidden, so each plugin
 * still exports nothing but lbr_provider_entry: the functions below end up
 * as private copies inside every .so.
 *
 * Nothing here talks to the network or allocates behind the caller's
 * back, except lbr_pc_parse_endpoint(), which returns malloc'd strings.
 * Every function is thread-safe: the only static state is the digest
 * table of lbr_pc_digest(), filled once under pthread_once().
 */
#ifndef LBR_PROVCOMMON_H
#define LBR_PROVCOMMON_H

#include <stdarg.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "lbreconcile/provider.h"

/* [A-Za-z0-9_-]{1,max}: the ids a plugin puts into URLs, request bodies
 * and messages.  NULL is not valid. */
int lbr_pc_valid_id(const char *s, size_t max);

/* The value of `key` in a key/value list (first occurrence), or NULL. */
const char *lbr_pc_kv_get(const struct lbr_kv *kv, size_t n, const char *key);

/*
 * Copy text that came from a cloud (or a user) into a fixed buffer meant
 * for messages: control characters (< 0x20 and 0x7f) become spaces so no
 * forged log line can be injected, and a cut never leaves half a UTF-8
 * character at the end.  src NULL copies "".  len 0 does nothing.
 */
void lbr_pc_copy_clean(char *dst, size_t len, const char *src);

/*
 * printf into err (errlen bytes, always terminated), then clean it like
 * lbr_pc_copy_clean().  For the one-line errors of open()/check_target().
 * err NULL or errlen 0 is a no-op.
 */
void lbr_pc_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* printf into res->message, cleaned and truncated on a UTF-8 boundary. */
void lbr_pc_res_msg(struct lbr_call_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* lbr_pc_res_msg() with a va_list, for a plugin's own printf-like
 * wrappers (which add an outcome, or scrub secrets afterwards). */
void lbr_pc_res_vmsg(struct lbr_call_result *res, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* printf into item->message, cleaned and truncated likewise. */
void lbr_pc_item_msg(struct lbr_item_result *item, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reset a call result and n item results to zero: LBR_OUT_UNSET and empty
 * strings.  Call it first in every operation. */
void lbr_pc_results_init(struct lbr_call_result *res, struct lbr_item_result *items, size_t n);

/* Set every item's outcome to `outcome` and its message to res->message
 * (for a single-request call whose answer decides all its items). */
void lbr_pc_items_from_call(const struct lbr_call_result *res, struct lbr_item_result *items,
			    size_t n);

/* Zero memory that held a secret, in a way the compiler keeps. */
void lbr_pc_wipe(void *buf, size_t len);
/* Wipe a NUL-terminated secret, then free it.  NULL is a no-op. */
void lbr_pc_free_secret(char *s);

/*
 * Replace every occurrence of `secret` in the NUL-terminated buf (of
 * `size` bytes) with `mask`.  The search resumes after each mask, so a
 * secret that occurs inside the mask cannot loop; when the mask does not
 * fit, the text is cut there.  secret NULL or "" does nothing.
 */
void lbr_pc_redact(char *buf, size_t size, const char *secret, const char *mask);
/* lbr_pc_redact() over res->code, res->message and res->request_id. */
void lbr_pc_redact_result(struct lbr_call_result *res, const char *secret, const char *mask);

/* An endpoint URL split by lbr_pc_parse_endpoint(); malloc'd strings. */
struct lbr_pc_endpoint {
	char *base; /* "scheme://host[:port]", scheme lower-case, no slash */
	char *host; /* "host[:port]" as libcurl sends it in Host: the port
		     * only when it is not the scheme's default */
	char *path; /* "" or "/a/b" (no trailing '/'); "" unless
		     * LBR_PC_EP_PATH was given */
};

/* Flags of lbr_pc_parse_endpoint(). */
#define LBR_PC_EP_PATH (1u << 0) /* accept a path after the authority */

/*
 * Validate and split an endpoint "http(s)://host[:port][/path][/]".
 * Refused, with one line in err naming what is wrong (never echoing user
 * information, which may hold a password): another scheme, user
 * information (user:pw@), an empty or malformed host name, a malformed
 * IPv6 literal, a port outside 1..65535 or empty, a query or fragment,
 * whitespace or control characters, and a path unless LBR_PC_EP_PATH is
 * set.  The scheme's default port (443/80) is dropped from `base` and
 * `host`, because libcurl leaves it out of the Host header and a signed
 * Host must match what is sent.  Whether plain http is allowed is the
 * core's business (allow_insecure_http), not checked here.
 *
 * Returns 0 and fills *ep (release with lbr_pc_endpoint_free()),
 * LBR_EINVAL, or LBR_ENOMEM; on failure *ep holds NULLs.
 */
int lbr_pc_parse_endpoint(const char *url, unsigned flags, struct lbr_pc_endpoint *ep, char *err,
			  size_t errlen);
void lbr_pc_endpoint_free(struct lbr_pc_endpoint *ep);

/* Short name of an outcome ("ok", "not found", ...) for messages. */
const char *lbr_pc_outcome_name(enum lbr_outcome o);

/* The digests the bundled signers use. */
enum lbr_pc_digest {
	LBR_PC_SHA1,
	LBR_PC_SHA256,
};

/*
 * The OpenSSL method for `d`, never NULL.  Fetched once per process:
 * OpenSSL 3 resolves EVP_sha1() and the like on every use under a lock
 * that all threads share.  The fetched methods are given back when the
 * plugin is unloaded.
 */
const EVP_MD *lbr_pc_digest(enum lbr_pc_digest d);

/*
 * Define lbr_provider_entry(), the only symbol a plugin exports, so that
 * it returns `table` (a struct lbr_provider).  The core checks abi_major
 * itself and refuses a mismatch in its own words, so the table is
 * returned whatever the host's version.
 */
#define LBR_PC_PROVIDER_ENTRY(table)                                                          \
	__attribute__((visibility("default"))) const struct lbr_provider *lbr_provider_entry( \
		uint32_t host_abi_major, uint32_t host_abi_minor);                            \
	__attribute__((visibility("default"))) const struct lbr_provider *lbr_provider_entry( \
		uint32_t host_abi_major, uint32_t host_abi_minor)                             \
	{                                                                                     \
		(void)host_abi_major;                                                         \
		(void)host_abi_minor;                                                         \
		return &(table);                                                              \
	}

#endif
