# Helpers shared by the UCloud integration tests (uc-*.sh, mixed.sh).
# Source it after tests/lib.sh.

UC_REGION=cn-bj2
UC_ULB=ulb-4xq1pxnh

# uc_vserver VSERVER_ID PROTOCOL "IP:PORT=BACKEND_ID ..." [POLICIES-JSON-ARRAY]
# Creates (or replaces) a VServer of $UC_ULB with fixed backend ids, so
# that tests can assert exact ids in the calls the agent makes.
uc_vserver() {
	local bs="" b ep
	for b in $3; do
		ep=${b%%=*}
		bs="$bs${bs:+,}{\"backend_id\":\"${b#*=}\",\"private_ip\":\"${ep%:*}\",\"port\":${ep##*:}}"
	done
	fake_ctl POST /_fake/uc/vservers "$(jq -nc --arg vs "$1" --arg proto "$2" \
		--arg proj "$UC_PROJECT" --arg reg "$UC_REGION" --arg ulb "$UC_ULB" \
		--argjson bs "[$bs]" --argjson ps "${4:-[]}" \
		'{project_id:$proj, region:$reg, ulb_id:$ulb, vserver_id:$vs,
		  protocol:$proto, frontend_port:(if $proto == "TCP" then 8080 else 80 end),
		  backends:$bs, policies:$ps}')" >/dev/null
}

# uc_pool_section POOL VSERVER_ID MEMBER... : one [pool] section on stdout
uc_pool_section() {
	local name=$1 vs=$2 m
	shift 2
	printf '[pool %s]\nprovider   = sc\nulb_id     = %s\nvserver_id = %s\n' \
		"$name" "$UC_ULB" "$vs"
	for m in "$@"; do
		printf 'member     = %s\n' "$m"
	done
}

# uc_config FILE POOL VSERVER_ID MEMBER... : agent + sc provider + one pool
uc_config() {
	local f=$1
	shift
	{
		printf '[agent]\nstate = st.json\n'
		uc_provider_section
		uc_pool_section "$@"
	} >"$f"
}

# uc_calls ACTION : the logged calls with that Action, compact JSON lines
uc_calls() { fake_log | jq -c --arg a "$1" '.[] | select(.action == $a)'; }
# uc_ncalls ACTION : how many calls with that Action were logged
uc_ncalls() { fake_count ".action == \"$1\""; }
# uc_params_except_auth : the params of a log line without the two
# redacted signature inputs, sorted keys (stdin: one log line)
uc_params() { jq -cS '.params | del(.PublicKey, .Signature)'; }

# uc_policy VSERVER_ID POLICY_ID : the fake's view of one policy
uc_policy() {
	fake_ctl GET "/_fake/uc/vservers/$1" |
		jq -c --arg p "$2" '.policies[] | select(.policy_id == $p)'
}

# no_secrets TEXT DESCRIPTION : neither UCloud key appears in TEXT
no_secrets() {
	unlike "$1" "$UC_PRIV|$UC_PUB" "$2"
}
