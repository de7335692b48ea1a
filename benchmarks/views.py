#!/usr/bin/env python3
"""How long the views take: a full sweep (every place x every change date), and a site build.

    .venv/bin/python benchmarks/views.py [--engine durable|reference]

Prints seconds and the number of cases actually evaluated (the rest are remembered).
Issue 10 asks that `policyengine site` build in under a minute.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from policyengine.engine import get_engine
from policyengine.pipeline import load_rulebase
from policyengine.standard import standard_scenarios
from policyengine.sweep import Cases, all_places, interval_dates, sweep
from policyengine.website import build_site


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["durable", "reference"], default=None)
    args = parser.parse_args()
    engine = get_engine(args.engine)
    rb = load_rulebase()
    scenarios = standard_scenarios(rb)
    places, dates = all_places(rb), interval_dates(rb)
    cases = Cases(rb)
    start = time.perf_counter()
    sweep(rb, scenarios, places, dates, engine, cases)
    cells = len(scenarios) * len(places) * len(dates)
    took = time.perf_counter() - start
    print(f"sweep: {cells} cells, {len(cases.memo)} cases evaluated, {took:.1f} s ({engine.name})")
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        stats = build_site(rb, Path(out), engine)
        print(f"site: {stats.pages} pages in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
