#!/bin/sh
# The core's architecture holds (issue 10): agent/, state/ and providers/
# form layers without cycles, no file in agent/ is over 700 lines, and
# main.c holds no phase of a pass.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || skip_all "python3 is needed"
out=$(python3 "$top_srcdir/scripts/check-layers" 2>&1)
is "$?" 0 "no cycle between agent files; state/ and providers/ include no agent header"
printf '%s\n' "$out" | sed 's/^/# /'
long=$(wc -l "$top_srcdir"/agent/*.c "$top_srcdir"/agent/*.h | awk '$2 != "total" && $1 > 700 {print $2 " (" $1 ")"}')
is "$long" "" "no file in agent/ is over 700 lines"
is "$(grep -c 'lbr_engine_new\|lbr_engine_apply\|lbr_record\|lbr_state_save\|lbr_state_lock' "$top_srcdir/agent/main.c")" 0 \
	"main.c parses the command line: no engine, record or state call"
# The tree is formatted with the committed .clang-format.
if command -v clang-format >/dev/null 2>&1; then
	cd "$top_srcdir" || exit 1
	out=$(clang-format --dry-run --Werror agent/*.[ch] state/*.[ch] providers/*/*.[ch] \
		providers/lbreconcile/provider.h tests/unit/*.[ch] tests/plugins/*.[ch] \
		tests/fakecloud/*.[ch] 2>&1 | grep -c 'error:')
	is "$out" 0 "the core, the plugins and the test doubles are formatted with .clang-format"
else
	ok 0 "formatting # SKIP clang-format is not installed"
fi
done_testing
