#!/bin/sh
# Hostile input (issue 4, acceptance 8), part 1: ids from a cloud response
# that would change a request path or query are rejected before any
# request is made with them (the fake accepts any id through its control
# API).  Over-long ids and oversized bodies: rel-hostile-stub.sh; slow
# answers: rel-hostile-slow.sh; broken bodies: rel-hostile-body.sh.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/rel-lib.sh"

fake_start
hw_account
uc_account
C=$T/lbr.ini
HW_POOL=hostile-pool
CLEAN_POOL=clean-pool
{
	printf '[agent]\nstate = st.json\nmax_delete = 100%%\n'
	hw_provider_section
	uc_provider_section
	rel_hw_pool_section web "$HW_POOL" 10.5.1 1 1
	rel_hw_pool_section clean "$CLEAN_POOL" 10.5.9 1 1
	rel_uc_pool_section api vserver-hostile 10.5.2 1 1
} >"$C"
# Guarantee termination even if the agent hangs.
run_lbr_t() {
	timeout 60 "$LBR" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# hw_hostile ID : pool $HW_POOL = declared 10.5.1.1 + an ordinary undeclared
# member + an undeclared member whose id is ID; $CLEAN_POOL has one
# undeclared member.
hw_hostile() {
	fake_ctl POST /_fake/hw/pools "$(jq -nc --arg id "$1" --arg p "$HW_PROJECT" --arg pool "$HW_POOL" \
		'{project_id:$p, pool_id:$pool, members:[
		  {id:"keep-0001", address:"10.5.1.1", protocol_port:80},
		  {id:"extra-0002", address:"10.5.1.2", protocol_port:80},
		  {id:$id, address:"10.5.1.3", protocol_port:80}]}')" >/dev/null
	hw_pool "$CLEAN_POOL" "10.5.9.1:80 10.5.9.2:80"
	rel_uc_vserver vserver-hostile 1 1 10.5.2
	fake_log_clear
}
CTRL=$(printf 'evil\033[2Jid')
NL=$(printf 'evil\nid')

# 1. Huawei: each hostile id.
n=0
for id in '../x' 'a/b' '?' '%2F' 'x?limit=1' '#frag' "$CTRL" "$NL" 'a b' 'é' '..'; do
	n=$((n + 1))
	hw_hostile "$id"
	run_lbr_t -c "$C" apply --auto-approve
	is "$RC" 1 "hw id #$n: apply exits 1"
	like "$ERR" 'pool "web".*(id|ID)' "hw id #$n: stderr names the pool and the bad id"
	like "$ERR" 'pool "web".*malformed id' "hw id #$n: ... as malformed"
	unlike "$ERR" 'pool "(clean|api)"' "hw id #$n: no error for the other pools"
	fake_log >"$T/log.json"
	is "$(jq --arg p "$HW_POOL" '[.[] | select(.method != "GET" and .pool_id == $p)] | length' "$T/log.json")" 0 \
		"hw id #$n: no mutating call on the pool that listed it"
	is "$(jq '[.[] | select(.method == "GET" and (.path | test("/members/")))] | length' "$T/log.json")" 0 \
		"hw id #$n: no request made with any member id"
	is "$(jq --arg p "$CLEAN_POOL" '[.[] | select(.method == "DELETE" and .pool_id == $p and .status == 204)] | length' "$T/log.json")" 1 \
		"hw id #$n: the other pool was still reconciled"
	is "$(printf '%s' "$ERR$OUT" | tr -d '\n' | LC_ALL=C grep -c '[[:cntrl:]]')" 0 \
		"hw id #$n: no raw control character printed"
done
# the plan also refuses to list it as a removal
hw_hostile '../x'
run_lbr_t -c "$C" --json plan --pool web
is "$RC" 1 "plan with a hostile id: exit 1"
is "$(printf '%s' "$OUT" | jq -c '[.pools[0].remove, .summary.errors]')" '[[],1]' \
	"plan --json: no removal, one error"

# 2. UCloud: hostile BackendIds must never reach ReleaseBackend.
uc_hostile() {
	fake_ctl POST /_fake/uc/vservers "$(jq -nc --arg id "$1" --arg proj "$UC_PROJECT" --arg ulb "$REL_ULB" \
		'{project_id:$proj, region:"cn-bj2", ulb_id:$ulb, vserver_id:"vserver-hostile",
		  protocol:"HTTP", policies:[], backends:[
		  {backend_id:"backend-keep0001", private_ip:"10.5.2.1", port:8080},
		  {backend_id:$id, private_ip:"10.5.2.3", port:8080}]}')" >/dev/null
	hw_pool "$HW_POOL" "10.5.1.1:80"
	hw_pool "$CLEAN_POOL" "10.5.9.1:80"
	fake_log_clear
}
n=0
for id in 'x&ULBId=ulb-other' 'backend-a/b' 'a=b' "$CTRL"; do
	n=$((n + 1))
	uc_hostile "$id"
	run_lbr_t -c "$C" apply --auto-approve
	is "$RC" 1 "uc id #$n: apply exits 1"
	like "$ERR" 'pool "api"' "uc id #$n: stderr names the pool"
	is "$(uc_ncalls_rel ReleaseBackend) $(fake_count '.cloud == "uc" and .action != "DescribeVServer"')" "0 0" \
		"uc id #$n: only DescribeVServer was called"
done

done_testing
