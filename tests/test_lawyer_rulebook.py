"""`policyengine rules`: the rule book, per jurisdiction, in Markdown and HTML."""

from __future__ import annotations

from policyengine.cli import main
from policyengine.pipeline import load_rulebase


def rulebook(capsys, *args: str) -> str:
    assert main(["rules", *args]) == 0
    return capsys.readouterr().out


def test_every_rule_appears_once_under_its_jurisdiction(capsys):
    out = rulebook(capsys)
    rb = load_rulebase()
    for rule in rb.rules:
        assert out.count(f"Id: `{rule.id}`") == 1
    sections = [line for line in out.splitlines() if line.startswith("## ")]
    assert sections[:3] == [
        "## United States (federal law)",
        "## State of Minnesota",
        "## Minnesota Department of Corrections",
    ]
    doc = out.split("## Minnesota Department of Corrections", 1)[1]
    assert "`mn.doc.release-notice-and-handover`" in doc


def test_rule_entry_has_conclusion_conditions_dates_sources_and_review(capsys):
    out = rulebook(capsys, "--jurisdiction", "state")
    entry = out.split("### No holding a person past release solely on an immigration detainer", 1)[1].split("### ", 1)[
        0
    ]
    assert "Concludes: **prohibited**: Keep the person in custody" in entry
    assert "The ICE detainer form lodged with the agency, if any (`immigration.detainer`) is not `none`" in entry
    assert "In force: in force from 1997-04-01" in entry
    assert "Declared: 2019-09-23" in entry
    assert "> — Esparza v. Nobles County" in entry
    assert "<http://casetext.com/case/esparza-v-nobles-cnty>" in entry
    assert "Review: **draft**" in entry
    assert "## United States" not in out


def test_county_filter_and_html(capsys):
    out = rulebook(capsys, "--jurisdiction", "Hennepin", "--format", "html")
    assert out.startswith("<!DOCTYPE html>")
    assert '<h2 id="section-hennepin-county">Hennepin County</h2>' in out
    anchor = "mn.county.hennepin.no-detainer-hold"
    assert f'<h3 id="{anchor}">' in out and f'href="#{anchor}"' in out  # an anchor per rule, and contents
    assert "Applies only in Hennepin County" in out
    assert ">State of Minnesota</h2>" not in out


def test_unknown_jurisdiction_is_an_error(capsys):
    assert main(["rules", "--jurisdiction", "Atlantis"]) == 2
    assert "no rules for jurisdiction 'Atlantis'" in capsys.readouterr().err
