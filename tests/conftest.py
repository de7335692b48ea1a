"""Shared test set-up: Hypothesis profiles, the bundled rulebase, small rulebases for one test.

Hypothesis profiles: `ci` (the default) is quick enough for every run; `thorough` searches
much longer:
    HYPOTHESIS_PROFILE=thorough python3 dev.py test tests/test_suite_properties.py
No deadline in either: durable_rules' first use of a ruleset costs more than later uses,
and speed is measured, never asserted.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from policyengine import bundled
from policyengine.engine import durable_available
from policyengine.pipeline import load_rulebase

# durable_rules 2.0.28 does not install on Python 3.13 and later: there the reference engine runs
# everything, and the tests that exercise durable_rules itself are skipped with this reason.
requires_durable = pytest.mark.skipif(
    not durable_available(), reason="durable_rules does not install on this Python (3.13+); the reference engine runs"
)

# The rulebase cache of the test run lives in a directory of its own, not the user's.
os.environ.setdefault("POLICYENGINE_CACHE_DIR", tempfile.mkdtemp(prefix="policyengine-test-cache-"))

for name, examples in (("ci", 200), ("thorough", 2000)):
    settings.register_profile(
        name,
        max_examples=examples,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").rglob("*.yaml"))


@pytest.fixture(scope="session")
def rulebase():
    return load_rulebase()


def write_rules_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    """A rules directory with the bundled vocabulary and registry plus the given rule files."""
    root = Path(tempfile.mkdtemp(dir=tmp_path)) / "rules"
    (root / "minnesota").mkdir(parents=True)
    shutil.copy(bundled.rules_dir() / "vocabulary.yaml", root / "vocabulary.yaml")
    shutil.copy(bundled.rules_dir() / "minnesota" / "registry.yaml", root / "minnesota" / "registry.yaml")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def rules_dir(tmp_path):
    return lambda files: write_rules_dir(tmp_path, files)
