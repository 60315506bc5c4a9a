"""A hook run just before each attempt of a call leaves: after the rate limiter's wait, before
the first byte is written.

Set for the duration of one call by code that must record something at the moment a request
really goes out, not when it was asked for: the bulk helpers journal an add as ``sending``
there, so an add still waiting for its rate-limit slot when the process dies is left pending
(sent by the next run without a look-up) rather than in doubt (looked up first, spending the
same budget). The hook runs before every attempt of the call; anything it raises propagates
out of the call unchanged, with nothing sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar

__all__ = ["BeforeSend", "before_send"]

BeforeSend = Callable[[], Awaitable[None] | None]
"""Sync clients call it; async clients call it and await what it returns, if anything."""

before_send: ContextVar[BeforeSend | None] = ContextVar("faceguard_before_send", default=None)
"""The hook of the call running in this context (a thread, or an asyncio task), or None."""
