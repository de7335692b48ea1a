"""Rules and decisions in words, from the vocabulary's own meanings.

Used by the memo (`policyengine explain`) and the rule book (`policyengine rules`), so a
lawyer reads the glossary's words, not engine names.
"""

from __future__ import annotations

from typing import Any

from policyengine.model import AllOf, AnyOf, Conclusion, Condition, Not, Rule, Test, Vocabulary
from policyengine.resolve import (
    CONFLICT_ABOVE,
    LAW_SPEAKS,
    LEX_SPECIALIS,
    LEX_SUPERIOR,
    LOCAL_PRACTICE,
    NARROWED,
    NOT_BINDING,
    NOT_IN_FORCE,
    PREEMPTION,
)

VERDICT_WORDS = {
    "required": "The law requires it.",
    "permitted": "The law permits it (it neither requires nor forbids it).",
    "prohibited": "The law prohibits it.",
    "contested": "The law is contested: authorities disagree or litigation is pending.",
    "not_addressed": "No rule in force addresses it (where a record of silence decides, that is a sourced finding).",
    "conflict": "Unresolved: rules of the same level disagree, and neither gives way.",
}
PRACTICE_WORDS = {
    "does": "The agency does this.",
    "does_not": "The agency does not do this.",
    "unknown": "No sourced policy or practice of this agency on this action is recorded: its practice is unknown.",
    "conflict": "Sources of the same level disagree about what the agency does.",
}
DOCTRINES = {
    NOT_IN_FORCE: "not in force: the rule did not apply on the scenario's date.",
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


def condition_items(vocab: Vocabulary, cond: Condition | None) -> list:
    """A condition as nested list items: (text, [sub-items]) or text."""
    if cond is None:
        return ["Always (no condition)."]
    if isinstance(cond, Test):
        return [test_words(vocab, cond)]
    if isinstance(cond, Not):
        return [("None of the following:", condition_items(vocab, cond.item))]
    same = {c.fact for c in cond.items if isinstance(c, Test)}
    ops = {c.op for c in cond.items if isinstance(c, Test)}
    if len(same) == 1 and all(isinstance(c, Test) for c in cond.items) and len(cond.items) > 1:
        fact = same.pop()
        values = ", ".join(value_words(vocab, fact, c.value) for c in cond.items)
        if isinstance(cond, AnyOf) and ops == {"eq"}:
            return [f"{fact_words(vocab, fact)} is one of: {values}"]
        if isinstance(cond, AllOf) and ops == {"neq"}:
            return [f"{fact_words(vocab, fact)} is none of: {values}"]
    inner = [i for c in cond.items for i in condition_items(vocab, c)]
    if isinstance(cond, AllOf):
        return [("All of the following:", inner)]
    if isinstance(cond, AnyOf):
        return [("Any of the following:", inner)]
    return []


def conclusion_words(vocab: Vocabulary, rule: Rule, c: Conclusion) -> str:
    action = vocab.actions[c.action].meaning.rstrip(".")
    if rule.kind == "law" and c.value == "not_addressed":
        return f"that the law says nothing (**not_addressed**, a sourced record of silence): {action} (`{c.action}`)"
    if rule.kind == "law":
        text = f"**{c.value}**"
        if c.protected:
            text += " (protected against lower-level prohibition)"
        if c.value == "contested":
            text += f" (leaning **{c.leaning}**)"
        text += f": {action} (`{c.action}`)"
        if c.value == "contested":
            text += f". Open question: {c.question.strip()}"
        return text
    verb = "does" if c.value == "does" else "does not"
    return f"the agency **{verb}**: {action} (`{c.action}`)"


def in_force_words(rule: Rule) -> str:
    f = rule.in_force
    text = f"in force from {f.start.isoformat()}"
    text += f" until {f.until.isoformat()} (exclusive)" if f.until else " (no end date)"
    return text + (f". {f.note.strip()}" if f.note else "")
