# Fixture plugins for the loader test, one per rejection path.
FIXTURE_LDFLAGS = -module -avoid-version -no-undefined -shared -rpath /nowhere
check_LTLIBRARIES += %D%/fixture.la %D%/badmajor.la %D%/short.la %D%/noentry.la \
	%D%/wrongname.la %D%/nullcb.la
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

check_PROGRAMS += tests/unit/test-loader
TESTS += tests/unit/test-loader
tests_unit_test_loader_SOURCES = tests/unit/test-loader.c
tests_unit_test_loader_LDADD = agent/liblbrcore.la
