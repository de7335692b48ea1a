"""The rulebase cache: used when nothing changed, rebuilt when a rule file changes, and never
trusted when it is corrupt, foreign or stored under another key."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import shutil

import pytest

from policyengine import bundled, cache
from policyengine.pipeline import load_rulebase


@pytest.fixture
def rules(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYENGINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("POLICYENGINE_CACHE", "1")
    root = tmp_path / "rules"
    shutil.copytree(bundled.rules_dir(), root)
    return root


def _files(tmp_path):
    return sorted((tmp_path / "cache").glob("rulebase-*.pickle"))


def test_second_load_comes_from_the_cache_and_equals_the_first(rules, tmp_path, monkeypatch):
    first = load_rulebase(rules)
    assert len(_files(tmp_path)) == 1
    calls = []
    monkeypatch.setattr("policyengine.rulebase.read_rulebase", lambda root: calls.append(root))
    second = load_rulebase(rules)
    assert calls == []  # not rebuilt
    assert second.rules == first.rules
    assert second.program.digest == first.program.digest


def test_a_changed_rule_file_is_a_new_key(rules, tmp_path):
    first = load_rulebase(rules)
    target = next(p for p in sorted(rules.rglob("*.yaml")) if "title:" in p.read_text())
    text = target.read_text()
    target.write_text(text.replace("title: ", "title: Changed ", 1))
    second = load_rulebase(rules)
    assert len(_files(tmp_path)) == 2
    assert [r.title for r in second.rules] != [r.title for r in first.rules]


def test_another_version_is_another_key(rules, monkeypatch):
    key = cache.rules_key(rules, "rules")
    monkeypatch.setattr("policyengine.__version__", "9.9.9")
    assert cache.rules_key(rules, "rules") != key


@pytest.mark.parametrize(
    "content",
    [
        b"not a pickle at all",
        pickle.dumps(("wrong key", "anything")),
        # a foreign pickle that would run a command when loaded
        b"cos\nsystem\n(S'echo pwned > /tmp/policyengine-pwned'\ntR.",
    ],
    ids=["corrupt", "other-key", "foreign"],
)
def test_a_bad_cache_file_is_ignored_and_replaced(rules, tmp_path, content):
    good = load_rulebase(rules)
    (path,) = _files(tmp_path)
    path.write_bytes(content)
    again = load_rulebase(rules)
    assert again.rules == good.rules
    assert path.read_bytes() != content  # rebuilt and stored again


def test_cache_can_be_bypassed(rules, tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYENGINE_CACHE", "0")
    load_rulebase(rules)
    assert _files(tmp_path) == []


# ------------------------------------------------ the federal holiday table (deadline.py)


@pytest.fixture
def holiday_cache(tmp_path, monkeypatch):
    from policyengine import deadline

    monkeypatch.setenv("POLICYENGINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("POLICYENGINE_CACHE", "1")
    deadline._federal_holidays.cache_clear()
    deadline.federal_hold_limit.cache_clear()
    yield tmp_path / "cache"
    deadline._federal_holidays.cache_clear()
    deadline.federal_hold_limit.cache_clear()


# 2021: New Year's Day 2022 fell on a Saturday, observed on Friday 31 December 2021;
# 2020: Independence Day on a Saturday, observed on the 3rd; 2026: the table after Juneteenth (2021)
@pytest.mark.parametrize("year", [2012, 2020, 2021, 2026])
def test_the_stored_holiday_table_is_the_librarys_own(holiday_cache, year):
    import holidays

    from policyengine import deadline

    library = holidays.country_holidays("US", years=range(year, year + 2))
    first = deadline._federal_holidays(year)  # built, and stored
    deadline._federal_holidays.cache_clear()
    second = deadline._federal_holidays(year)  # read back from the cache file
    assert len(list(holiday_cache.glob("holidays-*.pickle"))) == 1
    for table in (first, second):
        assert table == dict(library.items())
        assert len(table) >= 20  # two years of federal holidays, not an empty table
    if year == 2021:
        assert second[dt.date(2021, 12, 31)] == library.get(dt.date(2021, 12, 31))


def test_a_hold_limit_with_a_warm_holiday_cache_does_not_import_holidays(holiday_cache):
    """What the table is kept for: a process that meets the 48-hour reference reads it, and never
    imports `holidays` (about 150 ms of a `run`)."""
    import subprocess
    import sys

    script = (
        "import sys, datetime as dt\n"
        "from policyengine.deadline import federal_hold_limit\n"
        "limit = federal_hold_limit(dt.datetime(2024, 12, 31, 17, 0))\n"
        "print(limit.latest.isoformat(), [str(d) for d, _ in limit.excluded_days], 'holidays' in sys.modules)\n"
    )
    env = {**os.environ, "POLICYENGINE_CACHE_DIR": str(holiday_cache), "POLICYENGINE_CACHE": "1"}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    cold, warm = (r.stdout.split() for r in runs)
    # released New Year's Eve (a Tuesday) at 17:00: 7 hours that day, New Year's Day not counted,
    # 24 hours on the 2nd, 17 on the 3rd
    assert cold[0] == warm[0] == "2025-01-03T17:00:00"
    assert cold[1] == warm[1] == "['2025-01-01']"
    assert cold[-1] == "True" and warm[-1] == "False"


def test_the_holiday_table_is_rebuilt_for_another_holidays_release(holiday_cache, monkeypatch):
    from policyengine import deadline

    deadline._federal_holidays(2024)
    monkeypatch.setattr(cache, "distribution_stamp", lambda name: "holidays-99.0.dist-info@1")
    deadline._federal_holidays.cache_clear()
    built = []
    real = deadline.built_federal_holidays
    monkeypatch.setattr(deadline, "built_federal_holidays", lambda year: built.append(year) or real(year))
    deadline._federal_holidays(2024)
    assert built == [2024]
    assert len(list(holiday_cache.glob("holidays-*.pickle"))) == 2


@pytest.mark.parametrize(
    "content", [b"not a pickle at all", pickle.dumps(("wrong key", {2024: {}}))], ids=["corrupt", "other-key"]
)
def test_a_bad_holiday_cache_file_is_ignored_and_replaced(holiday_cache, content):
    from policyengine import deadline

    good = deadline._federal_holidays(2024)
    (path,) = holiday_cache.glob("holidays-*.pickle")
    path.write_bytes(content)
    deadline._federal_holidays.cache_clear()
    assert deadline._federal_holidays(2024) == good
    assert path.read_bytes() != content


@pytest.mark.parametrize("table", ["not a table", {dt.date(2024, 7, 4): 7}, {"2024-07-04": "Independence Day"}])
def test_a_holiday_cache_file_of_the_right_key_with_the_wrong_contents_is_rebuilt(holiday_cache, table):
    """A file under the right key whose table is not dates and names (edited, or written by a
    broken version) is not trusted: the table is built again, not a traceback."""
    from policyengine import deadline

    good = deadline._federal_holidays(2024)
    (path,) = holiday_cache.glob("holidays-*.pickle")
    key = cache.derived_key("US federal holidays", cache.distribution_stamp("holidays"))
    path.write_bytes(pickle.dumps((key, {2024: table})))
    deadline._federal_holidays.cache_clear()
    assert deadline._federal_holidays(2024) == good


def test_the_holiday_table_is_not_stored_when_the_cache_is_off(holiday_cache, monkeypatch):
    from policyengine import deadline

    monkeypatch.setenv("POLICYENGINE_CACHE", "0")
    assert deadline._federal_holidays(2024)[dt.date(2024, 7, 4)] == "Independence Day"
    assert not list(holiday_cache.glob("holidays-*.pickle"))
