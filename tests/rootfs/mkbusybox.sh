#!/bin/sh
# Build a minimal root filesystem from Debian's busybox-static:
#   tests/rootfs/mkbusybox.sh DIR
# DIR gets /bin/busybox, a symlink for each applet, and the usual empty
# directories.  Used by the tests, the benchmarks and the Quick start.
set -eu
dir=${1:?usage: mkbusybox.sh DIR}
bb=${BUSYBOX:-/bin/busybox}
if ! "$bb" --list >/dev/null 2>&1 || ldd "$bb" >/dev/null 2>&1; then
	echo "mkbusybox.sh: $bb is not a static busybox (apt-get install busybox-static)" >&2
	exit 1
fi
tmp=$(mktemp -d "${dir%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/etc" "$tmp/proc" "$tmp/sys" "$tmp/dev" "$tmp/tmp" "$tmp/root" \
	"$tmp/usr/bin" "$tmp/usr/sbin" "$tmp/sbin" "$tmp/var" "$tmp/home"
chmod 755 "$tmp"
chmod 1777 "$tmp/tmp"
cp "$bb" "$tmp/bin/busybox"
for applet in $("$bb" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$tmp/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$tmp/etc/passwd"
# as images carry them: the box's own are bound over them
: >"$tmp/etc/hosts"
: >"$tmp/etc/resolv.conf"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$tmp/etc/group"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
