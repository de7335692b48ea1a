"""The pipeline end to end: load a rulebase, load scenarios, evaluate one scenario.

load -> model -> check -> compile -> engine -> resolve; reporting is separate
(`policyengine.report`). A Rulebase is built once per process and reused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from policyengine.check import check_scenario
from policyengine.engine import Engine, Firing, get_engine
from policyengine.errors import InputError
from policyengine.facts import fact_record
from policyengine.load import yaml_files
from policyengine.model import Scenario
from policyengine.resolve import Decision, resolve
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
        if p.is_dir():
            out += yaml_files(p)
        else:
            out.append(p)
    return out


def load_scenario(path: str | Path, rulebase: Rulebase) -> Scenario:
    return check_scenario(load_document(Path(path)), rulebase.vocabulary, rulebase.registry)


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


@dataclass(frozen=True)
class Evaluation:
    """One scenario evaluated: the facts used, what fired, and the decisions."""

    scenario: Scenario
    date: dt.date
    county: str
    agency: str
    firing: Firing
    decisions: list[Decision]

    @property
    def engine(self) -> str:
        return self.firing.engine


def evaluate(
    scenario: Scenario,
    rulebase: Rulebase,
    engine: Engine | None = None,
    as_of: dt.date | None = None,
    county: str | None = None,
) -> Evaluation:
    """Evaluate one scenario; `as_of` replaces its date, `county` its county."""
    engine = engine or get_engine()
    facts = dict(scenario.facts)
    if county is not None:
        facts["place.county"] = county
        facts["place.city"] = "none"
    scenario_used = Scenario(scenario.head, facts, scenario.file)
    record = fact_record(scenario_used, rulebase.vocabulary, rulebase.registry, as_of)
    firing = engine.run(rulebase.program, record)
    day = as_of or scenario.head.date
    decisions = resolve(firing, rulebase.by_id, rulebase.actions, day, record["agency"])
    return Evaluation(scenario_used, day, record["place.county"], record["agency"], firing, decisions)
