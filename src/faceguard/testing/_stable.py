"""Stable placeholders for what differs between two recordings of one flow: hosts and times.

Ids are numbered by ``_ids``; this module does the same for the two other things that change
every time a cassette is recorded again although the flow did not change:

- **The origin** (``scheme://host:port``) of the resource: a developer records against
  ``faceguard emulator serve`` on an ephemeral port, a colleague against their own Azure
  resource. Each origin a cassette meets becomes ``https://resource.faceguard.invalid`` (the
  first), ``https://resource-2.faceguard.invalid`` (the next) ..., wherever it is written: the
  request URI, the ``Operation-Location`` header a training answers with, a URL in a body. On
  replay the plugin's clients point at ``REPLAY_ENDPOINT``, the first placeholder, so a
  poller that follows ``Operation-Location`` stays on its own origin.
- **Timestamps** the service writes into bodies (a training's ``createdDateTime``,
  ``lastActionDateTime`` ...): each distinct one becomes ``2000-01-01T00:00:00`` plus as many
  seconds as timestamps were met before it, in the spelling of the original (its fraction
  digits and its zone), so the client parses it exactly as it parsed the original.

One ``StablePlaceholders`` belongs to one cassette (the mapping lives in memory only); the
plain stateless hooks use a fresh one per call, which still hides the origin.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from urllib.parse import urlsplit

__all__ = [
    "PLACEHOLDER_HOST",
    "REPLAY_API_KEY",
    "REPLAY_ENDPOINT",
    "StablePlaceholders",
    "placeholder_origin",
]

PLACEHOLDER_HOST = "resource.faceguard.invalid"
"""The host the first origin of a cassette is written as (``.invalid`` never resolves)."""
REPLAY_ENDPOINT = f"https://{PLACEHOLDER_HOST}"
"""The endpoint the plugin's clients use on replay: nothing is sent, nothing must resolve."""
REPLAY_API_KEY = "faceguard-replay-placeholder"
"""The key the replaying clients carry: never sent (the cassette answers), never a secret."""

_ORIGIN_RE = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+", re.IGNORECASE)
_TIMESTAMP_RE = re.compile(
    r"(?<![\d])(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?"
)
_EPOCH = datetime(2000, 1, 1)  # a placeholder: written without its zone


def placeholder_origin(index: int) -> str:
    """The placeholder of the ``index``-th origin (1-based) a cassette meets."""
    host = PLACEHOLDER_HOST if index == 1 else f"resource-{index}.faceguard.invalid"
    return f"https://{host}"


def _origin(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _is_placeholder(origin: str) -> bool:
    host = origin.split("://", 1)[-1]
    return host.endswith("faceguard.invalid") and host.startswith("resource")


class StablePlaceholders:
    """The origin and timestamp placeholders of one cassette."""

    def __init__(self) -> None:
        self._origins: dict[str, str] = {}
        self._times: dict[str, str] = {}
        # vcrpy may call the hooks from several threads (a client's concurrent requests).
        self._lock = threading.Lock()

    def origin(self, uri: str) -> str | None:
        """Register the origin of ``uri`` (a request's, or an ``Operation-Location``); its
        placeholder, or ``None`` when ``uri`` is not an absolute http(s) URL."""
        origin = _origin(uri)
        if origin is None:
            return None
        if _is_placeholder(origin):
            return origin
        with self._lock:
            known = self._origins.get(origin)
            if known is None:
                known = placeholder_origin(len(self._origins) + 1)
                self._origins[origin] = known
            return known

    def uri(self, uri: str) -> str:
        """``uri`` with its origin replaced by the origin's placeholder."""
        placeholder = self.origin(uri)
        if placeholder is None:
            return uri
        rest = urlsplit(uri)
        tail = uri[len(rest.scheme) + 3 + len(rest.netloc) :]
        return placeholder + tail

    def text(self, text: str) -> str:
        """``text`` with every origin this cassette met replaced by its placeholder."""
        with self._lock:
            origins = dict(self._origins)
        if not origins or "://" not in text:
            return text

        def replace(match: re.Match[str]) -> str:
            found = match.group()
            origin = _origin(found)
            return origins.get(origin, found) if origin is not None else found

        return _ORIGIN_RE.sub(replace, text)

    def times(self, text: str) -> str:
        """``text`` with every ISO 8601 timestamp replaced by its numbered placeholder."""
        if not _TIMESTAMP_RE.search(text):
            return text
        with self._lock:
            return _TIMESTAMP_RE.sub(self._time, text)

    def _time(self, match: re.Match[str]) -> str:
        found = match.group()
        known = self._times.get(found)
        if known is not None:
            return known
        if found.startswith("2000-01-01T"):  # already a placeholder: scrubbing is idempotent
            return found
        moment = _EPOCH + timedelta(seconds=len(self._times))
        fraction = match.group(7) or ""
        zone = match.group(8) or ""
        spelled = moment.strftime("%Y-%m-%dT%H:%M:%S")
        if fraction:
            spelled += "." + "0" * (len(fraction) - 1)
        if zone:
            spelled += "Z" if zone == "Z" else ("+00:00" if ":" in zone else "+0000")
        self._times[found] = spelled
        return spelled
