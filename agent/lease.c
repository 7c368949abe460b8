/*
 * Keeping the state lock: see lease.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/error.h"
#include "agent/http.h"
#include "agent/lease.h"
#include "agent/log.h"
#include "state/state.h"

static int io_http(void *ud, const struct lbr_http_request *req, struct lbr_http_response *resp,
		   char *err, size_t errlen)
{
	struct lbr_http_opts o;

	memset(&o, 0, sizeof(o));
	o.ca_file = ud; /* state_ca_file: etcd over TLS */
	/* etcd's gRPC gateway is plain HTTP unless the location says
	 * otherwise; the same timeouts as the clouds' default. */
	o.allow_insecure_http = 1;
	o.timeout_s = 10;
	return lbr_http_perform(&o, req, resp, err, errlen);
}

static void io_release(void *ud, struct lbr_http_response *resp)
{
	(void)ud;
	lbr_http_release(resp);
}

void lbr_lease_install_io(const char *ca_file)
{
	struct lbr_state_io io = {
		.http = io_http,
		.release = io_release,
		.ud = (void *)ca_file,
		.ca_file = ca_file,
	};

	lbr_state_set_io(&io); /* copied */
}

struct lbr_lease {
	struct lbr_state_store *st;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned period_ms;
	int quit;
};

static void *renew_main(void *arg)
{
	struct lbr_lease *l = arg;
	char err[512];

	pthread_mutex_lock(&l->mu);
	while (!l->quit) {
		struct timespec ts;
		int r;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += l->period_ms / 1000;
		ts.tv_nsec += (long)(l->period_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&l->cv, &l->mu, &ts);
		if (l->quit)
			break;
		pthread_mutex_unlock(&l->mu);
		err[0] = '\0';
		r = lbr_state_keepalive(l->st, err, sizeof(err));
		if (r == LBR_EFENCED)
			lbr_err("state: lost the lock of '%s' (%s); no more changes are sent",
				lbr_state_store_location(l->st), err[0] ? err : "lease expired");
		else if (r < 0)
			lbr_warn("state: cannot renew the lock of '%s' (%s); retrying",
				 lbr_state_store_location(l->st), err[0] ? err : lbr_strerror(r));
		pthread_mutex_lock(&l->mu);
		if (r == LBR_EFENCED)
			break;
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int lbr_lease_start(struct lbr_state_store *st, int ttl_s, struct lbr_lease **out)
{
	struct lbr_lease *l;

	*out = NULL;
	if (strcmp(lbr_state_store_kind(st), "etcd") != 0)
		return 0;
	l = calloc(1, sizeof(*l));
	if (!l)
		return LBR_ENOMEM;
	l->st = st;
	l->period_ms = (unsigned)(ttl_s > 0 ? ttl_s : 30) * 1000u / 3u;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	if (pthread_create(&l->th, NULL, renew_main, l) != 0) {
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cv);
		free(l);
		return LBR_ERR;
	}
	*out = l;
	return 0;
}

void lbr_lease_stop(struct lbr_lease *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->quit = 1;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->th, NULL);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
}
