"""`policyengine serve`: the HTTP API (FastAPI on uvicorn), read-only, on 127.0.0.1 by default."""

from __future__ import annotations

import argparse
import sys

from policyengine.cli.options import add_engine_option, add_rules_option

# the server's limits (policyengine.server, which needs the extra, so it is not imported here)
MAX_BODY = 256 * 1024
TIME_LIMIT = 30.0


def register(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the HTTP API (read-only; OpenAPI docs at /docs)",
        description="Serve the HTTP API: POST a scenario as JSON to /run, /sweep or /explain; GET /rules, "
        "/rules/{id}, /vocabulary, /counties. Read-only. Needs the 'serve' extra "
        "(pip install 'mn-ice-policyengine[serve]').",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    add_rules_option(p)
    add_engine_option(p)
    p.add_argument("--max-body", type=int, default=MAX_BODY, metavar="BYTES", help=f"largest request body ({MAX_BODY})")
    p.add_argument(
        "--time-limit", type=float, default=TIME_LIMIT, metavar="SECONDS", help=f"longest evaluation ({TIME_LIMIT:g})"
    )
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from policyengine.server import create_app
    except ImportError as exc:
        print(
            f"policyengine: error: serve needs the 'serve' extra ({exc.name} is not installed): "
            "pip install 'mn-ice-policyengine[serve]'",
            file=sys.stderr,
        )
        return 2

    app = create_app(args.rules, args.engine, max_body=args.max_body, time_limit=args.time_limit)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"policyengine: serving on {args.host}: reachable from other machines", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_keep_alive=5)
    return 0
