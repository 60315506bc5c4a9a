"""The consent claims about how consent was obtained (GUARD.md §3.2), on both sides.

A consent token says more than who may do what: where the image comes from (``src``), whether
a way in without a face scan was offered (``alt``), whether the subject is an adult
(``min``), whether they agreed to be identified continuously (``cnt``), how long their
template may be kept (``ret``), on what legal basis (``lb``) and after which notice (``ntc``).
The issuer takes each as a typed argument and writes it; the verifier reads it back into the
same types. Both go through this module, so a value the issuer refuses is one the verifier
refuses too, whoever signed it.

Every claim here is optional in the token; which ones a call needs depends on the declared use
case and jurisdictions (``_claim_rules``, ``_jurisdictions``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from .._wire_enum import WireEnum
from ._claims import _MAX_ID, _MAX_TIME, _is_uri, invalid

__all__ = [
    "AgeAttestation",
    "ClaimsProblem",
    "ImageOrigin",
    "LegalBasis",
    "Notice",
    "Retention",
    "encode_extra_claims",
    "parse_extra_claims",
]

_MAX_BASES = 16
_LEGAL_BASIS = re.compile(r"[a-z][a-z0-9-]*:[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ClaimsProblem(ValueError):
    """A signed token's claims are ill-formed; reported as ``claims`` after the time checks."""


class ImageOrigin(WireEnum):
    """Where the images this consent covers come from (``consent.src``).

    - ``CAPTURE_DEVICE``: a camera the application runs, in front of the subject (a kiosk, a
      phone's camera in the app). Those images are sent as bytes: a token that says so is
      refused for an image the service would fetch from a URL.
    - ``SUBJECT_UPLOAD``: a photo the subject handed over themselves; bytes or a URL of the
      application's own storage.
    - ``SUBJECT_SELF_PUBLISHED``: an image the subject made public themselves (the only public
      image Texas lets consent be drawn from, Tex. Bus. & Com. Code §503.001(b-1)).
    - ``PUBLIC_WEB``: gathered from the public web by someone else. Refused unless the
      deployment declares ``public_web_source=True``, and never to enroll (building a face
      database from scraped images is prohibited by EU AI Act Art. 5(1)(e)).
    """

    CAPTURE_DEVICE = "capture_device"
    SUBJECT_UPLOAD = "subject_upload"
    SUBJECT_SELF_PUBLISHED = "subject_self_published"
    PUBLIC_WEB = "public_web"


class AgeAttestation(WireEnum):
    """What the consent service attests about the subject's age of consent (``consent.min``).

    ``MINOR_GUARDIAN_CONSENT`` needs a reference to the guardian's consent evidence
    (``guardian_evidence_ref``); law-enforcement use cases accept ``ADULT_ATTESTED`` only.
    """

    ADULT_ATTESTED = "adult_attested"
    MINOR_GUARDIAN_CONSENT = "minor_guardian_consent"
    UNKNOWN = "unknown"


class LegalBasis(WireEnum):
    """Legal bases the jurisdiction profiles look for in ``consent.lb`` (DPV-style terms).

    ``consent.lb`` may carry other ``prefix:term`` values too; these are the ones faceguard
    knows the meaning of.
    """

    EXPLICIT_CONSENT = "dpv:ExplicitlyExpressedConsent"
    """The subject expressly agreed (a signed statement, an e-form, an e-signature)."""
    GDPR_ART9_2A = "eu-gdpr:A9-2-a"
    """GDPR Art. 9(2)(a): explicit consent to processing biometric data."""
    UK_GDPR_ART9_2A = "uk-gdpr:A9-2-a"
    """UK GDPR Art. 9(2)(a), read with the Data Protection Act 2018."""
    BIPA_WRITTEN_RELEASE = "us-il:bipa-15b3-written-release"
    """740 ILCS 14/15(b)(3): a written release executed by the subject (e-signature counts)."""
    CUBI_CONSENT = "us-tx:cubi-503-001b-consent"
    """Tex. Bus. & Com. Code §503.001(b)(2): the individual's consent before capture."""
    WA_CONSENT = "us-wa:rcw-19-375-020-consent"
    """RCW 19.375.020(1): consent before enrolling for a commercial purpose."""
    WA_OPT_OUT_MECHANISM = "us-wa:rcw-19-375-020-opt-out-mechanism"
    """RCW 19.375.020(1): a mechanism to prevent the later commercial use, instead of consent."""
    LEGAL_AUTHORITY = "dpv:LegalAuthority"
    """Processing under a duly empowered authority (law-enforcement use cases), not consent."""


@dataclass(frozen=True)
class Notice:
    """The notice the subject was given before consenting (``consent.ntc``).

    Args:
        uri: where the notice the subject saw is published.
        given_at: when it was given, seconds since the epoch (before the token is issued:
            notice comes before capture).
        sha256: the SHA-256 (lowercase hex) of the exact text shown, if the service keeps it.
        version: the notice's version label.
    """

    uri: str
    given_at: float
    sha256: str | None = None
    version: str | None = None

    def __post_init__(self) -> None:
        _check_notice(self.uri, self.given_at, self.sha256, self.version, issuing=True)


@dataclass(frozen=True)
class Retention:
    """How long the template may be kept (``consent.ret``), as the notice told the subject.

    Args:
        until: a date after which it must be gone, seconds since the epoch.
        purpose_end: when the purpose it was collected for ends (an employment's end, a
            membership's), if known; the jurisdiction profiles compute from it.
        policy_uri: the public retention schedule (BIPA §15(a) requires one).
    At least one of the three is needed.
    """

    until: float | None = None
    purpose_end: float | None = None
    policy_uri: str | None = None

    def __post_init__(self) -> None:
        _check_retention(self.until, self.purpose_end, self.policy_uri, issuing=True)


def notice_precedes(given_at: float, issued_at: float) -> bool:
    """Whether a notice given at ``given_at`` came before a token issued at ``issued_at``
    (a NumericDate in whole seconds, rounded down: the same second counts as before)."""
    return given_at < issued_at + 1


def _fail(issuing: bool, parameter: str, message: str) -> Exception:
    if issuing:
        return invalid(parameter, message)
    return ClaimsProblem(f"{message}: issue the token with a valid {parameter}=...")


def _is_time(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and 0 <= value <= _MAX_TIME  # also False for NaN
    )


def _is_text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_ID and value.isprintable()


def _check_notice(
    uri: object, at: object, sha256: object, version: object, *, issuing: bool
) -> None:
    if not _is_uri(uri):
        raise _fail(issuing, "notice", "consent.ntc.uri must be the notice's address")
    if not _is_time(at):
        raise _fail(issuing, "notice", "consent.ntc.at (given_at) must be seconds since the epoch")
    if sha256 is not None and not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)):
        raise _fail(issuing, "notice", "consent.ntc.sha256 must be 64 lowercase hex digits")
    if version is not None and not _is_text(version):
        raise _fail(issuing, "notice", "consent.ntc.version must be a short printable string")


def _check_retention(until: object, end: object, policy: object, *, issuing: bool) -> None:
    if until is None and end is None and policy is None:
        raise _fail(issuing, "retention", "consent.ret needs until, purpose_end or policy_uri")
    for name, value in (("until", until), ("purpose_end", end)):
        if value is not None and not _is_time(value):
            raise _fail(issuing, "retention", f"consent.ret.{name} must be seconds since the epoch")
    if policy is not None and not _is_uri(policy):
        raise _fail(issuing, "retention", "consent.ret.policy_uri must be the schedule's address")


def _enum(kind: type[WireEnum], value: object, parameter: str, claim: str, *, issuing: bool) -> Any:
    if isinstance(value, kind):
        return value
    if isinstance(value, str) and (issuing or type(value) is str):
        try:
            return kind(value)
        except ValueError:
            pass
    names = sorted(str(item.value) for item in kind)
    raise _fail(issuing, parameter, f"consent.{claim} must be one of {names}")


def _legal_bases(values: object, *, issuing: bool) -> tuple[str, ...]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise _fail(issuing, "legal_basis", "consent.lb must be a list of legal bases")
    bases: list[str] = []
    for value in values:
        text = value.value if isinstance(value, LegalBasis) else value
        if not (isinstance(text, str) and len(text) <= _MAX_ID and _LEGAL_BASIS.fullmatch(text)):
            raise _fail(
                issuing,
                "legal_basis",
                "each legal basis is a LegalBasis or a 'prefix:term' name "
                "(e.g. 'dpv:ExplicitlyExpressedConsent')",
            )
        bases.append(text)
    if not bases or len(bases) > _MAX_BASES:
        raise _fail(issuing, "legal_basis", f"consent.lb must name 1 to {_MAX_BASES} bases")
    return tuple(sorted(set(bases)))


def _flag(value: object, parameter: str, *, issuing: bool) -> bool:
    if not isinstance(value, bool):
        raise _fail(issuing, parameter, "must be True or False")
    return value


def encode_extra_claims(
    *,
    source: ImageOrigin | str | None,
    alternative_offered: bool | None,
    age: AgeAttestation | str | None,
    guardian_evidence_ref: str | None,
    continuous_identification: bool,
    retention: Retention | None,
    legal_basis: Iterable[LegalBasis | str] | None,
    notice: Notice | None,
    issued_at: float,
) -> dict[str, Any]:
    """The ``consent`` members for the issuer's typed arguments, checked before signing."""
    out: dict[str, Any] = {}
    if source is not None:
        out["src"] = _enum(ImageOrigin, source, "source", "src", issuing=True).value
    if alternative_offered is not None:
        out["alt"] = _flag(alternative_offered, "alternative_offered", issuing=True)
    if age is not None:
        attested = _enum(AgeAttestation, age, "age", "min", issuing=True)
        out["min"] = attested.value
        if attested is AgeAttestation.MINOR_GUARDIAN_CONSENT:
            if not _is_text(guardian_evidence_ref):
                raise invalid(
                    "guardian_evidence_ref",
                    "age=minor_guardian_consent needs the reference of the guardian's consent "
                    "evidence",
                )
            out["min_ref"] = guardian_evidence_ref
    if (age is None or out["min"] != "minor_guardian_consent") and guardian_evidence_ref:
        raise invalid(
            "guardian_evidence_ref", "only goes with age=AgeAttestation.MINOR_GUARDIAN_CONSENT"
        )
    if _flag(continuous_identification, "continuous_identification", issuing=True):
        out["cnt"] = True
    if retention is not None:
        if not isinstance(retention, Retention):
            raise invalid("retention", "must be a Retention(until=..., purpose_end=..., ...)")
        if retention.until is not None and retention.until <= issued_at:
            raise invalid("retention", "until has passed: the template must already be gone")
        ret: dict[str, Any] = {}
        for name in ("until", "purpose_end"):
            value = getattr(retention, name)
            if value is not None:
                ret[name] = int(value) if float(value).is_integer() else float(value)
        if retention.policy_uri is not None:
            ret["policy_uri"] = retention.policy_uri
        out["ret"] = ret
    if legal_basis is not None:
        out["lb"] = list(_legal_bases(legal_basis, issuing=True))
    if notice is not None:
        if not isinstance(notice, Notice):
            raise invalid("notice", "must be a Notice(uri=..., given_at=...)")
        if notice.given_at > issued_at:
            raise invalid("notice", "the notice must be given before the token is issued")
        ntc: dict[str, Any] = {"uri": notice.uri, "at": notice.given_at}
        if notice.sha256 is not None:
            ntc["sha256"] = notice.sha256
        if notice.version is not None:
            ntc["version"] = notice.version
        out["ntc"] = ntc
    return out


@dataclass(frozen=True)
class ExtraClaims:
    """The parsed values, as ``ConsentClaims`` holds them."""

    source: ImageOrigin | None = None
    alternative_offered: bool | None = None
    age: AgeAttestation | None = None
    guardian_evidence_ref: str | None = None
    continuous_identification: bool = False
    retention_until: float | None = None
    retention_purpose_end: float | None = None
    retention_policy_uri: str | None = None
    legal_basis: frozenset[str] = frozenset()
    notice: Notice | None = None


_NONE = ExtraClaims()
_KEYS = ("src", "alt", "min", "min_ref", "cnt", "ret", "lb", "ntc")


def parse_extra_claims(consent: Mapping[str, Any], issued_at: float) -> ExtraClaims:
    """The claims of a signed ``consent`` object; ``ClaimsProblem`` if one is ill-formed.

    Absent claims are None (``cnt``: False). Values of the wrong JSON type are refused, not
    coerced: ``"alt": "true"`` or ``"cnt": 1`` is not a yes. A notice dated after the token
    was issued (``iat``, whole seconds, so up to a second after it) is no notice given
    before consent: the issuer refuses to write one, and so does this.
    """
    if not any(key in consent for key in _KEYS):
        return _NONE  # a token of before these claims: nothing to read
    source = consent.get("src")
    alt = consent.get("alt")
    if alt is not None:
        _flag(alt, "alternative_offered", issuing=False)
    age = consent.get("min")
    attested = None if age is None else _enum(AgeAttestation, age, "age", "min", issuing=False)
    ref = consent.get("min_ref")
    if attested is AgeAttestation.MINOR_GUARDIAN_CONSENT and not _is_text(ref):
        raise ClaimsProblem(
            "consent.min=minor_guardian_consent needs consent.min_ref: issue the token with "
            "guardian_evidence_ref=<the guardian's consent evidence>"
        )
    if ref is not None and attested is not AgeAttestation.MINOR_GUARDIAN_CONSENT:
        raise ClaimsProblem(
            "consent.min_ref only goes with consent.min=minor_guardian_consent: issue the "
            "token with guardian_evidence_ref only for age=MINOR_GUARDIAN_CONSENT"
        )
    cnt = consent.get("cnt", False)
    _flag(cnt, "continuous_identification", issuing=False)
    until = end = policy = None
    ret = consent.get("ret")
    if ret is not None:
        if not isinstance(ret, dict):
            raise _fail(False, "retention", "consent.ret must be an object")
        until, end, policy = ret.get("until"), ret.get("purpose_end"), ret.get("policy_uri")
        _check_retention(until, end, policy, issuing=False)
    lb = consent.get("lb")
    bases = frozenset(_legal_bases(lb, issuing=False)) if lb is not None else frozenset()
    notice = None
    ntc = consent.get("ntc")
    if ntc is not None:
        if not isinstance(ntc, dict):
            raise _fail(False, "notice", "consent.ntc must be an object")
        uri, at = ntc.get("uri"), ntc.get("at")
        _check_notice(uri, at, ntc.get("sha256"), ntc.get("version"), issuing=False)
        if not notice_precedes(cast(float, at), issued_at):
            raise _fail(False, "notice", "consent.ntc.at is later than the token's issue")
        notice = Notice(
            cast(str, uri), float(cast(float, at)), ntc.get("sha256"), ntc.get("version")
        )
    return ExtraClaims(
        source=None
        if source is None
        else _enum(ImageOrigin, source, "source", "src", issuing=False),
        alternative_offered=alt,
        age=attested,
        guardian_evidence_ref=ref,
        continuous_identification=cnt,
        retention_until=None if until is None else float(until),
        retention_purpose_end=None if end is None else float(end),
        retention_policy_uri=policy,
        legal_basis=bases,
        notice=notice,
    )
