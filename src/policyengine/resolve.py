"""Stage 6, resolve: from the rules that fired to one decision per action.

Precedence works on the set of conclusions only, never on firing order:
1. only rules in force on the scenario's date and binding on its agency take part;
2. a rule that names another in `overrides` defeats it (lex specialis);
3. across levels, federal > state > county > city (lex superior): a higher `required`
   or `prohibited` binds everyone below; a higher `permitted` or `contested` leaves lower
   law free to decide (the higher rule is then "narrowed by lower law"), except that a
   `protected` permission preempts any lower prohibition; a lower rule can settle a
   higher `contested` question only in the direction of its leaning;
4. two rules at one level that still disagree are an unresolved conflict, named as such.
A record of silence (a law rule concluding `not_addressed`) decides only when no other law
verdict survives for the action; any such verdict prevails over it ("the law speaks").
Practice (what the jurisdiction does) is resolved separately: in force, binding,
overrides, then the most local level; a same-level disagreement is a conflict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

from policyengine.checked import Conclusion, Rule
from policyengine.engine import Firing
from policyengine.terms import BINDING_VERDICTS, LEVEL_RANK, Doctrine, Practice, Verdict

# The doctrines by their earlier names (wording, expectations and tests use these).
NOT_IN_FORCE = Doctrine.NOT_IN_FORCE
NOT_DECLARED = Doctrine.NOT_DECLARED
NOT_BINDING = Doctrine.NOT_BINDING
LEX_SPECIALIS = Doctrine.LEX_SPECIALIS
LEX_SUPERIOR = Doctrine.LEX_SUPERIOR
PREEMPTION = Doctrine.PREEMPTION
NARROWED = Doctrine.NARROWED
CONFLICT_ABOVE = Doctrine.CONFLICT_ABOVE
LOCAL_PRACTICE = Doctrine.LOCAL_PRACTICE
LAW_SPEAKS = Doctrine.LAW_SPEAKS
NOT_ADDRESSED = Verdict.NOT_ADDRESSED
DOCTRINES = tuple(Doctrine)


@dataclass(frozen=True)
class Defeat:
    rule: str
    by: str | None
    doctrine: Doctrine


@dataclass(frozen=True)
class Decision:
    """The answer for one action: legal verdict, practice, and who decided both."""

    action: str
    verdict: Verdict
    decided_by: tuple[str, ...] = ()
    concurring: tuple[str, ...] = ()
    conflict: tuple[str, ...] = ()
    defeated: tuple[Defeat, ...] = ()
    protected: bool = False
    leaning: Verdict | None = None
    question: str | None = None
    practice: Practice = Practice.UNKNOWN
    practice_by: tuple[str, ...] = ()
    practice_conflict: tuple[str, ...] = ()
    practice_defeated: tuple[Defeat, ...] = ()
    flags: tuple[str, ...] = ()


@dataclass
class _State:
    verdict: Verdict | Practice | None = None
    protected: bool = False
    leaning: Verdict | None = None
    question: str | None = None
    deciders: list[Rule] = field(default_factory=list)
    concurring: list[Rule] = field(default_factory=list)
    defeated: list[Defeat] = field(default_factory=list)
    conflict: list[Rule] = field(default_factory=list)

    def defeat(self, rule: Rule, by: Rule | None, doctrine: Doctrine) -> None:
        self.defeated.append(Defeat(rule.id, by.id if by else None, doctrine))


Candidate = tuple[Rule, Conclusion]


def _take_part(
    cands: list[Candidate], day: dt.date, agency: str, state: _State, known_on: dt.date | None = None
) -> list[Candidate]:
    """Filter by time, by what was declared by `known_on`, and by agency; then apply explicit overrides."""
    live = []
    for rule, c in cands:
        if not rule.in_force.covers(day):
            state.defeat(rule, None, NOT_IN_FORCE)
        elif known_on is not None and rule.declared is not None and rule.declared > known_on:
            state.defeat(rule, None, NOT_DECLARED)
        elif agency not in rule.binds:
            state.defeat(rule, None, NOT_BINDING)
        else:
            live.append((rule, c))
    ids = {rule.id: rule for rule, _ in live}
    survivors = []
    for rule, c in live:
        # Every in-force rule that overrides this one is named, in id order: two can
        # override the same rule at once (a lawyer extending an era's end date).
        by = sorted((o for o in ids.values() if rule.id in o.overrides and o.id != rule.id), key=lambda o: o.id)
        for o in by:
            state.defeat(rule, o, LEX_SPECIALIS)
        if not by:
            survivors.append((rule, c))
    return survivors


def _resolve_law(
    cands: list[tuple[Rule, Conclusion]], day: dt.date, agency: str, known_on: dt.date | None = None
) -> _State:
    s = _State()
    live = _take_part(cands, day, agency, s, known_on)
    levels = sorted({LEVEL_RANK[r.level] for r, _ in live})
    for rank in levels:
        group = sorted(((r, c) for r, c in live if LEVEL_RANK[r.level] == rank), key=lambda x: x[0].id)
        if s.conflict:
            for r, _ in group:
                s.defeat(r, None, CONFLICT_ABOVE)
            continue
        top = s.deciders[0] if s.deciders else None
        if s.verdict in BINDING_VERDICTS:
            for r, c in group:
                (s.concurring.append(r) if c.value == s.verdict else s.defeat(r, top, LEX_SUPERIOR))
            continue
        eligible = []
        for r, c in group:
            if s.verdict == Verdict.PERMITTED and s.protected and c.value in (Verdict.PROHIBITED, Verdict.CONTESTED):
                s.defeat(r, top, PREEMPTION)
            elif s.verdict == Verdict.CONTESTED and not (c.value in BINDING_VERDICTS and c.value == s.leaning):
                if c.value == Verdict.CONTESTED and c.leaning == s.leaning:
                    s.concurring.append(r)
                else:
                    s.defeat(r, top, LEX_SUPERIOR)
            elif s.verdict == Verdict.PERMITTED and c.value == Verdict.PERMITTED:
                s.concurring.append(r)
            else:
                eligible.append((r, c))
        if not eligible:
            continue
        answers = {(c.value, c.leaning) for _, c in eligible}
        if len(answers) > 1:
            s.conflict = [r for r, _ in eligible]
            for old in s.deciders:  # the open higher verdict is narrowed, but to no single answer
                s.defeat(old, None, NARROWED)
            s.verdict, s.deciders, s.leaning, s.question = Verdict.CONFLICT, [], None, None
            continue
        c0 = eligible[0][1]
        for old in s.deciders:
            s.defeat(old, eligible[0][0], NARROWED)
        s.verdict, s.leaning, s.question = c0.value, c0.leaning, c0.question
        s.protected = any(c.protected for _, c in eligible) or (s.protected and c0.value == Verdict.PERMITTED)
        s.deciders = [r for r, _ in eligible]
        questions = [c.question for _, c in eligible if c.question]
        s.question = questions[0] if questions else None
    return s


def _resolve_silence(
    cands: list[tuple[Rule, Conclusion]], day: dt.date, agency: str, law: _State, known_on: dt.date | None
) -> None:
    """Records of silence decide `not_addressed` only where no other law verdict survives."""
    if not cands:
        return
    silent = _State()
    live = _take_part(cands, day, agency, silent, known_on)
    law.defeated += silent.defeated
    if law.verdict is None:
        law.deciders = sorted((r for r, _ in live), key=lambda r: r.id)
        return
    top = law.deciders[0] if law.deciders else None
    for r, _ in sorted(live, key=lambda x: x[0].id):
        law.defeat(r, top, LAW_SPEAKS)


def _resolve_practice(
    cands: list[tuple[Rule, Conclusion]], day: dt.date, agency: str, known_on: dt.date | None = None
) -> _State:
    s = _State()
    live = _take_part(cands, day, agency, s, known_on)
    if not live:
        s.verdict = Practice.UNKNOWN
        return s
    local = max(LEVEL_RANK[r.level] for r, _ in live)
    group = sorted(((r, c) for r, c in live if LEVEL_RANK[r.level] == local), key=lambda x: x[0].id)
    values = {c.value for _, c in group}
    if len(values) > 1:
        s.verdict, s.conflict = Practice.CONFLICT, [r for r, _ in group]
    else:
        s.verdict, s.deciders = values.pop(), [r for r, _ in group]
    for r, _ in live:
        if LEVEL_RANK[r.level] != local:
            s.defeat(r, group[0][0], LOCAL_PRACTICE)
    return s


def _flags(verdict: Verdict, practice: Practice) -> tuple[str, ...]:
    if practice == Practice.DOES and verdict == Verdict.PROHIBITED:
        return ("practice_prohibited_by_law",)
    if practice == Practice.DOES_NOT and verdict == Verdict.REQUIRED:
        return ("practice_falls_short_of_law",)
    if practice == Practice.DOES and verdict == Verdict.CONTESTED:
        return ("practice_legally_contested",)
    return ()


def _ids(rules: list[Rule]) -> tuple[str, ...]:
    return tuple(sorted(r.id for r in rules))


def _defeats(ds: list[Defeat]) -> tuple[Defeat, ...]:
    return tuple(sorted(ds, key=lambda d: (d.rule, d.by or "", d.doctrine)))


@cache
def _unaddressed(action: str) -> Decision:
    """The decision for an action that no fired rule speaks to (most actions, most of the time)."""
    return Decision(action=action, verdict=Verdict.NOT_ADDRESSED)


def resolve(
    firing: Firing,
    rules: dict[str, Rule],
    actions: list[str],
    day: dt.date,
    agency: str,
    known_on: dt.date | None = None,
    memo: dict[tuple[object, ...], Decision] | None = None,
) -> list[Decision]:
    """One Decision per vocabulary action, in vocabulary order.

    `known_on` sets aside rules whose authority was declared after that day (`not yet
    declared`): the law as it was known then. None: every rule, whenever declared.
    `memo` remembers each action's decision by exactly what it depends on: the fired rules
    that speak to the action, in order, and for each its standing: whether it is in force on
    `day`, declared by `known_on` and binding on `agency` (a Rulebase keeps one). Each fired
    rule's standing is worked out once, however many actions it speaks to."""
    law: dict[str, list[Candidate]] = {}
    practice: dict[str, list[Candidate]] = {}
    for rule_id in firing.fired:
        rule = rules[rule_id]
        for c in rule.conclusions:
            (law if rule.is_law else practice).setdefault(c.action, []).append((rule, c))
    decisions = []
    standing: dict[str, tuple[object, ...]] = {}  # what precedence reads of each fired rule, once
    if memo is not None:
        for rule_id in firing.fired:
            rule = rules[rule_id]
            standing[rule_id] = (
                rule_id,
                rule.in_force.covers(day),
                known_on is None or rule.declared is None or rule.declared <= known_on,
                agency in rule.binds,
            )
    for action in actions:
        law_cands, practice_cands = law.get(action, []), practice.get(action, [])
        if not law_cands and not practice_cands:
            decisions.append(_unaddressed(action))
        elif memo is None:
            decisions.append(_decide(action, law_cands, practice_cands, day, agency, known_on))
        else:
            key = (
                action,
                tuple([standing[rule.id] for rule, _ in law_cands]),
                tuple([standing[rule.id] for rule, _ in practice_cands]),
            )
            found = memo.get(key)
            if found is None:
                if len(memo) > 100_000:
                    memo.clear()
                found = memo[key] = _decide(action, law_cands, practice_cands, day, agency, known_on)
            decisions.append(found)
    return decisions


def _decide(
    action: str,
    law: list[Candidate],
    practice: list[Candidate],
    day: dt.date,
    agency: str,
    known_on: dt.date | None,
) -> Decision:
    """The decision for one action that at least one fired rule speaks to."""
    spoken = [(r, c) for r, c in law if c.value != NOT_ADDRESSED]
    ls = _resolve_law(spoken, day, agency, known_on)
    _resolve_silence([(r, c) for r, c in law if c.value == NOT_ADDRESSED], day, agency, ls, known_on)
    ps = _resolve_practice(practice, day, agency, known_on)
    verdict = Verdict(ls.verdict or Verdict.NOT_ADDRESSED)
    practice_verdict = Practice(ps.verdict or Practice.UNKNOWN)  # always set by _resolve_practice
    return Decision(
        action=action,
        verdict=verdict,
        decided_by=_ids(ls.deciders),
        concurring=_ids(ls.concurring),
        conflict=_ids(ls.conflict),
        defeated=_defeats(ls.defeated),
        protected=ls.protected,
        leaning=ls.leaning if verdict == Verdict.CONTESTED else None,
        question=ls.question if verdict == Verdict.CONTESTED else None,
        practice=practice_verdict,
        practice_by=_ids(ps.deciders),
        practice_conflict=_ids(ps.conflict),
        practice_defeated=_defeats(ps.defeated),
        flags=_flags(verdict, practice_verdict),
    )
