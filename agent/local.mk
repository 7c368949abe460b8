# The lbreconcile binary.  The core is a convenience library so that unit
# tests can link the same code.
noinst_LTLIBRARIES += agent/liblbrcore.la
agent_liblbrcore_la_SOURCES = \
	%D%/cfg.c %D%/cfg.h \
	%D%/cfg-check.c %D%/cfg-keys.c %D%/cfg-int.h \
	%D%/selector.c %D%/selector.h \
	%D%/engine.c %D%/engine.h \
	%D%/error.c %D%/error.h \
	%D%/http.c %D%/http.h \
	%D%/log.c %D%/log.h \
	%D%/metrics.c %D%/metrics.h \
	%D%/plugin.c %D%/plugin.h \
	%D%/report.c %D%/report.h \
	%D%/retry.c %D%/retry.h \
	%D%/sched.c %D%/sched.h \
	%D%/util.c %D%/util.h
agent_liblbrcore_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS) $(INIH_CFLAGS)
agent_liblbrcore_la_LIBADD = state/liblbrstate.la $(CURL_LIBS) $(JSONC_LIBS) $(INIH_LIBS) \
	$(DL_LIBS) $(PTHREAD_LIBS)

bin_PROGRAMS += lbreconcile
lbreconcile_SOURCES = %D%/main.c
lbreconcile_CFLAGS = $(AM_CFLAGS)
lbreconcile_LDADD = agent/liblbrcore.la
lbreconcile_LDFLAGS = $(AM_LDFLAGS) -export-dynamic
