"""What the code points readers to is really there: README sections, no missing documents."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "build"}
# Spelled in two parts so this file does not name the missing document itself.
MISSING_DOCUMENT = "CONTRACT" + ".md"
README_SECTION = re.compile(r"README(?:\.md)?, [\"'“‘]([^\"'”’]+)[\"'”’]")


def project_files() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*")
        if path.is_file()
        and not SKIP.intersection(path.relative_to(ROOT).parts)
        and not path.name.endswith(".egg-info")
        and path.suffix not in {".pyc", ".db"}
    ]


def docstrings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    nodes = [tree, *ast.walk(tree)]
    found = []
    for node in nodes:
        if isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        ) and (text := ast.get_docstring(node)):
            found.append(text)
    return found


def test_nothing_points_to_a_document_that_is_not_in_the_repository() -> None:
    mentions = [
        str(path.relative_to(ROOT))
        for path in project_files()
        if MISSING_DOCUMENT in path.read_text("utf-8", errors="ignore")
    ]
    assert mentions == []


def test_docstrings_name_only_readme_sections_that_exist() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    headings = {line.lstrip("#").strip() for line in readme.splitlines() if line.startswith("##")}
    cited = {
        (str(path.relative_to(ROOT)), section)
        for folder in ("bot", "scheduler")
        for path in (ROOT / folder).rglob("*.py")
        for text in docstrings(path)
        for section in README_SECTION.findall(text)
    }
    assert {("bot/cli.py", "Operations"), ("bot/config.py", "Configuration")} <= cited
    assert [(path, section) for path, section in cited if section not in headings] == []
