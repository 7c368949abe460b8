# The fake cloud server (Huawei ELB v2 + UCloud ULB emulation) and its
# self-test.  Built by plain `make` too: the README demo and the
# benchmarks use it.
if HAVE_MHD
noinst_PROGRAMS += %D%/fakecloud
check_PROGRAMS += %D%/fakecloud
%C%_fakecloud_SOURCES = %D%/fakecloud.c %D%/world.c %D%/hw.c %D%/uc.c \
	%D%/fakecloud.h
%C%_fakecloud_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(JSONC_CFLAGS) \
	$(CRYPTO_CFLAGS)
%C%_fakecloud_LDADD = $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) \
	$(PTHREAD_LIBS)
TESTS += %D%/selftest.sh
endif
EXTRA_DIST += %D%/selftest.sh %D%/README.md
