"""`policyengine explain`: a memo per action for one scenario, in Markdown or HTML."""

from __future__ import annotations

import argparse
import sys

from policyengine.cli.options import add_engine_option, add_known_on_option, add_rules_option
from policyengine.engine import get_engine
from policyengine.errors import InputError
from policyengine.pipeline import evaluate, load_rulebase, load_scenario
from policyengine.report.blocks import RENDER, Doc
from policyengine.report.memo import memo_docs


def register(sub) -> None:
    p = sub.add_parser(
        "explain",
        help="write an explanation memo per action for a scenario",
        description="For each action (or the one named): the question, the facts, the governing rule "
        "and its quoted sources, how its conditions met the facts, the rules defeated and why, the "
        "conclusion, and the jurisdiction's practice.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="a scenario file")
    p.add_argument("--action", metavar="A", action="append", help="only this action (may be repeated)")
    p.add_argument("--format", choices=sorted(RENDER), default="markdown")
    add_known_on_option(p)
    add_rules_option(p)
    add_engine_option(p)
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    rulebase = load_rulebase(args.rules)
    scenario = load_scenario(args.scenario, rulebase)
    for action in args.action or []:
        if action not in rulebase.vocabulary.actions:
            raise InputError.at(args.scenario, None, f"'{action}' is not an action in the vocabulary")
    ev = evaluate(scenario, rulebase, get_engine(args.engine), known_on=args.known_on)
    docs = memo_docs(ev, rulebase, args.action)
    render = RENDER[args.format]
    if args.format == "html":
        merged = Doc(docs[0].title if len(docs) == 1 else f"Memos: {scenario.head.title}")
        for doc in docs:
            merged.add(*doc.blocks)
        sys.stdout.write(render(merged))
    else:
        sys.stdout.write("\n---\n\n".join(render(doc) for doc in docs))
    return 0
