"""Shared test set-up: Hypothesis profiles.

`ci` (the default) is quick enough for every run; `thorough` searches much longer:
    HYPOTHESIS_PROFILE=thorough python3 dev.py test tests/test_suite_properties.py
No deadline in either: durable_rules' first use of a ruleset costs more than later uses,
and speed is measured, never asserted.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
