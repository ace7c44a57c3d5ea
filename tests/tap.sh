# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the shell tests: TAP counters and, for the tests that run
# boxes, the throwaway namespaces.
#
#   . tap.sh; tap_throwaway "$0" "$@"   # root, then run again inside a new
#                                       # network and mount namespace
#   ok "what"; not_ok "what" [DETAIL...]; check NAME STATUS PATTERN CMD...
#   ...; tap_end
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done
}
# Not root: skip (CI=true: fail).  Otherwise exec the script again inside
# a throwaway network and mount namespace, unless already there.
tap_throwaway() {
	local script=$1
	shift
	[ -z "${LIBBOX_IN_THROWAWAY:-}" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		if [ "${CI:-}" = true ]; then echo "1..1"; echo "not ok 1 - needs root"; exit 1; fi
		echo "1..0 # SKIP needs root"
		exit 0
	fi
	LIBBOX_IN_THROWAWAY=1 exec unshare --net --mount --propagation private bash "$(readlink -f "$script")" "$@"
}
# expect NAME WANT_STATUS WANT_PATTERN STATUS OUTPUT: ok when the status
# is the one wanted and the output matches (grep -E), else the details
expect() {
	if [ "$4" = "$2" ] && grep -qE -- "$3" <<<"$5"; then
		ok "$1"
	else
		not_ok "$1" "status $4 (want $2), output:" "$5"
	fi
}
# check NAME WANT_STATUS WANT_PATTERN CMD...: run CMD, its output and
# errors together, and expect
check() {
	local name=$1 want=$2 pattern=$3 out st
	shift 3
	out=$("$@" 2>&1)
	st=$?
	expect "$name" "$want" "$pattern" "$st" "$out"
}
tap_end() {
	echo "1..$n"
	[ "$failed" = 0 ]
}
