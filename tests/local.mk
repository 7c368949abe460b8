# Tests.  Unit tests are C programs printing TAP; integration tests are
# shell scripts sourcing tests/lib.sh.
noinst_HEADERS += %D%/unit/tap.h %D%/unit/mockhost.h
EXTRA_DIST += %D%/lib.sh

check_LTLIBRARIES += %D%/unit/libmockhost.la
%C%_unit_libmockhost_la_SOURCES = %D%/unit/mockhost.c
%C%_unit_libmockhost_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
%C%_unit_libmockhost_la_LIBADD = $(CURL_LIBS)

include %D%/plugins/local.mk
include %D%/fakecloud/local.mk
include %D%/integration/local.mk
include %D%/fuzz/local.mk

check_PROGRAMS += %D%/unit/test-retry
TESTS += %D%/unit/test-retry
%C%_unit_test_retry_SOURCES = %D%/unit/test-retry.c
%C%_unit_test_retry_LDADD = agent/liblbrcore.la

check_PROGRAMS += %D%/unit/test-sched
TESTS += %D%/unit/test-sched
%C%_unit_test_sched_SOURCES = %D%/unit/test-sched.c
%C%_unit_test_sched_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(PTHREAD_CFLAGS)
%C%_unit_test_sched_LDADD = agent/liblbrcore.la $(CURL_LIBS) $(PTHREAD_LIBS)

# libcurl loaded at run time: from several threads at once, a library
# that cannot be loaded (built a second time with a name that does not
# exist), and a stand-in that records the environment it is loaded in.
check_PROGRAMS += %D%/unit/test-curl-load %D%/unit/test-curl-load-missing \
	%D%/unit/test-curl-load-stub
TESTS += %D%/unit/test-curl-load %D%/unit/test-curl-load-missing %D%/unit/test-curl-load-stub
%C%_unit_test_curl_load_SOURCES = %D%/unit/test-curl-load.c agent/curl-load.c
%C%_unit_test_curl_load_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(PTHREAD_CFLAGS)
%C%_unit_test_curl_load_LDADD = $(DL_LIBS) $(PTHREAD_LIBS)
%C%_unit_test_curl_load_missing_SOURCES = %D%/unit/test-curl-load.c agent/curl-load.c
%C%_unit_test_curl_load_missing_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_MISSING \
	-DLBR_CURL_SONAME='"libcurl-missing-for-tests.so.0"'
%C%_unit_test_curl_load_missing_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(PTHREAD_CFLAGS)
%C%_unit_test_curl_load_missing_LDADD = $(DL_LIBS) $(PTHREAD_LIBS)
check_LTLIBRARIES += %D%/unit/curlstub.la
%C%_unit_curlstub_la_SOURCES = %D%/unit/curlstub.c
%C%_unit_curlstub_la_LDFLAGS = -module -avoid-version -no-undefined -shared -rpath /nowhere
%C%_unit_test_curl_load_stub_SOURCES = %D%/unit/test-curl-load.c agent/curl-load.c
%C%_unit_test_curl_load_stub_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_STUB \
	-DLBR_CURL_SONAME='"$(abs_top_builddir)/%D%/unit/.libs/curlstub.so"'
%C%_unit_test_curl_load_stub_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(PTHREAD_CFLAGS)
%C%_unit_test_curl_load_stub_LDADD = $(DL_LIBS) $(PTHREAD_LIBS)
EXTRA_%C%_unit_test_curl_load_stub_DEPENDENCIES = %D%/unit/curlstub.la

# The heap faulted in at once.
check_PROGRAMS += %D%/unit/test-prefault
TESTS += %D%/unit/test-prefault
%C%_unit_test_prefault_SOURCES = %D%/unit/test-prefault.c
%C%_unit_test_prefault_LDADD = agent/liblbrcore.la

# The plan and guard phases as pure functions.
check_PROGRAMS += %D%/unit/test-plan
TESTS += %D%/unit/test-plan
%C%_unit_test_plan_SOURCES = %D%/unit/test-plan.c
%C%_unit_test_plan_LDADD = agent/liblbrcore.la

# Config and selectors.
check_PROGRAMS += %D%/unit/test-cfg
TESTS += %D%/unit/test-cfg
%C%_unit_test_cfg_SOURCES = %D%/unit/test-cfg.c
%C%_unit_test_cfg_LDADD = agent/liblbrcore.la %D%/unit/libmockhost.la

check_PROGRAMS += %D%/unit/test-selector
TESTS += %D%/unit/test-selector
%C%_unit_test_selector_SOURCES = %D%/unit/test-selector.c
%C%_unit_test_selector_LDADD = agent/liblbrcore.la

# The architecture's rules, checked on the sources.
TESTS += %D%/layers.sh
EXTRA_DIST += %D%/layers.sh scripts/check-layers
