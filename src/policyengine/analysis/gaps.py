"""Gaps in coverage: actions that no law rule decides for some agencies (PE504)."""

from __future__ import annotations

from policyengine.analysis.codes import Finding
from policyengine.rulebase import Rulebase


def gap_findings(rb: Rulebase) -> list[Finding]:
    vocab_doc = rb.vocabulary_document
    assert vocab_doc is not None  # read_rulebase keeps it
    agencies = list(rb.vocabulary.facts["agency"].values or {})
    out = []
    for action in rb.actions:
        covered = {a for r in rb.rules if r.is_law for c in r.conclusions if c.action == action for a in r.binds}
        missing = [a for a in agencies if a not in covered]
        if not missing:
            continue
        who = "any agency" if len(missing) == len(agencies) else ", ".join(missing)
        out.append(
            Finding(
                "PE504",
                vocab_doc.file,
                vocab_doc.line(("actions", action)),
                f"no law rule decides '{action}' for {who}",
            )
        )
    return out
