#!/bin/sh
# Replay every committed fuzz corpus through the normally compiled targets.
# One TAP line per target: ok when its replay program ran every input and
# exited 0 (a crash, sanitizer report or abort() in a target fails it).
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
targets="ini state hw uc etcd"

echo "1..5"
n=0
fail=0
for t in $targets; do
	n=$((n + 1))
	prog="$builddir/tests/fuzz/replay-$t"
	corpus="$srcdir/tests/fuzz/corpus/$t"
	log="$builddir/tests/fuzz/replay-$t.out"
	if [ ! -x "$prog" ]; then
		echo "not ok $n - $t: $prog not built"
		fail=1
		continue
	fi
	if "$prog" "$corpus" >"$log" 2>&1 </dev/null; then
		count=$(sed -n 's/^replay: \([0-9]*\) inputs$/\1/p' "$log")
		echo "ok $n - $t: replayed ${count:-?} corpus inputs"
	else
		rc=$?
		echo "not ok $n - $t: replay exited $rc"
		tail -n 20 "$log" | sed 's/^/# /'
		fail=1
	fi
done
exit $fail
