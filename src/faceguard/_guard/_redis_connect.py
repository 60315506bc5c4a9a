"""One way to open a Redis connection for the guard store and the bulk journal.

Accepted: ``redis://[user[:password]@]host:port/db``, ``rediss://`` (TLS, certificate and
host name verified by default) and ``unix:///path.sock``; ACL credentials in the URL or as
``username=`` / ``password=`` (not both: which would win is a guess); client certificates and
a private CA as ``ssl_certfile=`` / ``ssl_keyfile=`` / ``ssl_ca_certs=``, which only a
``rediss://`` URL takes (with ``redis://`` they would silently not encrypt anything).

Credentials never reach a ``repr``, a log line or an error message: ``redact`` shows an URL
with its user information and any ``password`` query parameter replaced by ``***``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .._exceptions import ConfigurationError

if TYPE_CHECKING:
    import redis

__all__ = ["connect", "redact"]

DEFAULT_TIMEOUT = 5.0
"""Seconds a connect or a reply may take before the call fails closed."""

_SCHEMES = frozenset({"redis", "rediss", "unix"})
_SECRET_QUERY = frozenset({"password", "username", "ssl_password"})


def redact(url: str) -> str:
    """``url`` with its user information and secret query parameters replaced by ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = "***@" + netloc.rpartition("@")[2]
        query = urlencode(
            [
                (name, "***" if name.lower() in _SECRET_QUERY else value)
                for name, value in parse_qsl(parts.query, keep_blank_values=True)
            ],
            safe="*",
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "<unparseable url>"


def _check_text(what: str, name: str, value: object) -> None:
    """A connection option that redis-py can send: a ``str`` UTF-8 can encode, without NUL.

    redis-py connects lazily, so a bad value would otherwise fail at the first command, as a
    ``TypeError`` or ``UnicodeEncodeError`` from inside the client. Never echoed: the URL and
    the password hold credentials.
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"{what}: {name} must be a string, not {type(value).__name__}")
    if "\x00" in value:
        raise ConfigurationError(f"{what}: {name} holds a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigurationError(f"{what}: {name} holds a lone surrogate") from None


def connect(
    url: str,
    *,
    what: str,
    username: str | None = None,
    password: str | None = None,
    ssl_ca_certs: str | None = None,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> redis.Redis:
    """A ``redis.Redis`` for ``url`` (bytes replies, 5 s timeouts, one retry).

    Raises:
        ConfigurationError: redis is not installed, or the URL or options are invalid; the
            message names ``what`` and the redacted URL, never a credential.
    """
    try:
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry
    except ImportError:
        raise ConfigurationError(
            f'{what} needs the redis package: pip install "faceguard[redis]"'
        ) from None
    _check_text(what, "url", url)
    for name, value in (
        ("username", username),
        ("password", password),
        ("ssl_ca_certs", ssl_ca_certs),
        ("ssl_certfile", ssl_certfile),
        ("ssl_keyfile", ssl_keyfile),
    ):
        if value is not None:
            _check_text(what, name, value)
    shown = redact(url)
    try:
        parts = urlsplit(url)
        query = {name.lower() for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
        in_url = (
            parts.username is not None
            or parts.password is not None
            or bool(query & {"username", "password"})
        )
    except ValueError:
        raise ConfigurationError(f"{what}: invalid Redis URL {shown!r}") from None
    if parts.scheme not in _SCHEMES:
        raise ConfigurationError(
            f"{what}: the Redis URL must start with redis://, rediss:// (TLS) or unix://, "
            f"not {shown!r}"
        )
    if in_url and (username is not None or password is not None):
        raise ConfigurationError(
            f"{what}: give the Redis credentials in the URL or as username=/password=, not both"
        )
    options: dict[str, Any] = {
        name: value
        for name, value in (
            ("username", username),
            ("password", password),
            ("ssl_ca_certs", ssl_ca_certs),
            ("ssl_certfile", ssl_certfile),
            ("ssl_keyfile", ssl_keyfile),
        )
        if value is not None
    }
    if parts.scheme != "rediss" and any(name.startswith("ssl_") for name in options):
        raise ConfigurationError(
            f"{what}: ssl_ca_certs/ssl_certfile/ssl_keyfile need a rediss:// (TLS) URL"
        )
    try:
        # Keyword defaults; timeouts given in the URL's query win over them.
        return redis.Redis.from_url(
            url,
            socket_timeout=DEFAULT_TIMEOUT,
            socket_connect_timeout=DEFAULT_TIMEOUT,
            retry=Retry(ExponentialBackoff(cap=0.1, base=0.01), 1),
            decode_responses=False,
            **options,
        )
    except (ValueError, TypeError) as exc:
        # The message may quote the URL; do not repeat it (it may hold a password).
        raise ConfigurationError(
            f"{what}: invalid Redis URL {shown!r} ({type(exc).__name__})"
        ) from None
