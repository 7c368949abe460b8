# Shared helpers for the shell integration tests (TAP).  Source it:
#   . "$top_srcdir/tests/lib.sh"
# Every test gets its own temporary directory, removed on exit, and the
# fake cloud it starts is stopped on exit.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${LBR_TEST_PLUGIN_DIR:=$top_builddir/providers/.libs}"
export LBRECONCILE_PLUGIN_DIR="$LBR_TEST_PLUGIN_DIR"

LBR="${LBR:-$top_builddir/lbreconcile}"
FAKECLOUD="${FAKECLOUD:-$top_builddir/tests/fakecloud/fakecloud}"
# Tests may run the agent under a wrapper (valgrind): LBR_WRAPPER.
LBR_WRAPPER="${LBR_WRAPPER:-}"

T=$(mktemp -d "${TMPDIR:-/tmp}/lbr-test.XXXXXX")
FAKE_PID=
_tap_n=0
_tap_fail=0

cleanup() {
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
	fi
	if [ -n "${LBR_KEEP_TMP:-}" ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

ok() { # ok COND-EXIT-STATUS DESCRIPTION
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_fail=$((_tap_fail + 1))
	fi
}

# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
	fi
}

# like TEXT PATTERN(grep -E) DESCRIPTION
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '%s\n' "$1" | sed 's/^/#   /' | head -20
		echo "#   expected to match: $2"
	fi
}

unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 1 "$3"
		printf '%s\n' "$1" | sed 's/^/#   /' | head -20
		echo "#   expected NOT to match: $2"
	else
		ok 0 "$3"
	fi
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_fail" -eq 0 ]
	exit $?
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

# Start the fake cloud; sets FAKE_URL and FAKE_PORT.  Extra args pass through.
fake_start() {
	[ -x "$FAKECLOUD" ] || skip_all "fake cloud not built"
	rm -f "$T/fake.port"
	"$FAKECLOUD" --port-file "$T/fake.port" --log "$T/fake.log" "$@" >"$T/fake.out" 2>&1 &
	FAKE_PID=$!
	local i=0
	while [ ! -s "$T/fake.port" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$FAKE_PID" 2>/dev/null; then
			echo "# fake cloud did not start:"
			sed 's/^/#   /' "$T/fake.out"
			exit 1
		fi
		sleep 0.05
	done
	FAKE_PORT=$(cat "$T/fake.port")
	FAKE_URL="http://127.0.0.1:$FAKE_PORT"
}

# fake_ctl METHOD PATH [JSON-BODY] -> prints the response body
fake_ctl() {
	if [ $# -ge 3 ]; then
		curl -sS --max-time 10 -X "$1" -H 'Content-Type: application/json' \
			--data-binary "$3" "$FAKE_URL$2"
	else
		curl -sS --max-time 10 -X "$1" "$FAKE_URL$2"
	fi
}

# The request log as a JSON array (control calls are not in it).
fake_log() { fake_ctl GET /_fake/log; }
fake_log_clear() { fake_ctl DELETE /_fake/log >/dev/null; }
# Count log entries matching a jq filter, e.g.
#   fake_count '.method=="DELETE"'
fake_count() { fake_log | jq "[.[] | select($1)] | length"; }

# Standard Huawei account used by most tests.
HW_AK=QTWAOYTTINDUT2QVKYUC
HW_SK=MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc
HW_PROJECT=145483a5107745e9b3d80f956713e6a3
HW_TOKEN=tok-MIIZkQYJKoZIhvcNAQcCoIIZgjCCGX4CAQExDTALBglghkgBZQMEAgEwghfjBgkqhkiG9w0BBwGgghfUBIIX0HsidG9rZW4iOnsiZXhwaXJlc19hdCI6IjIwMjYtMTEtMjNUMDA
export HW_AK HW_SK HW_TOKEN

hw_account() { # [AK SK PROJECT]
	fake_ctl POST /_fake/hw/accounts \
		"{\"ak\":\"${1:-$HW_AK}\",\"sk\":\"${2:-$HW_SK}\",\"project_id\":\"${3:-$HW_PROJECT}\",\"token\":\"$HW_TOKEN\"}" >/dev/null
}

# hw_pool POOL_ID "ADDR:PORT ADDR:PORT ..." [PROJECT]
hw_pool() {
	local members="" m
	for m in $2; do
		members="$members${members:+,}{\"address\":\"${m%:*}\",\"protocol_port\":${m##*:}}"
	done
	fake_ctl POST /_fake/hw/pools \
		"{\"project_id\":\"${3:-$HW_PROJECT}\",\"pool_id\":\"$1\",\"members\":[$members]}" >/dev/null
}

# Members of a fake Huawei pool as sorted "addr:port" lines.
hw_members() {
	fake_ctl GET "/_fake/hw/pools/$1" | jq -r '.members[] | "\(.address):\(.protocol_port)"' | sort
}
hw_member_id() { # POOL ADDR PORT
	fake_ctl GET "/_fake/hw/pools/$1" |
		jq -r --arg a "$2" --argjson p "$3" '.members[] | select(.address==$a and .protocol_port==$p) | .id'
}

UC_PUB='ucloudsomeone@example.com1296235120854146120'
UC_PRIV='46f09bb9fab4f12dfc160dae12273d5332b5debe'
UC_PROJECT=org-abc123
export UC_PUB UC_PRIV

uc_account() {
	fake_ctl POST /_fake/uc/accounts \
		"{\"public_key\":\"$UC_PUB\",\"private_key\":\"$UC_PRIV\",\"project_id\":\"$UC_PROJECT\"}" >/dev/null
}

# uc_backends VSERVER -> sorted "ip:port" lines
uc_backends() {
	fake_ctl GET "/_fake/uc/vservers/$1" | jq -r '.backends[] | "\(.private_ip):\(.port)"' | sort
}

# write_hw_config FILE POOLNAME POOL_ID "members..." [extra agent lines]
# A config with one Huawei provider (AK/SK from the environment).
hw_provider_section() {
	cat <<EOT
[provider hw]
plugin     = huaweicloud
region     = cn-north-4
project_id = $HW_PROJECT
endpoint   = $FAKE_URL
access_key = env:HW_AK
secret_key = env:HW_SK
EOT
}

uc_provider_section() {
	cat <<EOT
[provider sc]
plugin      = ucloud
endpoint    = $FAKE_URL
region      = cn-bj2
project_id  = $UC_PROJECT
public_key  = env:UC_PUB
private_key = env:UC_PRIV
EOT
}

# run_lbr ARGS... : runs the agent, sets OUT, ERR, RC
run_lbr() {
	$LBR_WRAPPER "$LBR" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# json_valid SCHEMA JSON DESCRIPTION: JSON (one document, or for "event"
# one event per line) matches contrib/schema/SCHEMA.json.
json_valid() {
	if ! python3 -c 'import jsonschema' 2>/dev/null; then
		ok 0 "$3 # SKIP python3-jsonschema is not installed"
		return
	fi
	printf '%s\n' "$2" >"$T/json-valid.in"
	is "$(python3 "$top_srcdir/tests/validate-json.py" "$top_srcdir/contrib/schema" "$1" \
		"$T/json-valid.in" 2>&1)" "" "$3"
}
