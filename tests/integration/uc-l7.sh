#!/bin/sh
# UCloud Layer 7: an undeclared backend referenced by two Custom policies.
# Each policy is updated (Type, Match byte-exact, DomainMatchMode,
# PolicyPriority re-sent when it is 1-9999, BackendId.N = the rest) BEFORE
# ReleaseBackend.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/uc-lib.sh"

fake_start
uc_account
VS=vserver-http0001
# Values a naive encoder breaks: UTF-8, '&', '+', '%', '=', spaces.
M_PATH='/api/用户/v1?a=1&b=2 c+d%'
M_DOM='www.例子.com & a+b %41 x=y'
M_OTHER='/static/ü+%2F'
POLICIES=$(jq -nc --arg mp "$M_PATH" --arg md "$M_DOM" --arg mo "$M_OTHER" '[
  {policy_id:"policy-path0001", type:"Path", match:$mp, domain_match_mode:"Regular",
   priority:7, backend_ids:["backend-aaaa0001","backend-aaaa0003"]},
  {policy_id:"policy-dom00001", type:"Domain", match:$md, domain_match_mode:"Wildcard",
   priority:0, backend_ids:["backend-aaaa0003","backend-aaaa0002","backend-aaaa0004"]},
  {policy_id:"policy-other001", type:"Path", match:$mo, domain_match_mode:"Regular",
   priority:3, backend_ids:["backend-aaaa0002"]}]')
uc_vserver $VS HTTP "10.0.1.5:8080=backend-aaaa0001 10.0.1.6:8080=backend-aaaa0002 10.0.1.7:8080=backend-aaaa0003 10.0.1.8:8080=backend-aaaa0004" "$POLICIES"
uc_config "$T/l.ini" web $VS 10.0.1.5:8080 10.0.1.6:8080 10.0.1.8:8080

# --- plan shows the policy updates and mutates nothing
run_lbr -c "$T/l.ini" plan --detailed-exitcode
is "$RC" 2 "plan --detailed-exitcode exits 2"
like "$OUT" 'policy-path0001.*keep backend-aaaa0001$' "plan shows the Path policy keeping backend-aaaa0001"
like "$OUT" 'policy-dom00001.*keep backend-aaaa0002 backend-aaaa0004$' "plan shows the Domain policy keeping the other two"
unlike "$OUT" 'policy-other001' "plan does not touch a policy without the backend"
like "$OUT" '^  - 10\.0\.1\.7:8080 +\(member backend-aaaa0003\)' "plan removes 10.0.1.7:8080"
like "$OUT" 'Plan: 1 to remove, 2 policy updates' "plan summary: 1 removal, 2 policy updates"
is "$(fake_count '.action != "DescribeVServer"')" 0 "plan makes no mutating call"

# --- apply
fake_log_clear
run_lbr -c "$T/l.ini" apply --auto-approve
is "$RC" 0 "apply exits 0"
like "$OUT" '1 removed, 0 already gone, 2 policy updates, 0 failed' "apply summary"
is "$(uc_ncalls UpdatePolicy)" 2 "exactly two UpdatePolicy calls"
is "$(uc_ncalls ReleaseBackend)" 1 "exactly one ReleaseBackend"
is "$(fake_count '.action != "DescribeVServer" and .action != "UpdatePolicy" and .action != "ReleaseBackend"')" 0 \
	"no other action (no DeletePolicy, no UpdateBackendAttribute)"
is "$(fake_log | jq '([.[] | select(.action == "UpdatePolicy") | .seq] | max) < ([.[] | select(.action == "ReleaseBackend") | .seq] | min)')" \
	true "both UpdatePolicy calls come before the ReleaseBackend"
is "$(fake_count '.auth != "aksk" or .retcode != 0')" 0 "every call was signed correctly and succeeded"

UP_PATH=$(uc_calls UpdatePolicy | jq -c 'select(.params.PolicyId == "policy-path0001")')
UP_DOM=$(uc_calls UpdatePolicy | jq -c 'select(.params.PolicyId == "policy-dom00001")')
is "$(printf '%s\n' "$UP_PATH" | uc_params)" \
	"$(jq -ncS --arg m "$M_PATH" '{Action:"UpdatePolicy", ProjectId:"org-abc123", Region:"cn-bj2",
		ULBId:"ulb-4xq1pxnh", VServerId:"vserver-http0001", PolicyId:"policy-path0001",
		Type:"Path", Match:$m, DomainMatchMode:"Regular", PolicyPriority:"7",
		"BackendId.0":"backend-aaaa0001"}')" \
	"Path policy: Type, Match (byte-exact), DomainMatchMode, PolicyPriority 7 re-sent, BackendId.0 = the rest"
is "$(printf '%s\n' "$UP_DOM" | uc_params)" \
	"$(jq -ncS --arg m "$M_DOM" '{Action:"UpdatePolicy", ProjectId:"org-abc123", Region:"cn-bj2",
		ULBId:"ulb-4xq1pxnh", VServerId:"vserver-http0001", PolicyId:"policy-dom00001",
		Type:"Domain", Match:$m, DomainMatchMode:"Wildcard",
		"BackendId.0":"backend-aaaa0002", "BackendId.1":"backend-aaaa0004"}')" \
	"Domain policy: Wildcard mode and UTF-8/&/+/% Match re-sent exactly, its priority 0 not sent (UpdatePolicy takes 1-9999), BackendId.0/.1 = the rest in order"
is "$(uc_calls ReleaseBackend | uc_params)" \
	'{"Action":"ReleaseBackend","BackendId":"backend-aaaa0003","ProjectId":"org-abc123","Region":"cn-bj2","ULBId":"ulb-4xq1pxnh"}' \
	"ReleaseBackend of backend-aaaa0003"

# --- the fake's world afterwards
is "$(uc_backends $VS | tr '\n' ' ')" "10.0.1.5:8080 10.0.1.6:8080 10.0.1.8:8080 " "the VServer keeps the declared backends"
is "$(uc_policy $VS policy-path0001)" \
	"$(jq -nc --arg m "$M_PATH" '{policy_id:"policy-path0001", type:"Path", match:$m,
		domain_match_mode:"Regular", priority:7, backend_ids:["backend-aaaa0001"]}')" \
	"Path policy after apply: same Type/Match/mode/priority, keeps backend-aaaa0001"
is "$(uc_policy $VS policy-dom00001)" \
	"$(jq -nc --arg m "$M_DOM" '{policy_id:"policy-dom00001", type:"Domain", match:$m,
		domain_match_mode:"Wildcard", priority:0, backend_ids:["backend-aaaa0002","backend-aaaa0004"]}')" \
	"Domain policy after apply: same Type/Match/mode, keeps its other two backends"
is "$(uc_policy $VS policy-other001 | jq -c '[.match, .priority, .backend_ids]')" \
	"$(jq -nc --arg m "$M_OTHER" '[$m, 3, ["backend-aaaa0002"]]')" "the unrelated policy is untouched"

# --- audit: the two policy updates and the removal
AUDIT=$T/st.json.log
is "$(jq -r '[.action, .member, .outcome] | join(" ")' "$AUDIT" | sort | tr '\n' ';')" \
	"remove backend-aaaa0003 ok;update_rule policy-dom00001 ok;update_rule policy-path0001 ok;" \
	"audit log: two policy updates and one removal"
is "$(jq -r 'select(.action == "update_rule" and .member == "policy-path0001") | .request_id' "$AUDIT")" \
	"$(printf '%s\n' "$UP_PATH" | jq -r .request_id)" "audit policy line carries the UpdatePolicy request id"

# --- converged
fake_log_clear
run_lbr -c "$T/l.ini" plan --detailed-exitcode
is "$RC" 0 "plan --detailed-exitcode exits 0 after apply"
like "$OUT" 'Plan: 0 to remove, 0 policy updates' "nothing left to do"

# --- a policy update that fails: the backend is not released
VS3=vserver-http0003
uc_vserver $VS3 HTTP "10.0.1.5:8080=backend-cccc0001 10.0.1.6:8080=backend-cccc0002 10.0.1.7:8080=backend-cccc0003 10.0.1.8:8080=backend-cccc0004" \
	'[{"policy_id":"policy-fail0001","type":"Path","match":"/a","priority":4,"backend_ids":["backend-cccc0001","backend-cccc0003"]}]'
uc_config "$T/f.ini" web3 $VS3 10.0.1.5:8080 10.0.1.6:8080 10.0.1.8:8080
# RetCode 230 (invalid parameter) is not transient: no retry.
fake_ctl POST /_fake/faults '{"cloud":"uc","op":"UpdatePolicy","retcode":230}' >/dev/null
fake_log_clear
run_lbr -c "$T/f.ini" apply --auto-approve
is "$RC" 1 "failed policy update: apply exits 1"
like "$ERR" 'policy-fail0001' "stderr names the policy"
like "$ERR" 'RetCode\.230' "stderr carries the RetCode"
is "$(uc_ncalls UpdatePolicy)" 1 "a non-transient RetCode is not retried"
is "$(uc_ncalls ReleaseBackend)" 0 "no ReleaseBackend after its policy update failed"
is "$(uc_backends $VS3 | tr '\n' ' ')" "10.0.1.5:8080 10.0.1.6:8080 10.0.1.7:8080 10.0.1.8:8080 " \
	"the VServer is unchanged"
fake_ctl DELETE /_fake/faults >/dev/null

done_testing
