"""Registry agreements and county rules that date the same arrangement differently (PE404).

The registry records when a county's agreement with ICE (an ICE jail-bed contract, a 287(g)
agreement) was in force; a county's practice or policy rules record when its jail housed ICE
detainees or its sheriff operated under 287(g). The two are written from the same sources, so
where they disagree one of them is wrong or the sources disagree, and a lawyer should look:

- a rule says the county does the action on days the registry records no such agreement for
  it, or says its jail does not house ICE detainees on days a bed contract is in force;
- a rule that the county does the action starts, or ends, on a different day than the
  agreement, but less than a year apart: usually one event dated two ways ("since 2017" read
  as Jan. 1, 2017 in one file and Jan. 1, 2018 in the other).

An agreement attested years before the practice rule begins is not flagged: a contract may
precede the first detainee, and a practice rule may cover only the years its source attests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from policyengine.analysis.codes import Finding
from policyengine.checked import Agreement, Rule
from policyengine.rulebase import Rulebase

# the action whose practice each kind of agreement underlies
AGREEMENT_ACTIONS: dict[str, str] = {"ice_bed_contract": "house_ice_detainees", "287g": "operate_287g"}
# a refusal on days the agreement is in force is a disagreement only for bed contracts: a 287(g)
# agreement may be in force and unused (Itasca, Cass)
REFUSAL_CONTRADICTS = {"ice_bed_contract"}
NEAR = dt.timedelta(days=366)

Span = tuple[dt.date, dt.date | None]  # [from, until); until None = still in force


def _span(rule_or_agreement: Rule | Agreement) -> Span:
    return rule_or_agreement.in_force.start, rule_or_agreement.in_force.until


def _uncovered(span: Span, cover: Iterable[Span]) -> list[Span]:
    """The parts of `span` that no span of `cover` covers, in order."""
    start, until = span
    out: list[Span] = []
    for c_start, c_until in sorted(cover, key=lambda s: s[0]):
        if until is not None and c_start >= until:
            break
        if c_until is not None and c_until <= start:
            continue
        if c_start > start:
            out.append((start, c_start))
        if c_until is None:
            return out
        start = max(start, c_until)
        if until is not None and start >= until:
            return out
    out.append((start, until))
    return out


def _overlaps(span: Span, cover: Iterable[Span]) -> list[Span]:
    start, until = span
    out: list[Span] = []
    for c_start, c_until in cover:
        lo = max(start, c_start)
        ends = [d for d in (until, c_until) if d is not None]
        hi = min(ends) if ends else None
        if hi is None or lo < hi:
            out.append((lo, hi))
    return out


def _days(span: Span) -> str:
    start, until = span
    return f"from {start}" if until is None else f"from {start} to {until - dt.timedelta(days=1)}"


def _near_miss(a: dt.date | None, b: dt.date | None) -> bool:
    return a is not None and b is not None and a != b and abs(a - b) < NEAR


def date_findings(rb: Rulebase) -> list[Finding]:
    """PE404 findings: county rules whose dates disagree with the registry's agreements."""
    doc = rb.registry_document
    registry_file = doc.file if doc is not None else "registry.yaml"
    out: list[Finding] = []
    for kind, action in AGREEMENT_ACTIONS.items():
        if action not in rb.vocabulary.actions:
            continue
        for rule in rb.rules:
            county = rule.jurisdiction.county
            if rule.jurisdiction.level != "county" or county is None:
                continue
            values = {str(c.value) for c in rule.conclusions if c.action == action}
            if not values & {"does", "does_not"}:
                continue
            indexed = [(i, a) for i, a in enumerate(rb.registry.agreements) if a.county == county and a.kind == kind]
            spans = [_span(a) for _, a in indexed]
            where = ", ".join(
                f"{registry_file}:{doc.line(('agreements', i)) if doc is not None else '?'}" for i, _ in indexed
            )
            problems: list[str] = []
            if "does" in values:
                for gap in _uncovered(_span(rule), spans):
                    problems.append(f"the registry records no {kind} agreement for {county} {_days(gap)}")
                for _, a in indexed:
                    if _near_miss(rule.in_force.start, a.in_force.start):
                        problems.append(
                            f"it starts on {rule.in_force.start}, the {kind} agreement on {a.in_force.start}"
                        )
                    if _near_miss(rule.in_force.until, a.in_force.until):
                        problems.append(f"it ends on {rule.in_force.until}, the {kind} agreement on {a.in_force.until}")
            if "does_not" in values and kind in REFUSAL_CONTRADICTS:
                for both in _overlaps(_span(rule), spans):
                    problems.append(f"the registry records a {kind} agreement for {county} in force {_days(both)}")
            for problem in problems:
                verb = "does" if "does" in values else "does not"
                out.append(
                    Finding(
                        "PE404",
                        rule.file,
                        rule.line,
                        f"'{rule.id}' says {county} {verb} {action}, but {problem}" + (f" ({where})" if where else ""),
                        (rule.id,),
                    )
                )
    return out
