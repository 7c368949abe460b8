#!/bin/sh
# --metrics-file (Prometheus text, written atomically) and the JSON event
# stream of `apply --json` (one object per line, documented schema).
. "$top_srcdir/tests/lib.sh"
fake_start
hw_account
P1=5a9a3e9e-d1aa-448e-af37-a70171f2a332
hw_pool $P1 "10.0.0.1:80 10.0.0.2:80 10.0.0.8:80 10.0.0.9:80"
cd "$T"
{
	printf '[agent]\nstate = st.json\n'
	hw_provider_section
	printf '[pool web]\nprovider = hw\npool_id = %s\nmember = 10.0.0.1:80\nmember = 10.0.0.2:80\nmember = 10.0.0.3:80\n' "$P1"
} >l.ini
# One transient failure so that a retry event and retry counter appear.
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"delete","status":503,"count":1}' >/dev/null

run_lbr -c l.ini --metrics-file m.prom plan --detailed-exitcode
is "$RC" 2 "plan with --metrics-file: changes pending"
ok $([ -f m.prom ] && [ ! -e m.prom.tmp ] && echo 0 || echo 1) "metrics file written, no temp file left"
like "$(cat m.prom)" '^lbreconcile_pool_drift\{pool="web",provider="hw"\} 1$' "plan: pool drift 1"
like "$(cat m.prom)" '^lbreconcile_last_pass_success\{command="plan"\} 1$' "plan with pending changes is a successful pass"

run_lbr -c l.ini --json --metrics-file m.prom apply --auto-approve
is "$RC" 0 "apply --json exits 0"
# Every line is one JSON object with format_version 1, a type and a time.
n_lines=$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')
n_valid=$(printf '%s\n' "$OUT" | jq -c 'select(.format_version == 1 and (.type | type) == "string" and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")))' | wc -l | tr -d ' ')
is "$n_valid" "$n_lines" "all $n_lines event lines are valid JSON objects with format_version, type and time"
# The two removals run concurrently, so the middle events may interleave.
types=$(printf '%s\n' "$OUT" | jq -r .type | tr '\n' ' ')
like "$types" '^observe plan (retry |action ){3}observe summary $' \
	"event order: observe, plan, then retry and actions, observe (verify), summary ($types)"
is "$(printf '%s\n' "$OUT" | jq -r .type | sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' ')" \
	"action=2 observe=2 plan=1 retry=1 summary=1 " "one retry and two actions"
is "$(printf '%s\n' "$OUT" | jq -c 'select(.type=="plan") | [.pool, (.remove|map(.address+":"+(.port|tostring))), (.missing|map(.address))]')" \
	'["web",["10.0.0.8:80","10.0.0.9:80"],["10.0.0.3"]]' "plan event lists removals and missing members"
is "$(printf '%s\n' "$OUT" | jq -r 'select(.type=="retry") | [.operation, .outcome, (.http_status|tostring), .attempt] | join(" ")')" \
	"remove transient 503 1" "retry event: operation, outcome, status, attempt"
reqids=$(fake_log | jq -r '[.[] | select(.method=="DELETE" and .status==204) | .request_id] | sort | join(" ")')
is "$(printf '%s\n' "$OUT" | jq -r '[select(.type=="action" and .outcome=="ok") | .request_id] | .[]' | sort | tr '\n' ' ' | sed 's/ $//')" \
	"$reqids" "action events carry the cloud's request ids"
summary=$(printf '%s\n' "$OUT" | tail -n 1)
is "$(printf '%s' "$summary" | jq -c '[.type, .removed, .missing, .errors, .exit_code, .api_calls]')" \
	'["summary",2,1,0,0,5]' "the last line is the summary (2 removed, 1 missing, 5 API calls)"
is "$(printf '%s' "$summary" | jq 'has("pools") and has("already_gone") and has("failed") and has("policy_updates") and has("blocked") and has("refused")')" \
	true "summary has every documented field"

M=$(cat m.prom)
like "$M" '^lbreconcile_last_pass_success\{command="apply"\} 1$' "apply success"
like "$M" '^lbreconcile_last_pass_exit_code\{command="apply"\} 0$' "apply exit code"
like "$M" '^lbreconcile_pool_members_removed\{pool="web",provider="hw"\} 2$' "removed per pool"
like "$M" '^lbreconcile_pool_members_missing\{pool="web",provider="hw"\} 1$' "missing per pool"
like "$M" '^lbreconcile_pool_drift\{pool="web",provider="hw"\} 1$' "drift per pool (a member is still missing)"
like "$M" '^lbreconcile_api_calls_total\{provider="hw",operation="remove",outcome="transient"\} 1$' "calls by outcome: the 503"
like "$M" '^lbreconcile_api_calls_total\{provider="hw",operation="remove",outcome="ok"\} 2$' "calls by outcome: the removals"
like "$M" '^lbreconcile_api_calls_total\{provider="hw",operation="list",outcome="ok"\} 2$' "calls by outcome: observe + verify"
like "$M" '^lbreconcile_api_retries_total\{provider="hw"\} 1$' "retries"
like "$M" '^lbreconcile_api_throttled_total\{provider="hw"\} 0$' "throttled"
# The whole file parses as the Prometheus text format: HELP/TYPE pairs and samples.
bad=$(printf '%s\n' "$M" | grep -Ev '^# (HELP|TYPE) lbreconcile_[a-z_]+ .+$|^lbreconcile_[a-z_]+\{([a-z_]+="[^"]*",?)+\} -?[0-9]+(\.[0-9]+)?$' | head -3)
is "$bad" "" "every line is a HELP/TYPE comment or a sample"
start=$(printf '%s\n' "$M" | sed -n 's/^lbreconcile_last_pass_start_timestamp_seconds{command="apply"} //p')
end=$(printf '%s\n' "$M" | sed -n 's/^lbreconcile_last_pass_end_timestamp_seconds{command="apply"} //p')
ok $(awk -v s="$start" -v e="$end" -v now="$(date +%s)" 'BEGIN { exit !(s > now - 60 && e >= s && e <= now + 1) }'; echo $?) \
	"pass timestamps are recent and ordered ($start .. $end)"

# A failing pass is recorded as such.
HW_SK=wrong-secret-key run_lbr -c l.ini --metrics-file m.prom plan
is "$RC" 1 "plan with bad credentials exits 1"
like "$(cat m.prom)" '^lbreconcile_last_pass_success\{command="plan"\} 0$' "failed pass: success 0"
like "$(cat m.prom)" '^lbreconcile_pool_errors\{pool="web",provider="hw"\} 1$' "failed pass: pool error"
like "$(cat m.prom)" '^lbreconcile_pool_members_observed\{pool="web",provider="hw"\} -1$' "failed pass: not observed"
# An unwritable metrics path is an error, not a silent success.
run_lbr -c l.ini --metrics-file /nonexistent-dir/m.prom plan
is "$RC" 1 "unwritable metrics file: exit 1"
like "$ERR" "metrics: cannot write '/nonexistent-dir/m.prom'" "and a clear message"
done_testing
