"""Rules as JSON (for the HTTP API): each rule's id, conclusions, dates, sources and review,
with its conditions in the same words as the rule book."""

from __future__ import annotations

from typing import Any

from policyengine.checked import Rule, dump
from policyengine.pipeline import Rulebase
from policyengine.rulebook import section_of
from policyengine.wording import condition_items


def _words(items: list) -> list[Any]:
    """The rule book's nested condition list as plain strings and nested lists."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, tuple):
            text, nested = item
            out.append({"text": text, "items": _words(list(nested))})
        else:
            out.append(item)
    return out


def rule_dict(rb: Rulebase, rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rule.id,
        "title": rule.title,
        "kind": rule.kind,
        "level": rule.level,
        "jurisdiction": section_of(rule)[1],
        "binds": list(rule.binds),
        "in_force": {
            "from": rule.in_force.start.isoformat(),
            "until": rule.in_force.until.isoformat() if rule.in_force.until else None,
        },
        "conclusions": [
            {
                k: v
                for k, v in (
                    ("action", c.action),
                    ("value", c.value),
                    ("protected", c.protected or None),
                    ("leaning", c.leaning),
                    ("question", c.question),
                )
                if v is not None
            }
            for c in rule.conclusions
        ],
        "conditions": _words(condition_items(rb.vocabulary, rule.when)),
        "sources": [dump(s, json=True, exclude_none=True) for s in rule.sources],
        "review": dump(rule.review, json=True, exclude_none=True),
        "file": rule.file,
        "line": rule.line,
    }
    for key, value in (("derives", list(rule.derives)), ("overrides", list(rule.overrides)), ("notes", rule.notes)):
        if value:
            out[key] = value
    return out
