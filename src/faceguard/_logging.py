"""The ``faceguard`` logger: silent by default, never a secret or a biometric in a record.

Records carry the method, the route *template* (never the filled path, which holds ids),
status, request ids, attempt and elapsed time. Headers pass through an allowlist; every other
value is replaced by ``REDACTED``. Bodies, images, keys, tokens and faceIds are never logged.

httpx logs every request's full URL at INFO (``HTTP Request: GET https://.../persons/<id>``),
and a Face URL's path names personIds and persistedFaceIds: a filter on the ``httpx`` logger
redacts the biometric handles (every UUID, see ``_redact``) in the arguments of records about
Face API URLs, and leaves every other record of the application's httpx traffic as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ._constants import FACE_API_PATH, LOGGABLE_HEADERS, REDACTED
from ._redact import redact_text

__all__ = ["configure_from_env", "logger", "redact_headers"]

logger = logging.getLogger("faceguard")
logger.addHandler(logging.NullHandler())


class _FaceURLFilter(logging.Filter):
    """Redacts biometric handles in httpx's records about Face API requests."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(_face_url(arg) for arg in args):
            record.args = tuple(redact_text(str(arg)) if _face_url(arg) else arg for arg in args)
        return True


def _face_url(value: object) -> bool:
    # httpx passes an httpx.URL (not imported here: importing faceguard must stay cheap).
    if not isinstance(value, str) and not type(value).__module__.startswith("httpx"):
        return False
    return FACE_API_PATH in str(value)


logging.getLogger("httpx").addFilter(_FaceURLFilter())

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_configured = False


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` in which only allowlisted values survive."""
    return {
        name: value if name.lower() in LOGGABLE_HEADERS else REDACTED
        for name, value in headers.items()
    }


def configure_from_env(level_name: str | None) -> None:
    """Honour ``FACEGUARD_LOG=debug|info|warning`` once, when the first client is built.

    Applications that configure logging themselves leave the variable unset.
    """
    global _configured
    if _configured or not level_name:
        return
    level = _LEVELS.get(level_name.strip().lower())
    if level is None:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    _configured = True
