"""Explanation memos (`policyengine explain`): one memo per action, written for a lawyer.

A memo states the question (from the vocabulary), the facts (stated, from the registry,
derived), the answer, the governing rule with its quoted sources, how each of its
conditions met the facts (the matched tests of the trace), the rules that did not decide
and the doctrine that defeated each (in words), the conclusion, and the jurisdiction's
practice with its sources. Built as blocks, rendered to Markdown or HTML.
"""

from __future__ import annotations

from typing import Any

from policyengine.checked import Conclusion, Rule
from policyengine.conditions import Test
from policyengine.pipeline import Evaluation, Rulebase
from policyengine.report.blocks import RENDER, Doc, Heading, Items, Para, SourceBlock
from policyengine.report.trace import matched_tests
from policyengine.resolve import Decision
from policyengine.strength import (
    STRENGTH_WORDS,
    decision_strength,
    declared_in,
    disclaimer,
    rule_strength,
    source_strength,
)
from policyengine.terms import Practice, Verdict
from policyengine.wording import (
    DOCTRINES,
    LEVEL_WORDS,
    PRACTICE_WORDS,
    VERDICT_WORDS,
    conclusion_words,
    fact_words,
    in_force_words,
    show,
    test_words,
    value_words,
)


class _Memo:
    def __init__(self, ev: Evaluation, rb: Rulebase):
        self.ev, self.rb, self.vocab = ev, rb, rb.vocabulary
        self.facts = ev.firing.facts
        self.compiled = {c.id: c for c in rb.program.rules}

    # -- pieces

    def where(self, fact: str) -> str:
        spec = self.vocab.facts[fact]
        if spec.source == "derived":
            return "derived"
        if spec.source == "registry":
            return "registry"
        return "stated" if fact in self.ev.scenario.facts else "default"

    def rule_label(self, rule: Rule) -> str:
        return f"`{rule.id}` ({LEVEL_WORDS[rule.level]} {rule.kind}, {rule.jurisdiction.label()}): {rule.title}"

    def facts_blocks(self) -> list[Any]:
        stated, registry, derived = [], [], []
        for fact in self.vocab.facts:
            spec = self.vocab.facts[fact]
            value = self.facts.get(fact)
            line = f"{fact_words(self.vocab, fact)}: {value_words(self.vocab, fact, value)}"
            kind = self.where(fact)
            if kind == "stated":
                stated.append(line)
            elif kind == "registry" and value != spec.default:
                registry.append(line)
            elif kind == "derived":
                by = self.ev.firing.derived.get(fact)
                derived.append(
                    f"{line}, derived by " + ", ".join(f"`{r}`" for r in by) if by else f"{line}: no definition applied"
                )
        out: list[Any] = [Heading(2, "Facts"), Para("Stated in the scenario:"), Items(stated)]
        county = self.ev.county
        if registry:
            out += [Para(f"From the jurisdiction registry ({county} County on {self.ev.date.isoformat()}):")]
            out.append(Items(registry))
        else:
            out.append(
                Para(f"The registry records no agreement between {county} County and ICE in force on that date.")
            )
        if derived:
            out += [Para("Derived by definitions:"), Items(derived)]
        out.append(Para("Every other fact takes the vocabulary's default."))
        return out

    def how_met(self, rule: Rule) -> Items:
        items: list[Any] = []
        for test in matched_tests(self.compiled[rule.id].condition, self.facts):
            items.append(self.test_met(test))
        return Items(items or ["The rule has no condition: it applies whenever it is in force and binds the agency."])

    def test_met(self, test: Test) -> str:
        value = self.facts[test.fact]
        spec = self.vocab.facts[test.fact]
        text = f"Condition: {test_words(self.vocab, test)}. "
        kind = self.where(test.fact)
        if kind == "derived":
            by = self.ev.firing.derived.get(test.fact)
            if by:
                return text + "Met: derived by " + ", ".join(f"`{r}`" for r in by) + "."
            definers = [r.id for r in self.rb.rules if test.fact in r.derives]
            names = ", ".join(f"`{r}`" for r in definers) or "no definition"
            return text + f"Met: it was not derived ({names} did not apply), so it is false."
        source = {"stated": "the scenario states", "default": "by default", "registry": "the registry gives"}[kind]
        if spec.type == "date":
            return text + f"Met: the date is {show(value)}."
        return text + f"Met: {source} {value_words(self.vocab, test.fact, value)}."

    def sources(self, rule: Rule) -> list[Any]:
        return [SourceBlock(s.cite, s.url, s.quote, s.note) for s in rule.sources]

    def authorities(self, rule: Rule) -> Items:
        items = []
        for s in rule.sources:
            kind = s.authority.replace("_", " ") + (f" of {s.body}" if s.body else "")
            when = f", {s.issued.isoformat()}" if s.issued else ""
            items.append(f"{s.cite}: {kind}{when}: **{source_strength(s, rule.level)}**")
        return Items(items)

    def authority_words(self, d: Decision) -> str:
        """Which authority decides, by rule: the strongest source of each deciding rule."""
        parts = []
        for rid in d.decided_by:
            rule = self.rb.by_id[rid]
            best = rule_strength(rule)
            top = next(s for s in rule.sources if source_strength(s, rule.level) == best)
            kind = top.authority.replace("_", " ") + (f" of {top.body}" if top.body else "")
            parts.append(f"`{rid}` rests at best on {top.cite} ({kind})")
        return "Deciding authority: " + "; ".join(parts) + "."

    def verdict_of(self, rule: Rule, action: str) -> str:
        c = next((c for c in rule.conclusions if c.action == action), None)
        if c is None:
            return "?"
        return f"{c.value}, leaning {c.leaning}" if c.value == Verdict.CONTESTED else c.value

    # -- the memo

    def build(self, d: Decision) -> Doc:
        ev, vocab = self.ev, self.vocab
        action = vocab.actions[d.action]
        head = ev.scenario.head
        agency = ev.agency
        agency_words = (vocab.facts["agency"].values or {}).get(agency, agency)
        doc = Doc(f"Memo: {action.question}")
        doc.add(Heading(1, f"Memo: {action.question}"))
        place = f"{ev.county} County" + (
            f", {ev.scenario.facts['place.city']}" if ev.scenario.facts.get("place.city", "none") != "none" else ""
        )
        doc.add(
            Items(
                [
                    f"Scenario: {head.title} (`{head.id}`)",
                    f"Date: {ev.date.isoformat()}",
                    f"Law as known on: {ev.known_on.isoformat()}",
                    f"Place: {place}",
                    f"Agency: {agency_words} (`{agency}`)",
                    f"Evaluated by: the {ev.engine} engine",
                ]
            )
        )
        doc.add(Para(f"*{disclaimer(self.rb.rules)}*"))
        doc.add(Heading(2, "Question"), Para(f"{action.question} The action (`{d.action}`): {action.meaning}"))
        doc.add(*self.facts_blocks())
        doc.add(Heading(2, "Answer"), Para(f"**{d.verdict}**. {VERDICT_WORDS[d.verdict]}"))
        if d.verdict == Verdict.CONTESTED:
            doc.add(Para(f"Leaning **{d.leaning}**. Open question: {(d.question or '').strip()}"))
        rules = self.rb.by_id
        strength = decision_strength(rules[r] for r in d.decided_by)
        if strength:
            doc.add(Para(f"Strength: **{strength}**, {STRENGTH_WORDS[strength]}. {self.authority_words(d)}"))
        for rid in d.decided_by:
            rule = rules[rid]
            if rule.declared and rule.declared > ev.date:
                doc.add(
                    Para(
                        f"As declared in {declared_in(rule)}, after the event: a court declares what the law was. "
                        f"Judged with the knowledge of {ev.date.isoformat()} (`--known-on {ev.date.isoformat()}`), "
                        "the answer is what was open then."
                    )
                )
        if d.decided_by:
            doc.add(Heading(2, "Governing rule" + ("s" if len(d.decided_by) > 1 else "")))
            for rid in d.decided_by:
                rule = rules[rid]
                doc.add(Heading(3, self.rule_label(rule)))
                doc.add(
                    Para(
                        f"It concludes {conclusion_words(vocab, rule, _conclusion(rule, d.action))}; "
                        f"{in_force_words(rule)}"
                    )
                )
                doc.add(Para("Sources:"), *self.sources(rule))
                doc.add(Para("The authority of each source:"), self.authorities(rule))
                doc.add(Para("How its conditions met the facts:"), self.how_met(rule))
        if d.conflict:
            doc.add(Heading(2, "Unresolved conflict"))
            doc.add(Para("These rules of the same level disagree and neither overrides the other:"))
            for rid in d.conflict:
                rule = rules[rid]
                doc.add(Heading(3, self.rule_label(rule)), Para(f"It says: {self.verdict_of(rule, d.action)}."))
                doc.add(*self.sources(rule), Para("How its conditions met the facts:"), self.how_met(rule))
        if d.concurring:
            doc.add(Heading(2, "Concurring rules"))
            doc.add(Items([f"{self.rule_label(rules[r])}: says the same" for r in d.concurring]))
        if d.defeated:
            doc.add(Heading(2, "Rules that did not decide"))
            items = []
            for x in d.defeated:
                rule = rules[x.rule]
                by = f" Defeated by `{x.by}`." if x.by else ""
                items.append(
                    f"{self.rule_label(rule)}. It would say **{self.verdict_of(rule, d.action)}**.{by} "
                    f"Doctrine: {DOCTRINES.get(x.doctrine, x.doctrine)}"
                )
            doc.add(Items(items))
        doc.add(Heading(2, "Conclusion"), Para(self.conclusion(d, agency_words, place)))
        doc.add(Heading(2, "Practice"), Para(f"**{d.practice}**. {PRACTICE_WORDS[d.practice]}"))
        for rid in (*d.practice_by, *d.practice_conflict):
            rule = rules[rid]
            doc.add(
                Heading(3, self.rule_label(rule)),
                Para(f"It says: {self.verdict_of(rule, d.action)}; {in_force_words(rule)}"),
            )
            doc.add(*self.sources(rule))
        for flag in d.flags:
            doc.add(Para(f"**Flag:** {flag.replace('_', ' ')}."))
        return doc

    def conclusion(self, d: Decision, agency_words: str, place: str) -> str:
        rules = self.rb.by_id
        when = f"On {self.ev.date.isoformat()}, for the agency `{self.ev.agency}` ({agency_words}) in {place}"
        if d.verdict == Verdict.NOT_ADDRESSED and not d.decided_by:
            return f"{when}, no rule in force addresses `{d.action}`."
        if d.verdict == Verdict.CONFLICT:
            return (
                f"{when}, the law on `{d.action}` is unresolved: "
                + " and ".join(f"`{r}`" for r in d.conflict)
                + " disagree."
            )
        cites = []
        for rid in d.decided_by:
            for s in rules[rid].sources:
                if s.cite not in cites:
                    cites.append(s.cite)
        if d.verdict == Verdict.NOT_ADDRESSED:
            text = f"{when}, the law is silent on `{d.action}`, as the record(s) of silence "
            text += ", ".join(f"`{r}`" for r in d.decided_by) + " find"
        else:
            text = f"{when}, `{d.action}` is **{d.verdict}** under " + ", ".join(f"`{r}`" for r in d.decided_by)
        text += f" ({'; '.join(cites)})."
        beaten = [x for x in d.defeated if x.by]
        if beaten:
            text += " Set aside: " + "; ".join(f"`{x.rule}` ({x.doctrine}, by `{x.by}`)" for x in beaten) + "."
        return text


def _conclusion(rule: Rule, action: str) -> Conclusion:
    return next(c for c in rule.conclusions if c.action == action)


def memo_docs(ev: Evaluation, rb: Rulebase, actions: list[str] | None = None) -> list[Doc]:
    """One memo per action (default: every action the law or a practice speaks to)."""
    m = _Memo(ev, rb)
    out = []
    for d in ev.decisions:
        if actions is not None:
            if d.action in actions:
                out.append(m.build(d))
        elif d.verdict != Verdict.NOT_ADDRESSED or d.decided_by or d.practice != Practice.UNKNOWN:
            out.append(m.build(d))
    return out


def render_memos(docs: list[Doc], fmt: str, title: str) -> str:
    """The memos as one text: Markdown memos separated by rules, or one HTML page holding them all."""
    render = RENDER[fmt]
    if fmt == "html":
        merged = Doc(docs[0].title if len(docs) == 1 else f"Memos: {title}")  # none: an empty page
        for doc in docs:
            merged.add(*doc.blocks)
        return render(merged)
    return "\n---\n\n".join(render(doc) for doc in docs)
