#!/bin/sh
# Bad configuration files: each gives ONE "FILE:LINE: ..." error on stderr,
# exit 1 for validate and plan, and no request reaches the cloud.
# Fixtures: tests/fixtures/ini/*.ini (@ENDPOINT@ is replaced by the fake's URL).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
hw_pool "$P_WEB" "10.0.0.1:80 10.0.0.2:80"
unset LBR_TEST_SURELY_UNSET_VAR CREDENTIALS_DIRECTORY
FIX=$top_srcdir/tests/fixtures/ini

# the unchanged template is valid: the errors below come from the one change
sed "s|@ENDPOINT@|$FAKE_URL|" "$FIX/good.ini" >"$T/good.ini"
run_lbr -c "$T/good.ini" validate
is "$RC" 0 "the template fixture validates"

# check_bad FILE LINE FRAGMENT(ERE)
check_bad() {
	local f=$1 line=$2 frag=$3 cmd
	for cmd in validate plan; do
		run_lbr -c "$f" $cmd
		is "$RC" 1 "$(basename "$f") $cmd: exit 1"
		like "$ERR" "$f:$line: .*$frag" "$(basename "$f") $cmd: $f:$line: ... $frag"
		is "$(printf '%s\n' "$ERR" | grep -c .)" 1 "$(basename "$f") $cmd: exactly one line on stderr"
	done
	unlike "$ERR$OUT" "$HW_SK" "$(basename "$f"): no secret in the messages"
	# one look at the log per fixture (keeps the script fast)
	is "$(nreq)" 0 "$(basename "$f"): no request reached the cloud"
	[ "$(nreq)" = 0 ] || fake_log_clear
}

while IFS='|' read -r name line frag; do
	[ -n "$name" ] || continue
	sed "s|@ENDPOINT@|$FAKE_URL|" "$FIX/$name.ini" >"$T/$name.ini"
	check_bad "$T/$name.ini" "$line" "$frag"
done <<'EOF'
unknown-section|18|unknown section \[frobnicate\]
unknown-key-agent|4|unknown key 'colour'
unknown-key-provider|12|unknown key 'colour'
unknown-key-pool|17|unknown key 'colour'
duplicate-pool|19|duplicate pool "web"
duplicate-pool-apart|24|duplicate pool "web" \(first defined at line 13\)
bad-address|17|10\.0\.0\.300
bad-port|17|port must be
ipv6-no-brackets|17|2001:db8::5:80.*\[ADDRESS\]:PORT
unknown-provider|19|unknown provider "hw2"
missing-plugin|13|plugin 'nosuchcloud' not found
long-line|18|line is [0-9]+ bytes long
env-unset|11|environment variable LBR_TEST_SURELY_UNSET_VAR is not set
file-missing|11|cannot read .*no-such-dir/hw\.sk
bad-parallelism|4|parallelism
bad-max-delete|4|max_delete.*150%
duplicate-member|17|10\.0\.0\.1:80 is listed twice
http-nonloopback|9|plain http
key-outside-section|1|outside of any section
bad-member-attr|16|member 10\.0\.0\.1:80: unknown attribute 'colour'
dup-member-attr|16|duplicate attribute 'weight'
bad-protect|17|protect: bad selector '10\.8\.0\.1/16'.*did you mean 10\.8\.0\.0/16
bad-prune|17|prune must be all, owned or none
etcd-no-endpoint|3|state 'etcd://': missing /PREFIX
etcd-port-zero|3|endpoint '127\.0\.0\.1:0': the port must be a number from 1 to 65535
etcd-port-big|3|endpoint '127\.0\.0\.1:99999': the port must be
etcd-empty-endpoint|3|empty endpoint
etcd-no-prefix|3|missing /PREFIX
timeout-vs-ttl|12|timeout 20 s is too long for lock_ttl 30 s
cred-unset|11|credential hw\.sk: CREDENTIALS_DIRECTORY is not set
EOF

# The long line must not be split into a second, valid-looking line: the
# tail of line 18 is "member = 10.0.0.2:80"; no pool gets that member.
run_lbr -c "$T/long-line.ini" validate
unlike "$OUT" "2 declared members" "the long line's tail did not become a member"

# The limit is inih's: 198 bytes and the line end fill its 200-byte buffer.
lines=$(($(wc -l <"$T/good.ini") + 1))
{ cat "$T/good.ini"; printf '#%197s\n' x | tr ' ' y; } >"$T/l198.ini"
run_lbr -c "$T/l198.ini" validate
is "$RC" 0 "a line of 198 bytes is accepted"
{ cat "$T/good.ini"; printf '#%198s\n' x | tr ' ' y; } >"$T/l199.ini"
check_bad "$T/l199.ini" "$lines" "line is 199 bytes long; the INI parser's limit is 198 bytes per line"

# A binary file.
printf '\000\001\002\377\376[agent\000]\n\211PNG\r\n\032\n' >"$T/garbage.ini"
check_bad "$T/garbage.ini" 1 "NUL|binary|text"

# A missing file names the file; no request.
fake_log_clear
run_lbr -c "$T/does-not-exist.ini" validate
is "$RC" 1 "missing config: validate exits 1"
like "$ERR" "$T/does-not-exist\.ini" "missing config: the error names the file"
run_lbr -c "$T/does-not-exist.ini" plan
is "$RC" 1 "missing config: plan exits 1"
is "$(nreq)" 0 "missing config: no request"

# $LBRECONCILE_CONFIG is used when -c is absent, with the same error.
LBRECONCILE_CONFIG="$T/bad-port.ini" run_lbr validate
is "$RC" 1 "LBRECONCILE_CONFIG: bad file, exit 1"
like "$ERR" "$T/bad-port\.ini:17: " "LBRECONCILE_CONFIG: error names that file and line"

done_testing
