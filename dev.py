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
import shutil
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
    if sys.version_info < (3, 11):  # noqa: UP036 (this file runs on whatever python3 is, before any venv)
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
    os.chdir(ROOT)
    if command == "run":
        args = rest or ["scenarios"]
        cmd = [str(python), "-m", "policyengine", "run", *args]
    else:
        ensure_chromium()
        cmd = [str(python), "-m", "pytest", *rest]
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
