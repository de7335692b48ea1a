"""`policyengine run`: evaluate scenario files and print the decisions."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from policyengine import bundled
from policyengine.cli.options import add_engine_option, add_known_on_option, add_rules_option
from policyengine.engine import get_engine
from policyengine.errors import InputError, Problem
from policyengine.expect import check_expectations
from policyengine.pipeline import evaluate, load_rulebase, load_scenarios, scenario_files
from policyengine.report import RENDERERS, evaluation_dict
from policyengine.report.counties import render_county_table


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="evaluate scenario files",
        description="Evaluate scenario files (or every scenario below a directory).",
    )
    p.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="scenario files or directories (default: the bundled sample scenarios)",
    )
    add_rules_option(p)
    p.add_argument(
        "--as-of", type=_date, metavar="DATE", help="evaluate the law as of this date instead of the scenario's"
    )
    add_known_on_option(p)
    p.add_argument("--format", choices=sorted(RENDERERS), default="table")
    p.add_argument("--explain", action="store_true", help="add the trace: facts matched, rules fired and defeated")
    add_engine_option(p)
    p.add_argument(
        "--county",
        metavar="NAME|all",
        help="evaluate in this county instead of the scenario's; 'all' gives one row per county",
    )
    p.add_argument(
        "--action",
        action="append",
        metavar="ACTION",
        help="with --county all: the actions to show (default: hold_beyond_release, "
        "notify_release, transfer_at_release); repeat for more",
    )
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    rulebase = load_rulebase(args.rules)
    engine = get_engine(args.engine)
    paths = scenario_files(args.scenarios or [bundled.scenarios_dir()])
    if not paths:
        raise InputError([Problem(" ".join(args.scenarios) or "scenarios", None, "no scenario files found")])
    scenarios = load_scenarios(paths, rulebase)
    if args.county is not None:
        return _run_counties(args, rulebase, engine, scenarios)
    skipped = sum(bool(s.head.expect) for s in scenarios) if args.as_of is not None else 0
    if skipped:
        print(
            f"policyengine: --as-of {args.as_of}: expectations of {skipped} scenario(s) not checked "
            "(they are written for each scenario's own date)",
            file=sys.stderr,
        )
    results, failed = [], 0
    for scenario in scenarios:
        ev = evaluate(scenario, rulebase, engine, as_of=args.as_of, known_on=args.known_on)
        result = evaluation_dict(ev, rulebase, explain=args.explain)
        if scenario.head.expect and args.as_of is None and args.known_on in (None, scenario.head.known_on):
            summary = check_expectations(scenario.head.expect, result)
            failed += bool(summary["failures"])
            result["expectations"] = summary
        results.append(result)
    sys.stdout.write(RENDERERS[args.format](results))
    if failed:
        print(f"policyengine: {failed} scenario(s) did not meet their expectations", file=sys.stderr)
        return 1
    return 0


DEFAULT_COUNTY_ACTIONS = ["hold_beyond_release", "notify_release", "transfer_at_release"]


def _run_counties(args, rulebase, engine, scenarios) -> int:
    """Each scenario once per county (or in one named county); expectations are not checked."""
    if args.county == "all":
        counties = rulebase.counties
    elif args.county in rulebase.counties:
        counties = [args.county]
    else:
        raise InputError([Problem("--county", None, f"'{args.county}' is not a Minnesota county in the registry")])
    actions = args.action or DEFAULT_COUNTY_ACTIONS
    unknown = [a for a in actions if a not in rulebase.actions]
    if unknown:
        raise InputError([Problem("--action", None, f"'{unknown[0]}' is not an action in the vocabulary")])
    fips = {c.name: c.fips for c in rulebase.registry.counties}
    out = []
    for scenario in scenarios:
        results = []
        for county in counties:
            ev = evaluate(scenario, rulebase, engine, args.as_of, county, args.known_on)
            result = evaluation_dict(ev, rulebase, args.explain)
            result["jurisdiction"]["fips"] = fips[county]
            results.append(result)
        if args.format == "json":
            out.append(RENDERERS["json"](results if len(counties) > 1 else results[:1]))
        elif len(counties) == 1:
            out.append(RENDERERS[args.format](results))
        else:
            out.append(render_county_table(results, actions, args.format))
    sys.stdout.write("\n".join(out))
    return 0
