"""Jurisdiction profiles: what each biometric privacy law needs a consent token to carry, and
how long it lets a face template be kept (GUARD.md §7.1, §4.6).

A deployment declares where it operates (``GuardPolicy(jurisdictions=[Jurisdiction.US_IL,
...])``); every consent token verified for it must then carry the claims each declared law
asks for, and a token that lacks one is refused with the law's requirement in words, naming
the section. The profiles are a table (``PROFILES``), one row per law; the checks read only
the signed claims, so a token without a claim is refused however it was signed.

What the table encodes, law by law (our reading of the texts cited in GUARD.md §7.2; a
profile is a floor the SDK can check mechanically, not legal advice):

- **US-IL, Illinois Biometric Information Privacy Act (740 ILCS 14).** Before collecting a
  face scan, a private entity informs the subject in writing of the collection, its specific
  purpose and how long it lasts (§15(b)(1)-(2)), and receives a written release the subject
  executed, an electronic signature included (§15(b)(3)). It publishes a retention schedule
  (§15(a)), and destroys the data when the purpose is met or 3 years after the subject's last
  interaction, whichever comes first. Token: ``lb`` has the written release, ``ntc``, and
  ``ret.policy_uri``. Retention: ``min(purpose end, last interaction + 3 years)``.
- **US-TX, Texas Capture or Use of Biometric Identifier Act (Tex. Bus. & Com. Code
  §503.001).** The individual is informed before capture and consents (§503.001(b)); from
  1 January 2026 consent is not drawn from public images the individual did not publish
  themselves (§503.001(b-1)); the identifier is destroyed within a reasonable time and at the
  latest one year after the purpose expires (§503.001(c)(3)). Token: ``ntc`` given before the
  token was issued, a consent ``lb``, and a ``src`` that is not ``public_web``; a
  ``ret.until`` later than a year past ``ret.purpose_end`` is refused. Retention: ``purpose
  end + 1 year``.
- **US-WA, Washington biometric identifiers law (RCW 19.375).** Enrolling a biometric
  identifier for a commercial purpose needs notice and consent, or a mechanism that prevents
  the later commercial use (RCW 19.375.020(1)); it is kept no longer than reasonably necessary
  (.020(4)). Token: ``ntc`` and an ``lb`` naming consent or the opt-out mechanism.
  Retention: the purpose's end.
- **EU-GDPR, Regulation (EU) 2016/679.** Biometric data that identifies a person is special
  category data (Art. 9(1)); explicit consent is one exception (Art. 9(2)(a)); the subject is
  told of the processing (Art. 13); data is kept no longer than the purpose needs
  (Art. 5(1)(e)). Token: ``lb`` has explicit consent and Art. 9(2)(a), ``ntc`` and ``ret``.
  Retention: the earliest of ``ret.until`` and the purpose's end.
- **UK, UK GDPR with the Data Protection Act 2018.** The same articles as retained in UK law
  (Art. 9(2)(a) UK GDPR; DPA 2018 s.10). Token: ``lb`` has explicit consent and UK GDPR
  Art. 9(2)(a), ``ntc`` and ``ret``. Retention: as the EU profile.

``destroy_by`` is the retention rule as a pure function: the sweeper calls it with the
ledger's last interaction and the purpose's end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._exceptions import ConsentRejectedError, InvalidInputError
from .._wire_enum import WireEnum
from ._claim_values import ImageOrigin, LegalBasis, notice_precedes

if TYPE_CHECKING:
    from ._consent import ConsentClaims

__all__ = [
    "PROFILES",
    "Jurisdiction",
    "JurisdictionProfile",
    "Requirement",
    "check_jurisdictions",
    "destroy_by",
    "jurisdictions_of",
]

DAY = 86400.0
YEAR = 365 * DAY
"""A year of retention, counted short (365 days), so a deadline never lands after the law's."""


class Jurisdiction(WireEnum):
    """Where a deployment collects or processes face templates, as the profiles know them."""

    US_IL = "US-IL"
    US_TX = "US-TX"
    US_WA = "US-WA"
    EU_GDPR = "EU-GDPR"
    UK = "UK"


@dataclass(frozen=True)
class Requirement:
    """One thing a law needs a token to say: ``holds`` tests the claims, ``need`` says it."""

    section: str
    """The provision, e.g. ``740 ILCS 14/15(b)(3)``."""
    need: str
    """What the provision needs and what to issue, in words."""
    holds: Callable[[ConsentClaims], bool]


@dataclass(frozen=True)
class JurisdictionProfile:
    """A law's row in the table: its name, what a token must carry, how long data may stay."""

    jurisdiction: Jurisdiction
    law: str
    requirements: tuple[Requirement, ...]
    retention: Callable[[float | None, float | None], float | None]
    """``(purpose_end, last_interaction) -> destroy-by time or None`` (no rule applies yet)."""
    retention_rule: str
    refused_sources: frozenset[ImageOrigin] = frozenset()


def _has_all(*bases: LegalBasis) -> Callable[[ConsentClaims], bool]:
    wanted = frozenset(b.value for b in bases)
    return lambda claims: wanted <= claims.legal_basis


def _has_any(*bases: LegalBasis) -> Callable[[ConsentClaims], bool]:
    wanted = frozenset(b.value for b in bases)
    return lambda claims: not wanted.isdisjoint(claims.legal_basis)


def _notice(claims: ConsentClaims) -> bool:
    return claims.notice is not None


def _notice_before_capture(claims: ConsentClaims) -> bool:
    # The token is issued when consent is recorded, before any capture under it.
    notice = claims.notice
    return notice is not None and notice_precedes(notice.given_at, claims.issued_at)


def _retention(claims: ConsentClaims) -> bool:
    return (
        claims.retention_until is not None
        or claims.retention_purpose_end is not None
        or claims.retention_policy_uri is not None
    )


def _schedule(claims: ConsentClaims) -> bool:
    return claims.retention_policy_uri is not None


def _source_not_scraped(claims: ConsentClaims) -> bool:
    return claims.source is not None and claims.source is not ImageOrigin.PUBLIC_WEB


def _tx_deadline(claims: ConsentClaims) -> bool:
    until, end = claims.retention_until, claims.retention_purpose_end
    return until is None or end is None or until <= end + YEAR


def _earliest(*times: float | None) -> float | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _bipa_rule(purpose_end: float | None, last: float | None) -> float | None:
    return _earliest(purpose_end, None if last is None else last + 3 * YEAR)


def _tx_rule(purpose_end: float | None, _last: float | None) -> float | None:
    return None if purpose_end is None else purpose_end + YEAR


def _purpose_rule(purpose_end: float | None, _last: float | None) -> float | None:
    return purpose_end


_NOTICE = "notice=Notice(uri=<the notice shown>, given_at=<when>)"
_GDPR_BASES = "legal_basis=[LegalBasis.EXPLICIT_CONSENT, LegalBasis.{}]"

PROFILES: dict[Jurisdiction, JurisdictionProfile] = {
    Jurisdiction.US_IL: JurisdictionProfile(
        Jurisdiction.US_IL,
        "Illinois BIPA",
        (
            Requirement(
                "740 ILCS 14/15(b)(3)",
                "a written release executed by the subject (an e-signature counts): issue the "
                "token with legal_basis=[LegalBasis.BIPA_WRITTEN_RELEASE] and " + _NOTICE,
                _has_all(LegalBasis.BIPA_WRITTEN_RELEASE),
            ),
            Requirement(
                "740 ILCS 14/15(b)(1)-(2)",
                "written notice of the collection, its specific purpose and length of term "
                "before collecting: issue the token with " + _NOTICE,
                _notice,
            ),
            Requirement(
                "740 ILCS 14/15(a)",
                "a public retention schedule: issue the token with "
                "retention=Retention(policy_uri=<the published schedule>, ...)",
                _schedule,
            ),
        ),
        _bipa_rule,
        "the earliest of the purpose's end and 3 years after the last interaction",
    ),
    Jurisdiction.US_TX: JurisdictionProfile(
        Jurisdiction.US_TX,
        "Texas CUBI",
        (
            Requirement(
                "Tex. Bus. & Com. Code §503.001(b)(1)",
                "the individual informed before capture: issue the token with "
                + _NOTICE
                + " given before the token is issued",
                _notice_before_capture,
            ),
            Requirement(
                "Tex. Bus. & Com. Code §503.001(b)(2)",
                "the individual's consent: issue the token with "
                "legal_basis=[LegalBasis.CUBI_CONSENT] (or EXPLICIT_CONSENT)",
                _has_any(LegalBasis.CUBI_CONSENT, LegalBasis.EXPLICIT_CONSENT),
            ),
            Requirement(
                "Tex. Bus. & Com. Code §503.001(b-1)",
                "no consent drawn from public images the person did not publish: issue the "
                "token with source=ImageOrigin.CAPTURE_DEVICE, SUBJECT_UPLOAD or "
                "SUBJECT_SELF_PUBLISHED",
                _source_not_scraped,
            ),
            Requirement(
                "Tex. Bus. & Com. Code §503.001(c)(3)",
                "destruction at the latest a year after the purpose expires: issue the token "
                "with retention=Retention(until=...) no later than purpose_end + 1 year",
                _tx_deadline,
            ),
        ),
        _tx_rule,
        "1 year after the purpose's end",
        frozenset({ImageOrigin.PUBLIC_WEB}),
    ),
    Jurisdiction.US_WA: JurisdictionProfile(
        Jurisdiction.US_WA,
        "Washington RCW 19.375",
        (
            Requirement(
                "RCW 19.375.020(1)",
                "notice before enrolling for a commercial purpose: issue the token with " + _NOTICE,
                _notice,
            ),
            Requirement(
                "RCW 19.375.020(1)",
                "consent, or a mechanism preventing later commercial use: issue the token "
                "with legal_basis=[LegalBasis.WA_CONSENT] (or WA_OPT_OUT_MECHANISM)",
                _has_any(
                    LegalBasis.WA_CONSENT,
                    LegalBasis.WA_OPT_OUT_MECHANISM,
                    LegalBasis.EXPLICIT_CONSENT,
                ),
            ),
        ),
        _purpose_rule,
        "the purpose's end (kept no longer than reasonably necessary, .020(4))",
    ),
    Jurisdiction.EU_GDPR: JurisdictionProfile(
        Jurisdiction.EU_GDPR,
        "EU GDPR",
        (
            Requirement(
                "GDPR Art. 9(2)(a)",
                "explicit consent to processing biometric data: issue the token with "
                + _GDPR_BASES.format("GDPR_ART9_2A"),
                _has_all(LegalBasis.EXPLICIT_CONSENT, LegalBasis.GDPR_ART9_2A),
            ),
            Requirement(
                "GDPR Art. 13",
                "the subject informed when the data is collected: issue the token with " + _NOTICE,
                _notice,
            ),
            Requirement(
                "GDPR Art. 5(1)(e)",
                "a storage limit: issue the token with retention=Retention(until=... or "
                "purpose_end=...)",
                _retention,
            ),
        ),
        _purpose_rule,
        "the earliest of ret.until and the purpose's end",
    ),
    Jurisdiction.UK: JurisdictionProfile(
        Jurisdiction.UK,
        "UK GDPR and Data Protection Act 2018",
        (
            Requirement(
                "UK GDPR Art. 9(2)(a)",
                "explicit consent to processing biometric data: issue the token with "
                + _GDPR_BASES.format("UK_GDPR_ART9_2A"),
                _has_all(LegalBasis.EXPLICIT_CONSENT, LegalBasis.UK_GDPR_ART9_2A),
            ),
            Requirement(
                "UK GDPR Art. 13",
                "the subject informed when the data is collected: issue the token with " + _NOTICE,
                _notice,
            ),
            Requirement(
                "UK GDPR Art. 5(1)(e)",
                "a storage limit: issue the token with retention=Retention(until=... or "
                "purpose_end=...)",
                _retention,
            ),
        ),
        _purpose_rule,
        "the earliest of ret.until and the purpose's end",
    ),
}


def jurisdictions_of(values: object, parameter: str = "jurisdictions") -> tuple[Jurisdiction, ...]:
    """Declared jurisdictions as a sorted tuple without repeats (members or their codes)."""
    if isinstance(values, (str, bytes, Jurisdiction)) or not isinstance(values, Iterable):
        raise InvalidInputError(parameter, "type", "must be a list of Jurisdiction values")
    out: set[Jurisdiction] = set()
    for value in values:
        try:
            out.add(value if isinstance(value, Jurisdiction) else Jurisdiction(value))
        except ValueError:
            names = sorted(str(j.value) for j in Jurisdiction)
            raise InvalidInputError(parameter, "enum", f"each one is one of {names}") from None
    return tuple(sorted(out, key=lambda j: j.value))


def check_jurisdictions(profiles: tuple[JurisdictionProfile, ...], claims: ConsentClaims) -> None:
    """Refuse the claims (``ConsentRejectedError``, check ``jurisdiction``) at the first
    requirement of a declared law they do not meet; the message names the law and section."""
    for profile in profiles:
        for requirement in profile.requirements:
            if not requirement.holds(claims):
                raise ConsentRejectedError(
                    "jurisdiction",
                    f"{profile.law} {requirement.section} needs {requirement.need}",
                )


def destroy_by(
    profiles: Iterable[Jurisdiction | str],
    claims: ConsentClaims,
    last_interaction: float | None,
    purpose_end: float | None = None,
) -> float | None:
    """When the template consented to by ``claims`` must be destroyed, seconds since the epoch,
    or None when no rule gives a date yet (GUARD.md §4.6).

    The earliest of the token's ``ret.until`` and each declared law's rule, computed from the
    purpose's end (``purpose_end``, else the token's ``ret.purpose_end``) and the subject's
    last successful match (``last_interaction``). Withdrawal is not here: it ends retention at
    once, whatever this says. Pure: no clock, no store.
    """
    end = claims.retention_purpose_end if purpose_end is None else purpose_end
    deadline = claims.retention_until
    for jurisdiction in jurisdictions_of(profiles, "profiles"):
        deadline = _earliest(deadline, PROFILES[jurisdiction].retention(end, last_interaction))
    return deadline
