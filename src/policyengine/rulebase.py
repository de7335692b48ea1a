"""The rulebase: every file of a rules directory loaded once, checked, and kept.

`read_rulebase` is the one loader. It reads each file once (load), checks the vocabulary
and registry, then every rule file (model, check) and the rules across files, and keeps
what it read: the documents, a source map (file and line of every rule, source and
condition) and the problems of the rule files as diagnostics. `run`, `check`, `review`,
`rules`, `schema`, `test` and the pytest plugin all start from it; nothing re-reads a file
it loaded. `load_rulebase` is the strict form the commands that evaluate use: any
diagnostic is an error.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyengine import bundled
from policyengine.checked import Frozen, Registry, Rule, Vocabulary
from policyengine.compile import Program, compile_rules
from policyengine.errors import InputError, Problem
from policyengine.load import Document, Path_, display_name, load_yaml, yaml_files
from policyengine.resolve import Decision, resolve

if TYPE_CHECKING:
    from policyengine.engine import Firing

VOCABULARY_FILE = "vocabulary.yaml"
# Parts of a pickled Rulebase unpickled only when first used (`Rulebase.__getstate__`).
_DEFERRED = ("documents", "vocabulary_document", "registry_document", "source_map")
_DEFERRED_STATE = "_deferred_state"
REGISTRY_FILE = "registry.yaml"


class VocabularyError(InputError):
    """The vocabulary or the registry is invalid: no rule can be checked against it."""


@dataclass(init=False, repr=False, eq=False)
class Location(Frozen):
    """Where something is written: a file (as the user names it) and a line."""

    file: str
    line: int | None


@dataclass(init=False, repr=False, eq=False)
class SourceMap(Frozen):
    """File and line of every rule, of each of its sources, and of each part of its condition.

    `conditions` is keyed by rule id and the path inside the rule's `when` (keys and list
    indexes as written, `()` for `when` itself).
    """

    rules: Mapping[str, Location] = field(default_factory=dict)
    sources: Mapping[tuple[str, int], Location] = field(default_factory=dict)
    conditions: Mapping[tuple[str, Path_], Location] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Location:
        return self.rules[rule_id]

    def source(self, rule_id: str, index: int) -> Location:
        return self.sources[(rule_id, index)]

    def condition(self, rule_id: str, path: Path_ = ()) -> Location:
        """The line of the condition at `path` in the rule's `when`, or of its nearest enclosing part."""
        path = tuple(path)
        while path and (rule_id, path) not in self.conditions:
            path = path[:-1]
        return self.conditions.get((rule_id, path), self.rules[rule_id])


@dataclass(init=False, repr=False, eq=False)
class Rulebase(Frozen):
    """Vocabulary, registry and checked rules of one rules directory, with what was read.

    `documents` are the rule files as loaded (vocabulary and registry apart);
    `diagnostics` the located problems of the rule files (empty for a rulebase the
    strict `load_rulebase` returned). Compiled once, on first use.
    """

    root: Path
    vocabulary: Vocabulary
    registry: Registry
    rules: tuple[Rule, ...]
    documents: tuple[Document, ...] = ()
    vocabulary_document: Document | None = None
    registry_document: Document | None = None
    source_map: SourceMap = field(default_factory=SourceMap)
    diagnostics: tuple[Problem, ...] = ()

    @cached_property
    def program(self) -> Program:
        return compile_rules(list(self.rules))

    @cached_property
    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    @property
    def actions(self) -> list[str]:
        return list(self.vocabulary.actions)

    @property
    def counties(self) -> list[str]:
        return [c.name for c in self.registry.counties]

    @cached_property
    def _resolutions(self) -> dict[tuple[Any, ...], tuple[Decision, ...]]:
        return {}

    @cached_property
    def _decisions(self) -> dict[tuple[object, ...], Decision]:
        """One action's decision by what it depends on (see `resolve`'s `memo`)."""
        return {}

    @cached_property
    def _boundaries(self) -> dict[tuple[str, ...], tuple[list[dt.date], list[dt.date]]]:
        """Per set of fired rules: the sorted days their in-force periods and declarations begin or end."""
        return {}

    @cached_property
    def _last(self) -> list[tuple[Any, ...]]:
        """The last resolution asked for: (firing, day, agency, date of knowledge, decisions)."""
        return [(None, None, None, None, ())]

    def __getstate__(self) -> dict[str, Any]:
        """The state to pickle: without the remembered resolutions (they stay in the process), and
        with what only the commands that show files need (the documents and the source map) packed
        apart, unpickled when first asked for: a `run` from the cache never reads them, and they
        are more than half of it."""
        state = dict(self.__dict__)
        for memo in ("_resolutions", "_decisions", "_boundaries", "_last"):
            state.pop(memo, None)
        if _DEFERRED_STATE not in state:
            import pickle

            parts = {name: state.pop(name) for name in _DEFERRED}
            state[_DEFERRED_STATE] = pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    if not TYPE_CHECKING:  # (hidden from mypy, which would take every attribute for one then)

        def __getattr__(self, name: str) -> Any:
            """A deferred part (see `__getstate__`), unpickled on first use by the cache's own unpickler."""
            packed = self.__dict__.get(_DEFERRED_STATE)
            if name not in _DEFERRED or packed is None:
                raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
            from policyengine.cache import safe_loads

            self.__dict__.update(safe_loads(packed))
            del self.__dict__[_DEFERRED_STATE]
            return self.__dict__[name]

    def resolve(self, firing: Firing, day: dt.date, agency: str, known_on: dt.date | None = None) -> list[Decision]:
        """`resolve`, remembered by exactly what it depends on (see `resolution`)."""
        return list(self.resolution(firing, day, agency, known_on))

    def resolution(
        self, firing: Firing, day: dt.date, agency: str, known_on: dt.date | None = None
    ) -> tuple[Decision, ...]:
        """The decisions for what fired, remembered by exactly what `resolve` depends on: the
        rules that fired, which of them are in force on `day`, which were declared by
        `known_on`, and the agency. Many records share these (most fire the same few rules), so
        most resolutions are looked up.

        Which fired rules are in force on `day` changes only on the days their periods begin
        or end, so the key holds the place of `day` among those days (likewise `known_on` among
        their declaration days) instead of a flag per rule."""
        last = self._last[0]
        if last[0] is firing and last[1] == day and last[2] == agency and last[3] == known_on:
            again: tuple[Decision, ...] = last[4]  # asked again for the same (batch asks twice per record)
            return again
        fired = firing.fired
        bounds = self._boundaries.get(fired)
        if bounds is None:
            if len(self._boundaries) > 100_000:
                self._boundaries.clear()
            rules = [self.by_id[r] for r in fired]
            periods = {d for r in rules for d in (r.in_force.start, r.in_force.until) if d is not None}
            declared = {r.declared for r in rules if r.declared is not None}
            bounds = self._boundaries[fired] = (sorted(periods), sorted(declared))
        known = -1 if known_on is None else bisect_right(bounds[1], known_on)
        key = (fired, bisect_right(bounds[0], day), known, agency)
        found = self._resolutions.get(key)
        if found is None:
            if len(self._resolutions) > 100_000:
                self._resolutions.clear()
            decisions = resolve(firing, self.by_id, self.actions, day, agency, known_on, self._decisions)
            found = self._resolutions[key] = tuple(decisions)
        self._last[0] = (firing, day, agency, known_on, found)
        return found


# The class-level defaults of the deferred fields would answer before `__getattr__` is asked; the
# constructor reads the defaults from the dataclass fields (`checked.Frozen`), so they go.
for _name in _DEFERRED:
    if _name in Rulebase.__dict__:
        delattr(Rulebase, _name)


def display(path: Path) -> str:
    """A path as the user would name it: relative to the working directory when inside it."""
    return display_name(path)


def load_document(path: Path) -> Document:
    """Load one YAML file, naming it as the user would."""
    return load_yaml(path, display=display(path))


def read_rulebase(root: str | Path | None = None) -> Rulebase:
    """Load and check every file of a rules directory (default: the bundled rules), once.

    Raises InputError when a file cannot be read as YAML (every such file named) and
    VocabularyError when the vocabulary or registry is invalid; the problems of rule
    files are kept in `diagnostics`, with the rules that passed.
    """
    from policyengine.check import check_registry, check_rule_file, check_rulebase, check_vocabulary  # pydantic

    root = Path(root) if root is not None else bundled.rules_dir()
    if not root.is_dir():
        raise InputError.at(str(root), None, "rules directory not found")
    files = yaml_files(root)
    special: dict[str, list[Path]] = {
        name: [f for f in files if f.name == name] for name in (VOCABULARY_FILE, REGISTRY_FILE)
    }
    for name, found in special.items():
        if len(found) != 1:
            raise InputError.at(display(root), None, f"expected exactly one {name}, found {len(found)}", "PE107")
    docs: dict[Path, Document] = {}
    unreadable: list[Problem] = []
    for path in files:
        try:
            docs[path] = load_document(path)
        except InputError as exc:
            unreadable += exc.problems
    if unreadable:
        raise InputError(unreadable)
    vocabulary_doc, registry_doc = docs[special[VOCABULARY_FILE][0]], docs[special[REGISTRY_FILE][0]]
    try:
        vocabulary = check_vocabulary(vocabulary_doc)
        registry = check_registry(registry_doc, vocabulary)
    except InputError as exc:
        raise VocabularyError(exc.problems) from None
    problems: list[Problem] = []
    rules: list[Rule] = []
    rule_docs: list[Document] = []
    for doc in docs.values():
        if doc is vocabulary_doc or doc is registry_doc:
            continue
        try:
            rules += check_rule_file(doc, vocabulary, registry)
            rule_docs.append(doc)
        except InputError as exc:
            problems += exc.problems
    if not problems:
        try:
            check_rulebase(rules)
        except InputError as exc:
            problems += exc.problems
    return Rulebase(
        root=root,
        vocabulary=vocabulary,
        registry=registry,
        rules=tuple(rules),
        documents=tuple(rule_docs),
        vocabulary_document=vocabulary_doc,
        registry_document=registry_doc,
        source_map=_source_map(rule_docs),
        diagnostics=tuple(problems),
    )


def load_rulebase(root: str | Path | None = None) -> Rulebase:
    """The rulebase of a rules directory, every problem of every file raised together, compiled.

    The result is cached between runs (`cache.py`), keyed by the content of every file."""
    from policyengine import cache

    path = Path(root) if root is not None else bundled.rules_dir()
    if not path.is_dir():
        raise InputError.at(str(path), None, "rules directory not found")
    rulebase: Rulebase = cache.cached(path, display_name(path), lambda: _strict(path))
    return rulebase


def _strict(root: Path) -> Rulebase:
    rulebase = read_rulebase(root)
    if rulebase.diagnostics:
        raise InputError(list(rulebase.diagnostics))
    rulebase.program  # noqa: B018  (compiled now, so that the cache holds the Program too)
    rulebase.by_id  # noqa: B018
    return rulebase


def _source_map(docs: list[Document]) -> SourceMap:
    rules: dict[str, Location] = {}
    sources: dict[tuple[str, int], Location] = {}
    conditions: dict[tuple[str, Path_], Location] = {}
    for doc in docs:
        written = doc.data.get("rules") if isinstance(doc.data, dict) else None
        for i, data in enumerate(written or []):
            rule_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(rule_id, str) or rule_id in rules:
                continue
            rules[rule_id] = Location(doc.file, doc.line(("rules", i, "id")))
            for k, _ in enumerate(data.get("sources") or []):
                sources[(rule_id, k)] = Location(doc.file, doc.line(("rules", i, "sources", k)))
            prefix = ("rules", i, "when")
            for path, line in doc.lines.items():
                if path[:3] == prefix:
                    conditions[(rule_id, path[3:])] = Location(doc.file, line)
    return SourceMap(rules, sources, conditions)
