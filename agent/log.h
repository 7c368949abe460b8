/*
 * Logging to stderr.  Messages are one line each, lowercase, "what failed
 * then why".  Secrets are never passed here.
 */
#ifndef LBR_LOG_H
#define LBR_LOG_H

#include <stdarg.h>

#include "lbreconcile/provider.h" /* enum lbr_log_level */

/* Current threshold: messages above it are dropped. Default LBR_LOG_WARN. */
extern int lbr_log_level;

void lbr_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, the message after `tag` (e.g. "pool \"web\": "; may be NULL). */
void lbr_vlog(int level, const char *tag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
#define lbr_err(...) lbr_log(LBR_LOG_ERROR, __VA_ARGS__)
#define lbr_warn(...) lbr_log(LBR_LOG_WARN, __VA_ARGS__)
#define lbr_info(...) lbr_log(LBR_LOG_INFO, __VA_ARGS__)
#define lbr_debug(...) lbr_log(LBR_LOG_DEBUG, __VA_ARGS__)

#endif
