# ruff: noqa: RUF001 - fullwidth and other look-alike characters are the attack here
"""R31: ``primary_identifier_kinds`` finds emails, phone numbers and national ids in free text.

The attacker's side: the same identifier written many ways (obfuscated, fullwidth, with
zero-width characters, percent- or HTML-encoded, in other digit scripts). The honest side:
names, dates, UUIDs, hashes, scores and counters an application stores in ``name`` and
``userData`` must not be flagged, so a refusal stays meaningful.
"""

from __future__ import annotations

import time
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faceguard._guard._identifiers import primary_identifier_kinds

EMAILS = [
    "alice@example.com",
    "Alice.Smith+face@mail.example.co.uk",
    "contact: alice@example.com, thanks",
    "alice [at] example [dot] com",
    "alice(at)example(dot)com",
    "alice {at} example {dot} org",
    "alice <at> example <dot> net",
    "alice at example dot com",
    "alice AT example DOT com",
    "alice @ example . com",
    "alice[@]example[.]com",
    "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ",  # fullwidth
    "alice﹫example.com",  # small commercial at
    "ali\u200bce@exa\u200dmple.com",  # zero-width space / joiner
    "alice\u00ad@example.com",  # soft hyphen
    "alice%40example.com",
    "alice&#64;example.com",
    "alice&#x40;example.com",
    "alice&commat;example.com",
    "josé@exämple.de",
    "user@[192.168.0.1]",
    "mailto:ALICE@EXAMPLE.COM",
]

PHONES = [
    "+1 (555) 010-9999",
    "+44 20 7946 0958",
    "+44 (0) 20 7946 0958",
    "0044 20 7946 0958",
    "+33 1 23 45 67 89",
    "+49-30-1234567",
    "+8613812345678",
    "(555) 123-4567",
    "(555)1234567",
    "(020) 79460958",
    "555-123-4567",
    "555.123.4567",
    "555 123 4567",
    "1-555-123-4567",
    "020 7946 0958",
    "07946 095812",
    "01 23 45 67 89",
    "13812345678",  # a Chinese mobile number, no separators
    "5551234567",
    "tel:+15551234567",
    "call me on 555–123–4567 after six",  # en dashes
    "５５５-１２３-４５６７",  # fullwidth digits
    "٥٥٥-١٢٣-٤٥٦٧",  # Arabic-Indic digits
    "٠٧٩٤٦ ٠٩٥٨١٢",  # a UK mobile in Arabic-Indic digits: the leading zero must be seen
    "0033 123456789",
    "+290 22345",  # St Helena: eight digits in all
    "555\u200b123\u200b4567",  # zero-width spaces
    "phone 5551234",  # seven digits next to a keyword
    "mobile: 123 4567",
    "555-123-4567 555-987-6543",  # two numbers in one run
]

NATIONAL_IDS = [
    "123-45-6789",  # US SSN
    "123 45 6789",
    "SSN 123456789",
    "ssn: 123.45.6789",
    "QQ 12 34 56 C",  # UK NINO
    "QQ123456C",
    "qq123456c",
    "ＱＱ１２３４５６Ｃ",
    "11010519491231002X",  # Chinese resident id
    "123.456.789-09",  # Brazilian CPF
    "850101-1234567",  # Korean RRN
    "19850101-1234",  # Swedish personnummer
    "010185-1234",  # Danish CPR
    "131052-308T",  # Finnish HETU
    "RSSMRA85T10A562S",  # Italian codice fiscale
    "12345678Z",  # Spanish DNI (valid check letter)
    "X1234567L",  # Spanish NIE
    "passport: 123456789",
    "national insurance number AB123456D",
    "Steuer-ID 12345678901",
    "1 85 05 78 006 084 91",  # French NIR
]

HONEST = [
    "Ada Lovelace",
    "José María Pérez-Núñez",
    "O'Brien-Smith",
    "李小龙",
    "Σωκράτης",
    "Louis XIV",
    "Anna at home",
    "Meeting at 10.30",
    "employee 42",
    "Group 2024",
    "front desk kiosk 3",
    "enrolled at the front desk",
    "2024-01-15",
    "2024-01-15T10:30:00Z",
    "15.01.2024 09:45",
    "01/15/2024",
    "v1.2.3",
    "score 0.987654321",
    "3.14159265358979",
    "scores 0.98 0.87 0.91",
    "192.168.100.200",
    "0ab6bb5b-b5b3-4e4b-9f3c-5ad24b8e0c6f",
    "12345678-1234-1234-1234-123456789012",
    "{0AB6BB5B-B5B3-4E4B-9F3C-5AD24B8E0C6F}",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "deadbeef12345678",
    '{"dept": "sales", "level": 3, "badge": "B-1042"}',
    "ticket #4711",
    "created 1733612345",  # epoch seconds
    "created 1733612345678",  # epoch milliseconds
    "room 12, floor 3",
    "batch 7 of 12",
    "AB-12",
    "at the gate dot",
    "@ada",
    "a@b",
    "example.com",
    "order 123456789",
    "phone case for kiosk 3, stock count 1234567",
    "rooms 101 102 103",
    "sizes 36 38 40 42",
    "pages 12 7 104 3 9",
    "lot 12 345 67",
    "part 2345678901AB",
    "12345678A",
]


@pytest.mark.parametrize("text", EMAILS)
def test_emails_in_any_spelling_are_found(text: str) -> None:
    assert "email" in primary_identifier_kinds(text), text


@pytest.mark.parametrize("text", PHONES)
def test_phone_numbers_in_any_spelling_are_found(text: str) -> None:
    assert "phone" in primary_identifier_kinds(text), text


@pytest.mark.parametrize("text", NATIONAL_IDS)
def test_national_id_like_patterns_are_found(text: str) -> None:
    assert "national_id" in primary_identifier_kinds(text), text


@pytest.mark.parametrize("text", HONEST)
def test_ordinary_names_and_user_data_are_not_flagged(text: str) -> None:
    assert primary_identifier_kinds(text) == (), text


@pytest.mark.parametrize(
    "text",
    [
        "12345678A",  # DNI with the wrong check letter
        "X1234567A",  # NIE with the wrong check letter
        "1 85 05 78 006 084 12",  # NIR with the wrong key
        "991399-1234",  # no 13th month, no 99th day
        "11010519491331002X",  # resident id born in month 13
        "850132-1234567",  # RRN born on the 32nd
        "Tin Nguyen 123456789",  # a given name that is also an abbreviation
        "passport photo taken; badge 12345678 issued next year",  # the word is far away
    ],
)
def test_near_misses_are_not_national_ids(text: str) -> None:
    assert "national_id" not in primary_identifier_kinds(text), text


@pytest.mark.parametrize("text", ["123-45-6789", "SSN 123 45 6789", "QQ 12 34 56 C"])
def test_a_national_id_is_not_also_reported_as_a_phone_number(text: str) -> None:
    assert primary_identifier_kinds(text) == ("national_id",)


def test_kinds_are_sorted_unique_and_only_the_three_names() -> None:
    text = "alice@example.com, +44 20 7946 0958, bob@example.org, SSN 123-45-6789"
    assert primary_identifier_kinds(text) == ("email", "national_id", "phone")
    assert primary_identifier_kinds("") == ()


def test_identifiers_hidden_among_uuids_are_still_found() -> None:
    text = f"{uuid.uuid4()} alice@example.com {uuid.uuid4()}"
    assert primary_identifier_kinds(text) == ("email",)
    assert primary_identifier_kinds(f"{uuid.uuid4()};555-123-4567") == ("phone",)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


SPELL = {
    "as is": lambda e: e,
    "fullwidth": _fullwidth,
    "zero-width": lambda e: "\u200b".join(e),
    "[at]": lambda e: e.replace("@", " [at] "),
    "(at) (dot)": lambda e: e.replace("@", "(at)").replace(".", "(dot)"),
    "at/dot words": lambda e: e.replace("@", " at ").replace(".", " dot "),
    "%40": lambda e: e.replace("@", "%40"),
    "&#64;": lambda e: e.replace("@", "&#64;"),
    "in a sentence": lambda e: f"write to {e}, thanks",
}


@settings(max_examples=300)
@given(st.emails(), st.sampled_from(sorted(SPELL)))
def test_property_any_email_in_any_spelling_is_found(email: str, spelling: str) -> None:
    text = SPELL[spelling](email)
    assert "email" in primary_identifier_kinds(text), (spelling, text)


@given(st.uuids().map(str))
def test_property_uuids_are_never_flagged(value: str) -> None:
    assert primary_identifier_kinds(value) == ()
    assert primary_identifier_kinds(value.upper().replace("-", "")) == ()


@given(
    st.text(
        alphabet=st.characters(categories=["Lu", "Ll", "Lo", "Zs"], exclude_characters="@＠﹫"),
        max_size=60,
    )
)
def test_property_text_without_digits_or_at_signs_is_never_flagged_as_phone_or_id(
    value: str,
) -> None:
    kinds = primary_identifier_kinds(value)
    assert "phone" not in kinds and "national_id" not in kinds


@settings(max_examples=50)
@given(st.text(max_size=300))
def test_property_any_text_gives_a_sorted_tuple_of_known_kinds(value: str) -> None:
    kinds = primary_identifier_kinds(value)
    assert isinstance(kinds, tuple)
    assert list(kinds) == sorted(set(kinds))
    assert set(kinds) <= {"email", "phone", "national_id"}


@pytest.mark.parametrize(
    "text",
    [
        "a" * 16_000,
        "1 " * 8_000,
        "a@" * 8_000,
        "a." * 8_000,
        "1-" * 8_000,
        ("x" * 63 + "@") * 250,
        "a at " * 3_200,
        "call 1 " * 2_300,
        "ssn 1 " * 2_600,
        " " * 16_000 + "@",
        "[" * 16_000,
        "1" * 16_000,
        "+(" * 8_000,
        "@" + "a." * 7_999,
        ("a@" + "b." * 60) * 120,
    ],
    ids=[
        "letters",
        "digits",
        "ats",
        "dots",
        "dashes",
        "long-locals",
        "ats-words",
        "phone-words",
        "id-words",
        "spaces",
        "brackets",
        "one-number",
        "plus-parens",
        "one-long-domain",
        "many-long-domains",
    ],
)
def test_worst_case_16_kb_inputs_are_scanned_quickly(text: str) -> None:
    started = time.perf_counter()
    primary_identifier_kinds(text)
    assert time.perf_counter() - started < 1.0


def test_non_string_is_a_type_error_not_a_crash_in_a_regex() -> None:
    with pytest.raises(TypeError):
        primary_identifier_kinds(b"alice@example.com")  # type: ignore[arg-type]


PHONE_FORMATS = {
    "(a) b-c": lambda a, b, c: f"({a}) {b}-{c}",
    "a-b-c": lambda a, b, c: f"{a}-{b}-{c}",
    "a.b.c": lambda a, b, c: f"{a}.{b}.{c}",
    "a b c": lambda a, b, c: f"{a} {b} {c}",
    "+1 a b c": lambda a, b, c: f"+1 {a} {b} {c}",
    "1-a-b-c": lambda a, b, c: f"1-{a}-{b}-{c}",
    "+1abc": lambda a, b, c: f"+1{a}{b}{c}",
    "abc": lambda a, b, c: f"{a}{b}{c}",
    "+44 (0)": lambda a, b, c: f"+44 (0) {a[1:]} {b} {c}",
    "0a bc c": lambda a, b, c: f"0{a} {b}{c[:2]} {c[2:]}",
}
_AREA = st.from_regex(r"[2-9][0-9][0-9]", fullmatch=True)


@settings(max_examples=300)
@given(
    _AREA,
    _AREA,
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.sampled_from(sorted(PHONE_FORMATS)),
    st.sampled_from(["as is", "fullwidth", "zero-width", "in a sentence"]),
)
def test_property_phone_numbers_in_any_format_and_spelling_are_found(
    a: str, b: str, c: str, layout: str, spelling: str
) -> None:
    text = SPELL[spelling](PHONE_FORMATS[layout](a, b, c))
    assert "phone" in primary_identifier_kinds(text), text


@settings(max_examples=200)
@given(
    st.from_regex(r"[0-9]{3}", fullmatch=True),
    st.from_regex(r"[0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.sampled_from(["-", " ", "."]),
    st.sampled_from(["as is", "fullwidth", "zero-width", "in a sentence"]),
)
def test_property_ssn_in_any_spelling_is_a_national_id(
    a: str, b: str, c: str, sep: str, spelling: str
) -> None:
    text = SPELL[spelling](f"{a}{sep}{b}{sep}{c}")
    assert "national_id" in primary_identifier_kinds(text), text
