"""The federal 48-hour reference for a detainer's hold request.

8 C.F.R. § 287.7(d) asks the agency to "maintain custody of the alien for a period not
to exceed 48 hours, excluding Saturdays, Sundays, and holidays". This computes the
latest moment that period would reach, counted from the time the person would otherwise
be released. It is information only: in Minnesota such a hold is prohibited (Esparza;
Att'y Gen. Op. Feb. 6, 2025). Holidays are United States federal holidays, including
observed days, from the maintained `holidays` library.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeGuard

HOLD_LIMIT = dt.timedelta(hours=48)
BASIS = "8 C.F.R. § 287.7(d)"


@dataclass(frozen=True)
class HoldLimit:
    release: dt.datetime
    latest: dt.datetime
    excluded_days: tuple[tuple[dt.date, str], ...]


def _excluded(day: dt.date, federal: dict[dt.date, str]) -> str | None:
    if day.weekday() == 5:
        return "Saturday"
    if day.weekday() == 6:
        return "Sunday"
    return federal.get(day)


@lru_cache(maxsize=64)
def _federal_holidays(year: int) -> dict[dt.date, str]:
    """The federal holidays of `year` and the next (a hold may run into January, never further:
    48 hours and the weekend and holidays within them), each date with its name as `holidays`
    gives it. Built once per year by that library and kept in the user cache (`cache`), keyed
    by the installed `holidays` distribution: importing it and building a year took about
    150 ms, half of a `run` of a scenario with a release time (measured)."""
    from policyengine import cache

    stamp = cache.distribution_stamp("holidays") if cache.enabled() else None
    key = cache.derived_key("US federal holidays", stamp) if stamp else None
    stored = cache.load(key, "holidays") if key else None
    years: dict[int, dict[dt.date, str]] = stored if isinstance(stored, dict) else {}
    table = years.get(year)
    if not _a_table(table):  # absent, or a file of the right key with the wrong contents: rebuilt
        table = built_federal_holidays(year)
        if key:
            cache.store(key, {**years, year: table}, "holidays")
    return table


def _a_table(table: Any) -> TypeGuard[dict[dt.date, str]]:
    """Whether a stored table is one `built_federal_holidays` makes: dates and their names."""
    return isinstance(table, dict) and all(
        type(day) is dt.date and isinstance(name, str) for day, name in table.items()
    )


def built_federal_holidays(year: int) -> dict[dt.date, str]:
    """The table `_federal_holidays` keeps, from the `holidays` library itself (imported here:
    most commands never need it)."""
    import holidays

    return dict(holidays.country_holidays("US", years=range(year, year + 2)).items())


@lru_cache(maxsize=65536)
def federal_hold_limit(release: dt.datetime) -> HoldLimit:
    """48 hours from `release`, not counting Saturdays, Sundays and federal holidays."""
    federal = _federal_holidays(release.year)
    remaining, moment, skipped = HOLD_LIMIT, release, []
    while True:
        midnight = dt.datetime.combine(moment.date() + dt.timedelta(days=1), dt.time())
        reason = _excluded(moment.date(), federal)
        if reason:
            skipped.append((moment.date(), reason))
            moment = midnight
            continue
        if moment + remaining <= midnight:
            return HoldLimit(release, moment + remaining, tuple(skipped))
        remaining -= midnight - moment
        moment = midnight


def hold_limit_dict(day: dt.date, time: str | None) -> dict[str, Any]:
    """The reference as the JSON contract shows it; without a release time, no timestamp."""
    if time is None:
        return {"basis": BASIS, "note": "The scenario gives no release time; no limit computed."}
    limit = federal_hold_limit(dt.datetime.combine(day, dt.time.fromisoformat(time)))
    return {
        "basis": BASIS,
        "release_time": limit.release.isoformat(timespec="minutes"),
        "latest_hold_until": limit.latest.isoformat(timespec="minutes"),
        "excluded_days": [f"{d.isoformat()} ({why})" for d, why in limit.excluded_days],
        "note": "Federal reference only: it says how long the detainer asks the agency to hold, "
        "not that a hold is lawful here.",
    }
