#!/bin/sh
# contrib/: the man pages, systemd units, example configs, CI helpers, JSON
# schemas, bash completion and the Debian packaging skeleton.  A tool's
# check is skipped (and says so) only when the tool is not installed.
#
# The documentation checks take their lists (commands, options, exit codes,
# environment variables, [agent] keys, plugin keys) from the sources and the
# built plugins, so adding any of them without documenting it fails here.

. "$top_srcdir/tests/lib.sh"

C="$top_srcdir/contrib"
MAN1="$C/lbreconcile.1"
MAN5="$C/lbreconcile.ini.5"
MAIN_C="$top_srcdir/agent/main.c"
CMD_C="$top_srcdir/agent/cmd-info.c"
CLI_H="$top_srcdir/agent/cli.h"
CFG_C="$top_srcdir/agent/cfg-keys.c"

[ -x "$LBR" ] || skip_all "lbreconcile not built"

# Text of one section (.SH NAME up to the next .SH) of a troff source.
man_section() { # FILE SECTION-TITLE
	awk -v t="$2" '
		/^\.SH / { s = $0; sub(/^\.SH +"?/, "", s); sub(/"$/, "", s); on = (s == t); next }
		on { print }' "$1"
}

# A name as written in troff: every '-' escaped.
troff_name() { printf '%s' "$1" | sed 's/-/\\-/g'; }

# --- man pages render without warnings ---------------------------------

for page in "$MAN1" "$MAN5"; do
	if command -v man >/dev/null 2>&1; then
		w=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		is "$w" "" "man --warnings: $(basename "$page") renders cleanly"
	elif command -v groff >/dev/null 2>&1; then
		w=$(groff -man -ww -z "$page" 2>&1)
		is "$w" "" "groff -ww: $(basename "$page") renders cleanly"
	else
		echo "# neither man nor groff: rendering of $(basename "$page") not checked"
	fi
done

# mandoc's linter: no warning (dates it can parse, no bad escapes).
for page in "$MAN1" "$MAN5"; do
	if command -v mandoc >/dev/null 2>&1; then
		w=$(mandoc -T lint -W warning "$page" 2>&1)
		is "$w" "" "mandoc -T lint: $(basename "$page") is clean"
	else
		echo "ok $((_tap_n + 1)) - # SKIP mandoc not installed: $(basename "$page") not linted"
		_tap_n=$((_tap_n + 1))
	fi
	like "$(grep '^\.TH ' "$page")" '^\.TH [^ ]+ [0-9] "[0-9]{4}-[0-9]{2}-[0-9]{2}" ' \
		"$(basename "$page") .TH has an ISO date"
done

# The version in .TH follows the program's.
ver=$("$LBR" version | awk '{ print $2 }')
for page in "$MAN1" "$MAN5"; do
	th=$(grep '^\.TH ' "$page")
	like "$th" "\"lbreconcile $ver\"" "$(basename "$page") .TH names version $ver"
done

# --- lbreconcile(1) documents every command, option, exit code, variable --

cmds=$(sed -n 's/.*!strcmp(cmd, "\([a-z-]*\)").*/\1/p' "$MAIN_C" | sort -u)
n=$(printf '%s\n' "$cmds" | grep -c .)
ok $([ "$n" -ge 8 ]; echo $?) "found $n commands in agent/main.c"
commands=$(man_section "$MAN1" COMMANDS)
for cmd in $cmds; do
	printf '%s\n' "$commands" | grep -Eq "^\.(B|BR|BI) \"?$cmd( |\"|$)"
	ok $? "lbreconcile.1 COMMANDS documents '$cmd'"
done

subs=$(sed -n 's/.*strcmp(argv\[0\], "\([a-z]*\)").*/\1/p' "$CMD_C" | sort -u)
n=$(printf '%s\n' "$subs" | grep -c .)
ok $([ "$n" -ge 3 ]; echo $?) "found $n state subcommands in agent/cmd-info.c"
for sub in $subs; do
	printf '%s\n' "$commands" | grep -Eq "^\.(B|BR|BI) \"?state $sub"
	ok $? "lbreconcile.1 COMMANDS documents 'state $sub'"
done

# Long options from the getopt_long table, short ones from the optstring.
longs=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", [a-z_]*_argument,.*/\1/p' "$MAIN_C")
n=$(printf '%s\n' "$longs" | grep -c .)
ok $([ "$n" -ge 10 ]; echo $?) "found $n long options in agent/main.c"
options=$(man_section "$MAN1" OPTIONS)
for opt in $longs; do
	printf '%s\n' "$options" | grep -qF -- "$(troff_name "--$opt")"
	ok $? "lbreconcile.1 OPTIONS documents --$opt"
done
shorts=$(sed -n 's/.*getopt_long(argc, argv, "+:\{0,1\}\([A-Za-z:]*\)".*/\1/p' "$MAIN_C" | tr -d ':' | fold -w1)
n=$(printf '%s\n' "$shorts" | grep -c .)
ok $([ "$n" -ge 3 ]; echo $?) "found $n short options in agent/main.c"
for opt in $shorts; do
	printf '%s\n' "$options" | grep -Eq -- "^\.(B|BI|BR) \\\\-$opt( |\"|$)"
	ok $? "lbreconcile.1 OPTIONS documents -$opt"
done

codes=$(sed -n 's/^[[:space:]]*EXIT_[A-Z]* = \([0-9]*\),.*/\1/p' "$CLI_H")
n=$(printf '%s\n' "$codes" | grep -c .)
ok $([ "$n" -ge 5 ]; echo $?) "found $n exit codes in agent/cli.h"
status=$(man_section "$MAN1" "EXIT STATUS")
for code in $codes; do
	printf '%s\n' "$status" | grep -qx "\.B $code"
	ok $? "lbreconcile.1 EXIT STATUS documents $code"
done

vars=$(cat "$top_srcdir"/agent/*.c | sed -n 's/.*getenv("\([A-Z_]*\)").*/\1/p' |
	grep -v '_TEST_' | sort -u)
n=$(printf '%s\n' "$vars" | grep -c .)
ok $([ "$n" -ge 3 ]; echo $?) "found $n environment variables in agent/"
envsec=$(man_section "$MAN1" ENVIRONMENT)
for v in $vars; do
	printf '%s\n' "$envsec" | grep -qx "\.B $v"
	ok $? "lbreconcile.1 ENVIRONMENT documents $v"
done

# --- lbreconcile.ini(5) documents every key ------------------------------

# The [agent] keys are the ones agent_key() accepts.
akeys=$(awk '/static const char \*const keys\[\] = \{/, /NULL \};/' "$CFG_C" |
	grep -o '"[a-z_]*"' | tr -d '"')
n=$(printf '%s\n' "$akeys" | grep -c .)
ok $([ "$n" -ge 7 ]; echo $?) "found $n [agent] keys in agent/cfg-keys.c"
agentsec=$(man_section "$MAN5" "[agent] SECTION")
for k in $akeys; do
	printf '%s\n' "$agentsec" | grep -q "^\.BI \"$(troff_name "$k") = "
	ok $? "lbreconcile.ini.5 [agent] documents '$k'"
done

# Pool keys handled by the core, then every key each plugin declares.
pkeys=$(awk '/^static int pool_key\(/, /^}/' "$CFG_C" |
	sed -n 's/.*strcmp(name, "\([a-z_]*\)").*/\1/p' | sort -u)
n=$(printf '%s\n' "$pkeys" | grep -c .)
ok $([ "$n" -ge 4 ]; echo $?) "found $n core [pool] keys in agent/cfg-keys.c"
poolsec=$(man_section "$MAN5" "[pool NAME] SECTIONS")
for k in $pkeys; do
	printf '%s\n' "$poolsec" | grep -q "^\.BI \"$(troff_name "$k") = "
	ok $? "lbreconcile.ini.5 [pool] documents '$k'"
done

run_lbr -c "$T/none.ini" providers
is "$RC" 0 "lbreconcile providers lists the built plugins"
plugins=$(printf '%s\n' "$OUT" | sed -n 's/^  \([a-z0-9_]*\) *version .*/\1/p')
like "$plugins" huaweicloud "providers lists huaweicloud"
like "$plugins" ucloud "providers lists ucloud"
abi=$("$LBR" version | sed -n 's/.*(plugin ABI \([0-9]*\)\.[0-9]*)$/\1/p')
like "$OUT" "huaweicloud +version [^ ]+, ABI $abi\.[0-9]+, capabilities: remove( [a-z]+)*$" \
	"huaweicloud: the core's ABI major ($abi), capabilities listed"
like "$OUT" "ucloud +version [^ ]+, ABI $abi\.[0-9]+, capabilities: remove( [a-z]+)* rules( [a-z]+)*$" \
	"ucloud: the core's ABI major ($abi), L7 rules"
provsec=$(man_section "$MAN5" "[provider NAME] SECTIONS")
for p in $plugins; do
	printf '%s\n' "$provsec" | grep -q "^\.SS $p "
	ok $? "lbreconcile.ini.5 has a subsection for plugin $p"
	# "    [provider] keys:" / "    [pool] keys:" each followed by
	# "      key  help" lines.
	keys=$(printf '%s\n' "$OUT" | awk -v p="$p" '
		/^  [a-z0-9_]+ +version / { cur = $1; next }
		cur == p && /^      [a-z_]+ / { print $1 }')
	n=$(printf '%s\n' "$keys" | grep -c .)
	ok $([ "$n" -ge 3 ]; echo $?) "plugin $p declares $n keys"
	for k in $keys; do
		grep -q "^\.BI \"$(troff_name "$k") = " "$MAN5"
		ok $? "lbreconcile.ini.5 documents $p key '$k'"
	done
done

# --- the example configs validate ------------------------------------------

# validate_with_env FILE: set every env:NAME the file names to a dummy
# value and validate it.
validate_with_env() {
	names=$(sed -n 's/^[^;#]*= *env:\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' "$1" | sort -u)
	(
		for v in $names; do
			eval "$v=dummy-$v; export $v"
		done
		run_lbr -c "$1" validate
		printf '%s\n' "$RC" >"$T/rc"
		printf '%s\n' "$ERR" >"$T/err.txt"
	)
	RC=$(cat "$T/rc")
	ERR=$(cat "$T/err.txt")
	NAMES=$names
}

n=0
for f in "$C"/examples/*.ini; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	base=$(basename "$f")
	validate_with_env "$f"
	is "$RC" 0 "examples/$base validates"
	is "$ERR" "" "examples/$base validates without warnings"
	unlike "$(grep -E '^[[:space:]]*(access_key|secret_key|token|public_key|private_key)[[:space:]]*=' "$f" |
		grep -Ev '=[[:space:]]*(env|file):')" . "examples/$base has no literal secrets"
	# Without the variables the same file must fail, naming one of them:
	# this is what shows the secrets really are read through env:.
	if [ -n "$NAMES" ]; then
		(
			for v in $NAMES; do unset "$v"; done
			run_lbr -c "$f" validate
			echo "$RC" >"$T/rc"
			echo "$ERR" >"$T/err.txt"
		)
		is "$(cat "$T/rc")" 1 "examples/$base fails without its environment"
		like "$(cat "$T/err.txt")" "environment variable [A-Z_]+ is not set" \
			"examples/$base: the error names the missing variable"
	fi
done
ok $([ "$n" -ge 3 ]; echo $?) "found $n example configs"
for want in huawei surfercloud mixed; do
	[ -f "$C/examples/$want.ini" ]
	ok $? "examples/$want.ini exists"
done
grep -q '^endpoint *= *https://api.surfercloud.com$' "$C/examples/surfercloud.ini"
ok $? "examples/surfercloud.ini uses the SurferCloud endpoint"

# The systemd config reads its secrets as cred:lbr_NAME from the unit's
# credentials directory (LoadCredential=lbr:/etc/lbreconcile/credentials);
# validate it with CREDENTIALS_DIRECTORY pointing into the temp dir.
SDINI="$C/systemd/lbreconcile.ini"
mkdir -p "$T/creds"
sed -n 's#^[^;]*= *cred:\([^ ]*\).*#\1#p' "$SDINI" | while read -r name; do
	echo "dummy-$name" >"$T/creds/$name"
done
n=$(find "$T/creds" -type f | grep -c .)
ok $([ "$n" -ge 2 ]; echo $?) "systemd/lbreconcile.ini reads $n secrets as cred:"
unlike "$(sed -n 's#^[^;]*= *cred:\([^ ]*\).*#\1#p' "$SDINI" | grep -v '^lbr_')" . \
	"systemd/lbreconcile.ini: every credential is named lbr_FILE (the units' LoadCredential= ID)"
unlike "$(grep -E '^[^;]*=[[:space:]]*(env:|file:)' "$SDINI")" . \
	"systemd/lbreconcile.ini takes no secret from the environment or a path"
CREDENTIALS_DIRECTORY="$T/creds" run_lbr -c "$SDINI" validate
is "$RC" 0 "systemd/lbreconcile.ini validates with its credentials"
is "$ERR" "" "systemd/lbreconcile.ini validates without warnings"
(unset CREDENTIALS_DIRECTORY; run_lbr -c "$SDINI" validate; echo "$RC" >"$T/rc")
is "$(cat "$T/rc")" 1 "systemd/lbreconcile.ini fails outside a unit (no credentials)"
grep -q '^state *= */var/lib/lbreconcile/state.json$' "$SDINI"
ok $? "systemd/lbreconcile.ini keeps state in /var/lib/lbreconcile"

# --- systemd units -----------------------------------------------------------

SD="$C/systemd"
for u in lbreconcile.service lbreconcile-apply.service; do
	for d in DynamicUser=yes StateDirectory=lbreconcile ProtectSystem=strict \
		ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes CapabilityBoundingSet= \
		'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
		SystemCallFilter=@system-service \
		Environment=LBRECONCILE_CONFIG=/etc/lbreconcile/lbreconcile.ini; do
		grep -qx "$d" "$SD/$u"
		ok $? "$u: $d"
	done
	grep -qx 'LoadCredential=lbr:/etc/lbreconcile/credentials' "$SD/$u"
	ok $? "$u: secrets come from the credentials directory through one LoadCredential="
	is "$(grep -c '^LoadCredential' "$SD/$u")" 1 "$u: no per-file LoadCredential= that fails when its file is missing"
	for d in RuntimeDirectory=lbreconcile RuntimeDirectoryMode=0755 RuntimeDirectoryPreserve=yes; do
		grep -qx "$d" "$SD/$u"
		ok $? "$u: $d (the metrics file, readable by node_exporter)"
	done
	unlike "$(grep '^Environment' "$SD/$u" | grep -v '^Environment=LBRECONCILE_CONFIG=')" . \
		"$u: no other Environment= (secrets never go there)"
done
METRICS=/run/lbreconcile/lbreconcile.prom
grep -qx 'Type=simple' "$SD/lbreconcile.service" &&
	grep -qx "ExecStart=/usr/bin/lbreconcile --metrics-file $METRICS run" "$SD/lbreconcile.service"
ok $? "lbreconcile.service runs 'lbreconcile run' as Type=simple, metrics in $METRICS"
grep -qx 'Type=oneshot' "$SD/lbreconcile-apply.service" &&
	grep -qx "ExecStart=/usr/bin/lbreconcile -q --metrics-file $METRICS apply --auto-approve" "$SD/lbreconcile-apply.service"
ok $? "lbreconcile-apply.service is a oneshot '-q apply --auto-approve', metrics in $METRICS"
grep -q "$(troff_name "$METRICS")" "$MAN1"
ok $? "lbreconcile.1 documents the units' metrics path"
for w in 'cred:' 'LoadCredential=lbr:/etc/lbreconcile/credentials'; do
	grep -qF -- "$(troff_name "$w")" "$MAN5"
	ok $? "lbreconcile.ini.5 documents $w"
done
grep -qx 'Unit=lbreconcile-apply.service' "$SD/lbreconcile-apply.timer"
ok $? "the timer starts lbreconcile-apply.service"

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants the ExecStart binaries to exist: point them at the
	# build.  --man=no: the pages are not installed yet.
	mkdir -p "$T/units"
	for u in lbreconcile.service lbreconcile-apply.service lbreconcile-apply.timer; do
		sed "s#/usr/bin/lbreconcile#$LBR#g" "$SD/$u" >"$T/units/$u"
	done
	w=$(cd "$T/units" && systemd-analyze verify --man=no ./lbreconcile.service \
		./lbreconcile-apply.service ./lbreconcile-apply.timer 2>&1)
	rc=$?
	is "$rc" 0 "systemd-analyze verify accepts the units"
	is "$w" "" "systemd-analyze verify has nothing to say"
else
	echo "# systemd-analyze not installed: unit verification skipped"
fi

# --- JSON schemas ---------------------------------------------------------

n=0
for f in "$C"/schema/*.json; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	b=$(basename "$f")
	grep -q "%D%/schema/$b" "$C/local.mk"
	ok $? "schema/$b is installed (contrib/local.mk)"
	if command -v python3 >/dev/null 2>&1 && python3 -c 'import jsonschema' 2>/dev/null; then
		python3 -c 'import json, sys, jsonschema; jsonschema.Draft202012Validator.check_schema(json.load(open(sys.argv[1])))' "$f"
		ok $? "schema/$b is a valid JSON Schema (draft 2020-12)"
	else
		echo "ok $((_tap_n + 1)) - # SKIP python3-jsonschema not installed: schema/$b not checked"
		_tap_n=$((_tap_n + 1))
	fi
done
for want in plan drift event event-observe event-plan event-action event-retry event-summary; do
	[ -f "$C/schema/$want.json" ]
	ok $? "schema/$want.json exists"
done
grep -q 'schema' "$MAN1" && grep -q 'format_version": 2' "$MAN1" && grep -qF 'RetCode.4093' "$MAN1"
ok $? "lbreconcile.1 documents the schemas, format_version 2 and the RetCode.N code form"

# --- bash completion ---------------------------------------------------------

COMP="$C/completion/lbreconcile.bash"
if command -v bash >/dev/null 2>&1; then
	printf '[agent]\nstate = s.json\n[pool web]\n[pool api]\n' >"$T/comp.ini"
	got=$(COMP="$COMP" CFG="$T/comp.ini" bash -c '
		. "$COMP"
		c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _lbreconcile; echo "${COMPREPLY[*]}"; }
		c lbreconcile pl
		c lbreconcile plan --d
		c lbreconcile -c "$CFG" apply --pool ""
		c lbreconcile state ""
		c lbreconcile help dr
		complete -p lbreconcile')
	is "$got" "plan
--detailed-exitcode
web api
list show unlock
drift
complete -F _lbreconcile lbreconcile" "bash completion: commands, options, pools, state, help"
else
	echo "# bash not installed: completion not checked"
fi
grep -q 'bashcompletiondir = $(datadir)/bash-completion/completions' "$C/local.mk"
ok $? "the completion is installed where bash-completion looks"

# --- shipped scripts: shellcheck -------------------------------------------

if command -v shellcheck >/dev/null 2>&1; then
	for f in "$C/gitops/lbreconcile-ci.sh" "$C/deb-check.sh" "$top_srcdir/scripts/ci-extra.sh"; do
		[ -f "$f" ] || continue
		w=$(shellcheck "$f" 2>&1)
		is "$w" "" "shellcheck: ${f#"$top_srcdir"/} is clean"
	done
	w=$(shellcheck -s bash "$COMP" 2>&1)
	is "$w" "" "shellcheck: the bash completion is clean"
else
	echo "ok $((_tap_n + 1)) - # SKIP shellcheck not installed: scripts not checked"
	_tap_n=$((_tap_n + 1))
fi

# --- packaging -------------------------------------------------------------

[ -f "$top_srcdir/LICENSE" ] && grep -q '^MIT License$' "$top_srcdir/LICENSE"
ok $? "LICENSE: MIT"
DC="$top_srcdir/debian/copyright"
head -n 1 "$DC" | grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' &&
	grep -qx 'License: Expat' "$DC" && ! grep -qi 'unspecified' "$DC"
ok $? "debian/copyright: DEP-5, License: Expat"
grep -qx 'Package: lbreconcile-dev' "$top_srcdir/debian/control" &&
	grep -qx 'usr/include/lbreconcile/provider.h' "$top_srcdir/debian/lbreconcile-dev.install"
ok $? "debian: lbreconcile-dev ships the ABI header"
unlike "$(grep include "$top_srcdir/debian/lbreconcile.install")" . "debian: the runtime package ships no header"
grep -q 'dh_installsystemd .*--restart-after-upgrade' "$top_srcdir/debian/rules"
ok $? "debian: an upgrade restarts the running units"

# --- cron and GitOps helpers -------------------------------------------------

grep -Eq '^[^#].*[[:space:]]lbreconcile[[:space:]]+lbreconcile -q apply --auto-approve$' \
	"$C/cron/lbreconcile"
ok $? "cron.d example runs '-q apply --auto-approve' as user lbreconcile"

# The CI driver's exit codes, with a stand-in for the agent that records
# its arguments and exits as told.
CI="$C/gitops/lbreconcile-ci.sh"
cat >"$T/fake-lbr" <<EOF
#!/bin/sh
echo "\$*" >>"$T/fake-args"
case "\$*" in
*validate*) exit 0 ;;
*plan*) exit \${FAKE_PLAN_RC:-0} ;;
*apply*) exit \${FAKE_APPLY_RC:-0} ;;
esac
exit 0
EOF
chmod +x "$T/fake-lbr"
for pair in 0:0 2:0 3:3 1:1; do
	plan=${pair%:*}
	want=${pair#*:}
	rm -f "$T/fake-args"
	(cd "$T" && LBRECONCILE="$T/fake-lbr" FAKE_PLAN_RC=$plan sh "$CI" review >/dev/null 2>&1)
	is "$?" "$want" "lbreconcile-ci.sh review: plan exit $plan -> $want"
done
like "$(cat "$T/fake-args")" "^plan --detailed-exitcode$" "review runs plan --detailed-exitcode"
(cd "$T" && LBRECONCILE="$T/fake-lbr" FAKE_PLAN_RC=2 LBRECONCILE_FAIL_ON_CHANGES=1 \
	sh "$CI" review >/dev/null 2>&1)
is "$?" 2 "lbreconcile-ci.sh review fails on changes when asked to"
rm -f "$T/fake-args"
(cd "$T" && LBRECONCILE="$T/fake-lbr" FAKE_APPLY_RC=3 sh "$CI" apply >/dev/null 2>&1)
is "$?" 3 "lbreconcile-ci.sh apply passes apply's exit code on"
like "$(cat "$T/fake-args")" "^apply --auto-approve$" "apply runs apply --auto-approve"
(sh "$CI" bogus >/dev/null 2>&1)
is "$?" 64 "lbreconcile-ci.sh refuses an unknown mode"

if command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null; then
	python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$C/gitops/gitlab-ci.yml"
	ok $? "gitops/gitlab-ci.yml is valid YAML"
fi

done_testing
