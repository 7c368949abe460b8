#!/bin/sh
# Hostile input (issue 4, acceptance 8): ids from a cloud response that
# would change a request path or query are rejected before any request;
# a response over the 64 MiB cap is abandoned; a response slower than the
# provider's timeout is abandoned cleanly; truncated or non-JSON bodies are
# errors, never an empty member list.
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
	fake_log_clear
}
LONG=$(printf '%0129d' 0 | tr 0 a)
CTRL=$(printf 'evil\033[2Jid')
NL=$(printf 'evil\nid')

# 1. Huawei: each hostile id.
n=0
for id in '../x' 'a/b' '?' '%2F' 'x?limit=1' '#frag' "$CTRL" "$NL" "$LONG" 'a b' 'é'; do
	n=$((n + 1))
	hw_hostile "$id"
	run_lbr_t -c "$C" apply --auto-approve
	is "$RC" 1 "hw id #$n: apply exits 1"
	like "$ERR" 'pool "web".*(id|ID)' "hw id #$n: stderr names the pool and the bad id"
	is "$(fake_count ".method != \"GET\" and .pool_id == \"$HW_POOL\"")" 0 \
		"hw id #$n: no mutating call on the pool that listed it"
	is "$(fake_count ".method == \"GET\" and (.path | test(\"/members/\"))")" 0 \
		"hw id #$n: no request made with any member id"
	is "$(fake_count ".method == \"DELETE\" and .pool_id == \"$CLEAN_POOL\" and .status == 204")" 1 \
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
for id in 'x&ULBId=ulb-other' 'backend-a/b' 'a=b' "$LONG" "$CTRL"; do
	n=$((n + 1))
	uc_hostile "$id"
	run_lbr_t -c "$C" apply --auto-approve
	is "$RC" 1 "uc id #$n: apply exits 1"
	like "$ERR" 'pool "api"' "uc id #$n: stderr names the pool"
	is "$(uc_ncalls_rel ReleaseBackend) $(fake_count '.cloud == "uc" and .action != "DescribeVServer"')" "0 0" \
		"uc id #$n: only DescribeVServer was called"
done

# 3. A listing larger than the 64 MiB cap (9 members with 8 MiB names).
hw_pool "$CLEAN_POOL" "10.5.9.1:80"
uc_hostile backend-extra001
hw_pool "$HW_POOL" "10.5.1.1:80"
python3 - "$T" <<'EOF'
import json, sys
name = "x" * (8 << 20)
for i in range(1, 10):
    with open("%s/big%d.json" % (sys.argv[1], i), "w") as f:
        json.dump({"address": "10.5.1.%d" % (10 + i), "protocol_port": 80,
                   "subnet_id": "s", "name": name}, f)
EOF
i=1
while [ $i -le 9 ]; do
	curl -sS --max-time 20 -o /dev/null -H 'Content-Type: application/json' \
		--data-binary @"$T/big$i.json" "$FAKE_URL/_fake/hw/pools/$HW_POOL/members"
	rm -f "$T/big$i.json"
	i=$((i + 1))
done
is "$(hw_members "$HW_POOL" | wc -l)" 10 "setup: a pool whose listing is about 72 MiB"
fake_log_clear
run_lbr_t -c "$C" apply --auto-approve --pool web
is "$RC" 1 "oversized listing: exit 1"
like "$ERR" 'pool "web".*larger than 67108864 bytes' "stderr names the pool and the cap"
is "$(mutating_rel)" 0 "no DELETE"
ok "$([ "$(fake_count '.op == "list"')" -le 6 ]; echo $?)" "a bounded number of listings"
hw_pool "$HW_POOL" "10.5.1.1:80 10.5.1.2:80"

# 4. A listing slower than the provider timeout (timeout = 2, 5 s delay).
{
	printf '[agent]\nstate = st.json\n'
	hw_provider_section
	echo "timeout = 2"
	rel_hw_pool_section web "$HW_POOL" 10.5.1 1 1
} >"$T/slow.ini"
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"list","delay_ms":5000}' >/dev/null
fake_log_clear
T0=$(now_ms)
run_lbr_t -c "$T/slow.ini" apply --auto-approve
EL=$(($(now_ms) - T0))
is "$RC" 1 "slow listing: exit 1"
like "$ERR" 'pool "web".*timed out' "stderr says the listing timed out"
ok "$([ "$EL" -ge 2000 ] && [ "$EL" -lt 30000 ]; echo $?)" "abandoned after the timeout, no hang ($EL ms)"
sleep 1
is "$(mutating_rel)" 0 "no DELETE"
ok "$([ "$(fake_count '.op == "list"')" -le 6 ]; echo $?)" "a bounded number of listings"
is "$(hw_members "$HW_POOL" | wc -l)" 2 "nothing removed"
fake_ctl DELETE /_fake/faults >/dev/null

# 4b. One slow DELETE: abandoned after 2 s and retried; the removal counts
# as done whichever attempt the cloud executed.
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"delete","count":1,"delay_ms":5000}' >/dev/null
run_lbr_t -c "$T/slow.ini" apply --auto-approve
is "$RC" 0 "one slow DELETE: retried, exit 0"
is "$(hw_members "$HW_POOL")" "10.5.1.1:80" "pool converged"
fake_ctl DELETE /_fake/faults >/dev/null
sleep 3

# 5. Truncated / non-JSON bodies on every listing: errors, no removal.
hw_pool "$HW_POOL" "10.5.1.1:80 10.5.1.2:80"
for f in garbage truncate; do
	for cloud in hw uc; do
		fake_ctl DELETE /_fake/faults >/dev/null
		uc_hostile backend-extra001
		hw_pool "$HW_POOL" "10.5.1.1:80 10.5.1.2:80"
		fake_ctl POST /_fake/faults "{\"cloud\":\"$cloud\",\"op\":\"list\",\"$f\":true}" >/dev/null
		fake_log_clear
		[ $cloud = hw ] && pool=web || pool=api
		run_lbr_t -c "$C" --json plan --pool $pool
		is "$RC" 1 "$cloud $f: plan exits 1"
		is "$(printf '%s' "$OUT" | jq -c '.pools[0] | [.remove, .missing, (.error != null)]')" \
			'[[],[],true]' "$cloud $f: plan --json shows an error, not an empty pool"
		run_lbr_t -c "$C" drift --pool $pool
		is "$RC" 1 "$cloud $f: drift exits 1 (not 2)"
		run_lbr_t -c "$C" apply --auto-approve --pool $pool
		is "$RC" 1 "$cloud $f: apply exits 1"
		like "$ERR" "pool \"$pool\"" "$cloud $f: stderr names the pool"
		is "$(mutating_rel)" 0 "$cloud $f: no removal"
		ok "$([ "$(fake_count '.fault != null')" -ge 2 ]; echo $?)" "$cloud $f: the listing was retried"
	done
done
fake_ctl DELETE /_fake/faults >/dev/null
# the state never recorded an empty observation
ok "$([ ! -e "$T/st.json" ] || [ "$(jq '[.pools[] | select((.members | length) == 0)] | length' "$T/st.json")" = 0 ]; echo $?)" \
	"no pool recorded as empty in the state"

done_testing
