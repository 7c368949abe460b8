/* faultcost - what a page fault costs here, against populating pages in
 * one call, and what loading libcurl costs (time and faults).
 *
 *   cc -O2 -o faultcost bench/faultcost.c && ./faultcost
 *
 * The figures behind lbr_heap_prefault() and agent/curl-load.c (see
 * bench/README.md, "S5 after stop 21").
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#define PAGES 4096

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

int main(void)
{
	size_t len = (size_t)PAGES * 4096, i;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t;
	long f;
	void *h;

	if (p == MAP_FAILED || q == MAP_FAILED)
		return 1;
	t = now_us();
	for (i = 0; i < PAGES; i++)
		p[i * 4096] = 1;
	printf("first write to a page (a fault):  %6.2f us per page\n", (now_us() - t) / PAGES);
#ifdef MADV_POPULATE_WRITE
	t = now_us();
	if (madvise(q, len, MADV_POPULATE_WRITE) == 0)
		printf("MADV_POPULATE_WRITE:              %6.2f us per page\n",
		       (now_us() - t) / PAGES);
	else
		printf("MADV_POPULATE_WRITE: not supported by this kernel\n");
#endif
	f = minflt();
	t = now_us();
	h = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
	printf("dlopen(libcurl.so.4):             %6.2f ms, %ld faults%s\n", (now_us() - t) / 1e3,
	       minflt() - f, h ? "" : " (not found)");
	return 0;
}
