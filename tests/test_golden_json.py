"""The JSON contract, byte for byte: `run --format json --explain` on every bundled scenario.

Captured on both engines before the condition tree, the enums and the loader were
restructured; refactoring must not change one byte. A change to a bundled rule or
scenario legitimately changes it: regenerate with `UPDATE_GOLDEN=1 .venv/bin/pytest
tests/test_golden_json.py` and read the diff (tests/golden/README.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from policyengine import bundled
from policyengine.cli import main
from policyengine.engine import DURABLE, REFERENCE, durable_available

GOLDEN = Path(__file__).parent / "golden" / "json"


@pytest.mark.parametrize("engine", [DURABLE, REFERENCE])
def test_run_json_explain_is_byte_identical_to_the_golden(engine, capsys):
    if engine == DURABLE and not durable_available():
        pytest.skip("durable_rules does not import on this Python")
    cli_engine = "durable" if engine == DURABLE else engine
    status = main(["run", "--format", "json", "--explain", "--engine", cli_engine, str(bundled.scenarios_dir())])
    out = capsys.readouterr().out
    golden = GOLDEN / f"run-explain-{engine}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out, encoding="utf-8")
    assert status == 0
    assert out.count('"scenario": ') > 80  # every bundled scenario, not an empty run
    assert out == golden.read_text(encoding="utf-8")
