"""Liveness guards: device correlation ids must not be personal data; sessions are capped.

The service links sessions from one device by ``deviceCorrelationId``, "a non-PII identifier"
(Data and privacy for Face). faceguard accepts only random-looking values (a UUID, or a long
hex / base64url token) and refuses anything shaped like an email, a phone number or a name.

Creating many sessions is how liveness detection gets probed, which the code of conduct
prohibits (R19). Two caps hold per window, both soft rules:

- per device (``liveness_session_cap``): sessions counted by the *canonical* device id, so a
  UUID in upper case, without dashes, in braces, as ``urn:uuid:``, with spaces around it, in
  fullwidth digits or with zero-width characters inside is still one device;
- per application (``liveness_application_cap``): every session created on one Face resource
  through the guard's store, with or without a device id. When the app lets the client set
  the device id (``deviceCorrelationIdSetInClient``), the backend never sees it and the
  per-device cap cannot count; this cap still does.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from .._exceptions import LivenessGuardError
from ._identifiers import primary_identifier_kinds
from ._override import Override
from ._pseudonym import DEVICE
from ._store import GuardStore

__all__ = [
    "canonical_device_id",
    "check_device_correlation_id",
    "check_session_caps",
    "count_application_session",
    "count_session",
]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]{32,128}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,128}$")
_NS = "liveness-device"
_NS_APP = "liveness-application"
_URN = "urn:uuid:"
_KIND_WORDS = {
    "email": "an email address",
    "phone": "a phone number",
    "national_id": "a national id",
}


def canonical_device_id(value: str) -> str:
    """One spelling per device: what the per-device cap counts by.

    NFKC (fullwidth digits and letters), format characters (zero-width) removed, surrounding
    whitespace stripped, case folded, a ``urn:uuid:`` prefix and enclosing braces or
    parentheses dropped; a value that is hex once its dashes are gone (a UUID with or without
    dashes, a hex token) loses its dashes. Case is folded for base64url tokens too: two
    tokens that differ only in case then count as one device, which errs on the side of the
    cap.
    """
    text = unicodedata.normalize("NFKC", value)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf").strip().casefold()
    if text.startswith(_URN):
        text = text[len(_URN) :].strip()
    if len(text) >= 2 and text[0] + text[-1] in {"{}", "()"}:
        text = text[1:-1].strip()
    compact = text.replace("-", "")
    return compact if _HEX.match(compact) else text


def check_device_correlation_id(value: str) -> None:
    """Refuse a device correlation id that is not random-looking (judged canonicalised)."""
    value = canonical_device_id(value)
    if _UUID.match(value) or _HEX.match(value):
        return
    if _TOKEN.match(value) and any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
        # A long token mixing letters and digits with no separators is not a name or an email.
        letters = sum(c.isalpha() for c in value)
        if len(set(value)) >= 12 and letters < len(value) - 2:
            return
    kinds = primary_identifier_kinds(value)
    kind = " and ".join(_KIND_WORDS[k] for k in kinds) if kinds else "not random-looking"
    raise LivenessGuardError(
        f"device_correlation_id looks like personal data ({kind}); use a random UUID "
        "generated on the device (uuid.uuid4()) instead"
    )


def count_session(store: GuardStore, device_correlation_id: str, *, window: float) -> int:
    """Count one session creation for a device, filed under the canonical device id's keyed
    pseudonym (an unkeyed hash of a guessable id could be reversed by trying candidates)."""
    device = canonical_device_id(device_correlation_id)
    return store.count_event(_NS, store.pseudonym(DEVICE, device), window=window)


def count_application_session(store: GuardStore, endpoint: str, *, window: float) -> int:
    """Count one session creation of this application on the Face resource ``endpoint``.

    The client's configuration has made the endpoint canonical (host case, a trailing dot or
    slash, a default port), so every client of one resource counts under one key.
    """
    key = hashlib.sha256(endpoint.encode()).hexdigest()
    return store.count_event(_NS_APP, key, window=window)


def _over(rule: str, override: object, count: int, cap: int, window: float, who: str) -> Override:
    """The override of ``rule`` the call carries, or the refusal of a cap that ``count``
    exceeds."""
    if isinstance(override, Override) and override.rule == rule:
        return override
    raise LivenessGuardError(
        f"{who} created {count} liveness sessions within {window:g} s (cap {cap}); repeated "
        "sessions are how liveness detection gets probed. Pass "
        f"override=Override({rule!r}, reason) if this one is legitimate"
    )


def check_session_caps(
    store: GuardStore,
    *,
    endpoint: str,
    device_correlation_id: str | None,
    per_device: int,
    per_application: int,
    window: float,
    override: object,
) -> Override | None:
    """Count one session against both caps; refuse, or return the override that let it pass.

    The device is checked (and counted) first: a session its device cap refuses is not
    counted against the application, so one probing device cannot spend every other
    device's budget.
    """
    used: Override | None = None
    if device_correlation_id is not None:
        check_device_correlation_id(device_correlation_id)
        count = count_session(store, device_correlation_id, window=window)
        if count > per_device:
            used = _over("liveness_session_cap", override, count, per_device, window, "this device")
    count = count_application_session(store, endpoint, window=window)
    if count > per_application:
        used = _over(
            "liveness_application_cap",
            override,
            count,
            per_application,
            window,
            "this application (all devices, on this Face resource)",
        )
    return used
