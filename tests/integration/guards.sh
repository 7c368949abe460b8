#!/bin/sh
# Safety guards: max_delete (percent and absolute), --force, allow_empty,
# exit-code precedence.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
C=$T/lbr.ini
FOUR="10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80"
reset_pool() { hw_pool "$P_WEB" "$FOUR"; fake_log_clear; }

# 1. default max_delete = 50%: removing 3 of 4 is refused.
hw_cfg "$C" "" "web $P_WEB 10.0.0.1:80"
reset_pool
run_lbr -c "$C" plan
is "$RC" 3 "plan exits 3 when apply would be refused"
run_lbr -c "$C" plan --detailed-exitcode
is "$RC" 3 "plan --detailed-exitcode also exits 3"
run_lbr -c "$C" apply --auto-approve
is "$RC" 3 "apply refused by max_delete (default 50%) exits 3"
like "$ERR" 'pool "web".*3 of 4.*max_delete' "stderr explains the refusal"
like "$ERR" "--force" "and mentions --force"
is "$(mutating)" 0 "zero mutating calls"
is "$(hw_members "$P_WEB" | wc -l | tr -d ' ')" 4 "all 4 members still there"

# 2. --force overrides for this run.
fake_log_clear
run_lbr -c "$C" apply --auto-approve --force
is "$RC" 0 "apply --force exits 0"
is "$(fake_count '.method=="DELETE" and .status==204')" 3 "three DELETEs"
is "$(hw_members "$P_WEB" | paste -sd' ' -)" "10.0.0.1:80" "pool converged"

# 3. exactly 50% is allowed (not "more than").
hw_cfg "$C" "" "web $P_WEB 10.0.0.1:80 10.0.0.2:80"
reset_pool
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "removing exactly 50% is allowed"
is "$(mutating)" 2 "two DELETEs"

# 4. percent form: max_delete = 80% allows 3 of 4; 70% does not.
hw_cfg "$C" "max_delete = 70%" "web $P_WEB 10.0.0.1:80"
reset_pool
run_lbr -c "$C" apply --auto-approve
is "$RC" 3 "max_delete = 70%: 3 of 4 (75%) refused"
is "$(mutating)" 0 "no call"
hw_cfg "$C" "max_delete = 80%" "web $P_WEB 10.0.0.1:80"
reset_pool
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "max_delete = 80%: 3 of 4 allowed"
is "$(mutating)" 3 "three DELETEs"

# 5. absolute form: max_delete = 2.
hw_cfg "$C" "max_delete = 2" "web $P_WEB 10.0.0.1:80"
reset_pool
run_lbr -c "$C" plan
is "$RC" 3 "max_delete = 2: plan of 3 removals exits 3"
run_lbr -c "$C" apply --auto-approve
is "$RC" 3 "max_delete = 2: 3 removals refused"
is "$(mutating)" 0 "no call"
hw_cfg "$C" "max_delete = 2" "web $P_WEB 10.0.0.1:80 10.0.0.2:80"
reset_pool
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "max_delete = 2: 2 removals allowed"
is "$(mutating)" 2 "two DELETEs"
hw_cfg "$C" "max_delete = 3" "web $P_WEB 10.0.0.1:80"
reset_pool
run_lbr -c "$C" apply --auto-approve
is "$RC" 0 "max_delete = 3 (absolute, above 50%) allows 3 of 4"

# 6. a pool without member lines: refused by validate unless allow_empty.
cat >"$C" <<EOT
[agent]
state = st.json
$(hw_provider_section)

[pool web]
provider = hw
pool_id  = $P_WEB
EOT
run_lbr -c "$C" validate
is "$RC" 1 "validate: pool without members exits 1"
like "$ERR" "$C:11: pool \"web\": no member lines" "the error names FILE:LINE of the pool header"
like "$ERR" "allow_empty" "and mentions allow_empty"
reset_pool
run_lbr -c "$C" plan
is "$RC" 1 "plan refuses the empty pool too"
is "$(nreq)" 0 "without any request"
echo "allow_empty = yes" >>"$C"
run_lbr -c "$C" validate
is "$RC" 0 "allow_empty = yes validates"
run_lbr -c "$C" apply --auto-approve
is "$RC" 3 "emptying the pool still hits max_delete (exit 3)"
is "$(mutating)" 0 "no call"
run_lbr -c "$C" apply --auto-approve --force
is "$RC" 0 "allow_empty + --force empties the pool"
is "$(hw_members "$P_WEB" | wc -l | tr -d ' ')" 0 "pool empty"

# 7. precedence: a refusal in one pool and an error in another exit 1;
# a healthy third pool is still converged.
P_MISSING=dddddddd-0000-4000-8000-00000000dead
P_OK=0c0c0c0c-0000-4000-8000-000000000001
hw_pool "$P_WEB" "$FOUR"
hw_pool "$P_OK" "10.0.5.1:80 10.0.5.2:80 10.0.5.3:80"
hw_cfg "$C" "" "web $P_WEB 10.0.0.1:80" "gone $P_MISSING 10.0.9.1:80" "fine $P_OK 10.0.5.1:80 10.0.5.2:80"
rm -f "$T/st.json"
fake_log_clear
run_lbr -c "$C" apply --auto-approve
is "$RC" 1 "refusal + error: exit 1 (error wins)"
like "$ERR" 'pool "web".*refused|refused.*pool "web"|pool "web".*max_delete' "stderr reports the refusal of web"
like "$ERR" 'pool "gone"' "stderr reports the error of gone"
like "$ERR" "404" "with the HTTP status"
is "$(fake_count ".method==\"DELETE\" and .pool_id==\"$P_WEB\"")" 0 "nothing removed from the refused pool"
is "$(fake_count ".method==\"DELETE\" and .pool_id==\"$P_OK\"")" 1 "the healthy pool was converged"
like "$OUT" 'Apply incomplete: .*, 0 blocked, 1 pools refused, 1 errors ' \
	"the summary line counts the refused pool and the pool in error"
run_lbr -c "$C" --json apply --auto-approve
is "$(printf '%s\n' "$OUT" | jq -c 'select(.type == "summary") | [.blocked, .refused, .errors]')" \
	'[0,1,1]' "... as the JSON summary does"
run_lbr -c "$C" plan --detailed-exitcode
is "$RC" 1 "plan: refusal + error also exits 1"

done_testing
