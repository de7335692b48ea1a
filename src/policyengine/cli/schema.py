"""`policyengine schema`: write the JSON Schemas for rule and scenario files."""

from __future__ import annotations

import argparse
from pathlib import Path

from policyengine.cli.options import Subcommands, add_rules_option
from policyengine.pipeline import load_rulebase
from policyengine.schema import write_schemas


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "schema",
        help="write JSON Schemas for rule and scenario files",
        description="Generate rules.schema.json and scenario.schema.json from the models and the "
        "vocabulary (for editors: the YAML files point at docs/schema/ with a yaml-language-server comment).",
    )
    p.add_argument("--out", metavar="DIR", default="docs/schema", help="output directory (default: docs/schema)")
    add_rules_option(p)
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    for path in write_schemas(load_rulebase(args.rules), Path(args.out)):
        print(path)
    return 0
