"""Structural checks across the rules of a rulebase, without evaluating any scenario.

Sources that quote nothing (PE202), strong verdicts on hearsay alone (PE203), overrides that
can never take effect (PE402),
circular overrides (PE302), and reviews that no longer match the rule (PE601, PE602).
"""

from __future__ import annotations

import datetime as dt

from policyengine.analysis.codes import Finding
from policyengine.checked import Rule
from policyengine.review import written_rules
from policyengine.rulebase import Rulebase
from policyengine.strength import rests_only_on_hearsay


def overlap(a: Rule, b: Rule) -> tuple[dt.date, dt.date | None] | None:
    """The days both rules are in force, as [start, until), or None."""
    start = max(a.in_force.start, b.in_force.start)
    ends = [d for d in (a.in_force.until, b.in_force.until) if d is not None]
    until = min(ends) if ends else None
    return None if until is not None and until <= start else (start, until)


def same_place(a: Rule, b: Rule) -> bool:
    """Whether some place can lie in both rules' geographic scope."""
    ja, jb = a.jurisdiction, b.jurisdiction
    if ja.county and jb.county and ja.level == jb.level == "county" and ja.county != jb.county:
        return False
    if ja.level == jb.level == "city" and ja.city != jb.city:
        return False
    return True


def structure_findings(rb: Rulebase) -> list[Finding]:
    out: list[Finding] = []
    by_id = rb.by_id
    for rule in rb.rules:
        if not any(s.quote for s in rule.sources):
            out.append(
                Finding("PE202", rule.file, rule.line, f"'{rule.id}': no source quotes the words relied on", (rule.id,))
            )
        strong = sorted({str(c.value) for c in rule.conclusions if c.value in ("required", "prohibited")})
        if rule.is_law and strong and rests_only_on_hearsay(rule):
            kinds = ", ".join(sorted({str(s.authority) for s in rule.sources}))
            out.append(
                Finding(
                    "PE203",
                    rule.file,
                    rule.line,
                    f"'{rule.id}' concludes {' and '.join(strong)} on {kinds} alone: no law, court or official "
                    "opinion behind it",
                    (rule.id,),
                )
            )
        for target in rule.overrides:
            other = by_id[target]
            actions = {c.action for c in rule.conclusions} & {c.action for c in other.conclusions}
            why = None
            if overlap(rule, other) is None:
                why = "the two are never in force on the same day"
            elif not set(rule.binds) & set(other.binds):
                why = "they bind no agency in common"
            elif not actions:
                why = "they decide no action in common"
            elif not same_place(rule, other):
                why = "they apply in different places"
            if why:
                out.append(
                    Finding(
                        "PE402",
                        rule.file,
                        rule.line,
                        f"'{rule.id}' overrides '{target}' but {why}",
                        (rule.id, target),
                    )
                )
    out += _override_cycles(rb)
    out += _review(rb)
    return out


def _override_cycles(rb: Rulebase) -> list[Finding]:
    out, seen = [], set()
    for rule in sorted(rb.rules, key=lambda r: r.id):
        trail = [rule.id]
        stack = [(rule.id, iter(sorted(rule.overrides)))]
        while stack:
            node, children = stack[-1]
            nxt = next(children, None)
            if nxt is None:
                stack.pop()
                trail.pop()
                continue
            if nxt == rule.id:
                cycle = frozenset(trail)
                if cycle not in seen:
                    seen.add(cycle)
                    text = " -> ".join([*trail, rule.id])
                    out.append(Finding("PE302", rule.file, rule.line, f"circular overrides: {text}", tuple(trail)))
                continue
            if nxt in trail or nxt not in rb.by_id:
                continue
            trail.append(nxt)
            stack.append((nxt, iter(sorted(rb.by_id[nxt].overrides))))
    return out


def _review(rb: Rulebase) -> list[Finding]:
    out = []
    written = written_rules(rb.documents)
    for rule in rb.rules:
        review = rule.review
        if review.status == "draft":
            continue
        current = written[rule.id].hash
        if review.hash is not None and review.hash != current:
            out.append(
                Finding(
                    "PE601",
                    rule.file,
                    rule.line,
                    f"'{rule.id}' is {review.status} with hash {review.hash}, but its content now hashes to "
                    f"{current}: it changed after review",
                    (rule.id,),
                )
            )
        missing = [k for k in ("reviewer", "date", "hash") if getattr(review, k) is None]
        if missing:
            out.append(
                Finding(
                    "PE602",
                    rule.file,
                    rule.line,
                    f"'{rule.id}' is {review.status} but its review records no {', '.join(missing)}",
                    (rule.id,),
                )
            )
    return out
