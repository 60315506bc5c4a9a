"""Developer sessions: ``nox -s tests``, ``nox -s lint``, ``nox -s typecheck``, ``nox -s bench``,
``nox -s record``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.error_on_missing_interpreters = False

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite (what CI runs)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "src")


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark (benchmarks/run_all.py): client CPU per call and import time next to raw
    httpx and azure-ai-vision-face, async throughput, the faceId registry at 1M, bulk; writes
    benchmarks/RESULTS.md. ``nox -s bench -- --quick`` is a smoke run (not a result)."""
    session.install("-e", ".[bench,emulator,consent,redis]")
    session.run("python", "benchmarks/run_all.py", "--write-results", *session.posargs)


@nox.session
def record(session: nox.Session) -> None:
    """Re-record faceguard's own cassettes (tests/cassettes) from the emulator served on
    loopback HTTP with its real face engine, check them, then replay them as CI does.

    ``nox -s record -- -k liveness`` re-records only the tests selected."""
    session.install("-e", ".[dev]")
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/test_cassette_replay.py",
        *session.posargs,
        env={"FACEGUARD_RECORD_MODE": "all"},
    )
    session.run("faceguard", "testing", "check-cassettes", "tests/cassettes")
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/test_cassette_replay.py",
        env={"FACEGUARD_RECORD_MODE": "none"},
    )


@nox.session
def docs(session: nox.Session) -> None:
    """The docs site: mkdocs-material + mkdocstrings, --strict (as in CI)."""
    session.install("-e", ".[dev]")
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    session.run("mkdocs", "build", "--strict", *session.posargs)
