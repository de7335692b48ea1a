"""Whole-process start-up time of the command line: `policyengine --version` and a bare call.

    .venv/bin/python benchmarks/cli_startup.py [--runs N]

Runs the installed `policyengine` script N times (default 41) after 3 warm-up runs and prints
the median, the fastest and the 90th percentile of wall-clock milliseconds, and the median CPU
time (user + system, less sensitive to other processes on a shared machine). The target (issue 12) is a
median of at most 80 ms for `--version`. A benchmark, not a test: timing depends on the machine
and its load.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def script() -> str:
    beside = Path(sys.executable).with_name("policyengine")
    return str(beside) if beside.exists() else (shutil.which("policyengine") or "policyengine")


def measure(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) milliseconds of each run, sorted."""
    for _ in range(3):
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        wall.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return sorted(wall), sorted(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41)
    args = parser.parse_args()
    exe = script()
    baseline = measure([sys.executable, "-c", "pass"], args.runs)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    print(f"load average before: {load}")
    print(f"{'command':<32}{'median':>9}{'min':>9}{'p90':>9}{'cpu med':>9}  (ms, {args.runs} runs)")
    for label, argv in (
        ("python -c pass (floor)", [sys.executable, "-c", "pass"]),
        ("policyengine --version", [exe, "--version"]),
        ("policyengine (command list)", [exe]),
    ):
        t, cpu = baseline if argv[-1] == "pass" else measure(argv, args.runs)
        p90 = t[int(0.9 * (len(t) - 1))]
        print(f"{label:<32}{statistics.median(t):>9.1f}{t[0]:>9.1f}{p90:>9.1f}{statistics.median(cpu):>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
