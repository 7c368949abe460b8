#!/bin/sh
# One config, two clouds: a Huawei ELB pool and a UCloud VServer converge
# in one apply; both clouds' calls are logged; the state holds both pools.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/uc-lib.sh"

fake_start
hw_account
uc_account
POOL=5a9a3e9e-d1aa-448e-af37-a70171f2a332
VS=vserver-2tggsm1b
hw_pool $POOL "10.0.0.11:80 10.0.0.12:80 10.0.0.19:80"
HW_GONE=$(hw_member_id $POOL 10.0.0.19 80)
uc_vserver $VS TCP "10.0.1.5:8080=backend-aaaa0001 10.0.1.6:8080=backend-aaaa0002 10.0.1.7:8080=backend-aaaa0003"
{
	printf '[agent]\nstate = st.json\n'
	hw_provider_section
	uc_provider_section
	printf '[pool web]\nprovider = hw\npool_id = %s\nmember = 10.0.0.11:80\nmember = 10.0.0.12:80\n' $POOL
	uc_pool_section api $VS 10.0.1.5:8080 10.0.1.6:8080
} >"$T/l.ini"

run_lbr -c "$T/l.ini" validate
is "$RC" 0 "mixed config validates"

# --- plan for one pool only touches that cloud
run_lbr -c "$T/l.ini" plan --pool api --detailed-exitcode
is "$RC" 2 "plan --pool api: changes pending"
is "$(fake_log | jq -r '[.[].cloud] | unique | join(" ")')" "uc" "plan --pool api only talks to UCloud"
unlike "$OUT" 'pool web' "plan --pool api does not show the Huawei pool"

# --- plan for both
fake_log_clear
run_lbr -c "$T/l.ini" plan --detailed-exitcode
is "$RC" 2 "plan: changes pending in both clouds"
like "$OUT" "10\\.0\\.0\\.19:80 +\\(member $HW_GONE\\) +pool web" "plan lists the Huawei member"
like "$OUT" '10\.0\.1\.7:8080 +\(member backend-aaaa0003\) +pool api' "plan lists the UCloud backend"
like "$OUT" 'Plan: 2 to remove' "plan: two removals"

# --- apply both in one run
fake_log_clear
run_lbr -c "$T/l.ini" apply --auto-approve
is "$RC" 0 "apply exits 0"
like "$OUT" 'Apply complete: 2 removed' "apply summary: two removed"
is "$(fake_count '.cloud == "hw" and .method == "DELETE"')" 1 "one Huawei DELETE"
is "$(fake_log | jq -r '.[] | select(.cloud == "hw" and .method == "DELETE") | [.path, .auth, .status] | join(" ")')" \
	"/v2/$HW_PROJECT/elb/pools/$POOL/members/$HW_GONE aksk 204" \
	"the Huawei DELETE names the undeclared member, signed, 204"
is "$(uc_calls ReleaseBackend | uc_params)" \
	'{"Action":"ReleaseBackend","BackendId":"backend-aaaa0003","ProjectId":"org-abc123","Region":"cn-bj2","ULBId":"ulb-4xq1pxnh"}' \
	"the UCloud ReleaseBackend names the undeclared backend"
is "$(fake_count '.cloud == "uc" and .action != "DescribeVServer" and .action != "ReleaseBackend"')" 0 \
	"no other UCloud mutation"
is "$(fake_count '.cloud == "hw" and .method != "GET" and .method != "DELETE"')" 0 "no other Huawei mutation"
is "$(fake_count '.auth != "aksk"')" 0 "every call to both clouds was correctly signed"
is "$(hw_members $POOL | tr '\n' ' ')" "10.0.0.11:80 10.0.0.12:80 " "Huawei pool converged"
is "$(uc_backends $VS | tr '\n' ' ')" "10.0.1.5:8080 10.0.1.6:8080 " "UCloud VServer converged"

# --- state and audit hold both
ST=$T/st.json
is "$(jq -r '.pools | keys | join(" ")' "$ST")" "api web" "state has both pools"
is "$(jq -c '[.pools.web.provider, .pools.api.provider]' "$ST")" '["hw","sc"]' "state: each pool's provider"
is "$(jq -c '.pools.web.targets' "$ST")" "{\"pool_id\":\"$POOL\"}" "state: Huawei target"
is "$(jq -c '.pools.api.targets' "$ST")" '{"ulb_id":"ulb-4xq1pxnh","vserver_id":"vserver-2tggsm1b"}' "state: UCloud targets"
is "$(jq -c '[.pools.web.members[] | "\(.address):\(.port)"] | sort' "$ST")" '["10.0.0.11:80","10.0.0.12:80"]' \
	"state: Huawei members"
is "$(jq -c '[.pools.api.members[] | .id] | sort' "$ST")" '["backend-aaaa0001","backend-aaaa0002"]' \
	"state: UCloud backend ids"
is "$(jq -c '[.pools[].last_apply.result] | unique' "$ST")" '["converged"]' "state: both converged"
is "$(jq -r '"\(.pool) \(.provider) \(.member) \(.action) \(.outcome)"' "$T/st.json.log" | sort | tr '\n' ';')" \
	"api sc backend-aaaa0003 remove ok;web hw $HW_GONE remove ok;" "audit log: one removal per cloud"
unlike "$(cat "$ST" "$T/st.json.log")$OUT$ERR" "$HW_SK|$UC_PRIV" "no secret of either cloud in output, state or audit"

# --- converged
fake_log_clear
run_lbr -c "$T/l.ini" plan --detailed-exitcode
is "$RC" 0 "plan --detailed-exitcode exits 0 after apply"
is "$(fake_log | jq -r '[.[].cloud] | unique | join(" ")')" "hw uc" "that plan observed both clouds"

done_testing
