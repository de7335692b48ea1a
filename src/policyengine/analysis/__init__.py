"""Static analysis of a rules directory: what `policyengine check` runs.

Not to be confused with `policyengine.check`, the pipeline stage that validates each file
against the vocabulary while loading. This package takes a whole rules directory and
reports findings, each with a stable code (PEnnn, docs/errors/PEnnn.md), a severity, a
file and line, and a message; a conflict also carries the smallest scenario that shows it.

Three passes, one module each:
1. `codes`: the problems of loading and checking (read once, by `rulebase.read_rulebase`),
   each with the code given where it was raised (PE1xx-PE4xx), and the code table;
2. `structure`, `dates` and `gaps`: checks across rules (quotes, overrides that never take
   effect, circular overrides, review hashes), county rules dated differently from the
   registry's agreements, and actions no law rule decides;
3. `exploration`: the search of the finite fact domain for conflicts, rules that never
   apply and rules that are never decisive.
"""

from __future__ import annotations

from pathlib import Path

from policyengine import bundled
from policyengine.analysis.codes import (
    CODES,
    ERROR,
    INFO,
    WARNING,
    Finding,
    Report,
    UncodedProblem,
    findings_of,
    scenario_yaml,
)
from policyengine.analysis.dates import date_findings
from policyengine.analysis.exploration import Explorer
from policyengine.analysis.gaps import gap_findings
from policyengine.analysis.structure import structure_findings
from policyengine.rulebase import VocabularyError, display, read_rulebase

__all__ = [
    "CODES",
    "ERROR",
    "INFO",
    "WARNING",
    "Explorer",
    "Finding",
    "Report",
    "UncodedProblem",
    "analyse",
    "scenario_yaml",
]


def analyse(root: str | Path | None = None, explore: bool = True) -> Report:
    """Check a rules directory (default: the bundled rules) and return every finding.

    A file that is not YAML at all raises InputError (exit 2); every other problem of
    loading and checking is a finding.
    """
    root = Path(root) if root is not None else bundled.rules_dir()
    try:
        rb = read_rulebase(root)
    except VocabularyError as exc:
        return Report(display(root), findings_of(exc.problems), bad_input=True)
    report = Report(display(root), findings_of(list(rb.diagnostics)))
    if rb.diagnostics:
        report.bad_input = True
        return report
    report.rules_checked = len(rb.rules)
    report.findings += structure_findings(rb)
    report.findings += date_findings(rb)
    report.findings += gap_findings(rb)
    cyclic = {r for f in report.findings if f.code == "PE302" for r in f.rules}
    if explore and not cyclic:
        report.findings += Explorer(rb).run()
    return report
