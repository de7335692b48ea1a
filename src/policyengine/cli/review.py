"""`policyengine review`: list rules by review status and jurisdiction, or stamp a review.

Listing: every rule with its status, reviewer, date and content hash, then counts.
Stamping (`--stamp RULE_ID --reviewer NAME --date D --status approved`): records the
reviewer, date, status and content hash in the rule's review block by a targeted line
edit; where the block's layout cannot be edited safely, prints the hash to paste instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, get_args

from policyengine.checked import ReviewStatus
from policyengine.cli.options import Subcommands, add_rules_option, iso_date
from policyengine.errors import InputError
from policyengine.pipeline import load_rulebase
from policyengine.review import review_rows, stamp_file

STATUSES = list(get_args(ReviewStatus))


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "review",
        help="list rules by review status, or stamp a review",
        description="List rules by review status and jurisdiction with counts, or record a review "
        "(reviewer, date, status and the rule's content hash) with --stamp.",
    )
    add_rules_option(p)
    p.add_argument("--status", choices=STATUSES, help="only rules with this status (with --stamp: the new status)")
    p.add_argument("--jurisdiction", metavar="J", help="federal, state, a county or a city (e.g. Hennepin)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--stamp", metavar="RULE_ID", help="record a review of this rule")
    p.add_argument("--reviewer", metavar="NAME", help="with --stamp: who reviewed it")
    p.add_argument("--date", type=iso_date, metavar="D", help="with --stamp: the day of the review (YYYY-MM-DD)")
    p.add_argument("--dry-run", action="store_true", help="with --stamp: print the edited file, write nothing")
    p.set_defaults(handler=main)


def _installed(path: Path) -> bool:
    """Whether `path` lies inside an installed package (site-packages or dist-packages)."""
    return any(part in ("site-packages", "dist-packages") for part in path.resolve().parts)


def _counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_status = Counter(r["status"] for r in rows)
    by_j: dict[str, Counter[str]] = {}
    for r in rows:
        by_j.setdefault(r["jurisdiction"], Counter())[r["status"]] += 1
    return {
        "total": len(rows),
        "by_status": {s: by_status.get(s, 0) for s in STATUSES},
        "by_jurisdiction": {j: {s: c.get(s, 0) for s in STATUSES} for j, c in by_j.items()},
    }


def render_text(rows: list[dict[str, Any]]) -> str:
    out = [f"{'RULE':<48} {'STATUS':<9} {'REVIEWER':<16} {'DATE':<10} HASH"]
    current = None
    for r in rows:
        if r["jurisdiction"] != current:
            current = r["jurisdiction"]
            out.append(f"{current}:")
        mark = " CHANGED SINCE REVIEW" if r["changed_since_review"] else ""
        out.append(
            f"  {r['rule']:<46} {r['status']:<9} {(r['reviewer'] or '-'):<16} {(r['date'] or '-'):<10} "
            f"{r['hash']}{mark}"
        )
    counts = _counts(rows)
    out.append("")
    out.append(f"{counts['total']} rules: " + ", ".join(f"{n} {s}" for s, n in counts["by_status"].items()))
    for j, c in counts["by_jurisdiction"].items():
        out.append(f"  {j}: " + ", ".join(f"{n} {s}" for s, n in c.items()))
    return "\n".join(out) + "\n"


def main(args: argparse.Namespace) -> int:
    rulebase = load_rulebase(args.rules)
    if args.stamp:
        missing = [f"--{k}" for k in ("reviewer", "date", "status") if getattr(args, k) is None]
        if missing:
            raise InputError.at("review", None, f"--stamp needs {', '.join(missing)}")
        if args.status == "draft":
            raise InputError.at("review", None, "--stamp records a review: --status reviewed or approved")
        if args.rules is None and _installed(rulebase.root):
            raise InputError.at(
                "review",
                None,
                f"the bundled rules are part of an installed package ({rulebase.root}); a stamp there would be "
                "lost on the next install. Stamp a copy of the rules with --rules DIR",
            )
        result = stamp_file(rulebase, args.stamp, args.status, args.reviewer, args.date, write=not args.dry_run)
        if result.text is None:
            print(
                f"policyengine: cannot edit the file safely ({result.reason}); add to the review block of "
                f"'{result.rule}':\n  status: {args.status}\n  reviewer: {json.dumps(args.reviewer)}\n"
                f"  date: {args.date.isoformat()}\n  hash: {result.hash}",
                file=sys.stderr,
            )
            return 1
        if args.dry_run:
            sys.stdout.write(result.text)
        else:
            print(f"{result.rule}: {args.status} by {args.reviewer} on {args.date.isoformat()}, hash {result.hash}")
        return 0
    rows = review_rows(rulebase, args.status, args.jurisdiction)
    if args.format == "json":
        sys.stdout.write(json.dumps({"rules": rows, "counts": _counts(rows)}, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(rows))
    return 0
