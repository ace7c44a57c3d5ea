#!/bin/bash
# The project's one entry point for people and CI (Debian 12, as root):
#   tools/dev.sh demo   install what is missing, build, make the default image
#                       (busybox:latest) and run a real box from it
#   tools/dev.sh test   install what is missing, build, run every test
#                       (normal and ASan+UBSan builds) and the ABI check
#   tools/dev.sh deps | build
# Ends `test` with the line "N passed, M failed[, K skipped]".
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

PACKAGES=(meson ninja-build pkg-config gcc libc6-dev
	libcap-dev libseccomp-dev libnftnl-dev libmnl-dev zlib1g-dev libjansson-dev nettle-dev
	libcmocka-dev busybox-static iproute2 procps util-linux abigail-tools binutils python3
	qemu-system-x86 cpio kmod xz-utils tmux lua5.4 liblua5.4-dev python3-pytest
	clang libclang-rt-14-dev umoci skopeo tar gzip podman containerd runc iperf3 socat)

deps() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "== installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

# build DIR [meson options...]
build() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; return 1; }
		rm -f "$dir.setup.log"
	fi
	ninja -C "$dir" >"$dir/ninja.log" 2>&1 || { cat "$dir/ninja.log"; return 1; }
}

demo() {
	deps
	build build
	local boxctl=build/tools/boxctl/boxctl
	echo "== the default image: busybox:latest, two layers built from the host's busybox-static"
	$boxctl image default
	$boxctl images
	echo "== a box on it: an overlay of the image's layers and a writable layer of its own;"
	echo "   its own pid, uts, ipc, mount and network namespaces, Docker's capabilities and"
	echo "   seccomp filter, eth0 on a bridge with NAT -- all in a throwaway network"
	echo "   namespace made for the demo (unshare -n), so the host's links and firewall"
	echo "   stay as they are"
	trap 'for m in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do rmdir "$m/libbox-demo" 2>/dev/null || true; done' RETURN
	unshare --net sh -c 'ip link set lo up && exec "$0" "$@"' \
		$boxctl run --rm --cgroup-parent /libbox-demo \
		--hostname demo-box --memory 64m --pids-limit 64 busybox sh -c '
		echo "hostname:      $(hostname)"
		echo "my pid:        $$ (pid 1 is the init)"
		echo "processes:     $(ps -o pid= | wc -l) visible"
		echo "interfaces:    $(ls /sys/class/net | tr "\n" " ")"
		echo "address:       $(ip -4 -o addr show eth0 | awk "{print \$4}"), via $(ip route | awk "/default/ {print \$3}")"
		echo "CapEff:        $(grep CapEff /proc/self/status | cut -f2)"
		echo "Seccomp:       mode $(grep Seccomp: /proc/self/status | cut -f2)"
		echo -n "unshare -n:    "; unshare -n true 2>&1 | sed "s/.*: //"
		echo "root is:       $(grep " / / " /proc/self/mountinfo | sed "s/.* - \([^ ]*\) .*/\1/") of $(ls / | tr "\n" " ")"'
}

# Count the TAP results of a meson test run from its testlog.json.
count() {
	python3 - "$@" <<'PY'
import json, re, sys
passed = failed = skipped = 0
for log in sys.argv[1:]:
    for line in open(log):
        t = json.loads(line)
        out = t.get("stdout") or ""
        plan = None
        seen = 0
        for l in out.splitlines():
            m = re.match(r"^1\.\.(\d+)", l)
            if m:
                plan = int(m.group(1))
                if "# SKIP" in l and plan == 0:
                    skipped += 1
                continue
            if re.match(r"^(not )?ok\b.*#\s*SKIP", l, re.I):
                # cmocka writes a skip as "not ok N # SKIP"
                skipped += 1; seen += 1
            elif re.match(r"^not ok\b", l):
                failed += 1; seen += 1
            elif re.match(r"^ok\b", l):
                seen += 1
                if re.search(r"#\s*SKIP", l, re.I):
                    skipped += 1
                else:
                    passed += 1
        if plan is not None and seen < plan:
            failed += plan - seen            # crashed part-way
        elif plan is None and t.get("result") != "OK":
            failed += 1                      # died before its plan
        elif t.get("result") not in ("OK", "SKIP") and seen and not any(
                re.match(r"^not ok\b", l) for l in out.splitlines()):
            failed += 1                      # all ok but exited non-zero
print(passed, failed, skipped)
PY
}

test_all() {
	deps
	local logs=() rc=0
	echo "== build (-Werror)"
	build build
	echo "== tests"
	meson test -C build --print-errorlogs || rc=1
	cp build/meson-logs/testlog.json build/testlog-normal.json
	logs+=(build/testlog-normal.json)

	echo "== the tests again in a VM: Debian 12's kernel 6.1, pure cgroup v2 (tests/vm)"
	tests/vm/run-tests -j build/testlog-vm.json build || rc=1
	logs+=(build/testlog-vm.json)

	echo "== build with AddressSanitizer + UBSan"
	build build-asan -Db_sanitize=address,undefined -Db_lundef=false
	echo "== tests under ASan + UBSan"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs --no-suite abi --no-suite examples --no-suite fuzz || rc=1
	cp build-asan/meson-logs/testlog.json build-asan/testlog-asan.json
	logs+=(build-asan/testlog-asan.json)

	echo "== Lua bindings (bindings/lua/tests, on build/)"
	rm -f build/testlog-lua.json
	bindings/lua/tests/run.sh -j build/testlog-lua.json build || rc=1
	logs+=(build/testlog-lua.json)
	echo "== Python bindings (bindings/python/tests, pytest, on build/)"
	rm -f build/testlog-python.json
	bindings/python/tests/run.sh -j build/testlog-python.json build || rc=1
	logs+=(build/testlog-python.json)

	read -r passed failed skipped < <(count "${logs[@]}")
	if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
		echo "CI: $skipped skipped tests count as failures"
		failed=$((failed + skipped))
		skipped=0
	fi
	if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
		failed=1 # a test program failed in a way TAP did not show
	fi
	if [ "$skipped" -gt 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
	[ "$failed" = 0 ]
}

case "${1:-}" in
deps) deps ;;
build) deps; build build ;;
demo) demo ;;
test) test_all ;;
*) echo "usage: tools/dev.sh demo|test|deps|build" >&2; exit 2 ;;
esac
