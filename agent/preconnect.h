#ifndef LBR_PRECONNECT_H
#define LBR_PRECONNECT_H

/*
 * Connections opened ahead, for the scheduler (agent/sched.c).
 *
 * A provider's first call runs alone; the calls that wait for it would
 * each open a connection when it ends.  Asked to (lbr_preconnect_want),
 * the next new connection libcurl opens brings `n` more to the same
 * address, connected without waiting while that call is in flight, and
 * the next new connections to that address take them instead of
 * connecting then.  One is handed out only while it is established, has
 * nothing to read (an HTTP or TLS server says nothing first: anything
 * readable is a close or a reset), shows no error and is younger than
 * LBR_PRECONNECT_MAX_MS.  Nothing is ever sent on one not handed out.
 */

#include "agent/curl-load.h"

/* How long a connection opened ahead may wait to be taken. */
#define LBR_PRECONNECT_MAX_MS 5000

struct lbr_preconnect;

/* At most `cap` connections held at once.  NULL when out of memory. */
struct lbr_preconnect *lbr_preconnect_new(unsigned cap);
void lbr_preconnect_free(struct lbr_preconnect *p);

/* Open n beside the next new connection (0 withdraws the request). */
void lbr_preconnect_want(struct lbr_preconnect *p, unsigned n);

/* Have the transfer set up on easy handle h open its connections
 * through p (to be called before every transfer: the options do not
 * survive curl_easy_reset). */
void lbr_preconnect_attach(struct lbr_preconnect *p, CURL *h);

/* Close the ones not taken, and forget any request. */
void lbr_preconnect_drop(struct lbr_preconnect *p);

/* Connections opened ahead and taken since lbr_preconnect_new. */
void lbr_preconnect_stats(const struct lbr_preconnect *p, unsigned *opened, unsigned *taken);

#endif
