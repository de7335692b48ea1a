"""The printable rule book (`policyengine rules`): every rule in words, by jurisdiction.

Sections follow the legal order: federal, Minnesota state, the Department of Corrections
(state rules kept under a `doc/` directory), each county, each city. Each rule shows its
title, its conclusion in plain English, its conditions in the vocabulary's words, when it
is in force, its sources with quotes and links, and its review status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policyengine.checked import Rule
from policyengine.pipeline import Rulebase
from policyengine.report.blocks import Doc, Heading, Items, Para, SourceBlock
from policyengine.wording import conclusion_words, condition_items, fact_words, in_force_words

DOC_SECTION = "Minnesota Department of Corrections"


def section_of(rule: Rule) -> tuple[int, str]:
    """(order, heading) of the section a rule belongs to."""
    j = rule.jurisdiction
    if j.level == "federal":
        return 0, "United States (federal law)"
    if j.level == "state":
        if "doc" in Path(rule.file).parts[:-1]:
            return 2, DOC_SECTION
        return 1, "State of Minnesota"
    if j.level == "county":
        return 3, f"{j.county} County"
    return 4, f"City of {j.city}"


def section_anchor(heading: str) -> str:
    """A stable anchor for a rule book section: `section-` and the heading in lower case."""
    return "section-" + "-".join("".join(c if c.isalnum() else " " for c in heading.lower()).split())


def _wanted(rule: Rule, wanted: str | None) -> bool:
    if not wanted:
        return True
    w = wanted.strip().lower()
    j = rule.jurisdiction
    _, heading = section_of(rule)
    names = {heading.lower(), j.level}
    if heading == DOC_SECTION:
        names |= {"doc", "department of corrections"}
        names.discard("state")
    if j.level == "county":
        names |= {(j.county or "").lower(), f"{(j.county or '').lower()} county"}
    if j.level == "city":
        names.add((j.city or "").lower())
    return w in names


def _agencies(rb: Rulebase, rule: Rule) -> str:
    words = rb.vocabulary.facts["agency"].values or {}
    return "; ".join(f"{words.get(a, a)} (`{a}`)" for a in rule.binds) or "every agency (a definition)"


def rule_blocks(rb: Rulebase, rule: Rule) -> list[Any]:
    vocab = rb.vocabulary
    out: list[Any] = [Heading(3, rule.title, anchor=rule.id)]
    facts = [f"Id: `{rule.id}` ({rule.kind}); file {rule.file}, line {rule.line}"]
    if rule.kind == "definition":
        facts.append("Defines: " + "; ".join(f"{fact_words(vocab, f)} is true" for f in rule.derives))
    else:
        facts.append("Concludes: " + "; ".join(conclusion_words(vocab, rule, c) for c in rule.conclusions))
        facts.append(f"Binds: {_agencies(rb, rule)}")
    j = rule.jurisdiction
    if j.level == "county":
        facts.append(f"Applies only in {j.county} County")
    elif j.level == "city":
        facts.append(f"Applies only in the City of {j.city}")
    facts.append(f"In force: {in_force_words(rule)}")
    if rule.declared:
        facts.append(
            f"Declared: {rule.declared.isoformat()} (its authority was issued then; an earlier --known-on drops it)"
        )
    if rule.overrides:
        facts.append("Overrides (as an exception to): " + ", ".join(f"`{o}`" for o in rule.overrides))
    review = rule.review
    text = f"Review: **{review.status}**"
    if review.reviewer:
        text += f" by {review.reviewer}"
    if review.date:
        text += f" on {review.date.isoformat()}"
    if review.note:
        text += f". {review.note.strip()}"
    facts.append(text)
    out.append(Items(facts))
    out += [Para("When it applies:"), Items(condition_items(vocab, rule.when))]
    out.append(Para("Sources:"))
    for s in rule.sources:
        note = " ".join(x for x in (f"Confidence {s.confidence}." if s.confidence else None, s.note) if x)
        out.append(SourceBlock(s.cite, s.url, s.quote, note or None))
    if rule.notes:
        out.append(Para(f"*Notes:* {rule.notes.strip()}"))
    return out


def rulebook(rb: Rulebase, jurisdiction: str | None = None) -> Doc:
    rules = [r for r in rb.rules if _wanted(r, jurisdiction)]
    sections: dict[tuple[int, str], list[Rule]] = {}
    for rule in rules:
        sections.setdefault(section_of(rule), []).append(rule)
    doc = Doc("Rule book: Minnesota cooperation with federal immigration enforcement")
    doc.add(Heading(1, doc.title))
    counts = {s: sum(r.review.status == s for r in rules) for s in ("draft", "reviewed", "approved")}
    doc.add(
        Para(
            f"{len(rules)} rules: {counts['approved']} approved, {counts['reviewed']} reviewed, "
            f"{counts['draft']} draft (not yet reviewed by a lawyer). Generated from the rule files; "
            "the files are the authority."
        )
    )
    for key in sorted(sections):
        doc.add(Heading(2, key[1], anchor=section_anchor(key[1])))
        for rule in sorted(sections[key], key=lambda r: (r.kind != "law", r.id)):
            doc.add(*rule_blocks(rb, rule))
    return doc
