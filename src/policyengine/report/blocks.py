"""A tiny document model (headings, paragraphs, lists, quoted sources) rendered to Markdown or HTML.

Memos and the rule book are built once as blocks, so both formats say exactly the same.
Inline text may use `code` and **bold**; everything else is escaped in HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeAlias


@dataclass
class Heading:
    level: int
    text: str
    anchor: str | None = None  # a stable id for links (a rule's id), in HTML


@dataclass
class Para:
    text: str


@dataclass
class Items:
    """A bullet list; an item may carry nested items."""

    items: Sequence[Item]


# A list item: its text, or its text with nested items under it.
Item: TypeAlias = "str | tuple[str, Items | Sequence[Item]]"
Block: TypeAlias = "Heading | Para | Items | SourceBlock"


@dataclass
class SourceBlock:
    cite: str
    url: str
    quote: str | None = None
    note: str | None = None


@dataclass
class Doc:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


# ----------------------------------------------------------------- Markdown


def _md_items(items: Items | Sequence[Item], depth: int) -> list[str]:
    items = items if isinstance(items, Items) else Items(items)
    out = []
    for item in items.items:
        text, sub = (item, None) if isinstance(item, str) else item
        out.append("  " * depth + f"- {text}")
        if sub is not None:
            out += _md_items(sub, depth + 1)
    return out


def to_markdown(doc: Doc) -> str:
    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Para):
            out += [b.text, ""]
        elif isinstance(b, Items):
            out += [*_md_items(b, 0), ""]
        elif isinstance(b, SourceBlock):
            if b.quote:
                out.append(f"> {b.quote}")
                out.append(">")
                out.append(f"> — {b.cite}, <{b.url}>")
            else:
                out.append(f"{b.cite}, <{b.url}> (no quotation recorded)")
            if b.note:
                out += ["", f"*Note:* {b.note}"]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------- HTML

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = _CODE.sub(r"<code>\1</code>", text)
    return _BOLD.sub(r"<strong>\1</strong>", text)


def _html_items(items: Items | Sequence[Item]) -> list[str]:
    items = items if isinstance(items, Items) else Items(items)
    out = ["<ul>"]
    for item in items.items:
        text, sub = (item, None) if isinstance(item, str) else item
        if sub is None:
            out.append(f"<li>{_inline(text)}</li>")
        else:
            out += [f"<li>{_inline(text)}", *_html_items(sub), "</li>"]
    out.append("</ul>")
    return out


def body_html(doc: Doc) -> str:
    """The document's blocks as HTML, without the page around them (the site wraps it)."""
    out = []
    for b in doc.blocks:
        if isinstance(b, Heading):
            anchor = f' id="{html.escape(b.anchor)}"' if b.anchor else ""
            out.append(f"<h{b.level}{anchor}>{_inline(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f"<p>{_inline(b.text)}</p>")
        elif isinstance(b, Items):
            out += _html_items(b)
        elif isinstance(b, SourceBlock):
            link = f'<a href="{html.escape(b.url)}">{html.escape(b.cite)}</a>'
            if b.quote:
                out.append(f"<blockquote><p>{html.escape(b.quote)}</p><footer>— {link}</footer></blockquote>")
            else:
                out.append(f"<p>{link} (no quotation recorded)</p>")
            if b.note:
                out.append(f"<p><em>Note:</em> {_inline(b.note)}</p>")
    return "\n".join(out) + "\n"


def split_intro(doc: Doc) -> tuple[Doc, Doc]:
    """(the blocks before the first level-2 heading, the rest): where a table of contents goes."""
    first = next((i for i, b in enumerate(doc.blocks) if isinstance(b, Heading) and b.level == 2), len(doc.blocks))
    return Doc(doc.title, doc.blocks[:first]), Doc(doc.title, doc.blocks[first:])


def toc_html(doc: Doc, href: str = "#{anchor}") -> str:
    """A table of contents of the anchored level-2 and level-3 headings, nested."""
    out = ['<nav class="toc" aria-label="Contents"><ul>']
    open_sub = False
    for b in doc.blocks:
        if not isinstance(b, Heading) or not b.anchor or b.level not in (2, 3):
            continue
        link = f'<a href="{html.escape(href.format(anchor=b.anchor))}">{_inline(b.text)}</a>'
        if b.level == 2:
            if open_sub:
                out.append("</ul></li>")
            out.append(f"<li>{link}<ul>")
            open_sub = True
        else:
            out.append(f"<li>{link}</li>")
    if open_sub:
        out.append("</ul></li>")
    out.append("</ul></nav>")
    return "\n".join(out) + "\n"


_PRINT = (
    "@media print{body{margin:0;max-width:none}a{color:inherit;text-decoration:none}"
    "blockquote,li{break-inside:avoid}h2,h3{break-after:avoid}.toc{display:none}}"
)


def to_html(doc: Doc, toc: bool = False) -> str:
    """A standalone page: viewport, print styles, the draft banner, optional contents."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(doc.title)}</title>",
        "<style>body{font-family:Georgia,serif;max-width:46em;margin:2em auto;padding:0 1em;line-height:1.45}"
        "blockquote{border-left:3px solid #999;margin-left:0;padding-left:1em}code{font-size:90%}"
        ".banner{border:2px solid #b8860b;background:#fff3cd;padding:.4em .8em}" + _PRINT + "</style>",
        "</head>",
        "<body>",
        '<p class="banner" role="note"><strong>Draft, unreviewed; not legal advice.</strong></p>',
        "<main>",
    ]
    intro, rest = split_intro(doc) if toc else (Doc(doc.title), doc)
    out += [body_html(intro)] if intro.blocks else []
    if toc:
        out.append(toc_html(doc))
    out += [body_html(rest), "</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


RENDER = {"markdown": to_markdown, "html": to_html}
