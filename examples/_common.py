"""The switch every example shares: the offline emulator, or a real Azure resource.

With both ``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY`` set, the examples call that resource
(the clients read the two variables themselves; Content Safety also honours
``FACEGUARD_CONTENT_SAFETY_ENDPOINT`` / ``_API_KEY``). Otherwise they call the in-process
emulator, whose local face engine measures everything from the photos: no cloud account needed
(``pip install "faceguard[emulator,consent]"``). Run the examples from the repository root.
"""

from __future__ import annotations

import os

from faceguard import AsyncFaceClient, ContentSafetyClient, FaceClient, GuardPolicy, RateLimiter
from faceguard.emulator import Emulator

__all__ = ["Backend"]

FACES = "tests/data/faces"
"""The photos the examples use (see its LICENSE.md), relative to the repository root."""


class Backend:
    """Where the examples' clients point: ``emulator`` is None when the real service is used."""

    def __init__(self) -> None:
        real = bool(os.environ.get("FACEGUARD_ENDPOINT") and os.environ.get("FACEGUARD_API_KEY"))
        self.emulator: Emulator | None = None if real else Emulator()
        self.name = os.environ["FACEGUARD_ENDPOINT"] if real else "the offline emulator"

    @property
    def endpoint(self) -> str:
        """The Face endpoint the clients call: what a consent token's ``aud`` must name,
        next to the deployment id (a token for one resource is refused by another)."""
        return (
            os.environ["FACEGUARD_ENDPOINT"]
            if self.emulator is None
            else "https://emulator.invalid"
        )

    def _options(self) -> tuple[str | None, str | None]:
        if self.emulator is None:
            return None, None  # FACEGUARD_ENDPOINT and FACEGUARD_API_KEY
        return "https://emulator.invalid", "emulator"

    def face_client(
        self, guard: GuardPolicy | None = None, *, rate_limit: RateLimiter | None = None
    ) -> FaceClient:
        endpoint, key = self._options()
        transport = self.emulator.transport() if self.emulator else None
        return FaceClient(
            endpoint, api_key=key, transport=transport, guard=guard, rate_limit=rate_limit
        )

    def async_face_client(
        self, guard: GuardPolicy | None = None, *, rate_limit: RateLimiter | None = None
    ) -> AsyncFaceClient:
        endpoint, key = self._options()
        transport = self.emulator.transport() if self.emulator else None
        return AsyncFaceClient(
            endpoint, api_key=key, transport=transport, guard=guard, rate_limit=rate_limit
        )

    def content_safety_client(self) -> ContentSafetyClient:
        endpoint, key = self._options()
        transport = self.emulator.transport() if self.emulator else None
        return ContentSafetyClient(endpoint, api_key=key, transport=transport)
