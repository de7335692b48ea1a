"""Stage 6: precedence, tested on small rulebases written for each doctrine."""

import datetime as dt
import json
import shutil

from policyengine import bundled
from policyengine.checked import Scenario, ScenarioHead
from policyengine.cli import main
from policyengine.engine import ReferenceEngine, get_engine
from policyengine.pipeline import evaluate, load_rulebase

SOURCE = '[{cite: "Test source", url: "https://example.org/s", authority: statute}]'


def rule(
    rid,
    then,
    *,
    kind="law",
    binds="[county_jail, doc]",
    when=None,
    since="2000-01-01",
    until=None,
    overrides=None,
    notes=None,
    declared=None,
    source=SOURCE,
):
    lines = [f"  - id: {rid}", f"    title: {rid}", f"    kind: {kind}", f"    binds: {binds}"]
    lines.append(f"    in_force: {{from: {since}" + (f", until: {until}" if until else "") + "}")
    if when:
        lines.append(f"    when: {when}")
    if overrides:
        lines.append(f"    overrides: {overrides}")
    if declared:
        lines.append(f"    declared: {declared}")
    if notes:
        lines.append(f"    notes: {notes}")
    lines += [f"    then: {then}", f"    sources: {source}", "    review: {status: draft}"]
    return "\n".join(lines) + "\n"


def level_file(level, *rules, county=None):
    head = f"jurisdiction:\n  level: {level}\n" + (f"  county: {county}\n" if county else "")
    return head + "rules:\n" + "".join(rules)


def decide(rules_dir, files, *, county="Aitkin", agency="county_jail", day="2026-01-01", facts=None, engine=None):
    rb = load_rulebase(rules_dir(files))
    stated = {"date": dt.date.fromisoformat(day), "agency": agency, "place.county": county, **(facts or {})}
    head = ScenarioHead(id="t", title="t", date=dt.date.fromisoformat(day))
    ev = evaluate(Scenario(head, stated, "t.yaml"), rb, engine or get_engine())
    return {d.action: d for d in ev.decisions}


def test_nothing_fires_means_not_addressed_and_unknown(rules_dir):
    d = decide(
        rules_dir,
        {
            "f.yaml": level_file(
                "federal", rule("f.a", "{notify_release: permitted}", when="{immigration.detainer: I-247A}")
            )
        },
    )
    assert d["notify_release"].verdict == "not_addressed"
    assert d["notify_release"].practice == "unknown"
    assert d["notify_release"].decided_by == ()


def test_lower_law_narrows_an_unprotected_higher_permission(rules_dir):
    files = {
        "f.yaml": level_file("federal", rule("f.permit", "{hold_beyond_release: permitted}")),
        "s.yaml": level_file("state", rule("s.forbid", "{hold_beyond_release: prohibited}")),
    }
    d = decide(rules_dir, files)["hold_beyond_release"]
    assert d.verdict == "prohibited"
    assert d.decided_by == ("s.forbid",)
    assert [(x.rule, x.by, x.doctrine) for x in d.defeated] == [("f.permit", "s.forbid", "narrowed by lower law")]


def test_protected_permission_preempts_lower_prohibition(rules_dir):
    files = {
        "f.yaml": level_file("federal", rule("f.share", "{share_status: {verdict: permitted, protected: true}}")),
        "c.yaml": level_file("county", rule("c.noshare", "{share_status: prohibited}"), county="Aitkin"),
    }
    d = decide(rules_dir, files)["share_status"]
    assert (d.verdict, d.protected, d.decided_by) == ("permitted", True, ("f.share",))
    assert [(x.rule, x.doctrine) for x in d.defeated] == [("c.noshare", "preemption")]


def test_higher_prohibition_binds_lower_levels(rules_dir):
    files = {
        "s.yaml": level_file("state", rule("s.forbid", "{hold_beyond_release: prohibited}")),
        "c.yaml": level_file(
            "county",
            rule("c.allow", "{hold_beyond_release: permitted}"),
            rule("c.agree", "{hold_beyond_release: prohibited}"),
            county="Aitkin",
        ),
    }
    d = decide(rules_dir, files)["hold_beyond_release"]
    assert d.verdict == "prohibited" and d.decided_by == ("s.forbid",)
    assert d.concurring == ("c.agree",)
    assert [(x.rule, x.doctrine) for x in d.defeated] == [("c.allow", "lex superior")]


def test_explicit_override_is_lex_specialis(rules_dir):
    files = {
        "s.yaml": level_file(
            "state",
            rule("s.general", "{notify_release: prohibited}"),
            rule("s.special", "{notify_release: permitted}", overrides="[s.general]"),
        ),
    }
    d = decide(rules_dir, files)["notify_release"]
    assert d.verdict == "permitted" and d.decided_by == ("s.special",)
    assert [(x.rule, x.by, x.doctrine) for x in d.defeated] == [("s.general", "s.special", "lex specialis")]


def test_same_level_disagreement_is_an_unresolved_conflict(rules_dir):
    files = {
        "s.yaml": level_file(
            "state", rule("s.one", "{notify_release: prohibited}"), rule("s.two", "{notify_release: permitted}")
        )
    }
    d = decide(rules_dir, files)["notify_release"]
    assert d.verdict == "conflict"
    assert d.conflict == ("s.one", "s.two")
    assert d.decided_by == ()


def test_rule_not_in_force_or_not_binding_takes_no_part(rules_dir):
    files = {
        "s.yaml": level_file(
            "state",
            rule("s.old", "{notify_release: prohibited}", since="2000-01-01", until="2020-01-01"),
            rule("s.doc-only", "{notify_release: required}", binds="[doc]"),
            rule("s.current", "{notify_release: permitted}", since="2020-01-01"),
        )
    }
    d = decide(rules_dir, files)["notify_release"]
    assert d.verdict == "permitted" and d.decided_by == ("s.current",)
    doctrines = {x.rule: x.doctrine for x in d.defeated}
    assert doctrines == {"s.old": "not in force", "s.doc-only": "does not bind this agency"}
    earlier = decide(rules_dir, files, day="2019-12-31")["notify_release"]
    assert earlier.verdict == "prohibited" and earlier.decided_by == ("s.old",)


def test_contested_higher_law_is_settled_only_toward_its_leaning(rules_dir):
    contested = "{hold_beyond_release: {verdict: contested, leaning: prohibited, question: 'Open?'}}"
    toward = {
        "f.yaml": level_file("federal", rule("f.open", contested)),
        "s.yaml": level_file("state", rule("s.forbid", "{hold_beyond_release: prohibited}")),
    }
    d = decide(rules_dir, toward)["hold_beyond_release"]
    assert d.verdict == "prohibited" and d.decided_by == ("s.forbid",)
    against = {
        "f.yaml": level_file("federal", rule("f.open", contested)),
        "s.yaml": level_file("state", rule("s.allow", "{hold_beyond_release: permitted}")),
    }
    d = decide(rules_dir, against)["hold_beyond_release"]
    assert (d.verdict, d.leaning, d.question) == ("contested", "prohibited", "Open?")
    assert [(x.rule, x.doctrine) for x in d.defeated] == [("s.allow", "lex superior")]


def test_county_rules_bind_only_in_their_county(rules_dir):
    files = {"c.yaml": level_file("county", rule("c.x", "{notify_release: does}", kind="policy"), county="Hennepin")}
    assert decide(rules_dir, files, county="Hennepin")["notify_release"].practice == "does"
    assert decide(rules_dir, files, county="Ramsey")["notify_release"].practice == "unknown"


def test_practice_most_local_level_wins_and_prohibited_practice_is_flagged(rules_dir):
    files = {
        "s.yaml": level_file(
            "state",
            rule("s.forbid", "{hold_beyond_release: prohibited}"),
            rule("s.prac", "{hold_beyond_release: does_not}", kind="practice"),
        ),
        "c.yaml": level_file("county", rule("c.prac", "{hold_beyond_release: does}", kind="practice"), county="Aitkin"),
    }
    d = decide(rules_dir, files)["hold_beyond_release"]
    assert d.practice == "does" and d.practice_by == ("c.prac",)
    assert [(x.rule, x.doctrine) for x in d.practice_defeated] == [("s.prac", "more local practice")]
    assert d.flags == ("practice_prohibited_by_law",)


def test_definitions_are_final_before_rules_test_them(rules_dir):
    """A rule that tests a derived fact as false sees the final value, whatever the order."""
    definition = (
        "  - id: s.basis\n    title: basis\n    kind: definition\n    in_force: {from: 2000-01-01}\n"
        "    when: {custody.new_probable_cause: true}\n    then: {custody.independent_basis: true}\n"
        f"    sources: {SOURCE}\n    review: {{status: draft}}\n"
    )
    # The rule that negates the derived fact is written before the definition on purpose.
    files = {
        "s.yaml": level_file(
            "state", rule("s.forbid", "{hold_beyond_release: prohibited}", when="{custody.independent_basis: false}")
        )
        + definition
    }
    for engine in (get_engine(), ReferenceEngine()):
        with_basis = decide(rules_dir, files, facts={"custody.new_probable_cause": True}, engine=engine)
        assert with_basis["hold_beyond_release"].verdict == "not_addressed", engine.name
        without = decide(rules_dir, files, engine=engine)
        assert without["hold_beyond_release"].verdict == "prohibited", engine.name


def test_conflict_below_an_open_higher_permission(rules_dir):
    files = {
        "f.yaml": level_file("federal", rule("f.permit", "{notify_release: permitted}")),
        "s.yaml": level_file(
            "state", rule("s.one", "{notify_release: prohibited}"), rule("s.two", "{notify_release: required}")
        ),
    }
    d = decide(rules_dir, files)["notify_release"]
    assert (d.verdict, d.decided_by, d.conflict) == ("conflict", (), ("s.one", "s.two"))
    assert [(x.rule, x.doctrine) for x in d.defeated] == [("f.permit", "narrowed by lower law")]


def _two_overriders_of_one_rule():
    return {
        "s.yaml": level_file(
            "state",
            rule("s.general", "{hold_beyond_release: permitted}"),
            rule("s.special-b", "{hold_beyond_release: prohibited}", overrides="[s.general]"),
            rule("s.special-a", "{hold_beyond_release: prohibited}", overrides="[s.general]"),
        )
    }


def test_two_in_force_rules_overriding_one_rule_both_defeat_it(rules_dir):
    # Once a crash: the overriding rules were sorted as objects, which have no order.
    for engine in (None, ReferenceEngine()):
        d = decide(rules_dir, _two_overriders_of_one_rule(), engine=engine)["hold_beyond_release"]
        assert d.verdict == "prohibited"
        assert d.decided_by == ("s.special-a", "s.special-b")
        assert [(x.rule, x.by, x.doctrine) for x in d.defeated] == [
            ("s.general", "s.special-a", "lex specialis"),
            ("s.general", "s.special-b", "lex specialis"),
        ]


def test_check_survives_two_in_force_overrides_of_one_rule(rules_dir, capsys):
    code = main(["check", str(rules_dir(_two_overriders_of_one_rule())), "--format", "json"])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    assert '"rules_checked": 3' in out


def test_extending_an_era_rule_in_a_copy_of_the_bundled_rules_runs(tmp_path, capsys):
    """The lawyer's edit that once crashed `run`: the mandatory-reading era loses its end date."""
    rules = tmp_path / "rules"
    shutil.copytree(bundled.rules_dir(), rules)
    detainers = rules / "federal" / "detainers.yaml"
    text = detainers.read_text()
    assert text.count("      until: 2014-04-11\n") == 1
    detainers.write_text(text.replace("      until: 2014-04-11\n", ""))
    scenario = bundled.scenarios_dir() / "hennepin-jail-detainer-no-warrant.yaml"
    code = main(["run", "--rules", str(rules), "--engine", "reference", "--format", "json", str(scenario)])
    out = capsys.readouterr().out
    assert code in (0, 1)
    hold = next(d for d in json.loads(out)["decisions"] if d["action"] == "hold_beyond_release")
    # Both era rules now override the 48-hour request and both stay in force; the Fourth
    # Amendment rule overrides the era rule (issue 8's rules), and state law narrows the result.
    assert hold["verdict"] == "prohibited"
    defeats = {(d["rule"], d["by"]) for d in hold["defeated"]}
    assert ("fed.detainer.hold-request", "fed.detainer.mandatory-reading-era") in defeats
    assert ("fed.detainer.hold-request", "fed.fourth-amendment.detainer-only-hold") in defeats
    assert ("fed.detainer.mandatory-reading-era", "fed.fourth-amendment.detainer-only-hold") in defeats


SILENT = "No statute of this fixture speaks to it; searched the fixture's code."


def test_a_record_of_silence_alone_decides_not_addressed_and_names_itself(rules_dir):
    files = {"s.yaml": level_file("state", rule("s.silent", "{allow_interview: not_addressed}", notes=SILENT))}
    d = decide(rules_dir, files)["allow_interview"]
    assert d.verdict == "not_addressed"
    assert d.decided_by == ("s.silent",)


def test_any_other_law_verdict_prevails_over_a_record_of_silence(rules_dir):
    files = {
        "f.yaml": level_file("federal", rule("f.permit", "{allow_interview: permitted}")),
        "s.yaml": level_file("state", rule("s.silent", "{allow_interview: not_addressed}", notes=SILENT)),
        "c.yaml": level_file(
            "county", rule("c.silent", "{allow_interview: not_addressed}", notes=SILENT), county="Aitkin"
        ),
    }
    d = decide(rules_dir, files)["allow_interview"]
    assert d.verdict == "permitted"
    assert d.decided_by == ("f.permit",)
    assert [(x.rule, x.by, x.doctrine) for x in d.defeated] == [
        ("c.silent", "f.permit", "the law speaks"),
        ("s.silent", "f.permit", "the law speaks"),
    ]


def test_a_record_of_silence_not_in_force_decides_nothing(rules_dir):
    files = {
        "s.yaml": level_file(
            "state", rule("s.silent", "{allow_interview: not_addressed}", notes=SILENT, since="2030-01-01")
        )
    }
    d = decide(rules_dir, files)["allow_interview"]
    assert d.verdict == "not_addressed"
    assert d.decided_by == ()
    assert [(x.rule, x.doctrine) for x in d.defeated] == [("s.silent", "not in force")]


def test_a_record_of_silence_needs_notes_and_cannot_mix_with_verdicts(rules_dir):
    import pytest

    from policyengine.errors import InputError

    bad = {
        "s.yaml": level_file(
            "state",
            rule("s.bare", "{allow_interview: not_addressed}"),
            rule("s.mixed", "{allow_interview: not_addressed, notify_release: permitted}", notes=SILENT),
        )
    }
    with pytest.raises(InputError) as exc:
        load_rulebase(rules_dir(bad))
    text = str(exc.value)
    assert "record of silence 's.bare' needs notes" in text
    assert "concludes not_addressed for every action it names" in text
