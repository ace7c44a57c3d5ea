# SPDX-License-Identifier: LGPL-2.1-or-later
"""libbox: Linux containers from Python, through libbox.so.1 (ctypes).

A box is a process in its own namespaces, on its own root filesystem, with
Docker's default confinement, made and run by this process (no daemon)::

    import libbox

    ctx = libbox.Context(cgroup_parent="/my-app")
    with libbox.run(["sh", "-c", "echo hello from $(hostname)"], ctx=ctx,
                    rootfs="/srv/rootfs", hostname="demo",
                    stdout=libbox.PIPE, memory="64m") as box:
        out, _ = box.communicate()
        print(box.wait(), out)     # the box is destroyed when the block ends

    code, sig = libbox.call(["true"], ctx=ctx, rootfs="/srv/rootfs")

The library is ``libbox.so.1`` found by the dynamic loader, or the file
named by the environment variable ``LIBBOX_LIBRARY``.  Every failure
raises an :class:`Error` subclass carrying ``errno`` and the library's
``message``.  Every C function is reachable: through the classes below,
and raw (with its ctypes declaration) as ``libbox.lib.<name>``.
"""
from __future__ import annotations

import ctypes
import enum
import errno as _errno
import json
import os
import re
import selectors
import signal as _signal
import threading
import time
import warnings
import weakref
from typing import (IO, Any, Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple,
                    Optional, Sequence, Tuple, Union)

from . import _ffi
from ._errors import (AlreadyDone, Busy, Error, Exists, InvalidArgument, NoDevice,
                      NoSuchProcess, NotADirectory, NotFound, NotSupported, OutOfMemory,
                      PermissionDenied, Timeout, TryAgain, error_class, make_error)
from ._ffi import LIBRARY_ENV, SONAME

__all__ = [
    # functions
    "version", "last_error", "strerror", "status_name", "default_context",
    "create", "run", "call", "run_to_completion", "sandbox",
    # classes
    "Context", "Config", "Box", "ExitStatus", "Completed", "SandboxResult", "Status",
    "Mount",
    # errors
    "Error", "InvalidArgument", "NotFound", "Exists", "PermissionDenied", "NotSupported",
    "NoSuchProcess", "TryAgain", "AlreadyDone", "Busy", "Timeout", "NotADirectory",
    "NoDevice", "OutOfMemory", "error_class",
    # stdio
    "PIPE", "STDOUT", "DEVNULL",
    # the raw library
    "lib", "LIBRARY_ENV", "SONAME",
]

#: The version of this binding.
__version__ = "0.1.0"

#: The loaded library: every C function of libbox.map with its ctypes
#: declaration (``lib.box_version()``...), for what the classes do not do.
lib = _ffi.Library()

# ---------------------------------------------------------------------------
# Constants (the values of include/box.h)
# ---------------------------------------------------------------------------

NS_MOUNT = 0x01
NS_UTS = 0x02
NS_IPC = 0x04
NS_PID = 0x08
NS_NET = 0x10
NS_USER = 0x20
NS_CGROUP = 0x40
NS_TIME = 0x80
#: What a new config starts with, as Docker does: all but user and time.
NS_DEFAULT = NS_MOUNT | NS_UTS | NS_IPC | NS_PID | NS_NET | NS_CGROUP
NS_ALL = 0xFF
_NS_NAMES = {"mount": NS_MOUNT, "mnt": NS_MOUNT, "uts": NS_UTS, "ipc": NS_IPC, "pid": NS_PID,
             "net": NS_NET, "network": NS_NET, "user": NS_USER, "cgroup": NS_CGROUP,
             "time": NS_TIME}

MAP_UID = 0
MAP_GID = 1

NET_NONE = 1
NET_HOST = 2
NET_BRIDGE = 3
PROTO_TCP = 6
PROTO_UDP = 17

SECCOMP_DEFAULT = 0
SECCOMP_UNCONFINED = 1
SECCOMP_PROFILE = 2

CGROUP_AUTO = 0
CGROUP_ON = 1
CGROUP_OFF = 2
# how a box's root is made of its image (box_ctx_set_storage)
STORAGE_AUTO = 0
STORAGE_OVERLAY = 1
STORAGE_VFS = 2

LIMIT_MEMORY = 1
LIMIT_MEMORY_SWAP = 2
LIMIT_MEMORY_RESERVATION = 3
LIMIT_CPU_QUOTA = 4
LIMIT_CPU_PERIOD = 5
LIMIT_CPU_SHARES = 6
LIMIT_CPU_WEIGHT = 7
LIMIT_PIDS = 8
LIMIT_IO_WEIGHT = 9
#: The value of a limit that says "no limit" (where the limit allows it).
UNLIMITED = -1

IO_READ_BPS = 0
IO_WRITE_BPS = 1
IO_READ_IOPS = 2
IO_WRITE_IOPS = 3

STAT_MEMORY_CURRENT = 0
STAT_MEMORY_PEAK = 1
STAT_CPU_USER = 2
STAT_CPU_SYSTEM = 3
STAT_PIDS_CURRENT = 4
STAT_IO_READ_BYTES = 5
STAT_IO_WRITE_BYTES = 6
STAT_MEMORY_LIMIT = 7
STAT_COUNT = 8
#: The keys of :meth:`Box.stats`, by index.
STAT_NAMES = ("memory_current", "memory_peak", "cpu_user_us", "cpu_system_us",
              "pids_current", "io_read_bytes", "io_write_bytes", "memory_limit")

STATUS_CREATED = 1
STATUS_RUNNING = 2
STATUS_PAUSED = 3
STATUS_EXITED = 4
STATUS_UNKNOWN = 5

#: An rlimit value meaning unlimited (``UINT64_MAX``).
RLIM_INFINITY = 2**64 - 1
_U64_MAX = 2**64 - 1

__all__ += [n for n in list(globals()) if re.match(
    r"(NS|MAP|SECCOMP|CGROUP|LIMIT|IO|STAT|STATUS)_[A-Z_]+$", n)]
__all__ += ["UNLIMITED", "RLIM_INFINITY", "CONFIG_KEYWORDS", "parse_size", "__version__"]


class Status(enum.IntEnum):
    """A box's state (``box_status()``)."""
    CREATED = STATUS_CREATED
    RUNNING = STATUS_RUNNING
    PAUSED = STATUS_PAUSED
    EXITED = STATUS_EXITED
    UNKNOWN = STATUS_UNKNOWN

    def __str__(self) -> str:
        return status_name(self)


class _Stdio:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"libbox.{self.name}"


#: stdio: a pipe to this process (``box.stdin``/``stdout``/``stderr``).
PIPE: Any = _Stdio("PIPE")
#: stderr: the same as stdout.
STDOUT: Any = _Stdio("STDOUT")
#: stdio: ``/dev/null`` (also what -1 means).
DEVNULL: Any = _Stdio("DEVNULL")

#: What a stdio argument can be: an fd, an object with fileno(), None
#: (inherited: this process's own 0, 1 or 2), PIPE, DEVNULL or, for
#: stderr, STDOUT.
StdioSpec = Any
PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

# ---------------------------------------------------------------------------
# Errors and small helpers
# ---------------------------------------------------------------------------


def version() -> str:
    """The loaded library's version (``box_version()``), e.g. "0.1.0"."""
    return _dec(lib.box_version())


def last_error() -> str:
    """The message of the last failed libbox call in this thread
    (``box_last_error()``); empty when nothing has failed."""
    return _dec(lib.box_last_error())


def strerror(err: int) -> str:
    """A static description of an errno, negative or positive
    (``box_strerror()``)."""
    return _dec(lib.box_strerror(int(err)))


def status_name(status: int) -> str:
    """"created", "running", "paused", "exited", "unknown" or "invalid"
    (``box_status_name()``)."""
    return _dec(lib.box_status_name(int(status)))


def _dec(s: Optional[bytes]) -> str:
    return "" if s is None else s.decode("utf-8", "surrogateescape")


def _raw(name: str, *args: Any) -> Any:
    """Call the C function name and return what it returns; an argument
    ctypes refuses (a closed object) raises InvalidArgument."""
    try:
        return getattr(lib, name)(*args)
    except ctypes.ArgumentError as e:  # e.g. a closed object ("argument 1: ...")
        raise InvalidArgument(_errno.EINVAL, f"{name}: {e}", name) from None


def _call(name: str, *args: Any) -> int:
    """Call the C function name; a negative result raises the Error of its
    errno with box_last_error(), read at once in this thread."""
    rc = int(_raw(name, *args))
    if rc < 0:
        raise make_error(-rc, _dec(lib.box_last_error()) or None, name)
    return rc


def _take_string(p: Any, function: str) -> str:
    """A string the library returned for the caller (c_void_p), decoded
    and freed with box_string_free()."""
    if not p:
        raise make_error(_errno.EIO, last_error() or None, function)
    try:
        return ctypes.string_at(p).decode("utf-8", "replace")
    finally:
        lib.box_string_free(p)


def _einval(message: str, function: Optional[str] = None) -> InvalidArgument:
    return InvalidArgument(_errno.EINVAL, message, function)


_enc = _ffi.encode
_enc_opt = _ffi.encode_opt

_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(value: Union[int, str]) -> int:
    """A size in bytes: an int, or a string as docker takes them
    ("512k", "64m", "1g", "1.5g"; binary units, an optional trailing "b")."""
    if isinstance(value, bool):
        raise TypeError("libbox: a size must be an int or a string like '64m', not bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*", value.lower())
        if m:
            return int(float(m.group(1)) * _SIZE_UNITS[m.group(2)])
        raise _einval(f"invalid size {value!r}: want a number with an optional unit "
                      "b, k, m, g or t")
    raise TypeError(f"libbox: a size must be an int or a string like '64m', not "
                    f"{type(value).__name__}")


def _fd_of(spec: Any, what: str) -> int:
    """An fd from an int or an object with fileno()."""
    if isinstance(spec, bool):
        raise TypeError(f"libbox: {what} must be an fd, a file, None, PIPE or DEVNULL")
    if isinstance(spec, int):
        return spec
    if hasattr(spec, "fileno"):
        return int(spec.fileno())
    raise TypeError(f"libbox: {what} must be an fd, a file, None, PIPE or DEVNULL, not "
                    f"{type(spec).__name__}")


def _on(flag: Any) -> int:
    return 1 if flag else 0


class ExitStatus(NamedTuple):
    """How a box's command ended: ``exit_code`` (0-255, or -1 when killed)
    and ``signal`` (the killing signal, or 0)."""
    exit_code: int
    signal: int

    @property
    def ok(self) -> bool:
        """Whether the command exited with 0."""
        return self.exit_code == 0 and self.signal == 0

    @property
    def returncode(self) -> int:
        """As subprocess's: the exit code, or minus the killing signal."""
        return -self.signal if self.signal else self.exit_code


class Completed(NamedTuple):
    """The result of :func:`run_to_completion`."""
    exit_code: int
    signal: int
    stdout: Optional[bytes]
    stderr: Optional[bytes]
    oom_killed: bool

    @property
    def ok(self) -> bool:
        """Whether the command exited with 0."""
        return self.exit_code == 0 and self.signal == 0


class Mount(NamedTuple):
    """One mount of a config: ``type`` ("bind", "tmpfs", ...), ``source``,
    ``target`` (inside the box) and ``options`` (a comma list, or None)."""
    type: str
    source: Optional[PathArg]
    target: PathArg
    options: Optional[str] = None


def _options(options: Union[None, str, Iterable[str]], *more: str) -> Optional[str]:
    parts: List[str] = []
    if isinstance(options, str):
        parts += [o for o in options.split(",") if o]
    elif options is not None:
        parts += list(options)
    parts += [m for m in more if m and m not in parts]
    return ",".join(parts) if parts else None


# ---------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------


class Config:
    """What to run and how (``box_config``).

    Every setter of the C API is a method (returning the config, so calls
    chain) and a keyword argument of the constructor and of :meth:`update`
    (None means "leave as it is")::

        cfg = libbox.Config(["sh", "-c", "id"], rootfs="/srv/rootfs",
                            user=(1000, 1000), env={"A": "1"}, memory="64m",
                            cpus=0.5, pids=64, binds=[("/data", "/data", True)])

    Keyword arguments:
        argv: the command (a sequence of str; a str is one word).
        env: a mapping of variables to set (a value None removes one).
        cwd: the working directory in the box.
        user: uid, (uid, gid) or "uid[:gid]" (numeric).
        groups: supplementary group ids.
        hostname: the box's host name.
        namespaces: a mask of NS_* flags, or names ("pid", "net", ...).
        uid_map, gid_map: lines (inside, outside, count) of the id maps.
        id_maps: lines (kind, inside, outside, count), kind MAP_UID/MAP_GID.
        rootfs: the root filesystem, a directory on the host.
        readonly_root: a read-only root.
        mounts: Mount tuples (type, source, target[, options]).
        binds: bind mounts: (source, target[, ro]) tuples, or a mapping
            source -> target.
        tmpfs: tmpfs mounts: targets, or a mapping target -> options.
        rlimits: a mapping resource -> limit, or (soft, hard); None or
            RLIM_INFINITY is unlimited.
        cap_add, cap_drop: capability names ("NET_ADMIN", "ALL"...).
        seccomp: "default", "unconfined", or the path of a JSON profile.
        no_new_privs: bool (on by default).
        stdin, stdout, stderr: an fd, a file, DEVNULL (or -1), PIPE, STDOUT
            (stderr only); None inherits this process's.
        init: the built-in init as pid 1.
        tty: a terminal (:attr:`Box.tty_fd`).
        no_pivot: chroot instead of pivot_root.
        name: the box's name.
        annotations: a mapping key -> value (None removes).
        memory, memory_swap, memory_reservation: bytes or sizes like "64m"
            (UNLIMITED for none).
        cpus: CPUs as a float (quota = cpus * period).
        cpu_quota, cpu_period: microseconds.
        cpu_shares, cpu_weight, pids, io_weight: as the LIMIT_* constants.
        limits: a mapping LIMIT_* -> value.
        cpuset_cpus, cpuset_mems: lists like "0-2,4".
        device_read_bps, device_write_bps, device_read_iops,
        device_write_iops: mappings device -> value.
        io_limits: (device, IO_* kind, value) tuples.
        cgroup: "auto", "on", "off", a bool or a CGROUP_* constant.
    """

    def __init__(self, argv: Union[None, str, Sequence[PathArg]] = None,
                 **kwargs: Any) -> None:
        p = _ffi.config_p()
        _call("box_config_new", ctypes.byref(p))
        self._p: Any = p
        self._lock = threading.RLock()
        # stdio as given (Python objects), applied at each create
        self._stdio: List[Any] = [None, None, None]
        try:
            if argv is not None:
                self.set_argv(argv)
            self.update(**kwargs)
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_oci(cls, path: PathArg) -> "Config":
        """A config from an OCI bundle (its directory or its config.json;
        ``box_config_from_oci()``); errors name the JSON path."""
        return cls._adopt("box_config_from_oci", path)

    @classmethod
    def from_oci_process(cls, path: PathArg) -> "Config":
        """A config for :meth:`Box.exec` from an OCI process JSON file
        (``box_config_from_oci_process()``)."""
        return cls._adopt("box_config_from_oci_process", path)

    @classmethod
    def _adopt(cls, fn: str, path: PathArg) -> "Config":
        p = _ffi.config_p()
        _call(fn, _enc(path, "path"), ctypes.byref(p))
        self = cls.__new__(cls)
        self._p = p
        self._lock = threading.RLock()
        self._stdio = [None, None, None]
        return self

    def set_start_fifo(self, on: bool = True) -> "Config":
        """Wait before the command on a FIFO in the state directory, so that
        :meth:`Box.start` works from any process (``box_config_set_start_fifo()``)."""
        _call("box_config_set_start_fifo", self, _on(on))
        return self

    # -- lifetime --------------------------------------------------------

    @property
    def _as_parameter_(self) -> Any:
        if self._p is None:
            raise ValueError("libbox: the config is closed")
        return self._p

    def close(self) -> None:
        """Free the C config (``box_config_free()``); boxes made from it
        are not affected.  Also done when the object is collected."""
        p, self._p = getattr(self, "_p", None), None
        if p:
            lib.box_config_free(p)

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> "Config":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<libbox.Config{' closed' if self._p is None else ''} at {id(self):#x}>"

    # -- keyword arguments -----------------------------------------------

    def update(self, **kwargs: Any) -> "Config":
        """Apply keyword arguments as the constructor does (see the class
        documentation); None values are skipped."""
        cpus = kwargs.pop("cpus", None)
        for key, value in kwargs.items():
            if value is None:
                continue
            handler = _CONFIG_KWARGS.get(key)
            if handler is None:
                raise TypeError(f"libbox.Config: unknown keyword argument {key!r}")
            handler(self, value)
        if cpus is not None:
            self.set_cpus(cpus, kwargs.get("cpu_period"))
        return self

    # -- the command and its process --------------------------------------

    def set_argv(self, argv: Union[str, Sequence[PathArg]]) -> "Config":
        """The command (``box_config_set_argv()``); argv[0] is looked up in
        the box's PATH when it has no slash.  A str is one word."""
        if isinstance(argv, (str, bytes, os.PathLike)):
            argv = [argv]
        words = [_enc(a, "argv") for a in argv]
        arr = (ctypes.c_char_p * (len(words) + 1))(*words, None)
        _call("box_config_set_argv", self, len(words), arr)
        return self

    def set_env(self, name: str, value: Optional[str]) -> "Config":
        """Set one variable, or remove it (value None)
        (``box_config_set_env()``)."""
        _call("box_config_set_env", self, _enc(name, "env name"), _enc_opt(value, "env value"))
        return self

    def unset_env(self, name: str) -> "Config":
        """Remove one variable."""
        return self.set_env(name, None)

    def set_envs(self, env: Mapping[str, Optional[str]]) -> "Config":
        """Set (or, for None values, remove) every variable of a mapping."""
        for k, v in env.items():
            self.set_env(k, v)
        return self

    def set_cwd(self, path: PathArg) -> "Config":
        """The working directory inside the box (``box_config_set_cwd()``)."""
        _call("box_config_set_cwd", self, _enc(path, "cwd"))
        return self

    def set_user(self, uid: Union[int, str, Tuple[int, int]], gid: Optional[int] = None
                 ) -> "Config":
        """User and group ids inside the box (``box_config_set_user()``):
        set_user(1000, 1000), set_user((1000, 1000)) or set_user("1000:1000");
        gid defaults to 0, as with docker's numeric ``-u``.  A name,
        set_user("nobody") or set_user("nobody:tty"), is looked up in the
        box's own /etc/passwd and /etc/group (``box_config_set_user_name()``)."""
        if isinstance(uid, tuple):
            if gid is not None or len(uid) != 2:
                raise TypeError("libbox: user is uid, (uid, gid) or 'uid[:gid]'")
            uid, gid = uid
        elif isinstance(uid, str):
            m = re.fullmatch(r"(\d+)(?::(\d+))?", uid)
            if not m:
                # names: looked up in the box's own /etc/passwd, /etc/group
                if gid is not None:
                    raise TypeError("libbox: a user name takes its group as 'user:group'")
                _call("box_config_set_user_name", self, _enc(uid, "user"))
                return self
            uid, gid = int(m.group(1)), int(m.group(2) or 0)
        _call("box_config_set_user", self, _u32(uid, "uid"), _u32(gid or 0, "gid"))
        return self

    def set_groups(self, gids: Sequence[int]) -> "Config":
        """Supplementary groups (``box_config_set_groups()``); empty clears."""
        vals = [_u32(g, "group") for g in gids]
        arr = (ctypes.c_uint32 * max(len(vals), 1))(*vals)
        _call("box_config_set_groups", self, len(vals), arr)
        return self

    def set_hostname(self, name: str) -> "Config":
        """The box's host name (``box_config_set_hostname()``)."""
        _call("box_config_set_hostname", self, _enc(name, "hostname"))
        return self

    def set_namespaces(self, flags: Union[int, Iterable[Union[str, int]]]) -> "Config":
        """The namespaces to create (``box_config_set_namespaces()``): a
        mask of NS_* flags, or an iterable of them or of names ("mount",
        "uts", "ipc", "pid", "net", "user", "cgroup", "time")."""
        if not isinstance(flags, int):
            mask = 0
            for f in flags:
                if isinstance(f, str):
                    if f.lower() not in _NS_NAMES:
                        raise _einval(f"unknown namespace {f!r}", "box_config_set_namespaces")
                    mask |= _NS_NAMES[f.lower()]
                else:
                    mask |= int(f)
            flags = mask
        if flags < 0 or flags > 0xFFFFFFFF:
            raise _einval(f"namespaces: invalid mask {flags:#x}", "box_config_set_namespaces")
        _call("box_config_set_namespaces", self, flags)
        return self

    def add_id_map(self, kind: int, inside: int, outside: int, count: int = 1) -> "Config":
        """One line of the uid (MAP_UID) or gid (MAP_GID) map of a user
        namespace (``box_config_add_id_map()``)."""
        _call("box_config_add_id_map", self, int(kind), _u32(inside, "inside id"),
              _u32(outside, "outside id"), _u32(count, "count"))
        return self

    def add_uid_map(self, inside: int, outside: int, count: int = 1) -> "Config":
        """One line of the uid map."""
        return self.add_id_map(MAP_UID, inside, outside, count)

    def add_gid_map(self, inside: int, outside: int, count: int = 1) -> "Config":
        """One line of the gid map."""
        return self.add_id_map(MAP_GID, inside, outside, count)

    # -- the root and mounts ----------------------------------------------

    def set_rootfs(self, path: PathArg) -> "Config":
        """The root filesystem, a directory on the host
        (``box_config_set_rootfs()``)."""
        _call("box_config_set_rootfs", self, _enc(path, "rootfs"))
        return self

    def set_id(self, id: Optional[str]) -> "Config":
        """The box's id instead of a random one (``box_config_set_id()``);
        None: a random one again."""
        _call("box_config_set_id", self, _enc_opt(id, "id"))
        return self

    def set_image(self, ref: str) -> "Config":
        """Run on an image of the context's store (``box_config_set_image()``)."""
        _call("box_config_set_image", self, _enc(ref, "image"))
        return self

    def set_upper(self, path: Optional[PathArg]) -> "Config":
        """An earlier box's writable layer for a box made from an image
        (``box_config_set_upper()``); None: a new, empty one."""
        _call("box_config_set_upper", self, _enc_opt(path, "upper"))
        return self

    def set_readonly_root(self, on: bool = True) -> "Config":
        """A read-only root (``box_config_set_readonly_root()``)."""
        _call("box_config_set_readonly_root", self, _on(on))
        return self

    def add_mount(self, type: str, source: Optional[PathArg], target: PathArg,
                  options: Union[None, str, Iterable[str]] = None) -> "Config":
        """Add a mount (``box_config_add_mount()``): type "bind" (source a
        host path) or a file system type; target inside the box; options a
        comma list or a list of words ("ro", "nosuid", "size=64m"...)."""
        _call("box_config_add_mount", self, _enc(type, "mount type"),
              _enc_opt(source, "mount source"), _enc(target, "mount target"),
              _enc_opt(_options(options), "mount options"))
        return self

    def bind(self, source: PathArg, target: PathArg, ro: bool = False,
             options: Union[None, str, Iterable[str]] = None) -> "Config":
        """Bind the host path source at target in the box (read-only with
        ro)."""
        return self.add_mount("bind", source, target, _options(options, "ro" if ro else ""))

    def tmpfs(self, target: PathArg, options: Union[None, str, Iterable[str]] = None
              ) -> "Config":
        """A tmpfs at target in the box (options e.g. "size=64m,mode=1777")."""
        return self.add_mount("tmpfs", "tmpfs", target, options)

    # -- security ----------------------------------------------------------

    def set_rlimit(self, resource: str, soft: Optional[int], hard: Any = ...) -> "Config":
        """A resource limit (``box_config_set_rlimit()``): resource "nofile",
        "RLIMIT_NOFILE", "nproc"...; None or RLIM_INFINITY is unlimited;
        hard defaults to soft."""
        if hard is ...:
            hard = soft
        _call("box_config_set_rlimit", self, _enc(resource, "rlimit"), _rlim(soft),
              _rlim(hard))
        return self

    def add_cap(self, name: str) -> "Config":
        """Add a capability by name ("NET_ADMIN", "CAP_SYS_TIME", "ALL")
        (``box_config_add_cap()``)."""
        _call("box_config_add_cap", self, _enc(name, "capability"))
        return self

    def drop_cap(self, name: str) -> "Config":
        """Drop a capability by name, or "ALL" (``box_config_drop_cap()``)."""
        _call("box_config_drop_cap", self, _enc(name, "capability"))
        return self

    def set_seccomp(self, mode: Union[int, str, "os.PathLike[str]"],
                    profile: Optional[PathArg] = None) -> "Config":
        """The seccomp filter (``box_config_set_seccomp()``): "default"
        (Docker's), "unconfined" (none), or the path of a Docker/OCI JSON
        profile; or a SECCOMP_* constant with, for SECCOMP_PROFILE, the
        path."""
        if isinstance(mode, str) and mode.lower() in ("default", "unconfined"):
            num = SECCOMP_DEFAULT if mode.lower() == "default" else SECCOMP_UNCONFINED
        elif isinstance(mode, int):
            num = mode
        else:
            num, profile = SECCOMP_PROFILE, mode
        _call("box_config_set_seccomp", self, num, _enc_opt(profile, "seccomp profile"))
        return self

    def set_no_new_privs(self, on: bool = True) -> "Config":
        """no_new_privs for the command (``box_config_set_no_new_privs()``)."""
        _call("box_config_set_no_new_privs", self, _on(on))
        return self

    # -- stdio, terminal, init ---------------------------------------------

    def set_stdio(self, stdin: StdioSpec = None, stdout: StdioSpec = None,
                  stderr: StdioSpec = None) -> "Config":
        """The command's stdin, stdout and stderr
        (``box_config_set_stdio()``): each an fd, a file object, DEVNULL or
        -1 (/dev/null), PIPE (a pipe to this process: :attr:`Box.stdin`...,
        made at each create), STDOUT (stderr only: where stdout goes), or
        None (this process's own 0, 1 or 2)."""
        self._stdio = [stdin, stdout, stderr]
        if not any(s is PIPE for s in self._stdio):
            fds, _ = _resolve_stdio(self._stdio, [None, None, None])
            _call("box_config_set_stdio", self, *fds)
        return self

    def set_init(self, on: bool = True) -> "Config":
        """The built-in init as pid 1 (``box_config_set_init()``)."""
        _call("box_config_set_init", self, _on(on))
        return self

    def set_tty(self, on: bool = True) -> "Config":
        """A terminal for the command (``box_config_set_tty()``); its master
        is :attr:`Box.tty_fd`."""
        _call("box_config_set_tty", self, _on(on))
        return self

    def set_id(self, box_id: Optional[str]) -> "Config":
        """Make the box under this id, 64 hex digits (``box_config_set_id()``;
        None: a new one)."""
        _call("box_config_set_id", self, _enc_opt(box_id, "id"))
        return self

    def set_network(self, mode: int) -> "Config":
        """NET_NONE, NET_HOST or NET_BRIDGE (``box_config_set_network()``)."""
        _call("box_config_set_network", self, int(mode))
        return self

    def add_port(self, host_port: int, box_port: int, proto: str = "tcp",
                 host_ip: Optional[str] = None, count: int = 1) -> "Config":
        """Publish count host ports from host_port to the box's from box_port
        (``box_config_add_port()``; proto "tcp" or "udp"; bridge networking)."""
        num = {"tcp": PROTO_TCP, "udp": PROTO_UDP}.get(proto)
        if num is None:
            raise _einval(f"add_port: protocol {proto!r} is not tcp or udp", "box_config_add_port")
        _call("box_config_add_port", self, num, _enc_opt(host_ip, "host_ip"), int(host_port),
              int(box_port), int(count))
        return self

    def set_ip(self, ip: Optional[str]) -> "Config":
        """A static address on the bridge (``box_config_set_ip()``)."""
        _call("box_config_set_ip", self, _enc_opt(ip, "ip"))
        return self

    def add_dns(self, server: str) -> "Config":
        """A nameserver for the box's resolv.conf (``box_config_add_dns()``)."""
        _call("box_config_add_dns", self, _enc(server, "server"))
        return self

    def set_no_pivot(self, on: bool = True) -> "Config":
        """chroot instead of pivot_root (``box_config_set_no_pivot()``)."""
        _call("box_config_set_no_pivot", self, _on(on))
        return self

    def set_name(self, name: str) -> "Config":
        """The box's name (``box_config_set_name()``)."""
        _call("box_config_set_name", self, _enc(name, "name"))
        return self

    def set_annotation(self, key: str, value: Optional[str]) -> "Config":
        """Set, or remove (None), an annotation
        (``box_config_set_annotation()``)."""
        _call("box_config_set_annotation", self, _enc(key, "annotation key"),
              _enc_opt(value, "annotation value"))
        return self

    # -- resource limits -----------------------------------------------------

    def set_limit(self, limit: int, value: Union[int, str]) -> "Config":
        """One LIMIT_* limit (``box_config_set_limit()``); UNLIMITED (-1)
        means none where the limit allows it; memory limits also take sizes
        like "64m"."""
        if isinstance(value, str):
            value = parse_size(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"libbox: a limit must be an int, not {type(value).__name__}")
        if not -2**63 <= value < 2**63:
            raise _einval(f"limit {limit}: value {value} out of range", "box_config_set_limit")
        _call("box_config_set_limit", self, int(limit), value)
        return self

    def set_memory(self, value: Union[int, str]) -> "Config":
        """The memory limit in bytes (or "64m"); UNLIMITED for none."""
        return self.set_limit(LIMIT_MEMORY, value)

    def set_memory_swap(self, value: Union[int, str]) -> "Config":
        """Memory plus swap, as docker's --memory-swap; UNLIMITED for none."""
        return self.set_limit(LIMIT_MEMORY_SWAP, value)

    def set_memory_reservation(self, value: Union[int, str]) -> "Config":
        """The memory reservation (soft limit)."""
        return self.set_limit(LIMIT_MEMORY_RESERVATION, value)

    def set_cpus(self, cpus: float, period: Optional[int] = None) -> "Config":
        """CPUs as docker's --cpus: a quota of cpus * period microseconds
        per period (default 100000)."""
        period = 100000 if period is None else int(period)
        if cpus <= 0:
            raise _einval(f"cpus: {cpus} is not positive", "box_config_set_limit")
        self.set_limit(LIMIT_CPU_PERIOD, period)
        return self.set_limit(LIMIT_CPU_QUOTA, max(1000, round(cpus * period)))

    def set_cpu_quota(self, us: int) -> "Config":
        """CPU quota, microseconds per period; UNLIMITED for none."""
        return self.set_limit(LIMIT_CPU_QUOTA, us)

    def set_cpu_period(self, us: int) -> "Config":
        """CPU period, microseconds (1000..1000000)."""
        return self.set_limit(LIMIT_CPU_PERIOD, us)

    def set_cpu_shares(self, shares: int) -> "Config":
        """CPU shares (2..262144; a weight on cgroup v2)."""
        return self.set_limit(LIMIT_CPU_SHARES, shares)

    def set_cpu_weight(self, weight: int) -> "Config":
        """CPU weight (1..10000; shares on cgroup v1)."""
        return self.set_limit(LIMIT_CPU_WEIGHT, weight)

    def set_pids(self, n: int) -> "Config":
        """The most tasks; UNLIMITED for none."""
        return self.set_limit(LIMIT_PIDS, n)

    def set_io_weight(self, weight: int) -> "Config":
        """The io weight (1..10000)."""
        return self.set_limit(LIMIT_IO_WEIGHT, weight)

    def set_cpuset(self, cpus: Optional[str] = None, mems: Optional[str] = None) -> "Config":
        """The CPUs and memory nodes the box may use ("0-2,4"); None leaves
        one as it is (``box_config_set_cpuset()``)."""
        _call("box_config_set_cpuset", self, _enc_opt(cpus, "cpuset cpus"),
              _enc_opt(mems, "cpuset mems"))
        return self

    def add_io_limit(self, device: PathArg, kind: int, value: Union[int, str]) -> "Config":
        """Limit io on a block device ("/dev/vda" or "MAJOR:MINOR") of kind
        IO_READ_BPS, IO_WRITE_BPS, IO_READ_IOPS or IO_WRITE_IOPS
        (``box_config_add_io_limit()``)."""
        v = parse_size(value) if isinstance(value, str) else value
        if not 0 <= v <= _U64_MAX:
            raise _einval(f"io limit: value {v} out of range", "box_config_add_io_limit")
        _call("box_config_add_io_limit", self, _enc(device, "device"), int(kind), v)
        return self

    def set_cgroup(self, mode: Union[int, bool, str]) -> "Config":
        """The cgroup mode (``box_config_set_cgroup()``): "auto", "on" (or
        True), "off" (or False), or a CGROUP_* constant."""
        if isinstance(mode, bool):
            mode = CGROUP_ON if mode else CGROUP_OFF
        elif isinstance(mode, str):
            modes = {"auto": CGROUP_AUTO, "on": CGROUP_ON, "off": CGROUP_OFF}
            if mode.lower() not in modes:
                raise _einval(f"unknown cgroup mode {mode!r}: want auto, on or off",
                              "box_config_set_cgroup")
            mode = modes[mode.lower()]
        _call("box_config_set_cgroup", self, int(mode))
        return self


def _u32(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"libbox: {what} must be an int, not {type(v).__name__}")
    if not 0 <= v <= 0xFFFFFFFF:
        raise _einval(f"{what} {v} is out of range (0..4294967295)")
    return v


def _rlim(v: Optional[int]) -> int:
    if v is None:
        return RLIM_INFINITY
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"libbox: an rlimit must be an int or None, not {type(v).__name__}")
    if v == -1:
        return RLIM_INFINITY
    if not 0 <= v <= _U64_MAX:
        raise _einval(f"rlimit value {v} out of range", "box_config_set_rlimit")
    return v


def _each(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        return list(value.items())
    return list(value)


def _kw_binds(cfg: Config, binds: Any) -> None:
    if isinstance(binds, Mapping):
        for src, dst in binds.items():
            cfg.bind(src, dst)
        return
    for b in binds:
        cfg.bind(*b)


def _kw_tmpfs(cfg: Config, tmpfs: Any) -> None:
    if isinstance(tmpfs, (str, bytes, os.PathLike)):
        tmpfs = [tmpfs]
    if isinstance(tmpfs, Mapping):
        for dst, opts in tmpfs.items():
            cfg.tmpfs(dst, opts)
    else:
        for dst in tmpfs:
            cfg.tmpfs(dst)


def _kw_rlimits(cfg: Config, rlimits: Mapping[str, Any]) -> None:
    for name, v in rlimits.items():
        if isinstance(v, (tuple, list)):
            cfg.set_rlimit(name, *v)
        else:
            cfg.set_rlimit(name, v)


def _kw_names(method: Callable[[Config, str], Config]) -> Callable[[Config, Any], None]:
    def apply(cfg: Config, names: Any) -> None:
        for n in ([names] if isinstance(names, str) else names):
            method(cfg, n)
    return apply


def _kw_io(kind: int) -> Callable[[Config, Any], None]:
    def apply(cfg: Config, limits: Any) -> None:
        for dev, v in _each(limits):
            cfg.add_io_limit(dev, kind, v)
    return apply


def _kw_stdio(index: int) -> Callable[[Config, Any], None]:
    def apply(cfg: Config, spec: Any) -> None:
        s = list(cfg._stdio)
        s[index] = spec
        cfg.set_stdio(*s)
    return apply


_CONFIG_KWARGS: Dict[str, Callable[[Config, Any], Any]] = {
    "argv": Config.set_argv,
    "env": Config.set_envs,
    "cwd": Config.set_cwd,
    "user": Config.set_user,
    "groups": Config.set_groups,
    "hostname": Config.set_hostname,
    "namespaces": Config.set_namespaces,
    "uid_map": lambda c, v: [c.add_uid_map(*line) for line in v],
    "gid_map": lambda c, v: [c.add_gid_map(*line) for line in v],
    "id_maps": lambda c, v: [c.add_id_map(*line) for line in v],
    "rootfs": Config.set_rootfs,
    "image": Config.set_image,
    "readonly_root": Config.set_readonly_root,
    "mounts": lambda c, v: [c.add_mount(*m) for m in v],
    "binds": _kw_binds,
    "tmpfs": _kw_tmpfs,
    "rlimits": _kw_rlimits,
    "cap_add": _kw_names(Config.add_cap),
    "cap_drop": _kw_names(Config.drop_cap),
    "seccomp": Config.set_seccomp,
    "no_new_privs": Config.set_no_new_privs,
    "stdio": lambda c, v: c.set_stdio(*v),
    "stdin": _kw_stdio(0),
    "stdout": _kw_stdio(1),
    "stderr": _kw_stdio(2),
    "init": Config.set_init,
    "tty": Config.set_tty,
    "no_pivot": Config.set_no_pivot,
    "start_fifo": Config.set_start_fifo,
    "name": Config.set_name,
    "annotations": lambda c, v: [c.set_annotation(k, x) for k, x in v.items()],
    "memory": Config.set_memory,
    "memory_swap": Config.set_memory_swap,
    "memory_reservation": Config.set_memory_reservation,
    "cpu_quota": Config.set_cpu_quota,
    "cpu_period": Config.set_cpu_period,
    "cpu_shares": Config.set_cpu_shares,
    "cpu_weight": Config.set_cpu_weight,
    "pids": Config.set_pids,
    "io_weight": Config.set_io_weight,
    "limits": lambda c, v: [c.set_limit(k, x) for k, x in v.items()],
    "cpuset_cpus": lambda c, v: c.set_cpuset(cpus=v),
    "cpuset_mems": lambda c, v: c.set_cpuset(mems=v),
    "device_read_bps": _kw_io(IO_READ_BPS),
    "device_write_bps": _kw_io(IO_WRITE_BPS),
    "device_read_iops": _kw_io(IO_READ_IOPS),
    "device_write_iops": _kw_io(IO_WRITE_IOPS),
    "io_limits": lambda c, v: [c.add_io_limit(*line) for line in v],
    "cgroup": Config.set_cgroup,
}
#: Every keyword argument :class:`Config` takes.
CONFIG_KEYWORDS = frozenset(_CONFIG_KWARGS) | {"cpus"}

# ---------------------------------------------------------------------------
# stdio plumbing
# ---------------------------------------------------------------------------


def _resolve_stdio(specs: Sequence[Any], overrides: Sequence[Any]
                   ) -> Tuple[List[int], List[Tuple[int, int, int]]]:
    """The three fds for box_config_set_stdio(), and the pipes made for
    PIPE: (index, child end, our end)."""
    fds: List[int] = []
    pipes: List[Tuple[int, int, int]] = []
    eff = [o if o is not None else s for s, o in zip(specs, overrides)]
    try:
        for i, spec in enumerate(eff):
            what = ("stdin", "stdout", "stderr")[i]
            if spec is None:
                fds.append(i)
            elif spec is DEVNULL:
                fds.append(-1)
            elif spec is PIPE:
                r, w = os.pipe()
                child, ours = (r, w) if i == 0 else (w, r)
                pipes.append((i, child, ours))
                fds.append(child)
            elif spec is STDOUT:
                if i != 2:
                    raise _einval(f"{what}: STDOUT is for stderr only", "box_config_set_stdio")
                fds.append(fds[1])
            else:
                fds.append(_fd_of(spec, what))
    except BaseException:
        for _, child, ours in pipes:
            os.close(child)
            os.close(ours)
        raise
    return fds, pipes


class _StdioPipes:
    """Within the block, the C config's stdio is what specs and overrides
    say (pipes made for PIPE); afterwards the children's ends are closed
    and the config's own stdio is back."""

    def __init__(self, cfg: Config, overrides: Sequence[Any]) -> None:
        self.cfg = cfg
        self.overrides = overrides
        self.active = any(s is PIPE for s in cfg._stdio) or any(
            o is not None for o in overrides)
        self.pipes: List[Tuple[int, int, int]] = []
        self.files: List[Optional[IO[bytes]]] = [None, None, None]

    def __enter__(self) -> "_StdioPipes":
        if not self.active:
            return self
        self.cfg._lock.acquire()
        try:
            fds, self.pipes = _resolve_stdio(self.cfg._stdio, self.overrides)
            _call("box_config_set_stdio", self.cfg, *fds)
        except BaseException:
            for _, child, ours in self.pipes:
                os.close(child)
                os.close(ours)
            self.cfg._lock.release()
            raise
        return self

    def _close_children(self) -> None:
        for _, child, _ours in self.pipes:
            os.close(child)

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if not self.active:
            return
        try:
            self._close_children()
            if exc_type is None:
                for i, _, ours in self.pipes:
                    self.files[i] = os.fdopen(ours, "wb" if i == 0 else "rb", buffering=0)
            else:
                for _, _, ours in self.pipes:
                    os.close(ours)
            # the config's own stdio again (no pipes: those fds are gone)
            try:
                own, _ = _resolve_stdio([None if s is PIPE else s for s in self.cfg._stdio],
                                        [None, None, None])
            except (ValueError, TypeError, OSError):
                own = [0, 1, 2]  # a file of the config's was closed meanwhile
            lib.box_config_set_stdio(self.cfg._p, *own)
        finally:
            self.cfg._lock.release()


# ---------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------


class Context:
    """Where running state and images live, and the cgroup under which
    boxes get theirs (``box_ctx``).

    Args:
        state_dir: the state directory (default /run/libbox, for others than
            root $XDG_RUNTIME_DIR/libbox).
        store_dir: the image store (not used yet by the library).
        cgroup_parent: the cgroup under which each box gets its own
            (default "/libbox").

    Boxes keep their context alive; :meth:`close` frees it once the last of
    them is released.
    """

    def __init__(self, state_dir: Optional[PathArg] = None,
                 store_dir: Optional[PathArg] = None,
                 cgroup_parent: Optional[str] = None) -> None:
        p = _ffi.ctx_p()
        _call("box_ctx_new", ctypes.byref(p))
        self._p: Any = p
        self._closing = False
        self._boxes: "weakref.WeakSet[Box]" = weakref.WeakSet()
        try:
            if state_dir is not None:
                self.state_dir = state_dir  # type: ignore[assignment]
            if store_dir is not None:
                self.store_dir = store_dir  # type: ignore[assignment]
            if cgroup_parent is not None:
                self.cgroup_parent = cgroup_parent
        except BaseException:
            self._free()
            raise

    @property
    def _as_parameter_(self) -> Any:
        if self._p is None or self._closing:
            raise ValueError("libbox: the context is closed")
        return self._p

    # -- properties ----------------------------------------------------------

    @property
    def state_dir(self) -> str:
        """The state directory (``box_ctx_state_dir()``; settable)."""
        return _dec(_raw("box_ctx_state_dir", self))

    @state_dir.setter
    def state_dir(self, path: PathArg) -> None:
        _call("box_ctx_set_state_dir", self, _enc(path, "state_dir"))

    @property
    def store_dir(self) -> str:
        """The store directory (``box_ctx_store_dir()``; settable)."""
        return _dec(_raw("box_ctx_store_dir", self))

    @store_dir.setter
    def store_dir(self, path: PathArg) -> None:
        _call("box_ctx_set_store_dir", self, _enc(path, "store_dir"))

    @property
    def cgroup_parent(self) -> str:
        """The cgroup parent of the boxes (``box_ctx_cgroup_parent()``;
        settable)."""
        return _dec(_raw("box_ctx_cgroup_parent", self))

    @cgroup_parent.setter
    def cgroup_parent(self, path: str) -> None:
        _call("box_ctx_set_cgroup_parent", self, _enc(path, "cgroup_parent"))

    # -- images --------------------------------------------------------------

    def set_progress(self, fn: Optional[Callable[[int, int, int, int], None]]) -> None:
        """Call fn(layer, layers, done, total) while layers unpack
        (``box_ctx_set_progress()``); None: no reports."""
        cb = _ffi.PROGRESS_FN(lambda l, n, d, t, _u: fn(l, n, d, t)) if fn else _ffi.PROGRESS_FN()
        self._progress = cb  # kept alive as long as the context uses it
        _call("box_ctx_set_progress", self, cb, None)

    def set_storage(self, storage: Union[int, str]) -> None:
        """How a box's root is made of its image (``box_ctx_set_storage()``):
        "auto", "overlay" or "vfs" (or BOX_STORAGE_*)."""
        modes = {"auto": 0, "overlay": 1, "vfs": 2}
        if isinstance(storage, str) and storage not in modes:
            raise _einval(f"storage {storage!r}: auto, overlay or vfs", "box_ctx_set_storage")
        _call("box_ctx_set_storage", self, modes[storage] if isinstance(storage, str) else storage)

    def load_image(self, path: PathArg, name: Optional[str] = None) -> List[str]:
        """Load an OCI layout or docker save archive (``box_image_load()``);
        the loaded images' names (or ids)."""
        out = ctypes.c_void_p()
        _call("box_image_load", self, _enc(path, "path"), _enc_opt(name, "name"), ctypes.byref(out))
        return [l for l in _take_string(out.value, "box_image_load").splitlines() if l]

    def import_image(self, path: PathArg, name: str) -> str:
        """A one-layer image of a rootfs tarball (``box_image_import()``);
        its id."""
        out = ctypes.c_void_p()
        _call("box_image_import", self, _enc(path, "path"), _enc(name, "name"), ctypes.byref(out))
        return _take_string(out.value, "box_image_import")

    def images(self) -> List[Dict[str, Any]]:
        """The images of the store (``box_image_list()``)."""
        result: List[Dict[str, Any]] = json.loads(
            _take_string(_raw("box_image_list", self), "box_image_list"))
        return result

    def inspect_image(self, ref: str) -> Dict[str, Any]:
        """One image as a dict (``box_image_inspect()``)."""
        p = _raw("box_image_inspect", self, _enc(ref, "ref"))
        if not p:
            err = last_error()
            raise make_error(_errno.ENOENT if "no such image" in err else _errno.EIO,
                             err or None, "box_image_inspect")
        info: Dict[str, Any] = json.loads(_take_string(p, "box_image_inspect"))
        return info

    def remove_image(self, ref: str, force: bool = False) -> None:
        """Remove an image (``box_image_remove()``)."""
        _call("box_image_remove", self, _enc(ref, "ref"), int(force))

    def tag_image(self, ref: str, name: str) -> None:
        """Give an image another name (``box_image_tag()``)."""
        _call("box_image_tag", self, _enc(ref, "ref"), _enc(name, "name"))

    def save_image(self, ref: str, path: PathArg) -> None:
        """Write an image as an OCI layout archive (``box_image_save()``)."""
        _call("box_image_save", self, _enc(ref, "ref"), _enc(path, "path"))

    def default_image(self) -> str:
        """Build busybox:latest from the host's busybox
        (``box_image_default()``); its id."""
        out = ctypes.c_void_p()
        _call("box_image_default", self, ctypes.byref(out))
        return _take_string(out.value, "box_image_default")
    @property
    def bridge(self) -> str:
        """The bridge of bridge boxes (``box_ctx_bridge()``; settable)."""
        return _dec(_raw("box_ctx_bridge", self))

    @bridge.setter
    def bridge(self, name: str) -> None:
        _call("box_ctx_set_bridge", self, _enc(name, "bridge"))

    @property
    def subnet(self) -> str:
        """The bridge's IPv4 subnet (``box_ctx_subnet()``; settable)."""
        return _dec(_raw("box_ctx_subnet", self))

    @subnet.setter
    def subnet(self, cidr: str) -> None:
        _call("box_ctx_set_subnet", self, _enc(cidr, "subnet"))

    def network_inspect(self, bridge: Optional[str] = None) -> Any:
        """The networks as parsed JSON (``box_network_inspect()``): a list,
        or the one bridge's dict."""
        s = _raw("box_network_inspect", self, _enc_opt(bridge, "bridge"))
        if not s:
            raise make_error(_errno.ENOENT, last_error() or None, "box_network_inspect")
        try:
            text = ctypes.string_at(s)
        finally:
            lib.box_string_free(s)
        return json.loads(text)

    # -- boxes ---------------------------------------------------------------

    def create(self, argv: Union[None, str, Sequence[PathArg], Config] = None, *,
               stdin: StdioSpec = None, stdout: StdioSpec = None, stderr: StdioSpec = None,
               **kwargs: Any) -> "Box":
        """Create a box (``box_create()``), stopped just before its command
        runs: :meth:`Box.start` runs it.

        argv is the command, with the :class:`Config` keyword arguments, or
        a whole Config (then only stdin/stdout/stderr may be added; they
        replace the config's for this box).  With PIPE, the box's
        :attr:`Box.stdin`, :attr:`Box.stdout` or :attr:`Box.stderr` is this
        process's end of the pipe."""
        with _config_of(argv, kwargs) as cfg:
            out = _ffi.box_p()
            with _StdioPipes(cfg, [stdin, stdout, stderr]) as pipes:
                _call("box_create", self, cfg, ctypes.byref(out))
            return Box._wrap(self, out, "creator", pipes.files)

    def run(self, argv: Union[None, str, Sequence[PathArg], Config] = None, **kwargs: Any
            ) -> "Box":
        """Create and start a box; use it as a context manager, which
        destroys the box at the end of the block (also on an exception)::

            with ctx.run(["sleep", "10"], rootfs=r) as box:
                box.pause()
        """
        b = self.create(argv, **kwargs)
        try:
            b.start()
        except BaseException:
            b._destroy_quietly()
            raise
        return b

    def call(self, argv: Union[None, str, Sequence[PathArg], Config] = None, **kwargs: Any
             ) -> ExitStatus:
        """Create, start, wait for and destroy a box in one call
        (``box_run()``); returns its (exit_code, signal).  stdio may be
        fds, files or DEVNULL, not PIPE (see :meth:`run_to_completion`)."""
        with _config_of(argv, kwargs) as cfg:
            if any(s is PIPE for s in cfg._stdio):
                raise _einval("call: PIPE needs run_to_completion()", "box_run")
            code, sig = ctypes.c_int(-1), ctypes.c_int(0)
            _call("box_run", self, cfg, ctypes.byref(code), ctypes.byref(sig))
            return ExitStatus(code.value, sig.value)

    def run_to_completion(self, argv: Union[None, str, Sequence[PathArg], Config] = None, *,
                          input: Optional[bytes] = None, capture_output: bool = False,
                          timeout: Optional[float] = None, **kwargs: Any) -> Completed:
        """Run a box to its end, as subprocess.run() does: input is written
        to its stdin, its output kept with capture_output (or stdout=PIPE /
        stderr=PIPE); after timeout seconds, the box is killed and
        :class:`Timeout` raised.  The box is destroyed in any case."""
        if input is not None:
            kwargs.setdefault("stdin", PIPE)
        if capture_output:
            kwargs.setdefault("stdout", PIPE)
            kwargs.setdefault("stderr", PIPE)
        with self.run(argv, **kwargs) as b:
            out, err = b.communicate(input, timeout)
            st = b.wait()
            return Completed(st.exit_code, st.signal, out, err, b.oom_killed)

    def sandbox(self, argv: Union[None, str, Sequence[PathArg], Config] = None, *,
                timeout: Optional[float] = None, output_cap: int = 1 << 20,
                **kwargs: Any) -> "SandboxResult":
        """Run a command as a CI step (``box_sandbox_run()``): on top of the
        config, a read-only root, a tmpfs /tmp, loopback-only network, a
        required cgroup and /dev/null as stdin; stdout and stderr kept up to
        output_cap bytes each; every process killed after timeout seconds
        (None: no limit).  Returns a :class:`SandboxResult`."""
        if timeout is not None and timeout <= 0:
            raise _einval(f"sandbox: timeout {timeout} is not positive", "box_sandbox_run")
        ms = 0 if timeout is None else max(1, int(round(timeout * 1000)))
        with _config_of(argv, kwargs) as cfg:
            out = _ffi.sandbox_p()
            _call("box_sandbox_run", self, cfg, ms, int(output_cap), ctypes.byref(out))
        try:
            return SandboxResult._from(out)
        finally:
            lib.box_sandbox_result_free(out)

    def open(self, name_or_id: str) -> "Box":
        """A handle on an existing box, made by this or another process,
        from its name, id or a unique id prefix (``box_open()``).  Used as
        a context manager, the handle is closed (the box goes on)."""
        out = _ffi.box_p()
        _call("box_open", self, _enc(name_or_id, "name_or_id"), ctypes.byref(out))
        return Box._wrap(self, out, "opened", [None, None, None])

    def list(self) -> List[str]:
        """The ids of every box of the state directory, in any state
        (``box_list()``)."""
        ids: List[str] = []
        failure: List[BaseException] = []

        def each(id_: Optional[bytes], _user: Any) -> int:
            try:
                ids.append(_dec(id_))
                return 0
            except BaseException as e:  # never let an exception cross C
                failure.append(e)
                return 1

        cb = _ffi.LIST_FN(each)
        rc = _raw("box_list", self, cb, None)
        if failure:
            raise failure[0]
        if rc < 0:
            raise make_error(-rc, last_error() or None, "box_list")
        return ids

    def boxes(self) -> Iterator["Box"]:
        """Open every box of the state directory in turn (boxes that go
        meanwhile are skipped); close the handles when done."""
        for id_ in self.list():
            try:
                yield self.open(id_)
            except NotFound:
                continue

    def gc(self) -> int:
        """Clean up after boxes whose creator died (``box_gc()``); returns
        how many were cleaned up."""
        return _call("box_gc", self)

    # -- lifetime --------------------------------------------------------------

    def close(self) -> None:
        """Free the context (``box_ctx_free()``), once every box made or
        opened with it is released; no new box can be made with it."""
        self._closing = True
        if not any(not b._released for b in list(self._boxes)):
            self._free()

    def _box_released(self) -> None:
        if self._closing and not any(not b._released for b in list(self._boxes)):
            self._free()

    def _free(self) -> None:
        p, self._p = getattr(self, "_p", None), None
        if p:
            lib.box_ctx_free(p)

    def __del__(self) -> None:
        self._free()

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._p is None:
            return "<libbox.Context closed>"
        return f"<libbox.Context state_dir={self.state_dir!r} cgroup_parent={self.cgroup_parent!r}>"


class _config_of:
    """The config for argv+kwargs (made, then freed) or a given Config."""

    def __init__(self, argv: Any, kwargs: Dict[str, Any]) -> None:
        self.made = not isinstance(argv, Config)
        if self.made:
            self.cfg = Config(argv, **kwargs)
        else:
            if kwargs:
                raise TypeError("libbox: give a Config or keyword arguments, not both "
                                f"(got {', '.join(sorted(kwargs))})")
            self.cfg = argv

    def __enter__(self) -> Config:
        return self.cfg

    def __exit__(self, *exc: Any) -> None:
        if self.made:
            self.cfg.close()


# ---------------------------------------------------------------------------
# Box
# ---------------------------------------------------------------------------


class Box:
    """A handle on a box (``box``): from :meth:`Context.create` (the
    creator's), :meth:`Context.open`, or :meth:`Box.exec` (a process run
    in a box).

    As a context manager, a creator's or exec handle is destroyed at the
    end of the block (the box, or the exec'd process, is killed and
    removed), an opened one closed (the box goes on).

    Attributes:
        ctx: the :class:`Context`.
        kind: "creator", "opened" or "exec".
        stdin, stdout, stderr: this process's ends of PIPE stdio (binary,
            unbuffered files), else None.
    """

    _p: Any
    _released: bool
    _exit: Optional[ExitStatus]
    ctx: Context
    kind: str
    stdin: Optional[IO[bytes]]
    stdout: Optional[IO[bytes]]
    stderr: Optional[IO[bytes]]

    def __init__(self) -> None:
        raise TypeError("libbox.Box: made by Context.create(), Context.open() or Box.exec()")

    @classmethod
    def _wrap(cls, ctx: Context, p: Any, kind: str, files: Sequence[Optional[IO[bytes]]]
              ) -> "Box":
        b = cls.__new__(cls)
        b._p = p
        b._released = False
        b.ctx = ctx
        b.kind = kind
        b.stdin, b.stdout, b.stderr = files
        b._exit = None
        ctx._boxes.add(b)
        return b

    @property
    def _as_parameter_(self) -> Any:
        if self._released:
            raise ValueError("libbox: the box handle is released (destroyed or closed)")
        return self._p

    # -- facts -----------------------------------------------------------------

    @property
    def id(self) -> str:
        """The box's id, 64 hexadecimal characters (``box_id()``)."""
        return _dec(_raw("box_id", self))

    @property
    def short_id(self) -> str:
        """The first 12 characters of the id, as messages name the box."""
        return self.id[:12]

    @property
    def name(self) -> str:
        """The box's name (``box_name()``); see :meth:`rename`."""
        return _dec(_raw("box_name", self))

    @property
    def ip(self) -> Optional[str]:
        """The box's address on its bridge, None if not a bridge box
        (``box_ip()``)."""
        v = _raw("box_ip", self)
        return None if v is None else _dec(v)

    @property
    def pid(self) -> Optional[int]:
        """The host pid of the box's first process (or of the exec'd
        process), None once reaped (``box_pid()``)."""
        pid = _raw("box_pid", self)
        return None if pid < 0 else pid

    @property
    def pidfd(self) -> Optional[int]:
        """A pidfd of that process, owned by the handle (do not close it),
        or None (``box_pidfd()``)."""
        fd = _raw("box_pidfd", self)
        return None if fd < 0 else fd

    @property
    def tty_fd(self) -> Optional[int]:
        """The master of the box's terminal (``box_tty_fd()``), owned by the
        handle, or None without one."""
        fd = _raw("box_tty_fd", self)
        return None if fd < 0 else fd

    @property
    def cgroup(self) -> Optional[str]:
        """The box's cgroup relative to the hierarchy roots, or None
        (``box_cgroup()``)."""
        c = _raw("box_cgroup", self)
        return None if c is None else _dec(c)

    @property
    def status_code(self) -> Status:
        """The box's state now, as a :class:`Status` (``box_status()``)."""
        return Status(_call("box_status", self))

    @property
    def status(self) -> str:
        """The box's state now: "created", "running", "paused", "exited" or
        "unknown"."""
        return status_name(self.status_code)

    @property
    def oom_killed(self) -> bool:
        """After :meth:`wait`: whether the OOM killer killed a process of
        the box (``box_oom_killed()``)."""
        return bool(_call("box_oom_killed", self))

    @property
    def exit_status(self) -> Optional[ExitStatus]:
        """What :meth:`wait` returned, or None before."""
        return self._exit

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Run the command (``box_start()``); returns once it has been
        executed."""
        _call("box_start", self)

    def wait(self, timeout: Optional[float] = None) -> ExitStatus:
        """Wait for the box's first process (or the exec'd process) to end
        (``box_wait()``) and return its (exit_code, signal).  With timeout
        (seconds), raise :class:`Timeout` if it has not ended by then.
        Interruptible (KeyboardInterrupt) while waiting."""
        if self._exit is None:
            fd = _raw("box_pidfd", self)
            if fd >= 0:
                if not _poll_in(fd, timeout):
                    raise Timeout(_errno.ETIMEDOUT,
                                  f"box {self.short_id}: still running after {timeout} s",
                                  "box_wait")
            elif timeout is not None:
                deadline = time.monotonic() + timeout
                while self.status_code not in (Status.EXITED, Status.UNKNOWN):
                    if time.monotonic() >= deadline:
                        raise Timeout(_errno.ETIMEDOUT,
                                      f"box {self.short_id}: still running after {timeout} s",
                                      "box_wait")
                    time.sleep(0.01)
        code, sig = ctypes.c_int(-1), ctypes.c_int(0)
        _call("box_wait", self, ctypes.byref(code), ctypes.byref(sig))
        self._exit = ExitStatus(code.value, sig.value)
        return self._exit

    def communicate(self, input: Optional[bytes] = None, timeout: Optional[float] = None
                    ) -> Tuple[Optional[bytes], Optional[bytes]]:
        """Write input to :attr:`stdin` (then close it), read :attr:`stdout`
        and :attr:`stderr` to their end, and wait for the box; returns
        (stdout, stderr), None for those that are not PIPE.  With timeout
        (seconds), raise :class:`Timeout` (the box goes on)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        chunks: Dict[int, List[bytes]] = {}
        sel = selectors.DefaultSelector()
        try:
            if self.stdin is not None:
                if input:
                    os.set_blocking(self.stdin.fileno(), False)
                    sel.register(self.stdin, selectors.EVENT_WRITE)
                else:
                    self.stdin.close()
            for f in (self.stdout, self.stderr):
                if f is not None and not f.closed:
                    chunks[f.fileno()] = []
                    sel.register(f, selectors.EVENT_READ)
            view = memoryview(input or b"")
            while sel.get_map():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise Timeout(_errno.ETIMEDOUT,
                                  f"box {self.short_id}: output not done after {timeout} s",
                                  "communicate")
                for key, _ in sel.select(left):
                    if key.fileobj is self.stdin and self.stdin is not None:
                        try:
                            n = os.write(key.fd, view[:65536])
                        except BrokenPipeError:
                            n = len(view)
                        view = view[n:]
                        if not view:
                            sel.unregister(key.fileobj)
                            self.stdin.close()
                    else:
                        data = os.read(key.fd, 65536)
                        if data:
                            chunks[key.fd].append(data)
                        else:
                            sel.unregister(key.fileobj)
        finally:
            sel.close()
        out = b"".join(chunks[self.stdout.fileno()]) if self.stdout is not None and \
            self.stdout.fileno() in chunks else None
        err = b"".join(chunks[self.stderr.fileno()]) if self.stderr is not None and \
            self.stderr.fileno() in chunks else None
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        self.wait(left)
        return out, err

    def kill(self, signal: int = _signal.SIGKILL) -> None:
        """Send a signal (default SIGKILL) to the box's first process, or
        the exec'd process (``box_kill()``)."""
        _call("box_kill", self, int(signal))

    def terminate(self) -> None:
        """Send SIGTERM (which pid 1 of a box without init and without a
        handler ignores)."""
        self.kill(_signal.SIGTERM)

    def kill_all(self, signal: int = _signal.SIGKILL) -> None:
        """Send a signal (default SIGKILL) to every process of the box's
        cgroup (``box_kill_all()``)."""
        _call("box_kill_all", self, int(signal))

    def pause(self) -> None:
        """Freeze every process of the box (``box_pause()``)."""
        _call("box_pause", self)

    def resume(self) -> None:
        """Thaw the box (``box_resume()``)."""
        _call("box_resume", self)

    def stats(self) -> Dict[str, Optional[int]]:
        """The box's statistics (``box_stats()``): memory_current,
        memory_peak, cpu_user_us, cpu_system_us, pids_current,
        io_read_bytes, io_write_bytes, memory_limit; None for what the host
        does not give (and memory_limit None: no limit).  Statistics of a
        later library version appear as "stat_<index>"."""
        n = 32
        values = (ctypes.c_uint64 * n)()
        got = _call("box_stats", self, values, n)
        out: Dict[str, Optional[int]] = {}
        for i in range(min(got, n)):
            key = STAT_NAMES[i] if i < len(STAT_NAMES) else f"stat_{i}"
            out[key] = None if values[i] == _U64_MAX else int(values[i])
        return out

    def pids(self) -> List[int]:
        """The host pids of the box's processes (``box_pids()``)."""
        n = 64
        while True:
            arr = (ctypes.c_int * n)()
            got = _call("box_pids", self, arr, n)
            if got <= n:
                return list(arr[:got])
            n = got + 16

    def update_limits(self, config: Optional[Config] = None, **limits: Any) -> None:
        """Change the limits of the running box (``box_update_limits()``):
        those a config sets, or keyword arguments as :class:`Config`'s
        (memory=, cpus=, pids=, ...)."""
        with _config_of(config, limits) as cfg:
            _call("box_update_limits", self, cfg)

    def exec(self, argv: Union[str, Sequence[PathArg], Config], *,
             env: Optional[Mapping[str, Optional[str]]] = None,
             cwd: Optional[PathArg] = None,
             user: Union[None, int, str, Tuple[int, int]] = None,
             tty: bool = False, stdin: StdioSpec = None, stdout: StdioSpec = None,
             stderr: StdioSpec = None) -> "Box":
        """Run another process in the running box (``box_exec()``), as
        ``docker exec``: its namespaces, cgroup, root, capabilities and
        seccomp filter, the box's environment plus env, and cwd and user
        where given.  Returns a handle on that process: :meth:`wait`,
        :meth:`kill`, :attr:`pid`, :attr:`tty_fd`, :meth:`communicate`;
        destroying it ends that process only.  argv may be a whole
        :class:`Config` (only its argv, env, stdio, tty, cwd and user are
        read)."""
        if isinstance(argv, Config):
            if env or cwd is not None or user is not None or tty:
                raise TypeError("libbox: give a Config or keyword arguments, not both")
            proc_cm = _config_of(argv, {})
        else:
            proc_cm = _config_of(argv, {"env": env, "cwd": cwd, "user": user,
                                        "tty": tty or None})
        with proc_cm as proc:
            out = _ffi.box_p()
            with _StdioPipes(proc, [stdin, stdout, stderr]) as pipes:
                _call("box_exec", self, proc, ctypes.byref(out))
            return Box._wrap(self.ctx, out, "exec", pipes.files)

    def inspect(self) -> Dict[str, Any]:
        """The box's record as a dict (``box_inspect()``: id, name, created,
        owner, process, namespaces, rootfs, hostname, annotations, cgroup,
        pid, started, exit, status...)."""
        s = _raw("box_inspect", self)
        if not s:
            raise make_error(_errno.EIO, last_error() or None, "box_inspect")
        try:
            text = ctypes.string_at(s)
        finally:
            lib.box_string_free(s)
        info: Dict[str, Any] = json.loads(text)
        return info

    def commit(self, name: Optional[str] = None) -> str:
        """A new image of the box's changes (``box_commit()``); its id."""
        out = ctypes.c_void_p()
        _call("box_commit", self, _enc_opt(name, "name"), ctypes.byref(out))
        return _take_string(out.value, "box_commit")

    def rename(self, name: str) -> None:
        """Give the box another name (``box_rename()``)."""
        _call("box_rename", self, _enc(name, "name"))

    # -- release -------------------------------------------------------------------

    def _release(self) -> None:
        self._released = True
        self._p = None
        for f in (self.stdin, self.stdout, self.stderr):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self.ctx._box_released()

    def destroy(self) -> None:
        """Kill the box if it still runs, remove it and free the handle
        (``box_destroy()``); for an exec handle, end that process only.
        The handle is released even when this raises.  Destroying twice
        does nothing."""
        if self._released:
            return
        p, self._released = self._p, True
        rc = lib.box_destroy(p)
        msg = last_error() if rc < 0 else ""
        self._release()
        if rc < 0:
            raise make_error(-rc, msg or None, "box_destroy")

    def close(self) -> None:
        """Free the handle and leave the box as it is (``box_close()``).
        Closing twice does nothing."""
        if self._released:
            return
        p, self._released = self._p, True
        lib.box_close(p)
        self._release()

    def _destroy_quietly(self) -> None:
        try:
            self.destroy()
        except Error:
            pass

    def __enter__(self) -> "Box":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.kind == "opened":
            self.close()
        elif exc_type is not None:
            self._destroy_quietly()  # the block's exception matters more
        else:
            self.destroy()

    def __del__(self) -> None:
        if getattr(self, "_released", True):
            return
        warnings.warn(f"libbox: box {self.id[:12]} ({self.kind} handle) was never destroyed "
                      "or closed; closing it, the box goes on", ResourceWarning, source=self)
        self.close()

    def __repr__(self) -> str:
        if self._released:
            return f"<libbox.Box {self.kind} handle, released>"
        return f"<libbox.Box {self.name!r} id={self.short_id} {self.kind}>"


def _poll_in(fd: int, timeout: Optional[float]) -> bool:
    """Whether fd became readable within timeout seconds (None: wait)."""
    sel = selectors.DefaultSelector()
    try:
        sel.register(fd, selectors.EVENT_READ)
        return bool(sel.select(timeout))
    finally:
        sel.close()


# ---------------------------------------------------------------------------
# The CI sandbox
# ---------------------------------------------------------------------------


class SandboxResult(NamedTuple):
    """The result of :func:`sandbox` (``box_sandbox_run()``)."""
    exit_code: int
    signal: int
    oom: bool
    timed_out: bool
    peak_memory: Optional[int]
    wall_ms: int
    stdout: bytes
    stderr: bytes
    stdout_truncated: bool
    stderr_truncated: bool

    @property
    def ok(self) -> bool:
        """Whether the command exited with 0 (in time)."""
        return self.exit_code == 0 and self.signal == 0 and not self.timed_out

    @classmethod
    def _from(cls, r: Any) -> "SandboxResult":
        def data(fn: Callable[..., Any]) -> bytes:
            n = ctypes.c_size_t(0)
            ptr = fn(r, ctypes.byref(n))
            return ctypes.string_at(ptr, n.value) if ptr and n.value else b""

        peak = lib.box_sandbox_peak_memory(r)
        trunc = lib.box_sandbox_truncated(r)
        return cls(exit_code=lib.box_sandbox_exit_code(r), signal=lib.box_sandbox_signal(r),
                   oom=bool(lib.box_sandbox_oom(r)),
                   timed_out=bool(lib.box_sandbox_timed_out(r)),
                   peak_memory=None if peak == _U64_MAX else int(peak),
                   wall_ms=int(lib.box_sandbox_wall_ms(r)),
                   stdout=data(lib.box_sandbox_stdout), stderr=data(lib.box_sandbox_stderr),
                   stdout_truncated=bool(trunc & 1), stderr_truncated=bool(trunc & 2))


# ---------------------------------------------------------------------------
# Module functions, on a context given or the default one
# ---------------------------------------------------------------------------

_default_ctx: Optional[Context] = None
_default_lock = threading.Lock()


def default_context() -> Context:
    """The context the module functions use without ``ctx=``: the library's
    default directories and cgroup parent, made on first use."""
    global _default_ctx
    with _default_lock:
        if _default_ctx is None:
            _default_ctx = Context()
        return _default_ctx


def create(argv: Union[None, str, Sequence[PathArg], Config] = None, *,
           ctx: Optional[Context] = None, **kwargs: Any) -> Box:
    """:meth:`Context.create` on ctx or the default context."""
    return (ctx or default_context()).create(argv, **kwargs)


def run(argv: Union[None, str, Sequence[PathArg], Config] = None, *,
        ctx: Optional[Context] = None, **kwargs: Any) -> Box:
    """Create and start a box, to use as a context manager that destroys
    it on exit (:meth:`Context.run`)::

        with libbox.run(["sleep", "5"], rootfs="/srv/rootfs") as box:
            print(box.status)
    """
    return (ctx or default_context()).run(argv, **kwargs)


def call(argv: Union[None, str, Sequence[PathArg], Config] = None, *,
         ctx: Optional[Context] = None, **kwargs: Any) -> ExitStatus:
    """Run a box to its end in one call (``box_run()``): returns
    (exit_code, signal) (:meth:`Context.call`)."""
    return (ctx or default_context()).call(argv, **kwargs)


def run_to_completion(argv: Union[None, str, Sequence[PathArg], Config] = None, *,
                      ctx: Optional[Context] = None, **kwargs: Any) -> Completed:
    """Run a box to its end with input, captured output and a timeout
    (:meth:`Context.run_to_completion`)."""
    return (ctx or default_context()).run_to_completion(argv, **kwargs)


def sandbox(argv: Union[None, str, Sequence[PathArg], Config] = None, *,
            ctx: Optional[Context] = None, **kwargs: Any) -> SandboxResult:
    """Run a command as a CI step (``box_sandbox_run()``,
    :meth:`Context.sandbox`)."""
    return (ctx or default_context()).sandbox(argv, **kwargs)
