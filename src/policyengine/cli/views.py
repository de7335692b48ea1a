"""What the view commands (matrix, map, timeline, diff, site) share: their options and the
scenarios, places and actions those options name."""

from __future__ import annotations

import argparse
import datetime as dt

from policyengine.checked import Scenario
from policyengine.errors import InputError, Problem
from policyengine.pipeline import Rulebase, load_scenarios
from policyengine.standard import standard_scenarios


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def parse_known_on(text: str) -> dt.date | str:
    """A date of knowledge: a date, or `as-of` (each date judged with what was known that day)."""
    return text if text == "as-of" else parse_date(text)


def add_known_on_option(p: argparse.ArgumentParser, default: str | None = None) -> None:
    said = "each date's own" if default == "as-of" else "today"
    p.add_argument(
        "--known-on",
        type=parse_known_on,
        default=default,
        metavar="DATE|as-of",
        help="judge with the law as known on this day (rules declared later are set aside); 'as-of': "
        f"each date with the knowledge of that date (default: {said})",
    )


def add_scenario_option(p: argparse.ArgumentParser, many: bool = False) -> None:
    p.add_argument(
        "--scenario",
        action="append" if many else "store",
        metavar="FILE",
        help="a scenario file to ask instead of the standard scenario"
        + ("s (repeat for more; given files are asked as well as the standard ones)" if many else ""),
    )


def add_action_option(p: argparse.ArgumentParser, default_help: str) -> None:
    p.add_argument(
        "--action", action="append", metavar="ACTION", help=f"an action to show, repeatable, or 'all' ({default_help})"
    )


def chosen_actions(rulebase: Rulebase, wanted: list[str] | None, default: list[str]) -> list[str]:
    """The actions named (vocabulary order kept for 'all'), each checked against the vocabulary."""
    if not wanted:
        return list(default)
    if "all" in wanted:
        return rulebase.actions
    for action in wanted:
        if action not in rulebase.actions:
            raise InputError([Problem("--action", None, f"'{action}' is not an action in the vocabulary")])
    return list(dict.fromkeys(wanted))


def one_scenario(rulebase: Rulebase, path: str | None) -> Scenario:
    """The scenario file named, or the default standard scenario."""
    if path is None:
        return standard_scenarios(rulebase)[0]
    found = load_scenarios([path], rulebase)
    if len(found) != 1:
        raise InputError([Problem(path, None, f"expected one scenario file, found {len(found)}")])
    return found[0]
