#!/bin/sh
# Huawei: bad credentials cost exactly one request; IAM token auth.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
P3=3c3c3c3c-0000-4000-8000-333333333333
hw_pool "$P_WEB" "10.0.0.1:80 10.0.0.2:80"
hw_pool "$P_API" "10.0.1.1:80 10.0.1.2:80"
hw_pool "$P3" "10.0.2.1:80 10.0.2.2:80"

C=$T/lbr.ini
hw_cfg "$C" "" "web $P_WEB 10.0.0.1:80" "api $P_API 10.0.1.1:80" "third $P3 10.0.2.1:80"

# 1. wrong SK: the first call to the provider runs alone and is the only one.
for cmd in "apply --auto-approve" "plan"; do
	fake_log_clear
	HW_SK=WRONGwrongWRONGwrongWRONGwrongWRONGwrong run_lbr -c "$C" $cmd
	is "$RC" 1 "$cmd with a wrong SK exits 1"
	is "$(nreq)" 1 "$cmd: exactly one request reached the cloud"
	is "$(fake_log | jq -r '.[0] | "\(.status) \(.auth) \(.method)"')" "401 bad GET" "$cmd: that request was the rejected listing"
	RID=$(fake_log | jq -r '.[0].request_id')
	like "$ERR" "provider \"?hw\"?" "$cmd: stderr names the provider"
	like "$ERR" "pool \"?(web|api|third)\"?" "$cmd: stderr names a pool"
	like "$ERR" "401" "$cmd: stderr names HTTP 401"
	like "$ERR" "APIGW\.0301" "$cmd: stderr names APIGW.0301"
	like "$ERR" "$RID" "$cmd: stderr names the cloud's request id"
	unlike "$ERR$OUT" "WRONGwrong|$HW_SK" "$cmd: no secret in the output"
done
is "$(hw_members "$P_WEB" | wc -l | tr -d ' ')" 2 "nothing removed"

# 2. token auth end to end (no AK/SK in the config).
sed -i -e '/^access_key /d' -e 's/^secret_key .*/token = env:HW_TOKEN/' "$C"
fake_log_clear
run_lbr -c "$C" validate
is "$RC" 0 "token config validates"
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "apply with an IAM token exits 0"
is "$(fake_count '.auth != "token"')" 0 "every request used X-Auth-Token"
is "$(fake_count '.method=="DELETE" and .status==204')" 3 "three DELETEs, all 204"
is "$(hw_members "$P3" | paste -sd' ' -)" "10.0.2.1:80" "third pool converged"
unlike "$OUT$ERR$(cat "$T/st.json" "$T/st.json.log")" "$HW_TOKEN" "the token appears nowhere"

# 3. a bad token: one request, 401.
fake_log_clear
hw_pool "$P_WEB" "10.0.0.1:80 10.0.0.2:80"
HW_TOKEN=tok-not-valid run_lbr -c "$C" apply --auto-approve
is "$RC" 1 "a bad token exits 1"
is "$(nreq)" 1 "a bad token costs exactly one request"
like "$ERR" "APIGW\.0301" "and the error names APIGW.0301"

done_testing
