/*
 * HTTP transport for plugins, on libcurl.  <curl/curl.h> is used only in
 * http.c.  Each worker thread keeps its own easy handle so that connections
 * are reused and never shared between threads.
 */
#ifndef LBR_HTTP_H
#define LBR_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "lbreconcile/provider.h"

#define LBR_HTTP_MAX_BODY (64u * 1024u * 1024u)

struct lbr_http_opts {
	const char *ca_file;     /* NULL: system store */
	int allow_insecure_http; /* plain http to a non-loopback host */
	long timeout_s;          /* whole exchange */
	size_t max_body;         /* 0: LBR_HTTP_MAX_BODY */
};

/* Global init/cleanup (call once, before threads start).  Init starts
 * loading libcurl in the background and cannot fail; a library that
 * cannot be loaded is reported by lbr_http_ready() and by every call. */
int lbr_http_global_init(void);
void lbr_http_global_cleanup(void);
/* Wait until libcurl is loaded: 0, or -1 with why in err. */
int lbr_http_ready(char *err, size_t errlen);
/* Release this thread's handle (called when a worker exits). */
void lbr_http_thread_cleanup(void);

/* Perform one exchange.  See struct lbr_host.http for the contract. */
int lbr_http_perform(const struct lbr_http_opts *o, const struct lbr_http_request *req,
		     struct lbr_http_response *resp, char *err, size_t errlen);
const char *lbr_http_header(const struct lbr_http_response *resp, const char *name);
void lbr_http_release(struct lbr_http_response *resp);
char *lbr_http_url_encode(const char *s, size_t len);
char *lbr_http_url_decode(const char *s, size_t len, size_t *out_len);
/* Copy url into out with the values of query parameters that carry
 * credentials (Signature, PublicKey, ...) replaced by "REDACTED". */
void lbr_http_redact_url(const char *url, char *out, size_t len);

#endif
