"""`policyengine rules`: the printable rule book, per jurisdiction, in Markdown or HTML."""

from __future__ import annotations

import argparse
import sys

from policyengine.cli.options import Subcommands, add_rules_option
from policyengine.errors import InputError
from policyengine.names import did_you_mean
from policyengine.pipeline import load_rulebase
from policyengine.report.blocks import RENDER, to_html
from policyengine.rulebook import rulebook


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "rules",
        help="print the rule book",
        description="Every rule in words, by jurisdiction: title, conclusion, conditions, dates, "
        "sources with quotes and links, review status.",
    )
    p.add_argument("--jurisdiction", metavar="X", help="federal, state, doc, a county or a city (e.g. Hennepin)")
    p.add_argument("--format", choices=sorted(RENDER), default="markdown")
    add_rules_option(p)
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    rulebase = load_rulebase(args.rules)
    doc = rulebook(rulebase, args.jurisdiction)
    if args.jurisdiction and not any(True for _ in doc.blocks[2:]):
        known = ["federal", "state", "doc", *rulebase.counties, *(c.name for c in rulebase.registry.cities)]
        hint = did_you_mean(args.jurisdiction.strip(), known)
        raise InputError.at("rules", None, f"no rules for jurisdiction '{args.jurisdiction}'{hint}")
    sys.stdout.write(to_html(doc, toc=True) if args.format == "html" else RENDER[args.format](doc))
    return 0
