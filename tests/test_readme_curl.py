"""The README's curl example: its body, posted to the API, gives the output the README shows."""

from __future__ import annotations

import json
import re
import shlex

from fastapi.testclient import TestClient

from policyengine.server import create_app
from tests.conftest import ROOT

MARK = "<!-- curl-example:"


def _example() -> tuple[list[str], str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index(MARK) :]
    blocks = re.findall(r"```(?:sh|json)\n(.*?)```", after, flags=re.S)
    return shlex.split(blocks[0].replace("\\\n", " ")), blocks[1]


def test_the_readme_curl_example_prints_what_the_readme_shows():
    words, shown = _example()
    url = next(w for w in words if w.startswith("http://127.0.0.1:8000/"))
    body = words[words.index("-d") + 1]
    projection = words[words.index("-c") + 1]
    assert projection == ".decisions[] | {action, verdict, practice, decided_by}"  # what the loop below does
    response = TestClient(create_app()).post(url.removeprefix("http://127.0.0.1:8000"), content=body)
    assert response.status_code == 200
    lines = [
        json.dumps({k: d[k] for k in ("action", "verdict", "practice", "decided_by")}, separators=(",", ":"))
        for d in response.json()["decisions"]
    ]
    assert "\n".join(lines) + "\n" == shown
