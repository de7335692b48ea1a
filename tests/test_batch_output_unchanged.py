"""Speed work on `policyengine batch` must not change a byte of what it writes.

Stored generated records (with bad rows) go through `batch` in every output format, from CSV,
JSON Lines and Parquet input, with and without `--as-of`/`--actions`, on both engines; the
output, errors and summary files are compared with golden files captured before the batch path
was made columnar (`tests/golden/batch/`, gzip-compressed: they are megabytes of text).

Regenerate (after a legitimate rule, vocabulary, generator or contract change, never to hide a
speed change) with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_batch_output_unchanged.py` and
read the diff (`zcat`).
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from benchmarks.generate import records

from policyengine.cli import main
from policyengine.engine import durable_available

GOLDEN = Path(__file__).parent / "golden" / "batch"
KNOWN_ON = "2026-11-29"  # the default date of knowledge is today: fixed so the golden files do not date
ROWS = 3_000

ENGINES = [
    pytest.param("reference"),
    pytest.param("durable", marks=pytest.mark.skipif(not durable_available(), reason="durable_rules not importable")),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, rulebase):
    """The stored records (`input.csv.gz`: made by benchmarks/generate.py, seed 13, 2% bad, and
    kept, so that new bundled scenarios do not change them) as CSV, as JSON Lines (nested places,
    typed values, broken lines) and as Parquet."""
    import csv
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path_factory.mktemp("golden-inputs")
    stored = GOLDEN / "input.csv.gz"
    if os.environ.get("UPDATE_GOLDEN_INPUT"):
        sink = io.StringIO()
        made = list(records(rulebase, ROWS, seed=13, bad=0.02))
        w = csv.DictWriter(sink, fieldnames=list(made[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(made)
        stored.write_bytes(gzip.compress(sink.getvalue().encode(), mtime=0))
    text = gzip.decompress(stored.read_bytes()).decode()
    (folder / "in.csv").write_text(text, encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    names = list(rows[0])
    with open(folder / "in.jsonl", "w", encoding="utf-8") as f:
        for i, row in enumerate(rows):
            obj: dict = {k: v for k, v in row.items() if v != ""}
            if i % 7 == 0:  # a nested group, as in a scenario file
                obj["place"] = {"county": obj.pop("place.county")}
            if i % 5 == 0:  # typed JSON values instead of text
                obj = {k: {"true": True, "false": False}.get(v, v) if isinstance(v, str) else v for k, v in obj.items()}
            if i % 11 == 0:
                obj["id"] = i  # a number as id
            f.write(json.dumps(obj) + "\n")
            if i % 997 == 0:
                f.write('{"id": "broken", "date": \n')  # not JSON
                f.write("[1, 2]\n")  # JSON, not an object
                f.write("\n")  # blank lines are skipped
    table = pa.table({k: pa.array([r[k] for r in rows], pa.string()) for k in names})
    pq.write_table(table, folder / "in.parquet")
    return folder


RUNS = {
    # name: (input, output, extra options)
    "csv-to-csv": ("in.csv", "out.csv", []),
    "csv-to-jsonl": ("in.csv", "out.jsonl", ["--errors", "{dir}/out.errors.jsonl"]),
    "csv-to-parquet": ("in.csv", "out.parquet", []),
    "jsonl-to-csv": ("in.jsonl", "out.csv", []),
    "parquet-to-jsonl-as-of": (
        "in.parquet",
        "out.jsonl",
        ["--as-of", "2020-01-01", "--actions", "hold_beyond_release,notify_release,share_status"],
    ),
}


def _readable(path: Path) -> bytes:
    """A file's bytes; a Parquet file as its schema and its rows as CSV (its bytes name the writer)."""
    if path.suffix != ".parquet":
        return path.read_bytes()
    import io

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return str(table.schema).encode() + b"\n" + sink.getvalue()


def _first_difference(got: bytes, want: bytes) -> str:
    for n, (a, b) in enumerate(zip(got.splitlines(), want.splitlines(), strict=False), 1):
        if a != b:
            at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            start = max(0, at - 150)
            return f"line {n}, byte {at}:\n got  ...{a[start : at + 150]!r}\n want ...{b[start : at + 150]!r}"
    return f"lengths differ: {len(got.splitlines())} lines against {len(want.splitlines())}"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("run", list(RUNS))
def test_batch_output_matches_golden(run, engine, inputs, tmp_path):
    source, out_name, extra = RUNS[run]
    if engine == "reference" and run != "csv-to-csv":
        pytest.skip("one run on the reference engine is enough to show both engines write the same")
    out = tmp_path / out_name
    options = [o.replace("{dir}", str(tmp_path)) for o in extra]
    args = ["batch", str(inputs / source), "--out", str(out), "--workers", "1", "--chunk-size", "700"]
    args += ["--known-on", KNOWN_ON, "--engine", engine, "--summary", str(tmp_path / "summary.json"), *options]
    assert main(args) == 0
    errors = Path(options[1]) if options[:1] == ["--errors"] else out.with_name(out.name + ".errors.csv")
    files = {"out": out, "errors": errors, "summary": tmp_path / "summary.json"}
    summary = json.loads(files["summary"].read_text())
    assert summary["rows"] == summary["written"] + summary["errors"] >= ROWS  # not an empty run
    assert summary["errors"] > 20
    for kind, path in files.items():
        golden = GOLDEN / f"{run}.{kind}{path.suffix}.gz"
        got = _readable(path)
        if os.environ.get("UPDATE_GOLDEN") and engine == "durable":
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(gzip.compress(got, mtime=0))
        want = gzip.decompress(golden.read_bytes())
        assert got == want, f"{run} {kind} differs from {golden.name}: {_first_difference(got, want)}"
