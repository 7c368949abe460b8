#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "agent/log.h"

int lbr_log_level = LBR_LOG_WARN;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void lbr_log(int level, const char *fmt, ...)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	char line[2048];
	va_list ap;

	if (level > lbr_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so that lines from several threads never mix. */
	pthread_mutex_lock(&log_mu);
	fprintf(stderr, "lbreconcile: %s%s\n", prefix[level < 0 ? 0 : level > 3 ? 3 : level], line);
	fflush(stderr);
	pthread_mutex_unlock(&log_mu);
}
