"""The one benchmark command (``nox -s bench``): every benchmark, one summary table.

Runs, each in its own process and one after the other (never concurrently, so they do not
compete for the cores):

* ``bench_client.py``: client CPU per call (verify, identify, detect from bytes) of faceguard
  next to raw httpx and azure-ai-vision-face on one loopback server, and import time;
* ``bench_async.py``: calls per second at concurrency 64 against the emulator server,
  faceguard's AsyncFaceClient next to raw ``httpx.AsyncClient``;
* ``bench_registry.py``: the faceId registry with 1,000,000 faceIds in the memory, SQLite and
  Redis stores (look-ups per second, memory, time to load);
* ``bench_bulk.py``, when it exists: bulk enrollment against a rate-limited, faulty emulator.
* ``bench_persist.py``: the emulator's ``--state-dir``: add latency at 1k and 100k faces,
  restart time and bytes per face.

Each module follows the interface described in ``_common.py`` (``runner_args``, ``--json``,
``summary_rows``). The runner prints every benchmark's own report as it goes, then one table
of figures, ratios, targets and verdicts; with ``--write-results`` it also writes
``benchmarks/RESULTS.md``. ``--quick`` shrinks every size for a smoke run: its figures are not
the figures of record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _common import ROW_HEADERS, Row, describe_machine, format_table, machine, row_cells  # noqa: E402

BENCHMARKS: tuple[tuple[str, str, str], ...] = (
    ("client", "bench_client.py", "client CPU per call and import time"),
    ("async", "bench_async.py", "async calls per second at concurrency 64"),
    ("registry", "bench_registry.py", "faceId registry with 1,000,000 faceIds"),
    (
        "bulk",
        "bench_bulk.py",
        "bulk enrollment of 1,000 faces, emulator at 10 TPS with 10% faults",
    ),
    ("persist", "bench_persist.py", "emulator --state-dir with 1,000 and 100,000 faces"),
)


@dataclass
class Outcome:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0
    failed: bool = False


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"faceguard_bench_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _stream(command: list[str]) -> tuple[int, str]:
    """Run ``command``, echoing its stdout (and keeping it); stderr passes through."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=HERE.parent)
    assert process.stdout is not None
    kept = []
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        kept.append(line)
    return process.wait(), "".join(kept)


def run_one(name: str, filename: str, title: str, quick: bool, directory: Path) -> Outcome:
    outcome = Outcome(name, title)
    path = HERE / filename
    if not path.exists():
        outcome.rows = [Row(name, title, f"not run: benchmarks/{filename} does not exist yet")]
        return outcome
    try:
        module = _load(path)
        runner_args = module.runner_args
        summary_rows = module.summary_rows
    except (ImportError, AttributeError, SyntaxError) as exc:
        outcome.failed = True
        outcome.rows = [Row(name, title, f"not run: {filename} lacks the runner interface ({exc})")]
        return outcome
    out = directory / f"{name}.json"
    command = [sys.executable, str(path), *runner_args(quick), "--json", str(out)]
    print(f"\n=== {name}: {title}\n$ {shlex.join(command)}", flush=True)
    started = time.perf_counter()
    status, outcome.output = _stream(command)
    outcome.seconds = time.perf_counter() - started
    if status != 0 or not out.exists():
        outcome.failed = True
        outcome.rows = [Row(name, title, f"FAILED (exit status {status}); see its output")]
        return outcome
    outcome.rows = list(summary_rows(json.loads(out.read_text(encoding="utf-8"))))
    return outcome


def results_markdown(
    info: dict[str, Any],
    outcomes: list[Outcome],
    *,
    command: str,
    started: dt.datetime,
    quick: bool,
    load_end: list[float] | None,
) -> str:
    rows = [row for outcome in outcomes for row in outcome.rows]
    lines = ["# Benchmark results", ""]
    if quick:
        lines += [
            "> **Quick run** (`--quick`): every size was shrunk for a smoke test. These are "
            "not the figures of record; run `nox -s bench` on a quiet machine for those.",
            "",
        ]
    lines += [
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `{command}` "
        f"(total {sum(o.seconds for o in outcomes) / 60:.1f} min).",
        "",
        "## Machine",
        "",
        *[f"- {line}" for line in describe_machine(info)],
        f"- load average at the end: {load_end}",
        "",
        "## Summary",
        "",
        format_table(ROW_HEADERS, [row_cells(r) for r in rows], markdown=True),
        "",
        "## How to read it",
        "",
        "- **ratio** is faceguard's figure divided by the other side's, both measured side by "
        "side in the same run against the same loopback server; **target** is the bound from "
        "the issue (`<=`: lower is better) and **verdict** says whether this run met it. Rows "
        "without a target are figures for information.",
        "- Client CPU per call is `time.process_time()` of the benchmark process (the server "
        "runs in another process), the median of several interleaved repeats; ratios are the "
        "median of the per-repeat ratios. Import time is `-X importtime` in fresh "
        "interpreters.",
        "- Async calls per second are bounded by the emulator server and by the cores it "
        "shares with the client; the client CPU per call next to it is the client's own cost.",
        "- faceId registry figures: look-ups per second are wall clock for single "
        "`FaceIdRegistry.lookup` calls and for `FaceIdRegistry.check` batches (one "
        "`get_many`); memory is RSS growth (memory store), file size with WAL (SQLite), or "
        "`used_memory` growth (Redis).",
        "- `benchmarks/README.md` describes each method and what is not measured. Each "
        "benchmark's full report follows.",
        "",
        "## Full reports",
        "",
    ]
    for outcome in outcomes:
        lines += [f"### {outcome.name}: {outcome.title}", ""]
        if not outcome.output:
            lines += [outcome.rows[0].figures if outcome.rows else "not run", ""]
            continue
        lines += [
            f"{outcome.seconds:.0f} s.",
            "",
            "```text",
            outcome.output.rstrip(),
            "```",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="shrink every size for a smoke run (not a result)"
    )
    parser.add_argument(
        "--only",
        default=",".join(name for name, _, _ in BENCHMARKS),
        help="comma-separated subset of: " + ", ".join(name for name, _, _ in BENCHMARKS),
    )
    parser.add_argument(
        "--write-results", action="store_true", help="write the results file (RESULTS.md)"
    )
    parser.add_argument(
        "--results",
        default=None,
        help="where --write-results writes (default RESULTS.md; RESULTS.quick.md for --quick, "
        "so that a smoke run never replaces the figures of record)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the summary rows as JSON")
    args = parser.parse_args(argv)
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    known = {name for name, _, _ in BENCHMARKS}
    if set(wanted) - known:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(set(wanted) - known))}")

    started = dt.datetime.now(dt.timezone.utc)
    info = machine()
    print("\n".join(describe_machine(info)), flush=True)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="faceguard-bench-") as tmp:
        for name, filename, title in BENCHMARKS:
            if name in wanted:
                outcomes.append(run_one(name, filename, title, args.quick, Path(tmp)))
    load_end = machine()["load_average"]

    rows = [row for outcome in outcomes for row in outcome.rows]
    print("\n=== Summary" + (" (QUICK RUN: not the figures of record)" if args.quick else ""))
    print(format_table(ROW_HEADERS, [row_cells(r) for r in rows]))
    print(f"load average: start {info['load_average']}, end {load_end}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"machine": info, "rows": [r.to_json() for r in rows]}, indent=2) + "\n",
            encoding="utf-8",
        )
    if args.write_results:
        given = sys.argv[1:] if argv is None else argv
        command = shlex.join(["python", "benchmarks/run_all.py", *given])
        text = results_markdown(
            info, outcomes, command=command, started=started, quick=args.quick, load_end=load_end
        )
        results = args.results or str(HERE / ("RESULTS.quick.md" if args.quick else "RESULTS.md"))
        Path(results).write_text(text + "\n", encoding="utf-8")
        print(f"written: {results}")
    return 1 if any(outcome.failed for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
