"""The static site: built from one sweep, every internal link resolves, and in a real browser
(Debian's Chromium driven by Playwright) the map has 87 counties, recolours as `matrix` says,
opens a county's page on click, and logs no console errors.

The browser tests never skip in CI (the CI variable set): there a missing browser is a failure.
`python3 dev.py test` installs Chromium when it is missing and it runs as root.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from policyengine.report.map import COLOURS
from policyengine.report.matrix import matrix_data
from policyengine.standard import standard_scenarios
from policyengine.sweep import all_places, sweep
from policyengine.website import build_site

TODAY = dt.date(2026, 2, 10)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def site(rulebase, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(rulebase, out, today=TODAY)
    return out


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])
        if a.get("id"):
            self.ids.add(a["id"])


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_site_has_every_page_and_every_internal_link_resolves(site, rulebase):
    pages = sorted(site.rglob("*.html"))
    assert (site / "index.html").exists() and (site / "matrix.html").exists()
    assert len(list((site / "place").glob("*.html"))) == len(all_places(rulebase))
    assert {p.stem for p in (site / "rules").glob("*.html")} == {r.id for r in rulebase.rules} | {"index"}
    assert len(list((site / "memos").glob("*.html"))) > 50
    parsed = {p: _parse(p) for p in pages}
    checked = 0
    for page, links in parsed.items():
        text = page.read_text(encoding="utf-8")
        assert "Draft, unreviewed; not legal advice." in text and 'name="viewport"' in text, page
        assert "<main" in text and "<nav" in text
        for link in links.links:
            if re.match(r"^(https?:|mailto:)", link):
                continue
            assert not link.startswith("/"), (page, link)  # relative only: works from file://
            target, _, fragment = link.partition("#")
            dest = (page.parent / target).resolve() if target else page
            assert dest.exists(), (page, link)
            if fragment and dest.suffix == ".html":
                assert fragment in parsed[dest].ids, (page, link)
            checked += 1
    assert checked > 1000
    # no network: nothing is loaded from another host
    for page in pages:
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?:', page.read_text(encoding="utf-8")), page


def test_rule_book_has_a_contents_and_an_anchor_per_rule(site, rulebase):
    book = _parse(site / "rules" / "index.html")
    assert {r.id for r in rulebase.rules} <= book.ids
    assert sum(link.startswith("#") for link in book.links) >= len(rulebase.rules)
    css = (site / "style.css").read_text()
    assert "@media print" in css


def test_county_page_has_its_timeline_rules_agreements_and_quoted_sources(site):
    hennepin = (site / "place" / "27053.html").read_text(encoding="utf-8")
    assert "2014-06-11" in hennepin and "2021-06-09" in hennepin
    assert "Administrative Directive 21-02" in hennepin and "<blockquote>" in hennepin
    assert 'href="../rules/mn.county.hennepin.no-detainer-hold.html"' in hennepin
    freeborn = (site / "place" / "27047.html").read_text(encoding="utf-8")
    assert "287(g) agreement" in freeborn and "ICE jail-bed contract" in freeborn
    aitkin = (site / "place" / "27001.html").read_text(encoding="utf-8")
    assert "No source records a policy of its own" in aitkin


# ------------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def browser_page():
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        if os.environ.get("CI"):
            pytest.fail(f"playwright is not installed: {exc}")
        pytest.skip("playwright is not installed")
    if not Path(chromium).exists():
        message = "Chromium is not installed (python3 dev.py test installs it when run as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    profile = tempfile.mkdtemp(prefix="pe-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1200, "height": 900},
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        page.errors = errors  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def _fills(page) -> dict[str, tuple[str, str, str]]:
    script = "els => Object.fromEntries(els.map(e => [e.dataset.fips, [e.getAttribute('fill'), e.dataset.verdict, "
    script += "e.dataset.practice]]))"
    return page.eval_on_selector_all("#map path.county", script)


def test_map_has_87_county_shapes(site, browser_page):
    browser_page.goto((site / "index.html").as_uri())
    assert browser_page.locator("#map path.county").count() == 87
    assert browser_page.locator(".banner").is_visible()


@pytest.mark.parametrize(
    ("action", "day", "by"),
    [("hold_beyond_release", "2012-01-01", "practice"), ("notify_release", "2017-02-03", "practice"),
     ("hold_beyond_release", "2019-09-23", "verdict"), ("operate_287g", "2025-12-12", "verdict")],
)  # fmt: skip
def test_choosing_an_action_and_a_date_recolours_the_map_as_the_matrix_says(
    site, browser_page, rulebase, action, day, by
):
    browser_page.goto((site / "index.html").as_uri())
    browser_page.select_option("#action", action)
    browser_page.select_option("#by", by)
    browser_page.select_option("#date", label=day)
    fills = _fills(browser_page)
    scenario = standard_scenarios(rulebase)[0]
    date = dt.date.fromisoformat(day)
    matrix = matrix_data(sweep(rulebase, [scenario], all_places(rulebase), [date]), scenario.id, date, [action])
    expected = {r["fips"]: r["cells"][action] for r in matrix["rows"] if r["kind"] == "county"}
    assert len(fills) == 87 == len(expected)
    for fips, (fill, verdict, practice) in fills.items():
        cell = expected[fips]
        assert (verdict, practice) == (cell["verdict"], cell["practice"]), fips
        assert fill == COLOURS[by][cell[by]], fips
    assert day in browser_page.locator("#map-status").inner_text()


def test_clicking_a_county_opens_its_page(site, browser_page):
    browser_page.goto((site / "index.html").as_uri())
    browser_page.click("#c27053")
    browser_page.wait_for_url("**/place/27053.html")
    assert browser_page.locator("h1").inner_text() == "Hennepin County"


def test_no_console_errors(site, browser_page):
    browser_page.errors.clear()
    for rel in ["index.html", "matrix.html", "counties.html", "place/27053.html", "place/doc.html",
                "rules/index.html", "rules/mn.state.no-detainer-hold.html", "memos/index.html"]:  # fmt: skip
        browser_page.goto((site / rel).as_uri())
        browser_page.wait_for_load_state("load")
    browser_page.goto((site / "index.html").as_uri())
    browser_page.click("#next") if browser_page.locator("#next").is_enabled() else browser_page.click("#prev")
    assert browser_page.errors == []
