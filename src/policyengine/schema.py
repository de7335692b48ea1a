"""JSON Schemas for rule files and scenario files, for editors and for tests.

The shapes come from the pydantic models (model.py); the names and values come from the
vocabulary and the registry: which facts a condition may test and with which values,
which actions a rule may decide, which agencies it may bind, which facts a scenario may
state. An editor with yaml-language-server then flags most mistakes as they are typed.
The schemas are a convenience: `policyengine check` remains the authority.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from policyengine.check import LAW_VERDICTS, PRACTICES, allowed_values
from policyengine.model import NOT_ADDRESSED, Expectation, RuleFile, ScenarioHead
from policyengine.pipeline import Rulebase

DRAFT = "https://json-schema.org/draft/2020-12/schema"
RULES_FILE = "rules.schema.json"
SCENARIO_FILE = "scenario.schema.json"


def _value_schema(rb: Rulebase, fact: str) -> dict[str, Any]:
    spec = rb.vocabulary.facts[fact]
    if spec.type == "boolean":
        return {"type": "boolean"}
    if spec.type == "integer":
        return {"type": "integer"}
    if spec.type == "date":
        return {"type": "string", "format": "date"}
    return {"enum": allowed_values(rb.vocabulary, rb.registry, fact)}


def _test_schema(rb: Rulebase, fact: str) -> dict[str, Any]:
    """A leaf test: `fact: value`, or one operator (`not`, `in`, `not_in`, comparisons)."""
    value = _value_schema(rb, fact)
    ops: dict[str, Any] = {
        "not": value,
        "in": {"type": "array", "items": value, "minItems": 1},
        "not_in": {"type": "array", "items": value, "minItems": 1},
    }
    spec = rb.vocabulary.facts[fact]
    if spec.type in ("date", "integer"):
        ops.update({op: value for op in ("lt", "lte", "gt", "gte")})
    if spec.type == "date":
        ops.update({"before": value, "after": value})
    return {
        "description": spec.meaning,
        "anyOf": [
            value,
            {
                "type": "object",
                "properties": ops,
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,
            },
        ],
    }


def _condition_defs(rb: Rulebase) -> dict[str, Any]:
    ref = {"$ref": "#/$defs/Condition"}
    props: dict[str, Any] = {
        "all": {"type": "array", "items": ref, "minItems": 1, "description": "every condition holds"},
        "any": {"type": "array", "items": ref, "minItems": 1, "description": "at least one condition holds"},
        "not": {**ref, "description": "the condition does not hold"},
    }
    for fact in rb.vocabulary.facts:
        props[fact] = _test_schema(rb, fact)
    return {
        "Condition": {
            "description": "all, any, not, and tests on one vocabulary fact (a list means all)",
            "anyOf": [
                {"type": "array", "items": ref, "minItems": 1},
                {"type": "object", "properties": props, "additionalProperties": False, "minProperties": 1},
            ],
        }
    }


def _then_schema(rb: Rulebase) -> dict[str, Any]:
    verdict_object = {
        "type": "object",
        "properties": {
            "verdict": {"enum": [*LAW_VERDICTS, NOT_ADDRESSED]},
            "protected": {"type": "boolean"},
            "leaning": {"enum": ["required", "permitted", "prohibited"]},
            "question": {"type": "string", "minLength": 1},
        },
        "required": ["verdict"],
        "additionalProperties": False,
    }
    props: dict[str, Any] = {}
    for action, spec in rb.vocabulary.actions.items():
        props[action] = {
            "description": spec.meaning,
            "anyOf": [{"enum": [*LAW_VERDICTS, NOT_ADDRESSED, *PRACTICES]}, verdict_object],
        }
    for fact, fact_spec in rb.vocabulary.facts.items():
        if fact_spec.source == "derived":
            props[fact] = {"description": fact_spec.meaning, "const": True}
    return {
        "description": (
            "law: action -> verdict (not_addressed: a sourced record of silence); "
            "policy/practice: action -> does|does_not; definition: fact -> true"
        ),
        "type": "object",
        "properties": props,
        "additionalProperties": False,
        "minProperties": 1,
    }


def rules_schema(rb: Rulebase) -> dict[str, Any]:
    """The schema of a rule file, with the vocabulary's names and values."""
    schema = RuleFile.model_json_schema(by_alias=True)
    defs = schema.setdefault("$defs", {})
    raw = defs["RawRule"]["properties"]
    raw["when"] = {"$ref": "#/$defs/Condition"}
    raw["then"] = _then_schema(rb)
    raw["binds"] = {"type": "array", "items": {"enum": list(rb.vocabulary.facts["agency"].values or {})}}
    juris = defs["Jurisdiction"]["properties"]
    juris["county"] = {"enum": rb.counties}
    juris["city"] = {"enum": [c.name for c in rb.registry.cities]}
    defs.update(_condition_defs(rb))
    return {"$schema": DRAFT, "title": "policyengine rule file", **schema}


def scenario_schema(rb: Rulebase) -> dict[str, Any]:
    """The schema of a scenario file: head, facts grouped as written, and `expect` per action."""
    head = ScenarioHead.model_json_schema(by_alias=True)
    defs = head.pop("$defs", {})
    props: dict[str, Any] = copy.deepcopy(head["properties"])
    groups: dict[str, dict[str, Any]] = {}
    required = set(head.get("required", []))
    for fact, spec in rb.vocabulary.facts.items():
        if spec.source != "scenario" or fact == "date":
            continue
        value = {"description": spec.meaning, **_value_schema(rb, fact)}
        if "." in fact:
            group, name = fact.split(".", 1)
            g = groups.setdefault(group, {"type": "object", "properties": {}, "additionalProperties": False})
            g["properties"][name] = value
            if spec.required:
                g.setdefault("required", []).append(name)
                required.add(group)
        else:
            props[fact] = value
            if spec.required:
                required.add(fact)
    props.update(groups)
    expectation = Expectation.model_json_schema(by_alias=True)
    defs["Expectation"] = expectation
    props["expect"] = {
        "type": "object",
        "properties": {a: {"$ref": "#/$defs/Expectation"} for a in rb.vocabulary.actions},
        "additionalProperties": False,
    }
    return {
        "$schema": DRAFT,
        "title": "policyengine scenario file",
        "type": "object",
        "properties": props,
        "required": sorted(required),
        "additionalProperties": False,
        "$defs": defs,
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(rb: Rulebase, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in ((RULES_FILE, rules_schema(rb)), (SCENARIO_FILE, scenario_schema(rb))):
        path = out / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written
