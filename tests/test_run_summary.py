"""A run of many scenarios ends with one line saying how many expectations were met."""

from __future__ import annotations

from pathlib import Path

from policyengine.cli import main

SCENARIOS = Path(__file__).parent.parent / "scenarios"


def test_a_run_of_the_library_counts_its_expectations(capsys):
    code = main(["run", str(SCENARIOS / "silent"), "--format", "json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 0
    count = len(list((SCENARIOS / "silent").glob("*.yaml")))
    assert count > 1
    last = err[-1]
    assert last.startswith(f"policyengine: {count} scenarios; ")
    met, _, rest = last.split("; ")[1].partition(" of ")
    total = rest.split()[0]
    assert int(met) == int(total) > 0


def test_a_failed_expectation_is_counted(tmp_path, capsys):
    wrong = (SCENARIOS / "doc-release-detainer-no-warrant.yaml").read_text(encoding="utf-8")
    assert "    verdict: prohibited\n" in wrong
    (tmp_path / "a.yaml").write_text(wrong.replace("    verdict: prohibited\n", "    verdict: required\n", 1))
    (tmp_path / "b.yaml").write_text(wrong)
    code = main(["run", str(tmp_path), "--format", "json"])
    err = capsys.readouterr().err
    assert code == 1
    assert "in 2 scenarios" in err
    assert "1 scenario(s) did not meet their expectations" in err
