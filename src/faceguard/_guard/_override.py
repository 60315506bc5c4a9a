"""Explicit, audited overrides of the guard's soft rules.

Hard rules (retired attributes, prohibited deployments, consent, expired or mismatched
faceIds, unknown routes) have no override: constructing an ``Override`` for one raises.
A soft rule is set aside only for the one call that carries the override, and only with a
reason; the override is written to the audit trail with that reason.

The reason is what an auditor reads later, so its minimum length counts only characters that
print: letters, numbers, punctuation and symbols. Whitespace of every script, format characters
(zero-width spaces and joiners, soft hyphens, bidi controls, tags), control characters,
combining marks, private-use and unassigned code points, and the blank "letters" (Hangul
fillers, the braille blank) do not count: ``"ab" + "\\u200b" * 40`` is two characters long.
A reason must also hold a few letters or digits (ten dots say nothing), no lone surrogate (it
cannot be written to the audit file), no control character but tab and newlines and no
bidirectional control (it would read differently in the audit trail than it was written), and
nothing the audit trail refuses to hold (ids, keys, tokens) or R31 keeps out of records (email
addresses, phone numbers, national ids).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .._exceptions import InvalidInputError
from ._audit_record import find_sensitive
from ._identifiers import primary_identifier_kinds

__all__ = ["HARD_RULES", "SOFT_RULES", "Override", "visible_length"]

SOFT_RULES = frozenset(
    {
        "liveness_session_cap",
        "liveness_application_cap",
        "unknown_face_id",
        "primary_identifier",
        "tracking_identification_cap",
        "tracking_detect_cap",
    }
)
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

MIN_REASON = 10
"""Visible characters a reason needs at least."""
MIN_REASON_ALNUM = 4
"""Letters or digits among them."""
MAX_REASON = 400
"""The audit record's reason field holds 500 characters, the rule name and ``: `` included."""

# Bidirectional controls reorder what a reader sees (the "Trojan Source" trick): a reason
# holding one could read differently in the audit trail than it was written. Refused, like
# control characters other than tab and newlines.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ALLOWED_CONTROLS = frozenset("\t\n\r")

# Code points that are letters or symbols to Unicode but print as blank space.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5")
_PRINTING = frozenset("LNPS")  # the major categories that put ink on the page


def _prints(char: str) -> bool:
    return unicodedata.category(char)[0] in _PRINTING and char not in _BLANK_LETTERS


def visible_length(text: str) -> int:
    """How many characters of ``text`` print: what the reason minimum counts."""
    return sum(1 for char in text if _prints(char))


def _bad(parameter: str, rule: str, message: str) -> InvalidInputError:
    return InvalidInputError(parameter, rule, message)


@dataclass(frozen=True)
class Override:
    """Set aside one soft rule for one call, for a stated reason.

    Args:
        rule: one of ``SOFT_RULES``.
        reason: why, in words an auditor can follow: at least 10 visible characters (4 of
            them letters or digits), at most 400, with no id, key, email address or phone
            number in it (the reason goes into the audit trail as written).

    Raises:
        InvalidInputError: (also a ``ValueError``) for a hard rule, an unknown rule, or a
            reason that breaks one of the rules above; ``parameter`` is ``"rule"`` or
            ``"reason"``.
    """

    rule: str
    reason: str

    def __post_init__(self) -> None:
        rule: object = self.rule
        if not isinstance(rule, str):
            raise _bad("rule", "type", f"must be a string, not {type(rule).__name__}")
        if rule in HARD_RULES:
            raise _bad("rule", "hard_rule", f"{rule!r} is a hard rule: no override exists")
        if rule not in SOFT_RULES:
            # The rule is not echoed: a mistyped argument may be anything, a secret included.
            raise _bad("rule", "unknown", f"unknown rule; soft rules: {sorted(SOFT_RULES)}")
        _check_reason(self.reason)


def _check_reason(reason: object) -> None:
    # Nothing of the reason is echoed in these errors: it was refused for what it holds.
    if not isinstance(reason, str):
        raise _bad("reason", "type", f"must be a string, not {type(reason).__name__}")
    if len(reason) > MAX_REASON:
        raise _bad("reason", "length", f"must be at most {MAX_REASON} characters long")
    if any(unicodedata.category(char) == "Cs" for char in reason):
        raise _bad("reason", "unicode", "holds a lone surrogate (not valid Unicode text)")
    if any(
        char in _BIDI or (unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS)
        for char in reason
    ):
        raise _bad("reason", "control", "holds control or bidirectional formatting characters")
    visible = [char for char in reason if _prints(char)]
    alnum = sum(1 for char in visible if unicodedata.category(char)[0] in "LN")
    if len(visible) < MIN_REASON or alnum < MIN_REASON_ALNUM:
        raise _bad(
            "reason",
            "length",
            f"an override needs a reason of at least {MIN_REASON} visible characters, "
            f"{MIN_REASON_ALNUM} of them letters or digits (got {len(visible)} visible); "
            "whitespace, zero-width, format and control characters and combining marks do "
            "not count",
        )
    found = find_sensitive(reason)
    if found is not None:
        raise _bad(
            "reason", "sensitive", f"looks like it contains {found}; the audit trail never holds it"
        )
    kinds = primary_identifier_kinds(reason)
    if kinds:
        raise _bad(
            "reason",
            "personal_data",
            f"holds {' and '.join(kinds)} (R31); the audit trail keeps no primary identifiers",
        )
