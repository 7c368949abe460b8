#!/bin/sh
# drift: report drift and out-of-band changes; never mutates, never writes
# state, never takes the lock.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
hw_pool "$P_WEB" "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80"
C=$T/lbr.ini
S=$T/st.json
hw_cfg "$C" "" "web $P_WEB 10.0.0.1:80 10.0.0.2:80 10.0.0.3:80"

# Before any apply there is no recorded state: changed_outside is empty.
run_lbr -c "$C" --json drift
is "$RC" 2 "drift before any apply: exit 2 (10.0.0.4 undeclared)"
is "$(printf '%s' "$OUT" | jq -c '.pools[0].changed_outside')" '{"appeared":[],"disappeared":[]}' \
	"no recorded state: changed_outside empty"
ok "$([ ! -e "$S" ]; echo $?)" "drift created no state file"

run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "apply converges"

# converged and unchanged: exit 0, drift false
fake_log_clear
run_lbr -c "$C" drift
is "$RC" 0 "drift exits 0 when converged and nothing changed"
run_lbr -c "$C" --json drift
is "$RC" 0 "drift --json exits 0 too"
is "$(printf '%s' "$OUT" | jq -c '[.drift, .summary, .pools[0].remove, .pools[0].missing, .pools[0].changed_outside]')" \
	'[false,{"pools":1,"remove":0,"missing":0,"create":0,"update":0,"protected":0,"unmanaged":0,"blocked":0,"policy_updates":0,"changed_outside":0,"refused":0,"warnings":0,"errors":0},[],[],{"appeared":[],"disappeared":[]}]' \
	"no-drift document"

# out-of-band: add 10.0.0.9, remove 10.0.0.2
M9=$(fake_ctl POST "/_fake/hw/pools/$P_WEB/members" '{"address":"10.0.0.9","protocol_port":80}' | jq -r .id)
M2=$(hw_member_id "$P_WEB" 10.0.0.2 80)
fake_ctl DELETE "/_fake/hw/pools/$P_WEB/members/$M2" >/dev/null
cp -p "$S" "$T/state.before"
cp -p "$S.log" "$T/audit.before"
ls -a "$T" | grep '^st\.json' >"$T/files.before"
fake_log_clear

run_lbr -c "$C" --json drift
is "$RC" 2 "drift --json exits 2 after out-of-band changes"
printf '%s' "$OUT" >"$T/drift.json"
ok "$(jq -e . "$T/drift.json" >/dev/null; echo $?)" "stdout is one JSON document"
is "$(jq -c 'keys' "$T/drift.json")" '["command","drift","format_version","pools","summary"]' "top-level keys exactly as SPEC §6"
is "$(jq -c '.summary | keys' "$T/drift.json")" \
	'["blocked","changed_outside","create","errors","missing","policy_updates","pools","protected","refused","remove","unmanaged","update","warnings"]' \
	"summary keys: SPEC §6's and a count of each pool list"
WANT=$(jq -cn --arg m9 "$M9" --arg m2 "$M2" '{format_version: 2, command: "drift", drift: true,
	pools: [{name: "web", provider: "hw", observed: 3, desired: 3,
		remove: [{id: $m9, address: "10.0.0.9", port: 80}],
		missing: [{address: "10.0.0.2", port: 80}],
		changed_outside: {appeared: [{id: $m9, address: "10.0.0.9", port: 80}],
				  disappeared: [{id: $m2, address: "10.0.0.2", port: 80}]},
		error: null}],
	summary: {pools: 1, remove: 1, missing: 1, errors: 0}}')
# Project each pool on the SPEC §6 keys (extra per-pool keys are allowed).
GOT=$(jq -c '{format_version, command, drift,
	pools: [.pools[] | {name, provider, observed, desired, remove, missing, changed_outside, error}],
	summary: (.summary | {pools, remove, missing, errors})}' "$T/drift.json")
is "$GOT" "$WANT" "drift document matches SPEC §6 (whole structure)"
is "$(jq -r '.pools[0].changed_outside.appeared[].id' "$T/drift.json")" "$M9" "appeared holds the added member's id"
is "$(jq -r '.pools[0].changed_outside.disappeared[].id' "$T/drift.json")" "$M2" "disappeared holds the removed member's id"

run_lbr -c "$C" drift
is "$RC" 2 "human drift exits 2"
like "$OUT" "10\.0\.0\.9:80.*$M9" "human drift names the undeclared member"
like "$OUT" "missing 10\.0\.0\.2:80" "human drift names the missing member"
like "$OUT" "appeared.*10\.0\.0\.9:80" "human drift shows what appeared"
like "$OUT" "disappeared.*10\.0\.0\.2:80" "human drift shows what disappeared"

# drift never takes the lock: run it while someone holds FILE.lock.
# The holder keeps the lock far longer than drift may take on a busy box;
# drift starts once the lock is taken (an event, not a delay).
# (flock -o: only the flock process holds the lock, so killing it frees it.)
flock -x -o "$S.lock" sleep 120 >/dev/null 2>&1 </dev/null &
HOLDER=$!
n=0
while flock -n "$S.lock" true 2>/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
ok "$(flock -n "$S.lock" true 2>/dev/null && echo 1 || echo 0)" "the holder has the lock"
T0=$(date +%s%N)
run_lbr -c "$C" drift
T1=$(date +%s%N)
is "$RC" 2 "drift while the lock is held: still exit 2 (not 4)"
ok "$([ $(((T1 - T0) / 1000000)) -lt 60000 ]; echo $?)" "drift did not wait for the lock (held for 120 s)"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null

is "$(mutating)" 0 "drift made no mutating call"
ok "$(cmp -s "$S" "$T/state.before"; echo $?)" "state file byte-identical after drift"
ok "$(cmp -s "$S.log" "$T/audit.before"; echo $?)" "audit log unchanged"
is "$(stat -c %Y "$S")" "$(stat -c %Y "$T/state.before")" "state file not rewritten (mtime)"
is "$(ls -a "$T" | grep '^st\.json' | paste -sd' ' -)" "$(paste -sd' ' "$T/files.before")" "no state file created or removed (no .backup)"

# --pool limits drift to that pool
hw_pool "$P_API" "10.0.1.1:80 10.0.1.2:80"
hw_cfg "$C" "" "web $P_WEB 10.0.0.1:80 10.0.0.2:80 10.0.0.3:80" "api $P_API 10.0.1.1:80 10.0.1.2:80"
fake_log_clear
run_lbr -c "$C" --json drift --pool api
is "$RC" 0 "drift --pool api: that pool has no drift"
is "$(printf '%s' "$OUT" | jq -r '[.pools[].name] | join(",")')" "api" "only api in the document"
is "$(fake_count ".pool_id==\"$P_WEB\"")" 0 "web not listed"

# A listing that shrank a lot against the recorded state is reported
# (SPEC §5): the pool's warning, and the summary counts it.
API6="10.0.1.1:80 10.0.1.2:80 10.0.1.3:80 10.0.1.4:80 10.0.1.5:80 10.0.1.6:80"
hw_pool "$P_API" "$API6"
hw_cfg "$C" "max_delete = 100%" "api $P_API $API6"
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "api with 6 members recorded"
hw_pool "$P_API" "10.0.1.1:80"
run_lbr -c "$C" --json drift
is "$RC" 2 "drift after 5 of 6 members went: exit 2"
is "$(printf '%s' "$OUT" | jq -c '[.pools[0].warning, .summary.warnings, .summary.missing]')" \
	'["listing shrank from 6 members (last recorded state) to 1",1,5]' \
	"the pool's warning says the listing shrank, the summary counts 1 warning"
run_lbr -c "$C" --json plan
is "$(printf '%s' "$OUT" | jq -c '[.pools[0].warning, .summary.warnings]')" \
	'["listing shrank from 6 members (last recorded state) to 1",1]' "plan --json too"

# An apply whose verification listing fails records what it last saw less
# what it removed: the next drift does not take its own removal for a
# change made outside it.  The DELETE is held until the listings fail.
hw_pool "$P_WEB" "10.0.0.1:80 10.0.0.2:80 10.0.0.9:80"
hw_cfg "$C" "" "web $P_WEB 10.0.0.1:80 10.0.0.2:80"
fake_ctl DELETE /_fake/faults >/dev/null
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"delete","pause":true,"count":1}' >/dev/null
$LBR_WRAPPER "$LBR" -c "$C" apply --auto-approve >"$T/out" 2>"$T/err" </dev/null &
A=$!
n=0
until [ "$(fake_ctl GET /_fake/settings | jq -r .paused_now)" = 1 ] || [ $n -ge 600 ]; do
	sleep 0.1
	n=$((n + 1))
done
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"list","status":500}' >/dev/null
fake_ctl POST /_fake/release >/dev/null
wait $A
is "$?" 1 "apply whose verification listing fails: exit 1"
fake_ctl DELETE /_fake/faults >/dev/null
is "$(hw_members "$P_WEB" | paste -sd' ' -)" "10.0.0.1:80 10.0.0.2:80" "10.0.0.9 was removed"
is "$(jq -c '[.pools.web.members[] | .address] | sort' "$S")" '["10.0.0.1","10.0.0.2"]' \
	"the state records the pool less the member removed"
run_lbr -c "$C" --json drift
is "$RC:$(printf '%s' "$OUT" | jq -c '.pools[0].changed_outside')" '0:{"appeared":[],"disappeared":[]}' \
	"the next drift finds nothing changed outside lbreconcile"

done_testing
