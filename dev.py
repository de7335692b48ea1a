#!/usr/bin/env python3
"""Set-up and the two everyday commands, with nothing but Python 3.11 or 3.12.

    python3 dev.py run    # evaluate the bundled sample scenarios on the bundled rules
    python3 dev.py test   # run the test suite (what CI runs)

Each command first makes sure `.venv/` exists and holds this checkout installed
(editable) with its test dependencies; it reinstalls when pyproject.toml changes.
Any further arguments are passed on: `python3 dev.py run scenarios/x.yaml --explain`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".policyengine-installed"


def _fingerprint() -> str:
    data = (ROOT / "pyproject.toml").read_bytes() + sys.version.encode()
    return hashlib.sha256(data).hexdigest()


def ensure_venv() -> Path:
    """Create or refresh the virtual environment; return its python."""
    if sys.version_info < (3, 11):  # noqa: UP036 (dev.py must run on an older Python to say so)
        sys.exit(f"policyengine needs Python 3.11 or 3.12; this is {sys.version.split()[0]}")
    python = BIN / "python"
    if STAMP.exists() and python.exists() and STAMP.read_text() == _fingerprint():
        return python
    print("dev.py: preparing .venv (first run or pyproject.toml changed) ...", flush=True)
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    for step in (["install", "--upgrade", "pip"], ["install", "-e", f"{ROOT}[test]"]):
        if subprocess.run([*pip, *step]).returncode != 0:
            sys.exit(f"dev.py: 'pip {' '.join(step)}' failed; see the messages above")
    STAMP.write_text(_fingerprint())
    return python


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    python = ensure_venv()
    os.chdir(ROOT)
    if command == "run":
        args = rest or ["scenarios"]
        cmd = [str(python), "-m", "policyengine", "run", *args]
    else:
        cmd = [str(python), "-m", "pytest", *rest]
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
