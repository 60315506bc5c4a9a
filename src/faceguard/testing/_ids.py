"""Stable placeholders for the ids in a cassette: no faceId, personId or persistedFaceId in clear.

Which ids: every UUID, in every spelling ``faceguard._redact.UUID_RE`` knows (either case,
braces, ``%2D`` or ``\\u002d`` dashes, 32 bare hex digits), wherever it stands: the URL's
path and query, the headers and the bodies of requests and responses. A cassette cannot tell
a faceId from a personId or a session id any better than an error message can (see
``faceguard._redact``), and the support request ids that must stay readable in errors are
never recorded at all (those headers are dropped), so nothing is spared.

What replaces them: a UUID that reads as a placeholder, so the client's own checks (a faceId
is 8-4-4-4-12 hex) accept it on replay, written in the spelling of the id it replaces (so the
length, the case and the dashes of the recorded text do not change):

- ``00000000-face-4000-8000-000000000001``, ``...-000000000002`` ...: an id the service
  *issued* (first seen in a response), numbered in the order the cassette first met it. A
  replay hands the client the placeholder, so the requests that follow carry it and match;
  recording the same flow again numbers the service's new ids the same way, so no line of the
  cassette changes.
- ``00000000-face-4000-9xxx-xxxxxxxxxxxx``: an id the test itself named (first seen in a
  request), from the SHA-256 of the id. A replay cannot hand the test its own id back, so the
  placeholder must be one the live request gives again: a digest of the id (not reversible: a
  UUID has 122 random bits).

The same id gets the same placeholder everywhere in one cassette (one ``IdPlaceholders`` per
cassette holds the mapping, in memory only). Placeholders are left as they are, so scrubbing
is idempotent, and a cassette loaded to be appended to numbers its new ids after its highest
placeholder.
"""

from __future__ import annotations

import hashlib
import re
import threading

from .._redact import UUID_RE, canonical_id

__all__ = ["IdPlaceholders", "is_placeholder", "raw_ids"]

_PREFIX = "00000000face4000"
_ISSUED = "8"
_NAMED = "9"
_COUNTER_DIGITS = 15
_SEPARATORS = re.compile(r"-|%2[Dd]|%252[Dd]|\\+u002[Dd]")


def is_placeholder(canonical: str) -> bool:
    """Whether a UUID's 32 lower-case hex digits are one of the cassette placeholders."""
    return canonical.startswith(_PREFIX) and canonical[16:17] in (_ISSUED, _NAMED)


def raw_ids(text: str) -> list[re.Match[str]]:
    """The UUIDs in ``text`` that are not placeholders: ids in clear."""
    return [m for m in UUID_RE.finditer(text) if not is_placeholder(canonical_id(m.group()))]


def _spelled_like(canonical: str, original: str) -> str:
    """``canonical`` (32 hex digits) written with ``original``'s separators and case."""
    separators = _SEPARATORS.findall(original)
    if len(separators) == 4:
        groups = (canonical[8:12], canonical[12:16], canonical[16:20], canonical[20:])
        pairs = zip(separators, groups, strict=True)
        text = canonical[:8] + "".join(sep + group for sep, group in pairs)
    else:
        text = canonical
    digits = _SEPARATORS.sub("", original)
    if any(c in "ABCDEF" for c in digits) and not any(c in "abcdef" for c in digits):
        return text.upper()
    return text


class IdPlaceholders:
    """The id-to-placeholder mapping of one cassette.

    ``numbered=False`` gives every id its digest placeholder, with no state: what the plain
    ``scrub_request``/``scrub_response`` hooks use. ``seed=False`` ignores the placeholders
    already in the cassette when numbering (for a cassette recorded afresh, whose old
    interactions are all dropped).
    """

    def __init__(self, *, numbered: bool = True, seed: bool = True) -> None:
        self._numbered = numbered
        self._seed = seed
        self._known: dict[str, str] = {}
        self._count = 0
        # vcrpy may call the hooks from several threads (a client's concurrent requests).
        self._lock = threading.Lock()

    def scrub(self, text: str, *, issued: bool) -> str:
        """``text`` with every id in clear replaced by its placeholder; ``issued`` says the
        text is a response's (ids first seen there are numbered)."""
        if not UUID_RE.search(text):
            return text
        with self._lock:
            return UUID_RE.sub(lambda m: self._replace(m.group(), issued), text)

    def scrub_bytes(self, data: bytes, *, issued: bool) -> bytes:
        """``scrub`` for a body of any bytes (ids are ASCII; other bytes pass unchanged)."""
        return self.scrub(data.decode("latin-1"), issued=issued).encode("latin-1")

    def _replace(self, spelled: str, issued: bool) -> str:
        canonical = canonical_id(spelled)
        if is_placeholder(canonical):
            if self._seed and canonical[16] == _ISSUED:
                self._count = max(self._count, int(canonical[17:], 16))
            return spelled
        placeholder = self._known.get(canonical)
        if placeholder is None:
            if issued and self._numbered:
                self._count += 1
                placeholder = f"{_PREFIX}{_ISSUED}{self._count:0{_COUNTER_DIGITS}x}"
            else:
                digest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
                placeholder = f"{_PREFIX}{_NAMED}{digest[:_COUNTER_DIGITS]}"
            if self._numbered:
                self._known[canonical] = placeholder
        return _spelled_like(placeholder, spelled)
