"""Benchmark of `policyengine batch` (a benchmark, not a test: nothing here asserts a speed).

    python -m benchmarks.batch_bench 100000            # both engines, 1 and 2 workers
    python -m benchmarks.batch_bench 1000000 --only durable:1
    python -m benchmarks.batch_bench 1000000 --only durable:1 --only durable:2 --repeat 3
    python -m benchmarks.batch_bench --per-case 20000  # the per-case path, no deduplication

For each engine and worker count it runs `policyengine batch` end to end (read CSV, evaluate,
write CSV) in a fresh process on N seeded records (benchmarks/generate.py) and prints
records/s (wall clock), records per CPU-second (user + system time of the process and its
workers: the figure that does not depend on what else loads the machine; then split between
the reading process and the worker processes), the peak memory
(largest resident set of the batch process or any of its workers) and the durable/reference
ratio. `--per-case` evaluates records one by one, every record
through facts -> engine -> resolve -> output row, with no case deduplication.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _one(args: list[str]) -> None:
    """Run inside a fresh process: one batch, then print wall time and peak memory as JSON."""
    from policyengine.cli import main

    start = time.perf_counter()
    code = main(["batch", *args])
    wall = time.perf_counter() - start
    # the workers are children of the forkserver, not of this process: stopping it (after it has
    # reaped them) brings their CPU time and peak memory into RUSAGE_CHILDREN below
    from multiprocessing import forkserver

    time.sleep(0.5)  # the forkserver reaps its exited workers when it next wakes
    forkserver._forkserver._stop()  # type: ignore[attr-defined]
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    main_cpu = own.ru_utime + own.ru_stime
    workers_cpu = children.ru_utime + children.ru_stime  # the forkserver's included
    peak = max(own.ru_maxrss, children.ru_maxrss)
    cpu = main_cpu + workers_cpu
    print(json.dumps({"code": code, "wall": wall, "cpu": cpu, "main_cpu": main_cpu, "peak_kib": peak}))


def end_to_end(
    n: int,
    runs: list[tuple[str, int]],
    folder: Path,
    repeat: int = 1,
    pool: int | None = None,
    chunk_size: int | None = None,
) -> None:
    """Each run in `runs` end to end, `repeat` times in turn (1 worker, 2 workers, 1 worker, ...),
    and with `repeat` > 1 the median of each: one run of 20 s moves by a tenth on this machine.
    With `pool`, the records go round the first `pool` ones (`generate.pooled`)."""
    from benchmarks.generate import write_csv
    from policyengine.pipeline import load_rulebase

    source = folder / (f"records-{n}.csv" if pool is None else f"records-{n}-pool-{pool}.csv")
    if not source.exists():
        t = time.perf_counter()
        write_csv(source, load_rulebase(), n, seed=7, pool=pool)
        print(f"generated {n} records in {time.perf_counter() - t:.1f} s ({source.stat().st_size >> 20} MiB)")
    turns: dict[tuple[str, int], list[float]] = {run: [] for run in runs}
    for turn, (engine, workers) in ((t, run) for t in range(repeat) for run in runs):
        out = folder / f"out-{engine}-{workers}.csv"
        out.unlink(missing_ok=True)  # neither an old output (replacing it costs its unlinking) nor an old run's parts
        shutil.rmtree(out.with_name(out.name + ".parts"), ignore_errors=True)
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.batch_bench",
            "--one",
            str(source),
            "--out",
            str(out),
            "--engine",
            engine,
            "--workers",
            str(workers),
            *(["--chunk-size", str(chunk_size)] if chunk_size else []),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        summary = done.stderr.splitlines()[0] if done.stderr else ""
        turns[(engine, workers)].append(n / result["wall"])
        label = f"[turn {turn + 1}] " if repeat > 1 else ""
        print(
            f"{label}{engine:10} workers={workers}  {n / result['wall']:>9,.0f} records/s "
            f"(wall {result['wall']:6.1f} s)  "
            f"{n / result['cpu']:>9,.0f} records per CPU-second (CPU {result['cpu']:6.1f} s)  "
            f"[reading process {result['main_cpu']:5.1f} s, workers {result['cpu'] - result['main_cpu']:5.1f} s]  "
            f"peak {result['peak_kib'] / 1024:5.0f} MiB   {summary}",
            flush=True,
        )
        out.unlink(missing_ok=True)
    rates = {run: statistics.median(found) for run, found in turns.items()}
    if repeat > 1:
        for (engine, workers), rate in rates.items():
            print(f"{engine:10} workers={workers}  {rate:>9,.0f} records/s, median of {repeat} runs")
    for workers in (1, 2):
        if ("durable", workers) in rates and ("reference", workers) in rates:
            ratio = rates[("durable", workers)] / rates[("reference", workers)]
            print(f"durable/reference at {workers} worker(s): {ratio:.2f}")
    for engine in ("durable", "reference"):
        if (engine, 1) in rates and (engine, 2) in rates:
            print(f"{engine}: 2 workers / 1 worker = {rates[(engine, 2)] / rates[(engine, 1)]:.2f}x")


def per_case(n: int, repeat: int = 1) -> None:
    """Every record through the whole per-case path (no case deduplication), both engines.

    With `repeat` > 1 the engines take turns, each turn on a freshly loaded rulebase (nothing
    remembered from the turn before), and the median of the turns is printed beside each: on a
    shared virtual machine one timing of a second or so moves by a third from run to run."""
    from benchmarks.generate import records
    from policyengine.batch import Batch
    from policyengine.pipeline import load_rulebase

    rows = list(records(load_rulebase(), n, seed=7))
    turns: dict[str, list[float]] = {"durable": [], "reference": []}
    for turn in range(repeat):
        for engine in turns:
            rulebase = load_rulebase()  # a fresh copy each: no engine inherits remembered resolutions
            batch = Batch(rulebase, engine)
            facts = [batch.facts_of({k: v for k, v in r.items() if k not in ("id", "time")}) for r in rows]
            for f in facts[:200]:  # warm up: rulesets registered, generated code compiled
                batch._evaluate(f, f["date"])
            start = time.process_time()
            for f in facts:
                batch._evaluate(f, f["date"])
            turns[engine].append(n / (time.process_time() - start))
            label = f" (turn {turn + 1} of {repeat})" if repeat > 1 else ""
            print(f"per-case path, {engine:10} {turns[engine][-1]:>10,.0f} records/s (CPU time, one core){label}")
    rates = {engine: statistics.median(found) for engine, found in turns.items()}
    if repeat > 1:
        for engine, rate in rates.items():
            print(f"per-case path, {engine:10} {rate:>10,.0f} records/s, median of {repeat} turns")
    print(f"per-case durable/reference ratio: {rates['durable'] / rates['reference']:.2f}")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--one":
        _one(argv[1:])
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, nargs="?", default=100_000)
    p.add_argument("--only", action="append", metavar="ENGINE:WORKERS", help="e.g. durable:1 (repeatable)")
    p.add_argument("--per-case", type=int, metavar="N", help="measure the per-case path on N records instead")
    p.add_argument("--repeat", type=int, default=1, metavar="K", help="K turns of each run (or engine); the median")
    p.add_argument("--dir", type=Path, help="where records and outputs go (default: a temporary directory)")
    p.add_argument("--chunk-size", type=int, metavar="ROWS", help="batch's --chunk-size (default: batch's own)")
    p.add_argument(
        "--pool", type=int, metavar="K", help="records go round the first K generated (N grows, the cases do not)"
    )
    args = p.parse_args(argv)
    if args.per_case:
        per_case(args.per_case, args.repeat)
        return 0
    runs = [(e, w) for e in ("durable", "reference") for w in (1, 2)]
    if args.only:
        runs = [(s.split(":")[0], int(s.split(":")[1])) for s in args.only]
    folder = args.dir or Path(tempfile.mkdtemp(prefix="policyengine-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    end_to_end(args.n, runs, folder, args.repeat, args.pool, args.chunk_size)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
