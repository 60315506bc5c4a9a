"""The typed failures of faceguard's cassettes, under ``faceguard.FaceGuardError``.

Each names the cassette and the interactions concerned by method and path (the scrubbed ones,
with placeholders for ids and hosts); none holds a body, an image, a key or an id in clear, so
printing one into a CI log is safe.
"""

from __future__ import annotations

from .._exceptions import ConfigurationError, FaceGuardError

__all__ = [
    "CassetteError",
    "CassetteMismatchError",
    "RecordModeError",
    "UnplayedInteractionsError",
]


class CassetteError(FaceGuardError):
    """A cassette cannot answer the test as recorded.

    ``cassette`` is the cassette's path (text); the message says what to do.
    """

    def __init__(self, message: str, *, cassette: str) -> None:
        super().__init__(message)
        self.cassette = cassette


class CassetteMismatchError(CassetteError):
    """A request found no recorded interaction to answer it (nothing was sent).

    ``request`` is ``"METHOD /path?query"`` as the cassette would hold it; ``differences``
    the lines saying how it differs from the closest recorded request (the JSON fields, the
    multipart parts, image digests), empty when nothing similar was recorded.
    """

    def __init__(
        self, message: str, *, cassette: str, request: str, differences: tuple[str, ...]
    ) -> None:
        super().__init__(message, cassette=cassette)
        self.request = request
        self.differences = differences


class UnplayedInteractionsError(CassetteError):
    """A replay left recorded interactions unplayed: the code under test no longer makes a
    call it made when the cassette was recorded (an erasure step removed, a check skipped).

    ``unplayed`` lists them as ``"METHOD /path"``, in recorded order.
    """

    def __init__(self, message: str, *, cassette: str, unplayed: tuple[str, ...]) -> None:
        super().__init__(message, cassette=cassette)
        self.unplayed = unplayed


class RecordModeError(ConfigurationError):
    """A record mode that cannot work: an unknown name, live and recording at once, or
    ``new_episodes``/``any`` on a cassette whose replayed calls created state the service
    never saw."""


# Tracebacks, reprs and the contract tests' failure lines name the public location
# (``faceguard.testing.UnplayedInteractionsError``), where a user imports and catches them.
for _error in (CassetteError, CassetteMismatchError, RecordModeError, UnplayedInteractionsError):
    _error.__module__ = "faceguard.testing"
del _error
