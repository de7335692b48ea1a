"""policyengine: Minnesota's cooperation with federal immigration enforcement, as rules.

The pipeline, one module per stage:
load (YAML with positions) -> model (pydantic) -> check (vocabulary) -> compile
(intermediate form) -> engine (durable_rules or reference) -> resolve (precedence)
-> report (table, JSON, Markdown).
"""

__version__ = "0.1.0"
# Checked by the `policyengine` command: an unrelated PyPI package is also imported as `policyengine`.
__distribution__ = "mn-ice-policyengine"
