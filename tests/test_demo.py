"""`leading-bot demo` plays the real app against the simulator and exits 0."""

from __future__ import annotations

import logging

import pytest

from bot.cli import main
from bot.content import default_content_dir
from tests.helpers import run_cli


def test_demo_prints_a_transcript_with_the_seed_content_and_exits_0() -> None:
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "Aroha › /leading-tip",
        "/leading-tip blocker",
        "Did you mean `/leading-tip weekly`?",
        "[dispatch pass: sent 1, skipped 0, failed 0]",
        "Leading Health (in your DM):",
        "saved, privately",
        "Your reflections",
        "Leading Health (Home tab):",
        "a one-time welcome in your DM",
        "workspace figures",
        "Show me my earlier reflections:* on",
        "Four weeks ago you wrote (edited since):\n  │ > I messaged the operations manager",
        "*Reflect:* What has changed since then?",
        "From Koru Ārahi | Leadership Koru",
        # A cohort: the lead's reply, one member's introduction, the channel's practice post,
        # and a reply in its thread that is not kept.
        "Aroha › (in #ward-leaders) /leading-tip cohort wed 9am",
        "This channel is now a cohort.",
        "Leading Health (in Ben's DM; Mere gets the same):",
        "Kia ora. #C0WARD is practising",
        "Practice posts are on. Each Wednesday at 9:00 am (Pacific/Auckland time)",
        "I've sent you 8 previews in our DM",
        "Leading Health (in #ward-leaders, for everyone there):",
        "This week's practice for the group",
        "aren't kept as reflections",
        "Ben › (replying in the post's thread)",
        "[Leading Health stays out of the thread; Ben's reply is not kept",
        # Leave: the nudge waits for the status to clear, then goes at the usual time.
        "[Aroha sets her Slack status: :palm_tree: Annual leave, until 7 January 2027, 5:00 pm]",
        "[5 January 2027, 8:30 am: her nudge is due, and nothing is sent]",
        "Next nudge: Friday 8 January, 8:30 am (Pacific/Auckland): moved from Tuesday while your "
        "Slack status says you're away.",
        "Leading Health (in your DM, 8 January 2027, 8:30 am):",
    ):
        assert expected in out
    seed = (default_content_dir() / "source" / "000_e9d23a5d492a67a1.txt").read_text("utf-8")
    seed_sentences = [
        line.strip().lstrip("•").strip()
        for line in seed.splitlines()
        if line.strip().startswith("•")
    ]
    assert any(sentence in out for sentence in seed_sentences)
    assert "Traceback" not in result.stderr


def test_demo_plays_the_same_conversation_every_run() -> None:
    first, second = run_cli("demo"), run_cli("demo")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    # Aroha's reply is about getting in touch with a peer: the nudge she replies to asks that.
    assert (
        "Connect with other individuals from similar roles in other organisations."
        in (first.stdout.split("Reflecting in the DM")[0].split("in your DM")[-1])
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOG_LEVEL", "verbose"), ("PORT", "abc"), ("DEFAULT_TZ", "Mars/Base")],
)
def test_demo_ignores_settings_in_the_shell_that_are_not_its_own(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    root = logging.getLogger()
    level = root.level
    try:
        assert main(["demo"]) == 0
    finally:
        root.setLevel(level)  # the demo quietens the root logger for its own run
    out, err = capsys.readouterr()
    assert "[dispatch pass: sent 1, skipped 0, failed 0]" in out
    assert "Configuration error" not in err
