#!/bin/sh
# Huawei dedicated load balancers (ELB v3): paging through page_info, batch
# removal of at most 200 ids per call with per-member outcomes, "not found"
# counted as done, a partially applied batch converging, drain through
# weight 0, batch-add with "existed", a v2 and a v3 provider side by side.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hw-lib.sh"

fake_start
hw_account
P3=0a6b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d
P2=$P_WEB
V3=/v3/$HW_PROJECT/elb/pools/$P3/members
# 450 members, 5 declared: 445 removals = 3 batches (200 + 200 + 45).
members=""
i=0
while [ $i -lt 450 ]; do
	members="$members${members:+,}{\"address\":\"10.3.$((i / 250)).$((i % 250 + 1))\",\"protocol_port\":80}"
	i=$((i + 1))
done
fake_ctl POST /_fake/hw/pools "{\"project_id\":\"$HW_PROJECT\",\"pool_id\":\"$P3\",\"api\":\"v3\",\"members\":[$members]}" >/dev/null
hw_pool "$P2" "10.0.0.1:80 10.0.0.9:80"
cd "$T"
cfg() { # cfg EXTRA-POOL-LINES
	{
		printf '[agent]\nstate = st.json\nmax_delete = 100%%\nparallelism = 8\n'
		hw_provider_section
		printf 'page_size = 100\n\n'
		hw_provider_section | sed 's/^\[provider hw\]/[provider hwd]/'
		printf 'api = v3\npage_size = 100\n\n'
		printf '[pool shared]\nprovider = hw\npool_id = %s\nmember = 10.0.0.1:80\n\n' "$P2"
		printf '[pool ded]\nprovider = hwd\npool_id = %s\n' "$P3"
		printf '%s\n' "$1"
		for m in 10.3.0.1 10.3.0.2 10.3.0.3 10.3.0.4 10.3.0.5; do printf 'member = %s:80\n' "$m"; done
	} >l.ini
}
cfg ""

run_lbr -c l.ini --json providers
is "$(printf '%s' "$OUT" | jq -c '[.instances[] | [.name, .api, .batch.remove, .batch.create]]')" \
	'[["hw","v2",1,1],["hwd","v3",200,200]]' "providers shows each instance's API and batch limits"
json_valid providers "$OUT" "providers --json matches its schema"
run_lbr -c l.ini providers
like "$OUT" "hwd +plugin huaweicloud, api v3, batch: remove 200, create 200" "and in the human listing"
run_lbr -c l.ini validate
is "$RC" 0 "a v2 and a v3 provider validate side by side"

# plan: 5 pages of 100 (page_size) on v3, every member seen.
fake_log_clear
run_lbr -c l.ini --json plan
is "$RC" 0 "plan exits 0"
json_valid plan "$OUT" "plan --json matches its schema"
is "$(printf '%s' "$OUT" | jq '.pools[] | select(.name=="ded") | .observed')" 450 "all 450 members observed through page_info"
is "$(printf '%s' "$OUT" | jq '.pools[] | select(.name=="ded") | .remove | length')" 445 "445 removals planned"
is "$(fake_count '.method=="GET" and (.path | startswith("/v3/"))')" 5 "five v3 pages of 100"
is "$(fake_log | jq -r '[.[] | select(.path | startswith("/v3/")) | .query] | .[1]' | grep -c 'marker=')" 1 \
	"the second page asks with the first page's next_marker"

# apply: three batch-delete calls, none over 200, no declared id ever sent.
fake_log_clear
run_lbr -c l.ini --json apply --auto-approve
is "$RC" 0 "apply exits 0"
json_valid event "$OUT" "every apply --json event matches its schema"
is "$(fake_count ".path == \"$V3/batch-delete\"")" 3 "445 removals took 3 batch-delete calls"
is "$(fake_log | jq -c "[.[] | select(.path == \"$V3/batch-delete\") | .body | fromjson | .members | length] | sort")" \
	'[45,200,200]' "batches of 200, 200 and 45 ids"
is "$(fake_count '.method=="DELETE"')" 1 "the v2 pool removed its member with one DELETE"
is "$(fake_ctl GET /_fake/hw/pools/$P3 | jq '.members | length')" 5 "the v3 pool holds its 5 declared members"
is "$(jq -r 'select(.action=="remove" and .pool=="ded") | .request_id' st.json.log | sort -u | wc -l | tr -d ' ')" 3 \
	"audit: one line per member, with its batch's request id (3 ids)"
is "$(jq -r 'select(.action=="remove" and .pool=="ded") | .member' st.json.log | sort -u | wc -l | tr -d ' ')" 445 \
	"audit names every one of the 445 members"

# A partially applied batch (first 50 applied, then 503) is retried whole;
# the 50 answer "not found" and count as done.
members=""
i=0
while [ $i -lt 120 ]; do
	members="$members${members:+,}{\"address\":\"10.3.0.$((i + 1))\",\"protocol_port\":80}"
	i=$((i + 1))
done
fake_ctl POST /_fake/hw/pools "{\"project_id\":\"$HW_PROJECT\",\"pool_id\":\"$P3\",\"api\":\"v3\",\"members\":[$members]}" >/dev/null
DECLARED=$(fake_ctl GET /_fake/hw/pools/$P3 | jq -r '[.members[] | select(.address | test("^10\\.3\\.0\\.[1-5]$")) | .id] | join(" ")')
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"batch_delete","count":1,"partial":50,"partial_status":503}' >/dev/null
fake_log_clear
run_lbr -c l.ini apply --auto-approve
is "$RC" 0 "apply converges after a partially applied batch"
is "$(fake_log | jq -c "[.[] | select(.path == \"$V3/batch-delete\") | .status]")" '[503,200]' \
	"the batch answered 503 and was sent again"
is "$(fake_ctl GET /_fake/hw/pools/$P3 | jq '.members | length')" 5 "115 removed, 5 declared left"
sent=$(fake_log | jq -r ".[] | select(.path == \"$V3/batch-delete\") | .body | fromjson | .members[].id")
bad=0
for id in $DECLARED; do printf '%s\n' "$sent" | grep -qx "$id" && bad=$((bad + 1)); done
is "$bad" 0 "no declared member id was ever sent"
is "$(jq -r 'select(.action=="remove" and .outcome=="not_found") | .member' st.json.log | wc -l | tr -d ' ')" 50 \
	"the 50 applied before the 503 are audited as not found"

# Drain on v3: weight 0 sent explicitly, then batch removal.
fake_ctl POST /_fake/hw/pools/$P3/members '{"address":"10.3.0.77","protocol_port":80,"weight":7}' >/dev/null
cfg "drain = 1"
fake_log_clear
run_lbr -c l.ini apply --auto-approve
is "$RC" 0 "drain then remove exits 0"
is "$(fake_log | jq -c '[.[] | select(.method=="PUT") | .body | fromjson | .member]')" '[{"weight":0}]' \
	"the drain sent {\"member\":{\"weight\":0}}"
like "$(fake_log | jq -r '[.[] | select(.method != "GET") | .method] | join(" ")')" '^PUT POST$' \
	"the PUT precedes the batch-delete POST"

# Creation on v3: batch-add; a batch applied but answered 503 is sent
# again, and its "existed" items count as done.
cfg "create = yes"
printf 'member = 10.3.0.88:80 weight=0\nmember = 10.3.0.89:80\n' >>l.ini
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"batch_add","count":1,"applied_then":503}' >/dev/null
fake_log_clear
run_lbr -c l.ini apply --auto-approve
is "$RC" 0 "apply with creations exits 0"
is "$(fake_log | jq -r "[.[] | select(.path == \"$V3/batch-add\") | .status] | join(\" \")")" "503 200" \
	"the batch-add was answered 503 and sent again"
is "$(jq -r 'select(.action=="create") | .outcome' st.json.log | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' ' -)" \
	"exists=2 transient=2" "audited per member: transient, then exists"
is "$(fake_log | jq -c "[.[] | select(.path == \"$V3/batch-add\")][0] | [.body | fromjson | .members[] | [.address, .weight]]")" \
	'[["10.3.0.88",0],["10.3.0.89",null]]' "weight 0 sent as 0, no weight when not declared"
is "$(fake_ctl GET /_fake/hw/pools/$P3 | jq '.members | length')" 7 "7 members now"

# A malformed page stops the pool, never an empty pool.
fake_ctl POST /_fake/faults '{"cloud":"hw","op":"v3_list","count":10,"garbage":true}' >/dev/null
fake_log_clear
run_lbr -c l.ini apply --auto-approve
is "$RC" 1 "an unreadable v3 listing is an error"
is "$(fake_count ".method != \"GET\" and (.path | startswith(\"/v3/\"))")" 0 "and nothing is removed from that pool"
fake_ctl DELETE /_fake/faults >/dev/null

done_testing
