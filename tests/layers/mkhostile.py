#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Archives for tests/test_layer.c that GNU tar would not write: each escape
# the layer reader must refuse, malformed whiteouts, bombs, corrupt and
# truncated streams, and a few odd but valid ones.  Made with Python's own
# tarfile (not our code) at build time:  mkhostile.py OUTDIR STAMP
import base64
import gzip
import hashlib
import io
import os
import random
import sys
import tarfile

out = sys.argv[1]
rng = random.Random(4)  # the same archives on every build
os.makedirs(out, exist_ok=True)


def info(name, type=tarfile.REGTYPE, data=b"", link="", mode=0o644, pax=None):
    ti = tarfile.TarInfo(name)
    ti.type = type
    ti.size = len(data) if type in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    ti.linkname = link
    ti.mode = mode
    ti.mtime = 1600000000
    if pax:
        ti.pax_headers = pax
    return ti, data


def archive(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if ti.size else None)
    return buf.getvalue()


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def reg(name, data=b"x"):
    return info(name, data=data)


def sym(name, target):
    return info(name, tarfile.SYMTYPE, link=target, mode=0o777)


def hard(name, target):
    return info(name, tarfile.LNKTYPE, link=target)


def dirent(name):
    return info(name, tarfile.DIRTYPE, mode=0o755)


# ---- escapes: each must be refused, nothing written outside ----
write("dotdot.tar", archive([reg("../outside/pwned")]))
write("dotdot_mid.tar", archive([dirent("a/"), reg("a/../../outside/pwned")]))
write("absolute.tar", archive([reg("/libbox-layer-test-pwned")]))
# the same escapes through a pax path and a GNU long name
write("dotdot_pax.tar", archive([info("innocent", data=b"x", pax={"path": "../outside/pax"})]))
write("dotdot_gnu.tar", archive([reg("a" * 120 + "/../../outside/gnu")], tarfile.GNU_FORMAT))
write("symlink_linkpath_pax.tar", archive([
    sym("l", "x" * 150), info("l2", tarfile.LNKTYPE, pax={"linkpath": "../outside/target"})]))
write("symlink_parent.tar", archive([sym("link", "../outside"), reg("link/pwned")]))
write("symlink_parent_abs.tar", archive([sym("root", "/"), reg("root/tmp/libbox-layer-test-pwned")]))
write("symlink_parent_inside.tar", archive([dirent("sub/"), sym("lnk", "sub"), reg("lnk/f")]))
write("hardlink_outside.tar", archive([hard("hl", "../outside/target")]))
write("hardlink_absolute.tar", archive([hard("hl", "/etc/passwd")]))
write("hardlink_missing.tar", archive([hard("hl", "nothere")]))
write("hardlink_via_symlink.tar", archive([sym("d", "../outside"), hard("hl", "d/target")]))
write("whiteout_empty.tar", archive([reg(".wh.", b"")]))
write("whiteout_nested.tar", archive([dirent("d/"), reg("d/.wh..wh.foo", b"")]))
write("whiteout_dotdot.tar", archive([reg(".wh...", b"")]))
write("device.tar", archive([dirent("dev/"),
                             info("dev/evil", tarfile.CHRTYPE)]))

# a header that says a terabyte (the data is not there)
ti, _ = info("bomb", data=b"", pax={"size": str(1 << 40)})
ti.size = 1 << 40
write("size_bomb.tar", ti.tobuf(tarfile.PAX_FORMAT) + b"\0" * 512)

# a GNU sparse entry
ti, _ = info("sparse", data=b"")
ti.type = tarfile.GNUTYPE_SPARSE
write("sparse.tar", ti.tobuf(tarfile.GNU_FORMAT) + b"\0" * 1024)

# the data of an entry cut short
ti, _ = info("big", data=b"")
ti.size = 100000
write("truncated_data.tar", ti.tobuf(tarfile.PAX_FORMAT) + b"y" * 1000)

# a whole entry but no end-of-archive blocks
ti, data = reg("noend", b"z" * 10)
write("no_end.tar", ti.tobuf(tarfile.PAX_FORMAT) + data + b"\0" * (512 - 10))

# a header whose checksum does not match
ti, data = reg("badsum", b"q")
hdr = bytearray(ti.tobuf(tarfile.USTAR_FORMAT))
hdr[100] ^= 1  # the mode field
write("bad_checksum.tar", bytes(hdr) + data + b"\0" * 511 + b"\0" * 1024)

# a real-sized gzip layer, cut in the middle and corrupted in the middle
many = archive([reg("f%04d" % i, rng.randbytes(700) + b"\0" * 700) for i in range(600)])
gz = gzip.compress(many, mtime=0)
write("truncated.tar.gz", gz[: len(gz) // 2])
bad = bytearray(gz)
for i in range(len(bad) // 2, len(bad) // 2 + 64):
    bad[i] ^= 0x5A
write("corrupt.tar.gz", bytes(bad))

# ---- valid, if odd ----
# names that overwrite a symlink: replaced, never followed
write("overwrite_symlink.tar", archive([
    sym("victim", "../outside/target"), reg("victim", b"replaced"),
    sym("victim2", "../outside"), dirent("victim2/"), reg("victim2/f", b"inside"),
    sym("victim3", "../outside/target"), hard("victim3", "victim"),
]))

# xattrs as libarchive writes them (base64 value, %-encoded name) and as
# star/GNU tar do
write("xattrs_pax.tar", archive([info("lib", data=b"x", pax={
    "LIBARCHIVE.xattr.user.lib%3Dname": base64.b64encode(b"hello\0world").decode().rstrip("="),
    "SCHILY.xattr.user.schily": "plain",
    "SCHILY.xattr.trusted.overlay.redirect": "/etc",
})]))

# whiteouts: .wh.gone in d, e made opaque after this layer's own e/keep
write("whiteouts.tar", archive([
    dirent("d/"), reg("d/.wh.gone", b""), reg("d/new", b"n"),
    dirent("e/"), reg("e/keep", b"k"), reg("e/.wh..wh..opq", b""),
    dirent("f/"), dirent("f/sub/"), reg("f/sub/.wh.dir", b""),
    dirent("g/"), reg("g/same", b"s"), reg("g/.wh.same", b""),
]))

# a good gzip layer and its digests, for the digest checks
good = archive([dirent("./"), dirent("./etc/"), reg("./etc/hostname", b"box\n")])
goodgz = gzip.compress(good, mtime=0)
write("good.tar.gz", goodgz)
write("good.tar.gz.digests", ("sha256:%s\nsha256:%s\n" % (
    hashlib.sha256(goodgz).hexdigest(), hashlib.sha256(good).hexdigest())).encode())

open(sys.argv[2], "w").close()
