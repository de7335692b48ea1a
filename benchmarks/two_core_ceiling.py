"""How far two processes can go on this machine: the ceiling for `batch --workers 2` (issue 11).

    python -m benchmarks.two_core_ceiling 1000000 --repeat 3 --dir D

A benchmark, not a test: nothing here asserts a speed. Each round measures, one after another:

1. the machine: a pure-Python loop in one process, then in two processes at once (what two
   busy cores give to work that shares nothing, not even memory traffic to speak of);
2. `batch --workers 1` on the N seeded records (the same file as `batch_bench`);
3. the ideal split: the records cut in two files of N/2 records each, such that no distinct case
   is in both (records grouped by the facts their case is keyed by, `Batch._base_key`, the
   groups dealt out to balance the records), and one `batch --workers 1` on each, at once.
   That is two processes that share nothing: no chunk is sent, no case asked, no part file
   joined, yet all the work of the run is done and each distinct case is evaluated once. No
   design of `--workers 2` can do less work, so no design can beat it by more than noise;
4. `batch --workers 2` on the whole file.

It prints wall-clock seconds and the ratios against `--workers 1`, each round and as medians,
and how many times the ideal split's time `--workers 2` took (what sharing the work costs).
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOP = "s = 0\nfor i in range(20_000_000):\n    s += i * i\n"


def split(source: Path, halves: tuple[Path, Path]) -> tuple[int, int, int]:
    """Cut `source` in two files of (nearly) equal records whose distinct cases are disjoint;
    return the records in each and the number of groups of keyed facts."""
    from policyengine.batch import Batch
    from policyengine.pipeline import load_rulebase

    batch = Batch(load_rulebase(), "reference")
    group_of: dict[tuple, tuple] = {}  # a row's stated facts -> its keyed facts
    rows: list[tuple[tuple, str]] = []
    sizes: Counter[tuple] = Counter()
    with open(source, newline="", encoding="utf-8") as f:
        header = f.readline()
        names = next(csv.reader([header]))
        for line in f:
            (cells,) = csv.reader([line])
            stated = tuple((k, v) for k, v in zip(names, cells, strict=True) if v and k not in ("id", "time"))
            group = group_of.get(stated)
            if group is None:
                group = group_of[stated] = batch._base_key(batch.facts_of(dict(stated)))[0]
            sizes[group] += 1
            rows.append((group, line))
    side: dict[tuple, int] = {}
    totals = [0, 0]
    for group, size in sorted(sizes.items(), key=lambda item: (-item[1], repr(item[0]))):
        k = 0 if totals[0] <= totals[1] else 1
        side[group] = k
        totals[k] += size
    with open(halves[0], "w", encoding="utf-8") as a, open(halves[1], "w", encoding="utf-8") as b:
        a.write(header)
        b.write(header)
        for group, line in rows:
            (a if side[group] == 0 else b).write(line)
    return totals[0], totals[1], len(sizes)


def _script() -> str:
    beside = Path(sys.executable).with_name("policyengine")
    return str(beside) if beside.exists() else (shutil.which("policyengine") or "policyengine")


def _batch(source: Path, out: Path, workers: int) -> subprocess.Popen[str]:
    out.unlink(missing_ok=True)  # replacing an old output would cost its unlinking
    argv = [_script(), "batch", str(source), "--out", str(out), "--workers", str(workers)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _cases(summary: str) -> int:
    """The distinct cases a batch evaluated, from its summary line on stderr."""
    found = re.search(r"(\d+) distinct cases evaluated", summary)
    if found is None:
        raise SystemExit(f"no summary line in: {summary[:500]}")
    return int(found.group(1))


def timed(*starts: tuple[Path, Path, int]) -> tuple[float, int]:
    """Wall-clock seconds until every batch started together has ended, and the distinct cases
    they evaluated in all."""
    t = time.perf_counter()
    runs = [_batch(*start) for start in starts]
    cases = 0
    for run in runs:
        _, err = run.communicate()
        if run.returncode:
            raise SystemExit(f"batch failed: {err}")
        cases += _cases(err)
    return time.perf_counter() - t, cases


def loops(together: int) -> float:
    t = time.perf_counter()
    runs = [subprocess.Popen([sys.executable, "-c", LOOP]) for _ in range(together)]
    for run in runs:
        run.wait()
    return time.perf_counter() - t


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, nargs="?", default=1_000_000)
    p.add_argument("--repeat", type=int, default=3, metavar="K")
    p.add_argument("--dir", type=Path, help="where records and outputs go (default: a temporary directory)")
    args = p.parse_args(argv)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="policyengine-ceiling-"))
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"records-{args.n}.csv"
    if not source.exists():
        from benchmarks.generate import write_csv
        from policyengine.pipeline import load_rulebase

        write_csv(source, load_rulebase(), args.n, seed=7)
    halves = (folder / f"records-{args.n}-half-a.csv", folder / f"records-{args.n}-half-b.csv")
    t = time.perf_counter()
    a, b, groups = split(source, halves)
    print(f"split in {time.perf_counter() - t:.0f} s: {a} and {b} records, {groups} groups of keyed facts")
    out = folder / "out.csv"
    found: dict[str, list[float]] = {k: [] for k in ("loop 1", "loop 2", "workers 1", "ideal split", "workers 2")}
    for turn in range(args.repeat):
        found["loop 1"].append(loops(1))
        found["loop 2"].append(loops(2))
        seconds, whole = timed((source, out, 1))
        found["workers 1"].append(seconds)
        seconds, both = timed((halves[0], folder / "out-a.csv", 1), (halves[1], folder / "out-b.csv", 1))
        found["ideal split"].append(seconds)
        if both != whole:  # a case in both halves: the split would do more work than the run
            raise SystemExit(f"the halves evaluated {both} distinct cases, the whole file {whole}")
        found["workers 2"].append(timed((source, out, 2))[0])
        one = found["workers 1"][-1]
        print(
            f"[turn {turn + 1}] machine: a loop alone {found['loop 1'][-1]:.2f} s, two at once"
            f" {found['loop 2'][-1]:.2f} s ({2 * found['loop 1'][-1] / found['loop 2'][-1]:.2f}x the work per second);"
            f" batch: --workers 1 {one:.2f} s ({whole} distinct cases, as in the halves together),"
            f" ideal split {found['ideal split'][-1]:.2f} s"
            f" ({one / found['ideal split'][-1]:.2f}x), --workers 2 {found['workers 2'][-1]:.2f} s"
            f" ({one / found['workers 2'][-1]:.2f}x; {found['workers 2'][-1] / found['ideal split'][-1]:.2f} times"
            " the ideal split's time)",
            flush=True,
        )
        for path in (out, folder / "out-a.csv", folder / "out-b.csv"):
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".errors.csv").unlink(missing_ok=True)
            shutil.rmtree(path.with_name(path.name + ".parts"), ignore_errors=True)
    med = {k: statistics.median(v) for k, v in found.items()}
    print(
        f"medians of {args.repeat}: machine {2 * med['loop 1'] / med['loop 2']:.2f}x;"
        f" --workers 1 {med['workers 1']:.2f} s, ideal split {med['ideal split']:.2f} s"
        f" ({med['workers 1'] / med['ideal split']:.2f}x), --workers 2 {med['workers 2']:.2f} s"
        f" ({med['workers 1'] / med['workers 2']:.2f}x); --workers 2 took"
        f" {statistics.median(w / i for w, i in zip(found['workers 2'], found['ideal split'], strict=True)):.2f}"
        " times the ideal split's time (median of the turns)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
