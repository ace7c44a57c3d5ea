#!/bin/bash
# The stable ABI, as TAP:   check_abi.sh SRCDIR BUILDDIR
# exported symbols == lib/libbox.map, all under a LIBBOX_ version node,
# all declared with BOX_EXPORT in include/box.h and documented in
# doc/libbox.3; soname libbox.so.1; abidiff against lib/abi/libbox.abi finds
# no incompatible change; pkg-config works after meson install.
set -u
src=$1
build=$2
lib=$build/lib/libbox.so.1
. "$(dirname "$(readlink -f "$0")")/tap.sh"
need() {
	command -v "$1" >/dev/null && return 0
	if [ "${CI:-}" = true ]; then not_ok "$1 is installed"; else n=$((n + 1)); echo "ok $n - # SKIP $1 is not installed"; fi
	return 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sed -n 's/^[[:space:]]*\(box_[a-z0-9_]*\);$/\1/p' "$src/lib/libbox.map" | sort >"$tmp/map"
nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort >"$tmp/exported"
if diff -u "$tmp/map" "$tmp/exported" >"$tmp/d1"; then ok "exported symbols are exactly libbox.map's"; else not_ok "exported symbols are exactly libbox.map's" "$(cat "$tmp/d1")"; fi

# each export carries the version node the map puts it in
awk '/^LIBBOX_[0-9.]+ *\{/ { node = $1 } /^[[:space:]]*box_[a-z0-9_]*;$/ { gsub(/[[:space:];]/, ""); print $0, node }' \
	"$src/lib/libbox.map" | sort >"$tmp/nodes"
objdump -T "$lib" | awk '/ DF .text/ && $NF ~ /^box_/ { print $NF, $(NF-1) }' | sort -u >"$tmp/versions"
if [ -s "$tmp/nodes" ] && diff -u "$tmp/nodes" "$tmp/versions" >"$tmp/d2"; then ok "every export is in the version node the map gives it"; else not_ok "every export is in the version node the map gives it" "$(cat "$tmp/d2")"; fi

missing=""
for s in $(cat "$tmp/map"); do
	grep -Eq "^BOX_EXPORT [^(]*\b$s\(" "$src/include/box.h" || missing="$missing $s"
done
if [ -z "$missing" ]; then ok "every export is declared with BOX_EXPORT in box.h"; else not_ok "every export is declared with BOX_EXPORT in box.h" "missing:$missing"; fi

missing=""
for s in $(cat "$tmp/map"); do
	grep -qE "(^|[^a-z0-9_]|\\\\f[BIR])$s([^a-z0-9_]|$)" "$src/doc/libbox.3" || missing="$missing $s"
done
if [ -z "$missing" ]; then ok "every export is documented in doc/libbox.3"; else not_ok "every export is documented in doc/libbox.3" "missing:$missing"; fi

soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" = libbox.so.1 ]; then ok "soname is libbox.so.1"; else not_ok "soname is libbox.so.1" "got $soname"; fi

hidden=$(nm -D --defined-only "$lib" | awk '$2 == "T" && $3 !~ /^box_/' | head)
if [ -z "$hidden" ]; then ok "nothing but box_* is visible"; else not_ok "nothing but box_* is visible" "$hidden"; fi

if need abidiff; then
	abidiff --headers-dir2 "$src/include" "$src/lib/abi/libbox.abi" "$lib" >"$tmp/abi" 2>&1
	rc=$?
	# abidiff's status bits: 1 error, 2 usage, 4 change, 8 incompatible change
	if [ $((rc & 11)) = 0 ]; then
		ok "abidiff: no incompatible change from lib/abi/libbox.abi (status $rc)"
		[ $((rc & 4)) = 0 ] || sed 's/^/# /' "$tmp/abi"
	else
		not_ok "abidiff: no incompatible change from lib/abi/libbox.abi (status $rc)" "$(cat "$tmp/abi")"
	fi
fi

if need abidiff; then
	# the check can fail: a baseline missing a function compared the other
	# way round is a removal, which abidiff must call incompatible
	grep -v "elf-symbol name='box_version'" "$src/lib/abi/libbox.abi" >"$tmp/removed.abi"
	abidiff "$src/lib/abi/libbox.abi" "$tmp/removed.abi" >/dev/null 2>&1
	rc=$?
	if [ $((rc & 8)) = 8 ]; then ok "abidiff calls a removed function incompatible (status $rc)"; else not_ok "abidiff calls a removed function incompatible" "status $rc"; fi
fi

if need pkg-config; then
	meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >/dev/null 2>&1
	pc=$(find "$tmp/root" -name libbox.pc | head -n1)
	cat >"$tmp/t.c" <<'C'
#include <box.h>
#include <stdio.h>
int main(void) { puts(box_version()); return 0; }
C
	if [ -n "$pc" ] &&
		flags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$tmp/root" pkg-config --cflags --libs libbox) &&
		cc -o "$tmp/t" "$tmp/t.c" $flags 2>"$tmp/cc" &&
		[ "$(LD_LIBRARY_PATH=$(dirname "$(find "$tmp/root" -name libbox.so.1 | head -n1)") "$tmp/t")" = "$(meson introspect --projectinfo "$build" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')" ]; then
		ok "pkg-config --cflags --libs libbox works after meson install"
	else
		not_ok "pkg-config --cflags --libs libbox works after meson install" "pc=$pc" "$(cat "$tmp/cc" 2>/dev/null)"
	fi
fi
tap_end
