#!/bin/sh
# The etcd backend over TLS through the agent's HTTP module: with
# `state_ca_file` naming the CA that signed etcd's certificate, an apply
# records its state in an etcd that only speaks TLS; without it, or with
# another CA, the agent refuses to talk to it and nothing is changed.
. "$top_srcdir/tests/lib.sh"
ETCD=${ETCD:-/usr/bin/etcd}
[ -x "$ETCD" ] || skip_all "no etcd at $ETCD"
command -v openssl >/dev/null 2>&1 || skip_all "openssl not found"
ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))') || skip_all "python3 is needed to pick ports"
CP=${ports% *}
PP=${ports#* }

mkca() { # NAME
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" -subj "/CN=lbr test $1" \
		-days 2 -sha256 -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign -out "$T/$1.pem" 2>/dev/null
}
mkca ca && mkca otherca &&
	openssl req -new -newkey rsa:2048 -nodes -keyout "$T/etcd.key" -subj "/CN=etcd" \
		-out "$T/etcd.csr" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
		>"$T/etcd.ext" &&
	openssl x509 -req -in "$T/etcd.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
		-days 2 -sha256 -extfile "$T/etcd.ext" -out "$T/etcd.pem" 2>/dev/null
ok $? "test CA and etcd certificate generated"

"$ETCD" --data-dir "$T/etcd" --listen-client-urls "https://127.0.0.1:$CP" \
	--advertise-client-urls "https://127.0.0.1:$CP" --cert-file "$T/etcd.pem" \
	--key-file "$T/etcd.key" --listen-peer-urls "http://127.0.0.1:$PP" \
	--initial-advertise-peer-urls "http://127.0.0.1:$PP" --initial-cluster "default=http://127.0.0.1:$PP" \
	>"$T/etcd.log" 2>&1 &
ETCD_PID=$!
trap 'kill $ETCD_PID 2>/dev/null && wait $ETCD_PID 2>/dev/null; cleanup' EXIT
n=0
until curl -sf --cacert "$T/ca.pem" "https://127.0.0.1:$CP/health" >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -gt 300 ] && skip_all "etcd did not start with TLS"
	sleep 0.1
done

fake_start
hw_account
P1=5a9a3e9e-d1aa-448e-af37-a70171f2a332
hw_pool $P1 "10.0.0.1:80 10.0.0.9:80"
cd "$T"
cfg() { # cfg EXTRA-AGENT-LINE
	{
		printf '[agent]\nstate = etcd://127.0.0.1:%s/lbr/tls\nmax_delete = 100%%\n%s\n' "$CP" "$1"
		hw_provider_section
		printf '[pool web]\nprovider = hw\npool_id = %s\nmember = 10.0.0.1:80\n' "$P1"
	} >l.ini
}
cfg ""
run_lbr -c l.ini apply --auto-approve
is "$RC" 1 "without state_ca_file the agent cannot talk to a TLS-only etcd"
is "$(fake_count '.method == "DELETE"')" 0 "and removes nothing"
cfg "state_ca_file = otherca.pem"
run_lbr -c l.ini apply --auto-approve
is "$RC" 1 "with another CA the certificate is refused"
like "$ERR" "certificate|TLS|SSL" "saying why"
is "$(fake_count '.method == "DELETE"')" 0 "and nothing is removed"
cfg "state_ca_file = nosuch.pem"
run_lbr -c l.ini validate
is "$RC" 1 "an unreadable state_ca_file is a validate error"
like "$ERR" "l\.ini:[0-9]+: .*state_ca_file" "with FILE:LINE"
cfg "state_ca_file = ca.pem"
run_lbr -c l.ini apply --auto-approve
is "$RC" 0 "with state_ca_file the apply goes through TLS"
is "$(hw_members $P1 | paste -sd' ' -)" "10.0.0.1:80" "and converges"
is "$(curl -s --cacert ca.pem -X POST "https://127.0.0.1:$CP/v3/kv/range" \
	-d "{\"key\":\"$(printf 'lbr/tls/state' | base64 -w0)\"}" | jq -r '.kvs[0].value' | base64 -d | jq .serial)" 1 \
	"the state is in etcd, serial 1"

done_testing
