"""`leading-bot demo` plays the real app against the simulator and exits 0."""

from __future__ import annotations

from bot.content import default_content_dir
from tests.test_config import run_cli


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
        "From Koru Ārahi | Leadership Koru",
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
