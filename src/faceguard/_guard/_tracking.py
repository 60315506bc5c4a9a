"""Tracking caps (R17): no ongoing surveillance or persistent tracking without consent.

The code of conduct forbids using Face for the ongoing surveillance of a person, or their
persistent tracking, without that person's valid consent. The guard cannot see a camera, but
it sees the pattern such use leaves in the calls, and counts two of them in the guard store
(so every process sharing a SQLite file or a Redis server shares the counts):

- **identifications of one person from one source in an hour** (soft rule
  ``tracking_identification_cap``, default 10): a person presenting themselves at a door or
  kiosk a few times an hour stays far below it; a camera that recognises the same passer-by
  over and over crosses it within minutes;
- **detect calls from one source in a minute** (soft rule ``tracking_detect_cap``, default
  60, one frame a second): people stepping up to a kiosk never reach it; a video loop does.

A *source* is what the caller names it: ``source_id=`` on the call (a camera, a kiosk, a
door), else ``GuardPolicy(source_id=...)`` for a client that serves one source. Source ids are
counted under a keyed pseudonym, never stored in clear. Identifications from calls that name
no source count under one source for the whole application on that Face resource (an
application that does not say where its images come from is treated as one camera); detect
calls that name no source are not counted (nothing tells a video loop from a batch of
uploads then).

What counts as identifying a person: being returned as an identify candidate, being the
person a verify call checks a face against (``verify_from_*``: known before sending), and,
for face lists (where each face is its own unit of consent), being a face find-similar
returns. All three share one count per person and source.

Past a cap, the call needs a consent token that says the subject agreed to continuous
identification (``consent.cnt``, ``ConsentIssuer.issue(..., continuous_identification=True)``)
or an audited ``Override`` of that rule. Detect and verify calls over their cap are refused
before they are sent (``TrackingCapError``); identify and find-similar cannot know whom they
will match before the answer, so matches over their cap are withheld from the result, as
candidates without consent are, and the withholding is audited. Attempts past a cap count
too: a source that keeps trying stays capped until it pauses for the length of the window,
so a loop never gets its matches through at the cap's rate.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections.abc import Sequence

from .._exceptions import InvalidInputError, TrackingCapError
from ._override import Override
from ._store import GuardStore, count_events

__all__ = [
    "DETECT_WINDOW",
    "IDENTIFY_WINDOW",
    "TrackingCounter",
    "check_override",
    "check_source_id",
]

DETECT_WINDOW = 60.0
"""The detect cap's window, in seconds."""
IDENTIFY_WINDOW = 3600.0
"""The identification cap's window, in seconds."""

_NS_DETECT = "tracking-detect"
_NS_IDENTIFY = "tracking-identify"
_SOURCE = "source"  # the pseudonym kind of source ids
_MAX_SOURCE = 256
_UNNAMED = "\x00application"  # no caller-given source id can hold NUL
_REMEMBERED_SOURCES = 256


@functools.lru_cache(maxsize=256)
def _canonical(value: str) -> str:
    # NFKC folds fullwidth and compatibility forms; format characters (zero-width spaces,
    # joiners, bidi marks) are dropped; case and surrounding whitespace do not matter.
    text = unicodedata.normalize("NFKC", value)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return text.strip().casefold()


def check_source_id(value: object, parameter: str = "source_id") -> str | None:
    """None, or a source id in its canonical spelling: ``"Door-1"``, ``" door-1 "``,
    ``door-1`` in fullwidth letters and ``"door\u200b-1"`` are one source, so a cap cannot be
    side-stepped by respelling the name. Printable text, 1 to 256 characters once
    canonical; never echoed."""
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 4 * _MAX_SOURCE:
        raise InvalidInputError(
            parameter, "type", f"must be a non-empty string of at most {_MAX_SOURCE} characters"
        )
    if not value.isprintable() and any(unicodedata.category(c) in {"Cc", "Cs"} for c in value):
        raise InvalidInputError(
            parameter, "unicode", "must be text without control characters or lone surrogates"
        )
    canonical = _canonical(value)
    if not 0 < len(canonical) <= _MAX_SOURCE or not canonical.isprintable():
        raise InvalidInputError(
            parameter,
            "value",
            f"must hold 1 to {_MAX_SOURCE} printable characters besides spaces and format "
            "characters",
        )
    return canonical


def check_override(value: object) -> Override | None:
    """None or an ``Override`` (checked when the call is built, not at its first use)."""
    if value is not None and not isinstance(value, Override):
        raise InvalidInputError("override", "type", "must be an Override or None")
    return value


class TrackingCounter:
    """The two R17 counters of one guard, on its store.

    Keys: the source's pseudonym (an HMAC under the store key, remembered for the few sources
    a process serves), and for identifications the person's container and id as the ledger
    files them, so one count per (source, person) per hour.
    """

    def __init__(self, store: GuardStore, *, endpoint: str) -> None:
        self._store = store
        # Counts belong to one Face resource: two resources' persons are different people.
        self._resource = hashlib.sha256(endpoint.encode("utf-8")).hexdigest()[:16]
        self._sources: dict[str | None, str] = {}

    def _source_key(self, source_id: str | None) -> str:
        key = self._sources.get(source_id)
        if key is None:
            if len(self._sources) >= _REMEMBERED_SOURCES:
                self._sources.clear()
            named = _UNNAMED if source_id is None else source_id
            pseudonym = self._store.pseudonym(_SOURCE, f"{self._resource}\n{named}")
            # 64 bits of the HMAC: ample to keep sources apart in a count, and short keys
            # are cheaper to hash, send and store on every call.
            key = self._sources[source_id] = pseudonym[-16:]
        return key

    def count_detect(self, source_id: str, *, limit: int) -> int:
        """Count one detect call from ``source_id``; the calls in the last minute, at most
        ``limit + 1``."""
        key = self._source_key(source_id)
        return count_events(self._store, _NS_DETECT, [key], window=DETECT_WINDOW, limit=limit + 1)[
            0
        ]

    def count_identifications(
        self,
        source_id: str | None,
        kind: str,
        container_id: str | None,
        person_ids: Sequence[str],
        *,
        limit: int,
    ) -> list[int]:
        """Count one identification of each person of a container from the source; per
        person, those in the last hour, at most ``limit + 1``. One store operation for all
        of them. Person ids are the service's UUIDs, compared without regard to case."""
        prefix = f"{self._source_key(source_id)}|{kind}:{container_id or ''}:"
        keys = [prefix + person.lower() for person in person_ids]
        return count_events(
            self._store, _NS_IDENTIFY, keys, window=IDENTIFY_WINDOW, limit=limit + 1
        )


def detect_cap_passed(
    override: object, *, continuous: bool, count: int, limit: int
) -> Override | None:
    """Whether a detect call over its cap may go on: with consent to continuous
    identification (None returned: nothing to audit beyond the decision) or with an override
    of ``tracking_detect_cap`` (returned, to be audited). Else ``TrackingCapError``."""
    if count <= limit or continuous:
        return None
    if isinstance(override, Override) and override.rule == "tracking_detect_cap":
        return override
    raise TrackingCapError(
        "detect",
        f"this source made more than {limit} detect calls within {DETECT_WINDOW:g} s, the "
        "pattern of a video loop (R17: no ongoing surveillance without consent). Issue the "
        "consent token with continuous_identification=True if the subject agreed to it, or "
        "pass override=Override('tracking_detect_cap', reason) for this call (audited)",
        limit=limit,
        window=DETECT_WINDOW,
    )


def identification_cap_passed(
    override: object, *, continuous: bool, count: int, limit: int
) -> Override | None:
    """``detect_cap_passed`` for a verify against a person past the hourly identification
    cap: None (under the cap, or consent to continuous identification), the call's override
    of ``tracking_identification_cap`` (to audit), else ``TrackingCapError``."""
    if count <= limit or continuous:
        return None
    found = identification_override(override)
    if found is not None:
        return found
    raise TrackingCapError(
        "identification",
        f"this person was identified more than {limit} times from this source within "
        f"{IDENTIFY_WINDOW:g} s (R17: no persistent tracking without consent). Issue the "
        "consent token with continuous_identification=True if the subject agreed to it, or "
        "pass override=Override('tracking_identification_cap', reason) for this call "
        "(audited)",
        limit=limit,
        window=IDENTIFY_WINDOW,
    )


def identification_override(override: object) -> Override | None:
    """The call's override of ``tracking_identification_cap``, if it carries one."""
    if isinstance(override, Override) and override.rule == "tracking_identification_cap":
        return override
    return None
