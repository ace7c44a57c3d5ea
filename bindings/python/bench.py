#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench.py: the cost of the Python binding over C for create-to-exit of
/bin/true in a box (the issue's target: Python within 2 ms of C).

    LIBBOX_LIBRARY=build/lib/libbox.so.1 python3 bindings/python/bench.py \\
        [-n 30] [-w 2] [--no-net] [--rounds 2] [--c build/tests/bench/bench_start] ROOTFS

Times, N times after W untimed warm-ups, with what tests/bench/bench_start
box does in C (namespaces NS_DEFAULT, less NS_NET with --no-net; stdio
/dev/null; the default state directory; a cgroup under a unique parent):
  python raw box_run    lib.box_run() through ctypes, no binding code: what
                        being a Python process costs by itself
  python call(config)   libbox.call(cfg) of one Config made beforehand, as
                        bench_start makes its config once (box_run per run)
  python call(kwargs)   libbox.call(["/bin/true"], rootfs=..., ...): a new
                        Config from keywords each time
  python run+wait       with libbox.run(...) as box: box.wait(), the
                        create/start/wait/destroy steps one by one
and, with --c (found in ../../build*/tests/bench when not given), runs
bench_start box on the same root in between, for the C figure.  Prints one
line per row like bench_start's: n=N median_ms=M p90_ms=P min_ms=A max_ms=B,
then each Python median minus C's.  Needs root.  The cgroup parent it made
is removed at the end.
"""
from __future__ import annotations

import argparse
import glob
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import libbox  # noqa: E402


def summary(ms: List[float]) -> Dict[str, float]:
    s = sorted(ms)
    return {"n": len(s), "median_ms": statistics.median(s),
            "p90_ms": s[max(0, math.ceil(0.9 * len(s)) - 1)], "min_ms": s[0], "max_ms": s[-1]}


def line(d: Dict[str, float]) -> str:
    return " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in d.items())


def timed(fn: Callable[[], None], n: int, warmup: int) -> List[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - t) / 1e6)
    return out


def run_c(bench_start: str, rootfs: str, n: int, warmup: int, no_net: bool) -> Dict[str, float]:
    cmd = [bench_start, "box", "-n", str(n), "-w", str(warmup)] + \
        (["--no-net"] if no_net else []) + [rootfs]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    fields = dict(f.split("=", 1) for f in out.split() if "=" in f)
    return {"n": int(fields["n"]), **{k: float(fields[k]) for k in
                                      ("median_ms", "p90_ms", "min_ms", "max_ms")}}


def find_bench_start() -> Optional[str]:
    for p in sorted(glob.glob(str(HERE.parent.parent / "build*" / "tests" / "bench" /
                                  "bench_start"))):
        if os.access(p, os.X_OK) and "asan" not in p:
            return p
    return None


def remove_cgroup(rel: str) -> None:
    with open("/proc/self/mountinfo") as f:
        for ln in f:
            left, _, right = ln.partition(" - ")
            r = right.split()
            if len(r) >= 3 and (r[0] == "cgroup2" or (r[0] == "cgroup" and "name=" not in r[2])):
                d = left.split()[4] + rel
                for sub in (sorted(Path(d).iterdir(), reverse=True) if os.path.isdir(d) else []):
                    if sub.is_dir():
                        os.rmdir(sub)
                if os.path.isdir(d):
                    os.rmdir(d)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rootfs")
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("-w", "--warmup", type=int, default=2)
    ap.add_argument("--no-net", action="store_true")
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate C and Python this many times (medians of all runs)")
    ap.add_argument("--c", dest="bench_start", default=None,
                    help="bench_start to run for the C figure (default: found in build*/)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench.py: needs root", file=sys.stderr)
        return 2
    bench_start = args.bench_start or find_bench_start()

    parent = f"/libbox-pybench-{os.getpid()}"
    ctx = libbox.Context(cgroup_parent=parent)
    ns = libbox.NS_DEFAULT & ~libbox.NS_NET if args.no_net else libbox.NS_DEFAULT
    kw = dict(rootfs=args.rootfs, namespaces=ns, stdin=libbox.DEVNULL, stdout=libbox.DEVNULL,
              stderr=libbox.DEVNULL)
    cfg = libbox.Config(["/bin/true"], **kw)

    def call_config() -> None:
        if not libbox.call(cfg, ctx=ctx).ok:
            raise SystemExit("bench.py: /bin/true failed")

    code, sig = libbox.ctypes.c_int(), libbox.ctypes.c_int()

    def raw_box_run() -> None:
        if libbox.lib.box_run(ctx._p, cfg._p, libbox.ctypes.byref(code),
                              libbox.ctypes.byref(sig)) < 0 or code.value != 0:
            raise SystemExit("bench.py: /bin/true failed: " + libbox.last_error())

    def call_kwargs() -> None:
        if not libbox.call(["/bin/true"], ctx=ctx, **kw).ok:
            raise SystemExit("bench.py: /bin/true failed")

    def run_wait() -> None:
        with libbox.run(["/bin/true"], ctx=ctx, **kw) as box:
            if not box.wait().ok:
                raise SystemExit("bench.py: /bin/true failed")

    rows: Dict[str, List[float]] = {"python raw box_run": [], "python call(config)": [],
                                    "python call(kwargs)": [], "python run+wait": []}
    c_medians: List[Dict[str, float]] = []
    try:
        for _ in range(args.rounds):
            if bench_start:
                c_medians.append(run_c(bench_start, args.rootfs, args.n, args.warmup,
                                       args.no_net))
            rows["python raw box_run"] += timed(raw_box_run, args.n, args.warmup)
            rows["python call(config)"] += timed(call_config, args.n, args.warmup)
            rows["python call(kwargs)"] += timed(call_kwargs, args.n, args.warmup)
            rows["python run+wait"] += timed(run_wait, args.n, args.warmup)
    finally:
        cfg.close()
        ctx.close()
        remove_cgroup(parent)

    net = "without a net ns" if args.no_net else "with a net ns"
    print(f"create-to-exit of /bin/true, {net}, libbox {libbox.version()} "
          f"({libbox.lib.path}), {args.rounds} round(s) of {args.n}")
    c_med = None
    if c_medians:
        c_med = statistics.median(c["median_ms"] for c in c_medians)
        print(f"{'C bench_start box':22} median_ms={c_med:.2f} (median of the rounds' medians; "
              f"{', '.join(line(c) for c in c_medians)})")
    else:
        print("C: no bench_start found (give --c PATH)")
    for name, ms in rows.items():
        s = summary(ms)
        extra = f"  (+{s['median_ms'] - c_med:.2f} ms over C)" if c_med is not None else ""
        print(f"{name:22} {line(s)}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
