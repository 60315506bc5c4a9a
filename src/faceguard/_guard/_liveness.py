"""Liveness guards: device correlation ids must not be personal data; sessions are capped.

The service links sessions from one device by ``deviceCorrelationId``, "a non-PII identifier"
(Data and privacy for Face). faceguard accepts only random-looking values (a UUID, or a long
hex / base64url token) and refuses anything shaped like an email, a phone number or a name.
Creating many sessions from one device is how liveness detection gets probed, which the code
of conduct prohibits; sessions per device are capped per window (a soft rule).
"""

from __future__ import annotations

import hashlib
import re

from .._exceptions import LivenessGuardError
from ._store import GuardStore

__all__ = ["check_device_correlation_id", "count_session"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]{32,128}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,128}$")
_NS = "liveness-device"


def check_device_correlation_id(value: str) -> None:
    """Refuse a device correlation id that is not random-looking."""
    if _UUID.match(value) or _HEX.match(value):
        return
    if _TOKEN.match(value) and any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
        # A long token mixing letters and digits with no separators is not a name or an email.
        letters = sum(c.isalpha() for c in value)
        if len(set(value)) >= 12 and letters < len(value) - 2:
            return
    kind = (
        "an email address"
        if "@" in value
        else ("a phone number" if re.fullmatch(r"[+\d\s().-]{6,}", value) else "not random-looking")
    )
    raise LivenessGuardError(
        f"device_correlation_id looks like personal data ({kind}); use a random UUID "
        "generated on the device (uuid.uuid4()) instead"
    )


def count_session(store: GuardStore, device_correlation_id: str, *, window: float) -> int:
    """Count one session creation for a device (keyed by a hash, never the raw id)."""
    key = hashlib.sha256(device_correlation_id.encode()).hexdigest()
    return store.count_event(_NS, key, window=window)
