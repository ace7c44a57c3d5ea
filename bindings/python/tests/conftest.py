# SPDX-License-Identifier: LGPL-2.1-or-later
"""pytest set-up for the libbox binding's tests.

- The package is imported from this tree (bindings/python), the library
  from $LIBBOX_LIBRARY, else this tree's build/lib/libbox.so.1 if it
  exists, else libbox.so.1 from the loader path.
- As root, the whole session runs in a private network and mount
  namespace (lo up), as the C tests do, so boxes change nothing on the
  host.  Not root: the tests that run boxes are skipped (with CI=true,
  they fail).
- Each test gets a Context with its own state directory and cgroup parent
  /libbox-pytest-<pid>/<n>; at its end nothing may be left (no box in the
  state directory, no cgroup below its parent); the session removes its
  cgroup directories from every cgroup hierarchy at the end.
- ``--tap FILE`` writes the results as TAP, ``--testlog FILE`` as one
  line of JSON like meson's testlog.json ({"name", "result", "stdout": TAP})
  for tools/dev.sh's count().
"""
from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

HERE = Path(__file__).resolve().parent
PKG = HERE.parent                      # bindings/python
TOP = PKG.parent.parent                # the source tree, when run from it
sys.path.insert(0, str(PKG))

if not os.environ.get("LIBBOX_LIBRARY"):
    built = TOP / "build" / "lib" / "libbox.so.1"
    if built.exists():
        os.environ["LIBBOX_LIBRARY"] = str(built)

IS_ROOT = os.geteuid() == 0
IN_CI = os.environ.get("CI") == "true"
SESSION_CGROUP = f"/libbox-pytest-{os.getpid()}"
THROWAWAY_ERROR = ""

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_REC = 16384
MS_PRIVATE = 1 << 18


def _enter_throwaway_host() -> str:
    """unshare(CLONE_NEWNET|CLONE_NEWNS), / rprivate, lo up; "" or why not."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET | CLONE_NEWNS) != 0:
        return "unshare(CLONE_NEWNET|CLONE_NEWNS): " + os.strerror(ctypes.get_errno())
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return "mount --make-rprivate /: " + os.strerror(ctypes.get_errno())
    try:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        return f"ip link set lo up: {e}"
    return ""


# Before anything else runs (and before any thread exists: unshare of a
# mount namespace wants a single-threaded process).
if IS_ROOT and os.environ.get("LIBBOX_IN_THROWAWAY") != "1":
    THROWAWAY_ERROR = _enter_throwaway_host()
    os.environ["LIBBOX_IN_THROWAWAY"] = "1"

import libbox  # noqa: E402  (after LIBBOX_LIBRARY is settled)


def pytest_report_header(config: pytest.Config) -> List[str]:
    where = "a private net+mount namespace" if IS_ROOT and not THROWAWAY_ERROR else \
        f"the host ({THROWAWAY_ERROR or 'not root'})"
    return [f"libbox {libbox.version()} from {libbox.lib.path}; tests run in {where}"]


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


def need_root() -> None:
    """Skip a test that runs boxes when not root (fail it with CI=true)."""
    why = "not root" if not IS_ROOT else THROWAWAY_ERROR
    if why:
        msg = f"running boxes needs root in a throwaway namespace: {why}"
        if IN_CI:
            pytest.fail(msg + " (CI=true: a skip is a failure)")
        pytest.skip(msg)


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A busybox root filesystem: $LIBBOX_TEST_ROOTFS, or one built with
    tests/rootfs/mkbusybox.sh."""
    need_root()
    given = os.environ.get("LIBBOX_TEST_ROOTFS")
    if given:
        return given
    script = TOP / "tests" / "rootfs" / "mkbusybox.sh"
    if not script.exists():
        pytest.skip(f"no LIBBOX_TEST_ROOTFS and no {script}")
    d = tmp_path_factory.mktemp("rootfs") / "busybox"
    r = subprocess.run(["sh", str(script), str(d)], capture_output=True, text=True)
    if r.returncode != 0:
        msg = f"mkbusybox.sh failed: {r.stderr.strip()}"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return str(d)


def cgroup_mounts() -> List[str]:
    """Every cgroup hierarchy's mount point (v1 controllers and cgroup2)."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rfields = left.split(), right.split()
            if len(fields) < 5 or len(rfields) < 3:
                continue
            fstype, opts = rfields[0], rfields[2]
            if fstype == "cgroup2" or (fstype == "cgroup" and "name=" not in opts):
                out.append(fields[4])
    return out


def cgroup_dirs(rel: str) -> List[str]:
    """Where the cgroup rel exists, in every hierarchy."""
    return [m + rel for m in cgroup_mounts() if os.path.isdir(m + rel)]


def remove_cgroup_tree(rel: str) -> List[str]:
    """rmdir rel and what is below it, deepest first, in every hierarchy;
    returns what could not be removed."""
    left = []
    for m in cgroup_mounts():
        top = m + rel
        if not os.path.isdir(top):
            continue
        for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda t: -t[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError as e:
                left.append(f"{dirpath}: {e.strerror}")
    return left


@pytest.fixture(scope="session", autouse=True)
def _session_cgroups() -> Iterator[None]:
    yield
    if IS_ROOT:
        left = remove_cgroup_tree(SESSION_CGROUP)
        if left:
            print("libbox tests: could not remove " + ", ".join(left), file=sys.stderr)


_counter = [0]


@pytest.fixture
def ctx(rootfs: str, tmp_path: Path) -> Iterator[libbox.Context]:
    """A Context with a private state directory and cgroup parent; at the
    end, no box may be left in either."""
    need_root()
    _counter[0] += 1
    parent = f"{SESSION_CGROUP}/t{_counter[0]}"
    state = tmp_path / "state"
    c = libbox.Context(state_dir=str(state), cgroup_parent=parent)
    yield c
    leftovers = c.list()
    for id_ in leftovers:  # so that one leak does not spill into other tests
        try:
            c.open(id_).destroy()
        except libbox.Error:
            pass
    cgroups = [d for d in cgroup_dirs(parent) if any(
        e.is_dir() for e in os.scandir(d))]
    c.close()
    remove_cgroup_tree(parent)
    assert not leftovers, f"boxes left in the state directory: {leftovers}"
    assert not cgroups, f"box cgroups left under {parent}: {cgroups}"


@pytest.fixture
def state_dir(ctx: libbox.Context) -> str:
    return ctx.state_dir


# ---------------------------------------------------------------------------
# TAP and a meson-like testlog line, for tools/dev.sh
# ---------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("libbox")
    g.addoption("--tap", metavar="FILE", help="write the results as TAP to FILE")
    g.addoption("--testlog", metavar="FILE",
                help='write one JSON line {"name", "result", "stdout": TAP} to FILE '
                     "(meson's testlog.json form, for tools/dev.sh)")


_results: Dict[str, Tuple[str, str]] = {}
_order: List[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    nodeid = report.nodeid
    if nodeid not in _results:
        _order.append(nodeid)
        _results[nodeid] = ("ok", "")
    state, why = _results[nodeid]
    if report.failed:
        _results[nodeid] = ("not ok", f"{report.when} failed")
    elif report.skipped and state == "ok":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
        _results[nodeid] = ("skip", str(reason).replace("Skipped: ", ""))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _order.append(report.nodeid or "collection")
        _results[report.nodeid or "collection"] = ("not ok", "collection failed")


def _tap() -> str:
    lines = [f"1..{len(_order)}"]
    for i, nodeid in enumerate(_order, 1):
        state, why = _results[nodeid]
        name = "python/" + nodeid.replace("#", "").split("tests/", 1)[-1]
        if state == "skip":
            lines.append(f"ok {i} {name} # SKIP {why}")
        elif state == "not ok":
            lines.append(f"not ok {i} {name} # {why}")
        else:
            lines.append(f"ok {i} {name}")
    return "\n".join(lines) + "\n"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    tap_file = session.config.getoption("--tap")
    log_file = session.config.getoption("--testlog")
    if not tap_file and not log_file:
        return
    tap = _tap()
    if tap_file:
        Path(tap_file).write_text(tap)
    if log_file:
        failed = any(s == "not ok" for s, _ in _results.values()) or exitstatus not in (0, 5)
        line = {"name": "python", "protocol": "tap", "result": "FAIL" if failed else "OK",
                "returncode": int(exitstatus), "stdout": tap}
        Path(log_file).write_text(json.dumps(line) + "\n")
