"""Explicit, audited overrides of the guard's soft rules.

Hard rules (retired attributes, prohibited deployments, consent, expired or mismatched
faceIds, unknown routes) have no override: constructing an ``Override`` for one raises.
A soft rule is set aside only for the one call that carries the override, and only with a
reason; the override is written to the audit trail with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HARD_RULES", "SOFT_RULES", "Override"]

SOFT_RULES = frozenset({"liveness_session_cap", "unknown_face_id"})
"""Rules an ``Override`` may set aside."""

HARD_RULES = frozenset(
    {
        "retired_attribute",
        "prohibited_deployment",
        "use_case",
        "consent",
        "face_id_expired",
        "face_id_model_mismatch",
        "unknown_route",
        "liveness_device_id",
    }
)
"""Rules no override can touch."""

_MIN_REASON = 10


@dataclass(frozen=True)
class Override:
    """Set aside one soft rule for one call, for a stated reason.

    Args:
        rule: one of ``SOFT_RULES``.
        reason: why, in words an auditor can follow (at least 10 characters).
    """

    rule: str
    reason: str

    def __post_init__(self) -> None:
        if self.rule in HARD_RULES:
            raise ValueError(f"{self.rule!r} is a hard rule: no override exists")
        if self.rule not in SOFT_RULES:
            raise ValueError(f"unknown rule {self.rule!r}; soft rules: {sorted(SOFT_RULES)}")
        if len(self.reason.strip()) < _MIN_REASON:
            raise ValueError("an override needs a reason of at least 10 characters")
