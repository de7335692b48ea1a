"""`policyengine run`: evaluate scenario files and print the decisions."""

from __future__ import annotations

import argparse
import sys

from policyengine import bundled, names
from policyengine.answers import county_results, scenario_result
from policyengine.cli.options import (
    Subcommands,
    add_as_of_option,
    add_engine_option,
    add_known_on_option,
    add_rules_option,
)
from policyengine.engine import get_engine
from policyengine.errors import InputError, Problem
from policyengine.pipeline import load_rulebase, load_scenarios, scenario_files
from policyengine.report import RENDERERS
from policyengine.report.counties import render_county_table


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "run",
        help="evaluate scenario files",
        description="Evaluate scenario files (or every scenario below a directory).",
    )
    p.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="scenario files or directories; - reads one scenario (YAML or JSON) from standard input "
        "(default: the bundled sample scenarios)",
    )
    add_rules_option(p)
    add_as_of_option(p)
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
        help="evaluate in this county instead of the scenario's (any case, with or without 'County'); "
        "'all' gives one row per county",
    )
    p.add_argument(
        "--action",
        action="append",
        metavar="ACTION",
        help="only this action (repeat for more); with --county all the table's columns "
        "(default there: hold_beyond_release, notify_release, transfer_at_release)",
    )
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    rulebase = load_rulebase(args.rules)
    engine = get_engine(args.engine)
    actions = [names.action(a, rulebase.actions) for a in args.action or []] or None
    counties = None
    if args.county is not None:
        all_counties = args.county.strip().lower() == "all"
        counties = rulebase.counties if all_counties else [names.county(args.county, rulebase.counties)]
    paths = scenario_files(args.scenarios or [bundled.scenarios_dir()])
    if not paths:
        raise InputError([Problem(" ".join(args.scenarios) or "scenarios", None, "no scenario files found")])
    scenarios = load_scenarios(paths, rulebase)
    if counties is not None:
        return _run_counties(args, rulebase, engine, scenarios, counties, actions)
    if args.format == "csv":
        raise InputError([Problem("--format", None, "csv needs --county (one row per county and action)")])
    moved = [s for s in scenarios if s.head.expect and _moved(args, s)]
    if moved:
        flags = [f"--as-of {args.as_of}"] * (args.as_of is not None) + [f"--known-on {args.known_on}"] * bool(
            args.known_on
        )
        print(
            f"policyengine: {' '.join(flags)}: expectations of {len(moved)} scenario(s) not checked "
            "(they are written for each scenario's own dates)",
            file=sys.stderr,
        )
    results, failed = [], 0
    for scenario in scenarios:
        result = scenario_result(scenario, rulebase, engine, args.as_of, args.explain, actions, known_on=args.known_on)
        failed += bool(result.get("expectations", {}).get("failures"))
        results.append(result)
    sys.stdout.write(RENDERERS[args.format](results))
    if len(results) > 1:  # one line a reader of a long run can find at the end
        checks = [r["expectations"] for r in results if "expectations" in r]
        total, met = sum(c["total"] for c in checks), sum(c["met"] for c in checks)
        said = f"{met} of {total} expectations met in {len(checks)} scenarios" if checks else "no expectations checked"
        print(f"policyengine: {len(results)} scenarios; {said}", file=sys.stderr)
    if failed:
        print(f"policyengine: {failed} scenario(s) did not meet their expectations", file=sys.stderr)
        return 1
    return 0


def _moved(args: argparse.Namespace, scenario) -> bool:
    """Whether the command line moved the scenario off its own event date or date of knowledge."""
    return args.as_of is not None or args.known_on not in (None, scenario.head.known_on)


DEFAULT_COUNTY_ACTIONS = ["hold_beyond_release", "notify_release", "transfer_at_release"]


def _run_counties(args, rulebase, engine, scenarios, counties: list[str], actions: list[str] | None) -> int:
    """Each scenario once per county (or in one named county); expectations are not checked."""
    out = []
    for scenario in scenarios:
        results = county_results(
            scenario, rulebase, engine, counties, args.as_of, args.explain, actions, known_on=args.known_on
        )
        if args.format in ("json", "jsonl") or (len(counties) == 1 and args.format != "csv"):
            out.append(RENDERERS[args.format](results if len(counties) > 1 else results[:1]))
        else:
            out.append(render_county_table(results, actions or DEFAULT_COUNTY_ACTIONS, args.format))
    sys.stdout.write(("" if args.format in ("jsonl", "csv") else "\n").join(out))
    return 0
