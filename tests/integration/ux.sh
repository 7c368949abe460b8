#!/bin/sh
# Terminal UX: colour only on a terminal and never with NO_COLOR, a progress
# line during applies of more than a few calls, -q silent unless something
# failed; the command line (--version, help, COMMAND --help, did you mean,
# options after arguments, config search, --json everywhere); journald
# priorities under systemd.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || skip_all "python3 is needed for the pseudo-terminal"
fake_start
hw_account
P1=5a9a3e9e-d1aa-448e-af37-a70171f2a332
hw_pool $P1 "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80 10.0.0.5:80 10.0.0.6:80 10.0.0.7:80 10.0.0.8:80"
cd "$T"
{
	printf '[agent]\nstate = st.json\nmax_delete = 60%%\n'
	hw_provider_section
	printf '[pool web]\nprovider = hw\npool_id = %s\nmember = 10.0.0.1:80\nmember = 10.0.0.2:80\nmember = 10.0.0.3:80\nmember = 10.0.0.4:80\n' "$P1"
} >l.ini

# pty ENV-ASSIGNMENTS -- ARGS... : raw terminal output in $T/pty.raw
pty() {
	python3 - "$LBR" "$@" >"$T/pty.raw" <<'PY'
import os, pty, sys, select, time
prog = sys.argv[1]
args = sys.argv[2:]
env = dict(os.environ)
while args and "=" in args[0] and args[0] != "--":
    k, v = args.pop(0).split("=", 1)
    env[k] = v
if args and args[0] == "--":
    args.pop(0)
if args and args[0] == prog:
    args.pop(0)
pid, fd = pty.fork()
if pid == 0:
    os.execve(prog, [prog] + args, env)
buf = b""
end = time.time() + 30
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
_, st = os.waitpid(pid, 0)
sys.stdout.buffer.write(buf)
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 99)
PY
	RC=$?
}
ESC=$(printf '\033')

pty -- "$LBR" -c l.ini plan
is "$RC" 0 "plan on a terminal exits 0"
ok $(grep -q "${ESC}\[31m- 10.0.0.5:80" "$T/pty.raw" && echo 0 || echo 1) "removals are red on a terminal"
pty NO_COLOR=1 -- "$LBR" -c l.ini plan
ok $(grep -q "$ESC" "$T/pty.raw" && echo 1 || echo 0) "NO_COLOR=1: no escape sequences on a terminal"
run_lbr -c l.ini plan
ok $(printf '%s' "$OUT$ERR" | grep -q "$ESC" && echo 1 || echo 0) "no escape sequences when output is a pipe"
like "$OUT" '^  - 10\.0\.0\.5:80 +\(member [0-9a-f-]{36}\)  pool web$' "plain plan line for a pipe"

# Progress line during an apply of more than a few calls, on a terminal.
pty NO_COLOR=1 -- "$LBR" -c l.ini apply --auto-approve
is "$RC" 0 "apply on a terminal exits 0"
ok $(tr '\r' '\n' <"$T/pty.raw" | grep -q '^applying: 4/4 calls done' && echo 0 || echo 1) "a progress line counts the calls (4/4)"
run_lbr -c l.ini apply --auto-approve
unlike "$ERR" 'applying:' "no progress line when stderr is not a terminal"

# -q: nothing but errors, so that cron mails only on failure.
run_lbr -c l.ini -q apply --auto-approve
is "$RC" 0 "-q apply with nothing to do exits 0"
is "$OUT$ERR" "" "-q apply with nothing to do prints nothing"
fake_ctl POST /_fake/hw/pools/$P1/members '{"address":"10.0.0.9","protocol_port":80}' >/dev/null
run_lbr -c l.ini -q apply --auto-approve
is "$RC" 0 "-q apply with a change exits 0"
is "$OUT$ERR" "" "-q apply that removed a member prints nothing (cron mails only on failure)"
is "$(hw_members $P1 | tr '\n' ' ')" "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80 " "-q apply did remove it"
HW_SK=bad run_lbr -c l.ini -q apply --auto-approve
is "$RC" 1 "-q apply that fails exits 1"
is "$OUT" "" "-q apply that fails prints nothing on stdout"
like "$ERR" 'error: .*401' "-q still reports the failure on stderr"
run_lbr -c l.ini -q plan
is "$RC$OUT$ERR" "0" "-q plan with nothing to do prints nothing"

# --- journald priorities ---------------------------------------------------
# Under systemd, JOURNAL_STREAM names the device:inode of stderr; then every
# stderr line starts with its syslog priority.  The test gives the agent a
# stderr file and names that file the same way.
: >"$T/jerr"
JS=$(stat -c '%d:%i' "$T/jerr")
JOURNAL_STREAM=$JS HW_SK=bad "$LBR" -c l.ini apply --auto-approve >"$T/jout" 2>>"$T/jerr" </dev/null
is "$?" 1 "journal: a failing apply exits 1"
J=$(cat "$T/jerr")
like "$J" '^<3>lbreconcile: error: .*401' "journal: an error line carries <3>"
is "$(grep -vc '^<[0-7]>' "$T/jerr")" 0 "journal: every stderr line carries a priority"
: >"$T/jerr"
JOURNAL_STREAM=$JS "$LBR" -c l.ini --metrics-file /nonexistent-dir/m.prom validate >"$T/jout" 2>>"$T/jerr" </dev/null
is "$?" 0 "journal: validate with an unwritable metrics file exits 0"
is "$(cat "$T/jerr")" "<4>lbreconcile: warning: metrics: cannot write '/nonexistent-dir/m.prom' (No such file or directory)" \
	"journal: a warning carries <4>"
: >"$T/jerr"
JOURNAL_STREAM=$JS "$LBR" -c l.ini -v validate >"$T/jout" 2>>"$T/jerr" </dev/null
unlike "$(grep -v '^<[0-7]>' "$T/jerr")" . "journal: -v lines carry priorities too"
: >"$T/jerr"
JOURNAL_STREAM=$JS "$LBR" aply >"$T/jout" 2>>"$T/jerr" </dev/null
is "$(head -n 1 "$T/jerr")" "<3>lbreconcile: unknown command 'aply'; did you mean 'apply'?" "journal: usage errors carry <3>"
# A JOURNAL_STREAM that is not this stderr (inherited by a child whose
# stderr went to a file): no prefix.
JOURNAL_STREAM=1:1 run_lbr aply
like "$ERR" "^lbreconcile: unknown command 'aply'" "JOURNAL_STREAM of another stream: no prefix"
run_lbr aply
unlike "$ERR" '^<[0-7]>' "no JOURNAL_STREAM: no prefix"

# --- the command line ------------------------------------------------------
VER=$("$LBR" version | awk '{ print $2 }')
for v in --version -V; do
	run_lbr $v
	is "$RC" 0 "$v exits 0"
	like "$OUT" "^lbreconcile $VER \(plugin ABI [0-9]+\.[0-9]+\)$" "$v prints the version"
done
run_lbr help
is "$RC" 0 "help exits 0"
like "$OUT" '^usage: lbreconcile ' "help prints the usage on stdout"
for c in validate plan apply drift run state providers version; do
	like "$OUT" "^  $c( |$)" "help lists '$c'"
done
run_lbr --help
is "$RC:$OUT" "0:$("$LBR" help)" "--help is help"
run_lbr help plan
is "$RC" 0 "help plan exits 0"
like "$OUT" '^usage: lbreconcile \[GLOBAL OPTIONS\] plan ' "help plan: the usage of plan"
like "$OUT" '--detailed-exitcode' "help plan: plan's own options"
unlike "$OUT" 'auto-approve' "help plan: not apply's options"
run_lbr plan --help
is "$RC:$OUT" "0:$("$LBR" help plan)" "plan --help is help plan"
run_lbr apply -h
like "$OUT" '--auto-approve' "apply -h: apply's options"
run_lbr state --help
like "$OUT" 'unlock \[--force\] LOCK_ID' "state --help: unlock [--force] LOCK_ID"
run_lbr help bogus
is "$RC" 1 "help of an unknown command exits 1"
for pair in aply:apply plna:plan drfit:drift stat:state provders:providers verison:version; do
	run_lbr "${pair%%:*}"
	is "$RC" 1 "'${pair%%:*}' exits 1"
	is "$(printf '%s\n' "$ERR" | head -n 1)" "lbreconcile: unknown command '${pair%%:*}'; did you mean '${pair#*:}'?" \
		"'${pair%%:*}': did you mean '${pair#*:}'?"
done
run_lbr xyzzy
is "$ERR" "lbreconcile: unknown command 'xyzzy'
lbreconcile: see 'lbreconcile help' for the list of commands" "a command far from every other: no suggestion"
run_lbr
is "$RC" 1 "no command exits 1"
like "$ERR" '^usage: lbreconcile ' "no command: the usage on stderr"
run_lbr -c l.ini plan --once
is "$RC" 1 "an option of another command exits 1"
is "$ERR" "lbreconcile: plan: option '--once' is not valid for this command (see 'lbreconcile plan --help')" \
	"and says which and where to look"
run_lbr -c l.ini plan extra
is "$ERR" "lbreconcile: plan: unexpected argument 'extra' (see 'lbreconcile plan --help')" "an extra argument is named"
run_lbr --bogus version
is "$RC:$ERR" "1:lbreconcile: unknown option '--bogus' (see 'lbreconcile help')" "an unknown option is named"
# Options before or after the command and its arguments.
run_lbr plan -c l.ini --json
is "$RC" 0 "options after the command"
is "$(printf '%s' "$OUT" | jq -r .command)" plan "--json after the command is honoured"
run_lbr -c l.ini state unlock 00000000-0000-0000-0000-000000000000 --force
RC1=$RC ERR1=$ERR
run_lbr -c l.ini state unlock --force 00000000-0000-0000-0000-000000000000
is "$RC:$ERR" "$RC1:$ERR1" "state unlock ID --force is state unlock --force ID"
unlike "$ERR" 'expected|not valid' "state unlock accepts --force in either place"
run_lbr -c l.ini state list --force
is "$RC:$ERR" "1:lbreconcile: state list: option '--force' is not valid here (see 'lbreconcile state --help')" \
	"--force only with state unlock"

# Config search: -c, $LBRECONCILE_CONFIG, ./lbreconcile.ini, SYSCONFDIR.
mkdir "$T/empty"
(cd "$T/empty" && env -u LBRECONCILE_CONFIG "$LBR" validate >"$T/out" 2>"$T/err")
is "$?" 1 "no config anywhere: exit 1"
E=$(cat "$T/err")
like "$E" '-c' "the error names -c"
like "$E" 'LBRECONCILE_CONFIG' "the error names LBRECONCILE_CONFIG"
like "$E" '\./lbreconcile\.ini|[^/]lbreconcile\.ini' "the error names ./lbreconcile.ini"
like "$E" '/etc/lbreconcile/lbreconcile\.ini|/lbreconcile/lbreconcile\.ini' "the error names the system config"
cp l.ini "$T/empty/lbreconcile.ini"
(cd "$T/empty" && env -u LBRECONCILE_CONFIG "$LBR" validate >"$T/out" 2>"$T/err")
is "$?:$(cat "$T/out")" "0:lbreconcile.ini: ok (1 pools, 1 providers, 4 declared members)" "./lbreconcile.ini is found"
(cd "$T/empty" && LBRECONCILE_CONFIG="$T/l.ini" "$LBR" validate >"$T/out" 2>"$T/err")
like "$(cat "$T/out")" "^$T/l.ini: ok" "LBRECONCILE_CONFIG wins over ./lbreconcile.ini"
(cd "$T/empty" && LBRECONCILE_CONFIG="$T/empty/lbreconcile.ini" "$LBR" -c "$T/l.ini" validate >"$T/out" 2>"$T/err")
like "$(cat "$T/out")" "^$T/l.ini: ok" "-c wins over LBRECONCILE_CONFIG"

# providers and version need no valid config.
mkdir "$T/bad"
printf '[agent]\nstate = st.json\n' >"$T/bad/lbreconcile.ini"
(cd "$T/bad" && env -u LBRECONCILE_CONFIG "$LBR" providers >"$T/out" 2>"$T/err")
is "$?" 0 "providers next to an incomplete lbreconcile.ini exits 0"
is "$(cat "$T/err")" "" "and says nothing about it without -v"
like "$(cat "$T/out")" '^  huaweicloud +version ' "and lists the plugins"
(cd "$T/bad" && env -u LBRECONCILE_CONFIG "$LBR" version >"$T/out" 2>"$T/err")
is "$?:$(cat "$T/err")" "0:" "version next to an incomplete lbreconcile.ini"

# --json is honoured by every command that prints data.
SCHEMA_DIR="$top_srcdir/contrib/schema"
schema() { # NAME FILE DESCRIPTION
	if command -v python3 >/dev/null 2>&1 && python3 -c 'import jsonschema' 2>/dev/null; then
		is "$(python3 "$top_srcdir/tests/validate-json.py" "$SCHEMA_DIR" "$1" "$2" 2>&1)" "" "$3"
	else
		echo "ok $((_tap_n + 1)) - # SKIP python3-jsonschema not installed: $3"
		_tap_n=$((_tap_n + 1))
	fi
}
run_lbr --json version
printf '%s\n' "$OUT" >"$T/v.json"
is "$(jq -r '[.command, .version] | join(" ")' "$T/v.json")" "version $VER" "version --json"
schema version "$T/v.json" "version --json validates"
run_lbr providers --json
printf '%s\n' "$OUT" >"$T/p.json"
is "$(jq -r '[.plugins[].name] | sort | join(" ")' "$T/p.json")" "huaweicloud ucloud" "providers --json lists the plugins"
schema providers "$T/p.json" "providers --json validates"
run_lbr -c l.ini --json validate
printf '%s\n' "$OUT" >"$T/val.json"
is "$(jq -c '[.valid, .counts.pools, .counts.providers, .counts.members]' "$T/val.json")" "[true,1,1,4]" "validate --json"
schema validate "$T/val.json" "validate --json validates"
run_lbr -c l.ini --json state list
printf '%s\n' "$OUT" >"$T/sl.json"
is "$(jq -r '[.pools[] | .name + " " + .last_result] | join(",")' "$T/sl.json")" "web error" "state list --json"
schema "state-list" "$T/sl.json" "state list --json validates"
run_lbr -c l.ini --json state show
is "$(printf '%s' "$OUT" | jq -r 'type')" object "state show --json prints the state document"
done_testing
