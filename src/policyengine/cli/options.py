"""Options several commands share, spelled and explained the same way everywhere."""

from __future__ import annotations

import argparse
from typing import TypeAlias

# What each command's `register(sub)` receives: the parser's table of sub-commands
# (argparse gives it no public name).
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_rules_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rules", metavar="DIR", help="rules directory (default: the bundled rules)")


def add_engine_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=["durable", "reference"],
        default=None,
        help="rule engine (default: durable_rules where it imports)",
    )
