"""The process entry point turns the cyclic garbage collector off only for one-shot commands."""

from __future__ import annotations

import mn_ice_policyengine as entry


def test_one_shot_commands_are_recognised_past_options():
    assert entry._one_shot(["run", "scenarios"])
    assert entry._one_shot(["--no-color", "check"])
    assert entry._one_shot(["explain", "x.yaml"])


def test_long_running_commands_keep_the_collector():
    for argv in (["serve"], ["batch", "in.csv", "--out", "o.csv"], ["test", "--mutations"], [], ["--version"]):
        assert not entry._one_shot(argv)
