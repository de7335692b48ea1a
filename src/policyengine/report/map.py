"""The map: Minnesota's 87 counties coloured by the verdict or the practice for one action.

County shapes come from the bundled geometry (`policyengine/geo/mn_counties.json`, built by
`tools/build_county_geometry.py` from the Census Bureau's cartographic boundary file); the
colours from a `sweep.Sweep`, so a map and the matrix of the same date always agree.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from policyengine.sweep import Sweep

GEOMETRY = Path(__file__).resolve().parent.parent / "geo" / "mn_counties.json"

VERDICT_COLOURS = {
    "required": "#5e3c99",
    "permitted": "#b2abd2",
    "contested": "#fdb863",
    "prohibited": "#e66101",
    "not_addressed": "#e8e8e8",
    "conflict": "#3a3a3a",
}
PRACTICE_COLOURS = {"does": "#2c7bb6", "does_not": "#abd9e9", "unknown": "#e8e8e8", "conflict": "#3a3a3a"}
COLOURS = {"verdict": VERDICT_COLOURS, "practice": PRACTICE_COLOURS}
LEGEND_TOP = 34.0


@cache
def geometry() -> dict[str, Any]:
    """The bundled county geometry: SVG path data keyed by FIPS code."""
    return json.loads(GEOMETRY.read_text())


def tooltip(name: str, d: dict[str, Any]) -> str:
    """What hovering a county says: name, verdict, practice and the deciding rules."""
    verdict = d["verdict"].replace("_", " ")
    if d.get("leaning"):
        verdict += f", leaning {d['leaning']}"
    lines = [name, f"verdict: {verdict}", f"practice: {d['practice'].replace('_', ' ')}"]
    if d["decided_by"]:
        lines.append("decided by: " + ", ".join(d["decided_by"]))
    if d.get("practice_by"):
        lines.append("practice from: " + ", ".join(d["practice_by"]))
    return "\n".join(lines)


def county_states(sw: Sweep, scenario_id: str, day: dt.date, action: str) -> dict[str, dict[str, Any]]:
    """FIPS -> the decision for `action` in that county (counties only, no DOC or cities)."""
    return {p.fips: sw.decision(scenario_id, p, day, action) for p in sw.places if p.kind == "county" and p.fips}


def render_map_svg(
    sw: Sweep,
    scenario_id: str,
    day: dt.date,
    action: str,
    by: str = "verdict",
    link: str | None = "place/{key}.html",
    legend: bool = True,
) -> str:
    """A standalone SVG: title with action and date, one linked shape per county, a legend
    (the site draws its own legend beside the map, so it asks for none)."""
    geo = geometry()
    colours = COLOURS[by]
    states = county_states(sw, scenario_id, day, action)
    names = {p.fips: p.label for p in sw.places if p.fips}
    width, height = geo["width"], geo["height"]
    legend_w = 190 if legend else 0
    total_w = width + legend_w
    title = f"{action.replace('_', ' ')}: {by} as of {day.isoformat()}"
    scenario = next(s for s in sw.scenarios if s.id == scenario_id)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total_w:g} {height:g}" '
        f'role="img" aria-labelledby="map-title map-desc" data-action={quoteattr(action)} '
        f'data-date="{day.isoformat()}" data-by="{by}" font-family="system-ui, sans-serif">',
        f'<title id="map-title">{escape(title)}</title>',
        f'<desc id="map-desc">{escape(scenario.head.title)}. Minnesota counties coloured by the {by} for '
        f"{escape(action)}. Draft, unreviewed; not legal advice.</desc>",
        '<g class="counties">',
    ]
    for fips, shape in sorted(geo["counties"].items()):
        d = states[fips]
        value = d[by]
        path = (
            f'<path class="county" id="c{fips}" d="{shape["path"]}" fill="{colours[value]}" '
            f'stroke="#ffffff" stroke-width="0.6" data-fips="{fips}" data-verdict="{d["verdict"]}" '
            f'data-practice="{d["practice"]}"><title>{escape(tooltip(names[fips], d))}</title></path>'
        )
        if link:
            href = link.format(key=fips)
            path = f"<a href={quoteattr(href)} aria-label={quoteattr(names[fips])}>{path}</a>"
        out.append(path)
    out.append("</g>")
    if not legend:
        return "\n".join([*out, "</svg>"]) + "\n"
    x0 = width + 10
    out.append(f'<g class="legend" font-size="13" transform="translate({x0:g},0)">')
    out.append(f'<text x="0" y="18" font-weight="bold">{escape(by.capitalize())}</text>')
    counts: dict[str, int] = {}
    for d in states.values():
        counts[d[by]] = counts.get(d[by], 0) + 1
    for i, (value, colour) in enumerate(colours.items()):
        y = LEGEND_TOP + i * 22
        out.append(f'<rect x="0" y="{y:g}" width="16" height="16" fill="{colour}" stroke="#999"/>')
        label = f"{value.replace('_', ' ')} ({counts.get(value, 0)})"
        out.append(f'<text x="22" y="{y + 13:g}">{escape(label)}</text>')
    y = LEGEND_TOP + len(colours) * 22 + 16
    for line in (action.replace("_", " "), f"as of {day.isoformat()}", "Draft, unreviewed;", "not legal advice."):
        out.append(f'<text x="0" y="{y:g}" font-size="12">{escape(line)}</text>')
        y += 16
    out.append("</g></svg>")
    return "\n".join(out) + "\n"
