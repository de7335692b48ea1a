"""The command-line tool: one module per command, user errors as located one-liners.

Exit status: 0 success; 1 an expectation or check failed; 2 bad input (a rule, scenario
or argument), printed as `file:line: error: message` with no traceback.
"""

from __future__ import annotations

import argparse
import sys

from policyengine import __version__
from policyengine.cli import batch as batch_command
from policyengine.cli import check as check_command
from policyengine.cli import explain as explain_command
from policyengine.cli import review as review_command
from policyengine.cli import rules as rules_command
from policyengine.cli import run as run_command
from policyengine.cli import schema as schema_command
from policyengine.cli import test as test_command
from policyengine.errors import EngineError, InputError

COMMANDS = [
    run_command,
    test_command,
    check_command,
    explain_command,
    review_command,
    rules_command,
    schema_command,
    batch_command,
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors also exit 2, without usage noise
        self.exit(2, f"policyengine: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="policyengine",
        description="Which cooperation actions with federal immigration enforcement apply in a "
        "Minnesota scenario, with the legal verdict, the local practice and the cited basis.",
    )
    parser.add_argument("--version", action="version", version=f"policyengine {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except EngineError as exc:
        print(f"policyengine: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
