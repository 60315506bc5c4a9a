"""Which backend a pytest run's contract tests use, from its options and the environment.

One ``Settings`` per run, resolved once in ``pytest_configure``:

- **replay** (record mode ``none``, the default): cassettes answer, nothing is sent, no
  endpoint or key is needed.
- **record**: ``--faceguard-record-mode`` (or pytest-recording's ``--record-mode``, or
  ``FACEGUARD_RECORD_MODE``) names a vcrpy mode. ``all`` re-records whole cassettes against
  the server in ``FACEGUARD_ENDPOINT`` (the way to refresh a stateful flow); ``once`` records
  the cassettes that do not exist yet and replays the others. ``new_episodes`` and ``any`` are
  refused on a cassette whose replayed calls created state (``_recorder``).
- **live** (``--faceguard-live`` or ``FACEGUARD_LIVE=1``): the contract fixtures talk to
  ``FACEGUARD_ENDPOINT`` and cassettes are neither read nor written. Live and a recording
  mode at once are refused: they contradict each other.

The run's settings are also kept here (``current``) so that ``vcr_config()``, called from a
user's pytest-recording ``vcr_config`` fixture, leaves the record mode to pytest-recording
when its ``--record-mode`` was given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ._errors import RecordModeError

__all__ = [
    "FAILED_RECORDINGS",
    "LIVE_ENV",
    "RECORD_MODE_ENV",
    "RECORD_MODES",
    "Settings",
    "clear_current",
    "current",
    "parse_live",
    "record_mode",
    "resolve",
    "set_current",
]

RECORD_MODE_ENV = "FACEGUARD_RECORD_MODE"
"""The environment variable holding the vcrpy record mode; ``none`` when unset."""
LIVE_ENV = "FACEGUARD_LIVE"
"""``1`` runs the contract fixtures against ``FACEGUARD_ENDPOINT``, with no cassette."""
RECORD_MODES = ("all", "any", "new_episodes", "none", "once")
"""vcrpy's record modes."""
FAILED_RECORDINGS = ("discard", "aside")
"""What becomes of a recording whose test failed or that captured a 401, 403 or 5xx:
dropped (the cassette on disk, if any, is left as it was), or written beside the cassette
as ``<name>.rejected.yaml``."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def _mode(value: str, source: str) -> str:
    mode = value.strip().lower()
    if mode == "rewrite":  # pytest-recording's name for "record the cassette from scratch"
        return "all"
    if mode not in RECORD_MODES:
        raise RecordModeError(
            f"{source}={value!r} is not a record mode; use one of {', '.join(RECORD_MODES)}"
        )
    return mode


def record_mode(environ: Mapping[str, str] | None = None) -> str:
    """The record mode named by ``FACEGUARD_RECORD_MODE``; ``none`` when it is unset or empty.

    ``none`` never records: a request missing from the cassette fails, as it should in CI.
    ``all`` re-records the whole cassette (against a server), ``once`` records a cassette
    that does not exist yet. Raises ``RecordModeError`` (a ``ConfigurationError``) for
    another value.
    """
    env = os.environ if environ is None else environ
    value = env.get(RECORD_MODE_ENV, "")
    return _mode(value, RECORD_MODE_ENV) if value.strip() else "none"


def parse_live(value: str, source: str = LIVE_ENV) -> bool:
    """``FACEGUARD_LIVE``'s value as a flag: 1/true/yes/on or 0/false/no/off (any case)."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise RecordModeError(f"{source}={value!r} is not a flag; use 1 or 0")


@dataclass(frozen=True)
class Settings:
    """A run's backend for the contract fixtures and ``faceguard_cassette``."""

    record_mode: str
    """The vcrpy record mode faceguard's cassettes use (``none`` in live mode)."""
    live: bool
    """The contract fixtures talk to ``FACEGUARD_ENDPOINT``; cassettes are left alone."""
    failed_recordings: str
    """``discard`` or ``aside`` (``FAILED_RECORDINGS``)."""
    pytest_recording_mode: str | None = None
    """pytest-recording's ``--record-mode`` when it was given: ``vcr_config()`` then leaves
    the record mode out, so pytest-recording's option decides."""
    from_option: bool = False
    """``record_mode`` comes from a command-line option (faceguard's or pytest-recording's),
    not from ``FACEGUARD_RECORD_MODE``."""

    def current_mode(self) -> str:
        """The record mode now: the option's, else ``FACEGUARD_RECORD_MODE`` as it is now (a
        test may set it), ``none`` in live mode."""
        if self.live:
            return "none"
        return self.record_mode if self.from_option else record_mode()


def resolve(
    *,
    option_mode: str | None,
    option_live: bool,
    pytest_recording_mode: str | None,
    failed_recordings: str,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The run's settings: ``--faceguard-record-mode``, then pytest-recording's
    ``--record-mode``, then ``FACEGUARD_RECORD_MODE``; live from ``--faceguard-live`` or
    ``FACEGUARD_LIVE``. Raises ``RecordModeError`` for an unknown value and for live mode
    combined with a recording mode."""
    env = os.environ if environ is None else environ
    if option_mode is not None:
        mode = _mode(option_mode, "--faceguard-record-mode")
        source = "--faceguard-record-mode"
    elif pytest_recording_mode is not None:
        mode = _mode(pytest_recording_mode, "--record-mode")
        source = "--record-mode"
    else:
        mode = record_mode(env)
        source = RECORD_MODE_ENV
    live = option_live or parse_live(env.get(LIVE_ENV, ""))
    if live and mode != "none":
        raise RecordModeError(
            f"live mode ({'--faceguard-live' if option_live else LIVE_ENV}) neither reads nor "
            f"writes cassettes, but {source} asks to record ({mode!r}): choose one"
        )
    if failed_recordings not in FAILED_RECORDINGS:
        raise RecordModeError(
            f"faceguard_failed_recordings={failed_recordings!r}: use one of "
            f"{', '.join(FAILED_RECORDINGS)}"
        )
    from_option = option_mode is not None or pytest_recording_mode is not None
    return Settings(mode, live, failed_recordings, pytest_recording_mode, from_option)


_CURRENT: list[Settings] = []
"""The settings of the pytest runs in this process, innermost last (pytester may run one
inside another)."""


def set_current(settings: Settings) -> None:
    """Make ``settings`` the running pytest session's."""
    _CURRENT.append(settings)


def clear_current(settings: Settings) -> None:
    """The session that made ``settings`` current has ended."""
    if settings in _CURRENT:
        del _CURRENT[len(_CURRENT) - 1 - _CURRENT[::-1].index(settings)]


def current() -> Settings | None:
    """The running pytest session's settings, or ``None`` outside pytest (or with the plugin
    disabled)."""
    return _CURRENT[-1] if _CURRENT else None
