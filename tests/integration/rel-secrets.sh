#!/bin/sh
# Secrets (issue 4, acceptance 9): every command, at the most verbose
# level, with distinctive secret values (all containing S3CR3T) given as
# env:, file: and literal secrets; also failing variants (bad SK, bad
# token, bad UCloud key, unreachable endpoint).  No secret may appear in
# stdout, stderr, the state file, its .backup, the audit log, the lock file
# or the metrics file; those are created 0600.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/rel-lib.sh"

S_AK=AKS3CR3TQTWAOYTTINDU
S_SK=skS3CR3TMFyfvK41ba2giqM7Uio6PznpdUKgZlm
S_TOKEN=tokS3CR3TMIIZkQYJKoZIhvcNAQcCoIIZgjCCGX4CAQExDTALBglghkgB
S_UPUB='pubS3CR3Tsomeone@example.com1296235120854146120'
S_UPRIV=privS3CR3T46f09bb9fab4f12dfc160dae12273d5332b5
export LBR_T_AK="$S_AK" LBR_T_TOKEN="$S_TOKEN" LBR_T_UPRIV="$S_UPRIV"
# Never used by the agent below, but make sure the standard test keys are
# not the ones found.
unset HW_AK HW_SK HW_TOKEN UC_PUB UC_PRIV

fake_start
fake_ctl POST /_fake/hw/accounts "$(jq -nc --arg ak "$S_AK" --arg sk "$S_SK" --arg p "$HW_PROJECT" \
	--arg t "$S_TOKEN" '{ak:$ak, sk:$sk, project_id:$p, token:$t}')" >/dev/null
fake_ctl POST /_fake/uc/accounts "$(jq -nc --arg a "$S_UPUB" --arg b "$S_UPRIV" --arg p "$UC_PROJECT" \
	'{public_key:$a, private_key:$b, project_id:$p}')" >/dev/null

reset_world() {
	rel_hw_pool secpool-a 1 4 10.7.1
	rel_hw_pool secpool-b 1 4 10.7.2
	rel_uc_vserver vserver-sec 1 4 10.7.3
}
reset_world
mkdir "$T/secrets"
printf '%s\n' "$S_SK" >"$T/secrets/hw.sk"
chmod 600 "$T/secrets/hw.sk"
C=$T/lbr.ini
# cfg HW_ENDPOINT
cfg() {
	cat >"$C" <<EOT
[agent]
state = st.json
max_delete = 100%

[provider hw]
plugin     = huaweicloud
region     = cn-north-4
project_id = $HW_PROJECT
endpoint   = $1
access_key = env:LBR_T_AK
secret_key = file:secrets/hw.sk

[provider hwt]
plugin     = huaweicloud
region     = cn-north-4
project_id = $HW_PROJECT
endpoint   = $1
token      = env:LBR_T_TOKEN

[provider sc]
plugin      = ucloud
endpoint    = $FAKE_URL
region      = cn-bj2
project_id  = $UC_PROJECT
public_key  = $S_UPUB
private_key = env:LBR_T_UPRIV
EOT
	rel_hw_pool_section a secpool-a 10.7.1 1 2 >>"$C"
	rel_hw_pool_section b secpool-b 10.7.2 1 2 | sed 's/^provider = hw$/provider = hwt/' >>"$C"
	rel_uc_pool_section c vserver-sec 10.7.3 1 2 >>"$C"
}
cfg "$FAKE_URL"

ALL=$T/all-output
: >"$ALL"
# sec_run DESCRIPTION WANT-RC ARGS... : run at -v -v, keep all output
sec_run() {
	local d=$1 want=$2
	shift 2
	run_lbr -c "$C" -v -v "$@"
	is "$RC" "$want" "$d: exit $want"
	{ printf '%s\n' "$OUT"; printf '%s\n' "$ERR"; } >>"$ALL"
	unlike "$OUT$ERR" "S3CR3T" "$d: no secret in stdout/stderr"
}

sec_run "validate" 0 validate
like "$ERR" "provider \"sc\".*public_key.*literal|literal.*public_key" "validate warns about the literal secret"
sec_run "version" 0 version
sec_run "providers" 0 providers
sec_run "plan" 0 plan
sec_run "plan --json" 0 --json plan
sec_run "drift" 2 drift
sec_run "drift --json" 2 --json drift
sec_run "apply" 0 apply --auto-approve
ok "$([ "$(fake_count '.auth == "token"')" -gt 0 ] && [ "$(fake_count '.auth == "aksk" and .cloud == "hw"')" -gt 0 ] &&
	[ "$(fake_count '.auth == "bad"')" -eq 0 ]; echo $?)" "AK/SK and token were both used, never rejected"
sec_run "apply --json" 0 --json apply --auto-approve
reset_world
sec_run "apply (second pass)" 0 apply --auto-approve
sec_run "state list" 0 state list
sec_run "state show" 0 state show
sec_run "state show a" 0 state show a
sec_run "run --once" 0 run --once

# Failing variants.
printf '%s\n' "skS3CR3TwrongwrongwrongwrongwrongwrongXX" >"$T/secrets/hw.sk"
reset_world
sec_run "apply, bad SK" 1 apply --auto-approve
like "$ERR" 'provider "hw"|pool "a"' "bad SK: the error names the provider or pool"
unlike "$ERR" "wrongwrong" "bad SK: the wrong SK is not printed either"
printf '%s\n' "$S_SK" >"$T/secrets/hw.sk"
fake_ctl POST /_fake/hw/accounts "$(jq -nc --arg ak "$S_AK" --arg sk "$S_SK" --arg p "$HW_PROJECT" \
	--arg t "$S_TOKEN" '{ak:$ak, sk:$sk, project_id:$p, token:$t}')" >/dev/null

export LBR_T_TOKEN=tokS3CR3Twrongtoken000000000000
export LBR_T_UPRIV=privS3CR3Twrong00000000000000000000000
sec_run "plan, bad token and bad UCloud key" 1 plan
sec_run "apply, bad token and bad UCloud key" 1 apply --auto-approve
like "$ERR" 'pool "c"' "bad UCloud key: the error names the pool"
export LBR_T_TOKEN="$S_TOKEN" LBR_T_UPRIV="$S_UPRIV"

cfg "http://127.0.0.1:1"
sec_run "plan, unreachable endpoint" 1 plan
sec_run "apply, unreachable endpoint" 1 apply --auto-approve
sec_run "drift, unreachable endpoint" 1 drift
cfg "$FAKE_URL"
rm -f "$T/secrets/hw.sk.missing"
sed -i 's|file:secrets/hw.sk|file:secrets/hw.sk.missing|' "$C"
sec_run "validate, missing secret file" 1 validate
# The secret is the first line of its file (SPEC): the rest is ignored,
# but a first line too long to read whole is refused, not cut.
python3 -c 'import sys; sys.stdout.write("S3CR3T" + "x" * 5000 + "\n")' >"$T/secrets/hw.sk.pem"
sed -i 's|file:secrets/hw.sk.missing|file:secrets/hw.sk.pem|' "$C"
sec_run "validate, secret file with an over-long line" 1 validate
like "$ERR" "the first line of '.*hw.sk.pem' is longer than 4095 bytes" "... one error naming the file"
is "$(printf '%s\n' "$ERR" | grep -c .)" 1 "... and nothing else"
printf '%s\n# rotated 2026-11-01\n' "$S_SK" >"$T/secrets/hw.sk.pem"
sec_run "validate, secret file with a comment after the secret" 0 validate
sed -i 's|file:secrets/hw.sk.pem|file:secrets/hw.sk.missing|' "$C"
sed -i 's|file:secrets/hw.sk.missing|env:LBR_T_UNSET_VARIABLE|' "$C"
sec_run "validate, unset env secret" 1 validate

# The metrics file (SPEC §6, any command) must not carry secrets either.
sed -i 's|env:LBR_T_UNSET_VARIABLE|file:secrets/hw.sk|' "$C"
reset_world
run_lbr -c "$C" -v -v --metrics-file "$T/metrics.prom" apply --auto-approve
if false; then
	:
else
	{ printf '%s\n' "$OUT"; printf '%s\n' "$ERR"; } >>"$ALL"
	is "$RC" 0 "apply --metrics-file: exit 0"
	ok "$([ -s "$T/metrics.prom" ]; echo $?)" "metrics file written"
	is "$(grep -c S3CR3T "$T/metrics.prom")" 0 "no secret in the metrics file"
fi

# Nothing anywhere.
for f in st.json st.json.backup st.json.log st.json.lock; do
	ok "$([ -e "$T/$f" ]; echo $?)" "$f exists"
	is "$(grep -c S3CR3T "$T/$f")" 0 "no secret in $f"
done
is "$(grep -c S3CR3T "$ALL")" 0 "no secret in any output ($(wc -l <"$ALL") lines)"
# not even the AK, in any encoding of the Authorization header
is "$(grep -ci 'Access=\|Signature=\|X-Auth-Token\|PublicKey=' "$ALL")" 0 \
	"no credential header or signed parameter echoed"
for f in st.json st.json.backup st.json.log st.json.lock; do
	is "$(file_mode_rel "$T/$f")" 600 "$f is 0600"
done
# sanity: the greps above can fail (the config holds a literal secret)
is "$(grep -c S3CR3T "$C")" 1 "(control: the config file itself holds the literal secret)"

done_testing
