#!/bin/sh
# Huawei: two providers (two projects, two AK/SK pairs) in one config.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
HW_AK2=ZXCVBNMASDFGHJKLQWER
HW_SK2=s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr
HW_PROJECT2=0f1e2d3c4b5a69788796a5b4c3d2e1f0
export HW_AK2 HW_SK2
hw_account
hw_account "$HW_AK2" "$HW_SK2" "$HW_PROJECT2"
hw_pool "$P_WEB" "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80"
hw_pool "$P_API" "10.0.1.1:80 10.0.1.2:80 10.0.1.3:80" "$HW_PROJECT2"
W3=$(hw_member_id "$P_WEB" 10.0.0.3 80)
A3=$(hw_member_id "$P_API" 10.0.1.3 80)

# write_cfg FILE AK_VAR_FOR_HW2 SK_VAR_FOR_HW2
write_cfg() {
	cat >"$1" <<EOT
[agent]
state = st.json

[provider hw]
plugin     = huaweicloud
region     = cn-north-4
project_id = $HW_PROJECT
endpoint   = $FAKE_URL
access_key = env:HW_AK
secret_key = env:HW_SK

[provider hw2]
plugin     = huaweicloud
region     = cn-north-4
project_id = $HW_PROJECT2
endpoint   = $FAKE_URL
access_key = env:$2
secret_key = env:$3

[pool web]
provider = hw
pool_id  = $P_WEB
member   = 10.0.0.1:80
member   = 10.0.0.2:80

[pool api]
provider = hw2
pool_id  = $P_API
member   = 10.0.1.1:80
member   = 10.0.1.2:80
EOT
}

# Negative control first: hw2 signing with the first account's keys is
# rejected by the fake (AK belongs to another project), so a pass below
# really proves each provider used its own AK.
write_cfg "$T/swapped.ini" HW_AK HW_SK
run_lbr -c "$T/swapped.ini" apply --auto-approve
is "$RC" 1 "hw2 signing with hw's keys fails (exit 1)"
like "$ERR" "api" "the error names the pool"
like "$ERR" "ELB\.9808" "the error carries the cloud's code"
is "$(fake_count ".method==\"DELETE\" and .pool_id==\"$P_API\"")" 0 "no DELETE on the foreign project"

is "$(fake_count ".method==\"DELETE\" and .pool_id==\"$P_WEB\" and .status==204")" 1 "the healthy provider's pool was still converged"

# restore both pools and run with the right keys
hw_pool "$P_WEB" "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80"
W3=$(hw_member_id "$P_WEB" 10.0.0.3 80)
fake_log_clear
rm -f "$T/st.json" "$T/st.json.log"
write_cfg "$T/lbr.ini" HW_AK2 HW_SK2
run_lbr -c "$T/lbr.ini" apply --auto-approve
is "$RC" 0 "apply over two projects exits 0"
is "$(fake_log | jq -r '[.[] | select(.method=="DELETE") | "\(.path) \(.auth) \(.status)"] | sort | join(",")')" \
	"$(printf '%s\n' "/v2/$HW_PROJECT/elb/pools/$P_WEB/members/$W3 aksk 204" \
		"/v2/$HW_PROJECT2/elb/pools/$P_API/members/$A3 aksk 204" | sort | paste -sd, -)" \
	"each DELETE goes to its own project path and passes the fake's AK/SK check"
is "$(fake_count '.auth != "aksk"')" 0 "every request signed with a valid AK/SK"
is "$(fake_count ".op==\"list\" and (.path | startswith(\"/v2/$HW_PROJECT2/\")) and .pool_id==\"$P_API\"")" 2 \
	"api listed (and re-listed) under the second project"
is "$(fake_count ".op==\"list\" and (.path | startswith(\"/v2/$HW_PROJECT/\")) and .pool_id==\"$P_WEB\"")" 2 \
	"web listed (and re-listed) under the first project"
is "$(jq -r '[.pools.web.provider, .pools.api.provider] | join(" ")' "$T/st.json")" "hw hw2" "state records each pool's provider"
unlike "$OUT$ERR$(cat "$T/st.json" "$T/st.json.log")" "$HW_SK|$HW_SK2" "no secret key in output, state or audit log"

done_testing
