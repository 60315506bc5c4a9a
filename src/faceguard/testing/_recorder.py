"""One test's cassette, as the pytest plugin runs it: replayed strictly, recorded with care.

``Recording`` wraps a vcrpy cassette with faceguard's configuration (``_cassettes``) and adds
what vcrpy leaves to the user:

- **Typed, readable mismatches.** A request the cassette cannot answer raises
  ``CassetteMismatchError`` at once (instead of vcrpy's exception, whose hint,
  ``record_mode='new_episodes'``, breaks a stateful flow): the request as the cassette would
  hold it, what differs from the closest recording (``_diff``: JSON fields, image digests),
  and faceguard's hint, to re-record the whole cassette with ``--faceguard-record-mode=all``.
- **Strict replay.** ``check_unplayed`` raises ``UnplayedInteractionsError`` naming the
  recorded interactions the test did not play (opt out per test with ``strict=False``).
- **No stateful appends.** ``new_episodes`` and ``any`` replay the recorded calls and send only
  the new ones: the service never saw the groups and ids the replayed calls created, so the
  new call records a 404 or 400 that every later replay raises. They are refused on a
  cassette holding a call other than a GET, or an id the service issued.
- **Only good recordings are kept.** vcrpy writes through a persister that holds the
  cassette until ``close``: a recording whose test failed, or that captured a 401, 403 or 5xx
  (unless the test records errors on purpose, ``record_errors=True``), is dropped, leaving
  the cassette on disk as it was, or written aside as ``<name>.rejected.yaml``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._redact import UUID_RE, canonical_id
from ._cassettes import CassetteScrubber, make_vcr
from ._errors import CassetteMismatchError, RecordModeError, UnplayedInteractionsError
from ._ids import is_placeholder

__all__ = ["REJECTED_SUFFIX", "Recording", "is_rejected_status", "mismatch_error"]

REJECTED_SUFFIX = ".rejected.yaml"
"""What a recording kept aside is named: ``<test>.rejected.yaml`` beside ``<test>.yaml``."""
_SHOWN = 10
_RERECORD = (
    "If the change is intended, re-record the whole cassette against a server: run the test "
    "with --faceguard-record-mode=all (FACEGUARD_RECORD_MODE=all) and FACEGUARD_ENDPOINT / "
    "FACEGUARD_API_KEY naming it (`faceguard emulator serve` will do). Not new_episodes: the "
    "calls replayed before this one created state (groups, persons, faceIds) that the service "
    "never saw, so the new call would record a 404 or 400."
)


def is_rejected_status(status: int) -> bool:
    """A response status that makes a recording suspect: 401/403 (a wrong key or resource)
    and 5xx (the service failing, not the contract)."""
    return status in (401, 403) or status >= 500


def _line(request: Any) -> str:
    """``METHOD /path?query`` of a (scrubbed) vcrpy request: never the origin or a body."""
    parts = urlsplit(str(request.uri))
    return f"{request.method} {parts.path}" + (f"?{parts.query}" if parts.query else "")


def mismatch_error(cassette: Any, request: Any, scrub: Any) -> CassetteMismatchError:
    """``CassetteMismatchError`` for a request ``cassette`` could not answer. ``scrub`` is the
    cassette's ``before_record_request`` (the request is copied first)."""
    shown = _line(scrub(copy.deepcopy(request)))
    path = str(getattr(cassette, "_path", "?"))
    similar = cassette.find_requests_with_most_matches(request)
    lines = [f"faceguard cassette {path} cannot answer {shown}"]
    differences: list[str] = []
    if not len(cassette):
        lines.append(
            "The cassette is empty or does not exist: record it with "
            "--faceguard-record-mode=once (or =all) and FACEGUARD_ENDPOINT / FACEGUARD_API_KEY "
            "naming a server (`faceguard emulator serve` will do)."
        )
    else:
        if similar and not similar[0][2]:
            lines.append(
                "It matches a recorded interaction that was already played: the code makes "
                "this call more often than when the cassette was recorded."
            )
        elif similar:
            recorded, _matched, failed = similar[0]
            lines.append(f"Closest recorded request: {_line(recorded)}")
            for name, message in failed:
                detail = [d for d in str(message or "").splitlines() if d.strip()]
                differences.extend(detail)
                lines.append(f"  {name} differs" + (" (sent != recorded):" if detail else ""))
                lines.extend(f"    {d}" for d in detail)
        else:
            lines.append("Nothing like it was recorded.")
        lines.append(_RERECORD)
    return CassetteMismatchError(
        "\n".join(lines), cassette=path, request=shown, differences=tuple(differences)
    )


def _is_stateful(cassette: Any) -> bool:
    """The cassette's recorded calls changed the service (anything but a GET) or hold an id
    the service issued: replaying them cannot recreate that state on a live server."""
    for request in cassette.requests:
        if str(request.method).upper() != "GET":
            return True
        for match in UUID_RE.finditer(str(request.uri)):
            canonical = canonical_id(match.group())
            if is_placeholder(canonical) and canonical[16] == "8":
                return True
    return False


class _HeldPersister:
    """vcrpy's filesystem persister, except that saving only holds the cassette: ``close``
    decides whether it is written, and where."""

    def __init__(self) -> None:
        from vcr.persisters.filesystem import FilesystemPersister  # type: ignore[import-untyped]

        self.filesystem = FilesystemPersister
        self.held: tuple[Any, dict[str, Any], Any] | None = None

    def load_cassette(self, cassette_path: Any, serializer: Any) -> Any:
        return self.filesystem.load_cassette(cassette_path, serializer)

    def save_cassette(
        self, cassette_path: Any, cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        self.held = (cassette_path, cassette_dict, serializer)


class Recording:
    """One test's cassette: ``open()`` it, run the test, ``close()``, ``check_unplayed()``.

    Args:
        path: the cassette file.
        mode: the vcrpy record mode (``_modes``).
        strict: a replay must play every recorded interaction.
        failed_recordings: ``discard`` or ``aside``.
        record_errors: keep a recording that captured a 401, 403 or 5xx (a test of error
            handling records them on purpose).
    """

    def __init__(
        self,
        path: Path,
        *,
        mode: str,
        strict: bool = True,
        failed_recordings: str = "discard",
        record_errors: bool = False,
    ) -> None:
        self.path = path
        self.mode = mode
        self.strict = strict
        self.failed_recordings = failed_recordings
        self.record_errors = record_errors
        self.replaying = mode == "none" or (mode == "once" and path.is_file())
        """Nothing is sent: every answer comes from the cassette."""
        self.cassette: Any = None
        self._context: Any = None
        self._persister = _HeldPersister()
        self._scrubber = CassetteScrubber(seed=mode != "all")

    def open(self) -> Any:
        """Enter the cassette (patching httpx); the vcrpy ``Cassette``."""
        hooks = {
            "before_record_request": self._scrubber.request,
            "before_record_response": self._scrubber.response,
        }
        options: dict[str, Any] = {**hooks, "record_mode": self.mode, "persister": self._persister}
        if self.mode == "all":
            options["drop_unused_requests"] = True  # the whole cassette, afresh
        self._context = make_vcr(**hooks).use_cassette(str(self.path), **options)
        cassette = self._context.__enter__()
        self.cassette = cassette
        if self.mode == "all":
            # vcrpy ran the hooks over the loaded interactions, which "all" drops: forget the
            # ids and origins they held (an old cassette's in clear would shift the numbering).
            self._scrubber.reset()
        if self.mode in ("new_episodes", "any") and len(cassette) and _is_stateful(cassette):
            self._context.__exit__(None, None, None)
            self._context = None
            raise RecordModeError(
                f"record mode {self.mode!r} would append to {self.path}, whose recorded calls "
                "created state on the service (groups, persons, faceIds) that a live server "
                "never saw: the new calls would record 404s and 400s. Re-record the whole "
                "cassette with --faceguard-record-mode=all (FACEGUARD_RECORD_MODE=all)."
            )
        original = cassette.can_play_response_for

        def can_play_response_for(request: Any) -> bool:
            # vcrpy's stubs ask this first and raise their own error next when the cassette is
            # write-protected: raise the typed one here instead, with faceguard's hint.
            if original(request):
                return True
            if cassette.write_protected and cassette.filter_request(request):
                raise mismatch_error(cassette, request, self._scrubber.request) from None
            return False

        cassette.can_play_response_for = can_play_response_for
        return cassette

    def unplayed(self) -> list[str]:
        """The recorded interactions not played, as ``METHOD /path``, in recorded order."""
        if self.cassette is None or not self.replaying:
            return []
        played = self.cassette.play_counts
        return [_line(r) for i, r in enumerate(self.cassette.requests) if not played[i]]

    def check_unplayed(self) -> None:
        """Raise ``UnplayedInteractionsError`` when a strict replay left interactions unplayed."""
        if not self.strict:
            return
        unplayed = self.unplayed()
        if not unplayed:
            return
        listed = "\n".join(f"  {line}" for line in unplayed[:_SHOWN])
        more = f"\n  ... and {len(unplayed) - _SHOWN} more" if len(unplayed) > _SHOWN else ""
        raise UnplayedInteractionsError(
            f"faceguard cassette {self.path}: {len(unplayed)} recorded interaction(s) were not "
            f"replayed; the code under test no longer makes these calls:\n{listed}{more}\n"
            "If that is intended, re-record the cassette (--faceguard-record-mode=all); to "
            "allow it for this test, mark it @pytest.mark.faceguard_cassette(strict=False).",
            cassette=str(self.path),
            unplayed=tuple(unplayed),
        )

    def close(self, *, test_failed: bool) -> str | None:
        """Leave the cassette and write what was recorded, if it deserves it. A note for the
        test report when a recording was dropped or kept aside, else ``None``."""
        if self._context is None:
            return None
        context, self._context = self._context, None
        context.__exit__(None, None, None)
        held, self._persister.held = self._persister.held, None
        if held is None:
            return None
        cassette_path, cassette_dict, serializer = held
        reason = self._rejection(cassette_dict, test_failed)
        aside = self.path.with_name(self.path.stem + REJECTED_SUFFIX)
        if reason is None:
            self._persister.filesystem.save_cassette(cassette_path, cassette_dict, serializer)
            aside.unlink(missing_ok=True)  # a stale rejected recording of this test
            return None
        kept = "the cassette on disk is unchanged" if self.path.is_file() else "nothing written"
        if self.failed_recordings == "aside":
            self._persister.filesystem.save_cassette(str(aside), cassette_dict, serializer)
            kept += f"; the recording was kept aside as {aside.name}"
        return f"recording of {self.path} not kept: {reason} ({kept})"

    def _rejection(self, cassette_dict: dict[str, Any], test_failed: bool) -> str | None:
        if test_failed:
            return "the test failed"
        if self.record_errors:
            return None
        for request, response in zip(
            cassette_dict.get("requests", ()), cassette_dict.get("responses", ()), strict=False
        ):
            status = response.get("status", {}).get("code") if isinstance(response, dict) else None
            if isinstance(status, int) and is_rejected_status(status):
                return (
                    f"it captured a {status} for {_line(request)} (a wrong key or resource, or "
                    "the service failing; mark the test "
                    "@pytest.mark.faceguard_cassette(record_errors=True) to record it on purpose)"
                )
        return None
