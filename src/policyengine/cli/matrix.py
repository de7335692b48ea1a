"""`policyengine matrix`: places x actions for one scenario on one date."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from policyengine.cli.options import add_engine_option, add_rules_option
from policyengine.cli.views import (
    add_action_option,
    add_known_on_option,
    add_scenario_option,
    chosen_actions,
    one_scenario,
    parse_date,
)

DEFAULT_ACTIONS = [
    "hold_beyond_release",
    "notify_release",
    "transfer_at_release",
    "operate_287g",
    "house_ice_detainees",
]


def register(sub) -> None:
    p = sub.add_parser(
        "matrix",
        help="every county, the DOC and cities with rules x actions, on one date",
        description="One row per county (its jail), the Department of Corrections and each city with rules "
        "(its police); one column per action; each cell the legal verdict and the practice, with the "
        "deciding rules in the csv, json, markdown and html formats.",
    )
    add_rules_option(p)
    add_scenario_option(p)
    p.add_argument("--as-of", type=parse_date, metavar="DATE", help="the date of the event (default: today)")
    add_action_option(p, "default: " + ", ".join(DEFAULT_ACTIONS))
    p.add_argument("--format", choices=["table", "csv", "json", "markdown", "html"], default="table")
    add_engine_option(p)
    add_known_on_option(p, None)
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from policyengine.engine import get_engine
    from policyengine.pipeline import load_rulebase
    from policyengine.report.matrix import RENDERERS, matrix_data
    from policyengine.sweep import all_places, sweep

    rulebase = load_rulebase(args.rules)
    scenario = one_scenario(rulebase, args.scenario)
    actions = chosen_actions(rulebase, args.action, DEFAULT_ACTIONS)
    day = args.as_of or dt.date.today()
    result = sweep(rulebase, [scenario], all_places(rulebase), [day], get_engine(args.engine), known_on=args.known_on)
    sys.stdout.write(RENDERERS[args.format](matrix_data(result, scenario.id, day, actions)))
    return 0
