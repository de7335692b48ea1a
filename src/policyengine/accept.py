"""The check stage for scenarios, without pydantic: the facts' check, and a fast acceptor.

A scenario is checked in two parts. Its head (id, title, dates, time, `expect:`) has the shape
of the pydantic models `model.ScenarioHead` and `model.Expectation`; its facts are checked
against the vocabulary and the registry (`stated_facts`, here, used by both paths).

`accept_scenario` is the fast path `run` takes: it accepts a scenario only when it can tell
that the pydantic models would accept its head unchanged, under exactly their rules (strict
types, unknown keys refused, text stripped and not empty, the id and time patterns), and when
its facts have no problem; it then returns the same checked `Scenario` that
`check.check_scenario` would. For anything else (any problem, any value it is not sure of) it
returns None, and the caller takes the pydantic path, whose messages are the only ones a user
ever sees. So pydantic is not imported for a valid scenario, and the models stay the single
source of truth for what is wrong. `tests/test_accept.py` compares both paths on every bundled
scenario, the fuzz corpus and mutated documents.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, get_args

from policyengine.checked import (
    SCENARIO_HEAD_KEYS,
    DecisionVerdict,
    DefeatExpectation,
    Expectation,
    ExpectedPractice,
    FactSpec,
    Registry,
    Scenario,
    ScenarioHead,
    Verdict,
    Vocabulary,
)
from policyengine.errors import Problem
from policyengine.load import Document, Path_

# ------------------------------------------------------------ facts and values


def iso_date(text: str) -> dt.date | str:
    """A quoted ISO date as a date; anything else unchanged, for the model to reject."""
    try:
        return dt.date.fromisoformat(text.strip()) if len(text.strip()) == 10 else text
    except ValueError:
        return text


def allowed_values(vocab: Vocabulary, registry: Registry, fact: str) -> list[str] | None:
    spec = vocab.facts[fact]
    if spec.values_from == "counties":
        return [c.name for c in registry.counties]
    if spec.values_from == "cities":
        return ["none", *(c.name for c in registry.cities)]
    return list(spec.values) if spec.values else None


def check_value(vocab: Vocabulary, registry: Registry, fact: str, value: Any) -> str | None:
    """Why `value` is not a valid value of `fact`, or None when it is."""
    spec: FactSpec = vocab.facts[fact]
    if spec.type == "boolean":
        return None if isinstance(value, bool) else f"'{fact}' takes true or false, not {value!r}"
    if spec.type == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"'{fact}' takes a whole number, not {value!r}"
    if spec.type == "date":
        ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        return None if ok else f"'{fact}' takes a date (YYYY-MM-DD), not {value!r}"
    allowed = allowed_values(vocab, registry, fact) or []
    if value not in allowed:
        from policyengine.names import did_you_mean

        hint = did_you_mean(value, allowed)
        if hint:
            return f"'{value}' is not an allowed value of '{fact}'{hint}"
        shown = ", ".join(map(str, allowed[:12])) + (", ..." if len(allowed) > 12 else "")
        return f"'{value}' is not an allowed value of '{fact}' (allowed: {shown})"
    return None


def head_data(data: Mapping[Any, Any]) -> dict[Any, Any]:
    """The keys of a scenario that make its head, a quoted date read as a date."""
    head = {k: v for k, v in data.items() if k in SCENARIO_HEAD_KEYS}
    if isinstance(head.get("date"), str):  # `date: "2026-02-10"`, quoted (and every JSON date)
        head["date"] = iso_date(head["date"])
    return head


def stated_facts(
    doc: Document,
    vocab: Vocabulary,
    registry: Registry,
    head: ScenarioHead | None,
    problems: list[Problem],
) -> dict[str, Any]:
    """The facts a scenario states, each checked against the vocabulary and the registry; every
    problem appended to `problems`. With the head (None when it was refused): its actions and
    the city's county checked too."""
    from policyengine.names import did_you_mean

    data = doc.data
    groups = {name.split(".", 1)[0] for name in vocab.facts if "." in name}
    facts: dict[str, Any] = {}
    rejected: set[str] = set()  # facts stated but refused: not reported missing as well

    def add(name: str, value: Any, path: Path_) -> None:
        spec = vocab.facts.get(name)
        if spec is None:
            hint = did_you_mean(name, vocab.facts)
            problems.append(
                Problem(doc.file, doc.line(path), f"'{name}' is not a fact in the vocabulary{hint}", "PE102")
            )
        elif spec.source == "derived":
            problems.append(
                Problem(
                    doc.file, doc.line(path), f"'{name}' is derived by the rules; a scenario cannot state it", "PE104"
                )
            )
        elif spec.source == "registry":
            problems.append(
                Problem(
                    doc.file,
                    doc.line(path),
                    f"'{name}' comes from the jurisdiction registry for the scenario's county and date",
                    "PE104",
                )
            )
        elif spec.type == "date" and isinstance(value, str) and isinstance(iso_date(value), dt.date):
            facts[name] = iso_date(value)
        elif (why := check_value(vocab, registry, name, value)) is not None:
            problems.append(Problem(doc.file, doc.line(path), why, "PE103"))
        else:
            facts[name] = value
            return
        rejected.add(name)

    for key, value in data.items():
        if key in SCENARIO_HEAD_KEYS and key != "date":
            continue
        if key == "date":
            continue  # validated as part of the head; entered as a fact below
        if key in groups:
            if not isinstance(value, dict):
                problems.append(Problem(doc.file, doc.line((key,)), f"'{key}' is a group of facts: a mapping", "PE101"))
                continue
            for sub, subvalue in value.items():
                add(f"{key}.{sub}", subvalue, (key, sub))
        elif key in vocab.facts:
            add(key, value, (key,))
        else:
            hint = did_you_mean(key, [*SCENARIO_HEAD_KEYS, *groups, *(f for f in vocab.facts if "." not in f)])
            problems.append(Problem(doc.file, doc.line((key,)), f"unknown key '{key}' in a scenario{hint}", "PE101"))
    for name, spec in vocab.facts.items():
        if spec.required and spec.source == "scenario" and name not in facts and name != "date":
            if name not in rejected:
                problems.append(Problem(doc.file, doc.line(()), f"missing required fact '{name}'", "PE101"))
    if head is not None:
        for action, _ in head.expect.items():
            if action not in vocab.actions:
                hint = did_you_mean(action, vocab.actions)
                problems.append(
                    Problem(
                        doc.file,
                        doc.line(("expect", action)),
                        f"'{action}' is not an action in the vocabulary{hint}",
                        "PE102",
                    )
                )
        if "place.city" in facts and facts["place.city"] != "none" and "place.county" in facts:
            county = {c.name: c.county for c in registry.cities}[facts["place.city"]]
            if county != facts["place.county"]:
                problems.append(
                    Problem(
                        doc.file,
                        doc.line(("place", "city")),
                        f"{facts['place.city']} is in {county} County, not {facts['place.county']}",
                        "PE105",
                    )
                )
    return facts


# ------------------------------------------------------------- the fast acceptor


def accept_scenario(doc: Document, vocab: Vocabulary, registry: Registry) -> Scenario | None:
    """The checked scenario, when the document is certainly valid; None when it may not be
    (then `check.check_scenario` decides, and says what is wrong)."""
    if type(doc.data) is not dict:
        return None
    try:
        head = _head(head_data(doc.data))
    except _Unsure:
        return None
    problems: list[Problem] = []
    facts = stated_facts(doc, vocab, registry, head, problems)
    if problems:
        return None
    facts["date"] = head.date
    return Scenario(head=head, facts=facts, file=doc.file)


class _Unsure(Exception):
    """The value may not be what the pydantic model accepts: leave it to the model."""


# The patterns of model.RuleId and ScenarioHead.time, matched whole and in ASCII only (pydantic's
# regular expressions read `\d` as any Unicode digit and `$` as the very end of the text).
_RULE_ID = re.compile(r"[a-z0-9][a-z0-9._-]*", re.ASCII)
_TIME = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]", re.ASCII)
# Whitespace that Python's str.strip and pydantic's (Rust's trim) both remove.
_EDGE_SPACE = " \t\n\r\x0b\x0c"
_DECISION_VERDICTS = frozenset(get_args(DecisionVerdict))
_PRACTICES = frozenset(get_args(ExpectedPractice))
_LEANINGS = frozenset(get_args(Verdict))
_EXPECTATION_KEYS = frozenset(f.name for f in dataclasses.fields(Expectation))
_DEFEAT_KEYS = frozenset(f.name for f in dataclasses.fields(DefeatExpectation))


def _head(data: dict[Any, Any]) -> ScenarioHead:
    """`model.ScenarioHead`, validated and converted, for a head certainly valid; else _Unsure."""
    if "id" not in data or "title" not in data or "date" not in data:
        raise _Unsure
    expect = data.get("expect", {})
    if type(expect) is not dict:
        raise _Unsure
    return ScenarioHead(
        id=_rule_id(data["id"]),
        title=_text(data["title"]),
        description=_optional(_text, data.get("description")),
        date=_date(data["date"]),
        known_on=_optional(_date, data.get("known_on")),
        time=_optional(_time, data.get("time")),
        expect={_key(action): _expectation(value) for action, value in expect.items()},
        notes=_optional(_text, data.get("notes")),
    )


def _expectation(data: Any) -> Expectation:
    if type(data) is not dict or not all(type(k) is str and k in _EXPECTATION_KEYS for k in data):
        raise _Unsure
    return Expectation(
        verdict=_optional(_one_of(_DECISION_VERDICTS), data.get("verdict")),
        verdict_not=_list(_one_of(_DECISION_VERDICTS), data.get("verdict_not", [])),
        practice=_optional(_one_of(_PRACTICES), data.get("practice")),
        leaning=_optional(_one_of(_LEANINGS), data.get("leaning")),
        decided_by=_list(_rule_id, data.get("decided_by", [])),
        concurring=_list(_rule_id, data.get("concurring", [])),
        defeated=_list(_defeat, data.get("defeated", [])),
        sources_include=_list(_text, data.get("sources_include", [])),
    )


def _defeat(data: Any) -> DefeatExpectation:
    if type(data) is str:  # a bare rule id (model.DefeatExpectation's `_bare_id`)
        data = {"rule": data}
    if type(data) is not dict or "rule" not in data or not all(type(k) is str and k in _DEFEAT_KEYS for k in data):
        raise _Unsure
    return DefeatExpectation(
        rule=_rule_id(data["rule"]),
        doctrine=_optional(_text, data.get("doctrine")),
        by=_optional(_rule_id, data.get("by")),
    )


def _key(value: Any) -> str:
    if type(value) is not str:
        raise _Unsure
    _utf8(value)
    return value


def _text(value: Any) -> str:
    """model.Text: a string, stripped, not empty."""
    if type(value) is not str:
        raise _Unsure
    text = value.strip(_EDGE_SPACE)
    if not text or text[0].isspace() or text[-1].isspace():
        raise _Unsure
    _utf8(text)
    return text


def _utf8(text: str) -> None:
    """pydantic reads text as UTF-8: a lone surrogate (possible in JSON) is left to it."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _Unsure from None


def _rule_id(value: Any) -> str:
    if type(value) is not str or not _RULE_ID.fullmatch(value):
        raise _Unsure
    return value


def _time(value: Any) -> str:
    if type(value) is not str or not _TIME.fullmatch(value):
        raise _Unsure
    return value


def _date(value: Any) -> dt.date:
    if type(value) is not dt.date:
        raise _Unsure
    return value


def _one_of(allowed: frozenset[str]) -> Any:
    def check(value: Any) -> str:
        if type(value) is not str or value not in allowed:
            raise _Unsure
        return value

    return check


def _optional(check: Any, value: Any) -> Any:
    return None if value is None else check(value)


def _list(check: Any, value: Any) -> list[Any]:
    if type(value) is not list:
        raise _Unsure
    return [check(v) for v in value]
