# Fuzzing (tests/fuzz/README.md).
#
# Always: one replay program per target, built with the normal compiler and
# run over the committed corpus by replay.sh, so every input that ever
# mattered (seeds, minimised finds, fixed crashes) is re-checked by
# `make check`.
#
# --enable-fuzzing CC=clang: real libFuzzer binaries.  The code under test
# is compiled into each binary (not linked from the convenience libraries)
# so that it carries the coverage instrumentation and the sanitizers.

FUZZ_TARGETS = ini state hw uc etcd

check_PROGRAMS += %D%/replay-ini %D%/replay-state %D%/replay-hw %D%/replay-uc \
	%D%/replay-etcd
TESTS += %D%/replay.sh
noinst_HEADERS += %D%/fuzzhost.h
EXTRA_DIST += %D%/replay.sh %D%/README.md %D%/corpus %D%/dict
CLEANFILES += %D%/replay-ini.out %D%/replay-state.out %D%/replay-hw.out \
	%D%/replay-uc.out %D%/replay-etcd.out

# Where fuzz-ini finds the plugins when neither LBR_FUZZ_PLUGIN_DIR nor
# LBR_TEST_PLUGIN_DIR is set (running a binary by hand).
FUZZ_PLUGIN_DEF = -DLBR_FUZZ_PLUGIN_DIR='"$(abs_top_builddir)/providers/.libs"'

%C%_replay_ini_SOURCES = %D%/replay.c %D%/fuzz-ini.c
%C%_replay_ini_CPPFLAGS = $(AM_CPPFLAGS) $(FUZZ_PLUGIN_DEF)
%C%_replay_ini_CFLAGS = $(AM_CFLAGS)
%C%_replay_ini_LDADD = agent/liblbrcore.la $(DL_LIBS)

%C%_replay_state_SOURCES = %D%/replay.c %D%/fuzz-state.c
%C%_replay_state_CFLAGS = $(AM_CFLAGS)
%C%_replay_state_LDADD = state/liblbrstate.la $(JSONC_LIBS)

# fuzz-etcd skips the lock's poll sleep (see the target).
FUZZ_ETCD_WRAP = -Wl,--wrap=nanosleep
%C%_replay_etcd_SOURCES = %D%/replay.c %D%/fuzz-etcd.c
%C%_replay_etcd_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
%C%_replay_etcd_LDFLAGS = $(FUZZ_ETCD_WRAP)
%C%_replay_etcd_LDADD = state/liblbrstate.la $(JSONC_LIBS)

%C%_replay_hw_SOURCES = %D%/replay.c %D%/fuzz-hw.c %D%/fuzzhost.c
%C%_replay_hw_CFLAGS = $(AM_CFLAGS)
%C%_replay_hw_LDADD = providers/huaweicloud/libhwtest.la

%C%_replay_uc_SOURCES = %D%/replay.c %D%/fuzz-uc.c %D%/fuzzhost.c
%C%_replay_uc_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
%C%_replay_uc_LDADD = providers/ucloud/libuctest.la $(JSONC_LIBS)

if FUZZING
FUZZ_FLAGS = -g -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer

noinst_PROGRAMS += %D%/fuzz-ini %D%/fuzz-state %D%/fuzz-hw %D%/fuzz-uc \
	%D%/fuzz-etcd

%C%_fuzz_ini_SOURCES = %D%/fuzz-ini.c %D%/fuzz-cli-stubs.c %D%/fuzz-bigalloc.c \
	$(agent_liblbrcore_la_SOURCES) \
	$(state_liblbrstate_la_SOURCES) $(PROVCOMMON_SOURCES)
%C%_fuzz_ini_CPPFLAGS = $(AM_CPPFLAGS) \
	-DLBR_FUZZ_PLUGIN_DIR='"$(abs_top_builddir)/tests/fuzz/plugins/.libs"'
%C%_fuzz_ini_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS) $(CURL_CFLAGS) \
	$(JSONC_CFLAGS) $(INIH_CFLAGS) $(CRYPTO_CFLAGS)
%C%_fuzz_ini_LDFLAGS = $(FUZZ_FLAGS) \
	-Wl,--wrap=malloc,--wrap=free,--wrap=realloc
%C%_fuzz_ini_LDADD = $(CURL_LIBS) $(JSONC_LIBS) $(INIH_LIBS) $(CRYPTO_LIBS) \
	$(DL_LIBS) $(PTHREAD_LIBS)

# Instrumented copies of the two plugins for fuzz-ini, so that coverage
# guides the fuzzer through their key checks and open() as well.  Not
# -z defs: the sanitizer runtime lives in the fuzz binary.
noinst_LTLIBRARIES += %D%/plugins/huaweicloud.la %D%/plugins/ucloud.la
FUZZ_PLUGIN_LDFLAGS = -module -avoid-version -shared -rpath /nowhere \
	-export-symbols-regex '^lbr_provider_entry$$' \
	-fsanitize=address,undefined
FUZZ_PLUGIN_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS) -g \
	-fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined
%C%_plugins_huaweicloud_la_SOURCES = $(HW_PLUGIN_SOURCES) $(PROVCOMMON_SOURCES)
%C%_plugins_huaweicloud_la_CFLAGS = $(FUZZ_PLUGIN_CFLAGS)
%C%_plugins_huaweicloud_la_LDFLAGS = $(FUZZ_PLUGIN_LDFLAGS)
%C%_plugins_huaweicloud_la_LIBADD = $(JSONC_LIBS) $(CRYPTO_LIBS)
%C%_plugins_ucloud_la_SOURCES = $(UC_PLUGIN_SOURCES) $(PROVCOMMON_SOURCES)
%C%_plugins_ucloud_la_CFLAGS = $(FUZZ_PLUGIN_CFLAGS)
%C%_plugins_ucloud_la_LDFLAGS = $(FUZZ_PLUGIN_LDFLAGS)
%C%_plugins_ucloud_la_LIBADD = $(JSONC_LIBS) $(CRYPTO_LIBS)

%C%_fuzz_state_SOURCES = %D%/fuzz-state.c $(state_liblbrstate_la_SOURCES)
%C%_fuzz_state_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS) $(JSONC_CFLAGS) \
	$(CRYPTO_CFLAGS)
%C%_fuzz_state_LDFLAGS = $(FUZZ_FLAGS)
%C%_fuzz_state_LDADD = $(JSONC_LIBS) $(CRYPTO_LIBS) $(PTHREAD_LIBS)

%C%_fuzz_etcd_SOURCES = %D%/fuzz-etcd.c $(state_liblbrstate_la_SOURCES)
%C%_fuzz_etcd_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS) $(JSONC_CFLAGS) \
	$(CRYPTO_CFLAGS)
%C%_fuzz_etcd_LDFLAGS = $(FUZZ_FLAGS) $(FUZZ_ETCD_WRAP)
%C%_fuzz_etcd_LDADD = $(JSONC_LIBS) $(CRYPTO_LIBS) $(PTHREAD_LIBS)

%C%_fuzz_hw_SOURCES = %D%/fuzz-hw.c %D%/fuzzhost.c $(HW_PLUGIN_SOURCES) \
	$(PROVCOMMON_SOURCES)
%C%_fuzz_hw_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS) $(JSONC_CFLAGS) \
	$(CRYPTO_CFLAGS)
%C%_fuzz_hw_LDFLAGS = $(FUZZ_FLAGS)
%C%_fuzz_hw_LDADD = $(JSONC_LIBS) $(CRYPTO_LIBS)

%C%_fuzz_uc_SOURCES = %D%/fuzz-uc.c %D%/fuzzhost.c $(UC_PLUGIN_SOURCES) \
	$(PROVCOMMON_SOURCES)
%C%_fuzz_uc_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS) $(JSONC_CFLAGS) \
	$(CRYPTO_CFLAGS)
%C%_fuzz_uc_LDFLAGS = $(FUZZ_FLAGS)
%C%_fuzz_uc_LDADD = $(JSONC_LIBS) $(CRYPTO_LIBS)
endif
