#!/bin/sh
# Build the Debian packages from this source tree, in a temporary copy,
# check that they hold what lbreconcile(1) and the units promise, and run
# lintian on the source and binary packages.
#
#   contrib/deb-check.sh [SOURCE-DIR]      (default: this script's tree)
#
# DEB_BUILD_OPTIONS=nocheck skips the unit tests the package build runs;
# DEB_CHECK_JOBS sets the build's parallelism (default: auto).  When lintian
# is installed, `lintian -I -E --pedantic` must report nothing (its output
# is printed); DEB_CHECK_LINTIAN=0 skips it.
#
# Needs dpkg-dev, debhelper and the Build-Depends of debian/control.  The
# copy is built with `dpkg-buildpackage -us -uc -b`, which writes into the
# source tree, so the tree itself is never touched.  Exit 0 when the
# packages build, every expected file is in them and lintian is silent.  Meant for CI, not for
# `make check` (it takes a minute or more).
set -eu

src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
src=$(cd "$src" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/lbr-deb.XXXXXX")
# DEB_CHECK_KEEP=1 keeps the build directory (and its build.log).
if [ -n "${DEB_CHECK_KEEP:-}" ]; then
	trap 'echo "deb-check: kept $work"' EXIT
else
	trap 'rm -rf "$work"' EXIT INT TERM
fi

for tool in dpkg-buildpackage dpkg-deb dh; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "deb-check: $tool not found (install dpkg-dev and debhelper)" >&2
		exit 1
	fi
done

# Copy the sources without build products: in a git checkout, the tracked
# and untracked-but-not-ignored files; otherwise everything, cleaned below.
mkdir "$work/lbreconcile"
# (.git is a file in a worktree of another checkout, hence -e.)
if [ -e "$src/.git" ] && command -v git >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard) |
		(cd "$src" && xargs -0 cp --parents -a -t "$work/lbreconcile" 2>/dev/null) ||
		true
	# Deleted-but-tracked files make cp complain; anything really missing
	# shows up in the build.
else
	cp -a "$src/." "$work/lbreconcile/"
	if [ -f "$work/lbreconcile/Makefile" ]; then
		(cd "$work/lbreconcile" && make distclean >/dev/null 2>&1) || true
	fi
fi
for f in debian/control debian/rules configure.ac; do
	if [ ! -f "$work/lbreconcile/$f" ]; then
		echo "deb-check: $f is missing from $src" >&2
		exit 1
	fi
done

start=$(date +%s)
echo "deb-check: building in $work/lbreconcile"
# Source and binaries (not -b): lintian checks the source package too.
if ! (cd "$work/lbreconcile" && dpkg-buildpackage -us -uc -j"${DEB_CHECK_JOBS:-auto}") >"$work/build.log" 2>&1; then
	tail -n 60 "$work/build.log" >&2
	echo "deb-check: dpkg-buildpackage failed" >&2
	exit 1
fi
end=$(date +%s)

deb=
devdeb=
for f in "$work"/lbreconcile_*.deb; do
	[ -f "$f" ] && deb=$f
done
for f in "$work"/lbreconcile-dev_*.deb; do
	[ -f "$f" ] && devdeb=$f
done
if [ -z "$deb" ] || [ -z "$devdeb" ]; then
	echo "deb-check: lbreconcile_*.deb and lbreconcile-dev_*.deb were not both produced" >&2
	exit 1
fi
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/contents"
dpkg-deb -c "$devdeb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/dev-contents"

fail=0
for want in \
	/usr/bin/lbreconcile \
	/usr/lib/lbreconcile/huaweicloud.so \
	/usr/lib/lbreconcile/ucloud.so \
	/usr/share/man/man1/lbreconcile.1.gz \
	/usr/share/man/man5/lbreconcile.ini.5.gz \
	/lib/systemd/system/lbreconcile.service \
	/lib/systemd/system/lbreconcile-apply.service \
	/lib/systemd/system/lbreconcile-apply.timer \
	/usr/share/doc/lbreconcile/examples/huawei.ini \
	/usr/share/doc/lbreconcile/examples/surfercloud.ini \
	/usr/share/doc/lbreconcile/examples/mixed.ini \
	/usr/share/doc/lbreconcile/copyright \
	/usr/share/lbreconcile/schema/plan.json \
	/usr/share/lbreconcile/schema/drift.json \
	/usr/share/lbreconcile/schema/event.json \
	/usr/share/bash-completion/completions/lbreconcile \
	/etc/lbreconcile/credentials/; do
	if grep -qx "$want" "$work/contents"; then
		echo "ok   $want"
	else
		echo "MISSING $want"
		fail=1
	fi
done
# The ABI header is for plugin authors: in -dev, not in the runtime.
for want in /usr/include/lbreconcile/provider.h /usr/share/doc/lbreconcile-dev/copyright; do
	if grep -qx "$want" "$work/dev-contents"; then
		echo "ok   $want (lbreconcile-dev)"
	else
		echo "MISSING $want (lbreconcile-dev)"
		fail=1
	fi
done
if grep -q '^/usr/include/' "$work/contents"; then
	echo "UNEXPECTED headers in the runtime package"
	fail=1
fi
# An upgrade restarts a running daemon.
if ! dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst 2>/dev/null | grep -q 'try-restart'; then
	echo "MISSING try-restart of the units on upgrade in postinst"
	fail=1
fi
# libcurl is dlopen()ed, so the dependency on it is not found by
# dpkg-shlibdeps: debian/rules adds it.
deps=$(dpkg-deb -f "$deb" Depends)
if printf '%s\n' "$deps" | grep -qE '(^|, )libcurl4[a-z0-9]* \(>= 7\.(68|85)\)'; then
	echo "ok   Depends names libcurl: $deps"
else
	echo "MISSING libcurl in Depends: $deps"
	fail=1
fi
# libtool archives are useless for dlopen'd modules and must not ship.
if grep -q '\.la$' "$work/contents"; then
	echo "UNEXPECTED .la files:"
	grep '\.la$' "$work/contents"
	fail=1
fi
# The units are installed but must not be enabled by the package.
if dpkg-deb -c "$deb" | grep -q 'wants/'; then
	echo "UNEXPECTED enabled unit symlinks"
	fail=1
fi

if [ "${DEB_CHECK_LINTIAN:-1}" != 0 ]; then
	if command -v lintian >/dev/null 2>&1; then
		changes=
		for f in "$work"/lbreconcile_*.changes; do
			[ -f "$f" ] && changes=$f
		done
		echo "deb-check: lintian -I -E --pedantic $(basename "$changes")"
		lintian -I -E --pedantic "$changes" >"$work/lintian.out" 2>&1 || true
		sed 's/^/lintian: /' "$work/lintian.out"
		# Tags only: lintian also says when it runs as root.
		if grep -Eq '^[EWIPX]: ' "$work/lintian.out"; then
			echo "deb-check: lintian is not clean"
			fail=1
		else
			echo "ok   lintian -I -E --pedantic: nothing to report"
		fi
	else
		echo "deb-check: lintian not installed: not checked"
	fi
fi

echo "deb-check: $(basename "$deb") built in $((end - start)) s"
if [ "$fail" -ne 0 ]; then
	echo "deb-check: package contents are incomplete" >&2
	exit 1
fi
echo "deb-check: ok"
