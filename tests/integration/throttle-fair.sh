#!/bin/sh
# Once a provider throttles, the calls waiting for a slot are served in the
# order they came: with cooperative tasks a task that just gave its slot back
# would otherwise take it again at once, and the calls already waiting (taken
# from the queue early) would only go at the very end of the batch - long
# enough on a big batch to run out of their retry deadline.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
all="" keep=""
for k in $(seq 1 108); do all="$all 10.7.$((k / 200)).$((k % 200 + 1)):80"; done
for k in $(seq 1 8); do keep="$keep 10.7.0.$((k + 1)):80"; done
hw_pool pool-f "$all"
hw_cfg "$T/f.ini" "parallelism = 16
max_delete = 100%" "f pool-f$keep"

# The order the removals are queued in is the plan's.
run_lbr -c "$T/f.ini" plan --json
printf '%s' "$OUT" | jq -r '.pools[0].remove[].id' >"$T/plan.txt"
is "$(wc -l <"$T/plan.txt" | tr -d ' ')" 100 "plan: 100 removals"

# Removals limited to 20/s (429 beyond): the agent paces itself.
fake_ctl POST /_fake/settings '{"latency_ms":20,"rate_limit":{"op":"delete","per_sec":20}}' >/dev/null
fake_log_clear
run_lbr -c "$T/f.ini" apply --auto-approve
is "$RC" 0 "apply under a rate limit exits 0"
ok "$([ "$(fake_count '.status == 429')" -gt 0 ]; echo $?)" "the fake did throttle ($(fake_count '.status == 429') answers 429)"
fake_log | jq -r '.[] | select(.method == "DELETE" and .status == 204) | .member_id' >"$T/done.txt"
is "$(wc -l <"$T/done.txt" | tr -d ' ')" 100 "every removal went through"
# How far behind its place in the queue each removal went through.
late=$(awk 'NR == FNR { p[$1] = NR; next } { d = FNR - p[$1]; if (d > m) m = d } END { print m + 0 }' \
	"$T/plan.txt" "$T/done.txt")
ok "$([ "$late" -le 40 ]; echo $?)" \
	"no removal goes through more than 40 places after its turn (worst: $late; unfair slots: ~75)"

done_testing
