"""`policyengine test`: run scenario files' expectations as tests, outside pytest.

Exit status: 0 all met; 1 an expectation failed, no scenario with expectations was
found (with --fail-on-empty), coverage fell below --threshold, or a mutant survived or a
listed equivalent mutant is killed or gone (unless --report-only); 2 bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from fractions import Fraction
from typing import Any

from policyengine import bundled
from policyengine.checked import Scenario
from policyengine.cli.options import Subcommands, add_engine_option, add_known_on_option, add_rules_option
from policyengine.engine import get_engine
from policyengine.errors import InputError
from policyengine.pipeline import load_rulebase, load_scenarios
from policyengine.testing.collection import (
    duplicate_ids,
    format_failure,
    outcome_dict,
    run_scenario,
    with_expectations,
)
from policyengine.testing.coverage import coverage_dict, coverage_text, measure
from policyengine.testing.mutations import Equivalents, mutation_dict, mutation_text, run_mutations


def _threshold(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"'{text}' is not a percentage between 0 and 100")
    return value


def _shown(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else float(value)


def known_on(scenario: Scenario, day: dt.date) -> Scenario:
    """The scenario judged with the knowledge of `day`, unless it names its own known_on."""
    if scenario.head.known_on is not None:
        return scenario
    return Scenario(dataclasses.replace(scenario.head, known_on=day), scenario.facts, scenario.file)


def _equivalents(args: argparse.Namespace) -> Equivalents | None:
    """The equivalents file named, or the bundled one for the bundled rules (none for other rules)."""
    if args.equivalents is not None:
        return Equivalents.load(args.equivalents)
    if args.rules is None and bundled.equivalents_file().is_file():
        return Equivalents.load(bundled.equivalents_file())
    return None


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "test",
        help="run scenario expectations as tests (with coverage and mutation testing)",
        description="Run every scenario with an `expect:` block (default: the bundled scenarios) and report "
        "each expectation that fails, with expected versus actual and the trace.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or directories")
    add_rules_option(p)
    add_engine_option(p)
    add_known_on_option(p, scenario_wins=True)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--fail-on-empty", action="store_true", help="exit 1 when no scenario with expectations is found")
    p.add_argument("--coverage", action="store_true", help="report which rules the scenarios exercise")
    p.add_argument(
        "--threshold",
        type=_threshold,
        metavar="PERCENT",
        help="with --coverage: exit 1 unless at least this share of rules is decisive in a scenario (exact)",
    )
    p.add_argument("--mutations", action="store_true", help="mutation-test the rulebase; exit 1 if a mutant survives")
    p.add_argument("--report-only", action="store_true", help="with --mutations: report survivors but exit 0")
    p.add_argument(
        "--mutant-engine",
        choices=["reference", "durable"],
        default="reference",
        help="engine for mutants (default: reference, the fast plain-Python evaluator)",
    )
    p.add_argument(
        "--mutants-of",
        action="append",
        metavar="RULE",
        help="with --mutations: only the mutants of this rule (repeatable), for a quick run",
    )
    p.add_argument(
        "--equivalents",
        metavar="FILE",
        help="with --mutations: the file of mutants listed as equivalent, with reasons "
        "(default: the bundled mutants/equivalent.yaml when --rules is not given)",
    )
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    if args.threshold is not None and not args.coverage:
        raise InputError.at("policyengine test", None, "--threshold needs --coverage")
    rulebase = load_rulebase(args.rules)
    engine = get_engine(args.engine)
    scenarios = load_scenarios(args.paths or [bundled.scenarios_dir()], rulebase)
    if args.known_on is not None:
        scenarios = [known_on(s, args.known_on) for s in scenarios]
    tests = with_expectations(scenarios)
    if duplicate := duplicate_ids(tests):
        raise InputError(duplicate)
    outcomes = [run_scenario(s, rulebase, engine) for s in tests]
    failed = [o for o in outcomes if not o.passed]
    status = 1 if failed else 0
    if args.fail_on_empty and not tests:
        status = 1
    report: dict[str, Any] = {
        "engine": engine.name,
        "scenarios": [outcome_dict(o) for o in outcomes],
        "summary": {
            "files": len(scenarios),
            "with_expectations": len(tests),
            "passed": len(tests) - len(failed),
            "failed": len(failed),
        },
    }
    text: list[str] = [format_failure(o) + "\n" for o in failed]
    if not tests:
        text.append("no scenario with expectations found\n")
    text.append(
        f"{len(tests) - len(failed)} passed, {len(failed)} failed "
        f"({len(tests)} scenario(s) with expectations, engine {engine.name})\n"
    )
    if args.coverage:
        cov = measure(outcomes, rulebase)
        report["coverage"] = coverage_dict(cov)
        text.append(coverage_text(cov))
        if args.threshold is not None:
            ok = cov.meets(args.threshold)
            report["coverage"]["threshold"] = _shown(args.threshold)
            report["coverage"]["meets_threshold"] = ok
            if not ok:
                text.append(f"coverage is below the threshold of {_shown(args.threshold)}%\n")
                status = 1
    if args.mutations:
        only = set(args.mutants_of) if args.mutants_of else None
        if only and (unknown := sorted(only - set(rulebase.by_id))):
            raise InputError.at("policyengine test", None, f"--mutants-of: no rule {', '.join(unknown)}")
        mreport = run_mutations(
            tests, rulebase, get_engine(args.mutant_engine), only=only, equivalents=_equivalents(args)
        )
        report["mutations"] = mutation_dict(mreport)
        text.append(mutation_text(mreport))
        if mreport.failed and not args.report_only:
            status = 1
    if args.format == "json":
        sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write("".join(text))
    return status
