"""Authentication: a subscription key, or any Azure ``TokenCredential``-shaped object.

faceguard does not depend on ``azure-identity``: any object with ``get_token(*scopes)``
returning something with ``token`` and ``expires_on`` works, sync or async (an async
credential's ``get_token`` returns an awaitable; only the async client can await it).
Secrets never appear in ``repr``.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from ._constants import TOKEN_REFRESH_MARGIN, TOKEN_SCOPE
from ._exceptions import ConfigurationError

__all__ = ["AccessTokenLike", "Authenticator", "KeyAuth", "TokenAuth", "TokenCredential"]


class AccessTokenLike(Protocol):
    """What ``get_token`` returns (``azure.core.credentials.AccessToken`` fits)."""

    @property
    def token(self) -> str: ...

    @property
    def expires_on(self) -> int: ...


@runtime_checkable
class TokenCredential(Protocol):
    """The Azure credential protocol: ``azure.identity`` credentials satisfy it."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class Authenticator(Protocol):
    """Produces the auth headers of a request."""

    def sync_headers(self) -> dict[str, str]: ...

    async def async_headers(self) -> dict[str, str]: ...


class KeyAuth:
    """``Ocp-Apim-Subscription-Key`` authentication."""

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        if not isinstance(key, str):
            raise ConfigurationError(f"the API key must be a string, not {type(key).__name__}")
        if not key or not key.strip():
            raise ConfigurationError("the API key is empty")
        key = key.strip()
        # It goes in an HTTP header: printable ASCII only (never echoed: it is a secret).
        if not (key.isascii() and key.isprintable()):
            raise ConfigurationError("the API key must be printable ASCII")
        self._key = key

    def sync_headers(self) -> dict[str, str]:
        return {"Ocp-Apim-Subscription-Key": self._key}

    async def async_headers(self) -> dict[str, str]:
        return self.sync_headers()

    def __repr__(self) -> str:
        return "KeyAuth(key=REDACTED)"


class TokenAuth:
    """Bearer tokens from a ``TokenCredential``, cached and refreshed before they expire."""

    def __init__(
        self,
        credential: TokenCredential,
        *,
        scope: str = TOKEN_SCOPE,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = TOKEN_REFRESH_MARGIN,
    ) -> None:
        if not callable(getattr(credential, "get_token", None)):
            raise ConfigurationError("credential has no get_token(*scopes) method")
        self._credential = credential
        self._scope = scope
        self._clock = clock
        self._margin = refresh_margin
        self._token: str | None = None
        self._expires_on = 0.0
        self._lock = threading.Lock()

    def _fresh(self) -> bool:
        return self._token is not None and self._clock() < self._expires_on - self._margin

    def _store(self, access: Any) -> dict[str, str]:
        token, expires_on = getattr(access, "token", None), getattr(access, "expires_on", None)
        if not isinstance(token, str) or not isinstance(expires_on, int | float):
            raise ConfigurationError("get_token() returned no token/expires_on")
        self._token, self._expires_on = token, float(expires_on)
        return self._header()

    def _header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def check_sync(self) -> None:
        """Refuse, when a sync client is built, a credential whose get_token is async."""
        if inspect.iscoroutinefunction(self._credential.get_token):
            raise ConfigurationError(
                "this credential is async (get_token is a coroutine function): "
                "use it with AsyncFaceClient / AsyncContentSafetyClient"
            )

    def sync_headers(self) -> dict[str, str]:
        with self._lock:
            if self._fresh():
                return self._header()
            access = self._credential.get_token(self._scope)
            if inspect.isawaitable(access):
                # Close the coroutine so Python does not warn about it never being awaited.
                close = getattr(access, "close", None)
                if callable(close):
                    close()
                raise ConfigurationError(
                    "this credential is async (get_token returns an awaitable): "
                    "use it with AsyncFaceClient / AsyncContentSafetyClient"
                )
            return self._store(access)

    async def async_headers(self) -> dict[str, str]:
        if self._fresh():
            return self._header()
        access = self._credential.get_token(self._scope)
        if inspect.isawaitable(access):
            access = await access
        return self._store(access)

    def __repr__(self) -> str:
        return f"TokenAuth(credential={type(self._credential).__name__}, scope={self._scope!r})"
