"""The cassette hygiene check: no key, token or image in a cassette or a test fixture.

``check_paths`` scans files (``.yaml``, ``.yml`` and ``.json`` under a directory; any file
named explicitly) for what must never be committed: a subscription key, a bearer token, a
JWT, a liveness ``authToken``, a value that looks like an Azure key after a key-ish name,
JPEG, PNG, GIF or BMP bytes in any encoding (raw, mis-decoded UTF-8, escaped, hex, base64,
YAML ``!!binary``), and ids in clear: any UUID, in any spelling (either case, braces,
``%2D`` dashes, 32 bare hex digits), that is not one of the placeholders faceguard's cassettes
write instead of faceIds, personIds, persistedFaceIds and other ids (``_ids``). Findings name
the file, the line and what was found, never the value.

The same scan runs as ``faceguard testing check-cassettes [PATH ...]``, which exits 1 when it
finds anything.
"""

from __future__ import annotations

import errno
import os
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ._bodies import _b64decode, image_kind
from ._ids import raw_ids

__all__ = ["DEFAULT_SUFFIXES", "Finding", "check_paths", "check_text", "run_check"]

DEFAULT_SUFFIXES = (".yaml", ".yml", ".json")
"""The files a directory scan reads: cassettes and JSON fixtures."""

_SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".mypy_cache",
        ".nox",
        ".pytest_cache",
        ".ruff_cache",
        ".svn",
        ".tox",
        ".venv",
        "__pycache__",
        "node_modules",
        "site-packages",
        "venv",
    }
)


@dataclass(frozen=True, order=True)
class Finding:
    """One thing a cassette or fixture must not contain, and where it is."""

    path: str
    """The file, as it was reached from the paths given."""
    line: int
    """1-based line number."""
    kind: str
    """``subscription-key``, ``authorization``, ``bearer-token``, ``jwt``, ``auth-token``,
    ``key-like-value``, ``image-bytes`` or ``raw-id``."""
    message: str
    """What was found, without the value itself."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.message}"


# --- secrets ---------------------------------------------------------------------------------

# Text is scanned as latin-1, one character per byte, so byte patterns and text patterns
# share offsets (and line numbers).
_QUOTE = r"""(?:\\*["'])?"""  # a quote, possibly escaped (JSON inside a YAML or JSON string)
_SEP = rf"{_QUOTE}[ \t]*[:=](?!=)[ \t]*(?:\[\s*|\r?\n\s*-[ \t]+|\r?\n\s*\[\s*)?{_QUOTE}"
"""Between a name and its value: ``: ``, ``=``, ``": ["``, or a YAML list on the next line."""
_VALUE = r"""([^\s"'\\,;&\[\]{}]+)"""

_PLACEHOLDER_WORDS = frozenset(
    {
        "",
        "~",
        "changeme",
        "dummy",
        "example",
        "fake",
        "false",
        "nil",
        "none",
        "null",
        "test",
        "true",
        "undefined",
    }
)
_PLACEHOLDER_SHAPES = re.compile(
    r"<[^<>]*>|\*+|x+|\.+|0+|-+|\$.*|\{\{.*|%\(.*|sha256:[0-9a-f]{64}", re.IGNORECASE
)


def _is_placeholder(value: str) -> bool:
    value = value.strip().strip("\"'")
    lowered = value.lower()
    return (
        len(value) < 2
        or lowered in _PLACEHOLDER_WORDS
        or "redacted" in lowered
        or "placeholder" in lowered
        or _PLACEHOLDER_SHAPES.fullmatch(value) is not None
    )


_KEY_LIKE = re.compile(r"[0-9a-fA-F]{32}|[A-Za-z0-9+/]{84}={0,2}")


def _never(_value: str) -> bool:
    return False


def _not_key_like(value: str) -> bool:
    return _KEY_LIKE.fullmatch(value) is None


def _not_token_like(value: str) -> bool:
    return _is_placeholder(value) or not re.search(r"[0-9._~+/-]", value)


@dataclass(frozen=True)
class _SecretRule:
    kind: str
    pattern: re.Pattern[str]
    message: str
    ignore: Callable[[str], bool] = _is_placeholder
    """Values that are fine (placeholders, by default)."""


_SECRET_RULES = (
    _SecretRule(
        "subscription-key",
        re.compile(rf"(?i:(?:ocp-apim-)?subscription[-_]?key){_SEP}{_VALUE}"),
        "a subscription key header or parameter with a value",
    ),
    _SecretRule(
        "authorization",
        re.compile(
            rf"(?i:\b(?:proxy-)?authorization){_SEP}"
            rf"(?:(?i:bearer|basic|sharedkey|sharedaccesssignature|token|digest)[ \t]+)?{_VALUE}"
        ),
        "an Authorization header with a credential",
    ),
    _SecretRule(
        "bearer-token",
        re.compile(r"\b(?i:bearer)[ \t]+([A-Za-z0-9._~+/-]{12,}=*)"),
        "a bearer token",
        _not_token_like,
    ),
    _SecretRule(
        "jwt",
        re.compile(r"(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)"),
        "a JWT-like token",
        _never,
    ),
    _SecretRule(
        "auth-token",
        re.compile(rf"(?i:\b(?:auth|access|refresh|id)[-_]?token)\b{_SEP}{_VALUE}"),
        "a token value that is not the <redacted> placeholder",
    ),
    _SecretRule(
        "key-like-value",
        re.compile(
            rf"(?i:\b[\w-]*(?:key|secret|password|passwd|token|credential|signature)s?){_SEP}"
            rf"{_VALUE}"
        ),
        "a key-like value (32 hex digits or 84 base64 characters) after a key-ish name",
        _not_key_like,
    ),
)


# --- images ----------------------------------------------------------------------------------

_B64 = r"A-Za-z0-9+/"


def _escaped(magic: bytes) -> str:
    """A pattern for ``magic`` written with escapes; the first byte must be escaped."""
    parts = []
    for index, byte in enumerate(magic):
        forms = [rf"\\+x{byte:02x}", rf"\\+u00{byte:02x}", rf"\\+{byte:03o}", f"%{byte:02x}"]
        if index and 0x20 < byte < 0x7F:
            forms.append(re.escape(chr(byte)))
        parts.append("(?:" + "|".join(forms) + ")")
    return "(?i:" + "".join(parts) + ")"


_IMAGE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        # the bytes themselves
        (r"\xff\xd8\xff", "JPEG bytes (raw)"),
        (r"\x89PNG\r\n\x1a\n", "PNG bytes (raw)"),
        (r"GIF8[79]a", "GIF bytes (raw)"),
        (
            r"BM[\x00-\xff]{4}\x00{4}[\x00-\xff]{4}[\x0c\x10\x28\x34\x38\x40\x6c\x7c]\x00{3}",
            "BMP bytes (raw)",
        ),
        # the bytes decoded as latin-1 and written out as UTF-8
        (r"\xc3\xbf\xc3\x98\xc3\xbf", "JPEG bytes (mis-decoded UTF-8)"),
        (r"\xc2\x89PNG", "PNG bytes (mis-decoded UTF-8)"),
        # escapes: Python and YAML \xff, JSON \u00ff, octal \377, URL encoding %FF
        (_escaped(b"\xff\xd8\xff"), "JPEG bytes (escaped)"),
        (_escaped(b"\x89PNG"), "PNG bytes (escaped)"),
        (_escaped(b"GIF8"), "GIF bytes (escaped)"),
        # hex dumps and byte lists
        (
            r"(?<![0-9A-Fa-f])(?i:ffd8ff(?:e[0-9a-f]|db|ee|c0|c2|fe)[0-9a-f]{16})",
            "JPEG bytes (hex)",
        ),
        (r"(?i:89504e470d0a1a0a)", "PNG bytes (hex)"),
        (r"(?i:474946383[79]61)", "GIF bytes (hex)"),
        (r"(?i:0xff\s*,\s*0xd8\s*,\s*0xff)\b", "JPEG bytes (byte list)"),
        (r"\b255\s*,\s*216\s*,\s*255\b", "JPEG bytes (byte list)"),
        (r"\b137\s*,\s*80\s*,\s*78\s*,\s*71\b", "PNG bytes (byte list)"),
        # base64 (and base64url, and JSON's escaped slashes)
        (rf"(?<![{_B64}_-])(?:/9j/|_9j_)[{_B64}_-]{{16}}", "JPEG bytes (base64 /9j/)"),
        (r"\\+/9j\\+/", "JPEG bytes (base64 /9j/)"),
        (r"iVBORw0KGg", "PNG bytes (base64 iVBORw0KGg)"),
        (rf"R0lGOD[{_B64}]{{8}}", "GIF bytes (base64 R0lGOD)"),
    )
)
_BMP_BASE64 = re.compile(rf"(?<![{_B64}])Qk[{_B64}]{{62,}}")
_BINARY_TAG = re.compile(r"!!binary\b")


def _binary_block(text: str, start: int, end: int) -> str:
    """The base64 text of the YAML ``!!binary`` value whose tag spans ``start:end``."""
    line_start = text.rfind("\n", 0, start) + 1
    line = text[line_start:start]
    indent = len(line) - len(line.lstrip(" "))
    eol = text.find("\n", end)
    eol = len(text) if eol < 0 else eol
    pieces = [text[end:eol].strip().strip("|>+-").strip()]
    position = eol + 1
    while position < len(text) and sum(map(len, pieces)) < 96:
        next_eol = text.find("\n", position)
        next_eol = len(text) if next_eol < 0 else next_eol
        next_line = text[position:next_eol]
        stripped = next_line.strip()
        if stripped and len(next_line) - len(next_line.lstrip(" ")) <= indent:
            break
        pieces.append(stripped)
        position = next_eol + 1
    return re.sub(rf"[^{_B64}=_-]", "", "".join(pieces).replace("\\n", ""))


def _decodes_to_image(encoded: str) -> str | None:
    data = _b64decode(encoded[:96], limit=96)
    return None if data is None else image_kind(data)


# --- scanning --------------------------------------------------------------------------------


_RAW_ID = (
    "a UUID in clear, not a cassette placeholder (a faceId, personId, persistedFaceId or other "
    "id: record with faceguard.testing, which replaces them)"
)


def check_text(text: str, path: str = "<text>") -> list[Finding]:
    """The findings in one file's content (for bytes, pass ``data.decode("latin-1")``)."""
    newlines = [i for i, char in enumerate(text) if char == "\n"]

    def line_of(offset: int) -> int:
        return bisect_right(newlines, offset - 1) + 1

    found: dict[int, Finding] = {}  # by offset: one finding per secret or image

    def add(offset: int, kind: str, message: str) -> None:
        if offset not in found:
            found[offset] = Finding(path, line_of(offset), kind, message)

    for rule in _SECRET_RULES:
        for match in rule.pattern.finditer(text):
            value = match.group(1)
            if not rule.ignore(value):
                add(match.start(1), rule.kind, f"{rule.message} ({len(value)} characters)")
    for pattern, message in _IMAGE_RULES:
        for match in pattern.finditer(text):
            add(match.start(), "image-bytes", message)
    for match in _BMP_BASE64.finditer(text):
        if _decodes_to_image(match.group()) == "bmp":
            add(match.start(), "image-bytes", "BMP bytes (base64 Qk)")
    for match in _BINARY_TAG.finditer(text):
        kind = _decodes_to_image(_binary_block(text, match.start(), match.end()))
        if kind is not None:
            add(match.start(), "image-bytes", f"{kind.upper()} bytes (YAML !!binary)")
    for match in raw_ids(text):
        add(match.start(), "raw-id", _RAW_ID)
    return sorted(found.values())


def _files(paths: Iterable[str | os.PathLike[str]], suffixes: Iterable[str]) -> Iterator[Path]:
    wanted = {suffix.lower() for suffix in suffixes}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                relative = candidate.relative_to(path).parts[:-1]
                if any(part in _SKIPPED_DIRS for part in relative):
                    continue
                if candidate.suffix.lower() in wanted and candidate.is_file():
                    yield candidate
        elif path.is_file():
            yield path
        else:
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", str(given))


def check_paths(
    paths: Iterable[str | os.PathLike[str]], *, suffixes: Iterable[str] = DEFAULT_SUFFIXES
) -> list[Finding]:
    """Scan files and directories; the findings, sorted by file and line (empty when clean).

    A directory is searched recursively for files ending in one of ``suffixes`` (cassettes
    and JSON fixtures by default; ``.git``, virtual environments and caches are skipped); a
    file named explicitly is scanned whatever its name. Raises ``FileNotFoundError`` for a
    path that does not exist and ``OSError`` for a file that cannot be read.
    """
    findings: list[Finding] = []
    for file in _files(paths, tuple(suffixes)):
        findings.extend(check_text(file.read_bytes().decode("latin-1"), str(file)))
    return findings


def run_check(paths: Iterable[str | os.PathLike[str]], out: TextIO, err: TextIO) -> int:
    """``faceguard testing check-cassettes``: print the findings; the exit status.

    0 when nothing is found, 1 when something is, 2 when a path is missing or unreadable.
    """
    paths = list(paths) or ["."]
    findings: list[Finding] = []
    checked = 0
    try:
        for file in _files(paths, DEFAULT_SUFFIXES):
            findings.extend(check_text(file.read_bytes().decode("latin-1"), str(file)))
            checked += 1
    except OSError as exc:
        err.write(f"faceguard: cannot read {exc.filename}: {exc.strerror or exc}\n")
        return 2
    for finding in findings:
        out.write(f"{finding}\n")
    if findings:
        files = len({finding.path for finding in findings})
        out.write(
            f"FOUND: {len(findings)} problem(s) in {files} of {checked} file(s); "
            "cassettes and fixtures must hold no key, token, image bytes or id in clear\n"
        )
        return 1
    out.write(f"OK: {checked} file(s) checked, no key, token, image bytes or id in clear\n")
    return 0
