"""`policyengine schema`: print or write the JSON Schemas for rule and scenario files.

Writes only where told (`--out DIR`); `--print rules|scenario` writes to standard output,
and `--path` prints where the bundled copies are (what the bundled files' `$schema`
comments point at, in a checkout and once installed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from policyengine import bundled
from policyengine.cli.options import Subcommands, add_rules_option
from policyengine.errors import InputError


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "schema",
        help="print or write JSON Schemas for rule and scenario files",
        description="Generate rules.schema.json and scenario.schema.json from the models and the vocabulary. "
        "Editors validate YAML files with them through a first-line comment "
        "'# yaml-language-server: $schema=PATH'; the bundled files point at docs/schema/ beside rules/.",
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument("--out", metavar="DIR", help="write both schemas into DIR (e.g. docs/schema)")
    what.add_argument("--print", choices=["rules", "scenario"], dest="print_", help="print one schema")
    what.add_argument("--path", action="store_true", help="print the directory of the bundled schemas")
    add_rules_option(p)
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    if args.path:
        print(bundled.schema_dir())
        return 0
    if args.out is None and args.print_ is None:
        raise InputError.at(
            "schema", None, "say where: --out DIR writes both schemas, --print rules|scenario prints one"
        )
    from policyengine.pipeline import load_rulebase
    from policyengine.schema import render, rules_schema, scenario_schema, write_schemas

    rulebase = load_rulebase(args.rules)
    if args.print_:
        sys.stdout.write(render(rules_schema(rulebase) if args.print_ == "rules" else scenario_schema(rulebase)))
        return 0
    for path in write_schemas(rulebase, Path(args.out)):
        print(path)
    return 0
