"""Slack's &, < and > are escaped on the way out and unescaped on the way in by one helper."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import blocks
from bot.slack_text import escape, unescape
from devkit.transcript import mrkdwn_to_text


@given(st.text())
def test_what_is_typed_comes_back_as_typed_after_escaping(typed: str) -> None:
    escaped = escape(typed)
    assert "<" not in escaped and ">" not in escaped
    assert unescape(escaped) == typed


@pytest.mark.parametrize(
    ("sent", "typed"),
    [
        ("Health &amp; social care &lt;3", "Health & social care <3"),
        ("a &gt; b", "a > b"),
        ("&amp;lt;", "&lt;"),  # someone typed the escape itself
        ("no escapes", "no escapes"),
    ],
)
def test_unescape_reads_message_text_as_slack_sends_it(sent: str, typed: str) -> None:
    assert unescape(sent) == typed


def test_the_renderer_and_the_transcript_use_the_same_helper() -> None:
    assert blocks.escape is escape
    assert mrkdwn_to_text("R&amp;D &lt;team&gt;") == "R&D <team>"
