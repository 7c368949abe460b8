/*
 * lbreconcile provider plugin ABI.
 *
 * This header is the whole contract between the lbreconcile core and a
 * provider plugin.  It is installed as <lbreconcile/provider.h>.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * LBR_PROVIDER_ENTRY ("lbr_provider_entry"), of type lbr_provider_entry_fn.
 * The core calls it once after dlopen() and receives a pointer to a static
 * struct lbr_provider describing the plugin.  The core copies
 * min(struct_size, sizeof(struct lbr_provider)) bytes of it into a zeroed
 * private copy, so fields appended in later minor versions read as zero/NULL
 * from older plugins.  A plugin whose abi_major differs from the core's is
 * refused.
 *
 * Division of labour: the core owns transport (libcurl, connection reuse,
 * TLS verification, timeouts), retries, concurrency, logging and secret
 * redaction.  A plugin maps its cloud's API: for every operation it builds
 * and signs exactly one HTTP request, hands it to host->http(), and classifies
 * the response into a struct lbr_call_result.  Operations are called from
 * several threads at once (or, with LBR_CAP_COOPERATIVE, as interleaved
 * tasks of one thread) and must not keep per-call global state.
 */
#ifndef LBRECONCILE_PROVIDER_H
#define LBRECONCILE_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LBR_PROVIDER_ABI_MAJOR 1
#define LBR_PROVIDER_ABI_MINOR 1
#define LBR_PROVIDER_ENTRY "lbr_provider_entry"

/* Capability bits (struct lbr_provider.caps).  An optional operation is
 * used only when its bit is set AND its function pointer is non-NULL. */
#define LBR_CAP_RULES (UINT64_C(1) << 0) /* update_rule: L7 rules name members */
#define LBR_CAP_DRAIN (UINT64_C(1) << 1) /* set_member_weight */
#define LBR_CAP_CREATE (UINT64_C(1) << 2) /* reserved: create_member */
/* Since 1.1: the plugin holds no lock and keeps no thread-local state
 * across a call to host->http() (nor between two of them).  The core may
 * then run its operations as cooperative tasks that take turns on one
 * thread while their requests are in flight, instead of a thread per call.
 * A plugin that serialises work with its own mutex must not set it. */
#define LBR_CAP_COOPERATIVE (UINT64_C(1) << 3)

/* Log levels for host->log(). */
enum lbr_log_level {
	LBR_LOG_ERROR = 0,
	LBR_LOG_WARN = 1,
	LBR_LOG_INFO = 2,
	LBR_LOG_DEBUG = 3,
};

/* How one API call ended, as classified by the plugin. */
enum lbr_outcome {
	LBR_OUT_OK = 0,        /* success */
	LBR_OUT_NOT_FOUND = 1, /* the object is gone (a removal counts as done) */
	LBR_OUT_TRANSIENT = 2, /* network/5xx/busy: retry with backoff */
	LBR_OUT_THROTTLED = 3, /* rate limited: retry and slow down */
	LBR_OUT_AUTH = 4,      /* credentials rejected: stop this provider */
	LBR_OUT_INVALID = 5,   /* request refused or response unreadable: fatal */
	LBR_OUT_CONFLICT = 6,  /* conflict: retry a bounded number of times */
	LBR_OUT_BLOCKED = 7,   /* refused because something still references it */
};

/* Result of one call.  The plugin fills it; all strings NUL-terminated and
 * truncated to fit.  Never put a secret into any of them. */
struct lbr_call_result {
	enum lbr_outcome outcome;
	long http_status;       /* 0 if no HTTP response was received */
	char code[64];          /* cloud error code: "APIGW.0301", "RetCode 171" */
	char message[512];      /* cloud error message or plugin diagnosis */
	char request_id[128];   /* cloud request id, if any */
	uint32_t retry_after_ms; /* > 0: the cloud asked to wait this long */
};

/* A key/value pair.  Used for configuration, pool targets and rule attributes. */
struct lbr_kv {
	const char *key;
	const char *value;
};

/* Description of one configuration key a plugin accepts. */
#define LBR_KEY_REQUIRED (1u << 0) /* validate fails when absent */
#define LBR_KEY_SECRET (1u << 1)   /* env:/file:/literal; never printed */
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
	long status;           /* HTTP status code */
	const char *body;      /* NUL-terminated; owned by the core */
	size_t body_len;
	uint32_t retry_after_ms; /* parsed Retry-After, 0 when absent */
	void *priv;            /* core-private */
};

/* Opaque core objects handed to the plugin. */
struct lbr_call;  /* one operation in progress (thread, provider, pool) */
struct lbr_obs;   /* observation being built by list_page */

/* A member as seen by the cloud. */
struct lbr_member_info {
	const char *id;      /* cloud id, [A-Za-z0-9_-]{1,128} */
	const char *address; /* IPv4 or IPv6 text as returned */
	unsigned port;       /* 1..65535 */
	int weight;          /* -1 when unknown */
	int enabled;         /* 1, 0, or -1 when unknown */
};

/* An L7 rule that references members by id and must be updated before any
 * of them can be removed (UCloud Custom forwarding policy). */
struct lbr_rule_info {
	const char *id;               /* cloud id, [A-Za-z0-9_-]{1,128} */
	const char *label;            /* human description, e.g. "Path /api" */
	int never_empty;              /* 1: the rule may not lose its last member */
	const char *const *member_ids;
	size_t n_members;
	const struct lbr_kv *attrs;   /* opaque to the core, handed back verbatim */
	size_t n_attrs;
};

/* A member or rule handed back to the plugin for an action (borrowed). */
struct lbr_member_ref {
	const char *id;
	const char *address;
	unsigned port;
	int weight;
	int enabled;
};

struct lbr_rule_ref {
	const char *id;
	const struct lbr_kv *attrs;
	size_t n_attrs;
};

/* A pool's target keys from the config (borrowed for the call). */
struct lbr_target {
	const char *pool_name;
	const struct lbr_kv *kv;
	size_t n;
};

/*
 * Services the core offers to plugins.  Passed to open(); valid until
 * close().  Check struct_size before using a field added after 1.0.
 */
struct lbr_host {
	uint32_t struct_size;
	uint32_t abi_major;
	uint32_t abi_minor;

	/* Perform one HTTP exchange for `call`.  Returns 0 when a response
	 * was received (whatever its status) and fills `resp`, which must
	 * then be released with http_release().  Returns a negative value on
	 * transport failure (connection refused/reset, timeout, TLS error,
	 * response over the size cap) and writes a one-line reason into
	 * `err`; the call should then be classified LBR_OUT_TRANSIENT (or
	 * LBR_OUT_INVALID when the return value is LBR_HOST_EFATAL). */
	int (*http)(struct lbr_call *call, const struct lbr_http_request *req,
		    struct lbr_http_response *resp, char *err, size_t errlen);
	/* Value of a response header (case-insensitive name), or NULL. */
	const char *(*http_header)(const struct lbr_http_response *resp,
				   const char *name);
	void (*http_release)(struct lbr_http_response *resp);

	/* Log a line tagged with the provider and pool of `call` (may be
	 * NULL).  Never pass secrets. */
	void (*log)(struct lbr_call *call, int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	/* Wall-clock seconds since the epoch, for request dates. */
	int64_t (*now)(struct lbr_call *call);

	/* Add to an observation being built by list_page.  The core copies
	 * every string.  Return 0, or negative on a rejected value (bad id,
	 * bad address, out of memory); the plugin must then fail the page
	 * with LBR_OUT_INVALID. */
	int (*obs_add_member)(struct lbr_obs *obs,
			      const struct lbr_member_info *m);
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

/* Negative return of host->http() meaning "do not retry" (TLS failure,
 * refused plain-http endpoint, response over the size cap). */
#define LBR_HOST_EFATAL (-2)

/*
 * The plugin's description.  All operations return 0 after filling `res`
 * (whatever the outcome), or a negative value on an internal failure such
 * as out of memory (then res->message says why).
 */
struct lbr_provider {
	uint32_t struct_size;
	uint32_t abi_major;
	uint32_t abi_minor;
	const char *name;     /* must equal the file name without ".so" */
	const char *version;  /* plugin version string */
	uint64_t caps;        /* LBR_CAP_* */
	const struct lbr_key_spec *provider_keys; /* [provider X] keys */
	const struct lbr_key_spec *pool_keys;     /* target keys in [pool X] */

	/* Create a provider instance from its configuration (secrets already
	 * resolved).  No network.  On failure return negative and write one
	 * line into err.  The plugin copies what it keeps. */
	int (*open)(const struct lbr_host *host, const struct lbr_kv *cfg,
		    size_t ncfg, void **prov_out, char *err, size_t errlen);
	/* Release an instance; wipes secrets.  NULL is a no-op. */
	void (*close)(void *prov);

	/* Check a pool's target keys (no network).  0 or negative + err. */
	int (*check_target)(void *prov, const struct lbr_target *t, char *err,
			    size_t errlen);

	/* Fetch one page of the pool's members.  `cursor` is "" for the first
	 * page.  On LBR_OUT_OK, members (and rules) were added to `obs` and
	 * `next_cursor` holds the cursor of the next page, or "" when this
	 * was the last one. */
	int (*list_page)(void *prov, struct lbr_call *call,
			 const struct lbr_target *t, const char *cursor,
			 struct lbr_obs *obs, char *next_cursor,
			 size_t next_len, struct lbr_call_result *res);

	/* Remove one member.  LBR_OUT_NOT_FOUND means already gone. */
	int (*remove_member)(void *prov, struct lbr_call *call,
			     const struct lbr_target *t,
			     const struct lbr_member_ref *m,
			     struct lbr_call_result *res);

	/* Optional (LBR_CAP_RULES): set a rule's member list to exactly
	 * member_ids, keeping every other attribute of the rule. */
	int (*update_rule)(void *prov, struct lbr_call *call,
			   const struct lbr_target *t,
			   const struct lbr_rule_ref *rule,
			   const char *const *member_ids, size_t n,
			   struct lbr_call_result *res);

	/* Optional (LBR_CAP_DRAIN): set a member's weight (Huawei) or enabled
	 * flag (UCloud) so that it gets no new traffic (drain = 1) or restore
	 * the weight/enabled values in `m` (drain = 0). */
	int (*drain_member)(void *prov, struct lbr_call *call,
			    const struct lbr_target *t,
			    const struct lbr_member_ref *m, int drain,
			    struct lbr_call_result *res);
};

typedef const struct lbr_provider *(*lbr_provider_entry_fn)(
	uint32_t host_abi_major, uint32_t host_abi_minor);

#ifdef __cplusplus
}
#endif

#endif /* LBRECONCILE_PROVIDER_H */
