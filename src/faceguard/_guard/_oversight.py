"""Which recognition results need a human decision before anyone acts on them (R11).

The Face code of conduct forbids using the service to "make decisions without appropriate
human oversight if your application may have a consequential impact on any individual's legal
position, financial position, life opportunities, employment opportunities, human rights".
The EU AI Act adds, for remote biometric identification (Annex III 1(a)), that no action is
taken on an identification "unless that identification has been separately verified and
confirmed by at least two natural persons" (Art. 14(5)); Annex III 1(a) excludes verification
whose sole purpose is to confirm that a person is who they claim to be.

``REVIEWERS`` is the table: per use case, how many distinct reviewers must confirm a result
of each recognition operation (0: not consequential, the result is returned as it is). A
deployment whose use of a use case marked 0 still decides about people (identity verification
that opens a bank account, a blocked-user match that locks someone out) raises it with
``GuardPolicy(consequential=True)``; a workplace deployment (``Deployment(workplace=True)``:
the subjects are the operator's workers) is raised for every use case, since its matches bear
on employment. Nothing lowers an entry above 0.

The recognition operations are the consent operations that compare faces and return a
decision about who someone is: ``verify``, ``identify``, ``find_similar`` and ``group``.
``liveness_verify`` is not among them: its verify result belongs to a liveness session that a
person takes part in actively, and it is read through the liveness operations.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from ._usecases import UseCase

if TYPE_CHECKING:
    from ._audit import AuditRecord

__all__ = [
    "ONE_TO_MANY",
    "RECOGNITION",
    "REVIEWERS",
    "OversightCall",
    "in_oversight",
    "reviewers_for",
]

RECOGNITION: Final = frozenset({"verify", "identify", "find_similar", "group"})
"""The consent operations whose results are decisions about who a person is."""

ONE_TO_MANY: Final = frozenset({"identify", "find_similar", "group"})
"""Searches among many people: remote biometric identification when the person does not
present themselves (verification, 1:1, is not: Annex III 1(a))."""

_ONE = MappingProxyType(dict.fromkeys(RECOGNITION, 1))
_NONE = MappingProxyType(dict.fromkeys(RECOGNITION, 0))
# Two reviewers for 1:N searches of people who are not taking part (Art. 14(5)), one for 1:1.
_REMOTE = MappingProxyType({"verify": 1, "identify": 2, "find_similar": 2, "group": 2})

REVIEWERS: Final[Mapping[UseCase, Mapping[str, int]]] = MappingProxyType(
    {
        # Door and gate decisions at a workplace or a government building: access to one's
        # employment or to a public service. The person presents themselves at the reader,
        # so this is not remote identification (Annex III 1(a), recital 17): one reviewer.
        UseCase.TOUCHLESS_ACCESS_CONTROL: _ONE,
        UseCase.GOV_TOUCHLESS_ACCESS_CONTROL: _ONE,
        # A government identity check decides about a benefit, a document, a right.
        UseCase.GOV_IDENTITY_VERIFICATION: _ONE,
        # Identifying a suspect, a person in an emergency or a missing person: legal position
        # and human rights; the person is not presenting themselves, so 1:N needs two.
        UseCase.GOV_LAW_ENFORCEMENT_APPREHENDED: _REMOTE,
        UseCase.GOV_EMERGENCY: _REMOTE,
        UseCase.GOV_HUMANITARIAN_MISSING_PERSONS: _REMOTE,
        # Not consequential by themselves; raise with GuardPolicy(consequential=True) when
        # the deployment decides about a person with them (see the module docstring).
        UseCase.IDENTITY_VERIFICATION: _NONE,
        UseCase.DUPLICATE_OR_BLOCKED_USERS: _NONE,
        UseCase.PERSONALIZATION: _NONE,
        UseCase.GOV_PERSONALIZATION: _NONE,
        UseCase.MEDIA_ARCHIVE_SEARCH: _NONE,
        UseCase.GOV_PUBLIC_MEDIA_ARCHIVE: _NONE,
        # Liveness permits no recognition operation at all.
        UseCase.LIVENESS: _NONE,
        UseCase.GOV_LIVENESS: _NONE,
    }
)


def reviewers_for(
    use_case: UseCase | None, consequential: bool | None, *, workplace: bool = False
) -> dict[str, int]:
    """Reviewers needed per recognition operation for a client (operations needing none are
    left out, so an empty dict means no oversight and costs the guard nothing per call).

    ``consequential=True`` raises every operation to at least one reviewer (two for 1:N under
    the remote-identification use cases stay two). So does a workplace deployment
    (``Deployment(workplace=True)``): a match about a worker bears on their employment,
    whatever the use case.
    """
    if use_case is None:
        return {}
    table = REVIEWERS[use_case]
    needed = {op: count for op, count in table.items() if count > 0}
    if consequential or workplace:
        needed = {op: max(table[op], 1) for op in RECOGNITION}
    return needed


class OversightCall:
    """One recognition call made through ``client.oversight``: set around the send, so the
    guard knows the caller takes a provisional result, and filled by the guard with the audit
    record of the call's outcome (whose hash is the decision id)."""

    __slots__ = ("record", "reviewers")

    def __init__(self) -> None:
        self.record: AuditRecord | None = None
        self.reviewers = 0


in_oversight: ContextVar[OversightCall | None] = ContextVar("faceguard_oversight", default=None)
"""The oversight call in progress in this context (``asyncio.to_thread`` copies it)."""
