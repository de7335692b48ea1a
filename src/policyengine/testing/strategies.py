"""Hypothesis strategies: valid scenarios generated from the vocabulary and the registry.

Every fact a scenario may state is drawn from its allowed values (counties and cities
from the registry, a city only together with its own county), dates across 2012-2027.
Any fact can be pinned or given its own strategy. Needs the `test` extra (hypothesis).

A falsifying example can be kept as a regression scenario: `save_regression` writes it,
with the expectation the property demands, as a scenario file in `tests/regressions/`,
which the pytest plugin runs like any other scenario.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from policyengine.check import allowed_values
from policyengine.checked import Scenario, ScenarioHead
from policyengine.pipeline import Rulebase

FIRST_DAY = dt.date(2012, 1, 1)
LAST_DAY = dt.date(2027, 12, 31)
REGRESSIONS = Path("tests") / "regressions"


def scenario_facts_of(rulebase: Rulebase) -> list[str]:
    """Facts a scenario states itself (not registry facts, not derived facts)."""
    return [name for name, spec in rulebase.vocabulary.facts.items() if spec.source == "scenario"]


def _values(rulebase: Rulebase, fact: str) -> st.SearchStrategy[Any]:
    spec = rulebase.vocabulary.facts[fact]
    if spec.type == "date":
        return st.dates(FIRST_DAY, LAST_DAY)
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "integer":
        return st.integers(min_value=0, max_value=10_000)
    return st.sampled_from(sorted(allowed_values(rulebase.vocabulary, rulebase.registry, fact) or [], key=str))


def city_values(rulebase: Rulebase, county: str) -> list[str]:
    """`none` and every registry city in `county`."""
    return ["none"] + sorted(c.name for c in rulebase.registry.cities if c.county == county)


def _as_strategy(value: Any) -> st.SearchStrategy[Any]:
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


@st.composite
def facts(draw: st.DrawFn, /, rulebase: Rulebase, **pinned: Any) -> dict[str, Any]:
    """Every scenario fact, each from its allowed values; `pinned` maps a fact (with `__`
    for `.`, e.g. `immigration__detainer`) to a value or a strategy."""
    given = {name.replace("__", "."): _as_strategy(v) for name, v in pinned.items()}
    unknown = set(given) - set(scenario_facts_of(rulebase))
    if unknown:
        raise ValueError(f"not scenario facts: {sorted(unknown)}")
    out: dict[str, Any] = {}
    for name in scenario_facts_of(rulebase):
        if name == "place.city":
            continue
        out[name] = draw(given.get(name, _values(rulebase, name)))
    if "place.city" in scenario_facts_of(rulebase):
        city = given.get("place.city", st.sampled_from(city_values(rulebase, out["place.county"])))
        out["place.city"] = draw(city)
    return out


def scenario_from(
    facts_: dict[str, Any], scenario_id: str = "generated", title: str = "A generated scenario"
) -> Scenario:
    head = ScenarioHead(id=scenario_id, title=title, date=facts_["date"])
    return Scenario(head=head, facts=dict(facts_), file="<generated>")


def scenarios(rulebase: Rulebase, **pinned: Any) -> st.SearchStrategy[Scenario]:
    """Valid scenarios of `rulebase` (see `facts` for pinning facts)."""
    return facts(rulebase, **pinned).map(scenario_from)


def with_fact(scenario: Scenario, fact: str, value: Any) -> Scenario:
    """The same scenario with one fact changed."""
    changed = dict(scenario.facts)
    changed[fact] = value
    return Scenario(scenario.head, changed, scenario.file)


# ------------------------------------------------------------- regressions


def scenario_document(
    scenario: Scenario,
    scenario_id: str | None = None,
    expect: dict[str, Any] | None = None,
    notes: str | None = None,
    rulebase: Rulebase | None = None,
) -> dict[str, Any]:
    """A scenario as the mapping a scenario file holds (facts grouped as `person: {...}`);
    with `rulebase`, facts equal to their vocabulary default are left out."""
    doc: dict[str, Any] = {"id": scenario_id or scenario.id, "title": scenario.head.title}
    doc["date"] = scenario.facts["date"]
    specs = rulebase.vocabulary.facts if rulebase else {}
    for name, value in sorted(scenario.facts.items()):
        if name == "date":
            continue
        if name in specs and not specs[name].required and specs[name].default == value:
            continue
        if "." in name:
            group, key = name.split(".", 1)
            doc.setdefault(group, {})[key] = value
        else:
            doc[name] = value
    if expect:
        doc["expect"] = expect
    if notes:
        doc["notes"] = notes
    return doc


def scenario_yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def save_regression(
    scenario: Scenario,
    prop: str,
    expect: dict[str, dict[str, Any]],
    why: str,
    directory: str | Path = REGRESSIONS,
    rulebase: Rulebase | None = None,
) -> Path:
    """Write a falsifying scenario as a regression scenario file; return its path.

    The file is named after the property and a digest of the facts, so saving the same
    example twice writes one file. `expect` is what the property demands of it.
    """
    digest = hashlib.sha256(repr(sorted(scenario.facts.items())).encode()).hexdigest()[:10]
    scenario_id = f"regression-{prop}-{digest}"
    notes = f"Saved by the Hypothesis property '{prop}' when it failed: {why}"
    doc = scenario_document(scenario, scenario_id, expect, notes, rulebase)
    doc["title"] = f"Regression: falsifying example of {prop}"
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{scenario_id}.yaml"
    path.write_text(scenario_yaml(doc), encoding="utf-8")
    return path


def is_final_example() -> bool:
    """True while Hypothesis replays the minimal falsifying example (save it only then)."""
    try:
        from hypothesis.control import current_build_context

        return bool(current_build_context().is_final)
    except Exception:
        return False
