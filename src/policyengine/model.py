"""Stage 2, model: the shapes of the project's files, as pydantic models.

These models check structure and types (unknown keys, wrong types, impossible dates,
missing sources). What a name *means* (is this fact in the vocabulary? is this value
allowed?) is the check stage's job, because it needs the vocabulary.

A validated model is converted into its checked form (`to_checked`): the plain frozen
dataclass of the same name in `checked.py`, which is what a rulebase and a scenario hold, so
that what only reads them never imports pydantic. The checked `Rule`, `Conclusion` and
`Scenario` are named here too, for earlier importers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, StringConstraints, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from policyengine.checked import AUTHORITIES as AUTHORITIES
from policyengine.checked import NOT_ADDRESSED as NOT_ADDRESSED
from policyengine.checked import RULE_ID_PATTERN as RULE_ID_PATTERN
from policyengine.checked import TWINS, Authority, DecisionVerdict, Kind, Level, ReviewStatus, Verdict
from policyengine.checked import Conclusion as Conclusion
from policyengine.checked import PracticeValue as PracticeValue
from policyengine.checked import Rule as Rule
from policyengine.checked import Scenario as Scenario

# The checked rule's `when` is a condition tree (conditions.py); named here too for callers of the model.
from policyengine.conditions import AllOf as AllOf
from policyengine.conditions import AnyOf as AnyOf
from policyengine.conditions import Condition as Condition
from policyengine.conditions import Not as Not
from policyengine.conditions import Test as Test
from policyengine.terms import LEVEL_RANK as LEVEL_RANK

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
RuleId = Annotated[str, StringConstraints(pattern=RULE_ID_PATTERN)]


class Strict(BaseModel):
    """Unknown keys are errors; values keep the type they were given."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


# ---------------------------------------------------------------- vocabulary


class FactSpec(Strict):
    """One fact a scenario states or a rule tests."""

    type: Literal["enum", "boolean", "date", "integer"]
    meaning: Text
    values: dict[str, Text] | None = None
    values_from: Literal["counties", "cities"] | None = None
    default: str | bool | int | dt.date | None = None
    required: bool = False
    source: Literal["scenario", "registry", "derived"] = "scenario"


class ActionSpec(Strict):
    """One cooperation action the engine decides for every scenario."""

    meaning: Text
    question: Text


class Vocabulary(Strict):
    facts: dict[str, FactSpec]
    actions: dict[str, ActionSpec]


# --------------------------------------------------------------------- rules


class Source(Strict):
    """Where the law or practice is written down, and what kind of authority that is.

    `authority` says what the source is (a statute, an unpublished opinion, a news report...);
    `body` the court, legislature, office or publication that issued it; `issued` the day it
    was issued or published, where the cite gives one. Strength is derived from these.
    """

    cite: Text
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]
    authority: Authority
    body: Text | None = None
    issued: dt.date | None = None
    quote: Text | None = None
    note: Text | None = None
    confidence: Literal["H", "M", "L"] | None = None


class Review(Strict):
    """Review status; `hash` is the rule's content hash at approval (see review.py)."""

    status: ReviewStatus
    reviewer: Text | None = None
    date: dt.date | None = None
    hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")] | None = None
    note: Text | None = None


class InForce(Strict):
    """First day in force (`from`) and first day no longer in force (`until`, exclusive)."""

    start: dt.date = Field(alias="from")
    until: dt.date | None = None
    note: Text | None = None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.until is None or day < self.until)


class RawRule(Strict):
    """A rule as written; `when` and `then` are checked against the vocabulary later."""

    id: RuleId
    title: Text
    kind: Kind
    binds: list[str] = []
    in_force: InForce
    when: Any = None
    then: dict[str, Any]
    overrides: list[RuleId] = []
    sources: list[Source] = Field(min_length=1)
    review: Review
    notes: Text | None = None
    reference: Literal["hold_limit_48_hours"] | None = None
    declared: dt.date | None = None


class Jurisdiction(Strict):
    """Who made the rules in a file, and where they bind."""

    level: Level
    county: Text | None = None
    city: Text | None = None


class RuleFile(Strict):
    jurisdiction: Jurisdiction
    rules: list[RawRule] = Field(min_length=1)


# ------------------------------------------------------------------ registry


class County(Strict):
    name: Text
    fips: Annotated[str, StringConstraints(pattern=r"^27\d{3}$")]


class City(Strict):
    name: Text
    county: Text


class Agreement(Strict):
    """A dated agreement between a county and ICE, as sources record it."""

    county: Text
    kind: Literal["287g", "ice_bed_contract"]
    model: str | None = None
    board_approval: str | None = None
    in_force: InForce
    sources: list[Source] = Field(min_length=1)
    notes: Text | None = None


class Registry(Strict):
    # A test registry of invented counties (FIPS 27900 and up) is marked `fictional: true`; every
    # other registry must list exactly the Census Bureau's Minnesota counties (check.check_registry).
    fictional: bool = False
    counties: list[County] = Field(min_length=1)
    cities: list[City] = []
    agreements: list[Agreement] = []
    sources: list[Source] = Field(min_length=1)


# ----------------------------------------------------------------- scenarios


class DefeatExpectation(Strict):
    """A rule that must be among the defeated, optionally by which doctrine and which rule.

    Written either as a bare rule id or as `{rule: X, doctrine: Y, by: Z}`.
    """

    rule: RuleId
    doctrine: Text | None = None
    by: RuleId | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_id(cls, data: Any) -> Any:
        return {"rule": data} if isinstance(data, str) else data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """Editors must accept both spellings: a bare rule id, or the mapping."""
        as_object = handler(core_schema)
        return {"anyOf": [{"type": "string", "pattern": RULE_ID_PATTERN}, as_object]}


class Expectation(Strict):
    """What the law should answer for one action: a scenario used as a test.

    `decided_by` names rules that must be among the deciders (of the verdict or of the
    practice); `concurring` rules that must be among the concurring (lower law that agrees
    with a higher binding verdict); `defeated` rules that must be among the defeated (law or practice);
    `sources_include` text that must appear in a deciding citation; `verdict_not`
    verdicts the answer must not be (for invariants such as "never prohibited").
    """

    verdict: DecisionVerdict | None = None
    verdict_not: list[DecisionVerdict] = []
    practice: Literal["does", "does_not", "unknown", "conflict"] | None = None
    leaning: Verdict | None = None
    decided_by: list[RuleId] = []
    concurring: list[RuleId] = []
    defeated: list[DefeatExpectation] = []
    sources_include: list[Text] = []


class ScenarioHead(Strict):
    """The parts of a scenario that are not facts."""

    id: RuleId
    title: Text
    description: Text | None = None
    date: dt.date
    known_on: dt.date | None = None
    time: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] | None = None
    expect: dict[str, Expectation] = {}
    notes: Text | None = None


# ---------------------------------------------------------- the checked form


def to_checked(value: Any) -> Any:
    """A validated model as its checked twin (`checked.py`, same name and fields), at every depth;
    lists and dicts keep their shape, everything else is taken as it is."""
    if isinstance(value, BaseModel):
        twin = TWINS[type(value).__name__]
        return twin(**{f.name: to_checked(getattr(value, f.name)) for f in dataclasses.fields(twin)})
    if isinstance(value, list):
        return [to_checked(v) for v in value]
    if isinstance(value, dict):
        return {k: to_checked(v) for k, v in value.items()}
    return value
