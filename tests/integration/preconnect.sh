#!/bin/sh
# Connections opened ahead (agent/preconnect.c, lbr_sched_warm): while a
# provider's first call is in flight (it runs alone, SPEC §4.1), the agent
# opens the connections the calls after it will need, to the same address,
# without sending anything on them.  The fake's `pause` fault holds that
# first call, so each step waits for an event: the connections are there
# while the call is held, every later call goes over them (no new
# connection), and bad credentials still cost exactly one request.  Over
# TLS, libcurl's handshake then runs on a connection opened ahead.  The
# held runs set LBRECONCILE_PRECONNECT to 600 s, so that a busy machine
# cannot age the connections out before the release; connections the
# server closed, or older than the limit, are never handed to libcurl.
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
	grep -q '^timeout = 300$' "$1" || echo "# write_cfg: the timeout was not added to $1"
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

# The agent's sockets to the fake in CLOSE_WAIT: the fake closed them, the
# agent has not yet (IPv4: the fake listens on 127.0.0.1).
close_wait() { # -> CW
	CW=$(awk -v p="$(printf ':%04X' "$FAKE_PORT")" \
		'$4 == "08" && substr($3, length($3) - 4) == p { n++ } END { print n + 0 }' /proc/net/tcp)
}

# USED: how many connections opened ahead the -vv line says were used.
used_count() {
	USED=$(printf '%s\n' "$ERR" | sed -n 's/.*opened while a provider.s first call was in flight, \([0-9]*\) used$/\1/p')
	USED=${USED:-0}
}

# run_held FILE [PRECONNECT]: apply with the first list held until the
# agent has 4 connections (or 60 s) and, with HOLD_FOR_CLOSE=1, until the
# fake has closed 3 of them (or 60 s); sets PAUSED, HELD_CONNS, HELD_REQS,
# CW, RC, OUT, ERR, AFTER_CONNS.  PRECONNECT: LBRECONCILE_PRECONNECT, by
# default 600000.
run_held() {
	local i=0 pid
	fake_log_clear
	fake_ctl POST /_fake/faults '{"cloud":"hw","op":"list","pause":true,"count":1}' >/dev/null
	fake_ctl DELETE /_fake/stats >/dev/null
	NCTL=0
	# shellcheck disable=SC2086
	LBRECONCILE_PRECONNECT=${2:-600000} $LBR_WRAPPER "$LBR" -vv -c "$1" apply --auto-approve \
		>"$T/out" 2>"$T/err" </dev/null &
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
	i=0
	close_wait
	while [ "${HOLD_FOR_CLOSE:-0}" = 1 ] && [ "$CW" -lt 3 ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
		close_wait
	done
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
is "$(fake_count '.method == "DELETE" and .status == 204')" 6 "6 removals"
is "$(fake_count '.method == "GET"')" 12 "one list and one verification list per pool"
# How many of the 3 are used depends on how many calls the tasks have in
# flight at once after the release (3 on an idle machine, fewer when the
# machine is busy): at least one, and each used one carried requests.
used_count
like "$ERR" "executor: 3 connection\\(s\\) opened while a provider's first call was in flight, [123] used" \
	"-vv says 3 connections were opened ahead and some used: $USED"
is "$(fake_log | jq '[.[].conn] | unique | length')" "$((USED + 1))" \
	"the calls went over the first call's connection and the $USED used"
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

# --- 4. connections older than the limit are closed, not used
write_cfg "$T/e.ini" 60
run_held "$T/e.ini" 1
is "$RC" 0 "LBRECONCILE_PRECONNECT=1: apply exits 0"
like "$ERR" "executor: 3 connection\\(s\\) opened while a provider's first call was in flight, 0 used" \
	"the 3 opened ahead were too old when the calls came (1 ms): none used"
is "$(fake_log | jq '[.[].conn] | unique | length')" "$((AFTER_CONNS - 3))" \
	"no request went over any of the 3: every other connection carried requests"
is "$(fake_count '.method == "DELETE" and .status == 204')" 6 "aged out: 6 removals"

# --- 5. off: none opened
write_cfg "$T/f.ini" 70
fake_log_clear
fake_ctl DELETE /_fake/stats >/dev/null
NCTL=0
LBRECONCILE_PRECONNECT=off run_lbr -vv -c "$T/f.ini" apply --auto-approve
is "$RC" 0 "LBRECONCILE_PRECONNECT=off: apply exits 0"
unlike "$ERR" "opened while a provider's first call" "off: no connection opened ahead"
read_conns
is "$(fake_log | jq '[.[].conn] | unique | length')" "$CONNS" \
	"off: every connection the fake accepted carried requests ($CONNS)"

# --- 6. a value that is neither: refused before any call
write_cfg "$T/g.ini" 80
fake_log_clear
for v in 5s 0 600001 -1 ""; do
	LBRECONCILE_PRECONNECT=$v run_lbr -c "$T/g.ini" apply --auto-approve
	is "$RC" 1 "LBRECONCILE_PRECONNECT='$v': apply exits 1 (SPEC §2: a configuration error)"
	like "$ERR" "LBRECONCILE_PRECONNECT: '$v' is neither 'off' nor a number of milliseconds from 1 to 600000" \
		"LBRECONCILE_PRECONNECT='$v': says what it takes"
done
is "$(nreq)" 0 "a bad LBRECONCILE_PRECONNECT: no request reached the cloud"
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null

# --- 7. connections the server closed while the first call was held
fake_start --idle-timeout 1
hw_account
write_cfg "$T/h.ini" 90
HOLD_FOR_CLOSE=1 run_held "$T/h.ini"
is "$CW" 3 "the fake closed the 3 idle connections opened ahead"
is "$RC" 0 "closed by the server: apply exits 0"
like "$ERR" "executor: 3 connection\\(s\\) opened while a provider's first call was in flight, 0 used" \
	"closed by the server: none used"
is "$(fake_count '.method == "DELETE" and .status == 204')" 6 "closed by the server: 6 removals"
is "$(fake_count '.status >= 400')" 0 "closed by the server: no call failed"
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
