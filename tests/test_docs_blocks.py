"""Every Python block of README.md and docs/ runs, on the embedded emulator (docs/contributing.md).

One test per block, named ``<page>:<line>``. The blocks of a page share one namespace in page
order: selecting one block (``-k``) first runs the blocks above it on its page. Each page runs
in its own scratch directory (files a block writes, such as ``guard.sqlite3``, land there)
where ``tests/data/faces`` leads to the repository's photos, with every ``FACEGUARD_*``
variable removed, so a block only reaches what it shows how to get.
"""

from __future__ import annotations

import gc
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from _docs_blocks import (
    PYTHON_LANGUAGES,
    ROOT,
    Block,
    Page,
    all_blocks,
    compile_block,
    pages,
    parse,
    undefined_names,
)

pytest.importorskip(
    "cv2", reason="the docs run on the emulator's face engine (faceguard[emulator])"
)
pytest.importorskip("jwt", reason="the docs mint consent tokens (faceguard[consent])")

BLOCKS = all_blocks()


class Story:
    """The pages run so far in this session, each with its namespace and scratch directory."""

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self._pages: dict[str, tuple[Page, Path]] = {}

    def page(self, name: str) -> tuple[Page, Path]:
        if name not in self._pages:
            workdir = self._scratch / name.replace("/", "__")
            (workdir / "tests" / "data").mkdir(parents=True)
            (workdir / "tests" / "data" / "faces").symlink_to(ROOT / "tests" / "data" / "faces")
            self._pages[name] = (Page([b for b in BLOCKS if b.page == name]), workdir)
        return self._pages[name]

    def close(self) -> None:
        for page, _ in self._pages.values():
            page.namespace.clear()
        self._pages.clear()


@pytest.fixture(scope="session")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    pages = Story(tmp_path_factory.mktemp("docs"))
    yield pages
    # What the pages left open (a notebook's client, a store) goes with its namespace, here,
    # not in the middle of another test where a ResourceWarning would be blamed on it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        pages.close()
        gc.collect()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("FACEGUARD_"):
            monkeypatch.delenv(name)
    yield


def _advance(page: Page, upto: int) -> None:
    """Run the page's blocks before ``upto`` that have not run yet (a ``-k`` selection)."""
    while page.done < upto:
        earlier = page.blocks[page.done]
        page.done += 1
        if earlier.marker == "needs" or page.failed is not None:
            continue
        try:
            page.run(earlier)
        except Exception:  # noqa: BLE001 - whatever it was, the block's own test reports it
            if earlier.marker != "pending":
                page.failed = earlier


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block_runs(block: Block, story: Story, monkeypatch: pytest.MonkeyPatch) -> None:
    page, workdir = story.page(block.page)
    index = page.blocks.index(block)
    monkeypatch.chdir(workdir)
    _advance(page, index)
    page.done = index + 1
    earlier = page.failed
    # The block's text is checked whatever happened above it: its syntax, and names defined
    # nowhere on the page up to it (a block that is not executed included).
    try:
        compile_block(block)
        missing = undefined_names(page.blocks[: index + 1])
        assert missing == [], (
            f"{block.id} uses {missing}, defined nowhere above it on its page: show where each "
            "value comes from (docs/contributing.md)"
        )
    except BaseException:
        page.failed = earlier or block
        raise
    if earlier is not None:
        pytest.skip(f"an earlier block of the story failed: {earlier.id}")
    if block.marker == "needs":
        pytest.skip(f"needs {block.reason}")
    if block.marker == "pending":
        try:
            page.run(block)
        except Exception as error:  # noqa: BLE001 - a pending block may fail in any way
            pytest.xfail(f"pending: {block.reason} ({type(error).__name__}: {error})")
        pytest.fail(f"{block.id} runs now: remove its '# pending:' marker")
    page.failed = block
    page.run(block)
    page.failed = None


def test_blocks_fit_the_page() -> None:
    """No line of a docs page's block, comments included, is wider than the 88 columns the
    site shows without a scroll bar (docs/stylesheets/extra.css); README.md's, read on the
    forge, than the project's 100. ``ruff format --check .`` (CI) formats the blocks at the
    same widths: docs/.ruff.toml sets 88 for the pages."""
    wide = [
        f"{block.page}:{block.line + n} ({len(line)})"
        for block in BLOCKS
        for n, line in enumerate(block.code.splitlines())
        if len(line) > (100 if block.page == "README.md" else 88)
    ]
    assert wide == []
    ruff_config = (ROOT / "docs" / ".ruff.toml").read_text(encoding="utf-8")
    assert re.search(r"^line-length = 88$", ruff_config, re.MULTILINE)


def test_no_python_hides_under_another_fence_language() -> None:
    """A console transcript (```pycon, ```ipython...) would escape the collector: the pages
    show Python as ```python blocks, and output as ```text."""
    pattern = re.compile(r"^[ \t]*(?:`{3,}|~{3,})\s*\{?\.?([A-Za-z0-9_+-]+)", re.MULTILINE)
    hidden = [
        f"{path.relative_to(ROOT)}: {language}"
        for path in pages()
        for language in pattern.findall(path.read_text(encoding="utf-8"))
        if language.lower() not in PYTHON_LANGUAGES
        and re.match(r"(?i)(i?py|python|jupyter)", language)
    ]
    assert hidden == []


def test_the_docs_have_python_blocks_and_each_is_found() -> None:
    """The collector sees the blocks a reader sees: a count per page, and the README's Usage."""
    pages = {b.page for b in BLOCKS}
    assert "README.md" in pages
    assert {"docs/quickstart.md", "docs/emulator.md", "docs/bulk.md"} <= pages
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    opened = readme.count("```python")
    assert len([b for b in BLOCKS if b.page == "README.md"]) == opened


# -- the collector itself -------------------------------------------------------------------


def test_parse_finds_python_blocks_in_every_fence_spelling() -> None:
    text = "\n".join(
        [
            "# t",
            "```python",
            "a = 1",
            "```",
            "~~~py",
            "b = a",
            "~~~",
            "- item",
            "",
            "    ```Python title='x'",
            "    c = b",
            "    ```",
            "````python",
            "```",
            "d = 4",
            "````",
            "```bash",
            "echo no",
            "```",
        ]
    )
    blocks = parse(text, "p.md")
    assert [(b.line, b.code) for b in blocks] == [
        (3, "a = 1\n"),
        (6, "b = a\n"),
        (11, "c = b\n"),
        (14, "```\nd = 4\n"),
    ]


def test_markers_are_read_from_the_first_line_only() -> None:
    text = (
        "```python\n# needs: an Azure Face resource\nx = 1\n```\n```python\nx = 1\n# needs: no\n```"
    )
    needs, plain = parse(text, "p.md")
    assert (needs.marker, needs.reason) == ("needs", "an Azure Face resource")
    assert plain.marker is None
    pending = parse("```python\n# pending: issue 12 section 3\n```", "p.md")[0]
    assert pending.marker == "pending"
    with pytest.raises(ValueError, match="must say what"):
        parse("```python\n# needs:\nx = 1\n```", "p.md")


def test_a_page_is_one_story_with_its_line_numbers_and_top_level_await() -> None:
    text = "\n".join(
        [
            "```python",
            "import asyncio",
            "total = 1",
            "```",
            "text",
            "```python",
            "await asyncio.sleep(0)",
            "total += 1",
            "```",
            "```python",
            "raise RuntimeError(total)",
            "```",
        ]
    )
    page = Page(parse(text, "story.md"))
    page.run(page.blocks[0])
    page.run(page.blocks[1])
    assert page.namespace["total"] == 2
    with pytest.raises(RuntimeError) as raised:
        page.run(page.blocks[2])
    assert raised.value.args == (2,)
    assert raised.traceback[-1].lineno + 1 == 11  # the Markdown line (pytest counts from 0)


def test_undefined_names_are_found_across_the_story() -> None:
    blocks = parse(
        "```python\nkey = 1\n```\n```python\nprint(key, token)\nfor i in []:\n    del i\n```",
        "p.md",
    )
    assert undefined_names(blocks) == ["token"]
    assert undefined_names(blocks[1:]) == ["key", "token"]
