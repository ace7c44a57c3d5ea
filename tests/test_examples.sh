#!/bin/bash
# The examples of doc/examples, run as the documentation shows them, as TAP:
#   test_examples.sh BUILDDIR ROOTFS
set -u
. "$(dirname "$(readlink -f "$0")")/tap.sh"
tap_throwaway "$0" "$@"
build=$(readlink -f "$1")
rootfs=$(readlink -f "$2")
ip link set lo up
export LIBBOX_STATE=$(mktemp -d /tmp/libbox-examples.XXXXXX)
export LIBBOX_CGROUP_PARENT=/libbox-test-examples-$$
work=$(mktemp -d /tmp/libbox-examples-work.XXXXXX)
cleanup() {
	for m in $(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo); do
		[ -d "$m$LIBBOX_CGROUP_PARENT" ] && rmdir "$m$LIBBOX_CGROUP_PARENT"
	done
	rm -rf "$LIBBOX_STATE" "$work"
}
trap cleanup EXIT

if command -v gcc >/dev/null; then
	out=$("$build/doc/examples/ci_sandbox" "$rootfs" "$work" 2>&1)
	st=$?
	if [ $st = 0 ] && grep -q '^stdout: hello from the sandbox: 42$' <<<"$out" && grep -q 'timed out 0' <<<"$out"; then
		ok "ci_sandbox.c builds and runs a C program with the host's gcc, read-only"
	else
		not_ok "ci_sandbox.c builds and runs a C program with the host's gcc, read-only" "status $st" "$out"
	fi
	if [ -x "$work/hello" ] && [ "$("$work/hello")" = "hello from the sandbox: 42" ]; then
		ok "its workspace is the host's directory"
	else
		not_ok "its workspace is the host's directory" "$(ls -l "$work")"
	fi
else
	not_ok "gcc is installed (for doc/examples/ci_sandbox.c)"
fi

src=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
# example LABEL COMMAND...: the same step through a binding
example() {
	local label=$1 out st
	shift
	rm -rf "$work"/*
	out=$("$@" "$rootfs" "$work" 2>&1)
	st=$?
	if [ $st = 0 ] && grep -q '^stdout: hello from the sandbox: 42$' <<<"$out"; then
		ok "$label builds and runs a C program in the sandbox"
	else
		not_ok "$label builds and runs a C program in the sandbox" "status $st" "$out"
	fi
}
if [ -x /usr/bin/python3 ]; then
	LIBBOX_LIBRARY=$build/lib/libbox.so.1 PYTHONPATH=$src/bindings/python \
		example "ci_sandbox.py" /usr/bin/python3 "$src/doc/examples/ci_sandbox.py"
else
	not_ok "python3 is installed (for doc/examples/ci_sandbox.py)"
fi
if command -v lua5.4 >/dev/null && [ -f "$build/bindings/lua/box.so" ]; then
	LUA_CPATH="$build/bindings/lua/?.so;;" LD_LIBRARY_PATH=$build/lib \
		example "ci_sandbox.lua" lua5.4 "$src/doc/examples/ci_sandbox.lua"
else
	not_ok "lua5.4 and the box module are there (for doc/examples/ci_sandbox.lua)"
fi
# the documents show the examples the tests run, as they are
for pair in python:py lua:lua; do
	doc=$src/doc/${pair%%:*}.md
	file=$src/doc/examples/ci_sandbox.${pair##*:}
	if diff <(sed -n '/^```'"${pair%%:*}"'$/,/^```$/p' "$doc" | sed '1d;$d') "$file" >/dev/null; then
		ok "doc/${pair%%:*}.md shows doc/examples/ci_sandbox.${pair##*:} as it is"
	else
		not_ok "doc/${pair%%:*}.md shows doc/examples/ci_sandbox.${pair##*:} as it is"
	fi
done
tap_end
