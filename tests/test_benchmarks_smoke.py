"""Smoke tests of the benchmark tooling: pure helpers, and a tiny registry run.

No assertion here depends on how fast anything is: the benchmarks must never become timed
tests that flake. They check that real figures come out (positive numbers, the right count).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str):
    # A private module name: examples/ has a _common.py of its own.
    spec = importlib.util.spec_from_file_location(
        f"faceguard_bench_test_{name}", BENCHMARKS / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


common = _load("_common")


def test_median_and_iqr():
    assert common.median([3.0, 1.0, 2.0]) == 2.0
    assert common.median([1.0, 2.0, 3.0, 4.0]) == 2.5
    assert common.iqr([5.0]) == 0.0
    assert common.iqr([1.0, 2.0, 3.0, 4.0, 5.0]) == 2.0
    assert common.paired_median_ratio([2.0, 3.0, 8.0], [1.0, 3.0, 2.0]) == 2.0
    with pytest.raises(ValueError):
        common.median([])


def test_format_table_plain_and_markdown():
    text = common.format_table(["name", "value"], [["a", "1.5"], ["bb", "10"]])
    lines = text.splitlines()
    assert lines[0].split() == ["name", "value"]
    assert lines[2] == "a       1.5"  # numbers right-aligned under their header
    assert lines[3] == "bb       10"
    markdown = common.format_table(["x", "y|z"], [["1", "a|b"]], markdown=True)
    assert markdown.splitlines() == ["| x | y\\|z |", "| ---: | --- |", "| 1 | a\\|b |"]
    with pytest.raises(ValueError):
        common.format_table(["one"], [["a", "b"]])


def test_row_verdicts():
    row = common.Row("b", "m", "f", ratio=1.1, target=1.15)
    assert row.verdict == "pass" and row.target_text == "<= 1.15x"
    assert common.Row("b", "m", "f", ratio=1.2, target=1.15).verdict == "MISS"
    assert common.Row("b", "m", "f", target=1.0).verdict == "n/a"
    assert common.Row("b", "m", "f", ratio=2.0, target=1.0, target_op=">=").verdict == "pass"
    assert common.Row("b", "m", "f").verdict == ""
    assert common.Row.from_json(row.to_json()) == row
    assert common.row_cells(row)[3:] == ["1.10x", "<= 1.15x", "pass"]


def test_machine_description():
    info = common.machine()
    assert info["logical_cpus"] >= 1
    assert info["packages"]["httpx"]
    lines = common.describe_machine(info)
    assert lines[0].startswith("CPU: ")


def test_registry_benchmark_memory_store(tmp_path):
    out = tmp_path / "registry.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "bench_registry.py"),
            "--count",
            "1000",
            "--lookups",
            "500",
            "--stores",
            "memory",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    memory = results["stores"]["memory"]
    assert memory["loaded"] == 1000
    assert memory["load_s"] > 0
    assert memory["single_per_s"] > 0 and memory["batched_faceids_per_s"] > 0
    assert memory["single_cpu_us"] > 0
    # bench_registry imports `_common` by its plain name: give it this one, not examples'.
    saved = sys.modules.get("_common")
    sys.modules["_common"] = common
    try:
        registry = _load("bench_registry")
    finally:
        if saved is None:
            del sys.modules["_common"]
        else:
            sys.modules["_common"] = saved
    (row,) = registry.summary_rows(results)
    assert row.measure == "memory store" and "look-ups/s" in row.figures
    assert "faceId registry, 1,000 faceIds" in done.stdout
