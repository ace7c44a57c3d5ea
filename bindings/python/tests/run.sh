#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run the Python binding tests (bindings/python/tests, pytest) against a
# build directory's library:
#
#   bindings/python/tests/run.sh [-j TESTLOG.json] BUILD_DIR [PYTEST-ARG...]
#
# The library is BUILD_DIR/lib/libbox.so.1 (LIBBOX_LIBRARY); the root
# filesystem LIBBOX_TEST_ROOTFS or BUILD_DIR/tests/rootfs (meson makes it),
# else one made by the tests with tests/rootfs/mkbusybox.sh.  The
# interpreter is Debian's /usr/bin/python3 with python3-pytest (PYTHON
# overrides it).  The tests enter a throwaway network and mount namespace
# themselves (tests/conftest.py) and remove their cgroups and state.
# -j appends one JSON line ("name": "python", "result", "stdout": TAP), as
# meson's testlog.json, for tools/dev.sh's count().  Not root: the tests
# that run boxes are skipped (CI=true: they fail); no pytest: one SKIP
# line (CI=true: a failing one).
# Exit status: 0 when every test passed or was skipped.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
json=
while getopts ':j:' opt; do
	case $opt in
	j) json=$OPTARG ;;
	*) echo "usage: $0 [-j TESTLOG.json] BUILD_DIR [PYTEST-ARG...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-j TESTLOG.json] BUILD_DIR [PYTEST-ARG...]" >&2; exit 2; }
build=$(cd "$1" && pwd)
shift
py=${PYTHON:-/usr/bin/python3}
[ -z "$json" ] || : >>"$json"

tmp=$(mktemp -d /tmp/libbox-py-tests.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

record() { # RESULT FILE-WITH-STDOUT
	[ -n "$json" ] || return 0
	"$py" - "$1" "$2" "$json" <<'PY'
import json, sys
result, out, log = sys.argv[1:]
with open(out, errors="replace") as f:
    stdout = f.read()
with open(log, "a") as f:
    f.write(json.dumps({"name": "python", "result": result, "stdout": stdout}) + "\n")
PY
}

if ! "$py" -c 'import pytest' 2>/dev/null; then
	why="pytest is not installed for $py (apt-get install python3-pytest)"
	if [ "${CI:-}" = true ]; then
		printf '1..1\nnot ok 1 - %s (CI=true: no skipping)\n' "$why" | tee "$tmp/out"
		record FAIL "$tmp/out"
		exit 1
	fi
	printf '1..0 # SKIP %s\n' "$why" | tee "$tmp/out"
	record SKIP "$tmp/out"
	exit 0
fi

export LIBBOX_LIBRARY="$build/lib/libbox.so.1"
if [ -z "${LIBBOX_TEST_ROOTFS:-}" ] && [ -x "$build/tests/rootfs/bin/busybox" ]; then
	export LIBBOX_TEST_ROOTFS="$build/tests/rootfs"
fi
export PYTHONDONTWRITEBYTECODE=1
set +e
timeout 300 "$py" -m pytest -p no:cacheprovider -q -rfEs "$here" \
	--testlog "$tmp/log.json" --tap "$tmp/tap" "$@" </dev/null
status=$?
set -e
if [ -s "$tmp/log.json" ]; then
	echo "# TAP"
	cat "$tmp/tap"
	[ -z "$json" ] || cat "$tmp/log.json" >>"$json"
else
	# pytest died before its end: a failure count() sees (no plan, not OK)
	echo "# pytest exited with $status before writing its results" | tee "$tmp/out"
	record FAIL "$tmp/out"
	status=1
fi
exit $status
