"""The docs site as a reader meets it: built with ``mkdocs build --strict``, then read.

The clients' constructor parameters are on the clients page, no page shows a private module
path, the navigation has no title twice, the home page's links have titles, the error tree of
docs/errors.md is the code's, and the operations table gives identifiers room to wrap only
between words. mkdocs comes with the ``dev`` extra (CI installs it); without it the site
build is skipped, the checks of the Markdown sources still run.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ("FaceClient", "AsyncFaceClient", "ContentSafetyClient", "AsyncContentSafetyClient")
PARAMETERS = ("api_key", "credential", "guard", "rate_limit")


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the error tree ------------------------------------------------------------------------


def test_the_error_tree_on_the_errors_page_is_the_codes() -> None:
    generator = _script("gen_errors_md")
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert page == generator.render_page(page), (
        "docs/errors.md's error tree is stale: run python scripts/gen_errors_md.py"
    )
    reference = (ROOT / "docs" / "reference" / "errors.md").read_text(encoding="utf-8")
    assert reference == generator.render_reference(), (
        "docs/reference/errors.md is stale: run python scripts/gen_errors_md.py"
    )
    assert "::: faceguard.GuardError\n" in reference and "_exceptions" not in reference


def test_the_error_tree_changes_with_the_classes() -> None:
    """A class added to the hierarchy appears in the tree (so a stale page is caught)."""
    import faceguard

    generator = _script("gen_errors_md")
    before = generator.render_tree()
    probe = type("ProbeRefusal", (faceguard.GuardError,), {"__doc__": "A probe. More text."})
    probe.__module__ = "faceguard._exceptions"
    try:
        after = generator.render_tree()
    finally:
        del probe
        import gc

        gc.collect()
    assert after != before
    assert "More text" not in after  # the first sentence only
    assert re.search(r"^ {8}- `ProbeRefusal` \(not exported\): A probe\.$", after, re.M)


def test_every_error_class_can_be_imported_from_a_public_module() -> None:
    """A user can only catch what they can import: each class has a public name."""
    generator = _script("gen_errors_md")
    private = [
        cls.__qualname__ for cls, _ in generator.tree_classes() if not generator.public_name(cls)
    ]
    assert private == []


# -- the Markdown sources ------------------------------------------------------------------


def test_the_operations_table_lets_identifiers_wrap_only_between_words() -> None:
    table = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    cells = re.findall(r"<code>(.*?)</code>", table)
    assert len(cells) > 3 * 80  # three code cells per operation
    for cell in cells:
        for piece in re.split(r"<wbr>|\s", cell):
            assert len(html.unescape(piece)) <= 26, f"{piece!r} in {cell!r} cannot wrap"
    css = (ROOT / "docs" / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    assert re.search(r"table[^{]*code\s*\{[^}]*word-break:\s*normal", css)
    assert "stylesheets/extra.css" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


def _nav_entries() -> list[tuple[str, str]]:
    """(title, page) of every page in mkdocs.yml's nav, nested sections included."""
    yaml = pytest.importorskip("yaml")

    class _Loader(yaml.SafeLoader):  # mkdocs.yml may hold !!python/name tags
        pass

    _Loader.add_multi_constructor("", lambda *_args: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)

    def walk(items: list[Any]) -> Iterator[tuple[str, str]]:
        for item in items:
            for title, value in item.items():
                if isinstance(value, list):
                    yield from walk(value)
                else:
                    yield title, value

    return list(walk(config["nav"]))


def test_the_navigation_names_each_page_once_under_its_own_title() -> None:
    entries = _nav_entries()
    titles = [title for title, _ in entries]
    pages = [page for _, page in entries]
    assert len(set(titles)) == len(titles), titles
    assert len(set(pages)) == len(pages), pages
    on_disk = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert set(pages) == on_disk


def test_the_home_page_links_have_titles() -> None:
    links = re.findall(r"\[([^\]]+)\]\(([^)]+)\)", (ROOT / "docs" / "index.md").read_text())
    assert len(links) >= 10
    untitled = [text for text, _ in links if text.endswith(".md") or "/" in text]
    assert untitled == []


# -- the built site ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for module in ("mkdocs", "mkdocstrings_handlers.python"):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            if os.environ.get("CI"):  # CI installs the dev extra: the site must be checked
                pytest.fail(f"{module} is missing in CI: install the dev extra")
            pytest.skip(f"{module} comes with the dev extra")
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-4000:]
    return out


def _text(page: Path) -> str:
    """What a reader sees: the page without its markup, scripts and styles."""
    source = page.read_text(encoding="utf-8")
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", source))


def test_the_clients_page_documents_every_constructor_parameter(site: Path) -> None:
    page = (site / "reference" / "clients" / "index.html").read_text(encoding="utf-8")
    starts = [page.index(f'id="faceguard.{client}"') for client in CLIENTS]
    ends = [*starts[1:], len(page)]
    for client, start, end in zip(CLIENTS, starts, ends, strict=True):
        section = page[start:end]
        for name in PARAMETERS:
            row = re.search(
                rf"<td>\s*<code>{name}</code>\s*</td>.*?doc-md-description\">\s*<p>(.*?)</p>",
                section,
                re.DOTALL,
            )
            assert row is not None, f"{client}: no row for {name}"
            assert len(row.group(1)) > 20, f"{client}.{name} is not described"


def test_no_page_names_a_public_object_by_a_private_path(site: Path) -> None:
    """Classes and functions appear as a user imports them (``faceguard.GuardError``,
    ``faceguard.testing.CassetteError``): no documented object's heading, no base class and
    no traceback line reaches one through a private module (``faceguard._exceptions.X``).
    A page may still mention a private module itself, as a contributor's map does."""
    shown: dict[str, list[str]] = {}
    for page in sorted(site.rglob("*.html")):
        source = page.read_text(encoding="utf-8")
        headings = [
            _text_of(h) for h in re.findall(r"<h\d[^>]*doc-heading[^>]*>.*?</h\d>", source, re.S)
        ]
        text = _text(page)
        found = re.findall(r"faceguard(?:\.\w+)*\._\w+(?:\.\w+)*\.[A-Z]\w*", text)
        found += re.findall(r"Bases:\s+_\w+", text)
        found += [h for h in headings if re.search(r"(?:^|\.)_[a-z]\w*\.", h.replace(" ", ""))]
        if found:
            shown[page.relative_to(site).as_posix()] = sorted(set(found))
    assert shown == {}


def _text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def test_the_operation_groups_page_has_each_methods_parameters(site: Path) -> None:
    text = _text(site / "reference" / "operations" / "index.html")
    assert "$kind" not in text and "$route" not in text
    assert "<DetectionModel." not in text  # defaults as code names them, not reprs
    for method in ("create_person", "add_face", "identify_from_large_person_group"):
        assert re.search(rf"{method}\s*\(\s*\w+", text), method
    assert "large person group" in text


def test_a_groups_methods_read_as_methods_on_the_class() -> None:
    """What the reference reads: the class attribute has the method's signature, and names
    where it lives; calling it there (not on a client's group) is a typed error."""
    import inspect

    from faceguard import FaceClient, InvalidInputError
    from faceguard.emulator import Emulator

    with FaceClient("https://emulator.invalid", api_key="k", transport=Emulator().transport()) as c:
        group_class = type(c.large_person_groups)
        method = vars(group_class)["create_person"]
        assert list(inspect.signature(method).parameters)[:2] == ["container_id", "name"]
        assert method.__module__ == group_class.__module__
        assert method.__qualname__ == f"{group_class.__qualname__}.create_person"
        with pytest.raises(InvalidInputError, match="call it on a client's group"):
            method("staff", name="x")
        assert c.large_person_groups.create_person.__name__ == "create_person"
