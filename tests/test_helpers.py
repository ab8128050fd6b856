"""The test helpers that read Block Kit find the words and leave ids, values and URLs out."""

from __future__ import annotations

from tests.helpers import action_ids, block_texts, blocks_text, message_text

BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Your journal"}},
    {
        "type": "section",
        "block_id": "entry-1",
        "text": {"type": "mrkdwn", "text": "*30 November*\nA thought."},
        "fields": [{"type": "mrkdwn", "text": "Reflections: *2*"}],
    },
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "journal_older",
                "value": "10",
                "url": "https://example.invalid/older",
                "text": {"type": "plain_text", "text": "Older"},
            }
        ],
    },
    {
        "type": "rich_text",
        "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "Kia ora"}]}
        ],
    },
]


def test_block_texts_are_the_words_in_order() -> None:
    assert block_texts(BLOCKS) == [
        "Your journal",
        "*30 November*\nA thought.",
        "Reflections: *2*",
        "Older",
        "Kia ora",
    ]


def test_ids_values_and_urls_are_not_words() -> None:
    words = blocks_text(BLOCKS)
    for hidden in ("entry-1", "journal_older", "10", "example.invalid"):
        assert hidden not in words
    assert action_ids(BLOCKS) == ["journal_older"]


def test_message_text_reads_the_fallback_and_the_blocks() -> None:
    text = message_text({"text": "Fallback words", "blocks": BLOCKS})
    assert text.startswith("Fallback words\n") and "Kia ora" in text
