"""Seeded generator of realistic detainer records for `policyengine batch`.

    python benchmarks/generate.py 100000 records.csv [--seed 7] [--bad 0.01]

Rows look like a jail's detainer table: an event date between 2012 and 2026, mostly county
jails, a county from the registry, a custody status and release reason, the ICE paperwork
(detainer form, administrative or judicial warrant) and a release time. `--bad` makes that
share of rows bad on purpose (an impossible date, a county that does not exist, a value
outside the vocabulary) so the errors file can be checked.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
from collections.abc import Iterator
from pathlib import Path

from policyengine.pipeline import Rulebase, load_rulebase

START, DAYS = dt.date(2012, 1, 1), (dt.date(2026, 12, 31) - dt.date(2012, 1, 1)).days
# The facts a detainer table records case by case; the others keep the vocabulary default in
# most rows (a real table rarely says, so the default is what a researcher would map to).
VARIED = {
    "person.custody",
    "person.release_reason",
    "person.conviction",
    "person.citizenship",
    "immigration.detainer",
    "immigration.admin_warrant",
    "immigration.judicial_warrant",
}
BAD = [
    ("date", "2023-02-30"),
    ("place.county", "Atlantis"),
    ("immigration.detainer", "I-999"),
    ("person.custody", "on_vacation"),
]


def columns(rulebase: Rulebase) -> list[str]:
    """The vocabulary facts a record states, plus id and time."""
    stated = [n for n, s in rulebase.vocabulary.facts.items() if s.source == "scenario" and n != "place.city"]
    return ["id", *stated, "time"]


def templates(rulebase: Rulebase) -> list[dict[str, str]]:
    """The situations of the bundled scenarios (their facts, less date and place): realistic mixes.

    The scenarios written to kill mutants (scenarios/mutants/) are left out: they are boundary
    cases, not realistic situations, and records must not change each time one is added.
    """
    from pathlib import Path

    from policyengine import bundled
    from policyengine.pipeline import load_scenarios

    out = []
    for scenario in load_scenarios([bundled.scenarios_dir()], rulebase):
        if "mutants" in Path(scenario.file).parts:
            continue
        facts = {k: v for k, v in scenario.facts.items() if k not in ("date", "place.county", "place.city")}
        out.append({k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in facts.items()})
    return out


def records(rulebase: Rulebase, n: int, seed: int = 7, bad: float = 0.0) -> Iterator[dict[str, str]]:
    """`n` records as strings, the same for the same seed; a `bad` share of them invalid.

    Each record is a bundled scenario's situation moved to a random county and day between
    2012 and 2026, with one varied fact changed in one record out of ten.
    """
    rng = random.Random(seed)
    vocab = rulebase.vocabulary.facts
    names = columns(rulebase)
    situations = templates(rulebase)
    choices = {name: list(vocab[name].values or {}) for name in VARIED}
    varied = sorted(VARIED)
    for i in range(n):
        row = {name: "" for name in names}
        row.update(rng.choice(situations))
        row["id"] = f"r{i + 1:07d}"
        row["date"] = (START + dt.timedelta(days=rng.randrange(DAYS))).isoformat()
        row["place.county"] = rng.choice(rulebase.counties)
        if rng.random() < 0.1:
            fact = rng.choice(varied)
            row[fact] = rng.choice(choices[fact])
        row["time"] = f"{rng.randrange(24):02d}:{rng.choice(['00', '15', '30', '45'])}"
        if bad and rng.random() < bad:
            fact, value = rng.choice(BAD)
            row[fact] = value
        yield row


def pooled(rulebase: Rulebase, n: int, pool: int, seed: int = 7, bad: float = 0.0) -> Iterator[dict[str, str]]:
    """`n` records that go round the first `pool` records of `records` again and again, each
    turn's ids made distinct ("r0000001-2"): N grows while the distinct cases stay the pool's
    (the memory of a batch at the same case mix, 100,000 records against 1,000,000)."""
    first = list(records(rulebase, pool, seed, bad))
    for i in range(n):
        row, turn = dict(first[i % pool]), i // pool
        if turn:
            row["id"] = f"{row['id']}-{turn}"
        yield row


def write_csv(path: Path, rulebase: Rulebase, n: int, seed: int = 7, bad: float = 0.0, pool: int | None = None) -> None:
    """`n` generated records to a CSV file (with `pool`, going round its first `pool`: `pooled`)."""
    rows = records(rulebase, n, seed, bad) if pool is None else pooled(rulebase, n, pool, seed, bad)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns(rulebase))
        w.writeheader()
        for row in rows:
            w.writerow(row)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int)
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--bad", type=float, default=0.0)
    p.add_argument("--pool", type=int, help="go round the first POOL records (the same distinct cases)")
    args = p.parse_args(argv)
    write_csv(args.out, load_rulebase(), args.n, args.seed, args.bad, args.pool)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
