"""The full fact record for one scenario: stated facts, vocabulary defaults, registry facts.

Every vocabulary fact is present with a strict type before anything reaches an engine
(ENGINE-NOTES: "three meanings of no"). Registry facts (agreements in force for the
scenario's county on its date) come from the jurisdiction registry, never the scenario.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from policyengine.checked import Agreement, Registry, Scenario, Vocabulary
from policyengine.compile import engine_value

_AGREEMENTS: dict[int, tuple[Registry, dict[str, list[Agreement]]]] = {}
_DEFAULTS: dict[int, tuple[Vocabulary, dict[str, Any]]] = {}


def _agreements(registry: Registry) -> dict[str, list[Agreement]]:
    """The registry's agreements by county, in registry order (built once per registry)."""
    found = _AGREEMENTS.get(id(registry))
    if found is None or found[0] is not registry:
        by_county: dict[str, list[Agreement]] = {}
        for agreement in registry.agreements:
            by_county.setdefault(agreement.county, []).append(agreement)
        found = _AGREEMENTS[id(registry)] = (registry, by_county)
    return found[1]


def _defaults(vocab: Vocabulary) -> dict[str, Any]:
    """Every vocabulary fact with its default, as engine values, in vocabulary order (built once)."""
    found = _DEFAULTS.get(id(vocab))
    if found is None or found[0] is not vocab:
        defaults = {name: engine_value(spec.default) for name, spec in vocab.facts.items()}
        found = _DEFAULTS[id(vocab)] = (vocab, defaults)
    return found[1]


def registry_facts(registry: Registry, county: str, day: dt.date) -> dict[str, Any]:
    """Agreements in force for `county` on `day`, as vocabulary facts."""
    facts: dict[str, Any] = {}
    for agreement in _agreements(registry).get(county, ()):
        if not agreement.in_force.covers(day):
            continue
        if agreement.kind == "287g":
            facts["agreement.287g_model"] = agreement.model
            facts["agreement.287g_board_approval"] = agreement.board_approval
        elif agreement.kind == "ice_bed_contract":
            facts["agreement.ice_bed_contract"] = True
    return facts


def fact_record(
    scenario: Scenario, vocab: Vocabulary, registry: Registry, as_of: dt.date | None = None
) -> dict[str, Any]:
    """Every vocabulary fact for this scenario, as engine values (dates as ISO strings)."""
    record = dict(_defaults(vocab))
    for name, value in scenario.facts.items():
        if name in record:
            record[name] = value.isoformat() if isinstance(value, dt.date) else value  # engine_value, inline
    day = as_of if as_of is not None else scenario.facts["date"]
    record["date"] = day.isoformat()
    agreements = _agreements(registry).get(record["place.county"])
    if agreements:
        for name, value in registry_facts(registry, record["place.county"], day).items():
            record[name] = engine_value(value)
    return record
