#!/bin/sh
# --metrics-file (Prometheus text, written atomically; counters kept with
# the state across runs; a write failure is a warning) and the JSON of
# `plan --json` / `apply --json` (one vocabulary, format_version 2,
# validated against contrib/schema/).
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

# schema NAME FILE DESCRIPTION: FILE validates against contrib/schema/NAME.json.
SCHEMA_DIR="$top_srcdir/contrib/schema"
VALIDATE="$top_srcdir/tests/validate-json.py"
if command -v python3 >/dev/null 2>&1 && python3 -c 'import jsonschema' 2>/dev/null; then
	HAVE_JSONSCHEMA=1
else
	HAVE_JSONSCHEMA=
fi
schema() {
	if [ -z "$HAVE_JSONSCHEMA" ]; then
		echo "ok $((_tap_n + 1)) - # SKIP python3-jsonschema not installed: $3"
		_tap_n=$((_tap_n + 1))
		return
	fi
	problems=$(python3 "$VALIDATE" "$SCHEMA_DIR" "$1" "$2" 2>&1)
	is "$problems" "" "$3"
}
# promcheck FILE DESCRIPTION: `promtool check metrics` has nothing to say.
promcheck() {
	if ! command -v promtool >/dev/null 2>&1; then
		echo "ok $((_tap_n + 1)) - # SKIP promtool not installed: $2"
		_tap_n=$((_tap_n + 1))
		return
	fi
	w=$(promtool check metrics <"$1" 2>&1)
	is "$w" "" "$2"
}
TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'

# One vocabulary across documents (SPEC §6): a top-level key has one JSON
# type in every document's schema (validate's counts are not "pools").
if [ -n "$HAVE_JSONSCHEMA" ]; then
	is "$(python3 "$VALIDATE" "$SCHEMA_DIR" --vocabulary 2>&1; echo "rc=$?")" "rc=0" \
		"every top-level key has one JSON type across the documents' schemas"
else
	echo "ok $((_tap_n + 1)) - # SKIP python3-jsonschema not installed: one vocabulary"
	_tap_n=$((_tap_n + 1))
fi

# One transient failure so that a retry event and retry counter appear.
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"delete","status":503,"count":1}' >/dev/null

run_lbr -c l.ini --json --metrics-file m.prom plan --detailed-exitcode
is "$RC" 2 "plan --json with --metrics-file: changes pending"
printf '%s\n' "$OUT" >plan.json
schema plan plan.json "plan --json validates against schema/plan.json"
is "$(jq -c '[.format_version, .command, .changes, (.pools[0] | [.blocked, .policy_updates, .create, .update, .protected, .unmanaged, .refused, .warning, .error])]' plan.json)" \
	'[2,"plan",true,[[],[],[],[],[],[],null,null,null]]' "plan --json: format_version 2, every pool list an array"
is "$(jq -c '.summary' plan.json)" \
	'{"pools":1,"remove":2,"missing":1,"create":0,"update":0,"protected":0,"unmanaged":0,"blocked":0,"policy_updates":0,"changed_outside":0,"refused":0,"warnings":0,"errors":0}' \
	"plan --json: the summary's counting keys"
ok $([ -f m.prom ] && [ ! -e m.prom.tmp ] && echo 0 || echo 1) "metrics file written, no temp file left"
like "$(cat m.prom)" '^lbreconcile_pool_drift\{pool="web",provider="hw"\} 1$' "plan: pool drift 1"
like "$(cat m.prom)" '^lbreconcile_last_pass_success\{command="plan"\} 1$' "plan with pending changes is a successful pass"
promcheck m.prom "promtool check metrics: plan's file"

run_lbr -c l.ini --json --metrics-file m.prom apply --auto-approve
is "$RC" 0 "apply --json exits 0"
printf '%s\n' "$OUT" >events.jsonl
schema event events.jsonl "every apply --json event validates against its schema"
# Every line is one JSON object with format_version 2, a type and a
# time with milliseconds.
n_lines=$(wc -l <events.jsonl | tr -d ' ')
n_valid=$(jq -c --arg re "$TIME_RE" 'select(.format_version == 2 and (.type | type) == "string" and (.time | test($re)))' events.jsonl | wc -l | tr -d ' ')
is "$n_valid" "$n_lines" "all $n_lines event lines carry format_version 2, a type and a time in milliseconds"
# The two removals run concurrently, so the middle events may interleave.
types=$(jq -r .type events.jsonl | tr '\n' ' ')
like "$types" '^observe plan (retry |action ){3}observe summary $' \
	"event order: observe, plan, then retry and actions, observe (verify), summary ($types)"
is "$(jq -r .type events.jsonl | sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' ')" \
	"action=2 observe=2 plan=1 retry=1 summary=1 " "one retry and two actions"
is "$(jq -c 'select(.type=="plan") | [.pool, .name, (.remove|map(.address+":"+(.port|tostring))), (.missing|map(.address)), .blocked, .policy_updates]' events.jsonl)" \
	'["web","web",["10.0.0.8:80","10.0.0.9:80"],["10.0.0.3"],[],[]]' \
	"plan event: a pool object (blocked and policy_updates are arrays, as in plan --json)"
# The pool keys are the same in the plan event and in plan --json.
is "$(jq -c 'select(.type=="plan") | del(.type, .pool, .time, .format_version) | keys' events.jsonl)" \
	"$(jq -c '.pools[0] | keys' plan.json)" "plan event and plan --json pool: the same keys"
is "$(jq -r 'select(.type=="retry") | [.operation, .outcome, (.http_status|tostring), .attempt] | join(" ")' events.jsonl)" \
	"remove transient 503 1" "retry event: operation, outcome, status, attempt"
reqids=$(fake_log | jq -r '[.[] | select(.method=="DELETE" and .status==204) | .request_id] | sort | join(" ")')
is "$(jq -r 'select(.type=="action" and .outcome=="ok") | .request_id' events.jsonl | sort | tr '\n' ' ' | sed 's/ $//')" \
	"$reqids" "action events carry the cloud's request ids"
summary=$(tail -n 1 events.jsonl)
is "$(printf '%s' "$summary" | jq -c '[.type, .removed, .remove, .missing, .errors, .exit_code, .api_calls]')" \
	'["summary",2,0,1,0,0,5]' "the last line is the summary (2 removed, 0 left to remove, 1 missing, 5 API calls)"
# The summary event has the document summary's keys, plus what apply did.
is "$(printf '%s' "$summary" | jq -c 'del(.type, .time, .format_version, .removed, .already_gone, .failed, .policy_updated, .created, .weights_set, .api_calls, .exit_code) | keys')" \
	"$(jq -c '.summary | keys' plan.json)" "summary event: the counting keys of plan --json's summary"

M=$(cat m.prom)
like "$M" '^lbreconcile_last_pass_success\{command="apply"\} 1$' "apply success"
like "$M" '^lbreconcile_last_pass_exit_code\{command="apply"\} 0$' "apply exit code"
like "$M" '^lbreconcile_passes_total\{command="apply"\} 1$' "first apply: passes_total 1"
like "$M" '^lbreconcile_pool_members_removed\{pool="web",provider="hw"\} 2$' "removed per pool"
like "$M" '^lbreconcile_pool_members_missing\{pool="web",provider="hw"\} 1$' "missing per pool"
like "$M" '^lbreconcile_pool_drift\{pool="web",provider="hw"\} 1$' "drift per pool (a member is still missing)"
like "$M" '^lbreconcile_api_calls_total\{provider="hw",operation="remove",outcome="transient"\} 1$' "calls by outcome: the 503"
like "$M" '^lbreconcile_api_calls_total\{provider="hw",operation="remove",outcome="ok"\} 2$' "calls by outcome: the removals"
like "$M" '^lbreconcile_api_calls_total\{provider="hw",operation="list",outcome="ok"\} 3$' \
	"calls by outcome: the plan's listing (the same file) + observe + verify"
like "$M" '^lbreconcile_api_retries_total\{provider="hw"\} 1$' "retries"
like "$M" '^lbreconcile_api_throttled_total\{provider="hw"\} 0$' "throttled"
promcheck m.prom "promtool check metrics: apply's file"
start=$(sed -n 's/^lbreconcile_last_pass_start_timestamp_seconds{command="apply"} //p' m.prom)
end=$(sed -n 's/^lbreconcile_last_pass_end_timestamp_seconds{command="apply"} //p' m.prom)
ok $(awk -v s="$start" -v e="$end" -v now="$(date +%s)" 'BEGIN { exit !(s > now - 60 && e >= s && e <= now + 1) }'; echo $?) \
	"pass timestamps are recent and ordered ($start .. $end)"

# Counters keep counting across separate runs that share a state (a timer
# or cron job); gauges carry the last pass.
run_lbr -c l.ini -q --metrics-file m.prom apply --auto-approve
is "$RC" 0 "second apply (nothing to remove) exits 0"
is "$OUT$ERR" "" "-q apply with nothing to do prints nothing"
M=$(cat m.prom)
like "$M" '^lbreconcile_passes_total\{command="apply"\} 2$' "second apply: passes_total 2 (kept with the state)"
like "$M" '^lbreconcile_api_calls_total\{provider="hw",operation="list",outcome="ok"\} 4$' "second apply: list calls 3 + 1"
like "$M" '^lbreconcile_api_calls_total\{provider="hw",operation="remove",outcome="ok"\} 2$' "second apply: removals still counted"
like "$M" '^lbreconcile_api_retries_total\{provider="hw"\} 1$' "second apply: retries still counted"
like "$M" '^lbreconcile_pool_members_removed\{pool="web",provider="hw"\} 0$' "second apply: the gauge shows the last pass"
promcheck m.prom "promtool check metrics: the second apply's file"

# Passes that cannot keep their counters in the state count on through the
# file: plan twice, an apply that did not get the lock; and a command's
# series stay in the file while another command writes it.
cp m.prom mc.prom
run_lbr -c l.ini --metrics-file mc.prom plan
run_lbr -c l.ini --metrics-file mc.prom plan
M=$(cat mc.prom)
like "$M" '^lbreconcile_passes_total\{command="plan"\} 3$' \
	"plan twice more: passes_total{plan} 3 (the first plan's 1 was kept by the applies)"
like "$M" '^lbreconcile_passes_total\{command="apply"\} 2$' "... and apply's passes_total 2 is kept"
like "$M" '^lbreconcile_api_calls_total\{provider="hw",operation="list",outcome="ok"\} 6$' \
	"... and the two plans' listings are counted (4 + 2)"
promcheck mc.prom "promtool check metrics: a file with two commands' counters"
printf '[agent]\nlock_timeout = 0\n' >lk0.ini
sed '1d' l.ini >>lk0.ini
flock -x -o st.json.lock sleep 120 >/dev/null 2>&1 </dev/null &
HOLDER=$!
n=0
while flock -n st.json.lock true 2>/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
run_lbr -c lk0.ini --metrics-file mc.prom apply --auto-approve
is "$RC" 4 "apply while the lock is held: exit 4"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
M=$(cat mc.prom)
like "$M" '^lbreconcile_passes_total\{command="apply"\} 3$' "the locked-out apply counts as a pass (3)"
like "$M" '^lbreconcile_passes_failed_total\{command="apply"\} 1$' "... and as a failed one (1)"
like "$M" '^lbreconcile_passes_total\{command="plan"\} 3$' "plan's series is kept"
run_lbr -c l.ini --metrics-file mc.prom apply --auto-approve
is "$RC" 0 "the next apply gets the lock"
M=$(cat mc.prom)
like "$M" '^lbreconcile_passes_total\{command="apply"\} 4$' "passes_total{apply} goes on (4)"
like "$M" '^lbreconcile_passes_failed_total\{command="apply"\} 1$' "passes_failed_total{apply} is not reset (1)"
promcheck mc.prom "promtool check metrics: after the locked-out pass"

# The file a write replaces is read only when it is a regular file of at
# most 4 MiB: a FIFO or a link to a device there is replaced, not read
# (the pass would hang or read forever); odd lines are ignored.
mkfifo mf.prom
timeout 120 "$LBR" -c l.ini --metrics-file mf.prom plan >/dev/null 2>&1
is "$?" 0 "a FIFO at the metrics path: the plan ends (exit 0)"
ok "$([ -f mf.prom ] && [ ! -p mf.prom ]; echo $?)" "... and the FIFO is replaced by the file"
like "$(cat mf.prom)" '^lbreconcile_passes_total\{command="plan"\} 1$' "... which counts from 1"
ln -s /dev/zero mz.prom
timeout 120 "$LBR" -c l.ini --metrics-file mz.prom plan >/dev/null 2>&1
is "$?" 0 "a link to /dev/zero at the metrics path: the plan ends (exit 0)"
ok "$([ -f mz.prom ] && [ ! -L mz.prom ]; echo $?)" "... and the link is replaced by the file"
{
	printf 'lbreconcile_passes_total{command="plan"} 41\n'
	printf 'lbreconcile_passes_failed_total{command="plan"} 99999999999999999999999\n'
	printf 'lbreconcile_api_retries_total{provider="hw"} -3\n'
	printf 'lbreconcile_api_throttled_total{provider="hw"} 7 1700000000\n'
	printf 'not_ours_total 5\n'
	head -c 300000 /dev/zero | tr '\0' x
	printf '\nlbreconcile_passes_total{command="drift"} 12\n'
	printf 'lbreconcile_passes_total{command="drift"} 10\n'
} >mo.prom
run_lbr -c l.ini --metrics-file mo.prom plan
M=$(cat mo.prom)
like "$M" '^lbreconcile_passes_total\{command="plan"\} 42$' "an odd file: plan's count goes on from 41"
like "$M" '^lbreconcile_passes_total\{command="drift"\} 12$' "... drift's series after a 300 KB line is kept"
is "$(grep -c '^lbreconcile_passes_total{command="drift"}' mo.prom)" 1 "... once, with the larger of its two values"
like "$M" '^lbreconcile_passes_failed_total\{command="plan"\} 0$' "... a value out of range is ignored"
like "$M" '^lbreconcile_api_retries_total\{provider="hw"\} 1$' "... so is a negative one (the state's 1)"
is "$(grep -c '^lbreconcile_api_throttled_total' mo.prom)" 1 "... and a sample with a timestamp (not ours)"
unlike "$M" 'not_ours_total' "... and what is not ours is dropped"
promcheck mo.prom "promtool check metrics: the file written over an odd one"

# A failing pass is recorded as such, and a failed pool keeps its arrays.
HW_SK=wrong-secret-key run_lbr -c l.ini --json --metrics-file m.prom plan
is "$RC" 1 "plan with bad credentials exits 1"
printf '%s\n' "$OUT" >plan-err.json
schema plan plan-err.json "plan --json of a failed pool validates"
is "$(jq -c '.pools[0] | [.observed, .remove, .missing, .blocked, .policy_updates, (.error | type)]' plan-err.json)" \
	'[null,[],[],[],[],"string"]' "failed pool: observed null, arrays empty, error a string"
like "$(cat m.prom)" '^lbreconcile_last_pass_success\{command="plan"\} 0$' "failed pass: success 0"
like "$(cat m.prom)" '^lbreconcile_pool_errors\{pool="web",provider="hw"\} 1$' "failed pass: pool error"
like "$(cat m.prom)" '^lbreconcile_pool_members_observed\{pool="web",provider="hw"\} -1$' "failed pass: not observed"
promcheck m.prom "promtool check metrics: a failed pass's file"
HW_SK=wrong-secret-key run_lbr -c l.ini --json apply --auto-approve
is "$RC" 1 "apply --json with bad credentials exits 1"
printf '%s\n' "$OUT" >events-err.jsonl
schema event events-err.jsonl "apply --json events of a failed pool validate"
is "$(jq -c 'select(.type=="plan") | [.remove, .missing, .blocked, .policy_updates, (.error | type)]' events-err.jsonl)" \
	'[[],[],[],[],"string"]' "failed pool's plan event still carries its arrays"

# drift --json validates too.
run_lbr -c l.ini --json drift
printf '%s\n' "$OUT" >drift.json
schema drift drift.json "drift --json validates against schema/drift.json"
is "$(jq -c '[.format_version, .command, (.drift | type), has("changes")]' drift.json)" \
	'[2,"drift","boolean",false]' "drift --json: the top flag is 'drift'"

# An unwritable metrics path is a warning: the pass keeps its exit code.
run_lbr -c l.ini --metrics-file /nonexistent-dir/m.prom validate
is "$RC" 0 "unwritable metrics file: validate still exits 0"
like "$ERR" "^lbreconcile: warning: metrics: cannot write '/nonexistent-dir/m.prom' \(No such file or directory\)$" \
	"and warns, naming the file and why"
like "$OUT" ': ok \(' "validate still reports ok"
hw_pool $P1 "10.0.0.1:80 10.0.0.2:80 10.0.0.7:80"
run_lbr -c l.ini --metrics-file /nonexistent-dir/m.prom plan --detailed-exitcode
is "$RC" 2 "unwritable metrics file: plan keeps its exit code (2, a removal pending)"

# Cloud error codes have one form for both clouds: UCloud's RetCode 153 is
# "RetCode.153", like Huawei's "ELB.8906".
. "$top_srcdir/tests/integration/uc-lib.sh"
uc_account
mkdir uc && cd uc
uc_vserver vserver-2tggsm1b TCP "10.0.1.5:8080=backend-aaaa0001 10.0.1.7:8080=backend-aaaa0003"
uc_config uc.ini api vserver-2tggsm1b 10.0.1.5:8080
fake_ctl POST /_fake/faults '{"cloud":"uc","op":"ReleaseBackend","retcode":153,"count":1}' >/dev/null
run_lbr -c uc.ini --json apply --auto-approve
is "$RC" 0 "UCloud apply with one RetCode 153 exits 0"
printf '%s\n' "$OUT" >events.jsonl
schema event events.jsonl "UCloud apply --json events validate"
is "$(jq -r 'select(.type=="retry") | .code' events.jsonl)" "RetCode.153" "UCloud error code in the form RetCode.153"

# A pass that fails before it observes still ends with its summary event
# (SPEC §2): the lock is held by another agent, the state is corrupt.
cd "$T"
sed 's/^state = .*/state = st.json\nlock_timeout = 0/' l.ini >lk.ini
flock -x -o st.json.lock sleep 120 >/dev/null 2>&1 </dev/null &
HOLDER=$!
n=0
while flock -n st.json.lock true 2>/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
fake_log_clear
run_lbr -c lk.ini --json apply --auto-approve
is "$RC" 4 "apply --json while another agent holds the lock: exit 4"
printf '%s\n' "$OUT" >locked.jsonl
is "$(jq -c '[.type, .exit_code, .pools, .removed, .api_calls]' locked.jsonl | paste -sd' ' -)" \
	'["summary",4,0,0,0]' "stdout is one summary event with exit_code 4"
schema event locked.jsonl "that summary event validates"
run_lbr -c lk.ini --json run --once
is "$(printf '%s' "$OUT" | jq -c '[.type, .exit_code]' | paste -sd' ' -)" '["summary",4]' \
	"run --once --json as the standby: its pass ends with a summary event too"
is "$(fake_count 'true')" 0 "no call was made"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
cp st.json st.json.good
printf '{"format_version":' >st.json
run_lbr -c lk.ini --json apply --auto-approve
is "$RC:$(printf '%s' "$OUT" | jq -c '[.type, .exit_code]')" '1:["summary",1]' \
	"a corrupt state: exit 1 and a summary event with exit_code 1"
cp st.json.good st.json
done_testing
