"""`policyengine explain`: a memo per action for one scenario, in Markdown or HTML."""

from __future__ import annotations

import argparse
import sys

from policyengine import names
from policyengine.cli.options import (
    Subcommands,
    add_as_of_option,
    add_engine_option,
    add_known_on_option,
    add_rules_option,
)
from policyengine.engine import get_engine
from policyengine.pipeline import evaluate, load_rulebase, load_scenario
from policyengine.report.blocks import RENDER
from policyengine.report.memo import memo_docs, render_memos


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "explain",
        help="write an explanation memo per action for a scenario",
        description="For each action (or the one named): the question, the facts, the governing rule "
        "and its quoted sources, how its conditions met the facts, the rules defeated and why, the "
        "conclusion, and the jurisdiction's practice.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="a scenario file (- reads it from standard input)")
    p.add_argument("--action", metavar="A", action="append", help="only this action (may be repeated)")
    add_as_of_option(p)
    p.add_argument(
        "--county", metavar="NAME", help="in this county instead of the scenario's (any case, with or without 'County')"
    )
    p.add_argument("--format", choices=sorted(RENDER), default="markdown")
    add_known_on_option(p)
    add_rules_option(p)
    add_engine_option(p)
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    rulebase = load_rulebase(args.rules)
    scenario = load_scenario(args.scenario, rulebase)
    actions = [names.action(a, rulebase.actions) for a in args.action or []] or None
    county = names.county(args.county, rulebase.counties) if args.county is not None else None
    engine = get_engine(args.engine)
    ev = evaluate(scenario, rulebase, engine, as_of=args.as_of, county=county, known_on=args.known_on)
    docs = memo_docs(ev, rulebase, actions)
    sys.stdout.write(render_memos(docs, args.format, scenario.head.title))
    return 0
