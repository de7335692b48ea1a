"""Whole-process time of the command line: `--version`, a bare call, `run` of one scenario, `check`.

    .venv/bin/python benchmarks/cli_startup.py [--runs N] [--heavy-runs M]
    .venv/bin/python benchmarks/cli_startup.py --against OTHER_CHECKOUT [--heavy-runs M]

Runs the installed `policyengine` script N times (default 41) for `--version` and a bare call,
and M times (default 7) for `run` of one scenario and for `check` on the bundled rules, each
after warm-up runs (so the rulebase cache is warm), and prints the median, the fastest and the
90th percentile of wall-clock milliseconds, and the median CPU time (user + system of the
process: the figure that depends least on what else runs on a shared machine), with the load
average before and after. The package's modules are byte-compiled first (`compileall`), as an
installed wheel is: where PYTHONDONTWRITEBYTECODE is set, nothing else would write them.
Targets (issue 11): `--version` <= 80 ms, `run` of one scenario <= 200 ms, `check` <= 2 s. `run`
is timed on two scenarios: one without a release time, and one with (the DOC release: its run
also works out the federal 48-hour reference, with its holiday table).
With `--against`, only `run` of the two scenarios is timed, alternately from this checkout's `src/` and
another's (say, `git worktree add /tmp/before main`), each through the console script's entry point,
so that the two see the same load: a shared machine's load moves more between minutes than two
versions differ.
A benchmark, not a test: timing depends on the machine and its load.
"""

from __future__ import annotations

import argparse
import compileall
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "scenarios/hennepin-jail-detainer-no-warrant.yaml"
# the mission's own example, with a release time: its run adds the federal 48-hour reference
TIMED_SCENARIO = "scenarios/doc-release-detainer-no-warrant.yaml"


def script() -> str:
    beside = Path(sys.executable).with_name("policyengine")
    return str(beside) if beside.exists() else (shutil.which("policyengine") or "policyengine")


def measure(argv: list[str], runs: int, warm: int = 3) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) milliseconds of each run, sorted."""
    for _ in range(warm):
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
        wall.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return sorted(wall), sorted(cpu)


def load_average() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "?"


def entry_point(src: Path, *argv: str) -> list[str]:
    """The console script's entry point, run from the package below `src` (another checkout's)."""
    code = (
        f"import sys; sys.path.insert(0, {str(src)!r}); sys.argv = ['policyengine', *{list(argv)!r}]\n"
        "from mn_ice_policyengine import main; sys.exit(main())"
    )
    return [sys.executable, "-c", code]


def against(other: Path, runs: int) -> int:
    """`run` of each timed scenario from this checkout and from `other`, alternately, `runs` times each."""
    trees = {"this checkout": ROOT / "src", str(other): other / "src"}
    for src in trees.values():
        compileall.compile_dir(str(src), quiet=1)
        for scenario in (SCENARIO, TIMED_SCENARIO):  # warm each one's caches (their formats may differ)
            for _ in range(2):
                subprocess.run(entry_point(src, "run", scenario), stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
    print(f"load average before: {load_average()}")
    for scenario in (SCENARIO, TIMED_SCENARIO):
        wall: dict[str, list[float]] = {name: [] for name in trees}
        cpu: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(runs):
            for name, src in trees.items():
                w, c = measure(entry_point(src, "run", scenario), 1, warm=0)
                wall[name] += w
                cpu[name] += c
        print(f"run {Path(scenario).name}")
        print(f"{'  from':<40}{'median':>9}{'min':>9}{'p90':>9}{'cpu med':>9}{'cpu min':>9}  (ms)")
        for name in trees:
            t, c = sorted(wall[name]), sorted(cpu[name])
            p90 = t[int(0.9 * (len(t) - 1))]
            print(
                f"  {name[-38:]:<38}{statistics.median(t):>9.1f}{t[0]:>9.1f}{p90:>9.1f}"
                f"{statistics.median(c):>9.1f}{c[0]:>9.1f}"
            )
    print(f"load average after: {load_average()}  ({runs} runs each, alternating)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41, help="runs of --version and of a bare call")
    parser.add_argument("--heavy-runs", type=int, default=7, help="runs of `run` and of `check`")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT", help="time `run` alternately with this checkout")
    args = parser.parse_args()
    if args.against is not None:
        return against(args.against.resolve(), args.heavy_runs)
    import policyengine

    compileall.compile_dir(str(Path(policyengine.__file__).parent), quiet=1)
    exe = script()
    print(f"load average before: {load_average()}")
    print(f"{'command':<40}{'median':>9}{'min':>9}{'p90':>9}{'cpu med':>9}  (ms)")
    commands = (
        ("python -c pass (floor)", [sys.executable, "-c", "pass"], args.runs),
        ("policyengine --version", [exe, "--version"], args.runs),
        ("policyengine (command list)", [exe], args.runs),
        ("policyengine run <one scenario>", [exe, "run", SCENARIO], args.heavy_runs),
        ("policyengine run <released at a time>", [exe, "run", TIMED_SCENARIO], args.heavy_runs),
        ("policyengine check", [exe, "check"], args.heavy_runs),
    )
    for label, argv, runs in commands:
        t, cpu = measure(argv, runs, warm=3 if runs > 10 else 1)
        p90 = t[int(0.9 * (len(t) - 1))]
        print(
            f"{label:<40}{statistics.median(t):>9.1f}{t[0]:>9.1f}{p90:>9.1f}{statistics.median(cpu):>9.1f}"
            f"  ({runs} runs)",
            flush=True,
        )
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
