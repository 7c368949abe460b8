#!/bin/sh
# Hostile input (issue 4, acceptance 8), part 2, against a tiny scripted
# Huawei stand-in (python3), because the fake cloud cannot produce these
# answers: it truncates member ids to 39 characters, and making it list
# more than 64 MiB takes a long setup.
#  - an id of 129 or more characters is rejected (128 is the limit and is
#    still accepted: the control case);
#  - a body over the 64 MiB cap is abandoned, with or without a
#    Content-Length (close-delimited body).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/rel-lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 not found"

cat >"$T/stub.py" <<'EOF'
import http.server, json, sys, threading

mode, portfile, logfile = sys.argv[1], sys.argv[2], sys.argv[3]
log_lock = threading.Lock()
deleted = set()

def member(mid, addr):
    return {"id": mid, "name": "", "address": addr, "protocol_port": 80,
            "weight": 1, "admin_state_up": True, "subnet_id": "sub-1",
            "project_id": "p", "tenant_id": "p", "operating_status": "ONLINE"}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def note(self):
        with log_lock, open(logfile, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))

    def do_GET(self):
        self.note()
        if mode.startswith("id"):
            n = int(mode[2:])
            ms = [member("keep-1", "10.6.0.1")]
            if "a" * n not in deleted:
                ms.append(member("a" * n, "10.6.0.2"))
            body = json.dumps({"members": ms}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        # 65 MiB of a valid listing: one extra member with a huge name
        pad = b"x" * (65 << 20)
        head = json.dumps({"members": [member("keep-1", "10.6.0.1")]}).encode()[:-2]
        body = head + b', {"id": "extra-2", "address": "10.6.0.2", "protocol_port": 80, "name": "' \
            + pad + b'"}]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if mode == "big":
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            for i in range(0, len(body), 1 << 20):
                self.wfile.write(body[i:i + (1 << 20)])
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_DELETE(self):
        self.note()
        with log_lock:
            deleted.add(self.path.rsplit("/", 1)[-1])
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
EOF

STUB_PID=
stub_stop() {
	if [ -n "$STUB_PID" ]; then
		kill "$STUB_PID" 2>/dev/null
		wait "$STUB_PID" 2>/dev/null
		STUB_PID=
	fi
}
trap 'stub_stop; cleanup' EXIT
# stub_start MODE : sets STUB_URL, truncates $T/stub.log
stub_start() {
	stub_stop
	rm -f "$T/stub.port" "$T/stub.log"
	: >"$T/stub.log"
	python3 "$T/stub.py" "$1" "$T/stub.port" "$T/stub.log" 2>"$T/stub.err" &
	STUB_PID=$!
	rel_wait_file "$T/stub.port" 100 || { echo "# stub did not start"; cat "$T/stub.err"; exit 1; }
	STUB_URL="http://127.0.0.1:$(cat "$T/stub.port")"
}
stub_cfg() {
	{
		printf '[agent]\nstate = st.json\nmax_delete = 100%%\n'
		FAKE_URL=$STUB_URL hw_provider_section
		printf '\n[pool web]\nprovider = hw\npool_id = stubpool\nmember = 10.6.0.1:80\n'
	} >"$T/lbr.ini"
}
run_lbr_t() {
	timeout 60 "$LBR" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# 1. Id lengths.
for n in 129 130 300; do
	stub_start "id$n"
	stub_cfg
	run_lbr_t -c "$T/lbr.ini" apply --auto-approve
	is "$RC" 1 "id of $n characters: apply exits 1"
	like "$ERR" 'pool "web".*malformed id' "id of $n characters: rejected as malformed"
	is "$(grep -vc '^GET ' "$T/stub.log")" 0 "id of $n characters: no DELETE"
done
stub_start id128
stub_cfg
run_lbr_t -c "$T/lbr.ini" apply --auto-approve
is "$RC" 0 "control: an id of 128 characters is valid (exit 0)"
is "$(grep '^DELETE ' "$T/stub.log" | sed 's|.*/members/||' | sort -u)" "$(printf '%0128d' 0 | tr 0 a)" \
	"control: ... and removed with that exact id"

# 2. Oversized bodies.
for m in big bigclose; do
	stub_start "$m"
	stub_cfg
	T0=$(now_ms)
	run_lbr_t -c "$T/lbr.ini" apply --auto-approve
	EL=$(($(now_ms) - T0))
	is "$RC" 1 "$m: a 65 MiB listing: exit 1"
	like "$ERR" 'pool "web".*larger than 67108864 bytes' "$m: stderr names the pool and the cap"
	is "$(grep -vc '^GET ' "$T/stub.log")" 0 "$m: no DELETE"
	ok "$([ "$(grep -c '^GET ' "$T/stub.log")" -le 6 ]; echo $?)" "$m: a bounded number of listings"
	ok "$([ "$EL" -lt 30000 ]; echo $?)" "$m: abandoned promptly ($EL ms)"
done
stub_stop

done_testing
