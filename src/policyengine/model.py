"""Stage 2, model: the shapes of the project's files, as pydantic models.

These models check structure and types (unknown keys, wrong types, impossible dates,
missing sources). What a name *means* (is this fact in the vocabulary? is this value
allowed?) is the check stage's job, because it needs the vocabulary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, StringConstraints, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

# The checked rule's `when` is a condition tree (conditions.py); named here too for callers of the model.
from policyengine.conditions import AllOf as AllOf
from policyengine.conditions import AnyOf as AnyOf
from policyengine.conditions import Condition as Condition
from policyengine.conditions import Not as Not
from policyengine.conditions import Test as Test
from policyengine.terms import LEVEL_RANK as LEVEL_RANK
from policyengine.terms import Level as LevelTerm
from policyengine.terms import Practice
from policyengine.terms import Verdict as VerdictTerm

Level = Literal["federal", "state", "county", "city"]
Kind = Literal["law", "policy", "practice", "definition"]
Verdict = Literal["required", "permitted", "prohibited", "contested"]
PracticeValue = Literal["does", "does_not"]
ReviewStatus = Literal["draft", "reviewed", "approved"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
RuleId = Annotated[str, StringConstraints(pattern=RULE_ID_PATTERN)]

NOT_ADDRESSED = VerdictTerm.NOT_ADDRESSED


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


Authority = Literal[
    "constitution",
    "statute",
    "regulation",
    "ordinance",
    "published_opinion",
    "nonprecedential_opinion",
    "trial_court_order",
    "attorney_general_opinion",
    "executive_order",
    "agency_policy",
    "agreement",
    "official_statement",
    "news_report",
    "advocacy",
]
AUTHORITIES: tuple[str, ...] = Authority.__args__  # type: ignore[attr-defined]


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

    def label(self) -> str:
        if self.level == "county":
            return f"{self.county} County"
        if self.level == "city":
            return f"City of {self.city}"
        return "United States" if self.level == "federal" else "State of Minnesota"


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


DecisionVerdict = Literal["required", "permitted", "prohibited", "contested", "not_addressed", "conflict"]


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


# ------------------------------------------------- checked rules and scenarios


@dataclass(frozen=True)
class Conclusion:
    """What a rule concludes about one action (law: a verdict; policy/practice: does/does_not)."""

    action: str
    value: VerdictTerm | Practice
    protected: bool = False
    leaning: VerdictTerm | None = None
    question: str | None = None


@dataclass(frozen=True)
class Rule:
    """A rule that passed every check, ready to compile."""

    id: str
    title: str
    kind: str
    level: LevelTerm
    jurisdiction: Jurisdiction
    binds: tuple[str, ...]
    in_force: InForce
    when: Condition | None
    conclusions: tuple[Conclusion, ...]
    derives: tuple[str, ...]
    overrides: tuple[str, ...]
    sources: tuple[Source, ...]
    review: Review
    notes: str | None
    file: str
    line: int | None
    reference: str | None = None
    declared: dt.date | None = None

    @property
    def is_law(self) -> bool:
        return self.kind == "law"

    @property
    def is_silence(self) -> bool:
        """A sourced record that the law here says nothing about its actions."""
        return self.kind == "law" and any(c.value == NOT_ADDRESSED for c in self.conclusions)


@dataclass(frozen=True)
class Scenario:
    """A scenario that passed every check: its head and every stated fact."""

    head: ScenarioHead
    facts: dict[str, Any]
    file: str

    @property
    def id(self) -> str:
        return self.head.id
