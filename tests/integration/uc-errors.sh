#!/bin/sh
# UCloud error handling: RetCode 153 and HTTP 503 retried (Retry-After
# honoured), RetCode as a string, bad keys cost exactly one call, unknown
# VServer, and RetCode 4093 on ReleaseBackend counted as done.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/uc-lib.sh"

fake_start
uc_account
VS=vserver-2tggsm1b
VS2=vserver-second01
uc_config "$T/l.ini" api $VS 10.0.1.5:8080 10.0.1.6:8080

# Fresh VServer with one undeclared backend, empty log, no faults.
reset_world() {
	uc_vserver $VS TCP "10.0.1.5:8080=backend-aaaa0001 10.0.1.6:8080=backend-aaaa0002 10.0.1.7:8080=backend-aaaa0003"
	fake_ctl DELETE /_fake/faults >/dev/null
	fake_log_clear
}
fault() { fake_ctl POST /_fake/faults "$1" >/dev/null; }
# The sequence of (action, retcode-or-status) of the logged calls.
calls() { fake_log | jq -r '[.[] | "\(.action)/\(.retcode // .status)"] | join(" ")'; }

# --- RetCode 153 (throttled) on ReleaseBackend: retried
reset_world
fault '{"cloud":"uc","op":"ReleaseBackend","retcode":153,"count":2}'
run_lbr -c "$T/l.ini" apply --auto-approve
is "$RC" 0 "153 twice then success: apply exits 0"
is "$(calls)" "DescribeVServer/0 ReleaseBackend/153 ReleaseBackend/153 ReleaseBackend/0 DescribeVServer/0" \
	"153: ReleaseBackend retried until it succeeds, then re-observed"
is "$(uc_calls ReleaseBackend | uc_params | sort -u | wc -l | tr -d ' ')" 1 "153: every retry sends the same parameters"
is "$(uc_backends $VS | tr '\n' ' ')" "10.0.1.5:8080 10.0.1.6:8080 " "153: converged"
is "$(jq -r '[.action, .member, .outcome] | join(" ")' "$T/st.json.log" | tr '\n' ',')" \
	"remove backend-aaaa0003 throttled,remove backend-aaaa0003 throttled,remove backend-aaaa0003 ok," \
	"153: one audit line per request sent (two throttled, then ok)"

# --- HTTP 503 (non-JSON body) on ReleaseBackend: retried
reset_world
fault '{"cloud":"uc","op":"ReleaseBackend","status":503,"count":2}'
run_lbr -c "$T/l.ini" apply --auto-approve
is "$RC" 0 "503 twice then success: apply exits 0"
is "$(calls)" "DescribeVServer/0 ReleaseBackend/503 ReleaseBackend/503 ReleaseBackend/0 DescribeVServer/0" \
	"503: ReleaseBackend retried until it succeeds"
is "$(uc_backends $VS | tr '\n' ' ')" "10.0.1.5:8080 10.0.1.6:8080 " "503: converged"

# --- HTTP 503 with Retry-After: 1 is honoured
reset_world
fault '{"cloud":"uc","op":"ReleaseBackend","status":503,"retry_after":1,"count":1}'
run_lbr -c "$T/l.ini" apply --auto-approve
is "$RC" 0 "503 + Retry-After then success: apply exits 0"
GAP=$(fake_log | jq '[.[] | select(.action == "ReleaseBackend") | .t_ms] | .[1] - .[0]')
ok "$([ "$GAP" -ge 950 ]; echo $?)" "Retry-After: 1 waited before the retry (gap ${GAP} ms)"

# --- RetCode sent as a string
reset_world
fault '{"cloud":"uc","op":"any","retcode_as_string":true}'
run_lbr -c "$T/l.ini" apply --auto-approve
is "$RC" 0 '"RetCode":"0" accepted as success'
is "$(calls)" "DescribeVServer/0 ReleaseBackend/0 DescribeVServer/0" 'string RetCode: observe, release, verify'
is "$(fake_count '.fault != "retcode_as_string"')" 0 "every answer carried a string RetCode"
is "$(uc_backends $VS | tr '\n' ' ')" "10.0.1.5:8080 10.0.1.6:8080 " "string RetCode: converged"

# ... and a string error RetCode is still an error, not a success
reset_world
fault '{"cloud":"uc","op":"any","retcode_as_string":true}'
uc_config "$T/u.ini" api vserver-nosuch01 10.0.1.5:8080
run_lbr -c "$T/u.ini" apply --auto-approve
is "$RC" 1 '"RetCode":"4103" (unknown VServer) is an error'
like "$ERR" '4103' "string error RetCode reported"
is "$(uc_ncalls ReleaseBackend)" 0 "string error RetCode: no ReleaseBackend"

# --- bad private key: one rejected call stops the provider
reset_world
uc_vserver $VS2 TCP "10.0.2.5:8080=backend-bbbb0001 10.0.2.6:8080=backend-bbbb0002"
UC_BADPRIV=0000000000000000000000000000000000000000
export UC_BADPRIV
{
	sed 's/env:UC_PRIV/env:UC_BADPRIV/' "$T/l.ini"
	uc_pool_section api2 $VS2 10.0.2.5:8080
} >"$T/bad.ini"
run_lbr -c "$T/bad.ini" apply --auto-approve
is "$RC" 1 "bad private key: apply exits 1"
is "$(fake_count 'true')" 1 "bad private key: exactly one request for two pools"
is "$(fake_log | jq -c '.[0] | [.auth, .retcode]')" '["bad",171]' "the fake rejected it with RetCode 171"
like "$ERR" 'RetCode\.171' "stderr names RetCode 171"
like "$ERR" 'Signature VerifyAC Error' "stderr carries the cloud's message"
unlike "$ERR" "$UC_BADPRIV|$UC_PRIV" "stderr does not contain the private key"
ok "$([ ! -e "$T/st.json" ] || [ "$(jq -r '.pools.api.last_apply.result' "$T/st.json")" != converged ]; echo $?)" \
	"bad private key: no converged state recorded"

# --- unknown public key (RetCode 172): also one call
fake_log_clear
UC_BADPUB=nobody@example.com0000
export UC_BADPUB
sed 's/env:UC_PUB/env:UC_BADPUB/' "$T/bad.ini" | sed 's/env:UC_BADPRIV/env:UC_PRIV/' >"$T/badpub.ini"
run_lbr -c "$T/badpub.ini" plan
is "$RC" 1 "unknown public key: plan exits 1"
is "$(fake_count 'true')" 1 "unknown public key: exactly one request"
is "$(fake_log | jq -c '.[0].retcode')" 172 "the fake answered RetCode 172"
like "$ERR" 'RetCode\.172' "plan: stderr names RetCode 172 (errors go to stderr)"

# --- unknown VServer: clear error, no action on it, other pools still act
reset_world
uc_config "$T/ghost.ini" api $VS 10.0.1.5:8080 10.0.1.6:8080
uc_pool_section ghost vserver-nosuch01 10.0.9.1:80 >>"$T/ghost.ini"
run_lbr -c "$T/ghost.ini" apply --auto-approve
is "$RC" 1 "unknown VServer: apply exits 1"
like "$ERR" 'pool "ghost"' "the error names the pool"
like "$ERR" 'vserver-nosuch01' "the error names the VServer"
like "$ERR" 'RetCode\.4103' "the error carries the RetCode"
is "$(uc_calls ReleaseBackend | jq -r .params.BackendId | tr '\n' ' ')" "backend-aaaa0003 " \
	"only the healthy pool's backend is released"
is "$(uc_calls DescribeVServer | jq -r 'select(.params.VServerId == "vserver-nosuch01") | .retcode' | sort -u)" 4103 \
	"the unknown VServer was only described"

# --- RetCode 4093 on ReleaseBackend: removed out of band between observe
#     and act.  The release is held 1.5 s by the fake; meanwhile the
#     backend is deleted through the control API.
release_raced_with_oob_delete() {
	reset_world
	fault '{"cloud":"uc","op":"ReleaseBackend","delay_ms":1500,"count":1}'
	$LBR_WRAPPER "$LBR" -c "$T/l.ini" apply --auto-approve >"$T/out" 2>"$T/err" </dev/null &
	lbr_pid=$!
	i=0
	while [ "$(uc_ncalls DescribeVServer)" -lt 1 ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	fake_ctl DELETE /_fake/uc/vservers/$VS/backends/backend-aaaa0003 >/dev/null
	wait $lbr_pid
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
rm -f "$T/st.json.log"
release_raced_with_oob_delete
is "$RC" 0 "4093 on release: apply exits 0"
is "$(calls)" "DescribeVServer/0 ReleaseBackend/4093 DescribeVServer/0" "4093: not retried, then verified"
like "$OUT" '0 removed, 1 already gone, .* 0 failed' "4093 counted as already gone"
is "$(jq -r '[.member, .action] | join(" ")' "$T/st.json.log")" "backend-aaaa0003 remove" "4093: audited"
unlike "$(jq -r .outcome "$T/st.json.log")" '^(ok|failed|error)$' "4093: audit outcome says not found"
is "$(jq -r .pools.api.last_apply.result "$T/st.json")" converged "4093: state says converged"

# ... the same with the other documented not-found code, 4148
fake_ctl POST /_fake/settings '{"not_found_retcode":4148}' >/dev/null
release_raced_with_oob_delete
is "$RC" 0 "4148 on release: apply exits 0"
is "$(calls)" "DescribeVServer/0 ReleaseBackend/4148 DescribeVServer/0" "4148: not retried, then verified"

done_testing
