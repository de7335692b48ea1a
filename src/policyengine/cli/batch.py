"""`policyengine batch`: evaluate a file of records (CSV, JSON Lines or Parquet) at scale.

The input is read in chunks of `--chunk-size` rows. Each chunk's output and errors are written
to a work directory beside the output (`OUTPUT.parts/`), each file atomically (written, then
renamed) and the chunk marked done last; an interrupted run started again with the same command
skips the chunks already done, so no row is written twice or lost. At the end the parts are
joined into OUTPUT (and the errors file) in input order and the work directory is removed.
`--workers N` evaluates chunks in N processes; the output is the same as with one.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from policyengine.cli.options import add_engine_option, add_rules_option
from policyengine.errors import InputError

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
MANIFEST = "manifest.json"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def register(sub) -> None:
    p = sub.add_parser(
        "batch",
        help="evaluate a file of records (CSV, JSON Lines, Parquet)",
        description="Evaluate every record of a CSV, JSON Lines or Parquet file: one output row per record "
        "with each action's verdict, practice and deciding rules; bad rows go to an errors file.",
    )
    p.add_argument("input", metavar="INPUT", help="records: .csv, .jsonl or .parquet")
    p.add_argument("--out", required=True, metavar="OUTPUT", help="output file: .csv, .jsonl or .parquet")
    p.add_argument(
        "--errors", metavar="FILE", help="bad rows, with row number and message (default: OUTPUT.errors.csv)"
    )
    p.add_argument("--mapping", metavar="FILE", help="YAML file mapping the dataset's columns and values")
    p.add_argument("--summary", metavar="FILE", help="write the summary as JSON here (it always goes to stderr)")
    add_rules_option(p)
    add_engine_option(p)
    p.add_argument("--as-of", type=_date, metavar="DATE", help="evaluate every record as of this date")
    p.add_argument(
        "--known-on",
        type=_date,
        metavar="DATE",
        help="judge every record with the law as known on this day (default: today, recorded for a resume)",
    )
    p.add_argument("--actions", metavar="A,B,...", help="only these actions (comma-separated)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: the machine's cores)")
    p.add_argument("--chunk-size", type=int, default=50_000, metavar="ROWS", help="rows per chunk (default 50000)")
    p.add_argument(
        "--dask",
        metavar="SCHEDULER|local",
        help="evaluate on a Dask cluster (address, or 'local' for a LocalCluster); OUTPUT is a Parquet directory",
    )
    p.add_argument("--dask-workers", type=int, default=2, metavar="N", help="with --dask local: workers (default 2)")
    p.set_defaults(handler=main)


def _format(path: str, what: str) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError.at(path, None, f"{what} must end in .csv, .jsonl or .parquet")
    return fmt


def main(args: argparse.Namespace) -> int:
    from policyengine.pipeline import today

    args.known_on = args.known_on or today()  # one date of knowledge for the whole run, and its resume
    if args.dask:
        from policyengine.batch_dask import run_dask

        summary = run_dask(args)
    else:
        summary = run(args)
    _print_summary(summary)
    if args.summary:
        Path(args.summary).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


def _print_summary(summary: dict[str, Any]) -> None:
    err = sys.stderr
    print(
        f"policyengine batch: {summary['rows']} rows read, {summary['written']} written, "
        f"{summary['errors']} in the errors file, {summary['cases']} distinct cases evaluated",
        file=err,
    )
    totals: Counter[tuple[str, str]] = Counter()
    for actions in summary["counts"].values():
        for action, verdicts in actions.items():
            for verdict, k in verdicts.items():
                totals[(action, verdict)] += k
    for (action, verdict), k in sorted(totals.items()):
        print(f"  {action:30} {verdict:15} {k}", file=err)


# ------------------------------------------------------------------ settings


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """What a run depends on besides the input: a resumed run must have the same."""
    from policyengine import __version__

    return {
        "version": __version__,
        "rules": str(Path(args.rules).resolve()) if args.rules else None,
        "engine": args.engine,
        "as_of": args.as_of.isoformat() if args.as_of else None,
        "known_on": args.known_on.isoformat(),
        "actions": args.actions,
        "mapping": _file_hash(args.mapping) if args.mapping else None,
        "chunk_size": args.chunk_size,
        "out": _format(args.out, "--out"),
    }


def _file_hash(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError.at(path, None, f"cannot read file: {exc.strerror}") from None


def _input_identity(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


# ------------------------------------------------------------------- readers


def read_chunks(path: Path, fmt: str, size: int) -> Iterator[dict[str, list[Any]] | Any]:
    """The input in chunks of exactly `size` rows (the last may be shorter), in order."""
    if fmt == "jsonl":
        yield from _jsonl_chunks(path, size)
        return
    import pyarrow as pa

    batches: Iterator[Any]
    if fmt == "csv":
        import pyarrow.csv as pacsv

        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), None)
        if not header:
            raise InputError.at(str(path), 1, "the CSV file has no header row")
        convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in header}, strings_can_be_null=False)
        try:
            reader = pacsv.open_csv(path, convert_options=convert, read_options=pacsv.ReadOptions(block_size=1 << 22))
        except pa.ArrowInvalid as exc:
            raise InputError.at(str(path), None, f"cannot read CSV: {exc}") from None
        batches = _guarded(reader, path)
    else:
        import pyarrow.parquet as pq

        try:
            batches = pq.ParquetFile(path).iter_batches(batch_size=size)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError.at(str(path), None, f"cannot read Parquet: {exc}") from None
    pending: list[Any] = []
    count = 0
    for batch in batches:
        while batch.num_rows:
            take = min(size - count, batch.num_rows)
            pending.append(batch.slice(0, take))
            batch = batch.slice(take)
            count += take
            if count == size:
                yield pa.Table.from_batches(pending)
                pending, count = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def _guarded(reader: Any, path: Path) -> Iterator[Any]:
    import pyarrow as pa

    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            raise InputError.at(str(path), None, f"cannot read CSV: {exc}") from None
        yield batch


def _jsonl_chunks(path: Path, size: int) -> Iterator[dict[str, list[Any]]]:
    from policyengine.batch import PROBLEM

    def flat(obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in obj.items():
            if isinstance(v, dict):  # {"place": {"county": ...}} reads as place.county, as in scenarios
                for k2, v2 in v.items():
                    out[f"{k}.{k2}"] = v2
            else:
                out[k] = v
        return out

    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                rows.append(flat(obj) if isinstance(obj, dict) else {PROBLEM: "a JSON Lines row is an object"})
            except json.JSONDecodeError as exc:
                rows.append({PROBLEM: f"invalid JSON: {exc.msg}"})
            if len(rows) == size:
                yield _columns(rows)
                rows = []
    if rows:
        yield _columns(rows)


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in rows] for name in names}


# ------------------------------------------------------------- chunk files


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def encode_table(table: Any, fmt: str, header: bool) -> bytes:
    """Output rows as bytes of the output format (a CSV part without its header)."""
    if fmt == "csv":
        import pyarrow.csv as pacsv

        sink = io.BytesIO()
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=header))
        return sink.getvalue()
    if fmt == "jsonl":
        cols = [table.column(i).to_pylist() for i in range(table.num_columns)]
        names = table.column_names
        lines = [json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False) for row in zip(*cols, strict=True)]
        return ("\n".join(lines) + ("\n" if lines else "")).encode()
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


class Worker:
    """Evaluates chunks and writes their files; one per process (the rulebase compiled once)."""

    batch: Any = None

    @classmethod
    def setup(cls, args: argparse.Namespace) -> None:
        from policyengine.batch import Batch, load_mapping
        from policyengine.pipeline import load_rulebase

        rulebase = load_rulebase(args.rules)
        mapping = load_mapping(args.mapping, rulebase) if args.mapping else None
        actions = [a.strip() for a in args.actions.split(",")] if args.actions else None
        cls.batch = Batch(rulebase, args.engine, actions, args.as_of, mapping, known_on=args.known_on)

    @classmethod
    def chunk(cls, number: int, first_row: int, data: Any, parts: str, fmt: str) -> dict[str, Any]:
        """Evaluate one chunk; write its output, then its done marker (with errors and counts)."""
        batch = cls.batch
        before = batch.case_count
        result = (
            batch.evaluate_columns(data, first_row) if isinstance(data, dict) else batch.evaluate_arrow(data, first_row)
        )
        folder = Path(parts)
        _atomic_write(folder / f"{number:06d}.{fmt}", encode_table(result.table, fmt, header=False))
        done = {
            "chunk": number,
            "rows": result.rows,
            "written": result.table.num_rows,
            "errors": [[r, None if i is None else str(i), m] for r, i, m in result.errors],
            "counts": [[*k, v] for k, v in sorted(result.counts.items())],
            "cases": batch.case_count - before,
        }
        _atomic_write(folder / f"{number:06d}.done.json", json.dumps(done).encode())
        return done


def _init_worker(args: argparse.Namespace) -> None:
    Worker.setup(args)


def _chunk_task(number: int, first_row: int, data: Any, parts: str, fmt: str) -> dict[str, Any]:
    return Worker.chunk(number, first_row, data, parts, fmt)


# ----------------------------------------------------------------------- run


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate INPUT into OUTPUT (resuming an interrupted run); return the summary."""
    from policyengine.batch import summary_dict

    source, out = Path(args.input), Path(args.out)
    in_fmt, out_fmt = _format(args.input, "INPUT"), _format(args.out, "--out")
    if not source.is_file():
        raise InputError.at(args.input, None, "file not found")
    if args.chunk_size < 1 or args.workers < 1:
        raise InputError.at("--chunk-size/--workers", None, "must be at least 1")
    errors_path = Path(args.errors) if args.errors else out.with_name(out.name + ".errors.csv")
    parts = out.with_name(out.name + ".parts")
    manifest = {"input": _input_identity(source), "settings": settings(args)}
    parts.mkdir(parents=True, exist_ok=True)
    found = parts / MANIFEST
    if found.exists():
        try:
            previous = json.loads(found.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        if previous != manifest:
            raise InputError.at(
                str(parts),
                None,
                "holds an interrupted run of another input or other options; remove it to start again",
            )
    else:
        _atomic_write(found, json.dumps(manifest, indent=2).encode())
    Worker.setup(args)  # checks rules, mapping and actions before any work (and serves --workers 1)
    done: dict[int, dict[str, Any]] = {}
    progress = _progress(source, in_fmt)
    first_row, number = 1, 0
    pool = None
    pending: dict[int, Any] = {}
    try:
        if args.workers > 1:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            # fork: workers inherit the loaded rulebase; the parent never starts a durable_rules Host
            pool = ProcessPoolExecutor(args.workers, mp.get_context("fork"), _init_worker, (args,))
        for data in read_chunks(source, in_fmt, args.chunk_size):
            rows = _row_count(data)
            Worker.batch.check_columns(list(data) if isinstance(data, dict) else data.column_names, args.input)
            marker = parts / f"{number:06d}.done.json"
            if marker.exists() and (parts / f"{number:06d}.{out_fmt}").exists():
                done[number] = json.loads(marker.read_text(encoding="utf-8"))
            elif pool is None:
                done[number] = Worker.chunk(number, first_row, data, str(parts), out_fmt)
            else:
                pending[number] = pool.submit(_chunk_task, number, first_row, data, str(parts), out_fmt)
                while len(pending) >= 2 * args.workers:
                    k = min(pending)
                    done[k] = pending.pop(k).result()
            progress.update(rows)
            first_row += rows
            number += 1
        for k in sorted(pending):
            done[k] = pending.pop(k).result()
    finally:
        progress.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    _join(parts, out, out_fmt, Worker.batch.columns, number)
    counts: Counter[tuple[str, str, str]] = Counter()
    errors: list[list[Any]] = []
    for k in range(number):
        for county, action, verdict, n in done[k]["counts"]:
            counts[(county, action, verdict)] += n
        errors += done[k]["errors"]
    _write_errors(errors_path, errors)
    summary = summary_dict(
        counts,
        rows=sum(d["rows"] for d in done.values()),
        written=sum(d["written"] for d in done.values()),
        errors=len(errors),
        cases=sum(d["cases"] for d in done.values()),
    )
    shutil.rmtree(parts)
    return summary


def _row_count(data: Any) -> int:
    if isinstance(data, dict):
        return len(next(iter(data.values()), []))
    return data.num_rows


def _join(parts: Path, out: Path, fmt: str, columns: list[str], chunks: int) -> None:
    """The chunk files joined, in order, into OUTPUT (written beside it, then renamed)."""
    tmp = out.with_name(out.name + ".tmp")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([(c, pa.string()) for c in columns])
        with pq.ParquetWriter(tmp, schema) as writer:
            for k in range(chunks):
                writer.write_table(pq.read_table(parts / f"{k:06d}.parquet").cast(schema))
    else:
        with open(tmp, "wb") as f:
            if fmt == "csv":
                f.write((",".join(f'"{c}"' for c in columns) + "\n").encode())
            for k in range(chunks):
                with open(parts / f"{k:06d}.{fmt}", "rb") as part:
                    shutil.copyfileobj(part, f, 1 << 20)
    os.replace(tmp, out)


def _write_errors(path: Path, errors: list[list[Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            for row, rid, message in errors:
                f.write(json.dumps({"row": row, "id": rid, "error": message}, ensure_ascii=False) + "\n")
        else:
            w = csv.writer(f)
            w.writerow(["row", "id", "error"])
            w.writerows(errors)
    os.replace(tmp, path)


class _NoProgress:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(source: Path, fmt: str) -> Any:
    """A progress bar on a terminal; nothing when stderr is piped or redirected."""
    if not sys.stderr.isatty():
        return _NoProgress()
    from tqdm import tqdm

    total = None
    if fmt == "parquet":
        import pyarrow.parquet as pq

        total = pq.ParquetFile(source).metadata.num_rows
    return tqdm(total=total, unit=" rows", unit_scale=True, file=sys.stderr, desc="batch")
