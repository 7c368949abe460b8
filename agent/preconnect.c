#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/preconnect.h"
#include "agent/util.h"

/* A connection opened ahead, and where to. */
struct conn {
	curl_socket_t fd;
	int family, socktype, protocol;
	socklen_t addrlen;
	struct sockaddr_storage addr;
	uint64_t made_us;
};

struct lbr_preconnect {
	struct conn *c; /* opened, not taken yet */
	size_t n, cap;
	uint64_t max_us;        /* the maximum age; 0: never open any */
	unsigned opened, taken; /* since lbr_preconnect_new */
};

/* Set once, before any task runs (lbr_preconnect_configure). */
static uint64_t max_age_us = (uint64_t)LBR_PRECONNECT_MAX_MS * 1000u;

int lbr_preconnect_configure(char *err, size_t errlen)
{
	const char *v = getenv("LBRECONCILE_PRECONNECT");
	unsigned long ms;
	char *end;

	max_age_us = (uint64_t)LBR_PRECONNECT_MAX_MS * 1000u;
	if (!v)
		return 0;
	if (!strcmp(v, "off")) {
		max_age_us = 0;
		return 0;
	}
	errno = 0;
	ms = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end || errno || ms < 1 ||
	    ms > LBR_PRECONNECT_MAX_MS_LIMIT) {
		snprintf(err, errlen,
			 "LBRECONCILE_PRECONNECT: '%.40s' is neither 'off' nor a number of milliseconds "
			 "from 1 to %u",
			 v, LBR_PRECONNECT_MAX_MS_LIMIT);
		return -1;
	}
	max_age_us = (uint64_t)ms * 1000u;
	return 0;
}

struct lbr_preconnect *lbr_preconnect_new(unsigned cap)
{
	struct lbr_preconnect *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->c = calloc(cap ? cap : 1, sizeof(*p->c));
	if (!p->c) {
		free(p);
		return NULL;
	}
	p->cap = cap;
	p->max_us = max_age_us;
	return p;
}

void lbr_preconnect_drop(struct lbr_preconnect *p)
{
	while (p->n)
		close(p->c[--p->n].fd);
}

void lbr_preconnect_expire(struct lbr_preconnect *p)
{
	uint64_t now;
	size_t i = 0;

	if (!p->n)
		return;
	now = lbr_mono_us();
	while (i < p->n) {
		if (now - p->c[i].made_us <= p->max_us) {
			i++;
			continue;
		}
		close(p->c[i].fd);
		p->c[i] = p->c[--p->n];
	}
}

void lbr_preconnect_free(struct lbr_preconnect *p)
{
	if (!p)
		return;
	lbr_preconnect_drop(p);
	free(p->c);
	free(p);
}

void lbr_preconnect_stats(const struct lbr_preconnect *p, unsigned *opened, unsigned *taken)
{
	*opened = p->opened;
	*taken = p->taken;
}

/* Open up to n connections to where a says, without waiting for them. */
static void open_ahead(struct lbr_preconnect *p, const struct curl_sockaddr *a, unsigned n)
{
	unsigned k;

	if ((size_t)a->addrlen > sizeof(p->c[0].addr) || a->socktype != SOCK_STREAM || !p->max_us)
		return;
	for (k = 0; k < n && p->n < p->cap; k++) {
		struct conn *w = &p->c[p->n];
		int fd = socket(a->family, a->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->protocol);

		if (fd < 0)
			return;
		if (connect(fd, &a->addr, a->addrlen) < 0 && errno != EINPROGRESS) {
			close(fd);
			return;
		}
		w->fd = fd;
		w->family = a->family;
		w->socktype = a->socktype;
		w->protocol = a->protocol;
		w->addrlen = a->addrlen;
		memset(&w->addr, 0, sizeof(w->addr));
		memcpy(&w->addr, &a->addr, a->addrlen);
		w->made_us = lbr_mono_us();
		p->n++;
		p->opened++;
	}
}

/* Is the connection opened ahead as fd still fit to carry a request:
 * established, nothing to read from the peer, no error? */
static int fit(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLOUT };
	int soerr = 0;
	socklen_t len = sizeof(soerr);

#ifdef POLLRDHUP
	pf.events |= POLLRDHUP;
#endif
	if (poll(&pf, 1, 0) != 1 || pf.revents != POLLOUT)
		return 0;
	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0;
}

/* A fit connection opened ahead to where a says, or CURL_SOCKET_BAD.  The
 * unfit ones met on the way are closed. */
static curl_socket_t take(struct lbr_preconnect *p, const struct curl_sockaddr *a)
{
	uint64_t now = lbr_mono_us();
	size_t i = 0;

	while (i < p->n) {
		struct conn *w = &p->c[i];
		curl_socket_t fd = w->fd;
		uint64_t made = w->made_us;

		if (w->family != a->family || w->socktype != a->socktype ||
		    w->protocol != a->protocol || w->addrlen != a->addrlen ||
		    memcmp(&w->addr, &a->addr, a->addrlen) != 0) {
			i++;
			continue;
		}
		*w = p->c[--p->n];
		if (now - made <= p->max_us && fit(fd)) {
			p->taken++;
			return fd;
		}
		close(fd);
	}
	return CURL_SOCKET_BAD;
}

/* libcurl's socket for a new connection: one opened ahead if there is a
 * fit one to the same address, else a new one (and, when this transfer
 * asked for it, the connections to open beside it). */
static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct lbr_preconnect_use *u = ud;
	struct lbr_preconnect *p = u->p;
	curl_socket_t fd;

	u->handed = CURL_SOCKET_BAD;
	if (purpose == CURLSOCKTYPE_IPCXN && a->socktype == SOCK_STREAM && p->n) {
		fd = take(p, a);
		if (fd != CURL_SOCKET_BAD) {
			u->handed = fd;
			return fd;
		}
	}
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd < 0)
		return CURL_SOCKET_BAD;
	if (purpose == CURLSOCKTYPE_IPCXN && u->want) {
		open_ahead(p, a, u->want);
		u->want = 0;
	}
	return fd;
}

/* Called right after on_open_socket for the same socket.  libcurl 7.88.x
 * ignores CURL_SOCKOPT_ALREADY_CONNECTED and calls connect() anyway; on
 * Linux that connect() is the first since the one that returned
 * EINPROGRESS and completed, and returns 0, so the connection is used all
 * the same. */
static int on_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose)
{
	struct lbr_preconnect_use *u = ud;

	if (purpose == CURLSOCKTYPE_IPCXN && fd != CURL_SOCKET_BAD && fd == u->handed) {
		u->handed = CURL_SOCKET_BAD;
		return CURL_SOCKOPT_ALREADY_CONNECTED;
	}
	return CURL_SOCKOPT_OK;
}

void lbr_preconnect_attach(struct lbr_preconnect_use *u, CURL *h)
{
	lbr_curl.easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	lbr_curl.easy_setopt(h, CURLOPT_OPENSOCKETDATA, u);
	lbr_curl.easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	lbr_curl.easy_setopt(h, CURLOPT_SOCKOPTDATA, u);
}
