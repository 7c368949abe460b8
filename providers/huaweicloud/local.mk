# huaweicloud plugin: Huawei Cloud ELB members (API v2 shared, v3 dedicated).
#
# The .la sits at providers/huaweicloud.la so that the built object is
# providers/.libs/huaweicloud.so, next to the other plugins, where the
# tests' LBR_TEST_PLUGIN_DIR points.  HW_PLUGIN_SOURCES leaves out the
# shared helpers (providers/common/libprovcommon.la); targets that compile
# the sources themselves add $(PROVCOMMON_SOURCES).
HW_PLUGIN_SOURCES = \
	%D%/huaweicloud.c \
	%D%/hwsign.c %D%/hwsign.h \
	%D%/hwparse.c %D%/hwparse.h

pkgplugin_LTLIBRARIES += providers/huaweicloud.la
providers_huaweicloud_la_SOURCES = $(HW_PLUGIN_SOURCES)
providers_huaweicloud_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
providers_huaweicloud_la_LDFLAGS = $(AM_LDFLAGS) $(PLUGIN_LINK_FLAGS)
providers_huaweicloud_la_LIBADD = providers/common/libprovcommon.la \
	$(JSONC_LIBS) $(CRYPTO_LIBS)

# The same sources as a convenience library, so the unit tests can call
# the signer and the parser directly (they are hidden in the plugin).
check_LTLIBRARIES += %D%/libhwtest.la
%C%_libhwtest_la_SOURCES = $(HW_PLUGIN_SOURCES)
%C%_libhwtest_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
%C%_libhwtest_la_LIBADD = providers/common/libprovcommon.la \
	$(JSONC_LIBS) $(CRYPTO_LIBS)

check_PROGRAMS += tests/unit/test-hw-sign tests/unit/test-hw-plugin
TESTS += tests/unit/test-hw-sign tests/unit/test-hw-plugin

tests_unit_test_hw_sign_SOURCES = tests/unit/test-hw-sign.c
tests_unit_test_hw_sign_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/providers/huaweicloud
tests_unit_test_hw_sign_LDADD = %D%/libhwtest.la tests/unit/libmockhost.la

tests_unit_test_hw_plugin_SOURCES = tests/unit/test-hw-plugin.c
tests_unit_test_hw_plugin_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/providers/huaweicloud
tests_unit_test_hw_plugin_LDADD = %D%/libhwtest.la tests/unit/libmockhost.la \
	$(DL_LIBS)
