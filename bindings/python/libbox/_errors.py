# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exceptions: every failure of a libbox call raises an :class:`Error`
subclass chosen by its errno, carrying the errno and the library's
message (``box_last_error()``)."""
from __future__ import annotations

import errno as _errno
import os
from typing import Dict, Optional, Type


class Error(OSError):
    """A libbox call failed.

    Attributes:
        errno: the positive errno value (``errno.ENOENT``...).
        message: the library's message (``box_last_error()``), naming the
            object and the operation, e.g.
            ``"mount nosuchfs on /srv/rootfs/mnt: No such device"``.
        function: the C function that failed (``"box_create"``...), or
            None for a failure found by the binding itself.

    ``str(error)`` is the message.  Error is an :class:`OSError`, and its
    subclasses are also the matching built-in exceptions
    (:class:`NotFound` is a :class:`FileNotFoundError`,
    :class:`InvalidArgument` a :class:`ValueError`...).
    """

    def __init__(self, errno: int, message: Optional[str] = None,
                 function: Optional[str] = None) -> None:
        errno = abs(errno)
        if not message:
            message = os.strerror(errno)
        super().__init__(errno, message)
        self.message: str = message
        self.function: Optional[str] = function

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        name = _errno.errorcode.get(self.errno or 0, str(self.errno))
        return f"{type(self).__name__}({name}, {self.message!r})"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.errno, self.message, self.function))


class InvalidArgument(Error, ValueError):
    """EINVAL: a bad argument or an inconsistent config."""


class NotFound(Error, FileNotFoundError):
    """ENOENT: no such box, file, root filesystem or command."""


class Exists(Error, FileExistsError):
    """EEXIST: the name is in use."""


class PermissionDenied(Error, PermissionError):
    """EPERM or EACCES."""


class NotSupported(Error):
    """ENOTSUP/EOPNOTSUPP: e.g. a cgroup operation on a box without a
    cgroup, a limit the host cannot enforce, or a function the loaded
    library lacks."""


class NoSuchProcess(Error, ProcessLookupError):
    """ESRCH: the box (or process) is not running."""


class TryAgain(Error, BlockingIOError):
    """EAGAIN: e.g. exec into a paused box."""


class AlreadyDone(Error):
    """EALREADY: e.g. starting a box twice."""


class Busy(Error):
    """EBUSY: e.g. a cgroup that still holds processes."""


class Timeout(Error, TimeoutError):
    """ETIMEDOUT: the kernel did not freeze the box in time, or a
    :meth:`Box.wait` with a timeout expired."""


class NotADirectory(Error, NotADirectoryError):
    """ENOTDIR: e.g. a root filesystem that is not a directory."""


class NoDevice(Error):
    """ENODEV: e.g. a mount of an unknown file system type."""


class OutOfMemory(Error, MemoryError):
    """ENOMEM."""


_BY_ERRNO: Dict[int, Type[Error]] = {
    _errno.EINVAL: InvalidArgument,
    _errno.ENOENT: NotFound,
    _errno.EEXIST: Exists,
    _errno.EPERM: PermissionDenied,
    _errno.EACCES: PermissionDenied,
    _errno.ENOTSUP: NotSupported,
    _errno.EOPNOTSUPP: NotSupported,
    _errno.ESRCH: NoSuchProcess,
    _errno.EAGAIN: TryAgain,
    _errno.EALREADY: AlreadyDone,
    _errno.EBUSY: Busy,
    _errno.ETIMEDOUT: Timeout,
    _errno.ENOTDIR: NotADirectory,
    _errno.ENODEV: NoDevice,
    _errno.ENOMEM: OutOfMemory,
}


def error_class(errno: int) -> Type[Error]:
    """The :class:`Error` subclass for an errno (negative or positive)."""
    return _BY_ERRNO.get(abs(errno), Error)


def make_error(errno: int, message: Optional[str] = None,
               function: Optional[str] = None) -> Error:
    """An exception of the right class for errno, with message."""
    return error_class(errno)(errno, message, function)
