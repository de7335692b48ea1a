"""The standard scenarios: the questions the views ask of every place when no scenario is given.

They are ordinary scenario files (kept in `standard/` beside this module, so they travel in
the wheel); a sweep replaces their county, city, agency and date for each cell.
"""

from __future__ import annotations

from pathlib import Path

from policyengine.checked import Scenario
from policyengine.pipeline import Rulebase, load_scenarios

STANDARD_DIR = Path(__file__).resolve().parent / "standard"
DEFAULT = "standard-release-detainer"


def standard_scenarios(rulebase: Rulebase) -> list[Scenario]:
    """The standard scenarios, the default one first."""
    found = load_scenarios([STANDARD_DIR], rulebase)
    return sorted(found, key=lambda s: (s.id != DEFAULT, s.id))
