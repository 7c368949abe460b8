#!/bin/sh
# `run`: an apply pass every `interval` seconds with +-10 % jitter; SIGHUP
# reloads (a broken config is reported and the old one kept); a failing
# pass does not stop the daemon; SIGTERM mid-pass exits 0 with consistent
# state; --once runs one pass.
. "$top_srcdir/tests/lib.sh"
fake_start
hw_account
P1=5a9a3e9e-d1aa-448e-af37-a70171f2a332
P2=6b0b4f0f-e2bb-559f-bf48-b81282f3b443
hw_pool $P1 "10.0.0.1:80 10.0.0.2:80 10.0.0.9:80"
hw_pool $P2 "10.0.2.1:80 10.0.2.9:80"
cd "$T"
cfg() { # $1: 1 = with pool two
	{
		printf '[agent]\nstate = st.json\ninterval = 1\nmax_delete = 80%%\n'
		hw_provider_section
		printf '[pool one]\nprovider = hw\npool_id = %s\nmember = 10.0.0.1:80\nmember = 10.0.0.2:80\n' "$P1"
		[ "$1" = 1 ] && printf '[pool two]\nprovider = hw\npool_id = %s\nmember = 10.0.2.1:80\n' "$P2"
	} >l.ini.new
	mv l.ini.new l.ini
}
wait_for() { # wait_for SECONDS COMMAND...: poll for an event (a generous bound: a busy box)
	local n=$(( $1 * 10 )); shift
	while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
members_are() { [ "$(hw_members "$1" | tr '\n' ' ')" = "$2" ]; }
serial() { jq -r .serial st.json 2>/dev/null || echo 0; }
serial_ge() { [ "$(serial)" -ge "$1" ]; }

# --once: one pass, its exit code.
cfg 0
run_lbr -c l.ini run --once
is "$RC" 0 "run --once exits 0 after one pass"
is "$(serial)" 1 "one pass recorded"
ok $(members_are $P1 "10.0.0.1:80 10.0.0.2:80 " && echo 0 || echo 1) "pool one converged"

"$LBR" -c l.ini -v --metrics-file m.prom run >run.out 2>run.err &
PID=$!
wait_for 60 serial_ge 2
ok $? "the daemon ran its first pass"
# Out-of-band drift is removed by a later pass.
fake_ctl POST /_fake/hw/pools/$P1/members '{"address":"10.0.0.7","protocol_port":80}' >/dev/null
wait_for 60 members_are $P1 "10.0.0.1:80 10.0.0.2:80 "
ok $? "out-of-band member removed by the next pass"
# Passes are interval +-10 % apart.
waits=$(sed -n 's/.*pass done; next pass in \([0-9]*\) ms.*/\1/p' run.err | tr '\n' ' ')
ok $(for w in $waits; do [ "$w" -ge 900 ] && [ "$w" -le 1100 ] || echo bad; done | grep -q bad && echo 1 || echo 0) \
	"every wait between passes is within 1 s +-10 % ($waits)"
ok $(echo "$waits" | tr ' ' '\n' | grep -c . | awk '{exit !($1 >= 2)}'; echo $?) "several passes were logged"
like "$(cat m.prom)" '^lbreconcile_last_pass_success\{command="run"\} 1$' "metrics file written after passes"

# SIGHUP with a config that adds a pool: it takes effect.
cfg 1
kill -HUP $PID
wait_for 60 members_are $P2 "10.0.2.1:80 "
ok $? "after SIGHUP the new pool is reconciled"
like "$(cat run.err)" 'configuration reloaded' "the reload is logged"

# SIGHUP with a broken config: reported, old config kept, daemon alive.
printf '[agent]\nbogus = 1\n' >l.ini
kill -HUP $PID
wait_for 60 grep -q 'reload failed, keeping the previous configuration' run.err
ok $? "a broken config on reload is reported"
like "$(cat run.err)" 'l.ini:2: \[agent\]: unknown key .bogus.' "with its FILE:LINE error"
fake_ctl POST /_fake/hw/pools/$P2/members '{"address":"10.0.2.7","protocol_port":80}' >/dev/null
wait_for 60 members_are $P2 "10.0.2.1:80 "
ok $? "the daemon keeps reconciling with the previous config"

# A failing pass does not kill the daemon.
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"list","status":400,"count":2}' >/dev/null
wait_for 60 grep -q 'pass failed (exit 1)' run.err
ok $? "a failing pass is reported"
kill -0 $PID 2>/dev/null
ok $? "the daemon is still running after a failed pass"
like "$(grep 'pass failed' run.err | head -1)" 'next pass in (1[89][0-9][0-9]|2[01][0-9][0-9]|9[0-9][0-9]|1[01][0-9][0-9]) ms' \
	"the next pass is scheduled (with backoff after repeated failures)"

# SIGTERM in the middle of a pass: in-flight calls finish, state recorded, exit 0.
cfg 0
kill -HUP $PID
sleep 1.5
fake_ctl POST /_fake/settings '{"latency_ms":400}' >/dev/null
for i in 3 4 5; do
	fake_ctl POST /_fake/hw/pools/$P1/members "{\"address\":\"10.0.0.$i\",\"protocol_port\":81}" >/dev/null
done
fake_log_clear
wait_for 60 sh -c "curl -s $FAKE_URL/_fake/log | jq -e '[.[] | select(.method==\"GET\")] | length >= 1' >/dev/null"
before=$(serial)
sleep 0.5
kill -TERM $PID
t0=$(date +%s)
wait $PID
rc=$?
t1=$(date +%s)
is "$rc" 0 "SIGTERM: exit 0"
ok $([ $((t1 - t0)) -le 10 ] && echo 0 || echo 1) "SIGTERM: exited within 10 s ($((t1 - t0)) s)"
jq -e . st.json >/dev/null
ok $? "state parses after SIGTERM"
ok $([ "$(serial)" -ge "$before" ] && echo 0 || echo 1) "serial did not go backwards ($before -> $(serial))"
fake_ctl POST /_fake/settings '{"latency_ms":0}' >/dev/null
run_lbr -c l.ini apply --auto-approve
is "$RC" 0 "the lock is free and the next apply converges"
ok $(members_are $P1 "10.0.0.1:80 10.0.0.2:80 " && echo 0 || echo 1) "pool one converged after the restart"
done_testing
