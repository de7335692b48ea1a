"""The finding codes of `policyengine check` and the findings report.

Each code (PEnnn) has a severity, a short title and a page in docs/errors/PEnnn.md. A
problem of loading or checking carries its code from where it was raised (errors.py);
`findings_of` turns such problems into findings and refuses one without a code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from policyengine.errors import Problem

ERROR, WARNING, INFO = "error", "warning", "info"

# code -> (severity, short title); docs/errors/<code>.md explains each one.
CODES: dict[str, tuple[str, str]] = {
    "PE101": (ERROR, "file does not have the shape of a rule file"),
    "PE102": (ERROR, "name not in the vocabulary"),
    "PE103": (ERROR, "value not allowed for the fact"),
    "PE104": (ERROR, "misuse of the rule language"),
    "PE105": (ERROR, "unknown or inconsistent jurisdiction"),
    "PE106": (ERROR, "rule id used twice"),
    "PE107": (ERROR, "vocabulary or registry is invalid"),
    "PE108": (ERROR, "not a regular file inside the directory"),
    "PE109": (ERROR, "file too large"),
    "PE110": (ERROR, "not UTF-8 text, or a control character"),
    "PE111": (ERROR, "YAML anchor, alias or nesting not allowed"),
    "PE112": (ERROR, "registry counties differ from the Census list"),
    "PE113": (ERROR, "vocabulary default of the wrong type"),
    "PE201": (ERROR, "rule without a complete source"),
    "PE202": (WARNING, "rule without any quoted source"),
    "PE203": (WARNING, "required or prohibited rests only on news, advocacy or officials' words"),
    "PE301": (ERROR, "overrides a rule that does not exist"),
    "PE302": (ERROR, "circular overrides"),
    "PE303": (ERROR, "override not allowed"),
    "PE304": (ERROR, "circular definition"),
    "PE401": (ERROR, "rule never in force"),
    "PE402": (WARNING, "override can never take effect"),
    "PE403": (WARNING, "rule never applies"),
    "PE404": (WARNING, "county rule and registry agreement disagree on dates"),
    "PE501": (ERROR, "unresolved conflict between same-level law"),
    "PE502": (ERROR, "unresolved conflict between same-level practice"),
    "PE503": (WARNING, "shadowed rule: never decisive"),
    "PE504": (WARNING, "gap: no law rule decides an action for some agencies"),
    "PE505": (INFO, "exploration limit reached"),
    "PE601": (ERROR, "rule changed after review"),
    "PE602": (WARNING, "review record incomplete"),
}


@dataclass(frozen=True)
class Finding:
    """One located finding of the static check."""

    code: str
    file: str
    line: int | None
    message: str
    rules: tuple[str, ...] = ()
    scenario: dict[str, Any] | None = None

    @property
    def severity(self) -> str:
        return CODES[self.code][0]

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "message": self.message,
        }
        if self.rules:
            out["rules"] = list(self.rules)
        if self.scenario is not None:
            out["scenario"] = scenario_yaml(self.scenario)
        return out


@dataclass
class Report:
    """Every finding of one check run, in a stable order."""

    root: str
    findings: list[Finding] = field(default_factory=list)
    rules_checked: int = 0
    bad_input: bool = False  # the rule files could not be loaded (what `run` rejects with exit 2)

    def sorted(self) -> list[Finding]:
        rank = {ERROR: 0, WARNING: 1, INFO: 2}
        return sorted(self.findings, key=lambda f: (rank[f.severity], f.file, f.line or 0, f.code, f.message))

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)


class UncodedProblem(Exception):
    """A problem reached `check` without the code its raise site must give (a bug here)."""


def findings_of(problems: list[Problem]) -> list[Finding]:
    """The checker's located problems as findings, each with the code given where it was raised."""
    out = []
    for p in problems:
        if p.code is None or p.code not in CODES:
            raise UncodedProblem(f"no known code for the problem '{p}' (given: {p.code})")
        out.append(Finding(p.code, p.file, p.line, p.message))
    return out


def scenario_yaml(scenario: dict[str, Any]) -> str:
    """A counterexample scenario as YAML that `policyengine run` accepts."""
    return yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, width=100)
