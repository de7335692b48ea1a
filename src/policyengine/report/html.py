"""HTML pages from the templates in `policyengine/templates/` (jinja2, autoescaped).

Used by the view commands' `--format html` (a standalone page with its styles inline) and by
the static site (pages that link one stylesheet). jinja2 is imported only when HTML is made.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
BANNER = "Draft, unreviewed; not legal advice."


@cache
def environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["banner"] = BANNER
    return env


def stylesheet() -> str:
    return (TEMPLATES / "style.css").read_text()


def render_page(template: str, standalone: bool = True, root: str = "", **context: Any) -> str:
    """A whole page; `standalone` inlines the stylesheet, otherwise it links `root`style.css."""
    ctx = {"standalone": standalone, "root": root, "css": stylesheet() if standalone else "", **context}
    return environment().get_template(template).render(**ctx)
