"""The command line, as the issue's acceptance checks describe it."""

import json

import pytest

from policyengine.cli import main
from policyengine.engine import durable_available
from tests.conftest import ROOT

DOC = str(ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml")


def run_json(capsys, *args):
    code = main(["run", "--format", "json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def by_action(result):
    return {d["action"]: d for d in result["decisions"]}


def test_doc_release_json_contract(capsys, rulebase):
    code, result = run_json(capsys, DOC)
    assert code == 0
    assert result["engine"] == ("durable_rules" if durable_available() else "reference")
    assert result["scenario"] == "doc-release-detainer-no-warrant"
    assert result["date"] == "2026-02-10"
    assert result["jurisdiction"] == {"county": "Washington", "agency": "doc"}
    assert [d["action"] for d in result["decisions"]] == rulebase.actions
    for d in result["decisions"]:
        assert {"action", "verdict", "practice", "decided_by", "sources", "defeated"} <= set(d)
    hold = by_action(result)["hold_beyond_release"]
    assert hold["verdict"] == "prohibited"
    assert hold["decided_by"] == ["mn.state.no-detainer-hold"]
    assert any("Esparza" in s["cite"] and s["url"].startswith("http") for s in hold["sources"])
    defeated = {d["rule"] for d in hold["defeated"]}
    assert "fed.detainer.hold-request" in defeated
    notify = by_action(result)["notify_release"]
    assert (notify["verdict"], notify["practice"]) == ("permitted", "does")


def test_as_of_before_esparza_gives_the_declared_answer_and_known_on_the_open_one(capsys):
    """--as-of moves the event; --known-on the knowledge. Esparza (2019) declares what the law was in 2018."""
    _, now = run_json(capsys, DOC)
    code, then = run_json(capsys, DOC, "--as-of", "2018-06-01")
    assert code == 0
    assert then["date"] == "2018-06-01" and then["known_on"] == now["known_on"]
    hold_now, hold_then = by_action(now)["hold_beyond_release"], by_action(then)["hold_beyond_release"]
    assert hold_then["verdict"] == hold_now["verdict"] == "prohibited"
    assert hold_then["as_declared"] == [
        {"rule": "mn.state.no-detainer-hold", "declared": "2019-09-23", "in": "Esparza v. Nobles County (2019)"}
    ]
    assert "as_declared" not in hold_now
    code, known = run_json(capsys, DOC, "--as-of", "2018-06-01", "--known-on", "2018-06-01")
    assert code == 0 and (known["date"], known["known_on"]) == ("2018-06-01", "2018-06-01")
    hold_known = by_action(known)["hold_beyond_release"]
    assert hold_known["verdict"] == "contested" and hold_known["leaning"] == "prohibited"
    assert hold_known["sources"] and all(s["cite"] and s["url"] for s in hold_known["sources"])
    not_declared = {d["rule"] for d in hold_known["defeated"] if d["doctrine"] == "not yet declared"}
    assert "mn.state.no-detainer-hold" in not_declared


def test_table_fits_80_columns(capsys):
    assert main(["run", str(ROOT / "scenarios")]) == 0
    out = capsys.readouterr().out
    assert "expectations:" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_explain_shows_the_trace(capsys):
    assert main(["run", "--explain", DOC]) == 0
    out = capsys.readouterr().out
    assert "rules fired:" in out
    assert "matched: immigration.detainer is not none" in out
    assert "rules defeated:" in out and "fed.detainer.hold-request" in out


def test_explain_json_has_facts_fired_and_derived(capsys):
    _, result = run_json(capsys, "--explain", str(ROOT / "scenarios" / "hennepin-jail-judicial-warrant.yaml"))
    trace = result["trace"]
    assert trace["facts"]["immigration.judicial_warrant"] == "federal_criminal"
    assert trace["derived"] == {"custody.independent_basis": ["mn.state.independent-basis"]}
    fired = {f["rule"] for f in trace["fired"]}
    assert "mn.state.no-detainer-hold" not in fired and "mn.state.judicial-warrant-hold" in fired


def test_markdown_memo_quotes_sources(capsys):
    assert main(["run", "--format", "markdown", DOC]) == 0
    out = capsys.readouterr().out
    assert "## hold_beyond_release: prohibited" in out
    assert "> We conclude that no Minnesota statute explicitly authorizes" in out


def test_reference_engine_is_named_in_output(capsys):
    _, result = run_json(capsys, "--engine", "reference", DOC)
    assert result["engine"] == "reference"


def test_failed_expectation_exits_1(tmp_path, capsys):
    text = (ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml").read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        text.replace("hold_beyond_release:\n    verdict: prohibited", "hold_beyond_release:\n    verdict: permitted")
    )
    assert main(["run", str(broken)]) == 1
    captured = capsys.readouterr()
    assert "FAILED hold_beyond_release: expected verdict permitted, got prohibited" in captured.out


@pytest.mark.parametrize("args", [["--version"], ["run", "--help"]])
def test_help_and_version(args, capsys):
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's --help exits; --version returns before argparse
        code = exc.code
    assert code == 0
