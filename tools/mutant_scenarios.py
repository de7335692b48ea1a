#!/usr/bin/env python3
"""Draft a scenario that kills a surviving condition mutant (`policyengine test --mutations`).

    .venv/bin/python tools/mutant_scenarios.py MUTANT_ID [MUTANT_ID ...]

For a mutant that drops a condition, negates a test or takes a value out of an `in` list, it
looks for a case where the rule as written and the mutant answer differently: the facts of a
bundled scenario, with one tested fact changed (or a court order added, or another county with
a 287(g) agreement), reduced to the facts the difference needs. It then writes
`scenarios/mutants/conditions/<id>.yaml` expecting only what the rule as written says there and
the mutant does not: that the rule decides (or concurs), or the verdict, leaning or practice the
rules give once the rule does not apply. It writes only a scenario that meets its expectation
and kills the mutant. Whether that expectation is the law is the author's call: read each
draft against the rule's sources, add the reason to its comment, and delete a draft that
asserts what no source says (list the mutant in mutants/equivalent.yaml instead).
Not part of the test suite.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import yaml
from boundary_scenarios import _fewest_facts, _kills, _nested, _wrap  # noqa: PLC2701 (a sibling tool)

from policyengine import bundled
from policyengine.check import allowed_values
from policyengine.checked import Scenario
from policyengine.conditions import facts_tested, holds
from policyengine.engine import get_engine
from policyengine.model import Expectation, to_checked
from policyengine.pipeline import evaluate, load_rulebase, load_scenarios
from policyengine.testing.mutations import Mutant, _compiled, mutants, rule_of

OUT = Path(__file__).resolve().parent.parent / "scenarios" / "mutants" / "conditions"
EXTRA = [{"custody.court_order": True}, {"immigration.detainer": "none", "immigration.admin_warrant": "none"}]
AGREEMENT_COUNTIES = ["Crow Wing", "Jackson", "Freeborn", "Cass", "Mille Lacs", "Kandiyohi"]


def _variants(s: Scenario, tested: list[str], rulebase: Any) -> list[dict[str, Any]]:
    out = [dict(s.facts)]
    for f in tested:
        spec = rulebase.vocabulary.facts[f]
        if spec.source != "scenario":
            continue
        values = allowed_values(rulebase.vocabulary, rulebase.registry, f) or (
            [True, False] if spec.type == "boolean" else []
        )
        out += [{**s.facts, f: v} for v in values]
    out += [{**s.facts, **e} for e in EXTRA]
    if any(f.startswith("agreement.") for f in tested):
        for county in AGREEMENT_COUNTIES:
            out += [
                {**s.facts, "place.county": county, "place.city": "none", **a}
                for a in ({}, {"immigration.admin_warrant": "I-200"}, {"immigration.status_element_of_crime": True})
            ]
    return out


def _expectation(m: Mutant, rule: Any, ev: Any, ev2: Any) -> dict[str, Any]:
    fired = m.rule in ev.firing.fired
    expect: dict[str, Any] = {}
    for c in rule.conclusions:
        d1 = next(d for d in ev.decisions if d.action == c.action)
        d2 = next(d for d in ev2.decisions if d.action == c.action)
        e: dict[str, Any] = {}
        if d1.verdict != d2.verdict:
            # where the rule applies, the verdict it gives; where it does not, only that the
            # verdict is not the one the mutant would give (the other rules' answer is not asserted)
            e.update({"verdict": str(d1.verdict)} if fired else {"verdict_not": [str(d2.verdict)]})
        elif d1.leaning != d2.leaning and d1.leaning is not None:
            e["leaning"] = str(d1.leaning)
        if d1.practice != d2.practice:
            e["practice"] = str(d1.practice)
        if fired and m.rule in (*d1.decided_by, *d1.practice_by) and m.rule not in (*d2.decided_by, *d2.practice_by):
            e["decided_by"] = [m.rule]
        elif fired and m.rule in d1.concurring and m.rule not in d2.concurring:
            e["concurring"] = [m.rule]
        if e:
            expect[c.action] = e
    return expect


def main(ids: list[str]) -> int:
    rulebase = load_rulebase()
    engine = get_engine("reference")
    scenarios = load_scenarios([bundled.scenarios_dir()], rulebase)
    by_id = {m.id: m for m in mutants(rulebase, {rule_of(i) for i in ids})}
    OUT.mkdir(parents=True, exist_ok=True)
    for mutant_id in ids:
        m = by_id[mutant_id]
        rule = rulebase.by_id[m.rule]
        mutated = dataclasses.replace(rulebase, rules=m.rules)
        condition = _compiled(m.changed)
        written = None
        for s in scenarios:
            for facts in _variants(s, sorted(facts_tested(rule.when)), rulebase):
                base = Scenario(dataclasses.replace(s.head, expect={}), facts, s.file)
                try:
                    ev = evaluate(base, rulebase, engine)
                except Exception:
                    continue
                if holds(condition, ev.firing.facts) == (m.rule in ev.firing.fired):
                    continue
                expect = _expectation(m, rule, ev, evaluate(base, mutated, engine))
                if not expect:
                    continue
                slug = mutant_id.replace("/", ".").replace(":", ".").replace("[", "-").replace("]", "")
                head = dataclasses.replace(
                    s.head,
                    id=f"mut.{slug}".lower(),
                    expect={a: to_checked(Expectation.model_validate(e)) for a, e in expect.items()},
                )
                candidate = Scenario(head, facts, s.file)
                if not _kills(candidate, m, rulebase, engine):
                    continue
                candidate = _fewest_facts(candidate, m, rulebase, engine, keep_known_on=False)
                written = _write(m, s, candidate, expect)
                break
            if written:
                break
        print(f"wrote {written}" if written else f"skipped {mutant_id}: no case found")
    return 0


def _write(m: Mutant, base: Scenario, s: Scenario, expect: dict[str, Any]) -> Path:
    path = OUT / f"{s.id}.yaml"
    doc: dict[str, Any] = {
        "id": s.id,
        "title": f"{m.rule} as written, where the mutant {m.operator} would change it",
        "description": f"Facts taken from {base.id}. REASON",
        "date": s.head.date,
    }
    if s.head.known_on:
        doc["known_on"] = s.head.known_on
    doc.update(_nested(s.facts))
    doc["expect"] = expect
    header = [
        "# yaml-language-server: $schema=../../../docs/schema/scenario.schema.json",
        f"# Kills the mutant {m.id} ({m.where}: {m.description}).",
    ]
    text = "\n".join(_wrap(line) for line in header) + "\n"
    text += yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)
    path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
