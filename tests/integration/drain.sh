#!/bin/sh
# Drain before remove (issue 6): Huawei PUT weight 0 then DELETE after the
# drain time, UCloud UpdateBackendAttribute Enabled=0 then ReleaseBackend; a
# drain does not hold up other pools; a member declared again during the
# wait is restored instead of removed.
. "$top_srcdir/tests/lib.sh"
fake_start
hw_account
uc_account
P1=5a9a3e9e-d1aa-448e-af37-a70171f2a332
P2=6b0b4f0f-e2bb-559f-bf48-b81282f3b443
hw_pool $P1 "10.0.0.1:80 10.0.0.2:80 10.0.0.9:80"
hw_pool $P2 "10.0.2.1:80 10.0.2.9:80"
fake_ctl POST /_fake/hw/pools/$P1/members '{"address":"10.0.0.8","protocol_port":80,"weight":7}' >/dev/null
fake_ctl POST /_fake/uc/vservers '{"project_id":"org-abc123","region":"cn-bj2","ulb_id":"ulb-aaaa0001","vserver_id":"vserver-aaaa0001","protocol":"TCP","frontend_port":80,"backends":[{"backend_id":"backend-keep0001","private_ip":"10.0.1.5","port":80},{"backend_id":"backend-gone0001","private_ip":"10.0.1.6","port":80}]}' >/dev/null

write_cfg() { # $1: extra member line for pool web
	{
		printf '[agent]\nstate = st.json\nmax_delete = 60%%\n'
		hw_provider_section
		uc_provider_section
		printf '[pool web]\nprovider = hw\npool_id = %s\nmember = 10.0.0.1:80\nmember = 10.0.0.2:80\n%s\ndrain = 2\n' "$P1" "$1"
		printf '[pool fast]\nprovider = hw\npool_id = %s\nmember = 10.0.2.1:80\n' "$P2"
		printf '[pool uc]\nprovider = sc\nulb_id = ulb-aaaa0001\nvserver_id = vserver-aaaa0001\nmember = 10.0.1.5:80\ndrain = 1\n'
	} >"$T/lbreconcile.ini"
}
write_cfg ""
cd "$T"

run_lbr apply --auto-approve
is "$RC" 0 "apply with drain exits 0"
LOG=$(fake_log)
ID9=$(printf '%s' "$LOG" | jq -r '[.[] | select(.method=="PUT")][0].member_id')
# Huawei: a PUT with an explicit weight 0 for each undeclared member, then DELETE.
is "$(printf '%s' "$LOG" | jq '[.[] | select(.method=="PUT")] | length')" 2 "two Huawei members drained (PUT)"
is "$(printf '%s' "$LOG" | jq -r '[.[] | select(.method=="PUT")] | map(.body) | unique | join(",")')" \
	'{"member":{"weight":0}}' "the PUT body sends weight 0 explicitly"
for m in $(printf '%s' "$LOG" | jq -r '.[] | select(.method=="PUT") | .member_id'); do
	put_t=$(printf '%s' "$LOG" | jq --arg m "$m" '[.[] | select(.method=="PUT" and .member_id==$m)][0].t_ms')
	del_t=$(printf '%s' "$LOG" | jq --arg m "$m" '[.[] | select(.method=="DELETE" and .member_id==$m)][0].t_ms')
	ok $([ "$del_t" != null ] && [ $((del_t - put_t)) -ge 1900 ] && echo 0 || echo 1) \
		"member $m deleted >= 2 s after its drain (PUT at $put_t ms, DELETE at $del_t ms)"
done
# The pool without drain is not held up by the drain wait.
# (Order, not time: pool web's first DELETE comes >= 2 s after its drains.)
fast_del=$(printf '%s' "$LOG" | jq --arg p $P2 '[.[] | select(.method=="DELETE" and .pool_id==$p)][0].seq')
web_del=$(printf '%s' "$LOG" | jq --arg p $P1 '[.[] | select(.method=="DELETE" and .pool_id==$p)][0].seq')
ok $([ "$fast_del" != null ] && [ "$web_del" != null ] && [ "$fast_del" -lt "$web_del" ] && echo 0 || echo 1) \
	"pool fast removed without waiting for pool web's drain (request $fast_del before $web_del)"
# UCloud: UpdateBackendAttribute Enabled=0 then ReleaseBackend >= 1 s later.
uc_upd=$(printf '%s' "$LOG" | jq '[.[] | select(.action=="UpdateBackendAttribute")][0]')
is "$(printf '%s' "$uc_upd" | jq -r '.params.BackendId + " Enabled=" + .params.Enabled')" \
	"backend-gone0001 Enabled=0" "UCloud drain sets Enabled=0 on the undeclared backend"
uc_rel=$(printf '%s' "$LOG" | jq '[.[] | select(.action=="ReleaseBackend")][0]')
ok $([ $(( $(printf '%s' "$uc_rel" | jq .t_ms) - $(printf '%s' "$uc_upd" | jq .t_ms) )) -ge 900 ] && echo 0 || echo 1) \
	"UCloud release comes >= 1 s after the drain"
is "$(hw_members $P1 | tr '\n' ' ')" "10.0.0.1:80 10.0.0.2:80 " "pool web converged"
is "$(wc -l < st.json.log | tr -d ' ')" 7 "audit log: 2 drains + 2 removals (web), 1 removal (fast), drain + release (uc)"
is "$(jq -r 'select(.action=="drain") | .outcome' st.json.log | sort -u)" ok "audit log records the drains"

# A member that comes back into the config during the wait is restored.
fake_log_clear
fake_ctl POST /_fake/hw/pools/$P1/members '{"address":"10.0.0.7","protocol_port":80,"weight":42}' >/dev/null
# Edit the config once the drain was sent (not after a fixed delay: under
# valgrind on a busy box the agent may not have looked yet), well inside
# the 2 s drain wait.
(
	n=0
	until fake_log | jq -e '[.[] | select(.method=="PUT")] | length > 0' >/dev/null 2>&1 ||
		[ $n -ge 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	write_cfg "member = 10.0.0.7:80"
) &
EDIT_PID=$!
run_lbr apply --auto-approve --pool web
wait $EDIT_PID
is "$RC" 0 "apply exits 0 when the drained member was declared again"
LOG=$(fake_log)
is "$(printf '%s' "$LOG" | jq -r '[.[] | select(.method=="PUT")] | map(.body) | join(" ")')" \
	'{"member":{"weight":0}} {"member":{"weight":42}}' "drained to 0, then restored to its previous weight 42"
is "$(printf '%s' "$LOG" | jq '[.[] | select(.method=="DELETE")] | length')" 0 "the re-declared member was not removed"
like "$ERR" 'declared again or no longer ours to remove; restoring it' "the restore is reported"
is "$(hw_members $P1 | tr '\n' ' ')" "10.0.0.1:80 10.0.0.2:80 10.0.0.7:80 " "the member is still in the pool"
is "$(fake_ctl GET /_fake/hw/pools/$P1 | jq '.members[] | select(.address=="10.0.0.7") | .weight')" 42 "with its weight back"
# A member protected during the wait (protect = its address) is restored,
# not removed: protection wins over a removal decided before the wait.
write_cfg ""
fake_log_clear
fake_ctl POST /_fake/hw/pools/$P1/members '{"address":"10.0.0.8","protocol_port":80,"weight":9}' >/dev/null
(
	n=0
	until fake_log | jq -e '[.[] | select(.method=="PUT")] | length > 0' >/dev/null 2>&1 ||
		[ $n -ge 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	write_cfg "member = 10.0.0.7:80
protect = 10.0.0.8"
) &
EDIT_PID=$!
run_lbr apply --auto-approve --pool web
wait $EDIT_PID
is "$RC" 0 "apply exits 0 when the drained member was protected meanwhile"
is "$(fake_log | jq '[.[] | select(.method=="DELETE")] | length')" 0 "the protected member was not removed"
is "$(fake_ctl GET /_fake/hw/pools/$P1 | jq '.members[] | select(.address=="10.0.0.8") | .weight')" 9 \
	"and got its weight back"
done_testing
