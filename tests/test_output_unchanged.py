"""Speed work must not change a byte: `run --format json --explain` of every bundled scenario,
on both engines, against one golden file (first captured before the per-case path was optimised).

Regenerate (after a legitimate rule, vocabulary or contract change, never to hide a speed
change) with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_output_unchanged.py` and read the diff.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from policyengine import pipeline
from policyengine.cli import main
from policyengine.engine import durable_available

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden" / "run"

ENGINES = [
    pytest.param("reference"),
    pytest.param("durable", marks=pytest.mark.skipif(not durable_available(), reason="durable_rules not importable")),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_json_with_trace_of_every_bundled_scenario_matches_golden(engine, capsys, monkeypatch):
    """One golden file for both engines: they must write the same bytes but for the engine's name."""
    monkeypatch.chdir(ROOT)
    # the default date of knowledge is today: fixed here so that the golden files do not date
    monkeypatch.setattr(pipeline, "today", lambda: dt.date(2026, 11, 29))
    code = main(["run", "scenarios", "--format", "json", "--explain", "--engine", engine])
    out = capsys.readouterr().out
    assert code == 0
    scenarios = out.count('"scenario":')
    assert scenarios >= 50  # every bundled scenario, not an empty run
    name = {"reference": "reference", "durable": "durable_rules"}[engine]
    assert out.count(f'"engine": "{name}"') == scenarios
    out = out.replace(f'"engine": "{name}"', '"engine": "reference"')
    golden = GOLDEN / "run.json"
    if os.environ.get("UPDATE_GOLDEN") and engine == "reference":
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")
