"""Terminal tables: rich and fitted to the terminal in a terminal, plain when piped or NO_COLOR."""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from policyengine.cli import main
from policyengine.report import terminal
from policyengine.report.table import _basis, render_table
from tests.conftest import ROOT

HENNEPIN = ROOT / "scenarios" / "hennepin-jail-detainer-no-warrant.yaml"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rich_only_in_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert terminal.rich_enabled(Tty()) is True
    assert terminal.rich_enabled(io.StringIO()) is False  # piped or redirected
    monkeypatch.setenv("NO_COLOR", "1")
    assert terminal.rich_enabled(Tty()) is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert terminal.rich_enabled(Tty()) is False


def test_piped_width_is_columns_or_80(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert terminal.width(io.StringIO()) == 80
    monkeypatch.setenv("COLUMNS", "132")
    assert terminal.width(io.StringIO()) == 132


@pytest.fixture(scope="module")
def result():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["run", "--format", "json", str(HENNEPIN)]) == 0
    return json.loads(out.getvalue())


@pytest.mark.parametrize("width", [80, 100, 160])
def test_rich_table_fits_the_width_and_crops_nothing(result, width):
    text = ANSI.sub("", render_table([result], rich=True, width=width))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    rows = [line for line in lines if line.startswith("│")]
    assert rows and all(line.rstrip().endswith("│") for line in rows)
    columns = ["", "", "", ""]
    for line in rows:
        for i, cell in enumerate(line.split("│")[1:5]):
            columns[i] += re.sub(r"\s", "", cell)
    for d in result["decisions"]:
        assert d["action"] in columns[0] and d["verdict"] in columns[1] and d["practice"] in columns[2]
        for line in _basis(d):  # the plain table's words, cropped nowhere
            assert re.sub(r"\s", "", line) in columns[3]


def test_narrow_or_piped_output_is_plain_text(result, capsys):
    narrow = render_table([result], rich=True, width=60)
    assert not ANSI.search(narrow) and max(len(line) for line in narrow.splitlines()) <= 60
    assert main(["run", str(HENNEPIN)]) == 0
    piped = capsys.readouterr().out
    assert not ANSI.search(piped) and "│" not in piped
