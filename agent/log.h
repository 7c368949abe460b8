/*
 * Logging to stderr.  Messages are one line each, lowercase, "what failed
 * then why".  Secrets are never passed here.
 *
 * Under systemd, when stderr is the journal stream named by JOURNAL_STREAM,
 * every line starts with its syslog priority ("<3>" error, "<4>" warning,
 * "<6>" info, "<7>" debug) so that `journalctl -p err` finds errors.
 * Otherwise lines carry no prefix.
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
/* "lbreconcile: MESSAGE" without the "error: "/"warning: " label, for
 * messages whose wording already says what they are.  Always printed
 * (not subject to lbr_log_level), with the priority prefix of `level`. */
void lbr_log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Several lines of text (usage, help) on stderr, each with the priority
 * prefix of `level` when logging to the journal. */
void lbr_log_text(int level, const char *text);
/* "<N>" for `level` when stderr is the journal, else "". */
const char *lbr_log_prio(int level);
/* Call first in main: under the journal, lines written to stderr
 * directly get the error priority unless they carry one. */
void lbr_log_setup(void);
/* 1 when stderr is the journal stream (JOURNAL_STREAM matches fd 2). */
int lbr_log_journal(void);

#define lbr_err(...) lbr_log(LBR_LOG_ERROR, __VA_ARGS__)
#define lbr_warn(...) lbr_log(LBR_LOG_WARN, __VA_ARGS__)
#define lbr_info(...) lbr_log(LBR_LOG_INFO, __VA_ARGS__)
#define lbr_debug(...) lbr_log(LBR_LOG_DEBUG, __VA_ARGS__)

#endif
