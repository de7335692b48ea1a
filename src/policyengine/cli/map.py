"""`policyengine map`: an SVG map of Minnesota's counties for one action on one date."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from policyengine.cli.options import add_engine_option, add_rules_option
from policyengine.cli.views import add_known_on_option, add_scenario_option, chosen_actions, one_scenario, parse_date


def register(sub) -> None:
    p = sub.add_parser(
        "map",
        help="an SVG map of the 87 counties for one action on one date",
        description="An SVG map of Minnesota's 87 counties, coloured by the legal verdict (or the practice) "
        "for one action on one date, with a legend and a tooltip and a link per county.",
    )
    add_rules_option(p)
    add_scenario_option(p)
    p.add_argument("--action", default="hold_beyond_release", metavar="ACTION", help="default: hold_beyond_release")
    p.add_argument("--as-of", type=parse_date, metavar="DATE", help="the date of the event (default: today)")
    p.add_argument("--by", choices=["verdict", "practice"], default="verdict", help="what the colours show")
    p.add_argument("--link", default="place/{key}.html", metavar="PATTERN", help="each county's link ('' for none)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the SVG here instead of standard output")
    add_engine_option(p)
    add_known_on_option(p, None)
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from policyengine.engine import get_engine
    from policyengine.pipeline import load_rulebase
    from policyengine.report.map import render_map_svg
    from policyengine.sweep import county_places, sweep

    rulebase = load_rulebase(args.rules)
    scenario = one_scenario(rulebase, args.scenario)
    action = chosen_actions(rulebase, [args.action], [])[0]
    day = args.as_of or dt.date.today()
    result = sweep(
        rulebase, [scenario], county_places(rulebase), [day], get_engine(args.engine), known_on=args.known_on
    )
    svg = render_map_svg(result, scenario.id, day, action, args.by, args.link or None)
    if args.output:
        Path(args.output).write_text(svg)
    else:
        sys.stdout.write(svg)
    return 0
