#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "agent/log.h"

int lbr_log_level = LBR_LOG_WARN;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static int journal;

/*
 * systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected
 * to stderr.  Compare it with fd 2 rather than trusting the variable alone:
 * a child of a service whose stderr was redirected to a file inherits the
 * variable, and its file must not fill with "<3>" prefixes.
 */
static void journal_detect(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (!v || sscanf(v, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return;
	if (fstat(2, &st) < 0)
		return;
	journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int lbr_log_journal(void)
{
	pthread_once(&journal_once, journal_detect);
	return journal;
}

const char *lbr_log_prio(int level)
{
	/* syslog priorities: err, warning, info, debug */
	static const char *const prio[] = { "<3>", "<4>", "<6>", "<7>" };

	if (!lbr_log_journal())
		return "";
	return prio[level < 0 ? 0 : level > 3 ? 3 : level];
}

static void emit_line(int level, const char *label, const char *tag, const char *msg)
{
	/* One write per line so that lines from several threads never mix. */
	pthread_mutex_lock(&log_mu);
	fprintf(stderr, "%slbreconcile: %s%s%s\n", lbr_log_prio(level), label, tag ? tag : "", msg);
	fflush(stderr);
	pthread_mutex_unlock(&log_mu);
}

void lbr_vlog(int level, const char *tag, const char *fmt, va_list ap)
{
	static const char *const label[] = { "error: ", "warning: ", "", "debug: " };
	char line[2048];
	char *nl;

	if (level > lbr_log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* A message must stay one line: the journal splits on newlines and
	 * the continuation would lose its priority. */
	while ((nl = strpbrk(line, "\r\n")))
		*nl = ' ';
	emit_line(level, label[level < 0 ? 0 : level > 3 ? 3 : level], tag, line);
}

void lbr_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lbr_vlog(level, NULL, fmt, ap);
	va_end(ap);
}

void lbr_log_msg(int level, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	char *nl;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	while ((nl = strpbrk(line, "\r\n")))
		*nl = ' ';
	emit_line(level, "", NULL, line);
}

void lbr_log_text(int level, const char *text)
{
	const char *p = text, *e;
	const char *prio = lbr_log_prio(level);

	pthread_mutex_lock(&log_mu);
	while (*p) {
		e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		fprintf(stderr, "%s%.*s\n", prio, (int)(e - p), p);
		p = *e ? e + 1 : e;
	}
	fflush(stderr);
	pthread_mutex_unlock(&log_mu);
}

/*
 * Under the journal, stderr becomes a stream that gives every line without
 * a priority the error priority: messages printed directly with fprintf
 * (lock conflicts, state errors) are errors, and no line may reach the
 * journal at the default "info" priority by accident.
 */
struct prio_stream {
	int at_line_start;
};

static ssize_t prio_write(void *cookie, const char *buf, size_t len)
{
	struct prio_stream *ps = cookie;
	size_t done = 0;

	while (done < len) {
		const char *nl = memchr(buf + done, '\n', len - done);
		size_t n = nl ? (size_t)(nl - (buf + done)) + 1 : len - done;
		int has = n >= 3 && buf[done] == '<' && buf[done + 1] >= '0' &&
			  buf[done + 1] <= '7' && buf[done + 2] == '>';

		if (ps->at_line_start && !has && buf[done] != '\r' && write(2, "<3>", 3) < 0)
			return done ? (ssize_t)done : -1;
		if (write(2, buf + done, n) < 0)
			return done ? (ssize_t)done : -1;
		ps->at_line_start = nl != NULL;
		done += n;
	}
	return (ssize_t)len;
}

void lbr_log_setup(void)
{
	static struct prio_stream ps = { 1 };
	cookie_io_functions_t io = { .write = prio_write };
	FILE *f;

	if (!lbr_log_journal())
		return;
	f = fopencookie(&ps, "w", io);
	if (!f)
		return;
	/* Whole lines reach the cookie, so a prefix is judged on a line. */
	setvbuf(f, NULL, _IOLBF, 4096);
	stderr = f;
}
