"""`policyengine batch --dask`: the same evaluation, on the partitions of a Dask dataframe.

The input is read as a Dask dataframe (every column as text), each partition is evaluated on a
worker by the same `Batch.evaluate_columns` the single-process path uses (each worker process
loads and compiles the rulebase once), and the result is written as partitioned Parquet: the
output rows to OUTPUT/, the bad rows (row number, id, message) to OUTPUT.errors/. Imported only
by that option: dask, distributed and pandas are the optional `dask` extra.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from policyengine.cli.batch import _format, compressed
from policyengine.errors import InputError

_BATCHES: dict[tuple, Any] = {}
ROW, ERROR = "row", "error"


def _options(args: argparse.Namespace) -> tuple:
    return (args.rules, args.engine, args.as_of, args.actions, args.mapping, args.known_on)


def _batch(options: tuple) -> Any:
    """One Batch per worker process and options: the rulebase is loaded and compiled once."""
    found = _BATCHES.get(options)
    if found is None:
        from policyengine.batch import Batch, load_mapping
        from policyengine.pipeline import load_rulebase

        rules, engine, as_of, actions, mapping, known_on = options
        rulebase = load_rulebase(rules)
        found = _BATCHES[options] = Batch(
            rulebase,
            engine,
            [a.strip() for a in actions.split(",")] if actions else None,
            as_of,
            load_mapping(mapping, rulebase) if mapping else None,
            known_on=known_on,
        )
    return found


def _evaluate_partition(df: Any, offsets: list[int], options: tuple, partition_info: Any = None) -> Any:
    """One partition to its output rows and bad rows (one frame; `error` set on bad rows)."""
    import pandas as pd

    from policyengine.batch import pandas_values

    batch = _batch(options)
    columns = batch.columns
    if partition_info is None:  # dask calls once on an empty frame to learn the output's shape
        return _empty(columns)
    first = offsets[partition_info["number"]] + 1
    data = {c: pandas_values(df[c].tolist()) for c in df.columns}
    chunk = batch.evaluate_columns(data, first)
    good = chunk.table.to_pandas().astype("string")
    good[ROW] = pd.array([pd.NA] * len(good), dtype="Int64")
    good[ERROR] = pd.array([pd.NA] * len(good), dtype="string")
    bad = _empty(columns).reindex(range(len(chunk.errors)))
    bad["id"] = pd.array([None if i is None else str(i) for _, i, _ in chunk.errors], dtype="string")
    bad[ROW] = pd.array([r for r, _, _ in chunk.errors], dtype="Int64")
    bad[ERROR] = pd.array([m for _, _, m in chunk.errors], dtype="string")
    return pd.concat([good, bad], ignore_index=True) if len(bad) else good


def _empty(columns: list[str]) -> Any:
    import pandas as pd

    frame = pd.DataFrame({c: pd.array([], dtype="string") for c in columns})
    frame[ROW] = pd.array([], dtype="Int64")
    frame[ERROR] = pd.array([], dtype="string")
    return frame


#: the bytes of a CSV file each partition reads. Dask cuts a CSV file at line breaks, so a quoted
#: cell holding line breaks can be cut: such a partition is refused (`_csv_partition`) and the
#: file is read again as one partition (`run_dask`).
CSV_PARTITION = "16MB"


def _read(path: str, fmt: str, whole: bool = False) -> tuple[Any, list[int] | None]:
    """The input (of format `fmt`, `cli.batch._format`) as a Dask dataframe, and each
    partition's number of records where reading it counted them already (JSON Lines)."""
    import dask.dataframe as dd

    if fmt == "csv":
        return _read_csv(path, whole), None
    if fmt == "parquet":
        import pyarrow as pa

        from policyengine.cli.batch import parquet_file

        if Path(path).is_file():  # (a Parquet dataset may be a folder)
            parquet_file(path)  # a file that does not open (cut short, not Parquet): one machine's error
        try:
            return dd.read_parquet(path), None
        except (pa.ArrowInvalid, OSError) as exc:
            raise _unreadable(path, exc) from None
    return _read_jsonl(path)


#: the bytes of a JSON Lines file each partition reads (cut at line breaks, which JSON text
#: cannot hold inside a value)
JSONL_PARTITION = "16MB"


def _read_jsonl(path: str) -> tuple[Any, list[int]]:
    """A JSON Lines file as a Dask dataframe, each partition read as one machine reads the file
    (`cli.batch._jsonl_chunks`): a line that is not a record is a bad row, and values keep their
    JSON types (numbers, true, lists), so that messages are one machine's. The columns are every
    name the file gives, in order of first appearance: a first pass over the partitions finds
    them, and counts each one's records."""
    import dask
    import dask.dataframe as dd
    from dask.bytes.core import read_bytes

    from policyengine.batch import PROBLEM

    _, blocks = read_bytes(path, delimiter=b"\n", sample=False, **_blocks(path, JSONL_PARTITION))
    parts = blocks[0] or [b""]  # an empty file: one empty partition (no records)
    found = dask.compute(*[dask.delayed(_jsonl_names)(b, path, i == 0) for i, b in enumerate(parts)])  # type: ignore[attr-defined]
    names = list(dict.fromkeys([*(n for part, _ in found for n in part if n != PROBLEM), PROBLEM]))
    with dask.config.set({"dataframe.convert-string": False}):  # JSON values as they are, not text
        frame = dd.from_delayed(
            [dask.delayed(_jsonl_partition)(b, path, i == 0, names) for i, b in enumerate(parts)],  # type: ignore[attr-defined]
            meta=_jsonl_partition(b"", path, True, names),
        )
    return frame, [rows for _, rows in found]


def _jsonl_names(block: bytes, path: str, first: bool) -> tuple[list[str], int]:
    """The names a partition's records use, in order of first appearance, and how many records it holds."""
    from policyengine.cli.batch import _jsonl_chunks

    names: dict[str, None] = {}
    rows = 0
    for chunk in _jsonl_chunks(Path(path), 1 << 62, data=block, first=first):
        names.update(dict.fromkeys(chunk))
        rows += len(next(iter(chunk.values())))
    return list(names), rows


def _jsonl_partition(block: bytes, path: str, first: bool, names: list[str]) -> Any:
    """One partition's records as a pandas frame of Python values (a name a record lacks: None)."""
    import pandas as pd

    from policyengine.cli.batch import _jsonl_chunks

    chunks = list(_jsonl_chunks(Path(path), 1 << 62, data=block, first=first))
    columns = chunks[0] if chunks else {}
    n = len(next(iter(columns.values()))) if columns else 0
    return pd.DataFrame({name: pd.Series(columns.get(name, [None] * n), dtype=object) for name in names})


def _read_csv(path: str, whole: bool) -> Any:
    """A CSV file as a Dask dataframe of text columns, each partition read as one machine reads
    the file (`cli.batch._csv_batches`), so that a row with more or fewer cells than the header
    is a bad row here too (pandas read a short row with its missing cells empty)."""
    import dask
    import dask.dataframe as dd
    from dask.bytes.core import read_bytes

    header = _header_line(path)
    _, blocks = read_bytes(path, delimiter=b"\n", sample=False, **_blocks(path, None if whole else CSV_PARTITION))
    whole = whole or len(blocks[0]) == 1  # one partition: no cut to fall inside a quoted cell
    parts = [
        dask.delayed(_csv_partition)(block, header, path, i == 0, whole)  # type: ignore[attr-defined]
        for i, block in enumerate(blocks[0])
    ]
    return dd.from_delayed(parts, meta=_csv_partition(header, header, path, True, True))


def _blocks(path: str, size: str | None) -> dict[str, Any]:
    """How `read_bytes` cuts the file: in blocks of `size`, or, gzip-compressed, whole (a gzip
    stream cannot be entered in its middle: one worker reads it)."""
    if compressed(path):
        return {"blocksize": None, "compression": "gzip"}
    return {"blocksize": size}


def _header_line(path: str) -> bytes:
    """The file's header row as bytes (put before each partition's rows but the first's)."""
    from policyengine.cli.batch import open_input

    with open_input(path) as f:
        line = f.readline()
        while line.count(b'"') % 2 and (more := f.readline()):  # a quoted name holding a line break
            line += more
    return line if line.endswith(b"\n") else line + b"\n"


def _csv_partition(block: bytes, header: bytes, path: str, first: bool, whole: bool) -> Any:
    """One partition's rows (the file's header row put before them) as a pandas frame of text,
    with a `PROBLEM` column naming the rows that could not be read, in their places."""
    import pyarrow as pa

    from policyengine.batch import PROBLEM
    from policyengine.cli.batch import _csv_batches, _table

    if not whole and block.count(b'"') % 2:  # an odd number of quotes: the cut may be in a quoted cell
        raise InputError.at(path, None, "cannot read CSV: a partition holds an odd number of quotes")
    batches = list(_csv_batches(Path(path), data=block if first else header + block))
    if batches:
        table = _table(batches)
    else:  # no rows: the header's columns
        names = next(csv.reader(io.StringIO(header.decode("utf-8-sig"))))
        table = pa.table({n: pa.array([], pa.string()) for n in names})
    if PROBLEM not in table.column_names:
        table = table.append_column(PROBLEM, pa.nulls(table.num_rows, pa.string()))
    return table.to_pandas()


def run_dask(args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate INPUT on a Dask cluster into partitioned Parquet; return the summary."""
    import dask
    from dask.distributed import Client, LocalCluster

    from policyengine.batch import summary_dict

    if not Path(args.input).exists():
        raise InputError.at(args.input, None, "file not found")
    options = _options(args)
    batch = _batch(options)  # checks rules, mapping and actions here, before the cluster starts
    out = Path(args.out)
    errors_out = Path(args.errors) if args.errors else out.with_name(out.name + ".errors")
    from policyengine.cli.batch import prepare_outputs

    prepare_outputs(Path(args.input), {"--out": out, "--errors": errors_out, "--summary": args.summary})
    for option, path in (("--out", out), ("--errors", errors_out)):
        if path.suffix.lower() in (".csv", ".jsonl", ".ndjson"):
            raise InputError.at(
                str(path), None, f"with --dask, {option} is a folder of Parquet files: name it without {path.suffix}"
            )
    cluster = None
    if args.dask == "local":
        cluster = LocalCluster(
            n_workers=args.dask_workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        try:
            client = Client(args.dask)
        except (ValueError, OSError) as exc:  # not an address, or no scheduler there (a timeout)
            raise InputError.at("--dask", None, f"cannot reach a Dask scheduler at '{args.dask}': {exc}") from None
    fmt = _format(args.input, "INPUT")  # a file of another kind: what to do with it
    try:
        frame, counted = _read(args.input, fmt)
        batch.check_columns(list(frame.columns), args.input)
        if fmt != "jsonl":  # every column known
            batch.check_mapped_columns(list(frame.columns), args.input)
        try:
            lengths = counted if counted is not None else _lengths(frame, args.input, fmt)
        except InputError as exc:
            if fmt != "csv" or frame.npartitions == 1:
                raise
            frame, _ = _read(args.input, fmt, whole=True)
            lengths = _lengths(frame, args.input, fmt)  # a file that does not parse whole is the error
            print(
                f"{args.input}: read as one partition: cut in partitions of {CSV_PARTITION} it did not parse"
                f" ({exc.problems[0].message.removeprefix('cannot read CSV: ')}), as when a cut falls in a"
                " quoted cell holding line breaks; Parquet input is read in partitions",
                file=sys.stderr,
            )
        offsets = [sum(lengths[:k]) for k in range(len(lengths))]
        result = frame.map_partitions(_evaluate_partition, offsets, options, meta=_empty(batch.columns))
        good = result[result[ERROR].isna()].drop(columns=[ROW, ERROR])
        bad = result[~result[ERROR].isna()][[ROW, "id", ERROR]]
        dask.compute(  # type: ignore[attr-defined]
            good.to_parquet(str(out), write_index=False, compute=False),
            bad.to_parquet(str(errors_out), write_index=False, compute=False),
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    summary = _summary_from(out, errors_out, batch.actions, sum(lengths), summary_dict)
    summary["warnings"] = batch.unread_warnings(frame.columns, args.input)  # JSON Lines: the names of every record
    return summary


def _lengths(frame: Any, path: str, fmt: str) -> list[int]:
    """Each partition's number of records (every partition is read and parsed here)."""
    try:
        return list(frame.map_partitions(len).compute().tolist())
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except ValueError as exc:  # pyarrow's ArrowInvalid is one (JSON Lines are counted as they are read)
        if fmt != "parquet":
            raise
        raise _unreadable(path, exc) from None


def _unreadable(path: str, exc: Exception) -> InputError:
    """A Parquet input pyarrow could not read on a cluster, with its reason."""
    reason = str(exc).split("Original Message: ", 1)[-1].strip()
    return InputError.at(path, None, f"cannot read Parquet: {reason}")


def _not_utf8(path: str) -> InputError:
    from policyengine.cli.batch import not_utf8

    return not_utf8(path)


def _summary_from(out: Path, errors_out: Path, actions: tuple[str, ...], rows: int, summary_dict: Any) -> dict:
    """The summary, counted from what was written (so it describes the files, not a plan)."""
    import pyarrow.dataset as ds

    wanted = [f"{a}.{f}" for a in actions for f in ("verdict", "practice")]
    table = ds.dataset(str(out), format="parquet").to_table(columns=["county", *wanted])
    counts: Counter[tuple[str, str, str]] = Counter()
    practices: Counter[tuple[str, str, str]] = Counter()
    counties = table.column("county").to_pylist()
    for action in actions:
        for kept, name in ((counts, f"{action}.verdict"), (practices, f"{action}.practice")):
            for county, value in zip(counties, table.column(name).to_pylist(), strict=True):
                kept[(county, action, value)] += 1
    errors = ds.dataset(str(errors_out), format="parquet").count_rows()
    return summary_dict(counts, rows, table.num_rows, errors, None, practices=practices)  # cases: not counted
