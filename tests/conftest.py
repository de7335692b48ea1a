"""Shared fixtures: the bundled rulebase, and small rulebases written for one test."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest

from policyengine import bundled
from policyengine.pipeline import load_rulebase

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
