#!/usr/bin/env python3
"""Coverage-guided fuzzing (atheris, libFuzzer) of the loader and the checker, for a fixed number of inputs.

    .venv/bin/pip install atheris          # not a dependency of the package or its tests
    .venv/bin/python tools/atheris_fuzz.py [--runs 20000] [--seed 1]

Each input is read as a user's file would be (bytes -> `load.decode` -> `load_yaml`) and then
checked as a rule file, as a scenario (against the bundled vocabulary and registry), and as a
vocabulary and a registry. An InputError is the expected outcome for a bad input; any other
exception is a finding: the input is saved to tests/fuzz/corpus/found/ (one per distinct
exception and place), where the corpus test replays it through the CLI. The fuzzer starts
from the bundled files and the committed corpus, and prints how many inputs it ran and what
it found. Not part of the test suite: it measures, it does not gate.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import traceback
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
FOUND = ROOT / "tests" / "fuzz" / "corpus" / "found"

with atheris.instrument_imports():
    from policyengine import check, load, model, pipeline  # noqa: F401
    from policyengine.errors import InputError

RULEBASE = pipeline.load_rulebase(ROOT / "rules")
STATS = {"inputs": 0, "rejected": 0, "accepted": 0, "runs": 0}
FINDINGS: dict[str, bytes] = {}


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    return f"{type(exc).__name__} at {Path(last.filename).name}:{last.lineno}" if last else type(exc).__name__


READERS = {
    "rules": lambda d: check.check_rule_file(d, RULEBASE.vocabulary, RULEBASE.registry),
    "scenarios": lambda d: check.check_scenario(d, RULEBASE.vocabulary, RULEBASE.registry),
    "vocabulary": lambda d: check.check_vocabulary(d),
    "registry": lambda d: check.check_registry(d, RULEBASE.vocabulary),
}


def _finding(target: str, exc: BaseException, data: bytes) -> None:
    key = f"{target}: {_where(exc)}"
    if key not in FINDINGS:
        FINDINGS[key] = data
        print(f"\nFINDING {key}: {exc!r}"[:300], flush=True)


def one_input(data: bytes) -> None:
    STATS["inputs"] += 1
    try:
        _read(data)
    finally:
        if STATS["inputs"] == STATS["runs"]:  # libFuzzer ends the process without running atexit
            report()


def _read(data: bytes) -> None:
    accepted = False
    try:
        doc = load.load_yaml("fuzz.yaml", text=load.decode(data, "fuzz.yaml"))
    except InputError:
        STATS["rejected"] += 1
        return
    except Exception as exc:  # noqa: BLE001 - the findings this fuzzer looks for
        _finding("rules", exc, data)
        return
    for target, read in READERS.items():
        try:
            read(doc)
            accepted = True
        except InputError:
            pass
        except Exception as exc:  # noqa: BLE001
            _finding(target, exc, data)
    STATS["accepted" if accepted else "rejected"] += 1


def report() -> None:
    """Save the findings and print the numbers."""
    FOUND.mkdir(parents=True, exist_ok=True)
    for n, (key, data) in enumerate(sorted(FINDINGS.items()), 1):
        (FOUND / f"{key.split(':')[0]}-atheris-{n:03d}.bin").write_bytes(data)
    print(
        f"\natheris: {STATS['inputs']} inputs run, {STATS['rejected']} rejected with a located error by every "
        f"reader, {STATS['accepted']} accepted by at least one reader, {len(FINDINGS)} findings",
        flush=True,
    )
    for key in sorted(FINDINGS):
        print(f"  finding: {key}", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    seeds = tempfile.mkdtemp(prefix="atheris-seeds-")
    files = [*sorted((ROOT / "rules").rglob("*.yaml")), *sorted((ROOT / "scenarios").rglob("*.yaml"))]
    files += sorted((ROOT / "tests" / "fuzz" / "corpus").rglob("*.*"))[::10]
    for f in files:
        data = f.read_bytes()
        (Path(seeds) / hashlib.sha1(data).hexdigest()).write_bytes(data)
    libfuzzer = [
        sys.argv[0],
        f"-runs={args.runs}",
        f"-seed={args.seed}",
        "-max_len=8192",
        "-timeout=10",
        "-rss_limit_mb=2048",
        seeds,
    ]
    STATS["runs"] = args.runs
    atheris.Setup(libfuzzer, one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
