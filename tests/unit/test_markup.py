"""The one sanitizing path: Markdown → HTML → bleach allowlist."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from forum.text.markup import (
    ALLOWED_TAGS,
    excerpt,
    html_to_text,
    json_ld,
    quote_markdown,
    render_markdown,
)


def test_markdown_renders_common_formatting():
    html = render_markdown("**bold** *it* ~~gone~~\n\n> quoted\n\n* a\n* b\n\n`code`")
    for fragment in (
        "<strong>bold</strong>",
        "<em>it</em>",
        "<s>gone</s>",
        "<blockquote>",
        "<li>a</li>",
        "<code>code</code>",
    ):
        assert fragment in html


def parse_elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "![x](javascript:alert(1))",
        "<iframe src=//evil.example></iframe>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<svg><script>alert(1)</script></svg>",
        "<<script>script>alert(1)<</script>/script>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
def test_hostile_markup_never_survives(hostile):
    elements = parse_elements(str(render_markdown(hostile)))
    for tag, attrs in elements:
        assert tag in ALLOWED_TAGS
        for name, value in attrs:
            assert not name.startswith("on") and name != "style"
            if name in ("href", "src"):
                assert (value or "").split(":")[0].lower() in ("http", "https", "mailto") or (
                    value or ""
                ).startswith(("/", "#")), value


def test_raw_html_is_shown_as_text_not_dropped():
    html = render_markdown("I typed <b>this</b> literally")
    assert "&lt;b&gt;this&lt;/b&gt;" in html


def test_links_get_nofollow_ugc_noopener_and_bare_urls_are_linked():
    html = render_markdown("See https://example.org/page and [this](http://example.com)")
    assert html.count('rel="nofollow ugc noopener"') == 2
    assert 'href="https://example.org/page"' in html


def test_internal_links_are_left_alone():
    assert "rel=" not in render_markdown("[earlier post](/p/12)")


def test_urls_inside_code_are_not_linked():
    assert "<a" not in render_markdown("`http://example.org`")


def test_plain_text_helpers():
    html = str(render_markdown("Hello **there** & <you>\n\nSecond paragraph"))
    assert html_to_text(html) == "Hello there & <you> Second paragraph"
    assert excerpt(html, 12) == "Hello there…"


def test_json_ld_escapes_markup_characters():
    out = str(json_ld({"text": "</script><b>&"}))
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out)["text"] == "</script><b>&"


def test_quote_markdown_blockquotes_every_line():
    quoted = quote_markdown("ann", "/p/3", "one\n\ntwo")
    assert quoted.startswith("> **[ann wrote](/p/3):**\n")
    assert "> one\n>\n> two" in quoted
