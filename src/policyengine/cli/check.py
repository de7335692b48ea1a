"""`policyengine check`: static analysis of a rules directory, findings with stable codes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from policyengine.analysis import ERROR, INFO, WARNING, Report, analyse, scenario_yaml
from policyengine.cli.options import Subcommands


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "check",
        help="check a rules directory: errors, conflicts, gaps, shadowed rules",
        description="Static analysis of a rules directory. Each finding has a code explained in "
        "docs/errors/<code>.md. Exit status 2 when the rule files cannot be loaded (as for `run`), "
        "1 when any other finding is an error.",
    )
    p.add_argument("rules", nargs="?", metavar="RULES_DIR", help="rules directory (default: the bundled rules)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument(
        "--write-scenarios",
        metavar="DIR",
        help="also write each conflict's counterexample scenario to DIR/<id>.yaml",
    )
    p.set_defaults(handler=main)


def render_text(report: Report) -> str:
    out = []
    for f in report.sorted():
        out.append(f"{f.location()}: {f.severity}: {f.code}: {f.message}")
        if f.scenario is not None:
            out += ["    " + line for line in scenario_yaml(f.scenario).splitlines()]
    out.append(
        f"check: {report.rules_checked} rules, {report.count(ERROR)} errors, "
        f"{report.count(WARNING)} warnings, {report.count(INFO)} notes"
    )
    return "\n".join(out) + "\n"


def render_json(report: Report) -> str:
    payload = {
        "rules": report.root,
        "rules_checked": report.rules_checked,
        "counts": {k: report.count(k) for k in (ERROR, WARNING, INFO)},
        "findings": [f.as_dict() for f in report.sorted()],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def main(args: argparse.Namespace) -> int:
    report = analyse(args.rules)
    if args.write_scenarios:
        target = Path(args.write_scenarios)
        target.mkdir(parents=True, exist_ok=True)
        for f in report.sorted():
            if f.scenario is not None:
                (target / f"{f.scenario['id']}.yaml").write_text(scenario_yaml(f.scenario), encoding="utf-8")
    sys.stdout.write(render_json(report) if args.format == "json" else render_text(report))
    if report.bad_input:
        return 2
    return 1 if report.count(ERROR) else 0
