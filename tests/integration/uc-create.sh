#!/bin/sh
# UCloud full membership: AllocateBackend for declared backends that are
# missing (ResourceType=IP with the pool's VPC and subnet), weights set
# with UpdateBackendAttribute, make before break, a duplicate answer
# (RetCode 4109 "already in the VServer") counted as done after a re-read,
# UCloud's weight range 1-100 checked by validate.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/uc-lib.sh"

fake_start
uc_account
VS=vserver-2tggsm1b
uc_vserver $VS HTTP "10.0.1.5:8080=backend-aaaa0001 10.0.1.6:8080=backend-aaaa0002 10.0.1.9:8080=backend-aaaa0009"
cfg() { # cfg EXTRA-POOL-LINES MEMBER...
	local extra=$1
	shift
	{
		printf '[agent]\nstate = st.json\nmax_delete = 100%%\n'
		uc_provider_section
		uc_pool_section api $VS "$@"
		[ -n "$extra" ] && printf '%s\n' "$extra"
	} >"$T/l.ini"
}
uc_calls() { fake_log | jq -c --arg a "$1" '.[] | select(.action == $a)'; }

# validate: what creation needs, and the weight range, without a call.
cfg "create = yes" 10.0.1.5:8080 10.0.1.7:8080
run_lbr -c "$T/l.ini" validate
is "$RC" 1 "create = yes without resource= or vpc_id + subnet_id is refused"
like "$ERR" "10\.0\.1\.7:8080.*resource=.*vpc_id.*subnet_id|vpc_id and subnet_id" "naming what is missing"
cfg "" "10.0.1.5:8080 weight=0"
run_lbr -c "$T/l.ini" validate
is "$RC" 1 "weight=0 is out of UCloud's range"
like "$ERR" "l\.ini:[0-9]+:.*(1-100|1\.\.100)" "with FILE:LINE and the range"
is "$(fake_count 'true')" 0 "validate made no call"

cfg "create = yes
vpc_id = uvnet-abcd1234
subnet_id = subnet-efgh5678" "10.0.1.5:8080 weight=5" 10.0.1.6:8080 "10.0.1.7:8080 weight=3"
run_lbr -c "$T/l.ini" plan --detailed-exitcode
is "$RC" 2 "plan: changes pending"
like "$OUT" '\+ 10\.0\.1\.7:8080 \(create\) weight 3' "plan prints the creation"
like "$OUT" '~ 10\.0\.1\.5:8080 weight 1 -> 5' "plan prints the weight change"
like "$OUT" '- 10\.0\.1\.9:8080' "plan prints the removal"

# The creation is applied, then answered 503: the retry is told 4109
# ("already in the VServer"), which counts as done once the pool is re-read.
fake_ctl POST /_fake/faults '{"cloud":"uc","op":"AllocateBackend","count":1,"applied_then":503}' >/dev/null
fake_log_clear
run_lbr -c "$T/l.ini" apply --auto-approve
is "$RC" 0 "apply exits 0"
is "$(uc_backends $VS | paste -sd' ' -)" "10.0.1.5:8080 10.0.1.6:8080 10.0.1.7:8080" "the VServer holds the declared backends"
is "$(uc_calls AllocateBackend | jq -c '[.status, .applied, .retcode]' | paste -sd' ' -)" "[503,true,null] [200,false,4109]" \
	"AllocateBackend applied (then 503), the retry answered 4109"
is "$(uc_calls AllocateBackend | head -n 1 | jq -c '.params | {ResourceType, ResourceIP, VPCId, SubnetId, Port, Weight, VServerId}')" \
	'{"ResourceType":"IP","ResourceIP":"10.0.1.7","VPCId":"uvnet-abcd1234","SubnetId":"subnet-efgh5678","Port":"8080","Weight":"3","VServerId":"vserver-2tggsm1b"}' \
	"AllocateBackend: an IP backend in the pool's VPC and subnet, its port and weight"
is "$(uc_calls UpdateBackendAttribute | jq -c '.params | {BackendId, Weight}')" \
	'{"BackendId":"backend-aaaa0001","Weight":"5"}' "UpdateBackendAttribute sets the declared weight"
ORDER=$(fake_log | jq -r '[.[] | .action] | join(" ")')
like "$ORDER" '^DescribeVServer( (AllocateBackend|UpdateBackendAttribute))+ DescribeVServer.* ReleaseBackend' \
	"creations and weights, a re-read, then the release (make before break)"
is "$(jq -r 'select(.action=="create") | .outcome' "$T/st.json.log")" \
	"transient
exists" "the audit log has both attempts: transient, then exists"

run_lbr -c "$T/l.ini" plan --detailed-exitcode
is "$RC" 0 "converged"

done_testing
