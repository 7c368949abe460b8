# Helpers shared by the Huawei integration tests (hw-*.sh, guards.sh,
# drift.sh, state.sh, cfg-errors.sh).  Source it after tests/lib.sh.

# Pool ids used by the tests (valid [A-Za-z0-9_-] ids).
P_WEB=5a9a3e9e-d1aa-448e-af37-a70171f2a332
P_API=7b8c1d2e-0000-4444-8888-0123456789ab

# hw_cfg FILE AGENT_EXTRA POOL_SPEC...
# POOL_SPEC is "NAME POOL_ID ADDR:PORT..." (members may be empty);
# AGENT_EXTRA is a string of extra [agent] lines (may be empty).
hw_cfg() {
	local f=$1 extra=$2 spec name pid m
	shift 2
	{
		echo "[agent]"
		echo "state = st.json"
		[ -n "$extra" ] && printf '%s\n' "$extra"
		hw_provider_section
		for spec in "$@"; do
			set -- $spec
			name=$1 pid=$2
			shift 2
			echo
			echo "[pool $name]"
			echo "provider = hw"
			echo "pool_id = $pid"
			for m in "$@"; do
				echo "member = $m"
			done
		done
	} >"$f"
}

# Number of requests in the fake's log that could change the world.
mutating() { fake_count '.method != "GET"'; }
# Number of requests of any kind.
nreq() { fake_log | jq 'length'; }

# run_pty ANSWER ARGS... : run the agent on a pseudo-terminal, type ANSWER
# when it asks; sets OUT (everything the terminal showed) and RC.
run_pty() {
	local answer=$1
	shift
	python3 - "$answer" "$LBR" "$@" >"$T/pty.out" 2>"$T/pty.err" <<'EOF'
import os, pty, sys, select, time
answer = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
buf = b""
sent = False
deadline = time.time() + 20
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    if not sent and b"Enter a value:" in buf:
        os.write(fd, (answer + "\n").encode())
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode("utf-8", "replace"))
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 99)
EOF
	RC=$?
	OUT=$(tr -d '\r' <"$T/pty.out" | sed 's/\x1b\[[0-9;]*m//g')
}

# file_mode FILE -> octal permission bits
file_mode() { stat -c %a "$1"; }
