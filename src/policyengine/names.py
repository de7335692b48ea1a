"""Names as people type them: counties and cities in any case, with or without "County",
and a "did you mean" for a near miss (counties, cities, actions, agencies, fact values).

Used by the command line and the HTTP API for what a user types; rule and scenario files
keep the registry's exact spelling (a near miss there is an error with the suggestion).
"""

from __future__ import annotations

from collections.abc import Iterable

from policyengine.errors import InputError


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """` (did you mean 'X'?)` for the closest choice, or an empty string when none is close."""
    import difflib  # only when a name is wrong (a run of good files never needs it)

    options = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(str(word).lower(), list(options), n=1, cutoff=0.6)
    return f" (did you mean '{options[close[0]]}'?)" if close else ""


def _key(name: str) -> str:
    """Case, dots, extra spaces and a trailing "County" make no difference: "st louis county"."""
    words = name.replace(".", " ").lower().split()
    if len(words) > 1 and words[-1] == "county":
        words = words[:-1]
    return " ".join(words)


def find_name(text: str, names: Iterable[str]) -> str | None:
    """The name in `names` that `text` means, ignoring case, dots and a "County" suffix."""
    wanted = _key(text)
    return next((n for n in names if _key(n) == wanted), None)


def county(text: str, counties: list[str], where: str = "--county") -> str:
    """A registry county from what a user typed, or a located error with a suggestion."""
    found = find_name(text, counties)
    if found is None:
        hint = did_you_mean(_key(text), counties)
        raise InputError.at(where, None, f"'{text}' is not a Minnesota county in the registry{hint}")
    return found


def action(text: str, actions: list[str], where: str = "--action") -> str:
    """A vocabulary action; `-` and `_` and case are forgiven, a near miss gets a suggestion."""
    wanted = text.strip().lower().replace("-", "_")
    if wanted in actions:
        return wanted
    raise InputError.at(where, None, f"'{text}' is not an action in the vocabulary{did_you_mean(wanted, actions)}")
