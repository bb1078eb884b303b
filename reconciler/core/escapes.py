"""Escaping: text for Markdown (pull-request comments, drift reports) and for the dashboard, so a
value can neither change the document's structure nor hide what it says.

Three dangers, three functions::

    escapes.markdown("a | b <c>")          # inline text: table pipes, HTML, emphasis, links cannot act
    escapes.fence(diff_text, info="diff")  # a code block whose fence no backtick run inside can close
    escapes.visible("ab\\u202ecd")         # "ab<U+202E>cd": bidi overrides, zero-width and control
                                           # characters shown as their code point (Trojan Source)

``visible`` runs inside ``markdown`` and ``fence`` already; the dashboard applies it to every value it
renders (``web.apps``), before HTML autoescaping. Newlines and tabs are kept; every other character of
Unicode category Cc (control) or Cf (format: the bidi embeddings, overrides and isolates, zero-width
space/joiners, word joiner, BOM, soft hyphen) becomes ``<U+hhhh>``.
"""

from __future__ import annotations

import re
import unicodedata

KEPT = frozenset("\n\t")
_INLINE = re.compile(r"([\\`*_\[\]{}()#+!|~>])")
_BACKTICKS = re.compile(r"`+")


def is_hidden(char: str) -> bool:
    """True for a character that renders invisibly or reorders the text around it."""
    return char not in KEPT and unicodedata.category(char) in ("Cc", "Cf")


def visible(value: str, *, shown_as: str = "<U+{:04X}>") -> str:
    """``value`` with every hidden character replaced by ``<U+hhhh>`` (or ``shown_as`` of its code point)."""
    if not any(is_hidden(c) for c in value):
        return value
    return "".join(shown_as.format(ord(c)) if is_hidden(c) else c for c in value)


def markdown(value: str) -> str:
    """``value`` as inline Markdown text: one line, no markup of its own, hidden characters visible."""
    shown = visible(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _INLINE.sub(r"\\\1", shown.replace("\r", " ").replace("\n", " "))


def fence(body: str, *, info: str = "") -> str:
    """``body`` as a fenced code block: the fence is one backtick longer than any run inside (at least 3)."""
    shown = visible(body)
    longest = max((len(run) for run in _BACKTICKS.findall(shown)), default=0)
    marker = "`" * max(3, longest + 1)
    return f"{marker}{info}\n{shown}\n{marker}"
