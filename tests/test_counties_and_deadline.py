"""`--county all` (every county, one row each) and the federal 48-hour reference."""

import datetime as dt
import json

import pytest

from policyengine.cli import main
from policyengine.deadline import federal_hold_limit
from tests.conftest import ROOT

DOC = str(ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml")
NO_POLICY = str(ROOT / "scenarios" / "county-without-known-policy.yaml")


def county_results(capsys, *args):
    assert main(["run", "--format", "json", "--county", "all", *args]) == 0
    return json.loads(capsys.readouterr().out)


def hold(result):
    return next(d for d in result["decisions"] if d["action"] == "hold_beyond_release")


def test_registry_has_87_counties_with_fips(rulebase):
    fips = [c.fips for c in rulebase.registry.counties]
    assert len(fips) == 87 and len(set(fips)) == 87
    assert fips[0] == "27001" and fips[-1] == "27173"
    assert {c.name: c.fips for c in rulebase.registry.counties}["Hennepin"] == "27053"


def test_county_all_returns_87_decisions_all_prohibited_after_2019(capsys):
    results = county_results(capsys, NO_POLICY)
    assert len(results) == 87
    assert len({r["jurisdiction"]["county"] for r in results}) == 87
    assert {hold(r)["verdict"] for r in results} == {"prohibited"}


def test_the_same_scenario_in_2013_as_known_then_is_not_prohibited_anywhere(capsys):
    results = county_results(capsys, NO_POLICY, "--as-of", "2013-05-01", "--known-on", "2013-05-01")
    assert len(results) == 87
    assert "prohibited" not in {hold(r)["verdict"] for r in results}
    assert {r["known_on"] for r in results} == {"2013-05-01"}


def test_the_same_scenario_in_2013_as_known_today_is_prohibited_everywhere(capsys):
    """The 2014 rulings and Esparza (2019) declare what the law was in 2013."""
    results = county_results(capsys, NO_POLICY, "--as-of", "2013-05-01")
    assert {hold(r)["verdict"] for r in results} == {"prohibited"}
    assert {hold(r)["as_declared"][0]["in"] for r in results} == {"Esparza v. Nobles County (2019)"}


def test_counties_without_a_sourced_policy_show_practice_unknown(capsys, rulebase):
    results = county_results(capsys, NO_POLICY)
    with_county_rules = {r.jurisdiction.county for r in rulebase.rules if r.level == "county"}
    for r in results:
        if r["jurisdiction"]["county"] not in with_county_rules:
            assert {d["practice"] for d in r["decisions"]} == {"unknown"}, r["jurisdiction"]


def test_county_all_table_has_one_row_per_county(capsys):
    assert main(["run", "--county", "all", DOC]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [ln for ln in lines if ln.startswith("  ") and "/" in ln and "verdict/practice" not in ln]
    assert len(rows) == 87
    assert max(len(ln) for ln in lines) <= 80


def test_unknown_county_is_a_clear_error(capsys):
    assert main(["run", "--county", "Atlantis", DOC]) == 2
    assert "'Atlantis' is not a Minnesota county" in capsys.readouterr().err


@pytest.mark.parametrize(
    "release, latest",
    [
        # Friday 17:00 before Memorial Day (Monday May 25, 2026): Sat, Sun, Mon are skipped.
        ("2026-05-22T17:00", "2026-05-27T17:00"),
        # Tuesday noon, no holiday: plain 48 hours.
        ("2026-03-03T12:00", "2026-03-05T12:00"),
        # Saturday release: counting starts Monday 00:00 and runs 48 hours.
        ("2026-03-07T10:00", "2026-03-11T00:00"),
        # Thursday 09:00 before the July 3 observed Independence Day (Friday): Fri, Sat, Sun skipped.
        ("2026-07-02T09:00", "2026-07-07T09:00"),
    ],
)
def test_federal_48_hour_reference(release, latest):
    limit = federal_hold_limit(dt.datetime.fromisoformat(release))
    assert limit.latest == dt.datetime.fromisoformat(latest)


def test_48_hour_reference_is_shown_beside_the_minnesota_prohibition(capsys):
    path = str(ROOT / "scenarios" / "jail-release-before-memorial-day.yaml")
    assert main(["run", "--format", "json", path]) == 0
    decision = hold(json.loads(capsys.readouterr().out))
    assert decision["verdict"] == "prohibited"
    assert decision["federal_hold_limit"]["latest_hold_until"] == "2026-05-27T17:00"
    assert "2026-05-25 (Memorial Day)" in decision["federal_hold_limit"]["excluded_days"]
