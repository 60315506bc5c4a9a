"""The ``faceguard`` logger: silent by default, never a secret or a biometric in a record.

Records carry the method, the route *template* (never the filled path, which holds ids),
status, request ids, attempt and elapsed time. Headers pass through an allowlist; every other
value is replaced by ``REDACTED``. Bodies, images, keys, tokens and faceIds are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ._constants import LOGGABLE_HEADERS, REDACTED

__all__ = ["configure_from_env", "logger", "redact_headers"]

logger = logging.getLogger("faceguard")
logger.addHandler(logging.NullHandler())

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
