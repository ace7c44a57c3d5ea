# SPDX-License-Identifier: LGPL-2.1-or-later
"""The C side of the binding: loading libbox.so.1 and declaring every
exported function's argument and result types.

``SIGNATURES`` lists every function of ``lib/libbox.map`` (a test checks
that nothing is missing).  A function that the loaded library lacks (an
older libbox.so.1) is replaced by a stub raising
:class:`libbox.NotSupported` when called, so the package still imports.
"""
from __future__ import annotations

import ctypes
import errno as _errno
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_int64, c_size_t,
                    c_uint, c_uint16, c_uint32, c_uint64, c_void_p)
from typing import Any, Callable, Dict, List, Optional, Tuple

from ._errors import InvalidArgument, NotSupported

#: The environment variable naming the library to load (a path, or a
#: name for the dynamic loader); without it, ``libbox.so.1`` is found
#: through the usual loader path (``LD_LIBRARY_PATH``, ld.so.cache...).
LIBRARY_ENV = "LIBBOX_LIBRARY"
SONAME = "libbox.so.1"


class box_ctx(Structure):
    """Opaque ``box_ctx``."""


class box_config(Structure):
    """Opaque ``box_config``."""


class box(Structure):
    """Opaque ``box``."""


class box_sandbox_result(Structure):
    """Opaque ``box_sandbox_result``."""


ctx_p = POINTER(box_ctx)
config_p = POINTER(box_config)
box_p = POINTER(box)
sandbox_p = POINTER(box_sandbox_result)

#: ``typedef int (*box_list_fn)(const char *id, void *user);``
LIST_FN = CFUNCTYPE(c_int, c_char_p, c_void_p)
#: ``typedef void (*box_progress_fn)(int layer, int layers, uint64_t done,
#: uint64_t total, void *user);``
PROGRESS_FN = CFUNCTYPE(None, c_int, c_int, c_uint64, c_uint64, c_void_p)

# name: (restype, [argtypes])
SIGNATURES: Dict[str, Tuple[Any, List[Any]]] = {
    # library information and errors
    "box_version": (c_char_p, []),
    "box_last_error": (c_char_p, []),
    "box_strerror": (c_char_p, [c_int]),
    # contexts
    "box_ctx_new": (c_int, [POINTER(ctx_p)]),
    "box_ctx_free": (None, [ctx_p]),
    "box_ctx_set_state_dir": (c_int, [ctx_p, c_char_p]),
    "box_ctx_set_store_dir": (c_int, [ctx_p, c_char_p]),
    "box_ctx_state_dir": (c_char_p, [ctx_p]),
    "box_ctx_store_dir": (c_char_p, [ctx_p]),
    "box_ctx_set_cgroup_parent": (c_int, [ctx_p, c_char_p]),
    "box_ctx_cgroup_parent": (c_char_p, [ctx_p]),
    # configs
    "box_config_new": (c_int, [POINTER(config_p)]),
    "box_config_free": (None, [config_p]),
    "box_config_set_argv": (c_int, [config_p, c_int, POINTER(c_char_p)]),
    "box_config_set_env": (c_int, [config_p, c_char_p, c_char_p]),
    "box_config_set_cwd": (c_int, [config_p, c_char_p]),
    "box_config_set_user": (c_int, [config_p, c_uint32, c_uint32]),
    "box_config_set_user_name": (c_int, [config_p, c_char_p]),
    "box_config_set_groups": (c_int, [config_p, c_int, POINTER(c_uint32)]),
    "box_config_set_hostname": (c_int, [config_p, c_char_p]),
    "box_config_set_namespaces": (c_int, [config_p, c_uint]),
    "box_config_add_id_map": (c_int, [config_p, c_int, c_uint32, c_uint32, c_uint32]),
    "box_config_set_rootfs": (c_int, [config_p, c_char_p]),
    "box_config_set_readonly_root": (c_int, [config_p, c_int]),
    "box_config_add_mount": (c_int, [config_p, c_char_p, c_char_p, c_char_p, c_char_p]),
    "box_config_set_rlimit": (c_int, [config_p, c_char_p, c_uint64, c_uint64]),
    "box_config_add_cap": (c_int, [config_p, c_char_p]),
    "box_config_drop_cap": (c_int, [config_p, c_char_p]),
    "box_config_set_seccomp": (c_int, [config_p, c_int, c_char_p]),
    "box_config_set_no_new_privs": (c_int, [config_p, c_int]),
    "box_config_set_stdio": (c_int, [config_p, c_int, c_int, c_int]),
    "box_config_set_init": (c_int, [config_p, c_int]),
    "box_config_set_tty": (c_int, [config_p, c_int]),
    "box_config_set_no_pivot": (c_int, [config_p, c_int]),
    "box_config_set_limit": (c_int, [config_p, c_int, c_int64]),
    "box_config_set_cpuset": (c_int, [config_p, c_char_p, c_char_p]),
    "box_config_add_io_limit": (c_int, [config_p, c_char_p, c_int, c_uint64]),
    "box_config_set_cgroup": (c_int, [config_p, c_int]),
    "box_config_set_name": (c_int, [config_p, c_char_p]),
    "box_config_set_annotation": (c_int, [config_p, c_char_p, c_char_p]),
    # boxes: lifecycle
    "box_create": (c_int, [ctx_p, config_p, POINTER(box_p)]),
    "box_start": (c_int, [box_p]),
    "box_wait": (c_int, [box_p, POINTER(c_int), POINTER(c_int)]),
    "box_kill": (c_int, [box_p, c_int]),
    "box_destroy": (c_int, [box_p]),
    "box_pid": (c_int, [box_p]),
    "box_pidfd": (c_int, [box_p]),
    "box_tty_fd": (c_int, [box_p]),
    "box_id": (c_char_p, [box_p]),
    "box_run": (c_int, [ctx_p, config_p, POINTER(c_int), POINTER(c_int)]),
    # boxes: cgroups
    "box_update_limits": (c_int, [box_p, config_p]),
    "box_stats": (c_int, [box_p, POINTER(c_uint64), c_int]),
    "box_pause": (c_int, [box_p]),
    "box_resume": (c_int, [box_p]),
    "box_kill_all": (c_int, [box_p, c_int]),
    "box_oom_killed": (c_int, [box_p]),
    "box_cgroup": (c_char_p, [box_p]),
    # boxes on disk
    "box_name": (c_char_p, [box_p]),
    "box_open": (c_int, [ctx_p, c_char_p, POINTER(box_p)]),
    "box_close": (None, [box_p]),
    "box_status": (c_int, [box_p]),
    "box_status_name": (c_char_p, [c_int]),
    # c_void_p, not c_char_p: the pointer is needed to free the string
    "box_inspect": (c_void_p, [box_p]),
    "box_string_free": (None, [c_void_p]),
    "box_list": (c_int, [ctx_p, LIST_FN, c_void_p]),
    "box_gc": (c_int, [ctx_p]),
    "box_exec": (c_int, [box_p, config_p, POINTER(box_p)]),
    "box_rename": (c_int, [box_p, c_char_p]),
    "box_pids": (c_int, [box_p, POINTER(c_int), c_int]),
    # the CI sandbox
    "box_sandbox_run": (c_int, [ctx_p, config_p, c_int64, c_int64, POINTER(sandbox_p)]),
    "box_sandbox_exit_code": (c_int, [sandbox_p]),
    "box_sandbox_signal": (c_int, [sandbox_p]),
    "box_sandbox_oom": (c_int, [sandbox_p]),
    "box_sandbox_timed_out": (c_int, [sandbox_p]),
    "box_sandbox_peak_memory": (c_uint64, [sandbox_p]),
    "box_sandbox_wall_ms": (c_int64, [sandbox_p]),
    # c_void_p: the output may hold NULs, its length comes apart
    "box_sandbox_stdout": (c_void_p, [sandbox_p, POINTER(c_size_t)]),
    "box_sandbox_stderr": (c_void_p, [sandbox_p, POINTER(c_size_t)]),
    "box_sandbox_truncated": (c_int, [sandbox_p]),
    "box_sandbox_result_free": (None, [sandbox_p]),
    # lifecycle (LIBBOX_1.1)
    "box_config_set_id": (c_int, [config_p, c_char_p]),
    "box_config_set_upper": (c_int, [config_p, c_char_p]),
    # images (LIBBOX_1.1); strings out are c_void_p, freed by box_string_free
    "box_ctx_set_progress": (c_int, [ctx_p, PROGRESS_FN, c_void_p]),
    "box_ctx_set_storage": (c_int, [ctx_p, c_int]),
    "box_image_load": (c_int, [ctx_p, c_char_p, c_char_p, POINTER(c_void_p)]),
    "box_image_import": (c_int, [ctx_p, c_char_p, c_char_p, POINTER(c_void_p)]),
    "box_image_list": (c_void_p, [ctx_p]),
    "box_image_inspect": (c_void_p, [ctx_p, c_char_p]),
    "box_image_remove": (c_int, [ctx_p, c_char_p, c_int]),
    "box_image_tag": (c_int, [ctx_p, c_char_p, c_char_p]),
    "box_image_save": (c_int, [ctx_p, c_char_p, c_char_p]),
    "box_commit": (c_int, [box_p, c_char_p, POINTER(c_void_p)]),
    "box_image_default": (c_int, [ctx_p, POINTER(c_void_p)]),
    "box_config_set_image": (c_int, [config_p, c_char_p]),
    # OCI runtime bundles (LIBBOX_1.1)
    "box_config_from_oci": (c_int, [c_char_p, POINTER(config_p)]),
    "box_config_from_oci_process": (c_int, [c_char_p, POINTER(config_p)]),
    "box_config_set_start_fifo": (c_int, [config_p, c_int]),
    # networking (LIBBOX_1.1)
    "box_config_set_network": (c_int, [config_p, c_int]),
    "box_config_add_port": (c_int, [config_p, c_int, c_char_p, c_uint16, c_uint16, c_uint16]),
    "box_config_set_ip": (c_int, [config_p, c_char_p]),
    "box_config_add_dns": (c_int, [config_p, c_char_p]),
    "box_ctx_set_bridge": (c_int, [ctx_p, c_char_p]),
    "box_ctx_set_subnet": (c_int, [ctx_p, c_char_p]),
    "box_ctx_bridge": (c_char_p, [ctx_p]),
    "box_ctx_subnet": (c_char_p, [ctx_p]),
    "box_ip": (c_char_p, [box_p]),
    "box_network_inspect": (c_void_p, [ctx_p, c_char_p]),
}


class _Missing:
    """Stands for a function the loaded library does not export."""

    def __init__(self, name: str, path: str) -> None:
        self.__name__ = name
        self._path = path

    def __call__(self, *args: Any) -> Any:
        raise NotSupported(_errno.ENOTSUP,
                           f"{self.__name__}: not in {self._path} (an older libbox)",
                           self.__name__)


class Library:
    """libbox.so.1 with every function of ``SIGNATURES`` as an attribute."""

    def __init__(self, path: Optional[str] = None) -> None:
        if path is None:
            path = os.environ.get(LIBRARY_ENV) or SONAME
        self.path = path
        try:
            self.cdll = ctypes.CDLL(path)
        except OSError as e:
            raise ImportError(f"libbox: cannot load {path} ({e}); install libbox or set "
                              f"{LIBRARY_ENV} to the path of libbox.so.1") from e
        self.missing: List[str] = []
        for name, (restype, argtypes) in SIGNATURES.items():
            try:
                fn = getattr(self.cdll, name)
            except AttributeError:
                self.missing.append(name)
                setattr(self, name, _Missing(name, path))
                continue
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)

    def has(self, name: str) -> bool:
        """Whether the loaded library exports the function ``name``."""
        return name in SIGNATURES and name not in self.missing

    # Attributes are set per function in __init__; this keeps type checkers
    # quiet about them.
    def __getattr__(self, name: str) -> Callable[..., Any]:
        raise AttributeError(f"libbox: no function {name} in the binding")


def decode(s: Optional[bytes]) -> Optional[str]:
    """A C string from the library as str (None stays None)."""
    return None if s is None else s.decode("utf-8", "surrogateescape")


def encode(s: Any, what: str = "argument") -> bytes:
    """str, bytes or os.PathLike as a C string (NUL is refused, as C would
    cut the string there)."""
    if isinstance(s, bytes):
        b = s
    elif isinstance(s, str):
        b = s.encode("utf-8", "surrogateescape")
    elif isinstance(s, os.PathLike):
        b = os.fsencode(s)
    else:
        raise TypeError(f"libbox: {what} must be str, bytes or a path, not {type(s).__name__}")
    if b"\0" in b:
        raise InvalidArgument(_errno.EINVAL, f"{what}: contains a NUL byte")
    return b


def encode_opt(s: Any, what: str = "argument") -> Optional[bytes]:
    """Like encode(), None staying None (NULL)."""
    return None if s is None else encode(s, what)
