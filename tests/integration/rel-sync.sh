#!/bin/sh
# What reaches the disk, and from which thread (strace): the audit log is
# synced by a thread of its own while calls are in flight, the thread that
# runs the calls syncs it at most once (just before the state is saved),
# the state is written tmp + fsync + rename + fsync of the directory, and
# the lock file (an flock plus the holder's name) is never synced.  Also:
# libcurl is loaded only by commands that call out.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/rel-lib.sh"

command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"
strace -f -qq -o /dev/null true 2>/dev/null || skip_all "strace cannot trace here (ptrace denied)"

# Every call takes 20 ms and 4 are in flight: 60 removals take some
# 300 ms, several turns of the audit log's syncer (one every 50 ms).
fake_start --latency-ms 20
hw_account
P=7a1d2c3b-4e5f-4a6b-9c8d-0e1f2a3b4c5d
rel_hw_pool "$P" 1 70 10.9.0
cd "$T" || exit 1
{
	printf '[agent]\nstate = st.json\nparallelism = 4\nmax_delete = 100%%\n'
	hw_provider_section
	rel_hw_pool_section web "$P" 10.9.0 1 10
} >l.ini

# LeakSanitizer cannot check a traced process (an ASan build would exit
# 86 at the end): leaks are checked by every other test.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -y -qq -e trace=execve,fsync,fdatasync -o "$T/sync.txt" \
	"$LBR" -c l.ini apply --auto-approve >"$T/out" 2>"$T/err" </dev/null
RC=$?
# The agent makes itself undumpable (no core files with secrets in them):
# without CAP_SYS_PTRACE strace then cannot name the files behind the
# descriptors, and what follows cannot be judged.
if ! grep -qE 'f(data)?sync\([0-9]+<' "$T/sync.txt"; then
	sed 's/^/# /' "$T/sync.txt" | head -n 5
	skip_all "strace cannot name the agent's files here (no CAP_SYS_PTRACE)"
fi
is "$RC" 0 "apply converged (exit 0)"
is "$(rel_hw_members "$P")" "$(rel_expect_seq 10.9.0 1 10 80)" "the pool holds exactly its 10 members"
is "$(grep -c '"action":"remove"' st.json.log)" 60 "60 remove lines in the audit log"

# strace -f -o: every line starts with the thread id; the first is the
# execve of the agent, whose id is the main thread's.
MAIN=$(awk '/execve\(/ { print $1; exit }' "$T/sync.txt")
ok "$([ -n "$MAIN" ]; echo $?)" "the agent's main thread is known ($MAIN)"
log_syncs() { grep -cE "^$1 +fdatasync\\([0-9]+<[^>]*/st\\.json\\.log>" "$T/sync.txt"; }
others=$(grep -E 'fdatasync\([0-9]+<[^>]*/st\.json\.log>' "$T/sync.txt" | awk -v m="$MAIN" '$1 != m' | wc -l)
ok "$([ "$others" -ge 1 ]; echo $?)" "another thread synced the audit log while calls were in flight ($others times)"
mine=$(log_syncs "$MAIN")
ok "$([ "$mine" -le 1 ]; echo $?)" "the calling thread synced it at most once, before saving the state ($mine)"
is "$(grep -c '\.lock>' "$T/sync.txt")" 0 "the lock file is never synced"
ok "$(grep -qE "^$MAIN +fsync\\([0-9]+<[^>]*/st\\.json\\.tmp>" "$T/sync.txt"; echo $?)" \
	"the state's temporary file is fsynced before its rename"
dir=$(pwd -P)
ok "$(grep -qE "^$MAIN +fsync\\([0-9]+<$dir>" "$T/sync.txt"; echo $?)" \
	"... and so is the directory after it"
# The audit log is on disk before the state that follows from it: the
# last sync of the log comes before the fsync of the state's tmp file.
last_log=$(grep -nE 'fdatasync\([0-9]+<[^>]*/st\.json\.log>' "$T/sync.txt" | tail -n 1 | cut -d: -f1)
tmp_sync=$(grep -nE 'fsync\([0-9]+<[^>]*/st\.json\.tmp>' "$T/sync.txt" | head -n 1 | cut -d: -f1)
ok "$([ -n "$last_log" ] && [ -n "$tmp_sync" ] && [ "$last_log" -lt "$tmp_sync" ]; echo $?)" \
	"the audit log's last sync comes before the state's (lines $last_log < $tmp_sync)"

# libcurl: loaded (on a thread of its own) by a command that calls out,
# never by one that does not.
curl_loads() { LD_DEBUG=files "$LBR" "$@" 2>&1 >/dev/null | grep -c 'file=libcurl\.so'; }
is "$(curl_loads -c l.ini validate)" 0 "validate does not load libcurl"
is "$(curl_loads version)" 0 "version does not load libcurl"
is "$(curl_loads -c l.ini providers)" 0 "providers does not load libcurl"
ok "$([ "$(curl_loads -c l.ini plan)" -ge 1 ]; echo $?)" "plan loads libcurl"

done_testing
