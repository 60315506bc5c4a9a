"""R31: find primary identifiers (email addresses, phone numbers, national ids) in free text.

The Face API "does not store primary identifiers, such as customer IDs, alongside facial
templates"; the developer links the service's GUIDs to people on their own side. ``name`` and
``userData`` of persons, faces and lists are free text the service stores next to templates,
so faceguard looks there for the identifiers that would undo that separation.

The detector is written for the attacker who wants an identifier through anyway:

- text is normalised first: NFKC (fullwidth letters and digits, the small and fullwidth
  commercial at), digits of every script to ASCII, dashes of every kind to ``-``, format
  characters (zero-width spaces and joiners, soft hyphens, tags) removed, controls to spaces;
- emails are also looked for after percent- and HTML-decoding, and with ``[at]``, ``(at)``,
  `` at ``, ``[dot]``, `` dot `` and spaced ``@``/``.`` spellings rewritten;
- phone numbers are found by their shape (international ``+``/``00`` prefixes, leading-zero
  national formats, a bracketed area code, digits in groups of unequal widths such as
  ``555 123 4567``, 10-15 bare digits) and, right after a word such as "phone" or "tel", any
  run of 7 or more digits;
- national ids: US SSN, UK NINO, Chinese resident id, Korean RRN, Nordic personal numbers,
  Brazilian CPF, Spanish DNI/NIE (check letter verified), Italian codice fiscale, French NIR,
  and any run of 6 or more digits next to a word such as "passport", "ssn" or "tax id".

And for the honest caller, so that a refusal keeps its meaning: UUIDs and hex tokens (what R31
says to store instead; digits glued to letters are part of a code, not a number), dates and
times, epoch timestamps (10 or 13 digits starting with 1), IPv4 addresses, decimals, version
numbers and lists of equal-width numbers are never flagged. Payment card numbers, postal
addresses, names and social-media handles are not looked for (a name is the ``name`` field's
purpose; the rest is documented as not covered).

Every pattern is linear: no nested quantifier can backtrack, and the text is at most 16 KB
(userData), so a hostile value costs milliseconds.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date
from urllib.parse import unquote

__all__ = ["KINDS", "primary_identifier_kinds"]

KINDS = ("email", "national_id", "phone")
"""Every kind ``primary_identifier_kinds`` can report, in its (alphabetical) order."""

# -- normalisation ------------------------------------------------------------------------------

_DASHES = {ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"}


def _normalise(text: str) -> str:
    """NFKC, ASCII digits and dashes, no format characters, controls as spaces."""
    text = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        category = unicodedata.category(char)
        if category == "Cf" or category == "Mn":
            continue  # zero-width characters, soft hyphens, tags, marks: print as nothing
        if category == "Nd":
            out.append(str(unicodedata.digit(char)))
        elif category in {"Cc", "Zs", "Zl", "Zp"}:
            out.append(" ")
        else:
            out.append(char.translate(_DASHES))
    return "".join(out)


# Spans that are never identifiers, blanked before the digit patterns run. Each is fenced by
# lookarounds so that it cannot take a bite out of a longer number (``555.123.4567`` is not a
# decimal followed by ``.4567``).
_UUIDS = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_BENIGN = re.compile(
    r"(?<![\d.:/-])(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"  # dates
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\d.:/-])"
    r"|(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])"  # times
    r"|(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![.\d])"  # IPv4
    r"|(?<![\d.])\d+\.\d+(?![.\d])"  # decimals
)


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: " " * len(m.group()), text)


# -- email ------------------------------------------------------------------------------------

_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"
_AT_WORD = re.compile(
    rf"\s*{_OPEN}\s*(?:at|@)\s*{_CLOSE}\s*|\s+(?:at|arroba)\s+|\s+@\s*|\s*@\s+", re.IGNORECASE
)
_DOT_WORD = re.compile(
    rf"\s*{_OPEN}\s*(?:dot|\.)\s*{_CLOSE}\s*|\s+(?:dot|punto|point)\s+|\s+\.\s+", re.IGNORECASE
)
_LOCAL = re.compile(r"[\w.+%'!#$&*=?^`{|}~/-]{1,64}$")  # RFC 5322 dot-atom characters
# Labels, then a top-level domain of letters or an IDN one in punycode (xn--...).
_DOMAIN = re.compile(
    r"(?:[\w-]{1,63}\.){1,126}(?:[^\W\d_]{2,63}|[xX][nN]--[\w-]{1,59})|\[[0-9a-fA-F.:]{3,45}\]"
)


def _has_email(text: str) -> bool:
    for at in re.finditer("@", text):
        start = at.start()
        if _LOCAL.search(text, max(0, start - 64), start) and _DOMAIN.match(text, start + 1):
            return True
    return False


def _email_spellings(text: str) -> Iterator[str]:
    yield text
    decoded = _normalise(html.unescape(unquote(text))) if ("%" in text or "&" in text) else text
    if decoded != text:
        yield decoded
    # Whitespace collapsed first: the rewrites' ``\s*`` then never scans a long run twice.
    spaced = re.sub(r"\s+", " ", decoded)
    rewritten = _DOT_WORD.sub(".", _AT_WORD.sub("@", spaced))
    if rewritten != spaced:
        yield rewritten


# -- national ids -------------------------------------------------------------------------------

_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _yymmdd(digits: str) -> bool:
    return _is_date(2000 + int(digits[0:2]), int(digits[2:4]), int(digits[4:6]))


def _ddmmyy(digits: str) -> bool:
    return _is_date(2000 + int(digits[4:6]), int(digits[2:4]), int(digits[0:2]))


def _valid_dni(number: str, letter: str) -> bool:
    return _DNI_LETTERS[int(number) % 23] == letter


def _valid_nir(number: str, key: str) -> bool:
    digits = number.replace(" ", "").replace("2A", "19").replace("2B", "18")
    return 97 - int(digits) % 97 == int(key)


_NIE_PREFIX = {"X": "0", "Y": "1", "Z": "2"}

# (pattern, validator of the match or None): matched on the upper-cased normalised text.
_Check = Callable[[re.Match[str]], bool] | None
_ID_PATTERNS: tuple[tuple[re.Pattern[str], _Check], ...] = (
    (re.compile(r"(?<![\w-])\d{3}([ .-])\d{2}\1\d{4}(?![\w-])"), None),  # US SSN
    (re.compile(r"(?<![A-Z0-9])[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Z0-9])"), None),  # NINO
    (  # Chinese resident identity card: region, YYYYMMDD, sequence, check digit or X
        re.compile(r"(?<![\w])\d{6}((?:19|20)\d{2})(\d{2})(\d{2})\d{3}[\dX](?![\w])"),
        lambda m: _is_date(int(m[1]), int(m[2]), int(m[3])),
    ),
    (  # Korean RRN: YYMMDD-SNNNNNN
        re.compile(r"(?<![\w-])(\d{6})-[1-8]\d{6}(?![\w-])"),
        lambda m: _yymmdd(m[1]),
    ),
    (  # Swedish personnummer, long form: YYYYMMDD-NNNN
        re.compile(r"(?<![\w-])((?:19|20)\d{2})(\d{2})(\d{2})[-+]\d{4}(?![\w-])"),
        lambda m: _is_date(int(m[1]), int(m[2]), int(m[3])),
    ),
    (  # Nordic short forms: YYMMDD-NNNN (SE), DDMMYY-NNNN (DK, NO), DDMMYY[-+A]NNNC (FI)
        re.compile(r"(?<![\w-])(\d{6})[-+A](?:\d{4}|\d{3}[0-9A-Y])(?![\w-])"),
        lambda m: _yymmdd(m[1]) or _ddmmyy(m[1]),
    ),
    (re.compile(r"(?<![\w.-])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\w.-])"), None),  # Brazilian CPF
    (  # Spanish DNI with its check letter
        re.compile(r"(?<![\w-])(\d{8})-?([A-Z])(?![\w-])"),
        lambda m: _valid_dni(m[1], m[2]),
    ),
    (  # Spanish NIE with its check letter
        re.compile(r"(?<![\w-])([XYZ])-?(\d{7})-?([A-Z])(?![\w-])"),
        lambda m: _valid_dni(_NIE_PREFIX[m[1]] + m[2], m[3]),
    ),
    (  # Italian codice fiscale
        re.compile(r"(?<![A-Z0-9])[A-Z]{6}\d{2}[ABCDEHLMPRST]\d{2}[A-Z]\d{3}[A-Z](?![A-Z0-9])"),
        None,
    ),
    (  # French NIR: sex, YY, MM, department, commune, order, and its key (mod 97)
        re.compile(
            r"(?<![\w])([12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2A|2B) ?\d{3} ?\d{3})"
            r" ?(\d{2})(?![\w])"
        ),
        lambda m: _valid_nir(m[1], m[2]),
    ),
)

# Words that announce an id. Short ones that are also given names (Tin, Nino, Nie, Nir) are
# left out: "Tin Nguyen, badge 1234567" must not become a national id.
_ID_WORDS = re.compile(
    r"\b(?:ssn|social security|national insurance|national id|id card|passport|tax id|"
    r"tax number|steuer|dni|cpf|aadhaar|pesel|bsn|personnummer|cpr|hetu|codice fiscale|"
    r"insee|identity number|id number)\b",
    re.IGNORECASE,
)
_PHONE_WORDS = re.compile(
    r"\b(?:phone|tel|telephone|mobile|mob|cell|fax|whatsapp|call|sms|ph)\b", re.IGNORECASE
)
_NEAR = 12  # characters between an announcing word and its number ("SSN: ", "tel. no ")
_LONG_DIGITS = re.compile(r"(?<![\w])[A-Z]{0,2}\d(?:[ .-]?\d){5,}[A-Z]?(?![\w])", re.IGNORECASE)


def _national_id_spans(upper: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for pattern, valid in _ID_PATTERNS:
        for match in pattern.finditer(upper):
            if valid is None or valid(match):
                spans.append(match.span())
    for word in _ID_WORDS.finditer(upper):
        # Only the number the word announces: the next one, within a few characters.
        number = _LONG_DIGITS.search(upper, word.end(), word.end() + _NEAR + 20)
        if number is not None and number.start() - word.end() <= _NEAR:
            spans.append(number.span())
    return spans


# -- phone numbers ------------------------------------------------------------------------------

# A run of digit groups joined by single separators; no group can split another (separators
# are never digits), so the match is linear.
_RUN = re.compile(
    r"(?:(?<![\w+])\+ ?)?(?:\( ?)?(?<![\w])\d+(?:(?: ?[./-] ?| ?\) ?| ?\( ?| )\(?\d+)*\)?"
)


def _phone_window(groups: list[str], plus: bool) -> bool:
    digits = "".join(groups)
    count = len(digits)
    if plus:
        return 8 <= count <= 15
    if len(groups) == 1:
        # Bare digits: 10-15, except what looks like an epoch timestamp (s or ms).
        return 10 <= count <= 15 and not (count in {10, 13} and digits[0] == "1")
    lengths = [len(g) for g in groups]
    if not 7 <= count <= 15:
        return False
    if digits.startswith("00") and 9 <= count - 2 <= 15:
        return True  # an international number with a 00 prefix
    if groups[0][0] == "0" and 2 <= lengths[0] <= 5 and 9 <= count <= 12:
        return True  # leading-zero national format (UK, FR, DE...)
    # Grouped digits (555 123 4567, 1-555-123-4567, 20 7946 0958), but not a list of numbers
    # of one width (rooms 101 102 103, sizes 36 38 40 42) nor single digits (pages 12 7 104 3).
    return (
        len(groups) >= 3
        and all(2 <= n <= 4 for n in lengths[1:])
        and 1 <= lengths[0] <= 4
        and max(lengths) >= 3
        and len(set(lengths)) > 1
        and count >= 8
    )


def _has_phone(text: str) -> bool:
    announced = [word.end() for word in _PHONE_WORDS.finditer(text)]
    for run in _RUN.finditer(text):
        raw = run.group()
        end = run.end()
        if end < len(text) and (text[end].isalpha() or text[end] == "_"):
            continue  # glued to letters: part of a code or token
        groups = re.findall(r"\d+", raw)
        before = bisect.bisect_right(announced, run.start()) - 1
        near = before >= 0 and run.start() - announced[before] <= _NEAR
        if near and sum(len(g) for g in groups) >= 7:
            return True
        plus = raw.lstrip("( ").startswith("+")
        if ")" in raw and 9 <= sum(len(g) for g in groups) <= 15:
            return True  # a bracketed area code: (555)1234567, (020) 79460958
        for start in range(len(groups)):
            for stop in range(start + 1, min(len(groups), start + 7) + 1):
                if _phone_window(groups[start:stop], plus and start == 0):
                    return True
    return False


# -- the entry point ----------------------------------------------------------------------------


def primary_identifier_kinds(text: str) -> tuple[str, ...]:
    """The kinds of primary identifier found in ``text``: a sorted subset of ``KINDS``.

    ``("email",)``, ``("national_id", "phone")``, or ``()`` when none is found. Raises
    ``TypeError`` for anything but a ``str`` (callers check types first, with their own
    typed error).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    kinds: set[str] = set()
    normal = _normalise(text)
    # Every spelling of an email holds "@", "at", "%" ("%40") or "&" ("&#64;").
    maybe_email = "@" in normal or "%" in normal or "&" in normal or "at" in normal.lower()
    if maybe_email and any(_has_email(spelling) for spelling in _email_spellings(normal)):
        kinds.add("email")
    if any(c.isdigit() for c in normal):
        upper = _blank(normal, _UUIDS).upper()
        spans = _national_id_spans(upper)
        if spans:
            kinds.add("national_id")
            for start, stop in spans:  # an id is not also a phone number
                upper = upper[:start] + " " * (stop - start) + upper[stop:]
        if _has_phone(_blank(upper, _BENIGN)):
            kinds.add("phone")
    return tuple(kind for kind in KINDS if kind in kinds)
