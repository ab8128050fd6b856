"""The words of `/leading-tip`: parse the text a person typed into a word and its arguments."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

CONTENT_WORDS = ("tip", "practice", "blocker", "reflect")
SCHEDULE_WORDS = ("weekly", "pause", "resume", "stop")
REFLECTION_WORDS = ("journal", "export", "forget")
WORDS = (
    *CONTENT_WORDS,
    "help",
    *SCHEDULE_WORDS,
    *REFLECTION_WORDS,
    "stats",
    "cohort",
    "focus",
    "preview",
)

# Plurals and NZ spellings people will naturally type.
ALIASES = {
    "tips": "tip",
    "practise": "practice",
    "practices": "practice",
    "blockers": "blocker",
    "reflection": "reflect",
    "?": "help",
    "week": "weekly",
    "unsubscribe": "stop",
    "subscribe": "weekly",
    "cohorts": "cohort",
    "figures": "stats",
    "previews": "preview",
}

MAX_WORD_SHOWN = 40
COHORT_OFF = frozenset({"off", "end", "stop"})
_MENTION = re.compile(r"<@([UW][A-Z0-9]{1,30})(?:\|[^>]*)?>")


@dataclass(frozen=True)
class ParsedCommand:
    word: str | None  # None: no words at all; "unknown" when not recognised
    args: tuple[str, ...] = ()
    typed: str = ""  # the first word as typed, for "did you mean"

    @property
    def is_unknown(self) -> bool:
        return self.word == "unknown"


def parse(text: str | None) -> ParsedCommand:
    parts = (text or "").split()
    if not parts:
        return ParsedCommand(word=None)
    typed = parts[0]
    first = typed.lower().strip("`*_")
    word = ALIASES.get(first, first)
    if word in WORDS:
        return ParsedCommand(word=word, args=tuple(parts[1:]), typed=typed)
    return ParsedCommand(word="unknown", args=tuple(parts[1:]), typed=typed)


def closest_word(typed: str) -> str | None:
    """The command word nearest to a mistyped one (`weeky` → `weekly`), if any is close."""
    candidates = [*WORDS, *ALIASES]
    matches = difflib.get_close_matches(typed.lower()[:MAX_WORD_SHOWN], candidates, n=1, cutoff=0.6)
    return ALIASES.get(matches[0], matches[0]) if matches else None


def mentioned_user(word: str) -> str | None:
    """The user id in a Slack mention (`<@U0123|name>`, as Slack sends "@name"), else None."""
    match = _MENTION.fullmatch(word)
    return match[1] if match else None
