#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run the Lua binding tests (bindings/lua/tests/test_*.lua), TAP on stdout:
#
#   bindings/lua/tests/run.sh [-j TESTLOG.json] BUILD_DIR [TEST...]
#
# BUILD_DIR holds bindings/lua/box.so (meson with liblua5.4-dev).  TEST: a
# name such as "run" for test_run.lua; default: all of them.  Each test
# runs under lua5.4 in a throwaway network and mount namespace (unshare
# --net --mount --propagation private, lo up), on the busybox root
# LIBBOX_TEST_ROOTFS or, without it, one made once here with
# tests/rootfs/mkbusybox.sh.  Each makes its own state directory and
# cgroup parent (/libbox-lua-test-PID) and removes them at the end.
# -j appends one JSON line per test ("name", "result", "stdout"), as
# meson's testlog.json, for tools/dev.sh's counting.
# Not root: "1..0 # SKIP" per test (CI=true: a failing TAP line instead).
# Exit status: 0 when every test passed or was skipped.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
json=
while getopts ':j:' opt; do
	case $opt in
	j) json=$OPTARG ;;
	*) echo "usage: $0 [-j TESTLOG.json] BUILD_DIR [TEST...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-j TESTLOG.json] BUILD_DIR [TEST...]" >&2; exit 2; }
build=$(cd "$1" && pwd)
shift
[ -z "$json" ] || : >>"$json" # exists even if nothing below gets to write it
tests=()
if [ $# -gt 0 ]; then
	for t in "$@"; do tests+=("$here/test_${t#test_}"); done
	tests=("${tests[@]/%.lua/}")
	tests=("${tests[@]/%/.lua}")
else
	tests=("$here"/test_*.lua)
fi

record() { # NAME RESULT OUTPUT-FILE
	[ -n "$json" ] || return 0
	python3 - "$1" "$2" "$3" "$json" <<'PY'
import json, sys
name, result, out, log = sys.argv[1:]
with open(out, errors="replace") as f:
    stdout = f.read()
with open(log, "a") as f:
    f.write(json.dumps({"name": name, "result": result, "stdout": stdout}) + "\n")
PY
}

tmp=$(mktemp -d /tmp/libbox-lua-tests.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# what stops every test: not root, no interpreter, no module
why=
if [ "$(id -u)" != 0 ]; then
	why="the Lua binding tests need root"
elif ! command -v lua5.4 >/dev/null; then
	why="lua5.4 is not installed (apt-get install lua5.4 liblua5.4-dev)"
elif [ ! -f "$build/bindings/lua/box.so" ]; then
	why="$build/bindings/lua/box.so is not built (liblua5.4-dev missing at meson setup, or -Dlua=disabled)"
fi

if [ -z "${LIBBOX_TEST_ROOTFS:-}" ] && [ -z "$why" ]; then
	"$src/tests/rootfs/mkbusybox.sh" "$tmp/rootfs"
	export LIBBOX_TEST_ROOTFS=$tmp/rootfs
fi
export LUA_CPATH="$build/bindings/lua/?.so;;" LUA_PATH="$here/?.lua;;"

rc=0
for t in "${tests[@]}"; do
	name=lua/$(basename "$t" .lua)
	out=$tmp/out
	echo "# $name"
	if [ -n "$why" ]; then
		if [ "${CI:-}" = true ]; then
			printf '1..1\nnot ok 1 - %s (CI=true: no skipping)\n' "$why" | tee "$out"
			record "$name" FAIL "$out"
			rc=1
		else
			printf '1..0 # SKIP %s\n' "$why" | tee "$out"
			record "$name" SKIP "$out"
		fi
		continue
	fi
	set +e
	timeout 300 unshare --net --mount --propagation private \
		sh -c 'ip link set lo up && exec "$@"' sh lua5.4 "$t" </dev/null 2>&1 | tee "$out"
	status=${PIPESTATUS[0]}
	set -e
	if [ "$status" = 0 ] && ! grep -q '^not ok' "$out"; then
		result=OK
	else
		result=FAIL
		rc=1
		echo "# $name: exit status $status"
	fi
	record "$name" $result "$out"
done
exit $rc
