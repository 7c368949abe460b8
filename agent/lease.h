/*
 * Keeping the state lock: the state backends do their HTTP through the
 * agent's HTTP module (lbr_lease_install_io), and while an etcd lock is
 * held a thread renews its lease every ttl/3 seconds, so that
 * lbr_state_lock_valid_until_ms() — what fencing checks before every
 * mutating request (host.c) — moves forward while the agent is alive and
 * stops when it is paused or cut off from etcd.
 */
#ifndef LBR_LEASE_H
#define LBR_LEASE_H

struct lbr_state_store;
struct lbr_lease;

/* Hand the state backends the agent's HTTP module; with ca_file (kept by
 * the caller while stores are open), etcd is spoken to over TLS. */
void lbr_lease_install_io(const char *ca_file);
/* Start renewing the lock of st (held) every ttl_s/3 seconds; a no-op for
 * a backend without a lease.  0 or negative. */
int lbr_lease_start(struct lbr_state_store *st, int ttl_s, struct lbr_lease **out);
/* Stop renewing (before the lock is released).  NULL is a no-op. */
void lbr_lease_stop(struct lbr_lease *l);

#endif
