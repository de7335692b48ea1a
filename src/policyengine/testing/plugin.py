"""pytest plugin: every scenario file with an `expect:` block is one test, named by its id.

Enabled wherever the package is installed, through its `pytest11` entry point (named
`policyengine.testing.plugin`, so this repository's `-p policyengine.testing.plugin` does
not register it twice). It collects `.yaml` files below the directories in the ini option
`policyengine_scenarios` (default: `scenarios` and `tests/regressions`, relative to the
root directory) and any `.yaml` file named on the command line. Where that option is not
set (a project with no configuration), a scenario file with an `expect:` block below a
directory named on the command line is collected too, so `pytest scenarios/` just works. Scenarios run on the
rules in `policyengine_rules` (default: the bundled rules) and the default engine
(`--policyengine-engine reference` to choose another). A failure prints expected versus
actual per action and the trace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from policyengine import bundled
from policyengine.checked import Scenario
from policyengine.engine import get_engine
from policyengine.errors import InputError
from policyengine.pipeline import Rulebase, load_rulebase, load_scenario
from policyengine.testing.collection import Outcome, format_failure, run_scenario

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle

_RULEBASE = pytest.StashKey[Rulebase]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "policyengine_scenarios",
        type="paths",
        default=None,
        help="directories whose scenario files are collected as tests (default: scenarios, tests/regressions)",
    )
    parser.addini("policyengine_rules", default="", help="rules directory for scenario tests (default: bundled)")
    group = parser.getgroup("policyengine")
    group.addoption(
        "--policyengine-engine",
        choices=["durable", "reference"],
        default=None,
        help="engine for scenario tests (default: durable_rules where it imports)",
    )


def _scenario_dirs(config: pytest.Config) -> list[Path]:
    configured = config.getini("policyengine_scenarios")
    if configured:
        return [Path(p) for p in configured]
    return [config.rootpath / "scenarios", config.rootpath / "tests" / "regressions"]


def rulebase(config: pytest.Config) -> Rulebase:
    """The rulebase scenario tests run on, loaded once per session."""
    if _RULEBASE not in config.stash:
        rules = config.getini("policyengine_rules")
        root = config.rootpath / rules if rules else bundled.rules_dir()
        config.stash[_RULEBASE] = load_rulebase(root)
    return config.stash[_RULEBASE]


def _named_directories(config: pytest.Config) -> list[Path]:
    """The directories given on the command line."""
    base = config.invocation_params.dir
    paths = (base / arg.split("::")[0] for arg in config.args)
    return [p.resolve() for p in paths if p.is_dir()]


EXPECT_BLOCK = re.compile(r"^expect:", re.MULTILINE)


def _has_expectations(path: Path) -> bool:
    try:
        return bool(EXPECT_BLOCK.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    config = parent.config
    inside = any(file_path.is_relative_to(d) for d in _scenario_dirs(config))
    if inside or parent.session.isinitpath(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    if not config.getini("policyengine_scenarios") and _has_expectations(file_path):
        if any(file_path.resolve().is_relative_to(d) for d in _named_directories(config)):
            return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """A scenario file: one item if it has expectations, none otherwise."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            scenario = load_scenario(self.path, rulebase(self.config))
        except InputError as exc:
            # a failing item, not a collection error: one bad file must not stop the other tests
            yield InvalidScenario.from_parent(self, name=self.path.stem, error=exc)
            return
        if scenario.head.expect:
            yield ScenarioItem.from_parent(self, name=scenario.id, scenario=scenario)


class InvalidScenario(pytest.Item):
    """A scenario file that does not load: fails with its located errors."""

    def __init__(self, *, error: InputError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None
    ) -> str | TerminalRepr:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"invalid scenario file {self.name}"


class ScenarioFailed(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome
        super().__init__(outcome.id)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        engine = get_engine(self.config.getoption("policyengine_engine"))
        outcome = run_scenario(self.scenario, rulebase(self.config), engine)
        if not outcome.passed:
            raise ScenarioFailed(outcome)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, ScenarioFailed):
            return format_failure(excinfo.value.outcome)
        if isinstance(excinfo.value, InputError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.name}"
