"""The package builds, passes `twine check`, and the wheel holds what an installed copy needs:
the bundled rules and scenarios with the schemas their `$schema` comments point at, the pytest
plugin's entry point, and the command behind a name no other package uses."""

from __future__ import annotations

import json
import posixpath
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.conftest import ROOT

SCHEMA_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return out


def test_twine_check_passes(dist):
    files = sorted(str(p) for p in dist.iterdir())
    assert len(files) == 2
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2


def test_wheel_metadata_and_entry_points(dist):
    wheel = zipfile.ZipFile(next(dist.glob("*.whl")))
    info = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = wheel.read(info).decode()
    for line in ("Name: mn-ice-policyengine", "Classifier: Framework :: Pytest", "Provides-Extra: serve"):
        assert line in metadata
    entry_points = wheel.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "policyengine = mn_ice_policyengine:main" in entry_points
    assert re.search(r"\[pytest11\]\npolicyengine\.testing\.plugin = policyengine\.testing\.plugin", entry_points)


def test_every_bundled_schema_comment_resolves_inside_the_wheel_and_validates(dist):
    wheel = zipfile.ZipFile(next(dist.glob("*.whl")))
    names = set(wheel.namelist())
    checked = 0
    for name in sorted(names):
        if not (name.startswith("policyengine/bundled/") and name.endswith(".yaml")):
            continue
        text = wheel.read(name).decode()
        m = SCHEMA_COMMENT.match(text.splitlines()[0])
        if not m:
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.group(1)))
        assert target in names, f"{name} points at {target}, which is not in the wheel"
        if name.endswith("hennepin.yaml") or name.endswith("doc-release-detainer-no-warrant.yaml"):
            schema = json.loads(wheel.read(target))
            data = json.loads(json.dumps(yaml.safe_load(text), default=str))
            assert list(Draft202012Validator(schema).iter_errors(data)) == []
        checked += 1
    assert checked > 100
