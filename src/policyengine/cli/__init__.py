"""The command-line tool: one module per command, user errors as located one-liners.

Exit status: 0 success; 1 an expectation or check failed; 2 bad input (a rule, scenario
or argument), printed as `file:line: error: message` with no traceback.

Commands are listed in `COMMANDS` (name, module, one line of help) and a command's module
is imported only when that command runs, so `--version` and each command pay only for
what they use. Adding a command is one line here plus a module with `register(sub)`.
"""

from __future__ import annotations

import sys

from policyengine import __version__

TYPE_CHECKING = False  # not typing's: importing typing alone costs `--version` a third of its time
if TYPE_CHECKING:  # argparse is imported when used: `--version` and a bare call import nothing more
    import argparse
    from typing import Any, NoReturn


class Command:
    """One command: its name, the module that registers and runs it, one line of help."""

    __slots__ = ("name", "module", "help")

    def __init__(self, name: str, module: str, help: str) -> None:
        self.name, self.module, self.help = name, module, help


COMMANDS: list[Command] = [
    Command("run", "policyengine.cli.run", "evaluate scenario files"),
    Command("test", "policyengine.cli.test", "run scenario expectations as tests (with coverage and mutation testing)"),
    Command("check", "policyengine.cli.check", "check a rules directory: errors, conflicts, gaps, shadowed rules"),
    Command("explain", "policyengine.cli.explain", "write an explanation memo per action for a scenario"),
    Command("review", "policyengine.cli.review", "list rules by review status, or stamp a review"),
    Command("rules", "policyengine.cli.rules", "print the rule book"),
    Command("schema", "policyengine.cli.schema", "print or write JSON Schemas for rule and scenario files"),
    Command("matrix", "policyengine.cli.matrix", "counties x actions for one scenario on one date"),
    Command("map", "policyengine.cli.map", "an SVG map of the 87 counties coloured by verdict or practice"),
    Command("timeline", "policyengine.cli.timeline", "every date a county's, the DOC's or a city's answers change"),
    Command("diff", "policyengine.cli.diff", "what changes between two dates or two rules directories"),
    Command("site", "policyengine.cli.site", "build the static website (map, matrix, counties, rules, memos)"),
    Command("serve", "policyengine.cli.serve", "serve the HTTP API (read-only; OpenAPI docs at /docs)"),
    Command("completion", "policyengine.cli.completion", "print a shell completion script (bash, zsh, tcsh)"),
    Command("batch", "policyengine.cli.batch", "evaluate a records file (CSV, JSON Lines, Parquet) at scale"),
]


DESCRIPTION = (
    "Which cooperation actions with federal immigration enforcement apply in a Minnesota scenario, "
    "with the legal verdict, the local practice and the cited basis."
)


def _placeholder(sub, command: Command) -> None:
    """A command listed in the help without importing its module."""
    sub.add_parser(command.name, help=command.help, add_help=False)


def build_parser(only: str | None = None, listed: bool = True) -> argparse.ArgumentParser:
    """The parser of every command, or (with `only`) of that one command alone, the others being
    names with their help (`listed`; without it, left out: only the top-level help shows them,
    and each costs an argparse parser): only the modules of the commands built are imported."""
    import argparse
    import importlib

    class _Formatter(argparse.HelpFormatter):
        """argparse's help layout, the width found as `shutil.get_terminal_size` finds it without
        importing shutil (and the compression modules it loads: about a twentieth of a `run`), which
        argparse does for every option added, to check its metavar."""

        def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
            if width is None:
                width = _terminal_columns() - 2
            super().__init__(prog, indent_increment, max_help_position, width)

    class _Parser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("formatter_class", _Formatter)
            super().__init__(*args, **kwargs)

        def error(self, message: str) -> NoReturn:  # argparse's own errors also exit 2, without usage noise
            self.exit(2, f"policyengine: error: {message}\n")

    parser = _Parser(prog="policyengine", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"policyengine {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        if only is None or command.name == only:
            importlib.import_module(command.module).register(sub)
        elif listed:
            _placeholder(sub, command)
    return parser


def _terminal_columns() -> int:
    """`shutil.get_terminal_size().columns`: COLUMNS when a positive number, else standard output's
    terminal, else 80."""
    import os

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80
    return size.columns or 80


def command_list() -> str:
    """What a bare `policyengine` prints: each command with its one line of help."""
    width = max(len(c.name) for c in COMMANDS)
    lines = ["usage: policyengine COMMAND [options]   (policyengine COMMAND --help for its options)", ""]
    lines += [f"  {c.name:<{width}}  {c.help}" for c in COMMANDS]
    lines += ["", "  --version  print the version", "  --help     print this list with the options"]
    return "\n".join(lines) + "\n"


def _chosen(argv: list[str]) -> str | None:
    """The command word of `argv` (the first argument that is not an option)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def _asks_for_help(options: list[str]) -> bool:
    """Whether the options before the command word ask for the top-level help (which lists every command)."""
    return any(a.startswith("-h") or (len(a) > 2 and "--help".startswith(a.split("=", 1)[0])) for a in options)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv == ["--version"]:
        sys.stdout.write(f"policyengine {__version__}\n")
        return 0
    name = _chosen(argv)
    if name is None and not argv:
        sys.stdout.write(command_list())
        return 0
    names = [c.name for c in COMMANDS]
    if name is not None and name not in names:
        import difflib

        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (commands: {', '.join(names)})"
        print(f"policyengine: error: unknown command '{name}'{hint}", file=sys.stderr)
        return 2
    args = build_parser(name or "", listed=name is None or _asks_for_help(argv[: argv.index(name)])).parse_args(argv)
    if args.command is None:
        sys.stdout.write(command_list())
        return 0
    from policyengine.errors import EngineError, InputError

    try:
        status: int = args.handler(args)
        return status
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except EngineError as exc:
        print(f"policyengine: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:  # the system refused a file (a folder that cannot be, no space left): no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"policyengine: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
