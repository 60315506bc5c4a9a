"""The stores' keys, files and connections, attacked (GUARD.md §4.4).

- The pseudonymisation key: configured (``key=``, ``FACEGUARD_STORE_KEY``) or, for a SQLite
  file, a 0600 sidecar that every process opening the file shares; never a constant; a store
  opened with another key than its data was written with is refused (``StoreKeyError``); a
  Redis store with no key refuses to pseudonymise; keys never appear in messages or reprs.
- SQLite files (database, ``-wal``, ``-shm``, key sidecar) are mode 0600 under any umask; an
  existing file with wider permissions is tightened, with a warning.
- Redis: ACL users (in the URL or as arguments) against a real redis-server started with an
  ACL user; ``rediss://`` against a real TLS redis-server with a self-signed certificate;
  credentials never in a repr, an error or a log line.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import multiprocessing
import os
import shutil
import socket
import stat
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from faceguard import (
    ConfigurationError,
    GuardStoreError,
    MemoryStore,
    RateLimiter,
    RedisStore,
    SQLiteStore,
    StoreKeyError,
)
from faceguard._guard._ledger import ConsentLedger
from faceguard.bulk import RedisJournal, SQLiteJournal

KEY = "a-deployment-store-key-" + "0123456789" * 3
OTHER_KEY = "another-deployment-key-" + "9876543210" * 3
FACE_ID = "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACEGUARD_STORE_KEY", raising=False)


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(old)


# -- the key ------------------------------------------------------------------------------


def test_memory_stores_never_share_a_constant_key() -> None:
    a, b = MemoryStore(), MemoryStore()
    assert a.pseudonym("faceId", FACE_ID) != b.pseudonym("faceId", FACE_ID)
    keyed = [MemoryStore(key=KEY), MemoryStore(key=KEY.encode())]
    assert keyed[0].pseudonym("faceId", FACE_ID) == keyed[1].pseudonym("faceId", FACE_ID)


def test_kinds_are_domain_separated_and_no_spelling_of_the_value_shows() -> None:
    store = MemoryStore(key=KEY)
    names = {store.pseudonym(kind, FACE_ID) for kind in ("faceId", "subject", "device")}
    assert len(names) == 3
    for name in names:
        for spelling in (FACE_ID, FACE_ID.upper(), FACE_ID.replace("-", "")):
            assert spelling not in name


@pytest.mark.usefixtures("no_env_key")
def test_sqlite_files_without_a_key_get_different_random_sidecar_keys(tmp_path: Path) -> None:
    a, b = SQLiteStore(tmp_path / "a.db"), SQLiteStore(tmp_path / "b.db")
    try:
        assert a.pseudonym("subject", "p-1") != b.pseudonym("subject", "p-1")
    finally:
        a.close()
        b.close()
    assert (tmp_path / "a.db.key").read_text().strip() != (tmp_path / "b.db.key").read_text()
    memory = [SQLiteStore(":memory:"), SQLiteStore(":memory:")]
    assert memory[0].pseudonym("subject", "p-1") != memory[1].pseudonym("subject", "p-1")


@pytest.mark.usefixtures("no_env_key")
def test_the_sidecar_is_shared_by_every_store_on_the_file(tmp_path: Path) -> None:
    path = tmp_path / "guard.db"
    first = SQLiteStore(path)
    ConsentLedger(first, clock=time.time).withdraw("p-left")
    first.close()
    second = SQLiteStore(path)
    assert ConsentLedger(second, clock=time.time).is_withdrawn("p-left")
    second.close()


def test_the_environment_key_is_used_and_another_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "guard.db"
    monkeypatch.setenv("FACEGUARD_STORE_KEY", KEY)
    from_env = SQLiteStore(path)
    ConsentLedger(from_env, clock=time.time).withdraw("p-left")
    from_env.close()
    assert not (tmp_path / "guard.db.key").exists()  # no sidecar when a key is configured
    explicit = SQLiteStore(path, key=KEY)
    assert ConsentLedger(explicit, clock=time.time).is_withdrawn("p-left")
    explicit.close()
    for wrong in (OTHER_KEY, OTHER_KEY.encode()):
        store = SQLiteStore(path, key=wrong)
        with pytest.raises(StoreKeyError) as caught:
            ConsentLedger(store, clock=time.time).is_withdrawn("p-left")
        assert OTHER_KEY not in str(caught.value) and KEY not in str(caught.value)
        store.close()
    monkeypatch.delenv("FACEGUARD_STORE_KEY")
    sidecar = SQLiteStore(path)  # no key at all: a fresh sidecar key, not the file's
    with pytest.raises(StoreKeyError, match="another pseudonymisation key"):
        sidecar.pseudonym("subject", "p-left")
    sidecar.close()


@pytest.mark.parametrize("short", ["", "short", "x" * 31, b"y" * 31])
def test_short_keys_are_refused_without_being_echoed(
    short: str | bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if short:
        with pytest.raises(StoreKeyError, match="at least 32") as caught:
            SQLiteStore(tmp_path / "g.db", key=short)
        assert "xxxxxxxx" not in str(caught.value) and "short" not in str(caught.value)
        with pytest.raises(StoreKeyError):
            MemoryStore(key=short)
        with pytest.raises(StoreKeyError):
            RedisStore("redis://127.0.0.1:1/0", key=short)
    if isinstance(short, str) and short:
        monkeypatch.setenv("FACEGUARD_STORE_KEY", short)
        with pytest.raises(StoreKeyError, match="FACEGUARD_STORE_KEY"):
            SQLiteStore(tmp_path / "h.db")


@pytest.mark.usefixtures("no_env_key")
def test_redis_without_a_key_refuses_to_pseudonymise_but_serves_a_rate_limiter(
    redis_url: str,
) -> None:
    store = RedisStore(redis_url, prefix=f"nokey{uuid.uuid4().hex[:8]}")
    with pytest.raises(StoreKeyError, match="FACEGUARD_STORE_KEY"):
        store.pseudonym("faceId", FACE_ID)
    with pytest.raises(StoreKeyError):
        ConsentLedger(store, clock=time.time).withdraw("p-1")
    limiter = RateLimiter(5, store=store)
    # No identifier involved: works without a key.
    assert limiter.reserve(limiter.bucket_for("https://face.example.com")) == 0.0
    store.close()


def test_redis_takes_its_key_from_the_environment(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"envkey{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("FACEGUARD_STORE_KEY", KEY)
    from_env = RedisStore(redis_url, prefix=prefix)
    ConsentLedger(from_env, clock=time.time).withdraw("p-env")
    monkeypatch.delenv("FACEGUARD_STORE_KEY")
    explicit = RedisStore(redis_url, prefix=prefix, key=KEY)
    assert ConsentLedger(explicit, clock=time.time).is_withdrawn("p-env")
    assert from_env.pseudonym("subject", "p") == explicit.pseudonym("subject", "p")
    from_env.close()
    explicit.close()


def test_redis_stores_share_a_key_and_refuse_another(redis_url: str) -> None:
    prefix = f"shared{uuid.uuid4().hex[:8]}"
    a, b = (
        RedisStore(redis_url, prefix=prefix, key=KEY),
        RedisStore(redis_url, prefix=prefix, key=KEY),
    )
    ConsentLedger(a, clock=time.time).withdraw("p-9")
    assert ConsentLedger(b, clock=time.time).is_withdrawn("p-9")
    assert a.pseudonym("device", "d") == b.pseudonym("device", "d")
    wrong = RedisStore(redis_url, prefix=prefix, key=OTHER_KEY)
    with pytest.raises(StoreKeyError):
        wrong.pseudonym("device", "d")
    for store in (a, b, wrong):
        store.close()
    assert KEY not in repr(a) and OTHER_KEY not in repr(wrong)


def _pseudonym_in_process(path: str, env_key: str | None) -> str:
    """Runs in a spawned process: open the shared file and pseudonymise one subject."""
    if env_key is None:
        os.environ.pop("FACEGUARD_STORE_KEY", None)
    else:
        os.environ["FACEGUARD_STORE_KEY"] = env_key
    store = SQLiteStore(path)
    try:
        return store.pseudonym("subject", "p-shared")
    finally:
        store.close()


@pytest.mark.parametrize("env_key", [None, KEY])
def test_processes_opening_a_new_file_together_agree(tmp_path: Path, env_key: str | None) -> None:
    """4 processes race to create the file (and its sidecar key): all derive one pseudonym."""
    path = str(tmp_path / "race.db")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        names = pool.starmap(_pseudonym_in_process, [(path, env_key)] * 4)
    assert len(set(names)) == 1
    assert (tmp_path / "race.db.key").exists() == (env_key is None)


# -- SQLite files are private ---------------------------------------------------------------


@pytest.mark.usefixtures("open_umask", "no_env_key")
@pytest.mark.parametrize("opener", ["store", "journal"])
def test_new_sqlite_files_are_0600_under_a_permissive_umask(tmp_path: Path, opener: str) -> None:
    path = tmp_path / f"{opener}.db"
    if opener == "store":
        store = SQLiteStore(path)
        store.put("ns", "k", b"v")
        store.pseudonym("subject", "p")  # makes the sidecar key
        expected = ["", "-wal", "-shm", ".key"]
        closer: Callable[[], None] = store.close
    else:
        journal = SQLiteJournal(path)
        journal.open_batch("b", ["x"])
        expected = ["", "-wal", "-shm"]
        closer = journal.close
    try:
        for suffix in expected:
            side = path.with_name(path.name + suffix)
            assert side.exists(), suffix
            assert _mode(side) == 0o600, (suffix, oct(_mode(side)))
    finally:
        closer()


@pytest.mark.usefixtures("no_env_key")
@pytest.mark.parametrize("opener", ["store", "journal"])
@pytest.mark.parametrize("wide", [0o644, 0o666, 0o640, 0o604])
def test_existing_wide_files_are_tightened_with_a_warning(
    tmp_path: Path, opener: str, wide: int, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.db"
    # Kept open, so that the -wal and -shm files exist while the second one opens.
    first = SQLiteStore(path) if opener == "store" else SQLiteJournal(path)
    if isinstance(first, SQLiteStore):
        first.pseudonym("subject", "p")
    widened = sorted(p for p in tmp_path.iterdir() if p.name.startswith("old.db"))
    expected = {"old.db", "old.db-wal", "old.db-shm"} | (
        {"old.db.key"} if opener == "store" else set()
    )
    assert {p.name for p in widened} == expected
    for side in widened:
        side.chmod(wide)
    caplog.set_level(logging.WARNING, logger="faceguard")
    again = SQLiteStore(path) if opener == "store" else SQLiteJournal(path)
    if isinstance(again, SQLiteStore):
        again.pseudonym("subject", "p")  # reads the sidecar
    try:
        for side in widened:
            assert _mode(side) == 0o600, (side.name, oct(_mode(side)))
        warned = " ".join(r.getMessage() for r in caplog.records)
        for side in widened:
            assert side.name in warned
        assert f"{wide:04o}" in warned
    finally:
        again.close()
        first.close()


@pytest.mark.usefixtures("open_umask", "no_env_key")
@pytest.mark.parametrize("opener", ["store", "journal"])
def test_the_file_is_private_before_sqlite_opens_it(
    tmp_path: Path, opener: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not private a moment later: private from the start (a local user who opens a file
    while it is world-readable keeps that descriptor)."""
    import sqlite3

    seen: list[int | None] = []
    real = sqlite3.connect

    def spy(database: str, *args: object, **kwargs: object) -> sqlite3.Connection:
        seen.append(_mode(Path(database)) if os.path.exists(database) else None)
        return real(database, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3, "connect", spy)
    path = tmp_path / "fresh.db"
    made = SQLiteStore(path) if opener == "store" else SQLiteJournal(path)
    made.close()
    assert seen == [0o600]


def test_a_wide_file_that_cannot_be_tightened_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's file: chmod fails (simulated: the tests run as root) and the store is
    refused, not used world-readable."""
    path = tmp_path / "theirs.db"
    SQLiteStore(path, key=KEY).close()
    path.chmod(0o644)

    def refuse(_path: object, _mode: int, **_kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refuse)
    with pytest.raises(GuardStoreError, match="cannot be made private"):
        SQLiteStore(path, key=KEY)
    from faceguard.bulk import JournalError

    with pytest.raises(JournalError, match="cannot be made private"):
        SQLiteJournal(path)


def test_an_open_database_file_is_never_reopened_by_faceguard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing any descriptor of a file drops every POSIX lock the process holds on it, and
    SQLite locks the database and its -shm file that way: opening and closing them beside a
    live connection broke WAL locking ("locking protocol" between processes). Making the
    files private works by path once they exist."""
    path = tmp_path / "shared.db"
    first = SQLiteStore(path, key=KEY)
    first.put("ns", "k", b"v")  # the -wal and -shm files exist now, locked by this process
    opened: list[str] = []
    real_open = os.open

    def spy(name: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(name, flags, *args, **kwargs)  # a refused O_EXCL opens nothing
        opened.append(os.fspath(name))
        return fd

    monkeypatch.setattr(os, "open", spy)
    second = SQLiteStore(path, key=KEY)  # a second store on the same file, same process
    second.put("ns", "k2", b"v2")
    journal = SQLiteJournal(path.with_name("journal.db"))
    journal.close()
    SQLiteJournal(path.with_name("journal.db")).close()
    monkeypatch.undo()
    database_files = {str(path) + suffix for suffix in ("", "-wal", "-shm", "-journal")}
    assert not database_files & set(opened)
    assert first.get("ns", "k2") == b"v2" and second.get("ns", "k") == b"v"
    first.close()
    second.close()


# -- Redis ACL users and TLS ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_redis(workdir: Path, *args: str, ping: Callable[[], bool]) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install -y redis-server)")
    with (workdir / "redis.log").open("wb") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir), *args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        if ping():
            return proc
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    pytest.fail(f"redis-server did not start:\n{(workdir / 'redis.log').read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


ACL_USER, ACL_PASSWORD = "faceguard-app", "acl-s3cret-Pa55"


@pytest.fixture(scope="module")
def acl_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A redis-server whose default user is off: only ACL_USER may connect."""
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis-acl")

    def ping() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(f"AUTH {ACL_USER} {ACL_PASSWORD}\r\nPING\r\n".encode())
                time.sleep(0.05)
                return b"+PONG" in sock.recv(64)
        except OSError:
            return False

    proc = _start_redis(
        workdir,
        "--port", str(port),
        "--user", "default", "off",
        "--user", ACL_USER, "on", f">{ACL_PASSWORD}", "~*", "&*", "+@all",
        ping=ping,
    )  # fmt: skip
    try:
        yield port
    finally:
        _stop(proc)


def _exercise(store: RedisStore) -> None:
    ledger = ConsentLedger(store, clock=time.time)
    ledger.withdraw("p-acl")
    assert ledger.is_withdrawn("p-acl")


def test_acl_credentials_in_the_url_or_as_arguments(acl_port: int) -> None:
    prefix = f"acl{uuid.uuid4().hex[:8]}"
    in_url = RedisStore(
        f"redis://{ACL_USER}:{ACL_PASSWORD}@127.0.0.1:{acl_port}/0", prefix=prefix, key=KEY
    )
    as_args = RedisStore(
        f"redis://127.0.0.1:{acl_port}/0",
        prefix=prefix,
        key=KEY,
        username=ACL_USER,
        password=ACL_PASSWORD,
    )
    for store in (in_url, as_args):
        _exercise(store)
        assert ACL_PASSWORD not in repr(store) and ACL_USER not in repr(in_url)
        store.close()
    journal = RedisJournal(
        f"redis://127.0.0.1:{acl_port}/0", username=ACL_USER, password=ACL_PASSWORD
    )
    assert journal.open_batch("b", ["x"])["x"].state == "pending"
    assert ACL_PASSWORD not in repr(journal)
    journal.close()


@pytest.mark.parametrize(
    "url, kwargs",
    [
        ("redis://127.0.0.1:{port}/0", {}),  # the default user is off
        ("redis://{user}:wrong-{password}@127.0.0.1:{port}/0", {}),
        ("redis://127.0.0.1:{port}/0", {"username": "{user}", "password": "x{password}"}),
        ("redis://nobody:{password}@127.0.0.1:{port}/0", {}),
    ],
)
def test_refused_credentials_fail_closed_without_showing_them(
    acl_port: int, url: str, kwargs: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    fill = {"port": acl_port, "user": ACL_USER, "password": ACL_PASSWORD}
    caplog.set_level(logging.DEBUG)
    store = RedisStore(
        url.format(**fill),
        prefix="acl",
        key=KEY,
        **{name: value.format(**fill) for name, value in kwargs.items()},
    )
    with pytest.raises(GuardStoreError) as caught:
        _exercise(store)
    journal = RedisJournal(
        url.format(**fill), **{name: value.format(**fill) for name, value in kwargs.items()}
    )
    from faceguard.bulk import JournalError

    with pytest.raises(JournalError) as journal_caught:
        journal.open_batch("b", ["x"])
    shown = " ".join(
        [str(caught.value), repr(store), str(journal_caught.value), repr(journal)]
        + [record.getMessage() for record in caplog.records]
    )
    assert ACL_PASSWORD not in shown
    assert caught.value.__cause__ is None  # no chained redis exception carries the arguments
    store.close()
    journal.close()


def test_credentials_twice_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="not both") as caught:
        RedisStore("redis://u:pw-in-url@127.0.0.1:1/0", password="pw-as-arg")
    assert "pw-in-url" not in str(caught.value) and "pw-as-arg" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="not both"):
        RedisJournal("redis://:pw@127.0.0.1:1/0", username="u")
    with pytest.raises(ConfigurationError, match="not both"):
        RedisStore("unix:///run/redis.sock?db=0&password=pw-in-query", password="pw-as-arg")


@pytest.mark.parametrize("scheme", ["http", "redis+tls", "file"])
def test_other_schemes_are_refused(scheme: str) -> None:
    with pytest.raises(ConfigurationError, match=r"redis://, rediss://") as caught:
        RedisStore(f"{scheme}://user:pw-secret@127.0.0.1:1/0")
    assert "pw-secret" not in str(caught.value)


def test_tls_options_need_a_rediss_url(tmp_path: Path) -> None:
    for kwargs in ({"ssl_ca_certs": "ca.pem"}, {"ssl_certfile": "c.pem", "ssl_keyfile": "k.pem"}):
        with pytest.raises(ConfigurationError, match="rediss://"):
            RedisStore("redis://127.0.0.1:1/0", **kwargs)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="rediss://"):
            RedisJournal("redis://127.0.0.1:1/0", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("opener", [RedisStore, RedisJournal])
def test_rediss_urls_reach_redis_py_with_tls_settings(
    opener: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a server: what redis-py is handed for a rediss:// URL (seen at its
    ``Redis.from_url``): a TLS connection, the CA, certificate and host name checked."""
    import redis

    made: list[redis.Redis] = []
    real = redis.Redis.from_url

    def spy(url: str, **kwargs: object) -> redis.Redis:
        client = real(url, **kwargs)
        made.append(client)
        return client

    monkeypatch.setattr(redis.Redis, "from_url", spy)
    built = opener(
        "rediss://user:tls-pw@127.0.0.1:1/0",
        ssl_ca_certs="/etc/ssl/certs/ca.pem",
        ssl_certfile="/etc/client.pem",
        ssl_keyfile="/etc/client.key",
    )
    (client,) = made
    pool = client.connection_pool
    assert pool.connection_class is redis.SSLConnection
    kwargs = pool.connection_kwargs
    assert kwargs["ssl_ca_certs"] == "/etc/ssl/certs/ca.pem"
    assert kwargs["ssl_certfile"] == "/etc/client.pem"
    assert kwargs["ssl_keyfile"] == "/etc/client.key"
    assert kwargs.get("ssl_cert_reqs", "required") == "required"
    assert kwargs.get("ssl_check_hostname", True) is True
    assert "tls-pw" not in repr(built) and "user" not in repr(built)
    built.close()  # type: ignore[attr-defined]


def _self_signed(workdir: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "cert.pem", workdir / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A redis-server that speaks TLS only (Debian's build supports --tls-port)."""
    import ssl

    workdir = tmp_path_factory.mktemp("redis-tls")
    cert, key = _self_signed(workdir)
    port = _free_port()

    def ping() -> bool:
        context = ssl.create_default_context(cafile=str(cert))
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw,
                context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
            ):
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    proc = _start_redis(
        workdir,
        "--port", "0",
        "--tls-port", str(port),
        "--tls-cert-file", str(cert),
        "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(cert),
        "--tls-auth-clients", "no",
        ping=ping,
    )  # fmt: skip
    try:
        yield port, cert
    finally:
        _stop(proc)


def test_a_real_tls_server_through_rediss(tls_server: tuple[int, Path]) -> None:
    port, cert = tls_server
    store = RedisStore(
        f"rediss://127.0.0.1:{port}/0", prefix="tls", key=KEY, ssl_ca_certs=str(cert)
    )
    _exercise(store)
    store.close()
    journal = RedisJournal(f"rediss://127.0.0.1:{port}/0", ssl_ca_certs=str(cert))
    assert journal.open_batch("b", ["x"])["x"].state == "pending"
    journal.close()


def test_an_untrusted_tls_certificate_fails_closed(tls_server: tuple[int, Path]) -> None:
    port, _cert = tls_server
    store = RedisStore(f"rediss://127.0.0.1:{port}/0?socket_connect_timeout=2", key=KEY)
    with pytest.raises(GuardStoreError):
        _exercise(store)
    store.close()
    plain = RedisStore(f"redis://127.0.0.1:{port}/0?socket_timeout=2", key=KEY)
    with pytest.raises(GuardStoreError):  # a plain client is not served by a TLS port
        _exercise(plain)
    plain.close()


# -- odd paths, odd clients, old stores -----------------------------------------------------


@pytest.mark.usefixtures("open_umask", "no_env_key")
@pytest.mark.parametrize("name", ["file:odd.db", "file:x.db?mode=memory", "mode=memory.db"])
def test_names_that_look_like_uris_are_files_and_private(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite opens these as plain file names (no uri=True): they are files like any other."""
    monkeypatch.chdir(tmp_path)
    store = SQLiteStore(name)
    store.pseudonym("subject", "p")
    store.close()
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == [name, name + ".key"]
    assert all(_mode(tmp_path / p) == 0o600 for p in made)


def test_connection_options_with_a_ready_client_are_refused(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    with pytest.raises(ConfigurationError, match="client you built"):
        RedisStore(client=client, password="ignored-otherwise")
    with pytest.raises(ConfigurationError, match="client you built"):
        RedisJournal(client, ssl_ca_certs="ca.pem")
    client.close()


def test_a_store_without_pseudonyms_is_refused_when_handed_over() -> None:
    """A GuardStore written for the version before pseudonymisation would keep identifiers
    in clear: the client refuses it when it is built."""
    from faceguard import FaceClient, GuardPolicy, UseCase

    class OldStore:
        def __getattr__(self, name: str) -> object:
            if name == "pseudonym":
                raise AttributeError(name)
            return getattr(MemoryStore(), name)

    with pytest.raises(ConfigurationError, match=r"pseudonym\(kind, value\)"):
        FaceClient(
            "https://example.cognitiveservices.azure.com",
            api_key="k",
            guard=GuardPolicy(use_case=UseCase.IDENTITY_VERIFICATION, store=OldStore()),  # type: ignore[arg-type]
        )
    with pytest.raises(ConfigurationError, match="ConsentLedger"):
        ConsentLedger(OldStore(), clock=time.time)  # type: ignore[arg-type]
