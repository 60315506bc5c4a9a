"""Biometric handles out of every text and body faceguard passes on (GUARD.md §5.4).

**Which identifiers count as biometric handles.** A *biometric handle* is an identifier that
names, or leads the service to, a face template: the ``faceId`` of a detected face, the
``persistedFaceId`` of an enrolled one, the ``personId`` whose templates a person group keeps,
and the ids of liveness session images (``sessionImageId``), from which a template can be
detected again. The service words its error messages and bodies freely and every one of these
ids is a UUID, so nothing in the text tells a faceId from a personId, or either from another
id: faceguard therefore treats **every UUID in text the service supplied** as a handle.
Other UUIDs the service quotes (a blocklist item, an operation, a container someone named
with a UUID) are redacted with them: a false positive costs one readable id, a false negative
would put a template's handle in a log line or a support ticket.

Where it applies: the message, error code and body of every ``APIError`` (``_exceptions``,
where the errors are built, so ``str``, ``repr``, ``args``, tracebacks, chained exceptions and
tracing see only the redacted text), a failed training's reason, the emulator server's request
log, and httpx's request log lines for Face URLs (``_logging``). Cassettes replace the same
UUIDs with stable placeholders instead (``faceguard.testing._ids``), so a replay still matches.

**What stays readable.** The support identifiers the code of conduct wants in a failure
report: the service's ``apim-request-id`` (or ``x-ms-request-id``), the
``x-ms-client-request-id`` faceguard sent, and the liveness session id the call concerns.
They are UUIDs too, so they are not kept by their shape but by what the transport knows:
only the exact values of *this* call's request ids (in any spelling) are spared, so a handle
cannot pass for one. They reach the error through ``SupportInfo`` anyway; sparing them in the
text keeps a message that quotes them intact.

**Spellings.** The 8-4-4-4-12 form in either case (also inside braces, ``urn:uuid:`` or a
path), dashes written ``%2D`` or ``%252D`` (URL-encoded once or twice) or ``\\u002d`` (a JSON
escape left in text, behind any number of backslashes), and 32 bare hex digits standing alone
(not part of a longer hex run such as a SHA-256 digest). A parsed JSON body has no escapes
left. A UUID spelled some other way (base64 of its bytes, one escape per character) is not
recognised.

**The replacement** is ``id#`` and 8 hex digits of a keyed BLAKE2b of the id's canonical form
under a key made once per process: the same handle gives the same marker within a process
(two errors about one face can be told apart from errors about two), and nothing outside the
process can link a marker back to a handle, or to the SHA-256 the audit log records.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Collection, Iterable

__all__ = [
    "UUID_RE",
    "canonical_id",
    "kept_ids",
    "redact_body",
    "redact_text",
    "replace_ids",
]

_HEX = "[0-9A-Fa-f]"
_SEP = r"(?:-|%2[Dd]|%252[Dd]|\\+u002[Dd])"
UUID_RE = re.compile(
    # 8-4-4-4-12 with plain or URL-encoded dashes; no boundary is needed: the dashes make it.
    rf"{_HEX}{{8}}{_SEP}{_HEX}{{4}}{_SEP}{_HEX}{{4}}{_SEP}{_HEX}{{4}}{_SEP}{_HEX}{{12}}"
    # 32 bare hex digits standing alone, or right after a percent-escape (%7B, %2F, %3D ...).
    rf"|(?:(?<!{_HEX})|(?<=%{_HEX}{_HEX}))(?:{_HEX}{{32}})(?!{_HEX})"
)
"""A UUID in any spelling faceguard recognises (see the module docstring)."""

_DASHES = re.compile(_SEP)
"""Every way ``UUID_RE`` accepts a dash to be written."""
_KEY = os.urandom(16)
_MARK = "id#"


def canonical_id(spelled: str) -> str:
    """The 32 lower-case hex digits of a UUID spelled as ``UUID_RE`` matches it."""
    return _DASHES.sub("", spelled).lower()


def kept_ids(values: Iterable[str | None]) -> frozenset[str]:
    """The canonical forms of the UUIDs among ``values`` (request ids), to pass as ``keep``."""
    return frozenset(
        canonical_id(match.group())
        for value in values
        if value
        for match in UUID_RE.finditer(value)
    )


def _marker(canonical: str) -> str:
    digest = hashlib.blake2b(canonical.encode("ascii"), key=_KEY, digest_size=4).hexdigest()
    return _MARK + digest


def replace_ids(text: str, replace: Callable[[re.Match[str]], str]) -> str:
    """``text`` with each UUID (in any spelling) replaced by ``replace(match)``."""
    return UUID_RE.sub(replace, text)


def redact_text(text: str, keep: Collection[str] = ()) -> str:
    """``text`` with every UUID replaced by its ``id#<hash>`` marker, except those whose
    canonical form is in ``keep`` (see ``kept_ids``)."""

    def replace(match: re.Match[str]) -> str:
        canonical = canonical_id(match.group())
        return match.group() if canonical in keep else _marker(canonical)

    return UUID_RE.sub(replace, text)


_TOO_DEEP = "<error body nested too deeply to redact: dropped>"


def redact_body(body: object, keep: Collection[str] = ()) -> object:
    """A copy of a parsed JSON body in which every string, and every key, is ``redact_text``-ed.

    A body nested deeper than the interpreter can walk is replaced by a note saying so: an
    error must not fail to be built, and must not keep what it could not check.
    """
    try:
        return _redact_value(body, keep)
    except RecursionError:
        return _TOO_DEEP


def _redact_value(value: object, keep: Collection[str]) -> object:
    if isinstance(value, str):
        return redact_text(value, keep)
    if isinstance(value, dict):
        return {
            (redact_text(key, keep) if isinstance(key, str) else key): _redact_value(item, keep)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact_value(item, keep) for item in value]
    return value
