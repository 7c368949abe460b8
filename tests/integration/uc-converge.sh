#!/bin/sh
# UCloud / SurferCloud: a TCP VServer (no policies) converges with exactly
# one ReleaseBackend; plan/apply/plan exit codes, state file, audit log.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/uc-lib.sh"

fake_start
uc_account
VS=vserver-2tggsm1b
uc_vserver $VS TCP "10.0.1.5:8080=backend-aaaa0001 10.0.1.6:8080=backend-aaaa0002 10.0.1.7:8080=backend-aaaa0003"
# A SurferCloud account is only a different endpoint: `endpoint = <url>`.
uc_config "$T/l.ini" api $VS 10.0.1.5:8080 10.0.1.6:8080
like "$(cat "$T/l.ini")" "^endpoint += $FAKE_URL\$" "config points the ucloud plugin at the fake"

# --- validate: no network
run_lbr -c "$T/l.ini" validate
is "$RC" 0 "validate exits 0"
is "$(fake_count 'true')" 0 "validate makes no API call"

# --- plan --detailed-exitcode: changes pending, nothing mutated
run_lbr -c "$T/l.ini" plan --detailed-exitcode
is "$RC" 2 "plan --detailed-exitcode exits 2 with a pending removal"
like "$OUT" '^  - 10\.0\.1\.7:8080 +\(member backend-aaaa0003\) +pool api$' "plan lists the undeclared backend"
unlike "$OUT" '10\.0\.1\.[56]:8080' "plan does not list declared backends as removals"
is "$(fake_count '.action != "DescribeVServer"')" 0 "plan only calls DescribeVServer"
is "$(fake_count '.auth != "aksk"')" 0 "every call carries a signature the fake verified"
is "$(uc_calls DescribeVServer | head -n 1 | jq -c '.params | {ULBId, VServerId, Offset, Region, ProjectId}')" \
	'{"ULBId":"ulb-4xq1pxnh","VServerId":"vserver-2tggsm1b","Offset":"0","Region":"cn-bj2","ProjectId":"org-abc123"}' \
	"DescribeVServer names the ULB, the VServer, the region, the project and Offset 0"
is "$(uc_calls DescribeVServer | head -n 1 | jq -r '.params.Limit | test("^[1-9][0-9]*$")')" true \
	"DescribeVServer sends a positive Limit"
is "$(uc_calls DescribeVServer | head -n 1 | jq -r '.params | keys | join(" ")')" \
	"Action Limit Offset ProjectId PublicKey Region Signature ULBId VServerId" \
	"DescribeVServer sends exactly the documented parameters"
ok "$([ ! -e "$T/st.json" ]; echo $?)" "plan writes no state"

# --- apply
fake_log_clear
run_lbr -c "$T/l.ini" apply --auto-approve
is "$RC" 0 "apply exits 0"
like "$OUT" 'Apply complete: 1 removed, 0 already gone' "apply summary counts one removal"
is "$(uc_ncalls ReleaseBackend)" 1 "exactly one ReleaseBackend"
REL=$(uc_calls ReleaseBackend)
is "$(printf '%s\n' "$REL" | uc_params)" \
	'{"Action":"ReleaseBackend","BackendId":"backend-aaaa0003","ProjectId":"org-abc123","Region":"cn-bj2","ULBId":"ulb-4xq1pxnh"}' \
	"ReleaseBackend: exact ULBId, BackendId, Region, ProjectId (nothing else but the signature)"
is "$(printf '%s\n' "$REL" | jq -c '[.auth, .retcode, .applied]')" '["aksk",0,true]' \
	"ReleaseBackend was signed correctly and applied"
is "$(fake_log | jq -r '[.[].action] | join(" ")')" \
	"DescribeVServer ReleaseBackend DescribeVServer" \
	"apply observes, releases, then re-observes"
is "$(uc_backends $VS | tr '\n' ' ')" "10.0.1.5:8080 10.0.1.6:8080 " "the fake VServer keeps only the declared backends"
no_secrets "$OUT$ERR" "no key in apply output"

# --- state file
ST=$T/st.json
is "$(jq -c '[.format_version, .serial, (.lineage | test("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"))]' "$ST")" \
	'[2,1,true]' "state: format_version 2, serial 1, a UUID lineage"
is "$(jq -c '.pools.api | {provider, targets}' "$ST")" \
	'{"provider":"sc","targets":{"ulb_id":"ulb-4xq1pxnh","vserver_id":"vserver-2tggsm1b"}}' \
	"state: provider and target ids"
is "$(jq -c '[.pools.api.members[] | [.id, .address, .port]] | sort' "$ST")" \
	'[["backend-aaaa0001","10.0.1.5",8080],["backend-aaaa0002","10.0.1.6",8080]]' \
	"state: the members as re-observed after the removal"
is "$(jq -c '.pools.api.last_apply | {result, removed, errors}' "$ST")" \
	'{"result":"converged","removed":1,"errors":0}' "state: last apply converged with one removal"
is "$(stat -c %a "$ST")" 600 "state file mode 0600"
no_secrets "$(cat "$ST")" "no key in the state file"
LINEAGE=$(jq -r .lineage "$ST")

# --- audit log: one line for the one mutating call
AUDIT=$T/st.json.log
is "$(wc -l <"$AUDIT" | tr -d ' ')" 1 "audit log has one line"
is "$(jq -c '{pool, provider, member, address, port, action, outcome}' "$AUDIT")" \
	'{"pool":"api","provider":"sc","member":"backend-aaaa0003","address":"10.0.1.7","port":8080,"action":"remove","outcome":"ok"}' \
	"audit line names pool, backend, address, action and outcome"
is "$(jq -r .request_id "$AUDIT")" "$(printf '%s\n' "$REL" | jq -r .request_id)" \
	"audit line carries the X-UCLOUD-REQUEST-UUID of the ReleaseBackend"
like "$(jq -r .time "$AUDIT")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}' "audit line has a timestamp"
no_secrets "$(cat "$AUDIT")" "no key in the audit log"

# --- converged: plan says nothing to do, a second apply changes nothing
fake_log_clear
run_lbr -c "$T/l.ini" plan --detailed-exitcode
is "$RC" 0 "plan --detailed-exitcode exits 0 once converged"
like "$OUT" 'Plan: 0 to remove' "plan shows nothing to remove"
run_lbr -c "$T/l.ini" apply --auto-approve
is "$RC" 0 "second apply exits 0"
is "$(uc_ncalls ReleaseBackend)" 0 "no ReleaseBackend once converged"
is "$(jq -c '[.serial, .lineage]' "$ST")" "[2,\"$LINEAGE\"]" "second apply bumps serial, keeps lineage"
is "$(wc -l <"$AUDIT" | tr -d ' ')" 1 "no audit line without a mutating call"

# --- --json apply events
uc_vserver $VS TCP "10.0.1.5:8080=backend-aaaa0001 10.0.1.6:8080=backend-aaaa0002 10.0.1.9:8080=backend-aaaa0009"
run_lbr -c "$T/l.ini" --json apply --auto-approve
is "$RC" 0 "apply --json exits 0"
is "$(printf '%s\n' "$OUT" | jq -c 'select(.type == "action") | [.action, .id, .address, .port, .outcome]')" \
	'["remove","backend-aaaa0009","10.0.1.9",8080,"ok"]' "--json: one action event for the removal"
is "$(printf '%s\n' "$OUT" | tail -n 1 | jq -c '[.type, .removed, .errors, .exit_code]')" \
	'["summary",1,0,0]' "--json: the last event is the summary"

done_testing
