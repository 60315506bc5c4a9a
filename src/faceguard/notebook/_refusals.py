"""Guard refusals as HTML: which rule refused, the message, and what to do instead."""

from __future__ import annotations

from .._exceptions import (
    ConsentRejectedError,
    ConsentRequiredError,
    FaceIdError,
    GuardError,
    GuardStoreError,
    LivenessGuardError,
    RetiredAttributeError,
    UnknownRouteError,
    UseCaseError,
)
from ._html import esc, table, wrap

__all__ = ["hint_for", "render_refusal", "rule_of"]

_REISSUE = (
    "the token is not one your consent service issued as-is: issue it with "
    "ConsentIssuer and pass it unchanged as consent=<token>"
)
_TRUST = (
    "the token was not signed by the issuer this client trusts: check that the "
    "ConsentVerifier's pinned issuer and keys are those of your consent service"
)
_RESCOPE = "ask your consent service for a token whose scope covers this call"

_CONSENT_HINTS: dict[str, str] = {
    "malformed": _REISSUE,
    "header": _REISSUE,
    "alg": _REISSUE,
    "typ": _REISSUE,
    "claims": _REISSUE,
    "kid": _TRUST,
    "signature": _TRUST,
    "issuer": _TRUST,
    "audience": (
        "issue the token for this deployment and this Face resource: its aud must name the "
        "verifier's audience and the endpoint this client calls"
    ),
    "expired": "consent tokens are short-lived: ask your consent service for a fresh one",
    "not_yet_valid": "check the clocks of the consent service and of this machine",
    "issued_in_future": "check the clocks of the consent service and of this machine",
    "lifetime": "issue the token with a lifetime within the maximum allowed for its use",
    "operation": _RESCOPE + " (its operations must include this one)",
    "use_case": _RESCOPE + " (for the use case this client declares)",
    "container": _RESCOPE + " (bound to the person group or face list this call uses)",
    "person": _RESCOPE + " (bound to this person)",
    "subject": "use the consent token of the subject the faces or the person belong to",
    "replay": (
        "a once token cannot be presented twice, and a session token only on the client that "
        "first presented it: ask for a new token for this call or client"
    ),
    "withdrawn": (
        "the person withdrew consent: do not retry; erase their data with "
        "client.erase_subject(subject)"
    ),
    "revoked": (
        "the consent was revoked in its status list: do not retry; erase the person's data "
        "with client.erase_subject(subject) if it was withdrawn"
    ),
    "verifier": "build the client with guard=GuardPolicy(verifier=ConsentVerifier(...))",
    "status_unknown": "load the token's status list into the verifier (StatusLists.update)",
    "status_required": (
        "a standing token must name a status list entry: issue it with status=(uri, idx)"
    ),
    "status_stale": "refresh the consent status list (StatusLists.update) and try again",
}

_FACE_ID_HINTS: dict[str, str] = {
    "expired": "detect the face again: faceIds expire (24 h by default) and are not renewed",
    "unknown": (
        "use a faceId this client detected, through this guard; detect the face again if "
        "it came from elsewhere"
    ),
    "unconsented": "detect the face under its own subject's consent token",
    "model_mismatch": (
        "detect the faces again with the recognition model of the target collection; "
        "faces compare only within one recognition model"
    ),
    "resource_mismatch": "detect the face with the same Face resource (endpoint) as this call",
}


def rule_of(error: GuardError) -> str:
    """The rule that refused, as text: the class name, then its check, reason or subject."""
    name = type(error).__name__
    details: list[str] = []
    check = getattr(error, "check", None)
    if isinstance(check, str):
        details.append(f"check: {check}")
    if isinstance(error, FaceIdError):
        details.append(f"reason: {error.reason}")
    if isinstance(error, ConsentRequiredError):
        details.append(f"operation: {error.operation}")
    if isinstance(error, RetiredAttributeError):
        details.append(f"attribute: {error.attribute}")
    return f"{name} ({', '.join(details)})" if details else name


def hint_for(error: GuardError) -> str:
    """What to do instead, in one sentence, for each kind of refusal."""
    if isinstance(error, RetiredAttributeError):
        if error.allowed:
            return "request only attributes still available: " + ", ".join(error.allowed)
        return (
            "this detection model returns no attributes: use detection_03 (or detection_01) "
            "to request attributes"
        )
    if isinstance(error, ConsentRequiredError):
        return (
            "pass consent=<token> issued by your consent service for this subject and "
            f"the {error.operation!r} operation"
        )
    if isinstance(error, ConsentRejectedError):
        return _CONSENT_HINTS.get(error.check, "ask your consent service for a new token")
    if isinstance(error, FaceIdError):
        return _FACE_ID_HINTS.get(error.reason, "detect the face again")
    if isinstance(error, UseCaseError):
        return (
            "declare the limited-access use case Microsoft approved for you "
            "(guard=GuardPolicy(use_case=UseCase....)) and keep to the operations it "
            "permits; a prohibited deployment has no way around"
        )
    if isinstance(error, LivenessGuardError):
        return (
            "use a random UUID generated on the device (uuid.uuid4()) as the device "
            "correlation id, and keep sessions per device under the cap"
        )
    if isinstance(error, UnknownRouteError):
        return (
            "call the operation through the client's typed methods; a route outside "
            "Face v1.2 needs an allowlist update in faceguard"
        )
    if isinstance(error, GuardStoreError):
        return (
            "check that the guard's store (SQLite file or Redis server) is reachable; "
            "recognition fails closed until it is"
        )
    check = getattr(error, "check", None)
    if isinstance(check, str):
        return _CONSENT_HINTS.get(check, "read the message above, then fix the call")
    return "read the message above, then fix the call"


def render_refusal(error: GuardError) -> str:
    """HTML for a guard refusal: the rule, the message and what to do instead."""
    rows = [
        ("rule", f"<code>{esc(rule_of(error))}</code>"),
        ("message", esc(str(error))),
        ("what to do instead", esc(hint_for(error))),
    ]
    body = (
        "<div><strong>Refused by the faceguard guard</strong>: "
        "nothing was sent to the service.</div>" + table(rows)
    )
    return wrap(
        "refusal",
        body,
        style="border-left:4px solid #c62828;padding:4px 10px;background:#fff5f5",
    )
