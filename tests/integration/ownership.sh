#!/bin/sh
# Ownership (SPEC §5a): prune = all | owned | none, protect selectors, the
# ownership record in the state, and an autoscaling group adding and
# removing members while `run` reconciles: none of them is ever removed,
# and a member declared then undeclared is removed by the next pass.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
P1=5a9a3e9e-d1aa-448e-af37-a70171f2a332
P2=6b0b4f0f-e2bb-559f-bf48-b81282f3b443
hw_pool $P1 "10.0.0.1:80 10.0.0.2:80 10.0.0.50:80"
hw_pool $P2 "10.0.2.1:80"
fake_ctl POST /_fake/hw/pools/$P2/members '{"address":"10.0.2.60","protocol_port":80,"name":"as-web-1"}' >/dev/null
fake_ctl POST /_fake/hw/pools/$P2/members '{"address":"10.0.2.61","protocol_port":80,"name":"manual"}' >/dev/null
cd "$T"
S=st.json
cfg() { # cfg PRUNE MEMBERS-OF-ONE...
	local prune=$1
	shift
	{
		printf '[agent]\nstate = st.json\ninterval = 1\nmax_delete = 100%%\n'
		hw_provider_section
		printf '[pool one]\nprovider = hw\npool_id = %s\nprune = %s\n' "$P1" "$prune"
		for m in "$@"; do printf 'member = %s\n' "$m"; done
		printf '[pool two]\nprovider = hw\npool_id = %s\nprotect = name:as-*\nmember = 10.0.2.1:80\n' "$P2"
	} >l.ini.new
	mv l.ini.new l.ini
}

# Bad selectors and prune values: validate errors with FILE:LINE, no call.
printf '[agent]\nstate = st.json\n' >bad.ini
hw_provider_section >>bad.ini
printf '[pool one]\nprovider = hw\npool_id = %s\nmember = 10.0.0.1:80\nprotect = 10.0.0.0/33\n' "$P1" >>bad.ini
run_lbr -c bad.ini validate
is "$RC" 1 "a CIDR with /33 is refused"
like "$ERR" "bad\.ini:[0-9]+:.*10\.0\.0\.0/33" "with FILE:LINE and the selector"
sed -i 's|^protect = .*|protect = colour:red|' bad.ini
run_lbr -c bad.ini validate
is "$RC" 1 "an unknown selector kind is refused"
sed -i 's|^protect = .*|prune = some|' bad.ini
run_lbr -c bad.ini validate
is "$RC" 1 "an unknown prune mode is refused"
like "$ERR" "prune" "naming prune"
is "$(nreq)" 0 "validate made no request"

# prune = owned with no state: owns nothing, removes nothing.
cfg owned 10.0.0.1:80 10.0.0.2:80
run_lbr -c l.ini plan
is "$RC" 0 "plan exits 0"
like "$OUT" "unmanaged" "plan counts the unmanaged member"
unlike "$OUT" "- 10\.0\.0\.50:80" "and does not plan to remove it"
run_lbr -c l.ini -v plan
like "$OUT$ERR" "10\.0\.0\.50:80" "-v lists the unmanaged member"
like "$OUT$ERR" "10\.0\.2\.60:80" "-v lists the protected member"
run_lbr -c l.ini --json plan
is "$(printf '%s' "$OUT" | jq -c '[.pools[] | {name, u: [.unmanaged[].address], p: [.protected[].address]}]')" \
	'[{"name":"one","u":["10.0.0.50"],"p":[]},{"name":"two","u":[],"p":["10.0.2.60"]}]' \
	"plan --json lists unmanaged and protected members"
json_valid plan "$OUT" "plan --json with protected and unmanaged members matches its schema"
run_lbr -c l.ini --json drift
is "$(printf '%s' "$OUT" | jq -c '[.pools[] | .unmanaged | length]')" '[1,0]' "drift --json lists them too"
json_valid drift "$OUT" "drift --json matches its schema"

fake_log_clear
run_lbr -c l.ini apply --auto-approve
is "$RC" 0 "first apply exits 0"
is "$(fake_count '.method=="DELETE"')" 1 "one DELETE: the unprotected manual member of pool two"
is "$(fake_log | jq -r '.[] | select(.method=="DELETE") | .pool_id')" "$P2" "in pool two (prune = all)"
is "$(hw_members $P2 | paste -sd' ' -)" "10.0.2.1:80 10.0.2.60:80" "the autoscaling member stays (protected)"
is "$(jq -c '.pools.one.owned' $S)" '["10.0.0.1:80","10.0.0.2:80"]' "the state records what pool one owns"
is "$(jq .format_version $S)" 2 "the state is format 2"

# Members others add (protected, or unmanaged under prune = owned) are not
# drift: drift stays 0 while they come and go.
AS=$(fake_ctl POST /_fake/hw/pools/$P2/members '{"address":"10.0.2.70","protocol_port":80,"name":"as-web-70"}' | jq -r .id)
UM=$(fake_ctl POST /_fake/hw/pools/$P1/members '{"address":"10.0.0.70","protocol_port":80}' | jq -r .id)
run_lbr -c l.ini --json drift
is "$RC" 0 "members added by others are not drift"
is "$(printf '%s' "$OUT" | jq -c '[.pools[].changed_outside.appeared | length]')" '[0,0]' \
	"and not 'changed outside' either"
fake_ctl DELETE /_fake/hw/pools/$P2/members/$AS >/dev/null
fake_ctl DELETE /_fake/hw/pools/$P1/members/$UM >/dev/null

# Undeclare 10.0.0.2: owned, so the next apply removes it; 10.0.0.50 stays.
cfg owned 10.0.0.1:80
fake_log_clear
run_lbr -c l.ini apply --auto-approve
is "$RC" 0 "second apply exits 0"
is "$(hw_members $P1 | paste -sd' ' -)" "10.0.0.1:80 10.0.0.50:80" "the undeclared owned member was removed, the unmanaged one kept"
is "$(jq -c '.pools.one.owned' $S)" '["10.0.0.1:80"]' "a removed member is no longer owned"

# prune = none: upsert only.
cfg none 10.0.0.1:80
fake_log_clear
run_lbr -c l.ini plan --detailed-exitcode
is "$RC" 0 "prune = none: nothing to do"

# The autoscaling run: a group adds and removes as-* members in pool two
# and unowned ones in pool one while `run` reconciles.
cfg owned 10.0.0.1:80 10.0.0.3:80
fake_ctl POST /_fake/hw/pools/$P1/members '{"address":"10.0.0.3","protocol_port":80}' >/dev/null
"$LBR" -c l.ini run >run.out 2>run.err &
PID=$!
passes() { jq -r .serial $S 2>/dev/null || echo 0; }
wait_serial() { # wait until the state serial reaches $1 (each pass saves)
	local n=600
	while [ "$(passes)" -lt "$1" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ "$(passes)" -ge "$1" ]
}
start=$(passes)
i=0
added=""
while [ $i -lt 6 ]; do
	i=$((i + 1))
	a=$(fake_ctl POST /_fake/hw/pools/$P2/members "{\"address\":\"10.0.2.$((100 + i))\",\"protocol_port\":80,\"name\":\"as-web-$((100 + i))\"}" | jq -r .id)
	b=$(fake_ctl POST /_fake/hw/pools/$P1/members "{\"address\":\"10.0.0.$((100 + i))\",\"protocol_port\":80}" | jq -r .id)
	added="$added $a $b"
	# Every other step, the group scales one in again, by itself.
	if [ $((i % 2)) -eq 0 ]; then
		fake_ctl DELETE /_fake/hw/pools/$P2/members/$a >/dev/null
	fi
	wait_serial $((start + i))
done
ok $? "the daemon kept passing while members came and went"
# Undeclare 10.0.0.3 (declared and owned): removed by the next pass.
cfg owned 10.0.0.1:80
kill -HUP $PID
now=$(passes)
wait_serial $((now + 2))
kill -TERM $PID
wait $PID
is "$?" 0 "the daemon exits 0 on SIGTERM"
deleted=$(fake_log | jq -r '.[] | select(.method=="DELETE") | .member_id')
bad=0
for id in $added; do
	printf '%s\n' "$deleted" | grep -qx "$id" && bad=$((bad + 1))
done
is "$bad" 0 "not one autoscaling or unmanaged member was removed by the agent"
is "$(hw_members $P1 | grep -c '^10\.0\.0\.3:80$')" 0 "the member declared then undeclared was removed"
is "$(hw_members $P1 | grep -c '^10\.0\.0\.1[0-9][0-9]:80$')" 6 "all six unmanaged members of pool one are still there"

done_testing
