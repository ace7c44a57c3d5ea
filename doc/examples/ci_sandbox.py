#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A CI step in a sandbox: build and run a C program with the host's
compiler, which the box sees read-only, on a busybox root.

    ci_sandbox.py ROOTFS WORKSPACE

WORKSPACE is the box's writable /work; everything else is read-only, the
network is loopback only, memory, tasks and cpu are limited, and the step is
killed after 60 s.  The same as ci_sandbox.c, through the Python binding."""
import os
import sys

import libbox

PROGRAM = ('#include <stdio.h>\n'
           'int main(void) { printf("hello from the sandbox: %d\\n", 6 * 7); return 0; }\n')


def main() -> int:
    rootfs, work = sys.argv[1], sys.argv[2]
    with open(os.path.join(work, "hello.c"), "w") as f:
        f.write(PROGRAM)
    ctx = libbox.Context(state_dir=os.environ.get("LIBBOX_STATE"),
                         cgroup_parent=os.environ.get("LIBBOX_CGROUP_PARENT"))
    binds = [(work, "/work", False)]
    binds += [(d, d, True) for d in ("/usr", "/lib", "/lib64") if os.path.exists(d)]
    r = ctx.sandbox(["/bin/sh", "-c", "gcc -O2 -o hello hello.c && ./hello"],
                    rootfs=rootfs, cwd="/work", binds=binds,
                    memory="512m", pids=256, cpus=1.0, timeout=60, output_cap=1 << 16)
    print(f"exit code {r.exit_code}, signal {r.signal}, oom {int(r.oom)}, "
          f"timed out {int(r.timed_out)}, peak memory {(r.peak_memory or 0) // 1024} KiB, "
          f"{r.wall_ms} ms")
    print("stdout: " + r.stdout.decode(), end="")
    if r.stderr:
        print("stderr: " + r.stderr.decode(), end="")
    ctx.close()
    return 0 if r.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
