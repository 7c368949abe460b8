#!/bin/sh
# Fencing reaches the cloud (SPEC §7): an apply paused past its lease sends
# no mutating request once resumed, a second agent that took the lock in
# the meantime (after waiting longer than lock_ttl) keeps the member it
# declares, the first exits 1 saying it lost the lock, and the serial
# never goes back.  `state unlock` refuses a live lease unless --force.
. "$top_srcdir/tests/lib.sh"
ETCD=${ETCD:-/usr/bin/etcd}
[ -x "$ETCD" ] || skip_all "no etcd at $ETCD"
ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))') || skip_all "python3 is needed to pick ports"
CP=${ports% *}
PP=${ports#* }
"$ETCD" --data-dir "$T/etcd" --listen-client-urls "http://127.0.0.1:$CP" \
	--advertise-client-urls "http://127.0.0.1:$CP" --listen-peer-urls "http://127.0.0.1:$PP" \
	--initial-advertise-peer-urls "http://127.0.0.1:$PP" --initial-cluster "default=http://127.0.0.1:$PP" \
	>"$T/etcd.log" 2>&1 &
ETCD_PID=$!
A_PID=
trap '[ -n "$A_PID" ] && kill -CONT $A_PID 2>/dev/null; [ -n "$A_PID" ] && kill $A_PID 2>/dev/null;
	kill $ETCD_PID 2>/dev/null; wait $ETCD_PID 2>/dev/null; cleanup' EXIT
n=0
until curl -sf "http://127.0.0.1:$CP/health" >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -gt 300 ] && { echo "1..0 # SKIP etcd did not start"; exit 0; }
	sleep 0.1
done
etcd_get() { # KEY -> value (decoded)
	curl -s -X POST "http://127.0.0.1:$CP/v3/kv/range" \
		-d "{\"key\":\"$(printf '%s' "$1" | base64 -w0)\"}" | jq -r '.kvs[0].value // empty' | base64 -d
}
audit_lines() { # the audit records under lbr/f/audit/, one JSON per line
	curl -s -X POST "http://127.0.0.1:$CP/v3/kv/range" \
		-d "{\"key\":\"$(printf 'lbr/f/audit/' | base64 -w0)\",\"range_end\":\"$(printf 'lbr/f/audit0' | base64 -w0)\"}" |
		jq -r '.kvs[]?.value' | while read -r v; do printf '%s' "$v" | base64 -d; echo; done
}
wait_until() { # wait_until MAX-TENTHS COMMAND... : poll for an event, bounded
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}

fake_start
hw_account
P1=5a9a3e9e-d1aa-448e-af37-a70171f2a332
members="10.0.0.1:80"
i=10
while [ $i -lt 30 ]; do members="$members 10.0.0.$i:80"; i=$((i + 1)); done
hw_pool $P1 "$members"
cd "$T"
cfg() { # cfg FILE EXTRA-MEMBER
	{
		printf '[agent]\nstate = etcd://127.0.0.1:%s/lbr/f\nlock_ttl = 5\nlock_timeout = 60\n' "$CP"
		printf 'max_delete = 100%%\nparallelism = 1\n'
		hw_provider_section
		printf 'timeout = 1\n'
		printf '[pool web]\nprovider = hw\npool_id = %s\nmember = 10.0.0.1:80\n' "$P1"
		[ -n "$2" ] && printf 'member = %s\n' "$2"
	} >"$1"
}
cfg a.ini ""
run_lbr -c a.ini validate
is "$RC" 0 "lock_ttl = 5 with timeout = 1 validates"
sed 's/^timeout = 1$/timeout = 2/' a.ini >bad.ini
run_lbr -c bad.ini validate
is "$RC" 1 "a timeout the fencing margin cannot cover is refused"
like "$ERR" "timeout" "naming the timeout"

# Every cloud answer takes 300 ms: agent A removes one member at a time.
fake_ctl POST /_fake/settings '{"latency_ms":300}' >/dev/null
deletes() { fake_count '.method=="DELETE"'; }
first_delete() { [ "$(deletes)" -ge 1 ]; }
$LBR_WRAPPER "$LBR" -c a.ini apply --auto-approve >a.out 2>a.err &
A_PID=$!
wait_until 600 first_delete
ok $? "agent A started removing"
kill -STOP $A_PID
# A member A planned to remove and that is still there: B declares it.
KEEP=$(hw_members $P1 | grep -v '^10\.0\.0\.1:80$' | tail -n 1)
ok "$([ -n "$KEEP" ]; echo $?)" "an undeclared member is still there ($KEEP)"
cfg b.ini "$KEEP"
fake_ctl POST /_fake/settings '{"latency_ms":0}' >/dev/null
# B waits for the lock (lock_timeout 60 > lock_ttl 5): it gets it once A's
# lease expires, with a lease of its own taken with the lock.
run_lbr -c b.ini apply --auto-approve
is "$RC" 0 "agent B took the lock after A's lease expired, and applied"
is "$(hw_members $P1 | paste -sd' ' -)" "$(printf '10.0.0.1:80\n%s\n' "$KEEP" | sort | paste -sd' ' -)" \
	"B's pool holds exactly what B declares"
SERIAL_B=$(etcd_get lbr/f/state | jq .serial)
is "$(etcd_get lbr/f/state | jq -r '.pools.web.owned | join(" ")')" \
	"$(printf '10.0.0.1:80\n%s\n' "$KEEP" | sort | paste -sd' ' -)" \
	"the ownership record lives in the etcd state too"
N_B=$(deletes)
kill -CONT $A_PID
wait $A_PID
RC_A=$?
A_PID=
is "$RC_A" 1 "agent A exits 1 once resumed"
like "$(cat a.err)" "lost the (state )?lock" "A says it lost the lock"
is "$(deletes)" "$N_B" "A sent no mutating request after it was resumed"
# Every DELETE either agent sent has exactly one audit record, and the
# requests A's fencing refused (never sent) have none.
is "$(audit_lines | jq -s 'map(select(.action == "remove" and .outcome != "gone")) | length')" "$(deletes)" \
	"one audit record per DELETE the cloud saw, none for refused requests"
is "$(audit_lines | grep -c 'not sent' || true)" 0 "no audit record for a request that was not sent"
is "$(hw_members $P1 | grep -c "^$KEEP\$")" 1 "the member B declares is still there"
is "$(etcd_get lbr/f/state | jq .serial)" "$SERIAL_B" "the serial never went back (A's save was fenced)"

# run mode: a daemon paused in the middle of a pass, whose lock another
# agent took meanwhile, sends nothing for that pass once resumed, and its
# next pass lists the pool before it acts.
members="10.0.0.1:80"
i=40
while [ $i -lt 60 ]; do members="$members 10.0.0.$i:80"; i=$((i + 1)); done
hw_pool $P1 "$members"
sed 's/^lock_timeout = 60$/lock_timeout = 60\ninterval = 1/' a.ini >d.ini
fake_ctl POST /_fake/settings '{"latency_ms":300}' >/dev/null
fake_log_clear
"$LBR" -c d.ini run >d.out 2>d.err &
D_PID=$!
wait_until 600 first_delete
ok $? "the daemon started removing"
kill -STOP $D_PID
KEEP2=$(hw_members $P1 | grep -v '^10\.0\.0\.1:80$' | tail -n 1)
cfg b2.ini "$KEEP2"
fake_ctl POST /_fake/settings '{"latency_ms":0}' >/dev/null
run_lbr -c b2.ini apply --auto-approve
is "$RC" 0 "a second agent applied while the daemon was paused"
N_B=$(fake_count 'true')
kill -CONT $D_PID
relisted() { [ "$(fake_log | jq --argjson n "$N_B" '.[$n:] | map(select(.method == "GET")) | length')" -ge 1 ]; }
wait_until 600 relisted
ok $? "the resumed daemon listed the pool again"
kill -TERM $D_PID
wait $D_PID
is "$?" 0 "the daemon exits 0 on SIGTERM"
is "$(fake_log | jq --argjson n "$N_B" '.[$n:] | map(.method) | index("GET") as $g
	| .[:$g] | map(select(. == "DELETE")) | length')" 0 \
	"no DELETE from the daemon before its next pass had listed the pool"
like "$(cat d.err)" "lost the (state )?lock" "the daemon says its pass lost the lock"

# state unlock on a live lease: refused without --force.
fake_ctl POST /_fake/hw/pools/$P1/members '{"address":"10.0.0.77","protocol_port":80}' >/dev/null
fake_ctl POST /_fake/settings '{"latency_ms":3000}' >/dev/null
"$LBR" -c a.ini apply --auto-approve >c.out 2>c.err &
C_PID=$!
has_lock() { [ -n "$(etcd_get lbr/f/lock)" ]; }
wait_until 300 has_lock
ok $? "agent C holds the lock"
ID=$(etcd_get lbr/f/lock | jq -r .id)
run_lbr -c a.ini state unlock "$ID"
is "$RC" 1 "state unlock refuses a lock whose lease is alive"
like "$ERR" "pid $C_PID|alive|lease" "naming the holder or the lease"
run_lbr -c a.ini state unlock "$ID" --force
is "$RC" 0 "state unlock ID --force breaks it (option after the id)"
fake_ctl POST /_fake/settings '{"latency_ms":0}' >/dev/null
wait $C_PID
is "$?" 1 "the agent whose lock was broken exits 1"

done_testing
