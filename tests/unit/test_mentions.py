"""@mentions and quotes are found with the same Markdown parser that renders them."""

from __future__ import annotations

import pytest

from forum.text.markup import render_markdown
from forum.text.mentions import MAX_MENTIONS, find_mentions, find_quoted_posts


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("Thanks @wren_h!", '<p>Thanks <a href="/u/wren_h">@wren_h</a>!</p>'),
        ("(@Marisol.)", '<p>(<a href="/u/Marisol">@Marisol</a>.)</p>'),
        ("write to x@example.org", "<p>write to x@example.org</p>"),
        ("`@code` stays", "<p><code>@code</code> stays</p>"),
        ("@ab is too short", "<p>@ab is too short</p>"),
        ("@bob<script>", '<p><a href="/u/bob">@bob</a>&lt;script&gt;</p>'),
    ],
)
def test_mentions_render_as_member_links_through_the_sanitizer(source, html):
    assert str(render_markdown(source)).strip() == html


def test_no_mention_links_inside_links_or_code_blocks():
    html = str(render_markdown("[@alice](https://example.org)\n\n    @bob in code"))
    assert 'href="/u/' not in html and "@bob in code" in html


def test_find_mentions_skips_quotes_code_and_duplicates():
    source = "> @quoted said\n\nHi @ana and @Ana and @ben_2. `@code`"
    assert find_mentions(source) == ["ana", "ben_2"]
    many = " ".join(f"@member{i:02d}" for i in range(MAX_MENTIONS + 5))
    assert len(find_mentions(many)) == MAX_MENTIONS


def test_find_quoted_posts_only_counts_direct_quotes():
    source = "> **[ana wrote](/p/12):**\n> > [older](/p/9)\n> hi\n\nSee also [this](/p/13)."
    assert find_quoted_posts(source) == [12]
