"""JSON output: one object per scenario (a list when several ran); JSON Lines: one object a line."""

from __future__ import annotations

import json
from typing import Any


def render_json(results: list[dict[str, Any]]) -> str:
    payload: Any = results[0] if len(results) == 1 else results
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def render_jsonl(results: list[dict[str, Any]]) -> str:
    """One compact JSON object per line, whatever the number of results (for jq and streams)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
