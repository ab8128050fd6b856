"""Block Kit rendered as readable plain text, for the demo transcript."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.slack_text import unescape

JsonDict = dict[str, Any]

DIVIDER = "─" * 40
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]+))?>")


def mrkdwn_to_text(text: str) -> str:
    """Light mrkdwn cleanup: ``<url|label>`` → ``label (url)``, mentions kept readable."""

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#")):
            return label or target
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        if target.startswith("mailto:"):
            target = target.removeprefix("mailto:")
        return f"{label} ({target})" if label and label != target else target

    return unescape(_LINK.sub(replace, text))


def _text(obj: Any) -> str:
    """Plain text of a text object (plain_text or mrkdwn) or a bare string."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return mrkdwn_to_text(obj)
    if isinstance(obj, dict):
        return mrkdwn_to_text(str(obj.get("text", "")))
    return str(obj)


def _element(element: JsonDict) -> str:
    kind = element.get("type")
    if kind == "button":
        label = f"[ {_text(element.get('text'))} ]"
        style = element.get("style")
        return f"{label} ({style})" if style in ("primary", "danger") else label
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("plain_text", "mrkdwn"):
        return _text(element)
    if kind in ("static_select", "external_select", "users_select", "conversations_select"):
        chosen = element.get("initial_option")
        shown = _text(chosen.get("text")) if chosen else _text(element.get("placeholder"))
        return f"[ {shown or 'Choose'} ▾ ]"
    if kind in ("radio_buttons", "checkboxes"):
        mark = "( )" if kind == "radio_buttons" else "[ ]"
        return "  ".join(f"{mark} {_text(o.get('text'))}" for o in element.get("options", []))
    if kind == "overflow":
        return "[ … ]"
    if kind in ("datepicker", "timepicker"):
        return f"[ {element.get('initial_date') or element.get('initial_time') or kind} ]"
    if kind == "plain_text_input":
        return f"[ {element.get('initial_value') or _text(element.get('placeholder')) or '…'} ]"
    return f"[{kind}]"


def _rich_text(elements: Iterable[JsonDict]) -> str:
    parts: list[str] = []
    for element in elements:
        kind = element.get("type")
        if kind == "text":
            parts.append(str(element.get("text", "")))
        elif kind == "link":
            url = str(element.get("url", ""))
            label = element.get("text")
            parts.append(f"{label} ({url})" if label else url)
        elif kind == "emoji":
            parts.append(f":{element.get('name', '')}:")
        elif kind == "user":
            parts.append(f"@{element.get('user_id', '')}")
        elif kind == "channel":
            parts.append(f"#{element.get('channel_id', '')}")
        elif kind == "rich_text_list":
            bullet = "1." if element.get("style") == "ordered" else "•"
            items = [_rich_text(item.get("elements", [])) for item in element.get("elements", [])]
            parts.append("\n".join(f"  {bullet} {item}" for item in items) + "\n")
        elif kind == "rich_text_quote":
            parts.append("> " + _rich_text(element.get("elements", [])) + "\n")
        elif kind == "rich_text_preformatted":
            parts.append("```" + _rich_text(element.get("elements", [])) + "```\n")
        elif "elements" in element:
            parts.append(_rich_text(element["elements"]) + "\n")
    return "".join(parts).rstrip("\n")


def _block(block: JsonDict) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"))
        return [title, "=" * len(title)]
    if kind == "section":
        lines: list[str] = []
        if block.get("text"):
            lines.extend(_text(block["text"]).splitlines() or [""])
        for field in block.get("fields", []):
            lines.append("  " + _text(field))
        if block.get("accessory"):
            lines.append("  " + _element(block["accessory"]))
        return lines
    if kind == "context":
        return ["  ~ " + " · ".join(_element(e) for e in block.get("elements", []))]
    if kind == "divider":
        return [DIVIDER]
    if kind == "actions":
        return ["  ".join(_element(e) for e in block.get("elements", []))]
    if kind == "input":
        label = _text(block.get("label"))
        optional = " (optional)" if block.get("optional") else ""
        element = block.get("element") or {}
        return [f"<{label}{optional}: {_element(element)}>"]
    if kind == "image":
        title = _text(block.get("title"))
        return [f"[image: {block.get('alt_text') or title}]"]
    if kind == "rich_text":
        return _rich_text(block.get("elements", [])).splitlines()
    if kind == "video":
        return [f"[video: {_text(block.get('title'))}]"]
    return [f"[{kind}]"]


def blocks_to_text(blocks: list[JsonDict] | None, fallback_text: str | None = None) -> str:
    """Readable plain text for a message; uses ``fallback_text`` when there are no blocks."""
    if not blocks:
        return mrkdwn_to_text(fallback_text or "")
    lines: list[str] = []
    for block in blocks:
        lines.extend(_block(block))
    return "\n".join(lines)


def view_to_text(view: JsonDict) -> str:
    """A modal or Home tab as text: its title (if any), its blocks and its submit/close labels."""
    lines: list[str] = []
    title = _text(view.get("title"))
    if title:
        lines.append(f"┌ {title} ┐" if view.get("type") == "modal" else title)
    elif view.get("type") == "home":
        lines.append("[Home]")
    body = blocks_to_text(view.get("blocks"))
    if body:
        lines.append(body)
    buttons = [
        f"[ {_text(view[key])} ]" for key in ("close", "submit") if isinstance(view.get(key), dict)
    ]
    if buttons:
        lines.append("  ".join(buttons))
    return "\n".join(lines)
