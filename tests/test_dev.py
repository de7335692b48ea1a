"""dev.py rebuilds .venv when another interpreter runs it, and names the engine that will run."""

from __future__ import annotations

import importlib.util
import platform
import sys
from pathlib import Path

from tests.conftest import ROOT


def _dev(venv: Path):
    spec = importlib.util.spec_from_file_location("dev_under_test", ROOT / "dev.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.VENV = venv
    return module


def _cfg(venv: Path, version: str, executable: str) -> None:
    venv.mkdir(exist_ok=True)
    (venv / "pyvenv.cfg").write_text(
        f"home = {Path(executable).parent}\nversion = {version}\nexecutable = {executable}\n"
    )


def test_a_venv_built_by_this_interpreter_is_kept(tmp_path):
    venv = tmp_path / ".venv"
    _cfg(venv, platform.python_version(), str(Path(sys.executable).resolve()))
    assert _dev(venv)._built_by_this_python()


def test_a_venv_built_by_another_version_or_installation_is_rebuilt(tmp_path):
    venv = tmp_path / ".venv"
    _cfg(venv, "3.9.99", str(Path(sys.executable).resolve()))  # a version that is not this one
    assert not _dev(venv)._built_by_this_python()
    _cfg(venv, platform.python_version(), "/opt/another/python3")
    assert not _dev(venv)._built_by_this_python()
    (venv / "pyvenv.cfg").unlink()
    assert not _dev(venv)._built_by_this_python()
