#!/bin/sh
# Checks, inside the VM, that the guest is the host libbox's users have:
# Debian 12's kernel 6.1 with pure cgroup v2 and every controller usable,
# pivot_root, overlayfs and veth in network namespaces.  Prints TAP.
#   tests/vm/run -d DIR -- sh /opt/libbox-vm/selftest.sh
# (DIR/opt/libbox-vm/selftest.sh being this file).  Busybox sh and applets
# only; iproute2 is not needed.
CG=/sys/fs/cgroup
PLAN=18
n=0 failed=0
out=/tmp/selftest.out

# check DESCRIPTION COMMAND...: one TAP line; the command's output as
# diagnostics when it fails.  Each check runs in a subshell of its own.
check() {
	desc=$1
	shift
	n=$((n + 1))
	if ("$@") >"$out" 2>&1; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		failed=$((failed + 1))
		sed 's/^/# /' "$out"
	fi
}

kernel_is_6_1() {
	uname -r
	case $(uname -r) in 6.1.*) ;; *) return 1 ;; esac
}

cgroup2_only() {
	grep cgroup /proc/mounts
	# exactly one cgroup file system: cgroup2 at /sys/fs/cgroup
	[ "$(grep -c cgroup /proc/mounts)" = 1 ] &&
		grep -q '^[^ ]* /sys/fs/cgroup cgroup2 ' /proc/mounts
}

no_v1_hierarchies() {
	cat /proc/cgroups
	[ "$(awk 'NR > 1 && $2 != 0' /proc/cgroups | wc -l)" = 0 ]
}

controller() { # NAME: available at the root and enabled for its children
	echo "cgroup.controllers: $(cat $CG/cgroup.controllers)"
	echo "cgroup.subtree_control: $(cat $CG/cgroup.subtree_control)"
	grep -qw "$1" $CG/cgroup.controllers && grep -qw "$1" $CG/cgroup.subtree_control
}

child_cgroup() {
	set -e
	mkdir $CG/selftest
	echo "child cgroup.controllers: $(cat $CG/selftest/cgroup.controllers)"
	for c in memory cpu pids io cpuset; do grep -qw $c $CG/selftest/cgroup.controllers; done
	echo 64M >$CG/selftest/memory.max
	echo 20 >$CG/selftest/pids.max
	echo "50000 100000" >$CG/selftest/cpu.max
	# a process moved into it sees itself there, and is counted
	where=$(sh -c "echo \$\$ >$CG/selftest/cgroup.procs && cat /proc/self/cgroup")
	echo "/proc/self/cgroup in the child: $where"
	[ "$where" = 0::/selftest ]
	echo "memory.max $(cat $CG/selftest/memory.max), pids.max $(cat $CG/selftest/pids.max)"
	[ "$(cat $CG/selftest/memory.max)" = 67108864 ]
	rmdir $CG/selftest
}

empty_and_remove() { # CGROUP: kill what is left in it, then remove it
	echo 1 >"$1/cgroup.kill"
	i=0
	while grep -q 'populated 1' "$1/cgroup.events" && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	rmdir "$1"
}

pids_limit() {
	set -e
	mkdir $CG/selftest-pids
	echo 3 >$CG/selftest-pids/pids.max
	# with 3 pids allowed, the shell and two sleeps fit; a third fork fails
	sh -c "echo \$\$ >$CG/selftest-pids/cgroup.procs
		sleep 1 & sleep 1 & sleep 1 & wait" || true
	echo "pids.events: $(cat $CG/selftest-pids/pids.events)"
	[ "$(awk '$1 == "max" { print $2 }' $CG/selftest-pids/pids.events)" -ge 1 ]
	empty_and_remove $CG/selftest-pids
}

pivot_root_works() {
	# what a container runtime does: a private mount namespace, a new root
	# (here a tmpfs holding busybox), pivot_root(2), detach the old root
	unshare -m sh -c '
		set -e
		mount --make-rprivate /
		mkdir -p /tmp/newroot
		mount -t tmpfs newroot /tmp/newroot
		mkdir -p /tmp/newroot/bin /tmp/newroot/old
		cp /bin/busybox /tmp/newroot/bin/
		cd /tmp/newroot
		pivot_root . old
		/bin/busybox umount -l /old
		/bin/busybox rmdir /old
		/bin/busybox ls /
		[ "$(/bin/busybox ls /)" = bin ]'
}

pivot_root_from_the_root() {
	# the new root a bind mount of the guest's own root (a tmpfs): the old
	# root goes under its /tmp, which the bind does not cover
	unshare -m sh -c '
		set -e
		mount --make-rprivate /
		mkdir -p /tmp/r
		mount --bind / /tmp/r
		mkdir -p /tmp/r/tmp/old
		cd /tmp/r
		pivot_root . tmp/old
		umount -l /tmp/old
		rmdir /tmp/old
		ls /
		[ -d /etc ] && [ -x /bin/busybox ] && [ ! -e /tmp/old ]'
}

overlayfs() {
	set -e
	d=/tmp/ovl
	mkdir -p $d/lower1 $d/lower2 $d/upper $d/work $d/merged
	echo one >$d/lower1/a
	echo two >$d/lower2/a
	echo two >$d/lower2/b
	unshare -m sh -c "
		set -e
		mount -t overlay overlay -o lowerdir=$d/lower1:$d/lower2,upperdir=$d/upper,workdir=$d/work $d/merged
		grep overlay /proc/self/mounts
		[ \"\$(cat $d/merged/a)\" = one ] && [ \"\$(cat $d/merged/b)\" = two ]
		echo new >$d/merged/c
		rm $d/merged/b"
	# the writes went to the upper layer, the lower layers are unchanged
	[ "$(cat $d/upper/c)" = new ] && [ -c $d/upper/b ] && [ -f $d/lower2/b ]
	rm -rf $d
}

veth_between_netns() {
	# a veth pair made in one network namespace, one end moved to another,
	# addresses on both, a ping across
	unshare -n sleep 60 &
	peer=$!
	i=0
	while [ "$(readlink /proc/$peer/ns/net)" = "$(readlink /proc/self/ns/net)" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	unshare -n sh -c "
		set -e
		ip link add vm-a type veth
		peer_name=\$(ip -o link show | sed -n 's/^[0-9]*: \\([^@:]*\\)@vm-a.*/\\1/p')
		echo \"peer: \$peer_name\"
		ip link set \$peer_name netns $peer
		ip addr add 10.200.0.1/24 dev vm-a
		ip link set vm-a up
		nsenter -t $peer -n sh -c \"ip addr add 10.200.0.2/24 dev \$peer_name && ip link set \$peer_name up && ip -o addr\"
		ping -c 1 -W 5 10.200.0.2"
	rc=$?
	kill $peer
	wait $peer 2>/dev/null
	return $rc
}

bridge_in_netns() {
	unshare -n -m sh -c '
		set -e
		ip link add vm-br type bridge
		ip link add vm-v type veth
		brctl addif vm-br vm-v
		mount -t sysfs sysfs /sys
		ls /sys/class/net/vm-br/brif
		[ -e /sys/class/net/vm-br/brif/vm-v ]'
}

container_modules() {
	cut -d' ' -f1 /proc/modules | tr '\n' ' '
	for m in overlay veth bridge br_netfilter nf_tables nft_chain_nat nft_nat nft_masq nft_ct loop brd; do
		grep -q "^$m " /proc/modules || { echo "missing: $m"; return 1; }
	done
}

memory_limit() {
	set -e
	mkdir $CG/selftest-mem
	echo 32M >$CG/selftest-mem/memory.max
	# dd's 64 MiB buffer does not fit in 32 MiB: the OOM killer ends it
	rc=0
	sh -c "echo \$\$ >$CG/selftest-mem/cgroup.procs && exec dd if=/dev/zero of=/dev/null bs=64M count=1" || rc=$?
	echo "dd: exit status $rc; memory.events: $(tr '\n' ' ' <$CG/selftest-mem/memory.events)"
	empty_and_remove $CG/selftest-mem
	[ "$rc" = 137 ]
}

echo "1..$PLAN"
check "kernel is 6.1.x ($(uname -r))" kernel_is_6_1
check "/sys/fs/cgroup is cgroup2, the only cgroup file system" cgroup2_only
check "no cgroup v1 hierarchy in /proc/cgroups" no_v1_hierarchies
for c in memory cpu pids io cpuset; do
	check "controller $c available and in the root's subtree_control" controller $c
done
check "child cgroup: controllers, limits, a process moved in" child_cgroup
check "pids.max stops a fork" pids_limit
check "pivot_root into a tmpfs in a new mount namespace" pivot_root_works
check "pivot_root with / as the old root" pivot_root_from_the_root
check "overlayfs with two lower layers" overlayfs
check "veth pair across two network namespaces, ping" veth_between_netns
check "bridge with a veth port in a network namespace" bridge_in_netns
check "container modules loaded" container_modules
check "user namespace: unshare -U -r is uid 0 inside" sh -c '[ "$(unshare -U -r id -u)" = 0 ]'
check "memory.max: a process over it is OOM-killed" memory_limit

if [ "$n" != "$PLAN" ]; then
	echo "# selftest.sh: planned $PLAN checks, ran $n"
	exit 1
fi
[ "$failed" = 0 ]
