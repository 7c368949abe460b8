/*
 * lbreconcile provider plugin ABI, version 2.
 *
 * This header is the whole contract between the lbreconcile core and a
 * provider plugin.  It is installed as <lbreconcile/provider.h>; a plugin
 * includes nothing else from the core.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * LBR_PROVIDER_ENTRY ("lbr_provider_entry"), of type lbr_provider_entry_fn.
 * The core calls it once after dlopen() and receives a pointer to a static
 * struct lbr_provider describing the plugin.  The core copies
 * min(struct_size, sizeof(struct lbr_provider)) bytes of it into a zeroed
 * private copy, so fields appended in later minor versions read as zero/NULL
 * from older plugins.  A plugin whose abi_major differs from the core's is
 * refused with one line (ABI 1.x plugins are not adapted: their single
 * member removal and "0 means success" results cannot be mapped safely).
 *
 * Division of labour: the core owns transport (libcurl, connection reuse,
 * TLS verification, timeouts, the keys `ca_file`, `allow_insecure_http` and
 * `timeout`, which it declares itself and never passes to a plugin),
 * retries, concurrency, logging and secret redaction: every secret value
 * the core resolved is scrubbed from whatever a plugin hands back.  A plugin
 * maps its cloud's API: for every operation it builds and signs exactly one
 * HTTP request, hands it to host->http(), and classifies the response.
 *
 * Operations may be called from several threads at once, or, with
 * LBR_CAP_COOPERATIVE, as interleaved tasks of one thread; they must not
 * keep per-call global state.
 *
 * Batches: remove_members(), create_members(), set_weights() and
 * drain_members() take up to `batch[op]` items (stated per instance by
 * open(); 1 for a cloud without batch calls).  The call as a whole is
 * classified in a struct lbr_call_result (was a response received, was it
 * throttled, ...); when that outcome is LBR_OUT_OK, each item has its own
 * outcome in a struct lbr_item_result.  Both start as LBR_OUT_UNSET, which
 * the core never reads as success: an item the plugin forgot to fill is a
 * failure of that item.
 */
#ifndef LBRECONCILE_PROVIDER_H
#define LBRECONCILE_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LBR_PROVIDER_ABI_MAJOR 2
#define LBR_PROVIDER_ABI_MINOR 0
#define LBR_PROVIDER_ENTRY "lbr_provider_entry"

/*
 * Error codes.  Functions of the core and of plugins that can fail return
 * 0 or one of these negative values; lbr_provider_strerror() names them.
 * The core's own modules use the same codes.
 */
enum lbr_err {
	LBR_OK = 0,
	LBR_ERR = -1,         /* generic failure, already reported */
	LBR_ENOMEM = -2,      /* out of memory */
	LBR_EINVAL = -3,      /* invalid input (config, state, response) */
	LBR_EIO = -4,         /* file or network I/O failure */
	LBR_ELOCKED = -5,     /* the state lock is held by someone else */
	LBR_ENOENT = -6,      /* no such file / object */
	LBR_ECORRUPT = -7,    /* a file or answer could not be parsed */
	LBR_EFOREIGN = -8,    /* state belongs to another lineage */
	LBR_EAUTH = -9,       /* credentials rejected */
	LBR_EREFUSED = -10,   /* refused by a safety guard */
	LBR_ECANCELED = -11,  /* stopped by a signal or shutdown */
	LBR_ETIMEDOUT = -12,  /* deadline passed */
	LBR_EFENCED = -13,    /* the lock was lost (fencing) */
	LBR_ETRANSPORT = -14, /* host->http(): no response; retry may help */
	LBR_EFATAL = -15,     /* host->http(): refused before sending (TLS
			      * failure, plain http refused, read-only
			      * command, body over the size cap); never retry */
};

/* Static description of an LBR_E* code ("unknown error" for others). */
static inline const char *lbr_provider_strerror(int err)
{
	switch (err) {
	case LBR_OK: return "success";
	case LBR_ERR: return "failed";
	case LBR_ENOMEM: return "out of memory";
	case LBR_EINVAL: return "invalid input";
	case LBR_EIO: return "input/output error";
	case LBR_ELOCKED: return "state lock is held by someone else";
	case LBR_ENOENT: return "not found";
	case LBR_ECORRUPT: return "corrupt file";
	case LBR_EFOREIGN: return "state belongs to another lineage";
	case LBR_EAUTH: return "authentication failed";
	case LBR_EREFUSED: return "refused by a safety guard";
	case LBR_ECANCELED: return "canceled";
	case LBR_ETIMEDOUT: return "timed out";
	case LBR_EFENCED: return "state lock was lost";
	case LBR_ETRANSPORT: return "transport failure";
	case LBR_EFATAL: return "request refused before sending";
	default: return "unknown error";
	}
}

/*
 * Capability bits of a provider *instance* (struct lbr_instance_info.caps,
 * filled by open()): a "v2" and a "v3" instance of one plugin may differ.
 * An optional operation is used only when its bit is set AND its function
 * pointer is non-NULL.
 */
#define LBR_CAP_RULES (UINT64_C(1) << 0)  /* update_rule: L7 rules name members */
#define LBR_CAP_DRAIN (UINT64_C(1) << 1)  /* drain_members */
#define LBR_CAP_CREATE (UINT64_C(1) << 2) /* create_members */
/* The plugin holds no lock and keeps no thread-local state across a call
 * to host->http() (nor between two of them): the core may run its
 * operations as cooperative tasks that take turns on one thread. */
#define LBR_CAP_COOPERATIVE (UINT64_C(1) << 3)
#define LBR_CAP_WEIGHT (UINT64_C(1) << 4) /* set_weights */

/* Log levels for host->log(). */
enum lbr_log_level {
	LBR_LOG_ERROR = 0,
	LBR_LOG_WARN = 1,
	LBR_LOG_INFO = 2,
	LBR_LOG_DEBUG = 3,
};

/*
 * How a call, or one item of a batch, ended.  LBR_OUT_UNSET (0) is what a
 * zeroed result holds: the core treats it as a failure, never as success.
 */
enum lbr_outcome {
	LBR_OUT_UNSET = 0,     /* the plugin did not say: a failure */
	LBR_OUT_OK = 1,        /* success */
	LBR_OUT_NOT_FOUND = 2, /* the object is gone (a removal counts as done) */
	LBR_OUT_TRANSIENT = 3, /* network/5xx/busy: retry with backoff */
	LBR_OUT_THROTTLED = 4, /* rate limited: retry and slow down */
	LBR_OUT_AUTH = 5,      /* credentials rejected: stop this provider */
	LBR_OUT_INVALID = 6,   /* request refused or response unreadable: fatal */
	LBR_OUT_CONFLICT = 7,  /* conflict: retry a bounded number of times */
	LBR_OUT_BLOCKED = 8,   /* refused because something still references it */
	LBR_OUT_EXISTS = 9,    /* creation: the member is already there (done,
				* after the core re-reads the pool) */
};
#define LBR_OUTCOME_COUNT 10

/* Result of one call.  The plugin fills it; all strings NUL-terminated and
 * truncated to fit.  The core scrubs secrets from every field. */
struct lbr_call_result {
	enum lbr_outcome outcome;
	long http_status;        /* 0 if no HTTP response was received */
	char code[64];           /* cloud error code, see below */
	char message[512];       /* cloud error message or plugin diagnosis */
	char request_id[128];    /* cloud request id, if any */
	uint32_t retry_after_ms; /* > 0: the cloud asked to wait this long */
};
/* `code` has one form for every cloud: the cloud's own error code as text,
 * e.g. "ELB.8906" or "APIGW.0301" (Huawei), "RetCode.4093" (UCloud: the
 * word RetCode, a dot, the number).  Empty when the cloud gave none. */

/* Outcome of one item of a batch.  The plugin sets `outcome` for every item
 * when the call's outcome is LBR_OUT_OK (and may leave them unset
 * otherwise: the core then retries or fails the whole batch). */
struct lbr_item_result {
	enum lbr_outcome outcome;
	char id[129];      /* create_members: the new member's id, if known */
	char message[256]; /* per-item status or error text, e.g. "not found" */
};

/* A key/value pair.  Used for configuration, pool targets and rule attributes. */
struct lbr_kv {
	const char *key;
	const char *value;
};

/* Description of one configuration key a plugin accepts. */
#define LBR_KEY_REQUIRED (1u << 0) /* validate fails when absent */
#define LBR_KEY_SECRET (1u << 1)   /* env:/file:/cred:/literal; never printed */
#define LBR_KEY_ID (1u << 2)       /* must match [A-Za-z0-9_-]{1,128} */
struct lbr_key_spec {
	const char *name; /* NULL terminates an array of specs */
	unsigned flags;
	const char *help; /* one line for `lbreconcile providers` */
};

/* HTTP exchange.  The core performs it once, without retrying. */
struct lbr_http_request {
	const char *method;         /* "GET", "POST", "PUT", "DELETE" */
	const char *url;            /* absolute URL, already percent-encoded */
	const char *const *headers; /* NULL-terminated "Name: value" strings */
	const void *body;           /* may be NULL */
	size_t body_len;
};

struct lbr_http_response {
	long status;      /* HTTP status code */
	const char *body; /* NUL-terminated; owned by the core */
	size_t body_len;
	uint32_t retry_after_ms; /* parsed Retry-After, 0 when absent */
	void *priv;              /* core-private */
};

/* Opaque core objects handed to the plugin. */
struct lbr_call; /* one operation in progress (provider, pool, operation) */
struct lbr_obs;  /* observation being built by list_page */

/* A member as seen by the cloud (observation). */
struct lbr_member_info {
	const char *id;          /* cloud id, [A-Za-z0-9_-]{1,128} */
	const char *address;     /* IPv4 or IPv6 text as returned */
	unsigned port;           /* 1..65535 */
	int weight;              /* -1 when unknown */
	int enabled;             /* 1, 0, or -1 when unknown */
	const char *name;        /* member name (Huawei `name`, UCloud
				  * `ResourceName`); NULL or "" when none */
	const char *instance_id; /* Huawei v3 `instance_id`, UCloud
				  * `ResourceId`; NULL when none */
	const char *type;        /* "ip" or "instance" (Huawei v3
				  * `member_type`); NULL when unknown */
};

/* An L7 rule that references members by id and must be updated before any
 * of them can be removed (UCloud Custom forwarding policy). */
struct lbr_rule_info {
	const char *id;    /* cloud id, [A-Za-z0-9_-]{1,128} */
	const char *label; /* human description, e.g. "Path /api" */
	int never_empty;   /* 1: the rule may not lose its last member */
	const char *const *member_ids;
	size_t n_members;
	const struct lbr_kv *attrs; /* opaque to the core, handed back verbatim */
	size_t n_attrs;
};

/* An observed member handed back to the plugin for an action (borrowed). */
struct lbr_member_ref {
	const char *id;
	const char *address;
	unsigned port;
	int weight;  /* as observed; drain_members(drain = 0) restores it */
	int enabled; /* as observed; drain_members(drain = 0) restores it */
};

/* A declared member, for create_members() and check_target() (borrowed). */
struct lbr_member_spec {
	const char *address; /* canonical IPv4 or IPv6 text (no brackets) */
	unsigned port;
	int weight;           /* declared weight, -1 when not declared */
	const char *name;     /* `name=`, NULL when not declared */
	const char *resource; /* `resource=`, NULL when not declared */
};

struct lbr_rule_ref {
	const char *id;
	const struct lbr_kv *attrs;
	size_t n_attrs;
};

/* A pool's target keys from the config (borrowed for the call), and what
 * check_target() needs to validate creation. */
struct lbr_target {
	const char *pool_name;
	const struct lbr_kv *kv; /* the plugin's pool keys, as configured */
	size_t n;
	int create;                            /* `create = yes` in the pool */
	const struct lbr_member_spec *members; /* declared members */
	size_t n_members;
};

/* Operations that take batches, indexing struct lbr_instance_info.batch. */
enum lbr_batch_op {
	LBR_BATCH_REMOVE = 0,
	LBR_BATCH_CREATE = 1,
	LBR_BATCH_WEIGHT = 2,
	LBR_BATCH_DRAIN = 3,
	LBR_BATCH_COUNT
};

/* What one provider instance can do, filled by open().  The core zeroes it
 * and sets struct_size before the call. */
struct lbr_instance_info {
	uint32_t struct_size;
	uint64_t caps;                   /* LBR_CAP_* of this instance */
	uint32_t batch[LBR_BATCH_COUNT]; /* most items per call; 0 reads as 1 */
	int weight_min, weight_max;      /* accepted weights, e.g. 0..100 */
	char api[16];                    /* API flavour shown to operators: "v2" */
};

/*
 * Services the core offers to plugins.  Passed to open(); valid until
 * close().  Check struct_size before using a field added after 2.0.
 */
struct lbr_host {
	uint32_t struct_size;
	uint32_t abi_major;
	uint32_t abi_minor;

	/* Perform one HTTP exchange for `call`.  Returns 0 when a response
	 * was received (whatever its status) and fills `resp`, which must
	 * then be released with http_release().  Returns LBR_ETRANSPORT on a
	 * transport failure (connection refused/reset, timeout) or LBR_EFATAL
	 * when the request was refused before sending (TLS setup, plain http,
	 * read-only command, size cap), and writes a one-line reason into
	 * `err`; classify the call LBR_OUT_TRANSIENT or LBR_OUT_INVALID. */
	int (*http)(struct lbr_call *call, const struct lbr_http_request *req,
		    struct lbr_http_response *resp, char *err, size_t errlen);
	/* Value of a response header (case-insensitive name), or NULL. */
	const char *(*http_header)(const struct lbr_http_response *resp, const char *name);
	void (*http_release)(struct lbr_http_response *resp);

	/* Log a line tagged with the provider and pool of `call` (may be
	 * NULL).  The core scrubs secrets from it. */
	void (*log)(struct lbr_call *call, int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	/* Wall-clock seconds since the epoch, for request dates. */
	int64_t (*now)(struct lbr_call *call);

	/* Add to an observation being built by list_page.  The core copies
	 * every string.  Return 0, or negative on a rejected value (bad id,
	 * bad address, out of memory); the plugin must then fail the page
	 * with LBR_OUT_INVALID. */
	int (*obs_add_member)(struct lbr_obs *obs, const struct lbr_member_info *m);
	int (*obs_add_rule)(struct lbr_obs *obs, const struct lbr_rule_info *r);

	/* Percent-encode `len` bytes of `s`: every byte except
	 * A-Z a-z 0-9 - _ . ~ becomes %XX with upper-case hex (RFC 3986; a
	 * space is %20).  Returns a malloc'd string the caller frees with
	 * free(), or NULL when out of memory. */
	char *(*url_encode)(const char *s, size_t len);
	/* Reverse of url_encode ('+' is left alone).  *out_len receives the
	 * decoded length.  malloc'd, or NULL. */
	char *(*url_decode)(const char *s, size_t len, size_t *out_len);
};

/*
 * The plugin's description.  All operations return 0 after filling `res`
 * (whatever the outcome), or a negative LBR_E* on an internal failure such
 * as out of memory (then res->message says why).
 */
struct lbr_provider {
	uint32_t struct_size;
	uint32_t abi_major;
	uint32_t abi_minor;
	const char *name;    /* must equal the file name without ".so" */
	const char *version; /* plugin version string */
	uint64_t caps;       /* LBR_CAP_* any instance may have (for listing) */
	const struct lbr_key_spec *provider_keys; /* [provider X] keys */
	const struct lbr_key_spec *pool_keys;     /* target keys in [pool X] */

	/* Create a provider instance from its configuration (secrets already
	 * resolved; the core's own keys left out).  No network.  Fill `info`
	 * with what this instance can do.  On failure return negative and
	 * write one line into err.  The plugin copies what it keeps. */
	int (*open)(const struct lbr_host *host, const struct lbr_kv *cfg, size_t ncfg,
		    void **prov_out, struct lbr_instance_info *info, char *err, size_t errlen);
	/* Release an instance; wipes secrets.  NULL is a no-op. */
	void (*close)(void *prov);

	/* Check a pool's target keys, and what creation needs when
	 * t->create is set (no network).  0 or negative + err. */
	int (*check_target)(void *prov, const struct lbr_target *t, char *err, size_t errlen);

	/* Fetch one page of the pool's members.  `cursor` is "" for the first
	 * page.  On LBR_OUT_OK, members (and rules) were added to `obs` and
	 * `next_cursor` holds the cursor of the next page, or "" when this
	 * was the last one. */
	int (*list_page)(void *prov, struct lbr_call *call, const struct lbr_target *t,
			 const char *cursor, struct lbr_obs *obs, char *next_cursor,
			 size_t next_len, struct lbr_call_result *res);

	/* Remove n members (1 <= n <= batch[LBR_BATCH_REMOVE]).  Item
	 * outcome LBR_OUT_NOT_FOUND means already gone. */
	int (*remove_members)(void *prov, struct lbr_call *call, const struct lbr_target *t,
			      const struct lbr_member_ref *m, size_t n,
			      struct lbr_item_result *items, struct lbr_call_result *res);

	/* Optional (LBR_CAP_CREATE): add n declared members (1 <= n <=
	 * batch[LBR_BATCH_CREATE]).  Item outcome LBR_OUT_EXISTS: already
	 * there. */
	int (*create_members)(void *prov, struct lbr_call *call, const struct lbr_target *t,
			      const struct lbr_member_spec *m, size_t n,
			      struct lbr_item_result *items, struct lbr_call_result *res);

	/* Optional (LBR_CAP_WEIGHT): set the weight of n members to
	 * weights[i] (1 <= n <= batch[LBR_BATCH_WEIGHT]).  A weight of 0 is
	 * sent as 0. */
	int (*set_weights)(void *prov, struct lbr_call *call, const struct lbr_target *t,
			   const struct lbr_member_ref *m, const int *weights, size_t n,
			   struct lbr_item_result *items, struct lbr_call_result *res);

	/* Optional (LBR_CAP_DRAIN): make n members get no new traffic
	 * (drain = 1: weight 0 on Huawei, Enabled=0 on UCloud), or restore
	 * the weight/enabled values in m[i] (drain = 0). */
	int (*drain_members)(void *prov, struct lbr_call *call, const struct lbr_target *t,
			     const struct lbr_member_ref *m, size_t n, int drain,
			     struct lbr_item_result *items, struct lbr_call_result *res);

	/* Optional (LBR_CAP_RULES): set a rule's member list to exactly
	 * member_ids, keeping every other attribute of the rule. */
	int (*update_rule)(void *prov, struct lbr_call *call, const struct lbr_target *t,
			   const struct lbr_rule_ref *rule, const char *const *member_ids, size_t n,
			   struct lbr_call_result *res);
};

typedef const struct lbr_provider *(*lbr_provider_entry_fn)(uint32_t host_abi_major,
							    uint32_t host_abi_minor);

#ifdef __cplusplus
}
#endif

#endif /* LBRECONCILE_PROVIDER_H */
