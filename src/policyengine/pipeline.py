"""The pipeline end to end: load a rulebase, load scenarios, evaluate one scenario.

load -> model -> check -> compile -> engine -> resolve; reporting is separate
(`policyengine.report`). A Rulebase is built once per process and reused.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from policyengine import bundled
from policyengine.check import (
    check_registry,
    check_rule_file,
    check_rulebase,
    check_scenario,
    check_vocabulary,
)
from policyengine.compile import Program, compile_rules
from policyengine.engine import Engine, Firing, get_engine
from policyengine.errors import InputError, Problem
from policyengine.facts import fact_record
from policyengine.load import Document, display_name, load_yaml, yaml_files
from policyengine.model import Registry, Rule, Scenario, Vocabulary
from policyengine.resolve import Decision, resolve

VOCABULARY_FILE = "vocabulary.yaml"
REGISTRY_FILE = "registry.yaml"


@dataclass(frozen=True)
class Rulebase:
    """Vocabulary, registry and checked rules of one rules directory, compiled once."""

    root: Path
    vocabulary: Vocabulary
    registry: Registry
    rules: tuple[Rule, ...]

    @cached_property
    def program(self) -> Program:
        return compile_rules(list(self.rules))

    @cached_property
    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    @property
    def actions(self) -> list[str]:
        return list(self.vocabulary.actions)

    @cached_property
    def _resolutions(self) -> dict[tuple, tuple[Decision, ...]]:
        return {}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_resolutions", None)  # remembered resolutions stay in the process
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def resolve(self, firing: Firing, day: dt.date, agency: str, known_on: dt.date | None = None) -> list[Decision]:
        """`resolve`, remembered by exactly what it depends on (see `resolution`)."""
        return list(self.resolution(firing, day, agency, known_on))

    def resolution(
        self, firing: Firing, day: dt.date, agency: str, known_on: dt.date | None = None
    ) -> tuple[Decision, ...]:
        """The decisions for what fired, remembered by exactly what `resolve` depends on: the
        rules that fired, which of them are in force on `day`, which were declared by
        `known_on`, and the agency. Many records share these (most fire the same few rules), so
        most resolutions are looked up."""
        by_id = self.by_id
        fired = [by_id[r] for r in firing.fired]
        in_force = tuple(r.in_force.covers(day) for r in fired)
        declared = tuple(known_on is None or r.declared is None or r.declared <= known_on for r in fired)
        key = (firing.fired, in_force, declared, agency)
        found = self._resolutions.get(key)
        if found is None:
            if len(self._resolutions) > 100_000:
                self._resolutions.clear()
            found = self._resolutions[key] = tuple(resolve(firing, by_id, self.actions, day, agency, known_on))
        return found

    @property
    def counties(self) -> list[str]:
        return [c.name for c in self.registry.counties]


def load_rulebase(root: str | Path | None = None) -> Rulebase:
    """Load and check every file of a rules directory (default: the bundled rules), compiled.

    The result is cached between runs (`cache.py`), keyed by the content of every file."""
    from policyengine import cache

    root = Path(root) if root is not None else bundled.rules_dir()
    if not root.is_dir():
        raise InputError.at(str(root), None, "rules directory not found")
    return cache.cached(root, display_name(root), lambda: _compiled(_load_rulebase(root)))


def _compiled(rulebase: Rulebase) -> Rulebase:
    rulebase.program  # noqa: B018  (compiled now, so that the cache holds the Program too)
    rulebase.by_id  # noqa: B018
    return rulebase


def _load_rulebase(root: Path) -> Rulebase:
    files = yaml_files(root)
    vocab_files = [f for f in files if f.name == VOCABULARY_FILE]
    registry_files = [f for f in files if f.name == REGISTRY_FILE]
    for name, found in ((VOCABULARY_FILE, vocab_files), (REGISTRY_FILE, registry_files)):
        if len(found) != 1:
            raise InputError.at(display_name(root), None, f"expected exactly one {name}, found {len(found)}")
    vocabulary = check_vocabulary(_load(vocab_files[0]))
    registry = check_registry(_load(registry_files[0]), vocabulary)
    problems: list[Problem] = []
    rules: list[Rule] = []
    for path in files:
        if path in (vocab_files[0], registry_files[0]):
            continue
        try:
            rules += check_rule_file(_load(path), vocabulary, registry)
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    check_rulebase(rules)
    return Rulebase(root, vocabulary, registry, tuple(rules))


def _load(path: Path):
    """Load a YAML file, naming it as the user would (relative to the working directory)."""
    return load_yaml(path, display=display_name(path))


def scenario_files(paths: list[str | Path]) -> list[Path]:
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
        doc = _load(Path(path))
    return check_scenario(doc, rulebase.vocabulary, rulebase.registry)


def scenario_from_data(doc: Document, rulebase: Rulebase) -> Scenario:
    """A scenario already parsed (e.g. JSON posted to the HTTP API), checked like a file."""
    return check_scenario(doc, rulebase.vocabulary, rulebase.registry)


def load_scenarios(paths: list[str | Path], rulebase: Rulebase) -> list[Scenario]:
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
