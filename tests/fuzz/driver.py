"""Run many CLI calls in one process, each with a time and memory limit; write results as JSON.

    python tests/fuzz/driver.py CASES.json RESULTS.json

CASES is a list of {"id": ..., "argv": [...]}; each is run as `policyengine.cli.main(argv)` with
its output captured, under signal.alarm (TIME_LIMIT seconds) and an address-space limit
(RLIMIT_AS: what the process had before the first case plus MEMORY_LIMIT). A result records the
exit status, the seconds taken, the output, and whether an exception escaped main (a traceback).
One process for all cases, because two thousand interpreter start-ups would cost minutes.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import signal
import sys
import time
import traceback

TIME_LIMIT = 5
MEMORY_LIMIT = 500 * 1024 * 1024


class TimeLimit(Exception):
    pass


def _on_alarm(signum, frame):
    raise TimeLimit()


def _address_space() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _clip(text: str) -> str:
    """The first and last lines of long output (each cut to 500 characters): enough to judge it."""
    lines = [line[:500] for line in text.splitlines()]
    return "\n".join(lines[:20] + lines[-5:] if len(lines) > 25 else lines) + ("\n" if lines else "")


def run_case(argv: list[str]) -> dict:
    from policyengine.cli import main

    out, err = io.StringIO(), io.StringIO()
    result: dict = {"traceback": None, "timeout": False, "memory": False}
    start = time.perf_counter()
    signal.alarm(TIME_LIMIT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                result["status"] = main(argv)
            except SystemExit as exc:
                result["status"] = exc.code if isinstance(exc.code, int) else 2
    except TimeLimit:
        result["timeout"] = True
        result["status"] = None
    except MemoryError:
        result["memory"] = True
        result["status"] = None
    except BaseException:  # noqa: BLE001 - any escape is the finding this driver looks for
        result["traceback"] = traceback.format_exc()
        result["status"] = None
    finally:
        signal.alarm(0)
    result["seconds"] = round(time.perf_counter() - start, 3)
    result["stdout"] = _clip(out.getvalue())
    result["stderr"] = _clip(err.getvalue())
    return result


def main(argv: list[str]) -> int:
    cases = json.loads(open(argv[0], encoding="utf-8").read())
    signal.signal(signal.SIGALRM, _on_alarm)
    import policyengine.cli  # noqa: F401 - imported before the memory limit is measured

    limit = _address_space() + MEMORY_LIMIT
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    results = []
    for case in cases:
        results.append({"id": case["id"], "argv": case["argv"], **run_case(case["argv"])})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with open(argv[1], "w", encoding="utf-8") as f:
        json.dump({"results": results, "peak_rss": peak, "memory_limit": MEMORY_LIMIT}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
