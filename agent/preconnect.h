#ifndef LBR_PRECONNECT_H
#define LBR_PRECONNECT_H

/*
 * Connections opened ahead, for the scheduler (agent/sched.c).
 *
 * A provider's first call runs alone; the calls that wait for it would
 * each open a connection when it ends.  Asked to (the `want` of a
 * transfer's lbr_preconnect_use), the next new connection that transfer
 * opens brings `want` more to the same address, connected without
 * waiting while the call is in flight, and the next new connections to
 * that address take them instead of connecting then.  One is handed out
 * only while it is established, has nothing to read (an HTTP or TLS
 * server says nothing first: anything readable is a close or a reset),
 * shows no error and is younger than the maximum age; older ones are
 * closed by lbr_preconnect_expire.  Nothing is ever sent on one not
 * handed out.  TCP only.
 */

#include "agent/curl-load.h"

/* The default maximum age, and the largest LBRECONCILE_PRECONNECT takes. */
#define LBR_PRECONNECT_MAX_MS 5000
#define LBR_PRECONNECT_MAX_MS_LIMIT 600000

struct lbr_preconnect;

/* What one task's transfers use: the connections, how many to open
 * beside its next new connection, and the one just handed to libcurl
 * (the socket option callback follows at once, to be told that this
 * one is connected). */
struct lbr_preconnect_use {
	struct lbr_preconnect *p;
	unsigned want;
	curl_socket_t handed;
};

/* Read LBRECONCILE_PRECONNECT ("off", or the maximum age in milliseconds,
 * 1 to LBR_PRECONNECT_MAX_MS_LIMIT; unset: LBR_PRECONNECT_MAX_MS) for the
 * lbr_preconnect_new calls that follow.  -1 with a message in err when the
 * value is neither. */
int lbr_preconnect_configure(char *err, size_t errlen);

/* At most `cap` connections held at once.  NULL when out of memory. */
struct lbr_preconnect *lbr_preconnect_new(unsigned cap);
void lbr_preconnect_free(struct lbr_preconnect *p);

/* Have the transfer set up on easy handle h open its connections through
 * u (before every transfer: the options do not survive curl_easy_reset). */
void lbr_preconnect_attach(struct lbr_preconnect_use *u, CURL *h);

/* Close the ones older than the maximum age. */
void lbr_preconnect_expire(struct lbr_preconnect *p);

/* Close all the ones not taken. */
void lbr_preconnect_drop(struct lbr_preconnect *p);

/* Connections opened ahead and taken since lbr_preconnect_new. */
void lbr_preconnect_stats(const struct lbr_preconnect *p, unsigned *opened, unsigned *taken);

#endif
