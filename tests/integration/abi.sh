#!/bin/sh
# Plugin ABI 2 seen from the engine: an outcome a plugin leaves unset is
# never read as success (fixture "forgetful"), and the core scrubs every
# secret it resolved from whatever a plugin hands back (fixture "echo"
# puts its secret key into every field and log line), in output, logs,
# state, audit log and metrics; an ABI 1 plugin is refused with one line.
. "$top_srcdir/tests/lib.sh"

: "${LBR_TEST_FIXTURE_DIR:=$top_builddir/tests/plugins/.libs}"
[ -f "$LBR_TEST_FIXTURE_DIR/forgetful.so" ] || skip_all "fixture plugins not built"
cd "$T"
SECRET='Echo-S3cret-Value-9f8e7d'
export ECHO_SECRET="$SECRET"

# --- forgetful: every item left unset.
cat >f.ini <<EOF
[agent]
state = f.json
plugin_dir = $LBR_TEST_FIXTURE_DIR
max_delete = 100%

[provider fx]
plugin = forgetful

[pool p]
provider = fx
pool_id = p1
observe = 10.0.0.1:80,10.0.0.2:80,10.0.0.3:80
member = 10.0.0.1:80
EOF
run_lbr -c f.ini apply --auto-approve
is "$RC" 1 "a plugin that leaves item outcomes unset makes apply fail"
like "$ERR" "did not report an outcome" "the error says the plugin reported no outcome"
unlike "$OUT" "[1-9][0-9]* removed" "nothing is counted as removed"
is "$(jq -r 'select(.action=="remove") | .outcome' f.json.log | sort -u)" "invalid" \
	"the audit log records the unset outcomes as invalid, never ok"
is "$(jq -r '.pools.p.last_apply.removed' f.json)" 0 "the state records no removal"

# --- echo: the secret never leaves the process.
cat >e.ini <<EOF
[agent]
state = e.json
plugin_dir = $LBR_TEST_FIXTURE_DIR
max_delete = 100%

[provider ex]
plugin = echo
secret_key = env:ECHO_SECRET

[pool q]
provider = ex
pool_id = q1
observe = 10.0.1.1:80,10.0.1.2:80
member = 10.0.1.1:80
EOF
run_lbr -c e.ini -v plan
P_ALL="$OUT$ERR"
run_lbr -c e.ini -v --metrics-file m.prom apply --auto-approve
A_ALL="$OUT$ERR"
run_lbr -c e.ini --json apply --auto-approve
J_ALL="$OUT$ERR"
like "$A_ALL" "removing m2" "the plugin's log lines reach the log"
like "$A_ALL" "\[redacted\]" "with the secret replaced"
unlike "$P_ALL" "$SECRET" "plan output and logs carry no secret"
unlike "$A_ALL" "$SECRET" "apply output and logs carry no secret"
unlike "$J_ALL" "$SECRET" "JSON events carry no secret"
unlike "$(cat e.json)" "$SECRET" "the state carries no secret"
unlike "$(cat e.json.log)" "$SECRET" "the audit log carries no secret"
like "$(jq -r 'select(.action=="remove") | .request_id' e.json.log | head -n 1)" "redacted" \
	"the echoed request id is scrubbed in the audit log"
unlike "$(cat m.prom)" "$SECRET" "the metrics carry no secret"
# A listed member whose id or name holds the secret: the listing is
# refused (a redacted name could unprotect a member), the secret never shown.
for k in echo_id echo_name; do
	sed "s/^member = 10.0.1.1:80\$/member = 10.0.1.1:80\n$k = yes/" e.ini >eid.ini
	run_lbr -c eid.ini plan
	is "$RC" 1 "$k: a listing holding the secret: plan exits 1"
	like "$ERR" "contains a secret value; not acting on this listing" "$k: and says why"
	unlike "$OUT$ERR" "$SECRET" "$k: without showing the secret"
done
printf 'fail_check = yes\n' >>e.ini
run_lbr -c e.ini validate
is "$RC" 1 "a failing check_target is a validate error"
unlike "$ERR" "$SECRET" "and its message is scrubbed"

# --- an ABI 1 plugin is refused with one line.
sed -e 's/^plugin = echo/plugin = abi1/' -e '/^secret_key/d' -e '/^fail_check/d' e.ini >a.ini
run_lbr -c a.ini validate
is "$RC" 1 "an ABI 1 plugin is refused"
like "$ERR" "built for plugin ABI 1\.[0-9]+, this lbreconcile needs ABI 2" "in one clear line"
is "$(printf '%s\n' "$ERR" | grep -c .)" 1 "exactly one line"

done_testing
