#!/bin/sh
# Crash safety (issue 4, acceptance 3; issue 13, acceptance 2): SIGKILL an
# apply over four pools (three Huawei, one of them prune = owned beside an
# "autoscaling" member it must never touch, and one UCloud) at every step
# of a run: after the fake cloud has answered k of its requests, for every
# k, and once after the last answer (during the state write).  The kill
# moments are events: the fake answers k requests and holds the rest
# (setting hold_after), so a busy machine does not move them.  After each kill: the state file (and
# its .backup) parse, serial never goes backwards, the audit log holds
# only whole JSON lines, the lock is taken by the next apply (lock_timeout
# = 0, so a lock still held would exit 4), that apply converges, and the
# ownership record is exactly what the config declares.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/rel-lib.sh"

fake_start --seed 7
hw_account
uc_account
C=$T/lbr.ini
{
	printf '[agent]\nstate = st.json\nparallelism = 2\nlock_timeout = 0\nmax_delete = 100%%\n'
	hw_provider_section
	uc_provider_section
	rel_hw_pool_section a crashpool-a 10.3.1 1 4
	rel_hw_pool_section b crashpool-b 10.3.2 1 4
	rel_uc_pool_section c vserver-crash1 10.3.3 1 4
	rel_hw_pool_section d crashpool-d 10.3.4 1 4
	printf 'prune = owned\n'
} >"$C"
ST=$T/st.json

# The machine may be busy (make -j): keep the per-iteration overhead low
# by recreating the world with one curl and checking it with one jq.
rel_hw_pool crashpool-a 1 8 10.3.1
rel_hw_pool crashpool-b 1 8 10.3.2
rel_uc_vserver vserver-crash1 1 8 10.3.3
rel_hw_pool crashpool-d 1 4 10.3.4
fake_ctl POST /_fake/hw/pools/crashpool-d/members '{"address":"10.3.4.9","protocol_port":80,"name":"as-9"}' >/dev/null
fake_ctl GET /_fake/state >"$T/world0.json"
jq -c '.hw.pools[] | select(.pool_id == "crashpool-a") | del(.members[].id)' "$T/world0.json" >"$T/pa.json"
jq -c '.hw.pools[] | select(.pool_id == "crashpool-b") | del(.members[].id)' "$T/world0.json" >"$T/pb.json"
jq -c '.uc.vservers[0] | del(.backends[].backend_id)' "$T/world0.json" >"$T/vc.json"
jq -c '.hw.pools[] | select(.pool_id == "crashpool-d") | del(.members[].id)' "$T/world0.json" >"$T/pd.json"
reset_world() {
	curl -sS --max-time 10 -o /dev/null -H 'Content-Type: application/json' \
		--data-binary @"$T/pa.json" "$FAKE_URL/_fake/hw/pools" --next \
		-o /dev/null -H 'Content-Type: application/json' \
		--data-binary @"$T/pb.json" "$FAKE_URL/_fake/hw/pools" --next \
		-o /dev/null -H 'Content-Type: application/json' \
		--data-binary @"$T/vc.json" "$FAKE_URL/_fake/uc/vservers" --next \
		-o /dev/null -H 'Content-Type: application/json' \
		--data-binary @"$T/pd.json" "$FAKE_URL/_fake/hw/pools"
}
WANT=$( (rel_expect_seq 10.3.1 1 4 80; rel_expect_seq 10.3.2 1 4 80; rel_expect_seq 10.3.4 1 4 80
	echo 10.3.4.9:80; rel_expect_seq 10.3.3 1 4 8080) | paste -sd' ' -)
OWNED='["10.3.4.1:80","10.3.4.2:80","10.3.4.3:80","10.3.4.4:80"]'
owned_ok() { [ "$(jq -c '.pools.d.owned' "$ST" 2>/dev/null)" = "$OWNED" ]; }
converged() {
	[ "$(fake_ctl GET /_fake/state | jq -r '[(.hw.pools[] | select(.pool_id | startswith("crashpool"))
		| .members | map("\(.address):\(.protocol_port)") | sort[]),
		(.uc.vservers[] | select(.vserver_id == "vserver-crash1")
		| .backends | map("\(.private_ip):\(.port)") | sort[])] | join(" ")')" = "$WANT" ]
}
serial_of() { if [ -e "$1" ]; then jq -e .serial "$1" 2>/dev/null || echo BAD; else echo 0; fi; }

nreq() { fake_log | jq 'length'; }

# A reference run: how many requests one apply makes.
LAT=100
fake_ctl POST /_fake/settings "{\"latency_ms\":$LAT}" >/dev/null
reset_world
fake_log_clear
run_lbr -c "$C" apply --auto-approve
R=$(nreq)
is "$RC" 0 "reference apply: exit 0"
ok "$(converged; echo $?)" "reference apply converged (the autoscaling member kept)"
ok "$([ "$R" -ge 15 ]; echo $?)" "a run makes $R requests"
ok "$(owned_ok; echo $?)" "the reference apply recorded what pool d owns"
LAST=$(serial_of "$ST")
is "$LAST" 1 "reference apply wrote serial 1"
answered_ge() { [ "$(nreq)" -ge "$1" ]; }

# Kill after k answers, k = 0 .. R (k = R: after the last one, while the
# state is written, or just after the agent exited).
N=$((R + 1))
k=0
killed_mid=0 bad_parse=0 bad_backup=0 backwards=0 bad_audit=0 bad_next=0 not_conv=0 no_progress=0
bad_owned=0
while [ $k -lt $N ]; do
	delay="after $k answers"
	# The fake answers k requests and holds the next ones (never
	# executing them): the agent cannot finish, whatever the load, until
	# it is killed.  k = R: nothing is held; the kill lands during the
	# state write or after the exit.
	fake_ctl POST /_fake/settings "{\"latency_ms\":$LAT,\"hold_after\":$k}" >/dev/null
	reset_world
	fake_log_clear
	"$LBR" -c "$C" apply --auto-approve >"$T/k.out" 2>"$T/k.err" </dev/null &
	pid=$!
	n=3000
	until answered_ge $k || ! kill -0 "$pid" 2>/dev/null || [ $n -eq 0 ]; do
		sleep 0.01
		n=$((n - 1))
	done
	kill -9 "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null
	[ $? -eq 137 ] && killed_mid=$((killed_mid + 1))

	s=$(serial_of "$ST")
	if [ "$s" = BAD ]; then
		bad_parse=$((bad_parse + 1))
		echo "# kill $delay: state file does not parse"
	elif [ "$s" -lt "$LAST" ]; then
		backwards=$((backwards + 1))
		echo "# kill $delay: serial went from $LAST to $s"
	else
		LAST=$s
	fi
	if [ -e "$ST.backup" ] && ! jq -e .serial "$ST.backup" >/dev/null 2>&1; then
		bad_backup=$((bad_backup + 1))
		echo "# kill $delay: backup does not parse"
	fi
	if [ -e "$ST.log" ] && ! jq -c . "$ST.log" >/dev/null 2>&1; then
		bad_audit=$((bad_audit + 1))
		echo "# kill $delay: audit log has a broken line"
	fi

	# Recovery, without latency to keep the test short; the held
	# requests are let go (as resets, never executed).
	fake_ctl POST /_fake/settings '{"latency_ms":0,"hold_after":-1}' >/dev/null
	run_lbr -c "$C" apply --auto-approve
	if [ "$RC" -ne 0 ]; then
		bad_next=$((bad_next + 1))
		echo "# kill $delay: next apply exited $RC"
		printf '%s\n' "$ERR" | head -n 5 | sed 's/^/#   /'
	fi
	converged || {
		not_conv=$((not_conv + 1))
		echo "# kill $delay: not converged after the next apply"
	}
	owned_ok || {
		bad_owned=$((bad_owned + 1))
		echo "# kill $delay: pool d owns $(jq -c .pools.d.owned "$ST" 2>/dev/null)"
	}
	s=$(serial_of "$ST")
	if [ "$s" = BAD ] || [ "$s" -le "$LAST" ]; then
		no_progress=$((no_progress + 1))
		echo "# kill $delay: serial $s after the next apply (was $LAST)"
	else
		LAST=$s
	fi
	k=$((k + 1))
done

# Until its last request was answered the agent cannot have exited.
ok "$([ $killed_mid -ge $R ]; echo $?)" "$killed_mid of $N runs were killed in flight (at least $R)"
is "$bad_parse" 0 "after every kill the state file parses"
is "$bad_backup" 0 "after every kill the .backup parses"
is "$backwards" 0 "serial never went backwards"
is "$bad_audit" 0 "the audit log only ever holds whole JSON lines"
is "$bad_next" 0 "the next apply took the lock and exited 0 every time"
is "$not_conv" 0 "the next apply converged every time"
is "$no_progress" 0 "the next apply advanced serial every time"
is "$bad_owned" 0 "the ownership record survived every kill: pool d owns what it declares"
is "$(file_mode_rel "$ST") $(file_mode_rel "$ST.backup")" "600 600" "state and backup are 0600"
is "$(jq -r .lineage "$ST")" "$(jq -r .lineage "$ST.backup")" "one lineage throughout"
ls "$T" | grep -E '^st\.json\.' | grep -vE '^st\.json\.(backup|lock|log)$' >"$T/leftovers"
is "$(cat "$T/leftovers")" "" "no temporary state file left behind after a clean apply"

done_testing
