"""`policyengine diff`: what changes between two dates, or between two rules directories.

Exit status 0 when nothing changed, 1 when something did (for review and CI), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys

from policyengine.cli.options import add_engine_option
from policyengine.cli.views import (
    add_action_option,
    add_known_on_option,
    add_scenario_option,
    chosen_actions,
    parse_date,
)
from policyengine.errors import InputError, Problem


def register(sub) -> None:
    p = sub.add_parser(
        "diff",
        help="what changes between two dates or two rules directories (exit 1 if anything does)",
        description="Every cell (scenario x county, DOC or city x action) whose verdict or practice differs, "
        "with before, after and the rules responsible. Two dates: --as-of A --as-of B. Two rulebases: "
        "--rules OLD --rules NEW (on each --as-of date given, or else on every change date of either). "
        "Asks the standard scenarios and any --scenario files. Exit 0 when nothing changed, 1 when "
        "something did.",
    )
    p.add_argument("--as-of", type=parse_date, action="append", metavar="DATE", help="a date (twice to compare)")
    p.add_argument("--rules", action="append", metavar="DIR", help="a rules directory (twice to compare)")
    add_scenario_option(p, many=True)
    add_action_option(p, "default: all")
    p.add_argument("--format", choices=["table", "markdown", "json"], default="table")
    add_engine_option(p)
    add_known_on_option(p, "as-of")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from policyengine.engine import get_engine
    from policyengine.pipeline import load_rulebase, load_scenarios
    from policyengine.report.timeline import changes_json, changes_markdown, changes_table, diff_dates, diff_rulebases
    from policyengine.standard import standard_scenarios
    from policyengine.sweep import Place, all_places, change_dates, sweep

    dates, rules = args.as_of or [], args.rules or []
    if len(rules) > 2 or (len(rules) < 2 and len(dates) != 2):
        raise InputError([Problem("diff", None, "give two --as-of dates, or two --rules directories")])
    engine = get_engine(args.engine)
    rulebases = [load_rulebase(r) for r in rules] if len(rules) == 2 else [load_rulebase(rules[0] if rules else None)]
    scenarios = []
    for rb in rulebases:
        found = standard_scenarios(rb) + (load_scenarios(args.scenario, rb) if args.scenario else [])
        scenarios.append(found)
    actions = chosen_actions(rulebases[-1], args.action, rulebases[-1].actions)
    places: list[Place] = all_places(rulebases[-1])
    if len(rulebases) == 1:
        before, after = dates
        result = sweep(rulebases[0], scenarios[0], places, [before, after], engine, known_on=args.known_on)
        changes = diff_dates(result, before, after, actions)
        title = f"Changes from {before.isoformat()} to {after.isoformat()}"
        head = {"before": before.isoformat(), "after": after.isoformat()}
    else:
        days = sorted(set(dates)) or sorted(set(change_dates(rulebases[0])) | set(change_dates(rulebases[1])))
        old, new = (
            sweep(rb, sc, places, days, engine, known_on=args.known_on)
            for rb, sc in zip(rulebases, scenarios, strict=True)
        )
        changes = diff_rulebases(old, new, actions)
        title = f"Changes from rules {rules[0]} to rules {rules[1]}"
        head = {"before": rules[0], "after": rules[1], "dates": [d.isoformat() for d in days]}
    intro = f"{len(changes)} changed cell(s) over {len(places)} places, {len(actions)} actions and the scenarios " + (
        ", ".join(s.id for s in scenarios[-1])
    )
    if args.format == "json":
        out = changes_json(changes, head)
    elif args.format == "markdown":
        out = changes_markdown(changes, title, intro)
    else:
        out = changes_table(changes, title, intro, show_place=True, show_date=len(rulebases) == 2)
    sys.stdout.write(out)
    return 1 if changes else 0
