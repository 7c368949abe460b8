#!/bin/sh
# Hostile input (issue 4, acceptance 8), part 4: truncated or non-JSON
# listing bodies (on every attempt) are errors, never an empty member
# list: no removal, plan shows an error instead of "missing" members,
# drift exits 1 (not 2), apply exits 1.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/rel-lib.sh"

fake_start
hw_account
uc_account
C=$T/lbr.ini
HW_POOL=body-pool
{
	printf '[agent]\nstate = st.json\nmax_delete = 100%%\n'
	hw_provider_section
	uc_provider_section
	rel_hw_pool_section web "$HW_POOL" 10.5.1 1 1
	rel_uc_pool_section api vserver-body 10.5.2 1 1
} >"$C"
run_lbr_t() {
	timeout 60 "$LBR" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# A good apply first, so that the state holds both pools.
hw_pool "$HW_POOL" "10.5.1.1:80"
rel_uc_vserver vserver-body 1 1 10.5.2
run_lbr_t -c "$C" apply --auto-approve
is "$RC" 0 "baseline apply: exit 0"

for f in garbage truncate; do
	for cloud in hw uc; do
		fake_ctl DELETE /_fake/faults >/dev/null
		hw_pool "$HW_POOL" "10.5.1.1:80 10.5.1.2:80"
		rel_uc_vserver vserver-body 1 2 10.5.2
		fake_ctl POST /_fake/faults "{\"cloud\":\"$cloud\",\"op\":\"list\",\"$f\":true}" >/dev/null
		fake_log_clear
		[ $cloud = hw ] && pool=web || pool=api
		# plan/drift cost a full retry cycle each: checked on hw only
		if [ $cloud = uc ]; then
			:
		elif [ $f = garbage ]; then
			run_lbr_t -c "$C" --json plan --pool $pool
			is "$RC" 1 "$cloud $f: plan exits 1"
			is "$(printf '%s' "$OUT" | jq -c '.pools[0] | [.remove, .missing, (.error != null)]')" \
				'[[],[],true]' "$cloud $f: plan --json shows an error, not an empty pool"
		else
			run_lbr_t -c "$C" --json drift --pool $pool
			is "$RC" 1 "$cloud $f: drift exits 1 (not 2)"
			is "$(printf '%s' "$OUT" | jq -c '.pools[0] | [.remove, .missing, .changed_outside.disappeared, (.error != null)]')" \
				'[[],[],[],true]' "$cloud $f: drift --json: no missing or disappeared members, an error"
		fi
		run_lbr_t -c "$C" apply --auto-approve --pool $pool
		is "$RC" 1 "$cloud $f: apply exits 1"
		like "$ERR" "pool \"$pool\"" "$cloud $f: stderr names the pool"
		is "$(mutating_rel)" 0 "$cloud $f: no removal"
		ok "$([ "$(fake_count '.fault != null')" -ge 2 ]; echo $?)" "$cloud $f: the listing was retried"
	done
done
fake_ctl DELETE /_fake/faults >/dev/null
is "$(jq -c '[.pools[] | .members | length]' "$T/st.json")" '[1,1]' \
	"the state still holds the last good observations (no pool recorded as empty)"

done_testing
