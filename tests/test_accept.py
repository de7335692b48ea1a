"""The fast scenario acceptor (accept.py) agrees with the pydantic path (check.check_scenario).

For every document it takes, the acceptor must give exactly the Scenario the pydantic models and
check_scenario give, and it must take nothing they refuse; it may decline anything (the pydantic
path then decides, with its own messages). Checked on every bundled and test scenario, every
scenario of the fuzz corpus, and documents mutated by Hypothesis. And a warm `run` of a bundled
scenario must not import pydantic at all.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyengine import bundled
from policyengine.accept import accept_scenario
from policyengine.check import check_scenario
from policyengine.checked import Scenario
from policyengine.errors import InputError
from policyengine.load import Document, load_yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_FILES = sorted(
    {
        *ROOT.joinpath("scenarios").rglob("*.y*ml"),
        *bundled.scenarios_dir().rglob("*.y*ml"),
        *ROOT.joinpath("src", "policyengine", "standard").glob("*.yaml"),
        *ROOT.joinpath("tests", "regressions").glob("*.yaml"),
        *ROOT.joinpath("tests", "fixtures").rglob("*scenario*/**/*.yaml"),
        *ROOT.joinpath("tests", "fuzz", "corpus", "scenarios").rglob("*"),
    }
)


def pydantic_path(doc: Document, rulebase) -> Scenario | None:
    """check_scenario's answer: the Scenario, or None when it refuses the document."""
    try:
        return check_scenario(doc, rulebase.vocabulary, rulebase.registry)
    except InputError:
        return None


def agree(doc: Document, rulebase) -> Scenario | None:
    """Assert that the acceptor declines or gives exactly the pydantic path's Scenario."""
    fast = accept_scenario(doc, rulebase.vocabulary, rulebase.registry)
    slow = pydantic_path(doc, rulebase)
    if fast is not None:
        assert slow is not None, f"the acceptor took a document the models refuse: {doc.data!r}"
        assert fast == slow
        assert repr(fast) == repr(slow)  # the same types, down to the dates and the stripped text
    return fast


def _loaded(path: Path) -> Document | None:
    try:
        return load_yaml(path, display=str(path.relative_to(ROOT)))
    except (InputError, OSError, IsADirectoryError):
        return None


def test_the_corpora_are_there():
    assert len(SCENARIO_FILES) > 550
    assert any("fuzz" in str(p) for p in SCENARIO_FILES)


def test_every_scenario_of_the_corpora_gives_the_same_answer(rulebase):
    taken = refused = 0
    for path in SCENARIO_FILES:
        if not path.is_file():
            continue
        doc = _loaded(path)
        if doc is None:
            continue
        if agree(doc, rulebase) is not None:
            taken += 1
        elif pydantic_path(doc, rulebase) is None:
            refused += 1
    # Every valid bundled scenario goes the fast way; the fuzz corpus is mostly refused by both.
    bundled_count = len(list(ROOT.joinpath("scenarios").rglob("*.yaml")))
    assert taken >= bundled_count
    assert refused > 50


def test_every_bundled_scenario_is_taken_by_the_acceptor(rulebase):
    for path in sorted(ROOT.joinpath("scenarios").rglob("*.yaml")):
        doc = load_yaml(path, display=str(path))
        assert accept_scenario(doc, rulebase.vocabulary, rulebase.registry) is not None, path


# ------------------------------------------------------------------ mutations

BASES = [
    ROOT / "scenarios" / "hennepin-jail-detainer-no-warrant.yaml",
    ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml",
    *sorted(ROOT.joinpath("scenarios").glob("law/*.yaml"))[:3],
]

# Values that pydantic's strict models may or may not accept where a string, date or list is expected.
ODD_TEXTS = [
    "",
    " ",
    "\t",
    "\n",
    "x\n",
    " x ",
    "\u00a0x",
    "x\u2028",
    "x\x1c",
    "\u3000",
    "A-Rule",
    "a.b",
    "a b",
    "a.b\n",
    "_a",
    "10:30",
    "9:30",
    "24:00",
    "23:59",
    "23:60",
    "1\u0662:30",
    "10:30\n",
    "2026-02-10",
    "2026-02-30",
    " 2026-02-10 ",
    "2026-W07-2",
    "prohibited",
    "permitted",
    "not_addressed",
    "conflict",
    "does",
    "does_not",
    "unknown",
    "lex superior",
    "mn.state.no-detainer-hold",
    "\ud800",
    "Hennepin",
    "none",
]
ODD_SCALARS: list[Any] = [
    *ODD_TEXTS,
    None,
    True,
    False,
    0,
    1,
    2026,
    1.5,
    dt.date(2026, 2, 10),
    dt.datetime(2026, 2, 10, 10, 30),
    dt.datetime(2026, 2, 10),
    b"a.b",
]
ODD_VALUES_LIST: list[Any] = [
    *ODD_SCALARS,
    [],
    ["a.b"],
    [""],
    [" x "],
    ["prohibited", "conflict"],
    ["Prohibited"],
    [3],
    [None],
    [True],
    [{"rule": "a.b"}],
    [{"rule": "a.b", "doctrine": " lex superior ", "by": "c.d"}],
    [{"rule": "a.b", "extra": 1}],
    [{"rule": "a.b", 1: 1}],
    [{"doctrine": "x"}],
    [{"rule": "A"}],
    [{"rule": "a.b", "doctrine": ""}],
    [{"rule": "a.b", "by": "B"}],
    ("a.b",),
    {},
    {"rule": "a.b"},
    {"verdict": "prohibited"},
    {"verdict": "prohibited", "extra": 1},
    {1: "x"},
]
ODD_VALUES = st.one_of(
    st.sampled_from(ODD_VALUES_LIST),
    st.integers(-3, 3000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(dt.date(1999, 1, 1), dt.date(2030, 12, 31)),
    st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2030, 1, 1)),
    st.text(max_size=6),
    st.lists(st.sampled_from(["a.b", "", " x", 3, None, "prohibited", {"rule": "a.b"}]), max_size=3),
    st.dictionaries(
        st.sampled_from(["rule", "doctrine", "by", "verdict", "extra", 1]),
        st.sampled_from(["a.b", "", " x ", None, 5, "lex superior"]),
        max_size=3,
    ),
)

HEAD_KEYS = ["id", "title", "description", "date", "known_on", "time", "notes", "expect"]
EXPECTATION_KEYS = [
    "verdict",
    "verdict_not",
    "practice",
    "leaning",
    "decided_by",
    "concurring",
    "defeated",
    "sources_include",
    "extra",
]


@st.composite
def mutated(draw: st.DrawFn) -> dict[Any, Any]:
    """A valid scenario document with one to three parts replaced, added or taken out."""
    data = copy.deepcopy(_BASE_DATA[draw(st.integers(0, len(_BASE_DATA) - 1))])
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["head", "expect", "defeated", "fact", "drop", "extra"]))
        value = draw(ODD_VALUES)
        expect = data.get("expect")
        if where == "head":
            data[draw(st.sampled_from(HEAD_KEYS))] = value
        elif where == "expect" and isinstance(expect, dict) and expect:
            action = draw(st.sampled_from(sorted(map(str, expect))))
            entry = expect.get(action)
            if isinstance(entry, dict):
                entry[draw(st.sampled_from(EXPECTATION_KEYS))] = value
            else:
                expect[action] = value
        elif where == "defeated" and isinstance(expect, dict) and expect:
            action = draw(st.sampled_from(sorted(map(str, expect))))
            entry = expect.get(action)
            if isinstance(entry, dict):
                defeated = entry.setdefault("defeated", [])
                if isinstance(defeated, list):
                    defeated.append(value)
        elif where == "fact":
            group = draw(st.sampled_from(["person", "place", "immigration", "custody", "agency"]))
            if isinstance(data.get(group), dict) and data[group]:
                data[group][draw(st.sampled_from(sorted(data[group], key=str)))] = value
            else:
                data[group] = value
        elif where == "drop":
            keys = sorted(map(str, data))
            data.pop(draw(st.sampled_from(keys)), None)
        else:
            data[draw(st.sampled_from(["expect", "unknown", "Id", "verdict", 7]))] = value
    return data


_BASE_DATA = [load_yaml(p, display=p.name).data for p in BASES]


def test_the_mutation_bases_are_taken(rulebase):
    for data in _BASE_DATA:
        assert accept_scenario(Document("base.yaml", data), rulebase.vocabulary, rulebase.registry) is not None


def test_every_odd_value_in_every_head_and_expectation_key_gives_the_same_answer(rulebase):
    """Each head key, each key of an expectation and each part of a defeat, given every odd value."""
    base = _BASE_DATA[0]
    action = next(iter(base["expect"]))
    taken = 0
    for value in ODD_VALUES_LIST:
        for key in [*HEAD_KEYS, "Title", 3]:
            data = copy.deepcopy(base)
            data[key] = copy.deepcopy(value)
            taken += agree(Document("head.yaml", data), rulebase) is not None
        for key in EXPECTATION_KEYS:
            data = copy.deepcopy(base)
            data["expect"][action][key] = copy.deepcopy(value)
            taken += agree(Document("expect.yaml", data), rulebase) is not None
        for key in ("rule", "doctrine", "by", "extra"):
            data = copy.deepcopy(base)
            data["expect"][action]["defeated"] = [{"rule": "fed.detainer.hold-request", key: copy.deepcopy(value)}]
            taken += agree(Document("defeat.yaml", data), rulebase) is not None
        for whole in (value, [value]):
            data = copy.deepcopy(base)
            data["expect"][action]["defeated"] = copy.deepcopy(whole)
            agree(Document("defeated.yaml", data), rulebase)
            data = copy.deepcopy(base)
            data["expect"] = {action: copy.deepcopy(whole)} if not isinstance(whole, list) else whole
            agree(Document("expect.yaml", data), rulebase)
    assert taken > 50  # the comparison is not vacuous: many odd values are valid and taken


@given(mutated())
def test_mutated_documents_give_the_same_answer(rulebase, data):
    agree(Document("mutated.yaml", data), rulebase)


@given(
    key=st.sampled_from(["title", "description", "notes"]),
    text=st.text(alphabet=st.sampled_from(" \t\n\x0b\x0c\r\x1c\x1f\x85\u00a0\u2028\u3000\ufeffab"), max_size=5),
)
def test_whitespace_at_the_edges_of_text_is_stripped_alike(rulebase, key, text):
    data = copy.deepcopy(_BASE_DATA[0])
    data[key] = text
    agree(Document("text.yaml", data), rulebase)


# ------------------------------------------------------------ no pydantic in a run


@pytest.mark.parametrize("scenario", ["hennepin-jail-detainer-no-warrant.yaml", "doc-release-detainer-no-warrant.yaml"])
def test_a_warm_run_of_a_bundled_scenario_imports_no_pydantic(tmp_path, scenario):
    """The command line, in a fresh process with the rulebase cache warm, never imports pydantic."""
    path = bundled.scenarios_dir() / scenario
    code = (
        "import sys\n"
        "from policyengine.cli import main  # the entry point's own exit would end the process first\n"
        f"sys.argv = ['policyengine', 'run', {str(path)!r}]\n"
        "status = main()\n"
        "print('pydantic' in sys.modules, 'pydantic_core' in sys.modules, status, file=sys.stderr)\n"
    )
    env = {**os.environ, "POLICYENGINE_CACHE_DIR": str(tmp_path / "cache"), "POLICYENGINE_CACHE": "1"}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert first.stderr.strip().splitlines()[-1] == "True True 0"  # a cold cache checks the rules with pydantic
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert warm.stderr.strip().splitlines()[-1] == "False False 0"
    assert warm.stdout == first.stdout and "hold_beyond_release" in warm.stdout


def test_a_bad_scenario_still_gets_the_models_message(tmp_path, rulebase):
    """Declined by the acceptor, a bad head is refused by the pydantic path with its own words."""
    text = (ROOT / "scenarios" / "hennepin-jail-detainer-no-warrant.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("\ntitle:", "\ntime: '25:00'\ntitle:", 1))
    doc = load_yaml(bad, display="bad.yaml")
    assert accept_scenario(doc, rulebase.vocabulary, rulebase.registry) is None
    with pytest.raises(InputError) as err:
        check_scenario(doc, rulebase.vocabulary, rulebase.registry)
    assert "time: String should match pattern" in str(err.value.problems[0])
