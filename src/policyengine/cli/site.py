"""`policyengine site OUT/`: build the static website (map, matrix, places, rules, memos)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from policyengine.cli.options import add_engine_option, add_rules_option
from policyengine.cli.views import parse_date


def register(sub) -> None:
    p = sub.add_parser(
        "site",
        help="build the static website into a directory",
        description="A static website that works from file:// and any static host, with no network: the map "
        "(action selector, date control through the change dates), the matrix, a page per county, the DOC "
        "and each city with rules, a page per rule, the rule book and a memo per bundled scenario.",
    )
    p.add_argument("out", metavar="OUT", help="the directory to write (created if missing)")
    add_rules_option(p)
    p.add_argument("--today", type=parse_date, metavar="DATE", help="the date the map and matrix open on")
    add_engine_option(p)
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from policyengine.engine import get_engine
    from policyengine.pipeline import load_rulebase
    from policyengine.website import build_site

    start = time.monotonic()
    rulebase = load_rulebase(args.rules)
    stats = build_site(rulebase, Path(args.out), get_engine(args.engine), args.today)
    print(
        f"policyengine: wrote {stats.pages} pages to {args.out} ({stats.places} places, {stats.rules} rules, "
        f"{stats.memos} memos, {stats.dates} dates) in {time.monotonic() - start:.1f} s; "
        f"open {Path(args.out) / 'index.html'}"
    )
    return 0
