"""`policyengine explain`: memo golden files, and what the DOC release memo must say.

Regenerate the golden files with `UPDATE_GOLDEN=1 pytest tests/test_lawyer_memo.py`
(see tests/golden/README.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from policyengine.cli import main

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden" / "memo"
DOC_RELEASE = ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml"

# The golden memos fix the date of knowledge (unless the scenario sets its own): the default,
# today, would date them.
KNOWN_ON = "2026-11-29"

CASES = [
    ("doc-release-detainer-no-warrant", "hold_beyond_release", "markdown"),
    ("doc-release-detainer-no-warrant", "hold_beyond_release", "html"),
    ("hennepin-jail-detainer-no-warrant", "notify_release", "markdown"),
    ("jail-2013-detainer-era", "hold_beyond_release", "markdown"),
    ("status-information-request", "share_status", "markdown"),
]


def explain(capsys, scenario: Path, *args: str) -> str:
    code = main(["explain", str(scenario), "--engine", "reference", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


@pytest.mark.parametrize("scenario,action,fmt", CASES, ids=["-".join(c) for c in CASES])
def test_memo_matches_golden(scenario, action, fmt, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = Path("scenarios") / f"{scenario}.yaml"
    known = [] if "known_on:" in path.read_text(encoding="utf-8") else ["--known-on", KNOWN_ON]
    out = explain(capsys, path, "--action", action, "--format", fmt, *known)
    golden = GOLDEN / f"{scenario}.{action}.{'md' if fmt == 'markdown' else 'html'}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")


def test_doc_release_memo_quotes_minnesota_law_and_names_the_federal_request_it_defeated(capsys):
    out = explain(capsys, DOC_RELEASE, "--action", "hold_beyond_release")
    governing = out.split("## Governing rule", 1)[1].split("## Rules that did not decide", 1)[0]
    assert "`mn.state.no-detainer-hold`" in governing
    assert "Esparza v. Nobles County" in governing
    assert "Op. Minn. Att'y Gen." in governing
    assert "> Minnesota law prohibits state and local law enforcement agencies from holding someone" in governing
    defeated = out.split("## Rules that did not decide", 1)[1].split("## Conclusion", 1)[0]
    assert "`fed.detainer.hold-request`" in defeated
    assert "lex specialis" in defeated
    assert "**prohibited**" in out.split("## Answer", 1)[1]


def test_memo_without_action_covers_every_action_the_rules_speak_to(capsys):
    out = explain(capsys, DOC_RELEASE)
    titles = [line for line in out.splitlines() if line.startswith("# Memo: ")]
    assert "# Memo: May the agency hold the person past release for ICE?" in titles
    assert "# Memo: May the agency share the person's citizenship or immigration status with ICE?" in titles
    # Not addressed, but as a finding: the record of silence speaks to it, so it has a memo.
    assert "# Memo: May the jail house ICE detainees under contract?" in titles
    assert "mn.state.silence.ice-detention-contracts" in out


def test_both_engines_write_the_same_memo(capsys):
    from policyengine.engine import durable_available

    if not durable_available():
        pytest.skip("durable_rules does not import on this Python")
    ref = explain(capsys, DOC_RELEASE, "--action", "hold_beyond_release")
    code = main(["explain", str(DOC_RELEASE), "--engine", "durable", "--action", "hold_beyond_release"])
    assert code == 0
    dur = capsys.readouterr().out
    assert dur.replace("durable_rules engine", "reference engine") == ref


def test_unknown_action_is_a_located_error(capsys):
    assert main(["explain", str(DOC_RELEASE), "--action", "hold_forever"]) == 2
    assert "'hold_forever' is not an action in the vocabulary" in capsys.readouterr().err
