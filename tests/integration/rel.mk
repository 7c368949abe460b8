# Reliability and security integration tests (issue 4, acceptance 2, 3, 4,
# 7, 8, 9).  Each script starts its own fake cloud; rel-lib.sh holds the
# helpers they share.
REL_ITESTS = \
	%D%/rel-faults.sh \
	%D%/rel-crash.sh \
	%D%/rel-lock.sh \
	%D%/rel-tls.sh \
	%D%/rel-hostile.sh \
	%D%/rel-hostile-stub.sh \
	%D%/rel-hostile-slow.sh \
	%D%/rel-hostile-body.sh \
	%D%/rel-secrets.sh \
	%D%/rel-sync.sh

TESTS += $(REL_ITESTS)
EXTRA_DIST += $(REL_ITESTS) %D%/rel-lib.sh
