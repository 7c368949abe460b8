/*
 * Minimal TAP producer for the C unit tests (automake's tap-driver reads
 * it).  Header-only: each test program includes it once.
 */
#ifndef LBR_TAP_H
#define LBR_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n;
static int tap_failed;

static inline void tap_plan(int n)
{
	printf("1..%d\n", n);
}

static inline int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

/* Compare two strings; print both on mismatch. */
#define tap_is_str(got, want, ...)                                                     \
	do {                                                                           \
		const char *g_ = (got), *w_ = (want);                                  \
		int c_ = (g_ && w_ && strcmp(g_, w_) == 0) || (!g_ && !w_);            \
		if (!tap_ok(c_, __VA_ARGS__))                                          \
			printf("#   got:  '%s'\n#   want: '%s'\n", g_ ? g_ : "(null)", \
			       w_ ? w_ : "(null)");                                    \
	} while (0)

#define tap_is_int(got, want, ...)                                          \
	do {                                                                \
		long long g_ = (long long)(got), w_ = (long long)(want);    \
		if (!tap_ok(g_ == w_, __VA_ARGS__))                         \
			printf("#   got:  %lld\n#   want: %lld\n", g_, w_); \
	} while (0)

/* Print the plan at the end (when the count is not known in advance) and
 * return the exit status. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
