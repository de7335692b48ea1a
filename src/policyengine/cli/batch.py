"""`policyengine batch`: evaluate a file of records (CSV, JSON Lines or Parquet) at scale.

The input is read in chunks of `--chunk-size` rows. Each chunk's rows are appended to one output
file in a work directory beside the output (`OUTPUT.parts/`; Parquet: one part file per chunk),
flushed to disk, and the chunk is then marked done (atomically: written, then renamed) with the
output's length after it; an interrupted run started again with the same command cuts the file
back to the last chunk marked done and skips the chunks done, so no row is written twice or
lost. At the end the file is renamed to OUTPUT (Parquet parts are joined into it) and the work
directory is removed. `--workers N` evaluates chunks in N processes, each distinct case in the
one process it is routed to (`batch.owner`); the output is the same as with one.
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
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable, Iterator
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


#: rows per chunk by default. With one worker, a chunk's transient memory (its columns, its
#: rendered rows) and what the allocators keep around it made the peak grow with the number of
#: records (279 to 293 MiB at 1,000,000 against 257 to 258 at 100,000 with 50,000 rows); with
#: 25,000 the peak is 261 to 266 MiB at 1,000,000, 3% to 8% slower (docs/performance.md). Several
#: workers are 10% slower with 25,000 (each chunk is sent to a process): they keep 50,000.
CHUNK_ONE_WORKER = 25_000
CHUNK_WORKERS = 50_000
#: rows per row group of a Parquet output: fixed, so that the file's bytes do not depend on the
#: chunks it was evaluated in (`--chunk-size`, whose default differs with `--workers`)
PARQUET_ROW_GROUP = 25_000


def several_processes() -> bool:
    """Whether `--workers` above 1 can run here: its workers start from a `forkserver` and write
    into the output with `pwrite`, which POSIX systems have (Linux, macOS) and Windows has not."""
    return os.name == "posix"


def _cores() -> int:
    """The cores this process may run on (a container or `taskset` may allow fewer than the machine
    has); 1 where several processes cannot run (`several_processes`)."""
    if not several_processes():
        return 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def register(sub) -> None:
    p = sub.add_parser(
        "batch",
        help="evaluate a file of records (CSV, JSON Lines, Parquet)",
        description="Evaluate every record of a CSV, JSON Lines or Parquet file: one output row per record "
        "with each action's verdict (and its leaning where contested), the strength of its authority, practice "
        "and deciding rules; bad rows go to an errors file.",
    )
    p.add_argument("input", metavar="INPUT", help="records: .csv, .jsonl or .parquet (.csv.gz and .jsonl.gz too)")
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
    p.add_argument("--workers", type=int, default=_cores(), help="processes (default: the cores this process may use)")
    p.add_argument(
        "--chunk-size",
        type=int,
        metavar="ROWS",
        help=f"rows per chunk (default {CHUNK_ONE_WORKER} with one worker, {CHUNK_WORKERS} with several)",
    )
    p.add_argument(
        "--dask",
        metavar="SCHEDULER|local",
        help="evaluate on a Dask cluster (address, or 'local' for a LocalCluster); OUTPUT is a Parquet directory",
    )
    p.add_argument("--dask-workers", type=int, default=2, metavar="N", help="with --dask local: workers (default 2)")
    p.set_defaults(handler=main)


#: what to do with a file of another kind (said with the error)
_OTHER_KINDS = {
    ".gz": "a gzip file is read as it is when it holds CSV or JSON Lines (name.csv.gz, name.jsonl.gz)",
    **dict.fromkeys((".bz2", ".xz", ".zst"), "a compressed file: decompress it first (or compress it with gzip)"),
    ".zip": "a zip archive: extract the file first",
    **dict.fromkeys((".xlsx", ".xls", ".ods"), "a spreadsheet: save the sheet as CSV (UTF-8) first"),
    **dict.fromkeys((".tsv", ".tab", ".txt"), "save it as CSV (comma-separated, UTF-8) first"),
    ".json": "a file of one record a line is JSON Lines: name it .jsonl (a JSON array is not read)",
}


def _format(path: str, what: str) -> str:
    suffix = Path(path).suffix.lower()
    inner = Path(path).with_suffix("").suffix.lower()
    if what == "INPUT" and compressed(path) and inner in (".csv", ".jsonl", ".ndjson"):
        suffix = inner  # a gzip-compressed CSV or JSON Lines file, read as it is
    fmt = FORMATS.get(suffix)
    if fmt is None:
        hint = _OTHER_KINDS.get(suffix) if what == "INPUT" else None
        raise InputError.at(path, None, f"{what} must end in .csv, .jsonl or .parquet" + (f"; {hint}" if hint else ""))
    return fmt


def main(args: argparse.Namespace) -> int:
    from policyengine.pipeline import today

    args.known_on = args.known_on or today()  # one date of knowledge for the whole run, and its resume
    args.chunk_size_given = args.chunk_size is not None  # else a resumed run keeps its run's size
    if args.chunk_size is None:
        args.chunk_size = CHUNK_ONE_WORKER if args.workers == 1 else CHUNK_WORKERS
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
    cases = "" if summary["cases"] is None else f", {summary['cases']} distinct cases evaluated"
    print(
        f"policyengine batch: {summary['rows']} rows read, {summary['written']} written, "
        f"{summary['errors']} in the errors file{cases}",
        file=err,
    )
    totals: Counter[tuple[str, str]] = Counter()
    for actions in summary["counts"].values():
        for action, verdicts in actions.items():
            for verdict, k in verdicts.items():
                totals[(action, verdict)] += k
    for (action, verdict), k in sorted(totals.items()):
        print(f"  {action:30} {verdict:15} {k}", file=err)
    for warning in summary["warnings"]:
        print(warning, file=err)


# ------------------------------------------------------------------ settings


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """What a run depends on besides the input: a resumed run must have the same."""
    from policyengine import __version__, bundled
    from policyengine.cache import files_digest

    rules = Path(args.rules) if args.rules else bundled.rules_dir()
    return {
        "version": __version__,
        "rules": str(Path(args.rules).resolve()) if args.rules else None,
        "rule_files": files_digest(rules),  # a rule file edited meanwhile: not the same run
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


def compressed(path: Path | str) -> bool:
    """Whether the input is gzip-compressed (its name ends in .gz)."""
    return str(path).lower().endswith(".gz")


def open_input(path: Path | str, mode: str = "rb", **text: Any) -> Any:
    """The input file opened for reading, decompressed where it is `compressed`."""
    if compressed(path):
        import gzip

        return gzip.open(path, mode if "b" in mode else mode + "t", **text)
    return open(path, mode, **text)


def read_chunks(path: Path, fmt: str, size: int) -> Iterator[dict[str, list[Any]] | Any]:
    """The input in chunks of exactly `size` rows (the last may be shorter), in order."""
    import gzip
    import zlib

    try:
        yield from _chunks(path, fmt, size)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:  # cut short, or not gzip: one line, no traceback
        raise InputError.at(str(path), None, f"cannot decompress it: {exc}") from None


def _chunks(path: Path, fmt: str, size: int) -> Iterator[dict[str, list[Any]] | Any]:
    if fmt == "jsonl":
        yield from _jsonl_chunks(path, size)
        return
    batches: Iterator[Any]
    if fmt == "csv":
        batches = _csv_batches(path)
    else:
        parquet = parquet_file(path)
        _no_column_twice(path, parquet.schema_arrow.names, None)
        batches = parquet.iter_batches(batch_size=size)
    pending: list[Any] = []
    count = 0
    for batch in batches:
        while batch.num_rows:
            take = min(size - count, batch.num_rows)
            pending.append(batch.slice(0, take))
            batch = batch.slice(take)
            count += take
            if count == size:
                yield _table(pending)
                pending, count = [], 0
    if pending:
        yield _table(pending)


def parquet_file(path: Path | str) -> Any:
    """The Parquet file opened (its footer read), or the error saying why it cannot be."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError.at(str(path), None, f"cannot read Parquet: {exc}") from None


def _table(batches: list[Any]) -> Any:
    """Record batches as one table; where some carry a `PROBLEM` column (rows that could not
    be read), the others get it empty."""
    import pyarrow as pa

    if all(b.schema == batches[0].schema for b in batches):
        return pa.Table.from_batches(batches)
    return pa.concat_tables([pa.Table.from_batches([b]) for b in batches], promote_options="default")


def _usable_header(path: Path, header: list[str]) -> None:
    """A header that is one column holding another separator is a file separated by it (as
    spreadsheets save "CSV" in many locales): say so, not that the whole line is no fact.
    Columns with no name (commas ending the header row, as spreadsheets leave) are told as such,
    not as "column '' appears twice"."""
    for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
        if len(header) == 1 and sep in header[0]:
            raise InputError.at(
                str(path),
                1,
                f"the header row is one column holding {name}: the file seems separated by {name};"
                " batch reads comma-separated CSV: save the file with commas",
            )
    unnamed = [i for i, name in enumerate(header, start=1) if not name.strip()]
    if len(unnamed) > 1:  # one alone can be ignored by a mapping (`Batch.check_columns`); two cannot be told apart
        end = " (the header row ends with commas)" if unnamed[-1] == len(header) else ""
        raise InputError.at(
            str(path), 1, f"columns {', '.join(map(str, unnamed))} have no name{end}: name them, or remove them"
        )


def _no_column_twice(path: Path, names: list[str], line: int | None) -> None:
    """Two columns of one name cannot be told apart (by a mapping, or in the output): an error."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        if name in seen:
            raise InputError.at(
                str(path), line, f"column '{name}' appears twice (columns {seen[name]} and {i}); rename one"
            )
        seen[name] = i


#: bytes Arrow parses at a time. Arrow's streaming CSV reader reads up to 32 blocks ahead of the
#: rows it has handed out (a fixed queue, not an option), so a small block keeps that read-ahead
#: small: at most 4 MiB here, where 1 MiB blocks held 16 to 32 MiB, most of what a batch's peak
#: memory grew by from 100,000 records to 1,000,000 (docs/performance.md); smaller blocks read
#: more slowly. A record longer than a block is read with blocks 16 times larger, up to
#: `CSV_BLOCK_MOST`.
CSV_BLOCK = 1 << 17
CSV_BLOCK_MOST = 1 << 24


def _csv_batches(path: Path, block: int | None = None, data: bytes | None = None) -> Iterator[Any]:
    """The CSV file's rows in Arrow record batches, every column as text. A quoted cell may hold
    line breaks (as a notes column does). Where a record is longer than the block, the file is
    read again from the start with larger blocks, passing over the rows already handed out.
    With `data`, those bytes are read instead of the file (a Dask partition, its header row
    first); messages still name `path`."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    def opened() -> Any:
        return open_input(path) if data is None else io.BytesIO(data)

    try:
        with io.TextIOWrapper(opened(), encoding="utf-8-sig", newline="") as f:  # names as Arrow reads them
            header = next(csv.reader(f), None)
    except UnicodeDecodeError:
        raise not_utf8(path) from None
    if not header:
        raise InputError.at(str(path), 1, "the CSV file has no header row")
    _usable_header(path, header)
    _no_column_twice(path, header, 1)
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in header}, strings_can_be_null=False)
    unread: dict[int, str] = {}  # record number (the first record is 1) -> why Arrow could not read it

    order: list[int] = []  # their numbers, sorted

    def bad_row(row: Any) -> str:
        if row.number is None:  # Arrow numbers rows read in one thread, as here
            return "error"
        cells = "1 cell" if row.actual_columns == 1 else f"{row.actual_columns} cells"
        if row.number - 1 not in unread:  # (met again when the file is read again)
            insort(order, row.number - 1)
        why = f"the row has {cells} where the header has {row.expected_columns}"
        lines = row.text.count("\n")  # a record over several lines: say why, or its message misleads
        if lines and row.text.count('"') % 2:
            after = "the line after it was" if lines == 1 else f"the {lines} lines after it were"
            why += f": a quote in it is never closed, so {after} read as part of it"
        elif lines:
            why += f" (it runs over {lines + 1} lines: a quoted value in it holds line breaks)"
        unread[row.number - 1] = why
        return "skip"

    # quote-aware: else a quoted line break splits a record
    parse = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=bad_row)
    block = block or CSV_BLOCK
    given = 0  # rows read and handed out so far
    placed = 0  # records handed out so far, read or not
    while True:
        skip = given
        # read through a Python file: given a path, Arrow reads ahead further still (it held
        # about 40 MB more, measured on a 97 MB file)
        with opened() as source:
            try:
                reader = pacsv.open_csv(
                    source,
                    convert_options=convert,
                    parse_options=parse,
                    read_options=pacsv.ReadOptions(block_size=block, use_threads=False),
                )
                while True:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        batch = None
                    if batch is not None and skip >= batch.num_rows:
                        skip -= batch.num_rows
                        continue
                    if batch is not None and skip:
                        batch, skip = batch.slice(skip), 0
                    for piece in _in_place(batch, placed, unread, order, header):
                        placed += piece.num_rows
                        yield piece
                    if batch is None:
                        return
                    given += batch.num_rows
            except pa.ArrowInvalid as exc:
                if "invalid UTF8" in str(exc):
                    raise not_utf8(path) from None
                if "straddling object" not in str(exc):
                    raise InputError.at(str(path), None, f"cannot read CSV: {exc}") from None
                if block >= CSV_BLOCK_MOST:
                    most = f"{CSV_BLOCK_MOST >> 20} MiB" if CSV_BLOCK_MOST >= 1 << 20 else f"{CSV_BLOCK_MOST >> 10} KiB"
                    raise InputError.at(
                        str(path),
                        None,
                        f"cannot read CSV: after its first {placed} records, a record is longer than {most}"
                        " or a quoted value is never closed",
                    ) from None
                block = min(block * 16, CSV_BLOCK_MOST)


def _in_place(batch: Any, placed: int, unread: dict[int, str], order: list[int], header: list[str]) -> Iterator[Any]:
    """`batch` (rows read, the next after `placed` records; None: the file's end) with the
    records Arrow could not read (`unread`, their numbers sorted in `order`) put back in their
    places, as rows with only a `PROBLEM`: every record keeps its number, and a bad one goes
    to the errors file."""
    import pyarrow as pa

    from policyengine.arrays import texts
    from policyengine.batch import PROBLEM

    rows = 0 if batch is None else batch.num_rows
    start, number = 0, placed + 1  # the batch's first row not handed out; the next record's number
    while True:
        i = bisect_left(order, number)
        if i < len(order) and order[i] == number:
            why = []
            while i < len(order) and order[i] == number:
                why.append(unread[number])
                number, i = number + 1, i + 1
            nulls = [pa.nulls(len(why), pa.string()) for _ in header]
            yield pa.RecordBatch.from_arrays([*nulls, texts(why)], names=[*header, PROBLEM])
        elif start < rows:
            take = rows - start if i == len(order) else min(rows - start, order[i] - number)
            yield batch if take == rows else batch.slice(start, take)
            start, number = start + take, number + take
        else:
            return


def not_utf8(path: Path | str) -> InputError:
    """The error for a records file that is not UTF-8 text, at its first bad byte's line and
    column (read again, line by line, only once a reader has failed on it)."""
    from policyengine.load import NOT_TEXT, not_utf8_error, utf16_error

    with open_input(path) as f:
        utf16 = utf16_error(f.read(2), str(path))
        if utf16 is not None:
            return utf16
        f.seek(0)
        for number, line in enumerate(f, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return not_utf8_error(line, exc, str(path), lines_before=number - 1)
    return InputError.at(str(path), None, "file is not UTF-8 text", NOT_TEXT)


def _not_utf8_line(line: str) -> str | None:
    """Why a line read with `surrogateescape` is not UTF-8 text (None: it is)."""
    if line.isascii():
        return None
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"not UTF-8 text: byte 0x{ord(line[exc.start]) - 0xDC00:02x} at column {exc.start + 1}"
    return None


class _Twice(ValueError):
    """A record names one fact twice (a JSON key repeated, or a group and a dotted name)."""


def _repeated(names: Iterable[str]) -> str | None:
    """The first name met a second time (None: none is)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a repeated key (`json` would keep the last one silently)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Twice(f"key '{_repeated(key for key, _ in pairs)}' appears twice in the record")
    return obj


def _jsonl_chunks(
    path: Path, size: int, data: bytes | None = None, first: bool = True
) -> Iterator[dict[str, list[Any]]]:
    """The JSON Lines file's records in chunks of columns (name -> values, in order of first
    appearance); a line that is not a record is a row with only `PROBLEM`. With `data`, those
    bytes are read instead (a Dask partition; `first`: the file's first, where a byte-order mark
    may stand)."""
    from policyengine.batch import PROBLEM

    def flat(obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        given = 0
        for k, v in obj.items():
            if v is None:  # not given, as an empty cell; a null group ("place": null) gives nothing
                continue
            if isinstance(v, dict):  # {"place": {"county": ...}} reads as place.county, as in scenarios
                for k2, v2 in v.items():
                    out[f"{k}.{k2}"] = v2
                given += len(v)
            else:
                out[k] = v
                given += 1
        if len(out) != given:  # a group and a dotted name both give one fact
            given_names = ((k, v) for k, v in obj.items() if v is not None)
            names = (n for k, v in given_names for n in ([f"{k}.{k2}" for k2 in v] if isinstance(v, dict) else [k]))
            twice = _repeated(names)
            raise _Twice(f"'{twice}' is given twice in the record (in a group and by its dotted name)")
        return out

    decode = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_not_json).decode
    rows: list[dict[str, Any]] = []
    order: dict[str, None] = {}  # every name in the order the file first uses it (`_columns`)
    encoding = "utf-8-sig" if first else "utf-8"  # a bad line is a bad row; a BOM is fine
    if data is None:
        opened = open_input(path, "r", encoding=encoding, errors="surrogateescape")
    else:
        opened = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="surrogateescape")
    with opened as f:
        for line in f:
            if not line.strip():
                continue
            problem = _not_utf8_line(line)
            if problem is not None:
                rows.append({PROBLEM: problem})
            else:
                try:
                    obj = decode(line)
                    rows.append(flat(obj) if isinstance(obj, dict) else {PROBLEM: _not_an_object(obj)})
                except json.JSONDecodeError as exc:
                    rows.append({PROBLEM: f"invalid JSON: {exc.msg}"})
                except _Twice as exc:
                    rows.append({PROBLEM: str(exc)})
                except RecursionError:
                    rows.append({PROBLEM: "invalid JSON: nested too deeply to read"})
                except ValueError as exc:  # a number too long to read (Python's limit on digits)
                    rows.append({PROBLEM: f"invalid JSON: {str(exc).split(';')[0]}"})
            if len(rows) == size:
                yield _columns(rows, order)
                rows = []
    if rows:
        yield _columns(rows, order)


def _not_json(name: str) -> Any:
    """NaN, Infinity and -Infinity: Python's reader takes them, JSON (RFC 8259) has no such values."""
    raise ValueError(f"{name} is not a JSON value")


def _not_an_object(value: Any) -> str:
    """Why a JSON Lines row that is not an object is bad: what it is instead."""
    kinds = {list: "a list", str: "text", bool: "true or false", int: "a number", float: "a number"}
    kind = "null" if value is None else kinds.get(type(value), type(value).__name__)
    return f"a JSON Lines row must be one object ({{...}}) of facts; this line is {kind}"


def _columns(rows: list[dict[str, Any]], order: dict[str, None]) -> dict[str, list[Any]]:
    """A chunk's records as columns, in the order the file first uses their names (`order`,
    updated here), not the chunk's: which of a record's bad values is told first must not
    depend on where the chunks are cut (`--chunk-size`, a Dask partition)."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    order.update(names)
    return {name: [row.get(name) for row in rows] for name in order if name in names}


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
    sink = io.BytesIO()
    write_table(table, fmt, sink, header)
    return sink.getvalue()


def write_table(table: Any, fmt: str, sink: Any, header: bool = False, decided: Any = None) -> None:
    """Write output rows to an open binary file in the output format (CSV without its header).

    `decided` (start, stop, rows, fragments): columns start..stop-1 of row i are rendered
    already, as fragments[rows[i]] (the decision columns of a case, rendered once per case)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, sink)
        return
    if fmt == "csv" and (header or not all(_is_text(c.type) for c in table.columns)):
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=header))
        return
    if fmt == "csv":
        sink.write(_render(table, _csv_cell, ",", "", "\n", decided))
    else:
        sink.write(_render(table, _json_cell, ", ", "{", "}\n", decided))


def _is_text(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(kind) or (pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type)))


def _csv_cell(name: str, value: Any) -> str:
    """A text cell as pyarrow's CSV writer writes it: quoted, quotes doubled; null is empty."""
    return "" if value is None else '"' + value.replace('"', '""') + '"'


def _json_cell(name: str, value: Any) -> str:
    """A member of a row's object as `json.dumps(row, ensure_ascii=False)` writes it."""
    return f"{json.dumps(name, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)}"


def _csv_column(column: Any, lead: str) -> Any:
    """A text column's CSV cells (as `_csv_cell`), each after `lead`, as bytes: in Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from policyengine.arrays import numpy_objects, text

    quote, empty = text('"'), text("")
    quoted = pc.binary_join_element_wise(quote, pc.replace_substring(column, '"', '""'), quote, empty)
    cells = pc.binary_join_element_wise(text(lead), pc.fill_null(quoted, empty), empty)
    return numpy_objects(cells.cast(pa.binary()))


def _sharing(columns: list[Any], i: int) -> list[int]:
    """Dictionary column `i` and the dictionary columns right after it with the same indices."""
    import pyarrow as pa

    group = [i]
    while (
        i + len(group) < len(columns)
        and pa.types.is_dictionary(columns[i + len(group)].type)
        and columns[i + len(group)].indices.equals(columns[i].indices)
    ):
        group.append(i + len(group))
    return group


def _render(table: Any, cell: Any, sep: str, before: str, after: str, decided: Any = None) -> bytes:
    """Rows as text lines, cell by cell (`decided`: as `write_table`, fragments as bytes that
    begin with `sep`). A dictionary-encoded column is rendered once per distinct value, and
    consecutive ones with the same indices once per distinct combination; plain columns once
    per row. The pieces are joined once, in row order."""
    import numpy as np
    import pyarrow as pa

    from policyengine.arrays import numpy_ints

    n = table.num_rows
    if not n:
        return b""
    columns = [table.column(i).combine_chunks() for i in range(table.num_columns)]
    names = table.column_names
    pieces: list[Any] = []
    i = 0
    while i < len(columns):
        lead = before if not pieces else sep
        column = columns[i]
        if decided is not None and i == decided[0]:
            pieces.append(decided[3][decided[2]])
            i = decided[1]
        elif (
            cell is _csv_cell
            and pa.types.is_dictionary(column.type)
            and pa.types.is_string(column.type.value_type)
            and len(_sharing(columns, i)) == 1
        ):  # a text column of its own in CSV: decoded and quoted in Arrow (one value per row)
            pieces.append(_csv_column(column.cast(pa.string()), lead))
            i += 1
        elif pa.types.is_dictionary(column.type) and column.null_count == 0:
            group = _sharing(columns, i)
            values = [columns[j].dictionary.to_pylist() for j in group]
            rendered = [  # the indices are the same, so every one used is below each dictionary's length
                (lead + sep.join(cell(names[j], v[k]) for j, v in zip(group, values, strict=True))).encode()
                for k in range(min(len(v) for v in values))
            ]
            pieces.append(np.asarray(rendered, dtype=object)[numpy_ints(column.indices)])
            i += len(group)
        elif cell is _csv_cell and pa.types.is_string(column.type):
            pieces.append(_csv_column(column, lead))
            i += 1
        else:
            name = names[i]
            pieces.append(np.asarray([(lead + cell(name, v)).encode() for v in column.to_pylist()], dtype=object))
            i += 1
    grid = np.empty((n, len(pieces) + 1), dtype=object)
    for j, piece in enumerate(pieces):
        grid[:, j] = piece
    grid[:, len(pieces)] = after.encode()
    return b"".join(grid.ravel().tolist())


class Worker:
    """Evaluates chunks; one per process (the rulebase loaded and compiled once)."""

    batch: Any = None
    fragments: dict[str, list[bytes]] = {}  # per format: each output row's decision columns, rendered

    @classmethod
    def write(cls, table: Any, outs: Any, fmt: str, sink: Any) -> None:
        """Write a chunk's output rows; the decision columns of each distinct case rendered once."""
        if fmt == "parquet" or outs is None:
            write_table(table, fmt, sink)
            return
        import numpy as np

        batch = cls.batch
        done = cls.fragments.setdefault(fmt, [])
        names = batch.columns[3:-1]  # agency, then each action's columns
        cell, sep = (_csv_cell, ",") if fmt == "csv" else (_json_cell, ", ")
        for row in batch.out_rows[len(done) :]:
            done.append((sep + sep.join(cell(name, value) for name, value in zip(names, row, strict=True))).encode())
        fragments = np.asarray(done, dtype=object)
        for start in range(0, table.num_rows, 10_000):  # a slice at a time: the text of a whole chunk is large
            rows = table.slice(start, 10_000)
            write_table(rows, fmt, sink, decided=(3, 3 + len(names), outs[start : start + 10_000], fragments))

    @classmethod
    def setup(cls, args: argparse.Namespace) -> None:
        from policyengine.batch import Batch, load_mapping
        from policyengine.pipeline import load_rulebase

        rulebase = load_rulebase(args.rules)
        mapping = load_mapping(args.mapping, rulebase) if args.mapping else None
        actions = [a.strip() for a in args.actions.split(",")] if args.actions else None
        cls.batch = Batch(rulebase, args.engine, actions, args.as_of, mapping, known_on=args.known_on)
        cls.fragments = {}

    @classmethod
    def evaluate(cls, number: int, first_row: int, data: Any) -> tuple[Any, dict[str, Any]]:
        """One chunk evaluated: its output and its record (rows, errors, counts, new cases)."""
        batch = cls.batch
        before = batch.case_count
        result = (
            batch.evaluate_columns(data, first_row, dictionary=True)
            if isinstance(data, dict)
            else batch.evaluate_arrow(data, first_row, dictionary=True)
        )
        return result, {**cls.record(number, result), "cases": batch.case_count - before}

    @staticmethod
    def record(number: int, result: Any) -> dict[str, Any]:
        """What the chunk's done file keeps: rows, written, errors, summary counts."""
        return {
            "chunk": number,
            "rows": result.rows,
            "written": result.table.num_rows,
            "errors": [[r, None if i is None else str(i), m] for r, i, m in result.errors],
            "counts": [[*k, v] for k, v in sorted(result.counts.items())],
            "practices": [[*k, v] for k, v in sorted(result.practices.items())],
        }


def _worker(index: int, args: argparse.Namespace, inboxes: list[Any], outbox: Any, lifeline: Any) -> None:
    """One of `len(inboxes)` processes: evaluates the chunks it is given, each distinct case
    routed to one process by `batch.owner` (so each is evaluated once in the whole run).

    Its inbox (`inboxes[index]`) holds, in any order: ("chunk", number, first_row, data, parts,
    fmt) from the parent (`data` the path of an Arrow file, `_chunk_file`, or JSON Lines columns):
    evaluate the cases of the chunk this process owns, and ask their owners for the others;
    ("ask", number, asker, cases) from another worker: evaluate cases its chunk needs, and
    answer; ("answer", number, answers, evaluated): answers a chunk waited for; with the last of
    them, finish it: render it (kept until placed, or a Parquet part file) and tell the parent
    ("done", with its size); ("write", number, offset, path) from the parent: write that chunk
    into the output at `offset` ("written"); None, from the parent: stop. Nothing here waits for
    another process but for its next message. It ends at once when the parent is gone
    (`_end_with_parent`)."""
    _end_with_parent(lifeline)
    try:
        import queue
        from collections import deque

        from policyengine.batch import owner

        _reuse_freed_memory()
        Worker.setup(args)
        import gc

        gc.freeze()  # the modules and the rulebase live as long as the worker: the collector skips them
        batch = Worker.batch
        workers = len(inboxes)
        inbox = inboxes[index]
        # per chunk waiting for answers: its steps, cases, what is found, owners yet to answer, cases evaluated
        waiting: dict[int, list[Any]] = {}
        pending: deque[Any] = deque()  # messages taken from the inbox early (by `pump`), in order
        answered = [0]  # cases this process evaluated for another's asks
        # chunks rendered, until the parent says where they go: in memory, or (where this process
        # holds one already) in a part file, so it never holds more than one chunk's text
        held: dict[int, list[bytes] | str] = {}
        output: list[int] = []  # the output file, opened for writing at its first "write"

        def finished(number: int, chunk: tuple[dict[str, Any], list[bytes] | str | None]) -> None:
            record, rendered = chunk
            if rendered is not None:
                held[number] = rendered
            outbox.put(("done", number, record))

        def write(message: tuple[Any, ...]) -> None:
            """Write a chunk rendered here into the output, where the parent placed it."""
            _, number, offset, path = message
            rendered = held.pop(number)
            try:
                if not output:
                    output.append(os.open(path, os.O_WRONLY))
                if isinstance(rendered, str):
                    _copy_into(rendered, output[0], offset)
                else:
                    for piece in rendered:
                        offset = _pwrite_all(output[0], piece, offset)
            except OSError as exc:  # the file the system refused, named as `open` names it
                raise OSError(exc.errno, exc.strerror, exc.filename or path) from None
            outbox.put(("written", number))

        def answer(message: tuple[Any, ...]) -> None:
            before = batch.evaluated
            answers = [(i, *batch.answer(*key, facts, day)) for i, key, facts, day in message[3]]
            answered[0] += batch.evaluated - before
            inboxes[message[2]].put(("answer", message[1], answers, batch.evaluated - before))

        def pump() -> None:
            """Answer the asks waiting in the inbox now (another process waits for them); keep the
            other messages for later, in order."""
            while True:
                try:
                    message = inbox.get_nowait()
                except queue.Empty:
                    return
                if message is not None and message[0] == "ask":
                    answer(message)
                elif message is not None and message[0] == "write":
                    write(message)
                else:
                    pending.append(message)

        while True:
            message = pending.popleft() if pending else inbox.get()
            if message is None:
                break
            kind, number = message[0], message[1]
            if kind == "chunk":
                _, _, first_row, data, parts, fmt = message
                if isinstance(data, str):
                    data = _mapped_chunk(data)
                steps = batch.chunk_steps(data, first_row, dictionary=True)
                wanted = next(steps)
                found: list[Any] = [None] * len(wanted)
                asked: dict[int, list[Any]] = {}
                mine: list[int] = []
                for i, w in enumerate(wanted):
                    k = owner(w.spread, workers)
                    if k == index:
                        mine.append(i)
                    else:
                        asked.setdefault(k, []).append((i, w.key, w.facts, w.day))
                for k, cases in asked.items():  # asked first: the others answer while this one evaluates
                    inboxes[k].put(("ask", number, index, cases))
                before, answered_before = batch.evaluated, answered[0]
                for done, i in enumerate(mine):
                    if done % 64 == 0:
                        pump()
                    w = wanted[i]
                    found[i] = batch._case(w.code, w.facts, w.day)
                own = batch.evaluated - before - (answered[0] - answered_before)
                if asked:
                    waiting[number] = [steps, wanted, found, len(asked), own, parts, fmt]
                else:
                    pump()
                    finished(number, _finish(number, steps, found, own, parts, fmt, not held))
            elif kind == "ask":
                answer(message)
            elif kind == "write":
                write(message)
            else:  # "answer"
                chunk = waiting[number]
                steps, wanted, found = chunk[0], chunk[1], chunk[2]
                for i, row, needs in message[2]:
                    found[i] = batch.learn(*wanted[i].key, row, needs)
                chunk[3] -= 1
                chunk[4] += message[3]
                if not chunk[3]:
                    del waiting[number]
                    pump()
                    finished(number, _finish(number, steps, found, chunk[4], chunk[5], chunk[6], not held))
        if output:
            os.close(output[0])
    except OSError as exc:  # the system refused a file (no space left): the parent says so in one line
        outbox.put(("refused", -1, exc))
    except BaseException:  # the parent raises it: a worker never dies silently
        import traceback

        outbox.put(("error", -1, traceback.format_exc()))


def _reuse_freed_memory() -> None:
    """Let this process reuse the memory it frees, rather than give it back to the system and
    take it again, fresh, for the next chunk (glibc's allocator; elsewhere nothing is done).

    A worker keeps a chunk's rendered text (five blocks of about 12 MB) until it is placed; by
    default each block is new memory from the system, and touching it costs a page fault per 4 KiB:
    0.9 s of the two workers' CPU on the 1,000,000-record benchmark (docs/performance.md). Here
    blocks up to 32 MB come from the heap, and up to 256 MB freed at its top is kept."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    mallopt(m_mmap_threshold, 32 << 20)
    mallopt(m_trim_threshold, 256 << 20)


def _end_with_parent(lifeline: Any) -> None:
    """End this worker as soon as the parent process is gone, whatever the worker is doing.

    `lifeline` reads a pipe only the parent writes to (and never does): it reads as closed when
    the parent ends, killed or not. A thread waits for that, because the worker itself may be
    blocked reading its inbox for good: a parent killed while writing a message leaves half of it
    there, and the worker holds the inbox's other end too, so the read never ends (found as
    workers left running after `tests/test_batch.py` killed their parent)."""
    import os
    import threading

    def wait() -> None:
        try:
            lifeline.recv_bytes()
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=wait, name="policyengine-lifeline", daemon=True).start()


class _Pieces(io.RawIOBase):
    """A binary sink that keeps what is written to it, piece by piece (not joined: the output of
    a chunk is tens of megabytes)."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        piece = bytes(data)
        self.pieces.append(piece)
        self.size += len(piece)
        return len(piece)


def _finish(
    number: int, steps: Any, found: list[int], evaluated: int, parts: str, fmt: str, in_memory: bool
) -> tuple[dict[str, Any], list[bytes] | str | None]:
    """The rest of a chunk once every case's answer is found: its record, and its output.

    CSV and JSON Lines are kept, rendered (`in_memory`) or in a part file, until the parent
    places the chunk in the output (`_Workers.place`) and this process writes it there. Parquet
    goes to a part file of its own, which the parent joins."""
    try:
        steps.send(found)
    except StopIteration as done:
        result = done.value
    else:
        raise AssertionError("a chunk's steps end after its cases are found")
    record = {**Worker.record(number, result), "cases": evaluated}
    if fmt != "parquet" and in_memory:
        sink = _Pieces()
        Worker.write(result.table, result.outs, fmt, sink)
        return {**record, "size": sink.size}, sink.pieces
    part = Path(parts) / f"{number:06d}.part.{fmt}"
    tmp = part.with_name(part.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            Worker.write(result.table, result.outs, fmt, f)
            size = f.tell()
    except OSError as exc:  # named: a write refused says no file of its own
        raise OSError(exc.errno, exc.strerror, exc.filename or str(tmp)) from None
    os.replace(tmp, part)
    return (record, None) if fmt == "parquet" else ({**record, "size": size}, str(part))


def _copy_into(part: str, out: int, offset: int) -> None:
    """Copy a part file into the output at `offset` (in the kernel where it can), then remove it."""
    with open(part, "rb") as src:
        size, done = os.fstat(src.fileno()).st_size, 0
        try:
            while done < size:
                n = os.copy_file_range(src.fileno(), out, size - done, done, offset + done)
                if n == 0:
                    break
                done += n
        except (AttributeError, OSError):  # no copy_file_range here, or not between these files
            pass
        src.seek(done)
        while done < size:
            block = src.read(min(size - done, 1 << 22))
            done = _pwrite_all(out, block, offset + done) - offset
    os.unlink(part)


def _pwrite_all(out: int, data: bytes, offset: int) -> int:
    """Write all of `data` at `offset` of the file `out` (a write may take only part); the offset after it."""
    view = memoryview(data)
    while view:
        n = os.pwrite(out, view, offset)
        view, offset = view[n:], offset + n
    return offset


def _chunk_file(table: Any, path: Path) -> str:
    """Write a chunk's Arrow table for a worker to map (`_mapped_chunk`); its path.

    A chunk sent through a worker's inbox is pickled, written to a pipe, read and unpickled:
    about 1 s of CPU for the 1,000,000-record benchmark (docs/performance.md). Written once
    as an Arrow IPC file, it is read back without a copy."""
    import pyarrow as pa

    tmp = path.with_name(path.name + ".tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, path)
    return str(path)


def _mapped_chunk(path: str) -> Any:
    """The chunk `_chunk_file` wrote, mapped into memory (the file itself removed: the mapping
    lasts as long as the table)."""
    import pyarrow as pa

    with pa.memory_map(path) as source:
        table = pa.ipc.open_file(source).read_all()
    os.unlink(path)
    return table


class _Workers:
    """`--workers N` processes (from a `forkserver`), each with its own inbox; the parent hands
    out chunks (to the process with the fewest in hand) and collects finished chunks. The
    workers ask each other for the cases routed to them, directly, in each other's inboxes.
    Nothing large goes through an inbox: a chunk is read from an Arrow file in the work
    directory, and each worker writes the chunks it rendered into the output itself, once the
    parent has placed them there in input order (`place`).

    The processes are started in a thread: the parent goes on loading the rules and reading the
    first chunks meanwhile (starting the forkserver and its imports takes half a second)."""

    def __init__(self, args: argparse.Namespace) -> None:
        import multiprocessing as mp
        import threading

        # forkserver: workers start from a fresh single-threaded process (never a fork of this
        # one, whose Arrow and durable_rules threads a fork would copy in an unknown state). It
        # imports the pipeline's modules once (they start no thread: numpy, Arrow and the
        # durable_rules host are imported or built in each worker), so each worker does not.
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        n = args.workers
        self.outbox = ctx.Queue()
        self.inboxes = [ctx.Queue() for _ in range(n)]
        lifeline, self.lifeline = ctx.Pipe(duplex=False)  # kept open here until the end
        self.processes = [
            ctx.Process(target=_worker, args=(i, args, self.inboxes, self.outbox, lifeline), daemon=True)
            for i in range(n)
        ]
        self.failed: BaseException | None = None

        def start() -> None:
            try:
                for process in self.processes:
                    process.start()
            except BaseException as exc:  # raised by the parent's next `receive`
                self.failed = exc

        self.starter = threading.Thread(target=start, name="policyengine-start-workers", daemon=True)
        self.starter.start()
        self.in_hand = [0] * n
        self.worker_of: dict[int, int] = {}
        self.finished: dict[int, dict[str, Any]] = {}
        self.holder: dict[int, int] = {}  # chunk -> the worker holding its rendered output
        self.wrote: set[int] = set()  # chunks their workers have written into the output
        # chunks handed out and not yet in the output (evaluated, or rendered and held): it
        # bounds the rendered output the workers hold, whatever order they finish in
        self.outstanding = 0

    @property
    def busy(self) -> int:
        return self.outstanding

    def submit(self, number: int, first_row: int, data: Any, parts: Path, fmt: str) -> None:
        k = min(range(len(self.in_hand)), key=self.in_hand.__getitem__)
        self.in_hand[k] += 1
        self.outstanding += 1
        self.worker_of[number] = k
        if not isinstance(data, dict):  # Arrow: through a file, not the inbox (see `_chunk_file`)
            data = _chunk_file(data, parts / f"{number:06d}.chunk.arrow")
        self.inboxes[k].put(("chunk", number, first_row, data, str(parts), fmt))

    def receive(self) -> None:
        """Handle one message from a worker (waiting for it; a worker that died is an error)."""
        import queue

        while True:
            try:
                kind, number, *rest = self.outbox.get(timeout=1.0)
                break
            except queue.Empty:
                if self.starter.is_alive():
                    continue
                if self.failed is not None:
                    raise RuntimeError(f"the batch workers could not start: {self.failed}") from self.failed
                if not all(p.is_alive() for p in self.processes):
                    raise RuntimeError("a batch worker process died") from None
        if kind == "error":
            raise RuntimeError(f"a batch worker failed:\n{rest[0]}")
        if kind == "refused":
            raise rest[0]
        if kind == "written":
            self.wrote.add(number)
            self.outstanding -= 1
            return
        self.finished[number] = rest[0]  # "done"
        k = self.worker_of.pop(number)
        self.in_hand[k] -= 1
        if "size" in rest[0]:  # rendered, held by the worker until placed
            self.holder[number] = k
        else:  # in a part file of its own
            self.outstanding -= 1

    def place(self, number: int, offset: int, path: Path) -> None:
        """Tell the worker holding chunk `number` rendered to write it at `offset` of the output."""
        self.inboxes[self.holder.pop(number)].put(("write", number, offset, str(path)))

    def close(self, clean: bool) -> None:
        self.starter.join()
        for inbox in self.inboxes:
            if clean:
                inbox.put(None)
            else:
                inbox.cancel_join_thread()
        for process in self.processes:
            if process.pid is None:  # never started
                continue
            process.join(timeout=10 if clean else 0)
            if process.is_alive():
                process.terminate()
                process.join()
        self.lifeline.close()


PRELOAD = ["policyengine.cli.batch", "policyengine.batch", "policyengine.cases", "policyengine.pipeline"]


# ----------------------------------------------------------------------- run


class _Syncer:
    """Puts finished chunks on disk in a thread, in order: the output synced to disk (`fsync`),
    then the chunk's done record written (atomically). So a chunk is recorded done only once its
    rows are on disk, as before, and the main thread does not wait for the disk meanwhile: the
    waits were about a tenth of a one-worker run (1.8 s of 18 s on the 1M benchmark)."""

    def __init__(self) -> None:
        import queue
        import threading

        self.items: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="policyengine-sync", daemon=True)
        self.thread.start()

    def put(self, sync: Any, record: Path, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.items.put((sync, record, data))

    def _run(self) -> None:
        while (item := self.items.get()) is not None:
            if self.error is None:
                try:
                    item[0]()
                    _atomic_write(item[1], item[2])
                except BaseException as exc:  # raised by the main thread's next `put`, or `close`
                    self.error = exc

    def close(self) -> None:
        """Wait until every chunk put is on disk and recorded."""
        self.items.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


class _Output:
    """OUTPUT being written in the work directory, chunk after chunk, in input order.

    CSV and JSON Lines go to one file (`OUTPUT.parts/output.EXT`); after each chunk its bytes are
    flushed to disk and the chunk's record is written (atomically) with the file's length, so a
    resumed run cuts the file back to the last chunk recorded and goes on from there. With
    several workers, each writes the chunks it rendered into this file itself, where `place`
    puts them. Parquet output goes to one part file per chunk, joined at the end.
    """

    def __init__(self, parts: Path, fmt: str, columns: list[str]) -> None:
        self.parts, self.fmt, self.columns = parts, fmt, columns
        self.file: Any = None
        self.path = parts / f"output.{fmt}"
        self.end = 0  # the output's length once every chunk placed so far is written

    def open(self, end: int | None) -> None:
        if self.fmt == "parquet":
            return
        self.file = open(self.path, "r+b" if end is not None and self.path.exists() else "wb")  # noqa: SIM115
        if end is None:
            self.file.truncate(0)
            if self.fmt == "csv":
                self.file.write((",".join(f'"{c}"' for c in self.columns) + "\n").encode())
        else:
            self.file.truncate(end)
            self.file.seek(end)
        self.file.flush()  # the header on the file before a worker writes after it
        self.end = self.file.tell()

    def place(self, size: int) -> int:
        """Where the next chunk, of `size` bytes, goes in the output (a worker writes it there)."""
        offset = self.end
        self.end += size
        return offset

    def add(self, number: int, result: Any = None, part: Path | None = None) -> int | None:
        """Append one chunk (its evaluated Chunk, or its part file), handed to the system but not yet
        on disk (`sync`); return the output's length after it."""
        if self.fmt == "parquet":
            final = self.parts / f"{number:06d}.parquet"
            if part is not None:
                os.replace(part, final)
            else:
                tmp = final.with_name(final.name + ".tmp")
                with open(tmp, "wb") as f:
                    write_table(result.table, self.fmt, f)
                os.replace(tmp, final)
            return None
        Worker.write(result.table, result.outs, self.fmt, self.file)
        self.file.flush()
        self.end = int(self.file.tell())
        return self.end

    def sync(self, number: int) -> None:
        """Put chunk `number` on disk, and every chunk added before it (called by `_Syncer`)."""
        if self.fmt == "parquet":
            with open(self.parts / f"{number:06d}.parquet", "rb") as f:
                os.fsync(f.fileno())
        else:
            os.fsync(self.file.fileno())

    def finish(self, out: Path, chunks: int) -> None:
        if self.file is not None:
            self.file.close()
        if self.fmt != "parquet":
            if self.file is None:  # nothing was left to do: every chunk was done before
                self.open(_last_end(self.parts, chunks))
                opened: Any = self.file
                opened.close()
            os.replace(self.path, out)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        tmp = out.with_name(out.name + ".tmp")
        schema = pa.schema([(c, pa.string()) for c in self.columns])
        group = PARQUET_ROW_GROUP
        pending: list[Any] = []  # rows read from the parts, not yet written
        count = 0
        with pq.ParquetWriter(tmp, schema) as writer:
            for k in range(chunks + 1):
                if k < chunks:
                    # ParquetFile, not read_table: that goes through pyarrow.dataset, which imports pandas
                    pending.append(pq.ParquetFile(self.parts / f"{k:06d}.parquet").read().cast(schema))
                    count += pending[-1].num_rows
                while count >= group or (k == chunks and count):
                    take = min(group, count)
                    count -= take
                    rows, pending = pa.concat_tables(pending), []
                    writer.write_table(rows.slice(0, take), row_group_size=group)
                    if count:  # (no name keeps rows written alive while the next part is read)
                        pending.append(rows.slice(take))
                    del rows
        os.replace(tmp, out)


def _last_end(parts: Path, chunks: int) -> int | None:
    if not chunks:
        return None
    return int(json.loads((parts / f"{chunks - 1:06d}.done.json").read_text(encoding="utf-8"))["end"])


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate INPUT into OUTPUT (resuming an interrupted run); return the summary."""
    source, out = Path(args.input), Path(args.out)
    in_fmt, out_fmt = _format(args.input, "INPUT"), _format(args.out, "--out")
    if not source.is_file():
        raise InputError.at(args.input, None, "file not found")
    for option, value in (("--chunk-size", args.chunk_size), ("--workers", args.workers)):
        if value < 1:
            raise InputError.at(option, None, f"must be at least 1 (it is {value})")
    if args.workers > 1 and not several_processes():
        raise InputError.at(
            "--workers", None, f"{args.workers} workers need a POSIX system (Linux, macOS); here use --workers 1"
        )
    errors_path = Path(args.errors) if args.errors else out.with_name(out.name + ".errors.csv")
    _format(str(errors_path), "--errors")
    prepare_outputs(source, {"--out": out, "--errors": errors_path, "--summary": args.summary})
    parts = out.with_name(out.name + ".parts")
    manifest = {"input": _input_identity(source), "settings": settings(args)}
    parts.mkdir(parents=True, exist_ok=True)
    found = parts / MANIFEST
    fresh = not found.exists()  # this run starts the work directory (else it resumes one)
    if not fresh:
        try:
            previous = json.loads(found.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        manifest = _resumed_chunk_size(args, previous, manifest)
        if previous != manifest:
            raise InputError.at(
                str(parts),
                None,
                f"holds an interrupted run of {_what_differs(previous, manifest)}; remove it to start again",
            )
    else:
        _atomic_write(found, json.dumps(manifest, indent=2).encode())
    try:
        return _evaluate_into(args, source, out, errors_path, parts, in_fmt, out_fmt)
    except BaseException:
        if fresh and not (parts / f"{0:06d}.done.json").exists():
            shutil.rmtree(parts, ignore_errors=True)  # nothing done: nothing to resume, nothing left behind
        raise


_SETTING_NAMES = {
    "version": "another version of policyengine",
    "rules": "another rules directory (--rules)",
    "rule_files": "other rules (a rule file changed since)",
    "engine": "another --engine",
    "as_of": "another --as-of",
    "known_on": "another --known-on (by default, the day it started)",
    "actions": "other --actions",
    "mapping": "another mapping (the --mapping file changed since)",
    "chunk_size": "another --chunk-size",
    "out": "another output format",
}


def _what_differs(previous: Any, manifest: dict[str, Any]) -> str:
    """What makes an interrupted run another run than this one, in words."""
    if not isinstance(previous, dict) or set(previous) != set(manifest):
        return "another kind (its manifest is unreadable)"
    if previous["input"] != manifest["input"]:
        return "another input (or this file changed since)"
    was, now = previous["settings"], manifest["settings"]
    if not isinstance(was, dict) or set(was) != set(now):  # a work directory another version made
        return _SETTING_NAMES["version"]
    differ = [_SETTING_NAMES.get(k, k) for k in now if was[k] != now[k]]
    return ", ".join(differ) if differ else "other options"


def _resumed_chunk_size(args: argparse.Namespace, previous: Any, manifest: dict[str, Any]) -> dict[str, Any]:
    """With no --chunk-size given, an interrupted run is resumed with its own chunk size (the
    default differs with the number of workers, which a resumed run may change)."""
    if getattr(args, "chunk_size_given", True) or not isinstance(previous, dict):
        return manifest
    size = (previous.get("settings") or {}).get("chunk_size")
    if not isinstance(size, int) or size < 1:
        return manifest
    same = {**manifest, "settings": {**manifest["settings"], "chunk_size": size}}
    if same == previous:
        args.chunk_size = size
        return same
    return manifest


def _evaluate_into(
    args: argparse.Namespace, source: Path, out: Path, errors_path: Path, parts: Path, in_fmt: str, out_fmt: str
) -> dict[str, Any]:
    """The run itself, in the work directory `parts` (its manifest written)."""
    from policyengine.batch import summary_dict

    pool = _Workers(args) if args.workers > 1 else None  # first: the workers start while this process loads
    seen: set[str] = set()  # every column name of the input (JSON Lines records each give their own)
    try:
        Worker.setup(args)  # checks rules, mapping and actions before any work (and serves --workers 1)
    except BaseException:
        if pool is not None:
            pool.close(clean=False)
        raise
    # the chunks an interrupted run finished, in order (a later one without an earlier one is redone)
    resumed = 0
    while (parts / f"{resumed:06d}.done.json").exists():
        resumed += 1
    output = _Output(parts, out_fmt, Worker.batch.columns)
    counts: Counter[tuple[str, str, str]] = Counter()
    practices: Counter[tuple[str, str, str]] = Counter()
    errors: list[list[Any]] = []
    totals = Counter[str]()

    def tally(done: dict[str, Any]) -> None:
        for county, action, verdict, n in done["counts"]:
            counts[(county, action, verdict)] += n
        for county, action, practice, n in done["practices"]:
            practices[(county, action, practice)] += n
        errors.extend(done["errors"])
        for what in ("rows", "written", "cases"):
            totals[what] += done[what]

    syncer = _Syncer()

    def finish_chunk(number: int, done: dict[str, Any], result: Any = None, part: Path | None = None) -> None:
        record(number, done, output.add(number, result, part))

    def record(number: int, done: dict[str, Any], end: int | None) -> None:
        data = json.dumps({**done, "end": end}).encode()
        syncer.put(lambda: output.sync(number), parts / f"{number:06d}.done.json", data)
        tally(done)

    progress = _progress(source, in_fmt)
    first_row, number = 1, 0
    clean = False
    written = resumed  # the next chunk to finish, in input order
    recorded = resumed  # with several workers writing CSV or JSON Lines: the next chunk to record done
    placed: dict[int, tuple[dict[str, Any], int]] = {}  # chunk -> its record, and the output's end after it

    def finish_ready(wait_for: int) -> None:
        """Finish the chunks the workers are done with, in input order; wait while more than
        `wait_for` are handed out and not yet written."""
        nonlocal written, recorded
        assert pool is not None
        while True:
            while written in pool.finished:
                done = pool.finished.pop(written)
                if out_fmt == "parquet":
                    finish_chunk(written, done, part=parts / f"{written:06d}.part.{out_fmt}")
                    recorded += 1
                else:  # the worker holding it writes it in place; recorded once written
                    pool.place(written, output.place(done.pop("size")), output.path)
                    placed[written] = (done, output.end)
                written += 1
            while recorded in pool.wrote:
                pool.wrote.discard(recorded)
                record(recorded, *placed.pop(recorded))
                recorded += 1
            if pool.busy <= wait_for:
                return
            pool.receive()

    try:
        for data in read_chunks(source, in_fmt, args.chunk_size):
            rows = _row_count(data)
            names = list(data) if isinstance(data, dict) else data.column_names
            Worker.batch.check_columns(names, args.input)
            if number == 0 and in_fmt != "jsonl":  # a CSV header, a Parquet schema: every column known
                Worker.batch.check_mapped_columns(names, args.input)
            seen.update(names)
            if number < resumed:
                tally(json.loads((parts / f"{number:06d}.done.json").read_text(encoding="utf-8")))
            else:
                if number == resumed:
                    output.open(_last_end(parts, resumed) if out_fmt != "parquet" else None)
                if pool is None:
                    result, done = Worker.evaluate(number, first_row, data)
                    finish_chunk(number, done, result=result)
                    del result  # not kept while the next chunk is read and evaluated
                else:
                    pool.submit(number, first_row, data, parts, out_fmt)
                    finish_ready(3 * args.workers - 1)
            progress.update(rows)
            first_row += rows
            number += 1
        if pool is not None:
            finish_ready(0)
        clean = True
    finally:
        progress.close()
        if pool is not None:
            pool.close(clean)
        try:
            syncer.close()  # every chunk added is on disk and recorded done (or the error is raised)
        except BaseException:
            if clean:
                raise
    output.finish(out, number)
    _write_errors(errors_path, errors)
    summary = summary_dict(counts, totals["rows"], totals["written"], len(errors), totals["cases"], practices=practices)
    summary["warnings"] = Worker.batch.unread_warnings(seen, args.input)  # JSON Lines: known only now
    shutil.rmtree(parts)
    return summary


def prepare_outputs(source: Path, outputs: dict[str, Path | str | None]) -> None:
    """Before any work: no file written may be the input, nor one another (the input was read
    whole, then replaced by the output); each output's folder is made where missing (as it
    always was for --out), and one that cannot be is an error now, not after the run (a summary
    into a missing folder was lost, with a traceback, once the output was written)."""

    def same(a: Path, b: Path) -> bool:
        try:
            return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
        except OSError:
            return False

    named = [(option, Path(path)) for option, path in outputs.items() if path is not None]
    for i, (option, path) in enumerate(named):
        if same(path, source):
            raise InputError.at(str(path), None, f"{option} is the INPUT file; it would be overwritten")
        for other, earlier in named[:i]:
            if same(path, earlier):
                raise InputError.at(str(path), None, f"{option} and {other} are the same file")
    for option, path in named:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            why = "it is a file" if path.parent.is_file() else (exc.strerror or str(exc)).lower()
            raise InputError.at(str(path), None, f"{option}: cannot make its folder {path.parent}: {why}") from None


def _row_count(data: Any) -> int:
    if isinstance(data, dict):
        return len(next(iter(data.values()), []))
    return data.num_rows


def _write_errors(path: Path, errors: list[list[Any]]) -> None:
    """The bad rows (row number, id, message) in the errors file's format, by its extension."""
    tmp = path.with_name(path.name + ".tmp")
    fmt = _format(str(path), "--errors")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        from policyengine.arrays import ints, texts

        rows, ids, messages = zip(*errors, strict=True) if errors else ((), (), ())
        table = pa.table(
            {"row": ints(rows), "id": texts([None if i is None else str(i) for i in ids]), "error": texts(messages)}
        )
        pq.write_table(table, tmp)
        os.replace(tmp, path)
        return
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        if fmt == "jsonl":
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
