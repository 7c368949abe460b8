/*
 * fakecloud: an in-process emulation of the Huawei Cloud ELB v2 member API
 * and the UCloud/SurferCloud ULB API, for lbreconcile's tests and
 * benchmarks.  This header is shared by the server core (fakecloud.c), the
 * world model (world.c) and the two cloud front ends (hw.c, uc.c).
 *
 * Locking: every access to the world (accounts, pools, vservers, settings)
 * happens with fc_world_lock() held.  The request log and the statistics
 * have their own lock inside fakecloud.c.
 */
#ifndef LBR_FAKECLOUD_H
#define LBR_FAKECLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <microhttpd.h>

/* One decoded name=value pair (query string or UCloud parameter). */
struct fc_kv {
	char *k;
	char *v;
};

/* A growable list of pairs, in arrival order unless sorted. */
struct fc_params {
	struct fc_kv *v;
	size_t n;
	size_t cap;
};

#define FC_MAX_HDRS 8

/*
 * Everything about one HTTP request and its answer.  Allocated by the URI
 * log callback, freed by the completion callback.
 */
struct fc_req {
	struct MHD_Connection *mc;
	char *method;
	char *raw_uri; /* as received, path + "?" + query */
	char *path;    /* raw (still percent-encoded) path */
	char *query;   /* raw query, "" when none */
	char *body;
	size_t body_len;
	size_t body_cap;
	bool headers_seen;
	bool too_big;
	unsigned long conn_no;
	int64_t t_start_ms;
	int64_t t_start_us;            /* CLOCK_MONOTONIC, for split latency */
	int latency_ms, latency_split; /* as set when the request came */
	char reqid[40];                /* hw: 32 hex; uc: a UUID */

	/* The answer. */
	int status;
	char *resp_body; /* malloc'd; NULL = empty */
	size_t resp_len;
	const char *ctype;
	struct fc_kv hdrs[FC_MAX_HDRS];
	int nhdrs;
	bool reset; /* close the connection without answering */

	/* What the request log records. */
	const char *cloud; /* "hw" or "uc" */
	char op[48];
	char *pool_id;
	char *member_id;
	char action[64];
	json_object *params_log;
	const char *auth; /* aksk, token, none, bad */
	bool locked;      /* hw: rejected because the AK is locked */
	bool has_retcode;
	int retcode;
	const char *fault;
	bool applied;

	/*
	 * A "partial" fault: a batch call applies only its first
	 * 'batch_keep' items (the rest are left alone) before the fault's
	 * status is answered.
	 */
	bool batch_cut;
	int batch_keep;

	/* UCloud: all parameters (query + body), decoded. */
	struct fc_params uparams;
};

/* A fault rule (POST /_fake/faults). */
enum fc_effect {
	FC_EFF_NONE,
	FC_EFF_STATUS,
	FC_EFF_RETCODE,
	FC_EFF_RETCODE_STR,
	FC_EFF_RESET,
	FC_EFF_APPLIED_THEN,
	FC_EFF_CONFLICT,
	FC_EFF_GARBAGE,
	FC_EFF_TRUNCATE,
	FC_EFF_DELAY,
	FC_EFF_PARTIAL,
	FC_EFF_PAUSE,
};

/* The decision fc_fault_check() takes for one request. */
struct fc_fault_hit {
	enum fc_effect effect;
	int value;       /* status, retcode, applied_then status, or the
				 * items a partial batch applies */
	int then_status; /* partial: the status answered afterwards */
	int delay_ms;    /* also applied before any other effect */
	int retry_after; /* -1 = no Retry-After header */
};

/* Server-wide knobs (POST /_fake/settings). Guarded by the world lock. */
struct fc_settings {
	int latency_ms;
	/* 0: sleep latency_ms, then execute and answer (tests).  1: execute
	 * half-way and answer latency_ms after the request arrived, so that
	 * the fake's own work hides inside the latency (bench/). */
	int latency_split;
	int eventual_ms;
	int page_max;
	int release_blocked_retcode;
	int not_found_retcode;
	int lockout_threshold; /* hw: failures before lock ("more than") */
	int lockout_s;
	int64_t clock_offset_s;
	char rl_op[64];
	double rl_per_sec; /* 0 = no rate limit */
	/* Admit this many cloud requests after the last log clear, then hold
	 * every further one until the setting changes; a held request is
	 * never executed (it ends with a reset).  -1: off. */
	int hold_after;
};

/* ---- core (fakecloud.c) ---- */

/* Milliseconds on a monotonic clock since the server started. */
int64_t fc_now_ms(void);

/* Write 'n' random lowercase hex digits and a NUL into 'out'. */
void fc_rand_hex(char *out, size_t n);

/* Write a random version-4 UUID (36 chars + NUL) into 'out'. */
void fc_uuid(char *out);

/* Write 'n' random characters from [a-z0-9] and a NUL into 'out'. */
void fc_rand_alnum(char *out, size_t n);

/* Add a response header (copied). Silently ignored past FC_MAX_HDRS. */
void fc_hdr(struct fc_req *r, const char *name, const char *value);

/*
 * Answer with 'obj' serialised as JSON; takes ownership of 'obj'.
 * 'ctype' NULL selects "application/json; charset=UTF-8".
 */
void fc_reply_json(struct fc_req *r, int status, json_object *obj, const char *ctype);

/* Answer with a copy of 'len' bytes of 'text' (NULL text = no body). */
void fc_reply_raw(struct fc_req *r, int status, const char *text, size_t len, const char *ctype);

/* Match the fault rules against a request; see fakecloud.c. */
void fc_fault_check(const struct fc_req *r, struct fc_fault_hit *hit);

/* true when the token bucket for this op is empty (request throttled). */
bool fc_rate_limited(const struct fc_req *r);

/* Lowercase hex of SHA-256 / SHA-1 / HMAC-SHA256 into 'hex' (65/41 bytes). */
void fc_sha256_hex(const void *data, size_t len, char *hex);
void fc_sha1_hex(const void *data, size_t len, char *hex);
void fc_hmac_sha256_hex(const char *key, const void *data, size_t len, char *hex);

/* Params helpers: add copies, find by exact name, sort by name (bytes). */
int fc_params_add(struct fc_params *p, const char *k, size_t klen, const char *v, size_t vlen);
const char *fc_params_get(const struct fc_params *p, const char *k);
void fc_params_sort(struct fc_params *p);
void fc_params_release(struct fc_params *p);

/*
 * Parse an urlencoded string ("a=1&b=2") into 'p', percent-decoding names
 * and values.  'plus_is_space' selects form semantics.  Returns 0 or -1.
 */
int fc_parse_urlencoded(struct fc_params *p, const char *s, size_t len, bool plus_is_space);

/* Percent-decode 's' (in place). */
void fc_unescape(char *s);

/* ---- world (world.c) ---- */

struct fc_hw_account {
	char *ak;
	char *sk;
	char *project_id;
	char *token;
	int fails; /* consecutive AK/SK failures */
	int64_t locked_until_ms;
};

struct fc_hw_member {
	char id[40];
	char *name;
	char *address;
	int port;
	char *subnet_id;
	int weight;
	bool admin_state_up;
	char *operating_status;
	char *member_type;  /* v3: "ip" or "instance" */
	char *instance_id;  /* v3: the ECS id, "" for IP members */
	int64_t gone_at_ms; /* -1 = present; else removal time */
};

struct fc_hw_pool {
	char *project_id;
	char *pool_id;
	char *lb_id;
	char *listener_id;
	char *name;
	bool v3;                /* a dedicated pool: served by /v3 only */
	struct fc_hw_member *m; /* sorted by id */
	size_t n;
	size_t cap;
};

struct fc_uc_account {
	char *pub;
	char *priv;
	char *project_id;
};

struct fc_uc_backend {
	char id[32];
	char *ip;
	int port;
	int enabled;
	int weight;
	char *resource_id;
	char *resource_type;
	char *resource_name;
	char *subnet_id;
	char *vpc_id;
	int64_t gone_at_ms;
};

struct fc_uc_policy {
	char *id;
	char *type;
	char *match;
	char *mode;
	int priority;
	char **bids;
	size_t nb;
};

struct fc_uc_vserver {
	char *project_id;
	char *region;
	char *ulb_id;
	char *vserver_id;
	char *protocol;
	int frontend_port;
	struct fc_uc_backend *b;
	size_t nb;
	size_t capb;
	struct fc_uc_policy *p;
	size_t np;
	size_t capp;
};

struct fc_world {
	struct fc_hw_account *hwa;
	size_t nhwa;
	struct fc_hw_pool *pools;
	size_t npools;
	struct fc_uc_account *uca;
	size_t nuca;
	struct fc_uc_vserver *vs;
	size_t nvs;
};

/* The world; only touch it with the world lock held. */
extern struct fc_world fc_w;

/* Is a member/backend still listed (present, or removed < eventual_ms ago)? */
bool fc_hw_member_listed(const struct fc_hw_member *m, int64_t now);
bool fc_uc_backend_listed(const struct fc_uc_backend *b, int64_t now);

/* Lookups; NULL when absent. */
struct fc_hw_pool *fc_hw_pool_find(const char *pool_id);
struct fc_hw_member *fc_hw_member_find(struct fc_hw_pool *p, const char *id);
struct fc_uc_vserver *fc_uc_vserver_find(const char *vserver_id);

/* Remove a member (or mark it gone when eventual_ms > 0). */
void fc_hw_member_remove(struct fc_hw_pool *p, struct fc_hw_member *m);

/* Drop members whose grace period has passed. */
void fc_hw_pool_purge(struct fc_hw_pool *p, int64_t now);
void fc_uc_vserver_purge(struct fc_uc_vserver *v, int64_t now);

/*
 * Add a member (validated elsewhere); generates the id when 'id' is NULL.
 * Returns the new member (valid until the next change) or NULL on ENOMEM.
 */
struct fc_hw_member *fc_hw_member_add(struct fc_hw_pool *p, const char *id, const char *name,
				      const char *address, int port, const char *subnet_id,
				      int weight);

/*
 * Give a member its v3 identity: with a subnet it is an "instance" member
 * whose ECS id is derived from its address (stable across runs), without
 * one an "ip" member.  0 or -1 on ENOMEM.
 */
int fc_hw_member_set_kind(struct fc_hw_member *m, const char *type, const char *instance_id);

/* A member as the v2 API shows it. */
json_object *fc_hw_member_json(const struct fc_hw_pool *p, const struct fc_hw_member *m);

/* Add a backend; generates a per-ULB unique id when 'id' is NULL. */
struct fc_uc_backend *fc_uc_backend_add(struct fc_uc_vserver *v, const char *id, const char *ip,
					int port, int enabled, int weight, const char *resource_id);

/* Find a backend by id in a whole ULB (all its vservers). */
struct fc_uc_backend *fc_uc_backend_find(const char *project_id, const char *ulb_id,
					 const char *bid, struct fc_uc_vserver **vout);

/* Remove a backend (or mark it gone when eventual_ms > 0). */
void fc_uc_backend_remove(struct fc_uc_vserver *v, struct fc_uc_backend *b);

/* Does any Custom policy of 'v' list 'bid'? */
bool fc_uc_backend_in_policy(const struct fc_uc_vserver *v, const char *bid);

void fc_world_lock(void);
void fc_world_unlock(void);
struct fc_settings *fc_settings(void);

/* Load a whole world ({"hw":{...},"uc":{...}}); 0 or -1 with 'err' set. */
int fc_world_load(json_object *root, char *err, size_t errlen);

/* Dump the whole world in the --state shape. */
json_object *fc_world_dump(void);

/* Control API handler for everything under /_fake/hw and /_fake/uc. */
void fc_world_control(struct fc_req *r, const char *sub, json_object *body);

/* ---- Huawei ELB (hw.c) ---- */

/* Route a cloud request: fill r->op / pool_id / member_id. */
void fc_hw_classify(struct fc_req *r);

/* Authenticate and execute a classified request. */
void fc_hw_execute(struct fc_req *r);

/* An error answer in the right Huawei shape for an injected status. */
void fc_hw_fault_reply(struct fc_req *r, int status, int retry_after);

/* ---- UCloud ULB (uc.c) ---- */

/* Parse parameters, fill r->action / op / params_log. */
void fc_uc_classify(struct fc_req *r);
void fc_uc_execute(struct fc_req *r);

/* HTTP-level error answer (non-JSON) for an injected status. */
void fc_uc_fault_status(struct fc_req *r, int status, int retry_after);

/* HTTP 200 with an injected RetCode. */
void fc_uc_fault_retcode(struct fc_req *r, int retcode, int retry_after);

/* Rewrite a UCloud JSON answer so that RetCode is the string "0". */
void fc_uc_retcode_as_string(struct fc_req *r);

#endif
