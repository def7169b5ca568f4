"""User-given strings shown as text: escaped for Streamlit markdown and for Plotly labels.

A design name, an owner's name, a link's value or an upload's name is text, never markup:
`[Log in again](https://example.invalid)` must read as those characters, not become a
link. Pages escape a user string where it meets markdown (`md`) or a Plotly figure
(`plotly`); a bad value echoed in a message is cut to a short `excerpt` first.
"""

from __future__ import annotations

import html
import re
import string

# Every line break Python knows, tabs too: a name stays on one line.
_LINE_BREAKS = "\n\r\t\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_MD_ESCAPES = {ord(c): "\\" + c for c in string.punctuation} | {ord(c): " " for c in _LINE_BREAKS}
# Some of Streamlit's markdown works on the text after escapes are undone: GFM's literal
# autolinks (https://..., www., name@host) and the `:shortcode:` emoji, `:streamlit:` logo
# and `:material_icon:` replacements. An invisible word joiner after the `:` or `@` (and
# before www's dot) breaks those patterns, and nothing shows (checked in Chromium against
# Streamlit 1.67). Its typographic arrows (`->` as →) are left: they change no meaning.
_JOINER = "\u2060"
_TEXT_PATTERNS = re.compile(r"(\\[:@])(?=\S)|(?<=[wW]{3})(?=\\\.)")
_PLOTLY_ESCAPES = {ord("$"): "&#36;"} | {ord(c): " " for c in _LINE_BREAKS}


def md(text: str) -> str:
    """`text` as Streamlit markdown that renders literally (st.markdown, captions, alerts, labels).

    Every ASCII punctuation character is backslash-escaped (CommonMark allows it for all of
    them), which also disarms Streamlit's `:color[...]`, `:material/...:`, `$` LaTeX, tables'
    `|` and HTML's `<`; line breaks become spaces. Not for plain-text places (select box
    options, dataframes, st.code, st.text), where the backslashes would show.
    """
    escaped = str(text).translate(_MD_ESCAPES)
    return _TEXT_PATTERNS.sub(lambda match: (match.group(1) or "") + _JOINER, escaped)


def plotly(text: str) -> str:
    """`text` for a Plotly legend name, title, annotation, axis label or hover text.

    Plotly reads a subset of HTML there (`<a href>`, `<b>`, `<br>`, entities) and LaTeX
    between `$`s. `&`, `<` and `>` become entities; quotes stay as they are (Plotly decodes
    only a few named entities, not `&quot;`, and quotes outside a tag mean nothing to it).
    """
    return html.escape(str(text), quote=False).translate(_PLOTLY_ESCAPES)


def excerpt(text: str, limit: int = 40) -> str:
    """A short, single-line excerpt of `text` for echoing bad input, cut with "…" past `limit` characters.

    Not escaped: escape it for where it is shown (`md`, `plotly`). Runs of whitespace become one
    space and unprintable characters "�", so the excerpt is readable wherever it appears.
    """
    raw = str(text).lstrip()
    head = " ".join(raw[: 4 * limit].split())  # a 10 MB value costs no more than a short one
    head = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in head)
    if len(head) <= limit and len(raw) <= 4 * limit:
        return head
    return head[: limit - 1] + "…"


def count(number: int, noun: str) -> str:
    """`1 epoch`, `2 epochs`: a number with its noun, singular for one."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def duration(seconds: float) -> str:
    """`45 s`, `2 min 05 s`: a wait or a time left, as people say it."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
