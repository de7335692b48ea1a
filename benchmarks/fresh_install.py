"""The package as a stranger installs it: build the wheel, install it into a fresh virtual
environment outside the repository, and run pytest on a copy of the bundled scenarios there.

    .venv/bin/python benchmarks/fresh_install.py

Checks (and prints): the scenario items are collected through the `pytest11` entry point with no
`-p` option and no configuration file; no warning from durable_rules reaches the output; the
bundled rule files' `$schema` comments resolve inside the installed package; `policyengine
--version` runs. Too slow for the test suite (it installs every dependency), so a script.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main() -> int:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pe-fresh-") as tmp:
        work = Path(tmp)
        build = run(
            [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(work / "dist"), str(ROOT)]
        )
        if build.returncode:
            sys.exit(build.stdout + build.stderr)
        wheel = next((work / "dist").glob("*.whl"))
        run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
        py = work / "venv" / "bin" / "python"
        install = run([str(py), "-m", "pip", "install", "-q", f"{wheel}", "pytest"])
        if install.returncode:
            sys.exit(install.stdout + install.stderr)
        project = work / "project"
        shutil.copytree(ROOT / "scenarios", project / "scenarios")
        print(f"built and installed {wheel.name} in {time.perf_counter() - start:.0f} s (outside the repository)")

        test = run([str(py), "-m", "pytest", "scenarios/", "-W", "default", "-rA"], cwd=project)
        items = re.findall(r"^PASSED (\S+)", test.stdout, flags=re.M)
        summary = test.stdout.strip().splitlines()[-1] if test.stdout.strip() else "(no output)"
        durable = [line for line in (test.stdout + test.stderr).splitlines() if "durable" in line.lower()]
        print(f"pytest scenarios/ (no -p, no ini file): exit {test.returncode}; {summary}")
        print(f"  scenario items passed: {len(items)}; lines mentioning durable: {len(durable)}")
        for line in durable[:5]:
            print("   ", line)

        code = (
            "import re, pathlib, policyengine.bundled as b\n"
            "root = b.rules_dir().parent\n"
            "bad = []; n = 0\n"
            "for p in list(b.rules_dir().rglob('*.yaml')) + list(b.scenarios_dir().rglob('*.yaml')):\n"
            "    m = re.match(r'# yaml-language-server: \\$schema=(\\S+)', p.read_text().splitlines()[0])\n"
            "    if m:\n"
            "        n += 1\n"
            "        if not (p.parent / m.group(1)).resolve().is_file(): bad.append(str(p))\n"
            "print(n, len(bad), root)\n"
        )
        comments = run([str(py), "-c", code], cwd=project)
        n, bad, root = comments.stdout.split(maxsplit=2)
        print(f"$schema comments in the installed package: {n}, unresolved: {bad} (under {root.strip()})")
        version = run([str(work / "venv" / "bin" / "policyengine"), "--version"])
        print(f"policyengine --version: {version.stdout.strip()} (exit {version.returncode})")
        ok = test.returncode == 0 and items and not durable and bad == "0" and version.returncode == 0
    print("fresh install: OK" if ok else "fresh install: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
