#!/bin/sh
# The etcd state backend end to end: apply records the state in etcd under
# PREFIX/state, a second agent on the same etcd waits lock_timeout and
# exits 4, and the state is readable by `state list` from another agent.
. "$top_srcdir/tests/lib.sh"
ETCD=${ETCD:-/usr/bin/etcd}
[ -x "$ETCD" ] || skip_all "no etcd at $ETCD"
command -v python3 >/dev/null || skip_all "python3 is needed to pick free ports"
ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
CP=${ports% *}
PP=${ports#* }
"$ETCD" --data-dir "$T/etcd" --listen-client-urls "http://127.0.0.1:$CP" \
	--advertise-client-urls "http://127.0.0.1:$CP" --listen-peer-urls "http://127.0.0.1:$PP" \
	--initial-advertise-peer-urls "http://127.0.0.1:$PP" --initial-cluster "default=http://127.0.0.1:$PP" \
	>"$T/etcd.log" 2>&1 &
ETCD_PID=$!
trap 'kill $ETCD_PID 2>/dev/null; wait $ETCD_PID 2>/dev/null; cleanup' EXIT
n=0
until curl -sf "http://127.0.0.1:$CP/health" >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -gt 100 ] && { sed 's/^/# /' "$T/etcd.log" | tail -5; echo "1..0 # SKIP etcd did not start"; exit 0; }
	sleep 0.1
done

fake_start
hw_account
P1=5a9a3e9e-d1aa-448e-af37-a70171f2a332
hw_pool $P1 "10.0.0.1:80 10.0.0.2:80 10.0.0.9:80 10.0.0.10:80 10.0.0.11:80"
cd "$T"
{
	printf '[agent]\nstate = etcd://127.0.0.1:%s/lbr/test\nlock_timeout = 1\nmax_delete = 100%%\n' "$CP"
	hw_provider_section
	printf '[pool web]\nprovider = hw\npool_id = %s\nmember = 10.0.0.1:80\nmember = 10.0.0.2:80\n' "$P1"
} >l.ini
etcd_get() { # KEY -> value (decoded)
	curl -s -X POST "http://127.0.0.1:$CP/v3/kv/range" \
		-d "{\"key\":\"$(printf '%s' "$1" | base64 -w0)\"}" | jq -r '.kvs[0].value // empty' | base64 -d
}

run_lbr -c l.ini apply --auto-approve
is "$RC" 0 "apply with the etcd backend exits 0"
is "$(hw_members $P1 | tr '\n' ' ')" "10.0.0.1:80 10.0.0.2:80 " "pool converged"
doc=$(etcd_get lbr/test/state)
is "$(printf '%s' "$doc" | jq -r '.serial')" 1 "state document in etcd under PREFIX/state, serial 1"
is "$(printf '%s' "$doc" | jq -r '.pools.web.members | map(.address) | join(",")')" "10.0.0.1,10.0.0.2" \
	"state holds the observed members"
is "$(etcd_get lbr/test/lock)" "" "the lock key is gone after apply"
# The audit lines: one key per request under PREFIX/audit/.
audit=$(curl -s -X POST "http://127.0.0.1:$CP/v3/kv/range" \
	-d "{\"key\":\"$(printf 'lbr/test/audit/' | base64 -w0)\",\"range_end\":\"$(printf 'lbr/test/audit0' | base64 -w0)\"}" |
	jq -r '.kvs[]?.value' | while read -r v; do printf '%s' "$v" | base64 -d; done)
# (three removals in flight at once: their audit PUTs must not wait on
# each other while the cloud calls go on)
is "$(printf '%s\n' "$audit" | jq -s -c 'map({pool, address, port, action, outcome}) | sort_by(.address)')" \
	'[{"pool":"web","address":"10.0.0.10","port":80,"action":"remove","outcome":"ok"},{"pool":"web","address":"10.0.0.11","port":80,"action":"remove","outcome":"ok"},{"pool":"web","address":"10.0.0.9","port":80,"action":"remove","outcome":"ok"}]' \
	"the removals' audit lines are in etcd under PREFIX/audit/, one key each"
ok $([ ! -e lbreconcile.state.json ] && [ ! -e st.json ] && echo 0 || echo 1) "no local state file was written"

# A second agent while the first holds the lock: waits lock_timeout, exits 4.
fake_ctl POST /_fake/settings '{"latency_ms":1500}' >/dev/null
fake_ctl POST /_fake/hw/pools/$P1/members '{"address":"10.0.0.8","protocol_port":80}' >/dev/null
"$LBR" -c l.ini apply --auto-approve >first.out 2>first.err &
FIRST=$!
n=0
until [ -n "$(etcd_get lbr/test/lock)" ] || [ $n -gt 50 ]; do sleep 0.1; n=$((n + 1)); done
t0=$(date +%s%N)
run_lbr -c l.ini apply --auto-approve
t1=$(date +%s%N)
is "$RC" 4 "the second agent exits 4"
like "$ERR" "is locked by apply \\(pid $FIRST on " "the message names the holder's pid"
ok $([ $(( (t1 - t0) / 1000000 )) -ge 900 ] && echo 0 || echo 1) "it waited lock_timeout ($(( (t1 - t0) / 1000000 )) ms)"
wait $FIRST
is "$?" 0 "the first agent finishes normally"
is "$(etcd_get lbr/test/state | jq -r .serial)" 2 "serial 2 after the second apply"
fake_ctl POST /_fake/settings '{"latency_ms":0}' >/dev/null
run_lbr -c l.ini state list
like "$OUT" '^web +provider hw +members 2 +last apply converged' "state list reads the etcd state"
run_lbr -c l.ini drift
is "$RC" 0 "drift from etcd state: no drift"
done_testing
