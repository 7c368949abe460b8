#!/bin/sh
# TLS (issue 4, acceptance 7): a test CA and server certificates made at
# test time; the agent refuses the fake's certificate by default, accepts
# it with ca_file, refuses a certificate for another name even with the
# right CA; plain http:// to a non-loopback host is refused by validate
# unless allow_insecure_http = yes (warned).  192.0.2.1 (TEST-NET-1) is only
# ever used with validate, which makes no network call.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/rel-lib.sh"

command -v openssl >/dev/null 2>&1 || skip_all "openssl not found"

# A CA, a server certificate for 127.0.0.1/localhost, one for another name
# only, and an unrelated CA.
mkcert() { # NAME SAN CA
	openssl req -new -newkey rsa:2048 -nodes -keyout "$T/$1.key" -subj "/CN=$1" \
		-out "$T/$1.csr" 2>/dev/null &&
		printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$2" \
			>"$T/$1.ext" &&
		openssl x509 -req -in "$T/$1.csr" -CA "$T/$3.pem" -CAkey "$T/$3.key" \
			-CAcreateserial -days 2 -sha256 -extfile "$T/$1.ext" -out "$T/$1.pem" 2>/dev/null
}
mkca() { # NAME
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" -subj "/CN=lbr test $1" \
		-days 2 -sha256 -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign -out "$T/$1.pem" 2>/dev/null
}
mkca ca && mkca otherca && mkcert server "IP:127.0.0.1,DNS:localhost" ca &&
	mkcert wrongname "DNS:lbr-elsewhere.example" ca
ok $? "test CA and certificates generated"

fake_start --tls-cert "$T/server.pem" --tls-key "$T/server.key"
FAKE_URL="https://127.0.0.1:$FAKE_PORT"
# The control API is behind the same TLS socket.
fake_ctl() {
	if [ $# -ge 3 ]; then
		curl -sS --max-time 10 --cacert "$T/ca.pem" -X "$1" \
			-H 'Content-Type: application/json' --data-binary "$3" "$FAKE_URL$2"
	else
		curl -sS --max-time 10 --cacert "$T/ca.pem" -X "$1" "$FAKE_URL$2"
	fi
}
hw_account
uc_account
rel_hw_pool tlspool 1 3 10.4.1
rel_uc_vserver vserver-tls 1 3 10.4.2

# tls_cfg FILE EXTRA-PROVIDER-LINES
tls_cfg() {
	{
		printf '[agent]\nstate = st.json\n'
		hw_provider_section
		printf '%s' "$2"
		echo
		uc_provider_section
		printf '%s' "$2"
		rel_hw_pool_section web tlspool 10.4.1 1 2
		rel_uc_pool_section api vserver-tls 10.4.2 1 2
	} >"$1"
}
C=$T/lbr.ini

# 1. Default trust store: the private CA is unknown.
tls_cfg "$C" ""
fake_log_clear
run_lbr -c "$C" plan
is "$RC" 1 "plan against an untrusted certificate: exit 1"
like "$ERR" "certificate" "stderr mentions the certificate (SPEC §2: errors go to stderr)"
like "$ERR" 'pool "web"' "... for the Huawei pool"
like "$ERR" 'pool "api"' "... and for the UCloud pool"
run_lbr -c "$C" apply --auto-approve
is "$RC" 1 "apply against an untrusted certificate: exit 1"
like "$ERR" "TLS certificate verification failed" "stderr says verification failed"
is "$(fake_log | jq length)" 0 "no request reached the server"
is "$(rel_hw_members tlspool | wc -l) $(rel_uc_backends vserver-tls | wc -l)" "3 3" "nothing removed"

# 2. Another CA: still refused.
tls_cfg "$C" "ca_file = otherca.pem
"
run_lbr -c "$C" apply --auto-approve
is "$RC" 1 "apply with an unrelated ca_file: exit 1"
like "$ERR" "certificate" "stderr mentions the certificate"
is "$(fake_log | jq length)" 0 "still no request reached the server"

# 3. ca_file = the test CA (relative to the config file): accepted.
tls_cfg "$C" "ca_file = ca.pem
"
run_lbr -c "$C" validate
is "$RC" 0 "validate with ca_file: exit 0"
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "apply with ca_file = ca.pem: exit 0"
is "$(rel_hw_members tlspool)" "$(rel_expect_seq 10.4.1 1 2 80)" "hw pool converged over TLS"
is "$(rel_uc_backends vserver-tls)" "$(rel_expect_seq 10.4.2 1 2 8080)" "uc pool converged over TLS"
is "$(fake_count '.method == "DELETE"') $(fake_count '.action == "ReleaseBackend"')" "1 1" \
	"one removal per cloud"

# 4. A missing ca_file is a validate error naming the line.
tls_cfg "$C" "ca_file = nosuch.pem
"
run_lbr -c "$C" validate
is "$RC" 1 "validate with a missing ca_file: exit 1"
like "$ERR" "lbr\\.ini:[0-9]+: .*ca_file" "... names FILE:LINE and ca_file"

# 5. The right CA but a certificate for another name: refused.
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null
fake_start --tls-cert "$T/wrongname.pem" --tls-key "$T/wrongname.key"
FAKE_URL="https://127.0.0.1:$FAKE_PORT"
tls_cfg "$C" "ca_file = ca.pem
"
run_lbr -c "$C" apply --auto-approve
is "$RC" 1 "certificate for another name, right CA: exit 1"
like "$ERR" "TLS certificate verification failed for 127\\.0\\.0\\.1 \\(.*(name|subject)" \
	"stderr explains the name mismatch"
# The certificate itself is fine for its own name (with the same CA):
N=lbr-elsewhere.example
is "$(curl -sS --max-time 10 --cacert "$T/ca.pem" --resolve "$N:$FAKE_PORT:127.0.0.1" \
	"https://$N:$FAKE_PORT/_fake/log" | jq length)" 0 \
	"no request reached the server (and the certificate is valid for its own name)"
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null
FAKE_PID=

# 6. Plain http:// to a non-loopback host (validate only: no network).
insecure_cfg() { # FILE HW-ENDPOINT UC-ENDPOINT EXTRA
	{
		printf '[agent]\nstate = st.json\n\n[provider hw]\nplugin = huaweicloud\n'
		printf 'region = cn-north-4\nproject_id = %s\nendpoint = %s\n' "$HW_PROJECT" "$2"
		printf 'access_key = env:HW_AK\nsecret_key = env:HW_SK\n%s\n' "$4"
		printf '\n[provider sc]\nplugin = ucloud\nendpoint = %s\nregion = cn-bj2\n' "$3"
		printf 'project_id = %s\npublic_key = env:UC_PUB\nprivate_key = env:UC_PRIV\n%s\n' \
			"$UC_PROJECT" "$4"
		rel_hw_pool_section web tlspool 10.4.1 1 2
		rel_uc_pool_section api vserver-tls 10.4.2 1 2
	} >"$1"
}
insecure_cfg "$C" "http://192.0.2.1" "https://127.0.0.1:1" ""
run_lbr -c "$C" validate
is "$RC" 1 "validate: hw endpoint http://192.0.2.1 refused"
like "$ERR" "lbr\\.ini:8: provider \"hw\": endpoint 'http://192\\.0\\.2\\.1' is plain http.*allow_insecure_http" \
	"... naming FILE:LINE, the endpoint and the way out"
insecure_cfg "$C" "https://127.0.0.1:1" "http://192.0.2.1:8080/" ""
run_lbr -c "$C" validate
is "$RC" 1 "validate: uc endpoint http://192.0.2.1:8080/ refused"
like "$ERR" "provider \"sc\": endpoint 'http://192\\.0\\.2\\.1:8080/' is plain http" "... naming the provider"
insecure_cfg "$C" "http://192.0.2.1" "http://192.0.2.1:8080" "allow_insecure_http = yes"
run_lbr -c "$C" validate
is "$RC" 0 "validate: allow_insecure_http = yes accepts both"
like "$ERR" "warning.*provider \"hw\": endpoint 'http://192\\.0\\.2\\.1' is plain http" "hw: warned"
like "$ERR" "warning.*provider \"sc\": endpoint 'http://192\\.0\\.2\\.1:8080' is plain http" "uc: warned"
insecure_cfg "$C" "http://192.0.2.1" "http://192.0.2.1:8080" "allow_insecure_http = maybe"
run_lbr -c "$C" validate
is "$RC" 1 "validate: allow_insecure_http = maybe is an error"
# Loopback needs no opt-in (the fake clouds), but a name that merely starts
# like a loopback address is not loopback.
insecure_cfg "$C" "http://127.0.0.1:1" "http://[::1]:1" ""
run_lbr -c "$C" validate
is "$RC" 0 "validate: http to 127.0.0.1 / [::1] is fine"
unlike "$ERR" "plain http" "... without a warning"
insecure_cfg "$C" "http://127.0.0.1.lbr-test.example" "https://127.0.0.1:1" ""
run_lbr -c "$C" validate
is "$RC" 1 "validate: http://127.0.0.1.lbr-test.example is not loopback"
insecure_cfg "$C" "https://127.0.0.1:1" "http://localhost.lbr-test.example" ""
run_lbr -c "$C" validate
is "$RC" 1 "validate: http://localhost.lbr-test.example is not loopback"
insecure_cfg "$C" "ftp://192.0.2.1" "https://127.0.0.1:1" ""
run_lbr -c "$C" validate
is "$RC" 1 "validate: a non-http(s) endpoint is refused"

done_testing
