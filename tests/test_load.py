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
        load("base: {x: 1}\nother:\n  <<: {x: 1}\n")
    assert exc.value.problems[0].line == 3
    assert "merge keys" in exc.value.problems[0].message


def test_anchors_and_aliases_are_refused_where_they_stand():
    with pytest.raises(InputError) as exc:
        load("a: 1\nbase: &b {x: 1}\nother: *b\n")
    assert (exc.value.problems[0].line, exc.value.problems[0].code) == (2, "PE111")
    assert "YAML alias" in exc.value.problems[0].message


def test_invalid_yaml_is_located():
    with pytest.raises(InputError) as exc:
        load("a: [1, 2\nb: 3\n")
    assert "invalid YAML" in exc.value.problems[0].message
    assert exc.value.problems[0].line is not None


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as exc:
        load_yaml(tmp_path / "nope.yaml")
    assert "file not found" in str(exc.value)


def _read_bytes(tmp_path, data: bytes):
    path = tmp_path / "x.yaml"
    path.write_bytes(data)
    return load_yaml(path, display="x.yaml")


def test_bom_crlf_and_cr_line_ends_read_as_the_same_document_with_the_same_lines(tmp_path):
    plain = b"a: 1\nb:\n  - c\n  - d: 2\n"
    expected = _read_bytes(tmp_path, plain)
    for variant in (b"\xef\xbb\xbf" + plain, plain.replace(b"\n", b"\r\n"), plain.replace(b"\n", b"\r")):
        doc = _read_bytes(tmp_path, variant)
        assert doc.data == expected.data and doc.lines == expected.lines


@pytest.mark.parametrize(
    ("data", "line", "fragment"),
    [
        (b"a: 1\nb: 'x\x07y'\n", 2, "control character U+0007 at column 6"),
        (b"a: 1\n\nc: \x00\n", 3, "control character U+0000 at column 4"),
        (b"a: 1\nb: caf\xe9\n", 2, "not UTF-8 text: byte 0xe9 at column 7"),
        (b"a: 1\r\nb: 2\r\nc: \xff\r\n", 3, "byte 0xff at column 4"),
        (b"\xff\xfea\x00:\x00", 1, "UTF-16"),
        (b"a:\n\tb: 1\n", 2, "a tab character at column 1"),
    ],
)
def test_bad_bytes_are_located_by_line_and_column(tmp_path, data, line, fragment):
    with pytest.raises(InputError) as exc:
        _read_bytes(tmp_path, data)
    (problem,) = exc.value.problems
    assert problem.line == line and fragment in problem.message, problem


def test_deep_nesting_and_alias_bombs_are_refused_at_once():
    lines = ["a0: &a0 ['lol']"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")  # 9**9 copies if expanded
    bomb = "\n".join(lines) + "\n"
    with pytest.raises(InputError) as exc:
        load(bomb)
    assert exc.value.problems[0].code == "PE111"
    with pytest.raises(InputError) as exc:
        load("x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert exc.value.problems[0].line == 1
    with pytest.raises(InputError) as exc:
        load("x:\n" + "".join("  " * (i + 1) + "k:\n" for i in range(60)) + "  " * 61 + "k: 1\n")
    assert "nesting deeper than 40 levels" in exc.value.problems[0].message


def test_a_file_just_over_the_size_limit_is_refused(tmp_path):
    from policyengine.load import MAX_FILE_BYTES

    with pytest.raises(InputError) as exc:
        _read_bytes(tmp_path, b"a: '" + b"x" * MAX_FILE_BYTES + b"'\n")
    assert exc.value.problems[0].code == "PE109"
    assert _read_bytes(tmp_path, b"a: '" + b"x" * (MAX_FILE_BYTES - 10) + b"'\n").data["a"].startswith("xxx")


EVERY_CODE_POINT = "".join(map(chr, range(0x110000)))


def test_the_printable_check_refuses_exactly_what_its_first_pattern_refused():
    """load's pattern (written as the refused ranges, which compile fast) is the allowed-class negation it replaced."""
    import re

    from policyengine import load as load_module

    first = re.compile("[^\x09\x0a\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", re.UNICODE)
    assert load_module._NOT_PRINTABLE.findall(EVERY_CODE_POINT) == first.findall(EVERY_CODE_POINT)


def test_pyyaml_s_printable_pattern_matches_what_pyyaml_wrote():
    """The cheaper pattern load.py places in re's cache under PyYAML's Reader pattern matches the same characters."""
    import re

    import yaml

    from policyengine.load import YAML_NOT_PRINTABLE

    written = re.compile(YAML_NOT_PRINTABLE, re.UNICODE)  # other flags: compiled afresh, not taken from the cache
    found = yaml.reader.Reader.NON_PRINTABLE.findall(EVERY_CODE_POINT)
    assert found == written.findall(EVERY_CODE_POINT)
    assert len(found) > 2000  # the surrogates, controls, C1 and the two non-characters


def test_the_pure_python_reader_still_refuses_a_control_character():
    import yaml

    with pytest.raises(yaml.reader.ReaderError):
        yaml.load("a: b\x07\n", Loader=yaml.SafeLoader)
