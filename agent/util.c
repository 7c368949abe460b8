#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "agent/error.h"
#include "agent/util.h"

#define PREFAULT_STEP (256u << 10)

void lbr_heap_prefault(size_t bytes)
{
#if defined(MADV_POPULATE_WRITE) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t a, e;
	char *p;

	if (pg <= 0)
		return;
	if (bytes < (1u << 20))
		bytes = 1u << 20;
	if (bytes > (32u << 20))
		bytes = 32u << 20;
	/* From the heap, not from a mapping of its own (which free() would
	 * unmap): the block asked for stays below the threshold that would
	 * send it to mmap().  Kept there once freed: free() gives the top of
	 * the heap back only when more than twice that much is free. */
	if (mallopt(M_MMAP_THRESHOLD, (int)bytes) != 1 ||
	    mallopt(M_TRIM_THRESHOLD, (int)(2 * bytes)) != 1)
		return;
	p = malloc(bytes - (size_t)pg);
	if (!p)
		return;
	a = ((uintptr_t)p + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	e = ((uintptr_t)p + bytes - (uintptr_t)pg) & ~((uintptr_t)pg - 1);
	/* In steps: the address space is locked while a step populates,
	 * and libcurl, loading meanwhile on a thread of its own, maps its
	 * libraries in between (one call of 9 MiB held it up for 2.5 ms). */
	while (a < e) {
		uintptr_t n = e - a < PREFAULT_STEP ? e - a : PREFAULT_STEP;

		/* EINVAL before Linux 5.14: the rest would fail the same. */
		if (madvise((void *)a, n, MADV_POPULATE_WRITE) < 0)
			break;
		a += n;
	}
	free(p);
#else
	(void)bytes;
#endif
}

char *lbr_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *lbr_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

int lbr_grow(void **arr, size_t *cap, size_t n, size_t esz)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap <= n)
		ncap *= 2;
	p = realloc(*arr, ncap * esz);
	if (!p)
		return LBR_ENOMEM;
	memset((char *)p + *cap * esz, 0, (ncap - *cap) * esz);
	*arr = p;
	*cap = ncap;
	return 0;
}

void lbr_secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int lbr_id_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
		if (n >= LBR_ID_MAX)
			return 0;
	}
	return n > 0;
}

int lbr_name_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
		if (n >= 64)
			return 0;
	}
	return n > 0;
}

/* Is s an IPv4 address already in canonical dotted-quad form (four parts
 * of 0-255 without leading zeros)?  Most addresses are: they are copied
 * as they are instead of going through inet_pton and inet_ntop. */
static int ipv4_canonical(const char *s, size_t *len)
{
	const char *p = s;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		while (*p >= '0' && *p <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*p - '0');
			digits++;
			p++;
		}
		if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && p[-(int)digits] == '0'))
			return 0;
		if (part < 3 && *p++ != '.')
			return 0;
	}
	if (*p)
		return 0;
	*len = (size_t)(p - s);
	return 1;
}

int lbr_addr_canon(const char *in, char *out)
{
	unsigned char buf[16];
	size_t n;

	if (ipv4_canonical(in, &n)) {
		memcpy(out, in, n + 1);
		return 0;
	}
	if (inet_pton(AF_INET, in, buf) == 1) {
		inet_ntop(AF_INET, buf, out, LBR_ADDR_MAX);
		return 0;
	}
	if (inet_pton(AF_INET6, in, buf) == 1) {
		inet_ntop(AF_INET6, buf, out, LBR_ADDR_MAX);
		return 0;
	}
	return LBR_EINVAL;
}

static int parse_port(const char *s, unsigned *port)
{
	unsigned long v = 0;
	const char *p = s;

	if (!*p)
		return LBR_EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return LBR_EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return LBR_EINVAL;
	}
	if (v == 0 || (s[0] == '0'))
		return LBR_EINVAL;
	*port = (unsigned)v;
	return 0;
}

int lbr_addrport_parse(const char *in, char *addr, unsigned *port, char *err, size_t errlen)
{
	char host[64];
	const char *colon, *portstr;
	size_t hl;
	unsigned char buf[16];

	if (in[0] == '[') {
		const char *close = strchr(in, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "'%s' is not ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)",
				 in);
			return LBR_EINVAL;
		}
		hl = (size_t)(close - in - 1);
		portstr = close + 2;
		if (hl == 0 || hl >= sizeof(host)) {
			snprintf(err, errlen, "'%s': bad IPv6 address", in);
			return LBR_EINVAL;
		}
		memcpy(host, in + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, buf) != 1) {
			snprintf(err, errlen, "'%s': '%s' is not an IPv6 address", in, host);
			return LBR_EINVAL;
		}
	} else {
		colon = strrchr(in, ':');
		if (!colon || strchr(in, ':') != colon) {
			snprintf(err, errlen,
				 colon ? "'%s': IPv6 addresses must be written [ADDRESS]:PORT"
				       : "'%s' is not ADDRESS:PORT",
				 in);
			return LBR_EINVAL;
		}
		hl = (size_t)(colon - in);
		portstr = colon + 1;
		if (hl == 0 || hl >= sizeof(host)) {
			snprintf(err, errlen, "'%s' is not ADDRESS:PORT", in);
			return LBR_EINVAL;
		}
		memcpy(host, in, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, buf) != 1) {
			snprintf(err, errlen, "'%s': '%s' is not an IPv4 address", in, host);
			return LBR_EINVAL;
		}
	}
	if (parse_port(portstr, port) < 0) {
		snprintf(err, errlen, "'%s': port must be a number from 1 to 65535", in);
		return LBR_EINVAL;
	}
	return lbr_addr_canon(host, addr);
}

void lbr_addrport_fmt(const char *addr, unsigned port, char *out, size_t len)
{
	char num[12], *q = num + sizeof(num);
	size_t an = strlen(addr), nn, need;
	int v6 = memchr(addr, ':', an) != NULL;

	/* Called for every member of every plan and audit line: no printf. */
	do
		*--q = (char)('0' + port % 10);
	while ((port /= 10) != 0 && q > num);
	nn = (size_t)(num + sizeof(num) - q);
	need = an + nn + 1 + (v6 ? 2 : 0);
	if (need >= len) {
		if (v6)
			snprintf(out, len, "[%s]:%.*s", addr, (int)nn, q);
		else
			snprintf(out, len, "%s:%.*s", addr, (int)nn, q);
		return;
	}
	if (v6)
		*out++ = '[';
	memcpy(out, addr, an);
	out += an;
	if (v6)
		*out++ = ']';
	*out++ = ':';
	memcpy(out, q, nn);
	out[nn] = '\0';
}

int lbr_host_is_loopback(const char *host)
{
	char buf[64];
	unsigned char a[16];
	size_t n = strlen(host);

	if (!strcmp(host, "localhost"))
		return 1;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, host, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, buf, a) == 1) {
		static const unsigned char one[16] = { [15] = 1 };

		return memcmp(a, one, 16) == 0;
	}
	return 0;
}

int lbr_url_is_loopback(const char *url)
{
	const char *h = strstr(url, "://"), *end;
	char host[80];
	size_t n;

	if (!h)
		return 0;
	h += 3;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end)
			return 0;
		end++;
	} else {
		end = h + strcspn(h, ":/?#");
	}
	n = (size_t)(end - h);
	if (n == 0 || n >= sizeof(host) || memchr(h, '@', n))
		return 0;
	memcpy(host, h, n);
	host[n] = '\0';
	return lbr_host_is_loopback(host);
}

uint64_t lbr_mono_us(void)
{
	struct timespec ts;

	/* CLOCK_BOOTTIME goes on while the machine is suspended, as an etcd
	 * lease does: fencing (host.c) must not trust a lease across a
	 * suspend that CLOCK_MONOTONIC would not see. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t lbr_mono_ms(void)
{
	return lbr_mono_us() / 1000u;
}

int lbr_sleep_ms(uint64_t ms, volatile int *stop)
{
	uint64_t end = lbr_mono_ms() + ms;

	for (;;) {
		uint64_t now = lbr_mono_ms();
		uint64_t step;
		struct timespec ts;

		if (stop && *stop)
			return 1;
		if (now >= end)
			return 0;
		step = end - now;
		if (step > 100)
			step = 100;
		ts.tv_sec = (time_t)(step / 1000);
		ts.tv_nsec = (long)(step % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
}

void lbr_time_fmt(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double lbr_random(void)
{
	static __thread unsigned short xs[3];
	static __thread int seeded;

	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		xs[0] = (unsigned short)ts.tv_nsec;
		xs[1] = (unsigned short)(ts.tv_nsec >> 16) ^ (unsigned short)pthread_self();
		xs[2] = (unsigned short)ts.tv_sec;
		seeded = 1;
	}
	return erand48(xs);
}
