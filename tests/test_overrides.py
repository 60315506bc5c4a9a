# ruff: noqa: RUF001 - fullwidth and other look-alike characters are the attack here
"""Override reasons: a minimum of visible characters, typed errors, nothing the audit refuses.

An override's reason is what an auditor reads later. Padding it with characters that print as
nothing (zero-width spaces, format and control characters, combining marks, Hangul fillers,
whitespace of any script) must not get a non-reason past the minimum.
"""

from __future__ import annotations

import pytest

from faceguard import FaceGuardError, InvalidInputError
from faceguard._guard._override import HARD_RULES, SOFT_RULES, Override

RULE = "liveness_session_cap"
GOOD = "support ticket 4711: kiosk reboot loop"


@pytest.mark.parametrize(
    "reason",
    [
        "",
        "short",
        "\u200b" * 40,  # zero-width space (Cf)
        "ab" + "\u200b" * 40,
        "abc" + "\u200c\u200d\u2060\ufeff" * 10,  # ZWNJ, ZWJ, word joiner, BOM
        "ab" + "\u00ad" * 20,  # soft hyphens
        "a" + "\u0301" * 30,  # one letter under 30 combining accents
        "abc" + "\ufe0f" * 20,  # variation selectors
        "\u3164" * 20,  # Hangul filler
        "ab" + "\u115f\u1160" * 10,  # Hangul choseong/jungseong fillers
        "ab" + "\uffa0" * 20,  # halfwidth Hangul filler
        "ab" + "\u2800" * 20,  # braille blank
        "ab" + "\u3000" * 20,  # ideographic space
        "ab" + "\u00a0\u2007\u202f" * 10,  # no-break spaces
        "ab" + "\u2028\u2029" * 10,  # line and paragraph separators
        "ab" + "\x00\x01\x7f\x9f" * 10,  # control characters
        "ab" + "\U000e0041" * 20,  # tag characters
        "ab" + "\U000f0000" * 20,  # private use
        "ab" + "\u034f" * 20,  # combining grapheme joiner
        "ab" + "\u180e" * 20,  # Mongolian vowel separator
        "a b c d e f g h i",  # nine visible characters, spaces do not count
        "..........",  # punctuation only: no letter or digit
        "----------!!!!",
    ],
)
def test_reasons_without_enough_visible_characters_are_refused(reason: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Override(RULE, reason)
    assert info.value.parameter == "reason"
    assert isinstance(info.value, ValueError)  # old callers caught ValueError


INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "bidi override": "\u202e",
    "combining acute": "\u0301",
    "variation selector": "\ufe0f",
    "combining grapheme joiner": "\u034f",
    "Hangul filler": "\u3164",
    "halfwidth Hangul filler": "\uffa0",
    "braille blank": "\u2800",
    "ideographic space": "\u3000",
    "no-break space": "\u00a0",
    "line separator": "\u2028",
    "tab": "\t",
    "NUL": "\x00",
    "C1 control": "\x9f",
    "tag letter": "\U000e0041",
    "private use": "\ue000",
    "unassigned": "\U000e0080",
}


@pytest.mark.parametrize("name", sorted(INVISIBLE))
def test_seven_letters_padded_with_invisible_characters_are_refused(name: str) -> None:
    """Seven letters and digits are enough of them, but not enough characters: the padding
    must not make up the difference, whatever it is."""
    with pytest.raises(InvalidInputError):
        Override(RULE, "ticket7" + INVISIBLE[name] * 20)
    padded = "ticket7" + INVISIBLE[name] * 20 + "abc"
    if name in REFUSED_OUTRIGHT:
        with pytest.raises(InvalidInputError) as info:
            Override(RULE, padded)
        assert info.value.rule == "control"
    else:
        assert Override(RULE, padded).rule == RULE


REFUSED_OUTRIGHT = {"NUL", "C1 control", "bidi override"}


@pytest.mark.parametrize(
    "char", ["\u202a", "\u202d", "\u2066", "\u2069", "\u200f", "\u061c", "\x1b", "\x7f"]
)
def test_bidi_and_control_characters_are_refused_in_a_long_reason(char: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Override(RULE, f"support ticket {char}4711: kiosk reboot loop")
    assert info.value.rule == "control"
    assert Override(RULE, "support ticket 4711:\n\tkiosk reboot loop").rule == RULE


@pytest.mark.parametrize(
    "reason",
    [
        GOOD,
        "ticket4711",  # exactly ten visible
        "  ticket 4711 ok  ",
        "工单4711号：自助机重启循环",  # CJK counts
        "Störung am Kiosk #12",
        "تذكرة ٤٧١١ إعادة تشغيل",
        "re\u0301sume\u0301 ok now",  # marks on letters that are there anyway
    ],
)
def test_reasons_with_enough_visible_characters_are_accepted(reason: str) -> None:
    assert Override(RULE, reason).reason == reason


@pytest.mark.parametrize("reason", [GOOD + "\ud800", "\udfff" + GOOD])
def test_a_reason_with_a_lone_surrogate_is_refused(reason: str) -> None:
    with pytest.raises(InvalidInputError):
        Override(RULE, reason)


@pytest.mark.parametrize(
    "reason",
    [
        "person 0ab6bb5b-b5b3-4e4b-9f3c-5ad24b8e0c6f asked for it",  # a person id
        "asked by alice@example.com on the phone",
        "call back on +44 20 7946 0958 please",
        "token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJwIn0.c2lnbmF0dXJlc2lnbmF0dXJl",
        "x" * 401,
    ],
)
def test_a_reason_the_audit_trail_must_not_hold_is_refused_when_built(reason: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Override(RULE, reason)
    assert "@" not in str(info.value) and "7946" not in str(info.value)


@pytest.mark.parametrize("rule", sorted(HARD_RULES))
def test_hard_rules_raise_a_typed_error(rule: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Override(rule, GOOD)
    assert info.value.parameter == "rule"
    assert "hard rule" in str(info.value)


@pytest.mark.parametrize("rule", ["", "LIVENESS_SESSION_CAP", "liveness_session_cap ", "nope"])
def test_unknown_rules_raise_a_typed_error(rule: str) -> None:
    with pytest.raises(InvalidInputError):
        Override(rule, GOOD)


@pytest.mark.parametrize("value", [None, b"liveness_session_cap", ["x"], 3, object()])
def test_wrong_types_raise_a_typed_error(value: object) -> None:
    with pytest.raises(FaceGuardError):
        Override(value, GOOD)  # type: ignore[arg-type]
    with pytest.raises(FaceGuardError):
        Override(RULE, value)  # type: ignore[arg-type]


def test_every_soft_rule_can_be_overridden() -> None:
    assert {"liveness_session_cap", "liveness_application_cap", "primary_identifier"} <= SOFT_RULES
    for rule in SOFT_RULES:
        assert Override(rule, GOOD).rule == rule
