#!/usr/bin/env bash
# A real reconciliation against the bundled fake cloud: a Huawei ELB pool
# with a member to create, a weight to change and a member to remove (make
# before break), and a SurferCloud (UCloud API) VServer with a Layer-7
# policy and a backend the config does not declare.
# Usage: scripts/demo.sh PREFIX
set -euo pipefail

PREFIX=${1:?usage: demo.sh PREFIX}
TOP=$(cd "$(dirname "$0")/.." && pwd)
LBR="$PREFIX/bin/lbreconcile"
FAKE="$TOP/tests/fakecloud/fakecloud"
D=$(mktemp -d /tmp/lbreconcile-demo.XXXXXX)
trap 'kill $FAKE_PID 2>/dev/null; wait $FAKE_PID 2>/dev/null || true' EXIT

"$FAKE" --port-file "$D/port" --log "$D/fake.log" >"$D/fake.out" 2>&1 &
FAKE_PID=$!
for _ in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$D/port")"
ctl() { curl -sS -X "$1" -H 'Content-Type: application/json' --data-binary "$3" "$URL$2" >/dev/null; }

# The "cloud": accounts, a pool of four members, a VServer of three backends.
export DEMO_HW_AK=DEMOAKDEMOAKDEMOAK01 DEMO_HW_SK=demo-secret-key-not-real
export DEMO_SC_PUB=demo-public-key DEMO_SC_PRIV=demo-private-key-not-real
ctl POST /_fake/hw/accounts '{"ak":"DEMOAKDEMOAKDEMOAK01","sk":"demo-secret-key-not-real","project_id":"145483a5107745e9b3d80f956713e6a3"}'
ctl POST /_fake/hw/pools '{"project_id":"145483a5107745e9b3d80f956713e6a3","pool_id":"5a9a3e9e-d1aa-448e-af37-a70171f2a332","members":[
 {"address":"10.0.0.11","protocol_port":80},{"address":"10.0.0.12","protocol_port":80},
 {"address":"10.0.0.9","protocol_port":80},{"address":"10.0.0.13","protocol_port":80}]}'
ctl POST /_fake/uc/accounts '{"public_key":"demo-public-key","private_key":"demo-private-key-not-real","project_id":"org-abc123"}'
ctl POST /_fake/uc/vservers '{"project_id":"org-abc123","region":"cn-bj2","ulb_id":"ulb-4xq1pxnh","vserver_id":"vserver-2tggsm1b",
 "protocol":"HTTP","frontend_port":80,"backends":[
 {"backend_id":"backend-aaaa0001","private_ip":"10.0.1.5","port":8080},
 {"backend_id":"backend-aaaa0002","private_ip":"10.0.1.6","port":8080},
 {"backend_id":"backend-aaaa0003","private_ip":"10.0.1.7","port":8080}],
 "policies":[{"policy_id":"policy-0a074d02","type":"Path","match":"/api","backend_ids":["backend-aaaa0001","backend-aaaa0003"]}]}'

cat >"$D/lbreconcile.ini" <<EOT
[agent]
state = lbreconcile.state.json
max_delete = 50%

[provider hw]
plugin     = huaweicloud
region     = cn-north-4
project_id = 145483a5107745e9b3d80f956713e6a3
endpoint   = $URL
access_key = env:DEMO_HW_AK
secret_key = env:DEMO_HW_SK

[provider sc]
plugin      = ucloud
endpoint    = $URL
region      = cn-bj2
project_id  = org-abc123
public_key  = env:DEMO_SC_PUB
private_key = env:DEMO_SC_PRIV

[pool web]
provider  = hw
pool_id   = 5a9a3e9e-d1aa-448e-af37-a70171f2a332
create    = yes                                    ; add declared members that are missing
subnet_id = 7bd8e4a2-0000-4000-8000-00000000abcd   ; the members' subnet, for creation
member    = 10.0.0.11:80 weight=5
member    = 10.0.0.12:80
member    = 10.0.0.13:80
member    = 10.0.0.14:80 name=canary

[pool api]
provider   = sc
ulb_id     = ulb-4xq1pxnh
vserver_id = vserver-2tggsm1b
member     = 10.0.1.5:8080
member     = 10.0.1.6:8080
EOT

cd "$D"
run() { printf '\n$ %s\n' "$*"; "$@" || echo "(exit $?)"; }
run "$LBR" version
run "$LBR" validate
run "$LBR" plan --detailed-exitcode
run "$LBR" apply --auto-approve
run "$LBR" plan --detailed-exitcode
run "$LBR" state list
printf '\nAPI calls the fake cloud received:\n'
curl -sS "$URL/_fake/log" | jq -r '.[] | "  \(.method) \(.path)\(if .action then " Action="+.action else "" end)\(if .body and (.method == "POST" or .method == "PUT") then " "+.body else "" end) -> \(.status)\(if .retcode != null then " RetCode \(.retcode)" else "" end)"'
printf '\nDemo files (config, state, audit log) are in %s\n' "$D"
