"""``core.escapes``: Markdown text and fences that a value cannot break, hidden characters shown."""

from __future__ import annotations

import re

import pytest

from reconciler.core import escapes

RLO, ZWSP, ZWJ, LRI, BOM, NUL = "\u202e", "\u200b", "\u200d", "\u2066", "\ufeff", "\x00"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        pytest.param(f"admin{RLO}txt.exe", "admin<U+202E>txt.exe", id="rtl-override"),
        pytest.param(f"a{ZWSP}b{ZWJ}c", "a<U+200B>b<U+200D>c", id="zero-width"),
        pytest.param(f"{LRI}x{BOM}", "<U+2066>x<U+FEFF>", id="isolate-and-bom"),
        pytest.param(f"a{NUL}b", "a<U+0000>b", id="control"),
        pytest.param("line\n\tindented", "line\n\tindented", id="newline-and-tab-kept"),
        pytest.param("naïve ünïcode", "naïve ünïcode", id="letters-kept"),
    ],
)
def test_visible(raw: str, shown: str) -> None:
    assert escapes.visible(raw) == shown


UNESCAPED_MARKUP = re.compile(r"(?<!\\)[`*_\[\]()|#!~]|[<>\n]")


@pytest.mark.parametrize(
    "raw", ["a | b", "<img src=x onerror=alert(1)>", "[click](https://evil.example)", "**bold**", "`code`",
            "two\nlines", "# heading", "~~gone~~", f"x{RLO}y"],
)
def test_markdown_text_has_no_markup_of_its_own(raw: str) -> None:
    shown = escapes.markdown(raw)
    assert UNESCAPED_MARKUP.search(shown) is None and RLO not in shown


@pytest.mark.parametrize("body", ["plain", "a ``` b", "````\n`````", "`" * 12, "x\n```\ny"])
def test_no_backtick_run_inside_closes_the_fence(body: str) -> None:
    block = escapes.fence(body, info="diff")
    marker = re.match(r"`+", block)
    assert marker is not None and len(marker.group()) >= 3
    inner = block[len(marker.group()) + len("diff\n"):-len(marker.group()) - 1]
    assert inner == body and max((len(r) for r in re.findall("`+", inner)), default=0) < len(marker.group())


def test_a_fence_shows_hidden_characters() -> None:
    assert escapes.fence(f"-a: {RLO}x", info="diff") == "```diff\n-a: <U+202E>x\n```"
