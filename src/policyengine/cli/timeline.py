"""`policyengine timeline`: every date on which a decision changes in one county, the DOC or a city."""

from __future__ import annotations

import argparse
import sys

from policyengine.cli.options import add_engine_option, add_rules_option
from policyengine.cli.views import (
    add_action_option,
    add_known_on_option,
    add_scenario_option,
    chosen_actions,
    one_scenario,
)
from policyengine.errors import InputError, Problem


def register(sub) -> None:
    p = sub.add_parser(
        "timeline",
        help="every date on which a verdict or practice changes in one place",
        description="For a county (its jail), the DOC or a city with rules (its police): every date on which a "
        "verdict or a practice changes, from what to what, and the rule or agreement that changed it, with "
        "its source. Computed from the rules' in_force boundaries and the registry.",
    )
    p.add_argument("--county", required=True, metavar="NAME", help="a county, 'DOC', or a city with rules")
    add_rules_option(p)
    add_scenario_option(p)
    add_action_option(p, "default: all")
    p.add_argument("--format", choices=["table", "markdown", "json", "html"], default="table")
    add_engine_option(p)
    add_known_on_option(p, None)
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from policyengine.engine import get_engine
    from policyengine.pipeline import load_rulebase
    from policyengine.report.timeline import changes_json, changes_markdown, changes_table, timeline
    from policyengine.sweep import find_place, interval_dates, sweep

    rulebase = load_rulebase(args.rules)
    place = find_place(rulebase, args.county)
    if place is None:
        raise InputError([Problem("--county", None, f"'{args.county}' is not a county, the DOC or a city with rules")])
    scenario = one_scenario(rulebase, args.scenario)
    actions = chosen_actions(rulebase, args.action, rulebase.actions)
    result = sweep(
        rulebase, [scenario], [place], interval_dates(rulebase, place), get_engine(args.engine), known_on=args.known_on
    )
    changes = timeline(result, scenario.id, place, actions)
    title = f"Timeline: {place.label}"
    intro = f"{scenario.head.title}. Each change: verdict / practice before → after, and the rules behind it."
    if args.format == "json":
        out = changes_json(changes, {"place": place.key, "name": place.label, "scenario": scenario.id})
    elif args.format == "markdown":
        out = changes_markdown(changes, title, intro)
    elif args.format == "html":
        from policyengine.report.html import render_page

        out = render_page("timeline_page.html", title=title, intro=intro, changes=changes)
    else:
        out = changes_table(changes, title, intro, show_place=False, show_date=True)
    sys.stdout.write(out)
    return 0
