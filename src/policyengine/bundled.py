"""Where the bundled rules and sample scenarios are: inside the installed package, or
beside the sources in a checkout (an editable install)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    packaged = _HERE / "bundled" / name
    if packaged.is_dir():
        return packaged
    return _HERE.parent.parent / name


def rules_dir() -> Path:
    return _find("rules")


def scenarios_dir() -> Path:
    return _find("scenarios")


def schema_dir() -> Path:
    """The JSON Schemas, where the bundled files' `$schema` comments point (`docs/schema/`
    beside `rules/` and `scenarios/`, in the checkout and in the installed package)."""
    return _find("docs") / "schema"


def equivalents_file() -> Path:
    """The mutants of the bundled rules listed as equivalent, with reasons (docs/testing.md)."""
    return _find("mutants") / "equivalent.yaml"
