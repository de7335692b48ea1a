"""The pipeline end to end: load a rulebase, load scenarios, evaluate one scenario.

load -> model -> check -> compile -> engine -> resolve; reporting is separate
(`policyengine.report`). A Rulebase is built once per process and reused.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from policyengine.accept import accept_scenario
from policyengine.checked import Scenario
from policyengine.engine import Engine, Firing, get_engine
from policyengine.errors import InputError
from policyengine.facts import fact_record
from policyengine.load import Document, load_yaml, yaml_files
from policyengine.resolve import Decision
from policyengine.rulebase import (  # the loader stage, named here for the callers of the pipeline
    REGISTRY_FILE,
    VOCABULARY_FILE,
    Rulebase,
    load_document,
    load_rulebase,
    read_rulebase,
)

__all__ = [
    "REGISTRY_FILE",
    "VOCABULARY_FILE",
    "Evaluation",
    "Rulebase",
    "evaluate",
    "load_rulebase",
    "load_scenario",
    "load_scenarios",
    "read_rulebase",
    "scenario_files",
]


def scenario_files(paths: Sequence[str | Path]) -> list[Path]:
    """Scenario files named directly or found below named directories."""
    out: list[Path] = []
    for p in map(Path, paths):
        if str(p) == STDIN:
            out.append(p)
        elif p.is_dir():
            out += yaml_files(p)
        else:
            out.append(p)
    return out


STDIN = "-"


def load_scenario(path: str | Path, rulebase: Rulebase) -> Scenario:
    """A scenario file; `-` reads one scenario (YAML or JSON, which is YAML) from standard input."""
    if str(path) == STDIN:
        doc = load_yaml(STDIN, text=sys.stdin.read(), display="<stdin>")
    else:
        doc = load_document(Path(path))
    return scenario_from_data(doc, rulebase)


def scenario_from_data(doc: Document, rulebase: Rulebase) -> Scenario:
    """A loaded scenario (a file, or JSON posted to the HTTP API), checked.

    A scenario the fast acceptor can vouch for is checked without pydantic (`accept.py`); any
    other goes through the pydantic models (`check.check_scenario`), which say what is wrong."""
    scenario = accept_scenario(doc, rulebase.vocabulary, rulebase.registry)
    if scenario is not None:
        return scenario
    from policyengine.check import check_scenario  # imports pydantic

    return check_scenario(doc, rulebase.vocabulary, rulebase.registry)


def load_scenarios(paths: Sequence[str | Path], rulebase: Rulebase) -> list[Scenario]:
    """Every scenario below `paths`; all located problems of all files raised together."""
    scenarios, problems = [], []
    for path in scenario_files(paths):
        try:
            scenarios.append(load_scenario(path, rulebase))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return scenarios


class CaseMemo(Protocol):
    """Remembers answers by case: see `sweep.Cases`."""

    def get(
        self,
        record: dict[str, Any],
        day: dt.date,
        known: dt.date,
        run: Callable[[], tuple[Firing, list[Decision]]],
    ) -> tuple[Firing, list[Decision]]: ...


@dataclass(frozen=True)
class Evaluation:
    """One scenario evaluated: the facts used, what fired, and the decisions."""

    scenario: Scenario
    date: dt.date
    county: str
    agency: str
    firing: Firing
    decisions: list[Decision]
    known_on: dt.date

    @property
    def engine(self) -> str:
        return self.firing.engine


def today() -> dt.date:
    """The default date of knowledge: today (tests that compare output with golden files fix it)."""
    return dt.date.today()


def evaluate(
    scenario: Scenario,
    rulebase: Rulebase,
    engine: Engine | None = None,
    as_of: dt.date | None = None,
    county: str | None = None,
    known_on: dt.date | None = None,
    city: str | None = None,
    agency: str | None = None,
    cases: CaseMemo | None = None,
) -> Evaluation:
    """Evaluate one scenario; `as_of` replaces its date, `county` its county (and clears its
    city), `city` its city, `agency` its agency.

    `known_on` is the day whose knowledge of the law is applied (rules declared later are set
    aside); default: the scenario's own `known_on`, else today. `cases` (a `sweep.Cases`) reuses
    the answer of an earlier evaluation of the same case (same tested facts, same interval, same
    date of knowledge)."""
    engine = engine or get_engine()
    scenario_used = scenario
    if county is not None or city is not None or agency is not None:
        facts = dict(scenario.facts)
        if county is not None:
            facts["place.county"] = county
            facts["place.city"] = "none"
        if city is not None:
            facts["place.city"] = city
        if agency is not None:
            facts["agency"] = agency
        scenario_used = Scenario(scenario.head, facts, scenario.file)
    record = fact_record(scenario_used, rulebase.vocabulary, rulebase.registry, as_of)
    day = as_of or scenario.head.date
    known = known_on or scenario.head.known_on or today()
    run_engine = engine

    def run() -> tuple[Firing, list[Decision]]:
        firing = run_engine.run(rulebase.program, record)
        return firing, rulebase.resolve(firing, day, record["agency"], known)

    firing, decisions = cases.get(record, day, known, run) if cases is not None else run()
    return Evaluation(scenario_used, day, record["place.county"], record["agency"], firing, decisions, known)
