# State backends (local JSON file and etcd v3) as one
# convenience library linked into the agent and the unit tests.
noinst_LTLIBRARIES += %D%/liblbrstate.la
noinst_HEADERS += %D%/state.h %D%/state-int.h %D%/etcd-int.h
# One file per backend (local.c, etcd.c); the document in doc*.c.
%C%_liblbrstate_la_SOURCES = %D%/state.c %D%/doc.c %D%/doc-write.c \
	%D%/doc-parse.c %D%/file.c %D%/local.c %D%/etcd.c %D%/etcd-wire.c \
	%D%/etcd-spool.c
%C%_liblbrstate_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
%C%_liblbrstate_la_LIBADD = $(JSONC_LIBS) $(CRYPTO_LIBS) $(PTHREAD_LIBS)

# Unit test of the state module (lives here because state/ owns it).
check_PROGRAMS += tests/unit/test-state
TESTS += tests/unit/test-state
# It brings its own HTTP client for etcd (libcurl), as the agent would.
tests_unit_test_state_SOURCES = tests/unit/test-state.c
tests_unit_test_state_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS)
tests_unit_test_state_LDADD = %D%/liblbrstate.la $(JSONC_LIBS) $(CURL_LIBS)
EXTRA_DIST += tests/fixtures/state/valid-full.json \
	tests/fixtures/state/valid-minimal.json \
	tests/fixtures/state/corrupt-truncated.json \
	tests/fixtures/state/corrupt-two-documents.json \
	tests/fixtures/state/corrupt-port-string.json \
	tests/fixtures/state/corrupt-bad-address.json \
	tests/fixtures/state/corrupt-serial-float.json \
	tests/fixtures/state/corrupt-no-lineage.json \
	tests/fixtures/state/corrupt-trailing-comma.json \
	tests/fixtures/state/valid-v2.json \
	tests/fixtures/state/corrupt-owned-not-canonical.json \
	tests/fixtures/state/corrupt-counter-negative.json
