"""Markdown for question descriptions and comments, rendered safely.

markdown-it-py (CommonMark, raw HTML disabled) turns the text into HTML, then nh3 (a
whitelist sanitizer) keeps only a small set of tags and attributes: no raw HTML, no
images, no event or style attributes, and links only to http, https and mailto
addresses, each marked rel="nofollow noopener noreferrer". The output needs no script or
style, so it works under the strict CSP.
"""
from __future__ import annotations

from functools import lru_cache
from html import escape
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

TAGS = {"p", "em", "strong", "a", "ul", "ol", "li", "code", "pre", "blockquote",
        "h3", "h4", "h5", "h6", "br", "hr", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"
# The page's own headings are h1 and h2: a description's "# Heading" becomes an h3.
HEADING_SHIFT = 2
LIMIT = 100_000


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "commonmark" with html off: a literal <script> in the text is shown as text.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def to_html(text: str | None) -> str:
    """Sanitised HTML of Markdown `text` (empty for None or empty text)."""
    if not text:
        return ""
    md = _parser()
    tokens = md.parse(text[:LIMIT])
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(6, int(token.tag[1]) + HEADING_SHIFT)
            token.tag = f"h{level}"
        for child in token.children or ():
            if child.type == "image":
                # No images (they would load from anywhere): their alt text stays.
                child.type, child.tag, child.children, child.attrs = "text", "", None, {}
    html = md.renderer.render(tokens, md.options, {})
    clean = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                      link_rel=LINK_REL, url_relative="deny", strip_comments=True,
                      clean_content_tags={"script", "style"})
    return _Requote.serialise(clean)


class _Requote(HTMLParser):
    """Re-serialise sanitised HTML with quotes escaped in text too, as the rest of the page
    escapes them: nh3 leaves a text's `"` bare, which is harmless in a text node but looks
    like an attribute break to anyone (or any checker) reading the page source."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    @classmethod
    def serialise(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        parser.close()
        return "".join(parser.out)

    def handle_starttag(self, tag, attrs):
        self.out.append(f"<{tag}" + "".join(f' {k}="{escape(v or "")}"' for k, v in attrs) + ">")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        self.out.append(escape(data))


def render(text: str | None) -> Markup:
    """The Jinja filter `markdown`: `to_html` marked safe for the template."""
    return Markup(to_html(text))
