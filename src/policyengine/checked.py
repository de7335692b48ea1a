"""The checked forms: what a rulebase and a scenario hold once they passed the check stage.

Plain frozen dataclasses, with the attribute names (and methods) of the pydantic file-shape
models in `model.py` they are converted from (`model.to_checked`). Nothing here imports
pydantic, so a command that starts from the rulebase cache and a scenario the fast acceptor
(`accept.py`) took never imports it: pydantic and its models' schemas cost more than the rest
of a `run` of one scenario together (docs/performance.md, "Command-line start").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from policyengine.conditions import Condition
from policyengine.terms import Level as LevelTerm
from policyengine.terms import Practice
from policyengine.terms import Verdict as VerdictTerm

Level = Literal["federal", "state", "county", "city"]
Kind = Literal["law", "policy", "practice", "definition"]
Verdict = Literal["required", "permitted", "prohibited", "contested"]
PracticeValue = Literal["does", "does_not"]
ReviewStatus = Literal["draft", "reviewed", "approved"]
DecisionVerdict = Literal["required", "permitted", "prohibited", "contested", "not_addressed", "conflict"]
ExpectedPractice = Literal["does", "does_not", "unknown", "conflict"]
FactType = Literal["enum", "boolean", "date", "integer"]
FactOrigin = Literal["scenario", "registry", "derived"]
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
RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"

NOT_ADDRESSED = VerdictTerm.NOT_ADDRESSED


class Frozen:
    """The methods a frozen dataclass would generate, written once: a constructor (fields in order,
    or by name; defaults and default factories as declared), immutability, and equality, hashing and
    repr by the fields.

    A class declared `@dataclass(init=False, repr=False, eq=False)` over `Frozen` is a dataclass
    (`dataclasses.fields`, `replace` and `asdict` work) that behaves as a frozen one, without the six
    methods `dataclass` would compile for it: about a millisecond a class at import, which every
    `run` paid for each class it loads (docs/architecture.md, "Departures"). For what is made rarely
    (what a rulebase and a scenario hold); the classes made by the thousand keep generated methods.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **values: Any) -> None:
        plan = _PLANS.get(type(self)) or _plan(type(self))
        if len(args) > len(plan):
            raise TypeError(f"{type(self).__name__}() takes {len(plan)} arguments, {len(args)} were given")
        for i, (name, default, factory) in enumerate(plan):
            if i < len(args):
                if name in values:
                    raise TypeError(f"{type(self).__name__}() got multiple values for argument '{name}'")
                value = args[i]
            elif name in values:
                value = values.pop(name)
            elif default is not dataclasses.MISSING:
                value = default
            elif factory is not dataclasses.MISSING:
                value = factory()
            else:
                raise TypeError(f"{type(self).__name__}() missing required argument '{name}'")
            object.__setattr__(self, name, value)
        if values:
            raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument '{next(iter(values))}'")

    def _values(self) -> tuple[Any, ...]:
        plan = _PLANS.get(type(self)) or _plan(type(self))
        return tuple(getattr(self, name) for name, _, _ in plan)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        plan = _PLANS.get(type(self)) or _plan(type(self))
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name, _, _ in plan)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field '{name}'")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field '{name}'")


_PLANS: dict[type, tuple[tuple[str, Any, Any], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, Any, Any], ...]:
    """A Frozen class's fields in order, each with its default and default factory."""
    plan = _PLANS[cls] = tuple((f.name, f.default, f.default_factory) for f in dataclasses.fields(cls))
    return plan


# Every twin is `@dataclass(kw_only=True, init=False, repr=False, eq=False)` over `Frozen`: keyword-only
# as a pydantic model is, frozen, compared and shown by its fields.


# ---------------------------------------------------------------- vocabulary


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class FactSpec(Frozen):
    """One fact a scenario states or a rule tests."""

    type: FactType
    meaning: str
    values: dict[str, str] | None = None
    values_from: Literal["counties", "cities"] | None = None
    default: str | bool | int | dt.date | None = None
    required: bool = False
    source: FactOrigin = "scenario"


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class ActionSpec(Frozen):
    """One cooperation action the engine decides for every scenario."""

    meaning: str
    question: str


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class Vocabulary(Frozen):
    """The facts a scenario states or a rule tests, and the actions decided."""

    facts: dict[str, FactSpec]
    actions: dict[str, ActionSpec]


# --------------------------------------------------------------------- rules


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class Source(Frozen):
    """Where the law or practice is written down, and what kind of authority that is."""

    cite: str
    url: str
    authority: Authority
    body: str | None = None
    issued: dt.date | None = None
    quote: str | None = None
    note: str | None = None
    confidence: Literal["H", "M", "L"] | None = None


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class Review(Frozen):
    """Review status; `hash` is the rule's content hash at approval (see review.py)."""

    status: ReviewStatus
    reviewer: str | None = None
    date: dt.date | None = None
    hash: str | None = None
    note: str | None = None


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class InForce(Frozen):
    """First day in force (`from` in a file) and first day no longer in force (`until`, exclusive)."""

    start: dt.date
    until: dt.date | None = None
    note: str | None = None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.until is None or day < self.until)


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class Jurisdiction(Frozen):
    """Who made the rules in a file, and where they bind."""

    level: Level
    county: str | None = None
    city: str | None = None

    def label(self) -> str:
        if self.level == "county":
            return f"{self.county} County"
        if self.level == "city":
            return f"City of {self.city}"
        return "United States" if self.level == "federal" else "State of Minnesota"


# ------------------------------------------------------------------ registry


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class County(Frozen):
    """A Minnesota county and its five-digit FIPS code."""

    name: str
    fips: str


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class City(Frozen):
    """A city with rules of its own, and its county."""

    name: str
    county: str


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class Agreement(Frozen):
    """A dated agreement between a county and ICE, as sources record it."""

    county: str
    kind: Literal["287g", "ice_bed_contract"]
    model: str | None = None
    board_approval: str | None = None
    in_force: InForce
    sources: list[Source]
    notes: str | None = None


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class Registry(Frozen):
    """The counties, the cities with rules, and the counties' dated agreements with ICE."""

    fictional: bool = False
    counties: list[County]
    cities: list[City] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    sources: list[Source]


# ----------------------------------------------------------------- scenarios


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class DefeatExpectation(Frozen):
    """A rule that must be among the defeated, optionally by which doctrine and which rule."""

    rule: str
    doctrine: str | None = None
    by: str | None = None


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class Expectation(Frozen):
    """What the law should answer for one action: a scenario used as a test (see model.py)."""

    verdict: DecisionVerdict | None = None
    verdict_not: list[DecisionVerdict] = field(default_factory=list)
    practice: ExpectedPractice | None = None
    leaning: Verdict | None = None
    decided_by: list[str] = field(default_factory=list)
    concurring: list[str] = field(default_factory=list)
    defeated: list[DefeatExpectation] = field(default_factory=list)
    sources_include: list[str] = field(default_factory=list)


@dataclass(kw_only=True, init=False, repr=False, eq=False)
class ScenarioHead(Frozen):
    """The parts of a scenario that are not facts."""

    id: str
    title: str
    description: str | None = None
    date: dt.date
    known_on: dt.date | None = None
    time: str | None = None
    expect: dict[str, Expectation] = field(default_factory=dict)
    notes: str | None = None


SCENARIO_HEAD_KEYS = frozenset(f.name for f in dataclasses.fields(ScenarioHead))

# The twins by the name of the pydantic model each is converted from (model.to_checked).
TWINS: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        FactSpec,
        ActionSpec,
        Vocabulary,
        Source,
        Review,
        InForce,
        Jurisdiction,
        County,
        City,
        Agreement,
        Registry,
        DefeatExpectation,
        Expectation,
        ScenarioHead,
    )
}


def dump(value: Any, *, exclude_none: bool = False, exclude_defaults: bool = False, json: bool = False) -> Any:
    """A checked value as plain data, field by field in declaration order, as pydantic's
    `model_dump` gave it for the model it came from: nested twins as dicts, lists and dicts
    kept, dates as ISO text with `json`; `exclude_none` and `exclude_defaults` apply at every depth."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if exclude_none and item is None:
                continue
            if exclude_defaults and item == _default(f):
                continue
            out[f.name] = dump(item, exclude_none=exclude_none, exclude_defaults=exclude_defaults, json=json)
        return out
    if isinstance(value, list | tuple):
        return [dump(v, exclude_none=exclude_none, exclude_defaults=exclude_defaults, json=json) for v in value]
    if isinstance(value, dict):
        return {
            k: dump(v, exclude_none=exclude_none, exclude_defaults=exclude_defaults, json=json)
            for k, v in value.items()
        }
    if json and isinstance(value, dt.date):
        return value.isoformat()
    return value


_NO_DEFAULT = object()


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return _NO_DEFAULT


# ------------------------------------------------- checked rules and scenarios


@dataclass(init=False, repr=False, eq=False)
class Conclusion(Frozen):
    """What a rule concludes about one action (law: a verdict; policy/practice: does/does_not)."""

    action: str
    value: VerdictTerm | Practice
    protected: bool = False
    leaning: VerdictTerm | None = None
    question: str | None = None


@dataclass(init=False, repr=False, eq=False)
class Rule(Frozen):
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


@dataclass(init=False, repr=False, eq=False)
class Scenario(Frozen):
    """A scenario that passed every check: its head and every stated fact."""

    head: ScenarioHead
    facts: dict[str, Any]
    file: str

    def __init__(self, head: ScenarioHead, facts: dict[str, Any], file: str) -> None:
        # Written out, not Frozen's general constructor: `batch` makes one scenario per record, and
        # the general one was about a tenth of that path (cProfile, batch_bench --per-case).
        object.__setattr__(self, "head", head)
        object.__setattr__(self, "facts", facts)
        object.__setattr__(self, "file", file)

    @property
    def id(self) -> str:
        return self.head.id
