"""Markdown descriptions: normal Markdown renders; raw HTML, scripts, event attributes and
script links come out inert (an HTML parser over the output finds nothing executable)."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from forecasts.markdown import TAGS, to_html

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<svg onload=alert(1)>',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '![x" onerror="alert(1)](https://example.org/a.png)',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "<iframe src=https://evil.example></iframe>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<!-- <script>alert(1)</script> -->",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "*<b onmouseover=alert(1)>hover</b>*",
]


class Elements(HTMLParser):
    """Every element and attribute in a fragment, as a browser's parser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_come_out_inert(payload):
    html = to_html(payload)
    for tag, attrs in elements(html):
        assert tag in TAGS, (tag, html)
        assert not any(name.startswith("on") or name == "style" for name in attrs), html
        href = attrs.get("href")
        if href is not None:
            assert href.split(":", 1)[0].lower() in ("http", "https", "mailto"), html
    # No script text survives as markup: "<script" only appears escaped.
    assert "<script" not in html.lower() and "<img" not in html.lower(), html


def test_script_text_is_shown_as_text():
    html = to_html("Before <script>alert(1)</script> after")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert elements(html) == [("p", {})]


def test_entities_stay_text():
    html = to_html("&lt;b&gt;bold?&lt;/b&gt; AT&amp;T")
    assert elements(html) == [("p", {})]
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html and "AT&amp;T" in html


def test_normal_markdown_renders():
    text = ("# Criteria\n\nResolves **yes** if *any* of:\n\n- a strike\n- a raid\n\n"
            "1. first\n2. second\n\n> quoted\n\nSee [the report](https://example.org/r?a=1&b=2) "
            "or mail <mailto:desk@example.org>.\n\n`code`\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    html = to_html(text)
    tags = [t for t, _ in elements(html)]
    for tag in ("h3", "strong", "em", "ul", "li", "ol", "blockquote", "a", "code", "hr",
                "table", "thead", "tbody", "tr", "th", "td"):
        assert tag in tags, (tag, html)
    links = [a for t, a in elements(html) if t == "a"]
    assert links[0]["href"] == "https://example.org/r?a=1&b=2"
    assert all(a["rel"] == "nofollow noopener noreferrer" for a in links)
    assert links[1]["href"] == "mailto:desk@example.org"


def test_headings_are_shifted_below_the_page_headings():
    tags = [t for t, _ in elements(to_html("# one\n\n## two\n\n###### six"))]
    assert tags == ["h3", "h4", "h6"]


def test_images_become_their_alt_text():
    html = to_html("![a chart](https://example.org/c.png) here")
    assert elements(html) == [("p", {})] and "a chart here" in html


def test_empty():
    assert to_html("") == "" and to_html(None) == ""


def test_quotes_in_text_are_escaped_like_the_rest_of_the_page():
    html = to_html('Say "hi" " onmouseover="alert(1)')
    assert html == "<p>Say &quot;hi&quot; &quot; onmouseover=&quot;alert(1)</p>\n"
