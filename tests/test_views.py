"""The views of one sweep: matrix, map, timeline, diff, and run --county in every format."""

from __future__ import annotations

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from policyengine import bundled
from policyengine.cli import main
from policyengine.pipeline import evaluate
from policyengine.report.map import VERDICT_COLOURS
from policyengine.standard import standard_scenarios
from policyengine.sweep import all_places

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def matrix_json(capsys, day: str, action: str, *more: str) -> dict:
    code, out = run_cli(capsys, "matrix", "--as-of", day, "--action", action, "--format", "json", *more)
    assert code == 0
    return json.loads(out)


@pytest.mark.parametrize("day", ["2013-05-01", "2026-02-10"])
def test_map_colours_agree_with_the_matrix_for_every_county(capsys, day):
    # each date judged with the knowledge of its own day (today's knowledge reaches Esparza back)
    known = ("--known-on", "as-of")
    matrix = matrix_json(capsys, day, "hold_beyond_release", *known)
    by_fips = {row["fips"]: row["cells"]["hold_beyond_release"] for row in matrix["rows"] if row["kind"] == "county"}
    code, svg = run_cli(capsys, "map", "--action", "hold_beyond_release", "--as-of", day, *known)
    assert code == 0
    root = ET.fromstring(svg)
    assert day in root.find(f"{SVG}title").text and "hold beyond release" in root.find(f"{SVG}title").text
    shapes = root.findall(f".//{SVG}path[@data-fips]")
    assert len(shapes) == 87 == len(by_fips)
    for shape in shapes:
        cell = by_fips[shape.get("data-fips")]
        assert shape.get("fill") == VERDICT_COLOURS[cell["verdict"]], shape.get("data-fips")
        assert shape.get("data-verdict") == cell["verdict"]
        assert shape.get("data-practice") == cell["practice"]
        tip = shape.find(f"{SVG}title").text
        assert all(rule in tip for rule in cell["decided_by"])
    links = root.findall(f".//{SVG}a")
    assert len(links) == 87 and links[0].get("href").startswith("place/27")
    # the 2013 map is before Esparza: no county is prohibited; in 2026 every county is
    verdicts = {c["verdict"] for c in by_fips.values()}
    assert ("prohibited" in verdicts) == (day == "2026-02-10")


def test_matrix_formats_say_the_same(capsys):
    data = matrix_json(capsys, "2026-02-10", "hold_beyond_release")
    assert len(data["rows"]) == len(all_places_of_bundled())
    assert {r["kind"] for r in data["rows"]} == {"county", "doc", "city"}
    code, out = run_cli(capsys, "matrix", "--as-of", "2026-02-10", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(data["rows"]) * 5
    hennepin = next(r for r in rows if r["name"] == "Hennepin County" and r["action"] == "hold_beyond_release")
    assert (hennepin["verdict"], hennepin["practice"]) == ("prohibited", "does_not")
    assert "mn.county.hennepin.no-detainer-hold" in hennepin["practice_by"]
    code, out = run_cli(capsys, "matrix", "--as-of", "2026-02-10", "--format", "markdown")
    assert out.count("\n| ") == len(data["rows"]) + 1 and "`mn.state.no-detainer-hold`" in out
    code, out = run_cli(capsys, "matrix", "--as-of", "2026-02-10", "--format", "html")
    assert out.count("<tr id=") == len(data["rows"]) and "not legal advice" in out


def all_places_of_bundled():
    from policyengine.pipeline import load_rulebase

    return all_places(load_rulebase())


def test_matrix_table_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out = run_cli(capsys, "matrix", "--as-of", "2026-02-10")
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("Hennepin ") and "PROH/not" in line for line in lines)
    assert any("PROH prohibited" in line for line in lines)  # the legend


def test_timeline_hennepin_lists_its_documented_changes_with_rule_and_source(capsys):
    code, out = run_cli(capsys, "timeline", "--county", "Hennepin", "--format", "json")
    assert code == 0
    changes = json.loads(out)["changes"]

    def causes(day: str, action: str) -> list[dict]:
        found = [c for c in changes if c["date"] == day and c["action"] == action]
        assert found, (day, action)
        return found[0]["because"]

    expected = {
        ("2014-06-11", "hold_beyond_release"): ("mn.county.hennepin.no-detainer-hold", "MPR News"),
        ("2017-02-03", "notify_release"): ("mn.county.hennepin.release-calls-2017", "Star Tribune"),
        ("2019-06-20", "notify_release"): ("mn.county.hennepin.release-calls-2017", "Star Tribune"),
        ("2021-06-09", "notify_release"): ("mn.county.hennepin.no-release-notice", "Administrative Directive 21-02"),
        ("2026-02-13", "inquire_status"): ("mn.county.hennepin.no-status-questions", "Star Tribune"),
    }
    for (day, action), (rule, cite) in expected.items():
        found = causes(day, action)
        assert any(c["id"] == rule and cite in c["cite"] and c["url"].startswith("http") for c in found), (day, found)
    # every change names at least one cause, and the 2014 change is does -> does_not
    assert all(c["because"] for c in changes)
    hold = next(c for c in changes if c["date"] == "2014-06-11" and c["action"] == "hold_beyond_release")
    assert (hold["before"]["practice"], hold["after"]["practice"]) == ("does", "does_not")
    code, text = run_cli(capsys, "timeline", "--county", "Hennepin")
    for year in ("2014", "2017", "2019", "2021", "2026"):
        assert f"\n{year}-" in text


# the statewide civil-arrest rule rests on Esparza's reasoning too (rules/minnesota/state/arrests.yaml)
ESPARZA_ACTIONS = {
    "hold_beyond_release",
    "hold_on_admin_warrant",
    "delay_release_pending_ice",
    "civil_immigration_arrest",
}


def test_diff_2019_to_2020_names_what_esparza_changed(capsys, rulebase):
    code, out = run_cli(capsys, "diff", "--as-of", "2019-01-01", "--as-of", "2020-01-01", "--format", "json")
    assert code == 1
    changes = json.loads(out)["changes"]
    esparza = {r.id for r in rulebase.rules if any("Esparza" in s.cite for s in r.sources) and r.is_law}
    by_esparza = [c for c in changes if {x["id"] for x in c["because"]} & esparza]
    assert {c["action"] for c in by_esparza} == ESPARZA_ACTIONS
    holds = {c["name"] for c in by_esparza if c["action"] == "hold_beyond_release"}
    # every place but Nobles, whose 2018 restraining order already prohibited the hold
    assert len(holds) == len(all_places(rulebase)) - 1 and "Nobles County" not in holds
    assert all(c["after"]["verdict"] == "prohibited" for c in by_esparza if c["action"] == "hold_beyond_release")
    # everything else that changed in 2019 is put down to a rule or agreement dated in 2019, not to Esparza
    for c in changes:
        if c not in by_esparza:
            assert c["because"] and not {x["id"] for x in c["because"]} & esparza
    # only the hold: exactly Esparza's cells
    code, out = run_cli(
        capsys,
        "diff",
        "--as-of",
        "2019-01-01",
        "--as-of",
        "2020-01-01",
        "--action",
        "hold_beyond_release",
        "--format",
        "json",
    )
    only_hold = json.loads(out)["changes"]
    assert {c["name"] for c in only_hold} == holds and all(
        {x["id"] for x in c["because"]} <= esparza for c in only_hold
    )


def test_diff_of_two_rulebases_names_exactly_the_flipped_rules_cells(capsys, tmp_path, rulebase):
    copy = tmp_path / "rules"
    shutil.copytree(bundled.rules_dir(), copy)
    assert (
        run_cli(capsys, "diff", "--rules", str(bundled.rules_dir()), "--rules", str(copy), "--as-of", "2026-02-10")[0]
        == 0
    )
    rule_id = "mn.county.hennepin.no-detainer-hold"
    path = copy / "minnesota" / "counties" / "hennepin.yaml"
    text = path.read_text()
    assert text.count("hold_beyond_release: does_not") == 1
    path.write_text(text.replace("hold_beyond_release: does_not", "hold_beyond_release: does"))
    days = ["2013-05-01", "2020-01-01", "2026-02-10"]
    args = ["diff", "--rules", str(bundled.rules_dir()), "--rules", str(copy), "--format", "json"]
    code, out = run_cli(capsys, *args, *(x for d in days for x in ("--as-of", d)))
    assert code == 1
    cells = {(c["scenario"], c["place"], c["date"], c["action"]) for c in json.loads(out)["changes"]}
    assert all([x["id"] for x in c["because"]] == [rule_id] for c in json.loads(out)["changes"])
    # expected: every cell whose practice the rule decides in the bundled rules, found by the pipeline itself
    import datetime as dt

    expected = set()
    for scenario in standard_scenarios(rulebase):
        for place in all_places(rulebase):
            for day in days:
                ev = evaluate(scenario, rulebase, as_of=dt.date.fromisoformat(day), county=place.county,
                              city=place.city, agency=place.agency)  # fmt: skip
                for d in ev.decisions:
                    if rule_id in d.practice_by:
                        expected.add((scenario.id, place.key, day, d.action))
    assert expected and cells == expected


def test_diff_needs_two_dates_or_two_rulebases(capsys):
    assert main(["diff", "--as-of", "2019-01-01"]) == 2
    assert "two --as-of dates" in capsys.readouterr().err


def test_run_county_all_csv_and_action_in_every_format(capsys):
    scenario = str(ROOT / "scenarios" / "county-without-known-policy.yaml")
    code, out = run_cli(capsys, "run", scenario, "--county", "all", "--format", "csv", "--action", "notify_release")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 87 and {r["action"] for r in rows} == {"notify_release"}
    code, out = run_cli(capsys, "run", scenario, "--county", "all", "--format", "json", "--action", "notify_release")
    assert all([d["action"] for d in r["decisions"]] == ["notify_release"] for r in json.loads(out))
    code, out = run_cli(
        capsys, "run", scenario, "--county", "Hennepin", "--format", "markdown", "--action", "share_status"
    )
    assert "share_status" in out and "hold_beyond_release" not in out
    assert main(["run", scenario, "--format", "csv"]) == 2
