"""JSON output: one object per scenario (a list when several ran)."""

from __future__ import annotations

import json
from typing import Any


def render_json(results: list[dict[str, Any]]) -> str:
    payload: Any = results[0] if len(results) == 1 else results
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
