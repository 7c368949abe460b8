#!/usr/bin/env bash
# The CI checks beyond `make check` and `make distcheck` (run by
# scripts/quickstart test, from the top of a built, configured tree):
#  1. the whole test suite under ASan + UBSan (--enable-sanitizers), built
#     from the distribution tarball in a scratch directory;
#  2. the integration tests under valgrind memcheck (0 errors, no definite
#     leaks), using the tree's normal build;
#  3. the Debian package: built with dpkg-buildpackage in a scratch copy,
#     its contents checked with dpkg-deb -c (contrib/deb-check.sh).
set -euo pipefail
TOP=$(pwd)
JOBS=${JOBS:-2}
say() { printf '\n==> %s\n' "$*"; }

tarball=$(ls -t lbreconcile-*.tar.gz 2>/dev/null | head -n 1 || true)
[ -n "$tarball" ] || make dist >/dev/null
tarball=$(ls -t lbreconcile-*.tar.gz | head -n 1)

say "ASan + UBSan: make check"
W=$(mktemp -d /tmp/lbr-asan.XXXXXX)
trap 'rm -rf "$W"' EXIT
tar -C "$W" -xzf "$tarball"
(
	cd "$W"/lbreconcile-*
	./configure --enable-sanitizers --enable-werror >/dev/null
	make -j"$JOBS" >/dev/null
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	make -j"$JOBS" check || { grep -l -E '^(FAIL|ERROR)' $(find . -name '*.log') | head -5 |
		while read -r f; do echo "--- $f"; tail -40 "$f"; done; exit 1; }
)

say "valgrind memcheck: integration tests"
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no"
VG_TESTS=$(cd "$TOP" && ls tests/integration/hw-converge.sh tests/integration/hw-faults.sh \
	tests/integration/uc-l7.sh tests/integration/uc-lastbackend.sh tests/integration/mixed.sh \
	tests/integration/drift.sh tests/integration/guards.sh tests/integration/drain.sh \
	tests/integration/metrics-events.sh tests/integration/state.sh tests/integration/rel-secrets.sh |
	tr '\n' ' ')
make -j"$JOBS" check TESTS="$VG_TESTS" LBR_WRAPPER="$VG" ||
	{ for t in $VG_TESTS; do grep -E '^(not ok|#)' "${t%.sh}.log" | head -20; done; exit 1; }
say "sanitizers and valgrind: clean"

say "Debian package: build and check its contents"
DEB_BUILD_OPTIONS=nocheck contrib/deb-check.sh
