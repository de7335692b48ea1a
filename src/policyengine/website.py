"""`policyengine site`: a static website of the whole patchwork, built from one sweep.

Pages: the map (action selector, a date control stepping through the change dates), the
matrix, a page per county, the DOC and each city with rules (decisions today with quoted
sources, the timeline, the rules that reach it, its agreements), a page per rule, the rule
book with a table of contents, and a memo per bundled scenario. Everything is relative links
and local files: it works from file:// and any static host, with no network.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyengine import bundled
from policyengine.checked import Agreement, Rule
from policyengine.engine import Engine, get_engine
from policyengine.pipeline import Rulebase, evaluate, load_scenarios, scenario_files
from policyengine.report.blocks import Doc, body_html, split_intro, toc_html
from policyengine.report.html import TEMPLATES, render_page
from policyengine.report.map import COLOURS, geometry, render_map_svg, tooltip
from policyengine.report.matrix import legend_lines, matrix_data
from policyengine.report.memo import memo_docs
from policyengine.report.timeline import timeline
from policyengine.rulebook import rule_blocks, rulebook, section_of
from policyengine.standard import standard_scenarios
from policyengine.sweep import Place, all_places, interval_dates, rule_reaches, sweep

MAP_ACTION = "hold_beyond_release"


@dataclass(frozen=True)
class SiteStats:
    pages: int
    places: int
    rules: int
    memos: int
    dates: int


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _markup(text: str):
    from markupsafe import Markup

    return Markup(text)  # noqa: S704 (HTML made by report.blocks, which escapes all text)


def _current(dates: list[dt.date], today: dt.date) -> dt.date:
    """The change date whose interval holds `today` (or the first date)."""
    past = [d for d in dates if d <= today]
    return past[-1] if past else dates[0]


def _map_data(sw, scenario_id: str, dates: list[dt.date], actions: list[str]) -> dict[str, Any]:
    """Everything the map's script needs: per action and date, each county's state index."""
    counties = [p for p in sw.places if p.kind == "county"]
    states: list[list[str]] = []
    index: dict[tuple[str, str, str], int] = {}
    cells: dict[str, list[list[int]]] = {}
    for action in actions:
        per_date = []
        for day in dates:
            row = []
            for place in counties:
                d = sw.decision(scenario_id, place, day, action)
                tip = tooltip("", d).lstrip("\n")
                key = (d["verdict"], d["practice"], tip)
                if key not in index:
                    index[key] = len(states)
                    states.append(list(key))
                row.append(index[key])
            per_date.append(row)
        cells[action] = per_date
    return {
        "fips": [p.fips for p in counties],
        "names": {p.fips: p.label for p in counties},
        "dates": [d.isoformat() for d in dates],
        "actions": actions,
        "states": states,
        "cells": cells,
        "colours": COLOURS,
    }


def _legend(colours: dict[str, str], counts: dict[str, int]) -> list[dict[str, Any]]:
    return [{"value": v, "colour": c, "count": counts.get(v, 0)} for v, c in colours.items()]


def _sources(rule: Rule) -> list[dict[str, Any]]:
    return [{"cite": s.cite, "url": s.url, "quote": s.quote, "note": s.note} for s in rule.sources]


def _agreement(a: Agreement) -> dict[str, Any]:
    return {
        "kind": "287(g) agreement" if a.kind == "287g" else "ICE jail-bed contract",
        "model": a.model,
        "board_approval": a.board_approval,
        "start": a.in_force.start.isoformat(),
        "until": a.in_force.until.isoformat() if a.in_force.until else None,
        "note": a.notes,
        "sources": [{"cite": s.cite, "url": s.url, "quote": s.quote, "note": s.note} for s in a.sources],
    }


def _rule_entry(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "kind": rule.kind,
        "level": rule.level,
        "start": rule.in_force.start.isoformat(),
        "until": rule.in_force.until.isoformat() if rule.in_force.until else None,
        "sources": _sources(rule),
    }


def _place_rules(rb: Rulebase, place: Place) -> tuple[list[Rule], list[Rule]]:
    """(the place's own county or city rules, the state and federal rules that reach it)."""
    own: list[Rule] = []
    above: list[Rule] = []
    for rule in rb.rules:
        if not rule_reaches(rule, place) or rule.kind == "definition":
            continue
        (own if rule.level in ("county", "city") else above).append(rule)
    if place.kind == "doc":
        own = [r for r in above if section_of(r)[0] == 2]
        above = [r for r in above if section_of(r)[0] != 2]
    return own, above


def build_site(rb: Rulebase, out: Path, engine: Engine | None = None, today: dt.date | None = None) -> SiteStats:
    """Write the whole site into `out` (created if missing; files of earlier builds are replaced)."""
    engine = engine or get_engine()
    today = today or dt.date.today()
    out.mkdir(parents=True, exist_ok=True)
    scenario = standard_scenarios(rb)[0]
    places = all_places(rb)
    dates = interval_dates(rb)
    sw = sweep(rb, [scenario], places, dates, engine)
    current = _current(dates, today)
    actions = rb.actions
    pages = 0

    def page(rel: str, template: str, **ctx: Any) -> None:
        nonlocal pages
        root = "../" * rel.count("/")
        _write(out / rel, render_page(template, standalone=False, root=root, **ctx))
        pages += 1

    shutil.copyfile(TEMPLATES / "style.css", out / "style.css")
    shutil.copyfile(TEMPLATES / "map.js", out / "map.js")
    data = _map_data(sw, scenario.id, dates, actions)
    _write(out / "map-data.js", "window.PE_MAP = " + json.dumps(data, separators=(",", ":")) + ";\n")

    # home: the map
    svg = render_map_svg(sw, scenario.id, current, MAP_ACTION, "verdict", link="place/{key}.html", legend=False)
    counts: dict[str, int] = {}
    for fips in geometry()["counties"]:
        place = next(p for p in places if p.fips == fips)
        v = sw.decision(scenario.id, place, current, MAP_ACTION)["verdict"]
        counts[v] = counts.get(v, 0) + 1
    page(
        "index.html",
        "index.html",
        scenario=scenario,
        svg=_markup(svg),
        actions=actions,
        map_action=MAP_ACTION,
        dates=[d.isoformat() for d in dates],
        current=current.isoformat(),
        legend=_legend(COLOURS["verdict"], counts),
    )

    # the matrix
    mdata = matrix_data(sw, scenario.id, current, actions)
    page("matrix.html", "matrix_site.html", data=mdata, legend=legend_lines()[:2], link=True)

    # places
    page("counties.html", "places.html", places=places)
    for place in places:
        changes = timeline(sw, scenario.id, place, actions)
        own, above = _place_rules(rb, place)
        agreements = [
            _agreement(a) for a in rb.registry.agreements if place.kind == "county" and a.county == place.county
        ]
        result = sw.result(scenario.id, place, current)
        page(
            f"place/{place.key}.html",
            "place.html",
            place=place,
            scenario=scenario,
            current=current.isoformat(),
            decisions=result["decisions"],
            agency=result["jurisdiction"]["agency"],
            changes=changes,
            link=True,
            own=[_rule_entry(r) for r in own],
            above=[_rule_entry(r) for r in sorted(above, key=lambda r: (section_of(r)[0], r.id))],
            agreements=agreements,
        )

    # the rule book and a page per rule
    book = rulebook(rb)
    head, rest = split_intro(book)  # the title and the counts, then the contents
    page(
        "rules/index.html",
        "document.html",
        title=book.title,
        intro=_markup(body_html(head)),
        toc=_markup(toc_html(book)),
        body=_markup(body_html(rest)),
    )
    for rule in rb.rules:
        doc = Doc(rule.title, rule_blocks(rb, rule))
        page(
            f"rules/{rule.id}.html",
            "rule.html",
            rule=rule,
            section=section_of(rule)[1],
            body=_markup(body_html(doc)),
        )

    # a memo per bundled scenario
    memos = []
    for s in load_scenarios(scenario_files([bundled.scenarios_dir()]), rb):
        ev = evaluate(s, rb, engine)
        doc = Doc(s.head.title)
        for memo in memo_docs(ev, rb):
            doc.add(*memo.blocks)
        body = _markup(body_html(doc))
        page(f"memos/{s.id}.html", "document.html", title=f"Memo: {s.head.title}", intro=None, toc=None, body=body)
        memos.append({"id": s.id, "title": s.head.title, "date": s.head.date.isoformat()})
    page("memos/index.html", "memos.html", memos=sorted(memos, key=lambda m: m["id"]))
    return SiteStats(pages, len(places), len(rb.rules), len(memos), len(dates))
