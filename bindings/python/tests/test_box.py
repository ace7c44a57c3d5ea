# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real boxes on a busybox root (root only; see conftest.py)."""
from __future__ import annotations

import errno
import os
import select
import signal
import time
from pathlib import Path

import pytest

import libbox

from conftest import cgroup_dirs


def sh(script: str) -> list:
    return ["sh", "-c", script]


def out_of(ctx, argv, **kw) -> str:
    """The stdout of a box that must exit with 0."""
    r = ctx.run_to_completion(argv, capture_output=True, **kw)
    assert (r.exit_code, r.signal) == (0, 0), r
    return r.stdout.decode()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive either
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


# ---------------------------------------------------------------------------
# Exit codes and output
# ---------------------------------------------------------------------------


def test_true_and_false(ctx, rootfs) -> None:
    assert libbox.call(["true"], ctx=ctx, rootfs=rootfs) == (0, 0)
    code, sig = libbox.call(["false"], ctx=ctx, rootfs=rootfs)
    assert (code, sig) == (1, 0)
    assert ctx.call(sh("exit 42"), rootfs=rootfs).exit_code == 42
    st = ctx.call(sh("kill -9 $$"), rootfs=rootfs, init=True)
    assert st == (-1, signal.SIGKILL) and st.returncode == -9 and not st.ok


def test_call_with_a_config_reused(ctx, rootfs) -> None:
    with libbox.Config(["true"], rootfs=rootfs) as cfg:
        for _ in range(3):
            assert ctx.call(cfg).ok
        cfg.set_argv(["false"])
        assert ctx.call(cfg).exit_code == 1


def test_create_start_wait(ctx, rootfs) -> None:
    with ctx.create(sh("exit 7"), rootfs=rootfs) as box:
        assert box.kind == "creator"
        assert box.status == "created" and box.status_code is libbox.Status.CREATED
        assert len(box.id) == 64 and box.name
        assert box.exit_status is None
        box.start()
        assert box.wait(timeout=10) == (7, 0)
        assert box.exit_status == (7, 0)
        assert box.wait() == (7, 0)  # the same again
        assert box.status == "exited"
        assert box.pid is None
        with pytest.raises(libbox.AlreadyDone):
            box.start()
    assert ctx.list() == []


def test_output_through_pipes(ctx, rootfs) -> None:
    r = ctx.run_to_completion(sh("echo out; echo err >&2; cat; exit 3"), rootfs=rootfs,
                              input=b"in\n" * 50000, capture_output=True)
    assert r.exit_code == 3
    assert r.stdout == b"out\n" + b"in\n" * 50000
    assert r.stderr == b"err\n"
    # stderr into stdout
    r = ctx.run_to_completion(sh("echo a; echo b >&2"), rootfs=rootfs,
                              stdout=libbox.PIPE, stderr=libbox.STDOUT)
    assert sorted(r.stdout.split()) == [b"a", b"b"] and r.stderr is None
    # the box's stdin is this process's unless told
    with ctx.run(sh("read x; echo got $x"), rootfs=rootfs, stdin=libbox.PIPE,
                 stdout=libbox.PIPE) as box:
        box.stdin.write(b"hello\n")
        box.stdin.close()
        assert box.stdout.read() == b"got hello\n"
        assert box.wait() == (0, 0)


def test_output_to_a_file_and_devnull(ctx, rootfs, tmp_path: Path) -> None:
    path = tmp_path / "out"
    with open(path, "wb") as f:
        assert ctx.call(sh("echo to the file"), rootfs=rootfs, stdout=f,
                        stdin=libbox.DEVNULL).ok
    assert path.read_bytes() == b"to the file\n"
    r = ctx.run_to_completion(sh("cat; echo done"), rootfs=rootfs, stdin=libbox.DEVNULL,
                              stdout=libbox.PIPE)
    assert r.stdout == b"done\n"


def test_env_cwd_user_groups_hostname(ctx, rootfs) -> None:
    out = out_of(ctx, sh('echo "$A|$B|$HOSTNAME|$PATH"; pwd; id; hostname'), rootfs=rootfs,
                 env={"A": "one", "B": "two words"}, cwd="/tmp/work", user=(1000, 1001),
                 groups=[5, 7], hostname="pybox")
    lines = out.splitlines()
    assert lines[0].startswith("one|two words|pybox|/")
    assert lines[1] == "/tmp/work"
    assert lines[2].startswith("uid=1000 gid=1001") and "groups=5(tty),7" in lines[2]
    assert lines[3] == "pybox"
    assert out_of(ctx, sh("id -u"), rootfs=rootfs, user="42").strip() == "42"


def test_namespaces_and_init(ctx, rootfs) -> None:
    assert out_of(ctx, sh("echo $$"), rootfs=rootfs).strip() == "1"
    assert out_of(ctx, sh("echo $$"), rootfs=rootfs, init=True).strip() != "1"
    # without a pid namespace, the box sees this host's pids
    ns = libbox.NS_DEFAULT & ~libbox.NS_PID
    assert int(out_of(ctx, sh("echo $$"), rootfs=rootfs, namespaces=ns)) > 1
    assert out_of(ctx, sh("ls /sys/class/net"), rootfs=rootfs,
                  namespaces=["mount", "uts", "ipc", "pid", "net", "cgroup"]).split() == ["lo"]
    maps = out_of(ctx, ["cat", "/proc/self/uid_map", "/proc/self/gid_map"], rootfs=rootfs,
                  namespaces=libbox.NS_DEFAULT | libbox.NS_USER,
                  uid_map=[(0, 0, 1), (1, 100000, 1000)], gid_map=[(0, 0, 1)])
    assert [line.split() for line in maps.splitlines()] == [
        ["0", "0", "1"], ["1", "100000", "1000"], ["0", "0", "1"]]


def test_readonly_root_mounts_and_rlimits(ctx, rootfs, tmp_path: Path) -> None:
    host = tmp_path / "shared"
    host.mkdir()
    (host / "in").write_text("from the host\n")
    out = out_of(ctx, sh("cat /data/in; echo new > /data/out; cat /ro/in; "
                         "echo x > /ro/no 2>/dev/null || echo ro-refused; "
                         "touch /nope 2>/dev/null || echo root-refused; "
                         "echo s > /scratch/f && cat /scratch/f; ulimit -n"),
                 rootfs=rootfs, readonly_root=True, binds=[(host, "/data")],
                 tmpfs={"/scratch": "size=1m"}, rlimits={"nofile": (123, 456)},
                 mounts=[libbox.Mount("bind", str(host), "/ro", "ro")])
    assert out.splitlines() == ["from the host", "from the host", "ro-refused",
                                "root-refused", "s", "123"]
    assert (host / "out").read_text() == "new\n"


def test_capabilities_and_seccomp(ctx, rootfs) -> None:
    def capeff(**kw) -> int:
        out = out_of(ctx, sh("grep CapEff /proc/self/status"), rootfs=rootfs, **kw)
        return int(out.split()[1], 16)

    default = capeff()
    assert default and capeff(cap_drop=["ALL"]) == 0
    sys_time = 1 << 25
    assert not default & sys_time and capeff(cap_add=["SYS_TIME"]) & sys_time
    refused = ctx.run_to_completion(sh("unshare -u true"), rootfs=rootfs, capture_output=True)
    assert refused.exit_code != 0 and b"Operation not permitted" in refused.stderr
    assert ctx.call(sh("unshare -u true"), rootfs=rootfs, seccomp="unconfined",
                    cap_add=["SYS_ADMIN"]).ok


def test_tty(ctx, rootfs) -> None:
    with ctx.run(sh("tty; echo done"), rootfs=rootfs, tty=True) as box:
        fd = box.tty_fd
        assert fd is not None and fd >= 0
        data = b""
        while b"done" not in data:
            r, _, _ = select.select([fd], [], [], 10)
            assert r, f"no output from the terminal: {data!r}"
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        assert b"/dev/pts/0" in data
        assert box.wait(timeout=10).ok


# ---------------------------------------------------------------------------
# A running box: status, signals, exec, limits, stats
# ---------------------------------------------------------------------------


def test_pause_resume_kill(ctx, rootfs) -> None:
    with libbox.run(["sleep", "60"], ctx=ctx, rootfs=rootfs) as box:
        assert box.status == "running"
        pid = box.pid
        assert pid and pid_alive(pid) and box.pidfd is not None
        assert box.pids() == [pid]
        box.pause()
        assert box.status == "paused"
        box.resume()
        assert box.status == "running"
        with pytest.raises(libbox.Timeout) as info:
            box.wait(timeout=0.05)
        assert info.value.errno == errno.ETIMEDOUT
        box.kill(signal.SIGKILL)
        assert box.wait(timeout=10) == (-1, signal.SIGKILL)
        assert box.status == "exited"
        with pytest.raises(libbox.NoSuchProcess) as info:
            box.kill()
        assert info.value.message
    assert not pid_alive(pid)


def test_kill_all_and_terminate_with_init(ctx, rootfs) -> None:
    with ctx.run(sh("sleep 60 & sleep 60 & wait"), rootfs=rootfs, init=True) as box:
        deadline = time.monotonic() + 5
        while len(box.pids()) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(box.pids()) == 4  # init, sh, two sleeps
        box.kill_all(signal.SIGKILL)
        assert box.wait(timeout=10).signal == signal.SIGKILL
    with ctx.run(["sleep", "60"], rootfs=rootfs, init=True) as box:
        box.terminate()  # the init forwards it to sleep
        assert box.wait(timeout=10) == (-1, signal.SIGTERM)


def test_exec_into_a_running_box(ctx, rootfs) -> None:
    with ctx.run(["sleep", "60"], rootfs=rootfs, hostname="host1", env={"FROM": "box"},
                 name="execme") as box:
        with box.exec(sh('echo "$FROM $EXTRA $(hostname) $(pwd) $(id -u)"; exit 5'),
                      env={"EXTRA": "exec"}, cwd="/tmp", user=(7, 7),
                      stdout=libbox.PIPE) as proc:
            assert proc.kind == "exec" and proc.id == box.id and proc.name == "execme"
            out, err = proc.communicate(timeout=10)
            assert out == b"box exec host1 /tmp 7\n" and err is None
            assert proc.exit_status == (5, 0)
        # a long one, killed with its handle
        proc = box.exec(["sleep", "60"])
        pid = proc.pid
        assert pid in box.pids()
        proc.destroy()
        assert not pid_alive(pid)
        assert box.status == "running"
        with pytest.raises(libbox.NotFound) as info:
            box.exec(["nosuchcommand"])
        assert "nosuchcommand" in info.value.message
        with pytest.raises(libbox.NotSupported):
            proc2 = box.exec(["sleep", "60"])
            try:
                proc2.stats()
            finally:
                proc2.destroy()
        box.pause()
        with pytest.raises(libbox.TryAgain):
            box.exec(["true"])
        box.resume()
        box.kill()
        box.wait()
        with pytest.raises(libbox.NoSuchProcess):
            box.exec(["true"])


def test_exec_with_a_config(ctx, rootfs) -> None:
    with ctx.run(["sleep", "60"], rootfs=rootfs) as box:
        with libbox.Config(sh("echo $X"), env={"X": "from config"}) as proc_cfg:
            with box.exec(proc_cfg, stdout=libbox.PIPE) as proc:
                assert proc.communicate(timeout=10) == (b"from config\n", None)


def test_stats_and_limits(ctx, rootfs) -> None:
    with ctx.run(["sleep", "60"], rootfs=rootfs, memory="64m", pids=20, cpus=0.5) as box:
        assert box.cgroup and box.cgroup.startswith(ctx.cgroup_parent + "/")
        assert cgroup_dirs(box.cgroup)
        stats = box.stats()
        assert set(libbox.STAT_NAMES) <= set(stats)
        assert stats["memory_limit"] == 64 << 20
        assert stats["pids_current"] == 1
        assert stats["memory_current"] is not None and stats["memory_current"] > 0
        box.update_limits(memory="128m", pids=libbox.UNLIMITED)
        assert box.stats()["memory_limit"] == 128 << 20
        with libbox.Config(memory=96 << 20) as limits:
            box.update_limits(limits)
        assert box.stats()["memory_limit"] == 96 << 20
        with pytest.raises(libbox.InvalidArgument):
            box.update_limits(memory="lots")
    # no cgroup: the cgroup functions say so
    with ctx.run(["sleep", "60"], rootfs=rootfs, cgroup="off") as box:
        assert box.cgroup is None
        for op in (box.stats, box.pause, lambda: box.update_limits(memory="64m")):
            with pytest.raises(libbox.NotSupported):
                op()


def test_pids_limit(ctx, rootfs) -> None:
    r = ctx.run_to_completion(sh("for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo all"),
                              rootfs=rootfs, pids=4, stdout=libbox.PIPE,
                              stderr=libbox.STDOUT, timeout=30)
    assert b"can't fork" in r.stdout and b"all" not in r.stdout, r
    assert r.exit_code != 0


def test_memory_limit_oom(ctx, rootfs) -> None:
    # tail keeps a line without newline whole: /dev/zero grows it forever
    with ctx.run(["tail", "/dev/zero"], rootfs=rootfs, memory="32m",
                 memory_swap="32m") as box:
        st = box.wait(timeout=60)
        assert st == (-1, signal.SIGKILL)
        assert box.oom_killed
        assert box.stats()["memory_peak"] >= 16 << 20
    r = ctx.run_to_completion(["tail", "/dev/zero"], rootfs=rootfs, memory="32m",
                              memory_swap="32m", timeout=60)
    assert r.oom_killed and r.signal == signal.SIGKILL


# ---------------------------------------------------------------------------
# Boxes on disk: names, a second context, listing
# ---------------------------------------------------------------------------


def test_open_by_name_from_a_second_context(ctx, rootfs, state_dir) -> None:
    with ctx.run(["sleep", "60"], rootfs=rootfs, name="web",
                 annotations={"owner": "pytest"}) as box:
        assert ctx.list() == [box.id]
        with libbox.Context(state_dir=state_dir) as other:
            with other.open("web") as seen:
                assert seen.kind == "opened"
                assert seen.id == box.id and seen.name == "web"
                assert seen.status == "running" and seen.pid == box.pid
                info = seen.inspect()
                assert info["id"] == box.id and info["name"] == "web"
                assert info["annotations"] == {"owner": "pytest"}
                assert info["status"] == "running"
                assert seen.stats()["pids_current"] == 1
                seen.pause()
                assert box.status == "paused"
                seen.resume()
            # closing an opened handle leaves the box running
            assert box.status == "running"
            with other.open(box.id[:12]) as by_prefix:
                assert by_prefix.id == box.id
            box.rename("web2")
            with pytest.raises(libbox.NotFound):
                other.open("web")
            with other.open("web2") as seen:
                seen.kill(signal.SIGKILL)
            assert box.wait(timeout=10).signal == signal.SIGKILL
            with other.open("web2") as seen:
                assert seen.wait() == (-1, signal.SIGKILL)
                assert seen.status == "exited"
            handles = list(other.boxes())
            assert [b.id for b in handles] == [box.id]
            for b in handles:
                b.close()
    assert ctx.list() == []


def test_names_are_unique(ctx, rootfs) -> None:
    with ctx.run(["sleep", "60"], rootfs=rootfs, name="one") as box:
        with pytest.raises(libbox.Exists) as info:
            ctx.create(["true"], rootfs=rootfs, name="one")
        assert info.value.errno == errno.EEXIST and "one" in info.value.message
        with ctx.run(["sleep", "60"], rootfs=rootfs, name="two") as box2:
            with pytest.raises(libbox.Exists):
                box2.rename("one")
            with pytest.raises(libbox.InvalidArgument):
                box2.rename("not a name")
            assert sorted(ctx.list()) == sorted([box.id, box2.id])


def test_destroy_from_an_opened_handle(ctx, rootfs, state_dir) -> None:
    box = ctx.run(["sleep", "60"], rootfs=rootfs, name="victim")
    try:
        pid, cgroup = box.pid, box.cgroup
        with libbox.Context(state_dir=state_dir) as other:
            other.open("victim").destroy()
        assert box.wait(timeout=10).signal == signal.SIGKILL
        assert ctx.list() == [] and not cgroup_dirs(cgroup) and not pid_alive(pid)
    finally:
        box.destroy()
    box.destroy()  # twice: nothing
    with pytest.raises(libbox.InvalidArgument, match="released"):
        box.kill()


def test_gc(ctx) -> None:
    assert ctx.gc() == 0


# ---------------------------------------------------------------------------
# Bad input and cleanup
# ---------------------------------------------------------------------------


def test_bad_input_at_create(ctx, rootfs, tmp_path: Path) -> None:
    def fails(cls, *words, **kw):
        with pytest.raises(cls) as info:
            ctx.create(**kw)
        e = info.value
        for w in words:
            assert w in e.message, (w, e.message)
        assert e.function == "box_create" and e.errno
        assert ctx.list() == []
        return e

    fails(libbox.NotFound, "/nonexistent/root", argv=["true"], rootfs="/nonexistent/root")
    afile = tmp_path / "file"
    afile.write_text("")
    fails(libbox.NotADirectory, argv=["true"], rootfs=afile)
    fails(libbox.NoDevice, "nosuchfs", argv=["true"], rootfs=rootfs,
          mounts=[("nosuchfs", "none", "/mnt", None)])
    fails(libbox.NotFound, "/no/such/source", argv=["true"], rootfs=rootfs,
          binds=[("/no/such/source", "/mnt")])
    fails(libbox.NotFound, "nosuchcmd", argv=["nosuchcmd"], rootfs=rootfs)
    fails(libbox.InvalidArgument, rootfs=rootfs)  # no command
    fails(libbox.InvalidArgument, argv=["true"], rootfs=rootfs, cgroup="off", memory="64m")
    fails(libbox.InvalidArgument, argv=["true"], rootfs=rootfs, seccomp=afile)
    fails(libbox.NotFound, argv=["true"], rootfs=rootfs, seccomp=tmp_path / "missing.json")
    fails(libbox.InvalidArgument, argv=["true"], rootfs=rootfs, namespaces=["mount", "pid"],
          hostname="needs-uts")
    with pytest.raises(libbox.InvalidArgument):
        ctx.create([])
    with pytest.raises(libbox.InvalidArgument):
        ctx.create([""], rootfs=rootfs)
    with pytest.raises(libbox.InvalidArgument):
        ctx.create(["true"], rootfs="")
    with pytest.raises(libbox.InvalidArgument):
        ctx.create(["true"], rootfs=rootfs, cap_add=["CAP_NOPE"])
    with pytest.raises(libbox.Error) as info:
        ctx.create(["true"], rootfs=rootfs, device_read_bps={"/dev/null": 1})
    assert info.value.errno == errno.ENOTBLK
    # a failing create with pipes closes them all
    fds = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        with pytest.raises(libbox.NotFound):
            ctx.create(["nosuchcmd"], rootfs=rootfs, stdout=libbox.PIPE, stderr=libbox.PIPE)
    assert len(os.listdir("/proc/self/fd")) == fds


def test_cleanup_after_an_exception_in_the_block(ctx, rootfs) -> None:
    seen = {}
    with pytest.raises(RuntimeError, match="boom"):
        with libbox.run(["sh", "-c", "sleep 60 & sleep 60"], ctx=ctx, rootfs=rootfs,
                        stdout=libbox.PIPE, memory="64m") as box:
            seen.update(pid=box.pid, cgroup=box.cgroup, id=box.id)
            assert cgroup_dirs(box.cgroup)
            raise RuntimeError("boom")
    assert ctx.list() == []
    assert not cgroup_dirs(seen["cgroup"])
    assert not pid_alive(seen["pid"])
    assert box.stdout.closed
    with pytest.raises(libbox.NotFound):
        ctx.open(seen["id"])
    # and after a KeyboardInterrupt-like BaseException
    with pytest.raises(KeyboardInterrupt):
        with ctx.run(["sleep", "60"], rootfs=rootfs) as box:
            cg = box.cgroup
            raise KeyboardInterrupt
    assert ctx.list() == [] and not cgroup_dirs(cg)


def test_failed_start_leaves_nothing(ctx, rootfs, tmp_path: Path) -> None:
    # not executable: found at create, refused by execve at start
    host = tmp_path / "bin"
    host.mkdir()
    (host / "script").write_text("not a program\n")
    os.chmod(host / "script", 0o644)
    with pytest.raises(libbox.PermissionDenied) as info:
        ctx.run(["/opt/script"], rootfs=rootfs, binds=[(host, "/opt", True)])
    assert info.value.errno == errno.EACCES and info.value.message
    assert ctx.list() == []


def test_run_to_completion_timeout(ctx, rootfs) -> None:
    t = time.monotonic()
    with pytest.raises(libbox.Timeout):
        ctx.run_to_completion(["sleep", "60"], rootfs=rootfs, timeout=0.2)
    assert time.monotonic() - t < 10
    assert ctx.list() == []


def test_context_outlives_its_boxes(ctx, rootfs, state_dir) -> None:
    c = libbox.Context(state_dir=state_dir, cgroup_parent=ctx.cgroup_parent)
    box = c.run(["sleep", "60"], rootfs=rootfs)
    c.close()  # deferred: the box still needs it
    with pytest.raises(libbox.InvalidArgument, match="closed"):
        c.create(["true"], rootfs=rootfs)
    assert box.status == "running"
    box.destroy()
    assert c._p is None


def test_unreleased_handle_warns(ctx, rootfs, state_dir) -> None:
    b = ctx.run(["sleep", "60"], rootfs=rootfs, name="leaky")
    with libbox.Context(state_dir=state_dir) as other:
        opened = other.open("leaky")
        with pytest.warns(ResourceWarning, match="never destroyed or closed"):
            opened.__del__()
        assert opened._released
    b.destroy()


# ---------------------------------------------------------------------------
# The CI sandbox
# ---------------------------------------------------------------------------

needs_sandbox = pytest.mark.skipif(not libbox.lib.has("box_sandbox_run"),
                                   reason="the library has no box_sandbox_run")


@needs_sandbox
def test_sandbox(ctx, rootfs, tmp_path: Path) -> None:
    work = tmp_path / "ws"
    work.mkdir()
    r = libbox.sandbox(sh("echo out; echo err >&2; echo hi > /ws/f; "
                          "touch /x 2>/dev/null || echo ro; echo t > /tmp/t && cat /tmp/t; "
                          "cat; ls /sys/class/net; exit 3"),
                       ctx=ctx, rootfs=rootfs, binds=[(work, "/ws")], timeout=30)
    assert r.exit_code == 3 and r.signal == 0 and not r.timed_out and not r.oom
    assert r.stdout == b"out\nro\nt\nlo\n" and r.stderr == b"err\n"
    assert not r.stdout_truncated and not r.stderr_truncated
    assert (work / "f").read_text() == "hi\n"
    assert r.wall_ms >= 0 and (r.peak_memory is None or r.peak_memory > 0)
    assert ctx.list() == []


@needs_sandbox
def test_sandbox_on_the_host_root(ctx, tmp_path: Path) -> None:
    """The host's own / as a read-only root, with the sandbox's own /tmp."""
    work = tmp_path / "ws"
    work.mkdir()
    (tmp_path / "host-only").write_text("x")
    r = ctx.sandbox(sh("touch /libbox-pytest-probe 2>/dev/null || echo ro; ls -A /tmp; "
                       "echo hi > /mnt/f; cat /proc/1/comm"),
                    rootfs="/", binds=[(work, "/mnt")], timeout=30)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == b"ro\nsh\n"  # read-only, an empty /tmp, its own pid 1
    assert (work / "f").read_text() == "hi\n"
    assert not os.path.exists("/libbox-pytest-probe")
    assert ctx.list() == []


@needs_sandbox
def test_sandbox_timeout_cap_and_oom(ctx, rootfs) -> None:
    r = ctx.sandbox(sh("echo before; sleep 60"), rootfs=rootfs, timeout=0.3)
    assert r.timed_out and r.signal == signal.SIGKILL and r.stdout == b"before\n"
    assert 250 <= r.wall_ms < 10000 and not r.ok
    r = ctx.sandbox(sh("yes | head -c 100000"), rootfs=rootfs, output_cap=1000)
    assert r.exit_code == 0 and len(r.stdout) == 1000 and r.stdout_truncated
    r = ctx.sandbox(["tail", "/dev/zero"], rootfs=rootfs, memory="32m", memory_swap="32m",
                    timeout=60)
    assert r.oom and r.signal == signal.SIGKILL
    with pytest.raises(libbox.NotFound):
        ctx.sandbox(["true"], rootfs="/nonexistent")
    with pytest.raises(libbox.InvalidArgument):
        ctx.sandbox(["true"], rootfs=rootfs, output_cap=-1)
    assert ctx.list() == []


def test_bridge_network_and_ports(ctx, rootfs) -> None:
    cfg = libbox.Config(sh("ip -4 -o addr show eth0"), rootfs=rootfs)
    cfg.set_network(libbox.NET_BRIDGE).add_port(18080, 80).add_port(19000, 9000, "udp", count=2)
    with ctx.create(cfg, stdout=libbox.PIPE) as box:
        assert box.ip is not None and box.ip.startswith("10.88.")
        ports = box.inspect()["network"]["ports"]
        assert [(p["proto"], p["host_port"], p["box_port"]) for p in ports] == [
            ("tcp", 18080, 80), ("udp", 19000, 9000), ("udp", 19001, 9001)]
        box.start()
        assert box.ip.encode() + b"/16" in box.stdout.read()
        assert box.wait() == (0, 0)
        net = ctx.network_inspect(ctx.bridge)
        assert net["subnet"] == ctx.subnet == "10.88.0.0/16" and net["gateway"] == "10.88.0.1"
        assert box.ip in net["leases"]
    assert ctx.network_inspect("box0")["leases"] == {}
    with pytest.raises(libbox.InvalidArgument):
        libbox.Config(["true"]).add_port(0, 80)
    with pytest.raises(libbox.InvalidArgument):
        ctx.subnet = "10.1.2.3/16"
