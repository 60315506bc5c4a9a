"""A real Redis server for the store tests, started only when a test asks for ``redis_url``."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

_MISSING_REDIS = (
    "redis-server is not installed: install Debian's redis-server package "
    "(apt-get install -y redis-server); CI's .ci/run installs it"
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a throwaway redis-server, stopped after the session."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(_MISSING_REDIS, pytrace=False)
    workdir = tmp_path_factory.mktemp("redis")
    log_path = workdir / "redis.log"
    for _attempt in range(3):  # the free port may be taken between probing and binding
        port = _free_port()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(workdir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            if _answers_ping(port):
                break
            time.sleep(0.02)
        else:
            proc.kill()
            proc.wait()
            continue
        break
    else:
        pytest.fail(f"redis-server did not start:\n{log_path.read_text()}", pytrace=False)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
