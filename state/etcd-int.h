/*
 * Internals of the etcd backend shared by etcd.c (the backend) and
 * etcd-wire.c (the JSON gateway protocol over the agent's HTTP client).
 */
#ifndef LBR_STATE_ETCD_INT_H
#define LBR_STATE_ETCD_INT_H

#include <pthread.h>
#include <stdint.h>

#include <json-c/json.h>

#include "state/state-int.h"

struct etcd_store {
	struct lbr_state_store base;
	char **endpoints;
	size_t n_endpoints;
	char *prefix;
	char *k_lock, *k_state, *k_backup, *k_audit;
	char *state_name;     /* location of the document, for messages */
	pthread_mutex_t mu;   /* the fields below */
	int64_t lease;        /* 0 when not locked */
	int64_t lock_rev;     /* create_revision of our lock key */
	uint64_t valid_until; /* CLOCK_BOOTTIME ms (lbr_state_now_ms) */
	int lost;
	int spool_pending; /* the spool may hold lines */
	int spool_busy;    /* a thread is replaying it */
};

/* A key as read back. */
struct etcd_kv {
	int found;
	char *value;
	size_t len;
	int64_t create_rev, lease;
};

/* POST req to /v3/API on the first endpoint that answers.  *resp is the
 * answer (its "result" when etcd wraps it so).  0; LBR_EIO (no endpoint
 * answered, or an etcd/HTTP error), LBR_ENOENT (etcd said NotFound),
 * LBR_ECORRUPT (an answer that is not etcd's: not JSON, no "header"),
 * LBR_ENOMEM; err filled. */
int lbr_etcd_call(struct etcd_store *e, const char *api, json_object *req, json_object **resp,
		  char *err, size_t errlen);
/* The gateway writes int64 as JSON strings; 0 when absent. */
int64_t lbr_etcd_jint(json_object *o, const char *k);
json_object *lbr_etcd_i64(int64_t v);
/* {"key": base64(key)} plus "value" when val is non-NULL. */
json_object *lbr_etcd_kv_obj(const char *key, const char *val, size_t vlen);
/* A one-element array [{"TYPE": inner}] (consumes inner). */
json_object *lbr_etcd_op(const char *type, json_object *inner);
/* [{key, target CREATE, result EQUAL, create_revision rev}]. */
json_object *lbr_etcd_cmp_create(const char *key, int64_t rev);
/* First kv of a range answer.  0 or LBR_ECORRUPT (undecodable value). */
int lbr_etcd_kv_from(json_object *range, struct etcd_kv *kv);
void lbr_etcd_kv_release(struct etcd_kv *kv);
int lbr_etcd_get(struct etcd_store *e, const char *key, struct etcd_kv *kv, char *err,
		 size_t errlen);
int lbr_etcd_put(struct etcd_store *e, const char *key, const char *val, size_t len, char *err,
		 size_t errlen);
/* Run a transaction (consumes compare, success, failure); *ok = it
 * succeeded; *resp_out (may be NULL) receives the answer. */
int lbr_etcd_txn(struct etcd_store *e, json_object *compare, json_object *success,
		 json_object *failure, int *ok, json_object **resp_out, char *err, size_t errlen);
/* "etcdctl --endpoints=... del 'PREFIX/lock'" for messages. */
void lbr_etcd_clear_cmd(const struct etcd_store *e, char *buf, size_t n);
/* Check and split etcd://HOST:PORT[,HOST:PORT]/PREFIX into e.  0 or
 * LBR_EINVAL/LBR_ENOMEM with err filled. */
int lbr_etcd_parse_spec(struct etcd_store *e, const char *spec, char *err, size_t errlen);

/* etcd-spool.c: put the spooled audit lines in order, dropping those etcd
 * took (0: spool empty or being replayed by another thread; <0 + err), and
 * append one line to the spool (0 or <0 + err). */
int lbr_etcd_spool_replay(struct etcd_store *e, char *err, size_t errlen);
int lbr_etcd_spool_append(struct etcd_store *e, const char *key, const char *line, char *err,
			  size_t errlen);

#endif
