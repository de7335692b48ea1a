"""Every kind of bad input: one located line on stderr, exit status 2, no traceback.

Each fixture under fixtures/bad/ says on its first line what error it must give:
`# error: LINE: message fragment`.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policyengine.cli import main
from tests.conftest import ROOT, write_rules_dir

BAD = Path(__file__).parent / "fixtures" / "bad"
DOC_SCENARIO = ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml"


def expected(path: Path) -> tuple[int, str]:
    m = re.match(r"# error: (\d+): (.+)", path.read_text().splitlines()[0])
    assert m, f"{path} must start with '# error: LINE: message'"
    return int(m.group(1)), m.group(2).strip()


def assert_one_located_error(err: str, path_name: str, line: int, fragment: str):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert f"{path_name}:{line}: error: " in lines[0], lines[0]
    assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("fixture", sorted((BAD / "rules").glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_rule_file(fixture, tmp_path, capsys):
    line, fragment = expected(fixture)
    rules = write_rules_dir(tmp_path, {f"minnesota/state/{fixture.name}": fixture.read_text()})
    code = main(["run", "--rules", str(rules), str(DOC_SCENARIO)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert_one_located_error(captured.err, fixture.name, line, fragment)


@pytest.mark.parametrize("fixture", sorted((BAD / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_scenario_file(fixture, capsys):
    line, fragment = expected(fixture)
    code = main(["run", str(fixture)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert_one_located_error(captured.err, fixture.name, line, fragment)


def test_bad_input_in_a_real_process_prints_no_traceback(tmp_path):
    fixture = BAD / "rules" / "duplicate-key.yaml"
    rules = write_rules_dir(tmp_path, {"minnesota/state/x.yaml": fixture.read_text()})
    proc = subprocess.run(
        [sys.executable, "-m", "policyengine", "run", "--rules", str(rules), str(DOC_SCENARIO)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert re.search(r"x\.yaml:11: error: duplicate key 'kind'", proc.stderr), proc.stderr


def test_all_problems_in_a_rules_directory_are_reported_together(tmp_path, capsys):
    files = {
        f"minnesota/state/{name}": (BAD / "rules" / name).read_text()
        for name in ("unknown-fact.yaml", "unknown-action.yaml")
    }
    code = main(["run", "--rules", str(write_rules_dir(tmp_path, files)), str(DOC_SCENARIO)])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown-fact.yaml:11:" in err and "unknown-action.yaml:10:" in err


def test_missing_vocabulary_is_an_error(tmp_path, capsys):
    rules = write_rules_dir(tmp_path, {})
    (rules / "vocabulary.yaml").unlink()
    assert main(["run", "--rules", str(rules), str(DOC_SCENARIO)]) == 2
    assert "expected exactly one vocabulary.yaml, found 0" in capsys.readouterr().err


def test_bad_argument_exits_2_without_traceback(capsys):
    assert_exit = pytest.raises(SystemExit)
    with assert_exit as exc:
        main(["run", "--as-of", "2026-13-01", str(DOC_SCENARIO)])
    assert exc.value.code == 2
    assert "not a date" in capsys.readouterr().err


def test_missing_scenario_file(capsys, tmp_path):
    assert main(["run", str(tmp_path / "absent.yaml")]) == 2
    assert "absent.yaml: error: file not found" in capsys.readouterr().err


def test_fixture_copy_helper_keeps_bundled_files_untouched(tmp_path):
    rules = write_rules_dir(tmp_path, {})
    assert shutil.disk_usage(rules)  # the directory exists and is separate from the bundle
    assert (rules / "vocabulary.yaml").read_text() == (ROOT / "rules" / "vocabulary.yaml").read_text()
