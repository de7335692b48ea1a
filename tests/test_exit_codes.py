"""One exit-code table for every command (README, docs/architecture.md).

0 ok; 1 expectations unmet or check findings; 2 bad input (a rule, vocabulary, registry or
scenario file, or an argument), printed as `file:line: error: message`, never a traceback.
Each command is run in-process on the same bad rule file and must exit 2 with the same line.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from policyengine.cli import main
from tests.conftest import ROOT, write_rules_dir

BAD = Path(__file__).parent / "fixtures" / "bad"
LAWYER = Path(__file__).parent / "fixtures" / "lawyer"
SCENARIO = ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml"
UNKNOWN_FACT = (BAD / "rules" / "unknown-fact.yaml").read_text()
LOCATED = re.compile(r"unknown-fact\.yaml:11: error: .*'immigration\.detainer_form' is not a fact")


def commands(rules: Path, tmp_path: Path) -> dict[str, list[str]]:
    """Each command, pointed at `rules`, with arguments that succeed on good rules."""
    return {
        "run": ["run", "--rules", str(rules), str(SCENARIO)],
        "test": ["test", "--rules", str(rules), str(SCENARIO)],
        "check": ["check", str(rules)],
        "explain": ["explain", "--rules", str(rules), str(SCENARIO)],
        "review": ["review", "--rules", str(rules)],
        "rules": ["rules", "--rules", str(rules)],
        "schema": ["schema", "--rules", str(rules), "--out", str(tmp_path / "schema")],
    }


@pytest.fixture(scope="module")
def bad_rules(tmp_path_factory) -> Path:
    return write_rules_dir(tmp_path_factory.mktemp("bad"), {"minnesota/state/unknown-fact.yaml": UNKNOWN_FACT})


@pytest.mark.parametrize("command", list(commands(Path("r"), Path("t"))))
def test_a_bad_rule_file_exits_2_from_every_command_with_the_same_located_line(command, bad_rules, tmp_path, capsys):
    status = main(commands(bad_rules, tmp_path)[command])
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    assert LOCATED.search(out + err), out + err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("command", list(commands(Path("r"), Path("t"))))
def test_every_command_exits_0_on_the_bundled_rules(command, tmp_path, capsys):
    rules = ROOT / "rules"
    status = main(commands(rules, tmp_path)[command])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert out or command == "schema"
    assert list((tmp_path / "schema").glob("*.json")) or command != "schema"


def _unmet(tmp_path: Path) -> Path:
    broken = tmp_path / "unmet.yaml"
    broken.write_text(SCENARIO.read_text().replace("verdict: prohibited", "verdict: permitted", 1))
    assert broken.read_text() != SCENARIO.read_text()
    return broken


@pytest.mark.parametrize("command", ["run", "test"])
def test_unmet_expectations_exit_1(command, tmp_path, capsys):
    assert main([command, str(_unmet(tmp_path))]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_a_check_finding_exits_1_not_2(tmp_path, capsys):
    target = tmp_path / "rules"
    shutil.copytree(LAWYER / "base", target)
    for f in (LAWYER / "bad" / "PE501-conflict").iterdir():
        shutil.copy(f, target / f.name)
    assert main(["check", str(target)]) == 1
    assert ": error: PE501: " in capsys.readouterr().out


def test_a_bad_argument_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--as-of", "not-a-date"])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_missing_county_in_the_registry_is_bad_input(tmp_path, capsys):
    """Checked against the Census list (addfips), not the registry itself: 86 counties is an error."""
    rules = write_rules_dir(tmp_path, {})
    registry = rules / "minnesota" / "registry.yaml"
    text = registry.read_text()
    registry.write_text(text.replace('  - {name: Anoka, fips: "27003"}\n', ""))
    assert registry.read_text() != text
    assert main(["run", "--rules", str(rules), str(SCENARIO)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"registry\.yaml:\d+: error: the registry lists 86 counties; missing .*: Anoka", err), err


def test_a_wrong_fips_code_is_bad_input(tmp_path, capsys):
    rules = write_rules_dir(tmp_path, {})
    registry = rules / "minnesota" / "registry.yaml"
    registry.write_text(
        registry.read_text().replace('{name: Hennepin, fips: "27053"}', '{name: Hennepin, fips: "27055"}')
    )
    assert main(["check", str(rules)]) == 2
    assert "Hennepin County has FIPS 27053 in the Census list, not 27055" in capsys.readouterr().out


def test_the_bundled_registry_is_the_census_list():
    from policyengine.check import census_counties
    from policyengine.pipeline import load_rulebase

    census = census_counties()
    assert len(census) == 87
    assert {c.name: c.fips for c in load_rulebase().registry.counties} == census


def test_as_of_says_that_expectations_were_not_checked(capsys):
    assert main(["run", str(SCENARIO), "--as-of", "2018-06-01"]) == 0
    err = capsys.readouterr().err
    assert "--as-of 2018-06-01: expectations of 1 scenario(s) not checked" in err
