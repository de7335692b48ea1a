"""Stage 1: YAML is loaded safely, with lines, and duplicate keys are errors."""

import pytest

from policyengine.errors import InputError
from policyengine.load import load_yaml


def load(text):
    return load_yaml("x.yaml", text=text)


def test_lines_are_recorded_for_nested_values():
    doc = load("a:\n  b:\n    - 1\n    - c: 2\n")
    assert doc.data == {"a": {"b": [1, {"c": 2}]}}
    assert doc.line(("a", "b", 1, "c")) == 4
    assert doc.line(("a", "b", 0)) == 3
    assert doc.line(("a", "missing", "deeper")) == 1


def test_duplicate_key_names_both_lines():
    with pytest.raises(InputError) as exc:
        load("a: 1\nb: 2\na: 3\n")
    (problem,) = exc.value.problems
    assert problem.line == 3
    assert "duplicate key 'a'" in problem.message and "line 1" in problem.message


def test_impossible_date_is_located():
    with pytest.raises(InputError) as exc:
        load("x: 1\nday: 2025-02-30\n")
    assert exc.value.problems[0].line == 2
    assert "not a real calendar date" in exc.value.problems[0].message


def test_unsafe_tags_are_refused():
    with pytest.raises(InputError) as exc:
        load("a: !!python/object/apply:os.system ['true']\n")
    assert exc.value.problems[0].line == 1


def test_merge_keys_are_refused():
    with pytest.raises(InputError) as exc:
        load("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert exc.value.problems[0].line == 3


def test_invalid_yaml_is_located():
    with pytest.raises(InputError) as exc:
        load("a: [1, 2\nb: 3\n")
    assert "invalid YAML" in exc.value.problems[0].message
    assert exc.value.problems[0].line is not None


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as exc:
        load_yaml(tmp_path / "nope.yaml")
    assert "file not found" in str(exc.value)
