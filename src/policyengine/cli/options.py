"""Options several commands share, spelled and explained the same way everywhere."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TypeAlias

# What each command's `register(sub)` receives: the parser's table of sub-commands
# (argparse gives it no public name).
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_known_on_option(p: argparse.ArgumentParser, scenario_wins: bool = False) -> None:
    extra = " A scenario's own known_on wins." if scenario_wins else ""
    p.add_argument(
        "--known-on",
        type=iso_date,
        metavar="DATE",
        help="judge with the law as it was known on this day: rules whose authority was declared later "
        "are set aside (default: the scenario's known_on, else today)." + extra,
    )


def add_rules_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rules", metavar="DIR", help="rules directory (default: the bundled rules)")


def add_engine_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=["durable", "reference"],
        default=None,
        help="rule engine (default: durable_rules where it imports)",
    )


def iso_date(text: str) -> dt.date:
    """An argparse type: a calendar date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def add_as_of_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--as-of", type=iso_date, metavar="DATE", help="evaluate the law as of this date instead of the scenario's"
    )
