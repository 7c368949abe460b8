#!/bin/sh
# Huawei: a basic converge, plan/apply exit codes, confirmation, --pool,
# state file and audit log.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
hw_pool "$P_WEB" "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80"
hw_pool "$P_API" "10.0.1.1:8080 10.0.1.2:8080 10.0.1.3:8080"
W4=$(hw_member_id "$P_WEB" 10.0.0.4 80)
A3=$(hw_member_id "$P_API" 10.0.1.3 8080)
C=$T/lbr.ini
hw_cfg "$C" "" "web $P_WEB 10.0.0.1:80 10.0.0.2:80 10.0.0.3:80" \
	"api $P_API 10.0.1.1:8080 10.0.1.2:8080"
S=$T/st.json
BASE=/v2/$HW_PROJECT/elb/pools

# apply with no terminal and no --auto-approve: refused before any request.
run_lbr -c "$C" apply
is "$RC" 1 "apply without --auto-approve and no terminal exits 1"
like "$ERR" "auto-approve" "the refusal tells the user about --auto-approve"
is "$(nreq)" 0 "the fake saw no request at all"
ok "$([ ! -e "$S" ]; echo $?)" "no state file written by the refused apply"

# plan: human output, exit 0; --detailed-exitcode: 2; never mutates.
run_lbr -c "$C" plan
is "$RC" 0 "plan exits 0"
like "$OUT" "^ *- 10\.0\.0\.4:80 +\(member $W4\) +pool web$" "plan lists the web removal with the member id"
like "$OUT" "^ *- 10\.0\.1\.3:8080 +\(member $A3\) +pool api$" "plan lists the api removal"
unlike "$OUT" "10\.0\.0\.[123]:80 .*member" "plan does not remove declared members"
run_lbr -c "$C" plan --detailed-exitcode
is "$RC" 2 "plan --detailed-exitcode exits 2 with changes pending"
is "$(mutating)" 0 "plan made no mutating call"
is "$(fake_count '.op == "list"')" 4 "two plans listed each pool once"
ok "$([ ! -e "$S" ]; echo $?)" "plan wrote no state"

# apply on a terminal, answer "no".
fake_log_clear
run_pty no -c "$C" apply
is "$RC" 1 "apply answered 'no' exits 1"
like "$OUT" "- 10\.0\.0\.4:80" "the terminal showed the plan"
like "$OUT" "Enter a value:" "the terminal asked for confirmation"
is "$(mutating)" 0 "answering 'no' changed nothing"
is "$(hw_members "$P_WEB" | wc -l)" 4 "web still has 4 members"

# apply --auto-approve: exactly the two DELETEs.
fake_log_clear
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "apply --auto-approve exits 0"
is "$(fake_log | jq -r '[.[] | select(.method != "GET") | "\(.method) \(.path) \(.status)"] | sort | join(",")')" \
	"$(printf 'DELETE %s/%s/members/%s 204,DELETE %s/%s/members/%s 204' "$BASE" "$P_API" "$A3" "$BASE" "$P_WEB" "$W4" |
		tr ',' '\n' | sort | paste -sd, -)" \
	"exactly the two DELETEs, with project, pool and member id"
is "$(fake_count '.method != "GET" and .method != "DELETE"')" 0 "nothing else mutating"
like "$OUT" "2 removed" "summary counts two removals"
is "$(hw_members "$P_WEB" | paste -sd' ' -)" "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80" "web converged"
is "$(hw_members "$P_API" | paste -sd' ' -)" "10.0.1.1:8080 10.0.1.2:8080" "api converged"

# state file
is "$(file_mode "$S")" 600 "state file mode 0600"
is "$(jq .serial "$S")" 1 "serial 1 after the first apply"
is "$(jq .format_version "$S")" 2 "format_version 2"
L=$(jq -r .lineage "$S")
like "$L" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "lineage is a UUID"
st_members() { jq -r --arg p "$1" '.pools[$p].members[] | "\(.id) \(.address):\(.port)"' "$S" | sort | paste -sd' ' -; }
fk_members() { fake_ctl GET "/_fake/hw/pools/$1" | jq -r '.members[] | "\(.id) \(.address):\(.protocol_port)"' | sort | paste -sd' ' -; }
is "$(st_members web)" "$(fk_members "$P_WEB")" "state holds web's members with their ids as observed"
is "$(st_members api)" "$(fk_members "$P_API")" "state holds api's members with their ids as observed"
is "$(jq -r '.pools.web.provider + " " + .pools.web.targets.pool_id' "$S")" "hw $P_WEB" "state records provider and pool id"

# audit log: one line per DELETE, request id = the fake's X-Request-Id
A=$S.log
is "$(wc -l <"$A" | tr -d ' ')" 2 "audit log has one line per DELETE"
is "$(jq -r 'select(.action=="remove") | "\(.pool) \(.member) \(.outcome) \(.request_id)"' "$A" | sort | paste -sd, -)" \
	"$(fake_log | jq -r --arg w "$P_WEB" '.[] | select(.method=="DELETE") |
		"\(if .pool_id == $w then "web" else "api" end) \(.member_id) ok \(.request_id)"' | sort | paste -sd, -)" \
	"audit lines name pool, member, outcome and the cloud's request id"
unlike "$(cat "$A" "$S")" "$HW_SK|$HW_AK" "no credential in state or audit log"

# converged: --detailed-exitcode 0
fake_log_clear
run_lbr -c "$C" plan --detailed-exitcode
is "$RC" 0 "second plan --detailed-exitcode exits 0"
is "$(mutating)" 0 "and made no mutating call"

# --pool web on a terminal, answer "yes": only web is listed and acted on.
W9=$(fake_ctl POST "/_fake/hw/pools/$P_WEB/members" '{"address":"10.0.0.9","protocol_port":80}' | jq -r .id)
A9=$(fake_ctl POST "/_fake/hw/pools/$P_API/members" '{"address":"10.0.1.9","protocol_port":8080}' | jq -r .id)
fake_log_clear
run_pty yes -c "$C" apply --pool web
is "$RC" 0 "apply --pool web answered 'yes' exits 0"
like "$OUT" "- 10\.0\.0\.9:80 +\(member $W9\)" "the plan shown names the web removal"
unlike "$OUT" "10\.0\.1\.9" "the api pool is not in the plan"
is "$(fake_log | jq -r '[.[] | select(.method=="DELETE") | .path] | join(",")')" \
	"$BASE/$P_WEB/members/$W9" "one DELETE, for web's out-of-band member"
is "$(fake_count ".pool_id == \"$P_API\"")" 0 "the api pool was not even listed"
is "$(hw_members "$P_API" | wc -l | tr -d ' ')" 3 "api kept its extra member"

is "$(jq .serial "$S")" 2 "serial 2 after the second apply"
is "$(jq -r .lineage "$S")" "$L" "lineage kept"
ok "$([ -f "$S.backup" ]; echo $?)" ".backup present after the second apply"
is "$(jq .serial "$S.backup" 2>/dev/null)" 1 ".backup holds the previous version"
is "$(jq -r '.pools | keys | join(",")' "$S")" "api,web" "a --pool apply keeps the other pool's state"
is "$(st_members web)" "$(fk_members "$P_WEB")" "web state refreshed"
is "$(wc -l <"$A" | tr -d ' ')" 3 "audit log appended one line"
is "$(tail -n 1 "$A" | jq -r '.member + " " + .request_id')" \
	"$W9 $(fake_log | jq -r '.[] | select(.method=="DELETE") | .request_id')" "appended line matches the DELETE"

# plan --pool api sees the remaining change, web is not touched.
fake_log_clear
run_lbr -c "$C" plan --pool api --detailed-exitcode
is "$RC" 2 "plan --pool api still has a change"
like "$OUT" "- 10\.0\.1\.9:8080 +\(member $A9\)" "plan --pool api names it"
is "$(fake_count ".pool_id == \"$P_WEB\"")" 0 "plan --pool api did not list web"

run_lbr -c "$C" apply --pool nosuch --auto-approve
is "$RC" 1 "apply --pool with an unknown pool exits 1"
like "$ERR" "nosuch" "and names it"

done_testing
