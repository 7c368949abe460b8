#!/bin/sh
# Hostile input (issue 4, acceptance 8), part 3: answers slower than the
# provider's `timeout` are abandoned cleanly (exit 1, bounded retries, no
# hang), and a removal whose answer was too slow is retried and counted
# done whichever attempt the cloud executed.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/rel-lib.sh"

fake_start
hw_account
HW_POOL=slow-pool
hw_pool "$HW_POOL" "10.5.1.1:80 10.5.1.2:80"
run_lbr_t() {
	timeout 60 "$LBR" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# 1. A listing slower than the provider timeout (timeout = 2, 5 s delay).
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

# 2. One slow DELETE: abandoned after 2 s and retried; the removal counts
# as done whichever attempt the cloud executed.
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"delete","count":1,"delay_ms":5000}' >/dev/null
run_lbr_t -c "$T/slow.ini" apply --auto-approve
is "$RC" 0 "one slow DELETE: retried, exit 0"
is "$(hw_members "$HW_POOL")" "10.5.1.1:80" "pool converged"
fake_ctl DELETE /_fake/faults >/dev/null
done_testing
