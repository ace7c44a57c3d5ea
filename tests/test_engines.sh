#!/bin/bash
# Real engines driving boxctl as their OCI runtime, as TAP: podman (with
# conmon) and containerd 1.6 (with its runc shim, through ctr).  Each
# scenario runs with runc too, as a check that the scenario itself is right.
# Everything is private: a throwaway network and mount namespace (tap.sh),
# storage, config and sockets under a temporary directory, cgroups under a
# parent of our own; containerd is started here and stopped by its pid.
#   test_engines.sh BOXCTL ROOTFS
set -u
. "$(dirname "$(readlink -f "$0")")/tap.sh"
tap_throwaway "$0" "$@"
boxctl=$(readlink -f "$1")
rootfs=$(readlink -f "$2")
T=$(mktemp -d /tmp/libbox-engines.XXXXXX)
cgp=libbox-test-engines-$$
check() {
	local name=$1 want=$2 pattern=$3 out st
	shift 3
	"$@" >"$T/out" 2>&1 <"${CHECK_IN:-/dev/null}"
	st=$?
	out=$(tr -d '\0\r' <"$T/out")
	expect "$name" "$want" "$pattern" "$st" "$out"
}
need() {
	for t in "$@"; do
		command -v "$t" >/dev/null && continue
		if [ "${CI:-}" = true ]; then not_ok "$t is installed"; else ok "# SKIP $t is not installed"; fi
		return 1
	done
}
cgroup_dirs() { for m in $(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo); do [ -d "$m/$cgp" ] && echo "$m/$cgp"; done; }
ctd_pid=
cleanup() {
	local p
	[ -n "$ctd_pid" ] && kill "$ctd_pid" 2>/dev/null && wait "$ctd_pid" 2>/dev/null
	# the shims our containerd started (its socket in their command line)
	for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $T/ctd/ctd.sock"); do kill -9 "$p"; done
	for d in $(cgroup_dirs); do
		for p in $(find "$d" -name cgroup.procs -exec cat {} +); do kill -9 "$p" 2>/dev/null; done
	done
	sleep 0.2
	for d in $(cgroup_dirs); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
	awk -v t="$T" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	mountpoint -q /run && umount -l /run
	rm -rf "$T"
}
trap cleanup EXIT
ip link set lo up
mounts_before=$(wc -l </proc/self/mountinfo)
mkdir -p "$T/ro" "$T/rw"
echo from-host >"$T/ro/f"
# read the ro bind, fail to write it, write the rw one ($0: what)
binds='printf "%s " "$(cat /ro/f)"; touch /ro/h 2>/dev/null || echo ro-refused; echo "$0" > /rw/g'
# (v1) memory.limit_in_bytes or (v2) memory.max of pid's cgroup
memory_limit() {
	local pid=$1 path
	path=$(sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' /proc/$pid/cgroup)
	if [ -n "$path" ] && [ -d /sys/fs/cgroup/memory ]; then
		cat "/sys/fs/cgroup/memory$path/memory.limit_in_bytes"
	else
		path=$(sed -n 's/^0::\(.*\)/\1/p' /proc/$pid/cgroup)
		cat "/sys/fs/cgroup$path/memory.max"
	fi
}

# ---- podman ----
podman_scenarios() {
	local rt=$1 id pid
	P() { CONTAINERS_CONF=$T/pm/containers.conf CONTAINERS_STORAGE_CONF=$T/pm/storage.conf \
		CONTAINERS_REGISTRIES_CONF=$T/pm/registries.conf \
		podman --root "$T/pm/root" --runroot "$T/pm/runroot" --tmpdir "$T/pm/tmp" \
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file "$@"; }
	R() { P run --runtime "$rt" --network none --cgroup-parent "/$cgp" "$@"; }
	check "podman/$rt: run --rm echo" 0 '^hello$' R --rm localhost/bb:t echo hello
	check "podman/$rt: an env var" 0 '^bar$' R --rm -e FOO=bar localhost/bb:t sh -c 'echo $FOO'
	check "podman/$rt: a ro and a rw bind mount" 0 '^from-host ro-refused$' \
		R --rm -v "$T/ro:/ro:ro" -v "$T/rw:/rw" localhost/bb:t sh -c "$binds" "$rt"
	check "podman/$rt: the rw bind wrote on the host" 0 "^$rt$" cat "$T/rw/g"
	echo piped >"$T/in"
	CHECK_IN=$T/in check "podman/$rt: -i" 0 '^piped$' R --rm -i localhost/bb:t cat
	check "podman/$rt: -t" 0 '^/dev/pts/0$' R --rm -t localhost/bb:t tty
	check "podman/$rt: run -d" 0 '^[0-9a-f]{64}$' R -d --name d1 localhost/bb:t sleep 1000
	check "podman/$rt: exec" 0 '^in-box$' P exec d1 echo in-box
	check "podman/$rt: exec -t" 0 '^/dev/pts/' P exec -t d1 tty
	check "podman/$rt: stop" 0 'd1' P stop -t 1 d1
	check "podman/$rt: stopped" 0 '^exited$' P inspect -f '{{.State.Status}}' d1
	check "podman/$rt: rm" 0 'd1' P rm d1
	check "podman/$rt: run -d --memory" 0 '^[0-9a-f]{64}$' R -d --name d2 --memory 64m localhost/bb:t sleep 1000
	pid=$(P inspect -f '{{.State.Pid}}' d2 2>/dev/null)
	check "podman/$rt: the memory limit in the box's cgroup" 0 '^67108864$' memory_limit "$pid"
	check "podman/$rt: pause" 0 'd2' P pause d2
	check "podman/$rt: paused" 0 '^paused$' P inspect -f '{{.State.Status}}' d2
	check "podman/$rt: unpause" 0 'd2' P unpause d2
	check "podman/$rt: running again" 0 '^running$' P inspect -f '{{.State.Status}}' d2
	check "podman/$rt: rm -f" 0 'd2' P rm -f -t 0 d2
	check "podman/$rt: run -d a trap" 0 '^[0-9a-f]{64}$' R -d --name d3 localhost/bb:t sh -c 'trap "exit 42" USR1; while :; do sleep 0.1; done'
	sleep 0.5
	check "podman/$rt: kill -s USR1" 0 'd3' P kill -s USR1 d3
	check "podman/$rt: the signal's exit status" 0 '^42$' P wait d3
	check "podman/$rt: rm" 0 'd3' P rm d3
	check "podman/$rt: nothing left" 0 '^$' P ps -aq
}

if need podman conmon runc; then
	mkdir -p "$T/pm"
	tar -C "$rootfs" -cf "$T/pm/rootfs.tar" .
	cat >"$T/pm/containers.conf" <<EOF
[containers]
# root here lacks CAP_SYS_RESOURCE: podman's defaults (1048576) cannot be set
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/pm/events.log"
runtime_supports_json = ["crun", "runc", "boxctl"]
[engine.runtimes]
boxctl = ["$boxctl"]
runc = ["$(command -v runc)"]
EOF
	printf '[storage]\ndriver = "vfs"\nrunroot = "%s"\ngraphroot = "%s"\n' "$T/pm/runroot" "$T/pm/root" >"$T/pm/storage.conf"
	: >"$T/pm/registries.conf"
	P() { CONTAINERS_CONF=$T/pm/containers.conf CONTAINERS_STORAGE_CONF=$T/pm/storage.conf \
		CONTAINERS_REGISTRIES_CONF=$T/pm/registries.conf \
		podman --root "$T/pm/root" --runroot "$T/pm/runroot" --tmpdir "$T/pm/tmp" \
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file "$@"; }
	check "podman: import the busybox image" 0 '^sha256:' P import "$T/pm/rootfs.tar" localhost/bb:t
	podman_scenarios runc
	podman_scenarios boxctl
	check "podman: save an OCI archive for containerd" 0 '' P save --format oci-archive -o "$T/bb.tar" localhost/bb:t
	P rmi -a -f >/dev/null 2>&1
fi

# ---- containerd ----
containerd_scenarios() {
	local rt=$1 bin pid i
	bin=$([ "$rt" = boxctl ] && echo "$boxctl" || command -v runc)
	C() { ctr --address "$T/ctd/ctd.sock" -n libbox-test "$@"; }
	R() { local id=$1; shift; C run --runtime io.containerd.runc.v2 --runc-binary "$bin" \
		--runc-root "$T/ctd/runc-$rt" --cgroup "/$cgp/ctd-$id" --snapshotter native "$@" ; }
	check "containerd/$rt: run --rm echo" 0 '^hello$' R e1 --rm localhost/bb:t e1 echo hello
	check "containerd/$rt: an env var" 0 '^bar$' R e2 --rm --env FOO=bar localhost/bb:t e2 sh -c 'echo $FOO'
	check "containerd/$rt: a ro and a rw bind mount" 0 '^from-host ro-refused$' \
		R e3 --rm --mount "type=bind,src=$T/ro,dst=/ro,options=rbind:ro" \
		--mount "type=bind,src=$T/rw,dst=/rw,options=rbind:rw" localhost/bb:t e3 \
		sh -c "$binds" "ctd-$rt"
	check "containerd/$rt: the rw bind wrote on the host" 0 "^ctd-$rt$" cat "$T/rw/g"
	# (ctr does not close the box's stdin at the end of its own: one line)
	echo piped >"$T/in"
	CHECK_IN=$T/in check "containerd/$rt: -i (stdin)" 0 '^got piped$' R e4 --rm localhost/bb:t e4 sh -c 'read l; echo got $l'
	check "containerd/$rt: -t" 0 '/dev/pts/0' script -qec "$(declare -f C R); bin=$bin rt=$rt T=$T cgp=$cgp; R e5 --rm -t localhost/bb:t e5 tty" /dev/null
	check "containerd/$rt: run -d" 0 '' R d1 -d localhost/bb:t d1 sleep 1000
	check "containerd/$rt: exec" 0 '^in-box$' C task exec --exec-id x1 d1 echo in-box
	check "containerd/$rt: stop (kill)" 0 '' C task kill -s SIGKILL d1
	for i in $(seq 100); do C task ls 2>/dev/null | grep -qE '^d1 .*STOPPED' && break; sleep 0.1; done
	check "containerd/$rt: stopped" 0 '^d1 .*STOPPED' C task ls
	check "containerd/$rt: rm" 0 '' sh -c "$(declare -f C); T=$T; C task rm d1 && C container rm d1"
	check "containerd/$rt: run -d --memory-limit" 0 '' R d2 -d --memory-limit 67108864 localhost/bb:t d2 sleep 1000
	pid=$(C task ls 2>/dev/null | awk '$1 == "d2" { print $2 }')
	check "containerd/$rt: the memory limit in the box's cgroup" 0 '^67108864$' memory_limit "$pid"
	check "containerd/$rt: pause" 0 '' C task pause d2
	check "containerd/$rt: paused" 0 '^d2 .*PAUSED' C task ls
	check "containerd/$rt: resume" 0 '' C task resume d2
	check "containerd/$rt: running again" 0 '^d2 .*RUNNING' C task ls
	check "containerd/$rt: rm -f" 0 '' sh -c "$(declare -f C); T=$T; C task rm -f d2 && C container rm d2"
	# a foreground run whose box a signal ends: its exit status comes back
	(R d3 localhost/bb:t d3 sh -c 'trap "exit 42" USR1; while :; do sleep 0.1; done' >/dev/null 2>&1 </dev/null; echo $? >"$T/d3.status") &
	fg=$!
	for i in $(seq 100); do C task ls 2>/dev/null | grep -qE '^d3 .*RUNNING' && break; sleep 0.1; done
	sleep 0.3
	check "containerd/$rt: kill -s SIGUSR1" 0 '' C task kill -s SIGUSR1 d3
	wait "$fg"
	check "containerd/$rt: the signal's exit status" 0 '^42$' cat "$T/d3.status"
	C task rm d3 >/dev/null 2>&1
	C container rm d3 >/dev/null 2>&1
	check "containerd/$rt: nothing left" 0 '^$' sh -c "$(declare -f C); T=$T; C container ls -q"
}

if need containerd ctr containerd-shim-runc-v2 runc script && [ -f "$T/bb.tar" ]; then
	mkdir -p "$T/ctd"
	# the shim's sockets live under /run/containerd, whatever the config:
	# a /run of our own, in our own mount namespace
	mount -t tmpfs -o mode=755 tmpfs /run
	cat >"$T/ctd/config.toml" <<EOF
version = 2
root = "$T/ctd/root"
state = "$T/ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$T/ctd/ctd.sock"
[ttrpc]
  address = "$T/ctd/ctd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/ctd/opt"
EOF
	containerd --config "$T/ctd/config.toml" >"$T/ctd/log" 2>&1 &
	ctd_pid=$!
	for i in $(seq 100); do ctr --address "$T/ctd/ctd.sock" version >/dev/null 2>&1 && break; sleep 0.1; done
	C() { ctr --address "$T/ctd/ctd.sock" -n libbox-test "$@"; }
	check "containerd: started, with a private socket" 0 'Server' C version
	check "containerd: import the image" 0 'localhost/bb' C images import --base-name localhost/bb --snapshotter native "$T/bb.tar"
	containerd_scenarios runc
	containerd_scenarios boxctl
	C images rm localhost/bb:t >/dev/null 2>&1
	kill "$ctd_pid"
	wait "$ctd_pid"
	ctd_pid=
	umount /run
fi

if [ -z "$(cgroup_dirs | while read -r d; do find "$d" -mindepth 1 -type d -not -name conmon; done)" ]; then
	ok "no cgroup left"
else
	not_ok "no cgroup left" "$(cgroup_dirs | while read -r d; do find "$d" -mindepth 1 -type d; done)"
fi
if [ "$(wc -l </proc/self/mountinfo)" = "$mounts_before" ]; then ok "no mount left"; else not_ok "no mount left" "$(tail -5 /proc/self/mountinfo)"; fi
tap_end
