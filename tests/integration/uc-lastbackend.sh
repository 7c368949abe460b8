#!/bin/sh
# UCloud Layer 7: a Custom policy is never emptied.  Removing the only
# backend of a policy is blocked (no UpdatePolicy, no ReleaseBackend for it,
# exit 1 naming the policy); the VServer's other removals still happen.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/uc-lib.sh"

fake_start
uc_account
VS=vserver-http0002
# backend-aaaa0002 (10.0.1.6, undeclared) is the only backend of
# policy-only0001 and one of two in policy-two00001;
# backend-aaaa0003 (10.0.1.7, undeclared) is in no policy.
POLICIES='[{"policy_id":"policy-only0001","type":"Path","match":"/only","priority":5,"backend_ids":["backend-aaaa0002"]},
 {"policy_id":"policy-two00001","type":"Path","match":"/two","priority":2,"backend_ids":["backend-aaaa0002","backend-aaaa0004"]}]'
uc_vserver $VS HTTP "10.0.1.5:8080=backend-aaaa0001 10.0.1.6:8080=backend-aaaa0002 10.0.1.7:8080=backend-aaaa0003 10.0.1.8:8080=backend-aaaa0004 10.0.1.9:8080=backend-aaaa0005" "$POLICIES"
uc_config "$T/l.ini" web $VS 10.0.1.5:8080 10.0.1.8:8080 10.0.1.9:8080
BEFORE_ONLY=$(uc_policy $VS policy-only0001)
BEFORE_TWO=$(uc_policy $VS policy-two00001)

# --- plan reports the block and mutates nothing
run_lbr -c "$T/l.ini" plan --detailed-exitcode
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 2 ]; echo $?)" "plan does not report a blocked removal as a plain pending change (rc=$RC)"
like "$OUT" 'blocked 10\.0\.1\.6:8080.*policy-only0001' "plan shows 10.0.1.6:8080 blocked by policy-only0001"
like "$OUT" '^  - 10\.0\.1\.7:8080 +\(member backend-aaaa0003\)' "plan still removes 10.0.1.7:8080"
unlike "$OUT" '^  - 10\.0\.1\.6:8080' "plan does not list 10.0.1.6:8080 as a removal"
is "$(fake_count '.action != "DescribeVServer"')" 0 "plan makes no mutating call"
run_lbr -c "$T/l.ini" --json plan
is "$(printf '%s\n' "$OUT" | jq -c '.pools[0] | [[.blocked[] | .id], [.remove[] | .id]]')" \
	'[["backend-aaaa0002"],["backend-aaaa0003"]]' "plan --json: backend-aaaa0002 blocked, backend-aaaa0003 removed"

# --- apply
fake_log_clear
run_lbr -c "$T/l.ini" apply --auto-approve
is "$RC" 1 "apply exits 1 when a removal is blocked"
like "$OUT" 'Apply incomplete: 1 removed, .*, 1 blocked, 0 pools refused, 1 errors ' \
	"the summary line counts the blocked removal"
like "$ERR" 'policy-only0001' "stderr names the policy"
like "$ERR" 'pool "web"' "stderr names the pool"
is "$(uc_ncalls UpdatePolicy)" 0 "no UpdatePolicy at all (neither policy is touched)"
is "$(uc_calls ReleaseBackend | jq -r .params.BackendId | tr '\n' ' ')" "backend-aaaa0003 " \
	"the only ReleaseBackend is for the unblocked backend"
is "$(fake_count '.action != "DescribeVServer" and .action != "ReleaseBackend"')" 0 \
	"no other mutating action (no DeletePolicy, no UpdateBackendAttribute)"
is "$(uc_backends $VS | tr '\n' ' ')" "10.0.1.5:8080 10.0.1.6:8080 10.0.1.8:8080 10.0.1.9:8080 " \
	"10.0.1.7 is gone, 10.0.1.6 stays"
is "$(uc_policy $VS policy-only0001)" "$BEFORE_ONLY" "policy-only0001 unchanged"
is "$(uc_policy $VS policy-two00001)" "$BEFORE_TWO" "policy-two00001 unchanged (not stripped of the blocked backend)"
is "$(jq -c '.pools.web.last_apply | {result, removed, errors}' "$T/st.json")" \
	'{"result":"error","removed":1,"errors":1}' "state records the partial apply as an error"
is "$(jq -r '[.action, .member, .outcome] | join(" ")' "$T/st.json.log" | tr '\n' ';')" \
	"remove backend-aaaa0003 ok;" "audit log has only the real removal"

# --- again, and with --force (not a §5 guard): still blocked, nothing else to do
fake_log_clear
run_lbr -c "$T/l.ini" apply --auto-approve --force
is "$RC" 1 "apply --force still exits 1: a Custom policy is never emptied"
like "$ERR" 'policy-only0001' "stderr names the policy again"
is "$(fake_count '.action != "DescribeVServer"')" 0 "no mutating call on the second apply"
is "$(uc_policy $VS policy-only0001)" "$BEFORE_ONLY" "policy-only0001 still unchanged"

# --- drift: the backend the policy keeps is in the cloud, not in the file:
#     drift (exit 2, "drift": true), not an error.
fake_log_clear
run_lbr -c "$T/l.ini" --json drift
is "$RC" 2 "drift with only an L7-blocked removal left: exit 2"
is "$(printf '%s' "$OUT" | jq -c '[.drift, .summary.blocked, .summary.errors]')" '[true,1,0]' \
	"drift --json: drift true, 1 blocked, 0 errors"
run_lbr -c "$T/l.ini" drift
is "$RC" 2 "human drift: exit 2 too"
unlike "$ERR" 'error:' "and no error on stderr"
is "$(fake_count '.action != "DescribeVServer"')" 0 "drift makes no mutating call"

# --- a Custom policy created out of band between observe and act: the
#     cloud refuses the release (RetCode 4110); reported, not retried,
#     and the new policy is not emptied either.
VS4=vserver-http0004
B4="10.0.1.5:8080=backend-dddd0001 10.0.1.6:8080=backend-dddd0002 10.0.1.7:8080=backend-dddd0003"
uc_vserver $VS4 HTTP "$B4"
uc_config "$T/late.ini" late $VS4 10.0.1.5:8080 10.0.1.6:8080
fake_ctl POST /_fake/faults '{"cloud":"uc","op":"ReleaseBackend","delay_ms":1500,"count":1}' >/dev/null
fake_log_clear
$LBR_WRAPPER "$LBR" -c "$T/late.ini" apply --auto-approve >"$T/out" 2>"$T/err" </dev/null &
lbr_pid=$!
i=0
while [ "$(uc_ncalls DescribeVServer)" -lt 1 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
uc_vserver $VS4 HTTP "$B4" '[{"policy_id":"policy-late0001","type":"Path","match":"/late","backend_ids":["backend-dddd0003"]}]'
wait $lbr_pid
RC=$?
ERR=$(cat "$T/err")
is "$RC" 1 "release refused with 4110: apply exits 1"
like "$ERR" 'backend-dddd0003' "stderr names the backend"
like "$ERR" 'RetCode\.4110' "stderr carries RetCode 4110"
is "$(uc_ncalls ReleaseBackend)" 1 "4110 is not retried"
is "$(uc_ncalls UpdatePolicy)" 0 "the late policy is not emptied"
is "$(uc_policy $VS4 policy-late0001 | jq -c .backend_ids)" '["backend-dddd0003"]' "the late policy keeps its backend"
unlike "$(jq -r 'select(.member == "backend-dddd0003") | .outcome' "$T/st.json.log")" '^(ok|not_found|)$' \
	"audit log records the refused release as not done"
fake_ctl DELETE /_fake/faults >/dev/null

done_testing
