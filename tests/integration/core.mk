# Integration tests of the core: drain, daemon mode, metrics, events, UX.
CORE_TESTS = %D%/drain.sh %D%/metrics-events.sh %D%/run-daemon.sh %D%/ux.sh %D%/etcd.sh
TESTS += $(CORE_TESTS)
EXTRA_DIST += $(CORE_TESTS)
