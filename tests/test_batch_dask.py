"""`policyengine batch --dask local`: two Dask workers write what one process writes."""

from __future__ import annotations

import pytest

pytest.importorskip("dask.distributed")

import pyarrow.dataset as ds  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from benchmarks.generate import write_csv  # noqa: E402

from policyengine.cli import main  # noqa: E402


def test_local_cluster_with_two_workers_gives_the_single_process_results(rulebase, tmp_path):
    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 600, seed=3, bad=0.02)
    one = tmp_path / "one.parquet"
    assert main(["batch", str(source), "--out", str(one), "--workers", "1", "--engine", "reference"]) == 0
    out = tmp_path / "dask-out"
    code = main(
        ["batch", str(source), "--out", str(out), "--dask", "local", "--dask-workers", "2", "--engine", "reference"]
    )
    assert code == 0
    expected = pq.read_table(one).sort_by("id")
    got = ds.dataset(str(out), format="parquet").to_table().cast(expected.schema).sort_by("id")
    assert got.num_rows == expected.num_rows > 500
    assert got.equals(expected)
    errors = ds.dataset(str(tmp_path / "dask-out.errors"), format="parquet").to_table().sort_by("row")
    with open(str(one) + ".errors.csv", encoding="utf-8") as f:
        rows = [line.split(",", 1)[0] for line in f.read().splitlines()[1:]]
    assert [str(r) for r in errors.column("row").to_pylist()] == rows
    assert errors.num_rows + got.num_rows == 600
