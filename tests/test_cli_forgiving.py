"""The command line forgives what people type: county names in any case, with or without
"County", a "did you mean" for a near miss, a scenario on standard input, quoted dates."""

from __future__ import annotations

import io
import json

import pytest
import yaml

from policyengine.cli import main
from tests.conftest import ROOT

DOC = str(ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml")


def _json(capsys, *args):
    code = main(["run", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("typed", ["hennepin", "Hennepin County", "HENNEPIN  county", "Hennepin"])
def test_county_in_any_case_with_or_without_county(capsys, typed):
    code, result = _json(capsys, DOC, "--county", typed)
    assert code == 0
    assert result["jurisdiction"] == {"county": "Hennepin", "agency": "doc", "fips": "27053"}


def test_county_with_a_dot_or_without(capsys):
    _, dotted = _json(capsys, DOC, "--county", "st louis")
    assert dotted["jurisdiction"]["county"] == "St. Louis"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--county", "Henepin"],
            "--county: error: 'Henepin' is not a Minnesota county in the registry (did you mean 'Hennepin'?)",
        ),
        (
            ["--action", "hold_beyond_relase"],
            "--action: error: 'hold_beyond_relase' is not an action in the "
            "vocabulary (did you mean 'hold_beyond_release'?)",
        ),
    ],
)
def test_near_misses_get_a_suggestion(capsys, args, message):
    assert main(["run", DOC, *args]) == 2
    assert capsys.readouterr().err.strip() == message


def test_explain_suggests_an_action_and_a_county(capsys):
    assert main(["explain", DOC, "--county", "Ramsy"]) == 2
    assert "(did you mean 'Ramsey'?)" in capsys.readouterr().err


def test_a_misspelt_fact_value_in_a_scenario_gets_a_suggestion(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("id: s\ntitle: t\ndate: 2026-02-10\nagency: county_jal\nplace:\n  county: Henepin\n")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "s.yaml:4: error: 'county_jal' is not an allowed value of 'agency' (did you mean 'county_jail'?)" in err
    assert "s.yaml:6: error: 'Henepin' is not an allowed value of 'place.county' (did you mean 'Hennepin'?)" in err


def test_scenario_from_standard_input_yaml_and_json(capsys, monkeypatch):
    _, from_file = _json(capsys, DOC)
    monkeypatch.setattr(
        "sys.stdin", io.StringIO((ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml").read_text())
    )
    code, from_yaml = _json(capsys, "-")
    assert code == 0 and from_yaml == from_file
    data = yaml.safe_load((ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml").read_text())
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(data, default=str)))
    code, from_json = _json(capsys, "-")
    assert code == 0 and from_json == from_file


def test_bad_input_on_standard_input_is_located(capsys, monkeypatch):
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("id: s\ntitle: t\ndate: 2026-02-10\nagency: doc\nplace:\n  county: X\n")
    )
    assert main(["run", "-"]) == 2
    assert capsys.readouterr().err.startswith("<stdin>:6: error: 'X' is not an allowed value of 'place.county'")


def test_quoted_iso_date_loads_and_a_quoted_non_date_is_an_error(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text('id: s\ntitle: t\ndate: "2026-02-10"\nagency: doc\nplace:\n  county: Washington\n')
    code, result = _json(capsys, str(good))
    assert code == 0 and result["date"] == "2026-02-10"
    bad = tmp_path / "bad.yaml"
    bad.write_text('id: s\ntitle: t\ndate: "2026-02-30"\nagency: doc\nplace:\n  county: Washington\n')
    assert main(["run", str(bad)]) == 2
    assert "bad.yaml:3: error: date:" in capsys.readouterr().err


def test_action_narrows_every_format_and_explain_takes_as_of_and_county(capsys, rulebase):
    _, result = _json(capsys, DOC, "--action", "hold_beyond_release", "--action", "Notify_Release")
    wanted = [a for a in rulebase.actions if a in ("hold_beyond_release", "notify_release")]
    assert [d["action"] for d in result["decisions"]] == wanted
    args = ["explain", DOC, "--action", "hold_beyond_release", "--as-of", "2018-06-01", "--county", "ramsey"]
    # judged with the knowledge of that day: Esparza (2019) had not yet declared the hold unlawful
    assert main([*args, "--known-on", "2018-06-01"]) == 0
    memo = capsys.readouterr().out
    assert "- Date: 2018-06-01" in memo and "- Place: Ramsey County" in memo
    assert "is **contested**" in memo
    assert "`mn.state.no-detainer-hold`" in memo and "not in force" in memo


def test_jsonl_is_one_object_a_line(capsys):
    assert main(["run", "--format", "jsonl", DOC, "--county", "all", "--action", "hold_beyond_release"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 87
    rows = [json.loads(line) for line in lines]
    assert {r["jurisdiction"]["county"] for r in rows} >= {"Hennepin", "Aitkin", "Wright"}
    assert all([d["action"] for d in r["decisions"]] == ["hold_beyond_release"] for r in rows)


def test_rules_jurisdiction_in_any_case_and_a_suggestion(capsys):
    assert main(["rules", "--jurisdiction", "RAMSEY county"]) == 0
    assert "## Ramsey County" in capsys.readouterr().out
    assert main(["rules", "--jurisdiction", "Henepin"]) == 2
    assert "no rules for jurisdiction 'Henepin' (did you mean 'Hennepin'?)" in capsys.readouterr().err
