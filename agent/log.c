#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "agent/log.h"

int lbr_log_level = LBR_LOG_WARN;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void lbr_vlog(int level, const char *tag, const char *fmt, va_list ap)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	char line[2048];

	if (level > lbr_log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line so that lines from several threads never mix. */
	pthread_mutex_lock(&log_mu);
	fprintf(stderr, "lbreconcile: %s%s%s\n", prefix[level < 0 ? 0 : level > 3 ? 3 : level],
		tag ? tag : "", line);
	fflush(stderr);
	pthread_mutex_unlock(&log_mu);
}

void lbr_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lbr_vlog(level, NULL, fmt, ap);
	va_end(ap);
}
