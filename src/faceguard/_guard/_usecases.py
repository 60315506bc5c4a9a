"""The limited-access use cases of the Face API, and what each one permits.

Microsoft approves Face recognition "only for certain use cases selected at the time of
registration" (Transparency note "Use cases for Azure AI Face service", the commercial and the
government lists). A client declares the one it was approved for; faceguard refuses operations
the declared use case does not need. Detection without faceIds needs no declaration.

The code of conduct also prohibits some deployments outright: use "by or for a police
department in the United States", and "real-time facial recognition technology on mobile
cameras used by any law enforcement globally" in uncontrolled environments. A declared
deployment of either kind refuses every recognition operation; no override exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._exceptions import InvalidInputError, UseCaseError
from .._wire_enum import WireEnum

__all__ = ["CONSENT_OPERATIONS", "PERMITTED", "Deployment", "UseCase", "check_use_case"]


class UseCase(WireEnum):
    """Limited-access use cases, named as in the consent token's ``consent.uc`` claim."""

    LIVENESS = "commercial.liveness"
    IDENTITY_VERIFICATION = "commercial.identity_verification"
    TOUCHLESS_ACCESS_CONTROL = "commercial.touchless_access_control"
    PERSONALIZATION = "commercial.personalization"
    DUPLICATE_OR_BLOCKED_USERS = "commercial.duplicate_or_blocked_users"
    MEDIA_ARCHIVE_SEARCH = "commercial.media_archive_search"
    GOV_LIVENESS = "gov.liveness"
    GOV_IDENTITY_VERIFICATION = "gov.identity_verification"
    GOV_TOUCHLESS_ACCESS_CONTROL = "gov.touchless_access_control"
    GOV_PERSONALIZATION = "gov.personalization"
    GOV_LAW_ENFORCEMENT_APPREHENDED = "gov.law_enforcement_apprehended"
    GOV_PUBLIC_MEDIA_ARCHIVE = "gov.public_media_archive"
    GOV_EMERGENCY = "gov.emergency"
    GOV_HUMANITARIAN_MISSING_PERSONS = "gov.humanitarian_missing_persons"

    def __str__(self) -> str:
        return str(self.value)


CONSENT_OPERATIONS = frozenset(
    {
        "detect_template",
        "verify",
        "identify",
        "find_similar",
        "group",
        "enroll",
        "liveness_verify",
    }
)
"""Operations that need a consent token (``consent.ops`` vocabulary, GUARD.md §3.2)."""

_VERIFY = frozenset({"detect_template", "verify", "enroll", "liveness_verify"})
_IDENTIFY = _VERIFY | {"identify"}
_SEARCH = frozenset({"detect_template", "verify", "identify", "find_similar", "group", "enroll"})

# Operation allowlist per use case. "liveness" is session creation (no template, no consent).
PERMITTED: dict[UseCase, frozenset[str]] = {
    UseCase.LIVENESS: frozenset({"liveness"}),
    UseCase.GOV_LIVENESS: frozenset({"liveness"}),
    # "Facial verification (1:1 matching) with optional facial liveness detection".
    UseCase.IDENTITY_VERIFICATION: _VERIFY | {"liveness"},
    UseCase.GOV_IDENTITY_VERIFICATION: _VERIFY | {"liveness"},
    # "Facial identification (1:N or 1:1 matching) with optional facial liveness detection".
    UseCase.TOUCHLESS_ACCESS_CONTROL: _IDENTIFY | {"liveness"},
    UseCase.GOV_TOUCHLESS_ACCESS_CONTROL: _IDENTIFY | {"liveness"},
    UseCase.PERSONALIZATION: _IDENTIFY | {"liveness"},
    UseCase.GOV_PERSONALIZATION: _IDENTIFY | {"liveness"},
    # Finding duplicates also compares faces with each other (find-similar, group).
    UseCase.DUPLICATE_OR_BLOCKED_USERS: _IDENTIFY | {"find_similar", "group", "liveness"},
    # Archive search: 1:N and 1:1 matching of faces found in video; no live subject.
    UseCase.MEDIA_ARCHIVE_SEARCH: _SEARCH,
    UseCase.GOV_PUBLIC_MEDIA_ARCHIVE: _SEARCH,
    UseCase.GOV_LAW_ENFORCEMENT_APPREHENDED: _SEARCH - {"group"},
    UseCase.GOV_EMERGENCY: _SEARCH - {"group"},
    UseCase.GOV_HUMANITARIAN_MISSING_PERSONS: _SEARCH,
}


@dataclass(frozen=True)
class Deployment:
    """What the operator declares about who uses the application, and how.

    Args:
        us_police: the application is used by or for a police department in the United States.
        law_enforcement_mobile_realtime: real-time recognition on mobile cameras (body-worn,
            dash-mounted) used by law enforcement in uncontrolled environments.
        workplace: the subjects are the operator's workers (time and attendance, staff-only
            doors). An employer's request is hard to refuse, so every consent token must say
            a way in without a face scan was offered (``alternative_offered=True``, R06).
        public_web_source: the registered use case works on images gathered from the public
            web (``consent.src=public_web``, refused otherwise). Never for enrollment, and
            never where a declared law forbids it (Texas).
    """

    us_police: bool = False
    law_enforcement_mobile_realtime: bool = False
    workplace: bool = False
    public_web_source: bool = False

    def __post_init__(self) -> None:
        for name in (
            "us_police",
            "law_enforcement_mobile_realtime",
            "workplace",
            "public_web_source",
        ):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInputError(name, "type", "must be True or False")

    @property
    def prohibited_reason(self) -> str | None:
        """Why the code of conduct prohibits this deployment, or None."""
        if self.us_police:
            return (
                "the Face API code of conduct prohibits use 'by or for a police department "
                "in the United States'"
            )
        if self.law_enforcement_mobile_realtime:
            return (
                "Microsoft policy prohibits real-time facial recognition on mobile cameras used "
                "by law enforcement in uncontrolled environments, globally"
            )
        return None


def check_use_case(operation: str, use_case: UseCase | None, deployment: Deployment) -> None:
    """Refuse ``operation`` unless the declared use case permits it and the deployment is not
    prohibited. ``operation`` is a consent operation or ``liveness``."""
    reason = deployment.prohibited_reason
    if reason is not None:
        raise UseCaseError(f"{operation} refused: {reason}. No override exists.")
    if use_case is None:
        raise UseCaseError(
            f"{operation} needs a declared limited-access use case: build the client with "
            "guard=GuardPolicy(use_case=UseCase.<the case Microsoft approved for you>)"
        )
    if operation not in PERMITTED[use_case]:
        allowed = ", ".join(sorted(PERMITTED[use_case]))
        raise UseCaseError(
            f"{operation} is outside the declared use case {use_case.value} (it permits: {allowed})"
        )
