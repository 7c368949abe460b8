#!/bin/sh
# Streaming apply (agent/stream.c): without a confirmation to ask, a pool is
# acted on as soon as its plan, and every plan before it in the file, is
# out; a slow pool later in the file does not hold it back, one earlier in
# the file does.  The output reads as before: plans in file order, the
# "Plan:" line, the summary.  The fake's `pause` fault holds every UCloud
# listing until the test releases it, so each step waits for an event.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/uc-lib.sh"

fake_start
hw_account
uc_account
POOL=5a9a3e9e-d1aa-448e-af37-a70171f2a332
VS=vserver-2tggsm1b

setup_world() {
	hw_pool $POOL "10.0.0.11:80 10.0.0.12:80 10.0.0.19:80"
	uc_vserver $VS TCP "10.0.1.5:8080=backend-aaaa0001 10.0.1.6:8080=backend-aaaa0002 10.0.1.7:8080=backend-aaaa0003"
}

# write_cfg FILE ORDER: ORDER "hw-first" or "uc-first"
write_cfg() {
	{
		printf '[agent]\nstate = st.json\nparallelism = 4\n'
		hw_provider_section
		uc_provider_section
		# The held listing must outlast a busy machine, not time out.
		printf 'timeout = 300\n'
		if [ "$2" = uc-first ]; then
			uc_pool_section api $VS 10.0.1.5:8080 10.0.1.6:8080
		fi
		printf '[pool web]\nprovider = hw\npool_id = %s\nmember = 10.0.0.11:80\nmember = 10.0.0.12:80\n' $POOL
		if [ "$2" = hw-first ]; then
			uc_pool_section api $VS 10.0.1.5:8080 10.0.1.6:8080
		fi
	} >"$1"
}

# wait_until JQ-FILTER-ON-LOG DESCRIPTION: up to 60 s for the fake's log
wait_log() {
	i=0
	while [ "$(fake_count "$1")" -lt 1 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	ok "$([ "$(fake_count "$1")" -ge 1 ]; echo $?)" "$2"
}
wait_paused() {
	i=0
	while [ "$(fake_ctl GET /_fake/settings | jq .paused_now)" -lt 1 ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	is "$(fake_ctl GET /_fake/settings | jq .paused_now)" 1 "$1"
}
seq_of() { fake_log | jq "[.[] | select($1) | .seq] | ${2:-min}"; }

# --- 1. the Huawei pool comes first: it is acted on while UCloud is held
setup_world
write_cfg "$T/a.ini" hw-first
fake_log_clear
fake_ctl POST /_fake/faults '{"cloud":"uc","op":"list","pause":true,"count":1}' >/dev/null
"$LBR" -c "$T/a.ini" apply --auto-approve >"$T/a.out" 2>"$T/a.err" </dev/null &
AGENT=$!
wait_paused "the UCloud listing is held by the fake"
wait_log '.cloud == "hw" and .method == "DELETE"' \
	"the Huawei removal is sent while the UCloud pool is still being listed"
is "$(fake_count '.cloud == "uc"')" 0 "meanwhile no UCloud call has been answered"
is "$(fake_ctl GET /_fake/settings | jq .paused_now)" 1 "and the UCloud listing is still held"
is "$(hw_members $POOL | tr '\n' ' ')" "10.0.0.11:80 10.0.0.12:80 " "the Huawei pool converged before UCloud answered"
is "$(grep -c '^pool "web"' "$T/a.out")" 1 "web's plan is already on stdout (flushed before its removal)"
is "$(grep -c '^pool "api"\|^Plan:' "$T/a.out")" 0 "api's plan and the Plan: line are not (api is still being listed)"
fake_ctl POST /_fake/release >/dev/null
wait "$AGENT"
is "$?" 0 "apply exits 0"
is "$(uc_backends $VS | tr '\n' ' ')" "10.0.1.5:8080 10.0.1.6:8080 " "then the UCloud pool converged"
OUT=$(cat "$T/a.out")
# The output is the plan in file order, the counts, the summary.
is "$(grep -E '^pool |^Plan:|^Apply complete' "$T/a.out" | cut -c1-12 | tr '\n' '|')" \
	'pool "web" (|pool "api" (|Plan: 2 to r|Apply comple|' \
	"stdout: web's plan, api's plan, the Plan: line, the summary, in that order"
like "$OUT" '10\.0\.0\.19:80 .*pool web' "web's plan names its removal"
like "$OUT" '10\.0\.1\.7:8080 .*pool api' "api's plan names its removal"
like "$OUT" 'Apply complete: 2 removed' "both removals counted"
is "$(jq -c '[.pools[].last_apply.result] | unique' "$T/st.json")" '["converged"]' "state: both pools converged"
is "$(fake_count '.cloud == "hw" and .method == "DELETE"')" 1 "one Huawei DELETE"
is "$(uc_ncalls ReleaseBackend)" 1 "one ReleaseBackend"

# --- 2. the UCloud pool comes first: the Huawei pool waits for its plan
setup_world
write_cfg "$T/b.ini" uc-first
rm -f "$T/st.json"
fake_log_clear
fake_ctl POST /_fake/faults '{"cloud":"uc","op":"list","pause":true,"count":1}' >/dev/null
"$LBR" -c "$T/b.ini" apply --auto-approve >"$T/b.out" 2>"$T/b.err" </dev/null &
AGENT=$!
wait_paused "the UCloud listing is held again"
wait_log '.cloud == "hw" and .method == "GET"' "the Huawei pool was listed meanwhile"
# Nothing to wait for here: what must not happen is a removal.  Give the
# agent a moment to do it if it were going to (a busy machine only makes
# this check weaker, never wrong).
sleep 1
is "$(fake_count '.method == "DELETE"')" 0 "no Huawei removal while the plan before it is unknown"
is "$(wc -c <"$T/b.out" | tr -d ' ')" 0 "and nothing printed yet (the first plan in the file is unknown)"
fake_ctl POST /_fake/release >/dev/null
wait "$AGENT"
is "$?" 0 "apply exits 0"
ok "$([ "$(seq_of '.cloud == "uc" and .action == "DescribeVServer"')" -lt "$(seq_of '.cloud == "hw" and .method == "DELETE"')" ]; echo $?)" \
	"the Huawei removal came after the UCloud pool's listing was answered"
is "$(grep -E '^pool ' "$T/b.out" | cut -c1-10 | tr '\n' '|')" 'pool "api"|pool "web"|' "stdout: plans in file order"
is "$(hw_members $POOL | tr '\n' ' ')" "10.0.0.11:80 10.0.0.12:80 " "Huawei pool converged"
is "$(uc_backends $VS | tr '\n' ' ')" "10.0.1.5:8080 10.0.1.6:8080 " "UCloud VServer converged"

# --- 3. --json: each pool's plan event comes before its actions, plans in
# file order, the summary last
setup_world
rm -f "$T/st.json"
fake_log_clear
run_lbr -c "$T/a.ini" --json apply --auto-approve
is "$RC" 0 "apply --json exits 0"
printf '%s\n' "$OUT" >"$T/ev.json"
is "$(jq -r 'select(.type == "plan") | .pool' "$T/ev.json" | tr '\n' ' ')" "web api " "plan events in file order"
is "$(jq -s -r '[to_entries[] | select(.value.type == "plan" or .value.type == "action") |
	"\(.value.type):\(.value.pool)"] | . as $a |
	[range(length) | select($a[.] | startswith("action:")) |
	 . as $i | ($a | index("plan:" + ($a[$i] | ltrimstr("action:")))) < $i] | all' "$T/ev.json")" \
	true "every action event follows its pool's plan event"
is "$(jq -s -r '.[-1].type' "$T/ev.json")" summary "the summary is the last event"
is "$(jq -s '[.[] | select(.type == "action")] | length' "$T/ev.json")" 2 "two action events"
json_valid event "$OUT" "every event matches the event schema"

# --- 4. a pool with a creation keeps make-before-break (not streamed): its
# creation is verified before its removal, as in every apply
hw_pool $POOL "10.0.0.11:80 10.0.0.19:80"
{
	printf '[agent]\nstate = st.json\n'
	hw_provider_section
	printf '[pool web]\nprovider = hw\npool_id = %s\ncreate = yes\nsubnet_id = %s\nmember = 10.0.0.11:80\nmember = 10.0.0.12:80\n' \
		$POOL 7bd8e4a2-0000-4000-8000-00000000abcd
} >"$T/c.ini"
fake_log_clear
run_lbr -c "$T/c.ini" apply --auto-approve
is "$RC" 0 "create + remove: exit 0"
ok "$([ "$(seq_of '.method == "POST"')" -lt "$(seq_of '.method == "DELETE"')" ]; echo $?)" \
	"the creation came before the removal"
CREATE=$(seq_of '.method == "POST"')
DELETE=$(seq_of '.method == "DELETE"')
ok "$([ "$(fake_log | jq --argjson c "$CREATE" --argjson d "$DELETE" '[.[] | select(.method == "GET" and .seq > $c and .seq < $d)] | length')" -ge 1 ]; echo $?)" \
	"and a listing between them verified the creation"
is "$(hw_members $POOL | tr '\n' ' ')" "10.0.0.11:80 10.0.0.12:80 " "the pool converged"

# --- 5. a pool that streams and one that does not: the one left for round
# 1 (a creation) is listed again after the other's work, just before it acts
hw_pool $POOL "10.0.0.11:80 10.0.0.12:80 10.0.0.19:80"
POOL2=7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f
hw_pool $POOL2 "10.0.2.1:80"
{
	printf '[agent]\nstate = st.json\n'
	hw_provider_section
	printf '[pool web]\nprovider = hw\npool_id = %s\nmember = 10.0.0.11:80\nmember = 10.0.0.12:80\n' $POOL
	printf '[pool grow]\nprovider = hw\npool_id = %s\ncreate = yes\nsubnet_id = %s\nmember = 10.0.2.1:80\nmember = 10.0.2.2:80\n' \
		$POOL2 7bd8e4a2-0000-4000-8000-00000000abcd
} >"$T/d.ini"
rm -f "$T/st.json"
fake_log_clear
run_lbr -c "$T/d.ini" apply --auto-approve
is "$RC" 0 "streamed + round-1 pools: exit 0"
GROW_POST=$(seq_of ".method == \"POST\" and .pool_id == \"$POOL2\"")
WEB_DEL=$(seq_of ".method == \"DELETE\" and .pool_id == \"$POOL\"")
is "$(fake_log | jq --argjson p "$GROW_POST" --arg id "$POOL2" '[.[] | select(.method == "GET" and .pool_id == $id and .seq < $p)] | length')" 2 \
	"the pool left for round 1 was listed twice before its creation"
ok "$([ "$(fake_log | jq --argjson p "$GROW_POST" --arg id "$POOL2" '[.[] | select(.method == "GET" and .pool_id == $id and .seq < $p) | .seq] | max')" -gt "$WEB_DEL" ]; echo $?)" \
	"the second time after the streamed pool's removal"
is "$(hw_members $POOL2 | tr '\n' ' ')" "10.0.2.1:80 10.0.2.2:80 " "the created member is there"
is "$(hw_members $POOL | tr '\n' ' ')" "10.0.0.11:80 10.0.0.12:80 " "and the other pool converged"

done_testing
