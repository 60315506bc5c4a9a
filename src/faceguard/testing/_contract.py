"""The plugin's cassette half: options, marker, header line, strict replay and safe reports.

Hooks and fixtures here are re-exported by ``_plugin`` (the ``pytest11`` entry point):

``--faceguard-record-mode MODE``
    ``none`` (replay, the default), ``once`` (record missing cassettes), ``all`` (re-record
    whole cassettes against ``FACEGUARD_ENDPOINT``). Beats the marker's ``record_mode``, which
    beats pytest-recording's ``--record-mode`` and ``FACEGUARD_RECORD_MODE``.
``--faceguard-live`` (or ``FACEGUARD_LIVE=1``)
    The contract fixtures talk to ``FACEGUARD_ENDPOINT``; no cassette is read or written.
``--faceguard-failed-recordings discard|aside`` (ini ``faceguard_failed_recordings``)
    What becomes of a recording whose test failed or that captured a 401, 403 or 5xx.
``@pytest.mark.faceguard_cassette(name=None, record_mode=None, strict=True, record_errors=False)``
    Puts the test on a cassette (``faceguard_cassette``) without asking for the fixture;
    ``name`` replaces the test's name as the file name, ``strict=False`` lets a replay leave
    recorded interactions unplayed.

The header line of every run names the backend the contract fixtures use (and says so when
``FACEGUARD_ENDPOINT`` is set but not used). A failure caused by a cassette (a mismatch, an
unplayed interaction, a refused record mode) is reported by its message and the test's own
lines only: no frame of the client or of vcrpy, whose locals may hold image bytes, reaches the
log, whatever ``--showlocals`` or ``--tb`` say.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from . import _modes
from ._errors import CassetteError, RecordModeError

__all__ = [
    "cassette_name",
    "faceguard_cassette",
    "faceguard_cassette_path",
    "faceguard_recording",
    "settings_of",
]

_SETTINGS = pytest.StashKey[_modes.Settings]()
_NOTES = pytest.StashKey[list[str]]()
_FAILED = pytest.StashKey[bool]()
_PASSED = pytest.StashKey[bool]()
_MARKER = "faceguard_cassette"
_MARKER_OPTIONS = frozenset({"name", "record_mode", "strict", "record_errors"})


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("faceguard", "faceguard cassettes and contract tests")
    group.addoption(
        "--faceguard-record-mode",
        dest="faceguard_record_mode",
        default=None,
        choices=_modes.RECORD_MODES,
        help="record mode of faceguard cassettes: none (replay, default), once, all "
        "(re-record whole cassettes against FACEGUARD_ENDPOINT)",
    )
    group.addoption(
        "--faceguard-live",
        dest="faceguard_live",
        action="store_true",
        default=False,
        help="run contract tests against FACEGUARD_ENDPOINT; cassettes neither read nor written "
        f"(also {_modes.LIVE_ENV}=1)",
    )
    group.addoption(
        "--faceguard-failed-recordings",
        dest="faceguard_failed_recordings",
        default=None,
        choices=_modes.FAILED_RECORDINGS,
        help="a recording whose test failed or that captured a 401/403/5xx: discard (default) "
        "or keep aside as <name>.rejected.yaml",
    )
    parser.addini(
        "faceguard_failed_recordings",
        "discard (default) or aside: what becomes of a failed or erroneous recording",
        default="discard",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(name=None, record_mode=None, strict=True, record_errors=False): run the "
        "test on a faceguard cassette",
    )
    recording_mode = config.getoption("record_mode", default=None)  # pytest-recording's
    try:
        settings = _modes.resolve(
            option_mode=config.getoption("faceguard_record_mode"),
            option_live=bool(config.getoption("faceguard_live")),
            pytest_recording_mode=recording_mode if isinstance(recording_mode, str) else None,
            failed_recordings=config.getoption("faceguard_failed_recordings")
            or str(config.getini("faceguard_failed_recordings")).strip(),
        )
    except RecordModeError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_SETTINGS] = settings
    config.stash[_NOTES] = []
    _modes.set_current(settings)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SETTINGS in config.stash:
        _modes.clear_current(config.stash[_SETTINGS])


def settings_of(config: pytest.Config) -> _modes.Settings:
    """The run's settings (resolved in ``pytest_configure``)."""
    return config.stash[_SETTINGS]


def _origin_only(endpoint: str) -> str:
    """An endpoint as the header line may show it: scheme, host, port and path, never user
    info, a query or a fragment (where a misplaced key would sit)."""
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint.strip())
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ":(invalid port)"
    if not parts.scheme or not parts.hostname:
        return "(not a URL)" if endpoint.strip() else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


def pytest_report_header(config: pytest.Config) -> str:
    import os

    from ._stable import REPLAY_ENDPOINT

    settings = settings_of(config)
    endpoint = _origin_only(os.environ.get("FACEGUARD_ENDPOINT", ""))
    prefix = "faceguard: face_client & co. on the in-process emulator; recorded_face_client & co."
    if settings.live:
        where = endpoint or "FACEGUARD_ENDPOINT (NOT SET)"
        return f"{prefix} LIVE against {where} (cassettes neither read nor written)"
    if settings.record_mode == "none":
        line = f"{prefix} replay cassettes (record mode none, strict) on {REPLAY_ENDPOINT}"
        if endpoint:
            line += (
                f"; FACEGUARD_ENDPOINT={endpoint} is NOT used (--faceguard-live runs against "
                "it, --faceguard-record-mode=all records from it)"
            )
        return line
    where = endpoint or "FACEGUARD_ENDPOINT (NOT SET)"
    return f"{prefix} record cassettes (record mode {settings.record_mode}) from {where}"


# -- the cassette fixtures ----------------------------------------------------------------------


def cassette_name(test_name: str) -> str:
    """The file name (without ``.yaml``) of a test's cassette: its name with each run of
    characters other than letters, digits, ``_``, ``.`` and ``-`` made one ``-``
    (``test_detect[async]`` -> ``test_detect-async``)."""
    return re.sub(r"[^\w.-]+", "-", test_name).strip("-")


def _marker_options(node: pytest.Item | Any) -> dict[str, Any]:
    marker = node.get_closest_marker(_MARKER)
    if marker is None:
        return {}
    options = dict(marker.kwargs)
    if marker.args:
        options.setdefault("name", marker.args[0])
    unknown = set(options) - _MARKER_OPTIONS
    if unknown or len(marker.args) > 1:
        raise RecordModeError(
            f"@pytest.mark.{_MARKER} takes name, record_mode, strict and record_errors; "
            f"not {sorted(unknown) or marker.args[1:]}"
        )
    return options


@pytest.fixture
def faceguard_cassette_path(request: pytest.FixtureRequest) -> Path:
    """Where ``faceguard_cassette`` keeps the test's interactions:
    ``<module's folder>/cassettes/<module>/<name>.yaml``, ``<name>`` being the marker's
    ``name`` or the test's. Override it to choose another."""
    module = Path(request.node.path)
    name = _marker_options(request.node).get("name") or request.node.name
    return module.parent / "cassettes" / module.stem / f"{cassette_name(str(name))}.yaml"


@pytest.fixture
def faceguard_recording(
    request: pytest.FixtureRequest, faceguard_cassette_path: Path
) -> Iterator[Any]:
    """The test's ``Recording`` (``faceguard.testing._recorder``), open for the whole test;
    ``None`` in live mode. ``faceguard_cassette`` is its vcrpy cassette."""
    from ._backend import replay_environment
    from ._recorder import Recording

    settings = settings_of(request.config)
    if settings.live:
        yield None
        return
    options = _marker_options(request.node)
    mode = settings.current_mode()
    if (
        options.get("record_mode") is not None
        and request.config.getoption("faceguard_record_mode") is None
    ):
        mode = _modes.resolve(
            option_mode=str(options["record_mode"]),
            option_live=False,
            pytest_recording_mode=None,
            failed_recordings=settings.failed_recordings,
        ).record_mode
    recording = Recording(
        faceguard_cassette_path,
        mode=mode,
        strict=bool(options.get("strict", True)),
        failed_recordings=settings.failed_recordings,
        record_errors=bool(options.get("record_errors", False)),
    )
    with pytest.MonkeyPatch.context() as patch:
        if recording.replaying:  # app code building its own client from the environment
            for name, value in replay_environment().items():
                patch.setenv(name, value)
        recording.open()
        try:
            yield recording
        finally:
            note = recording.close(test_failed=request.node.stash.get(_FAILED, False))
            if note is not None:
                request.config.stash[_NOTES].append(f"{request.node.nodeid}: {note}")
    # Checked here, after the teardowns of the fixtures that use the cassette (a fixture's
    # cleanup calls are recorded and must play), and only for a test that passed: a failed or
    # skipped one stops early, and saying so again would bury its own report.
    if request.node.stash.get(_PASSED, False):
        recording.check_unplayed()


@pytest.fixture
def faceguard_cassette(faceguard_recording: Any) -> Any:
    """A vcrpy cassette, active for the whole test, with faceguard's configuration: no key,
    token, image, id or host in clear is recorded, requests match on method, path, query and
    body digest. Returns vcrpy's ``Cassette``; ``None`` in live mode (nothing is recorded or
    replayed).

    Record mode: ``--faceguard-record-mode``, the marker's ``record_mode``,
    pytest-recording's ``--record-mode`` or ``FACEGUARD_RECORD_MODE``; ``none`` by default, so CI
    never records. Replay is strict (every recorded interaction must be played by the test
    and the fixtures' teardowns, else ``UnplayedInteractionsError`` at teardown) and sets
    ``FACEGUARD_ENDPOINT`` / ``FACEGUARD_API_KEY`` to placeholders for the test. A request
    the cassette cannot answer raises ``CassetteMismatchError``. Mode ``all`` records the
    cassette afresh, dropping what the test no longer does; a recording whose test failed or
    that captured a 401, 403 or 5xx is not written. Every httpx client is recorded, the
    in-process emulator's transport included (vcrpy patches httpx's client, not its network
    transports)."""
    return None if faceguard_recording is None else faceguard_recording.cassette


@pytest.fixture(autouse=True)
def _faceguard_cassette_marker(request: pytest.FixtureRequest) -> None:
    """A test marked ``faceguard_cassette`` runs on its cassette, fixture asked for or not."""
    if request.node.get_closest_marker(_MARKER) is not None:
        request.getfixturevalue("faceguard_cassette")


# -- strict replay and reports ------------------------------------------------------------------


def _cassette_failure(error: BaseException | None) -> BaseException | None:
    """The cassette error in an exception's chain: faceguard's, or vcrpy's own for a cassette
    that uses faceguard's matcher (turned into faceguard's)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (CassetteError, RecordModeError)):
            return error
        if type(error).__name__ == "CannotOverwriteExistingCassetteException":
            cassette = getattr(error, "cassette", None)
            names = [getattr(m, "__name__", "") for m in getattr(cassette, "_match_on", ())]
            failed = getattr(error, "failed_request", None)
            if "body_digest" in names and failed is not None and cassette is not None:
                # faceguard's configuration: its scrubbing hook is the cassette's, so the
                # message shows placeholders only.
                from ._recorder import mismatch_error

                return mismatch_error(cassette, failed, cassette._before_record_request)
        error = error.__cause__ or error.__context__
    return None


def _short_report(excinfo: pytest.ExceptionInfo[BaseException], error: BaseException) -> str:
    """The test's own lines of the traceback and the error's message; no locals, no frame of
    faceguard, httpx, vcrpy or pytest."""
    import faceguard

    package = str(Path(faceguard.__file__).parent)
    lines: list[str] = []
    for entry in excinfo.traceback:
        path = str(entry.path)
        if path.startswith(package) or "site-packages" in path or "/_pytest/" in path:
            continue
        if "pluggy" in path or not path.endswith(".py"):
            continue
        lines.append(f"{path}:{entry.lineno + 1}: in {entry.name}")
        try:
            lines.append(f"    {str(entry.statement).strip()}")
        except Exception:  # noqa: BLE001, S112 - the source may be gone; the location stays
            continue
    kind = type(error)
    lines.append(f"{kind.__module__}.{kind.__qualname__}: {error}")
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and report.when in ("setup", "call"):
        item.stash[_FAILED] = True
    if report.when == "call":
        item.stash[_PASSED] = report.passed
    if report.failed and call.excinfo is not None:
        error = _cassette_failure(call.excinfo.value)
        if error is not None:
            report.longrepr = _short_report(call.excinfo, error)
    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    notes = config.stash.get(_NOTES, [])
    if notes:
        terminalreporter.section("faceguard cassettes")
        for note in notes:
            terminalreporter.write_line(note)


@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:  # noqa: ARG001
    """With pytest-recording installed, its VCR gets faceguard's matchers, so
    a ``vcr_config`` fixture returning ``faceguard.testing.vcr_config()`` is all it needs."""
    from ._cassettes import register_matchers

    register_matchers(vcr)
