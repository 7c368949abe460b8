#!/bin/sh
# Terminal UX: colour only on a terminal and never with NO_COLOR, a progress
# line during applies of more than a few calls, -q silent unless something
# changed or failed.
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

# -q: silent when nothing changed, plan + summary when something did.
run_lbr -c l.ini -q apply --auto-approve
is "$RC" 0 "-q apply with nothing to do exits 0"
is "$OUT$ERR" "" "-q apply with nothing to do prints nothing"
fake_ctl POST /_fake/hw/pools/$P1/members '{"address":"10.0.0.9","protocol_port":80}' >/dev/null
run_lbr -c l.ini -q apply --auto-approve
is "$RC" 0 "-q apply with a change exits 0"
like "$OUT" '- 10\.0\.0\.9:80' "-q shows what it changed"
like "$OUT" '^Apply complete: 1 removed' "-q shows the summary when something changed"
HW_SK=bad run_lbr -c l.ini -q apply --auto-approve
is "$RC" 1 "-q apply that fails exits 1"
like "$ERR" 'error: .*401' "-q still reports the failure on stderr"
done_testing
