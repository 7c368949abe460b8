#!/bin/sh
# Self-test of the fake cloud (TAP).  Starts fakecloud, drives it through
# the control API, signs real requests in shell (openssl) the way the
# references describe, and checks the answers and the request log.
set -u

builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
FC=$builddir/tests/fakecloud/fakecloud

for tool in curl jq openssl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool not found"
		exit 0
	fi
done
if [ ! -x "$FC" ]; then
	echo "1..0 # SKIP $FC not built"
	exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fc-selftest.XXXXXX") || exit 1
PIDS=
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

n=0
failed=0
ok() {	# ok CONDITION-EXIT-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
is() {	# is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
	fi
}

# start NAME [fakecloud options]: sets PORT
start() {
	name=$1
	shift
	"$FC" --port-file "$TMP/$name.port" --log "$TMP/$name.log" "$@" \
		2>"$TMP/$name.err" &
	PIDS="$PIDS $!"
	i=0
	while [ ! -s "$TMP/$name.port" ] && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	PORT=$(cat "$TMP/$name.port" 2>/dev/null)
	if [ -z "$PORT" ]; then
		echo "Bail out! fakecloud did not start: $(cat "$TMP/$name.err")"
		exit 1
	fi
}

# ctl METHOD PATH [JSON]: control API; sets STATUS, BODY
ctl() {
	if [ $# -ge 3 ]; then
		STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -X "$1" \
			-H 'Content-Type: application/json' --data-binary "$3" \
			"http://127.0.0.1:$PORT$2")
	else
		STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -X "$1" \
			"http://127.0.0.1:$PORT$2")
	fi
	BODY=$(cat "$TMP/body")
}

sha256() { openssl dgst -sha256 -r | cut -d' ' -f1; }

# wait_setting KEY VALUE: up to 30 s for GET /_fake/settings to show it;
# 0 when it does.
wait_setting() {
	i=0
	while :; do
		ctl GET /_fake/settings
		[ "$(printf '%s' "$BODY" | jq ".$1")" = "$2" ] && return 0
		[ $i -ge 600 ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
}

# hw METHOD PATH QUERY BODY AK SK PROJECT [DATE]: an SDK-HMAC-SHA256
# signed call (reference §5.2).  Paths and queries used here need no
# re-encoding; queries are given already sorted.  SIGN_Q / SIGN_XP, when
# set, are signed instead of the real query / X-Project-Id (tampering).
hw() {
	m=$1 p=$2 q=$3 b=$4 ak=$5 sk=$6 proj=$7
	d=${8:-$(date -u +%Y%m%dT%H%M%SZ)}
	host=127.0.0.1:$PORT
	bh=$(printf '%s' "$b" | sha256)
	cr=$(printf '%s\n%s/\n%s\ncontent-type:application/json\nhost:%s\nx-project-id:%s\nx-sdk-date:%s\n\ncontent-type;host;x-project-id;x-sdk-date\n%s' \
		"$m" "$p" "${SIGN_Q-$q}" "$host" "${SIGN_XP-$proj}" "$d" "$bh")
	crh=$(printf '%s' "$cr" | sha256)
	sig=$(printf 'SDK-HMAC-SHA256\n%s\n%s' "$d" "$crh" |
		openssl dgst -sha256 -hmac "$sk" -r | cut -d' ' -f1)
	set -- -s -o "$TMP/body" -D "$TMP/hdrs" -w '%{http_code}' -X "$m" \
		-H 'Content-Type: application/json' -H "X-Project-Id: $proj" \
		-H "X-Sdk-Date: $d" \
		-H "Authorization: SDK-HMAC-SHA256 Access=$ak, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=$sig"
	if [ -n "$b" ]; then
		set -- "$@" --data-binary "$b"
	fi
	STATUS=$(curl "$@" "http://$host$p${q:+?$q}")
	BODY=$(cat "$TMP/body")
}

# uc_sig PRIVATE k=v...: SHA-1 over sorted name+value pairs + key (§2.1)
uc_sig() {
	priv=$1
	shift
	{
		printf '%s\n' "$@" | LC_ALL=C sort -t= -k1,1 |
			while IFS= read -r kv; do
				printf '%s%s' "${kv%%=*}" "${kv#*=}"
			done
		printf '%s' "$priv"
	} | openssl dgst -sha1 -r | cut -d' ' -f1
}

uri() { jq -rn --arg v "$1" '$v|@uri'; }

# uc PUBLIC PRIVATE k=v...: signed GET; sets BODY and RC (RetCode)
uc() {
	pub=$1 priv=$2
	shift 2
	s=$(uc_sig "$priv" "PublicKey=$pub" "$@")
	q="PublicKey=$(uri "$pub")&Signature=$s"
	for kv in "$@"; do
		q="$q&${kv%%=*}=$(uri "${kv#*=}")"
	done
	BODY=$(curl -s "http://127.0.0.1:$PORT/?$q")
	RC=$(printf '%s' "$BODY" | jq -r '.RetCode')
}

# =================================================================== hw
start main --seed 7
PROJ=0123456789abcdef0123456789abcdef
AK=FAKEAK0000000000001
SK=fake-secret-key-0001
POOL=5a9a3e9e-d1aa-448e-af37-a70171f2a332
MP=/v2/$PROJ/elb/pools/$POOL/members
id() { printf '00000000-0000-4000-8000-00000000000%s' "$1"; }

ctl POST /_fake/hw/accounts "{\"ak\":\"$AK\",\"sk\":\"$SK\",\"project_id\":\"$PROJ\"}"
is "$STATUS" 201 "control: add hw AK/SK account"
ctl POST /_fake/hw/accounts "{\"token\":\"tok-123\",\"project_id\":\"$PROJ\"}"
ctl POST /_fake/hw/pools "{\"project_id\":\"$PROJ\",\"pool_id\":\"$POOL\",\"members\":[
 {\"id\":\"$(id 3)\",\"address\":\"10.0.0.3\",\"protocol_port\":80},
 {\"id\":\"$(id 1)\",\"address\":\"10.0.0.1\",\"protocol_port\":80},
 {\"id\":\"$(id 5)\",\"address\":\"10.0.0.5\",\"protocol_port\":80},
 {\"id\":\"$(id 2)\",\"address\":\"10.0.0.2\",\"protocol_port\":80},
 {\"id\":\"$(id 4)\",\"address\":\"10.0.0.4\",\"protocol_port\":81}]}"
is "$STATUS" 201 "control: create pool"
ctl GET /_fake/hw/pools/$POOL
is "$(printf '%s' "$BODY" | jq -c '[.members[].address]')" \
	'["10.0.0.1","10.0.0.2","10.0.0.3","10.0.0.4","10.0.0.5"]' \
	"control: pool dump sorted by id"

hw GET "$MP" "" "" $AK $SK $PROJ
is "$STATUS" 200 "hw: signed list succeeds"
is "$(printf '%s' "$BODY" | jq -c '[.members[].id[-1:]]')" '["1","2","3","4","5"]' \
	"hw: list returns all members sorted by id"
is "$(printf '%s' "$BODY" | jq -c '.members[0] | keys')" \
	'["address","admin_state_up","id","name","operating_status","project_id","protocol_port","subnet_id","tenant_id","weight"]' \
	"hw: member has every field of reference §2.2"
grep -qi '^X-Request-Id: [0-9a-f]\{32\}' "$TMP/hdrs"
ok $? "hw: X-Request-Id is 32 lowercase hex"
grep -qi '^Content-Type: application/json; charset=UTF-8' "$TMP/hdrs"
ok $? "hw: JSON Content-Type"

SIGN_Q=limit=3 hw GET "$MP" limit=2 "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 401:APIGW.0301 \
	"hw: tampered query is rejected 401 APIGW.0301"
case $(printf '%s' "$BODY" | jq -r .error_msg) in
"Incorrect IAM authentication information: verify aksk signature fail"*) r=0 ;;
*) r=1 ;;
esac
ok $r "hw: signature failure message"
hw GET "$MP" "" "" $AK wrong-secret $PROJ
is "$STATUS" 401 "hw: wrong SK is rejected"
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$PORT$MP")
is "$STATUS:$(jq -r .error_msg "$TMP/body")" \
	"401:Incorrect IAM authentication information: x-auth-token not found" \
	"hw: missing auth"
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'X-Auth-Token: tok-123' \
	"http://127.0.0.1:$PORT$MP?limit=1")
is "$STATUS:$(jq -r '.members|length' "$TMP/body")" 200:1 "hw: token auth"
old=$(date -u -d '@'$(($(date +%s) - 1200)) +%Y%m%dT%H%M%SZ)
hw GET "$MP" "" "" $AK $SK $PROJ "$old"
is "$STATUS" 401 "hw: X-Sdk-Date 20 minutes old is rejected"
SIGN_XP=ffffffffffffffffffffffffffffffff hw GET "$MP" "" "" $AK $SK \
	ffffffffffffffffffffffffffffffff
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)" 400:ELB.9808 \
	"hw: X-Project-Id differing from the URL project"

# Paging: limit + marker, ascending ids, short last page.
hw GET "$MP" limit=2 "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.members[].id[-1:]]')" '["1","2"]' "hw: page 1"
hw GET "$MP" "limit=2&marker=$(id 2)" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.members[].id[-1:]]')" '["3","4"]' "hw: page 2"
hw GET "$MP" "limit=2&marker=$(id 4)" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.members[].id[-1:]]')" '["5"]' "hw: short last page"
hw GET "$MP" "limit=2&marker=$(id 9)" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)" 400:ELB.9899 \
	"hw: unknown marker"
hw GET "$MP" "protocol_port=81" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.members[].address]')" '["10.0.0.4"]' \
	"hw: protocol_port filter"

# Delete, then not found.
hw DELETE "$MP/$(id 5)" "" "" $AK $SK $PROJ
is "$STATUS:$(wc -c <"$TMP/body" | tr -d ' ')" 204:0 "hw: DELETE answers 204, empty body"
hw DELETE "$MP/$(id 5)" "" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -c .)" \
	"404:{\"error\":{\"message\":\"member $(id 5) could not be found\",\"code\":\"ELB.9800\"}}" \
	"hw: second DELETE answers 404 ELB.9800"
hw GET "/v2/$PROJ/elb/pools/nope/members" "" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.message)" \
	"404:pool nope could not be found" "hw: unknown pool"
hw GET "/v2/$PROJ/elb/nothing" "" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 404:APIGW.0101 \
	"hw: unknown path"

# Create and update.
hw POST "$MP" "" '{"member":{"address":"10.0.0.9","protocol_port":80,"subnet_id":"s-1"}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r '.member.weight')" 201:1 "hw: create member"
NEWID=$(printf '%s' "$BODY" | jq -r .member.id)
hw POST "$MP" "" '{"member":{"address":"10.0.0.9","protocol_port":80,"subnet_id":"s-1"}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)" 409:ELB.8907 \
	"hw: duplicate address+port"
hw POST "$MP" "" '{"member":{"protocol_port":80,"subnet_id":"s-1"}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.message)" \
	"400:RequestBody member[address] is null, this is a required parameter." \
	"hw: missing address"
hw PUT "$MP/$NEWID" "" '{"member":{"weight":0}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .member.weight)" 200:0 "hw: update weight 0"
hw PUT "$MP/$NEWID" "" '{"member":{}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)" 400:SYS.0400 "hw: empty update"
hw PUT "$MP/$NEWID" "" '{"member":{"weight":101}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)" 400:ELB.9899 "hw: weight 101"

# AK lockout after more than 5 consecutive failures.
ctl POST /_fake/hw/accounts "{\"ak\":\"LOCKME\",\"sk\":\"good\",\"project_id\":\"$PROJ\"}"
for i in 1 2 3 4 5 6; do hw GET "$MP" "" "" LOCKME bad $PROJ; done
hw GET "$MP" "" "" LOCKME good $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_msg)" \
	"401:Incorrect IAM authentication information: AK access failed to reach the limit,forbidden." \
	"hw: AK locked after 6 failures, even with the right SK"
ctl GET /_fake/log
is "$(printf '%s' "$BODY" | jq '[.[] | select(.locked == true)] | length')" 1 \
	"hw: the lockout is visible in the log"

# ============================================================ faults
ctl POST /_fake/faults '{"cloud":"hw","op":"list","count":2,"status":503,"retry_after":3}'
is "$STATUS" 201 "faults: add rule"
hw GET "$MP" "" "" $AK $SK $PROJ
s1=$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)
grep -qi '^Retry-After: 3' "$TMP/hdrs"
ra=$?
hw GET "$MP" "" "" $AK $SK $PROJ
s2=$STATUS
hw GET "$MP" "" "" $AK $SK $PROJ
is "$s1 $s2 $STATUS" "503:ELB.8906 503 200" "faults: status 503 fires exactly twice"
ok $ra "faults: Retry-After header"
ctl POST /_fake/faults '{"cloud":"hw","op":"list","count":1,"status":429}'
hw GET "$MP" "" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 429:APIGW.0308 \
	"faults: hw 429 has the gateway shape"
ctl POST /_fake/faults '{"cloud":"hw","op":"delete","count":1,"applied_then":503}'
hw DELETE "$MP/$(id 4)" "" "" $AK $SK $PROJ
s1=$STATUS
ctl GET /_fake/hw/pools/$POOL
is "$s1:$(printf '%s' "$BODY" | jq "[.members[] | select(.address == \"10.0.0.4\")] | length")" \
	"503:0" "faults: applied_then removes the member and answers 503"
ctl POST /_fake/faults '{"op":"any","count":1,"reset":true}'
curl -s -o /dev/null -H 'X-Auth-Token: tok-123' "http://127.0.0.1:$PORT$MP"
is "$?" 52 "faults: reset closes the connection without a response"
ctl POST /_fake/faults '{"cloud":"hw","op":"list","count":1,"truncate":true}'
hw GET "$MP" "" "" $AK $SK $PROJ
if printf '%s' "$BODY" | jq . >/dev/null 2>&1; then r=valid; else r=broken; fi
is "$STATUS:$r" "200:broken" "faults: truncate gives 200 with broken JSON"
ctl DELETE /_fake/faults
is "$STATUS" 204 "faults: clear"

ctl POST /_fake/settings '{"page_max":2}'
hw GET "$MP" "limit=100" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq '.members|length')" 2 "settings: page_max caps limit"
# A window long enough for a busy machine; then poll (bounded) for the end.
ctl POST /_fake/settings '{"page_max":0,"eventual_ms":3000}'
hw DELETE "$MP/$(id 3)" "" "" $AK $SK $PROJ
hw GET "$MP" "id=$(id 3)" "" $AK $SK $PROJ
s1=$(printf '%s' "$BODY" | jq '.members|length')
i=0
while [ $i -lt 300 ]; do
	hw GET "$MP" "id=$(id 3)" "" $AK $SK $PROJ
	[ "$(printf '%s' "$BODY" | jq '.members|length')" = 0 ] && break
	sleep 0.1
	i=$((i + 1))
done
is "$s1:$(printf '%s' "$BODY" | jq '.members|length')" 1:0 \
	"settings: eventual_ms keeps a removed member listed for a while, then not"
ctl POST /_fake/settings '{"eventual_ms":0}'

# ============================================================ hw v3
# A dedicated pool is served by /v3 only; a shared one by /v2 only.
P3=7d0c4f3e-0000-4000-8000-0000000000aa
M3=/v3/$PROJ/elb/pools/$P3/members
ctl POST /_fake/hw/pools "{\"project_id\":\"$PROJ\",\"pool_id\":\"$P3\",\"api\":\"v3\",\"listener_id\":\"lis-1\",\"members\":[
 {\"id\":\"$(id 3)\",\"address\":\"10.1.0.3\",\"protocol_port\":80,\"subnet_id\":\"sub-1\"},
 {\"id\":\"$(id 1)\",\"address\":\"10.1.0.1\",\"protocol_port\":80,\"subnet_cidr_id\":\"sub-1\",\"instance_id\":\"ecs-1\"},
 {\"id\":\"$(id 5)\",\"address\":\"172.16.0.5\",\"protocol_port\":80},
 {\"id\":\"$(id 2)\",\"address\":\"10.1.0.2\",\"protocol_port\":80,\"subnet_id\":\"sub-1\",\"weight\":3},
 {\"id\":\"$(id 4)\",\"address\":\"10.1.0.4\",\"protocol_port\":81,\"subnet_id\":\"sub-1\",\"name\":\"web-4\"}]}"
is "$STATUS:$(printf '%s' "$BODY" | jq -r .api)" 201:v3 "control: create a v3 pool"

hw GET "$M3" "" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.page_info, [.members[].id[-1:]], (.request_id|test("^[0-9a-f]{32}$"))]')" \
	"200:[{\"previous_marker\":\"$(id 1)\",\"current_count\":5},[\"1\",\"2\",\"3\",\"4\",\"5\"],true]" \
	"v3: list without limit is one page, ascending, no next_marker"
is "$(printf '%s' "$BODY" | jq -c '.members[0] | keys')" \
	'["address","admin_state_up","availability_zone","id","instance_id","ip_version","member_type","name","operating_status","pool_id","project_id","protocol_port","status","subnet_cidr_id","weight"]' \
	"v3: member fields"
is "$(printf '%s' "$BODY" | jq -c '[.members[0] | .member_type, .instance_id, .subnet_cidr_id, .ip_version, .status[0].listener_id]')" \
	'["instance","ecs-1","sub-1","v4","lis-1"]' "v3: an instance member"
is "$(printf '%s' "$BODY" | jq -c '[.members[4] | .member_type, .instance_id, .subnet_cidr_id]')" \
	'["ip","",null]' "v3: an IP member has subnet_cidr_id null"
hw GET "$MP" "" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.members[].address | select(startswith("10.1.") or startswith("172."))]')" \
	'[]' "v3: the v2 pool is untouched by the v3 one"
hw GET "/v2/$PROJ/elb/pools/$P3/members" "" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)" 404:ELB.9800 "v3: a v3 pool is not found by v2"
hw GET "/v3/$PROJ/elb/pools/$POOL/members" "" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.error_code, .error_msg, (.request_id|length)]')" \
	"404:[\"ELB.8904\",\"pool $POOL could not be found.\",32]" \
	"v3: a v2 pool is not found by v3 (flat error shape)"

# Paging.
hw GET "$M3" limit=2 "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.page_info.previous_marker[-1:], .page_info.next_marker[-1:], .page_info.current_count, [.members[].id[-1:]]]')" \
	'["1","2",2,["1","2"]]' "v3: page 1 has next_marker"
hw GET "$M3" "limit=2&marker=$(id 2)" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.page_info.previous_marker[-1:], .page_info.next_marker[-1:], [.members[].id[-1:]]]')" \
	'["3","4",["3","4"]]' "v3: page 2"
hw GET "$M3" "limit=2&marker=$(id 4)" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[(.page_info|has("next_marker")), .page_info.current_count, [.members[].id[-1:]]]')" \
	'[false,1,["5"]]' "v3: last page has no next_marker"
hw GET "$M3" "limit=2&marker=$(id 3)" "" $AK $SK $PROJ
hw GET "$M3" "limit=1&marker=$(id 5)&page_reverse=true" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.members[].id[-1:]]')" '["4"]' "v3: page_reverse"
hw GET "$M3" "limit=2&marker=$(id 4)&protocol_port=80" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.members[].id[-1:]]')" '["5"]' "v3: filter with marker"
hw GET "$M3" "member_type=ip&member_type=nothing" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.members[].address]')" '["172.16.0.5"]' \
	"v3: multi-valued member_type filter"
hw GET "$M3" "limit=0" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq .page_info.current_count)" 200:5 "v3: limit 0 = the default page"
hw GET "$M3" "limit=2000" "" $AK $SK $PROJ
is "$STATUS" 200 "v3: limit 2000 accepted"
hw GET "$M3" "limit=2001" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 400:ELB.8902 "v3: limit 2001 refused"
hw GET "$M3" "limit=-1" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 400:ELB.8902 "v3: negative limit refused"
hw GET "$M3" "limit=2&marker=$(id 9)" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 400:ELB.8902 "v3: unknown marker refused"
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'X-Auth-Token: tok-123' \
	"http://127.0.0.1:$PORT$M3?limit=1")
is "$STATUS:$(jq -r '.members|length' "$TMP/body")" 200:1 "v3: token auth"
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$PORT$M3")
is "$STATUS:$(jq -r .error_code "$TMP/body")" 401:APIGW.0301 "v3: missing auth"
ctl POST /_fake/settings '{"page_max":2}'
hw GET "$M3" "" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.page_info.current_count, .page_info.next_marker[-1:]]')" \
	'[2,"2"]' "v3: page_max caps the default page"
ctl POST /_fake/settings '{"page_max":0}'

# One member: show, weight 0, errors, delete.
hw GET "$M3/$(id 2)" "" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.member.id[-1:], .member.weight, (.request_id|length)]')" \
	'200:["2",3,32]' "v3: show member"
hw PUT "$M3/$(id 2)" "" '{"member":{"weight":0}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq .member.weight)" 200:0 "v3: PUT weight 0 answers 0"
ctl GET /_fake/hw/pools/$P3
is "$(printf '%s' "$BODY" | jq "[.members[] | select(.id == \"$(id 2)\") | .weight]")" \
	"$(printf '[\n  0\n]')" "v3: ... and weight 0 is stored"
hw PUT "$M3/$(id 2)" "" '{"member":{}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.error_code, .error_msg]')" \
	'400:["SYS.0400","Invalid request body: Empty body '"'{}'"' is meaningless."]' \
	"v3: empty member object -> 400 SYS.0400"
hw PUT "$M3/$(id 2)" "" '{"member":{"weight":101}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 400:ELB.8902 "v3: PUT weight 101"
hw PUT "$M3/$(id 2)" "" '{"member":{"address":"10.9.9.9"}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_msg)" "400:Unrecognized attribute(s) 'address'" \
	"v3: PUT with an unknown attribute"
hw DELETE "$M3/$(id 4)" "" "" $AK $SK $PROJ
is "$STATUS:$(wc -c <"$TMP/body" | tr -d ' ')" 204:0 "v3: DELETE 204, empty body"
hw DELETE "$M3/$(id 4)" "" "" $AK $SK $PROJ
rid=$(sed -n 's/^X-Request-Id: \([0-9a-f]*\).*/\1/ip' "$TMP/hdrs")
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.error_code, .error_msg, .request_id == "'"$rid"'"]')" \
	"404:[\"ELB.8904\",\"member $(id 4) could not be found.\",true]" \
	"v3: second DELETE 404 ELB.8904, request_id = X-Request-Id"
hw POST "$M3" "" '{"member":{"address":"10.1.0.7","protocol_port":80,"weight":0}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.member.weight, .member.member_type, .member.subnet_cidr_id]')" \
	'201:[0,"ip",null]' "v3: create one member (IP member, weight 0 kept)"
hw POST "$M3" "" '{"member":{"address":"10.1.0.7","protocol_port":80}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 409:ELB.8907 "v3: create duplicate"

# batch-add: per-item "successful" / "existed", validation is all or nothing.
hw POST "$M3/batch-add" "" '{"members":[{"address":"10.1.0.1","protocol_port":80,"subnet_cidr_id":"sub-1"},{"address":"10.1.0.8","protocol_port":80,"subnet_cidr_id":"sub-1","weight":0,"name":"new-8"},{"address":"10.1.0.8","protocol_port":80}]}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.members[] | [.ret_status, .address, .weight]]')" \
	'200:[["existed","10.1.0.1",1],["successful","10.1.0.8",0],["existed","10.1.0.8",0]]' \
	"v3: batch-add answers successful / existed per item"
is "$(printf '%s' "$BODY" | jq -r '.members[0].id')" "$(id 1)" "v3: an existed item carries the existing id"
ADD8=$(printf '%s' "$BODY" | jq -r '.members[1].id')
ctl GET /_fake/hw/pools/$P3
n_before=$(printf '%s' "$BODY" | jq '.members|length')
hw POST "$M3/batch-add" "" '{"members":[{"address":"10.1.0.20","protocol_port":80},{"protocol_port":80}]}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 400:ELB.8902 "v3: batch-add item without address"
hw POST "$M3/batch-add" "" '{"members":[{"address":"10.1.0.21","protocol_port":80,"weight":101}]}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 400:ELB.8902 "v3: batch-add weight 101"
hw POST "$M3/batch-add" "" '{"members":[{"address":"10.1.0.22"}]}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 400:ELB.8902 "v3: batch-add without protocol_port"
big=$(jq -cn '{members:[range(201) | {address:"10.2.\(. / 256 | floor).\(. % 256)",protocol_port:80}]}')
hw POST "$M3/batch-add" "" "$big" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 400:ELB.8902 "v3: batch-add of 201 refused"
ctl GET /_fake/hw/pools/$P3
is "$(printf '%s' "$BODY" | jq '.members|length')" "$n_before" "v3: refused batch-adds added nothing"
big=$(jq -cn '{members:[range(200) | {address:"10.2.\(. / 256 | floor).\(. % 256)",protocol_port:80}]}')
hw POST "$M3/batch-add" "" "$big" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq '[.members[] | select(.ret_status == "successful")] | length')" \
	200:200 "v3: batch-add of 200 accepted"
hw GET "$M3" "limit=150" "" $AK $SK $PROJ
m2=$(printf '%s' "$BODY" | jq -r .page_info.next_marker)
hw GET "$M3" "limit=150&marker=$m2" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.page_info.current_count, (.page_info|has("next_marker"))]')" \
	"[$((n_before + 200 - 150)),false]" "v3: 200 added members page through"

# batch-update: weights (0 included); an unknown id changes nothing.
hw POST "$M3/batch-update" "" "{\"members\":[{\"id\":\"$(id 1)\",\"weight\":0},{\"id\":\"$ADD8\",\"weight\":7,\"name\":\"n8\"}]}" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.members[] | [.weight, .name]]')" \
	'200:[[0,""],[7,"n8"]]' "v3: batch-update"
hw POST "$M3/batch-update" "" "{\"members\":[{\"id\":\"$(id 1)\",\"weight\":9},{\"id\":\"$(id 9)\",\"weight\":9}]}" $AK $SK $PROJ
s1=$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)
hw GET "$M3/$(id 1)" "" "" $AK $SK $PROJ
is "$s1:$(printf '%s' "$BODY" | jq .member.weight)" 404:ELB.8904:0 \
	"v3: batch-update with an unknown id -> 404, nothing changed"
hw POST "$M3/batch-update" "" "{\"members\":[{\"id\":\"$(id 1)\",\"weight\":-1}]}" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 400:ELB.8902 "v3: batch-update weight -1"

# batch-delete: per-item status, 200 limit, id never mixed with address.
big=$(jq -cn '{members:[range(201) | {id:"x\(.)"}]}')
hw POST "$M3/batch-delete" "" "$big" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 400:ELB.8902 "v3: batch-delete of 201 refused"
hw POST "$M3/batch-delete" "" "{\"members\":[{\"id\":\"$(id 3)\",\"address\":\"10.1.0.3\",\"protocol_port\":80}]}" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 400:ELB.8902 "v3: batch-delete item mixing id and address"
hw POST "$M3/batch-delete" "" "{\"members\":[{\"id\":\"$(id 3)\"},{\"id\":\"$(id 9)\"},{\"address\":\"10.2.0.0\",\"protocol_port\":80}]}" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.members[].ret_status]')" \
	'200:["successful","not found","successful"]' "v3: batch-delete per-item statuses"

# Faults: a batch applied in part, then answered 503; generic op names.
ctl POST /_fake/faults '{"cloud":"hw","op":"batch_delete","count":1,"partial":1,"partial_status":503}'
is "$STATUS" 201 "faults: add a partial rule"
hw POST "$M3/batch-delete" "" '{"members":[{"address":"10.2.0.1","protocol_port":80},{"address":"10.2.0.2","protocol_port":80}]}' $AK $SK $PROJ
s1=$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)
ctl GET /_fake/hw/pools/$P3
is "$s1:$(printf '%s' "$BODY" | jq -c '[.members[].address | select(. == "10.2.0.1" or . == "10.2.0.2")]')" \
	'503:ELB.8906:["10.2.0.2"]' "faults: partial applies the first item, then 503 (v3 shape)"
ctl POST /_fake/faults '{"cloud":"hw","op":"batch_add","count":1,"applied_then":502}'
hw POST "$M3/batch-add" "" '{"members":[{"address":"10.3.0.1","protocol_port":80}]}' $AK $SK $PROJ
s1=$STATUS
ctl GET /_fake/hw/pools/$P3
is "$s1:$(printf '%s' "$BODY" | jq '[.members[] | select(.address == "10.3.0.1")] | length')" \
	502:1 "faults: batch-add applied, then 502"
ctl POST /_fake/faults '{"cloud":"hw","op":"list","count":1,"status":503}'
hw GET "$M3" "" "" $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 503:ELB.8906 "faults: op list also matches the v3 list"
ctl POST /_fake/faults '{"cloud":"hw","op":"v3_update","count":1,"status":404}'
hw PUT "$M3/$(id 1)" "" '{"member":{"weight":2}}' $AK $SK $PROJ
is "$STATUS:$(printf '%s' "$BODY" | jq -r .error_msg)" "404:member $(id 1) could not be found." \
	"faults: an injected v3 404 names the member"
ctl DELETE /_fake/faults
ctl POST /_fake/settings '{"rate_limit":{"op":"v3_list","per_sec":1}}'
hw GET "$M3" "limit=1" "" $AK $SK $PROJ
s1=$STATUS
hw GET "$M3" "limit=1" "" $AK $SK $PROJ
is "$s1:$STATUS:$(printf '%s' "$BODY" | jq -r .error_code)" 200:429:APIGW.0308 \
	"v3: rate limit answers 429 APIGW.0308"
ctl POST /_fake/settings '{"rate_limit":null}'

# Control: autoscaling-style members added, renamed, typed and removed.
ctl POST /_fake/hw/pools/$P3/members '{"address":"10.4.0.1","protocol_port":80,"name":"as-1","subnet_id":"sub-1"}'
AS1=$(printf '%s' "$BODY" | jq -r .id)
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.name, .member_type, (.instance_id|length)]')" \
	'201:["as-1","instance",36]' "control: add a member to a v3 pool"
ctl PATCH /_fake/hw/pools/$P3/members/$AS1 '{"name":"as-2","instance_id":"ecs-as-2","weight":0}'
is "$STATUS" 200 "control: PATCH a member"
hw GET "$M3" "name=as-2" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq -c '[.members[] | [.id == "'"$AS1"'", .instance_id, .weight, .member_type]]')" \
	'[[true,"ecs-as-2",0,"instance"]]' "control: the PATCH shows in the v3 list"
ctl PATCH /_fake/hw/pools/$P3/members/$AS1 '{"member_type":"ip"}'
is "$(printf '%s' "$BODY" | jq -c '[.member_type, .instance_id]')" '["ip",""]' \
	"control: PATCH member_type ip clears instance_id"
ctl PATCH /_fake/hw/pools/$P3/members/$AS1 '{"weight":101}'
is "$STATUS" 400 "control: PATCH refuses weight 101"
ctl DELETE /_fake/hw/pools/$P3/members/$AS1
hw GET "$M3" "name=as-2" "" $AK $SK $PROJ
is "$(printf '%s' "$BODY" | jq '.members|length')" 0 "control: an out-of-band removal shows at once"

# The log shows every v3 call with its body.
ctl GET /_fake/log
is "$(printf '%s' "$BODY" | jq -c "[.[] | select(.op == \"v3_update\" and .status == 200)][0] | [.method, .member_id[-1:], (.body|fromjson|.member.weight), .pool_id == \"$P3\"]")" \
	'["PUT","2",0,true]' "log: v3 PUT with its weight-0 body"
is "$(printf '%s' "$BODY" | jq -c '[.[] | select(.op == "batch_delete" and .fault == "partial")][0] | [.status, .applied, (.body|fromjson|[.members[].address])]')" \
	'[503,true,["10.2.0.1","10.2.0.2"]]' "log: the partial batch-delete"
is "$(printf '%s' "$BODY" | jq -c '[.[] | select(.op == "batch_update" and .status == 200)][0] | (.body|fromjson|[.members[].weight])')" \
	'[0,7]' "log: batch-update weights"
is "$(printf '%s' "$BODY" | jq -c '[.[] | select(.op == "v3_list" and .fault == "rate_limit")] | length')" \
	1 "log: the v3 rate-limited call"

# =================================================================== uc
UPUB=ucloudsomeone@example.com1296235120854146120
UPRIV=46f09bb9fab4f12dfc160dae12273d5332b5debe
ctl POST /_fake/uc/accounts "{\"public_key\":\"$UPUB\",\"private_key\":\"$UPRIV\",\"project_id\":\"org-abc123\"}"
is "$STATUS" 201 "control: add uc account"
BODY=$(curl -s "http://127.0.0.1:$PORT/?Action=DescribeUHostInstance&Region=cn-bj2&Limit=10&PublicKey=ucloudsomeone%40example.com1296235120854146120&Signature=cba5cf5ec4d4233d206b1b54951e3787350a642f")
is "$(printf '%s' "$BODY" | jq -r .RetCode)" 161 \
	"uc: reference vector O1 passes the signature check (161 = unknown Action)"
BODY=$(curl -s "http://127.0.0.1:$PORT/?Action=DescribeUHostInstance&Region=cn-bj2&Limit=11&PublicKey=ucloudsomeone%40example.com1296235120854146120&Signature=cba5cf5ec4d4233d206b1b54951e3787350a642f")
is "$(printf '%s' "$BODY" | jq -c .)" '{"RetCode":171,"Message":"Signature VerifyAC Error"}' \
	"uc: tampered parameter -> 171"
uc nobody@example.com x Action=DescribeVServer Region=cn-bj2
is "$RC:$(printf '%s' "$BODY" | jq -r .Message)" "172:User Not Exists" "uc: unknown PublicKey -> 172"
BODY=$(curl -s "http://127.0.0.1:$PORT/?Action=DescribeVServer&Region=cn-bj2&PublicKey=x")
is "$(printf '%s' "$BODY" | jq -r .RetCode)" 170 "uc: missing Signature -> 170"
uc $UPUB $UPRIV Region=cn-bj2
is "$RC" 160 "uc: missing Action -> 160"
curl -s -D "$TMP/hdrs" -o /dev/null "http://127.0.0.1:$PORT/?Action=X"
grep -qi '^X-UCLOUD-REQUEST-UUID: [0-9a-f-]\{36\}' "$TMP/hdrs"
ok $? "uc: X-UCLOUD-REQUEST-UUID header"

ctl POST /_fake/uc/vservers '{"project_id":"org-abc123","region":"cn-bj2","ulb_id":"ulb-1","vserver_id":"vserver-1","protocol":"HTTP","frontend_port":80,
 "backends":[{"backend_id":"backend-a","private_ip":"10.0.1.5","port":8080},{"backend_id":"backend-b","private_ip":"10.0.1.6","port":8080}],
 "policies":[{"policy_id":"policy-1","type":"Path","match":"/api","domain_match_mode":"Wildcard","priority":5,"backend_ids":["backend-a"]}]}'
is "$STATUS" 201 "control: create vserver"
uc $UPUB $UPRIV Action=DescribeVServer Region=cn-bj2 ProjectId=org-abc123 ULBId=ulb-1 VServerId=vserver-1
is "$RC:$(printf '%s' "$BODY" | jq -c '[.Action,.TotalCount,(.DataSet[0].BackendSet|length),.DataSet[0].BackendSet[0].Enabled]')" \
	'0:["DescribeVServerResponse",1,2,1]' "uc: DescribeVServer"
is "$(printf '%s' "$BODY" | jq -c '[.DataSet[0].PolicySet[] | [.PolicyType,.PolicyId,.TotalCount,[.BackendSet[].BackendId]]]')" \
	'[["Default","",2,["backend-a","backend-b"]],["Custom","policy-1",1,["backend-a"]]]' \
	"uc: PolicySet has the Default policy plus the Custom one"
uc $UPUB $UPRIV Action=DescribeVServer Region=cn-bj2 ProjectId=org-other ULBId=ulb-1
is "$RC" 292 "uc: foreign ProjectId -> 292"
uc $UPUB $UPRIV Action=DescribeVServer Region=cn-bj2 ULBId=ulb-1 VServerId=vserver-x
is "$RC" 4103 "uc: unknown VServer -> 4103"
uc $UPUB $UPRIV Action=ReleaseBackend Region=cn-bj2 ULBId=ulb-1
is "$RC:$(printf '%s' "$BODY" | jq -r .Message)" "220:Missing params [BackendId]" \
	"uc: missing parameter -> 220"

uc $UPUB $UPRIV Action=ReleaseBackend Region=cn-bj2 ProjectId=org-abc123 ULBId=ulb-1 BackendId=backend-a
is "$RC" 4110 "uc: ReleaseBackend refused while a Custom policy uses the backend"
ctl GET /_fake/uc/vservers/vserver-1
is "$(printf '%s' "$BODY" | jq '.backends|length')" 2 "uc: ... and nothing changed"
uc $UPUB $UPRIV Action=UpdatePolicy Region=cn-bj2 ProjectId=org-abc123 ULBId=ulb-1 VServerId=vserver-1 PolicyId=policy-1 Type=Path Match=/api BackendId.0=backend-b
ctl GET /_fake/uc/vservers/vserver-1
is "$RC:$(printf '%s' "$BODY" | jq -c '.policies[0] | [.type,.match,.domain_match_mode,.priority,.backend_ids]')" \
	'0:["Path","/api","Wildcard",5,["backend-b"]]' \
	"uc: UpdatePolicy replaces the list, keeps mode and priority"
uc $UPUB $UPRIV Action=UpdatePolicy Region=cn-bj2 ProjectId=org-abc123 ULBId=ulb-1 VServerId=vserver-1 PolicyId=policy-1 Type=Path Match=/api PolicyPriority=0 BackendId.0=backend-a
uc_rc=$RC
ctl GET /_fake/uc/vservers/vserver-1
is "$uc_rc:$(printf '%s' "$BODY" | jq -c '.policies[0] | [.priority,.backend_ids]')" \
	'230:[5,["backend-b"]]' "uc: UpdatePolicy with PolicyPriority 0 (outside 1-9999) -> 230, nothing changed"
uc $UPUB $UPRIV Action=UpdatePolicy Region=cn-bj2 ProjectId=org-abc123 ULBId=ulb-1 VServerId=vserver-1 PolicyId=policy-1 Match=/api
ctl GET /_fake/uc/vservers/vserver-1
is "$RC:$(printf '%s' "$BODY" | jq -c '.policies[0] | [.type,.backend_ids]')" \
	'0:["Domain",[]]' "uc: UpdatePolicy without Type/BackendId.N -> Domain, empty"
uc $UPUB $UPRIV Action=ReleaseBackend Region=cn-bj2 ProjectId=org-abc123 ULBId=ulb-1 BackendId=backend-a
uc2=$RC
uc $UPUB $UPRIV Action=ReleaseBackend Region=cn-bj2 ProjectId=org-abc123 ULBId=ulb-1 BackendId=backend-a
is "$uc2:$RC" 0:4093 "uc: ReleaseBackend succeeds once free, then 4093"
uc $UPUB $UPRIV Action=CreatePolicy Region=cn-bj2 ULBId=ulb-1 VServerId=vserver-1 Match=/x
is "$RC" 4077 "uc: CreatePolicy without backends -> 4077"
uc $UPUB $UPRIV Action=AllocateBackend Region=cn-bj2 ULBId=ulb-1 VServerId=vserver-1 ResourceType=UHost ResourceId=uhost-k2f0pzvd Port=8081
printf '%s' "$BODY" | jq -r .BackendId | grep -q '^backend-[a-z0-9]\{8\}$'
ok $? "uc: AllocateBackend returns a backend- id"

ctl GET /_fake/uc/vservers/vserver-1
kip=$(printf '%s' "$BODY" | jq -r '.backends[] | select(.resource_id == "uhost-k2f0pzvd") | .private_ip')
uc $UPUB $UPRIV Action=AllocateBackend Region=cn-bj2 ULBId=ulb-1 VServerId=vserver-1 ResourceType=UHost ResourceId=uhost-k2f0pzvd Port=8081
is "$RC:$(printf '%s' "$BODY" | jq -r .Message)" "4109:host $kip:8081 already in the VServer" \
	"uc: AllocateBackend of the same resource and port -> 4109"
uc $UPUB $UPRIV Action=AllocateBackend Region=cn-bj2 ULBId=ulb-1 VServerId=vserver-1 ResourceType=UHost ResourceId=uhost-k2f0pzvd Port=8082 Weight=0
is "$RC:$(printf '%s' "$BODY" | jq -r .Message)" "230:Params [Weight] not available" \
	"uc: AllocateBackend Weight 0 -> 230"
uc $UPUB $UPRIV Action=AllocateBackend Region=cn-bj2 ULBId=ulb-1 VServerId=vserver-1 ResourceType=UHost ResourceId=uhost-k2f0pzvd Port=8082 Weight=101
is "$RC" 230 "uc: AllocateBackend Weight 101 -> 230"
uc $UPUB $UPRIV Action=AllocateBackend Region=cn-bj2 ULBId=ulb-1 VServerId=vserver-1 ResourceType=IP ResourceIP=192.168.7.7 SubnetId=subnet-x Port=80
is "$RC:$(printf '%s' "$BODY" | jq -r .Message)" "220:Missing params [VPCId]" \
	"uc: an IP backend needs VPCId"
uc $UPUB $UPRIV Action=AllocateBackend Region=cn-bj2 ULBId=ulb-1 VServerId=vserver-1 ResourceType=IP ResourceIP=192.168.7.7 VPCId=uvnet-x Port=80
is "$RC:$(printf '%s' "$BODY" | jq -r .Message)" "220:Missing params [SubnetId]" \
	"uc: an IP backend needs SubnetId"
uc $UPUB $UPRIV Action=AllocateBackend Region=cn-bj2 ULBId=ulb-1 VServerId=vserver-1 ResourceType=IP ResourceIP=192.168.7.7 VPCId=uvnet-x SubnetId=subnet-x Port=80 Weight=5
IPB=$(printf '%s' "$BODY" | jq -r .BackendId)
uc $UPUB $UPRIV Action=UpdateBackendAttribute Region=cn-bj2 ULBId=ulb-1 BackendId=$IPB Weight=9 Enabled=0
r1=$RC
uc $UPUB $UPRIV Action=UpdateBackendAttribute Region=cn-bj2 ULBId=ulb-1 BackendId=$IPB Weight=0
r2=$RC
ctl PATCH /_fake/uc/vservers/vserver-1/backends/$IPB '{"resource_name":"as-1"}'
is "$STATUS:$(printf '%s' "$BODY" | jq -r .resource_name)" 200:as-1 "control: PATCH a backend's resource_name"
uc $UPUB $UPRIV Action=DescribeVServer Region=cn-bj2 ULBId=ulb-1 VServerId=vserver-1
is "$r1:$r2:$(printf '%s' "$BODY" | jq -c ".DataSet[0].BackendSet[] | select(.BackendId == \"$IPB\") | [.ResourceType, .ResourceId, .ResourceName, .PrivateIP, .VPCId, .SubnetId, .Weight, .Enabled]")" \
	'0:230:["IP","192.168.7.7","as-1","192.168.7.7","uvnet-x","subnet-x",9,0]' \
	"uc: IP backend created, weight/enabled updated, weight 0 refused"
ctl POST /_fake/uc/vservers/vserver-1/backends '{"private_ip":"10.0.1.50","port":8080,"resource_id":"uhost-as2","resource_name":"as-2"}'
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.resource_id, .resource_name, .resource_type]')" \
	'201:["uhost-as2","as-2","UHost"]' "control: add a backend with a resource name"
ctl PATCH /_fake/uc/vservers/vserver-1/backends/nope '{"weight":3}'
is "$STATUS" 404 "control: PATCH an unknown backend"

# POST bodies: form ('+' is a space) and JSON with flattened keys.
s=$(uc_sig $UPRIV PublicKey=$UPUB Action=CreatePolicy Region=cn-bj2 ULBId=ulb-1 \
	VServerId=vserver-1 "Match=a b" BackendId.0=backend-b)
BODY=$(curl -s --data-binary "Action=CreatePolicy&Region=cn-bj2&ULBId=ulb-1&VServerId=vserver-1&Match=a+b&BackendId.0=backend-b&PublicKey=$(uri $UPUB)&Signature=$s" \
	"http://127.0.0.1:$PORT/")
is "$(printf '%s' "$BODY" | jq -r .RetCode)" 0 "uc: form POST, '+' decoded as space"
s=$(uc_sig $UPRIV PublicKey=$UPUB Action=UpdateBackendAttribute Region=cn-bj2 \
	ULBId=ulb-1 BackendId=backend-b Enabled=0)
BODY=$(curl -s -H 'Content-Type: application/json' --data-binary \
	"{\"Action\":\"UpdateBackendAttribute\",\"Region\":\"cn-bj2\",\"ULBId\":\"ulb-1\",\"BackendId\":\"backend-b\",\"Enabled\":0,\"PublicKey\":\"$UPUB\",\"Signature\":\"$s\"}" \
	"http://127.0.0.1:$PORT/?Action=UpdateBackendAttribute")
ctl GET /_fake/uc/vservers/vserver-1
is "$(printf '%s' "$BODY" | jq -c '[.backends[] | select(.backend_id=="backend-b") | .enabled]')" \
	'[0]' "uc: JSON POST (numbers signed as decimals) applied"

ctl POST /_fake/faults '{"cloud":"uc","op":"ReleaseBackend","count":1,"retcode":153}'
uc $UPUB $UPRIV Action=ReleaseBackend Region=cn-bj2 ULBId=ulb-1 BackendId=nope
r1=$RC
uc $UPUB $UPRIV Action=ReleaseBackend Region=cn-bj2 ULBId=ulb-1 BackendId=nope
is "$r1:$RC" 153:4093 "faults: uc retcode 153 fires once"
ctl POST /_fake/faults '{"cloud":"uc","op":"DescribeVServer","count":1,"retcode_as_string":true}'
uc $UPUB $UPRIV Action=DescribeVServer Region=cn-bj2 ULBId=ulb-1
is "$(printf '%s' "$BODY" | jq -c '[.RetCode, .TotalCount]')" '["0",1]' \
	"faults: retcode_as_string"

# ================================================================= log
ctl GET /_fake/log
LOG=$BODY
is "$(printf '%s' "$LOG" | jq '[.[] | select(.path | startswith("/_fake"))] | length')" 0 \
	"log: control calls are not logged"
is "$(printf '%s' "$LOG" | jq -c "[.[] | select(.op == \"delete\" and .status == 204) | .member_id[-1:]]")" \
	'["5","3"]' "log: records exactly the successful deletes"
is "$(printf '%s' "$LOG" | jq -r '[.[] | select(.action == "ReleaseBackend" and .params.BackendId == "backend-a")][0] | [.params.PublicKey, .params.Signature, .retcode, .applied] | @tsv')" \
	"$(printf 'REDACTED\tREDACTED\t4110\tfalse')" "log: uc params redacted, retcode recorded"
grep -q "$UPRIV" "$TMP/main.log"
is "$?" 1 "log: the private key never appears in the log file"
is "$(wc -l <"$TMP/main.log" | tr -d ' ')" "$(printf '%s' "$LOG" | jq length)" \
	"log: file and GET /_fake/log agree"
ctl GET /_fake/stats
is "$(printf '%s' "$BODY" | jq .requests)" "$(printf '%s' "$LOG" | jq length)" \
	"stats: request count"

# ============================================ reference vectors (hw §5.6)
# A second server whose clock is set to the vectors' X-Sdk-Date replays
# the reference's signed requests byte for byte.
vt=$(date -u -d '2024-05-13T09:30:15Z' +%s)
start vec --clock-offset $((vt - $(date +%s)))
VP=145483a5107745e9b3d80f956713e6a3
VPOOL=5a9a3e9e-d1aa-448e-af37-a70171f2a332
VM=cf024846-7516-4e3a-b0fb-6590322c836f
ctl POST /_fake/hw/accounts "{\"ak\":\"QTWAOYTTINDUT2QVKYUC\",\"sk\":\"MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc\",\"project_id\":\"$VP\"}"
ctl POST /_fake/hw/pools "{\"project_id\":\"$VP\",\"pool_id\":\"$VPOOL\",\"members\":[{\"id\":\"$VM\",\"address\":\"192.168.0.9\",\"protocol_port\":80},{\"address\":\"192.168.0.11\",\"protocol_port\":80}]}"
vec() {	# vec METHOD PATH+QUERY SIGNED-HEADERS SIGNATURE [BODY]
	set -- "$1" "$2" "$3" "$4" "${5-}"
	if [ -n "$5" ]; then
		STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -X "$1" \
			-H 'Host: elb.cn-north-4.myhuaweicloud.com' \
			-H 'X-Sdk-Date: 20240513T093015Z' -H "X-Project-Id: $VP" \
			-H 'Content-Type: application/json' \
			-H "Authorization: SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=$3, Signature=$4" \
			--data-binary "$5" "http://127.0.0.1:$PORT$2")
	else
		STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -X "$1" \
			-H 'Host: elb.cn-north-4.myhuaweicloud.com' \
			-H 'X-Sdk-Date: 20240513T093015Z' -H "X-Project-Id: $VP" \
			-H "Authorization: SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=$3, Signature=$4" \
			"http://127.0.0.1:$PORT$2")
	fi
	BODY=$(cat "$TMP/body")
}
VMP=/v2/$VP/elb/pools/$VPOOL/members
vec GET "$VMP?limit=2&marker=$VM" host\;x-project-id\;x-sdk-date \
	b5cc20bc57deb8779ef5068ec1d364a85073e6b92d8b6eb648dd21ffe2f3558b
is "$STATUS" 200 "vector C2 (list, limit+marker) accepted"
vec GET "$VMP?limit=100&name=web%2001%2F%CE%B1&protocol_port=80" \
	host\;x-project-id\;x-sdk-date \
	1713e76f6f78158675c83070162df0d851e55e60e79210991f6415d5bc15cf5a
is "$STATUS" 200 "vector C6 (encoded query) accepted"
vec PUT "$VMP/$VM" content-type\;host\;x-project-id\;x-sdk-date \
	757dd1ce7deb60ee4baf4e3078f1e59c38fc3dcd9759e9427629f6fb90f4534e \
	'{"member":{"weight":0}}'
is "$STATUS" 200 "vector C4 (update, JSON body) accepted"
vec POST "$VMP" content-type\;host\;x-project-id\;x-sdk-date \
	b0b121f6a5499e5706a240f466a725e9688003297d367a8cba77cec6fbb66c2f \
	'{"member":{"address":"192.168.0.10","protocol_port":8080,"subnet_id":"013d3059-87a4-45a5-91e9-d721068ae0b2","weight":1}}'
is "$STATUS" 201 "vector C3 (create) accepted"
vec DELETE "$VMP/$VM" host\;x-project-id\;x-sdk-date \
	99e47adc892571910f299b92387d5564d7d5246856cd1ba5940a3c296692ee37
is "$STATUS" 204 "vector C1 (delete) accepted"
# v3 pools are not v2 pools: the vector's pool id becomes a dedicated one.
ctl POST /_fake/hw/pools "{\"project_id\":\"$VP\",\"pool_id\":\"$VPOOL\",\"api\":\"v3\",\"members\":[{\"address\":\"192.168.0.11\",\"protocol_port\":80}]}"
vec POST "/v3/$VP/elb/pools/$VPOOL/members/batch-delete" \
	content-type\;host\;x-project-id\;x-sdk-date \
	7fe1306a3c11010da7db897951e459fd9b19d214c3058941e3f3cc63bd8cc8c2 \
	"{\"members\":[{\"id\":\"$VM\"},{\"address\":\"192.168.0.11\",\"protocol_port\":80}]}"
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.members[].ret_status]')" \
	'200:["not found","successful"]' "vector C7 (v3 batch-delete) accepted"
vec DELETE "$VMP/$VM" host\;x-project-id\;x-sdk-date \
	99e47adc892571910f299b92387d5564d7d5246856cd1ba5940a3c296692ee37x
is "$STATUS" 401 "a corrupted vector signature is rejected"

# hold_after: N requests through after the log clear, the rest held until
# the setting changes, then reset without being executed.
# (Last: it clears the log the tests above count.  A fresh fake: the one
# above runs on the vectors' clock.)
start hold --seed 9
ctl POST /_fake/hw/accounts "{\"ak\":\"$AK\",\"sk\":\"$SK\",\"project_id\":\"$PROJ\"}"
ctl POST /_fake/hw/pools "{\"project_id\":\"$PROJ\",\"pool_id\":\"$POOL\",\"members\":[{\"address\":\"10.0.0.1\",\"protocol_port\":80}]}"
HOLD_ID=$(printf '%s' "$BODY" | jq -r '.members[0].id')
ctl DELETE /_fake/log
ctl POST /_fake/settings '{"hold_after":1}'
hw GET "$MP" "" "" $AK $SK $PROJ
s1=$STATUS
# A signed DELETE in the background (its own files), held by the fake.
mkdir -p "$TMP/held"
(TMP=$TMP/held; hw DELETE "$MP/$HOLD_ID" "" "" $AK $SK $PROJ; echo "$STATUS" >"$TMP/status") &
HOLD_PID=$!
wait_setting held_now 1
s2=$?
ctl GET /_fake/log
is "$s1:$s2:$(printf '%s' "$BODY" | jq length)" "200:0:1" \
	"settings: hold_after 1 answers one request and holds the next (held_now 1)"
ok "$(kill -0 $HOLD_PID 2>/dev/null; echo $?)" "settings: the held DELETE has not ended"
ctl POST /_fake/settings '{"hold_after":-1}'
wait $HOLD_PID
is "$(cat "$TMP/held/status")" 000 "settings: a released held request ends with a reset (no HTTP answer)"
ctl GET /_fake/log
is "$(printf '%s' "$BODY" | jq -r '.[-1] | "\(.method) \(.fault)"')" "DELETE held" "settings: the held request is logged as held"
ctl GET /_fake/hw/pools/$POOL
is "$(printf '%s' "$BODY" | jq --arg m "$HOLD_ID" '[.members[] | select(.id == $m)] | length')" 1 \
	"settings: the held DELETE was never executed"
# The same signed DELETE, not held, does remove it.
hw DELETE "$MP/$HOLD_ID" "" "" $AK $SK $PROJ
s3=$STATUS
ctl GET /_fake/hw/pools/$POOL
is "$s3:$(printf '%s' "$BODY" | jq --arg m "$HOLD_ID" '[.members[] | select(.id == $m)] | length')" "204:0" \
	"settings: unheld, the same DELETE removes the member"

# pause: a matching request waits until POST /_fake/release, then runs
# as if nothing matched.
ctl POST /_fake/hw/pools "{\"project_id\":\"$PROJ\",\"pool_id\":\"$POOL\",\"members\":[{\"address\":\"10.0.0.2\",\"protocol_port\":80}]}"
PAUSE_ID=$(printf '%s' "$BODY" | jq -r '.members[] | select(.address == "10.0.0.2") | .id')
ctl DELETE /_fake/log
ctl POST /_fake/faults '{"cloud":"hw","op":"delete","pause":true,"count":1}'
mkdir -p "$TMP/paused"
(TMP=$TMP/paused; hw DELETE "$MP/$PAUSE_ID" "" "" $AK $SK $PROJ; echo "$STATUS" >"$TMP/status") &
PAUSE_PID=$!
wait_setting paused_now 1
ok $? "pause: the DELETE waits (paused_now 1)"
ctl GET /_fake/log
is "$(printf '%s' "$BODY" | jq length)" 0 "pause: a paused request is not logged yet"
ctl GET /_fake/hw/pools/$POOL
is "$(printf '%s' "$BODY" | jq --arg m "$PAUSE_ID" '[.members[] | select(.id == $m)] | length')" 1 \
	"pause: nor executed"
ctl POST /_fake/release
is "$STATUS" 204 "pause: POST /_fake/release answers 204"
wait $PAUSE_PID
is "$(cat "$TMP/paused/status")" 204 "pause: released, the DELETE is answered as usual"
ctl GET /_fake/hw/pools/$POOL
is "$(printf '%s' "$BODY" | jq --arg m "$PAUSE_ID" '[.members[] | select(.id == $m)] | length')" 0 \
	"pause: and executed"
ctl GET /_fake/settings
is "$(printf '%s' "$BODY" | jq .paused_now)" 0 "pause: nothing waits any more"

# latency_split (bench/): the answer leaves latency_ms after the request
# came, the work done half-way.  Only lower bounds: a busy machine can
# only make things later.
ctl DELETE /_fake/faults
ctl POST /_fake/settings '{"latency_ms":400,"latency_split":1}'
ctl GET /_fake/settings
is "$(printf '%s' "$BODY" | jq -c '[.latency_ms, .latency_split]')" '[400,1]' "settings: latency_split is shown"
ctl DELETE /_fake/log
T0=$(date +%s%N)
hw GET "$MP" "" "" $AK $SK $PROJ
MS=$((($(date +%s%N) - T0) / 1000000))
ok "$([ "$STATUS" = 200 ] && [ "$MS" -ge 400 ]; echo $?)" "latency_split: answered 200 no sooner than 400 ms ($MS ms)"
ctl GET /_fake/log
ok "$(printf '%s' "$BODY" | jq -e '.[0] | .t_ms - .t_start_ms >= 200' >/dev/null; echo $?)" \
	"latency_split: executed (and logged) half-way or later"
ctl POST /_fake/settings '{"latency_ms":0,"latency_split":0}'

echo "1..$n"
[ "$failed" -eq 0 ]
