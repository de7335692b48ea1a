"""How strong the authority behind a decision is, in Minnesota: derived, never typed by hand.

Each source says what kind of authority it is (`authority`) and who issued it (`body`).
In Minnesota:
- the U.S. Constitution, a statute, a regulation, an ordinance (where it applies), an
  executive order (for the agencies it directs) and a signed agreement (for its parties) bind;
- a published (precedential) opinion binds when it is the U.S. Supreme Court's, the Minnesota
  Supreme Court's or a precedential opinion of the Minnesota Court of Appeals; the Eighth
  Circuit's binds on federal law (a federal rule), while on Minnesota law the Minnesota courts
  have the last word, so for a state or local rule it persuades; any other court's persuades;
- a nonprecedential opinion of the Minnesota Court of Appeals is persuasive only: "Nonprecedential
  opinions and order opinions are not binding authority except as law of the case, res judicata
  or collateral estoppel, but nonprecedential opinions may be cited as persuasive authority"
  (Minn. R. Civ. App. P. 136.01, subd. 1(c)); a trial court's order binds only its parties;
- an Attorney General's opinion, or an agency's written guidance on the law, is advisory;
- an official's public words, a news report or an advocacy publication is reported practice.
A rule is as strong as its strongest source; a decision as its strongest deciding rule.
"""

from __future__ import annotations

from collections.abc import Iterable

from policyengine.checked import Rule, Source

BINDING, PERSUASIVE, ADVISORY, REPORTED = "binding", "persuasive", "advisory", "reported_practice"
STRENGTHS = (BINDING, PERSUASIVE, ADVISORY, REPORTED)  # strongest first
STRENGTH_WORDS = {
    BINDING: "binding in Minnesota",
    PERSUASIVE: "persuasive only: no Minnesota court is bound by it",
    ADVISORY: "advisory: an opinion on the law that binds no court",
    REPORTED: "reported practice: known from officials' words, news reports or advocacy, not from law",
}

ALWAYS = {
    "constitution": BINDING,
    "statute": BINDING,
    "regulation": BINDING,
    "ordinance": BINDING,
    "executive_order": BINDING,
    "agreement": BINDING,
    "nonprecedential_opinion": PERSUASIVE,
    "trial_court_order": PERSUASIVE,
    "attorney_general_opinion": ADVISORY,
    "agency_policy": ADVISORY,
    "official_statement": REPORTED,
    "news_report": REPORTED,
    "advocacy": REPORTED,
}
# Courts whose published opinions bind in Minnesota (matched against the source's `body`).
BINDING_COURTS = (
    "Supreme Court of the United States",
    "U.S. Supreme Court",
    "United States Supreme Court",
    "Minnesota Supreme Court",
    "Minnesota Court of Appeals",
)
FEDERAL_LAW_COURTS = ("U.S. Court of Appeals for the Eighth Circuit",)  # binding on federal questions only
# Only news, advocacy or officials' words: too weak to carry `required` or `prohibited` (PE203).
HEARSAY = ("official_statement", "news_report", "advocacy")


def source_strength(source: Source, level: str = "federal") -> str:
    """The strength in Minnesota of one source, cited for a rule of `level`."""
    if source.authority == "published_opinion":
        body = source.body or ""
        binds = body in BINDING_COURTS or (body in FEDERAL_LAW_COURTS and level == "federal")
        return BINDING if binds else PERSUASIVE
    return ALWAYS[source.authority]


def strongest(strengths: Iterable[str]) -> str | None:
    found = set(strengths)
    return next((s for s in STRENGTHS if s in found), None)


def rule_strength(rule: Rule) -> str:
    """A rule is as strong as its strongest source."""
    return strongest(source_strength(s, rule.level) for s in rule.sources) or REPORTED


def decision_strength(rules: Iterable[Rule]) -> str | None:
    """The strength of a decision: that of its strongest deciding rule (None when nothing decides).

    A record of silence decides nothing: it reports that the sources read say nothing, so it
    lends no strength (its sources, often another jurisdiction's law, would otherwise read as
    "binding" here)."""
    return strongest(rule_strength(r) for r in rules if not r.is_silence)


def rests_only_on_hearsay(rule: Rule) -> bool:
    return all(s.authority in HEARSAY for s in rule.sources)


def disclaimer(rules: Iterable[Rule]) -> str:
    """What every memo and run output says about the rules' standing."""
    rules = list(rules)
    drafts = sum(r.review.status == "draft" for r in rules)
    if drafts == len(rules):
        standing = "Every rule is an unreviewed draft"
    else:
        standing = f"{drafts} of {len(rules)} rules are unreviewed drafts"
    return f"{standing}; no lawyer has approved this answer. This is research, not legal advice."


def declared_in(rule: Rule) -> str:
    """The authority that declared a rule, for "as declared in Esparza v. Nobles County (2019)"."""
    named = next((s for s in rule.sources if s.issued == rule.declared), rule.sources[0])
    year = f" ({rule.declared.year})" if rule.declared else ""
    return named.cite.split(",")[0].strip() + year
