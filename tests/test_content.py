"""The content pack quotes the seed page exactly, and broken packs are reported as file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content import (
    ITEM_KINDS,
    KIND_LABELS,
    ContentError,
    Library,
    default_content_dir,
    load_library,
    validate,
)

SEED = default_content_dir() / "source" / "000_e9d23a5d492a67a1.txt"
PACK_NAME = "enhancing-social-system-and-sector-performance.yaml"
PACK = f"packs/{PACK_NAME}"
CAPABILITY_ID = "enhancing-social-system-and-sector-performance"


def seed_lines() -> list[str]:
    return SEED.read_text(encoding="utf-8").splitlines()


def seed_bullets() -> list[str]:
    return [line.removeprefix("  • ") for line in seed_lines() if line.startswith("  • ")]


def seed_line(starting: str) -> str:
    return next(line for line in seed_lines() if line.startswith(starting))


@pytest.fixture
def library() -> Library:
    return load_library()


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A writable copy of the shipped content directory (data files only)."""
    target = tmp_path / "content"
    shutil.copytree(
        default_content_dir(), target, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    return target


def line_of(path: Path, text: str) -> int:
    """The 1-based line where `text` starts in the file."""
    content = path.read_text(encoding="utf-8")
    assert content.count(text) == 1, f"{text!r} should occur exactly once in {path.name}"
    return content[: content.index(text)].count("\n") + 1


def edit(path: Path, old: str, new: str) -> int:
    """Replace `old` once in the file; return the 1-based line where it was."""
    line = line_of(path, old)
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return line


def test_shipped_content_is_valid() -> None:
    assert validate() == []
    assert validate(default_content_dir() / PACK) == []


def test_every_seed_bullet_appears_verbatim_as_a_behaviour_or_item(library: Library) -> None:
    capability = library.capability(CAPABILITY_ID)
    quoted = [b.text for b in capability.behaviours] + [i.text for i in capability.items]
    assert len(seed_bullets()) == 16
    assert quoted == seed_bullets()


def test_capability_sentences_match_the_seed_page(library: Library) -> None:
    capability = library.capability(CAPABILITY_ID)
    lines = seed_lines()
    assert capability.title == lines[0]
    assert capability.group.upper() == lines[2] == "LEADING HEALTH"
    assert capability.purpose == seed_line("Work collectively across boundaries")
    assert capability.looks_like == seed_line(f"{capability.title} looks like ")
    assert capability.behaviours_intro == seed_line("When you are enhancing")
    assert capability.practice_intro == seed_line("Here are some ways")
    assert capability.blockers_intro == seed_line("Here are some things")
    assert capability.source_page == "source/000_e9d23a5d492a67a1.txt"


def test_image_description_and_navigation_are_not_content(library: Library) -> None:
    capability = library.capability(CAPABILITY_ID)
    texts = [i.text for i in capability.items] + [b.text for b in capability.behaviours]
    assert not any("ultraviolet" in t or "Related programmes" in t for t in texts)


def test_pack_has_the_seed_page_counts(library: Library) -> None:
    capability = library.capability(CAPABILITY_ID)
    assert len(capability.behaviours) == 2
    assert len(library.items("tip")) == 5
    assert len(library.items("practice")) == 6
    assert len(library.items("blocker")) == 3
    assert len(library.questions()) >= 12
    assert [i.kind for i in library.items()] == ["tip"] * 5 + ["practice"] * 6 + ["blocker"] * 3


def test_macrons_glosses_and_typography_are_kept(library: Library) -> None:
    capability = library.capability(CAPABILITY_ID)
    texts = " ".join([capability.looks_like, capability.behaviours_intro])
    texts += " ".join(b.text for b in capability.behaviours)
    texts += " ".join(i.text for i in library.items())
    for kept in ("mahi [work]", "akoranga [learning]", "hauora [health]", "Don’t", "you…"):
        assert kept in texts
    assert library.attribution.framework == "Koru Ārahi | Leadership Koru"
    assert "Poutini" in library.attribution.owner
    assert library.glossary["mahi"] == "work"
    assert library.glossary["akoranga"] == "learning"
    assert library.glossary["hauora"] == "health"


def test_every_item_has_a_question_and_this_week_line(library: Library) -> None:
    for item in library.items():
        assert library.questions_for(item.id), item.id
        assert item.this_week.strip()
    assert {q.step for q in library.questions()} == {"what", "so_what", "now_what"}


def test_questions_are_gentle_single_questions(library: Library) -> None:
    for question in library.questions():
        assert question.text.count("?") == 1, question.id
        assert "!" not in question.text
        assert library.item(question.item_id).capability_id == question.capability_id


def test_lookups_by_id(library: Library) -> None:
    item = library.item("tip-share-information")
    assert item.kind == "tip" and item.capability_id == CAPABILITY_ID
    question = library.question("question-share-information")
    assert library.questions_for(item.id) == (question,)
    assert library.questions_for("tip-no-such-thing") == ()
    with pytest.raises(KeyError):
        library.item("tip-no-such-thing")
    with pytest.raises(KeyError):
        library.capability("no-such-capability")
    with pytest.raises(ValueError):
        library.items("reflect")
    assert set(ITEM_KINDS) < set(KIND_LABELS)


def test_default_library_is_loaded_once() -> None:
    assert load_library() is load_library()


def test_empty_text_is_reported_at_its_line(content_dir: Path) -> None:
    old = 'text: "Measure the progress of your partnership on an ongoing basis."'
    line = edit(content_dir / PACK, old, 'text: "  "')
    assert validate(content_dir) == [f"{PACK}:{line}: tips[2].text: must not be empty"]


def test_unknown_key_is_reported_at_its_line(content_dir: Path) -> None:
    old = "  - id: tip-share-information\n"
    line = edit(content_dir / PACK, old, old + "    colour: blue\n") + 1
    assert validate(content_dir) == [f"{PACK}:{line}: tips[0].colour: unknown key"]


def test_missing_field_unknown_key_and_bad_step_are_all_reported(content_dir: Path) -> None:
    pack = content_dir / PACK
    purpose_line = edit(pack, "purpose:", "purpse:")
    step_line = line_of(pack, "for: tip-share-information") + 1
    edit(
        pack,
        "for: tip-share-information\n    step: what",
        "for: tip-share-information\n    step: then",
    )
    # A missing key has no line of its own, so it points at the start of its mapping.
    assert validate(content_dir) == [
        f"{PACK}:{line_of(pack, 'id: enhancing')}: purpose: required field is missing",
        f"{PACK}:{purpose_line}: purpse: unknown key",
        f"{PACK}:{step_line}: questions[0].step: must be one of 'what', 'so_what' or 'now_what', "
        "not 'then'",
    ]


def test_duplicate_id_names_both_places(content_dir: Path) -> None:
    first = line_of(content_dir / PACK, "- id: question-share-information")
    second = edit(
        content_dir / PACK, "- id: question-shared-vision", "- id: question-share-information"
    )
    assert validate(content_dir) == [
        f"{PACK}:{second}: questions[1].id: 'question-share-information' is already used at "
        f"{PACK}:{first}"
    ]


def test_dangling_for_and_unasked_item_are_reported(content_dir: Path) -> None:
    item_line = line_of(content_dir / PACK, "- id: tip-measure-progress")
    for_line = edit(content_dir / PACK, "for: tip-measure-progress", "for: tip-measure-progres")
    assert validate(content_dir) == [
        f"{PACK}:{item_line}: tips[2]: no question is for 'tip-measure-progress'",
        f"{PACK}:{for_line}: questions[2].for: 'tip-measure-progres' names no tip, "
        "practice idea or blocker in this file",
    ]


def test_bad_yaml_is_reported_at_its_line(content_dir: Path) -> None:
    line = edit(content_dir / PACK, 'title: "Enhancing', 'title: oops: "Enhancing')
    assert validate(content_dir) == [
        f"{PACK}:{line}: YAML error: mapping values are not allowed here"
    ]


def test_repeated_yaml_key_is_reported(content_dir: Path) -> None:
    old = 'group: "Leading health"\n'
    line = edit(content_dir / PACK, old, old + old) + 1
    assert validate(content_dir) == [f"{PACK}:{line}: group: duplicate key"]


def test_broken_framework_is_reported_and_load_raises(content_dir: Path) -> None:
    line = edit(content_dir / "framework.yaml", '  mahi: "work"', '  mahi: ""')
    expected = [f"framework.yaml:{line}: glossary.mahi: must not be empty"]
    assert validate(content_dir) == expected
    with pytest.raises(ContentError) as raised:
        load_library(content_dir)
    assert raised.value.errors == expected


def test_single_file_is_checked_without_a_framework(tmp_path: Path) -> None:
    lone = tmp_path / PACK_NAME
    shutil.copy(default_content_dir() / PACK, lone)
    assert validate(lone) == []
    line = edit(lone, 'group: "Leading health"', "group: 3")
    assert validate(lone) == [f"{PACK_NAME}:{line}: group: must be text"]


def test_single_file_group_must_be_in_the_framework(content_dir: Path) -> None:
    line = edit(content_dir / PACK, 'group: "Leading health"', 'group: "Leading wealth"')
    assert validate(content_dir / PACK) == [
        f"{PACK}:{line}: group: 'Leading wealth' is not a group in framework.yaml "
        "('Leading self', 'Leading others', 'Leading health')"
    ]


SECOND_CAPABILITY = """\
id: second-capability
title: "A second capability"
group: "Leading others"
purpose: "A purpose."
looks_like: "It looks like this."
behaviours_intro: "When you do this, you…"
behaviours:
  - id: behaviour-second
    text: "Do the thing"
tips:
  - id: tip-second
    text: "A tip."
    this_week: "Try the tip once."
practice_intro: "Ways to practise:"
practice:
  - id: practice-second
    text: "Practise it."
    this_week: "Practise it once."
blockers_intro: "Things in the way:"
blockers:
  - id: blocker-second
    text: "A blocker."
    this_week: "Notice it once."
questions:
  - id: question-tip-second
    for: tip-second
    step: what
    text: "What happened when you tried it?"
  - id: question-practice-second
    for: practice-second
    step: now_what
    text: "What is one small first step?"
  - id: question-blocker-second
    for: blocker-second
    step: so_what
    text: "Where did you notice it this week?"
"""


def test_adding_a_capability_file_loads_both(content_dir: Path) -> None:
    (content_dir / "packs" / "zz-second.yaml").write_text(SECOND_CAPABILITY, encoding="utf-8")
    library = load_library(content_dir)
    assert [c.id for c in library.capabilities] == [CAPABILITY_ID, "second-capability"]
    assert library.capability("second-capability").source_file == "packs/zz-second.yaml"
    assert len(library.items()) == 17
    assert library.items("tip")[-1].id == "tip-second"
    assert library.questions_for("blocker-second")[0].capability_id == "second-capability"


def test_ids_must_be_unique_across_capability_files(content_dir: Path) -> None:
    second = content_dir / "packs" / "zz-second.yaml"
    second.write_text(SECOND_CAPABILITY, encoding="utf-8")
    first = line_of(content_dir / PACK, "- id: tip-share-information")
    line = edit(second, "- id: tip-second", "- id: tip-share-information")
    edit(second, "for: tip-second", "for: tip-share-information")
    assert validate(content_dir) == [
        f"packs/zz-second.yaml:{line}: tips[0].id: 'tip-share-information' is already used at "
        f"{PACK}:{first}"
    ]
