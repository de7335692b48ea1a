"""`policyengine batch --dask local`: two Dask workers write what one process writes."""

from __future__ import annotations

import csv
import json

import pytest

pytest.importorskip("dask.distributed")

import pyarrow.dataset as ds  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from benchmarks.generate import write_csv  # noqa: E402

from policyengine.cli import main  # noqa: E402


def test_local_cluster_with_two_workers_gives_the_single_process_results(rulebase, tmp_path, capsys):
    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 600, seed=3, bad=0.02)
    one = tmp_path / "one.parquet"
    assert main(["batch", str(source), "--out", str(one), "--workers", "1", "--engine", "reference"]) == 0
    out = tmp_path / "dask-out"
    capsys.readouterr()  # the single-process run's summary
    summary = tmp_path / "summary.json"
    args = ["--dask", "local", "--dask-workers", "2", "--engine", "reference", "--summary", str(summary)]
    assert main(["batch", str(source), "--out", str(out), *args]) == 0
    told = json.loads(summary.read_text())
    # the cases a cluster evaluated are not counted: the summary says so rather than "0"
    assert told["cases"] is None and "distinct cases" not in capsys.readouterr().err
    expected = pq.read_table(one).sort_by("id")
    got = ds.dataset(str(out), format="parquet").to_table().cast(expected.schema).sort_by("id")
    assert got.num_rows == expected.num_rows > 500
    assert got.equals(expected)
    errors = ds.dataset(str(tmp_path / "dask-out.errors"), format="parquet").to_table().sort_by("row")
    with open(str(one) + ".errors.csv", encoding="utf-8") as f:
        rows = [line.split(",", 1)[0] for line in f.read().splitlines()[1:]]
    assert [str(r) for r in errors.column("row").to_pylist()] == rows
    assert errors.num_rows + got.num_rows == 600
    assert (told["rows"], told["written"], told["errors"]) == (600, got.num_rows, errors.num_rows)
    for key in ("counts", "practice_counts"):  # every row written is counted once per action
        assert sum(n for c in told[key].values() for n in c["hold_beyond_release"].values()) == got.num_rows


def test_a_csv_whose_quoted_cells_hold_line_breaks_gives_the_single_process_results(
    rulebase, tmp_path, monkeypatch, capsys
):
    """Dask cuts a CSV file at line breaks; where a cut falls inside a quoted cell (a notes column
    with line breaks), the file is read again as one partition, with a notice, and the results are
    those of one process (it was a pandas ParserError traceback)."""
    from policyengine import batch_dask

    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 600, seed=3, bad=0.02)
    noted = tmp_path / "noted.csv"
    with open(source, newline="", encoding="utf-8") as f, open(noted, "w", newline="", encoding="utf-8") as g:
        w = csv.writer(g)
        for i, row in enumerate(csv.reader(f)):
            w.writerow([*row, "notes" if i == 0 else f"booked {i}\nsecond line, with a comma"])
    (tmp_path / "map.yaml").write_text("ignore: [notes]\n")
    one = tmp_path / "one.parquet"
    assert main(["batch", str(source), "--out", str(one), "--workers", "1", "--engine", "reference"]) == 0
    monkeypatch.setattr(batch_dask, "CSV_PARTITION", 20_000)  # about 8 partitions, cut inside notes
    out = tmp_path / "dask-out"
    args = ["--mapping", str(tmp_path / "map.yaml"), "--dask", "local", "--dask-workers", "2", "--engine", "reference"]
    assert main(["batch", str(noted), "--out", str(out), *args]) == 0
    err = capsys.readouterr().err
    assert "read as one partition" in err and "Traceback" not in err
    expected = pq.read_table(one).sort_by("id")
    got = ds.dataset(str(out), format="parquet").to_table().cast(expected.schema).sort_by("id")
    assert got.num_rows == expected.num_rows > 500
    assert got.equals(expected)


@pytest.mark.parametrize(
    ("name", "raw", "told"),
    [
        (
            "records.csv",
            "id,date,agency,place.county\n1,2026-02-10,county_jail,H\u00e9nnepin\n".encode("cp1252"),
            ":2: error: file is not UTF-8 text: byte 0xe9 at column 27",
        ),
    ],
    ids=["csv-not-utf8"],
)
def test_a_file_that_does_not_read_is_a_clear_error_on_dask(tmp_path, capsys, name, raw, told):
    """A file a cluster cannot read is a one-line error, exit 2 (a JSON Lines file pandas could not
    read was a ValueError traceback)."""
    source = tmp_path / name
    source.write_bytes(raw)
    code = main(["batch", str(source), "--out", str(tmp_path / "o"), "--dask", "local", "--dask-workers", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"{source}{told}" in err


def test_an_output_that_is_the_input_is_refused_before_the_cluster_starts(tmp_path, capsys):
    source = tmp_path / "records.csv"
    source.write_text("id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n")
    before = source.read_bytes()
    assert main(["batch", str(source), "--out", str(tmp_path / "o"), "--errors", str(source), "--dask", "local"]) == 2
    assert f"{source}: error: --errors is the INPUT file; it would be overwritten" in capsys.readouterr().err
    assert source.read_bytes() == before


def test_rows_with_more_or_fewer_cells_are_bad_rows_on_dask_as_on_one_machine(rulebase, tmp_path, monkeypatch):
    """A CSV row with fewer cells than the header was read by pandas with the missing cells
    empty, and evaluated as if they were; one with more stopped the run. Each partition is now
    read as one machine reads the file: both are bad rows, with the same row numbers and
    messages, and every other row gives the same output, across several partitions."""
    from policyengine import batch_dask

    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 600, seed=3, bad=0.02)
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[10] = ",".join(lines[10].split(",")[:4]) + "\n"  # row 10: 4 cells, the detainer's among those lost
    lines[250] = lines[250].rstrip("\n") + ",extra\n"  # row 250: one cell more
    lines[590] = lines[590].split(",")[0] + "\n"  # row 590: its id alone
    lines[0] = "\ufeff" + lines[0]  # a byte-order mark, as spreadsheets write: before every partition's rows
    source.write_text("".join(lines), encoding="utf-8")
    monkeypatch.setattr(batch_dask, "CSV_PARTITION", 20_000)  # several partitions
    got_errors = _one_machine_and_dask_agree(source, tmp_path)
    cells = {r: m for r, _, m in got_errors if "where the header has" in m}
    assert cells == {
        "10": "the row has 4 cells where the header has 21",
        "250": "the row has 22 cells where the header has 21",
        "590": "the row has 1 cell where the header has 21",
    }


def test_a_parquet_column_of_lists_gives_the_single_process_results(tmp_path):
    """pandas hands a Parquet list cell over as a numpy array, which stopped the partition
    ("unhashable type: 'numpy.ndarray'"); it is read as a list, as on one machine."""
    import pyarrow as pa

    base = {"date": "2026-02-10", "agency": "county_jail", "place.county": "Hennepin"}
    records = [
        {"id": "a", **base, "immigration.detainer": ["I-247A"]},
        {"id": "b", **base, "immigration.detainer": None},
        {"id": "c", **base, "immigration.detainer": ["I-247A", "I-203"]},
    ]
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(records), source)
    bad = _one_machine_and_dask_agree(source, tmp_path, workers=1)
    assert pq.read_table(tmp_path / "one.parquet").column("id").to_pylist() == ["b"]
    assert [i for _, i, _ in bad] == ["a", "c"]


def test_a_json_lines_file_with_a_byte_order_mark_is_read_on_dask(tmp_path):
    source = tmp_path / "records.jsonl"
    record = '{"id": "a1", "date": "2026-02-10", "agency": "county_jail", "place.county": "Hennepin"}\n'
    source.write_bytes(b"\xef\xbb\xbf" + record.encode())
    out = tmp_path / "dask-out"
    assert main(["batch", str(source), "--out", str(out), "--dask", "local", "--dask-workers", "1"]) == 0
    assert ds.dataset(str(out), format="parquet").to_table().column("id").to_pylist() == ["a1"]


def test_a_parquet_file_that_does_not_read_is_the_error_one_machine_gives(tmp_path, capsys):
    """A Parquet file cut short (or not Parquet at all) was a pyarrow traceback on a cluster."""
    import pyarrow as pa

    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"id": ["a"], "date": ["2026-02-10"]}), whole)
    source = tmp_path / "cut.parquet"
    source.write_bytes(whole.read_bytes()[:100])
    assert main(["batch", str(source), "--out", str(tmp_path / "one.csv"), "--workers", "1"]) == 2
    one = capsys.readouterr().err
    code = main(["batch", str(source), "--out", str(tmp_path / "o"), "--dask", "local", "--dask-workers", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    told = [line for line in err.splitlines() if line.startswith(str(source))]
    assert told == one.splitlines() and f"{source}: error: cannot read Parquet: " in one


def test_a_scheduler_address_that_is_not_one_is_a_clear_error(tmp_path, capsys):
    """`--dask nonsense` was a ValueError traceback ("missing port number in address")."""
    source = tmp_path / "records.csv"
    source.write_text("id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n")
    assert main(["batch", str(source), "--out", str(tmp_path / "o"), "--dask", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert "--dask: error: cannot reach a Dask scheduler at 'nonsense': missing port number" in err


def test_json_lines_on_dask_give_the_single_process_results_bad_lines_included(rulebase, tmp_path, monkeypatch):
    """A JSON Lines line that is not a record (not JSON, NaN, a list) stopped a cluster run with
    pandas' reason, where one machine makes it a bad row; and pandas read numbers and true as
    text. Each partition is now read as one machine reads the file: the same rows, the same bad
    rows with the same numbers and messages, across several partitions, a byte-order mark first."""
    from benchmarks.generate import records

    from policyengine import batch_dask

    lines = []
    for i, row in enumerate(records(rulebase, 400, seed=5, bad=0.03)):
        record: dict = {k: v for k, v in row.items() if v != ""}
        if i % 7 == 0:  # a group, as in a scenario file
            record["place"] = {"county": record.pop("place.county")}
        if i % 11 == 0:  # JSON types: a number where text is wanted, true for a boolean
            record["immigration.detainer"] = 247
        if i % 13 == 0:
            record["custody.outstanding_warrant"] = True
        lines.append(json.dumps(record))
    lines[5] = "not json"
    lines[77] = lines[77].replace('"date": ', '"date": NaN, "x": ')
    lines[150] = "[1, 2]"
    lines[151] = ""  # a blank line is not a record
    source = tmp_path / "records.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    monkeypatch.setattr(batch_dask, "JSONL_PARTITION", 12_000)  # several partitions
    want = _one_machine_and_dask_agree(source, tmp_path)
    assert len(want) < 100  # more than 300 of the 399 records are written
    told = {m for _, _, m in want}
    assert {"invalid JSON: Expecting value", "invalid JSON: NaN is not a JSON value"} <= told
    assert any(m.startswith("a JSON Lines row must be one object") for m in told)
    assert any("247" in m for m in told)  # the number, told as one machine tells it


def test_an_empty_json_lines_file_is_no_rows_on_dask_as_on_one_machine(tmp_path, capsys):
    """An empty file has no partition to read: it was a traceback on a cluster."""
    source = tmp_path / "records.jsonl"
    source.write_bytes(b"")
    code = main(["batch", str(source), "--out", str(tmp_path / "o"), "--dask", "local", "--dask-workers", "1"])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err
    assert "0 rows read, 0 written, 0 in the errors file" in err


def test_a_dask_output_named_like_a_csv_file_is_refused_before_the_cluster_starts(tmp_path, capsys):
    """`--dask` writes folders of Parquet files: `--out results.csv` made a folder named
    results.csv, full of Parquet."""
    source = tmp_path / "records.csv"
    source.write_text("id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n")
    out = tmp_path / "results.csv"
    assert main(["batch", str(source), "--out", str(out), "--dask", "local"]) == 2
    assert (
        f"{out}: error: with --dask, --out is a folder of Parquet files: name it without .csv"
        in capsys.readouterr().err
    )
    assert not out.exists()


def _one_machine_and_dask_agree(source, tmp_path, workers: int = 2) -> list[list[str]]:
    """Run `source` on one machine and on `workers` Dask workers; assert the same rows (after
    sorting by id) and the same bad rows; return the bad rows (row, id, message)."""
    one = tmp_path / "one.parquet"
    assert main(["batch", str(source), "--out", str(one), "--workers", "1", "--engine", "reference"]) == 0
    out = tmp_path / "dask-out"
    args = ["--dask", "local", "--dask-workers", str(workers), "--engine", "reference"]
    assert main(["batch", str(source), "--out", str(out), *args]) == 0
    expected = pq.read_table(one).sort_by("id")
    got = ds.dataset(str(out), format="parquet").to_table().cast(expected.schema).sort_by("id")
    assert got.num_rows == expected.num_rows > 0
    assert got.equals(expected)
    errors = ds.dataset(str(tmp_path / "dask-out.errors"), format="parquet").to_table().sort_by("row")
    with open(str(one) + ".errors.csv", newline="", encoding="utf-8") as f:
        want = list(csv.reader(f))[1:]
    assert [[str(r), i or "", m] for r, i, m in zip(*errors.to_pydict().values(), strict=True)] == want
    return want


def test_a_gzip_compressed_csv_on_dask_gives_the_single_process_results(rulebase, tmp_path):
    """A .csv.gz is read whole by one worker (a gzip stream cannot be entered in its middle):
    the rows and bad rows of one machine."""
    import gzip

    plain = tmp_path / "records.csv"
    write_csv(plain, rulebase, 400, seed=6, bad=0.02)
    source = tmp_path / "records.csv.gz"
    source.write_bytes(gzip.compress(plain.read_bytes()))
    assert _one_machine_and_dask_agree(source, tmp_path)
