# Integration tests of the core: drain, daemon mode, metrics, events, UX.
CORE_TESTS = %D%/drain.sh
TESTS += $(CORE_TESTS)
EXTRA_DIST += $(CORE_TESTS)
