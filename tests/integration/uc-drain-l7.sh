#!/bin/sh
# UCloud drain with Layer-7 policies: a draining pool updates its Custom
# policies at the drain's end, just before ReleaseBackend — not before the
# drain — so that a backend declared again during the wait is re-enabled
# and is still in every policy that named it.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/uc-lib.sh"

fake_start
uc_account
VS=vserver-drl70001
POLICIES='[{"policy_id":"policy-drain001","type":"Path","match":"/api","domain_match_mode":"Regular",
  "priority":1,"backend_ids":["backend-keep0001","backend-gone0001"]}]'
world() {
	uc_vserver $VS HTTP "10.0.1.5:8080=backend-keep0001 10.0.1.6:8080=backend-gone0001" "$POLICIES"
}
# The config is edited while a drain waits: a wait long enough for a busy
# machine to see the drain (an event) and write the file.
DRAIN=4
# Configs are written aside and renamed: a re-read never sees half a file.
cfg() { # cfg EXTRA-MEMBER...
	uc_config "$T/d.new" web $VS 10.0.1.5:8080 "$@"
	printf 'drain = %s\n' $DRAIN >>"$T/d.new"
	mv "$T/d.new" "$T/d.ini"
}
cd "$T"
seq_of() { fake_log | jq "[.[] | select(.action == \"$1\") | .seq] | $2"; }
# edit_after N COMMAND...: in the background, once N drains were sent (an
# event, well inside the drain wait), run COMMAND (which rewrites the config).
edit_after() {
	want=$1
	shift
	(
		n=0
		until fake_log | jq -e "[.[] | select(.action == \"UpdateBackendAttribute\")] | length >= $want" \
			>/dev/null 2>&1 || [ $n -ge 300 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		"$@"
	) &
	EDIT_PID=$!
}

# --- the removal stands: drain, then the policy update, then the release
world
cfg
fake_log_clear
run_lbr -c d.ini apply --auto-approve
is "$RC" 0 "apply with drain and a Custom policy exits 0"
is "$(uc_ncalls UpdateBackendAttribute) $(uc_ncalls UpdatePolicy) $(uc_ncalls ReleaseBackend)" "1 1 1" \
	"one drain, one policy update, one release"
is "$(uc_calls UpdateBackendAttribute | jq -r '.params.BackendId + " Enabled=" + .params.Enabled')" \
	"backend-gone0001 Enabled=0" "the drain disables the undeclared backend"
is "$(fake_log | jq '
	([.[] | select(.action == "UpdateBackendAttribute") | .seq] | max) <
	([.[] | select(.action == "UpdatePolicy") | .seq] | min) and
	([.[] | select(.action == "UpdatePolicy") | .seq] | max) <
	([.[] | select(.action == "ReleaseBackend") | .seq] | min)')" true \
	"order: drain, then the policy update, then the release"
up_t=$(seq_of UpdateBackendAttribute 'min'); up_t=$(fake_log | jq "[.[] | select(.seq == $up_t)][0].t_ms")
pol_t=$(fake_log | jq '[.[] | select(.action == "UpdatePolicy")][0].t_ms')
ok "$([ $((pol_t - up_t)) -ge $((DRAIN * 1000 - 100)) ] && echo 0 || echo 1)" \
	"the policy is updated after the $DRAIN s drain wait ($up_t ms, then $pol_t ms)"
is "$(uc_calls UpdatePolicy | jq -r '.params."BackendId.0" + " " + (.params."BackendId.1" // "-")')" \
	"backend-keep0001 -" "the policy keeps the declared backend only"
is "$(uc_policy $VS policy-drain001 | jq -r '.backend_ids | join(" ")')" "backend-keep0001" \
	"the fake's policy names the declared backend only"

# --- declared again during the wait: re-enabled, and still in its policy
world
cfg
fake_log_clear
edit_after 1 cfg 10.0.1.6:8080
run_lbr -c d.ini apply --auto-approve
wait $EDIT_PID
is "$RC" 0 "apply exits 0 when the drained backend was declared again"
like "$ERR" 'declared again or no longer ours to remove; restoring it' "the restore is reported"
is "$(uc_calls UpdateBackendAttribute | jq -r '.params.Enabled' | paste -sd' ' -)" "0 1" \
	"disabled for the drain, then enabled again"
is "$(uc_ncalls UpdatePolicy) $(uc_ncalls ReleaseBackend)" "0 0" "no policy update and no release"
is "$(uc_policy $VS policy-drain001 | jq -r '.backend_ids | join(" ")')" \
	"backend-keep0001 backend-gone0001" "the policy still names the backend declared again"
is "$(fake_ctl GET /_fake/uc/vservers/$VS | jq -r '.backends[] | select(.backend_id == "backend-gone0001") | .enabled')" \
	1 "the backend is enabled"

# --- two drained, one declared again: the policy update was planned for
# both removals, so both are restored and the next pass plans again.
POLICIES='[{"policy_id":"policy-drain001","type":"Path","match":"/api","domain_match_mode":"Regular",
  "priority":1,"backend_ids":["backend-keep0001","backend-gone0001","backend-gone0002"]}]'
uc_vserver $VS HTTP "10.0.1.5:8080=backend-keep0001 10.0.1.6:8080=backend-gone0001 10.0.1.7:8080=backend-gone0002" "$POLICIES"
cfg3() { # cfg3 MEMBER...: max_delete lets 2 of 3 go
	uc_config "$T/d.new" web $VS "$@"
	printf 'drain = %s\n' $DRAIN >>"$T/d.new"
	sed -i 's/^state = st.json$/state = st.json\nmax_delete = 70%/' "$T/d.new"
	mv "$T/d.new" "$T/d.ini"
}
cfg3 10.0.1.5:8080
fake_log_clear
edit_after 2 cfg3 10.0.1.5:8080 10.0.1.6:8080
run_lbr -c d.ini apply --auto-approve
wait $EDIT_PID
is "$RC" 0 "apply exits 0 when one of two drained backends was declared again"
like "$ERR" 'restoring all 2 drained members' "restoring both is reported with the reason"
is "$(uc_ncalls UpdatePolicy) $(uc_ncalls ReleaseBackend)" "0 0" "no policy update and no release in that pass"
is "$(uc_calls UpdateBackendAttribute | jq -r '.params.Enabled' | sort | paste -sd' ' -)" "0 0 1 1" \
	"both disabled, both enabled again"
# The next pass (a drain again) removes the one still undeclared.
fake_log_clear
run_lbr -c d.ini apply --auto-approve
is "$RC" 0 "the next pass exits 0"
is "$(uc_calls ReleaseBackend | jq -r .params.BackendId)" "backend-gone0002" "it releases the undeclared backend"
is "$(uc_policy $VS policy-drain001 | jq -r '.backend_ids | join(" ")')" \
	"backend-keep0001 backend-gone0001" "the policy keeps both declared backends"

# --- the policy changes during the wait (someone adds a backend to it): the
# update planned before the drain would undo that; the drained backend is
# restored instead, and the policy keeps what was added.
world
cfg
fake_log_clear
changed_world() {
	fake_ctl POST /_fake/uc/vservers "$(jq -nc --arg proj "$UC_PROJECT" --arg ulb "$UC_ULB" --arg vs $VS '{
		project_id:$proj, region:"cn-bj2", ulb_id:$ulb, vserver_id:$vs, protocol:"HTTP",
		backends:[{backend_id:"backend-keep0001", private_ip:"10.0.1.5", port:8080},
			{backend_id:"backend-gone0001", private_ip:"10.0.1.6", port:8080, enabled:0},
			{backend_id:"backend-new00001", private_ip:"10.0.1.9", port:8080}],
		policies:[{policy_id:"policy-drain001", type:"Path", match:"/api", domain_match_mode:"Regular",
			priority:1, backend_ids:["backend-keep0001","backend-gone0001","backend-new00001"]}]}')" >/dev/null
}
edit_after 1 changed_world
run_lbr -c d.ini apply --auto-approve
wait $EDIT_PID
like "$ERR" 'restoring all 1 drained members: forwarding policy policy-drain001 .* changed during the drain' \
	"a policy changed during the drain: the drained backend is restored, with the reason"
is "$(uc_ncalls UpdatePolicy) $(uc_ncalls ReleaseBackend)" "0 0" "no stale policy update, no release"
is "$(uc_policy $VS policy-drain001 | jq -r '.backend_ids | join(" ")')" \
	"backend-keep0001 backend-gone0001 backend-new00001" "the policy keeps the backend added meanwhile"
is "$(fake_ctl GET /_fake/uc/vservers/$VS | jq -r '.backends[] | select(.backend_id == "backend-gone0001") | .enabled')" \
	1 "the drained backend is enabled again"
# (The new backend is undeclared: the next pass plans it and the other.)
done_testing
