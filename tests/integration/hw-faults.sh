#!/bin/sh
# Huawei: retries and fault handling (503 after apply, 429 + Retry-After,
# connection reset, garbage/truncated JSON, 409 ELB.8907, hostile ids).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
C=$T/lbr.ini
hw_cfg "$C" "" "web $P_WEB 10.0.0.1:80 10.0.0.2:80"
DEL_PATH=

# fresh_case FAULT-JSON: a pool with one undeclared member (10.0.0.3),
# one fault rule, an empty log.
fresh_case() {
	fake_ctl DELETE /_fake/faults >/dev/null
	hw_pool "$P_WEB" "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80"
	M3=$(hw_member_id "$P_WEB" 10.0.0.3 80)
	DEL_PATH=/v2/$HW_PROJECT/elb/pools/$P_WEB/members/$M3
	[ -n "$1" ] && fake_ctl POST /_fake/faults "$1" >/dev/null
	fake_log_clear
}
# calls METHOD -> "status[:fault] ..." of that method's requests in order
calls() { fake_log | jq -r --arg m "$1" '[.[] | select(.method==$m) | "\(.status)\(if .fault then ":" + .fault else "" end)"] | join(" ")'; }

# 1. DELETE applied but answered 503: retried, 404, counted done.
fresh_case '{"cloud":"hw","op":"delete","count":1,"applied_then":503}'
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "503-after-apply: exit 0"
is "$(calls DELETE)" "503:applied_then 404" "the DELETE was retried once and got 404"
is "$(fake_log | jq -r '[.[] | select(.method=="DELETE") | .path] | unique | join(",")')" "$DEL_PATH" "both attempts on the same member path"
like "$OUT" "0 removed, 1 already gone" "summary says already gone"
is "$(hw_members "$P_WEB" | paste -sd' ' -)" "10.0.0.1:80 10.0.0.2:80" "pool converged"
is "$(tail -n 1 "$T/st.json.log" | jq -r '.member + " " + .outcome')" "$M3 not_found" "audit log records the not-found outcome"

# 2. 429 with Retry-After: 2 on the DELETE: retried after >= 2 s.
fresh_case '{"cloud":"hw","op":"delete","count":1,"status":429,"retry_after":2}'
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "429 + Retry-After: exit 0"
is "$(calls DELETE)" "429:status 204" "one throttled DELETE, then success"
GAP=$(fake_log | jq '[.[] | select(.method=="DELETE") | .t_ms] | .[1] - .[0]')
ok "$([ "$GAP" -ge 1950 ] && [ "$GAP" -lt 6000 ]; echo $?)" "retry waited for Retry-After (gap ${GAP} ms)"
like "$OUT" "1 removed, 0 already gone" "summary: 1 removed"

# 3. connection reset during listing: retried.
fresh_case '{"cloud":"hw","op":"list","count":2,"reset":true}'
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "reset on list: exit 0"
is "$(calls GET)" "0:reset 0:reset 200 200" "two resets, then the listing and the re-observation"
is "$(calls DELETE)" "204" "then the DELETE"

# 4. garbage JSON on every list attempt: exit 1, clear message, no DELETE.
fresh_case '{"cloud":"hw","op":"list","garbage":true}'
run_lbr -c "$C" apply --auto-approve
is "$RC" 1 "garbage on every list: exit 1"
like "$ERR" 'pool "web".*(not valid JSON|parse|unparseable)' "stderr names the pool and the parse problem"
like "$ERR" "request id [0-9a-f]{32}" "stderr carries the request id"
is "$(mutating)" 0 "no DELETE"
N=$(fake_count '.op=="list"')
ok "$([ "$N" -ge 2 ] && [ "$N" -le 10 ]; echo $?)" "the listing was retried a bounded number of times ($N)"

# 4b. truncated JSON, same story (plan reports the error too).
fresh_case '{"cloud":"hw","op":"list","truncate":true}'
run_lbr -c "$C" apply --auto-approve
is "$RC" 1 "truncated JSON on every list: exit 1"
like "$ERR" 'pool "web"' "stderr names the pool"
is "$(mutating)" 0 "no DELETE"
ok "$([ "$(fake_count '.op=="list"')" -ge 2 ]; echo $?)" "the truncated listing was retried"

# 4c. one garbage answer is just retried.
fresh_case '{"cloud":"hw","op":"list","count":1,"garbage":true}'
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "a single garbage answer is retried: exit 0"
is "$(calls GET | cut -d' ' -f1-2)" "200:garbage 200" "garbage then a good listing"

# 5. 409 ELB.8907 retried a bounded number of times.
fresh_case '{"cloud":"hw","op":"delete","count":1,"conflict":true}'
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "one 409 ELB.8907 then success: exit 0"
is "$(calls DELETE)" "409:conflict 204" "the conflicting DELETE was retried"

fresh_case '{"cloud":"hw","op":"delete","conflict":true}'
run_lbr -c "$C" apply --auto-approve
is "$RC" 1 "409 forever: exit 1"
N=$(fake_count '.method=="DELETE"')
ok "$([ "$N" -ge 2 ] && [ "$N" -le 6 ]; echo $?)" "409 retried a bounded number of times ($N)"
like "$ERR" "10\.0\.0\.3:80" "stderr names the member"
like "$ERR" "409" "stderr names the HTTP status"
like "$ERR" "ELB\.8907" "stderr names the cloud error code"
like "$ERR" "request id [0-9a-f]{32}" "stderr names the request id"
is "$(hw_members "$P_WEB" | wc -l | tr -d ' ')" 3 "member still there"

# 6. hostile member id from the cloud: refused, no request made with it.
fresh_case ""
fake_ctl POST "/_fake/hw/pools/$P_WEB/members" '{"id":"../x","address":"10.0.0.7","protocol_port":80}' >/dev/null
fake_log_clear
run_lbr -c "$C" apply --auto-approve
is "$RC" 1 "hostile id '../x': exit 1"
like "$ERR" "\.\./x" "stderr shows the refused id"
is "$(mutating)" 0 "no DELETE at all in that pool (not even of the normal undeclared member)"
is "$(fake_count '.path | contains("..")')" 0 "no request ever carried the hostile id"

# An id with a percent-escape would be decoded by a server into a '/':
# refused as well.  (An over-long id cannot be tested: the fake truncates
# ids to 39 characters.)
fresh_case ""
fake_ctl POST "/_fake/hw/pools/$P_WEB/members" '{"id":"a%2Fb","address":"10.0.0.8","protocol_port":80}' >/dev/null
fake_log_clear
run_lbr -c "$C" plan
is "$RC" 1 "id 'a%2Fb': plan exits 1"
like "$ERR" "a%2Fb" "stderr shows the refused id"
is "$(fake_count '.path | contains("%")')" 0 "no request carried the escaped id"

# 7. The audit log cannot be written (SPEC §7: every mutating call has its
# record): refused when the lock is taken, before any call.
fresh_case ""
mv "$T/st.json.log" "$T/st.json.log.saved"
mkdir "$T/st.json.log"
run_lbr -c "$C" apply --auto-approve
is "$RC" 1 "unwritable audit log: exit 1"
like "$ERR" "cannot append to the audit log '.*st\.json\.log'" "stderr names the audit log"
is "$(fake_count 'true')" 0 "no call at all, not even a listing"
is "$(hw_members "$P_WEB" | wc -l | tr -d ' ')" 3 "the undeclared member is still there"
run_lbr -c "$C" -q apply --auto-approve
ok "$([ "$RC" = 1 ] && [ -n "$ERR" ]; echo $?)" "with -q too: exit 1 and an error on stderr (cron mails)"
rmdir "$T/st.json.log"
mv "$T/st.json.log.saved" "$T/st.json.log"
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "writable again: the apply goes through"
is "$(tail -n 1 "$T/st.json.log" | jq -r '.member + " " + .action')" "$M3 remove" "and its removal is audited"

done_testing
