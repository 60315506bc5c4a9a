"""The faceId registry: which faceIds this application created, when, and with which model.

A faceId names a biometric template the service keeps for ``faceIdTimeToLive`` seconds. Every
detect that returns faceIds records them here, with the issue time taken *before* the request
was sent (so the local expiry is never later than the service's), the TTL, both models, the
endpoint and the consent subject. Before verify, identify, group and find-similar, the registry
refuses a faceId that is expired (with a safety margin), unknown, of another recognition model
than its peers or the target container, from another endpoint, or not bound to consent.

Errors name faceIds by position and describe their age and model; they never print the id.

Minimisation (GUARD.md §4.4): the store never sees a faceId or a subject in clear. A record is
filed under the faceId's keyed pseudonym (``GuardStore.pseudonym``), and its ``subject`` field
holds the subject's pseudonym; every lookup hashes the faceId it is asked about.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .._exceptions import FaceIdError
from ._pseudonym import FACE_ID, SUBJECT
from ._store import GuardStore, require_pseudonyms

__all__ = ["FaceIdRecord", "FaceIdRegistry"]

_NS = "faceid"
_CONTAINER_NS = "container-model"


@dataclass(frozen=True)
class FaceIdRecord:
    """What the registry knows about one faceId."""

    issued_at: float
    """Wall-clock time taken just before the detect request was sent."""
    ttl: int
    detection_model: str
    recognition_model: str
    endpoint: str
    subject: str | None
    """The consent subject the faceId is bound to, or None if it is not bound (for example a
    second face in an image detected under a single-subject token). ``record`` takes the
    subject; the records ``lookup`` and ``check`` return hold its pseudonym
    (``FaceIdRegistry.subject_pseudonym``), which is all the store keeps."""


_JSON = json.JSONEncoder(separators=(",", ":"))
"""``json.dumps(..., separators=(",", ":"))`` without building an encoder per record."""


@functools.lru_cache(maxsize=4096)
def _decode(raw: bytes) -> FaceIdRecord:
    # Records are immutable and looked up on every recognition call: decode each once.
    return FaceIdRecord(**json.loads(raw))


_REMEMBERED_KEYS = 4096


class FaceIdRegistry:
    """faceId bookkeeping on a ``GuardStore``."""

    def __init__(
        self, store: GuardStore, *, clock: Callable[[], float], margin: float | None = None
    ) -> None:
        if margin is not None and margin < 0:
            raise ValueError("the faceId safety margin must not be negative")
        require_pseudonyms(store, "FaceIdRegistry")
        self._store = store
        self._clock = clock
        self._margin = margin
        self._keys: dict[str, str] = {}

    def _key(self, face_id: str) -> str:
        # Remembered: a faceId is recorded at detect and looked up by every call that uses it
        # (an HMAC each time otherwise). Only faceIds: they are the service's random ids,
        # gone within a day; subjects are never kept in clear, not even here.
        if type(face_id) is not str:  # typed by the pseudonymiser, never remembered
            return self._store.pseudonym(FACE_ID, face_id)
        key = self._keys.get(face_id)
        if key is None:
            if len(self._keys) >= _REMEMBERED_KEYS:
                self._keys.clear()  # bounded; the next lookups compute them again
            # faceIds are UUIDs, compared without regard to case as the service does.
            key = self._keys[face_id] = self._store.pseudonym(FACE_ID, face_id.lower())
        return key

    def subject_pseudonym(self, subject: str) -> str:
        """What the store keeps instead of ``subject`` (compare records' ``subject`` to it)."""
        return self._store.pseudonym(SUBJECT, subject)

    def margin_for(self, ttl: int) -> float:
        """Seconds before the service's expiry at which faceguard stops using a faceId."""
        return self._margin if self._margin is not None else max(30.0, ttl / 100)

    def record(self, face_id: str, record: FaceIdRecord) -> None:
        """Remember a faceId the service just returned."""
        # Field by field: dataclasses.asdict deep-copies, which costs more than the rest here.
        fields = {
            "issued_at": record.issued_at,
            "ttl": record.ttl,
            "detection_model": record.detection_model,
            "recognition_model": record.recognition_model,
            "endpoint": record.endpoint,
            "subject": None if record.subject is None else self.subject_pseudonym(record.subject),
        }
        data = _JSON.encode(fields).encode()
        self._store.put(_NS, self._key(face_id), data, ttl=record.ttl)

    def lookup(self, face_id: str) -> FaceIdRecord | None:
        """The record of a faceId (its ``subject`` a pseudonym), or None."""
        raw = self._store.get(_NS, self._key(face_id))
        return None if raw is None else _decode(raw)

    def forget(self, face_id: str) -> None:
        """Drop a faceId (expired, revoked, or reported missing by the service)."""
        self._store.delete(_NS, self._key(face_id))

    def forget_subject(self, subject: str) -> int:
        """Drop every faceId bound to ``subject`` (on withdrawal); returns how many."""
        wanted = self.subject_pseudonym(subject)
        dropped = 0
        # The store's keys are faceId pseudonyms: read and delete them as they are.
        for key in self._store.keys(_NS):
            raw = self._store.get(_NS, key)
            if raw is not None and _decode(raw).subject == wanted:
                self._store.delete(_NS, key)
                dropped += 1
        return dropped

    def remember_container_model(self, kind: str, container_id: str, model: str) -> None:
        """The recognition model a container was created with (fixed for its lifetime)."""
        self._store.put(_CONTAINER_NS, f"{kind}:{container_id}", model.encode())

    def container_model(self, kind: str, container_id: str) -> str | None:
        raw = self._store.get(_CONTAINER_NS, f"{kind}:{container_id}")
        return None if raw is None else raw.decode()

    def forget_container(self, kind: str, container_id: str) -> None:
        self._store.delete(_CONTAINER_NS, f"{kind}:{container_id}")

    def check(
        self,
        face_ids: Sequence[str],
        *,
        endpoint: str,
        container_model: str | None,
        allow_unknown: bool,
    ) -> list[FaceIdRecord | None]:
        """Refuse the call unless every faceId may be used; returns their records.

        Raises:
            FaceIdError: ``reason`` is ``unknown``, ``expired``, ``unconsented``,
                ``resource_mismatch`` or ``model_mismatch``.
        """
        now = self._clock()
        fixed_margin = self._margin
        records: list[FaceIdRecord | None] = []
        models: set[str] = set()
        raws = self._store.get_many(_NS, [self._key(face_id) for face_id in face_ids])
        for index, (face_id, raw) in enumerate(zip(face_ids, raws, strict=True), start=1):
            if raw is None:
                if not allow_unknown:
                    raise FaceIdError(
                        "unknown",
                        f"faceId #{index} was not detected through this guard (or has expired "
                        "and been purged): its age, model and consent cannot be shown",
                    )
                records.append(None)
                continue
            record = _decode(raw)
            age = now - record.issued_at
            # margin_for, inline: this loop runs for every faceId of every recognition call.
            margin = fixed_margin if fixed_margin is not None else max(30.0, record.ttl / 100)
            if age >= record.ttl - margin:
                self.forget(face_id)
                raise FaceIdError(
                    "expired",
                    f"faceId #{index} is {age:.0f} s old; it was issued with a {record.ttl} s TTL "
                    f"and faceguard stops using faceIds {margin:.0f} s before the service "
                    "forgets them: detect the face again",
                )
            if record.endpoint != endpoint:
                raise FaceIdError(
                    "resource_mismatch",
                    f"faceId #{index} was created by another Face resource",
                )
            if record.subject is None:
                raise FaceIdError(
                    "unconsented",
                    f"faceId #{index} is not bound to consent (it was not the target face of "
                    "its detection): detect it under its own subject's consent token",
                )
            models.add(record.recognition_model)
            records.append(record)
        if len(models) > 1:
            raise FaceIdError(
                "model_mismatch",
                "the faceIds come from different recognition models "
                f"({', '.join(sorted(models))}); faces can only be compared within one model",
            )
        if container_model is not None and models and models != {container_model}:
            (model,) = models
            raise FaceIdError(
                "model_mismatch",
                f"the faceIds were detected with {model} but the target container uses "
                f"{container_model}; detect again with recognition_model={container_model!r}",
            )
        return records
