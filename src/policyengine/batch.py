"""Batch evaluation of records: one row of facts in, one row of decisions out.

A record is a mapping of vocabulary fact names (`date`, `agency`, `place.county`, ...) to
values, plus an optional `id` and `time` (the release time, for the federal 48-hour
reference). Each record is checked against the vocabulary (a bad record becomes an error with
its row number, never a silent guess), reduced to its case (`cases.CaseKeys`), and each
distinct case is evaluated once through the ordinary pipeline (`pipeline.evaluate`). The
output row carries, per action, the verdict, the practice and the deciding rules.

This module is the notebook API (`Batch.evaluate`, `Batch.evaluate_table`) and the core of
`policyengine batch` (`cli/batch.py`, which adds files, chunks, workers and Dask).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zlib
from collections import Counter
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from policyengine.accept import check_value
from policyengine.cases import CaseKeys, Firings
from policyengine.checked import Scenario, ScenarioHead
from policyengine.deadline import hold_limit_dict
from policyengine.engine import Engine, get_engine
from policyengine.errors import InputError
from policyengine.pipeline import Rulebase, evaluate, load_rulebase, today
from policyengine.resolve import Decision
from policyengine.strength import decision_strength

if TYPE_CHECKING:
    import pyarrow as pa

ID = "id"
TIME = "time"
HOLD_LIMIT = "federal_hold_limit"
PROBLEM = "__problem__"  # set by a reader on a row it could not read (bad JSON, ...)
CASES_KEPT = 1 << 18  # cases whose answer a Batch keeps (about 100 bytes each)
ROWS_KEPT = 1 << 12  # resolutions whose output row a Batch keeps
VALUES_KEPT = 1 << 20  # keyed facts interned (their cases are forgotten with them); values read; raw values converted
ROW_FIELDS = ("verdict", "leaning", "strength", "practice", "decided_by", "practice_by")
TRUE_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


class Wanted(NamedTuple):
    """A case a chunk needs the answer of: its code here, its key (keyed facts, interval) as
    another process of the same run computes it, and one of its records (facts, as-of day);
    `spread` is the hash of its keyed facts `owner` routes it by, computed once per keyed facts."""

    code: int
    key: tuple[tuple, int]
    facts: dict[str, Any]
    day: dt.date
    spread: int


class RecordError(ValueError):
    """A record that cannot be evaluated; the message says why, the batch goes on."""


@dataclass(frozen=True)
class Mapping:
    """How a foreign dataset's columns and values map onto the vocabulary (see docs/batch.md)."""

    columns: dict[str, str] = field(default_factory=dict)  # dataset column -> fact, `id` or `time`
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # fact -> dataset value -> value
    constants: dict[str, Any] = field(default_factory=dict)  # fact -> value for every record
    ignore: tuple[str, ...] = ()  # dataset columns deliberately not read
    formats: dict[str, str] = field(default_factory=dict)  # `date` or `time` -> how the dataset writes it
    #: dataset column -> the names of its copies, one per further fact it is read as (a release
    #: timestamp read as `date` and `time`); each copy's target is in `columns`
    copies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: the mapping file, and the line of each column it reads (`check_mapped_columns`)
    file: str = ""
    lines: dict[str, int] = field(default_factory=dict)

    def target(self, column: str) -> str | None:
        if column in self.ignore:
            return None
        return self.columns.get(column, column)

    def with_copies(self, names: Iterable[str]) -> list[tuple[str, str]]:
        """Each column name, and after it each of its copies: (name, the column it is read from)."""
        return [(n, column) for column in names for n in (column, *self.copies.get(column, ()))]


def copy_name(column: str, target: str) -> str:
    """The name of the copy of `column` read as `target` (not a name a dataset can hold)."""
    return f"{column}{COPY}{target}"


COPY = "\x1f"  # between a column's name and the fact a copy of it is read as


def load_mapping(path: str, rulebase: Rulebase) -> Mapping:
    """Read and check a mapping file; every problem located at its line."""
    from policyengine.load import load_yaml

    doc = load_yaml(path, as_written=True)  # dataset names and values are text: `yes` is not true, `01` not 1
    written = doc.written or {}
    data = doc.data if isinstance(doc.data, dict) else None
    if data is None:
        raise doc.error((), "a mapping file is a mapping with `columns`, `values`, `constants`, `ignore`, `formats`")
    unknown = sorted(set(data) - {"columns", "values", "constants", "ignore", "formats"})
    if unknown:
        raise doc.error((unknown[0],), f"unknown key '{unknown[0]}' in a mapping file")
    facts = _stated_facts(rulebase)
    columns = data.get("columns") or {}
    if not isinstance(columns, dict):
        raise doc.error(("columns",), "`columns` maps dataset column names to fact names")
    copies: dict[str, tuple[str, ...]] = {}
    for column, given in list(columns.items()):
        targets = given if isinstance(given, list) else [given]
        if not targets or len(set(map(str, targets))) != len(targets):
            raise doc.error(("columns", column), "a column is read as one fact, or as a list of different facts")
        for i, target in enumerate(targets):
            if target not in facts and target not in (ID, TIME):
                where = ("columns", column, i) if isinstance(given, list) else ("columns", column)
                target = written.get(where, target)
                raise doc.error(where, f"'{target}' is not a fact in the vocabulary (nor `id` or `time`)")
        columns[column] = targets[0]
        if len(targets) > 1:  # one column read as several facts: a copy of it per further fact
            copies[column] = tuple(copy_name(column, t) for t in targets[1:])
            columns.update({copy_name(column, t): t for t in targets[1:]})
    values = data.get("values") or {}
    if not isinstance(values, dict):
        raise doc.error(("values",), "`values` maps fact names to {dataset value: vocabulary value}")
    for fact, table in values.items():
        if fact not in facts:
            raise doc.error(("values", fact), f"'{fact}' is not a fact in the vocabulary")
        if not isinstance(table, dict):
            raise doc.error(("values", fact), f"the values of '{fact}' are a mapping {{dataset value: value}}")
        for raw, value in table.items():
            why = check_value(rulebase.vocabulary, rulebase.registry, fact, value)
            if why is not None:
                raise doc.error(("values", fact, raw), why)
    constants = data.get("constants") or {}
    if not isinstance(constants, dict):
        raise doc.error(("constants",), "`constants` maps fact names to one value for every record")
    for fact, value in constants.items():
        if fact not in facts:
            raise doc.error(("constants", fact), f"'{fact}' is not a fact in the vocabulary")
        why = check_value(rulebase.vocabulary, rulebase.registry, fact, value)
        if why is not None:
            raise doc.error(("constants", fact), why)
    ignore = data.get("ignore") or []
    if not isinstance(ignore, list):
        raise doc.error(("ignore",), "`ignore` is a list of dataset column names")
    ignore = [c if isinstance(c, str) else written.get(("ignore", i)) for i, c in enumerate(ignore)]
    if None in ignore:
        raise doc.error(("ignore", ignore.index(None)), "`ignore` is a list of dataset column names")
    formats = data.get("formats") or {}
    if not isinstance(formats, dict):
        raise doc.error(("formats",), "`formats` maps `date` or `time` to how the dataset writes it (as %m/%d/%Y)")
    dated = {n for n, s in facts.items() if s.type == "date"}
    for name, written_as in formats.items():
        if name not in dated and name != TIME:
            raise doc.error(("formats", name), f"`formats` is for `date` and `time`, not '{name}'")
        why = _format_problem(written_as, name == TIME)
        if why is not None:
            raise doc.error(("formats", name), why)
    return Mapping(
        {str(k): v for k, v in columns.items()},
        {f: {str(k): v for k, v in t.items()} for f, t in values.items()},
        dict(constants),
        tuple(ignore),
        dict(formats),
        copies,
        doc.file,
        {c: line for c in columns if (line := doc.line(("columns", c))) is not None},
    )


_SAMPLE = dt.datetime(2024, 3, 17, 14, 22)  # no part of it is what strptime fills in when not read


def _format_problem(written_as: Any, is_time: bool) -> str | None:
    """Why a `formats` entry cannot read dates (or times), or None: it must give back, from the
    text it writes, the day (or the hour and minute) it was written from."""
    what = "the hour and minute" if is_time else "the year, month and day"
    if not isinstance(written_as, str) or "%" not in written_as:
        return f"a format is text with codes such as %Y, %m, %d, %H, %M (Python's strptime), giving {what}"
    try:
        back = dt.datetime.strptime(_SAMPLE.strftime(written_as), written_as)
    except ValueError as exc:
        return f"'{written_as}' cannot read what it writes ({exc})"
    same = (back.hour, back.minute) == (14, 22) if is_time else back.date() == _SAMPLE.date()
    return None if same else f"'{written_as}' does not give {what}"


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only: \d would take any script's


def read_date(fact: str, text: str, written_as: str | None) -> dt.date | None:
    """A dataset's date as a date: with the mapping's format, or YYYY-MM-DD; None where the text
    is not written that way and no format is given (the vocabulary check then says so)."""
    if written_as is not None:
        try:
            return dt.datetime.strptime(text, written_as).date()
        except ValueError as exc:
            if "does not match format" in str(exc) or "unconverted data remains" in str(exc):
                raise RecordError(f"'{fact}': '{text}' is not a date written as {written_as}") from None
            raise RecordError(f"'{fact}': '{text}' is not a real calendar date ({written_as})") from None
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RecordError(f"'{fact}': '{text}' is not a real calendar date (YYYY-MM-DD)") from None


def in_minnesota(moment: dt.datetime) -> dt.datetime:
    """A timestamp as a clock in Minnesota showed it: one with a time zone (Parquet, pandas) is
    converted to America/Chicago (2024-03-01 02:00 UTC was 2024-02-29 20:00 there); one without
    is taken as Minnesota time already."""
    if moment.tzinfo is None:
        return moment
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return moment.astimezone(ZoneInfo("America/Chicago"))
    except ZoneInfoNotFoundError:
        raise RecordError("a timestamp with a time zone needs the time zone database (pip install tzdata)") from None


def read_time(raw: Any, written_as: str | None) -> str:
    """A dataset's release time as HH:MM: a time or timestamp value (Parquet, pandas) is its time
    of day; anything else is read as text, with the mapping's format or as ISO 8601 writes it."""
    if isinstance(raw, dt.datetime):
        return in_minnesota(raw).strftime("%H:%M")
    if isinstance(raw, dt.time):
        return raw.strftime("%H:%M")
    text = str(raw)
    try:
        if written_as is not None:
            return dt.datetime.strptime(text, written_as).strftime("%H:%M")
        return dt.time.fromisoformat(text).strftime("%H:%M")
    except ValueError:
        how = f"written as {written_as}" if written_as is not None else "(HH:MM)"
        raise RecordError(f"'time': '{text}' is not a time of day {how}") from None


def _stated_facts(rulebase: Rulebase) -> dict[str, Any]:
    """The facts a record may state (registry and derived facts come from elsewhere)."""
    return {n: s for n, s in rulebase.vocabulary.facts.items() if s.source == "scenario"}


@lru_cache(maxsize=65536)
def hold_limit(day: str, time: str) -> str:
    """The latest moment of the federal 48-hour reference, per date and time (cached)."""
    return hold_limit_dict(dt.date.fromisoformat(day), read_time(time, None))["latest_hold_until"]


class Batch:
    """Evaluates records against one rulebase and engine, each distinct case once.

    >>> b = Batch()
    >>> row = b.evaluate({"date": "2026-02-10", "agency": "county_jail", "place.county": "Hennepin",
    ...                   "immigration.detainer": "I-247A"})
    >>> row["hold_beyond_release.verdict"]
    'prohibited'
    """

    def __init__(
        self,
        rulebase: Rulebase | None = None,
        engine: Engine | str | None = None,
        actions: list[str] | None = None,
        as_of: dt.date | None = None,
        mapping: Mapping | None = None,
        known_on: dt.date | None = None,
    ) -> None:
        self.rulebase = rulebase if rulebase is not None else load_rulebase()
        self.engine = engine if isinstance(engine, Engine) else get_engine(engine)
        self.actions = tuple(actions) if actions else tuple(self.rulebase.actions)
        unknown = [a for a in self.actions if a not in self.rulebase.vocabulary.actions]
        if unknown:
            raise InputError.at("--actions", None, f"'{unknown[0]}' is not an action in the vocabulary")
        self.as_of = as_of
        #: the date of knowledge applied to every record (default: today, fixed for the whole batch)
        self.known_on = known_on or today()
        self.mapping = mapping or Mapping()
        self.keys = CaseKeys(self.rulebase)
        self._firings = Firings(self.rulebase, self.keys.named)
        self._facts = _stated_facts(self.rulebase)
        self._values: dict[tuple[str, type, Any], Any] = {}
        #: per case (`_Columnar.case_code`): the index of its output row in `out_rows`; at most
        #: `cases_kept` are kept (then forgotten all at once: a case met again is evaluated again,
        #: to the same answer), so the memory a batch keeps does not grow with its distinct cases
        self._cases: dict[int, int] = {}
        self.cases_kept = CASES_KEPT
        #: how many cases this batch has evaluated (a case evaluated again after being forgotten counts again)
        self.evaluated = 0
        #: distinct output rows (agency, then ROW_FIELDS per action); many cases share one
        self.out_rows: list[tuple[str, ...]] = []
        #: per output row: whether a decision in it involves a rule carrying the 48-hour reference
        self.out_needs_hold_limit: list[bool] = []
        self._out_index: dict[tuple[tuple[str, ...], bool], int] = {}
        #: per resolution (the tuple `Rulebase.resolution` remembers): its output row; bounded
        self._rows: dict[int, tuple[tuple[Decision, ...], tuple[str, ...], bool]] = {}
        self._hold_rules = {r.id for r in self.rulebase.rules if r.reference == "hold_limit_48_hours"}
        self._strengths: dict[tuple[str, ...], str] = {}  # per deciding rules: the decision's strength
        self._columnar = _Columnar(self)
        self._heads: dict[dt.date, ScenarioHead] = {}

    # ------------------------------------------------------------------ columns

    @property
    def columns(self) -> list[str]:
        """Output columns, in order."""
        out = [ID, "date", "county", "agency"]
        for action in self.actions:
            out += [f"{action}.{f}" for f in ROW_FIELDS]
        return [*out, HOLD_LIMIT]

    # ------------------------------------------------------------------- values

    def value(self, fact: str, raw: Any) -> Any:
        """A dataset value as the vocabulary value of `fact` (cached per fact, type and value:
        `True` and `1` are different values)."""
        try:
            key = (fact, raw.__class__, raw)
            found = self._values.get(key)
        except TypeError:  # an unhashable raw value cannot be cached
            return self._convert(fact, raw)
        if found is None:
            try:
                found = self._convert(fact, raw)
            except RecordError as exc:
                found = exc
            if len(self._values) >= VALUES_KEPT:  # a bound on memory (a column of a million bad values)
                self._values.clear()
            self._values[key] = found
        if isinstance(found, RecordError):
            raise found
        return found

    def _convert(self, fact: str, raw: Any) -> Any:
        table = self.mapping.values.get(fact)
        if table is not None and str(raw) in table:
            return table[str(raw)]
        spec = self._facts[fact]
        value = raw
        if isinstance(raw, str):
            text = raw.strip()
            if spec.type == "boolean":
                value = TRUE_WORDS.get(text.lower(), raw)
            elif spec.type == "date":
                value = read_date(fact, text, self.mapping.formats.get(fact))
                if value is None:
                    raise RecordError(
                        f"'{fact}' takes a date (YYYY-MM-DD; a mapping's `formats` reads others), not '{raw}'"
                    )
            elif spec.type == "integer":
                try:
                    value = int(text)
                except ValueError:
                    value = raw
            else:
                value = text
        elif isinstance(raw, dt.datetime):
            value = in_minnesota(raw).date() if spec.type == "date" else raw
        elif (
            spec.type == "boolean" and raw.__class__ is int and raw in (0, 1)
        ):  # a Parquet or JSON 1 or 0, as "1" or "0"
            value = bool(raw)
        why = check_value(self.rulebase.vocabulary, self.rulebase.registry, fact, value)
        if why is not None:
            raise RecordError(why)
        return value

    def facts_of(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record's stated facts, checked; raises RecordError naming what is wrong."""
        pairs = []
        for column, raw in record.items():
            target = self.mapping.target(column)
            if target is None or target in (ID, TIME):
                continue
            if target not in self._facts:
                raise RecordError(f"column '{column}' is not a fact in the vocabulary (map it, or ignore it)")
            pairs.append((target, raw))
        return self._checked(pairs)

    def _checked(self, pairs: Any) -> dict[str, Any]:
        """Stated facts checked and converted; required facts must be there."""
        facts: dict[str, Any] = dict(self.mapping.constants)
        for name, raw in pairs:
            if raw is not None and raw != "":  # missing: the default applies, or a required fact is reported
                facts[name] = self.value(name, raw)
        for name in self._required:
            if name not in facts:
                raise RecordError(f"missing required fact '{name}'")
        city = facts.get("place.city", "none")
        if city != "none":
            county = self._city_county[city]
            if county != facts["place.county"]:
                raise RecordError(f"{city} is in {county} County, not {facts['place.county']}")
        return facts

    @cached_property
    def _city_county(self) -> dict[str, str]:
        return {c.name: c.county for c in self.rulebase.registry.cities}

    @cached_property
    def _required(self) -> tuple[str, ...]:
        return tuple(n for n, s in self._facts.items() if s.required)

    # -------------------------------------------------------------------- cases

    def case_of(self, facts: dict[str, Any]) -> int:
        """The output row (in `out_rows`) of the case `facts` belong to, evaluating it if it is new."""
        values, where = self._base_key(facts)
        day = self.as_of or facts["date"]
        code = self._columnar.case_code(values, self.keys.interval(day, *where))
        return self._case(code, facts, day)

    def _base_key(self, facts: dict[str, Any]) -> tuple[tuple, tuple[Any, Any]]:
        """The keyed facts (as far as rules tell them apart) and the place that selects the change dates."""
        keys = self.keys
        values = tuple(
            keys.value(name, facts[name] if name in facts else self._facts[name].default) for name in keys.facts
        )
        where = (
            keys.value("place.county", facts["place.county"]),
            keys.value("place.city", facts.get("place.city", "none")),
        )
        return values, where

    def _case(self, code: int, facts: dict[str, Any], day: dt.date) -> int:
        """The output row of case `code` (`facts` on `day` is one of its records), evaluated if not kept."""
        found = self._cases.get(code)
        if found is None:
            found = self._evaluate(facts, day, self._firings)
            self._keep(code, found)
        return found

    def _keep(self, code: int, out: int) -> None:
        if len(self._cases) >= self.cases_kept:
            self._cases.clear()
        self._cases[code] = out

    def _evaluate(self, facts: dict[str, Any], day: dt.date, cases: Firings | None = None) -> int:
        """Evaluate one case through the pipeline (with `cases`, firings already seen are reused)."""
        head = self._heads.get(day)
        if head is None:  # one per day: a scenario head costs more to build than to look up
            if len(self._heads) > 100_000:
                self._heads.clear()
            head = self._heads[day] = ScenarioHead(id="record", title="record", date=day)
        scenario = Scenario(head, {**facts, "date": day}, "record")
        ev = evaluate(scenario, self.rulebase, self.engine, as_of=self.as_of, known_on=self.known_on, cases=cases)
        # remembered: the same tuple
        decisions = self.rulebase.resolution(ev.firing, ev.date, ev.agency, ev.known_on)
        found = self._rows.get(id(decisions))
        if found is None:  # the tuple is kept in the value, so its id cannot be reused meanwhile
            if len(self._rows) >= ROWS_KEPT:
                self._rows.clear()
            found = self._rows[id(decisions)] = (decisions, *self._row_of(decisions))
        self.evaluated += 1
        return self._out((ev.agency, *found[1]), found[2])

    def _out(self, row: tuple[str, ...], needs_hold_limit: bool) -> int:
        """The index of an output row in `out_rows` (two rows that read the same can differ in
        whether the 48-hour reference applies)."""
        out = self._out_index.get((row, needs_hold_limit))
        if out is None:
            out = self._out_index[(row, needs_hold_limit)] = len(self.out_rows)
            self.out_rows.append(row)
            self.out_needs_hold_limit.append(needs_hold_limit)
        return out

    def _row_of(self, decisions: tuple[Decision, ...]) -> tuple[tuple[str, ...], bool]:
        wanted = {d.action: d for d in decisions}
        row: list[str] = []
        needs_limit = False
        for action in self.actions:
            d = wanted[action]
            row += [
                d.verdict,
                d.leaning or "",  # where the verdict is contested: the way the unsettled law leans
                self._strength(d.decided_by),
                d.practice,
                " ".join(d.decided_by),
                " ".join(d.practice_by),
            ]
            involved = (*d.decided_by, *d.concurring, *(x.rule for x in d.defeated))
            needs_limit = needs_limit or any(r in self._hold_rules for r in involved)
        return tuple(row), needs_limit

    def _strength(self, decided_by: tuple[str, ...]) -> str:
        """The strength of the authority behind a verdict, as `run` reports it ("none": nothing decides)."""
        found = self._strengths.get(decided_by)
        if found is None:
            rules = self.rulebase.by_id
            found = self._strengths[decided_by] = decision_strength(rules[r] for r in decided_by) or "none"
        return found

    @property
    def case_count(self) -> int:
        """How many cases this batch has evaluated (`evaluated`)."""
        return self.evaluated

    # ------------------------------------------- cases shared between workers

    def answer(self, values: tuple, interval: int, facts: dict[str, Any], day: dt.date) -> tuple[tuple[str, ...], bool]:
        """The output row of a case another worker of the same run asked for (it routes the case
        here: `owner`), and whether the 48-hour reference applies; evaluated here at most once."""
        out = self._case(self._columnar.case_code(values, interval), facts, day)
        return self.out_rows[out], self.out_needs_hold_limit[out]

    def learn(self, values: tuple, interval: int, row: tuple[str, ...], needs_hold_limit: bool) -> int:
        """Keep the answer another worker of the same run gave for a case; its output row here."""
        out = self._out(row, needs_hold_limit)
        self._keep(self._columnar.case_code(values, interval), out)
        return out

    def row(
        self, out_row: int, record_id: Any, day: dt.date, time: str | RecordError | None, county: str
    ) -> dict[str, Any]:
        values = self.out_rows[out_row]
        out: dict[str, Any] = {ID: record_id, "date": day.isoformat(), "county": county, "agency": values[0]}
        i = 1
        for action in self.actions:
            for f in ROW_FIELDS:
                out[f"{action}.{f}"] = values[i]
                i += 1
        needs = time is not None and self.out_needs_hold_limit[out_row]
        if needs and isinstance(time, RecordError):
            raise time
        out[HOLD_LIMIT] = hold_limit(day.isoformat(), time) if needs else None
        return out

    # ---------------------------------------------------------------- the API

    def evaluate(self, record: dict[str, Any], record_id: Any = None) -> dict[str, Any]:
        """One record (fact name -> value) to one output row; RecordError if it is bad."""
        record = {name: record[column] for name, column in self.mapping.with_copies(record)}
        facts = self.facts_of(record)
        case = self.case_of(facts)
        time = self._time(record)
        rid = record_id if record_id is not None else self._id(record)
        return self.row(case, rid, self.as_of or facts["date"], time, facts["place.county"])

    def _id(self, record: dict[str, Any]) -> Any:
        for column, raw in record.items():
            if self.mapping.target(column) == ID:
                return raw
        return None

    def _time(self, record: dict[str, Any]) -> str | RecordError | None:
        """The record's release time as HH:MM: where several columns are the time, the later one
        filled in (as a later column of a fact wins); one that does not read is returned, not
        raised (it is an error only where the 48-hour reference applies)."""
        found = None
        for column, raw in record.items():
            if self.mapping.target(column) == TIME and raw not in (None, ""):
                found = raw
        if found is None:
            return None
        try:
            return read_time(found, self.mapping.formats.get(TIME))
        except RecordError as exc:
            return exc

    def evaluate_table(self, table: Any, first_row: int = 1) -> tuple[Any, list[tuple[int, Any, str]]]:
        """A pandas DataFrame or pyarrow Table of records to (output, errors).

        The output has the input's type (pandas in, pandas out); errors are
        (row number, id, message), rows numbered from `first_row`.
        """
        import pyarrow as pa

        if isinstance(table, pa.Table):
            chunk = self.evaluate_arrow(table, first_row)
            return chunk.table, chunk.errors
        try:
            chunk = self.evaluate_arrow(pa.Table.from_pandas(table, preserve_index=False), first_row)
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # a column of mixed types (text and timestamps, ...)
            columns = {str(c): pandas_values(table[c].tolist()) for c in table.columns}
            chunk = self.evaluate_columns(columns, first_row)
        return chunk.table.to_pandas(), chunk.errors

    def check_columns(self, names: list[str], file: str = "input") -> None:
        """Every column must be a fact, `id` or `time` (after mapping), or be ignored: nothing
        silently dropped; and one column at most is the id (a second would be dropped)."""
        ids = [c for c in names if c != PROBLEM and self.mapping.target(c) == ID]
        if len(ids) > 1:
            both = " and ".join(f"'{c.split(COPY)[0]}'" for c in ids)
            raise InputError.at(file, None, f"columns {both} are both read as the id: map or ignore one of them")
        for position, column in enumerate(names, start=1):
            target = self.mapping.target(column)
            if column != PROBLEM and target is not None and target not in self._facts and target not in (ID, TIME):
                if not column.strip():  # a comma ending a CSV header row, as spreadsheets leave
                    raise InputError.at(
                        file,
                        None,
                        f"column {position} has no name: name it, or list '{column}' under ignore in a mapping file",
                    )
                raise InputError.at(
                    file, None, f"column '{column}' is not a fact in the vocabulary (map it, or list it under ignore)"
                )

    def check_mapped_columns(self, names: list[str], file: str = "input") -> None:
        """Every column the mapping reads must be in a file whose columns are known before its
        rows (CSV, Parquet): a misspelt one would leave its fact at the default, for every
        record, without a word (a detainer table read as holding no detainer)."""
        for column, target in self.unread_mapped_columns(names):
            raise InputError.at(
                self.mapping.file,
                self.mapping.lines.get(column),
                f"column '{column}' (read as '{target}') is not in {file}, whose columns are: "
                + ", ".join(f"'{n}'" for n in names if n != PROBLEM),
            )

    def unread_mapped_columns(self, names: Iterable[str]) -> list[tuple[str, str]]:
        """The columns the mapping reads (and what as) that are not among `names`."""
        given = set(names)
        return [(c, t) for c, t in self.mapping.columns.items() if COPY not in c and c not in given]

    def unread_warnings(self, names: Iterable[str], file: str) -> list[str]:
        """What to say of the mapped columns no record of a JSON Lines file gave (a misspelt
        name leaves its fact at the default in every record)."""
        return [
            f"{self.mapping.file}:{self.mapping.lines.get(c, '?')}: warning: no record of {file} gives '{c}'"
            f" (read as '{t}'): every record took the default of '{t}'"
            for c, t in self.unread_mapped_columns(names)
        ]

    def evaluate_arrow(self, table: pa.Table, first_row: int = 1, dictionary: bool = False) -> Chunk:
        """An Arrow table of records to a Chunk of output and errors (column by column); with
        `dictionary`, the output's columns of few distinct values are dictionary-encoded (the
        writers write them as text, and they take a fraction of the memory)."""
        return self._columnar.evaluate(*self._chunk(table, first_row), dictionary)

    def evaluate_columns(self, data: dict[str, list[Any]], first_row: int = 1, dictionary: bool = False) -> Chunk:
        """Columns of records (name -> values) to a Chunk (`dictionary`: as `evaluate_arrow`).

        A `PROBLEM` column, where a reader found a row it could not read at all, makes that
        row an error with its message.
        """
        return self._columnar.evaluate(*self._chunk(data, first_row), dictionary)

    def chunk_steps(
        self, data: pa.Table | dict[str, list[Any]], first_row: int = 1, dictionary: bool = False
    ) -> Generator[list[Wanted], list[int], Chunk]:
        """An Arrow table or columns of records, evaluated in two steps (`_Columnar.steps`): a
        worker of a run with several asks the others for the cases routed to them (`owner`)."""
        return self._columnar.steps(*self._chunk(data, first_row), dictionary)

    def _chunk(self, data: Any, first_row: int) -> tuple[dict[str, _Column], int, int, list[Any] | None]:
        """The columns of a chunk (a column read as several facts followed by its copies, one
        `_Column` for all, so its values are read once), its rows, its first row number, and
        the problems a reader found."""
        read = self.mapping.with_copies
        if isinstance(data, dict):
            given = {name: _Column.of_list(values) for name, values in data.items() if name != PROBLEM}
            n = len(next(iter(data.values()))) if data else 0
            problems = data.get(PROBLEM)
        else:
            given = {name: _Column.of_arrow(data.column(name)) for name in data.column_names if name != PROBLEM}
            n, problems = data.num_rows, (data.column(PROBLEM).to_pylist() if PROBLEM in data.column_names else None)
        return {name: given[column] for name, column in read(given)}, n, first_row, problems


def problem_rank(kind: str, place: int) -> int:
    """Where a record's problem comes in `Batch._checked`'s order, as a number to compare: a bad
    value by its column's place in the row, then a missing required fact by its place among
    the required facts, then a city outside its county."""
    return {"value": 0, "missing": 1, "place": 2}[kind] << 32 | place


def pandas_values(values: list[Any]) -> list[Any]:
    """A pandas column's cells as the other readers give them: missing (None, NaN, NA, NaT) is
    None; an array (a list cell, as pandas hands one over) is a list, checked as JSON's lists
    are. Text, most cells, is passed over first (a column of a Dask partition goes through here)."""
    import numpy as np
    import pandas as pd

    def cell(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value.tolist()
        if not isinstance(value, (list, dict)) and pd.isna(value):
            return None
        return value

    return [v if v.__class__ is str else cell(v) for v in values]


def owner(spread: int, workers: int) -> int:
    """Which of `workers` processes evaluates a case: by `spread`, the stable hash of its keyed
    facts (`Wanted.spread`; not of its interval, so that the cases one engine run can answer,
    `cases.Firings`, stay together)."""
    return spread % workers


def spread(values: tuple) -> int:
    """A hash of keyed facts that every process of a run computes alike (not Python's `hash`,
    which differs between processes for text)."""
    return zlib.crc32(repr(values).encode())


class _Column:
    """One input column: an Arrow array or a list, and (computed on first use) its distinct
    values and each row's index among them, so that a value is checked once however many rows
    hold it."""

    def __init__(self, arrow: Any = None, values: list[Any] | None = None) -> None:
        self.arrow = arrow
        self.list = values
        self._encoded: tuple[Any, list[Any]] | None = None

    @classmethod
    def of_arrow(cls, column: Any) -> _Column:
        import pyarrow as pa

        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks() if column.num_chunks else pa.nulls(0, column.type)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_nested(column.type):  # lists, structs, maps: checked value by value, as in JSON
            return cls(values=column.to_pylist())
        return cls(arrow=column)

    @classmethod
    def of_list(cls, values: list[Any]) -> _Column:
        return cls(values=values)

    def raw(self, i: int) -> Any:
        """Row `i`'s value as Python reads it."""
        return self.arrow[i].as_py() if self.arrow is not None else self.list[i]  # type: ignore[index]

    @property
    def encoded(self) -> tuple[Any, list[Any]]:
        """(codes, distinct values): row i holds distinct value codes[i]."""
        if self._encoded is None:
            if self.arrow is not None:
                import pyarrow.compute as pc

                from policyengine.arrays import numpy_ints

                enc = pc.dictionary_encode(self.arrow, null_encoding="encode")
                codes = numpy_ints(enc.indices)
                self._encoded = (codes, enc.dictionary.to_pylist())
            else:
                self._encoded = _encode_list(self.list or [])
        return self._encoded


def _encode_list(values: list[Any]) -> tuple[Any, list[Any]]:
    """Distinct values of a list, told apart by type as well as value (`True` is not `1`)."""
    import numpy as np

    index: dict[Any, int] = {}
    distinct: list[Any] = []
    codes: list[int] = []
    for v in values:
        try:
            key = (v.__class__, v)
            code = index.get(key)
            if code is None:
                code = index[key] = len(distinct)
                distinct.append(v)
        except TypeError:  # unhashable (a list or an object in JSON): a value of its own
            code = len(distinct)
            distinct.append(v)
        codes.append(code)
    return np.asarray(codes, dtype=np.int64), distinct


class _Columnar:
    """The core of every batch path: a chunk of records to output rows, column by column.

    Each column's distinct values are checked once; the distinct combinations of the stated
    facts other than the date (*bases*) of a chunk are checked together, column by column
    (`_bases`), and give the keyed facts and the place; each row's interval between change
    dates is found with `numpy.searchsorted`; each distinct case is looked up (and evaluated
    once, when new, through `Batch._evaluate`); the output columns are taken from the distinct
    output rows; the 48-hour reference is derived per date and release time (`_HoldLimits`).
    Nothing here loops over rows in Python except the bad ones.
    """

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        #: per fact: each value read (converted and checked) interned, across chunks: (type,
        #: value) -> code, and per code the value and its code among the fact's keyed values
        self.read: dict[str, tuple[dict[Any, int], list[Any], list[int]]] = {}
        #: per fact: its keyed values (`CaseKeys.value`) interned: (type, value) -> code, values
        self.keyed: dict[str, tuple[dict[Any, int], list[Any]]] = {}
        #: a combination of keyed-value codes (int32s as bytes) -> its keyed facts in `values`
        self.values_by_codes: dict[bytes, int] = {}
        self.values: list[tuple] = []  # keyed facts, interned
        self.values_index: dict[tuple, int] = {}
        self.values_spread: list[int] = []  # per keyed facts: `spread`
        self.wheres: list[Any] = []  # per place: its change dates as day ordinals
        self.wheres_index: dict[tuple, int] = {}
        self.counties: list[str] = []
        self.counties_index: dict[str, int] = {}
        self.dates: dict[Any, tuple[dt.date, dt.date, str, int] | str] = {}  # raw -> (value, used, ISO, ordinal)
        self.times: dict[Any, str | RecordError | None] = {}  # raw -> HH:MM, the problem, or None (no time)
        self.holds = _HoldLimits()

    @cached_property
    def span(self) -> int:
        """More than any place's number of intervals between change dates."""
        return self.batch.keys.most_intervals + 1

    def case_code(self, values: tuple, interval: int) -> int:
        """A case as one int: its keyed facts (interned) and the interval of its date."""
        return self._value(values) * self.span + interval

    def _value(self, values: tuple) -> int:
        """The index of keyed facts in `values`, interned."""
        found = self.values_index.get(values)
        if found is None:
            found = self.values_index[values] = len(self.values)
            self.values.append(values)
            self.values_spread.append(spread(values))
        return found

    def forget_if_large(self) -> None:
        """Forget what grows with the distinct values of a batch when it is past its bound
        (called only between chunks: nothing then holds a code): the interned keyed facts, with
        the cases that refer to them, past VALUES_KEPT; the values read, past VALUES_KEPT in all."""
        if len(self.values) > VALUES_KEPT:
            self.values.clear()
            self.values_index.clear()
            self.values_spread.clear()
            self.values_by_codes.clear()
            self.batch._cases.clear()
        if sum(len(index) for index, _, _ in self.read.values()) > VALUES_KEPT:
            self.read.clear()
            self.keyed.clear()
            self.values_by_codes.clear()

    def _intern(self, index: dict, items: list, value: Any) -> int:
        found = index.get(value)
        if found is None:
            found = index[value] = len(items)
            items.append(value)
        return found

    def _read(self, fact: str, value: Any) -> int:
        """The code of a value of `fact` (converted and checked), interned for this batch."""
        found = self.read.get(fact)
        if found is None:
            found = self.read[fact] = ({}, [], [])
        index, values, keyed = found
        key = (value.__class__, value)  # the vocabulary's values are hashable
        code = index.get(key)
        if code is None:
            code = index[key] = len(values)
            values.append(value)
            kept = self.keyed.get(fact)
            if kept is None:
                kept = self.keyed[fact] = ({}, [])
            k_value = self.batch.keys.value(fact, value)
            keyed.append(self._intern(kept[0], kept[1], (k_value.__class__, k_value)))
        return code

    def _bases(
        self,
        targets: tuple[str, ...],
        columns: list[tuple[Any, list[Any]]],
        m: int,
        messages: list[str],
        positions: list[int],
    ) -> tuple[Any, Any, Any, dict[str, Any]]:
        """Each distinct combination of stated facts (other than the date) checked as
        `Batch._checked` checks one record's, but column by column: (its base packed in one int
        (keyed facts << 40 | place << 20 | county), why it is bad: an index in `messages`, or -1,
        where that problem comes in `_checked`'s order (`problem_rank`), and per fact, in the
        order `_checked` gives them, the codes of its values (-1: none)).

        `columns` holds, per stated column (in input order; `targets` their facts; `positions`
        their places among the row's columns), each of the `m` combinations' index among the
        column's distinct values, and those values. Each distinct value is read once; the first
        bad column wins, then the first missing required fact, then a city outside the county,
        as in `_checked`."""
        import numpy as np

        batch = self.batch
        why = np.full(m, -1, dtype=np.int64)
        rank = np.full(m, -1, dtype=np.int64)
        said: dict[str, int] = {}

        def say(text: str) -> int:
            found = said.get(text)
            if found is None:
                found = said[text] = len(messages)
                messages.append(text)
            return found

        # per fact: the code of its value in each combination (-1: not stated); a later column of
        # the same fact wins, as in a dict; the mapping's constants where nothing is stated
        stated: dict[str, Any] = {}
        for fact, (local, distinct), position in zip(targets, columns, positions, strict=True):
            self.read.setdefault(fact, ({}, [], []))  # a column with nothing filled in reads no value
            codes = np.full(len(distinct), -1, dtype=np.int64)
            bad = np.full(len(distinct), -1, dtype=np.int64)
            for i, raw in enumerate(distinct):
                if raw is None or raw == "":
                    continue
                try:
                    codes[i] = self._read(fact, batch.value(fact, raw))
                except RecordError as exc:
                    bad[i] = say(str(exc))
            found = bad[local]
            hit = (why < 0) & (found >= 0)
            why = np.where(hit, found, why)
            rank = np.where(hit, problem_rank("value", position), rank)
            earlier = stated.get(fact)
            here = codes[local]
            stated[fact] = here if earlier is None else np.where(here >= 0, here, earlier)
        for fact, value in batch.mapping.constants.items():
            code = self._read(fact, value)
            earlier = stated.get(fact)
            stated[fact] = (
                np.full(m, code, dtype=np.int64) if earlier is None else np.where(earlier >= 0, earlier, code)
            )
        for r, fact in enumerate(batch._required):
            if fact != "date":
                missing = (stated[fact] < 0) if fact in stated else np.ones(m, dtype=bool)
                hit = (why < 0) & missing
                why = np.where(hit, say(f"missing required fact '{fact}'"), why)
                rank = np.where(hit, problem_rank("missing", r), rank)

        # the place of each good combination: its city in its county, the change dates that reach it
        rows = np.nonzero(why < 0)[0]
        none = self._read("place.city", "none")
        city = stated.get("place.city", np.full(m, none, dtype=np.int64))
        city = np.where(city >= 0, city, none)
        county = stated.get("place.county", np.full(m, -1, dtype=np.int64))
        read_city, read_county = self.read["place.city"][1], self.read.get("place.county", ({}, [], []))[1]
        places, place_of = np.unique(np.stack([county[rows], city[rows]], axis=1), axis=0, return_inverse=True)
        place_codes = np.zeros((len(places), 3), dtype=np.int64)  # per place: why bad (or -1), where, county
        for p, (c_code, y_code) in enumerate(places.tolist()):
            c_value = read_county[c_code] if c_code >= 0 else None
            y_value = read_city[y_code]
            if y_value != "none" and batch._city_county[y_value] != c_value:
                place_codes[p] = (say(f"{y_value} is in {batch._city_county[y_value]} County, not {c_value}"), 0, 0)
                continue
            where = (batch.keys.value("place.county", c_value), batch.keys.value("place.city", y_value))
            w = self.wheres_index.get(where)
            if w is None:
                w = self.wheres_index[where] = len(self.wheres)
                bounds = [dt.date.fromisoformat(d).toordinal() for d in batch.keys.bounds(*where)]
                self.wheres.append(np.asarray(bounds, dtype=np.int64))
            place_codes[p] = (-1, w, self._intern(self.counties_index, self.counties, c_value))
        place_of = place_of.reshape(-1)
        why[rows] = place_codes[place_of, 0]
        ok = place_codes[place_of, 0] < 0
        rank[rows[~ok]] = problem_rank("place", 0)
        rows, place_of = rows[ok], place_of[ok]

        # the keyed facts of each good combination: per fact the code of its keyed value (its
        # default's where nothing is stated); each distinct combination of codes interned once
        keyed = np.zeros((len(rows), len(batch.keys.facts)), dtype=np.int32)
        for k, fact in enumerate(batch.keys.facts):
            default = self._read(fact, batch._facts[fact].default)
            codes = stated[fact][rows] if fact in stated else np.full(len(rows), -1, dtype=np.int64)
            keyed[:, k] = np.asarray(self.read[fact][2], dtype=np.int32)[np.where(codes >= 0, codes, default)]
        value_of = np.zeros(len(rows), dtype=np.int64)
        if len(rows):
            as_bytes = np.ascontiguousarray(keyed).view(np.dtype((np.void, 4 * keyed.shape[1]))).ravel()
            combinations, which = np.unique(as_bytes, return_inverse=True)
            codes_of = np.zeros(len(combinations), dtype=np.int64)
            for d, key in enumerate(combinations.tolist()):
                v = self.values_by_codes.get(key)
                if v is None:
                    row = np.frombuffer(key, dtype=np.int32).tolist()
                    value = tuple(self.keyed[f][1][c][1] for f, c in zip(batch.keys.facts, row, strict=True))
                    v = self.values_by_codes[key] = self._value(value)
                codes_of[d] = v
            value_of = codes_of[which.reshape(-1)]
        packed = np.zeros(m, dtype=np.int64)
        packed[rows] = (value_of << 40) | (place_codes[place_of, 1] << 20) | place_codes[place_of, 2]
        in_order = {fact: stated[fact] for fact in [*batch.mapping.constants, *targets]}
        return packed, why, rank, in_order

    @staticmethod
    def _time_column(found: list[_Column], n: int) -> _Column | None:
        """The release time's column: where several columns are the time, per row the later one
        filled in (as `Batch._time` reads a record)."""
        if len(found) < 2:
            return found[0] if found else None
        import numpy as np

        values: list[Any] = [None] * n
        for column in found:
            codes, distinct = column.encoded
            for i in np.nonzero(np.asarray([d not in (None, "") for d in distinct], dtype=bool)[codes])[0].tolist():
                values[i] = distinct[codes[i]]
        return _Column.of_list(values)

    def _date(self, raw: Any) -> tuple[dt.date, dt.date, str, int] | str:
        batch = self.batch
        try:
            key = (raw.__class__, raw)
            found = self.dates.get(key)
        except TypeError:
            key, found = None, None
        if found is None:
            try:
                if raw is None or raw == "":
                    value = batch.mapping.constants.get("date")
                    if value is None:
                        raise RecordError("missing required fact 'date'")
                else:
                    value = batch.value("date", raw)
                used = batch.as_of or value
                found = (value, used, used.isoformat(), used.toordinal())
            except RecordError as exc:
                found = str(exc)
            if key is not None:
                if len(self.dates) > 1_000_000:
                    self.dates.clear()
                self.dates[key] = found
        return found

    def _time(self, raw: Any) -> str | RecordError | None:
        try:
            key = (raw.__class__, raw)
            found = self.times.get(key, False)
        except TypeError:
            key, found = None, False
        if found is False:
            if raw in (None, ""):
                found = None
            else:
                try:
                    found = read_time(raw, self.batch.mapping.formats.get(TIME))
                except RecordError as exc:
                    found = exc
            if key is not None:
                if len(self.times) > 100_000:
                    self.times.clear()
                self.times[key] = found
        return found  # type: ignore[return-value]

    # -------------------------------------------------------------- a chunk

    def evaluate(
        self, columns: dict[str, _Column], n: int, first_row: int, problems: list[Any] | None, dictionary: bool
    ) -> Chunk:
        """A chunk evaluated here, its new cases included."""
        steps = self.steps(columns, n, first_row, problems, dictionary)
        wanted = next(steps)
        try:
            steps.send([self.batch._case(w.code, w.facts, w.day) for w in wanted])
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        raise AssertionError("a chunk's steps end after the new cases")

    def steps(
        self, columns: dict[str, _Column], n: int, first_row: int, problems: list[Any] | None, dictionary: bool
    ) -> Generator[list[Wanted], list[int], Chunk]:
        """A chunk in two steps: first it yields the cases of its rows that are not kept (as
        `Wanted`, in the order of their first rows) and is sent each one's output row (in
        `Batch.out_rows`), however it was found (evaluated here, or answered by the worker the
        case is routed to); then it returns the Chunk."""
        import numpy as np
        import pyarrow as pa

        from policyengine.arrays import bools, ints, text, texts

        batch = self.batch
        names = list(columns)
        batch.check_columns(names)
        targets = {c: batch.mapping.target(c) for c in names}
        facts = batch._facts
        others = [c for c in names if targets[c] in facts and targets[c] != "date"]
        id_col = next((columns[c] for c in names if targets[c] == ID), None)
        time_col = self._time_column([columns[c] for c in names if targets[c] == TIME], n)

        # why a row is bad, -1 if it is not: the first problem found wins, as a reader reads a row
        messages: list[str] = []
        why = np.full(n, -1, dtype=np.int64)

        # bases: each distinct combination of the other stated facts, checked column by column
        if others and n:
            combo = np.zeros(n, dtype=np.int64)
            radix = 1
            for c in others:
                codes, distinct = columns[c].encoded
                if radix * max(len(distinct), 1) >= 1 << 62:  # re-number before the codes overflow
                    combo = np.unique(combo, return_inverse=True)[1].astype(np.int64).reshape(-1)
                    radix = int(np.amax(combo)) + 1
                combo = combo * len(distinct) + codes
                radix *= max(len(distinct), 1)
            _, first, inverse = np.unique(combo, return_index=True, return_inverse=True)
            inverse = inverse.reshape(-1)
        else:
            first, inverse = np.zeros(1 if n else 0, dtype=np.int64), np.zeros(n, dtype=np.int64)
        other_targets = tuple(str(targets[c]) for c in others)
        encoded = [columns[c].encoded for c in others]
        self.forget_if_large()
        packed, b_why, b_rank, b_stated = self._bases(
            other_targets,
            [(codes[first], distinct) for codes, distinct in encoded],
            len(first),
            messages,
            [names.index(c) for c in others],
        )
        b_facts = list(b_stated)
        b_codes = np.stack([b_stated[f] for f in b_facts], axis=1) if b_facts else np.zeros((len(first), 0), np.int64)
        b_read = [self.read[f][1] for f in b_facts]

        def facts_of(j: int) -> dict[str, Any]:
            """The facts (other than the date) of good combination `j`, as `Batch._checked` gives them."""
            return {f: read[c] for f, read, c in zip(b_facts, b_read, b_codes[j].tolist(), strict=True) if c >= 0}

        b_values, b_where, b_county = packed >> 40, (packed >> 20) & 0xFFFFF, packed & 0xFFFFF

        # dates: each distinct date checked once (where several columns are the date, each
        # distinct combination of them: as in `_checked`, any bad one is told, the first in
        # order, and the last one filled in is the date)
        date_cols = [i for i, c in enumerate(names) if targets[c] == "date"]
        d_raws: list[tuple[Any, ...]]
        if len(date_cols) == 1:
            d_codes, distinct = columns[names[date_cols[0]]].encoded
            d_raws = [(raw,) for raw in distinct]
        elif date_cols:
            each = [columns[names[i]].encoded for i in date_cols]
            combos, d_codes = np.unique(np.stack([codes for codes, _ in each], axis=1), axis=0, return_inverse=True)
            d_codes = d_codes.reshape(-1)
            d_raws = [tuple(each[e][1][c] for e, c in enumerate(row)) for row in combos.tolist()]
        else:
            d_codes, d_raws = np.zeros(n, dtype=np.int64), [()]
        k = len(d_raws)
        d_ord = np.zeros(k, dtype=np.int64)
        d_iso: list[str | None] = [None] * k
        d_why = np.full(k, -1, dtype=np.int64)
        d_rank = np.full(k, -1, dtype=np.int64)
        d_found: list[tuple[dt.date, dt.date, str, int] | str] = []
        required = batch._required
        missing = problem_rank("missing", required.index("date") if "date" in required else len(required))
        for j, raws in enumerate(d_raws):
            day, rank = None, missing
            for position, raw in zip(date_cols, raws, strict=True):
                if raw is None or raw == "":
                    continue
                day = self._date(raw)
                if isinstance(day, str):
                    rank = problem_rank("value", position)
                    break
            if day is None:  # no date stated: the mapping's constant, or the missing fact is told
                day = self._date(None)
            d_found.append(day)
            if isinstance(day, str):
                d_why[j], d_rank[j] = len(messages), rank
                messages.append(day)
            else:
                d_ord[j], d_iso[j] = day[3], day[2]

        # the first problem in `Batch._checked`'s order wins (a bad value in the row's first bad
        # column, then the first missing required fact, then the place), a reader's before all
        row_b_why, row_b_rank = b_why[inverse], b_rank[inverse]
        row_d_why, row_d_rank = d_why[d_codes], d_rank[d_codes]
        date_first = (row_d_why >= 0) & ((row_b_why < 0) | (row_d_rank < row_b_rank))
        why = np.where(date_first, row_d_why, np.where(row_b_why >= 0, row_b_why, why))
        if problems is not None:
            for i, problem in enumerate(problems):
                if problem is not None:
                    why[i] = len(messages)
                    messages.append(problem)
        good = why < 0

        # cases: keyed facts and the interval of the date among the change dates of the place
        rows = np.nonzero(good)[0]
        values_of = b_values[inverse[rows]]
        where_of = b_where[inverse[rows]]
        day_of = d_ord[d_codes[rows]]
        interval = np.zeros(len(rows), dtype=np.int64)
        for w in np.unique(where_of).tolist():
            at = where_of == w
            interval[at] = np.searchsorted(self.wheres[w], day_of[at], side="right")
        span = self.span
        case_code = values_of * span + interval
        distinct_cases, case_first, case_inverse = np.unique(case_code, return_index=True, return_inverse=True)
        case_inverse = case_inverse.reshape(-1)
        case_out = np.zeros(len(distinct_cases), dtype=np.int64)  # each distinct case's output row
        new: list[tuple[int, int]] = []
        kept = batch._cases
        for j, code in enumerate(distinct_cases.tolist()):
            out = kept.get(code)
            if out is None:
                new.append((int(case_first[j]), j))
            else:
                case_out[j] = out
        wanted: list[Wanted] = []
        for at, j in sorted(new):  # the new cases in the order their first records come
            r = int(rows[at])
            code = int(distinct_cases[j])
            day = d_found[int(d_codes[r])]
            assert not isinstance(day, str)  # a good row's date was read
            v = code // span
            wanted.append(
                Wanted(
                    code,
                    (self.values[v], code % span),
                    {**facts_of(int(inverse[r])), "date": day[0]},
                    day[1],
                    self.values_spread[v],
                )
            )
        found = yield wanted  # from here on, no code of this chunk refers to `values`: they may be forgotten
        for (_, j), out in zip(sorted(new), found, strict=True):
            case_out[j] = out
        out_of = case_out[case_inverse] if len(rows) else np.zeros(0, dtype=np.int64)

        # the 48-hour reference, where a decision involves it and the record has a time
        limits = None
        if time_col is not None and len(rows):
            t_codes, t_distinct = time_col.encoded
            t_found = [self._time(raw) for raw in t_distinct]
            t_has = np.asarray([time is not None for time in t_found], dtype=bool)
            t_bad = np.asarray([isinstance(time, RecordError) for time in t_found], dtype=bool)
            needs = np.asarray(batch.out_needs_hold_limit, dtype=bool)[out_of] & t_has[t_codes[rows]]
            wrong = needs & t_bad[t_codes[rows]]
            for at in np.nonzero(wrong)[0].tolist():
                why[rows[at]] = len(messages)
                messages.append(str(t_found[int(t_codes[rows[at]])]))
            keep = ~wrong
            rows, out_of, needs = rows[keep], out_of[keep], needs[keep]
            limits = self.holds.column(
                needs,
                d_codes[rows],
                [day[1] if not isinstance(day, str) else None for day in d_found],
                t_codes[rows],
                [time if isinstance(time, str) else None for time in t_found],
            )

        # the output, column by column
        columns_out: dict[str, Any] = {}
        if id_col is None:
            columns_out[ID] = ints(rows + first_row).cast(pa.string())
        elif id_col.arrow is not None and pa.types.is_string(id_col.arrow.type):
            columns_out[ID] = id_col.arrow.take(ints(rows))
        else:
            i_codes, i_distinct = id_col.encoded
            columns_out[ID] = texts([None if v is None else str(v) for v in i_distinct]).take(ints(i_codes[rows]))
        if id_col is not None:  # a record without an id (empty, null, absent from a JSON line): its row number
            import pyarrow.compute as pc

            given = columns_out[ID]
            blank = pc.fill_null(pc.equal(given, text("")), bools([True])[0])
            if pc.any(blank).as_py():
                numbers = ints(rows + first_row).cast(pa.string())
                columns_out[ID] = pc.if_else(blank, numbers, given)

        # columns of few distinct values are dictionary arrays: row indices into their values
        def coded(indices: Any, values: Sequence[str | None]) -> Any:
            shown = ["" if v is None else v for v in values]  # None only where no row points (a bad date)
            if not isinstance(indices, pa.Array):
                indices = ints(indices, pa.int32())
            return pa.DictionaryArray.from_arrays(indices, texts(shown))

        columns_out["date"] = coded(d_codes[rows], d_iso)
        county_of = b_county[inverse[rows]]
        columns_out["county"] = coded(county_of, self.counties)
        used, local = np.unique(out_of, return_inverse=True)
        local = local.reshape(-1)
        picked = [batch.out_rows[o] for o in used.tolist()]
        case_cols = ["agency", *(f"{a}.{f}" for a in batch.actions for f in ROW_FIELDS)]
        local_indices = ints(local, pa.int32())  # one array of indices for all the case columns
        for j, name in enumerate(case_cols):
            columns_out[name] = coded(local_indices, [r[j] for r in picked])
        columns_out[HOLD_LIMIT] = limits if limits is not None else pa.nulls(len(rows), pa.string())
        if not dictionary:
            columns_out = {k: v.cast(pa.string()) for k, v in columns_out.items()}
        out = pa.table(columns_out)

        # the summary counts: rows per county and output row, then per county, action and verdict
        # (and practice)
        counts: Counter[tuple[str, str, str]] = Counter()
        practices: Counter[tuple[str, str, str]] = Counter()
        if len(rows):
            pair = county_of * len(used) + local
            distinct_pairs, tally = np.unique(pair, return_counts=True)
            pair_county, pair_row = distinct_pairs // len(used), distinct_pairs % len(used)
            for a_i, action in enumerate(batch.actions):
                for into, at_field in ((counts, 0), (practices, ROW_FIELDS.index("practice"))):
                    labels = [r[1 + a_i * len(ROW_FIELDS) + at_field] for r in picked]
                    names = sorted(set(labels))
                    code = np.asarray([names.index(v) for v in labels], dtype=np.int64)[pair_row]
                    per = np.bincount(pair_county * len(names) + code, weights=tally)
                    for at in np.nonzero(per)[0].tolist():
                        into[(self.counties[at // len(names)], action, names[at % len(names)])] += int(per[at])

        # the bad rows, in input order, each with its row number, id and message
        errors: list[tuple[int, Any, str]] = []
        for i in np.nonzero(why >= 0)[0].tolist():
            rid = id_col.raw(i) if id_col is not None else None
            rid = first_row + i if rid is None or rid == "" else rid
            errors.append((first_row + i, rid, messages[int(why[i])]))
        return Chunk(out, errors, counts, n, out_of, practices)


class _HoldLimits:
    """The federal 48-hour reference (`deadline.federal_hold_limit`) for many records at once.

    Released on a day that counts, at a time after midnight, the limit is the same time of day
    on the second counted day after it; released at midnight, or on a day that does not count
    (a Saturday, Sunday or federal holiday), it is one moment that depends on the day alone. So
    two calls of `federal_hold_limit` per distinct date (released at 00:00 and at 12:00) give
    every row's limit; `tests/test_batch.py` checks this against `hold_limit` day by day.
    """

    def __init__(self) -> None:
        self.days: dict[int, tuple[str, str, bool]] = {}

    def day(self, day: dt.date) -> tuple[str, str, bool]:
        """(the limit released at 00:00, the second counted day after `day`, whether they are one moment)."""
        found = self.days.get(day.toordinal())
        if found is None:
            from policyengine.deadline import federal_hold_limit

            midnight = federal_hold_limit(dt.datetime.combine(day, dt.time()))
            noon = federal_hold_limit(dt.datetime.combine(day, dt.time(12)))
            found = (
                midnight.latest.isoformat(timespec="minutes"),
                noon.latest.date().isoformat(),
                midnight.latest == noon.latest,  # the day does not count: the time does not matter
            )
            if len(self.days) > 100_000:
                self.days.clear()
            self.days[day.toordinal()] = found
        return found

    def column(self, needs: Any, day_codes: Any, days: list[dt.date | None], time_codes: Any, times: list[Any]) -> Any:
        """The `federal_hold_limit` column: rows where `needs` is true get the limit of their
        day (`days[day_codes]`) and release time (`times[time_codes]`, HH:MM); the others null."""
        import numpy as np
        import pyarrow.compute as pc

        from policyengine.arrays import bools, ints, text, texts

        per_day = [self.day(d) if d is not None else ("", "", True) for d in days]
        at_midnight = texts([p[0] for p in per_day])
        second_day = texts([p[1] + "T" for p in per_day])
        fixed = np.asarray([p[2] for p in per_day], dtype=bool)
        hhmm = [t if t is not None else "" for t in times]
        is_midnight = np.asarray([t == "00:00" for t in hhmm], dtype=bool)
        rows = np.nonzero(needs)[0]
        d, t = ints(day_codes[rows]), time_codes[rows]
        one = bools(fixed[day_codes[rows]] | is_midnight[t])
        joined = pc.binary_join_element_wise(second_day.take(d), texts(hhmm).take(ints(t)), text(""))
        values = pc.if_else(one, at_midnight.take(d), joined)
        # row i takes values[its rank among the rows that need it]; the others are null
        rank = np.cumsum(needs) - 1
        return values.take(ints(np.where(needs, rank, 0), valid=needs))


@dataclass
class Chunk:
    """One evaluated slice of the input: output rows, bad rows, and the summary counts."""

    table: Any  # pyarrow.Table
    errors: list[tuple[int, Any, str]]
    counts: Counter[tuple[str, str, str]]
    rows: int
    #: per output row, its decision columns' row in `Batch.out_rows` (a numpy array), so that a
    #: writer can render each distinct one once
    outs: Any = None
    #: rows per county, action and practice (what the jurisdiction does), as `counts` per verdict
    practices: Counter[tuple[str, str, str]] = field(default_factory=Counter)


def summary_dict(
    counts: Counter[tuple[str, str, str]],
    rows: int,
    written: int,
    errors: int,
    cases: int | None,
    practices: Counter[tuple[str, str, str]] | None = None,
) -> dict:
    """The batch summary: totals, counts per county, action and verdict, and per county, action
    and practice (`cases`: the cases evaluated, None where they are not counted: on Dask)."""

    def nested(found: Counter[tuple[str, str, str]]) -> dict[str, dict[str, dict[str, int]]]:
        per: dict[str, dict[str, dict[str, int]]] = {}
        for (county, action, value), k in sorted(found.items()):
            per.setdefault(county, {}).setdefault(action, {})[value] = k
        return per

    return {
        "rows": rows,
        "written": written,
        "errors": errors,
        "cases": cases,
        "counts": nested(counts),
        "practice_counts": nested(practices or Counter()),
        "warnings": [],
    }


def to_json_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False)
