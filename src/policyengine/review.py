"""The review workflow: content hashes of rules, listings by status, and stamping.

A rule's hash is taken over a canonical JSON form of the parsed rule (without its
`review` block) and its file's `jurisdiction`, so re-indenting, re-quoting, reordering
keys or editing comments leaves it unchanged, while any change of meaning (a condition,
a verdict, a date, a source, a quote, or moving the rule to another jurisdiction)
changes it. A reviewer records the hash in `review.hash` on approval; `policyengine
check` then reports an approved or reviewed rule whose content changed since (PE601).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyengine.errors import InputError
from policyengine.load import Document, load_yaml
from policyengine.model import Rule
from policyengine.pipeline import Rulebase

HASH_LENGTH = 16


def _plain(value: Any) -> Any:
    """YAML data as JSON data: dates as ISO strings, keys as strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def rule_hash(rule_data: dict[str, Any], jurisdiction: Any) -> str:
    """The content hash of one rule as written (its review block left out)."""
    body = {k: v for k, v in rule_data.items() if k != "review"}
    canonical = json.dumps(
        {"jurisdiction": _plain(jurisdiction), "rule": _plain(body)},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:HASH_LENGTH]


@dataclass(frozen=True)
class WrittenRule:
    """A rule as it stands in its file: the document, its index, and its data."""

    doc: Document
    index: int
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data.get("id", ""))

    @property
    def hash(self) -> str:
        return rule_hash(self.data, self.doc.data.get("jurisdiction"))


def written_rules(docs: Sequence[Document]) -> dict[str, WrittenRule]:
    """Every rule of the given (already checked) rule documents, by id."""
    out: dict[str, WrittenRule] = {}
    for doc in docs:
        for i, data in enumerate(doc.data.get("rules") or []):
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                out.setdefault(data["id"], WrittenRule(doc, i, data))
    return out


def rule_documents(rulebase: Rulebase) -> dict[str, WrittenRule]:
    """Each rule's written form, from the documents the rulebase was loaded from."""
    return written_rules(rulebase.documents)


# ------------------------------------------------------------------ listing


def jurisdiction_label(rule: Rule) -> str:
    return rule.jurisdiction.label()


def review_rows(rulebase: Rulebase, status: str | None = None, jurisdiction: str | None = None) -> list[dict[str, Any]]:
    """One row per rule (filtered), in jurisdiction then id order."""
    written = rule_documents(rulebase)
    rows: list[dict[str, Any]] = []
    for rule in rulebase.rules:
        label = jurisdiction_label(rule)
        if status and rule.review.status != status:
            continue
        if jurisdiction and not _matches(jurisdiction, rule):
            continue
        current = written[rule.id].hash
        recorded = rule.review.hash
        rows.append(
            {
                "rule": rule.id,
                "jurisdiction": label,
                "level": rule.level,
                "status": rule.review.status,
                "reviewer": rule.review.reviewer,
                "date": rule.review.date.isoformat() if rule.review.date else None,
                "hash": current,
                "recorded_hash": recorded,
                "changed_since_review": recorded is not None and recorded != current,
                "file": rule.file,
                "line": rule.line,
            }
        )
    order = {"federal": 0, "state": 1, "county": 2, "city": 3}
    rows.sort(key=lambda r: (order[r["level"]], r["jurisdiction"], r["rule"]))
    return rows


def _matches(wanted: str, rule: Rule) -> bool:
    wanted = wanted.strip().lower()
    j = rule.jurisdiction
    names = {j.level, jurisdiction_label(rule).lower()}
    if j.level == "county":
        names.add((j.county or "").lower())
    if j.level == "city":
        names.add((j.city or "").lower())
    return wanted in names


# ------------------------------------------------------------------ stamping


@dataclass(frozen=True)
class Stamp:
    """The outcome of stamping: the new text (None when it cannot be edited safely)."""

    rule: str
    hash: str
    text: str | None
    reason: str | None = None


_SIMPLE = re.compile(r"^(\s*)([a-z_]+):\s*(\S.*)?$")


def _scalar(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)


def stamp(written: WrittenRule, status: str, reviewer: str, day: dt.date, text: str) -> Stamp:
    """Write status, reviewer, date and hash into the rule's review block by a targeted line edit.

    Only two layouts are edited: a one-line flow mapping (`review: {status: draft}`) and a
    block of one-line `key: value` entries. The edited text must parse, keep the rule's
    hash, and carry the new review; otherwise nothing is written and the hash is returned
    to paste by hand.
    """
    doc, i = written.doc, written.index
    digest = written.hash
    review = dict(written.data.get("review") or {})
    review.update({"status": status, "reviewer": reviewer, "date": day, "hash": digest})
    lines = text.splitlines(keepends=True)
    review_line = doc.lines.get(("rules", i, "review"))
    if review_line is None:
        return Stamp(written.id, digest, None, "the rule has no review block")
    keys = [k for k in written.data["review"]] if isinstance(written.data.get("review"), dict) else []
    key_lines = [doc.lines.get(("rules", i, "review", k)) for k in keys]
    raw = lines[review_line - 1]
    indent = raw[: len(raw) - len(raw.lstrip())]
    order = ["status", "reviewer", "date", "hash", "note"]
    ordered = [k for k in order if k in review] + [k for k in review if k not in order]
    if all(n == review_line for n in key_lines) and raw.rstrip().endswith("}"):
        flow = ", ".join(f"{k}: {_scalar(review[k]) if k != 'status' else review[k]}" for k in ordered)
        new_lines = [*lines[: review_line - 1], f"{indent}review: {{{flow}}}\n", *lines[review_line:]]
    else:
        found = [n for n in key_lines if n is not None]
        if not key_lines or len(found) != len(key_lines) or any(n <= review_line for n in found):
            return Stamp(written.id, digest, None, "the review block has a layout this tool does not edit")
        first, last = min(found), max(found)
        if last - first + 1 != len(found):
            return Stamp(written.id, digest, None, "the review block has multi-line values")
        inner = lines[first - 1]
        sub = inner[: len(inner) - len(inner.lstrip())]
        if not all(_SIMPLE.match(lines[n - 1].rstrip("\n")) for n in found):
            return Stamp(written.id, digest, None, "the review block has a layout this tool does not edit")
        block = [f"{sub}{k}: {_scalar(review[k]) if k != 'status' else review[k]}\n" for k in ordered]
        new_lines = [*lines[: first - 1], *block, *lines[last:]]
    new_text = "".join(new_lines)
    try:
        after = load_yaml(doc.file, text=new_text)
        again = written_rules([after]).get(written.id)
    except InputError:
        again = None
    ok = (
        again is not None
        and again.hash == digest
        and (again.data.get("review") or {}).get("hash") == digest
        and again.data["review"].get("status") == status
    )
    if not ok:
        return Stamp(written.id, digest, None, "a line edit could not be verified")
    return Stamp(written.id, digest, new_text)


def stamp_file(rulebase: Rulebase, rule_id: str, status: str, reviewer: str, day: dt.date, write: bool) -> Stamp:
    written = rule_documents(rulebase).get(rule_id)
    if written is None:
        raise InputError.at(str(rulebase.root), None, f"no rule with id '{rule_id}'")
    path = Path(written.doc.file)
    result = stamp(written, status, reviewer, day, path.read_text(encoding="utf-8"))
    if write and result.text is not None:
        path.write_text(result.text, encoding="utf-8")
    return result
