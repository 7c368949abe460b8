# Integration tests of the core: drain, daemon mode, metrics, events, UX.
CORE_TESTS = %D%/executor.sh %D%/preconnect.sh %D%/throttle-fair.sh %D%/threads-uc-l7.sh %D%/threads-hw-faults.sh %D%/drain.sh %D%/metrics-events.sh %D%/run-daemon.sh %D%/ux.sh %D%/etcd.sh
TESTS += $(CORE_TESTS)
EXTRA_DIST += $(CORE_TESTS)
