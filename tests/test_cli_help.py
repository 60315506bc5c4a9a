"""The command line explains itself: ``--version``, and a ``--help`` for every subcommand
with a description and its choices.

The walk goes through ``--help`` output only (what a user reads): it finds each command's
subcommands in its usage line and recurses, so a subcommand added later is checked too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

import faceguard
from faceguard.__main__ import main

_SUBCOMMANDS = re.compile(r"\{([a-z][a-z0-9,-]*)\}")
_SECTION = re.compile(r"^(positional arguments|options|optional arguments):$", re.MULTILINE)


def _help(path: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: faceguard")
    return out


def _usage(text: str) -> str:
    return text.split("\n\n", 1)[0]


def _description(text: str) -> str:
    """The paragraphs between the usage block and the first argument section."""
    after_usage = text.split("\n\n", 1)[1] if "\n\n" in text else ""
    match = _SECTION.search(after_usage)
    return (after_usage[: match.start()] if match else after_usage).strip()


def _subcommands(text: str) -> list[str]:
    """The choices of the positional subcommand group in the usage line (none for a leaf)."""
    usage = _usage(text)
    found = _SUBCOMMANDS.findall(usage.split("]", 1)[-1]) if "]" in usage else []
    return found[-1].split(",") if found and "..." in usage else []


def _walk(path: list[str], capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[list[str], str]]:
    text = _help(path, capsys)
    yield path, text
    for name in _subcommands(text):
        yield from _walk([*path, name], capsys)


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def every_help(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> list[tuple[list[str], str]]:
    monkeypatch.setenv("COLUMNS", "100")
    return list(_walk([], capsys))


def test_the_walk_reaches_every_command(every_help: list[tuple[list[str], str]]) -> None:
    paths = {" ".join(path) for path, _ in every_help}
    for expected in ("", "demo", "version", "audit verify", "consent issue", "emulator serve"):
        assert expected in paths
    assert len(paths) >= 14


def test_every_command_has_a_description(every_help: list[tuple[list[str], str]]) -> None:
    missing = [" ".join(path) or "(top)" for path, text in every_help if not _description(text)]
    assert not missing, f"no description in --help of: {missing}"


def test_every_subcommand_is_listed_with_a_summary(
    every_help: list[tuple[list[str], str]],
) -> None:
    for path, text in every_help:
        for name in _subcommands(text):
            line = re.search(rf"^ {{4}}{re.escape(name)}(?: +(\S.*))?$", text, re.MULTILINE)
            assert line is not None, f"{path} --help does not list {name}"
            summary = line.group(1) or text[line.end() :].lstrip("\n").split("\n", 1)[0]
            assert summary.strip(), f"{path} {name} has no summary"


def test_every_option_says_what_it_is(every_help: list[tuple[list[str], str]]) -> None:
    """Each argument line of every help has words after it (its help), not a bare flag."""
    for path, text in every_help:
        match = _SECTION.search(text)
        assert match is not None
        body = text[match.start() :]
        lines = body.splitlines()
        for number, line in enumerate(lines):
            entry = re.match(r"^  (-\S.*?|[a-z]\S*)(?:  +(\S.*))?$", line)
            if entry is None or line.startswith("    "):
                continue
            following = lines[number + 1] if number + 1 < len(lines) else ""
            has_help = entry.group(2) or following.startswith(" " * 8)
            assert has_help, f"`faceguard {' '.join(path)}`: {line.strip()!r} has no help"


def _closed_sets() -> list[tuple[list[str], str, set[str]]]:
    from faceguard._guard._claims import CONTAINER_KINDS
    from faceguard._guard._usecases import CONSENT_OPERATIONS

    return [
        (["consent", "issue"], "--op", set(CONSENT_OPERATIONS)),
        (["consent", "issue"], "--use-case", {uc.value for uc in faceguard.UseCase}),
        (["consent", "issue"], "--bind", set(CONTAINER_KINDS)),
        (["consent", "issue"], "--use", {"once", "session", "standing"}),
    ]


@pytest.mark.parametrize(("path", "option", "values"), _closed_sets())
def test_an_option_with_a_closed_set_lists_every_value(
    path: list[str],
    option: str,
    values: set[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    text = _flat(_help(path, capsys))
    options = text[text.index("options:") :]
    start = options.index(f" {option} ")
    nxt = re.search(r" --[a-z]", options[start + len(option) + 2 :])
    entry = options[start : start + len(option) + 2 + (nxt.start() if nxt else len(options))]
    missing = sorted(value for value in values if value not in entry)
    assert not missing, f"{option} help does not list {missing}: {entry!r}"


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"faceguard {faceguard.__version__}\n"


def test_version_flag_of_the_installed_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "faceguard", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"faceguard {faceguard.__version__}"


def test_demo_help_documents_the_report_path(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    text = _help(["demo"], capsys)
    assert "--html PATH" in text
    assert "--images DIR" in text


def test_a_reader_that_goes_away_is_not_a_traceback() -> None:
    """`faceguard demo | head -1`: the demo stops quietly when its reader closes the pipe."""
    process = subprocess.Popen(
        [sys.executable, "-m", "faceguard", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    errors = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=120) == 1
    assert first.startswith(b"faceguard ")
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors


def test_a_missing_subcommand_names_the_choices(
    every_help: list[tuple[list[str], str]], capsys: pytest.CaptureFixture[str]
) -> None:
    groups = [(path, _subcommands(text)) for path, text in every_help if _subcommands(text)]
    assert len(groups) >= 5
    for path, choices in groups:
        with pytest.raises(SystemExit) as done:
            main(path)
        assert done.value.code == 2
        error = capsys.readouterr().err.splitlines()[-1]
        assert "{" + ",".join(choices) + "}" in error, error
        assert "_command" not in error and "command" not in error.split(":")[-1]
