#!/bin/sh
# Full membership (SPEC §3, §4.2): create = yes adds declared members that
# are missing, declared weights are enforced (0 sent as 0), make before
# break (creations and weight changes verified before any removal), a pool
# whose creation failed removes nothing, max_create refuses before any call.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
SUBNET=7bd8e4a2-0000-4000-8000-00000000abcd
hw_pool "$P_WEB" "10.0.0.11:80 10.0.0.12:80 10.0.0.9:80"
BASE=/v2/$HW_PROJECT/elb/pools/$P_WEB/members
C=$T/lbr.ini
S=$T/st.json
write_cfg() { # EXTRA-POOL-LINES MEMBER-LINES...
	local extra=$1
	shift
	{
		echo "[agent]"
		echo "state = st.json"
		hw_provider_section
		echo
		echo "[pool web]"
		echo "provider = hw"
		echo "pool_id = $P_WEB"
		printf '%s\n' "$extra"
		for m in "$@"; do echo "member = $m"; done
	} >"$C"
}

# Without create = yes a missing member is reported, not pending.
write_cfg "" "10.0.0.11:80" "10.0.0.12:80" "10.0.0.9:80" "10.0.0.13:80"
run_lbr -c "$C" plan --detailed-exitcode
is "$RC" 0 "a missing member without create = yes is not a pending change"

write_cfg "create = yes
subnet_id = $SUBNET" "10.0.0.11:80 weight=5" "10.0.0.12:80 weight=0" "10.0.0.13:80 weight=0 name=canary"
run_lbr -c "$C" validate
is "$RC" 0 "validate accepts create = yes with subnet_id and member attributes"

fake_log_clear
run_lbr -c "$C" plan --detailed-exitcode
is "$RC" 2 "with create = yes the missing member is a pending change"
like "$OUT" '\+ 10\.0\.0\.13:80 \(create\)' "plan prints the creation"
like "$OUT" '~ 10\.0\.0\.11:80 weight 1 -> 5' "plan prints the weight change"
like "$OUT" '~ 10\.0\.0\.12:80 weight 1 -> 0' "plan prints a weight change to 0"
like "$OUT" '- 10\.0\.0\.9:80' "plan prints the removal"
is "$(mutating)" 0 "plan sent nothing mutating"

run_lbr -c "$C" --json plan
json_valid plan "$OUT" "plan --json with creations and weight changes matches its schema"
is "$(printf '%s' "$OUT" | jq -c '.pools[0].create')" '[{"address":"10.0.0.13","port":80,"weight":0}]' \
	"plan --json lists the creation"
is "$(printf '%s' "$OUT" | jq -c '[.pools[0].update[] | [.address, .weight.from, .weight.to]] | sort')" \
	'[["10.0.0.11",1,5],["10.0.0.12",1,0]]' "plan --json lists the weight changes"

fake_log_clear
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "apply exits 0"
is "$(hw_members "$P_WEB" | paste -sd' ' -)" "10.0.0.11:80 10.0.0.12:80 10.0.0.13:80" "the pool holds exactly the declared members"
is "$(fake_ctl GET "/_fake/hw/pools/$P_WEB" | jq -c '[.members[] | [.address, .weight]] | sort')" \
	'[["10.0.0.11",5],["10.0.0.12",0],["10.0.0.13",0]]' "weights as declared, 0 included"
# The creation's body: address, port, subnet, weight 0 and the name.
is "$(fake_log | jq -c '[.[] | select(.method=="POST") | .body | fromjson | .member |
	{address, protocol_port, subnet_id, weight, name}]')" \
	"[{\"address\":\"10.0.0.13\",\"protocol_port\":80,\"subnet_id\":\"$SUBNET\",\"weight\":0,\"name\":\"canary\"}]" \
	"POST carries address, port, subnet_id, weight 0 and name"
is "$(fake_log | jq -c '[.[] | select(.method=="PUT") | .body | fromjson | .member.weight] | sort')" \
	'[0,5]' "PUTs send weight 5 and weight 0 (never dropped)"
# Make before break: every POST and PUT precedes the first DELETE, and a
# listing (the verification) comes between them.
ORDER=$(fake_log | jq -r '[.[] | .method] | join(" ")')
like "$ORDER" '^GET (POST|PUT)( (POST|PUT))* GET.* DELETE' "creations and weights, then a re-list, then the removal"
is "$(fake_log | jq '[.[] | select(.method=="DELETE")] | length')" 1 "one DELETE (10.0.0.9)"
is "$(jq -r 'select(.action=="create") | .outcome' "$S.log")" ok "the creation is audited"
is "$(jq -r 'select(.action=="create") | .request_id' "$S.log")" \
	"$(fake_log | jq -r '.[] | select(.method=="POST") | .request_id')" "with the cloud's request id"
is "$(jq -r 'select(.action=="set_weight") | .outcome' "$S.log" | sort | paste -sd, -)" "ok,ok" \
	"both weight changes are audited"

fake_log_clear
run_lbr -c "$C" plan --detailed-exitcode
is "$RC" 0 "converged: nothing pending"

# A creation applied but answered 503: the retry gets 409 (the member is
# there), which counts as done once the pool is re-read.
write_cfg "create = yes
subnet_id = $SUBNET" "10.0.0.11:80 weight=5" "10.0.0.12:80 weight=0" "10.0.0.13:80 weight=0 name=canary" "10.0.0.16:80"
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"create","count":1,"applied_then":503}' >/dev/null
fake_log_clear
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "a duplicate after an applied-then-503 creation counts as done"
is "$(fake_log | jq -r '[.[] | select(.method=="POST") | .status] | join(" ")')" "503 409" \
	"the POST was answered 503, its retry 409"
is "$(hw_members "$P_WEB" | grep -c '^10\.0\.0\.16:80$')" 1 "exactly one 10.0.0.16:80"
is "$(jq -r 'select(.action=="create" and .address=="10.0.0.16") | .outcome' "$S.log" | paste -sd' ' -)" \
	"transient exists" "both attempts are audited"
fake_ctl DELETE /_fake/faults >/dev/null

# drift: a declared weight the cloud does not have is drift (exit 2 and
# "drift": true), like a pending creation or removal.
write_cfg "create = yes
subnet_id = $SUBNET" "10.0.0.11:80 weight=5" "10.0.0.12:80 weight=0" "10.0.0.13:80 weight=7 name=canary" "10.0.0.16:80"
run_lbr -c "$C" --json drift
is "$RC:$(printf '%s' "$OUT" | jq -c '[.drift, .summary.update, .summary.remove, .summary.missing]')" '2:[true,1,0,0]' \
	"drift with only a weight to change: exit 2, drift true, 1 update"
run_lbr -c "$C" --metrics-file "$T/d.prom" drift
is "$RC" 2 "human drift: exit 2 too"
like "$(cat "$T/d.prom")" '^lbreconcile_pool_drift\{pool="web",provider="hw"\} 1$' "and the drift gauge says 1"

# A failed creation: nothing is removed in that pass.
fake_ctl POST /_fake/hw/pools/$P_WEB/members '{"address":"10.0.0.8","protocol_port":80}' >/dev/null
write_cfg "create = yes
subnet_id = $SUBNET" "10.0.0.11:80 weight=5" "10.0.0.12:80 weight=0" "10.0.0.13:80 weight=0 name=canary" "10.0.0.16:80" "10.0.0.14:80"
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"create","status":400,"count":10}' >/dev/null
fake_log_clear
run_lbr -c "$C" apply --auto-approve
is "$RC" 1 "apply exits 1 when a creation fails"
like "$ERR" "10\.0\.0\.14:80" "the error names the member that could not be created"
is "$(fake_count '.method=="DELETE"')" 0 "no removal in a pool whose creation failed (make before break)"
is "$(hw_members "$P_WEB" | grep -c 10.0.0.8)" 1 "10.0.0.8 is still there"
fake_ctl DELETE /_fake/faults >/dev/null

# max_create refuses before any mutating call.
write_cfg "create = yes
max_create = 1
subnet_id = $SUBNET" "10.0.0.11:80" "10.0.0.12:80" "10.0.0.13:80" "10.0.0.14:80" "10.0.0.15:80"
fake_log_clear
run_lbr -c "$C" apply --auto-approve
is "$RC" 3 "max_create refuses the pass (exit 3)"
like "$ERR$OUT" "max_create = 1" "and says why"
is "$(mutating)" 0 "no mutating call"

# An empty listing of a pool recorded with members is not acted on
# (SPEC §5), creation included; --force lifts the guard for one run.
write_cfg "create = yes
subnet_id = $SUBNET" "10.0.0.11:80" "10.0.0.12:80"
hw_pool "$P_WEB" "10.0.0.11:80 10.0.0.12:80"
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "a pool of 2 recorded"
hw_pool "$P_WEB" ""
fake_log_clear
run_lbr -c "$C" apply --auto-approve
is "$RC" 3 "the listing comes back empty: apply refuses the pool (exit 3)"
like "$ERR$OUT" "the listing is empty but the last recorded state has 2 members: an empty listing is not acted on; use --force to override" \
	"and says why"
is "$(mutating)" 0 "nothing created"
run_lbr -c "$C" --json plan
is "$(printf '%s' "$OUT" | jq -c '[(.pools[0].create | length), .pools[0].refused, .summary.refused]')" \
	'[2,"the listing is empty but the last recorded state has 2 members: an empty listing is not acted on; use --force to override",1]' \
	"plan shows the 2 creations and the refusal"
run_lbr -c "$C" apply --auto-approve --force
is "$RC" 0 "--force: created"
is "$(hw_members "$P_WEB" | paste -sd' ' -)" "10.0.0.11:80 10.0.0.12:80" "the pool holds its 2 members again"

# With nothing to do on it (create off), an empty listing is still not
# believed: the recorded members and the ownership stay, so a member
# undeclared before it is pruned once the listing is back (prune = owned).
# (subnet_id is part of the pool's target: it stays the same throughout.)
write_cfg "prune = owned
subnet_id = $SUBNET" "10.0.0.11:80" "10.0.0.12:80" "10.0.0.9:80"
hw_pool "$P_WEB" "10.0.0.11:80 10.0.0.12:80 10.0.0.9:80"
run_lbr -c "$C" apply --auto-approve --force
is "$RC" 0 "prune = owned: 3 declared, recorded and owned"
write_cfg "prune = owned
subnet_id = $SUBNET" "10.0.0.11:80" "10.0.0.12:80"
hw_pool "$P_WEB" ""
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "an empty listing with nothing to do: exit 0"
is "$(jq -c '[(.pools.web.members | length), .pools.web.owned]' "$S")" '[3,["10.0.0.11:80","10.0.0.12:80","10.0.0.9:80"]]' \
	"the recorded members and the ownership are kept"
write_cfg "prune = owned
create = yes
subnet_id = $SUBNET" "10.0.0.11:80" "10.0.0.12:80"
run_lbr -c "$C" apply --auto-approve
is "$RC" 3 "so a later empty listing with create = yes is still refused"
hw_pool "$P_WEB" "10.0.0.11:80 10.0.0.12:80 10.0.0.9:80"
fake_log_clear
write_cfg "prune = owned
subnet_id = $SUBNET" "10.0.0.11:80" "10.0.0.12:80"
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "the listing is back"
is "$(hw_members "$P_WEB" | paste -sd' ' -)" "10.0.0.11:80 10.0.0.12:80" "10.0.0.9, undeclared and still owned, is pruned"

# The same hold when a new pool comes before it in the file (recording the
# new pool first may move the state's pools in memory).
write_cfg "prune = owned
subnet_id = $SUBNET" "10.0.0.11:80" "10.0.0.12:80" "10.0.0.9:80"
hw_pool "$P_WEB" "10.0.0.11:80 10.0.0.12:80 10.0.0.9:80"
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "web: 3 declared and owned again"
hw_pool "$P_API" "10.0.1.1:80"
{
	echo "[agent]"
	echo "state = st.json"
	hw_provider_section
	printf '\n[pool aaa]\nprovider = hw\npool_id = %s\nmember = 10.0.1.1:80\n' "$P_API"
	printf '\n[pool web]\nprovider = hw\npool_id = %s\nprune = owned\nsubnet_id = %s\n' "$P_WEB" "$SUBNET"
	printf 'member = 10.0.0.11:80\nmember = 10.0.0.12:80\n'
} >"$C"
hw_pool "$P_WEB" ""
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "a new pool aaa before web, web listed empty: exit 0"
is "$(jq -c '[(.pools.web.members | length), .pools.web.owned, (.pools.aaa.members | length)]' "$S")" \
	'[3,["10.0.0.11:80","10.0.0.12:80","10.0.0.9:80"],1]' "web's members and ownership are kept, aaa is recorded"

# validate: no network, FILE:LINE.
fake_log_clear
write_cfg "create = yes" "10.0.0.11:80"
run_lbr -c "$C" validate
is "$RC" 1 "create = yes without subnet_id is a validate error on v2"
like "$ERR" "subnet_id" "naming subnet_id"
write_cfg "create = yes
subnet_id = $SUBNET" "10.0.0.11:80" "[2001:db8::5]:80"
run_lbr -c "$C" validate
is "$RC" 1 "creating an IPv6 member on v2 (IPv4 subnets only) is a validate error"
like "$ERR" "lbr\.ini:[0-9]+:.*member 2001:db8::5 port 80: IPv6 members cannot be created on the Huawei v2 API" \
	"with FILE:LINE, naming the member"
write_cfg "" "10.0.0.11:80" "[2001:db8::5]:80"
run_lbr -c "$C" validate
is "$RC" 0 "without create = yes an IPv6 member on v2 is accepted"
write_cfg "" "10.0.0.11:80 weight=101"
run_lbr -c "$C" validate
is "$RC" 1 "a weight over 100 is refused"
like "$ERR" "lbr\.ini:[0-9]+:.*weight" "with FILE:LINE"
write_cfg "" "10.0.0.11:80 colour=blue"
run_lbr -c "$C" validate
is "$RC" 1 "an unknown member attribute is refused"
like "$ERR" "colour" "naming it"
is "$(nreq)" 0 "validate made no request"

done_testing
