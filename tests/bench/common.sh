# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# What the benchmark scripts share (tests/bench/start, tests/bench/cgroup).
# Sourced, not run.  The script sets bench_name ("bench/start") first, then
# calls, in this order:
#
#   bench_setup "$@"        [BUILD_DIR] argument, root check, BENCH_N (N) and
#                           BENCH_WARMUP (W), $src $build $boxctl, the temp
#                           dir $tmp, $cg (a unique relative cgroup name for
#                           crun and runc), the EXIT trap (bench_cleanup)
#   bench_find_bench_start  $bench: BUILD_DIR/tests/bench/bench_start, or
#                           compiled into $tmp against BUILD_DIR/lib
#   bench_make_rootfs       $rootfs: the busybox root (mkbusybox.sh)
#   bench_oci_init          $oci=1 when jq and crun or runc are there; the
#                           base spec, Docker's caps, libbox's seccomp
#                           profile in OCI form
#   bench_bundle DIR NET SECCOMP [JQ]   one OCI bundle (NET, SECCOMP: yes/no;
#                           JQ: a further jq filter on its config.json)
#   record / skip / ex      measuring rows into $results (see record)
#
# and may use have, die, in_crun_ns, bench_cg_track, bench_wait_quiet.
# A script's own clean-up goes in a function bench_cleanup_hook, which
# bench_cleanup calls first when it is defined.

die() { echo "$bench_name: $*" >&2; exit 2; }
have() { command -v "$1" >/dev/null 2>&1; }

bench_setup() {
	[ $# -le 1 ] || die "usage: tests/$bench_name [BUILD_DIR]"
	[ "$(id -u)" = 0 ] || die "needs root (namespaces, mounts, crun and runc)"
	here=$(cd "$(dirname "$0")" && pwd)
	src=$(cd "$here/../.." && pwd)
	build=${1:-build}
	if [ ! -d "$build" ] && [ -d "$src/$build" ]; then
		build=$src/$build
	fi
	[ -d "$build" ] || die "no build directory $build (meson setup $build && ninja -C $build)"
	build=$(cd "$build" && pwd)
	N=${BENCH_N:-30}
	W=${BENCH_WARMUP:-2}
	case $N in '' | *[!0-9]* | 0) die "BENCH_N must be a positive integer" ;; esac
	case $W in '' | *[!0-9]*) die "BENCH_WARMUP must be a non-negative integer" ;; esac
	boxctl=$build/tools/boxctl/boxctl
	[ -x "$boxctl" ] || die "$boxctl is not built (ninja -C $build)"
	[ -e "$build/lib/libbox.so" ] || die "$build/lib/libbox.so is not built (ninja -C $build)"

	tmp=$(mktemp -d /tmp/libbox-bench.XXXXXX)
	cg=libbox-bench-$$ # the cgroup crun and runc make (relative path)
	bench_cg_made=     # cgroup directories bench_cg_track saw missing
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

# Run "$@" in a private mount namespace without /sys/fs/cgroup/unified,
# for crun; removes what crun leaves in the directory under that mount
# point (a plain directory there, not a cgroup, once unmounted).
in_crun_ns() {
	CG=$cg unshare -m sh -c '
		mount --make-rprivate / || exit 1
		gone=
		if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
			umount /sys/fs/cgroup/unified || exit 1
			gone=1
		fi
		"$@"
		rc=$?
		if [ -n "$gone" ] && [ -d "/sys/fs/cgroup/unified/$CG" ]; then
			rm -rf "/sys/fs/cgroup/unified/$CG"
		fi
		exit $rc' sh "$@"
}

# The cgroup mount points of this mount namespace, one a line.
bench_cg_mounts() {
	awk '{ for (i = 7; $i != "-"; i++) ; if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5 }' \
		/proc/self/mountinfo
}

# bench_cg_track ABSPATH: before something of ours (boxctl, libbox) makes
# the cgroup ABSPATH (from the hierarchy roots, e.g. /libbox), note in
# which hierarchies it does not exist yet; bench_cleanup removes it there
# (rmdir: only when empty, so never what another user has put in it since).
bench_cg_track() {
	local m d
	for m in $(bench_cg_mounts); do
		d=$m$1
		[ -e "$d" ] || bench_cg_made="$bench_cg_made $d"
	done
}

bench_cleanup() {
	local d id
	set +e
	# a second INT or TERM must not cut the clean-up short (exit 130 in
	# this EXIT trap would end it where it is)
	trap '' INT TERM
	if declare -F bench_cleanup_hook >/dev/null; then
		bench_cleanup_hook
	fi
	if have crun && [ -d "$tmp/crun" ]; then
		for d in "$tmp"/crun/*/; do
			[ -d "$d" ] || continue
			for id in $(ls "$d"); do
				in_crun_ns crun --root "$d" delete -f "$id" >/dev/null 2>&1
			done
		done
		in_crun_ns true
	fi
	if have runc && [ -d "$tmp/runc" ]; then
		for id in $(ls "$tmp/runc"); do
			runc --root "$tmp/runc" delete -f "$id" >/dev/null 2>&1
		done
	fi
	# cgroups crun or runc would have left (they remove them on delete)
	for d in /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/*/*/*/"$cg" /sys/fs/cgroup/"$cg"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	# cgroups that bench_cg_track saw missing (boxctl's parents)
	for d in $bench_cg_made; do
		[ -d "$d" ] || continue
		rmdir "$d" 2>/dev/null || echo "$bench_name: left cgroup $d (not empty)" >&2
	done
	rm -rf "$tmp"
}

# ---- bench_start and the root filesystem ----
bench_find_bench_start() {
	bench=$build/tests/bench/bench_start
	if [ ! -x "$bench" ]; then
		bench=$tmp/bench_start
		${CC:-cc} -O2 -D_GNU_SOURCE -std=gnu11 -I"$src/include" "$src/tests/bench/bench_start.c" \
			-o "$bench" -L"$build/lib" -lbox -Wl,-rpath,"$build/lib" ||
			die "cannot compile bench_start against $build/lib/libbox.so"
	fi
}

bench_make_rootfs() {
	rootfs=$tmp/rootfs
	"$src/tests/rootfs/mkbusybox.sh" "$rootfs" || die "mkbusybox.sh failed"
}

# ---- OCI bundles ----
bench_oci_init() {
	oci=
	if have jq && { have crun || have runc; }; then
		oci=1
		caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW",
		       "CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE",
		       "CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'
		case $(uname -m) in
		x86_64) goarch=amd64 scmp=SCMP_ARCH_X86_64 ;;
		aarch64) goarch=arm64 scmp=SCMP_ARCH_AARCH64 ;;
		*) goarch= scmp= ;;
		esac
		seccomp=null
		if [ -n "$goarch" ]; then
			# libbox's default profile (Docker's form) as an OCI one, with
			# the rules that apply to these capabilities and this arch.
			seccomp=$(jq -c --argjson caps "$caps" --arg goarch "$goarch" --arg scmp "$scmp" '
				def kept($c): any($caps[]; . == $c);
				def applies:
					(.includes // {}) as $i | (.excludes // {}) as $e |
					((($i.caps // []) | length) == 0 or any($i.caps[]; kept(.))) and
					((($i.arches // []) | length) == 0 or any($i.arches[]; . == $goarch)) and
					(any(($e.caps // [])[]; kept(.)) | not) and
					(any(($e.arches // [])[]; . == $goarch) | not);
				.defaultAction as $da | (.defaultErrnoRet // 1) as $de |
				{ defaultAction: $da, defaultErrnoRet: $de,
				  architectures: ([$scmp] + ([.archMap[] | select(.architecture == $scmp)
							   | .subArchitectures[]])),
				  syscalls: [ .syscalls[] | select(applies)
					     | select((.action == $da and (.errnoRet // $de) == $de) | not)
					     | {names, action}
					       + (if .errnoRet then {errnoRet} else {} end)
					       + (if .args then {args} else {} end) ] }' \
				"$src/lib/security/seccomp-default.json")
		fi
		mkdir -p "$tmp/spec"
		(cd "$tmp/spec" && runc spec 2>/dev/null) || (cd "$tmp/spec" && crun spec)
	fi
}

# bench_bundle DIR NET SECCOMP [JQ]: an OCI bundle made to do libbox's work:
# the same namespaces (pid, ipc, uts, mount, cgroup, [net]), the same
# mounts (no /sys/fs/cgroup), rw root, Docker's 14 default capabilities,
# libbox's default seccomp profile (SECCOMP=yes), cgroupsPath $cg; then
# the jq filter JQ, if given, on that config.
bench_bundle() {
	local b=$1 net=$2 sc=$3 extra=${4:-.}
	mkdir -p "$b"
	jq --arg root "$rootfs" --arg cg "$cg" --argjson caps "$caps" \
		--argjson seccomp "$([ "$sc" = yes ] && echo "$seccomp" || echo null)" \
		--argjson net "$([ "$net" = yes ] && echo true || echo false)" '
		.process.args = ["/bin/true"] | .process.terminal = false
		| .process.noNewPrivileges = true
		| .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
		| .root = {path: $root, readonly: false}
		| del(.hostname)
		| .mounts |= map(select(.destination != "/sys/fs/cgroup"))
		| .linux.namespaces = ([{type: "pid"}, {type: "ipc"}, {type: "uts"},
					{type: "mount"}, {type: "cgroup"}]
				       + (if $net then [{type: "network"}] else [] end))
		| .linux.cgroupsPath = $cg
		| if $seccomp == null then del(.linux.seccomp) else .linux.seccomp = $seccomp end
		' "$tmp/spec/config.json" | jq "$extra" >"$b/config.json"
}

# ---- measuring ----
# results: one line per row: label<TAB>netns<TAB>key<TAB>median<TAB>p90<TAB>maxrss|status
bench_results_init() {
	results=$tmp/results
	: >"$results"
	failed=0
}

# record LABEL NETNS KEY CMD...: run CMD (a bench_start invocation) and
# keep its numbers.
record() {
	local label=$1 netns=$2 key=$3 out
	shift 3
	printf '  %-48s netns=%-3s ... ' "$label" "$netns" >&2
	if out=$("$@" 2>"$tmp/err"); then
		local med p90 rss
		med=$(sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' <<<"$out" | head -n1)
		p90=$(sed -n 's/.*p90_ms=\([0-9.]*\).*/\1/p' <<<"$out" | head -n1)
		rss=$(sed -n 's/.* maxrss_kib=\([0-9]*\).*/\1/p' <<<"$out" | head -n1)
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$netns" "$key" "$med" "$p90" "${rss:--}" >>"$results"
		echo "median $med ms" >&2
	else
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$netns" "$key" FAILED FAILED - >>"$results"
		echo "FAILED" >&2
		sed 's/^/    /' "$tmp/err" >&2
		failed=1
	fi
}

skip() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" - - >>"$results"
}

ex() { "$bench" exec -n "$N" -w "$W" "$@"; }

# bench_wait_quiet [MAX_SECONDS [LOAD]]: wait until the 1-minute load
# average is below LOAD (default 0.7) or MAX_SECONDS (default 180) have
# passed; says so on stderr.  Sets $load_before and $quiet_wait (seconds).
bench_wait_quiet() {
	local max=${1:-180} lim=${2:-0.7} start now load
	start=$(date +%s)
	while :; do
		read -r load _ </proc/loadavg
		now=$(date +%s)
		if awk -v l="$load" -v m="$lim" 'BEGIN { exit !(l < m) }'; then
			quiet_wait="$((now - start)) s, load below $lim"
			break
		fi
		if [ $((now - start)) -ge "$max" ]; then
			quiet_wait="$((now - start)) s, gave up waiting for load < $lim"
			break
		fi
		[ $((now - start)) -gt 0 ] || echo "$bench_name: load average $load: waiting up to ${max}s for it to fall below $lim" >&2
		sleep 5
	done
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "$bench_name: load average $load_before ($quiet_wait)" >&2
}
