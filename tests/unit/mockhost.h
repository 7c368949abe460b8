/*
 * A mock of the core's services (struct lbr_host) for plugin unit tests.
 * It records every HTTP request a plugin makes and answers from a queue
 * of canned responses, so a test can drive a plugin operation and assert
 * on the exact request and on the classification of the response.
 *
 * Not thread-safe: one test, one thread.
 */
#ifndef LBR_MOCKHOST_H
#define LBR_MOCKHOST_H

#include <stddef.h>
#include <stdint.h>

#include "lbreconcile/provider.h"

struct mock_request {
	char *method;
	char *url;
	char **headers; /* "Name: value", n_headers of them */
	size_t n_headers;
	char *body; /* NUL-terminated copy, NULL when none */
	size_t body_len;
};

struct mock_member { /* copied from obs_add_member */
	char *id, *address;
	unsigned port;
	int weight, enabled;
	char *name, *instance_id, *type; /* NULL when the plugin gave none */
};

struct mock_rule { /* copied from obs_add_rule */
	char *id, *label;
	int never_empty;
	char **member_ids;
	size_t n_members;
	struct lbr_kv *attrs; /* key/value copies */
	size_t n_attrs;
};

/* Forget all requests, queued responses and observations; now = 0. */
void mock_reset(void);
/* The services table to pass to a plugin's open(). */
const struct lbr_host *mock_host(void);
/* A dummy call handle to pass to operations. */
struct lbr_call *mock_call(void);
/* A fresh observation sink (reset by mock_reset). */
struct lbr_obs *mock_obs(void);

/* Queue the answer to the next http() call.  headers: NULL-terminated
 * "Name: value" list or NULL. */
void mock_push_response(long status, const char *body, const char *const *headers);
/* Queue a transport failure: http() returns rc (negative) with msg. */
void mock_push_transport_error(int rc, const char *msg);
/* Value returned by host->now(). */
void mock_set_now(int64_t t);
/* Make obs_add_member / obs_add_rule fail (return -1) from now on. */
void mock_set_obs_fail(int fail);

size_t mock_n_requests(void);
const struct mock_request *mock_request_at(size_t i);
/* Value of header `name` (case-insensitive) in request i, or NULL. */
const char *mock_request_header(size_t i, const char *name);
size_t mock_n_members(void);
const struct mock_member *mock_member_at(size_t i);
size_t mock_n_rules(void);
const struct mock_rule *mock_rule_at(size_t i);
/* Number of log lines the plugin emitted, and the last one. */
size_t mock_n_logs(void);
const char *mock_last_log(void);

#endif
