#!/bin/sh
# UCloud drift: after an apply, a backend added and a declared one removed
# out of band; `drift --json` exits 2 with the §6 document, never mutates
# and never writes state.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/uc-lib.sh"

fake_start
uc_account
VS=vserver-2tggsm1b
uc_vserver $VS TCP "10.0.1.5:8080=backend-aaaa0001 10.0.1.6:8080=backend-aaaa0002 10.0.1.7:8080=backend-aaaa0003"
uc_config "$T/l.ini" api $VS 10.0.1.5:8080 10.0.1.6:8080
# The §6 fields of the document (extensions left out), compact.
doc6() {
	printf '%s\n' "$1" | jq -c '{format_version, command, drift,
		pools: [.pools[] | {name, provider, observed, desired, remove, missing,
			changed_outside, error}], summary: (.summary | {pools, remove, missing, errors})}'
}

# --- before any state: drift against the config only
run_lbr -c "$T/l.ini" --json drift
is "$RC" 2 "drift without state: exit 2 (undeclared backend)"
is "$(doc6 "$OUT")" \
	'{"format_version":2,"command":"drift","drift":true,"pools":[{"name":"api","provider":"sc","observed":3,"desired":2,"remove":[{"id":"backend-aaaa0003","address":"10.0.1.7","port":8080}],"missing":[],"changed_outside":{"appeared":[],"disappeared":[]},"error":null}],"summary":{"pools":1,"remove":1,"missing":0,"errors":0}}' \
	"drift without state: §6 document, changed_outside empty"
ok "$([ ! -e "$T/st.json" ]; echo $?)" "drift writes no state"

# --- converge, then no drift
run_lbr -c "$T/l.ini" apply --auto-approve
is "$RC" 0 "apply converges"
cp "$T/st.json" "$T/st.before"
run_lbr -c "$T/l.ini" --json drift
is "$RC" 0 "no drift after apply: exit 0"
is "$(printf '%s\n' "$OUT" | jq -c '[.drift, .pools[0].remove, .pools[0].missing, .pools[0].changed_outside, (.summary | {pools, remove, missing, errors})]')" \
	'[false,[],[],{"appeared":[],"disappeared":[]},{"pools":1,"remove":0,"missing":0,"errors":0}]' \
	"no drift: empty document"

# --- out of band: one backend added, one declared backend removed
fake_ctl POST /_fake/uc/vservers/$VS/backends \
	'{"backend_id":"backend-oob00001","private_ip":"10.0.1.99","port":8080}' >/dev/null
fake_ctl DELETE /_fake/uc/vservers/$VS/backends/backend-aaaa0002 >/dev/null
fake_log_clear
run_lbr -c "$T/l.ini" --json drift
is "$RC" 2 "drift after out-of-band changes: exit 2"
is "$(printf '%s\n' "$OUT" | jq -e . >/dev/null 2>&1; echo $?)" 0 "stdout is one JSON document"
is "$(doc6 "$OUT")" \
	'{"format_version":2,"command":"drift","drift":true,"pools":[{"name":"api","provider":"sc","observed":2,"desired":2,"remove":[{"id":"backend-oob00001","address":"10.0.1.99","port":8080}],"missing":[{"address":"10.0.1.6","port":8080}],"changed_outside":{"appeared":[{"id":"backend-oob00001","address":"10.0.1.99","port":8080}],"disappeared":[{"id":"backend-aaaa0002","address":"10.0.1.6","port":8080}]},"error":null}],"summary":{"pools":1,"remove":1,"missing":1,"errors":0}}' \
	"drift: §6 document with remove, missing, appeared and disappeared"
is "$(fake_count '.action != "DescribeVServer"')" 0 "drift only calls DescribeVServer"
ok "$(cmp -s "$T/st.json" "$T/st.before"; echo $?)" "drift leaves the state file untouched"
is "$(uc_backends $VS | tr '\n' ' ')" "10.0.1.5:8080 10.0.1.99:8080 " "drift changed nothing in the cloud"

# --- human form of the same
run_lbr -c "$T/l.ini" drift
is "$RC" 2 "human drift: exit 2"
like "$OUT" '^  - 10\.0\.1\.99:8080 +\(member backend-oob00001\)' "human drift lists the removal"
like "$OUT" 'missing 10\.0\.1\.6:8080' "human drift lists the missing backend"
like "$OUT" 'appeared.*10\.0\.1\.99:8080' "human drift lists the appeared backend"
like "$OUT" 'disappeared.*10\.0\.1\.6:8080' "human drift lists the disappeared backend"

# --- a failed observation is an error in the document, exit 1
fake_ctl POST /_fake/faults '{"cloud":"uc","op":"DescribeVServer","retcode":230}' >/dev/null
run_lbr -c "$T/l.ini" --json drift
is "$RC" 1 "drift with a failing listing: exit 1"
is "$(printf '%s\n' "$OUT" | jq -c '[(.pools[0].error | type), .pools[0].remove, .summary.errors]')" \
	'["string",[],1]' "the pool carries an error and no removals"

done_testing
