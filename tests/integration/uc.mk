# UCloud / SurferCloud integration tests (and the mixed two-cloud config),
# run against the fake cloud.  uc-lib.sh holds their shared helpers.
if HAVE_MHD
TESTS += %D%/uc-converge.sh %D%/uc-l7.sh %D%/uc-drain-l7.sh %D%/uc-lastbackend.sh \
	%D%/uc-errors.sh %D%/uc-drift.sh %D%/mixed.sh %D%/stream.sh
endif
EXTRA_DIST += %D%/uc-lib.sh %D%/uc-converge.sh %D%/uc-l7.sh %D%/uc-drain-l7.sh \
	%D%/uc-lastbackend.sh %D%/uc-errors.sh %D%/uc-drift.sh %D%/mixed.sh %D%/stream.sh
