#!/usr/bin/env python3
"""Set-up and the two everyday commands, with nothing but Python 3.11 or later.

    python3 dev.py run    # evaluate the bundled sample scenarios on the bundled rules
    python3 dev.py test   # the static gates, then the test suite (what CI runs)

Each command first makes sure `.venv/` exists and holds this checkout installed
(editable) with its test dependencies; it reinstalls when pyproject.toml changes and
rebuilds `.venv/` when another Python runs dev.py than the one that built it. It says
which rule engine will run: durable_rules on 3.11 and 3.12; on 3.13 and later, where
durable_rules does not install, the plain-Python reference engine (tests that need
durable_rules are skipped with that reason).
Any further arguments are passed on: `python3 dev.py run scenarios/x.yaml --explain`.
`test` first runs the static gates (`ruff check`, `ruff format --check`, mypy) and stops
at the first that fails; further arguments go to pytest.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".policyengine-installed"
# Static gates `test` runs, in order, before pytest (configured in pyproject.toml).
GATES = [
    ("ruff check", ["ruff", "check", "--quiet", "."]),
    ("ruff format", ["ruff", "format", "--check", "--quiet", "."]),
    ("mypy", ["mypy"]),
]
MINIMUM = (3, 11)


def _fingerprint() -> str:
    """What the environment was built from: this interpreter and pyproject.toml."""
    data = (ROOT / "pyproject.toml").read_bytes() + sys.version.encode() + sys.executable.encode()
    return hashlib.sha256(data).hexdigest()


def _built_by_this_python() -> bool:
    """Whether .venv was created from the interpreter running dev.py (pyvenv.cfg names it)."""
    cfg = VENV / "pyvenv.cfg"
    if not cfg.exists():
        return False
    settings = dict(line.split(" = ", 1) for line in cfg.read_text().splitlines() if " = " in line)
    built = settings.get("executable") or str(Path(settings.get("home", "")) / Path(sys.executable).name)
    same_version = settings.get("version") == platform.python_version()
    return same_version and Path(built).resolve() == Path(sys.executable).resolve()


def ensure_venv() -> Path:
    """Create or refresh the virtual environment; return its python.

    The environment is rebuilt from scratch when the interpreter running dev.py is not the one
    that built it (another version, or another installation), and refreshed when pyproject.toml
    changes.
    """
    if sys.version_info < MINIMUM:
        sys.exit(f"policyengine needs Python 3.11 or later; this is {sys.version.split()[0]}")
    python = BIN / "python"
    same_python = python.exists() and _built_by_this_python()
    if STAMP.exists() and same_python and STAMP.read_text() == _fingerprint():
        return python
    if python.exists() and not same_python:
        print(f"dev.py: .venv was built by another Python; rebuilding it with {sys.executable}", flush=True)
    else:
        print("dev.py: preparing .venv (first run or pyproject.toml changed) ...", flush=True)
    if not same_python:
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    for step in (["install", "--upgrade", "pip"], ["install", "-e", f"{ROOT}[test]"]):
        if subprocess.run([*pip, *step]).returncode != 0:
            sys.exit(f"dev.py: 'pip {' '.join(step)}' failed; see the messages above")
    STAMP.write_text(_fingerprint())
    return python


def say_engine(python: Path) -> None:
    """Name the rule engine the default run will use (durable_rules needs Python 3.11 or 3.12)."""
    probe = "from policyengine.engine import durable_available as d; print(int(d()))"
    found = subprocess.run([str(python), "-c", probe], capture_output=True, text=True).stdout.strip()
    version = sys.version.split()[0]
    if found == "1":
        print(f"dev.py: Python {version}; rule engine: durable_rules (the reference engine is also tested)")
    else:
        print(
            f"dev.py: Python {version}; rule engine: the reference engine (durable_rules does not install on "
            "this Python; tests that need it are skipped with that reason)"
        )


def ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium; install it when missing and running as root
    (CI runs as root). Elsewhere the tests say what is missing (and fail when CI is set)."""
    if shutil.which("chromium") or not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    print("dev.py: installing chromium for the browser tests (apt-get) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        if subprocess.run(step, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            print(f"dev.py: '{' '.join(step)}' failed; the browser tests will say so", flush=True)
            return


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    python = ensure_venv()
    say_engine(python)
    os.chdir(ROOT)
    if command == "run":
        args = rest or ["scenarios"]
        cmd = [str(python), "-m", "policyengine", "run", *args]
    else:
        for name, gate in GATES:
            if subprocess.run([str(python), "-m", *gate]).returncode != 0:
                print(f"dev.py: the {name} gate failed; see the messages above", file=sys.stderr)
                return 1
        ensure_chromium()
        cmd = [str(python), "-m", "pytest", *rest]
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
