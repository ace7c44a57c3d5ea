#!/bin/bash
# boxctl as an OCI runtime (runc's command line) on bundles, end to end, as
# TAP.  Runs itself again inside a throwaway network and mount namespace.
#   test_oci.sh BOXCTL ROOTFS RECVTTY
set -u
. "$(dirname "$(readlink -f "$0")")/tap.sh"
tap_throwaway "$0" "$@"
boxctl=$(readlink -f "$1")
rootfs=$(readlink -f "$2")
recvtty=$(readlink -f "$3")
check() {
	local name=$1 want=$2 pattern=$3 out st
	shift 3
	# (through a file: a container's process may keep the output open)
	"$@" >"$tmp/out" 2>&1 </dev/null
	st=$?
	out=$(tr -d '\0' <"$tmp/out")
	expect "$name" "$want" "$pattern" "$st" "$out"
}
ip link set lo up
mounts_before=$(wc -l </proc/self/mountinfo)
tmp=$(mktemp -d /tmp/libbox-oci-test.XXXXXX)
state=$tmp/state
cgp=libbox-test-oci-$$
B="$boxctl --root $state --log $tmp/log.json --log-format json"
cgroup_dirs() { for m in $(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo); do [ -d "$m/$cgp" ] && echo "$m/$cgp"; done; }
cleanup() {
	for d in $(cgroup_dirs); do
		for p in $(cat "$d"/*/cgroup.procs 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# Bundles: the busybox root, read-only, and a config.json as engines write
# one, made here in plain shell (the VM has no python or jq).
#   conf DIR [args=JSON] [env=,"K=V"...] [terminal=true] [mounts=,{...}...]
#        [resources=,"memory":{...}] [masked=JSON] [hooks=JSON] [caps=,"CAP_X"]
#        [namespaces=,{...}] [netpath=,"path":"..."] [pidpath=,"path":"..."]
conf() {
	local dir=$1 args='["true"]' env='' terminal=false mounts='' resources='' hooks='{}' caps=''
	local namespaces='' netpath='' pidpath='' masked='["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"]'
	local cl='"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"'
	shift
	local "$@"
	mkdir -p "$dir"
	[ -e "$dir/rootfs" ] || ln -s "$rootfs" "$dir/rootfs"
	cat >"$dir/config.json" <<EOF
{
  "ociVersion": "1.2.0",
  "process": {
    "terminal": $terminal, "user": {"uid": 0, "gid": 0}, "args": $args,
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"$env], "cwd": "/",
    "capabilities": {"bounding": [$cl$caps], "effective": [$cl], "permitted": [$cl]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "boxctl",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}$mounts
  ],
  "hooks": $hooks,
  "annotations": {"org.example.key": "value"},
  "linux": {
    "namespaces": [{"type": "pid"$pidpath}, {"type": "network"$netpath}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}$namespaces],
    "cgroupsPath": "/$cgp/${dir##*/}",
    "resources": {"devices": [{"allow": false, "access": "rwm"}]$resources},
    "maskedPaths": $masked,
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}
EOF
}
mkdir -p "$tmp/rw" "$tmp/ro" "$tmp/spec"
echo from-host >"$tmp/ro/f"
check "spec writes a config.json" 0 '"ociVersion": "1.2.0"' sh -c "$boxctl spec --bundle $tmp/spec && cat $tmp/spec/config.json"
check "spec does not overwrite it" 1 'File exists' $boxctl spec --bundle "$tmp/spec"

conf "$tmp/b1" args='["sh", "-c", "echo hello $FOO; hostname"]' env=', "FOO=bar"'
check "run: a bundle in the foreground" 0 '^hello bar$' $B run --bundle "$tmp/b1" r1
check "run: the spec's hostname" 0 '^boxctl$' $B run --bundle "$tmp/b1" r1
check "run: foreground run deletes the container" 1 'does not exist' $B state r1

# mounts, limits, masked paths
conf "$tmp/b2" \
	args='["sh", "-c", "cat /ro/f; echo x > /rw/g; touch /ro/h; cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; echo timer=$(cat /proc/timer_list | wc -c); echo fw=$(ls /sys/firmware | wc -l); echo sysctl-ro=$( (echo 1 > /proc/sys/net/ipv4/ip_forward) 2>&1 | grep -c Read-only)"]' \
	mounts=", {\"destination\": \"/ro\", \"type\": \"bind\", \"source\": \"$tmp/ro\", \"options\": [\"rbind\", \"ro\"]}, {\"destination\": \"/rw\", \"type\": \"bind\", \"source\": \"$tmp/rw\", \"options\": [\"bind\", \"rw\", \"nosuid\"]}" \
	resources=', "memory": {"limit": 67108864}' \
	masked='["/proc/timer_list"]'
out=$($B run --bundle "$tmp/b2" r2 2>&1)
check "ro bind: readable" 0 '^from-host$' echo "$out"
check "ro bind: not writable" 0 'Read-only file system' echo "$out"
check "rw bind: written on the host" 0 '^x$' cat "$tmp/rw/g"
check "memory limit in the box's cgroup" 0 '^67108864$' echo "$out"
check "maskedPaths masks /proc/timer_list" 0 '^timer=0$' echo "$out"
check "maskedPaths replaces the defaults (/sys/firmware shows)" 0 '^fw=[1-9]' echo "$out"
check "readonlyPaths: /proc/sys read-only" 0 '^sysctl-ro=1$' echo "$out"

# the lifecycle: create, state, start, kill, delete
conf "$tmp/b3" \
	args='["sh", "-c", "echo started; trap \"echo got-usr1\" USR1; trap \"echo got-term; exit 3\" TERM; while true; do sleep 0.1; done"]' \
	hooks="{\"createRuntime\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"cat > $tmp/hook-create\"]}], \"poststart\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"cat > $tmp/hook-poststart\"]}], \"poststop\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"cat > $tmp/hook-poststop\"]}]}"
check "create" 0 '' $B create --bundle "$tmp/b3" --pid-file "$tmp/pid" c3
sleep 0.1
pid=$(cat "$tmp/pid" 2>/dev/null)
check "state after create: created, with the pid of the pid file" 0 "\"pid\": $pid," $B state c3
check "state: status created" 0 '"status": "created"' $B state c3
check "state: bundle" 0 "\"bundle\": \"$tmp/b3\"" $B state c3
check "state: the bundle's annotations" 0 '"org.example.key": "value"' $B state c3
check "the pid is in the container's cgroup (cgroupsPath)" 0 "$cgp/b3" cat /proc/$pid/cgroup
if [ "$(readlink /proc/$pid/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] &&
	[ "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]; then
	ok "the pid is in the container's namespaces"
else
	not_ok "the pid is in the container's namespaces"
fi
check "the pid waits before the user's process" 0 '^boxctl' cat /proc/$pid/comm
check "createRuntime hook got the state on stdin" 0 '"status": ?"creating"' cat "$tmp/hook-create"
check "delete of a created container without --force fails" 1 'is created' $B delete c3
check "create of an existing id fails" 1 'already exists' $B create --bundle "$tmp/b3" c3
check "start" 0 '' $B start c3
check "start again fails" 1 'not created' $B start c3
check "state: running" 0 '"status": "running"' $B state c3
check "poststart hook ran" 0 '"status": ?"running"' cat "$tmp/hook-poststart"
check "ps --format json" 0 "^\[$pid(,[0-9]+)*\]$" $B ps --format json c3
check "list shows it" 0 "^c3 +$pid +running" $B list
check "list --format json" 0 '"id": ?"c3"' $B list --format json
check "the Docker-like ps lists it too" 0 'c3' $boxctl --root "$state" ps -a
check "pause" 0 '' $B pause c3
check "state: paused" 0 '"status": "paused"' $B state c3
check "resume" 0 '' $B resume c3
check "state: running again" 0 '"status": "running"' $B state c3
cat >"$tmp/p.json" <<'EOF'
{"args": ["sh", "-c", "echo in-box $X"], "env": ["X=bar"], "cwd": "/", "user": {"uid": 0, "gid": 0}}
EOF
check "exec --process" 0 '^in-box bar$' $B exec --process "$tmp/p.json" c3
check "exec: the exit status" 0 '^7$' bash -c "$B exec c3 sh -c 'exit 7'; echo \$?"
check "exec --detach --pid-file" 0 '' $B exec --detach --pid-file "$tmp/epid" c3 sleep 30
epid=$(cat "$tmp/epid" 2>/dev/null)
if [ -n "$epid" ] && grep -q "$cgp/b3" /proc/$epid/cgroup; then ok "the exec'd pid is in the box"; else not_ok "the exec'd pid is in the box" "$epid"; fi
check "kill by name" 0 '' $B kill c3 USR1
check "kill --all by number" 0 '' $B kill --all c3 15
for i in $(seq 50); do $B state c3 | grep -q stopped && break; sleep 0.1; done
check "state: stopped after the signal" 0 '"status": "stopped"' $B state c3
check "state: stopped has pid 0" 0 '"pid": 0,' $B state c3
check "kill of a stopped container fails" 1 'not running' $B kill c3 KILL
check "invalid signal" 1 'invalid signal "NOPE"' $B kill c3 NOPE
check "delete" 0 '' $B delete c3
check "poststop hook got the state" 0 '"status": ?"stopped"' cat "$tmp/hook-poststop"
check "delete of a gone container fails" 1 'does not exist' $B delete c3
check "delete --force of a gone container succeeds" 0 '' $B delete --force c3

# delete --force of a running one, and run --detach
conf "$tmp/b4" args='["sleep", "60"]'
check "run --detach" 0 '' $B run --detach --bundle "$tmp/b4" c4
check "state: running" 0 '"status": "running"' $B state c4
check "delete of a running container fails" 1 'is running' $B delete c4
check "delete --force of a running container" 0 '' $B delete --force c4
check "gone" 1 'does not exist' $B state c4

# the console socket: the pty's master over SCM_RIGHTS
conf "$tmp/b5" terminal=true args='["sh", "-c", "tty; sleep 1"]'
"$recvtty" "$tmp/console.sock" "$tmp/console.out" &
recv=$!
for i in $(seq 50); do [ -S "$tmp/console.sock" ] && break; sleep 0.1; done
check "create --console-socket" 0 '' $B create --bundle "$tmp/b5" --console-socket "$tmp/console.sock" c5
check "start with a terminal" 0 '' $B start c5
wait $recv
check "the master came over the socket: the box's tty" 0 '^/dev/pts/0' cat "$tmp/console.out"
$B kill c5 KILL 2>/dev/null
for i in $(seq 50); do $B state c5 | grep -q stopped && break; sleep 0.1; done
check "delete the tty container" 0 '' $B delete c5

# errors name the JSON path; nothing is left
conf "$tmp/bad1" resources=', "memory": {"limit": "lots"}'
check "a bad value names its JSON path" 1 'linux.resources.memory.limit: not an integer' $B create --bundle "$tmp/bad1" bad1
check "the error is a JSON line in --log" 0 '"level": ?"error".*linux.resources.memory.limit: not an integer' cat "$tmp/log.json"
conf "$tmp/bad2" caps=', "CAP_FLY"'
check "an unknown capability is an error" 1 'process.capabilities.bounding\[3\]: unknown capability "CAP_FLY"' $B create --bundle "$tmp/bad2" bad2
conf "$tmp/bad3" hooks='{"createRuntime": [{"path": "/bin/false"}]}'
check "a failing createRuntime hook fails create" 1 'hooks.createRuntime\[0\] \(/bin/false\): exited with status 1' $B create --bundle "$tmp/bad3" bad3
check "and leaves no container" 1 'does not exist' $B state bad3
conf "$tmp/bad4" namespaces=', {"type": "ipc", "path": "/proc/1/ns/ipc"}'
check "a namespace given twice" 1 'namespace "ipc" given twice' $B create --bundle "$tmp/bad4" bad4
# joining a namespace by path (a pod's network namespace)
unshare -n sleep 60 </dev/null >/dev/null 2>&1 &
holder=$!
for i in $(seq 50); do [ "$(readlink /proc/$holder/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.1; done
conf "$tmp/b6" netpath=", \"path\": \"/proc/$holder/ns/net\"" args='["readlink", "/proc/self/ns/net"]'
check "a network namespace joined by path" 0 "^net:.$(readlink /proc/$holder/ns/net | tr -cd 0-9).\$" $B run --bundle "$tmp/b6" r6
conf "$tmp/bad5" pidpath=", \"path\": \"/proc/$holder/ns/pid\""
check "joining a pid namespace is refused, by name" 1 'linux.namespaces\[0\].path: joining an existing pid namespace' $B create --bundle "$tmp/bad5" bad5
kill "$holder"
wait "$holder" 2>/dev/null
check "no such bundle" 1 'bundle /nonexistent' $B create --bundle /nonexistent bad5
check "features" 0 '"ociVersionMax": ?"1.2.0"' $B features
check "--version names the spec" 0 '^spec: 1\.2\.0$' $boxctl --version

# the global flags engines pass are accepted
check "--systemd-cgroup --debug are accepted" 0 '\[' $boxctl --root "$state" --systemd-cgroup --debug list --format json

check "no container left" 0 '^$' sh -c "ls $state/boxes 2>/dev/null | grep -v seccomp; true"
if [ -z "$(cgroup_dirs | while read -r d; do ls -d "$d"/*/ 2>/dev/null; done)" ]; then ok "no cgroup left"; else not_ok "no cgroup left" "$(cgroup_dirs)"; fi
if [ "$(wc -l </proc/self/mountinfo)" = "$mounts_before" ]; then ok "no mount left"; else not_ok "no mount left"; fi
tap_end
