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

# The newest tarball of this version, made when there is none.
newest_tarball() {
	local f best=""
	for f in lbreconcile-*.tar.gz; do
		[ -f "$f" ] || continue
		if [ -z "$best" ] || [ "$f" -nt "$best" ]; then
			best=$f
		fi
	done
	printf '%s' "$best"
}
tarball=$(newest_tarball)
[ -n "$tarball" ] || make dist >/dev/null
tarball=$(newest_tarball)

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
	make -j"$JOBS" check || {
		find . -name '*.log' -exec grep -l -E '^(FAIL|ERROR)' {} + | head -5 |
			while read -r f; do echo "--- $f"; tail -40 "$f"; done
		exit 1
	}
)

say "valgrind memcheck: integration tests"
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no"
VG_TESTS=
for t in hw-converge hw-faults uc-l7 uc-lastbackend mixed drift guards drain \
	metrics-events state rel-secrets create-weights hw-v3 uc-create abi fencing; do
	if [ -f "$TOP/tests/integration/$t.sh" ]; then
		VG_TESTS="$VG_TESTS tests/integration/$t.sh"
	fi
done
make -j"$JOBS" check TESTS="$VG_TESTS" LBR_WRAPPER="$VG" ||
	{ for t in $VG_TESTS; do grep -E '^(not ok|#)' "${t%.sh}.log" | head -20; done; exit 1; }
say "sanitizers and valgrind: clean"

say "shipped scripts: shellcheck"
if command -v shellcheck >/dev/null 2>&1; then
	shellcheck contrib/gitops/lbreconcile-ci.sh contrib/deb-check.sh scripts/ci-extra.sh
	shellcheck -s bash contrib/completion/lbreconcile.bash
else
	echo "shellcheck not installed: not checked"
fi

say "Debian package: build, check its contents, lintian"
DEB_BUILD_OPTIONS=nocheck contrib/deb-check.sh
