"""Rules and decisions in words, from the vocabulary's own meanings.

Used by the memo (`policyengine explain`) and the rule book (`policyengine rules`), so a
lawyer reads the glossary's words, not engine names.
"""

from __future__ import annotations

from typing import Any

from policyengine.checked import Conclusion, Rule, Vocabulary
from policyengine.conditions import AllOf, AnyOf, Condition, Not, Test, Visitor, as_test
from policyengine.resolve import (
    CONFLICT_ABOVE,
    LAW_SPEAKS,
    LEX_SPECIALIS,
    LEX_SUPERIOR,
    LOCAL_PRACTICE,
    NARROWED,
    NOT_BINDING,
    NOT_DECLARED,
    NOT_IN_FORCE,
    PREEMPTION,
)
from policyengine.terms import Practice, Verdict

VERDICT_WORDS = {
    Verdict.REQUIRED: "The law requires it.",
    Verdict.PERMITTED: "The law permits it (it neither requires nor forbids it).",
    Verdict.PROHIBITED: "The law prohibits it.",
    Verdict.CONTESTED: "The law is contested: authorities disagree or litigation is pending.",
    Verdict.NOT_ADDRESSED: "No rule in force addresses it.",
    Verdict.CONFLICT: "Unresolved: rules of the same level disagree, and neither gives way.",
}
PRACTICE_WORDS = {
    Practice.DOES: "The agency does this.",
    Practice.DOES_NOT: "The agency does not do this.",
    Practice.UNKNOWN: "No sourced policy or practice of this agency on this action is recorded: "
    "its practice is unknown.",
    Practice.CONFLICT: "Sources of the same level disagree about what the agency does.",
}
DOCTRINES = {
    NOT_IN_FORCE: "not in force: the rule did not apply on the scenario's date.",
    NOT_DECLARED: "not yet declared: the authority behind the rule was issued after the day whose knowledge "
    "of the law is applied (`--known-on`); a court declares what the law was, but it was not known then.",
    NOT_BINDING: "does not bind this agency: the rule is addressed to other agencies.",
    LEX_SPECIALIS: "lex specialis: a more specific rule lists this one in its `overrides` and, as the exception "
    "to a general rule, displaces it.",
    LEX_SUPERIOR: "lex superior: law of a higher level of government (federal over state over county over city) "
    "decides this action in a way that binds lower levels, so this rule cannot change the answer.",
    PREEMPTION: "preemption: a higher rule protects this permission, so a lower-level prohibition has no effect.",
    NARROWED: "narrowed by lower law: this higher rule only permits the action (or leaves it contested) and does "
    "not require it, so lower-level law is free to restrict it, and does.",
    CONFLICT_ABOVE: "unresolved conflict above: rules of a higher level disagree, so no lower rule can decide.",
    LOCAL_PRACTICE: "more local practice: what the more local agency does governs, not the wider practice.",
    LAW_SPEAKS: "the law speaks: this record finds the law silent, but another law rule decides the action, and "
    "any law that speaks prevails over a record of silence.",
}
OPS = {
    "eq": "is",
    "neq": "is not",
    "lt": "is less than",
    "lte": "is at most",
    "gt": "is more than",
    "gte": "is at least",
}
DATE_OPS = {"lt": "is before", "lte": "is on or before", "gt": "is after", "gte": "is on or after"}
LEVEL_WORDS = {"federal": "federal", "state": "Minnesota state", "county": "county", "city": "city"}


def show(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def value_words(vocab: Vocabulary, fact: str, value: Any) -> str:
    """`value`, with its meaning where the vocabulary gives one."""
    spec = vocab.facts[fact]
    meaning = (spec.values or {}).get(value) if isinstance(value, str) else None
    return f"`{show(value)}` ({meaning})" if meaning else f"`{show(value)}`"


def fact_words(vocab: Vocabulary, fact: str) -> str:
    meaning = vocab.facts[fact].meaning.rstrip(".")
    return f"{meaning} (`{fact}`)"


def test_words(vocab: Vocabulary, test: Test) -> str:
    spec = vocab.facts[test.fact]
    op = DATE_OPS.get(test.op) if spec.type == "date" else None
    op = op or OPS[test.op]
    return f"{fact_words(vocab, test.fact)} {op} {value_words(vocab, test.fact, test.value)}"


class _Words(Visitor[list[Any]]):
    """A condition as nested list items: (text, [sub-items]) or text."""

    def __init__(self, vocab: Vocabulary):
        self.vocab = vocab

    def test(self, node: Test) -> list[Any]:
        return [test_words(self.vocab, node)]

    def not_(self, node: Not) -> list[Any]:
        return [("None of the following:", self.visit(node.item))]

    def all_of(self, node: AllOf) -> list[Any]:
        return self._group(node.items, "All of the following:", "neq", "is none of")

    def any_of(self, node: AnyOf) -> list[Any]:
        return self._group(node.items, "Any of the following:", "eq", "is one of")

    def _group(self, items: tuple[Condition, ...], heading: str, op: str, list_words: str) -> list[Any]:
        """Tests of one fact against several values read as a list (`in`, `not_in`)."""
        tests = [t for c in items if (t := as_test(c)) is not None]
        facts = {t.fact for t in tests}
        if len(facts) == 1 and len(tests) == len(items) > 1 and {t.op for t in tests} == {op}:
            fact = facts.pop()
            values = ", ".join(value_words(self.vocab, fact, t.value) for t in tests)
            return [f"{fact_words(self.vocab, fact)} {list_words}: {values}"]
        return [(heading, [i for c in items for i in self.visit(c)])]


def condition_items(vocab: Vocabulary, cond: Condition | None) -> list[Any]:
    """A condition as nested list items: (text, [sub-items]) or text."""
    return ["Always (no condition)."] if cond is None else _Words(vocab).visit(cond)


def conclusion_words(vocab: Vocabulary, rule: Rule, c: Conclusion) -> str:
    action = vocab.actions[c.action].meaning.rstrip(".")
    if rule.kind == "law" and c.value == "not_addressed":
        return f"that the law says nothing (**not_addressed**, a sourced record of silence): {action} (`{c.action}`)"
    if rule.kind == "law":
        text = f"**{c.value}**"
        if c.protected:
            text += " (protected against lower-level prohibition)"
        if c.value == Verdict.CONTESTED:
            text += f" (leaning **{c.leaning}**)"
        text += f": {action} (`{c.action}`)"
        if c.value == Verdict.CONTESTED:
            text += f". Open question: {(c.question or '').strip()}"
        return text
    verb = "does" if c.value == "does" else "does not"
    return f"the agency **{verb}**: {action} (`{c.action}`)"


def in_force_words(rule: Rule) -> str:
    f = rule.in_force
    text = f"in force from {f.start.isoformat()}"
    text += f" until {f.until.isoformat()} (exclusive)" if f.until else " (no end date)"
    return text + (f". {f.note.strip()}" if f.note else "")
