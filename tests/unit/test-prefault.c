/*
 * lbr_heap_prefault (agent/util.c): after it, the heap a pass allocates
 * and fills takes no page fault per page (a fault costs ~10 us on a VM);
 * without it, every new page faults.  Each case runs in a child of its
 * own, so that both start from a fresh heap.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/util.h"
#include "tap.h"

#define BLOCKS 1024 /* of 4 KiB: 4 MiB */

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Faults taken while allocating and filling 4 MiB in 4 KiB blocks, after
 * lbr_heap_prefault(prefault) when prefault is not 0; -1 on error. */
static long faults_filling(size_t prefault)
{
	int fd[2], status;
	long n = -1;
	pid_t pid;

	if (pipe(fd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		static char *blocks[BLOCKS];
		long before, after;
		int i;

		if (prefault)
			lbr_heap_prefault(prefault);
		before = minflt();
		for (i = 0; i < BLOCKS; i++) {
			blocks[i] = malloc(4096);
			if (!blocks[i])
				_exit(1);
			memset(blocks[i], i & 0xff, 4096);
		}
		after = minflt();
		n = after - before;
		if (write(fd[1], &n, sizeof(n)) != (ssize_t)sizeof(n))
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	if (pid < 0 || read(fd[0], &n, sizeof(n)) != (ssize_t)sizeof(n))
		n = -1;
	close(fd[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	return n;
}

/* AddressSanitizer has its own allocator, which mallopt() does not tune. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

int main(void)
{
	long cold = faults_filling(0), warm, small;
	const char *skip = NULL;

	tap_ok(cold >= BLOCKS / 2,
	       "without it, filling 4 MiB of new heap faults page by page (%ld)", cold);
#if defined(SANITIZED)
	skip = "built with AddressSanitizer (its own allocator)";
#elif !defined(MADV_POPULATE_WRITE)
	skip = "the C library has no MADV_POPULATE_WRITE";
#else
	if (madvise(NULL, 0, MADV_POPULATE_WRITE) != 0)
		skip = "the kernel has no MADV_POPULATE_WRITE";
#endif
	if (skip) {
		tap_ok(1, "# SKIP %s", skip);
		tap_ok(1, "# SKIP %s", skip);
		return tap_done();
	}
	warm = faults_filling(8u << 20);
	tap_ok(warm >= 0 && warm < BLOCKS / 16,
	       "after lbr_heap_prefault(8 MiB), the same takes almost none (%ld)", warm);
	/* 1 MiB is 256 pages of the 1,024 filled. */
	small = faults_filling(512u << 10);
	tap_ok(small >= 0 && small <= cold - BLOCKS / 8 && small > BLOCKS / 2,
	       "a size below 1 MiB is raised to 1 MiB: a quarter fewer faults (%ld of %ld)", small,
	       cold);
	return tap_done();
}
