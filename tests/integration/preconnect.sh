#!/bin/sh
# Connections opened ahead (agent/sched.c, lbr_sched_warm): while a
# provider's first call is in flight (it runs alone, SPEC §4.1), the agent
# opens the connections the calls after it will need, to the same address,
# without sending anything on them.  The fake's `pause` fault holds that
# first call, so each step waits for an event: the connections are there
# while the call is held, every later call goes over them (no new
# connection), and bad credentials still cost exactly one request.  Over
# TLS, libcurl's handshake then runs on a connection opened ahead.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

# 6 pools of 4 members, one undeclared in each (6 removals); parallelism 4.
setup() { # PREFIX
	local i specs=""
	for i in 1 2 3 4 5 6; do
		hw_pool "pre-$1-$i" "10.$1.$i.1:80 10.$1.$i.2:80 10.$1.$i.3:80 10.$1.$i.9:80"
		specs="$specs|p$i pre-$1-$i 10.$1.$i.1:80 10.$1.$i.2:80 10.$1.$i.3:80"
	done
	printf '%s' "${specs#|}"
}

# write_cfg FILE PREFIX [EXTRA-AGENT-LINES]
write_cfg() {
	local f=$1 specs
	specs=$(setup "$2")
	IFS='|'
	# shellcheck disable=SC2086
	set -- "$f" "$2" "${3:-}" $specs
	unset IFS
	# The held call must outlast a busy machine, not time out.
	hw_cfg "$1" "parallelism = 4${3:+
$3}" "$4" "$5" "$6" "$7" "$8" "$9"
	sed -i 's/^secret_key = env:HW_SK$/&\ntimeout = 300/' "$1"
}

# Connections the fake accepted since its stats were reset, less the ones
# this script made (NCTL counts them; the functions below run in this
# shell, never in $(...), so that the count is kept).
NCTL=0
ctl() { # METHOD PATH [BODY] -> $T/ctl.json
	fake_ctl "$@" >"$T/ctl.json"
	NCTL=$((NCTL + 1))
}
read_conns() { # -> CONNS
	ctl GET /_fake/stats
	CONNS=$(($(jq .connections "$T/ctl.json") - NCTL))
}
read_paused() { # -> PAUSED
	ctl GET /_fake/settings
	PAUSED=$(jq .paused_now "$T/ctl.json")
}

# run_held FILE: apply with the first list held until the agent has 4
# connections (or 60 s); sets PAUSED, HELD_CONNS, HELD_REQS, RC, OUT, ERR,
# AFTER_CONNS.
run_held() {
	local i=0 pid
	fake_log_clear
	fake_ctl POST /_fake/faults '{"cloud":"hw","op":"list","pause":true,"count":1}' >/dev/null
	fake_ctl DELETE /_fake/stats >/dev/null
	NCTL=0
	"$LBR" -vv -c "$1" apply --auto-approve >"$T/out" 2>"$T/err" </dev/null &
	pid=$!
	read_paused
	while [ "$PAUSED" -lt 1 ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
		read_paused
	done
	i=0
	read_conns
	while [ "$CONNS" -lt 4 ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
		read_conns
	done
	HELD_CONNS=$CONNS
	ctl GET /_fake/log
	HELD_REQS=$(jq length "$T/ctl.json")
	ctl POST /_fake/release
	wait $pid
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	read_conns
	AFTER_CONNS=$CONNS
}

# --- 1. plain HTTP
fake_start
hw_account
write_cfg "$T/a.ini" 20
run_held "$T/a.ini"
is "$PAUSED" 1 "the first list is held by the fake"
is "$HELD_CONNS" 4 "while it is held the agent has 4 connections: its own and 3 opened ahead"
is "$HELD_REQS" 0 "and nothing was sent on them meanwhile"
is "$RC" 0 "apply exits 0"
is "$AFTER_CONNS" 4 "every later call went over those 4 connections: none opened after"
is "$(fake_log | jq '[.[].conn] | unique | length')" 4 "the calls were spread over the 4 connections"
is "$(fake_count '.method == "DELETE" and .status == 204')" 6 "6 removals"
is "$(fake_count '.method == "GET"')" 12 "one list and one verification list per pool"
like "$ERR" "executor: 3 connection\\(s\\) opened while a provider's first call was in flight, 3 used" \
	"-vv says how many connections were opened ahead and used"
is "$(for i in 1 2 3 4 5 6; do hw_members "pre-20-$i"; done | wc -l | tr -d ' ')" 18 \
	"every pool converged to its 3 members"

# --- 2. bad credentials: the connections opened ahead carry nothing
write_cfg "$T/b.ini" 30
fake_log_clear
HW_SK=WRONGwrongWRONGwrongWRONGwrongWRONGwrong run_lbr -c "$T/b.ini" apply --auto-approve
is "$RC" 1 "a wrong SK: apply exits 1"
is "$(nreq)" 1 "exactly one request reached the cloud"

# --- 3. a single pool: nothing to open ahead
hw_pool pre-solo "10.40.0.1:80 10.40.0.9:80"
hw_cfg "$T/c.ini" "parallelism = 4" "solo pre-solo 10.40.0.1:80"
fake_ctl DELETE /_fake/stats >/dev/null
NCTL=0
run_lbr -c "$T/c.ini" apply --auto-approve
is "$RC" 0 "one pool: apply exits 0"
read_conns
is "$CONNS" 1 "one pool, one connection: none opened ahead"
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null

# --- 4. TLS: libcurl's handshake on the connections opened ahead
if ! command -v openssl >/dev/null 2>&1; then
	for what in "4 connections while held" "apply exits 0" "no connection opened after" "6 removals"; do
		ok 0 "TLS: $what # SKIP openssl not found"
	done
else
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -subj "/CN=127.0.0.1" \
		-days 2 -sha256 -addext "subjectAltName=IP:127.0.0.1" -out "$T/tls.pem" 2>/dev/null
	fake_start --tls-cert "$T/tls.pem" --tls-key "$T/tls.key"
	FAKE_URL="https://127.0.0.1:$FAKE_PORT"
	fake_ctl() {
		if [ $# -ge 3 ]; then
			curl -sS --max-time 10 --cacert "$T/tls.pem" -X "$1" \
				-H 'Content-Type: application/json' --data-binary "$3" "$FAKE_URL$2"
		else
			curl -sS --max-time 10 --cacert "$T/tls.pem" -X "$1" "$FAKE_URL$2"
		fi
	}
	hw_account
	write_cfg "$T/d.ini" 50
	sed -i "s|^timeout = 300$|&\nca_file = $T/tls.pem|" "$T/d.ini"
	run_held "$T/d.ini"
	is "$HELD_CONNS" 4 "TLS: 4 connections while the first list is held"
	is "$RC" 0 "TLS: apply exits 0"
	is "$AFTER_CONNS" 4 "TLS: no connection opened after"
	is "$(fake_count '.method == "DELETE" and .status == 204')" 6 "TLS: 6 removals"
fi

done_testing
