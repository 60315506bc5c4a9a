"""The consent ledger: withdrawals, and which consent subject each enrolled person belongs to.

Withdrawal takes effect at once: the subject's tokens are refused from the next call on, even
while they are still within their lifetime. Enrollment through the guard records
``(container, person) -> subject``, so identify can suppress candidates whose person has no live
consent, and erasure can find everything stored for a subject.

Minimisation (GUARD.md §4.4): subjects are stored only as keyed pseudonyms
(``GuardStore.pseudonym``): a withdrawal is filed under the subject's pseudonym, and an
enrolled person maps to it. What stays readable is ``(kind, container, personId)``: erasure must
call ``DELETE`` on exactly those, so they are kept as the service names them. A personId is not
a biometric handle by itself (it is the service's random id for a person record), but it is
linked to the person's templates; it is linked to the subject only through the pseudonym.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .._exceptions import ConsentRejectedError, InvalidInputError
from ._claims import _check_id
from ._pseudonym import SUBJECT
from ._store import GuardStore, check_clock, require_pseudonyms
from ._usecases import Deployment, UseCase, check_use_case

if TYPE_CHECKING:
    from ._claim_rules import ConsentRequirements
    from ._consent import ConsentClaims, ConsentVerifier

__all__ = ["ConsentLedger"]

_WITHDRAWN = "consent-withdrawn"
_PERSONS = "consent-person"


def _prefix(kind: object, container_id: object) -> str:
    """The key prefix of a container's persons. Each part is checked (text UTF-8 can carry,
    of at most 256 characters) so a caller's bad id is ``InvalidInputError``, not an
    ``AttributeError`` here or a ``UnicodeEncodeError`` from the store."""
    _check_id(kind, "container_kind")
    if container_id is not None:
        _check_id(container_id, "container_id")
    return f"{kind}:{container_id or ''}:"


def _person_key(kind: str, container_id: str | None, person_id: str) -> str:
    return _prefix(kind, container_id) + _check_id(person_id, "person_id").lower()


class ConsentLedger:
    """Consent state on a ``GuardStore``."""

    def __init__(self, store: GuardStore, *, clock: Callable[[], float]) -> None:
        require_pseudonyms(store, "ConsentLedger")
        self._store = store
        self._clock = check_clock(clock)
        self._session = secrets.token_bytes(32)  # this ledger's own consent session handle

    def subject_pseudonym(self, subject: str) -> str:
        """What the store keeps instead of ``subject`` (what ``subject_of`` returns)."""
        return self._store.pseudonym(SUBJECT, subject)

    def withdraw(self, subject: str) -> None:
        """Record that ``subject`` withdrew consent; their tokens are refused from now on."""
        self._store.put(
            _WITHDRAWN, self.subject_pseudonym(subject), f"{self._clock():.3f}".encode()
        )

    def is_withdrawn(self, subject: str) -> bool:
        """Whether ``subject`` has withdrawn consent."""
        return self._store.get(_WITHDRAWN, self.subject_pseudonym(subject)) is not None

    def withdrawn_pseudonym(self, pseudonym: str) -> bool:
        """``is_withdrawn`` for a subject given by its pseudonym (the guard has it already)."""
        return self._store.get(_WITHDRAWN, pseudonym) is not None

    def enroll(
        self,
        token: str,
        *,
        verifier: ConsentVerifier,
        endpoint: str,
        use_case: UseCase,
        container_kind: str,
        container_id: str,
        person_id: str,
        requirements: ConsentRequirements | None = None,
    ) -> ConsentClaims:
        """Record a person enrolled outside a guarded client (a Person Directory person, say),
        under the consent ``token`` proves; the only public way to make a person identifiable.

        The token must verify (``verifier``, the Face resource ``endpoint``, the declared
        ``use_case``) for ``enroll`` of exactly this container and person, and its subject
        must not have withdrawn; else ``ConsentRejectedError`` and nothing is recorded.
        ``requirements`` are the claims the deployment needs (``requirements_for(use_case,
        deployment, jurisdictions)``: pass the same as the guarded clients' policy); by
        default those of ``use_case`` alone. Enrollment through a guarded client records
        itself.
        """
        from ._consent import ConsentScope

        if not isinstance(use_case, UseCase):
            raise InvalidInputError("use_case", "type", "must be the declared UseCase")
        check_use_case("enroll", use_case, Deployment())
        scope = ConsentScope("enroll", container_kind, container_id, person_id)
        claims = verifier.verify(
            token,
            scope,
            use_case=use_case,
            endpoint=endpoint,
            session=self._session,
            requirements=requirements,
        )
        if self.is_withdrawn(claims.subject):
            raise ConsentRejectedError("withdrawn", "the subject has withdrawn consent")
        self._record_enrollment(container_kind, container_id, person_id, claims.subject)
        # The retention sweeper's facts too (GUARD.md §4.6): the token's ret claims and now.
        from ._retention import RetentionBook

        RetentionBook(self._store, clock=self._clock, jurisdictions=()).record_enrollment(
            container_kind,
            container_id,
            person_id,
            until=claims.retention_until,
            purpose_end=claims.retention_purpose_end,
        )
        return claims

    def _record_enrollment(
        self, kind: str, container_id: str | None, person_id: str, subject: str
    ) -> None:
        """Remember that a person's faces were enrolled under ``subject``'s consent.

        Private: only the guard (after verifying the enrollment's token) and ``enroll`` call
        it, so nothing public binds a person to a subject without a verified token.
        """
        pseudonym = self.subject_pseudonym(subject)
        self._store.put(_PERSONS, _person_key(kind, container_id, person_id), pseudonym.encode())

    def subject_of(self, kind: str, container_id: str | None, person_id: str) -> str | None:
        """The PSEUDONYM of the consent subject a person was enrolled under, or None.

        The ledger does not keep subjects in clear; compare the answer with
        ``subject_pseudonym(subject)``.
        """
        raw = self._store.get(_PERSONS, _person_key(kind, container_id, person_id))
        return None if raw is None else raw.decode()

    def has_live_consent(self, kind: str, container_id: str | None, person_id: str) -> bool:
        """Whether the person was enrolled under a consent that has not been withdrawn."""
        pseudonym = self.subject_of(kind, container_id, person_id)
        return pseudonym is not None and self._store.get(_WITHDRAWN, pseudonym) is None

    def live_persons(
        self, kind: str, container_id: str | None, person_ids: Sequence[str]
    ) -> set[str]:
        """The ids among ``person_ids`` enrolled under a consent that has not been withdrawn.

        Two store reads in all (the persons' subjects, then the subjects' withdrawals), however
        many candidates an identify returns.
        """
        prefix = _prefix(kind, container_id)  # _person_key, hoisted out of the loop
        keys = [prefix + _check_id(person_id, "person_ids").lower() for person_id in person_ids]
        subjects = self._store.get_many(_PERSONS, keys)
        enrolled: dict[str, str] = {}  # person id -> subject pseudonym, for those with one
        for person_id, raw in zip(person_ids, subjects, strict=True):
            if raw is not None:
                enrolled[person_id] = raw.decode()
        if not enrolled:
            return set()  # no candidate was enrolled through the guard: nothing to look up
        distinct = sorted(set(enrolled.values()))
        marks = self._store.get_many(_WITHDRAWN, distinct)
        withdrawn = {s for s, mark in zip(distinct, marks, strict=True) if mark is not None}
        return {person_id for person_id, subject in enrolled.items() if subject not in withdrawn}

    def forget_person(self, kind: str, container_id: str | None, person_id: str) -> None:
        """Drop a person from the ledger (after it was deleted)."""
        self._store.delete(_PERSONS, _person_key(kind, container_id, person_id))

    def forget_container(self, kind: str, container_id: str) -> None:
        """Drop every person of a container from the ledger (after it was deleted)."""
        prefix = _prefix(kind, _check_id(container_id, "container_id"))
        for key in self._store.keys(_PERSONS):
            if key.startswith(prefix):
                self._store.delete(_PERSONS, key)

    def persons_of(self, subject: str) -> list[tuple[str, str, str]]:
        """``(kind, container_id, person_id)`` of every person enrolled under ``subject``:
        what to delete when the subject asks for erasure."""
        found = []
        wanted = self.subject_pseudonym(subject).encode()
        for key in self._store.keys(_PERSONS):
            if self._store.get(_PERSONS, key) == wanted:
                kind, container_id, person_id = key.split(":", 2)
                found.append((kind, container_id, person_id))
        return found
