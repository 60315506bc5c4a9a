"""Client configuration, resolved once: explicit argument, then ``FACEGUARD_*``, then default.

Nothing here runs at import; the environment is read when a client is built.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._constants import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
from ._credentials import Authenticator, KeyAuth, TokenAuth, TokenCredential
from ._exceptions import ConfigurationError
from ._logging import configure_from_env
from ._transport._retry import RetryPolicy
from ._transport._spec import Service
from ._version import __version__

if TYPE_CHECKING:
    import httpx

__all__ = ["ClientConfig", "resolve_config"]

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

# Per service: (endpoint variable, key variable); both fall back to the Face ones, since one
# multi-service Azure AI resource can serve both APIs.
_ENV = {
    "face": ("FACEGUARD_ENDPOINT", "FACEGUARD_API_KEY"),
    "contentsafety": ("FACEGUARD_CONTENT_SAFETY_ENDPOINT", "FACEGUARD_CONTENT_SAFETY_API_KEY"),
}


@dataclass(frozen=True)
class ClientConfig:
    """Everything a transport needs, frozen."""

    service: Service
    endpoint: str
    auth: Authenticator
    timeout: httpx.Timeout
    retry: RetryPolicy
    user_agent: str

    def __repr__(self) -> str:
        return (
            f"ClientConfig(service={self.service!r}, endpoint={self.endpoint!r}, "
            f"auth={self.auth!r}, retry={self.retry!r})"
        )


def _user_agent() -> str:
    import platform

    import httpx  # loaded with the first client, not with faceguard

    return (
        f"faceguard/{__version__} python/{platform.python_version()} "
        f"httpx/{httpx.__version__} ({platform.system()})"
    )


def _check_endpoint(endpoint: str) -> str:
    if not isinstance(endpoint, str):
        raise ConfigurationError(f"endpoint must be a string, not {type(endpoint).__name__}")
    if not (endpoint.isascii() and endpoint.isprintable()):
        # An Azure endpoint is an ASCII URL (IDNs in punycode); anything else, a lone
        # surrogate or a control character included, would fail later inside httpx.
        raise ConfigurationError("endpoint must be a URL of printable ASCII characters")
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ConfigurationError(
            "endpoint must be an absolute URL such as https://<resource>.cognitiveservices.azure.com"
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        # A key sent over plain HTTP to another machine would travel in clear text.
        raise ConfigurationError("plain http:// is only allowed for loopback (an emulator)")
    if parts.query or parts.fragment:
        raise ConfigurationError("endpoint must not carry a query or fragment")
    if "@" in parts.netloc:
        raise ConfigurationError("endpoint must not carry user info (pass api_key= instead)")
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError("endpoint has an invalid port") from None
    # One spelling per resource: faceIds and consent audiences are bound to the endpoint, so
    # letter case, a trailing dot, a default port or slash must not make it another one.
    host = parts.hostname.removesuffix(".")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"https": 443, "http": 80}[parts.scheme]:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    import httpx

    if isinstance(value, httpx.Timeout):
        return value
    if value is None:
        return httpx.Timeout(DEFAULT_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError("timeout must be a number of seconds or an httpx.Timeout")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite or value <= 0:
        raise ConfigurationError("timeout must be a positive, finite number of seconds")
    return httpx.Timeout(value, connect=min(value, DEFAULT_CONNECT_TIMEOUT))


def _retry(value: RetryPolicy | None) -> RetryPolicy:
    if value is None:
        return RetryPolicy()
    if not isinstance(value, RetryPolicy):
        raise ConfigurationError(f"retry must be a RetryPolicy, not {type(value).__name__}")
    return value


def resolve_config(
    service: Service,
    *,
    endpoint: str | None,
    api_key: str | None,
    credential: TokenCredential | None,
    timeout: float | httpx.Timeout | None,
    retry: RetryPolicy | None,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Build the frozen configuration of a client."""
    environ = os.environ if env is None else env
    configure_from_env(environ.get("FACEGUARD_LOG"))
    endpoint_var, key_var = _ENV[service]
    if api_key is not None and credential is not None:
        raise ConfigurationError("pass either api_key or credential, not both")
    resolved_endpoint = (
        endpoint or environ.get(endpoint_var) or environ.get(_ENV["face"][0]) or None
    )
    if resolved_endpoint is None:
        raise ConfigurationError(f"no endpoint: pass endpoint=... or set {endpoint_var}")
    auth: Authenticator
    if credential is not None:
        auth = TokenAuth(credential)
    else:
        key = api_key or environ.get(key_var) or environ.get(_ENV["face"][1])
        if not key:
            raise ConfigurationError(
                f"no credential: pass api_key=... or credential=..., or set {key_var}"
            )
        auth = KeyAuth(key)
    return ClientConfig(
        service=service,
        endpoint=_check_endpoint(resolved_endpoint),
        auth=auth,
        timeout=_timeout(timeout),
        retry=_retry(retry),
        user_agent=_user_agent(),
    )
