"""The command table: a bare call lists the commands, each command's module loads only when it runs."""

from __future__ import annotations

import subprocess
import sys

from policyengine.cli import COMMANDS, build_parser, main


def test_bare_call_lists_every_command_with_its_line_of_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        line = next(line for line in out.splitlines() if line.split()[:1] == [command.name])
        assert command.help in line
    assert "--version" in out


def test_every_table_entry_registers_the_command_it_names():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == [c.name for c in COMMANDS]
    for name, p in sub.choices.items():
        assert p.prog == f"policyengine {name}"
        assert any(a.option_strings == ["-h", "--help"] for a in p._actions), f"{name} has its own options"


def test_a_misspelt_command_is_an_error_with_a_suggestion(capsys):
    assert main(["rnu", "x.yaml"]) == 2
    assert "unknown command 'rnu' (did you mean 'run'?)" in capsys.readouterr().err


def _modules_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\nfrom policyengine.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(' '.join(m for m in sys.modules if m.startswith('policyengine')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.splitlines()[-1].split())


def test_version_imports_no_command_and_a_command_imports_only_its_own():
    assert _modules_after(["--version"]) == {"policyengine", "policyengine.cli"}
    loaded = _modules_after(["rules", "--jurisdiction", "federal"])
    assert "policyengine.cli.rules" in loaded
    assert not {"policyengine.cli.run", "policyengine.cli.test", "policyengine.cli.check"} & loaded
    assert "durable" not in " ".join(loaded)


def test_completion_scripts_name_every_command_and_option(capsys):
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    subcommands = next(line for line in script.splitlines() if line.startswith("_shtab_policyengine_subparsers="))
    assert subcommands == "_shtab_policyengine_subparsers=(" + " ".join(c.name for c in COMMANDS) + ")"
    assert "_shtab_policyengine_run_option_strings=(" in script and "--county" in script and "--as-of" in script
    assert "_shtab_policyengine_run___rules_COMPGEN=_shtab_compgen_dirs" in script
    assert main(["completion", "zsh"]) == 0
    assert "#compdef policyengine" in capsys.readouterr().out
