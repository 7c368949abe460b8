# Provider plugins.  Each plugin owns its own fragment; common/ holds the
# helpers both plugins share: libprovcommon.la, a convenience library
# linked into each plugin (compiled hidden, so a plugin still exports only
# lbr_provider_entry).
noinst_HEADERS += %D%/common/provcommon.h %D%/common/jscan.h

# Named so that targets compiling the sources themselves (the fuzzers,
# which need them instrumented) can list them.
PROVCOMMON_SOURCES = %D%/common/provcommon.c %D%/common/jscan.c
noinst_LTLIBRARIES += %D%/common/libprovcommon.la
%C%_common_libprovcommon_la_SOURCES = $(PROVCOMMON_SOURCES)
%C%_common_libprovcommon_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) \
	-fvisibility=hidden
%C%_common_libprovcommon_la_LIBADD = $(CRYPTO_LIBS)

include %D%/huaweicloud/local.mk
include %D%/ucloud/local.mk

check_PROGRAMS += tests/unit/test-jscan
TESTS += tests/unit/test-jscan
tests_unit_test_jscan_SOURCES = tests/unit/test-jscan.c
tests_unit_test_jscan_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/providers
tests_unit_test_jscan_LDADD = %D%/common/libprovcommon.la
