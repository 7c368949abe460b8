# UCloud / SurferCloud ULB provider plugin, installed as ucloud.so.
# UC_PLUGIN_SOURCES leaves out the shared helpers
# (providers/common/libprovcommon.la); targets that compile the sources
# themselves add $(PROVCOMMON_SOURCES).
UC_PLUGIN_SOURCES = %D%/ucloud.c %D%/ucsign.c %D%/ucsign.h \
	%D%/ucparse.c %D%/ucparse.h

pkgplugin_LTLIBRARIES += %D%.la
%C%_la_SOURCES = $(UC_PLUGIN_SOURCES)
%C%_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
%C%_la_LDFLAGS = $(AM_LDFLAGS) $(PLUGIN_LINK_FLAGS)
%C%_la_LIBADD = providers/common/libprovcommon.la \
	$(JSONC_LIBS) $(CRYPTO_LIBS)

# The same code as a convenience library, so unit tests can call the
# plugin's functions without dlopen().
check_LTLIBRARIES += %D%/libuctest.la
%C%_libuctest_la_SOURCES = $(UC_PLUGIN_SOURCES)
%C%_libuctest_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
%C%_libuctest_la_LIBADD = providers/common/libprovcommon.la \
	$(JSONC_LIBS) $(CRYPTO_LIBS)

UC_TEST_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS) \
	-I$(top_srcdir)/%D% -DUC_TEST_SRCDIR='"$(abs_top_srcdir)"'
UC_TEST_LDADD = %D%/libuctest.la tests/unit/libmockhost.la \
	$(JSONC_LIBS) $(CRYPTO_LIBS)

check_PROGRAMS += tests/unit/test-uc-sign tests/unit/test-uc-plugin
TESTS += tests/unit/test-uc-sign tests/unit/test-uc-plugin
tests_unit_test_uc_sign_SOURCES = tests/unit/test-uc-sign.c
tests_unit_test_uc_sign_CFLAGS = $(UC_TEST_CFLAGS)
tests_unit_test_uc_sign_LDADD = $(UC_TEST_LDADD)
tests_unit_test_uc_plugin_SOURCES = tests/unit/test-uc-plugin.c
tests_unit_test_uc_plugin_CFLAGS = $(UC_TEST_CFLAGS)
tests_unit_test_uc_plugin_LDADD = $(UC_TEST_LDADD)

EXTRA_DIST += tests/fixtures/uc
