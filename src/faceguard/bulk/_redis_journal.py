"""A bulk journal on a Redis server, shared by every machine that points at it.

One hash per batch at ``{prefix}:{batch_id}``: field = item key, value = the record's JSON.
``open_batch`` writes ``pending`` with ``HSETNX`` (never over an existing record) in one
pipeline. Every Redis failure (refused or lost connection, timeout, authentication, an error
reply) raises ``JournalError``, never a ``redis`` exception; a request waits at most 5 s by
default, and a lost connection is retried once. ``rediss://`` URLs connect over TLS; ACL
credentials go in the URL or as ``username=`` / ``password=``, and never appear in ``repr``
or in an error (``faceguard._guard._redis_connect``).

A record holds no faceId, subject or device id (see ``_journal``): nothing here needs a
pseudonymisation key.

Requires the ``redis`` package: ``pip install "faceguard[redis]"``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._exceptions import ConfigurationError
from .._guard._redis_connect import connect, redact
from ._journal import JournalError, JournalRecord

if TYPE_CHECKING:
    import redis

__all__ = ["RedisJournal"]

_T = TypeVar("_T")

_CHUNK = 500  # fields per HMGET / pipeline


class RedisJournal:
    """A journal on Redis: ``RedisJournal("redis://[user[:password]@]host:6379/0")`` or
    ``RedisJournal(redis_client)`` (a ``redis.Redis``; the journal then leaves closing it to
    you). ``prefix`` namespaces the batch hashes; ``username`` / ``password`` (ACL) and
    ``ssl_ca_certs`` / ``ssl_certfile`` / ``ssl_keyfile`` (``rediss://``) as ``RedisStore``."""

    def __init__(
        self,
        url_or_client: str | redis.Redis,
        *,
        prefix: str = "faceguard-bulk",
        username: str | None = None,
        password: str | None = None,
        ssl_ca_certs: str | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        try:
            import redis
        except ImportError:
            raise ConfigurationError(
                'RedisJournal needs the redis package: pip install "faceguard[redis]"'
            ) from None
        if not prefix:
            raise ConfigurationError("RedisJournal prefix must not be empty")
        self._prefix = prefix
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._closed = False
        if isinstance(url_or_client, str):
            client = connect(
                url_or_client,
                what="RedisJournal",
                username=username,
                password=password,
                ssl_ca_certs=ssl_ca_certs,
                ssl_certfile=ssl_certfile,
                ssl_keyfile=ssl_keyfile,
            )
            self._owns_client = True
            self._where = redact(url_or_client)
        else:
            given = (username, password, ssl_ca_certs, ssl_certfile, ssl_keyfile)
            if any(option is not None for option in given):
                raise ConfigurationError(
                    "RedisJournal: username/password/ssl_* configure the connection to a URL; "
                    "a client you built carries its own"
                )
            client = url_or_client
            self._owns_client = False
            self._where = f"<{type(client).__name__} client>"
        self._client: redis.Redis = client

    def _name(self, batch_id: str) -> str:
        return f"{self._prefix}:{batch_id}"

    def _call(self, action: str, op: Callable[[redis.Redis], _T]) -> _T:
        if self._closed:
            raise JournalError("Redis journal is closed")
        try:
            return op(self._client)
        except self._errors as exc:
            # redis-py's messages name the host and the failure, never the password; not
            # chained, so no frame keeps the arguments.
            raise JournalError(
                f"Redis journal: {action} failed ({type(exc).__name__}: {exc})"
            ) from None

    @staticmethod
    def _text(value: object) -> str:
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                raise JournalError("Redis journal: a record is not UTF-8") from None
        if isinstance(value, str):
            return value
        raise JournalError(f"Redis journal: got a {type(value).__name__} reply")

    def open_batch(self, batch_id: str, keys: Sequence[str]) -> dict[str, JournalRecord]:
        """Record ``pending`` for new keys (``HSETNX``); return every key's record."""
        name = self._name(batch_id)
        wanted = list(keys)
        pending = JournalRecord(key="", state="pending").to_json()

        def op(r: redis.Redis) -> list[Any]:
            replies: list[Any] = []
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                pipe = r.pipeline(transaction=False)
                for key in chunk:
                    pipe.hsetnx(name, key, pending)
                pipe.execute()
                replies.extend(r.hmget(name, chunk))
            return replies

        replies = self._call("open_batch", op) if wanted else []
        return {
            key: JournalRecord.from_json(key, self._text(reply))
            for key, reply in zip(wanted, replies, strict=True)
        }

    def put(self, batch_id: str, record: JournalRecord) -> None:
        """Write the record of ``record.key`` (``HSET``)."""
        name, text = self._name(batch_id), record.to_json()
        self._call("put", lambda r: r.hset(name, record.key, text))

    def records(self, batch_id: str) -> dict[str, JournalRecord]:
        """Every record of a batch, by key (``HSCAN``)."""
        name = self._name(batch_id)

        def op(r: redis.Redis) -> dict[str, str]:
            return {self._text(k): self._text(v) for k, v in r.hscan_iter(name, count=500)}

        found = self._call("records", op)
        return {key: JournalRecord.from_json(key, found[key]) for key in sorted(found)}

    def close(self) -> None:
        """Close the connections this journal opened; later calls raise ``JournalError``."""
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            with contextlib.suppress(*self._errors):
                self._client.close()

    def __repr__(self) -> str:
        return f"RedisJournal({self._where!r}, prefix={self._prefix!r})"
