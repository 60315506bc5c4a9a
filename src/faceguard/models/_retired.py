"""The response rail for retired attributes: one normaliser, one deep strip, one cheap pre-scan.

Microsoft retired emotion and gender recognition and withdrew age, smile, facial hair, hair and
makeup from general use (GUARD §1a R01-R03). faceguard never asks for them, but a service, a
proxy or a replayed cassette may still send them, anywhere in a face object: at its top level,
in ``faceAttributes``, under an unknown key at any depth. Unknown fields are otherwise kept
(``extra="allow"``), so without this rail such a value would surface in ``model_extra``,
``model_dump()`` and ``repr()``.

Every response body is therefore stripped before validation, at any depth, of every key that
*normalises* to a retired name, whatever its case, separators, whitespace, JSON escapes or
Unicode compatibility forms. Stripping the raw JSON (not the parsed models) is what makes it
total: a parsed model can only hold what the stripped body holds.

Kept free of pydantic so the client's import stays cheap (the models load lazily).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

__all__ = [
    "RETIRED_ATTRIBUTE_FIELDS",
    "clean_json",
    "is_retired",
    "may_carry_retired",
    "normalise_key",
    "strip_retired",
]

RETIRED_ATTRIBUTE_FIELDS: frozenset[str] = frozenset(
    {"age", "smile", "facialhair", "hair", "emotion", "gender", "makeup"}
)
"""Retired or limited-access face attributes, normalised (see ``normalise_key``).

A key is removed from a response wherever it appears if it normalises to one of these."""

# Anything that is not a letter or a digit: whitespace, "_", "-", punctuation, zero-width and
# format characters (U+200B, U+00AD...) and the combining marks NFKD splits off accents.
_NOT_ALNUM = re.compile(r"[\W_]+")

# What the pre-scan looks for: every retired name, or a part of it that every spelling holds
# ("facialhair" contains "hair", so searching "hair" covers both).
_RETIRED_BYTES = tuple(
    name.encode()
    for name in sorted(RETIRED_ATTRIBUTE_FIELDS)
    if not any(other != name and other in name for other in RETIRED_ATTRIBUTE_FIELDS)
)

# The same, as one search (a single scan of the body instead of one per name).
_RETIRED_SEARCH = re.compile(b"|".join(re.escape(name) for name in _RETIRED_BYTES)).search

# Every ASCII byte that is not a letter or a digit: what normalise_key drops from ASCII keys.
_ASCII_SEPARATORS = bytes(c for c in range(128) if not chr(c).isalnum())


@functools.lru_cache(maxsize=4096)
def normalise_key(key: str) -> str:
    """``key`` as compared with the retired names: compatibility forms folded (fullwidth
    letters, ligatures), accents and every non-alphanumeric character dropped, case folded.
    ``" Facial_Hair\\t"``, ``"FACIALHAIR"`` and a fullwidth ``"facial-hair"`` (U+FF46...)
    all give ``"facialhair"``.

    Remembered: a service sends the same few keys in every response.
    """
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", key)).casefold()


def is_retired(key: object) -> bool:
    """Whether ``key`` (a JSON object key or a keyword argument) names a retired attribute."""
    return isinstance(key, str) and normalise_key(key) in RETIRED_ATTRIBUTE_FIELDS


def strip_retired(value: Any) -> Any:
    """``value`` with every retired key removed from every mapping, at any depth.

    Containers are copied (the caller's data is not modified); other values are returned as
    they are.
    """
    if isinstance(value, Mapping):
        return {k: strip_retired(v) for k, v in value.items() if not is_retired(k)}
    if isinstance(value, list | tuple):
        return [strip_retired(item) for item in value]
    return value


def may_carry_retired(raw: bytes | str) -> bool:
    """Whether a JSON text could hold a key that normalises to a retired name.

    Sound, never a false "no": a text that is pure ASCII without a backslash decodes to keys
    that are substrings of it, and such a key normalises by dropping ASCII separators and
    lowering case; so if the whole text, with every separator dropped and lowered, contains
    no retired name, none of its keys can normalise to one. Anything else (an escape, a
    non-ASCII character) answers "maybe", and the body is decoded and stripped. False
    positives (``"sessionImageId"`` contains ``age``) only cost the slower path.
    """
    data = raw.encode() if isinstance(raw, str) else raw
    if b"\\" in data or not data.isascii():
        return True
    letters = data.translate(None, _ASCII_SEPARATORS).lower()
    return _RETIRED_SEARCH(letters) is not None


def clean_json(raw: bytes | str) -> bytes | str:
    """A JSON text without retired keys at any depth: ``raw`` itself when it cannot hold one
    (the common case, which costs one scan), otherwise decoded, stripped and encoded again.

    Encoding again (rather than handing decoded objects to the validator) keeps the
    validator in JSON mode, so a stripped body is validated exactly like a clean one.

    Raises:
        ValueError: the body may hold a retired key but cannot be decoded here (not JSON,
            not UTF-8, nested too deeply). It is refused rather than handed on unstripped:
            a body this decoder cannot read but the validator's could would otherwise
            carry retired keys straight through. The message quotes nothing of the body.
    """
    if not may_carry_retired(raw):
        return raw
    try:
        return json.dumps(strip_retired(json.loads(raw)))
    except (ValueError, RecursionError):
        pass  # raised below, outside the handler: the decoder's message may quote the body
    raise ValueError("the response body cannot be read as JSON to strip retired attributes")
