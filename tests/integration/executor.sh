#!/bin/sh
# The two executors: cooperative tasks on one thread (the default when every
# plugin allows it) and a thread per call (LBRECONCILE_EXECUTOR=threads)
# make exactly the same API calls, keep calls in flight together and reuse
# their connections.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
BASE=/v2/$HW_PROJECT/elb/pools

# 6 pools of 10 members, 4 undeclared in each: 24 removals.
setup() { # PREFIX
	local i k all keep specs=""
	for i in 1 2 3 4 5 6; do
		all="" keep=""
		for k in 1 2 3 4 5 6 7 8 9 10; do
			all="$all 10.$1.$i.$k:80"
			[ "$k" -le 6 ] && keep="$keep 10.$1.$i.$k:80"
		done
		hw_pool "pool-$1-$i" "$all"
		specs="$specs|p$i pool-$1-$i$keep"
	done
	printf '%s' "${specs#|}"
}

run_case() { # PREFIX EXECUTOR(or empty)
	local specs
	specs=$(setup "$1")
	IFS='|'
	# shellcheck disable=SC2086
	set -- "$1" "$2" $specs
	unset IFS
	hw_cfg "$T/$1.ini" "parallelism = 8" "$3" "$4" "$5" "$6" "$7" "$8"
	fake_log_clear
	fake_ctl DELETE /_fake/stats >/dev/null
	if [ -n "$2" ]; then
		LBRECONCILE_EXECUTOR=$2
		export LBRECONCILE_EXECUTOR
	fi
	run_lbr -vv -c "$T/$1.ini" apply --auto-approve
	unset LBRECONCILE_EXECUTOR
	# (the stats request itself is a connection too)
	CONNS=$(($(fake_ctl GET /_fake/stats | jq .connections) - 1))
}

# What was sent, with the case's prefix taken out so both cases compare.
calls() { # PREFIX
	fake_log | jq -r '.[] | "\(.method) \(.path) \(.status)"' |
		sed "s|/members/[^/ ]*|/members/M|; s|pool-$1-|pool-X-|" | sort
}

run_case 20 ""
is "$RC" 0 "cooperative: apply exits 0"
like "$ERR" "executor: 8 cooperative tasks on one thread" "the bundled plugin runs as cooperative tasks"
is "$(fake_count '.method == "DELETE" and .status == 204')" 24 "cooperative: 24 removals"
is "$(fake_count '.method == "GET"')" 12 "cooperative: one list per pool, one verification list per pool"
TASK_CALLS=$(calls 20)
ok "$([ "$CONNS" -ge 2 ] && [ "$CONNS" -le 9 ]; echo $?)" \
	"cooperative: calls overlap on 2..parallelism+1 connections (saw $CONNS)"
is "$(for i in 1 2 3 4 5 6; do hw_members "pool-20-$i"; done | wc -l)" 36 "cooperative: every pool converged to its 6 members"

run_case 30 threads
is "$RC" 0 "threads: apply exits 0"
like "$ERR" "executor: 8 threads" "LBRECONCILE_EXECUTOR=threads gives a thread per call"
unlike "$ERR" "cooperative tasks" "and no tasks"
ok "$([ "$CONNS" -ge 2 ] && [ "$CONNS" -le 9 ]; echo $?)" "threads: 2..parallelism+1 connections (saw $CONNS)"
is "$(calls 30)" "$TASK_CALLS" "threads: the same calls with the same answers as the tasks"
is "$(for i in 1 2 3 4 5 6; do hw_members "pool-30-$i"; done | wc -l)" 36 "threads: every pool converged"

done_testing
