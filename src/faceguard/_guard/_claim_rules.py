"""Which consent claims a call needs, from the deployment's use case, declarations and laws.

``ConsentRequirements`` is built once per guard (it depends only on the policy) and checked
by ``ConsentVerifier.verify`` on every call, after the scope and before a single-use token is
marked spent: a refusal spends nothing. The rules (GUARD.md R06, R16, R18, §3.2, §7.1):

- **Free consent (R06).** Touchless access control, and any use case in a deployment that
  declares itself a workplace (``Deployment(workplace=True)``), needs ``consent.alt=true``: the
  subject was offered a way in without a face scan, so enrolling was a choice.
- **Age (R16, R18).** The law-enforcement use case needs ``consent.min=adult_attested``: its
  registration covers apprehended suspects who are not minors.
- **Image source (§3.2).** ``consent.src=public_web`` is refused unless the deployment
  declares ``public_web_source=True``, never for enrollment (EU AI Act Art. 5(1)(e)) and never
  under a law that forbids it (Texas). A token saying ``capture_device`` does not cover an
  image the service fetches from a URL: a camera's frame is sent, not linked.
- **Retention (§3.2).** After ``consent.ret.until`` the template must be gone: the token no
  longer covers any use of it.
- **Jurisdictions (§7.1).** Every requirement of every declared law (``_jurisdictions``).

A token that says nothing of these claims still works wherever none of the rules applies.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._exceptions import ConsentRejectedError, InvalidInputError
from ._claim_values import AgeAttestation, ImageOrigin
from ._jurisdictions import PROFILES, Jurisdiction, JurisdictionProfile, check_jurisdictions
from ._jurisdictions import jurisdictions_of as _jurisdictions_of
from ._usecases import Deployment, UseCase

if TYPE_CHECKING:
    from ._consent import ConsentClaims, ConsentScope

__all__ = ["ACCESS_CONTROL", "ConsentRequirements", "requirements_for", "use_case_requirements"]

ACCESS_CONTROL = frozenset({UseCase.TOUCHLESS_ACCESS_CONTROL, UseCase.GOV_TOUCHLESS_ACCESS_CONTROL})
"""Use cases where a face is the key to a door: enrolling must stay optional (R06)."""
ADULTS_ONLY = frozenset({UseCase.GOV_LAW_ENFORCEMENT_APPREHENDED})
"""Use cases whose registration excludes minors (R16)."""


@dataclass(frozen=True)
class ConsentRequirements:
    """The claims a deployment's calls need; build it with ``requirements_for``.

    The declared laws' requirements are looked up from ``jurisdictions`` here, never passed
    in, so no instance can name a law without checking it.
    """

    alternative: str | None = None
    """Why ``consent.alt=true`` is needed (None: it is not)."""
    adult: str | None = None
    """Why ``consent.min=adult_attested`` is needed (None: it is not)."""
    public_web_source: bool = False
    jurisdictions: tuple[Jurisdiction, ...] = ()
    profiles: tuple[JurisdictionProfile, ...] = field(init=False, repr=False, compare=False)
    refused_sources: frozenset[ImageOrigin] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("alternative", "adult"):
            reason = getattr(self, name)
            if reason is not None and not (isinstance(reason, str) and reason):
                raise InvalidInputError(name, "type", "must be a reason (a string) or None")
        if not isinstance(self.public_web_source, bool):
            raise InvalidInputError("public_web_source", "type", "must be True or False")
        declared = _jurisdictions_of(self.jurisdictions)
        profiles = tuple(PROFILES[j] for j in declared)
        refused: frozenset[ImageOrigin] = frozenset().union(*(p.refused_sources for p in profiles))
        object.__setattr__(self, "jurisdictions", declared)
        object.__setattr__(self, "profiles", profiles)
        object.__setattr__(self, "refused_sources", refused)

    def check(self, claims: ConsentClaims, scope: ConsentScope, now: float) -> None:
        """``ConsentRejectedError`` naming what to issue instead, or nothing."""
        if self.alternative is not None and claims.alternative_offered is not True:
            raise ConsentRejectedError(
                "alternative",
                f"{self.alternative}, enrolling must be optional (a way in without a face "
                "scan offered): issue the token with alternative_offered=True once the subject "
                "has been offered one (a badge, a PIN, a staffed desk)",
            )
        if self.adult is not None and claims.age is not AgeAttestation.ADULT_ATTESTED:
            raise ConsentRejectedError(
                "age",
                f"{self.adult}: issue the token with age=AgeAttestation.ADULT_ATTESTED once the "
                "subject's adulthood has been attested",
            )
        source = claims.source
        if source is not None:
            self._check_source(source, scope)
        until = claims.retention_until
        if until is not None and now >= until:
            raise ConsentRejectedError(
                "retention",
                "the retention period the subject agreed to is over, so the template must be "
                "destroyed, not used: issue a new token after new consent, with a later "
                "retention=Retention(until=...)",
            )
        if self.profiles:
            check_jurisdictions(self.profiles, claims)

    def _check_source(self, source: ImageOrigin, scope: ConsentScope) -> None:
        if source is ImageOrigin.PUBLIC_WEB:
            if scope.operation == "enroll":
                raise ConsentRejectedError(
                    "source",
                    "faces gathered from the public web may not be enrolled (EU AI Act Art. "
                    "5(1)(e) prohibits building face databases from scraped images): enroll "
                    "with a token issued with source=ImageOrigin.CAPTURE_DEVICE or "
                    "SUBJECT_UPLOAD",
                )
            if source in self.refused_sources:
                return  # the declared law's own requirement says why, below
            if not self.public_web_source:
                raise ConsentRejectedError(
                    "source",
                    "images from the public web are refused unless the deployment declares "
                    "Deployment(public_web_source=True): issue the token with the image's real "
                    "source (source=ImageOrigin.CAPTURE_DEVICE, SUBJECT_UPLOAD or "
                    "SUBJECT_SELF_PUBLISHED)",
                )
        elif source is ImageOrigin.CAPTURE_DEVICE and scope.image_url:
            raise ConsentRejectedError(
                "source",
                "the token covers images captured by the application's own camera, which are "
                "sent as bytes, and this image is given by URL: send the captured bytes, or "
                "issue the token with source=ImageOrigin.SUBJECT_UPLOAD if the subject gave "
                "you this image",
            )


_NONE = ConsentRequirements()


def requirements_for(
    use_case: UseCase | str | None,
    deployment: Deployment | None = None,
    jurisdictions: Iterable[Jurisdiction | str] = (),
) -> ConsentRequirements:
    """The requirements of a deployment: its use case (a ``UseCase`` or its wire name),
    ``Deployment`` and declared laws."""
    if use_case is not None and not isinstance(use_case, UseCase):
        try:
            use_case = UseCase(use_case)
        except ValueError:
            raise InvalidInputError(
                "use_case", "enum", "must be a UseCase or its wire name"
            ) from None
    deployment = Deployment() if deployment is None else deployment
    if not isinstance(deployment, Deployment):
        raise InvalidInputError("deployment", "type", "must be a Deployment")
    declared = _jurisdictions_of(jurisdictions)
    alternative = None
    if use_case in ACCESS_CONTROL:
        alternative = f"under the access-control use case {use_case} (R06)"
    elif deployment.workplace:
        alternative = "in a workplace deployment (Deployment(workplace=True), R06)"
    adult = None
    if use_case in ADULTS_ONLY:
        adult = (
            f"the use case {use_case} covers apprehended suspects who are not minors only "
            "(R16, R18)"
        )
    requirements = ConsentRequirements(
        alternative=alternative,
        adult=adult,
        public_web_source=deployment.public_web_source,
        jurisdictions=declared,
    )
    return _NONE if requirements == _NONE else requirements


@functools.lru_cache(maxsize=64)
def use_case_requirements(use_case: UseCase | None) -> ConsentRequirements:
    """The requirements of ``use_case`` alone (no declarations, no laws), remembered: what a
    verifier checks when its caller passes none."""
    return requirements_for(use_case)
