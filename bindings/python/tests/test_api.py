# SPDX-License-Identifier: LGPL-2.1-or-later
"""The binding itself: every exported C function declared, the constants
of box.h, errors, and config validation (nothing here runs a box, so these
run without root too)."""
from __future__ import annotations

import errno
import os
import json
import pickle
import re
from pathlib import Path

import pytest

import libbox
from libbox import _ffi

from conftest import TOP

MAP = TOP / "lib" / "libbox.map"
HEADER = TOP / "include" / "box.h"


def exported_symbols() -> list:
    if not MAP.exists():
        pytest.skip(f"no {MAP} (not run from the source tree)")
    text = re.sub(r"/\*.*?\*/", "", MAP.read_text(), flags=re.S)
    return re.findall(r"^\s*(box_\w+)\s*;", text, flags=re.M)


def test_every_exported_function_is_declared() -> None:
    syms = exported_symbols()
    assert len(syms) > 60
    missing = [s for s in syms if s not in _ffi.SIGNATURES]
    assert not missing, f"libbox.map exports functions the binding does not declare: {missing}"
    extra = [s for s in _ffi.SIGNATURES if s not in syms]
    assert not extra, f"the binding declares functions libbox.map does not export: {extra}"


def test_every_declared_function_is_in_the_loaded_library() -> None:
    assert libbox.lib.missing == [], f"{libbox.lib.path} lacks {libbox.lib.missing}"
    for name, (restype, argtypes) in _ffi.SIGNATURES.items():
        fn = getattr(libbox.lib, name)
        assert fn.argtypes == argtypes and fn.restype == restype, name


def test_every_header_function_is_declared() -> None:
    if not HEADER.exists():
        pytest.skip(f"no {HEADER}")
    text = HEADER.read_text()
    names = set(re.findall(r"BOX_EXPORT[^;(]*?\b(box_\w+)\s*\(", text))
    assert names and names <= set(_ffi.SIGNATURES), names - set(_ffi.SIGNATURES)


def header_constants() -> dict:
    if not HEADER.exists():
        pytest.skip(f"no {HEADER}")
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    text = text.replace("\\\n", " ")
    consts = {}
    for name, value in re.findall(r"^#define\s+(BOX_[A-Z0-9_]+)[ \t]+(.+)$", text, flags=re.M):
        if name in ("BOX_EXPORT",) or "__attribute__" in value:
            continue
        expr = re.sub(r"\b(0x[0-9a-fA-F]+|\d+)[uU]\b", r"\1", value.strip())
        expr = re.sub(r"\bBOX_([A-Z0-9_]+)\b", lambda m: repr(consts["BOX_" + m.group(1)]), expr)
        consts[name] = eval(expr, {})  # only numbers and | left
    return consts


def test_constants_match_the_header() -> None:
    consts = header_constants()
    assert "BOX_NS_DEFAULT" in consts and "BOX_STAT_COUNT" in consts
    for name, value in consts.items():
        py = name[len("BOX_"):]
        assert getattr(libbox, py) == value, f"libbox.{py} != {name} ({value})"
    assert len(libbox.STAT_NAMES) == libbox.STAT_COUNT


def test_version_and_messages() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", libbox.version())
    assert libbox.strerror(-errno.ENOENT) == libbox.strerror(errno.ENOENT)
    assert "No such file" in libbox.strerror(errno.ENOENT)
    assert libbox.status_name(libbox.STATUS_RUNNING) == "running"
    assert libbox.status_name(99) == "invalid"
    assert str(libbox.Status.PAUSED) == "paused"


def test_error_classes() -> None:
    cases = {
        errno.EINVAL: (libbox.InvalidArgument, ValueError),
        errno.ENOENT: (libbox.NotFound, FileNotFoundError),
        errno.EEXIST: (libbox.Exists, FileExistsError),
        errno.EPERM: (libbox.PermissionDenied, PermissionError),
        errno.EACCES: (libbox.PermissionDenied, PermissionError),
        errno.ENOTSUP: (libbox.NotSupported, libbox.Error),
        errno.ESRCH: (libbox.NoSuchProcess, ProcessLookupError),
        errno.EAGAIN: (libbox.TryAgain, libbox.Error),
        errno.EALREADY: (libbox.AlreadyDone, libbox.Error),
        errno.ETIMEDOUT: (libbox.Timeout, TimeoutError),
        errno.ENOTDIR: (libbox.NotADirectory, NotADirectoryError),
        errno.ENODEV: (libbox.NoDevice, libbox.Error),
        errno.EIO: (libbox.Error, OSError),
    }
    for err, (cls, builtin) in cases.items():
        assert libbox.error_class(-err) is cls
        e = cls(-err, "the message", "box_x")
        assert isinstance(e, libbox.Error) and isinstance(e, builtin) and isinstance(e, OSError)
        assert e.errno == err and e.message == "the message" and str(e) == "the message"
        assert e.function == "box_x"
        again = pickle.loads(pickle.dumps(e))
        assert type(again) is cls and again.errno == err and again.message == "the message"
    assert str(libbox.Error(errno.EIO)) == os.strerror(errno.EIO)


def raises(cls, call, *words):
    """call() raises cls with a message holding every word."""
    with pytest.raises(cls) as info:
        call()
    e = info.value
    assert isinstance(e, libbox.Error)
    for w in words:
        assert w in e.message, (w, e.message)
    return e


def test_config_bad_input_raises_with_the_library_message() -> None:
    cfg = libbox.Config()
    e = raises(libbox.InvalidArgument, lambda: cfg.set_hostname(""), "host name")
    assert e.errno == errno.EINVAL and e.function == "box_config_set_hostname"
    raises(libbox.InvalidArgument, lambda: cfg.set_hostname("x" * 65))
    raises(libbox.InvalidArgument, lambda: cfg.set_argv([]))
    raises(libbox.InvalidArgument, lambda: cfg.set_argv([""]))
    raises(libbox.InvalidArgument, lambda: cfg.set_env("A=B", "c"))
    raises(libbox.InvalidArgument, lambda: cfg.set_env("", "c"))
    raises(libbox.InvalidArgument, lambda: cfg.set_cwd(""))
    raises(libbox.InvalidArgument, lambda: cfg.add_cap("NOPE"), "NOPE")
    raises(libbox.InvalidArgument, lambda: cfg.drop_cap("CAP_NOPE"))
    raises(libbox.InvalidArgument, lambda: cfg.set_rlimit("foo", 1), "foo")
    raises(libbox.InvalidArgument, lambda: cfg.set_rlimit("nofile", 20, 10))
    raises(libbox.InvalidArgument, lambda: cfg.set_namespaces(0x100))
    raises(libbox.InvalidArgument, lambda: cfg.set_namespaces(["pid", "nosuchns"]))
    raises(libbox.InvalidArgument, lambda: cfg.set_user(0xFFFFFFFF, 0))
    raises(libbox.InvalidArgument, lambda: cfg.set_user("alice:staff:x"))
    cfg.set_user("alice")  # a name: looked up when the box is made
    raises(libbox.InvalidArgument, lambda: cfg.add_id_map(7, 0, 1000, 1))
    raises(libbox.InvalidArgument, lambda: cfg.add_uid_map(0, 1000, 0))
    raises(libbox.InvalidArgument, lambda: cfg.set_rootfs(""))
    raises(libbox.InvalidArgument, lambda: cfg.add_mount("", None, "/x"))
    raises(libbox.InvalidArgument, lambda: cfg.bind("relative/src", "/x"))
    raises(libbox.InvalidArgument, lambda: cfg.tmpfs("relative"))
    raises(libbox.InvalidArgument, lambda: cfg.bind("/tmp", "/x", options="bogus"))
    raises(libbox.InvalidArgument, lambda: cfg.set_seccomp(7))
    raises(libbox.InvalidArgument, lambda: cfg.set_stdio(-5, None, None))
    raises(libbox.InvalidArgument, lambda: cfg.set_stdio(None, None, None) and
           cfg.set_stdio(libbox.STDOUT, None, None))
    raises(libbox.InvalidArgument, lambda: cfg.set_name("bad name!"))
    raises(libbox.InvalidArgument, lambda: cfg.set_name(""))
    raises(libbox.InvalidArgument, lambda: cfg.set_annotation("a=b", "c"))
    raises(libbox.InvalidArgument, lambda: cfg.set_limit(999, 1))
    raises(libbox.InvalidArgument, lambda: cfg.set_cpu_period(10))
    raises(libbox.InvalidArgument, lambda: cfg.set_memory("lots"))
    raises(libbox.InvalidArgument, lambda: cfg.set_cpus(0))
    raises(libbox.InvalidArgument, lambda: cfg.set_cgroup("maybe"))
    raises(libbox.InvalidArgument, lambda: cfg.set_cgroup(9))
    raises(libbox.InvalidArgument, lambda: cfg.set_cpuset("zero"))
    raises(libbox.InvalidArgument, lambda: cfg.add_io_limit("/dev/null", 9, 1))
    raises(libbox.NotFound, lambda: cfg.add_io_limit("/dev/nosuchdisk", libbox.IO_READ_BPS, 1))
    # NUL bytes would cut a C string: refused before the call
    raises(libbox.InvalidArgument, lambda: cfg.set_hostname("a\0b"), "NUL")
    cfg.close()
    # a closed config is refused, not passed as NULL
    raises(libbox.InvalidArgument, lambda: cfg.set_hostname("x"), "closed")


def test_config_type_errors() -> None:
    with pytest.raises(TypeError, match="unknown keyword argument 'hostnmae'"):
        libbox.Config(["true"], hostnmae="x")
    with pytest.raises(TypeError):
        libbox.Config([42])
    with pytest.raises(TypeError):
        libbox.Config(user=1.5)
    with pytest.raises(TypeError):
        libbox.Config(memory=1.5)
    with pytest.raises(TypeError):
        libbox.Config(stdin=object())


def test_config_every_keyword(tmp_path: Path) -> None:
    """Every keyword argument is accepted (and reaches its C setter)."""
    profile = tmp_path / "p.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW"}')
    kwargs = dict(
        argv=["sh", "-c", "true"], env={"A": "1", "B": None}, cwd="/tmp", user=(1, 2),
        groups=[3, 4], hostname="h", namespaces=libbox.NS_DEFAULT | libbox.NS_USER,
        uid_map=[(0, 100000, 65536)], gid_map=[(0, 100000, 65536)],
        id_maps=[(libbox.MAP_UID, 70000, 200000, 1)], rootfs="/srv/r", image="busybox",
        readonly_root=True,
        mounts=[libbox.Mount("tmpfs", "tmpfs", "/run", "size=1m")],
        binds=[("/etc", "/host-etc", True), ("/tmp", "/host-tmp")], tmpfs={"/scratch": "size=8m"},
        rlimits={"nofile": (100, 200), "nproc": None, "RLIMIT_CORE": 0},
        cap_add=["NET_ADMIN"], cap_drop="MKNOD", seccomp=str(profile), no_new_privs=False,
        stdin=libbox.DEVNULL, stdout=1, stderr=libbox.STDOUT, init=True, tty=False,
        no_pivot=True, start_fifo=False, name="n1", annotations={"k": "v", "gone": None}, memory="64m",
        memory_swap="128m", memory_reservation=32 << 20, cpus=1.5, cpu_period=200000,
        cpu_quota=50000, cpu_weight=10,
        cpu_shares=512, pids=100, io_weight=100, limits={libbox.LIMIT_CPU_WEIGHT: 50},
        cpuset_cpus="0", cpuset_mems="0", device_read_bps={"8:0": "1m"},
        device_write_bps={}, device_read_iops={}, device_write_iops={},
        io_limits=[], cgroup="on")
    assert set(kwargs) == libbox.CONFIG_KEYWORDS - {"stdio"}
    cfg = libbox.Config(**kwargs)
    cfg.update(stdio=(None, None, None), seccomp="unconfined", cgroup=False)
    cfg.set_seccomp("default").set_seccomp(libbox.SECCOMP_PROFILE, profile)
    cfg.close()


def test_config_from_oci(tmp_path: Path) -> None:
    """An OCI bundle's config.json becomes a config; a bad value's error
    names its JSON path."""
    (tmp_path / "rootfs").mkdir()
    good = {"ociVersion": "1.0.2", "root": {"path": "rootfs"},
            "process": {"args": ["true"], "cwd": "/"},
            "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]}}
    (tmp_path / "config.json").write_text(json.dumps(good))
    libbox.Config.from_oci(tmp_path).set_start_fifo().close()
    bad = dict(good, linux={"namespaces": [{"type": "mount"}],
                            "resources": {"memory": {"limit": "lots"}}})
    (tmp_path / "config.json").write_text(json.dumps(bad))
    with pytest.raises(libbox.InvalidArgument, match=r"linux\.resources\.memory\.limit: not an integer"):
        libbox.Config.from_oci(tmp_path / "config.json")
    (tmp_path / "p.json").write_text(json.dumps({"args": ["echo", "hi"], "env": ["A=1"]}))
    libbox.Config.from_oci_process(tmp_path / "p.json").close()
    with pytest.raises(libbox.NotFound):
        libbox.Config.from_oci(tmp_path / "nonexistent")


def test_parse_size() -> None:
    assert libbox.parse_size("64m") == 64 << 20
    assert libbox.parse_size("1.5g") == 3 << 29
    assert libbox.parse_size("512KB") == 512 << 10
    assert libbox.parse_size(7) == 7
    with pytest.raises(libbox.InvalidArgument):
        libbox.parse_size("-1m")


def test_context_bad_input(tmp_path: Path) -> None:
    ctx = libbox.Context(state_dir=str(tmp_path / "s"), store_dir=str(tmp_path / "t"),
                         cgroup_parent="/libbox-pytest-unused")
    assert ctx.state_dir == str(tmp_path / "s")
    assert ctx.store_dir == str(tmp_path / "t")
    assert ctx.cgroup_parent == "/libbox-pytest-unused"
    with pytest.raises(libbox.InvalidArgument) as info:
        ctx.state_dir = "relative"
    assert info.value.errno == errno.EINVAL and info.value.message
    with pytest.raises(libbox.InvalidArgument):
        ctx.store_dir = ""
    with pytest.raises(libbox.InvalidArgument):
        ctx.cgroup_parent = "/a/../b"
    with pytest.raises(libbox.InvalidArgument):
        libbox.Context(state_dir="relative")
    assert ctx.list() == []          # the state directory does not exist yet
    with pytest.raises(libbox.NotFound):
        ctx.open("nosuchbox")
    with pytest.raises(TypeError):
        ctx.call(libbox.Config(["true"]), hostname="x")  # a Config and keywords
    ctx.close()
    with pytest.raises(libbox.InvalidArgument, match="closed"):
        ctx.list()
    with pytest.raises(libbox.InvalidArgument, match="closed"):
        ctx.open("x")


def test_box_cannot_be_made_directly() -> None:
    with pytest.raises(TypeError):
        libbox.Box()


def test_every_function_is_reachable_from_the_classes() -> None:
    """Each C function is called somewhere in the package's own code, not
    only declared (libbox.lib.<name> reaches them raw too)."""
    src = (Path(libbox.__file__).parent / "__init__.py").read_text()
    unused = [n for n in _ffi.SIGNATURES
              if f'"{n}"' not in src and not re.search(rf"\blib\.{n}\b", src)]
    assert not unused, f"declared but never used by the classes: {unused}"


def test_library_loading() -> None:
    with pytest.raises(ImportError, match="LIBBOX_LIBRARY"):
        _ffi.Library("/nonexistent/libbox.so.1")
    assert os.path.basename(libbox.lib.path).startswith("libbox.so")
    stub = _ffi._Missing("box_future", "/old/libbox.so.1")
    with pytest.raises(libbox.NotSupported, match="box_future"):
        stub(1, 2)
    assert libbox.lib.has("box_create") and not libbox.lib.has("box_nonsense")
