# The lbreconcile binary.  The core is a convenience library so that unit
# tests can link the same code.
noinst_LTLIBRARIES += agent/liblbrcore.la
agent_liblbrcore_la_SOURCES = \
	%D%/act.c %D%/act.h \
	%D%/batch.c %D%/batch.h \
	%D%/call.c %D%/call.h \
	%D%/cfg.c %D%/cfg.h \
	%D%/cli.h %D%/cmd-info.c %D%/cmd-pass.c \
	%D%/cfg-check.c %D%/cfg-keys.c %D%/cfg-int.h \
	%D%/drain.c %D%/drain.h \
	%D%/engine.c %D%/engine.h \
	%D%/error.c %D%/error.h \
	%D%/exec.c %D%/exec.h %D%/exec-tasks.c \
	%D%/curl-load.c %D%/curl-load.h \
	%D%/guard.c %D%/guard.h \
	%D%/host.c %D%/host.h \
	%D%/http.c %D%/http.h \
	%D%/lease.c %D%/lease.h \
	%D%/limiter.c %D%/limiter.h \
	%D%/log.c %D%/log.h \
	%D%/metrics.c %D%/metrics.h \
	%D%/obs.c %D%/obs.h \
	%D%/observe.c %D%/observe.h \
	%D%/plan.c %D%/plan.h \
	%D%/plugin.c %D%/plugin.h \
	%D%/pool.c %D%/pool.h \
	%D%/record.c %D%/record.h \
	%D%/report.c %D%/report.h %D%/report-int.h %D%/report-lists.c \
	%D%/report-docs.c %D%/report-human.c %D%/report-outside.c \
	%D%/retry.c %D%/retry.h %D%/runtime.h \
	%D%/rules.c %D%/rules.h \
	%D%/sched.c %D%/sched.h %D%/preconnect.c %D%/preconnect.h \
	%D%/selector.c %D%/selector.h \
	%D%/stream.c %D%/stream.h \
	%D%/util.c %D%/util.h \
	%D%/verify.c %D%/verify.h
agent_liblbrcore_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS) $(INIH_CFLAGS) $(CRYPTO_CFLAGS)
agent_liblbrcore_la_LIBADD = state/liblbrstate.la providers/common/libprovcommon.la $(JSONC_LIBS) $(INIH_LIBS) \
	$(CRYPTO_LIBS) $(DL_LIBS) $(PTHREAD_LIBS)

bin_PROGRAMS += lbreconcile
lbreconcile_SOURCES = %D%/main.c
lbreconcile_CFLAGS = $(AM_CFLAGS)
lbreconcile_LDADD = agent/liblbrcore.la
lbreconcile_LDFLAGS = $(AM_LDFLAGS) -export-dynamic
