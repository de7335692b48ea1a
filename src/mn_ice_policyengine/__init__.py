"""The `policyengine` command's entry point, named after the distribution (mn-ice-policyengine).

The import name `policyengine` is also used by an unrelated package on PyPI (a tax-benefit
microsimulation model). Installed in one environment, the two overwrite each other's files.
This module, whose name is not shared, checks that `policyengine` is this project before
running it, and otherwise says what happened instead of failing with an ImportError.
"""

from __future__ import annotations

import sys

DISTRIBUTION = "mn-ice-policyengine"

#: Commands that load, evaluate, print and exit. Such a process allocates many objects (a model
#: of every rule, source and condition) and frees nothing worth a cyclic collection before it
#: exits, so CPython's cyclic collector only walks them again and again: about a tenth of
#: `check`'s CPU time, measured; peak memory stayed the same (102 MB for `check`, 66 MB for
#: `run scenarios`, with and without). Long-running commands (serve, batch, test) keep it. A one-shot
#: command also ends without the interpreter's teardown (`_exit_at_once`).
ONE_SHOT = frozenset({"run", "check", "explain"})


def _wrong_package(detail: str) -> int:
    sys.stderr.write(
        f"policyengine: error: the module 'policyengine' found here is not {DISTRIBUTION} ({detail}). "
        "An unrelated package on PyPI, also imported as 'policyengine' (a tax-benefit microsimulation "
        "model), is probably installed in this environment; the two cannot share one. Use a separate "
        f"virtual environment, or `pip uninstall policyengine` and reinstall {DISTRIBUTION}.\n"
    )
    return 2


def _one_shot(argv: list[str]) -> bool:
    from policyengine.cli import _chosen  # the command word, found as the command line finds it

    return _chosen(argv) in ONE_SHOT


def main() -> int:
    try:
        import policyengine
    except Exception as exc:  # the other package's own imports may fail in many ways
        return _wrong_package(f"importing it failed: {type(exc).__name__}: {exc}")
    if getattr(policyengine, "__distribution__", None) != DISTRIBUTION:
        return _wrong_package(f"it was imported from {getattr(policyengine, '__file__', '?')}")
    from policyengine.cli import main as cli_main

    one_shot = _one_shot(sys.argv[1:])
    if one_shot:  # before the command's own imports, which allocate the most
        import gc

        gc.disable()
    status = cli_main()
    if one_shot:
        _exit_at_once(status)
    return status


def _exit_at_once(status: int) -> None:
    """End a one-shot command without the interpreter's teardown.

    Tearing down frees every module and object one by one after a last full collection: about a
    fifth of a `run` of one scenario, measured (docs/performance.md), for nothing a one-shot command
    needs, since everything it writes is closed before it returns. Standard output and error are
    flushed first; when they cannot be (a closed pipe), the interpreter ends as it always did and
    says so itself."""
    import os

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        return
    os._exit(status)
