"""The emulator's modules import each other without a cycle, and its public names stay put.

Every import between the modules of ``faceguard.emulator`` counts, wherever it is written: at
the top, inside a function, or under ``if TYPE_CHECKING:`` (a type-only cycle is still two
modules that cannot be understood apart). Importing ``a.b.c`` also imports the packages
``a.b``; the package ``faceguard.emulator`` itself is left out, since its ``__init__`` only
re-exports. No module loads a sibling by name through ``importlib`` either.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import faceguard.emulator

PACKAGE = "faceguard.emulator"
ROOT = Path(faceguard.emulator.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module or ""


def import_graph() -> dict[str, set[str]]:
    """Module -> the emulator modules it imports (packages included, the root left out)."""
    files = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                target = _resolve(name, is_package, node)
                targets.append(target)
                targets += [f"{target}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
            for target in targets:
                # the module and every package on its way (a.b.c imports a.b first)
                pieces = target.split(".")
                for end in range(len(pieces), 0, -1):
                    candidate = ".".join(pieces[:end])
                    if candidate in files and candidate not in (PACKAGE, name):
                        graph[name].add(candidate)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_type_only_and_function_level_imports(tmp_path: Path) -> None:
    graph = import_graph()
    # _emulator imports the face routes at the top; liveness handlers import their forms.
    assert f"{PACKAGE}.face.routes" in graph[f"{PACKAGE}._emulator"]
    assert f"{PACKAGE}.liveness.forms" in graph[f"{PACKAGE}.liveness.handlers"]
    # a function-level import: the engine is built lazily by the emulator
    assert f"{PACKAGE}._engine" in graph[f"{PACKAGE}._emulator"]


def test_the_emulator_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_no_module_loads_a_sibling_by_name() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if "import_module(" in path.read_text()
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "name",
    [
        "Emulator",
        "EngineFace",
        "EngineImageError",
        "EngineUnavailable",
        "FaceApiError",
        "FaceEngine",
        "Hook",
        "Limits",
        "ManualClock",
        "Middleware",
        "Router",
        "ServiceState",
    ],
)
def test_the_public_names_are_still_exported(name: str) -> None:
    assert name in faceguard.emulator.__all__
    assert getattr(faceguard.emulator, name) is not None


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("_server", ["EmulatorServer", "running", "serve", "is_loopback"]),
        ("_engine", ["OpenCVEngine"]),
        ("_engine_api", ["EngineFace", "EngineImageError", "FaceEngine"]),
    ],
)
def test_the_server_and_engine_modules_keep_their_names(module: str, names: list[str]) -> None:
    found = importlib.import_module(f"{PACKAGE}.{module}")
    for name in names:
        assert hasattr(found, name), (module, name)
