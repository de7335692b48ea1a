"""The full fact record for one scenario: stated facts, vocabulary defaults, registry facts.

Every vocabulary fact is present with a strict type before anything reaches an engine
(ENGINE-NOTES: "three meanings of no"). Registry facts (agreements in force for the
scenario's county on its date) come from the jurisdiction registry, never the scenario.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from policyengine.compile import engine_value
from policyengine.model import Registry, Scenario, Vocabulary


def registry_facts(registry: Registry, county: str, day: dt.date) -> dict[str, Any]:
    """Agreements in force for `county` on `day`, as vocabulary facts."""
    facts: dict[str, Any] = {}
    for agreement in registry.agreements:
        if agreement.county != county or not agreement.in_force.covers(day):
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
    stated = dict(scenario.facts)
    if as_of is not None:
        stated["date"] = as_of
    day = stated["date"]
    record: dict[str, Any] = {}
    for name, spec in vocab.facts.items():
        record[name] = stated.get(name, spec.default)
    record.update(registry_facts(registry, record["place.county"], day))
    return {name: engine_value(value) for name, value in record.items()}
