"""Find the Python blocks of README.md and docs/ and run them, page by page, as one story.

The docs are code: ``tests/test_docs_blocks.py`` executes every ```` ```python ```` block, on
the embedded emulator, in a scratch directory where ``tests/data/faces`` (the repository's
photos) is reachable by the same relative path as from the repository root. The blocks of a
page share one namespace, in page order, as a reader who pastes them one after the other into
one interpreter would. The conventions are in docs/contributing.md; in short, the first line
of a block may be a marker comment:

- ``# needs: <what>`` -- the block needs a real resource (an Azure Face resource, a Jupyter
  kernel...): it is compiled and checked for undefined names, not executed;
- ``# pending: <why>`` -- the block shows an API that is not built yet: it is executed and
  expected to fail; once it runs, the test fails until the marker goes.

A block runs with top-level ``await`` allowed (as in Jupyter or ``python -m asyncio``), and its
code is compiled with the Markdown file's line numbers, so a traceback points into the page.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import inspect
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
NEEDS = "# needs:"
PENDING = "# pending:"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass(frozen=True)
class Block:
    """One fenced Python block: where it starts and what it says."""

    page: str  # relative to the repository root, e.g. "docs/quickstart.md"
    line: int  # 1-based line of the first code line (after the opening fence)
    code: str
    marker: str | None = None  # "needs" | "pending" | None
    reason: str = ""

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def pages(root: Path = ROOT) -> list[Path]:
    """README.md and every Markdown page under docs/, in a stable order."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def parse(text: str, page: str) -> list[Block]:
    """The Python blocks of one Markdown text (fences of backticks or tildes, indented or not;
    a fence closes only on the same character, at least as long, with no info string)."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        index += 1
        if opening is None:
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        words = opening["info"].strip().split()
        language = words[0].lower().strip("{}.") if words else ""
        body: list[str] = []
        start = index + 1
        while index < len(lines):
            closing = _FENCE.match(lines[index])
            index += 1
            if (
                closing is not None
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"].strip()
            ):
                break
            body.append(_dedent(lines[index - 1], indent))
        if language in PYTHON_LANGUAGES:
            blocks.append(_block(page, start, "\n".join(body) + "\n"))
    return blocks


def _dedent(line: str, indent: int) -> str:
    """Drop up to ``indent`` leading spaces, as CommonMark does inside an indented fence."""
    cut = len(line) - len(line.lstrip(" "))
    return line[min(cut, indent) :]


def _block(page: str, line: int, code: str) -> Block:
    first = next((text.strip() for text in code.splitlines() if text.strip()), "")
    for marker, prefix in (("needs", NEEDS), ("pending", PENDING)):
        if first.lower().startswith(prefix):
            reason = first[len(prefix) :].strip()
            if not reason:
                raise ValueError(f"{page}:{line}: '{prefix}' must say what, e.g. '{prefix} ...'")
            return Block(page, line, code, marker, reason)
    return Block(page, line, code)


def all_blocks(root: Path = ROOT) -> list[Block]:
    """Every Python block of README.md and docs/, page by page, in page order."""
    found: list[Block] = []
    for path in pages(root):
        found += parse(path.read_text(encoding="utf-8"), path.relative_to(root).as_posix())
    return found


def compile_block(block: Block) -> types.CodeType:
    """The block's code object, with the page's line numbers and top-level ``await`` allowed."""
    source = "\n" * (block.line - 1) + block.code
    return compile(
        source, block.page, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name a piece of code binds anywhere (assignments, imports, defs, arguments,
    loop and comprehension targets, ``except ... as``, pattern captures)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    return bound


def undefined_names(story: list[Block]) -> list[str]:
    """Names the last block of ``story`` reads that neither it, nor the blocks before it on
    its page, nor builtins define: what a reader pasting the page would meet as NameError."""
    trees = [ast.parse(b.code, b.page) for b in story]
    bound = set(dir(builtins)).union(*(_bound_names(tree) for tree in trees))
    read = {
        node.id
        for node in ast.walk(trees[-1])
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    return sorted(read - bound)


@dataclass
class Page:
    """One page's shared namespace and how far its story has run."""

    blocks: list[Block]
    namespace: dict[str, Any] = field(default_factory=dict)
    done: int = 0  # how many blocks have run (or been passed over)
    failed: Block | None = None

    def __post_init__(self) -> None:
        module = types.ModuleType("__main__")
        self.module = module
        self.namespace = module.__dict__

    def run(self, block: Block) -> None:
        """Run one block in the page's namespace (``__main__`` while it runs, so classes and
        functions defined in a block behave as in a script)."""
        code = compile_block(block)
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = self.module
        try:
            result = eval(code, self.namespace)  # the repository's own docs
            if inspect.iscoroutine(result):  # top-level await: one event loop per block
                asyncio.run(result)
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved
