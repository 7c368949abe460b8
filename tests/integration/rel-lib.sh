# Helpers shared by the reliability and security tests (rel-*.sh).
# Source it after tests/lib.sh.

REL_ULB=ulb-4xq1pxnh

# rel_hw_pool POOL_ID FIRST LAST NET : a Huawei pool whose members are
# NET.FIRST:80 .. NET.LAST:80 (ids chosen by the fake).
rel_hw_pool() {
	local i members=""
	for i in $(seq "$2" "$3"); do
		members="$members $4.$i:80"
	done
	hw_pool "$1" "$members"
}

# rel_uc_vserver VSERVER_ID FIRST LAST NET : a UCloud HTTP VServer of
# $REL_ULB with backends NET.FIRST:8080 .. NET.LAST:8080, no Custom policy.
rel_uc_vserver() {
	fake_ctl POST /_fake/uc/vservers "$(jq -nc --arg vs "$1" --arg proj "$UC_PROJECT" \
		--arg ulb "$REL_ULB" --arg net "$4" --argjson a "$2" --argjson b "$3" \
		'{project_id:$proj, region:"cn-bj2", ulb_id:$ulb, vserver_id:$vs,
		  protocol:"HTTP", frontend_port:80, policies:[],
		  backends:[range($a; $b + 1) | {private_ip:($net + "." + tostring), port:8080}]}')" \
		>/dev/null
}

# rel_hw_pool_section NAME POOL_ID NET FIRST LAST : a [pool] declaring
# NET.FIRST:80 .. NET.LAST:80.
rel_hw_pool_section() {
	local i
	printf '\n[pool %s]\nprovider = hw\npool_id = %s\n' "$1" "$2"
	for i in $(seq "$4" "$5"); do
		printf 'member = %s.%s:80\n' "$3" "$i"
	done
}

# rel_uc_pool_section NAME VSERVER_ID NET FIRST LAST
rel_uc_pool_section() {
	local i
	printf '\n[pool %s]\nprovider = sc\nulb_id = %s\nvserver_id = %s\n' "$1" "$REL_ULB" "$2"
	for i in $(seq "$4" "$5"); do
		printf 'member = %s.%s:8080\n' "$3" "$i"
	done
}

# Sorted "addr:port" lines of a fake pool / vserver (the truth, not the
# eventually consistent listing).
rel_hw_members() { hw_members "$1"; }
rel_uc_backends() {
	fake_ctl GET "/_fake/uc/vservers/$1" | jq -r '.backends[] | "\(.private_ip):\(.port)"' | sort
}

# rel_expect_seq NET FIRST LAST PORT : the sorted lines a converged pool has
rel_expect_seq() {
	local i
	for i in $(seq "$2" "$3"); do
		echo "$1.$i:$4"
	done | sort
}

# rel_wait_file FILE TENTHS : wait until FILE exists (up to TENTHS * 0.1 s)
rel_wait_file() {
	local i=0
	while [ ! -e "$1" ] && [ $i -lt "$2" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e "$1" ]
}

# now_ms : milliseconds since the epoch
now_ms() { date +%s%3N; }

# file_mode_rel FILE -> octal permission bits
file_mode_rel() { stat -c %a "$1"; }

# Calls that could change the world (anything but a listing).
mutating_rel() {
	fake_count '(.cloud == "hw" and .method != "GET") or (.cloud == "uc" and .action != "DescribeVServer" and .action != "DescribeULB")'
}
# uc_ncalls_rel ACTION : how many calls with that Action were logged
uc_ncalls_rel() { fake_count ".action == \"$1\""; }
