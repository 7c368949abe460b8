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
	while [ ! -s "$TMP/$name.port" ] && [ $i -lt 100 ]; do
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
ctl POST /_fake/settings '{"page_max":0,"eventual_ms":400}'
hw DELETE "$MP/$(id 3)" "" "" $AK $SK $PROJ
hw GET "$MP" "id=$(id 3)" "" $AK $SK $PROJ
s1=$(printf '%s' "$BODY" | jq '.members|length')
sleep 0.5
hw GET "$MP" "id=$(id 3)" "" $AK $SK $PROJ
is "$s1:$(printf '%s' "$BODY" | jq '.members|length')" 1:0 \
	"settings: eventual_ms keeps a removed member listed for a while"
ctl POST /_fake/settings '{"eventual_ms":0}'

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
vec POST "/v3/$VP/elb/pools/$VPOOL/members/batch-delete" \
	content-type\;host\;x-project-id\;x-sdk-date \
	7fe1306a3c11010da7db897951e459fd9b19d214c3058941e3f3cc63bd8cc8c2 \
	"{\"members\":[{\"id\":\"$VM\"},{\"address\":\"192.168.0.11\",\"protocol_port\":80}]}"
is "$STATUS:$(printf '%s' "$BODY" | jq -c '[.members[].ret_status]')" \
	'200:["not found","successful"]' "vector C7 (v3 batch-delete) accepted"
vec DELETE "$VMP/$VM" host\;x-project-id\;x-sdk-date \
	99e47adc892571910f299b92387d5564d7d5246856cd1ba5940a3c296692ee37x
is "$STATUS" 401 "a corrupted vector signature is rejected"

echo "1..$n"
[ "$failed" -eq 0 ]
