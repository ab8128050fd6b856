"""A person's whole journal as a Markdown file."""

from __future__ import annotations

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.blocks.common import (
    _answered,
    local_date,
    long_date,
)
from bot.content import Library
from bot.values import (
    Entry,
)


def export_markdown(library: Library, entries: list[Entry], zone: ZoneInfo, now: datetime) -> str:
    """The person's whole journal as a Markdown file."""
    lines = [
        "# My reflections: Leading Health nudges",
        "",
        f"Exported {local_date(now, zone)} ({zone}). These are your private notes.",
        "",
    ]
    for entry in entries:
        lines.append(
            f"## {local_date(entry.created_at, zone)}" + (" (edited)" if entry.edited else "")
        )
        lines.append("")
        lines.append(f"*{_answered(library, entry.item_id)}*")
        if entry.looks_back_to is not None:
            written = long_date(entry.looks_back_to.astimezone(zone).date())
            lines.append(f"*Looking back at what you wrote on {written}*")
        if entry.question_id:
            with contextlib.suppress(KeyError):  # a question retired from the content
                lines.append(f"*Question: {library.question(entry.question_id).text}*")
        lines.append("")
        lines.append(entry.text)
        lines.append("")
    lines.append("---")
    lines.append(
        f"Content quoted from {library.attribution.framework}, {library.attribution.owner}."
    )
    return "\n".join(lines) + "\n"
