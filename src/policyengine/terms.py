"""The legal terms the engine decides with, as str-valued enums.

Each member is its own string (`Verdict.CONTESTED == "contested"`), so the JSON contract,
the tables and the memos print exactly what they printed when these were bare strings,
while the code names each term once and a misspelling is an error, not a silent miss.
The file formats (model.py) still read them as plain words; check.py turns them into
these members.
"""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """The level of government a rule belongs to, from the top down."""

    FEDERAL = "federal"
    STATE = "state"
    COUNTY = "county"
    CITY = "city"

    @property
    def rank(self) -> int:
        """0 for federal down to 3 for city: a lower rank binds the ranks above it."""
        return LEVEL_RANK[self]


LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(Level)}


class Verdict(StrEnum):
    """What the law says about an action; the last two only a decision can have."""

    REQUIRED = "required"
    PERMITTED = "permitted"
    PROHIBITED = "prohibited"
    CONTESTED = "contested"
    NOT_ADDRESSED = "not_addressed"  # no law rule applies
    CONFLICT = "conflict"  # same-level law disagrees, unresolved


LAW_VERDICTS = (Verdict.REQUIRED, Verdict.PERMITTED, Verdict.PROHIBITED, Verdict.CONTESTED)  # a law rule's
BINDING_VERDICTS = (Verdict.REQUIRED, Verdict.PROHIBITED)  # bind the levels below


class Practice(StrEnum):
    """What an agency does; the last two only a decision can have."""

    DOES = "does"
    DOES_NOT = "does_not"
    UNKNOWN = "unknown"  # no sourced policy or practice
    CONFLICT = "conflict"  # same-level sources disagree


PRACTICES = (Practice.DOES, Practice.DOES_NOT)  # what a policy or practice rule concludes


class Doctrine(StrEnum):
    """Why a rule that applied did not decide (resolve.py applies them)."""

    NOT_IN_FORCE = "not in force"
    NOT_DECLARED = "not yet declared"
    NOT_BINDING = "does not bind this agency"
    LEX_SPECIALIS = "lex specialis"
    LEX_SUPERIOR = "lex superior"
    PREEMPTION = "preemption"
    NARROWED = "narrowed by lower law"
    CONFLICT_ABOVE = "unresolved conflict above"
    LOCAL_PRACTICE = "more local practice"
    LAW_SPEAKS = "the law speaks"
