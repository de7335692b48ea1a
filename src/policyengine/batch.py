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
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from policyengine.cases import CaseKeys
from policyengine.check import check_value
from policyengine.deadline import hold_limit_dict
from policyengine.engine import Engine, get_engine
from policyengine.errors import InputError
from policyengine.model import Scenario, ScenarioHead
from policyengine.pipeline import Rulebase, evaluate, load_rulebase, today
from policyengine.resolve import Decision

if TYPE_CHECKING:
    import pyarrow as pa

ID = "id"
TIME = "time"
HOLD_LIMIT = "federal_hold_limit"
PROBLEM = "__problem__"  # set by a reader on a row it could not read (bad JSON, ...)
ROW_FIELDS = ("verdict", "practice", "decided_by", "practice_by")
TRUE_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


class RecordError(ValueError):
    """A record that cannot be evaluated; the message says why, the batch goes on."""


@dataclass(frozen=True)
class Mapping:
    """How a foreign dataset's columns and values map onto the vocabulary (see docs/batch.md)."""

    columns: dict[str, str] = field(default_factory=dict)  # dataset column -> fact, `id` or `time`
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # fact -> dataset value -> value
    constants: dict[str, Any] = field(default_factory=dict)  # fact -> value for every record
    ignore: tuple[str, ...] = ()  # dataset columns deliberately not read

    def target(self, column: str) -> str | None:
        if column in self.ignore:
            return None
        return self.columns.get(column, column)


def load_mapping(path: str, rulebase: Rulebase) -> Mapping:
    """Read and check a mapping file; every problem located at its line."""
    from policyengine.load import load_yaml

    doc = load_yaml(path)
    data = doc.data if isinstance(doc.data, dict) else None
    if data is None:
        raise doc.error((), "a mapping file is a mapping with `columns`, `values`, `constants`, `ignore`")
    unknown = sorted(set(data) - {"columns", "values", "constants", "ignore"})
    if unknown:
        raise doc.error((unknown[0],), f"unknown key '{unknown[0]}' in a mapping file")
    facts = _stated_facts(rulebase)
    columns = data.get("columns") or {}
    if not isinstance(columns, dict):
        raise doc.error(("columns",), "`columns` maps dataset column names to fact names")
    for column, target in columns.items():
        if target not in facts and target not in (ID, TIME):
            raise doc.error(("columns", column), f"'{target}' is not a fact in the vocabulary (nor `id` or `time`)")
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
    if not isinstance(ignore, list) or not all(isinstance(c, str) for c in ignore):
        raise doc.error(("ignore",), "`ignore` is a list of dataset column names")
    return Mapping(
        {str(k): v for k, v in columns.items()},
        {f: {str(k): v for k, v in t.items()} for f, t in values.items()},
        dict(constants),
        tuple(ignore),
    )


def _stated_facts(rulebase: Rulebase) -> dict[str, Any]:
    """The facts a record may state (registry and derived facts come from elsewhere)."""
    return {n: s for n, s in rulebase.vocabulary.facts.items() if s.source == "scenario"}


@lru_cache(maxsize=65536)
def hold_limit(day: str, time: str) -> str:
    """The latest moment of the federal 48-hour reference, per date and time (cached)."""
    try:
        moment = dt.time.fromisoformat(time)
    except ValueError:
        raise RecordError(f"'{time}' is not a time of day (HH:MM)") from None
    return hold_limit_dict(dt.date.fromisoformat(day), moment.strftime("%H:%M"))["latest_hold_until"]


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
        self._facts = _stated_facts(self.rulebase)
        self._values: dict[tuple[str, Any], Any] = {}
        self._cases: dict[tuple, int] = {}
        #: per case: its output values (county, agency, then ROW_FIELDS per action)
        self.case_rows: list[tuple[str, ...]] = []
        self.case_needs_hold_limit: list[bool] = []
        self._rows: dict[int, tuple[tuple[Decision, ...], tuple[str, ...], bool]] = {}
        self._hold_rules = {r.id for r in self.rulebase.rules if r.reference == "hold_limit_48_hours"}

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
        """A dataset value as the vocabulary value of `fact` (cached per fact and value)."""
        key = (fact, raw)
        try:
            found = self._values[key]
        except KeyError:
            try:
                found = self._convert(fact, raw)
            except RecordError as exc:
                found = exc
            except TypeError:  # an unhashable raw value cannot be cached
                return self._convert(fact, raw)
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
                try:
                    value = dt.date.fromisoformat(text) if len(text) == 10 else raw
                except ValueError:
                    raise RecordError(f"'{fact}': '{raw}' is not a real calendar date (YYYY-MM-DD)") from None
            elif spec.type == "integer":
                try:
                    value = int(text)
                except ValueError:
                    value = raw
            else:
                value = text
        elif isinstance(raw, dt.datetime):
            value = raw.date() if spec.type == "date" else raw
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

    def _checked(self, pairs: Any, later: tuple[str, ...] = ()) -> dict[str, Any]:
        """Stated facts checked and converted; required facts other than `later` must be there."""
        facts: dict[str, Any] = dict(self.mapping.constants)
        for name, raw in pairs:
            if raw is not None and raw != "":  # missing: the default applies, or a required fact is reported
                facts[name] = self.value(name, raw)
        for name in self._required:
            if name not in facts and name not in later:
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
        """The index of the case `facts` belong to, evaluating it if it is new."""
        values, where = self._base_key(facts)
        day = self.as_of or facts["date"]
        return self._case((values, self.keys.interval(day, *where)), facts, day)

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

    def _case(self, key: tuple, facts: dict[str, Any], day: dt.date) -> int:
        found = self._cases.get(key)
        if found is None:
            found = self._cases[key] = self._evaluate(facts, day)
        return found

    def _evaluate(self, facts: dict[str, Any], day: dt.date) -> int:
        head = ScenarioHead.model_construct(id="record", title="record", date=day, expect={}, time=None)
        scenario = Scenario(head, {**facts, "date": day}, "record")
        ev = evaluate(scenario, self.rulebase, self.engine, as_of=self.as_of, known_on=self.known_on)
        # remembered: the same tuple
        decisions = self.rulebase.resolution(ev.firing, ev.date, ev.agency, ev.known_on)
        found = self._rows.get(id(decisions))
        if found is None:  # the tuple is kept in the value, so its id cannot be reused meanwhile
            found = self._rows[id(decisions)] = (decisions, *self._row_of(decisions))
        self.case_rows.append((ev.county, ev.agency, *found[1]))
        self.case_needs_hold_limit.append(found[2])
        return len(self.case_rows) - 1

    def _row_of(self, decisions: tuple[Decision, ...]) -> tuple[tuple[str, ...], bool]:
        wanted = {d.action: d for d in decisions}
        row: list[str] = []
        needs_limit = False
        for action in self.actions:
            d = wanted[action]
            row += [d.verdict, d.practice, " ".join(d.decided_by), " ".join(d.practice_by)]
            involved = (*d.decided_by, *d.concurring, *(x.rule for x in d.defeated))
            needs_limit = needs_limit or any(r in self._hold_rules for r in involved)
        return tuple(row), needs_limit

    @property
    def case_count(self) -> int:
        return len(self.case_rows)

    def row(self, case: int, record_id: Any, day: dt.date, time: str | None, county: str) -> dict[str, Any]:
        values = self.case_rows[case]
        out: dict[str, Any] = {ID: record_id, "date": day.isoformat(), "county": county, "agency": values[1]}
        i = 2
        for action in self.actions:
            for f in ROW_FIELDS:
                out[f"{action}.{f}"] = values[i]
                i += 1
        out[HOLD_LIMIT] = hold_limit(day.isoformat(), time) if time and self.case_needs_hold_limit[case] else None
        return out

    # ---------------------------------------------------------------- the API

    def evaluate(self, record: dict[str, Any], record_id: Any = None) -> dict[str, Any]:
        """One record (fact name -> value) to one output row; RecordError if it is bad."""
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

    def _time(self, record: dict[str, Any]) -> str | None:
        for column, raw in record.items():
            if self.mapping.target(column) == TIME and raw not in (None, ""):
                return str(raw)
        return None

    def evaluate_table(self, table: Any, first_row: int = 1) -> tuple[Any, list[tuple[int, Any, str]]]:
        """A pandas DataFrame or pyarrow Table of records to (output, errors).

        The output has the input's type (pandas in, pandas out); errors are
        (row number, id, message), rows numbered from `first_row`.
        """
        import pyarrow as pa

        is_pandas = not isinstance(table, pa.Table)
        arrow = pa.Table.from_pandas(table, preserve_index=False) if is_pandas else table
        chunk = self.evaluate_arrow(arrow, first_row)
        return (chunk.table.to_pandas() if is_pandas else chunk.table), chunk.errors

    def check_columns(self, names: list[str], file: str = "input") -> None:
        """Every column must be a fact, `id` or `time` (after mapping), or be ignored: nothing silently dropped."""
        for column in names:
            target = self.mapping.target(column)
            if column != PROBLEM and target is not None and target not in self._facts and target not in (ID, TIME):
                raise InputError.at(
                    file, None, f"column '{column}' is not a fact in the vocabulary (map it, or list it under ignore)"
                )

    def evaluate_arrow(self, table: pa.Table, first_row: int = 1) -> Chunk:
        """An Arrow table of records to a Chunk of output and errors."""
        return self.evaluate_columns({name: table.column(name).to_pylist() for name in table.column_names}, first_row)

    def evaluate_columns(self, data: dict[str, list[Any]], first_row: int = 1) -> Chunk:
        """The core of every path: columns of records (name -> values) to a Chunk.

        A `PROBLEM` column, where a reader found a row it could not read at all, makes that
        row an error with its message.
        """
        import numpy as np
        import pyarrow as pa

        names = [c for c in data if c != PROBLEM]
        self.check_columns(names)
        targets = [self.mapping.target(c) for c in names]
        n = len(data[names[0]]) if names else len(data.get(PROBLEM, []))
        fact_cols = [(t, data[c]) for c, t in zip(names, targets, strict=True) if t in self._facts]
        id_col = next((data[c] for c, t in zip(names, targets, strict=True) if t == ID), None)
        time_col = next((data[c] for c, t in zip(names, targets, strict=True) if t == TIME), None)
        problems = data.get(PROBLEM)
        cases = np.empty(n, dtype=np.int64)
        good = np.ones(n, dtype=bool)
        days: list[str] = []
        counties: list[str] = []
        ids: list[Any] = []
        limits: list[str | None] = []
        errors: list[tuple[int, Any, str]] = []
        # The date is checked apart from the other facts: rows repeat their other facts far more
        # often than their dates, so both checks are mostly looked up.
        others = [col for name, col in fact_cols if name != "date"]
        other_names = tuple(name for name, _ in fact_cols if name != "date")
        date_col = next((col for name, col in fact_cols if name == "date"), [None] * n)
        rows = zip(*others, strict=True) if others else iter([()] * n)
        bases: dict[tuple, Any] = {}
        dates: dict[Any, Any] = {}
        intervals: dict[tuple, int] = {}
        stated_date = self.mapping.constants.get("date")
        for i, raw in enumerate(rows):
            rid = id_col[i] if id_col is not None else first_row + i
            if problems is not None and problems[i] is not None:
                good[i] = False
                errors.append((first_row + i, rid, problems[i]))
                continue
            base = bases.get(raw)
            if base is None:
                try:
                    facts = self._checked(zip(other_names, raw, strict=True), later=("date",))
                    base = bases[raw] = (facts, *self._base_key(facts))
                except RecordError as exc:
                    base = bases[raw] = exc
            if isinstance(base, RecordError):
                good[i] = False
                errors.append((first_row + i, rid, str(base)))
                continue
            d_raw = date_col[i]
            day = dates.get(d_raw)
            if day is None:
                try:
                    if d_raw is None or d_raw == "":
                        if stated_date is None:
                            raise RecordError("missing required fact 'date'")
                        value = stated_date
                    else:
                        value = self.value("date", d_raw)
                    used = self.as_of or value
                    day = dates[d_raw] = (value, used, used.isoformat())
                except RecordError as exc:
                    day = dates[d_raw] = exc
            if isinstance(day, RecordError):
                good[i] = False
                errors.append((first_row + i, rid, str(day)))
                continue
            facts, values, where = base
            at = (where, day[2])
            interval = intervals.get(at)
            if interval is None:
                interval = intervals[at] = self.keys.interval(day[2], *where)
            key = (values, interval)
            case = self._cases.get(key)
            if case is None:
                case = self._case(key, {**facts, "date": day[0]}, day[1])
            found = (case, day[2], facts["place.county"])
            case, day_iso, county = found
            limit = None
            if time_col is not None and time_col[i] not in (None, "") and self.case_needs_hold_limit[case]:
                try:
                    limit = hold_limit(day_iso, str(time_col[i]))
                except RecordError as exc:
                    good[i] = False
                    errors.append((first_row + i, rid, f"'time': {exc}"))
                    continue
            cases[i] = case
            days.append(day_iso)
            counties.append(county)
            ids.append(rid)
            limits.append(limit)
        kept = cases[good]
        used, local = np.unique(kept, return_inverse=True) if len(kept) else (kept, kept)
        columns: dict[str, Any] = {ID: pa.array([None if x is None else str(x) for x in ids], pa.string())}
        columns["date"] = pa.array(days, pa.string())
        columns["county"] = pa.array(counties, pa.string())
        case_cols = ["agency", *(f"{a}.{f}" for a in self.actions for f in ROW_FIELDS)]
        picked = [self.case_rows[c][1:] for c in used.tolist()]
        take = pa.array(local, pa.int64())
        for j, name in enumerate(case_cols):
            columns[name] = pa.array([r[j] for r in picked], pa.string()).take(take)
        columns[HOLD_LIMIT] = pa.array(limits, pa.string())
        out = pa.table(columns)
        counts: Counter[tuple[str, str, str]] = Counter()
        for (county, c), k in Counter(zip(counties, kept.tolist(), strict=True)).items():
            r = self.case_rows[c]
            for a_i, action in enumerate(self.actions):
                counts[(county, action, r[2 + a_i * len(ROW_FIELDS)])] += k
        return Chunk(out, errors, counts, n)


@dataclass
class Chunk:
    """One evaluated slice of the input: output rows, bad rows, and the summary counts."""

    table: Any  # pyarrow.Table
    errors: list[tuple[int, Any, str]]
    counts: Counter[tuple[str, str, str]]
    rows: int


def summary_dict(counts: Counter[tuple[str, str, str]], rows: int, written: int, errors: int, cases: int) -> dict:
    """The batch summary: totals, and counts per county, action and verdict."""
    per: dict[str, dict[str, dict[str, int]]] = {}
    for (county, action, verdict), k in sorted(counts.items()):
        per.setdefault(county, {}).setdefault(action, {})[verdict] = k
    return {"rows": rows, "written": written, "errors": errors, "cases": cases, "counts": per}


def to_json_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False)
