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
    p.add_argument(
        "--format",
        choices=sorted([*RENDERERS, "csv"]),
        default="table",
        help="csv: with --county, one row per county and action",
    )
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
        help="with --county: the actions to show, in every format (default for --county all: "
        "hold_beyond_release, notify_release, transfer_at_release); repeat for more",
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
    if args.format == "csv":
        raise InputError([Problem("--format", None, "csv needs --county (one row per county and action)")])
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
    """Each scenario once per county (or in one named county), through one sweep per scenario;
    expectations are not checked. `--action` limits the actions shown in every format."""
    from policyengine.report.trace import trace_dict
    from policyengine.sweep import county_places, sweep

    places = county_places(rulebase)
    if args.county != "all":
        places = [p for p in places if p.name == args.county]
        if not places:
            raise InputError([Problem("--county", None, f"'{args.county}' is not a Minnesota county in the registry")])
    actions = args.action or (DEFAULT_COUNTY_ACTIONS if len(places) > 1 else None)
    unknown = [a for a in actions or [] if a not in rulebase.actions]
    if unknown:
        raise InputError([Problem("--action", None, f"'{unknown[0]}' is not an action in the vocabulary")])
    out = []
    for scenario in scenarios:
        day = args.as_of or scenario.head.date
        result = sweep(rulebase, [scenario], places, [day], engine, known_on=args.known_on)
        results = []
        for place in places:
            cell = dict(result.result(scenario, place, day))
            cell.pop("place", None)
            if actions:
                cell["decisions"] = [d for d in cell["decisions"] if d["action"] in actions]
            if args.explain:
                cell["trace"] = trace_dict(result.evaluations[(scenario.id, place.key, day)], rulebase)
            results.append(cell)
        if args.format == "json":
            out.append(RENDERERS["json"](results if len(places) > 1 else results[:1]))
        elif len(places) == 1 and args.format != "csv":
            out.append(RENDERERS[args.format](results))
        else:
            out.append(render_county_table(results, actions or rulebase.actions, args.format))
    sys.stdout.write("\n".join(out) if args.format != "csv" else "".join(out))
    return 0
