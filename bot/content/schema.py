"""File formats of the content pack, and checks whose errors point at `file:line`.

Each YAML file is composed to a node tree (for line numbers) and constructed to plain data.
Pydantic checks the shape of one file; the cross-file checks (unique ids, every question
names an item, every item has a question) run on the plain data so that they still report
when a file also has shape errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

STEPS = ("what", "so_what", "now_what")
FRAMEWORK_FILE = "framework.yaml"
PACKS_DIR = "packs"
# Sections of a capability that hold items, in the order of the source page.
ITEM_SECTIONS = {"tips": "tip", "practice": "practice", "blockers": "blocker"}

Loc = tuple[str | int, ...]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _slug(prefix: str = "") -> AfterValidator:
    pattern = re.compile(rf"{re.escape(prefix)}[a-z0-9]+(?:-[a-z0-9]+)*")
    wanted = f"a kebab-case slug starting with '{prefix}'" if prefix else "a kebab-case slug"

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {wanted}, not {value!r}")
        return value

    return AfterValidator(check)


Text = Annotated[str, AfterValidator(_not_blank)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AttributionFile(_Strict):
    framework: Text
    owner: Text
    publisher: Text
    publisher_url: Text
    context_line: Text


class GroupFile(_Strict):
    name: Text
    te_reo: Text | None = None


class FrameworkFile(_Strict):
    attribution: AttributionFile
    glossary: dict[str, Text]
    groups: list[GroupFile] = []


class BehaviourFile(_Strict):
    id: Annotated[str, _slug("behaviour-")]
    text: Text


class TipFile(_Strict):
    id: Annotated[str, _slug("tip-")]
    text: Text
    this_week: Text


class PracticeFile(_Strict):
    id: Annotated[str, _slug("practice-")]
    text: Text
    this_week: Text


class BlockerFile(_Strict):
    id: Annotated[str, _slug("blocker-")]
    text: Text
    this_week: Text


class QuestionFile(_Strict):
    id: Annotated[str, _slug("question-")]
    item_id: str = Field(alias="for")
    step: Literal["what", "so_what", "now_what"]
    text: Text


class CapabilityFile(_Strict):
    id: Annotated[str, _slug()]
    source: Text | None = None  # the source page, relative to the content directory
    title: Text
    group: Text
    purpose: Text
    looks_like: Text
    behaviours_intro: Text
    behaviours: list[BehaviourFile] = Field(min_length=1)
    tips: list[TipFile] = Field(min_length=1)
    practice_intro: Text
    practice: list[PracticeFile] = Field(min_length=1)
    blockers_intro: Text
    blockers: list[BlockerFile] = Field(min_length=1)
    questions: list[QuestionFile] = Field(min_length=1)


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class ParsedFile:
    """One YAML file: its plain data, node tree and (when its shape is valid) its model."""

    rel: str
    data: Any = None
    root: yaml.Node | None = None
    model: BaseModel | None = None
    problems: list[Problem] = field(default_factory=list)

    def line(self, loc: Loc) -> int:
        return line_of(self.root, loc)

    def problem(self, loc: Loc, message: str) -> Problem:
        where = dotted(loc)
        return Problem(self.rel, self.line(loc), f"{where}: {message}" if where else message)


def dotted(loc: Loc) -> str:
    """('tips', 2, 'text') -> 'tips[2].text'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def line_of(root: yaml.Node | None, loc: Loc) -> int:
    """1-based line of the key or entry at `loc`, or of the nearest enclosing one that exists."""
    if root is None:
        return 1
    node, line = root, root.start_mark.line
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            entry = _entry(node, str(part))
            if entry is None:
                break
            line, node = entry[0].start_mark.line, entry[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _entry(mapping: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def parse_file(path: Path, rel: str, model: type[BaseModel]) -> ParsedFile:
    parsed = ParsedFile(rel)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        parsed.problems.append(Problem(rel, 1, "file is not valid UTF-8"))
        return parsed
    except OSError as exc:
        parsed.problems.append(Problem(rel, 1, f"cannot read file: {exc.strerror}"))
        return parsed
    loader = yaml.SafeLoader(text)
    try:
        parsed.root = loader.get_single_node()
        if parsed.root is not None:
            parsed.problems += _duplicate_keys(parsed.root, rel)
            parsed.data = loader.construct_document(parsed.root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        parsed.problems.append(Problem(rel, mark.line + 1 if mark else 1, f"YAML error: {problem}"))
        parsed.root = parsed.data = None
        return parsed
    except yaml.YAMLError as exc:
        parsed.problems.append(Problem(rel, 1, f"YAML error: {exc}"))
        parsed.root = parsed.data = None
        return parsed
    finally:
        loader.dispose()
    if parsed.root is None:
        parsed.problems.append(Problem(rel, 1, "file is empty"))
        return parsed
    try:
        parsed.model = model.model_validate(parsed.data)
    except ValidationError as exc:
        parsed.problems += [parsed.problem(e["loc"], _describe(e)) for e in exc.errors()]
    return parsed


def _duplicate_keys(node: yaml.Node, rel: str) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    line = key.start_mark.line + 1
                    problems.append(Problem(rel, line, f"{key.value}: duplicate key"))
                seen.add(key.value)
            problems += _duplicate_keys(value, rel)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            problems += _duplicate_keys(child, rel)
    return problems


_MESSAGES: dict[str, str] = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown key",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "too_short": "must not be empty",
}


def _describe(error: Any) -> str:
    kind = error["type"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "literal_error":
        return f"must be one of {error['ctx']['expected']}, not {error['input']!r}"
    return _MESSAGES.get(kind, error["msg"])


def _entries(data: Any, section: str) -> list[tuple[int, dict[str, Any]]]:
    """The mapping entries of a list section, tolerating a malformed file."""
    seq = data.get(section) if isinstance(data, dict) else None
    if not isinstance(seq, list):
        return []
    return [(i, entry) for i, entry in enumerate(seq) if isinstance(entry, dict)]


def _str(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def cross_check(
    framework: ParsedFile | None,
    capabilities: list[ParsedFile],
    source_exists: Callable[[str], bool] | None,
) -> list[Problem]:
    """Checks that need more than one entry or file. `source_exists` is None when unknown."""
    problems: list[Problem] = []
    first_use: dict[str, Problem] = {}

    def claim(parsed: ParsedFile, loc: Loc, value: str) -> None:
        if value in first_use:
            other = first_use[value]
            message = f"{value!r} is already used at {other.file}:{other.line}"
            problems.append(parsed.problem(loc, message))
        else:
            first_use[value] = Problem(parsed.rel, parsed.line(loc), "")

    groups: list[str] = []
    if framework is not None:
        groups = [
            g for _, entry in _entries(framework.data, "groups") if (g := _str(entry, "name"))
        ]

    for parsed in capabilities:
        data = parsed.data if isinstance(parsed.data, dict) else {}
        if isinstance(capability_id := data.get("id"), str):
            claim(parsed, ("id",), capability_id)

        group = data.get("group")
        if groups and isinstance(group, str) and group not in groups:
            allowed = ", ".join(repr(g) for g in groups)
            message = f"{group!r} is not a group in {FRAMEWORK_FILE} ({allowed})"
            problems.append(parsed.problem(("group",), message))

        source = data.get("source")
        if source_exists is not None and isinstance(source, str) and not source_exists(source):
            problems.append(parsed.problem(("source",), f"file {source!r} not found"))

        item_ids: set[str] = set()
        for section in ("behaviours", *ITEM_SECTIONS, "questions"):
            for i, entry in _entries(data, section):
                if (entry_id := _str(entry, "id")) is not None:
                    claim(parsed, (section, i, "id"), entry_id)
                    if section in ITEM_SECTIONS:
                        item_ids.add(entry_id)

        asked_for: set[str] = set()
        for i, entry in _entries(data, "questions"):
            if (target := _str(entry, "for")) is None:
                continue
            asked_for.add(target)
            if target not in item_ids:
                message = f"{target!r} names no tip, practice idea or blocker in this file"
                problems.append(parsed.problem(("questions", i, "for"), message))

        for section in ITEM_SECTIONS:
            for i, entry in _entries(data, section):
                item_id = _str(entry, "id")
                if item_id is not None and item_id not in asked_for:
                    problems.append(parsed.problem((section, i), f"no question is for {item_id!r}"))
    return problems
