"""`policyengine serve`: the HTTP API, a thin adapter over the same pipeline as the command line.

Read-only: every endpoint evaluates or reads; none writes. A scenario is posted as JSON in the
scenario file's shape and checked by the same code as a file (`check.check_scenario`), so bad
input gets the same located messages, with the field path (`body.person.citizenship`) where
the command line gives a line. Answers are rendered by the same functions as `run --format
json`, byte for byte.

Limits: the request body's size, its nesting depth, and the time one evaluation may take.
Evaluations run one at a time in a worker thread (durable_rules keeps one engine per process).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from policyengine import __version__, names
from policyengine.answers import county_results, scenario_result
from policyengine.checked import dump
from policyengine.engine import get_engine
from policyengine.errors import EngineError, InputError, Problem
from policyengine.load import Document
from policyengine.pipeline import Rulebase, evaluate, load_rulebase, scenario_from_data
from policyengine.report.blocks import RENDER, Doc
from policyengine.report.json_format import render_json
from policyengine.report.memo import memo_docs, render_memos
from policyengine.report.rules_json import rule_dict
from policyengine.rulebook import _wanted as in_jurisdiction
from policyengine.rulebook import rule_blocks, rulebook
from policyengine.schema import scenario_schema

MAX_BODY = 256 * 1024
MAX_DEPTH = 32
TIME_LIMIT = 30.0
BODY = "body"

T = TypeVar("T")

AsOf = Annotated[dt.date | None, Query(description="the law as of this date instead of the scenario's")]
InCounty = Annotated[str | None, Query(description="in this county instead of the scenario's (any case)")]
Actions = Annotated[list[str] | None, Query(description="only these actions (repeat the parameter for more)")]
Trace = Annotated[bool, Query(description="add the trace: facts matched, rules fired and defeated")]
MemoFormat = Annotated[str, Query(pattern="^(markdown|html)$")]
RulesFormat = Annotated[str, Query(pattern="^(json|markdown|html)$")]
Jurisdiction = Annotated[str | None, Query(description="federal, state, doc, a county or a city")]


class ApiError(Exception):
    """A request the API refuses: an HTTP status and located messages (`loc` as FastAPI's)."""

    def __init__(self, status: int, problems: list[tuple[list[str | int], str]]):
        self.status, self.problems = status, problems
        super().__init__("; ".join(m for _, m in problems))


def _error_body(problems: list[tuple[list[str | int], str]], kind: str) -> dict[str, Any]:
    """FastAPI's `detail` list, plus each problem as the command line words it (`where: error: what`)."""
    return {
        "detail": [{"loc": loc, "msg": msg, "type": kind} for loc, msg in problems],
        "errors": [f"{'.'.join(map(str, loc)) or 'request'}: error: {msg}" for loc, msg in problems],
    }


# ----------------------------------------------------------------- the body


def _depth(text: str) -> int:
    """How deeply the JSON text nests arrays and objects (strings are skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key '{key}'")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"'{name}' is not a JSON value")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, [([BODY], f"the body is larger than {limit} bytes")])
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, [([BODY], f"the body is larger than {limit} bytes")])
        chunks.append(chunk)
    return b"".join(chunks)


def parse_body(raw: bytes) -> Any:
    """The posted JSON, or an ApiError that says what is wrong and where."""
    if not raw.strip():
        raise ApiError(422, [([BODY], "the body is empty: post a scenario as a JSON object")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(422, [([BODY], f"the body is not UTF-8 (byte {exc.start})")]) from None
    if _depth(text) > MAX_DEPTH:
        raise ApiError(422, [([BODY], f"the body nests deeper than {MAX_DEPTH} levels")])
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ApiError(422, [([BODY], f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]) from None
    except ValueError as exc:
        raise ApiError(422, [([BODY], f"invalid JSON: {exc}")]) from None
    if not isinstance(data, dict):
        raise ApiError(422, [([BODY], "the body must be a JSON object: a scenario in the scenario file's shape")])
    return data


def json_document(data: Any) -> tuple[Document, dict[int, tuple[str | int, ...]]]:
    """A Document for parsed JSON, so the file checks run unchanged: each value gets a number
    where a file has its line, and the numbers map back to field paths."""
    doc = Document(BODY, data)
    paths: dict[int, tuple[str | int, ...]] = {}

    def walk(value: Any, path: tuple[str | int, ...]) -> None:
        number = len(paths) + 1
        doc.lines[path] = number
        paths[number] = path
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, (*path, i))

    walk(data, ())
    return doc, paths


def located(problems: list[Problem], paths: dict[int, tuple[str | int, ...]]) -> list[tuple[list[str | int], str]]:
    """Problems of the body or of a query parameter, each with its field path."""
    out: list[tuple[list[str | int], str]] = []
    for p in problems:
        if p.file == BODY:
            out.append(([BODY, *paths.get(p.line or 1, ())], p.message))
        else:
            out.append(([part for part in p.file.split(".") if part], p.message))
    return out


# ----------------------------------------------------------------- the app


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The scenario schema with its `$defs` written in place (OpenAPI resolves refs from its own root)."""
    defs = schema.get("$defs", {})

    def fill(node: Any, depth: int = 0) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/") and depth < 8:
                return fill(copy.deepcopy(defs[ref.rsplit("/", 1)[1]]), depth + 1)
            return {k: fill(v, depth) for k, v in node.items() if k not in ("$defs", "$schema")}
        if isinstance(node, list):
            return [fill(v, depth) for v in node]
        return node

    return fill(schema)


SCENARIO_BODY = {
    "requestBody": {
        "required": True,
        "description": 'A scenario in the scenario file\'s shape, as JSON (dates as "YYYY-MM-DD").',
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Scenario"}}},
    }
}


def create_app(
    rules: str | None = None,
    engine: str | None = None,
    max_body: int = MAX_BODY,
    time_limit: float = TIME_LIMIT,
) -> FastAPI:
    """The API over one rulebase and one engine, both loaded once."""
    rulebase: Rulebase = load_rulebase(rules)
    the_engine = get_engine(engine)
    lock = threading.Lock()
    app = FastAPI(
        title="policyengine",
        version=__version__,
        description="Which cooperation actions with federal immigration enforcement apply in a Minnesota "
        "scenario: the legal verdict, the local practice and the cited basis. Read-only. A research tool, "
        "not legal advice.",
    )

    async def work(fn: Callable[[], T]) -> T:
        """Run `fn` in a worker thread, one at a time, within the time limit."""

        def locked() -> T:
            with lock:
                return fn()

        try:
            return await asyncio.wait_for(run_in_threadpool(locked), time_limit)
        except TimeoutError:
            raise ApiError(503, [([], f"the evaluation took longer than {time_limit:g} s")]) from None

    async def scenario_of(request: Request):
        data = parse_body(await _read_body(request, max_body))
        doc, paths = json_document(data)
        try:
            return scenario_from_data(doc, rulebase), paths
        except InputError as exc:
            raise ApiError(422, located(exc.problems, paths)) from None

    def county_of(text: str | None) -> str | None:
        return None if text is None else names.county(text, rulebase.counties, where="query.county")

    def actions_of(texts: list[str] | None) -> list[str] | None:
        return [names.action(a, rulebase.actions, where="query.action") for a in texts or []] or None

    def json_text(text: str) -> Response:
        return Response(text, media_type="application/json")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_error_body(exc.problems, "request_error"), status_code=exc.status)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(_error_body(located(exc.problems, {}), "input_error"), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [(list(e["loc"]), f"{e['msg']} (got {e.get('input')!r})") for e in exc.errors()]
        return JSONResponse(_error_body(problems, "invalid_parameter"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(_error_body([([], str(exc.detail))], "http_error"), status_code=exc.status_code)

    @app.exception_handler(EngineError)
    async def _engine(request: Request, exc: EngineError) -> JSONResponse:
        return JSONResponse(_error_body([([], f"engine error: {exc}")], "engine_error"), status_code=500)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        # a bug here, never the user's input: no traceback goes to the client
        return JSONResponse(_error_body([([], "internal error")], "internal_error"), status_code=500)

    @app.get("/", summary="What this server is and where its endpoints are")
    def index() -> dict[str, Any]:
        return {
            "name": "policyengine",
            "version": __version__,
            "engine": the_engine.name,
            "rules": len(rulebase.rules),
            "docs": "/docs",
            "openapi": "/openapi.json",
        }

    @app.get("/health", summary="The server is up")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/run",
        summary="Evaluate one scenario: the JSON contract, as `policyengine run --format json` prints it",
        openapi_extra=SCENARIO_BODY,
        response_class=Response,
    )
    async def run(
        request: Request,
        as_of: AsOf = None,
        county: InCounty = None,
        action: Actions = None,
        explain: Trace = False,
    ) -> Response:
        scenario, _ = await scenario_of(request)
        place, actions = county_of(county), actions_of(action)
        if place is None:
            result = await work(lambda: scenario_result(scenario, rulebase, the_engine, as_of, explain, actions))
        else:
            results = await work(
                lambda: county_results(scenario, rulebase, the_engine, [place], as_of, explain, actions)
            )
            result = results[0]
        return json_text(render_json([result]))

    @app.post(
        "/sweep",
        summary="The scenario in each of the 87 counties, as `run --county all --format json` prints it",
        openapi_extra=SCENARIO_BODY,
        response_class=Response,
    )
    async def sweep(
        request: Request,
        as_of: AsOf = None,
        action: Actions = None,
    ) -> Response:
        scenario, _ = await scenario_of(request)
        actions = actions_of(action)
        results = await work(
            lambda: county_results(scenario, rulebase, the_engine, rulebase.counties, as_of, False, actions)
        )
        return json_text(render_json(results))

    @app.post(
        "/explain",
        summary="The memo per action, as `policyengine explain` writes it (Markdown or HTML)",
        openapi_extra=SCENARIO_BODY,
        response_class=Response,
    )
    async def explain(
        request: Request,
        action: Actions = None,
        as_of: AsOf = None,
        county: InCounty = None,
        format: MemoFormat = "markdown",
    ) -> Response:
        scenario, _ = await scenario_of(request)
        place, actions = county_of(county), actions_of(action)

        def memo() -> str:
            ev = evaluate(scenario, rulebase, the_engine, as_of=as_of, county=place)
            return render_memos(memo_docs(ev, rulebase, actions), format, scenario.head.title)

        text = await work(memo)
        media = "text/html" if format == "html" else "text/markdown"
        return Response(text, media_type=f"{media}; charset=utf-8")

    @app.get("/rules", summary="The rules (JSON), or the rule book (Markdown or HTML)", response_class=Response)
    def rules_list(
        jurisdiction: Jurisdiction = None,
        format: RulesFormat = "json",
    ) -> Response:
        doc = rulebook(rulebase, jurisdiction)
        if jurisdiction and not doc.blocks[2:]:
            raise ApiError(404, [(["query", "jurisdiction"], f"no rules for jurisdiction '{jurisdiction}'")])
        if format != "json":
            return Response(RENDER[format](doc), media_type=f"text/{format}; charset=utf-8")
        rules = [rule_dict(rulebase, r) for r in rulebase.rules if in_jurisdiction(r, jurisdiction)]
        return json_text(render_json([{"rules": rules, "count": len(rules)}]))

    @app.get("/rules/{rule_id}", summary="One rule by id (JSON, Markdown or HTML)", response_class=Response)
    def rule_by_id(rule_id: str, format: RulesFormat = "json") -> Response:
        rule = rulebase.by_id.get(rule_id)
        if rule is None:
            hint = names.did_you_mean(rule_id, rulebase.by_id)
            raise ApiError(404, [(["path", "rule_id"], f"no rule '{rule_id}'{hint}")])
        if format == "json":
            return json_text(render_json([rule_dict(rulebase, rule)]))
        doc = Doc(rule.title, rule_blocks(rulebase, rule))
        return Response(RENDER[format](doc), media_type=f"text/{format}; charset=utf-8")

    @app.get("/vocabulary", summary="Every fact and action, with meanings, values and defaults")
    def vocabulary() -> dict[str, Any]:
        return dump(rulebase.vocabulary, json=True, exclude_none=True)

    @app.get("/counties", summary="The 87 counties (with FIPS codes) and the cities of the registry")
    def counties() -> dict[str, Any]:
        reg = rulebase.registry
        return {
            "counties": [dump(c, json=True) for c in reg.counties],
            "cities": [dump(c, json=True) for c in reg.cities],
        }

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            scenario = _inline_refs(scenario_schema(rulebase))
            schema.setdefault("components", {}).setdefault("schemas", {})["Scenario"] = scenario
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
