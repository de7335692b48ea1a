"""Where one fuzz-corpus input is put to be read: shared by the corpus generator and its test."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
TARGETS = ("rules", "scenarios", "vocabulary", "registry")


def base_rules(target: Path) -> Path:
    """A rules directory with the bundled vocabulary and registry and no rules."""
    (target / "minnesota").mkdir(parents=True)
    shutil.copy(ROOT / "rules" / "vocabulary.yaml", target / "vocabulary.yaml")
    shutil.copy(ROOT / "rules" / "minnesota" / "registry.yaml", target / "minnesota" / "registry.yaml")
    return target


def lay_out(case: Path, target: str, data: bytes) -> Path:
    """Put one input in place under `case` and return its path.

    `case/rules` holds the bundled vocabulary and registry; a rule input is one rule file beside
    them, a vocabulary or registry input replaces that file, a scenario input is `case/input.yaml`.
    """
    rules = base_rules(case / "rules")
    place = {
        "rules": rules / "minnesota" / "input.yaml",
        "vocabulary": rules / "vocabulary.yaml",
        "registry": rules / "minnesota" / "registry.yaml",
        "scenarios": case / "input.yaml",
    }[target]
    place.write_bytes(data)
    return place


def corpus_inputs() -> list[tuple[str, Path]]:
    """Every committed input, (target, path), in a stable order; `found/` holds the fuzzer's finds."""
    out = []
    for target in TARGETS:
        out += [(target, p) for p in sorted((CORPUS / target).glob("*.*"))]
    found = CORPUS / "found"
    for p in sorted(found.glob("*.*")) if found.is_dir() else []:
        out.append((p.name.split("-")[0], p))
    return out
