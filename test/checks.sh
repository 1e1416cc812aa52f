# shellcheck shell=bash
# test/checks.sh — the PASS/FAIL helpers of plum's shell tests (sourced, not run), so every
# script counts and reports the same way; test/run reads the PASS/FAIL lines and the closing
# "N passed, N failed" line.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
#   check "the dump restores" pg_restore ...    # PASS or FAIL by a command's status
#   finish "dump/restore"                        # "<name>: N passed, N failed", exit status

npass=0
nfail=0
# pass MESSAGE / fail MESSAGE: one result line
pass() { echo "PASS: $*"; npass=$((npass + 1)); }
fail() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
skip() { echo "SKIP: $*"; }
note() { echo "      $*"; }
# step MESSAGE: announce a part, with the seconds since START (when the script sets it)
step() { printf '\n==> %s (%ss)\n' "$*" "$((SECONDS - ${START:-0}))"; }
# check NAME COMMAND...: PASS or FAIL by the command's status (and that status)
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; return 1; fi
}
# equal NAME EXPECTED ACTUAL: PASS if equal, else FAIL with both
equal() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (expected '$2', got '$3')"; fi
}
# finish [NAME]: the last word ("NAME: N passed, N failed"), and the exit status
finish() {
	echo "${1:+$1: }$npass passed, $nfail failed"
	if [ "$nfail" = 0 ]; then
		exit 0
	fi
	exit 1
}
