#!/bin/bash
# Images end to end through boxctl, as TAP: the default image, OCI layouts
# made by umoci, docker archives and OCI archives made by skopeo, layers
# made by GNU tar and gzip (whiteouts, opaque directories, hard links), a
# 200-layer image, refused archives (digest mismatch, missing blob) that
# leave the store as it was, rmi's reference counts, commit -> save ->
# load, import, the vfs copy.  Runs itself again inside a throwaway
# network and mount namespace.
#   test_images.sh BOXCTL [--vm]    (--vm: without skopeo, in tests/vm)
set -u
. "$(dirname "$(readlink -f "$0")")/tap.sh"
tap_throwaway "$0" "$@"
boxctl_bin=$(readlink -f "$1")
vm=${2:-}
ip link set lo up
mounts_before=$(wc -l </proc/self/mountinfo)
cgp=/libbox-test-images-$$
work=$(mktemp -d /tmp/libbox-images.XXXXXX)
store=$work/store
boxctl="$boxctl_bin --root $work/state --store $store"
remove_cgroup_parent() { for m in $(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo); do [ -d "$m$cgp" ] && rmdir "$m$cgp"; done; }
trap 'remove_cgroup_parent; rm -rf "$work"' EXIT
run() { $boxctl run --cgroup-parent "$cgp" "$@"; }
# what the store holds, but its lock and images.json's contents
listing() { (cd "$store" && find . ! -name lock | sort); }

# ---- the default image ----
check "image default builds busybox:latest" 0 '^busybox:latest sha256:[0-9a-f]{64}$' $boxctl image default
check "image default again keeps it" 0 '^busybox:latest sha256:' $boxctl image default
check "images lists it" 0 '^busybox +latest +[0-9a-f]{12} ' $boxctl images
check "run busybox sh (its Cmd) with stdin closed" 0 '' run busybox
check "run busybox echo" 0 '^hello$' run busybox echo hello
check "the box's root is an overlay" 0 '^1$' run busybox sh -c 'grep -c "^[0-9]* [0-9]* [0-9:]* / / .* - overlay " /proc/self/mountinfo'
check "image inspect: its config's Cmd" 0 '"Cmd":\["sh"\]' bash -c "$boxctl image inspect busybox | tr -d ' \n'"
check "image inspect names the layers" 0 "$(printf '"chain"')" $boxctl image inspect busybox:latest
check "unknown image is 125" 125 'no such image: nosuch' run nosuch true
check "a bad image name" 125 'image name' run 'Bad*Name' true

# ---- an OCI layout made by umoci, with layers made by GNU tar ----
bb=$work/bb
mkdir -p "$bb/bin" "$bb/etc" "$bb/tmp"
cp "$(command -v busybox)" "$bb/bin/busybox"
for a in sh cat ls stat echo test wc id readlink find sort sleep rm; do ln -s busybox "$bb/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$bb/etc/passwd"
echo 'app:x:1234:1234::/:/bin/sh' >>"$bb/etc/passwd"
echo 'app:x:1234:' >"$bb/etc/group"
mkdir -p "$bb/gone" "$bb/opq" && echo old >"$bb/gone/file" && echo old >"$bb/opq/old" && echo keep >"$bb/keep"
tar -cf "$work/l1.tar" -C "$bb" .
# layer 2: a whiteout, an opaque directory, a hard link, a long name
l2=$work/l2; mkdir -p "$l2/opq" "$l2/gone" "$l2/links"
: >"$l2/gone/.wh.file"
: >"$l2/opq/.wh..wh..opq"
echo new >"$l2/opq/new"
echo linked >"$l2/links/a"
ln "$l2/links/a" "$l2/links/b"
long=$(printf 'd%.0s' {1..120})/$(printf 'f%.0s' {1..120})
mkdir -p "$l2/$(dirname "$long")" && echo long >"$l2/$long"
tar -cf "$work/l2.tar" -C "$l2" .
oci=$work/oci
umoci init --layout "$oci" >/dev/null 2>&1 && umoci new --image "$oci:v1" >/dev/null 2>&1 &&
	umoci raw add-layer --image "$oci:v1" "$work/l1.tar" >/dev/null 2>&1 &&
	umoci raw add-layer --image "$oci:v1" "$work/l2.tar" >/dev/null 2>&1 &&
	umoci config --image "$oci:v1" --config.cmd cat --config.cmd /opq/new --config.env FOO=image \
		--config.env BAR=image --config.workingdir /tmp >/dev/null 2>&1
check "umoci made an OCI layout" 0 'v1' umoci ls --layout "$oci"
check "load -i an OCI layout directory" 0 '^Loaded image: test/oci:v1$' $boxctl load -i "$oci" --name test/oci:v1
check "its Cmd runs" 0 '^new$' run test/oci:v1
check "a whiteout hides the lower file" 0 '^gone-empty$' run test/oci:v1 sh -c 'test -e /gone/file || echo gone-empty'
check "an opaque directory hides the lower one" 0 '^new$' run test/oci:v1 ls /opq
check "a hard link stays one" 0 '^2 same$' run test/oci:v1 sh -c 'a=$(stat -c "%h %i" /links/a); b=$(stat -c "%h %i" /links/b); [ "$a" = "$b" ] && echo "${a% *} same"'
check "a long name" 0 '^long$' run test/oci:v1 cat "/$long"
check "env merged by name, the caller's wins" 0 '^mine image /tmp$' run -e FOO=mine test/oci:v1 sh -c 'echo $FOO $BAR $(pwd)'
check "-w and -u override the image" 0 '^/ 1234$' run -w / -u 1234 test/oci:v1 sh -c 'echo $(pwd) $(id -u)'
umoci config --image "$oci:v1" --tag user --config.user app >/dev/null 2>&1
check "a layout of two images, named by the directory and their tags" 0 'Loaded image: oci:user' $boxctl load -i "$oci"
check "a user name from the image's /etc/passwd" 0 '^1234 1234$' run oci:user sh -c 'echo $(id -u) $(id -g)'
check "load of several images with --name is refused" 1 'holds 2 images' $boxctl load -i "$oci" --name x

# ---- refused archives leave the store as it was ----
before=$(listing)
bad=$work/bad; cp -a "$oci" "$bad"
blob=$(find "$bad/blobs/sha256" -type f -size +100k | head -1)
printf 'x' >>"$blob"
check "a layer whose digest does not match is refused" 1 'digest mismatch' $boxctl load -i "$bad"
check "... and leaves nothing in the store" 0 '' test "$before" = "$(listing)"
rm -rf "$bad"; cp -a "$oci" "$bad"
rm -f "$(find "$bad/blobs/sha256" -type f -size +100k | head -1)"
check "a missing layer blob is refused" 1 'is missing' $boxctl load -i "$bad"
check "... and leaves nothing in the store" 0 '' test "$before" = "$(listing)"
printf 'not a tar' >"$work/junk.tar"
check "a file that is no archive is refused" 1 'image load' $boxctl load -i "$work/junk.tar"
check "... and leaves nothing in the store" 0 '' test "$before" = "$(listing)"

# ---- skopeo: docker save and OCI archives ----
if [ "$vm" != --vm ]; then
	skopeo copy -q "oci:$oci:v1" "docker-archive:$work/docker.tar:test/docker:d1" >/dev/null 2>&1
	check "load -i a docker save archive (skopeo's)" 0 '^Loaded image: test/docker:d1$' $boxctl load -i "$work/docker.tar"
	check "it runs" 0 '^new$' run test/docker:d1
	skopeo copy -q "oci:$oci:v1" "oci-archive:$work/oci.tar:v1" >/dev/null 2>&1
	nl=$(find "$store/layers" -mindepth 1 -maxdepth 1 | wc -l)
	check "load -i an OCI archive (skopeo's), named after the file" 0 '^Loaded image: oci:v1$' $boxctl load -i "$work/oci.tar"
	check "its layers are those already there" 0 '' test "$nl" = "$(find "$store/layers" -mindepth 1 -maxdepth 1 | wc -l)"
fi

# ---- rmi and reference counts ----
layers() { find "$store/layers" -mindepth 1 -maxdepth 1 | wc -l; }
n0=$(layers)
$boxctl tag test/oci:v1 test/other:v2
check "rmi of one name of two keeps the image" 0 'Deleted' $boxctl rmi test/other:v2
check "... and its layers" 0 '' test "$n0" = "$(layers)"
box=$($boxctl run -d --cgroup-parent "$cgp" test/oci:v1 sleep 1000)
id=$($boxctl images -q | head -0; $boxctl image inspect test/oci:v1 | sed -n 's/^ "id": "sha256:\(.\{12\}\).*/\1/p')
check "rmi refuses while a box uses the image" 1 'used by box' $boxctl rmi "$id"
check "rmi -f removes it" 0 'Deleted' $boxctl rmi -f "$id"
check "... it is gone" 125 'no such image' run test/oci:v1 true
check "... the box keeps running on its layers" 0 '^new$' $boxctl exec "$box" cat /opq/new
$boxctl rm -f "$box" >/dev/null
check "removing the box frees its store directory" 0 '^0$' bash -c "ls '$store/boxes' | wc -l"

# ---- commit -> save -> load ----
box=$($boxctl run -d --cgroup-parent "$cgp" busybox sh -c 'echo made >/made; rm /etc/hostname; rm -rf /usr/sbin; sleep 1000')
for _ in $(seq 100); do $boxctl exec "$box" test -e /made 2>/dev/null && break; sleep 0.1; done
check "commit a box" 0 '^sha256:[0-9a-f]{64}$' $boxctl commit "$box" test/committed:1
$boxctl rm -f "$box" >/dev/null
check "the commit has the box's file" 0 '^made$' run test/committed:1 cat /made
check "and its deletions" 0 '^deleted$' run test/committed:1 sh -c 'test -e /etc/hostname || test -e /usr/sbin || echo deleted'
check "save -o writes an OCI archive" 0 '' $boxctl save test/committed:1 -o "$work/saved.tar"
if [ "$vm" != --vm ]; then
	check "skopeo accepts the saved archive" 0 '"Layers"' skopeo inspect "oci-archive:$work/saved.tar"
	check "umoci accepts it too" 0 '' bash -c "mkdir '$work/u' && tar -xf '$work/saved.tar' -C '$work/u' && umoci ls --layout '$work/u' | grep -q latest || umoci ls --layout '$work/u' | grep -q 1"
fi
check "rmi the committed image" 0 'Deleted' $boxctl rmi test/committed:1
check "load it back" 0 '^Loaded image: test/committed:1$' $boxctl load -i "$work/saved.tar"
check "the same files after the round trip" 0 '^made deleted$' run test/committed:1 sh -c 'echo $(cat /made) $(test -e /etc/hostname || echo deleted)'

# ---- import ----
tar -czf "$work/rootfs.tgz" -C "$bb" .
check "import a rootfs tarball" 0 '^sha256:' $boxctl import "$work/rootfs.tgz" test/imported
check "it runs (PATH from the import's config)" 0 '^keep$' run test/imported cat /keep
check "an image without a command says so" 125 'no command' run test/imported

# ---- 200 layers ----
many=$work/many
umoci init --layout "$many" >/dev/null 2>&1 && umoci new --image "$many:m" >/dev/null 2>&1 &&
	umoci raw add-layer --image "$many:m" "$work/l1.tar" >/dev/null 2>&1
for i in $(seq 2 200); do
	d=$work/ml/$i; mkdir -p "$d/layers"; echo "$i" >"$d/layers/$i"
	tar -cf "$d.tar" -C "$d" .
	umoci raw add-layer --image "$many:m" "$d.tar" >/dev/null 2>&1 || break
done
check "load a 200-layer image" 0 '^Loaded image: test/many:200$' $boxctl load -i "$many" --name test/many:200
check "it mounts and runs: every layer seen" 0 '^199 200 2$' run test/many:200 sh -c 'echo $(ls /layers | wc -l) $(cat /layers/200) $(cat /layers/2)'

# ---- a load killed half-way leaves the store as it was (a store of its own):
# the second layer's blob is a FIFO that gives one byte and then nothing, so
# the load is stopped there, the first layer in place, for sure
b2="$boxctl_bin --root $work/state --store $work/store2"
$b2 images >/dev/null
before=$(cd "$work/store2" && find . ! -name lock | sort)
stuck=$work/stuck; cp -a "$oci" "$stuck"
for f in "$stuck"/blobs/sha256/*; do
	if gzip -t "$f" 2>/dev/null && zcat "$f" | tar -t 2>/dev/null | grep -q 'wh\.\.wh\.\.opq'; then
		rm "$f" && mkfifo "$f" && { (printf x; exec sleep 1000) >"$f" & writer=$!; }
	fi
done
$b2 load -i "$stuck" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 500); do [ -n "$(ls "$work/store2/layers")" ] && [ -n "$(ls "$work/store2/tmp")" ] && break; sleep 0.02; done
check "the load is stuck with a layer in place" 0 '^1$' bash -c "ls '$work/store2/layers' | wc -l"
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
kill "${writer:-0}" 2>/dev/null; wait "${writer:-0}" 2>/dev/null
check "a killed load shows no image" 0 '^NAME[^\n]*$' bash -c "$b2 images | tr '\n' ' ' | sed 's/ *$//'"
check "... and the next operation cleared what it left" 0 '' test "$before" = "$(cd "$work/store2" && find . ! -name lock | sort)"

# ---- vfs: the copy ----
check "--storage-driver vfs runs an image from a copy" 0 '^200 busybox$' $boxctl --storage-driver vfs run --cgroup-parent "$cgp" test/many:200 sh -c 'echo $(cat /layers/200) $(cat /etc/hostname 2>/dev/null || echo busybox)'
box=$($boxctl --storage-driver vfs run -d --cgroup-parent "$cgp" busybox sleep 1000)
check "box inspect reports the storage" 0 '"storage": "vfs"' $boxctl inspect "$box"
check "commit of a vfs box says why not" 1 'needs an overlay' $boxctl commit "$box" x
$boxctl rm -f "$box" >/dev/null

# ---- the progress bar is for terminals only ----
out=$($boxctl load -i "$work/saved.tar" --name test/quiet:1 2>&1)
if [ "$out" = "Loaded image: test/quiet:1" ]; then ok "no progress output when not a terminal"; else not_ok "no progress output when not a terminal" "$out"; fi

# ---- nothing left ----
check "no box directory left in the store" 0 '^0$' bash -c "ls '$store/boxes' | wc -l"
check "no temp entry left in the store" 0 '^0$' bash -c "ls '$store/tmp' | wc -l"
for img in $($boxctl images -q); do $boxctl rmi -f "$img" >/dev/null 2>&1; done
check "rmi of every image frees every layer and blob" 0 '^0 0$' bash -c "echo \$(ls '$store/layers' | wc -l) \$(ls '$store/blobs/sha256' | wc -l)"
check "no mount left" 0 '' test "$mounts_before" = "$(wc -l </proc/self/mountinfo)"
tap_end
