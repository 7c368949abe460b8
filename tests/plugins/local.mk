# Fixture plugins: for the loader test, one per rejection path; and two
# behaviour fixtures for engine tests (forgetful: leaves item outcomes
# unset; echo: echoes its secret everywhere).
FIXTURE_LDFLAGS = -module -avoid-version -no-undefined -shared -rpath /nowhere
check_LTLIBRARIES += %D%/fixture.la %D%/badmajor.la %D%/short.la %D%/noentry.la \
	%D%/wrongname.la %D%/nullcb.la %D%/abi1.la %D%/forgetful.la %D%/echo.la \
	%D%/capable.la
noinst_HEADERS += %D%/observe.h
%C%_fixture_la_SOURCES = %D%/fixture.c
%C%_fixture_la_LDFLAGS = $(FIXTURE_LDFLAGS)
%C%_badmajor_la_SOURCES = %D%/fixture.c
%C%_badmajor_la_CPPFLAGS = $(AM_CPPFLAGS) -DFIXTURE_BAD_MAJOR -DFIXTURE_NAME='"badmajor"'
%C%_badmajor_la_LDFLAGS = $(FIXTURE_LDFLAGS)
%C%_short_la_SOURCES = %D%/fixture.c
%C%_short_la_CPPFLAGS = $(AM_CPPFLAGS) -DFIXTURE_SHORT -DFIXTURE_NAME='"short"'
%C%_short_la_LDFLAGS = $(FIXTURE_LDFLAGS)
%C%_noentry_la_SOURCES = %D%/fixture.c
%C%_noentry_la_CPPFLAGS = $(AM_CPPFLAGS) -DFIXTURE_NO_ENTRY -DFIXTURE_NAME='"noentry"'
%C%_noentry_la_LDFLAGS = $(FIXTURE_LDFLAGS)
%C%_wrongname_la_SOURCES = %D%/fixture.c
%C%_wrongname_la_CPPFLAGS = $(AM_CPPFLAGS) -DFIXTURE_WRONG_NAME
%C%_wrongname_la_LDFLAGS = $(FIXTURE_LDFLAGS)
%C%_nullcb_la_SOURCES = %D%/fixture.c
%C%_nullcb_la_CPPFLAGS = $(AM_CPPFLAGS) -DFIXTURE_NULL_CALLBACK -DFIXTURE_NAME='"nullcb"'
%C%_nullcb_la_LDFLAGS = $(FIXTURE_LDFLAGS)

%C%_abi1_la_SOURCES = %D%/fixture.c
%C%_abi1_la_CPPFLAGS = $(AM_CPPFLAGS) -DFIXTURE_ABI1 -DFIXTURE_NAME='"abi1"'
%C%_abi1_la_LDFLAGS = $(FIXTURE_LDFLAGS)
%C%_forgetful_la_SOURCES = %D%/forgetful.c
%C%_forgetful_la_LDFLAGS = $(FIXTURE_LDFLAGS)
%C%_echo_la_SOURCES = %D%/echo.c
%C%_echo_la_LDFLAGS = $(FIXTURE_LDFLAGS)
%C%_capable_la_SOURCES = %D%/capable.c
%C%_capable_la_LDFLAGS = $(FIXTURE_LDFLAGS)

check_PROGRAMS += tests/unit/test-loader
TESTS += tests/unit/test-loader
tests_unit_test_loader_SOURCES = tests/unit/test-loader.c agent/plugin.c
tests_unit_test_loader_LDADD = $(DL_LIBS)
