"""The package plugs in like any other: one pytest plugin registration, durable_rules' own
deprecation warnings silenced where it is imported, schemas beside the bundled rules."""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

import policyengine.testing.plugin as plugin_module
from policyengine import bundled
from policyengine.engine import durable_available, get_engine
from policyengine.pipeline import evaluate, load_scenario
from tests.conftest import ROOT


def test_the_scenario_plugin_is_registered_once(request):
    """pyproject's `-p policyengine.testing.plugin` and the `pytest11` entry point name the same plugin."""
    manager = request.config.pluginmanager
    assert [p for p in manager.get_plugins() if p is plugin_module] == [plugin_module]
    assert manager.get_plugin("policyengine.testing.plugin") is plugin_module


@pytest.mark.skipif(not durable_available(), reason="durable_rules does not import on this Python")
def test_durable_rules_deprecation_warnings_do_not_reach_the_user(monkeypatch, rulebase):
    """On Python 3.12 durable_rules 2.0.28 warns on every action; simulate that on any Python."""
    import durable.engine

    real = datetime.datetime

    class WarningDatetime(real):
        @classmethod
        def utcfromtimestamp(cls, t):  # as Python 3.12 does
            warnings.warn("datetime.datetime.utcfromtimestamp() is deprecated", DeprecationWarning, stacklevel=2)
            return real.utcfromtimestamp(t)

    monkeypatch.setattr(durable.engine, "datetime", types.SimpleNamespace(datetime=WarningDatetime))
    scenario = load_scenario(ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml", rulebase)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.warns(DeprecationWarning):  # the simulation does warn outside the engine
            durable.engine._unix_now()
        ev = evaluate(scenario, rulebase, get_engine("durable"))
    assert ev.engine == "durable_rules" and ev.firing.fired
    assert [str(w.message) for w in caught if "durable" in w.filename] == []


SCHEMA_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def _schema_targets(root: Path) -> list[tuple[Path, Path]]:
    out = []
    for path in sorted(root.rglob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        m = SCHEMA_COMMENT.match(first)
        if m:
            out.append((path, (path.parent / m.group(1)).resolve()))
    return out


def test_every_schema_comment_resolves_in_the_repository():
    targets = _schema_targets(ROOT / "rules") + _schema_targets(ROOT / "scenarios")
    assert len(targets) > 100
    assert [str(p) for p, t in targets if not t.is_file()] == []


def test_the_bundled_schema_directory_is_where_the_comments_point():
    """Installed, rules/ and scenarios/ sit in policyengine/bundled/ beside docs/schema/."""
    assert (bundled.schema_dir() / "rules.schema.json").is_file()
    assert bundled.schema_dir().parent.parent == bundled.rules_dir().parent


def test_schema_writes_only_where_told(tmp_path, monkeypatch, capsys):
    from policyengine.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["schema"]) == 2
    assert "say where: --out DIR" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert main(["schema", "--print", "rules"]) == 0
    assert capsys.readouterr().out == (ROOT / "docs" / "schema" / "rules.schema.json").read_text()
    assert list(tmp_path.iterdir()) == []
    assert main(["schema", "--out", "here"]) == 0
    assert sorted(p.name for p in (tmp_path / "here").iterdir()) == ["rules.schema.json", "scenario.schema.json"]


def _command(tmp_path: Path, *argv: str, shadow: bool) -> subprocess.CompletedProcess:
    """The `policyengine` console script's code, optionally with another `policyengine` first on the path."""
    other = tmp_path / "other"
    (other / "policyengine").mkdir(parents=True, exist_ok=True)
    (other / "policyengine" / "__init__.py").write_text('"""An unrelated package with the same import name."""\n')
    path = [str(other)] if shadow else []
    code = (
        f"import sys; sys.path[:0] = {path!r}; sys.argv = ['policyengine', *{list(argv)!r}]\n"
        "import mn_ice_policyengine; sys.exit(mn_ice_policyengine.main())"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_the_command_says_clearly_when_another_policyengine_is_imported(tmp_path):
    ok = _command(tmp_path, "--version", shadow=False)
    assert (ok.returncode, ok.stdout) == (0, "policyengine 0.1.0\n")
    wrong = _command(tmp_path, "--version", shadow=True)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert "the module 'policyengine' found here is not mn-ice-policyengine" in wrong.stderr
    assert str(tmp_path / "other" / "policyengine") in wrong.stderr
    assert "pip uninstall policyengine" in wrong.stderr
