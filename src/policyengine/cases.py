"""Cases, not records: the key under which records share one answer.

A record's decisions depend only on the facts the rules test (plus the agency, which `binds`
selects by, and the county, which selects the registry's agreements) and on which interval
between change dates its date falls in: the days on which a rule starts or stops being in
force, a rule's condition compares the date with, or a registry agreement starts or ends.
Records with the same key are the same case, so a batch evaluates each case once.
The 48-hour reference is not part of the key: it depends on the date and time themselves and
is computed (and cached) per date and time.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from typing import Any

from policyengine.check import facts_tested
from policyengine.pipeline import Rulebase
from policyengine.sweep import equality_values, in_force_bounds, rule_dates

ALWAYS_KEYED = ("agency", "place.county", "place.city")


def change_dates(rulebase: Rulebase, county: str | None = None, city: str | None = None) -> list[dt.date]:
    """Every day on which some decision can change (rules and registry agreements), anywhere or,
    given a county (and city), only there: county and city rules elsewhere cannot change it."""
    days: set[dt.date] = set()
    for rule in rulebase.rules:
        j = rule.jurisdiction
        if county is not None and (
            (j.level == "county" and j.county != county) or (j.level == "city" and j.city != city)
        ):
            continue
        days |= rule_dates(rule)
    for agreement in rulebase.registry.agreements:
        if county is None or agreement.county == county:
            days |= in_force_bounds(agreement.in_force)
    return sorted(days)


class CaseKeys:
    """Computes case keys for one rulebase: `key(facts, day)`."""

    def __init__(self, rulebase: Rulebase) -> None:
        vocab = rulebase.vocabulary.facts
        tested: set[str] = set()
        for rule in rulebase.program.rules:
            tested |= facts_tested(rule.condition)
        keyed = tested | set(ALWAYS_KEYED)
        #: the scenario facts that can change an answer, in vocabulary order (date aside)
        self.facts: tuple[str, ...] = tuple(
            name for name, spec in vocab.items() if name in keyed and name != "date" and spec.source == "scenario"
        )
        #: per place fact, the values some rule or agreement names; any other value is one case ("*")
        self.named: dict[str, frozenset[Any]] = {}
        for place in ("place.county", "place.city"):
            values: set[Any] = set()
            if all(equality_values(r.condition, place, values) for r in rulebase.program.rules):
                if place == "place.county":
                    values |= {a.county for a in rulebase.registry.agreements}
                self.named[place] = frozenset(values)
        self.rulebase = rulebase
        self._bounds: dict[tuple[Any, Any], list[str]] = {}

    def interval(self, day: dt.date | str, county: Any = None, city: Any = "none") -> int:
        """Which interval between change dates `day` (a date or ISO string) falls in, counting
        only the changes that reach `county` and `city` (as `value` gives them; None: anywhere)."""
        where = (county, city)
        bounds = self._bounds.get(where)
        if bounds is None:
            if county is None:
                days = change_dates(self.rulebase)
            else:  # "*": a county (or city) no rule names, which no county (or city) rule reaches
                days = change_dates(self.rulebase, county, city)
            bounds = self._bounds[where] = [d.isoformat() for d in days]
        return bisect_right(bounds, day if isinstance(day, str) else day.isoformat())

    def value(self, fact: str, value: Any) -> Any:
        """The value as far as the rules can tell it apart: an unnamed county or city is "*"."""
        named = self.named.get(fact)
        return "*" if named is not None and value not in named else value

    def key(self, facts: dict[str, Any], day: dt.date) -> tuple:
        """The case of a record: its keyed facts (stated or default) and its date's interval."""
        values = {n: self.value(n, facts.get(n, "none" if n == "place.city" else None)) for n in self.facts}
        where = (values.get("place.county"), values.get("place.city", "none"))
        return (tuple(values.values()), self.interval(day, *where))
