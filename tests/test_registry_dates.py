"""PE404: county rules dated differently from the registry's agreements with ICE.

The bundled rules have none; a copy of them with one date moved gets the finding, located at
the county rule and naming the registry entry.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from policyengine import analysis
from policyengine.analysis.dates import _uncovered

RULES = Path(__file__).parent.parent / "rules"


def pe404(root: Path) -> list[analysis.Finding]:
    return [f for f in analysis.analyse(root, explore=False).findings if f.code == "PE404"]


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_bundled_rules_have_no_date_disagreement():
    assert pe404(RULES) == []


def test_practice_before_any_contract_is_reported(rules_copy):
    # the registry's former Kandiyohi date (2006) against the county file's 2003
    registry = rules_copy / "minnesota" / "registry.yaml"
    edit(
        registry,
        "  - county: Kandiyohi\n    kind: ice_bed_contract\n    in_force:\n      from: 2003-01-01",
        "  - county: Kandiyohi\n    kind: ice_bed_contract\n    in_force:\n      from: 2006-01-01",
    )
    (finding,) = pe404(rules_copy)
    assert finding.rules == ("mn.county.kandiyohi.ice-housing",)
    assert finding.file.endswith("counties/kandiyohi.yaml")
    assert "no ice_bed_contract agreement for Kandiyohi from 2003-01-01 to 2005-12-31" in finding.message
    assert "registry.yaml:" in finding.message
    assert finding.severity == "warning"


def test_one_event_dated_two_ways_is_reported(rules_copy):
    # the registry's former Crow Wing date (Nov. 1) against the county file's Dec. 1, 2025
    registry = rules_copy / "minnesota" / "registry.yaml"
    edit(
        registry,
        "  - county: Crow Wing\n    kind: ice_bed_contract\n    in_force:\n      from: 2025-12-01",
        "  - county: Crow Wing\n    kind: ice_bed_contract\n    in_force:\n      from: 2025-11-01",
    )
    (finding,) = pe404(rules_copy)
    assert finding.rules == ("mn.county.crow-wing.ice-housing",)
    assert "starts on 2025-12-01, the ice_bed_contract agreement on 2025-11-01" in finding.message


def test_refusal_while_a_bed_contract_is_in_force_is_reported(rules_copy):
    edit(
        rules_copy / "minnesota" / "counties" / "ramsey.yaml",
        "    in_force: {from: 2018-01-01}\n    then:\n      house_ice_detainees: does_not",
        "    in_force: {from: 2017-07-01}\n    then:\n      house_ice_detainees: does_not",
    )
    findings = pe404(rules_copy)
    refusal = [f for f in findings if f.rules == ("mn.county.ramsey.no-ice-housing",)]
    assert len(refusal) == 1
    assert "in force from 2017-07-01 to 2017-12-31" in refusal[0].message


def test_an_unused_287g_agreement_is_no_disagreement(rules_copy):
    # Itasca's sheriff does not use the agreement ICE lists: both are true at once
    assert not [f for f in pe404(rules_copy) if "itasca" in f.file]


D = dt.date


@pytest.mark.parametrize(
    ("span", "cover", "gaps"),
    [
        ((D(2003, 1, 1), None), [(D(2006, 1, 1), None)], [(D(2003, 1, 1), D(2006, 1, 1))]),
        ((D(2010, 1, 1), D(2012, 1, 1)), [(D(2009, 1, 1), None)], []),
        ((D(2010, 1, 1), None), [(D(2009, 1, 1), D(2011, 1, 1))], [(D(2011, 1, 1), None)]),
        (
            (D(2010, 1, 1), D(2020, 1, 1)),
            [(D(2015, 1, 1), D(2016, 1, 1)), (D(2011, 1, 1), D(2012, 1, 1))],
            [(D(2010, 1, 1), D(2011, 1, 1)), (D(2012, 1, 1), D(2015, 1, 1)), (D(2016, 1, 1), D(2020, 1, 1))],
        ),
        ((D(2010, 1, 1), None), [], [(D(2010, 1, 1), None)]),
    ],
)
def test_uncovered_days(span, cover, gaps):
    assert _uncovered(span, cover) == gaps
