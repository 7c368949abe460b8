#!/bin/sh
# Fault campaign (issue 4, acceptance 2): one fake process serves both
# clouds; 10 pools (5 Huawei, 5 UCloud) of 40 members each, 15 undeclared
# per pool.  About 20 % of all calls fail transiently (hw 503/429, uc
# RetCode 153 / HTTP 503), 5 % of connections are reset, 5 % of removals
# are applied but answered 503, and removed members stay listed for 2 s.
#
# max_rounds = 10: a removal applied-then-503 is retried and answers
# not-found (done), but the re-observation still lists it for 2 s
# (eventual_ms), and a listing may itself fail all its attempts in one
# round; the agent needs a few extra observe rounds (with its own
# back-off between them) before the listings agree.  10 rounds leaves
# ample slack without hiding a non-converging agent (which would loop
# until max_rounds and exit 1).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/rel-lib.sh"

fake_start --seed 4242
hw_account
uc_account

NP=5
C=$T/lbr.ini
{
	printf '[agent]\nstate = st.json\nmax_rounds = 10\nparallelism = 16\n'
	hw_provider_section
	uc_provider_section
} >"$C"
i=1
while [ $i -le $NP ]; do
	rel_hw_pool "hwpool-$i" 1 40 "10.1.$i"
	rel_uc_vserver "vserver-rel$i" 1 40 "10.2.$i"
	rel_hw_pool_section "h$i" "hwpool-$i" "10.1.$i" 1 25 >>"$C"
	rel_uc_pool_section "u$i" "vserver-rel$i" "10.2.$i" 1 25 >>"$C"
	i=$((i + 1))
done

# Ids of the declared members (address .1 .. .25) and of the others.
fake_ctl GET /_fake/state >"$T/world.json"
jq -r '.hw.pools[].members[] | select((.address | split(".")[3] | tonumber) <= 25) | .id' \
	"$T/world.json" | sort >"$T/hw-keep"
jq -r '.hw.pools[].members[] | select((.address | split(".")[3] | tonumber) > 25) | .id' \
	"$T/world.json" | sort >"$T/hw-gone"
jq -r '.uc.vservers[].backends[] | select((.private_ip | split(".")[3] | tonumber) <= 25) | .backend_id' \
	"$T/world.json" | sort >"$T/uc-keep"
jq -r '.uc.vservers[].backends[] | select((.private_ip | split(".")[3] | tonumber) > 25) | .backend_id' \
	"$T/world.json" | sort >"$T/uc-gone"
is "$(cat "$T/hw-keep" "$T/uc-keep" | wc -l) $(cat "$T/hw-gone" "$T/uc-gone" | wc -l)" \
	"250 150" "setup: 400 members, 250 declared, 150 to remove"

fake_ctl POST /_fake/settings '{"eventual_ms":2000}' >/dev/null
# Each kind fires at least a few times whatever the random draws: the
# first rule that matches fires, so these counted ones come first.
fake_ctl POST /_fake/faults '{"cloud":"uc","op":"ReleaseBackend","count":2,"retcode":153}' >/dev/null
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"delete","count":2,"status":429}' >/dev/null
fake_ctl POST /_fake/faults '{"cloud":"any","op":"any","probability":0.05,"reset":true}' >/dev/null
fake_ctl POST /_fake/faults '{"cloud":"any","op":"delete","probability":0.05,"applied_then":503}' >/dev/null
# Throttling answers (hw 429, uc RetCode 153) are a quarter of the
# transient failures: each one makes the agent cut its request rate for
# the provider, and with 10 % random throttling its pacing never sees a
# calm second to recover, so a pass slows to a few calls per second.
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"any","probability":0.16,"status":503}' >/dev/null
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"any","probability":0.04,"status":429}' >/dev/null
fake_ctl POST /_fake/faults '{"cloud":"uc","op":"any","probability":0.04,"retcode":153}' >/dev/null
fake_ctl POST /_fake/faults '{"cloud":"uc","op":"any","probability":0.16,"status":503}' >/dev/null
fake_log_clear

# A single call can legitimately exhaust its 6 attempts (about 0.27^6 per
# removal, a few percent per pass over ~250 call chains); SPEC §2 makes that
# exit 1 for the pool, and the engine does not act again on a pool with an
# error in the same apply, so more rounds cannot help there.  Such a pass
# is followed by another apply (what cron / `run` would do); only "gave up
# after N attempts" errors are tolerated in between, and at most 3 passes.
T0=$(now_ms)
pass=0
bad_err=0
while [ $pass -lt 3 ]; do
	pass=$((pass + 1))
	run_lbr -c "$C" apply --auto-approve
	[ "$RC" -eq 0 ] && break
	printf '%s\n' "$ERR" | sed 's/^/# pass '$pass': /' | tail -n 5
	if [ "$RC" -ne 1 ] || printf '%s\n' "$ERR" | grep -v 'gave up after [0-9]* attempts' |
		grep -q 'error:'; then
		bad_err=$((bad_err + 1))
	fi
done
T1=$(now_ms)
is "$RC" 0 "apply under faults converges (exit 0 after $pass pass(es))"
is "$bad_err" 0 "failed passes only gave up on transient failures"
# How long it took is a figure, not a target (bench/ holds those): a busy
# machine stretches it.  The bound only catches an agent that never stops
# retrying; a pass takes well under a minute on a quiet box.
ok "$([ $((T1 - T0)) -lt 600000 ]; echo $?)" "$pass pass(es) took $((T1 - T0)) ms (a runaway would take over 10 min)"
like "$OUT" "Apply complete: " "summary line printed"

fake_log >"$T/log.json"
# The campaign really happened: every kind of fault fired.
for f in reset applied_then status retcode; do
	n=$(jq --arg f "$f" '[.[] | select(.fault == $f)] | length' "$T/log.json")
	ok "$([ "$n" -gt 0 ]; echo $?)" "fault \"$f\" fired $n times"
done
n=$(jq '[.[] | select(.fault == "status" and .status == 429)] | length' "$T/log.json")
ok "$([ "$n" -gt 0 ]; echo $?)" "hw 429 fired $n times"

# Final truth: exactly the declared members are left.
i=1
bad=0
while [ $i -le $NP ]; do
	[ "$(rel_hw_members "hwpool-$i")" = "$(rel_expect_seq "10.1.$i" 1 25 80)" ] || bad=$((bad + 1))
	[ "$(rel_uc_backends "vserver-rel$i")" = "$(rel_expect_seq "10.2.$i" 1 25 8080)" ] || bad=$((bad + 1))
	i=$((i + 1))
done
is "$bad" 0 "all 10 pools hold exactly their declared members"

# Only listings and removals were sent.
is "$(jq -r '[.[] | select(.cloud == "hw") | .method] | unique | join(",")' "$T/log.json")" \
	"DELETE,GET" "hw: only GET and DELETE"
is "$(jq -r '[.[] | select(.cloud == "uc") | .action] | unique | join(",")' "$T/log.json")" \
	"DescribeVServer,ReleaseBackend" "uc: only DescribeVServer and ReleaseBackend"

# Targets of every removal attempt (successful or not).
jq -r '.[] | select(.cloud == "hw" and .method == "DELETE") | .member_id' "$T/log.json" |
	sort -u >"$T/hw-targets"
jq -r '.[] | select(.action == "ReleaseBackend") | .params.BackendId' "$T/log.json" |
	sort -u >"$T/uc-targets"
is "$(comm -12 "$T/hw-targets" "$T/hw-keep" | wc -l)" 0 "hw: no declared member was ever targeted"
is "$(comm -12 "$T/uc-targets" "$T/uc-keep" | wc -l)" 0 "uc: no declared backend was ever targeted"
is "$(comm -3 "$T/hw-targets" "$T/hw-gone" | wc -l)" 0 "hw: every undeclared member was targeted"
is "$(comm -3 "$T/uc-targets" "$T/uc-gone" | wc -l)" 0 "uc: every undeclared backend was targeted"

# At most one successful answer (204 / RetCode 0) per member id, and each
# member was actually removed exactly once.
is "$(jq '[.[] | select(.cloud == "hw" and .method == "DELETE" and .status == 204) | .member_id]
	| group_by(.) | map(select(length > 1)) | length' "$T/log.json")" 0 \
	"hw: no member id got two 204s"
is "$(jq '[.[] | select(.action == "ReleaseBackend" and .status == 200 and .retcode == 0) | .params.BackendId]
	| group_by(.) | map(select(length > 1)) | length' "$T/log.json")" 0 \
	"uc: no backend id got two RetCode 0"
is "$(jq '[.[] | select(.applied and (.method == "DELETE" or .action == "ReleaseBackend"))
	| (.member_id // .params.BackendId)] | sort | unique | length' "$T/log.json")" 150 \
	"150 distinct members removed"
is "$(jq '[.[] | select(.applied and (.method == "DELETE" or .action == "ReleaseBackend"))] | length' \
	"$T/log.json")" 150 "... each exactly once"

# The state records the converged pools.
is "$(jq '[.pools[] | .members | length] | add' "$T/st.json")" 250 "state records 250 members"
is "$(jq -r '[.pools[] | .last_apply.result] | unique | join(",")' "$T/st.json")" "converged" \
	"every pool's last apply is converged"
# The audit log names every removed member: an ok / not_found answer, or,
# for a removal whose every attempt ended in doubt (applied, then the
# connection reset) and that verification found gone, a "gone" line that
# says so with the request ids of those attempts.
is "$(jq -r 'select(.outcome == "ok" or .outcome == "not_found" or .outcome == "gone") | .member' "$T/st.json.log" |
	sort -u | wc -l)" 150 "audit log names all 150 removed members"
is "$(jq -r 'select(.outcome == "gone") | .detail' "$T/st.json.log" | grep -vc 'ended in doubt (request ids: ')" 0 \
	"a 'gone' line says the attempts ended in doubt and lists their request ids"

done_testing
