"""Slack's three control characters in message text: `&`, `<` and `>`.

Slack sends them escaped in what people type and reads them as markup in what we send, so
typed text is escaped on the way out and unescaped on the way in, here and nowhere else.
"""

from __future__ import annotations


def escape(text: str) -> str:
    """Slack's three control characters, so typed text shows as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """What the person typed, from message text Slack sent with &, < and > escaped.

    `&amp;` goes last, so a typed "&lt;" (sent as "&amp;lt;") comes back as "&lt;"."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
