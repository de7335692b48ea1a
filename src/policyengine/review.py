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
import fcntl
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from policyengine.checked import Rule
from policyengine.errors import InputError
from policyengine.load import Document, load_yaml
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


def _round_trip() -> YAML:
    """ruamel.yaml set to write the rule files back as they are written (checked on every
    bundled file: loading and dumping one gives it back byte for byte)."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def stamp(written: WrittenRule, status: str, reviewer: str, day: dt.date, text: str) -> Stamp:
    """The file's text with status, reviewer, date and hash recorded in the rule's review block.

    The file is rewritten by a round-trip YAML library (comments, quotes and layout kept);
    the result must parse, keep the rule's hash, carry the new review, and differ from the
    original only inside that review block. Otherwise nothing is written and the hash is
    returned to record by hand.
    """
    doc, i = written.doc, written.index
    digest = written.hash
    first = doc.lines.get(("rules", i, "review"))
    if first is None or not isinstance(written.data.get("review"), dict):
        return Stamp(written.id, digest, None, "the rule has no review block")
    yaml = _round_trip()
    try:
        data = yaml.load(text)
        review = data["rules"][i]["review"]
        if data["rules"][i]["id"] != written.id:
            return Stamp(written.id, digest, None, "the rule is not where it was read")
    except Exception as exc:  # ruamel reads more than the loader accepts; any doubt: no edit
        return Stamp(written.id, digest, None, f"the file could not be read for editing ({type(exc).__name__})")
    # What follows the block (a blank line, a comment) belongs after its new last key.
    trailing = review.ca.items.pop(list(review)[-1], None) if len(review) else None
    review["status"] = status
    review["reviewer"] = reviewer
    review["date"] = day
    review["hash"] = digest
    if trailing is not None:
        review.ca.items[list(review)[-1]] = trailing
    out = io.StringIO()
    yaml.dump(data, out)
    new_text = out.getvalue()
    # Only the review block may change: every line before it and after it stays as it was.
    last = max(n for path, n in doc.lines.items() if path[: len(("rules", i, "review"))] == ("rules", i, "review"))
    old_lines, new_lines = text.splitlines(keepends=True), new_text.splitlines(keepends=True)
    after = old_lines[last:]
    untouched = old_lines[: first - 1] == new_lines[: first - 1] and (
        not after or new_lines[len(new_lines) - len(after) :] == after
    )
    try:
        again = written_rules([load_yaml(doc.file, text=new_text)]).get(written.id)
    except InputError:
        again = None
    ok = (
        untouched
        and again is not None
        and again.hash == digest
        and (again.data.get("review") or {}).get("hash") == digest
        and again.data["review"].get("status") == status
    )
    if not ok:
        return Stamp(written.id, digest, None, "the edit could not be confined to the review block")
    return Stamp(written.id, digest, new_text)


def _without_reviews(data: Any) -> Any:
    """A rule file's data with every rule's review block left out."""
    if not isinstance(data, dict):
        return data
    rules = data.get("rules")
    if not isinstance(rules, list):
        return data
    kept = [{k: v for k, v in r.items() if k != "review"} if isinstance(r, dict) else r for r in rules]
    return {**data, "rules": kept}


@contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock on a directory (fcntl), held while one stamp reads and replaces a file in it."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` by `text` all at once: a temporary file in the same directory, then
    os.replace, so a reader sees the old file or the new one, never a half-written one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def stamp_file(rulebase: Rulebase, rule_id: str, status: str, reviewer: str, day: dt.date, write: bool) -> Stamp:
    """Stamp one rule's review in its file, under a lock, atomically.

    The file is read again under the lock: if anything but review blocks changed since
    the rulebase was loaded, nothing is stamped (the reviewer reviewed what was loaded).
    Another stamp of another rule in the same file, in between, is kept.
    """
    written = rule_documents(rulebase).get(rule_id)
    if written is None:
        raise InputError.at(str(rulebase.root), None, f"no rule with id '{rule_id}'")
    path = Path(written.doc.file)
    with _directory_lock(path.parent):
        text = path.read_text(encoding="utf-8")
        current = load_yaml(path, text=text, display=written.doc.file)
        if _without_reviews(current.data) != _without_reviews(written.doc.data):
            raise InputError.at(
                written.doc.file,
                None,
                f"the file changed on disk since it was read; nothing stamped (run the command again to stamp "
                f"'{rule_id}' as it is now)",
            )
        fresh = written_rules([current])[rule_id]
        result = stamp(fresh, status, reviewer, day, text)
        if write and result.text is not None:
            write_atomically(path, result.text)
    return result
