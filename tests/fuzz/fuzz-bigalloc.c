/*
 * fuzz-ini only (linked with -Wl,--wrap=malloc,--wrap=free,--wrap=realloc):
 * huge allocations bypass the AddressSanitizer allocator.
 *
 * lbr_cfg_load() reads the whole file into one malloc(64 MiB + 1) buffer.
 * Without sanitizers that costs two system calls: the pages it never
 * touches are never faulted in.  Under ASan the same buffer costs some
 * 90 ms per input: the allocator poisons the 8 MiB shadow of the mapping
 * on malloc and again on free (memset plus some 4,000 page faults), and
 * fuzz-ini crawled at 11 executions per second.  Here such a buffer is a
 * private anonymous mapping, as glibc's own malloc would give, and free()
 * makes it inaccessible, so a use after free still faults.  Only sizes of at least
 * LBR_FUZZ_BIG are diverted; everything else keeps the ASan allocator.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#define LBR_FUZZ_BIG (32u << 20)
#define LBR_FUZZ_SLOTS 8

void *__real_malloc(size_t n);
void __real_free(void *p);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void __wrap_free(void *p);
void *__wrap_realloc(void *p, size_t n);

/* A freed mapping is kept, PROT_NONE, for the next buffer of the same
 * size: tearing down and rebuilding the page tables of 64 MiB cost more
 * than the parse itself. */
static pthread_mutex_t big_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	void *p;
	size_t n;
	int live;
} big[LBR_FUZZ_SLOTS];

/* The live slot holding p, or -1 (p is not one of ours). */
static int big_find(const void *p)
{
	int i;

	for (i = 0; i < LBR_FUZZ_SLOTS; i++)
		if (big[i].live && big[i].p == p)
			return i;
	return -1;
}

/* A slot for a new buffer of n bytes: a kept mapping of that size, else
 * an empty slot, else a kept mapping to drop.  -1 when all are live. */
static int big_slot(size_t n)
{
	int i, empty = -1, spare = -1;

	for (i = 0; i < LBR_FUZZ_SLOTS; i++) {
		if (big[i].live)
			continue;
		if (big[i].p && big[i].n == n)
			return i;
		if (!big[i].p && empty < 0)
			empty = i;
		if (big[i].p && spare < 0)
			spare = i;
	}
	if (empty >= 0)
		return empty;
	if (spare >= 0) {
		munmap(big[spare].p, big[spare].n);
		big[spare].p = NULL;
	}
	return spare;
}

void *__wrap_malloc(size_t n)
{
	void *p = NULL;
	int i;

	if (n < LBR_FUZZ_BIG)
		return __real_malloc(n);
	pthread_mutex_lock(&big_mu);
	i = big_slot(n);
	if (i < 0)
		goto out;
	if (big[i].p) {
		if (mprotect(big[i].p, n, PROT_READ | PROT_WRITE) < 0)
			goto out;
	} else {
		big[i].p = mmap(NULL, n, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				-1, 0);
		if (big[i].p == MAP_FAILED) {
			big[i].p = NULL;
			goto out;
		}
		big[i].n = n;
	}
	big[i].live = 1;
	p = big[i].p;
out:
	pthread_mutex_unlock(&big_mu);
	return p;
}

void __wrap_free(void *p)
{
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&big_mu);
	i = big_find(p);
	if (i >= 0) {
		/* A use after free still faults. */
		if (mprotect(p, big[i].n, PROT_NONE) < 0)
			abort();
		big[i].live = 0;
	}
	pthread_mutex_unlock(&big_mu);
	if (i < 0)
		__real_free(p);
}

void *__wrap_realloc(void *p, size_t n)
{
	int i;

	pthread_mutex_lock(&big_mu);
	i = p ? big_find(p) : -1;
	pthread_mutex_unlock(&big_mu);
	/* Nothing under test reallocates the file buffer; if that changes,
	 * this wrapper has to learn it rather than corrupt the heap. */
	if (i >= 0)
		abort();
	return __real_realloc(p, n);
}
