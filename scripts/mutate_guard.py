"""One-line mutation survey of the guard modules: does a small change turn a test red?

For each chosen module, every line is mutated one operator at a time (``==``/``!=``,
``<``/``<=``, ``>``/``>=``, ``in``/``not in``, ``is``/``is not``, ``and``/``or``,
``True``/``False``, ``not x``/``x``) and every ``raise``/``return`` statement is dropped. Each
mutant runs a small test subset with ``-x -q``: a red run kills it, a green run means the
suite did not notice the change (a *survivor*). Operators are found with ``tokenize``, so
strings, docstrings and comments are never mutated; statements with ``ast``.

The survey never touches the checkout it is run from: it exports the committed tree
(``git archive HEAD``) into a scratch directory (``--work``), mutates files there, and runs the
tests with ``PYTHONPATH`` pointing at that copy's ``src``. Each mutated file is restored
before the next mutant, and the scratch copy is deleted at the end. Run it from the repo:

    python scripts/mutate_guard.py                      # every module, default budget
    python scripts/mutate_guard.py _usecases _policy --budget 300 --timeout 60
    python scripts/mutate_guard.py --recheck out.json --at HEAD _engine  # its survivors, now

Results go to stdout (one line per mutant, then killed/total per module) and, with
``--json``, to a file. Bounded on purpose (the machine is shared): ``--cpu-budget`` CPU
seconds of test runs and ``--budget`` seconds of wall time in all, ``--timeout`` seconds per
mutant (a mutant that hangs counts as killed, reported as ``timeout``). Mutants left when a
budget runs out are listed as ``not run``.
"""

# A command-line tool: it prints its report and runs git, tar and pytest with fixed arguments.
# ruff: noqa: T201, S603, S607

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

GUARD = "src/faceguard/_guard"

SUBSET = [
    "tests/test_guard.py",
    "tests/test_guard_gaps.py",
    "tests/test_usecase_table.py",
    "tests/test_consent_tokens.py",
    "tests/test_stores.py",
]

# The subset, with the files most likely to kill a module's mutants first (-x stops at the
# first failure, so order is what keeps a killed mutant cheap).
FIRST: dict[str, list[str]] = {
    "_engine": ["tests/test_guard_gaps.py", "tests/test_guard.py"],
    "_usecases": ["tests/test_usecase_table.py", "tests/test_guard.py"],
    "_attributes": ["tests/test_guard.py", "tests/test_retired_response.py"],
    "_registry": ["tests/test_guard_gaps.py", "tests/test_guard.py"],
    "_liveness": ["tests/test_guard.py"],
    "_override": ["tests/test_guard.py"],
    "_policy": ["tests/test_guard.py"],
}

MODULES = list(FIRST)

# Operator swaps on single tokens (tokenize OP and NAME tokens only).
SWAPS: dict[str, str] = {
    "==": "!=",
    "!=": "==",
    "<": "<=",
    "<=": "<",
    ">": ">=",
    ">=": ">",
    "and": "or",
    "or": "and",
    "True": "False",
    "False": "True",
}


@dataclass
class Mutant:
    module: str
    line: int
    kind: str
    before: str
    after: str
    outcome: str = "pending"  # killed, survived, timeout, skipped (does not compile)
    seconds: float = 0.0


def _line_offsets(source: str) -> list[int]:
    offsets, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        offsets.append(total)
    return offsets


def _replace(
    source: str, offsets: list[int], start: tuple[int, int], end: tuple[int, int], text: str
) -> str:
    a = offsets[start[0] - 1] + start[1]
    b = offsets[end[0] - 1] + end[1]
    return source[:a] + text + source[b:]


def _token_mutants(module: str, source: str) -> Iterator[tuple[Mutant, str]]:
    offsets = _line_offsets(source)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for index, tok in enumerate(tokens):
        if tok.type not in (tokenize.OP, tokenize.NAME):
            continue
        nxt = tokens[index + 1] if index + 1 < len(tokens) else None
        prev = tokens[index - 1] if index else None
        line = tok.line.rstrip("\n")
        if tok.string in SWAPS:
            new = SWAPS[tok.string]
            mutated = _replace(source, offsets, tok.start, tok.end, new)
            yield Mutant(module, tok.start[0], f"{tok.string} -> {new}", line, ""), mutated
        elif tok.string == "in" and not (prev is not None and prev.string == "not"):
            # "for x in y" gives "for x not in y", which does not compile and is dropped.
            mutated = _replace(source, offsets, tok.start, tok.end, "not in")
            yield Mutant(module, tok.start[0], "in -> not in", line, ""), mutated
        elif tok.string == "not" and nxt is not None and nxt.string == "in":
            mutated = _replace(source, offsets, tok.start, nxt.end, "in")
            yield Mutant(module, tok.start[0], "not in -> in", line, ""), mutated
        elif tok.string == "is" and nxt is not None and nxt.string == "not":
            mutated = _replace(source, offsets, tok.start, nxt.end, "is")
            yield Mutant(module, tok.start[0], "is not -> is", line, ""), mutated
        elif tok.string == "is":
            mutated = _replace(source, offsets, tok.start, tok.end, "is not")
            yield Mutant(module, tok.start[0], "is -> is not", line, ""), mutated
        elif (
            tok.string == "not"
            and not (nxt is not None and nxt.string == "in")
            and not (prev is not None and prev.string == "is")
        ):
            # "not x" -> "x": drop the negation (and the space after it).
            end = nxt.start if nxt is not None else tok.end
            mutated = _replace(source, offsets, tok.start, end, "")
            yield Mutant(module, tok.start[0], "not x -> x", line, ""), mutated


def _statement_mutants(module: str, source: str) -> Iterator[tuple[Mutant, str]]:
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Raise | ast.Return):
            continue
        first, last = node.lineno, node.end_lineno or node.lineno
        indent = lines[first - 1][: len(lines[first - 1]) - len(lines[first - 1].lstrip())]
        # Same number of lines, so every later line keeps its number in reports.
        body = [indent + "pass\n"] + ["\n"] * (last - first)
        mutated = "".join(lines[: first - 1] + body + lines[last:])
        kind = "drop raise" if isinstance(node, ast.Raise) else "drop return"
        yield Mutant(module, first, kind, lines[first - 1].rstrip("\n"), ""), mutated


def mutants(module: str, source: str) -> Iterator[tuple[Mutant, str]]:
    """Every mutant of ``source``, in line order; those that do not compile are kept out."""
    found = [*_token_mutants(module, source), *_statement_mutants(module, source)]
    found.sort(key=lambda pair: (pair[0].line, pair[0].kind))
    for mutant, mutated in found:
        try:
            compile(mutated, module, "exec")
        except SyntaxError:
            continue
        changed = mutated.splitlines()[mutant.line - 1] if mutated.splitlines() else ""
        mutant.after = changed.strip()
        yield mutant, mutated


def run_tests(work: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    env = {**os.environ, "PYTHONPATH": str(work / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, cwd=work, env=env, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - started
    outcome = "survived" if result.returncode == 0 else "killed"
    return outcome, time.monotonic() - started


def _children_cpu() -> float:
    """CPU seconds (user + system) the test runs have used so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def export(repo: Path, work: Path, revision: str = "HEAD") -> str:
    """The committed tree of ``revision`` into ``work``; returns its commit."""
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", revision],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", commit], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    return commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", default=MODULES, help="e.g. _usecases _policy")
    parser.add_argument("--budget", type=float, default=3600.0, help="wall seconds in all")
    parser.add_argument(
        "--cpu-budget", type=float, default=1500.0, help="CPU seconds of the test runs in all"
    )
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds per mutant")
    parser.add_argument("--max-per-module", type=int, default=0, help="0: no limit")
    parser.add_argument("--json", type=Path, help="write every mutant's outcome here")
    parser.add_argument("--work", type=Path, help="scratch directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    parser.add_argument(
        "--recheck",
        type=Path,
        help="a --json result: run only its survivors again, on its commit, with --tests",
    )
    parser.add_argument(
        "--at",
        help="with --recheck: the revision to mutate and test (default: the result's own); "
        "survivors are matched by module, kind and the line before and after, not its number",
    )
    parser.add_argument("--tests", nargs="+", help="test files to run instead of the subset")
    args = parser.parse_args(argv)
    survivors: set[tuple[str, str, str, str]] | None = None
    revision = "HEAD"
    if args.recheck:
        earlier = json.loads(args.recheck.read_text())
        revision = args.at or earlier["commit"]
        survivors = {
            (m["module"], m["kind"], m["before"].strip(), m["after"])
            for m in earlier["mutants"]
            if m["outcome"] == "survived" and m["module"] in args.modules
        }

    repo = Path(__file__).resolve().parent.parent
    work = args.work or Path(tempfile.mkdtemp(prefix="mutate_guard_"))
    if work.resolve() == repo or repo in work.resolve().parents:
        parser.error("the scratch directory must be outside the checkout")
    work.mkdir(parents=True, exist_ok=True)
    commit = export(repo, work, revision)
    print(f"mutating a copy of {commit[:12]} in {work}", flush=True)

    subset = args.tests or SUBSET
    baseline, seconds = run_tests(work, subset, args.timeout * 4)
    if baseline != "survived":
        print(f"the unmutated subset is not green ({baseline}); nothing to measure")
        return 2
    print(f"baseline green in {seconds:.1f}s", flush=True)

    deadline = time.monotonic() + args.budget
    results: list[Mutant] = []
    try:
        for module in args.modules:
            path = work / GUARD / f"{module}.py"
            original = path.read_text()
            first = [] if args.tests else FIRST.get(module, [])
            tests = first + [t for t in subset if t not in first]
            tests = [t for t in dict.fromkeys(tests) if (work / t).exists()]
            count = 0
            try:
                for mutant, mutated in mutants(module, original):
                    key = (module, mutant.kind, mutant.before.strip(), mutant.after)
                    if survivors is not None and key not in survivors:
                        continue
                    if time.monotonic() > deadline or _children_cpu() > args.cpu_budget:
                        mutant.outcome = "not run (budget)"
                        results.append(mutant)
                        continue
                    if args.max_per_module and count >= args.max_per_module:
                        break
                    count += 1
                    path.write_text(mutated)
                    try:
                        mutant.outcome, mutant.seconds = run_tests(work, tests, args.timeout)
                    finally:
                        path.write_text(original)
                    results.append(mutant)
                    mark = "SURVIVED" if mutant.outcome == "survived" else mutant.outcome
                    print(
                        f"{mark:9} {module}:{mutant.line} {mutant.kind}: {mutant.after}",
                        flush=True,
                    )
            finally:
                path.write_text(original)
    finally:
        if args.json:
            args.json.write_text(
                json.dumps({"commit": commit, "mutants": [asdict(m) for m in results]}, indent=1)
            )
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nCPU of the test runs: {_children_cpu():.0f} s")
    print("module        killed/run  (survived, not run)")
    for module in args.modules:
        mine = [m for m in results if m.module == module]
        run = [m for m in mine if m.outcome in {"killed", "survived", "timeout"}]
        killed = sum(m.outcome in {"killed", "timeout"} for m in run)
        survived = sum(m.outcome == "survived" for m in run)
        print(f"{module:13} {killed:4}/{len(run):<4}   ({survived}, {len(mine) - len(run)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
