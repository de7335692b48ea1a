#!/usr/bin/env python3
"""Draft boundary scenarios for surviving date mutants (`policyengine test --mutations`).

    .venv/bin/python tools/boundary_scenarios.py MUTANT_ID [MUTANT_ID ...]

For a mutant that moves a rule's `in_force.from`, `in_force.until` or `declared` by a year, it
writes `scenarios/mutants/dates/<id>.yaml`: the facts of a bundled scenario in which the rule
applies, dated on the boundary the rule states, expecting only what that dated boundary says:

- the day before `from`, or on `until`: the rule is `not in force`;
- known on the day before `declared`: the rule is `not yet declared`;
- on `from`, the day before `until`, or known on `declared`: the rule takes part (it decides,
  concurs, or is set aside by the doctrine the rules give there, which the draft names).

It writes only a scenario that meets its expectation on the rules and kills the mutant, and
prints what it skipped and why. The drafts restate dates the rule files give and source; which
boundaries are worth a scenario (a date of law, not an approximate date of a report) is the
author's call: name only those. Not part of the test suite.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import yaml

from policyengine import bundled
from policyengine.checked import Scenario
from policyengine.engine import get_engine
from policyengine.expect import evaluate_expectations
from policyengine.model import Expectation, to_checked
from policyengine.pipeline import evaluate, load_rulebase, load_scenarios
from policyengine.resolve import Decision
from policyengine.terms import Doctrine
from policyengine.testing.mutations import Mutant, mutants, rule_of, run_mutations

OUT = Path(__file__).resolve().parent.parent / "scenarios" / "mutants" / "dates"
DAY = dt.timedelta(days=1)


def _part(decision: Decision, rule: str) -> dict[str, Any] | None:
    """How the rule takes part in a decision, as an expectation (None: it does not)."""
    if rule in decision.decided_by or rule in decision.practice_by:
        return {"decided_by": [rule]}
    if rule in decision.concurring:
        return {"concurring": [rule]}
    for d in (*decision.defeated, *decision.practice_defeated):
        if d.rule == rule and d.doctrine not in (Doctrine.NOT_IN_FORCE, Doctrine.NOT_DECLARED):
            return {"defeated": [{"rule": rule, "doctrine": str(d.doctrine), **({"by": d.by} if d.by else {})}]}
    return None


def _nested(facts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in facts.items():
        if name == "date":
            continue
        value = value.isoformat() if isinstance(value, dt.date) else value
        if "." in name:
            group, key = name.split(".", 1)
            out.setdefault(group, {})[key] = value
        else:
            out[name] = value
    return out


def _plan(m: Mutant, rule: Any) -> tuple[str, dt.date | None, dt.date | None, str | None, str]:
    """(what, date, known_on, doctrine expected or None for taking part, words for the boundary)."""
    kind = m.operator
    f = rule.in_force
    if kind == "from-earlier":
        return kind, f.start - DAY, None, Doctrine.NOT_IN_FORCE, f"the day before it comes into force ({f.start})"
    if kind == "from-later":
        return kind, f.start, None, None, f"the day it comes into force ({f.start})"
    if kind == "until-earlier":
        return kind, f.until - DAY, None, None, f"its last day in force (until {f.until}, exclusive)"
    if kind == "until-later":
        return kind, f.until, None, Doctrine.NOT_IN_FORCE, f"the day it is no longer in force ({f.until})"
    if kind == "declared-earlier":
        day = rule.declared - DAY
        return (
            kind,
            day,
            day,
            Doctrine.NOT_DECLARED,
            f"the day before it was declared ({rule.declared}), as known that day",
        )
    return kind, rule.declared, rule.declared, None, f"the day it was declared ({rule.declared}), as known that day"


def main(ids: list[str]) -> int:
    rulebase = load_rulebase()
    engine = get_engine("reference")
    scenarios = [s for s in load_scenarios([bundled.scenarios_dir()], rulebase) if s.head.expect]
    by_id = {m.id: m for m in mutants(rulebase, {rule_of(i) for i in ids})}
    OUT.mkdir(parents=True, exist_ok=True)
    for mutant_id in ids:
        m = by_id.get(mutant_id)
        if m is None:
            print(f"skipped {mutant_id}: no such mutant")
            continue
        rule = rulebase.by_id[m.rule]
        kind, day, known, doctrine, words = _plan(m, rule)
        written = None
        # a declared date is tried first as the event's own day; where the rule cannot apply on
        # that day (not yet in force, or no agreement then), on a bundled scenario's own day
        plans = [(day, words)]
        if kind.startswith("declared"):
            before = "the day before" if kind == "declared-earlier" else "the day"
            plans.append(
                (None, f"a later event, judged with the law as known {before} it was declared ({rule.declared})")
            )
        for (day, words), base in ((p, b) for p in plans for b in scenarios):
            if written:
                break
            when = day or base.head.date
            knowledge = known or base.head.known_on
            if not rule.in_force.covers(when) and day is None:
                continue
            ev = evaluate(base, rulebase, engine, as_of=when, known_on=knowledge)
            if m.rule not in ev.firing.fired:
                continue
            expect: dict[str, Any] = {}
            for c in rule.conclusions:
                decision = next(d for d in ev.decisions if d.action == c.action)
                if doctrine is not None:
                    if any(
                        d.rule == m.rule and d.doctrine == doctrine
                        for d in decision.defeated + decision.practice_defeated
                    ):
                        expect[c.action] = {"defeated": [{"rule": m.rule, "doctrine": str(doctrine)}]}
                elif (part := _part(decision, m.rule)) is not None:
                    expect[c.action] = part
            if not expect:
                continue
            facts = {**base.facts, "date": when}
            if when < I247A_FROM and facts.get("immigration.detainer") == "I-247A":
                facts["immigration.detainer"] = "I-247"  # the form of the time
            head = dataclasses.replace(
                base.head,
                id=f"mut.{m.rule}.{kind}",
                date=when,
                known_on=knowledge,
                expect={a: to_checked(Expectation.model_validate(e)) for a, e in expect.items()},
            )
            candidate = Scenario(head, facts, base.file)
            if not _kills(candidate, m, rulebase, engine):
                continue
            candidate = _fewest_facts(candidate, m, rulebase, engine, keep_known_on=known is not None)
            written = _write(m, rule, base, candidate, expect, words)
        print(f"wrote {written}" if written else f"skipped {mutant_id}: no bundled scenario's facts tell it apart")
    return 0


I247A_FROM = dt.date(2017, 4, 2)
KEEP = {"date", "agency", "place.county"}


def _kills(candidate: Scenario, m: Mutant, rulebase: Any, engine: Any) -> bool:
    """The scenario meets its expectations on the rules and fails them on the mutant."""
    try:
        if evaluate_expectations(candidate, rulebase, engine).failures:
            return False
    except Exception:  # a fact left out that the scenario needs
        return False
    report = run_mutations([candidate], rulebase, engine, only={m.rule})
    return any(r.mutant.id == m.id and r.killed for r in report.results)


def _fewest_facts(s: Scenario, m: Mutant, rulebase: Any, engine: Any, keep_known_on: bool) -> Scenario:
    """The scenario without every stated fact (and date of knowledge) it does not need."""
    if not keep_known_on and s.head.known_on is not None:
        lighter = Scenario(dataclasses.replace(s.head, known_on=None), s.facts, s.file)
        if _kills(lighter, m, rulebase, engine):
            s = lighter
    for name in list(s.facts):
        if name in KEEP:
            continue
        lighter = Scenario(s.head, {k: v for k, v in s.facts.items() if k != name}, s.file)
        if _kills(lighter, m, rulebase, engine):
            s = lighter
    return s


def _write(m: Mutant, rule: Any, base: Scenario, s: Scenario, expect: dict[str, Any], words: str) -> Path:
    path = OUT / f"{s.id}.yaml"
    source = rule.sources[0].cite
    doc: dict[str, Any] = {
        "id": s.id,
        "title": f"{rule.id}: {words}",
        "description": (
            f"Facts taken from {base.id}; {words}. The rule's dates as written ({rule.file}): in force "
            f"from {rule.in_force.start}"
            + (f" until {rule.in_force.until}" if rule.in_force.until else "")
            + (f", declared {rule.declared}" if rule.declared else "")
            + f"; first source: {source}."
        ),
        "date": s.head.date,
    }
    if s.head.known_on:
        doc["known_on"] = s.head.known_on
    doc.update(_nested(s.facts))
    doc["expect"] = expect
    note = (rule.in_force.note or "").strip().replace("\n", " ")
    header = [
        "# yaml-language-server: $schema=../../../docs/schema/scenario.schema.json",
        f"# Kills the mutant {m.id} ({m.where}: {m.description}).",
        "# The expectation restates the rule's own dated boundary; it asserts nothing about the other",
        "# rules. Drafted by tools/boundary_scenarios.py from the facts of the named scenario.",
    ]
    if note:
        header.append(f"# The rule's note on its dates: {note}")
    text = "\n".join(_wrap(line) for line in header) + "\n"
    text += yaml.dump(doc, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)
    path.write_text(text, encoding="utf-8")
    return path


class _NoAliases(yaml.SafeDumper):
    """Scenario files may not use YAML aliases (the loader refuses them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _wrap(line: str, width: int = 100) -> str:
    if len(line) <= width:
        return line
    words, out, current = line[2:].split(" "), [], "#"
    for w in words:
        if len(current) + 1 + len(w) > width:
            out.append(current)
            current = "#"
        current += " " + w
    out.append(current)
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
