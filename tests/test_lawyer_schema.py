"""JSON Schemas: committed = generated; every bundled rule and scenario file validates; each file
points at its schema with the right relative path; the schemas reject what check rejects."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from policyengine.load import load_yaml, yaml_files
from policyengine.pipeline import REGISTRY_FILE, VOCABULARY_FILE, load_rulebase
from policyengine.schema import RULES_FILE, SCENARIO_FILE, render, rules_schema, scenario_schema

ROOT = Path(__file__).parent.parent
SCHEMAS = ROOT / "docs" / "schema"
RULE_FILES = [p for p in yaml_files(ROOT / "rules") if p.name not in (VOCABULARY_FILE, REGISTRY_FILE)]
SCENARIO_FILES = yaml_files(ROOT / "scenarios")


def plain(value):
    """YAML data as JSON data (dates become ISO strings, as an editor sees them)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


@pytest.fixture(scope="module")
def rulebase():
    return load_rulebase(ROOT / "rules")


@pytest.fixture(scope="module")
def validators(rulebase):
    return {
        "rules": Draft202012Validator(rules_schema(rulebase), format_checker=FormatChecker()),
        "scenario": Draft202012Validator(scenario_schema(rulebase), format_checker=FormatChecker()),
    }


def test_committed_schemas_equal_the_generated_ones(rulebase):
    """Regenerate with `policyengine schema --out docs/schema` after changing the vocabulary or models."""
    assert (SCHEMAS / RULES_FILE).read_text() == render(rules_schema(rulebase))
    assert (SCHEMAS / SCENARIO_FILE).read_text() == render(scenario_schema(rulebase))


def test_schemas_are_valid_json_schemas(validators):
    for v in validators.values():
        Draft202012Validator.check_schema(v.schema)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_rule_file_validates(path, validators):
    errors = list(validators["rules"].iter_errors(plain(load_yaml(path).data)))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_scenario_file_validates(path, validators):
    errors = list(validators["scenario"].iter_errors(plain(load_yaml(path).data)))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("path", RULE_FILES + SCENARIO_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_file_names_its_schema(path):
    schema = RULES_FILE if path in RULE_FILES else SCENARIO_FILE
    relative = Path(os.path.relpath(SCHEMAS / schema, path.parent)).as_posix()
    first = path.read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={relative}"


def test_schema_rejects_an_unknown_fact_and_a_bad_value(validators):
    data = plain(load_yaml(RULE_FILES[0]).data)
    data["rules"][0]["when"] = {"immigration.detainr": "I-247A"}
    assert list(validators["rules"].iter_errors(data))
    data["rules"][0]["when"] = {"immigration.detainer": "I-247Z"}
    assert list(validators["rules"].iter_errors(data))
    data["rules"][0]["when"] = {"immigration.detainer": {"not": "none"}}
    assert not list(validators["rules"].iter_errors(data))


def test_scenario_schema_rejects_registry_facts_and_unknown_actions(validators):
    data = plain(load_yaml(SCENARIO_FILES[0]).data)
    assert not list(validators["scenario"].iter_errors(data))
    bad = {**data, "agreement": {"ice_bed_contract": True}}
    assert list(validators["scenario"].iter_errors(bad))
    bad = {**data, "expect": {"hold_forever": {"verdict": "permitted"}}}
    assert list(validators["scenario"].iter_errors(bad))
