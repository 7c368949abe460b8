#!/bin/sh
# GitOps driver for lbreconcile, for any CI system.
#
#   lbreconcile-ci.sh review   on a merge/pull request: validate, then plan
#                              with --detailed-exitcode; posts nothing, the
#                              plan goes to the job log (and plan.json)
#   lbreconcile-ci.sh apply    after merge to the main branch: validate,
#                              then apply --auto-approve
#
# Environment:
#   LBRECONCILE_CONFIG   the reviewed config (default: lbreconcile.ini)
#   LBRECONCILE          the binary (default: lbreconcile on PATH)
#   cloud credentials    whatever the config's env:NAME secrets name, set as
#                        masked CI variables (never in the repository)
#
# Exit status of `review`: 0 no changes, 2 changes pending (still a
# successful review: the job reports it), 1 error, 3 apply would be refused
# by a safety guard.  Set LBRECONCILE_FAIL_ON_CHANGES=1 to fail the job when
# changes are pending (useful as a scheduled drift check).
set -eu

mode=${1:-}
lbr=${LBRECONCILE:-lbreconcile}
: "${LBRECONCILE_CONFIG:=lbreconcile.ini}"
export LBRECONCILE_CONFIG

case $mode in
review)
	"$lbr" validate
	# plan exits non-zero for "changes pending"; capture it instead of
	# letting set -e end the script.
	rc=0
	"$lbr" plan --detailed-exitcode || rc=$?
	"$lbr" --json plan >plan.json || true
	case $rc in
	0)
		echo "lbreconcile: no changes" ;;
	2)
		echo "lbreconcile: changes pending; they are applied on merge"
		if [ "${LBRECONCILE_FAIL_ON_CHANGES:-0}" = 1 ]; then
			exit 2
		fi ;;
	3)
		echo "lbreconcile: apply would be refused by a safety guard (max_delete);" \
			"split the change or raise max_delete in the reviewed file" >&2
		exit 3 ;;
	*)
		exit "$rc" ;;
	esac
	;;
apply)
	"$lbr" validate
	# Never interactive in CI: --auto-approve is required, and the merged
	# config is the approval.
	exec "$lbr" apply --auto-approve
	;;
*)
	echo "usage: $0 review|apply" >&2
	exit 64
	;;
esac
