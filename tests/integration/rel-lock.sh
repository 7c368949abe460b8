#!/bin/sh
# Lock contention (issue 4, acceptance 4): two agents started together on
# one state file, one acts and the other waits lock_timeout then exits 4
# naming the holder; `state unlock ID` clears a stale lock (SIGKILLed
# holder, hand-written lock file) and refuses to break a live one.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/rel-lib.sh"

fake_start --latency-ms 600
hw_account
P=lockpool-1
C=$T/lbr.ini
{
	printf '[agent]\nstate = st.json\nlock_timeout = 1\n'
	hw_provider_section
	rel_hw_pool_section web "$P" 10.0.0 1 6
} >"$C"
LOCK=$T/st.json.lock
HOST=$(hostname)

# bg_apply NAME : start an apply in the background; sets BG_PID (the
# waiting subshell), output in $T/NAME.out/.err, exit code in $T/NAME.rc,
# duration in $T/NAME.ms, the agent's own pid in $T/NAME.pid (the inner
# shell execs the agent, keeping its pid).
bg_apply() {
	rm -f "$T/$1.pid"
	(
		t0=$(now_ms)
		sh -c 'echo $$ >"$1.pid.tmp" && mv "$1.pid.tmp" "$1.pid" && shift && exec "$@"' \
			sh "$T/$1" "$LBR" -c "$C" apply --auto-approve >"$T/$1.out" 2>"$T/$1.err" </dev/null
		echo $? >"$T/$1.rc"
		echo $(($(now_ms) - t0)) >"$T/$1.ms"
	) &
	BG_PID=$!
}
# agent_pid NAME : the agent's pid (waits for it to be known)
agent_pid() { rel_wait_file "$T/$1.pid" 100 && cat "$T/$1.pid"; }

# 1. Two agents at once.
rel_hw_pool "$P" 1 10 10.0.0
fake_log_clear
bg_apply a
SA=$BG_PID
bg_apply b
SB=$BG_PID
PA=$(agent_pid a)
PB=$(agent_pid b)
wait "$SA" "$SB"
RCS="$(cat "$T/a.rc") $(cat "$T/b.rc")"
case "$RCS" in
"0 4") WIN=a LOSE=b WPID=$PA ;;
"4 0") WIN=b LOSE=a WPID=$PB ;;
*) WIN= LOSE= WPID= ;;
esac
ok "$([ -n "$WIN" ]; echo $?)" "one agent acted (0), the other exited 4 (got $RCS)"
if [ -n "$WIN" ]; then
	LMS=$(cat "$T/$LOSE.ms")
	ok "$([ "$LMS" -ge 1000 ] && [ "$LMS" -lt 5000 ]; echo $?)" \
		"the loser waited lock_timeout (1 s) before giving up ($LMS ms)"
	LERR=$(cat "$T/$LOSE.err")
	like "$LERR" "st\\.json' is locked by apply \\(pid $WPID on $HOST, apply since [0-9T:Z-]+, lock id [0-9a-f-]{36}\\); waited 1 s" \
		"the loser names the holder (pid $WPID, host, operation, lock id)"
	like "$LERR" "run: lbreconcile state unlock [0-9a-f-]{36}" "and says how to break a stale lock"
	is "$(cat "$T/$LOSE.out")" "" "the loser printed no plan"
	like "$(cat "$T/$WIN.out")" "Apply complete: 4 removed" "the winner removed the 4 undeclared members"
fi
is "$(fake_count '.method == "DELETE"')" 4 "exactly 4 DELETEs in all (only one agent acted)"
is "$(fake_count '.method == "GET"')" 2 "2 listings in all (the loser never observed)"
is "$(rel_hw_members "$P")" "$(rel_expect_seq 10.0.0 1 6 80)" "pool converged"
is "$(jq .serial "$T/st.json")" 1 "one state write (serial 1)"
is "$(cat "$LOCK")" "" "the lock info is cleared on release"

# 2. SIGKILL of the holder leaves stale lock info; the next apply takes
# the lock anyway (flock died with the process).
rel_hw_pool "$P" 1 10 10.0.0
bg_apply k
SK=$BG_PID
i=0
while [ ! -s "$LOCK" ] && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
PK=$(agent_pid k)
kill -9 "$PK"
wait "$SK"
is "$(cat "$T/k.rc")" 137 "holder SIGKILLed while holding the lock"
STALE=$(jq -r .id "$LOCK")
like "$STALE" '^[0-9a-f-]{36}$' "the lock file still names the dead holder ($STALE)"
is "$(jq -r '.pid, .operation, .host' "$LOCK" | paste -sd' ' -)" "$PK apply $HOST" \
	"lock info: pid, operation, host"
like "$(jq -r .created "$LOCK")" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T' "lock info: created"
is "$(file_mode_rel "$LOCK")" 600 "lock file is 0600"

run_lbr -c "$C" state unlock 00000000-0000-0000-0000-000000000000
is "$RC" 1 "state unlock with the wrong id: exit 1"
like "$ERR" "does not match.*$STALE" "... says the id does not match the lock's"
is "$(jq -r .id "$LOCK")" "$STALE" "... and leaves the lock info alone"

run_lbr -c "$C" state unlock "$STALE"
is "$RC" 0 "state unlock STALE_ID: exit 0"
like "$OUT" "lock $STALE removed" "... confirms"
is "$(cat "$LOCK")" "" "... and clears the lock info"
run_lbr -c "$C" state unlock "$STALE"
is "$RC" 1 "unlocking again: exit 1"
like "$ERR" "not locked" "... the state is not locked"

run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "apply after the crash converges"
is "$(rel_hw_members "$P")" "$(rel_expect_seq 10.0.0 1 6 80)" "pool converged after the crash"

# 2b. Without unlocking: a SIGKILLed holder's lock is recognised as stale.
rel_hw_pool "$P" 1 10 10.0.0
bg_apply k2
SK=$BG_PID
i=0
while [ ! -s "$LOCK" ] && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$(agent_pid k2)"
wait "$SK"
is "$(cat "$T/k2.rc")" 137 "second holder SIGKILLed"
ok "$([ -s "$LOCK" ]; echo $?)" "stale lock info left behind"
T0=$(now_ms)
run_lbr -c "$C" apply --auto-approve
T1=$(now_ms)
is "$RC" 0 "the next apply takes the stale lock without waiting for unlock"
ok "$([ $((T1 - T0)) -lt 5000 ]; echo $?)" "... promptly ($((T1 - T0)) ms)"

# 3. A live holder's lock is not broken.
rel_hw_pool "$P" 1 10 10.0.0
bg_apply live
SL=$BG_PID
i=0
while [ ! -s "$LOCK" ] && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
LIVE=$(jq -r .id "$LOCK")
run_lbr -c "$C" state unlock "$LIVE"
is "$RC" 1 "state unlock of a live holder's lock: exit 1"
like "$ERR" "locked by live pid [0-9]+ .*not breaking it" "... refuses, naming the live holder"
wait "$SL"
is "$(cat "$T/live.rc")" 0 "the live holder finished normally"

# 4. A lock file written by hand (e.g. left by a tool or restored from a
# backup) with the right JSON: unlock clears it.
printf '{"id":"0b7c2f6e-1111-4222-8333-944455556666","pid":999999,"host":"elsewhere","operation":"apply","created":"2020-01-01T00:00:00Z"}' >"$LOCK"
run_lbr -c "$C" state unlock 0b7c2f6e-1111-4222-8333-944455556666
is "$RC" 0 "state unlock of a hand-written lock: exit 0"
is "$(cat "$LOCK")" "" "... cleared"
run_lbr -c "$C" state unlock "not-a-uuid/../x"
is "$RC" 1 "state unlock with a bogus id: exit 1"

done_testing
