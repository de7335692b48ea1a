"""Speed work must not change a finding: `policyengine check` on the bundled rules, text and
JSON, against golden files captured before `check` was made faster (main at bda1106; the
unoptimised exploration of main at a825d67 gave the same bytes on the rules as they were then).

The exploration behind `check` keeps every evaluation it makes and reads them back (the
defeaters named in a PE503 come from them), so a shortcut that skips or reorders evaluations
can change a message without changing which rules are flagged; these files pin every byte.

Regenerate (after a legitimate change of a bundled rule, the vocabulary, the registry or a
finding, never to hide a speed change) with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_check_unchanged.py` and read the diff.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from policyengine import pipeline
from policyengine.cli import main

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden" / "check"


@pytest.mark.parametrize("form", ["text", "json"])
def test_check_of_the_bundled_rules_matches_golden(form, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    # rules declared after the date of knowledge are set aside: fixed so that the files do not date
    monkeypatch.setattr(pipeline, "today", lambda: dt.date(2026, 11, 29))
    code = main(["check", "--format", form])
    out = capsys.readouterr().out
    assert code == 0
    assert "PE503" in out and "PE505" in out  # the exploration ran: not an empty report
    golden = GOLDEN / ("bundled.txt" if form == "text" else "bundled.json")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")
