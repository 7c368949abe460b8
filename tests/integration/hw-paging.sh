#!/bin/sh
# Huawei: member listing across pages (limit/marker).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
BASE=/v2/$HW_PROJECT/elb/pools

# 1. page_size = 2 and 5 members: limit=2, then marker = last id of each page.
hw_pool "$P_WEB" "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80 10.0.0.5:80"
IDS=$(fake_ctl GET "/_fake/hw/pools/$P_WEB" | jq -r '[.members[].id] | sort | .[]')
set -- $IDS
C=$T/page.ini
hw_cfg "$C" "" "web $P_WEB 10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80 10.0.0.5:80"
# page_size belongs to the provider section: insert it after the endpoint line.
sed -i '/^endpoint /a page_size = 2' "$C"

run_lbr -c "$C" plan --detailed-exitcode
is "$RC" 0 "5 declared members listed over 3 pages: converged"
is "$(fake_log | jq -r '[.[] | select(.op=="list") | .path] | unique | join(",")')" \
	"$BASE/$P_WEB/members" "all list requests on the members path"
# marker/limit order in the query string is not specified: normalise it.
norm_q() { tr '&' '\n' | sort | paste -sd'&' -; }
GOT=$(fake_log | jq -r '.[] | select(.op=="list") | .query' | while read -r q; do printf '%s\n' "$q" | norm_q; done | paste -sd' ' -)
is "$GOT" "limit=2 limit=2&marker=$2 limit=2&marker=$4" "exact list sequence: limit=2, then marker=<last id of the page>"
is "$(fake_count '.status != 200')" 0 "every page answered 200"

# one undeclared member in the middle of the second page is found and removed
sed -i '/^member = 10.0.0.3:80$/d' "$C"
M3=$(hw_member_id "$P_WEB" 10.0.0.3 80)
fake_log_clear
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "apply across pages exits 0"
is "$(fake_log | jq -r '[.[] | select(.method=="DELETE") | .path] | join(",")')" \
	"$BASE/$P_WEB/members/$M3" "exactly the DELETE of the undeclared member"
is "$(fake_count '.op=="list"')" 6 "3 pages observed, 3 pages re-observed"
is "$(jq '.pools.web.members | length' "$T/st.json")" 4 "state has the 4 members from all pages"

# 2. ~4500 members with the default page size (2000): 3 pages, converging.
P_BIG=b16b16b1-0000-4000-8000-000000004500
python3 - "$HW_PROJECT" "$P_BIG" >"$T/big.json" <<'EOF'
import json, sys
ms = []
for i in range(4510):
    ms.append({"address": "10.%d.%d.%d" % (1 + i // 65536, (i // 256) % 256, i % 256),
               "protocol_port": 8080})
print(json.dumps({"project_id": sys.argv[1], "pool_id": sys.argv[2], "members": ms}))
EOF
curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "@$T/big.json" "$FAKE_URL/_fake/hw/pools"
is "$(fake_ctl GET "/_fake/hw/pools/$P_BIG" | jq '.members | length')" 4510 "fake holds 4510 members"
C2=$T/big.ini
# declare the first 4500; the last 10 are undeclared
hw_cfg "$C2" "" "big $P_BIG $(jq -r '.members[:4500][] | "\(.address):\(.protocol_port)"' "$T/big.json" | paste -sd' ' -)"
sed -i 's/^state = st.json/state = big.json.state/' "$C2"
WANT_GONE=$(jq -r '.members[4500:][] | "\(.address):\(.protocol_port)"' "$T/big.json" | sort | paste -sd' ' -)
fake_log_clear
run_lbr -c "$C2" plan --detailed-exitcode
is "$RC" 2 "big pool: plan finds the changes"
is "$(fake_log | jq -r '[.[] | select(.op=="list") | .query | split("&") | map(select(startswith("limit="))) | .[0]] | join(" ")')" \
	"limit=2000 limit=2000 limit=2000" "big pool listed in 3 pages of the default 2000"
is "$(fake_log | jq -r '[.[] | select(.op=="list") | .query | test("marker=")] | map(tostring) | join(" ")')" \
	"false true true" "pages 2 and 3 carry a marker"
is "$(printf '%s\n' "$OUT" | grep -cE '^ *- 10\.')" 10 "plan shows 10 removals"
is "$(printf '%s\n' "$OUT" | grep -E '^ *- 10\.' | awk '{print $2}' | sort | paste -sd' ' -)" "$WANT_GONE" "the 10 undeclared members"

fake_log_clear
run_lbr -c "$C2" apply --auto-approve
is "$RC" 0 "big pool: apply converges (exit 0)"
is "$(fake_count '.method=="DELETE" and .status==204')" 10 "10 DELETEs, all 204"
is "$(fake_count '.method != "GET" and .method != "DELETE"')" 0 "nothing else mutating"
is "$(fake_ctl GET "/_fake/hw/pools/$P_BIG" | jq '.members | length')" 4500 "4500 members left"
run_lbr -c "$C2" plan --detailed-exitcode
is "$RC" 0 "big pool converged"

done_testing
