import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mnist_dash.text import excerpt, md, plotly

J = "\u2060"  # the word joiner md() puts where Streamlit would otherwise find a link, an emoji or an icon


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("notebook-2-hidden", r"notebook\-2\-hidden"),
        ("![](https://example.invalid/t.png)", rf"\!\[\]\(https\:{J}\/\/example\.invalid\/t\.png\)"),
        ("[Log in again](https://example.invalid)", rf"\[Log in again\]\(https\:{J}\/\/example\.invalid\)"),
        ('<a href="x">y</a>', r"\<a href\=\"x\"\>y\<\/a\>"),
        (":red[x]", rf"\:{J}red\[x\]"),
        (":material/home:", rf"\:{J}material\/home\:"),
        (":smile: :streamlit:", rf"\:{J}smile\: \:{J}streamlit\:"),
        ("$x$ and $$y$$", r"\$x\$ and \$\$y\$\$"),
        ("**b** _i_ ~s~", r"\*\*b\*\* \_i\_ \~s\~"),
        ("`code`", r"\`code\`"),
        ("a | b", r"a \| b"),
        ("# 1. > - +", r"\# 1\. \> \- \+"),
        ("&amp; back\\slash", r"\&amp\; back\\slash"),
        ("line\nbreak\r\nand\ttab", "line break  and tab"),
        ("www.example.com", rf"www{J}\.example\.com"),
        ("me@example.com", rf"me\@{J}example\.com"),
        ("Zoë 🔢", "Zoë 🔢"),
    ],
)
def test_md_known_answers(raw, escaped):
    assert md(raw) == escaped


def unescape(text: str) -> str:
    """What CommonMark shows for md()'s output: escapes undone, the invisible joiner dropped."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in string.punctuation:
            i += 1
        out.append(text[i])
        i += 1
    return "".join(out).replace(J, "")


@given(st.text())
@example("a\u2060b: a joiner of the text's own")
def test_md_leaves_no_ascii_punctuation_unescaped_and_reads_back(raw):
    escaped = md(raw)
    i = 0
    while i < len(escaped):
        if escaped[i] == "\\":
            assert i + 1 < len(escaped) and escaped[i + 1] in string.punctuation, (raw, escaped)
            i += 2
        else:
            assert escaped[i] not in string.punctuation, (raw, escaped)
            i += 1
    assert not any(c in escaped for c in "\n\r\t\u2028")
    single_line = "".join(" " if c in "\n\r\t\v\f\x1c\x1d\x1e\x85\u2028\u2029" else c for c in raw)
    # `unescape` drops every joiner, the text's own too (invisible either way; Hypothesis once drew "\u2060")
    assert unescape(escaped) == single_line.replace(J, "")


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ('<a href="https://example.invalid">x</a>', '&lt;a href="https://example.invalid"&gt;x&lt;/a&gt;'),
        ("<b>bold</b><br>", "&lt;b&gt;bold&lt;/b&gt;&lt;br&gt;"),
        ("&lt; &amp;", "&amp;lt; &amp;amp;"),
        ("$x^2$", "&#36;x^2&#36;"),
        ("two\nlines", "two lines"),
        ("notebook-2-hidden (edited) · it's", "notebook-2-hidden (edited) · it's"),
    ],
)
def test_plotly_known_answers(raw, escaped):
    assert plotly(raw) == escaped


@given(st.text())
def test_plotly_leaves_no_tag_and_no_line_break(raw):
    escaped = plotly(raw)
    assert "<" not in escaped and ">" not in escaped and "$" not in escaped and "\n" not in escaped


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("short", "short"),
        ("x" * 40, "x" * 40),
        ("x" * 41, "x" * 39 + "…"),
        ("a\n\tb  c", "a b c"),
        ("bell\x07\ud800", "bell\N{REPLACEMENT CHARACTER}\N{REPLACEMENT CHARACTER}"),
        (" " * 500 + "late", "late"),
        ("a" + " " * 500 + "b", "a…"),
    ],
)
def test_excerpt_known_answers(raw, shown):
    assert excerpt(raw) == shown


@given(st.text(), st.integers(1, 80))
def test_excerpt_is_short_and_single_line(raw, limit):
    shown = excerpt(raw, limit)
    assert len(shown) <= limit and shown.isprintable()


def test_excerpt_of_a_huge_value_is_as_short():
    assert excerpt("y" * 10_000_000) == "y" * 39 + "…"
