/*
 * A minimal struct lbr_host for the provider fuzz targets: http() answers
 * every request with one canned status and body (the fuzz input), and the
 * observation callbacks touch every byte they are handed so that ASan sees
 * a plugin passing dangling or unterminated strings.
 *
 * Single-threaded, like libFuzzer itself.
 */
#ifndef LBR_FUZZHOST_H
#define LBR_FUZZHOST_H

#include <stddef.h>

#include "lbreconcile/provider.h"

/* The services table to hand to a plugin's open(). */
const struct lbr_host *fuzz_host(void);
/* A dummy call handle and observation sink (only ever compared, never
 * dereferenced by a plugin). */
struct lbr_call *fuzz_call(void);
struct lbr_obs *fuzz_obs(void);

/* What the next http() calls answer.  `body` is copied into an exactly
 * sized heap buffer per call so that a read past body_len is caught.
 * transport_rc < 0 makes http() fail with that code instead. */
void fuzz_host_set_response(long status, const void *body, size_t len,
			    int transport_rc);
/* Counters, for the targets' consistency checks. */
size_t fuzz_host_n_members(void);
size_t fuzz_host_n_rules(void);
size_t fuzz_host_n_requests(void);
/* Forget counters and drop the canned response. */
void fuzz_host_reset(void);

#endif
