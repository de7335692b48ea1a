"""`policyengine batch` and the batch API: same answers as one-by-one evaluation, nothing lost."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from benchmarks.generate import write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.batch import Batch, hold_limit, load_mapping
from policyengine.checked import Scenario
from policyengine.cli import main
from policyengine.engine import get_engine
from policyengine.pipeline import evaluate, load_scenarios
from policyengine.report.data import decision_dict

ROOT = Path(__file__).parent.parent
DATES = [dt.date(2012, 6, 1), dt.date(2017, 1, 1), dt.date(2019, 9, 23), dt.date(2021, 6, 9), dt.date(2026, 2, 10)]


def test_each_case_once_gives_the_answer_of_each_record_evaluated_alone(rulebase):
    """The case key loses nothing: every bundled scenario in several counties and on several
    days, through Batch (cases shared) and through evaluate (one by one), agree."""
    engine = get_engine("reference")
    batch = Batch(rulebase, engine)
    counties = rulebase.counties[::9] + ["Hennepin", "Ramsey", "Freeborn", "Cass"]
    checked = contested = 0
    for scenario in load_scenarios([ROOT / "scenarios"], rulebase):
        for county in counties:
            for day in DATES:
                facts = {**scenario.facts, "date": day, "place.county": county, "place.city": "none"}
                alone = evaluate(
                    Scenario(scenario.head, facts, "x"), rulebase, engine, as_of=day, known_on=batch.known_on
                )
                row = batch.evaluate({k: v for k, v in facts.items()})
                for d in alone.decisions:
                    assert row[f"{d.action}.verdict"] == d.verdict, (scenario.id, county, day, d.action)
                    assert row[f"{d.action}.practice"] == d.practice
                    assert row[f"{d.action}.decided_by"] == " ".join(d.decided_by)
                    assert row[f"{d.action}.practice_by"] == " ".join(d.practice_by)
                    assert row[f"{d.action}.strength"] == decision_dict(d, rulebase)["strength"]  # as `run` says
                    assert row[f"{d.action}.leaning"] == decision_dict(d, rulebase).get("leaning", "")
                    contested += d.verdict == "contested"
                assert row["county"] == county
                checked += 1
    assert checked > 1000 and contested > 0  # (contested verdicts carry their leaning)
    assert batch.case_count < checked  # cases were shared


def test_dict_api_and_bad_values(rulebase):
    b = Batch(rulebase, "reference")
    row = b.evaluate(
        {"date": "2026-02-10", "agency": "county_jail", "place.county": "Hennepin", "immigration.detainer": "I-247A"},
        record_id="x1",
    )
    assert row["hold_beyond_release.verdict"] == "prohibited"
    assert row["id"] == "x1"
    from policyengine.batch import RecordError

    with pytest.raises(RecordError, match="not a real calendar date"):
        b.evaluate({"date": "2026-02-30", "agency": "county_jail", "place.county": "Hennepin"})
    with pytest.raises(RecordError, match="missing required fact 'agency'"):
        b.evaluate({"date": "2026-02-10", "place.county": "Hennepin"})


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _batch(*args: str) -> int:
    return main(["batch", *args])


@pytest.fixture(scope="module")
def ten_thousand(tmp_path_factory, rulebase):
    folder = tmp_path_factory.mktemp("batch")
    source = folder / "records.csv"
    write_csv(source, rulebase, 10_000, seed=11, bad=0.01)
    return source


def test_ten_thousand_rows_one_percent_bad(ten_thousand, tmp_path):
    out = tmp_path / "out.csv"
    assert (
        _batch(
            str(ten_thousand),
            "--out",
            str(out),
            "--workers",
            "1",
            "--engine",
            "reference",
            "--summary",
            str(tmp_path / "s.json"),
        )
        == 0
    )
    rows = _rows(out)
    errors = _rows(tmp_path / "out.csv.errors.csv")
    source = _rows(ten_thousand)
    assert 50 <= len(errors) <= 200
    assert len(rows) + len(errors) == len(source) == 10_000
    bad_ids = {e["id"] for e in errors}
    for e in errors:  # the row number points at the row, and the message says what is wrong
        record = source[int(e["row"]) - 1]
        assert record["id"] == e["id"]
        assert any(v in e["error"] for v in ("2023-02-30", "Atlantis", "I-999", "on_vacation"))
    assert [r["id"] for r in rows] == [s["id"] for s in source if s["id"] not in bad_ids]  # input order
    summary = json.loads((tmp_path / "s.json").read_text())
    assert (summary["rows"], summary["written"], summary["errors"]) == (10_000, len(rows), len(errors))
    per_action = sum(v for a in summary["counts"].values() for v in a["hold_beyond_release"].values())
    assert per_action == len(rows)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_killed_and_resumed_neither_duplicates_nor_loses(ten_thousand, tmp_path, workers):
    whole = tmp_path / "whole.csv"
    assert _batch(str(ten_thousand), "--out", str(whole), "--workers", "1", "--engine", "reference") == 0
    out = tmp_path / "out.csv"
    cmd = [
        sys.executable,
        "-m",
        "policyengine",
        "batch",
        str(ten_thousand),
        "--out",
        str(out),
        "--workers",
        workers,
        "--engine",
        "reference",
        "--chunk-size",
        "500",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = tmp_path / "out.csv.parts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(parts.glob("*.done.json"))) < 4:
        time.sleep(0.05)
    helpers = _descendants(proc.pid)  # the forkserver and the workers, with --workers 2
    assert helpers or workers == "1" or not Path("/proc").is_dir()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not _still_running(helpers, within=30), "processes of the killed batch were left running"
    done_before = len(list(parts.glob("*.done.json")))
    assert 4 <= done_before < 20, "the run was not interrupted halfway"
    assert not out.exists()
    # as if the kill had come in the middle of writing a chunk: rows beyond the last chunk marked done
    with open(parts / "output.csv", "ab") as f:
        f.write(b'"r9999999","2020-01-01","torn')
    again = ["--workers", workers, "--engine", "reference", "--chunk-size", "500"]
    assert _batch(str(ten_thousand), "--out", str(out), *again) == 0
    assert out.read_bytes() == whole.read_bytes()
    assert (tmp_path / "out.csv.errors.csv").read_bytes() == (tmp_path / "whole.csv.errors.csv").read_bytes()
    assert not parts.exists()
    # and, spelled out: every input row exactly once, in the output or in the errors file
    ids = [r["id"] for r in _rows(out)] + [e["id"] for e in _rows(tmp_path / "out.csv.errors.csv")]
    assert len(ids) == len(set(ids)) == 10_000
    assert set(ids) == {r["id"] for r in _rows(ten_thousand)}


def _descendants(pid: int) -> set[int]:
    """The processes below `pid` (Linux's /proc; none found elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _still_running(pids: set[int], within: float) -> set[int]:
    """Those of `pids` still running (not ended, not a zombie) after up to `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        alive = set()
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.add(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def test_two_workers_write_what_one_writes_in_every_format(rulebase, tmp_path):
    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 1_500, seed=5, bad=0.01)
    for ext in ("csv", "jsonl", "parquet"):
        one, two = tmp_path / f"one.{ext}", tmp_path / f"two.{ext}"
        args = ["--engine", "reference", "--chunk-size", "400"]
        assert _batch(str(source), "--out", str(one), "--workers", "1", *args) == 0
        assert _batch(str(source), "--out", str(two), "--workers", "2", *args) == 0
        assert one.read_bytes() == two.read_bytes(), ext


def test_several_workers_evaluate_each_distinct_case_exactly_once(rulebase, tmp_path):
    """Each case is routed to one worker: the cases all workers evaluate are the input's distinct
    cases, none twice, however many workers there are, and the output is one worker's."""
    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 3_000, seed=3)
    b = Batch(rulebase, "reference")
    distinct = set()
    for record in _rows(source):
        facts = b.facts_of({k: v for k, v in record.items() if k not in ("id", "time")})
        values, where = b._base_key(facts)
        distinct.add((values, b.keys.interval(facts["date"], *where)))
    assert len(distinct) > 500
    outputs, evaluated = set(), []
    for workers in ("1", "2", "3"):
        out, summary = tmp_path / f"out{workers}.csv", tmp_path / f"summary{workers}.json"
        args = ["--engine", "reference", "--chunk-size", "250", "--summary", str(summary)]
        assert _batch(str(source), "--out", str(out), "--workers", workers, *args) == 0
        outputs.add(out.read_bytes())
        evaluated.append(json.loads(summary.read_text())["cases"])
    assert evaluated == [len(distinct)] * 3
    assert len(outputs) == 1


def test_a_case_store_bounded_to_almost_nothing_writes_the_same(rulebase, tmp_path, monkeypatch):
    """What a batch keeps per case, per combination of facts and per engine run is bounded;
    forgotten, a case is evaluated again, to the same answer."""
    import policyengine.batch
    import policyengine.cases

    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 2_000, seed=9, bad=0.02)
    args = ["--engine", "reference", "--chunk-size", "200", "--workers", "1"]
    kept_out = tmp_path / "kept.csv"
    assert _batch(str(source), "--out", str(kept_out), "--summary", str(tmp_path / "kept.json"), *args) == 0
    for name, bound in [("CASES_KEPT", 3), ("ROWS_KEPT", 2), ("VALUES_KEPT", 4)]:
        monkeypatch.setattr(policyengine.batch, name, bound)
    monkeypatch.setattr(policyengine.cases, "FIRINGS_KEPT", 2)
    out = tmp_path / "bounded.csv"
    assert _batch(str(source), "--out", str(out), "--summary", str(tmp_path / "bounded.json"), *args) == 0
    assert out.read_bytes() == kept_out.read_bytes()
    assert (tmp_path / "bounded.csv.errors.csv").read_bytes() == (tmp_path / "kept.csv.errors.csv").read_bytes()
    kept, bounded = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("kept", "bounded"))
    assert bounded["cases"] > kept["cases"] + 300  # the bounds were reached: cases forgotten and evaluated again
    assert {k: v for k, v in bounded.items() if k != "cases"} == {k: v for k, v in kept.items() if k != "cases"}


def test_mapping_reads_a_foreign_table(tmp_path):
    source = tmp_path / "foreign.csv"
    source.write_text(
        "booking,detainer_date,facility,form,note\n"
        "B1,2026-02-10,HENNEPIN CO JAIL,247A,x\n"
        "B2,2016-05-01,HENNEPIN CO JAIL,247A,y\n"
    )
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns: {booking: id, detainer_date: date, facility: place.county, form: immigration.detainer}\n"
        "values:\n  place.county: {HENNEPIN CO JAIL: Hennepin}\n  immigration.detainer: {'247A': I-247A}\n"
        "constants: {agency: county_jail}\n"
        "ignore: [note]\n"
    )
    out = tmp_path / "out.csv"
    assert _batch(str(source), "--out", str(out), "--mapping", str(mapping), "--workers", "1") == 0
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["B1", "B2"]
    assert rows[0]["hold_beyond_release.verdict"] == "prohibited"
    assert rows[1]["county"] == "Hennepin"


def test_mapping_reads_dataset_names_and_values_as_written(tmp_path):
    """A FOIA table's `yes`, `no`, `on` and `01` are text: YAML would read them as true, false,
    true and 1 (so `yes` and `on` were one key, and the dataset's `yes` matched nothing)."""
    source = tmp_path / "foreign.csv"
    source.write_text(
        "no,detainer_date,facility,form,01\n"
        "1,2026-02-10,ADC,yes,x\n"
        "2,2026-02-10,ADC,no,x\n"
        "3,2026-02-10,ADC,on,x\n"
        "4,2026-02-10,ADC,01,x\n"
    )
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns: {no: id, detainer_date: date, facility: place.county, form: immigration.detainer}\n"
        "values:\n  place.county: {ADC: Hennepin}\n"
        "  immigration.detainer: {yes: I-247A, no: none, on: I-247A, 01: I-247N}\n"
        "constants: {agency: county_jail}\n"
        "ignore: [01]\n"
    )
    plain = tmp_path / "plain.csv"
    plain.write_text(
        "id,date,place.county,immigration.detainer,agency\n"
        + "".join(
            f"{i},2026-02-10,Hennepin,{form},county_jail\n"
            for i, form in enumerate(["I-247A", "none", "I-247A", "I-247N"], start=1)
        )
    )
    mapped, expected = tmp_path / "mapped.csv", tmp_path / "expected.csv"
    assert _batch(str(source), "--out", str(mapped), "--mapping", str(mapping), "--workers", "1") == 0
    assert _batch(str(plain), "--out", str(expected), "--workers", "1") == 0
    assert _rows(mapped) == _rows(expected)
    verdicts = [r["hold_beyond_release.verdict"] for r in _rows(mapped)]
    assert verdicts[:3] == ["prohibited", "not_addressed", "prohibited"]


def test_mapping_formats_read_dates_and_times_as_a_dataset_writes_them(tmp_path, rulebase):
    """A jail roster writes 3/1/2024 and 2:22 PM: `formats` reads them; a date not written so,
    or impossible, and a time not written so, are bad rows that say which."""
    source = tmp_path / "roster.csv"
    source.write_text(
        "id,date,place.county,agency,immigration.detainer,time\n"
        "a,3/1/2024,Hennepin,county_jail,I-247A,2:22 PM\n"
        "b,2/30/2024,Hennepin,county_jail,I-247A,\n"
        "c,2024-03-01,Hennepin,county_jail,I-247A,\n"
        "d,12/31/2025,Hennepin,county_jail,I-247A,11:59 pm\n"
        "e,3/1/2024,Hennepin,county_jail,I-247A,14:22\n"
    )
    mapping = tmp_path / "map.yaml"
    mapping.write_text('formats: {date: "%m/%d/%Y", time: "%I:%M %p"}\n')
    out = tmp_path / "out.csv"
    assert _batch(str(source), "--out", str(out), "--mapping", str(mapping), "--workers", "1") == 0
    rows = {r["id"]: r for r in _rows(out)}
    assert sorted(rows) == ["a", "d"]
    assert (rows["a"]["date"], rows["d"]["date"]) == ("2024-03-01", "2025-12-31")
    # the 48-hour reference from 14:22 and 23:59, as an ISO record gives it
    assert (
        rows["a"]["federal_hold_limit"] == hold_limit("2024-03-01", "14:22") == "2024-03-05T14:22"
    )  # Fri, past the weekend
    assert rows["d"]["federal_hold_limit"] == hold_limit("2025-12-31", "23:59")
    with open(f"{out}.errors.csv", newline="") as f:
        errors = {r["id"]: r["error"] for r in csv.DictReader(f)}
    assert errors == {
        "b": "'date': '2/30/2024' is not a real calendar date (%m/%d/%Y)",
        "c": "'date': '2024-03-01' is not a date written as %m/%d/%Y",
        "e": "'time': '14:22' is not a time of day written as %I:%M %p",
    }
    # the record API reads the same mapping alike
    batch = Batch(rulebase, mapping=load_mapping(str(mapping), rulebase))
    one_record = {
        "date": "3/1/2024",
        "place.county": "Hennepin",
        "agency": "county_jail",
        "immigration.detainer": "I-247A",
    }
    one = batch.evaluate({**one_record, "time": "2:22 PM"})
    assert (one["date"], one["federal_hold_limit"]) == ("2024-03-01", rows["a"]["federal_hold_limit"])
    # a timestamp value needs no format, whatever the mapping says text is written as
    stamp = dt.datetime(2024, 3, 1, 14, 22)
    again = batch.evaluate({**one_record, "time": stamp})
    assert again["federal_hold_limit"] == one["federal_hold_limit"]


@pytest.mark.parametrize(
    ("formats", "message"),
    [
        ('{date: "%Y-%m"}', "'%Y-%m' does not give the year, month and day"),
        ('{time: "%H"}', "'%H' does not give the hour and minute"),
        ("{date: mm/dd/yyyy}", "a format is text with codes such as %Y"),
        ('{agency: "%Y"}', "`formats` is for `date` and `time`, not 'agency'"),
    ],
)
def test_mapping_format_that_cannot_read_is_refused(tmp_path, capsys, formats, message):
    source = tmp_path / "x.csv"
    source.write_text("id\n1\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text(f"ignore: [id]\nformats: {formats}\n")
    assert _batch(str(source), "--out", str(tmp_path / "o.csv"), "--mapping", str(mapping)) == 2
    assert f"{mapping}:2: error: {message}" in capsys.readouterr().err


def test_a_date_not_written_yyyy_mm_dd_says_so(tmp_path):
    """03/01/2024 is not an impossible date: the message says how dates are written, and that a
    mapping reads others (it said 'not a real calendar date')."""
    source = tmp_path / "x.csv"
    source.write_text(
        "id,date,place.county,agency\n1,03/01/2024,Hennepin,county_jail\n2,2024-W09-5,Hennepin,county_jail\n"
        "3,\u0662\u0660\u0662\u0664-\u0660\u0663-\u0660\u0661,Hennepin,county_jail\n",  # Arabic-Indic digits
        encoding="utf-8",
    )
    out = tmp_path / "o.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
    with open(f"{out}.errors.csv", newline="") as f:
        errors = [r["error"] for r in csv.DictReader(f)]
    hint = "'date' takes a date (YYYY-MM-DD; a mapping's `formats` reads others), not"
    assert errors == [
        f"{hint} '03/01/2024'",
        f"{hint} '2024-W09-5'",
        f"{hint} '\u0662\u0660\u0662\u0664-\u0660\u0663-\u0660\u0661'",
    ]


def test_one_column_read_as_date_and_time(tmp_path, rulebase):
    """A roster's 'released at' (3/1/2024 2:22 PM) is both the date and the release time: the
    same output as the two written apart, from a CSV and through the record API."""
    source = tmp_path / "roster.csv"
    source.write_text(
        "booking,released_at,facility\nB1,3/1/2024 2:22 PM,ADC\nB2,12/31/2025 11:59 PM,ADC\nB3,3/1/2024,ADC\n"
    )
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns: {booking: id, released_at: [date, time], facility: place.county}\n"
        "values: {place.county: {ADC: Hennepin}}\n"
        "constants: {agency: county_jail, immigration.detainer: I-247A}\n"
        'formats: {date: "%m/%d/%Y %I:%M %p", time: "%m/%d/%Y %I:%M %p"}\n'
    )
    apart = tmp_path / "apart.csv"
    apart.write_text(
        "id,date,time,place.county,agency,immigration.detainer\n"
        "B1,2024-03-01,14:22,Hennepin,county_jail,I-247A\nB2,2025-12-31,23:59,Hennepin,county_jail,I-247A\n"
    )
    out, expected = tmp_path / "out.csv", tmp_path / "expected.csv"
    assert _batch(str(source), "--out", str(out), "--mapping", str(mapping), "--workers", "1") == 0
    assert _batch(str(apart), "--out", str(expected), "--workers", "1") == 0
    assert _rows(out) == _rows(expected)
    assert [r["federal_hold_limit"] for r in _rows(out)] == ["2024-03-05T14:22", "2026-01-05T23:59"]
    with open(f"{out}.errors.csv", newline="") as f:
        assert [r["error"] for r in csv.DictReader(f)] == [
            "'date': '3/1/2024' is not a date written as %m/%d/%Y %I:%M %p"
        ]
    batch = Batch(rulebase, mapping=load_mapping(str(mapping), rulebase))
    one = batch.evaluate({"booking": "B1", "released_at": "3/1/2024 2:22 PM", "facility": "ADC"})
    assert one == _rows(expected)[0]


@pytest.mark.parametrize(
    ("columns", "line", "message"),
    [
        ("  a: [date, date]\n", 2, "a column is read as one fact, or as a list of different facts"),
        ("  a: []\n", 2, "a column is read as one fact, or as a list of different facts"),
        ("  a:\n    - date\n    - nope\n", 4, "'nope' is not a fact in the vocabulary"),
    ],
)
def test_a_column_read_as_several_facts_is_checked(tmp_path, capsys, columns, line, message):
    source = tmp_path / "x.csv"
    source.write_text("a\n1\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n" + columns)
    assert _batch(str(source), "--out", str(tmp_path / "o.csv"), "--mapping", str(mapping)) == 2
    assert f"{mapping}:{line}: error: {message}" in capsys.readouterr().err


def test_mapping_names_a_wrong_target_as_written(tmp_path, capsys):
    source = tmp_path / "x.csv"
    source.write_text("a\n1\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  a: yes\n")
    assert _batch(str(source), "--out", str(tmp_path / "o.csv"), "--mapping", str(mapping)) == 2
    assert f"{mapping}:2: error: 'yes' is not a fact in the vocabulary" in capsys.readouterr().err


def test_unmapped_column_is_a_clear_error(tmp_path, capsys):
    source = tmp_path / "x.csv"
    source.write_text("id,date,agency,place.county,colour\n1,2026-02-10,county_jail,Hennepin,blue\n")
    assert _batch(str(source), "--out", str(tmp_path / "o.csv"), "--workers", "1") == 2
    assert "column 'colour' is not a fact in the vocabulary" in capsys.readouterr().err


def test_table_api_keeps_the_table_type_and_reports_bad_rows(rulebase):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "date": ["2026-02-10", "2026-13-01"],
            "agency": ["county_jail", "county_jail"],
            "place.county": ["Hennepin", "Hennepin"],
            "immigration.detainer": ["I-247A", "I-247A"],
        }
    )
    out, errors = Batch(rulebase, "reference").evaluate_table(frame)
    assert isinstance(out, pd.DataFrame)
    assert out["id"].tolist() == ["a"]
    assert out["hold_beyond_release.verdict"].tolist() == ["prohibited"]
    assert errors == [(2, "b", "'date': '2026-13-01' is not a real calendar date (YYYY-MM-DD)")]


def test_hold_limits_per_date_give_the_federal_computation_for_every_release_time():
    """Two computations per date stand for every release time: checked day by day over two
    years (weekends, federal holidays, New Year) at times from midnight to the last minute."""
    import numpy as np

    from policyengine.batch import _HoldLimits, hold_limit

    days = [dt.date(2024, 1, 1) + dt.timedelta(days=k) for k in range(731)]
    times = ["00:00", "00:01", "06:30", "12:00", "17:45", "23:59"]
    needs = np.ones(len(days) * len(times), dtype=bool)
    day_codes = np.repeat(np.arange(len(days)), len(times))
    time_codes = np.tile(np.arange(len(times)), len(days))
    got = _HoldLimits().column(needs, day_codes, days, time_codes, times).to_pylist()
    want = [hold_limit(d.isoformat(), t) for d in days for t in times]
    assert got == want


def test_text_rendering_writes_what_pyarrow_and_json_write():
    """CSV and JSON Lines rendered column by column are the bytes pyarrow's CSV writer and
    `json.dumps` of each row give, quotes, commas, line breaks, accents and nulls included."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    from policyengine.cli.batch import write_table

    tricky = ["x", 'q"uote', "com,ma", "new\nline", "", None, "ünï", " sp ", "back\\slash", "tab\t"]
    codes = pa.array([i % 4 for i in range(len(tricky))], pa.int32())
    table = pa.table(
        {
            "id": pa.array(tricky, pa.string()),
            "a": pa.DictionaryArray.from_arrays(codes, pa.array(['"', "b,", "", "é"])),
            "b": pa.DictionaryArray.from_arrays(codes, pa.array(["1", "2", "3", "4"])),
            "limit": pa.array(list(reversed(tricky)), pa.string()),
        }
    )
    plain = pa.table({n: c.cast(pa.string()) for n, c in zip(table.column_names, table.columns, strict=True)})
    csv_out, jsonl_out, expected = io.BytesIO(), io.BytesIO(), io.BytesIO()
    write_table(table, "csv", csv_out)
    pacsv.write_csv(plain, expected, pacsv.WriteOptions(include_header=False))
    assert csv_out.getvalue() == expected.getvalue()
    write_table(table, "jsonl", jsonl_out)
    lines = [json.dumps(row, ensure_ascii=False) for row in plain.to_pylist()]
    assert jsonl_out.getvalue().decode() == "\n".join(lines) + "\n"


def test_syncer_records_each_chunk_after_its_sync_in_order_and_raises_a_failed_sync(tmp_path):
    """`batch` puts chunks on disk in a thread: each done record is written after its sync, in the
    order the chunks were put; a sync that fails is raised, and no later chunk is recorded."""
    from policyengine.cli.batch import _Syncer

    events: list[str] = []

    def sync(k: int):
        def run() -> None:
            assert not (tmp_path / f"{k}.done").exists()
            events.append(f"sync {k}")
            if k == 3:
                raise OSError("disk full")

        return run

    syncer = _Syncer()
    for k in range(3):
        syncer.put(sync(k), tmp_path / f"{k}.done", b"x")
    syncer.close()
    assert events == ["sync 0", "sync 1", "sync 2"]
    assert all((tmp_path / f"{k}.done").read_bytes() == b"x" for k in range(3))

    failing = _Syncer()
    for k in (3, 4):
        failing.put(sync(k), tmp_path / f"{k}.done", b"x")
    with pytest.raises(OSError, match="disk full"):
        failing.close()
    assert not (tmp_path / "3.done").exists() and not (tmp_path / "4.done").exists()
    assert events[-1] == "sync 3"  # the chunk after the failed one was not synced either


@pytest.mark.parametrize("date_last", [False, True], ids=["date-second", "date-last"])
def test_columns_checked_together_give_what_each_record_checked_alone_gives(rulebase, date_last):
    """The column-by-column check of a chunk's combinations of facts (`_Columnar._bases`) gives,
    row for row, the output or the error message that one record checked alone gives
    (`Batch.evaluate`): with a mapping that reads two columns as one fact (the later one wins
    where both are filled), its constants and value table, empty cells, bad values, missing
    required facts and cities outside their county, bad and missing dates among them (the date
    read from two columns: any bad one is told, the last one filled in is the date; the time
    too, the last one filled in): a row with
    several problems gets the message of the first in `Batch._checked`'s order (a bad value in
    its first bad column, then the first missing required fact, then the place), whether the
    date column comes before the others or after them."""
    import random

    from policyengine.batch import Mapping, RecordError

    mapping = Mapping(
        columns={
            "county_a": "place.county",
            "county_b": "place.county",
            "form": "immigration.detainer",
            "date_b": "date",
            "time_b": "time",
        },
        values={"immigration.detainer": {"247A": "I-247A"}},
        constants={"agency": "county_jail"},
    )
    pools = {
        "id": None,
        "date": ["2026-02-10", "2016-05-01", "2012-06-01", "2026-02-30", "", "2021-06-09"],
        "date_b": ["", "", "", "2013-03-04", "2026-13-01"],  # a second column read as the date
        "agency": ["county_jail", "doc_facility", "", "sheriff"],
        "county_a": ["Hennepin", "Ramsey", "", "Nowhere", "Freeborn", "Cass"],
        "county_b": ["", "", "Olmsted", "Hennepin", "Cass"],
        "place.city": ["", "none", "Minneapolis", "St. Paul", "Rochester"],
        "form": ["247A", "I-247A", "", "I-999", "none"],
        "person.born_abroad": ["", "true", "no", "maybe"],
        "person.custody": ["", "pretrial", "sentenced", "ice_detainee", "on_the_moon"],
        "time": ["", "08:30", "23:59", "25:99"],  # a bad time is told only where the 48-hour reference is
        "time_b": ["", "", "06:15", "24:61"],  # a second column read as the time: the later one filled in
    }
    if date_last:
        pools = {name: pool for name, pool in pools.items() if name != "date"} | {"date": pools["date"]}
    good = {name: pool[0] for name, pool in pools.items() if pool is not None}  # a record with no problem
    chooser = random.Random(5)
    rows = []
    for i in range(3000):
        row = {name: chooser.choice(pool) for name, pool in pools.items() if pool is not None}
        rows.append({"id": f"r{i}", **row})
    together = Batch(rulebase, "reference", mapping=mapping)
    chunk = together.evaluate_columns({name: [r[name] for r in rows] for name in rows[0]}, first_row=1)
    written = {r["id"]: r for r in chunk.table.to_pylist()}
    failed = {row: message for row, _, message in chunk.errors}
    alone = Batch(rulebase, "reference", mapping=mapping)
    kinds = set()
    told = Counter[str]()  # rows with a bad or missing date and another problem: whose message is told
    for i, record in enumerate(rows, start=1):
        try:
            expected = alone.evaluate(record)
        except RecordError as exc:
            assert failed.get(i) == str(exc), (i, record)
            assert record["id"] not in written
            kinds.add(str(exc).split("'")[0])
            try:
                alone.facts_of({**good, "date": record["date"], "date_b": record["date_b"]})
            except RecordError:  # the date has a problem: does another fact have one too?
                try:
                    alone.facts_of({**record, "date": good["date"], "date_b": good["date_b"]})
                except RecordError:
                    told["date" if "date" in str(exc) else "other"] += 1
            continue
        assert i not in failed, (i, record, failed.get(i))
        assert written[record["id"]] == {k: (None if v is None else str(v)) for k, v in expected.items()}, record
    assert len(written) > 100 and len(failed) > 500
    assert len(kinds) >= 3  # bad values, missing facts and misplaced cities all met
    assert told["date"] > 20 and told["other"] > 20, told  # each problem is told first in some rows
    assert any("'time'" in message for message in failed.values())


def test_a_column_with_nothing_filled_in_is_read_as_unstated(tmp_path, capsys):
    """A fact's column that is empty in every row of a chunk (common in published tables) states
    nothing: the rows are evaluated with the fact's default, as when the column is absent (it
    was a KeyError traceback)."""
    rows = "1,2026-02-10,county_jail,Hennepin,{}\n2,2026-02-11,county_jail,Ramsey,{}\n"
    header = "id,date,agency,place.county,immigration.final_order_of_removal\n"
    (tmp_path / "empty.csv").write_text(header + rows.format("", ""))
    (tmp_path / "absent.csv").write_text(
        "id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n2,2026-02-11,county_jail,Ramsey\n"
    )
    assert _batch(str(tmp_path / "empty.csv"), "--out", str(tmp_path / "empty-out.csv"), "--workers", "1") == 0
    assert _batch(str(tmp_path / "absent.csv"), "--out", str(tmp_path / "absent-out.csv"), "--workers", "1") == 0
    assert "Traceback" not in capsys.readouterr().err
    written = (tmp_path / "empty-out.csv").read_text().splitlines()
    assert len(written) == 3 and written == (tmp_path / "absent-out.csv").read_text().splitlines()


_POOLS: dict[str, list[Any]] = {  # good, bad, empty and differently typed values, as JSON Lines bring them
    "date": ["2026-02-10", "2016-05-01", "2012-06-01", "2026-02-30", "", None, "20260210", " 2026-02-10"],
    "agency": ["county_jail", "doc", "sheriff", "", None, "County_Jail"],
    "place.county": ["Hennepin", "Ramsey", "Cass", "hennepin", "", None, "Nowhere"],
    "place.city": ["", "none", "Minneapolis", "Rochester", None, "minneapolis"],
    "person.custody": ["pretrial", "serving_sentence", "", None, "jail"],
    "person.born_abroad": ["true", "false", "yes", "no", "1", "", None, True, False, 1, 2, "maybe"],
    "immigration.detainer": ["I-247A", "none", "I-247", "", None, "i-247a", 247],
    "immigration.final_order_of_removal": [True, False, "true", "", None, 1.0, "n"],
    "time": ["", "08:30", "8:30", "23:59", "25:99", None, 830],
    "id": ["a", "", None, 7],
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), as_text=st.booleans())
def test_a_chunk_gives_what_each_record_alone_gives(rulebase, data, as_text):
    """Any columns, in any order, of good, bad, empty and differently typed values: a chunk
    (Python lists, as JSON Lines are read; and, for text, an Arrow table, as CSV and Parquet are
    read) gives each row the output row or the error message that `Batch.evaluate` gives the
    record alone (with the row number as its id where it has none: no id column, an empty or a
    null id)."""
    import pyarrow as pa

    from policyengine.batch import RecordError

    names = data.draw(st.lists(st.sampled_from(list(_POOLS)), min_size=1, max_size=len(_POOLS), unique=True))
    rows = data.draw(
        st.lists(st.fixed_dictionaries({n: st.sampled_from(_POOLS[n]) for n in names}), min_size=1, max_size=20)
    )
    rows = [{n: r[n] if not as_text or r[n] is None else str(r[n]) for n in names} for r in rows]  # in column order
    alone = Batch(rulebase, "reference")
    expected: list[tuple[str, Any]] = []
    for i, record in enumerate(rows, start=1):
        try:
            expected.append(("row", alone.evaluate(record, i if record.get("id") in (None, "") else None)))
        except RecordError as exc:
            expected.append(("error", str(exc)))
    columns = {n: [r[n] for r in rows] for n in names}
    chunks = [Batch(rulebase, "reference").evaluate_columns(columns)]
    if as_text:
        table = pa.table({n: pa.array(v, pa.string()) for n, v in columns.items()})
        chunks.append(Batch(rulebase, "reference").evaluate_arrow(table))
    for chunk in chunks:
        written = iter(chunk.table.to_pylist())
        failed = {row: message for row, _, message in chunk.errors}
        for i, (kind, value) in enumerate(expected, start=1):
            if kind == "error":
                assert failed.get(i) == value, (i, rows[i - 1])
            else:
                assert i not in failed, (i, rows[i - 1], failed.get(i))
                assert next(written) == {k: None if v is None else str(v) for k, v in value.items()}, rows[i - 1]


def test_a_small_file_with_a_bad_row_is_written_whole(tmp_path, capsys):
    """Three rows, the last without a date: the two good rows are written and the bad one goes
    to the errors file, in CSV and in JSON Lines. (With the good rows' dates, counties and
    agencies numbered alike, rendering read past the shorter of two dictionaries: a traceback.)"""
    source = tmp_path / "three.csv"
    source.write_text(
        "id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n2,2016-05-01,doc,Ramsey\n3,,county_jail,Cass\n"
    )
    for out in ("out.csv", "out.jsonl"):
        assert _batch(str(source), "--out", str(tmp_path / out), "--workers", "1") == 0
        assert "Traceback" not in capsys.readouterr().err
        assert _rows(tmp_path / f"{out}.errors.csv") == [
            {"row": "3", "id": "3", "error": "missing required fact 'date'"}
        ]
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(r["id"], r["date"], r["county"], r["agency"]) for r in written] == [
        ("1", "2026-02-10", "Hennepin", "county_jail"),
        ("2", "2016-05-01", "Ramsey", "doc"),
    ]
    same = [{k: v or None for k, v in r.items()} for r in written]  # CSV tells an empty text from none no more
    assert [{k: v or None for k, v in r.items()} for r in _rows(tmp_path / "out.csv")] == same


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_small_file_through_the_cli_gives_what_each_record_alone_gives(rulebase, tmp_path_factory, data):
    """A small CSV file of good, bad and empty values (1 to 8 rows, in chunks of 1 to 3 rows),
    through `policyengine batch` to CSV or JSON Lines: each good row is written, rendered, as
    `Batch.evaluate` gives it, and each bad row is in the errors file with its row number and
    the message `Batch.evaluate` raises; a row with an empty id has its row number as id."""
    from policyengine.batch import RecordError

    folder = tmp_path_factory.mktemp("small")
    pools = {n: [v for v in pool if v is None or isinstance(v, str)] for n, pool in _POOLS.items()}
    core = ["id", "date", "agency", "place.county"]  # the output's own columns: always there
    names = core + data.draw(st.lists(st.sampled_from([n for n in pools if n not in core]), unique=True))
    rows = data.draw(
        st.lists(st.fixed_dictionaries({n: st.sampled_from(pools[n]) for n in names}), min_size=1, max_size=8)
    )
    rows = [{n: r[n] or "" for n in names} for r in rows]  # CSV has no null: an empty cell
    fmt = data.draw(st.sampled_from(["csv", "jsonl"]))
    source, out = folder / "in.csv", folder / f"out.{fmt}"
    with open(source, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        writer.writerows([[r[n] for n in names] for r in rows])
    chunk_size = str(data.draw(st.integers(1, 3)))
    assert _batch(str(source), "--out", str(out), "--chunk-size", chunk_size, "--workers", "1") == 0
    alone = Batch(rulebase, "durable")
    expected, bad = [], []
    for i, record in enumerate(rows, start=1):
        try:
            row = alone.evaluate(record, i if record["id"] == "" else None)
        except RecordError as exc:
            bad.append({"row": str(i), "id": record["id"] or str(i), "error": str(exc)})
            continue
        expected.append({k: None if v is None else str(v) for k, v in row.items()})
    if fmt == "csv":
        written = [{k: v or None for k, v in r.items()} for r in _rows(out)]
        expected = [{k: v or None for k, v in r.items()} for r in expected]
    else:
        written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert written == expected
    assert _rows(folder / f"out.{fmt}.errors.csv") == bad


def test_a_parquet_file_of_typed_columns_gives_what_each_record_alone_gives(rulebase, tmp_path):
    """Parquet keeps types: an integer id, a date column, a boolean fact, nulls. Read as they
    are, each record gets what `Batch.evaluate` gives it (the bad one, without a date, its
    message), to JSON Lines and to CSV."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from policyengine.batch import RecordError

    records = [
        {"id": 1, "date": dt.date(2026, 2, 10), "agency": "county_jail", "place.county": "Hennepin",
         "immigration.detainer": "I-247A", "person.born_abroad": True, "time": "08:30"},
        {"id": 2, "date": dt.date(2016, 5, 1), "agency": "doc", "place.county": "Ramsey",
         "immigration.detainer": None, "person.born_abroad": False, "time": None},
        {"id": 3, "date": None, "agency": "county_jail", "place.county": "Cass",
         "immigration.detainer": "none", "person.born_abroad": None, "time": "25:00"},
    ]  # fmt: skip
    table = pa.Table.from_pylist(records)
    assert table.schema.field("date").type == pa.date32() and table.schema.field("id").type == pa.int64()
    pq.write_table(table, tmp_path / "in.parquet")
    alone = Batch(rulebase, "durable")
    expected, bad = [], []
    for i, record in enumerate(records, start=1):
        try:
            expected.append({k: None if v is None else str(v) for k, v in alone.evaluate(record).items()})
        except RecordError as exc:
            bad.append({"row": str(i), "id": str(record["id"]), "error": str(exc)})
    assert len(expected) == 2 and bad == [{"row": "3", "id": "3", "error": "missing required fact 'date'"}]
    assert expected[0]["federal_hold_limit"]  # the 48-hour reference, from the time
    for out in ("out.jsonl", "out.csv"):
        assert _batch(str(tmp_path / "in.parquet"), "--out", str(tmp_path / out), "--workers", "1") == 0
        assert _rows(tmp_path / f"{out}.errors.csv") == bad
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [{k: None if v is None else str(v) for k, v in r.items()} for r in written] == expected
    same = [{k: v or None for k, v in r.items()} for r in expected]
    assert [{k: v or None for k, v in r.items()} for r in _rows(tmp_path / "out.csv")] == same


def test_a_record_without_an_id_is_known_by_its_row_number_whatever_the_chunks(tmp_path):
    """JSON Lines where some records have no id (absent, null, empty) or are not records at all:
    each of those is known by its row number, in the output and in the errors file, with chunks
    of 1 row and of 4 (a chunk whose rows had no `id` key at all numbered its rows, while in a
    chunk with one the others had an empty id)."""
    lines = [
        '{"id": "a", "date": "2026-02-10", "agency": "county_jail", "place": {"county": "Hennepin"}}',
        '{"date": "2026-02-10", "agency": "county_jail", "place": {"county": "Ramsey"}}',
        "[1, 2]",
        '{"id": null, "date": "2026-02-30", "agency": "county_jail", "place": {"county": "Cass"}}',
        '{"id": "", "date": "2016-05-01", "agency": "doc", "place": {"county": "Cass"}}',
        "{not json",
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    for size in ("1", "4"):
        out = tmp_path / f"out-{size}.jsonl"
        assert _batch(str(tmp_path / "in.jsonl"), "--out", str(out), "--chunk-size", size, "--workers", "1") == 0
    assert (tmp_path / "out-1.jsonl").read_bytes() == (tmp_path / "out-4.jsonl").read_bytes()
    errors = (tmp_path / "out-1.jsonl.errors.csv").read_bytes()
    assert errors == (tmp_path / "out-4.jsonl.errors.csv").read_bytes()
    written = [json.loads(line)["id"] for line in (tmp_path / "out-1.jsonl").read_text().splitlines()]
    assert written == ["a", "2", "5"]
    assert [(e["row"], e["id"]) for e in _rows(tmp_path / "out-1.jsonl.errors.csv")] == [
        ("3", "3"),
        ("4", "4"),
        ("6", "6"),
    ]


def test_bad_rules_with_workers_is_a_clear_error_and_leaves_no_worker(tmp_path, capsys):
    """The workers start before the reading process has loaded the rules; when the rules cannot
    be loaded, the user gets the loader's message (exit 2), not a worker's traceback, and no
    worker is left."""
    import multiprocessing

    source = tmp_path / "x.csv"
    source.write_text("id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n")
    missing = tmp_path / "no-rules-here"
    code = _batch(str(source), "--out", str(tmp_path / "o.csv"), "--rules", str(missing), "--workers", "2")
    assert code == 2
    err = capsys.readouterr().err
    assert "rules directory not found" in err
    assert "Traceback" not in err
    assert not multiprocessing.active_children()


def _with_notes(source: Path, target: Path, note: Any) -> int:
    """`source` with a last column `notes` holding `note(i)` for record i; the records' count."""
    with open(source, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    with open(target, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*rows[0], "notes"])
        for i, row in enumerate(rows[1:]):
            w.writerow([*row, note(i)])
    return len(rows) - 1


def _same_output_as_without_notes(rulebase, tmp_path: Path, note: Any, bad: float = 0.0) -> None:
    plain = tmp_path / "plain.csv"
    write_csv(plain, rulebase, 600, seed=5, bad=bad)
    noted = tmp_path / "noted.csv"
    assert _with_notes(plain, noted, note) == 600
    (tmp_path / "map.yaml").write_text("ignore: [notes]\n")
    for source, extra in ((plain, []), (noted, ["--mapping", str(tmp_path / "map.yaml")])):
        out = tmp_path / f"{source.stem}-out.csv"
        assert _batch(str(source), "--out", str(out), "--chunk-size", "70", "--workers", "1", *extra) == 0
    for suffix in ("-out.csv", "-out.csv.errors.csv"):
        plain_out = (tmp_path / f"plain{suffix}").read_bytes()
        assert plain_out.count(b"\n") > (500 if suffix == "-out.csv" else 3 if bad else 0)
        assert (tmp_path / f"noted{suffix}").read_bytes() == plain_out


def test_a_quoted_cell_with_line_breaks_is_one_value_wherever_the_blocks_fall(rulebase, tmp_path, monkeypatch):
    """Published tables carry notes whose cells hold line breaks (quoted, as the csv module
    writes them). Read in blocks of 1 KiB, a file with such a column (ignored by the mapping)
    gives the output of the same records without it: before, the first line break at a block's
    end stopped the batch ("CSV parser got out of sync with chunker")."""
    from policyengine.cli import batch as cli_batch

    monkeypatch.setattr(cli_batch, "CSV_BLOCK", 1024)
    _same_output_as_without_notes(
        rulebase, tmp_path, lambda i: f'booked {i}\nsecond line, with "quotes"\r\nthird', 0.02
    )


def test_a_record_longer_than_a_block_is_read_whole_and_once(rulebase, tmp_path, monkeypatch):
    """A record longer than Arrow's block is read again with larger blocks, from the start,
    passing over the records already handed out: none is lost or written twice (before, any
    record longer than the block stopped the batch with "straddling object")."""
    from policyengine.cli import batch as cli_batch

    monkeypatch.setattr(cli_batch, "CSV_BLOCK", 1024)
    # 20,000 characters: longer than blocks of 1 KiB and of 16 KiB, so the file is read three times
    # (two records: the second is met again after the first restart)
    _same_output_as_without_notes(rulebase, tmp_path, lambda i: "x" * 20_000 if i in (300, 301) else "")


def test_a_quoted_value_never_closed_is_a_clear_error(rulebase, tmp_path, monkeypatch, capsys):
    """A quote opened and never closed makes the rest of the file one value: past the largest
    block, the batch stops with a message that says so and how many records were read, and
    exit code 2 (not a traceback, and not a read that grows with the file)."""
    from policyengine.cli import batch as cli_batch

    monkeypatch.setattr(cli_batch, "CSV_BLOCK", 1024)
    monkeypatch.setattr(cli_batch, "CSV_BLOCK_MOST", 16 * 1024)  # less than the rest of the file
    plain = tmp_path / "plain.csv"
    write_csv(plain, rulebase, 600, seed=5)
    noted = tmp_path / "noted.csv"
    _with_notes(plain, noted, lambda i: "")
    text = noted.read_text(encoding="utf-8").splitlines(keepends=True)
    text[200] = text[200].rstrip("\r\n") + '"never closed\n'  # record 200's notes opens a quote
    (tmp_path / "map.yaml").write_text("ignore: [notes]\n")
    told = []
    for stray in (False, True):
        if stray:  # record 3 gets a cell too many, its id two characters shorter: the blocks fall alike
            cells = text[3].split(",")
            text[3] = ",".join([cells[0][:-2], *cells[1:-1], "x", cells[-1]])
        noted.write_text("".join(text), encoding="utf-8")
        args = ["--mapping", str(tmp_path / "map.yaml"), "--workers", "1"]
        code = _batch(str(noted), "--out", str(tmp_path / f"o{stray}.csv"), *args)
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err
        assert f"{noted}: error: cannot read CSV: after its first " in err
        assert "a record is longer than 16 KiB or a quoted value is never closed" in err
        told.append(int(err.split("after its first ")[1].split()[0]))
    assert 3 < told[0] < 200
    assert told[1] == told[0]  # the bad row is counted among the records read


_HEADER = "id,date,agency,place.county,notes\n"
_ROW = "{},2026-02-10,county_jail,Hennepin,{}\n"


@pytest.mark.parametrize(
    ("raw", "told"),
    [
        (
            (_HEADER + _ROW.format(1, "cafe") + _ROW.format(2, "café")).encode("cp1252"),
            ":3: error: file is not UTF-8 text: byte 0xe9 at column 38",
        ),
        (
            (_HEADER.replace("notes", "nötes") + _ROW.format(1, "x")).encode("cp1252"),
            ":1: error: file is not UTF-8 text: byte 0xf6 at column 30",
        ),
        ((_HEADER + _ROW.format(1, "x")).encode("utf-16"), ":1: error: file is UTF-16 text; save it as UTF-8"),
    ],
    ids=["a-row", "the-header", "utf-16"],
)
def test_a_csv_file_that_is_not_utf8_is_a_clear_error_at_its_line(tmp_path, capsys, raw, told):
    """A CSV saved as Windows-1252 or UTF-16 (as spreadsheets offer) is exit 2 with the line and
    column of the first bad byte, as for a rule file (PE110); it was a UnicodeDecodeError traceback."""
    source = tmp_path / "records.csv"
    source.write_bytes(raw)
    (tmp_path / "map.yaml").write_text("ignore: [notes, nötes]\n", encoding="utf-8")
    code = _batch(
        str(source), "--out", str(tmp_path / "o.csv"), "--mapping", str(tmp_path / "map.yaml"), "--workers", "1"
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"{source}{told}" in err


def test_a_json_line_that_is_not_utf8_is_a_bad_row(tmp_path):
    """In JSON Lines each line is a record: a line with a byte that is not UTF-8 goes to the errors
    file with its row number and the byte, and the other lines are evaluated."""
    good = '{"id": "a", "date": "2026-02-10", "agency": "county_jail", "place.county": "Hennepin"}\n'
    bad = '{"id": "b", "date": "2026-02-10", "agency": "county_jail", "place.county": "Hennepin", "n": "café"}\n'
    source = tmp_path / "records.jsonl"
    source.write_bytes(good.encode() + bad.encode("cp1252") + good.replace('"a"', '"c"').encode())
    out = tmp_path / "out.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
    assert [r["id"] for r in _rows(out)] == ["a", "c"]
    assert _rows(tmp_path / "out.csv.errors.csv") == [
        {"row": "2", "id": "2", "error": "not UTF-8 text: byte 0xe9 at column 97"}
    ]


@pytest.mark.parametrize(
    ("options", "told"),
    [
        (["--out", "{input}"], "{input}: error: --out is the INPUT file; it would be overwritten"),
        (
            ["--out", "o.csv", "--errors", "{input}"],
            "{input}: error: --errors is the INPUT file; it would be overwritten",
        ),
        (
            ["--out", "o.csv", "--summary", "{input}"],
            "{input}: error: --summary is the INPUT file; it would be overwritten",
        ),
        (["--out", "o.csv", "--errors", "./o.csv"], "o.csv: error: --errors and --out are the same file"),
    ],
    ids=["out", "errors", "summary", "errors-is-out"],
)
def test_a_file_written_that_is_the_input_or_another_output_is_refused(tmp_path, capsys, monkeypatch, options, told):
    """`--out records.csv` on `records.csv` read the input whole, then replaced it with the
    output: the records were gone. Now no file written may be the input or another output."""
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "records.csv"
    source.write_text("id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n")
    before = source.read_bytes()
    given = [o.format(input=source) for o in options]
    assert _batch(str(source), *given, "--workers", "1") == 2
    assert told.format(input=source) in capsys.readouterr().err
    assert source.read_bytes() == before and not (tmp_path / "o.csv").exists()


def test_a_column_named_twice_is_an_error(tmp_path, capsys):
    """Two columns of one name cannot be told apart (a mapping names columns): CSV and Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "in.csv").write_text("id,date,agency,place.county,date\n1,2026-02-10,county_jail,Hennepin,2016-05-01\n")
    columns = [pa.array([v]) for v in ("1", "2026-02-10", "county_jail", "Hennepin", "2016-05-01")]
    pq.write_table(
        pa.Table.from_arrays(columns, names=["id", "date", "agency", "place.county", "date"]), tmp_path / "in.parquet"
    )
    for source, where in (("in.csv", "in.csv:1"), ("in.parquet", "in.parquet")):
        assert _batch(str(tmp_path / source), "--out", str(tmp_path / f"{source}.out.csv"), "--workers", "1") == 2
        err = capsys.readouterr().err
        assert f"{tmp_path / where}: error: column 'date' appears twice (columns 2 and 5); rename one" in err


def test_a_json_record_that_names_a_fact_twice_is_a_bad_row(tmp_path):
    """`json` keeps the last of two equal keys without a word; a record that gives a fact twice
    (a key repeated, or a group and a dotted name) is a bad row instead, and the batch goes on."""
    head = '{"id": "%s", "date": "2026-02-10", "agency": "county_jail", '
    lines = [
        head % "a" + '"place.county": "Hennepin", "date": "2016-05-01"}',
        head % "b" + '"place": {"county": "Ramsey"}, "place.county": "Hennepin"}',
        head % "c" + '"place": {"county": "Ramsey"}}',
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
    assert [(r["id"], r["county"]) for r in _rows(out)] == [("c", "Ramsey")]
    assert [(e["row"], e["error"]) for e in _rows(tmp_path / "o.csv.errors.csv")] == [
        ("1", "key 'date' appears twice in the record"),
        ("2", "'place.county' is given twice in the record (in a group and by its dotted name)"),
    ]


def test_a_run_that_stops_before_its_first_chunk_leaves_nothing_to_resume(tmp_path, capsys):
    """A file refused before any chunk is done (here: not UTF-8) leaves no work directory, so the
    same command on the corrected file just runs (it found the stale `OUTPUT.parts/` and refused:
    "holds an interrupted run of another input")."""
    source = tmp_path / "records.csv"
    text = "id,date,agency,place.county\n1,2026-02-10,county_jail,Hénnepin\n2,2026-02-10,county_jail,Ramsey\n"
    source.write_bytes(text.encode("cp1252"))
    out = tmp_path / "o.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 2
    assert "not UTF-8 text" in capsys.readouterr().err
    assert not (tmp_path / "o.csv.parts").exists()
    source.write_text(text, encoding="utf-8")
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
    assert [r["county"] for r in _rows(out)] == ["Ramsey"]  # Hénnepin is no county: a bad row
    assert len(_rows(tmp_path / "o.csv.errors.csv")) == 1


def test_a_row_with_more_or_fewer_cells_than_the_header_is_a_bad_row(rulebase, tmp_path, monkeypatch):
    """A row with a stray comma or cut short (common in hand-kept tables) goes to the errors
    file with its row number and the batch goes on (it stopped the batch: "Expected 16 columns,
    got 17"). Every other record keeps its number and its answer, in blocks of 1 KiB, across a
    record long enough to make the reader start again with larger blocks."""
    from policyengine.cli import batch as cli_batch

    monkeypatch.setattr(cli_batch, "CSV_BLOCK", 1024)
    plain = tmp_path / "plain.csv"
    write_csv(plain, rulebase, 400, seed=9)
    noted = tmp_path / "noted.csv"
    _with_notes(plain, noted, lambda i: "x" * 20_000 if i == 250 else "")
    lines = noted.read_text(encoding="utf-8").splitlines(keepends=True)
    damaged = {1: "extra", 2: "extra", 57: "short", 399: "short", 400: "extra"}  # record numbers
    for number, how in damaged.items():
        line = lines[number].rstrip("\n")
        lines[number] = (line + ",stray\n") if how == "extra" else (line.split(",", 1)[0] + ",2026-02-10\n")
    broken = tmp_path / "broken.csv"
    broken.write_text("".join(lines), encoding="utf-8")
    (tmp_path / "map.yaml").write_text("ignore: [notes]\n")
    for source in (noted, broken):
        out = tmp_path / f"{source.stem}-out.csv"
        args = ["--mapping", str(tmp_path / "map.yaml"), "--chunk-size", "70", "--workers", "1"]
        assert _batch(str(source), "--out", str(out), *args) == 0
    cells = len(lines[0].split(","))
    assert _rows(tmp_path / "broken-out.csv.errors.csv") == [
        {
            "row": str(number),
            "id": str(number),
            "error": f"the row has {cells + 1 if how == 'extra' else 2} cells where the header has {cells}",
        }
        for number, how in damaged.items()
    ]
    ids = {_rows(plain)[n - 1]["id"] for n in damaged}
    assert [r for r in _rows(tmp_path / "noted-out.csv") if r["id"] not in ids] == _rows(tmp_path / "broken-out.csv")
    assert len(_rows(tmp_path / "broken-out.csv")) == 395


@pytest.mark.parametrize(
    ("second", "told", "written"),
    [
        (
            '2,"2026-02-10,county_jail,Hennepin\n3,2026-02-10,county_jail,Hennepin\n4,2026-02-10,county_jail,Ramsey\n',
            "the row has 2 cells where the header has 4: a quote in it is never closed,"
            " so the 2 lines after it were read as part of it",
            ["1"],  # records 3 and 4 are inside record 2
        ),
        (
            '2,2026-02-10,"county\njail"\n3,2026-02-10,county_jail,Hennepin\n4,2026-02-10,county_jail,Ramsey\n',
            "the row has 3 cells where the header has 4 (it runs over 2 lines: a quoted value in it holds line breaks)",
            ["1", "3", "4"],
        ),
    ],
    ids=["quote-never-closed", "quoted-line-break"],
)
def test_a_bad_row_over_several_lines_says_why(tmp_path, second, told, written):
    """A quote never closed takes the lines after it into its record: the errors file said only
    "the row has 2 cells", and the records swallowed vanished without a word. The message now
    says what the record ran over (the count of rows read is the CSV's records, as before)."""
    source = tmp_path / "records.csv"
    source.write_text("id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n" + second)
    out = tmp_path / "out.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
    assert _rows(tmp_path / "out.csv.errors.csv") == [{"row": "2", "id": "2", "error": told}]
    assert [r["id"] for r in _rows(out)] == written


def test_a_json_lines_row_that_is_not_an_object_is_a_bad_row_saying_what_it_is(tmp_path):
    """It said "a JSON Lines row is an object", which reads as a statement, not a problem."""
    good = '{"id": "a1", "date": "2026-02-10", "agency": "county_jail", "place.county": "Hennepin"}\n'
    source = tmp_path / "records.jsonl"
    source.write_text(good + '[{"id": "a2"}]\n7\nnull\n"a3"\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
    told = "a JSON Lines row must be one object ({...}) of facts; this line is "
    assert [(r["row"], r["error"]) for r in _rows(tmp_path / "out.csv.errors.csv")] == [
        ("2", told + "a list"),
        ("3", told + "a number"),
        ("4", told + "null"),
        ("5", told + "text"),
    ]
    assert [r["id"] for r in _rows(out)] == ["a1"]


def test_a_parquet_column_of_lists_is_checked_as_json_lists_are(tmp_path):
    """A Parquet column of lists where a fact's one value belongs stopped the batch with an Arrow
    traceback ("Function 'dictionary_encode' has no kernel matching input types"). Each list is
    now a value checked as a JSON Lines list is: the same bad rows, the same messages."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = {"date": "2026-02-10", "agency": "county_jail", "place.county": "Hennepin"}
    records = [
        {"id": "a", **base, "immigration.detainer": ["I-247A"]},
        {"id": "b", **base, "immigration.detainer": None},
        {"id": "c", **base, "immigration.detainer": ["I-247A", "I-203"]},
    ]
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "in.parquet")
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    for name in ("in.parquet", "in.jsonl"):
        assert _batch(str(tmp_path / name), "--out", str(tmp_path / f"{name}.csv"), "--workers", "1") == 0
    errors = _rows(tmp_path / "in.parquet.csv.errors.csv")
    assert errors == _rows(tmp_path / "in.jsonl.csv.errors.csv")
    assert [(e["row"], e["id"]) for e in errors] == [("1", "a"), ("3", "c")]
    assert errors[0]["error"].startswith("'['I-247A']' is not an allowed value of 'immigration.detainer'")
    assert (tmp_path / "in.parquet.csv").read_bytes() == (tmp_path / "in.jsonl.csv").read_bytes()


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")])
def test_a_csv_separated_by_another_character_is_told_so(tmp_path, capsys, sep, name):
    """Spreadsheets in many locales save "CSV" with semicolons; the message was that the whole
    header line is not a fact in the vocabulary."""
    source = tmp_path / "records.csv"
    source.write_text(sep.join(["id", "date", "agency", "place.county"]) + "\n1" + sep + "2026-02-10\n")
    assert _batch(str(source), "--out", str(tmp_path / "o.csv"), "--workers", "1") == 2
    err = capsys.readouterr().err
    assert f"{source}:1: error: the header row is one column holding {name}: the file seems separated" in err
    assert "Traceback" not in err and not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("option", ["--chunk-size", "--workers"])
def test_a_count_below_one_names_its_option(tmp_path, capsys, option):
    source = tmp_path / "records.csv"
    source.write_text("id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n")
    assert _batch(str(source), "--out", str(tmp_path / "o.csv"), option, "0") == 2
    assert f"{option}: error: must be at least 1 (it is 0)" in capsys.readouterr().err


def test_pooled_records_grow_in_number_not_in_cases(rulebase, tmp_path):
    """The benchmark's `--pool`: N records going round the first K, each with its own id, so
    that a batch of them evaluates the K records' distinct cases and no more."""
    from benchmarks.generate import pooled, records

    first = list(records(rulebase, 300, seed=5))
    rows = list(pooled(rulebase, 1_000, 300, seed=5))
    assert rows[:300] == first and len({r["id"] for r in rows}) == 1_000
    assert all({**r, "id": ""} == {**first[i % 300], "id": ""} for i, r in enumerate(rows))
    cases = []
    for name, n in (("first", 300), ("pooled", 1_000)):
        source = tmp_path / f"{name}.csv"
        write_csv(source, rulebase, n, seed=5, pool=None if name == "first" else 300)
        summary = tmp_path / f"{name}.json"
        assert (
            _batch(str(source), "--out", str(tmp_path / f"{name}-out.csv"), "--summary", str(summary), "--workers", "1")
            == 0
        )
        cases.append(json.loads(summary.read_text())["cases"])
    assert cases[0] == cases[1] > 50


def test_an_interrupted_run_resumes_with_its_own_default_chunk_size(rulebase, tmp_path, monkeypatch, capsys):
    """The default chunk size differs with the number of workers; a run interrupted with one
    worker and resumed with two (no --chunk-size given) goes on in its own chunks, and writes
    what one uninterrupted run writes. A --chunk-size given that differs is refused, as before."""
    from policyengine.cli import batch as cli_batch

    monkeypatch.setattr(cli_batch, "CHUNK_ONE_WORKER", 100)
    monkeypatch.setattr(cli_batch, "CHUNK_WORKERS", 200)
    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 1_000, seed=4, bad=0.02)
    whole = tmp_path / "whole.csv"
    assert _batch(str(source), "--out", str(whole), "--workers", "1", "--engine", "reference") == 0
    out = tmp_path / "out.csv"
    _interrupted_at_chunk(3, monkeypatch, str(source), "--out", str(out), "--workers", "1", "--engine", "reference")
    done = sorted(p.name for p in (tmp_path / "out.csv.parts").glob("*.done.json"))
    assert done == ["000000.done.json", "000001.done.json", "000002.done.json"]
    capsys.readouterr()
    refused = ["--workers", "2", "--engine", "reference", "--chunk-size", "200"]
    assert _batch(str(source), "--out", str(out), *refused) == 2
    assert "holds an interrupted run of another --chunk-size; remove it" in capsys.readouterr().err
    assert _batch(str(source), "--out", str(out), "--workers", "2", "--engine", "reference") == 0
    assert out.read_bytes() == whole.read_bytes()
    assert (tmp_path / "out.csv.errors.csv").read_bytes() == (tmp_path / "whole.csv.errors.csv").read_bytes()


def test_output_folders_are_made_first_or_refused_before_any_work(tmp_path, capsys):
    """A --summary or --errors in a folder that does not exist ended a finished run with a
    FileNotFoundError traceback (the summary lost); such folders are made, as --out's always
    was, and one that cannot be (a file stands in the way) is an error before any work."""
    source = tmp_path / "records.csv"
    source.write_text("id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n")
    summary, errors = tmp_path / "new" / "s.json", tmp_path / "other" / "e.csv"
    args = ["--summary", str(summary), "--errors", str(errors), "--workers", "1"]
    assert _batch(str(source), "--out", str(tmp_path / "o.csv"), *args) == 0
    assert json.loads(summary.read_text())["written"] == 1 and errors.read_text() == "row,id,error\n"
    (tmp_path / "afile").write_text("")
    capsys.readouterr()
    assert _batch(str(source), "--out", str(tmp_path / "afile" / "o.csv"), "--workers", "1") == 2
    err = capsys.readouterr().err
    assert f"--out: cannot make its folder {tmp_path / 'afile'}: it is a file" in err
    assert "Traceback" not in err and "distinct cases" not in err


def test_a_file_the_system_refuses_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    """An OSError from the system (no space left, a folder that cannot be written) is a message
    naming the file, exit 2, not a traceback."""
    from policyengine.cli import batch as cli_batch

    def full(args: Any) -> Any:
        raise OSError(28, "No space left on device", str(tmp_path / "o.csv"))

    monkeypatch.setattr(cli_batch, "run", full)
    source = tmp_path / "records.csv"
    source.write_text("id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n")
    assert _batch(str(source), "--out", str(tmp_path / "o.csv"), "--workers", "1") == 2
    err = capsys.readouterr().err
    assert err == f"policyengine: error: {tmp_path / 'o.csv'}: No space left on device\n"


def test_a_json_lines_file_that_starts_with_a_byte_order_mark_is_read(tmp_path):
    """Saved by Windows tools, a JSON Lines file may start with a byte-order mark: its first row
    was a bad row ("invalid JSON: Expecting value"), though a BOM is fine in a CSV file."""
    source = tmp_path / "records.jsonl"
    record = '{"id": "a1", "date": "2026-02-10", "agency": "county_jail", "place.county": "Hennepin"}\n'
    source.write_bytes(b"\xef\xbb\xbf" + (record * 2).encode())
    out = tmp_path / "out.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
    assert [r["id"] for r in _rows(out)] == ["a1", "a1"]
    assert _rows(tmp_path / "out.csv.errors.csv") == []


def test_a_pandas_column_of_mixed_types_is_read_value_by_value(rulebase):
    """A notebook's frame whose date column holds text and pandas timestamps (dates half
    parsed) stopped `evaluate_table` with an Arrow error ("Expected bytes, got a 'Timestamp'
    object"); such a frame is read value by value, missing cells (None, NaN, NaT) as missing."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "date": ["2026-02-10", pd.Timestamp("2026-02-10"), None, pd.NaT],
            "agency": ["county_jail"] * 4,
            "place.county": ["Hennepin", "Ramsey", "Hennepin", "Anoka"],
            "immigration.detainer": ["I-247A", np.nan, "I-247A", None],
        }
    )
    b = Batch(rulebase, "reference")
    out, errors = b.evaluate_table(frame)
    text = frame.assign(date=["2026-02-10", "2026-02-10", None, None])
    assert out.equals(b.evaluate_table(text)[0])
    assert list(out["id"]) == ["a", "b"] and list(out["hold_beyond_release.verdict"]) == ["prohibited", "not_addressed"]
    assert errors == [(3, "c", "missing required fact 'date'"), (4, "d", "missing required fact 'date'")]


def test_json_lines_python_cannot_read_are_bad_rows(tmp_path):
    """A line nested deeper than Python's recursion allows, or with a number longer than its
    4,300 digits, stopped the batch with a RecursionError or ValueError traceback."""
    good = '{"id": "a1", "date": "2026-02-10", "agency": "county_jail", "place.county": "Hennepin"}\n'
    deep = '{"id": "a2", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    long = '{"id": ' + "9" * 5_000 + "}\n"
    source = tmp_path / "records.jsonl"
    source.write_text(good + deep + long + good, encoding="utf-8")
    out = tmp_path / "out.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
    assert [(r["row"], r["error"]) for r in _rows(tmp_path / "out.csv.errors.csv")] == [
        ("2", "invalid JSON: nested too deeply to read"),
        ("3", "invalid JSON: Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits"),
    ]
    assert [r["id"] for r in _rows(out)] == ["a1", "a1"]


def test_a_csv_with_a_byte_order_mark_and_a_bad_row_is_read(tmp_path):
    """With a byte-order mark, the header's first name read as '\\ufeffid' where Arrow read 'id':
    a bad row put back in its place brought that column in, and the batch stopped ("column 'id'
    is not a fact", the mark invisible)."""
    source = tmp_path / "records.csv"
    rows = "1,2026-02-10,county_jail,Hennepin\n2,2026-02-10\n3,2026-02-10,county_jail,Ramsey\n"
    source.write_bytes(b"\xef\xbb\xbf" + ("id,date,agency,place.county\n" + rows).encode())
    out = tmp_path / "out.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
    assert [r["id"] for r in _rows(out)] == ["1", "3"]
    assert _rows(tmp_path / "out.csv.errors.csv") == [
        {"row": "2", "id": "2", "error": "the row has 2 cells where the header has 4"}
    ]


@pytest.mark.parametrize(
    ("header", "told"),
    [
        ("id,date,agency,place.county,", ": error: column 5 has no name: name it, or list '' under ignore"),
        ("id,date,agency,place.county,,", ":1: error: columns 5, 6 have no name (the header row ends with commas)"),
        ("id,,agency,place.county", ": error: column 2 has no name: name it, or list '' under ignore"),
    ],
)
def test_a_csv_column_without_a_name_is_told_so(tmp_path, capsys, header, told):
    """Spreadsheets leave a comma at the end of the header row: the message was "column '' is
    not a fact in the vocabulary", or, with two, "column '' appears twice". One such column can
    still be ignored by a mapping, as before."""
    source = tmp_path / "records.csv"
    source.write_text(header + "\n1,2026-02-10,county_jail,Hennepin\n")
    assert _batch(str(source), "--out", str(tmp_path / "o.csv"), "--workers", "1") == 2
    assert f"{source}{told}" in capsys.readouterr().err
    if header.count(",") == 4:  # one column without a name
        (tmp_path / "map.yaml").write_text('ignore: [""]\n')
        mapped = ["--mapping", str(tmp_path / "map.yaml"), "--workers", "1"]
        assert _batch(str(source), "--out", str(tmp_path / "o.csv"), *mapped) == 0


def test_json_lines_messages_do_not_depend_on_where_chunks_are_cut(tmp_path):
    """Records giving their facts in different orders, some with two bad values: the value told
    is the one whose name the file used first, whatever the chunk size (with chunks of one
    record, a record's own order decided, so the same record got another message)."""
    import random

    rng = random.Random(11)
    facts = {"date": "2024-03-01", "place.county": "Hennepin", "agency": "county_jail"}
    lines = []
    for i in range(60):
        record = {"id": f"j{i}", **facts, "immigration.detainer": "I-247A", "custody.outstanding_warrant": "false"}
        if i % 3 == 0:
            record["immigration.detainer"], record["custody.outstanding_warrant"] = "X", "maybe"
        items = list(record.items())
        rng.shuffle(items)
        lines.append(json.dumps(dict(items)))
    source = tmp_path / "records.jsonl"
    source.write_text("\n".join(lines) + "\n")
    seen = []
    for size in ("1", "7", "1000"):
        out = tmp_path / f"o{size}.csv"
        assert _batch(str(source), "--out", str(out), "--chunk-size", size, "--workers", "1") == 0
        seen.append((out.read_bytes(), Path(f"{out}.errors.csv").read_bytes()))
    assert seen[0] == seen[1] == seen[2]
    assert seen[0][1].count(b"\n") == 1 + 20  # the header and the 20 records with two bad values


def test_a_release_timestamp_gives_its_time_of_day(tmp_path, rulebase):
    """A Parquet timestamp (or time) column read as `time`: its time of day, as HH:MM text gives
    (a timestamp was a bad row, "'2024-03-01 14:22:00' is not a time of day")."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = {
        "id": ["p1", "p2", "p3"],
        "date": pa.array([dt.date(2024, 3, 1)] * 3, pa.date32()),
        "place.county": ["Hennepin"] * 3,
        "agency": ["county_jail"] * 3,
        "immigration.detainer": ["I-247A"] * 3,
    }
    times = {
        "text": pa.array(["14:22", "23:59:59", None]),
        "timestamp": pa.array([dt.datetime(2024, 3, 1, 14, 22), dt.datetime(2024, 3, 1, 23, 59, 59), None]),
        "time": pa.array([dt.time(14, 22), dt.time(23, 59, 59), None], pa.time64("us")),
    }
    got = {}
    for kind, column in times.items():
        source = tmp_path / f"{kind}.parquet"
        pq.write_table(pa.table({**base, "time": column}), source)
        out = tmp_path / f"{kind}.csv"
        assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
        got[kind] = [r["federal_hold_limit"] for r in _rows(out)]
    assert got["timestamp"] == got["time"] == got["text"] == ["2024-03-05T14:22", "2024-03-05T23:59", ""]
    record = {"date": dt.date(2024, 3, 1), "place.county": "Hennepin", "agency": "county_jail"}
    row = Batch(rulebase).evaluate(
        {**record, "immigration.detainer": "I-247A", "time": dt.datetime(2024, 3, 1, 14, 22)}
    )
    assert row["federal_hold_limit"] == "2024-03-05T14:22"


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("detainers.csv.bz2", "a compressed file: decompress it first (or compress it with gzip)"),
        ("roster.xlsx.gz", "a gzip file is read as it is when it holds CSV or JSON Lines"),
        ("roster.xlsx", "a spreadsheet: save the sheet as CSV (UTF-8) first"),
        ("roster.tsv", "save it as CSV (comma-separated, UTF-8) first"),
        ("records.json", "a file of one record a line is JSON Lines: name it .jsonl"),
    ],
)
def test_an_input_of_another_kind_says_what_to_do(tmp_path, capsys, name, hint):
    source = tmp_path / name
    source.write_bytes(b"id\n1\n")
    assert _batch(str(source), "--out", str(tmp_path / "o.csv")) == 2
    err = capsys.readouterr().err
    assert f"{source}: error: INPUT must end in .csv, .jsonl or .parquet; {hint}" in err


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores")
def test_workers_default_to_the_cores_the_process_may_use():
    """Limited to one core (a container, `taskset`), the default is one worker, not the machine's count."""
    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
    code += "from policyengine.cli.batch import _cores; print(_cores(), os.cpu_count())"
    one, machine = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert (one, int(machine) > 1) == ("1", True)


def test_a_run_is_not_resumed_after_a_rule_file_changed(rulebase, tmp_path, monkeypatch, capsys):
    """Interrupted, then a rule file edited: resuming would join answers of two rulebases in one
    output, silently (the run recorded the rules directory's path, not its files). It is refused,
    saying why; with the file as it was, the run resumes."""
    import shutil

    from policyengine import bundled

    rules = tmp_path / "rules"
    shutil.copytree(bundled.rules_dir(), rules)
    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 300, seed=4)
    args = ["--rules", str(rules), "--workers", "1", "--chunk-size", "100", "--engine", "reference"]
    out = tmp_path / "out.csv"
    _interrupted_at_chunk(1, monkeypatch, str(source), "--out", str(out), *args)
    vocabulary = rules / "vocabulary.yaml"
    before = vocabulary.read_bytes()
    vocabulary.write_bytes(before + b"# a comment added after the run was interrupted\n")
    capsys.readouterr()
    assert _batch(str(source), "--out", str(out), *args) == 2
    assert "holds an interrupted run of other rules (a rule file changed since)" in capsys.readouterr().err
    vocabulary.write_bytes(before)
    assert _batch(str(source), "--out", str(out), *args) == 0
    assert len(_rows(out)) == 300


def test_the_errors_file_is_written_in_the_format_its_name_says(tmp_path, capsys):
    """`--errors bad.parquet` wrote CSV text into a file named .parquet (which no Parquet reader
    opens); it is now Parquet, the same rows as the CSV. A name of no known format is refused
    before any work."""
    import pyarrow.parquet as pq

    source = tmp_path / "x.csv"
    source.write_text(
        "id,date,place.county,agency\na,2024-03-01,Hennepin,county_jail\nb,2024-03-01,HENNEPIN,county_jail\n"
        ",2024-02-30,Hennepin,county_jail\n"
    )
    as_csv, as_parquet = tmp_path / "bad.csv", tmp_path / "bad.parquet"
    assert _batch(str(source), "--out", str(tmp_path / "o1.csv"), "--errors", str(as_csv)) == 0
    assert _batch(str(source), "--out", str(tmp_path / "o2.csv"), "--errors", str(as_parquet)) == 0
    with open(as_csv, newline="", encoding="utf-8") as f:
        want = [[int(r["row"]), r["id"], r["error"]] for r in csv.DictReader(f)]
    got = pq.read_table(as_parquet).to_pylist()
    assert [[r["row"], r["id"], r["error"]] for r in got] == want and len(want) == 2
    capsys.readouterr()
    assert _batch(str(source), "--out", str(tmp_path / "o3.csv"), "--errors", str(tmp_path / "bad.txt")) == 2
    assert f"{tmp_path / 'bad.txt'}: error: --errors must end in .csv, .jsonl or .parquet" in capsys.readouterr().err
    assert not (tmp_path / "o3.csv").exists() and not (tmp_path / "o3.csv.parts").exists()


def test_a_timestamp_with_a_time_zone_is_read_as_minnesota_clocks_showed_it(tmp_path, rulebase):
    """02:00 UTC on 1 March 2024 was 20:00 on Thursday 29 February in Minnesota: that is the
    record's date and release time (the UTC date and clock were taken, six hours off, and the
    48-hour reference ran from the wrong day)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    utc = dt.UTC
    moments = [dt.datetime(2024, 3, 1, 2, 0, tzinfo=utc), dt.datetime(2024, 3, 1, 20, 0, tzinfo=utc)]
    stamps = pa.array(moments, pa.timestamp("s", tz="UTC"))
    table = pa.table(
        {
            "id": ["u1", "u2"],
            "date": stamps,
            "time": stamps,
            "place.county": ["Hennepin"] * 2,
            "agency": ["county_jail"] * 2,
            "immigration.detainer": ["I-247A"] * 2,
        }
    )
    source = tmp_path / "tz.parquet"
    pq.write_table(table, source)
    out = tmp_path / "out.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
    rows = _rows(out)
    assert [(r["date"], r["federal_hold_limit"]) for r in rows] == [
        ("2024-02-29", hold_limit("2024-02-29", "20:00")),
        ("2024-03-01", hold_limit("2024-03-01", "14:00")),
    ]
    assert rows[0]["federal_hold_limit"] == "2024-03-04T20:00"  # Thursday evening, past the weekend
    record = {"place.county": "Hennepin", "agency": "county_jail", "immigration.detainer": "I-247A"}
    alone = Batch(rulebase).evaluate({**record, "date": moments[0], "time": moments[0]})
    assert (alone["date"], alone["federal_hold_limit"]) == ("2024-02-29", "2024-03-04T20:00")


def test_a_boolean_given_as_the_number_1_or_0_reads_as_the_text_1_or_0(tmp_path):
    """A Parquet integer column or a JSON number 1/0 for a true-or-false fact: as "1"/"0" in a CSV
    (it was a bad row: "takes true or false, not 1")."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    facts = {
        "date": "2024-03-01",
        "place.county": "Hennepin",
        "agency": "county_jail",
        "immigration.detainer": "I-247A",
    }
    text = tmp_path / "text.csv"
    text.write_text(
        "id,date,place.county,agency,immigration.detainer,custody.outstanding_warrant\n"
        + "".join(f"w{v},{','.join(facts.values())},{v}\n" for v in (1, 0))
    )
    jsonl = tmp_path / "numbers.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"id": f"w{v}", **facts, "custody.outstanding_warrant": v}) + "\n" for v in (1, 0))
    )
    parquet = tmp_path / "numbers.parquet"
    columns = {k: [v] * 2 for k, v in facts.items()}
    pq.write_table(
        pa.table({"id": ["w1", "w0"], **columns, "custody.outstanding_warrant": pa.array([1, 0], pa.int8())}), parquet
    )
    got = []
    for source in (text, jsonl, parquet):
        out = tmp_path / f"{source.name}.out.csv"
        assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
        got.append(_rows(out))
    assert got[0] == got[1] == got[2] and len(got[0]) == 2
    assert got[0][0] != {**got[0][1], "id": "w1"}  # the warrant changes an answer: 1 was not read as 0


def test_two_columns_read_as_the_id_are_refused(tmp_path, capsys):
    """A mapped `booking: id` beside a column named id: the first was used and the second dropped
    without a word (a record whose booking is empty was known by its row number, its id unused)."""
    source = tmp_path / "x.csv"
    source.write_text("booking,id,date,place.county,agency\nB1,i1,2024-03-01,Hennepin,county_jail\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns: {booking: id}\n")
    assert _batch(str(source), "--out", str(tmp_path / "o.csv"), "--mapping", str(mapping)) == 2
    assert "columns 'booking' and 'id' are both read as the id: map or ignore one of them" in capsys.readouterr().err
    mapping.write_text("columns: {booking: id}\nignore: [id]\n")
    assert _batch(str(source), "--out", str(tmp_path / "o.csv"), "--mapping", str(mapping)) == 0
    assert [r["id"] for r in _rows(tmp_path / "o.csv")] == ["B1"]


def test_a_mapped_column_the_file_does_not_have_is_an_error_at_its_line(tmp_path, capsys):
    """`Detainer_Type: immigration.detainer` where the header says `Detainer Type`: every record
    was read as holding no detainer, without a word (the real column was then refused as not a
    fact only when it was not ignored; here it is absent)."""
    source = tmp_path / "x.csv"
    source.write_text("booking,date,place.county,agency\nB1,2024-03-01,Hennepin,county_jail\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  booking: id\n  Detainer_Type: immigration.detainer\n")
    out = tmp_path / "o.csv"
    assert _batch(str(source), "--out", str(out), "--mapping", str(mapping), "--workers", "1") == 2
    err = capsys.readouterr().err
    assert f"{mapping}:3: error: column 'Detainer_Type' (read as 'immigration.detainer') is not in {source}" in err
    assert "whose columns are: 'booking', 'date', 'place.county', 'agency'" in err
    assert not out.exists() and not Path(f"{out}.parts").exists()


def test_a_mapped_name_no_json_lines_record_gives_is_warned_of(tmp_path, capsys):
    """In JSON Lines each record has its own names, so a misspelt mapped name is known only at
    the end: the summary warns of it (every record was read as holding no detainer, silently)."""
    source = tmp_path / "x.jsonl"
    source.write_text('{"booking": "B1", "date": "2024-03-01", "place.county": "Hennepin", "agency": "county_jail"}\n')
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  booking: id\n  Detainer_Type: immigration.detainer\n")
    summary = tmp_path / "summary.json"
    assert (
        _batch(str(source), "--out", str(tmp_path / "o.csv"), "--mapping", str(mapping), "--summary", str(summary)) == 0
    )
    warning = (
        f"{mapping}:3: warning: no record of {source} gives 'Detainer_Type' (read as 'immigration.detainer'):"
        " every record took the default of 'immigration.detainer'"
    )
    assert warning in capsys.readouterr().err
    assert json.loads(summary.read_text())["warnings"] == [warning]


def _interrupted_at_chunk(chunk: int, monkeypatch, *argv: str) -> None:
    """`policyengine batch ARGV` stopped (KeyboardInterrupt) as its chunk `chunk` starts, one
    worker: the chunks before it are done, as a kill leaves them."""
    from policyengine.cli import batch as cli_batch

    evaluate = cli_batch.Worker.evaluate

    def stopped(number: int, first_row: int, data: Any) -> Any:
        if number == chunk:
            raise KeyboardInterrupt
        return evaluate(number, first_row, data)

    monkeypatch.setattr(cli_batch.Worker, "evaluate", stopped)
    with pytest.raises(KeyboardInterrupt):
        _batch(*argv)
    monkeypatch.setattr(cli_batch.Worker, "evaluate", evaluate)


def test_a_gzip_compressed_csv_or_json_lines_file_is_read_as_it_is(rulebase, tmp_path, capsys):
    """`detainers.csv.gz` (a FOIA release as it is published): the output of the file
    decompressed, byte for byte. One cut short, or not gzip, is a one-line error."""
    import gzip

    plain = tmp_path / "records.csv"
    write_csv(plain, rulebase, 500, seed=6, bad=0.02)
    lines = plain.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text("".join(json.dumps(dict(zip(header, r.split(","), strict=True))) + "\n" for r in lines[1:]))
    for source in (plain, jsonl):
        packed = tmp_path / f"{source.name}.gz"
        packed.write_bytes(gzip.compress(source.read_bytes()))
        want, got = tmp_path / f"{source.name}.want.csv", tmp_path / f"{source.name}.got.csv"
        assert _batch(str(source), "--out", str(want), "--workers", "1") == 0
        assert _batch(str(packed), "--out", str(got), "--workers", "1") == 0
        assert got.read_bytes() == want.read_bytes() and len(_rows(got)) > 400
        assert Path(f"{got}.errors.csv").read_bytes() == Path(f"{want}.errors.csv").read_bytes()
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes((tmp_path / "records.csv.gz").read_bytes()[:2000])
    fake = tmp_path / "fake.csv.gz"
    fake.write_bytes(plain.read_bytes())
    capsys.readouterr()
    assert _batch(str(cut), "--out", str(tmp_path / "cut.csv"), "--workers", "1") == 2
    assert _batch(str(fake), "--out", str(tmp_path / "fake.csv"), "--workers", "1") == 2
    err = capsys.readouterr().err
    assert f"{cut}: error: cannot decompress it: Compressed file ended before the end-of-stream marker" in err
    assert f"{fake}: error: cannot decompress it: Not a gzipped file" in err and "Traceback" not in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_summary_counts_verdicts_and_practices_of_the_rows_written(rulebase, tmp_path, workers):
    """Per county and action, the summary's verdicts and practices (what the jurisdiction does)
    are those of the rows in the output, counted back from it, over several chunks."""
    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 1_500, seed=8, bad=0.02)
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    args = ["--out", str(out), "--summary", str(summary), "--workers", workers, "--chunk-size", "400"]
    assert _batch(str(source), *args) == 0
    told = json.loads(summary.read_text())
    want: dict[str, dict] = {"counts": {}, "practice_counts": {}}
    for row in _rows(out):
        for action in rulebase.actions:
            for key, field in (("counts", "verdict"), ("practice_counts", "practice")):
                per = want[key].setdefault(row["county"], {}).setdefault(action, {})
                per[row[f"{action}.{field}"]] = per.get(row[f"{action}.{field}"], 0) + 1
    assert told["counts"] == want["counts"] and told["practice_counts"] == want["practice_counts"]
    practices = {p for c in told["practice_counts"].values() for a in c.values() for p in a}
    assert len(practices) > 1  # not only "unknown": some county's practice is known


def test_a_null_group_in_a_json_lines_record_gives_nothing(tmp_path):
    """`"place": null` is a record that gives no place: a bad row (missing county), as an empty
    group; it stopped the whole batch ("column 'place' is not a fact in the vocabulary")."""
    source = tmp_path / "x.jsonl"
    rows = [
        {"id": "a", "date": "2024-03-01", "place": None, "agency": "county_jail"},
        {"id": "b", "date": "2024-03-01", "place": {"county": "Hennepin", "city": None}, "agency": "county_jail"},
        {"id": "c", "date": "2024-03-01", "place": {}, "agency": "county_jail"},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "o.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0
    assert [r["id"] for r in _rows(out)] == ["b"]
    with open(f"{out}.errors.csv", newline="") as f:
        assert [(r["id"], r["error"]) for r in csv.DictReader(f)] == [
            ("a", "missing required fact 'place.county'"),
            ("c", "missing required fact 'place.county'"),
        ]


def test_a_work_directory_another_version_made_is_refused_as_such(rulebase, tmp_path, monkeypatch, capsys):
    """A manifest without a setting this version records (one written before `rule_files`) is
    another version's run: it was told as "other rules (a rule file changed since)"."""
    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 300, seed=4)
    out = tmp_path / "out.csv"
    args = ["--workers", "1", "--chunk-size", "100", "--engine", "reference"]
    _interrupted_at_chunk(1, monkeypatch, str(source), "--out", str(out), *args)
    manifest = tmp_path / "out.csv.parts" / "manifest.json"
    older = json.loads(manifest.read_text())
    del older["settings"]["rule_files"]
    manifest.write_text(json.dumps(older))
    capsys.readouterr()
    assert _batch(str(source), "--out", str(out), *args) == 2
    assert "holds an interrupted run of another version of policyengine; remove it" in capsys.readouterr().err


def test_a_warm_batch_imports_neither_pydantic_nor_holidays_nor_pandas(tmp_path):
    """A batch process's start (paid by each worker too): with the caches warm, the rules come
    from the rulebase cache and the 48-hour reference from the stored holiday table, so neither
    pydantic (the file models) nor `holidays` is imported; nor is pandas, ever (Arrow arrays are
    built through their buffers, `arrays.py`). The output is the cold run's."""
    records = tmp_path / "records.csv"
    records.write_text(
        "id,date,agency,place.county,person.custody,immigration.detainer,time\n"
        "a,2024-12-31,county_jail,Hennepin,pretrial,I-247A,17:00\n"
        "b,2019-07-03,doc,Ramsey,serving_sentence,I-247A,09:30\n"
    )
    code = (
        "import sys\n"
        "from policyengine.cli import main\n"
        f"status = main(['batch', {str(records)!r}, '--out', sys.argv[1], '--workers', '1'])\n"
        "print(*(m in sys.modules for m in ('pydantic', 'holidays', 'pandas')), status, file=sys.stderr)\n"
    )
    env = {**os.environ, "POLICYENGINE_CACHE_DIR": str(tmp_path / "cache"), "POLICYENGINE_CACHE": "1"}
    argv = [sys.executable, "-c", code]
    runs = [
        subprocess.run([*argv, str(tmp_path / f"out-{k}.csv")], capture_output=True, text=True, env=env)
        for k in ("cold", "warm")
    ]
    said = [r.stderr.strip().splitlines()[-1] for r in runs]
    assert said == ["True True False 0", "False False False 0"], runs[1].stderr
    assert "2 rows read, 2 written, 0 in the errors file" in runs[1].stderr
    cold, warm = ((tmp_path / f"out-{k}.csv").read_text() for k in ("cold", "warm"))
    assert warm == cold
    assert "2025-01-03T17:00" in warm  # the 48-hour reference, New Year's Day not counted


def test_a_chunk_goes_to_a_worker_through_an_arrow_file_it_maps(tmp_path):
    """With several workers a chunk is not pickled through an inbox: the reading process writes
    it as an Arrow file, the worker maps it (the same table, its batches and a bad row's
    problem column too) and removes the file."""
    from policyengine.cli.batch import _chunk_file, _mapped_chunk, read_chunks

    source = tmp_path / "records.csv"
    source.write_text(
        "id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n2,2026-02-10,county_jail\n"
        "3,2026-02-11,county_jail,Ramsey\n",
        encoding="utf-8",
    )
    (table,) = list(read_chunks(source, "csv", 10))
    assert table.num_rows == 3 and "__problem__" in table.column_names  # row 2 has too few cells
    assert table.column("__problem__").null_count == 2
    path = _chunk_file(table, tmp_path / "000000.chunk.arrow")
    assert Path(path).exists() and not Path(path + ".tmp").exists()
    mapped = _mapped_chunk(path)
    assert not Path(path).exists()
    assert mapped.equals(table) and mapped.schema == table.schema
    assert [b.num_rows for b in mapped.to_batches()] == [b.num_rows for b in table.to_batches()]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_chunk_held_in_memory_or_in_a_part_file_is_written_the_same(rulebase, tmp_path, monkeypatch, fmt):
    """A worker renders a chunk and keeps it until the reading process places it in the output;
    in memory, or in a part file where it holds one already. Both give the bytes one worker
    writes for that chunk, at the offset given, whether or not the system copies files itself
    (copy_file_range)."""
    import io

    from policyengine.cli import batch as cli_batch

    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 300, seed=4, bad=0.02)
    (table,) = list(cli_batch.read_chunks(source, "csv", 1000))

    def rendered(in_memory: bool) -> tuple[dict[str, Any], Any]:
        cli_batch.Worker.batch = Batch(rulebase, "reference")
        cli_batch.Worker.fragments = {}
        steps = cli_batch.Worker.batch.chunk_steps(table, 1, dictionary=True)
        wanted = next(steps)
        found = [cli_batch.Worker.batch._case(w.code, w.facts, w.day) for w in wanted]
        return cli_batch._finish(0, steps, found, len(wanted), str(tmp_path), fmt, in_memory)

    cli_batch.Worker.batch = Batch(rulebase, "reference")
    cli_batch.Worker.fragments = {}
    one = io.BytesIO()
    result = cli_batch.Worker.batch.evaluate_arrow(table, 1, dictionary=True)
    cli_batch.Worker.write(result.table, result.outs, fmt, one)
    assert result.errors and one.getvalue().count(b"\n") == 300 - len(result.errors)  # bad rows: the errors file

    record, pieces = rendered(True)
    assert isinstance(pieces, list) and b"".join(pieces) == one.getvalue()
    assert record["size"] == len(one.getvalue()) and record["rows"] == 300

    def placed(copy: Any) -> bytes:
        record, part = rendered(False)
        assert isinstance(part, str) and Path(part).read_bytes() == one.getvalue()
        assert record["size"] == len(one.getvalue())
        out = tmp_path / f"out.{fmt}"
        out.write_bytes(b"HEAD\n")
        if copy is None:
            monkeypatch.delattr(os, "copy_file_range", raising=False)
        elif copy is not True:
            monkeypatch.setattr(os, "copy_file_range", copy)
        fd = os.open(out, os.O_WRONLY)
        try:
            cli_batch._copy_into(part, fd, 5)
        finally:
            os.close(fd)
            monkeypatch.undo()
        assert not Path(part).exists()
        return out.read_bytes()

    def refused(*args: Any) -> int:
        raise OSError(18, "Invalid cross-device link")

    for copy in (True, refused, None):
        assert placed(copy) == b"HEAD\n" + one.getvalue()


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs a file size limit (POSIX)")
def test_a_file_the_system_refuses_a_worker_is_a_one_line_error(rulebase, tmp_path):
    """A worker writes the chunks it rendered into the output itself; when the system refuses
    (here a file size limit: the output cannot grow past 64 KiB), the batch ends with one line
    naming the file and the error, exit 2, no traceback, and no output file."""
    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 600, seed=6)
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))\n"
        "from policyengine.cli import main\n"
        "sys.exit(main(['batch', sys.argv[1], '--out', sys.argv[2], '--workers', '2', '--chunk-size', '100',"
        " '--engine', 'reference']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(source), str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    # the output, or the part file of a chunk the worker could not keep in memory (as it happens)
    told = done.stderr.strip().splitlines()[-1]
    work = tmp_path / "o.csv.parts"
    assert told == f"policyengine: error: {work / 'output.csv'}: File too large" or (
        told.startswith(f"policyengine: error: {work}/") and told.endswith(".part.csv.tmp: File too large")
    ), told
    assert not (tmp_path / "o.csv").exists()


def test_a_parquet_output_is_the_same_file_whatever_the_chunks_and_workers(rulebase, tmp_path, monkeypatch):
    """Parquet output is cut in row groups of a fixed size, not one per chunk: the default chunk
    size differs with --workers (25,000 rows with one worker, 50,000 with several), and the file
    must be byte for byte the same either way. Here with row groups of 250 rows."""
    import pyarrow.parquet as pq

    from policyengine.cli import batch as cli_batch

    monkeypatch.setattr(cli_batch, "PARQUET_ROW_GROUP", 250)
    source = tmp_path / "records.csv"
    write_csv(source, rulebase, 1_100, seed=12, bad=0.01)
    outputs = []
    for workers, size in (("1", "100"), ("1", "333"), ("2", "400"), ("1", "5000")):
        out = tmp_path / f"out-{workers}-{size}.parquet"
        assert _batch(str(source), "--out", str(out), "--workers", workers, "--chunk-size", size) == 0
        outputs.append(out.read_bytes())
    assert len(set(outputs)) == 1
    written = pq.ParquetFile(tmp_path / "out-1-100.parquet")
    groups = [written.metadata.row_group(i).num_rows for i in range(written.metadata.num_row_groups)]
    assert groups[:-1] == [250] * (len(groups) - 1) and 0 < groups[-1] <= 250
    assert sum(groups) == written.metadata.num_rows > 1_000


def test_where_several_processes_cannot_run_one_worker_is_the_default_and_more_are_refused(
    tmp_path, capsys, monkeypatch
):
    """Workers start from a forkserver and write with pwrite, which Windows lacks: there the
    default is one worker, and --workers 2 is a one-line error saying so, before any work."""
    from policyengine.cli import batch as cli_batch

    assert cli_batch.several_processes() == (os.name == "posix")
    monkeypatch.setattr(cli_batch, "several_processes", lambda: False)
    assert cli_batch._cores() == 1
    source = tmp_path / "records.csv"
    source.write_text("id,date,agency,place.county\n1,2026-02-10,county_jail,Hennepin\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    assert _batch(str(source), "--out", str(out), "--workers", "2") == 2
    err = capsys.readouterr().err
    assert err == "--workers: error: 2 workers need a POSIX system (Linux, macOS); here use --workers 1\n"
    assert not out.exists() and not (tmp_path / "o.csv.parts").exists()
    assert _batch(str(source), "--out", str(out), "--workers", "1") == 0 and out.exists()
