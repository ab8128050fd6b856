"""The content pack: Koru Ārahi capabilities as YAML, loaded once and validated.

Layout of the content directory:
    framework.yaml        attribution, glossary and groups shared by every capability
    packs/<slug>.yaml     one capability each; add a file to add a capability
    source/*.txt          the source pages the packs quote

Items and questions have stable ids so stored reflections survive edits to the words.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.schema import (
    FRAMEWORK_FILE,
    ITEM_SECTIONS,
    PACKS_DIR,
    STEPS,
    CapabilityFile,
    FrameworkFile,
    ParsedFile,
    Problem,
    cross_check,
    parse_file,
)

__all__ = [
    "ITEM_KINDS",
    "KIND_LABELS",
    "STEPS",
    "Attribution",
    "Behaviour",
    "Capability",
    "ContentError",
    "Group",
    "Item",
    "Library",
    "Question",
    "default_content_dir",
    "load_library",
    "validate",
]

ITEM_KINDS = ("tip", "practice", "blocker")
KIND_LABELS = {
    "tip": "Quick tip",
    "practice": "Practice this behaviour",
    "blocker": "What can hold you back",
    "reflect": "Reflect",
}


class ContentError(Exception):
    """The content pack is not valid; `errors` holds one "file:line: message" each, with
    files relative to `content_dir`."""

    def __init__(self, errors: list[str], content_dir: Path | None = None) -> None:
        self.errors = list(errors)
        self.content_dir = content_dir
        super().__init__("content pack is not valid:\n" + "\n".join(self.errors))


@dataclass(frozen=True)
class Item:
    id: str
    kind: str  # one of ITEM_KINDS
    text: str  # verbatim from the source page
    this_week: str  # one small thing to try this week (our words)
    capability_id: str


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    step: str  # one of STEPS: what, so_what, now_what
    item_id: str
    capability_id: str


@dataclass(frozen=True)
class Behaviour:
    id: str
    text: str


@dataclass(frozen=True)
class Capability:
    id: str
    title: str
    group: str
    purpose: str
    looks_like: str
    behaviours_intro: str
    behaviours: tuple[Behaviour, ...]
    items: tuple[Item, ...]
    questions: tuple[Question, ...]
    source_file: str  # the pack file, relative to the content directory
    practice_intro: str = ""
    blockers_intro: str = ""
    source_page: str | None = None  # the quoted source page, relative to the content directory


@dataclass(frozen=True)
class Attribution:
    framework: str
    owner: str
    publisher: str
    publisher_url: str
    context_line: str


@dataclass(frozen=True)
class Group:
    name: str
    te_reo: str | None = None


@dataclass(frozen=True, eq=False)
class Library:
    capabilities: tuple[Capability, ...]
    attribution: Attribution
    glossary: dict[str, str]
    groups: tuple[Group, ...] = ()
    _items: dict[str, Item] = field(init=False, repr=False)
    _questions: dict[str, Question] = field(init=False, repr=False)
    _by_capability: dict[str, Capability] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        items = {i.id: i for c in self.capabilities for i in c.items}
        questions = {q.id: q for c in self.capabilities for q in c.questions}
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "_questions", questions)
        object.__setattr__(self, "_by_capability", {c.id: c for c in self.capabilities})

    def items(self, kind: str | None = None, capability: str | None = None) -> tuple[Item, ...]:
        """Items in file order across capabilities (or of one), optionally of one kind."""
        if kind is not None and kind not in ITEM_KINDS:
            raise ValueError(f"unknown item kind {kind!r}; expected one of {ITEM_KINDS}")
        return tuple(
            i
            for i in self._items.values()
            if (kind is None or i.kind == kind)
            and (capability is None or i.capability_id == capability)
        )

    def item(self, item_id: str) -> Item:
        return self._items[item_id]

    def questions(self, capability: str | None = None) -> tuple[Question, ...]:
        return tuple(
            q
            for q in self._questions.values()
            if capability is None or q.capability_id == capability
        )

    def question(self, question_id: str) -> Question:
        return self._questions[question_id]

    def questions_for(self, item_id: str) -> tuple[Question, ...]:
        """Questions written for an item, in file order; empty for an unknown id."""
        return tuple(q for q in self._questions.values() if q.item_id == item_id)

    def capability(self, capability_id: str) -> Capability:
        return self._by_capability[capability_id]

    def capability_of(self, entry_id: str) -> str | None:
        """The capability of an item or question id; None when it is not in the content."""
        entry = self._items.get(entry_id) or self._questions.get(entry_id)
        return entry.capability_id if entry is not None else None

    def focus_of(self, *choices: str | None) -> Capability:
        """The first choice that is a capability of the content, else the first capability."""
        for choice in choices:
            if choice is not None and choice in self._by_capability:
                return self._by_capability[choice]
        return self.capabilities[0]

    def find_capability(self, words: str) -> Capability | None:
        """The one capability whose id or title is, starts with or contains `words` (any case);
        None when none does, or more than one."""
        wanted = " ".join(words.lower().replace("-", " ").split())
        if not wanted:
            return None

        def names(c: Capability) -> tuple[str, str]:
            return (c.id.replace("-", " "), " ".join(c.title.lower().split()))

        for fits in (
            lambda name: name == wanted,
            lambda name: name.startswith(wanted),
            lambda name: wanted in name,
        ):
            found = [c for c in self.capabilities if any(fits(n) for n in names(c))]
            if len(found) == 1:
                return found[0]
            if found:
                return None
        return None


def default_content_dir() -> Path:
    return Path(__file__).resolve().parent


def load_library(path: Path | None = None) -> Library:
    """Load and validate the content directory; raises ContentError listing every problem."""
    if path is None:
        return _load_default()
    return _load(Path(path))


def validate(path: Path | None = None) -> list[str]:
    """Every problem in a content directory or a single capability file; [] when valid.

    For a single file, framework.yaml is looked up in its folder and the one above; without
    it, only the capability file itself is checked.
    """
    path = Path(path) if path is not None else default_content_dir()
    if path.is_dir():
        problems, _, _ = _check_dir(path)
    else:
        problems = _check_file(path)
    return [str(p) for p in problems]


@functools.lru_cache(maxsize=1)
def _load_default() -> Library:
    return _load(default_content_dir())


def _load(content_dir: Path) -> Library:
    problems, framework, capabilities = _check_dir(content_dir)
    if problems:
        raise ContentError([str(p) for p in problems], content_dir)
    assert isinstance(framework.model, FrameworkFile)
    return Library(
        capabilities=tuple(_capability(c) for c in capabilities),
        attribution=Attribution(**framework.model.attribution.model_dump()),
        glossary=dict(framework.model.glossary),
        groups=tuple(Group(g.name, g.te_reo) for g in framework.model.groups),
    )


def _check_dir(content_dir: Path) -> tuple[list[Problem], ParsedFile, list[ParsedFile]]:
    problems: list[Problem] = []
    framework_path = content_dir / FRAMEWORK_FILE
    if framework_path.is_file():
        framework = parse_file(framework_path, FRAMEWORK_FILE, FrameworkFile)
    else:
        framework = ParsedFile(
            FRAMEWORK_FILE, problems=[Problem(FRAMEWORK_FILE, 1, "file not found")]
        )
    pack_paths = sorted((content_dir / PACKS_DIR).glob("*.yaml"))
    if not pack_paths:
        problems.append(Problem(PACKS_DIR, 1, "no capability files (*.yaml) found"))
    capabilities = [
        parse_file(p, p.relative_to(content_dir).as_posix(), CapabilityFile) for p in pack_paths
    ]
    for parsed in (framework, *capabilities):
        problems += parsed.problems
    problems += cross_check(framework, capabilities, lambda s: (content_dir / s).is_file())
    return sorted(problems), framework, capabilities


def _check_file(path: Path) -> list[Problem]:
    content_dir = next(
        (d for d in (path.parent, path.parent.parent) if (d / FRAMEWORK_FILE).is_file()), None
    )
    base = content_dir or path.parent
    capability = parse_file(
        path, path.resolve().relative_to(base.resolve()).as_posix(), CapabilityFile
    )
    problems = list(capability.problems)
    if content_dir is None:
        problems += cross_check(None, [capability], None)
    else:
        framework = parse_file(content_dir / FRAMEWORK_FILE, FRAMEWORK_FILE, FrameworkFile)
        problems += framework.problems
        problems += cross_check(framework, [capability], lambda s: (content_dir / s).is_file())
    return sorted(problems)


def _capability(parsed: ParsedFile) -> Capability:
    model = parsed.model
    assert isinstance(model, CapabilityFile)
    items = tuple(
        Item(
            id=entry.id,
            kind=kind,
            text=entry.text,
            this_week=entry.this_week,
            capability_id=model.id,
        )
        for section, kind in ITEM_SECTIONS.items()
        for entry in getattr(model, section)
    )
    questions = tuple(
        Question(id=q.id, text=q.text, step=q.step, item_id=q.item_id, capability_id=model.id)
        for q in model.questions
    )
    return Capability(
        id=model.id,
        title=model.title,
        group=model.group,
        purpose=model.purpose,
        looks_like=model.looks_like,
        behaviours_intro=model.behaviours_intro,
        behaviours=tuple(Behaviour(b.id, b.text) for b in model.behaviours),
        items=items,
        questions=questions,
        source_file=parsed.rel,
        practice_intro=model.practice_intro,
        blockers_intro=model.blockers_intro,
        source_page=model.source,
    )
