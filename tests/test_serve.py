"""`policyengine serve`: the HTTP API answers what the command line answers, byte for byte, and
bad requests get a 4xx with a located message while the server stays up.

In process with FastAPI's test client, and once against a real uvicorn in a subprocess.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from policyengine.cli import main
from policyengine.server import MAX_BODY, create_app
from tests.conftest import ROOT

DOC = ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml"


def as_json(path: Path) -> str:
    """A scenario file as the JSON a client would post (dates as ISO strings)."""
    return json.dumps(yaml.safe_load(path.read_text()), default=str)


def cli(capsys, *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())


def test_doc_release_is_byte_identical_to_run_format_json(client, capsys):
    expected = cli(capsys, "run", str(DOC), "--format", "json")
    response = client.post("/run", content=as_json(DOC))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == expected.encode("utf-8")
    result = response.json()
    assert result["expectations"]["failures"] == [] and result["expectations"]["met"] == 6
    hold = next(d for d in result["decisions"] if d["action"] == "hold_beyond_release")
    assert hold["verdict"] == "prohibited" and hold["decided_by"] == ["mn.state.no-detainer-hold"]


def test_options_match_the_command_line(client, capsys):
    for query, args in (
        ("?as_of=2018-06-01&explain=true", ["--as-of", "2018-06-01", "--explain"]),
        (
            "?county=hennepin%20county&action=hold_beyond_release",
            ["--county", "Hennepin", "--action", "hold_beyond_release"],
        ),
    ):
        expected = cli(capsys, "run", str(DOC), "--format", "json", *args)
        assert client.post("/run" + query, content=as_json(DOC)).content == expected.encode()


def test_sweep_is_the_87_county_run(client, capsys):
    expected = cli(capsys, "run", str(DOC), "--format", "json", "--county", "all")
    response = client.post("/sweep", content=as_json(DOC))
    assert response.content == expected.encode()
    rows = response.json()
    assert len(rows) == 87 and len({r["jurisdiction"]["fips"] for r in rows}) == 87


def test_explain_is_the_memo(client, capsys):
    expected = cli(capsys, "explain", str(DOC), "--action", "hold_beyond_release", "--format", "html")
    response = client.post("/explain?action=hold_beyond_release&format=html", content=as_json(DOC))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.text == expected and "Esparza" in response.text
    md = client.post("/explain?as_of=2018-06-01&county=Ramsey&action=hold_beyond_release", content=as_json(DOC))
    assert "- Date: 2018-06-01" in md.text and "- Place: Ramsey County" in md.text


def test_rules_rule_by_id_and_vocabulary(client, rulebase):
    listing = client.get("/rules").json()
    assert listing["count"] == len(rulebase.rules) == len(listing["rules"])
    hennepin = client.get("/rules?jurisdiction=hennepin").json()["rules"]
    assert hennepin and {r["jurisdiction"] for r in hennepin} == {"Hennepin County"}
    rule = client.get("/rules/mn.state.no-detainer-hold").json()
    assert rule["level"] == "state" and any("Esparza" in s["cite"] for s in rule["sources"])
    assert {"action": "hold_beyond_release", "value": "prohibited"} in rule["conclusions"]
    md = client.get("/rules/mn.state.no-detainer-hold?format=markdown")
    assert md.headers["content-type"].startswith("text/markdown") and "Esparza" in md.text
    vocab = client.get("/vocabulary").json()
    assert list(vocab["actions"]) == rulebase.actions and "person.citizenship" in vocab["facts"]
    assert len(client.get("/counties").json()["counties"]) == 87


def test_openapi_documents_the_scenario_body(client):
    spec = client.get("/openapi.json").json()
    scenario = spec["components"]["schemas"]["Scenario"]
    assert "place" in scenario["properties"] and "$defs" not in json.dumps(scenario)
    ref = spec["paths"]["/run"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/Scenario"
    assert client.get("/docs").status_code == 200


def test_read_only_every_route_is_a_get_or_a_post_that_evaluates(client):
    methods = {m for route in client.app.routes for m in getattr(route, "methods", set())}
    assert methods <= {"GET", "HEAD", "POST"}
    assert client.put("/rules/mn.state.no-detainer-hold", content="{}").status_code == 405
    assert client.delete("/rules/mn.state.no-detainer-hold").status_code == 405


def _scenario(**change) -> str:
    data = yaml.safe_load(DOC.read_text())
    data.pop("expect")
    for dotted, value in change.items():
        *groups, key = dotted.split("__")
        target = data
        for g in groups:
            target = target.setdefault(g, {})
        if value is ...:
            target.pop(key)
        else:
            target[key] = value
    return json.dumps(data, default=str)


# (name, path and query, body, status, location of the first problem, words in its message)
MALFORMED = [
    ("bad JSON", "/run", '{"id": "x",', 422, ["body"], "invalid JSON: Expecting property name"),
    ("not an object", "/run", "[1, 2]", 422, ["body"], "must be a JSON object"),
    ("empty body", "/run", "", 422, ["body"], "the body is empty"),
    (
        "unknown fact",
        "/run",
        _scenario(person__favourite_colour="red"),
        422,
        ["body", "person", "favourite_colour"],
        "'person.favourite_colour' is not a fact in the vocabulary",
    ),
    (
        "unknown key",
        "/run",
        _scenario(jurisdiction="Hennepin"),
        422,
        ["body", "jurisdiction"],
        "unknown key 'jurisdiction' in a scenario",
    ),
    (
        "wrong type (boolean)",
        "/run",
        _scenario(immigration__ice_present_at_release="yes"),
        422,
        ["body", "immigration", "ice_present_at_release"],
        "takes true or false",
    ),
    ("wrong type (date)", "/run", _scenario(date=20260210), 422, ["body", "date"], "date"),
    ("impossible date", "/run", _scenario(date="2026-02-30"), 422, ["body", "date"], "date"),
    ("missing required fact", "/run", _scenario(agency=...), 422, ["body"], "missing required fact 'agency'"),
    (
        "misspelt county",
        "/run",
        _scenario(place__county="Henepin"),
        422,
        ["body", "place", "county"],
        "did you mean 'Hennepin'?",
    ),
    (
        "city in another county",
        "/run",
        _scenario(place__city="Minneapolis"),
        422,
        ["body", "place", "city"],
        "Minneapolis is in Hennepin County, not Washington",
    ),
    (
        "derived fact stated",
        "/run",
        _scenario(custody__independent_basis=True),
        422,
        ["body", "custody", "independent_basis"],
        "derived by the rules",
    ),
    ("group not a mapping", "/run", _scenario(person="noncitizen"), 422, ["body", "person"], "is a group of facts"),
    ("bad id", "/run", _scenario(id="Bad Id!"), 422, ["body", "id"], "id:"),
    ("huge body", "/run", '{"id": "' + "x" * (MAX_BODY + 10) + '"}', 413, ["body"], "larger than"),
    ("deep nesting", "/run", '{"a": ' + "[" * 200 + "]" * 200 + "}", 422, ["body"], "nests deeper than"),
    ("duplicate key", "/run", '{"id": "x", "id": "y"}', 422, ["body"], "duplicate key 'id'"),
    ("NaN", "/run", '{"id": NaN}', 422, ["body"], "'NaN' is not a JSON value"),
    ("not UTF-8", "/run", b'{"id": "\xff\xfe"}', 422, ["body"], "not UTF-8"),
    ("bad as_of", "/run?as_of=2026-13-01", _scenario(), 422, ["query", "as_of"], "valid date"),
    (
        "unknown action",
        "/sweep?action=hold_forever",
        _scenario(),
        422,
        ["query", "action"],
        "'hold_forever' is not an action in the vocabulary",
    ),
    ("unknown county", "/explain?county=Henepin", _scenario(), 422, ["query", "county"], "did you mean 'Hennepin'?"),
    ("bad memo format", "/explain?format=pdf", _scenario(), 422, ["query", "format"], "pattern"),
    (
        "unknown expectation action",
        "/run",
        _scenario(expect={"hold_forever": {"verdict": "required"}}),
        422,
        ["body", "expect", "hold_forever"],
        "not an action in the vocabulary",
    ),
]


@pytest.mark.parametrize(("name", "url", "body", "status", "loc", "words"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_request_gets_a_located_4xx(client, name, url, body, status, loc, words):
    response = client.post(url, content=body)
    assert response.status_code == status, response.text
    problem = response.json()["detail"][0]
    assert problem["loc"] == loc, response.text
    assert words in problem["msg"]
    where = ".".join(map(str, loc))
    assert response.json()["errors"][0].startswith(f"{where}: error: ")
    assert "Traceback" not in response.text
    assert client.get("/health").json() == {"status": "ok"}


def test_there_are_at_least_twenty_malformed_cases_and_the_cli_states_the_same_limits():
    from policyengine import server
    from policyengine.cli import serve

    assert len(MALFORMED) >= 20
    assert (serve.MAX_BODY, serve.TIME_LIMIT) == (server.MAX_BODY, server.TIME_LIMIT)


def test_an_evaluation_over_the_time_limit_is_a_503_not_a_hang():
    slow = TestClient(create_app(time_limit=1e-6))
    response = slow.post("/sweep", content=as_json(DOC))
    assert response.status_code == 503
    assert "took longer than" in response.json()["detail"][0]["msg"]


# ------------------------------------------------------------------ a real uvicorn


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, body: bytes | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_real_uvicorn_answers_and_survives_every_malformed_request(capsys):
    expected = cli(capsys, "run", str(DOC), "--format", "json").encode()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "policyengine", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _request(base + "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        assert _request(base + "/run", as_json(DOC).encode()) == (200, expected)
        for name, url, body, status, loc, _ in MALFORMED:
            code, text = _request(base + url, body if isinstance(body, bytes) else body.encode())
            assert code == status, name
            assert json.loads(text)["detail"][0]["loc"] == loc, name
        assert _request(base + "/health") == (200, b'{"status":"ok"}')
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_without_the_extra_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the 'serve' extra were not installed
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "serve needs the 'serve' extra (uvicorn is not installed)" in err
    assert "pip install 'mn-ice-policyengine[serve]'" in err
