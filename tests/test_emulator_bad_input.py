"""Bad input never breaks ``faceguard emulator serve`` or its state (raw sockets, real server).

A careless or hostile client talks to a real ``faceguard emulator serve`` subprocess (and, for
the body limit, to an in-thread server with a small limit) over loopback TCP: malformed
``Content-Length`` and chunked framing, absurd sizes, lone surrogates and deep nesting in
JSON, clients that send too slowly or hang up half way. Every client fault must answer a 4xx
with the service's JSON error shape (``{"error": {"code", "message"}}``) and an
``apim-request-id`` (except where the client is gone and nobody can read an answer), nothing
may be stored, the lists must stay readable afterwards, and the server log must hold no
traceback. The key and the declared length are judged before a byte of the body is read.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

from faceguard.emulator import Emulator
from faceguard.emulator._server import running

KEY = "raw-socket-key"
TIMEOUT = 0.6  # the server's --request-timeout in these tests (short on purpose)
FACE = "/face/v1.2"
CS = "/contentsafety"
CS_VERSION = "api-version=2024-09-01"
MERGE_PATCH = "application/merge-patch+json"


# -- a served emulator and a raw HTTP/1.1 client ---------------------------------------------


@dataclass
class Served:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    banner: str

    def log_text(self) -> str:
        return Path(self.log.name).read_text(errors="replace")


def _start(*args: str) -> Served:
    log = tempfile.NamedTemporaryFile(prefix="emulator-log-", suffix=".txt")  # noqa: SIM115
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "faceguard", "emulator", "serve", "--port", "0", *args],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = Path(log.name).read_text(errors="replace")
        found = re.search(r"serving on http://(127\.0\.0\.1):(\d+)", text)
        if found and "python" in text.lower():  # the whole banner is out
            return Served(found.group(1), int(found.group(2)), process, log, text)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the emulator did not start:\n" + Path(log.name).read_text())


def _stop(served: Served) -> tuple[int, str]:
    """Stop the server; its exit code and everything it logged."""
    served.process.send_signal(signal.SIGINT)
    try:
        return served.process.wait(timeout=20), served.log_text()
    finally:
        served.log.close()


@pytest.fixture(scope="module")
def keyed() -> Iterator[Served]:
    """``faceguard emulator serve --key ... --request-timeout 0.6``: shared by the tests below,
    so each test uses its own resource names."""
    if os.name != "posix":  # pragma: no cover
        pytest.skip("stops the server with SIGINT")
    served = _start("--key", KEY, "--request-timeout", str(TIMEOUT))
    yield served
    code, log = _stop(served)
    assert code == 0, log
    # Client faults are the client's problem: no traceback, no "Exception in ASGI application".
    assert "Traceback" not in log, log
    assert "Exception in ASGI" not in log, log
    print(log)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)

    def error_code(self) -> str:
        """The service's error shape, checked: ``{"error": {"code", "message"}}``."""
        assert self.headers.get("content-type", "").startswith("application/json"), self
        body = self.json()
        assert isinstance(body, dict) and set(body) == {"error"}, body
        error = body["error"]
        assert isinstance(error, dict) and {"code", "message"} <= set(error), body
        assert isinstance(error["message"], str) and error["message"], body
        assert self.headers.get("apim-request-id"), self.headers
        return str(error["code"])


def _connect(served: Served) -> socket.socket:
    sock = socket.create_connection((served.host, served.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_answer(sock: socket.socket) -> Answer:
    """One HTTP/1.1 response (Content-Length framed, as the emulator answers)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed without an answer after {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Answer(status, headers, rest[:length])


def _head(method: str, path: str, *extra: str, key: str | None = KEY) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if key is not None:
        lines.append(f"Ocp-Apim-Subscription-Key: {key}")
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _exchange(served: Served, raw: bytes) -> Answer:
    with _connect(served) as sock:
        sock.sendall(raw)
        return _read_answer(sock)


def _json_request(method: str, path: str, body: bytes, media: str = "application/json") -> bytes:
    return (
        _head(method, path, f"Content-Type: {media}", f"Content-Length: {len(body)}", "")[:-2]
        + body
    )


def _get(served: Served, path: str) -> Answer:
    return _exchange(served, _head("GET", path))


def _lists_are_readable(served: Served) -> None:
    """The state still answers: every list call is 200 with a JSON array (or page)."""
    for path in (
        f"{FACE}/persongroups",
        f"{FACE}/largepersongroups",
        f"{FACE}/facelists",
        f"{FACE}/largefacelists",
        f"{CS}/text/blocklists?{CS_VERSION}",
    ):
        answer = _get(served, path)
        assert answer.status == 200, (path, answer)
        answer.json()


# -- JSON that parses but must not be stored ---------------------------------------------------

SURROGATE_BODIES = [
    pytest.param(b'{"name": "\\ud800"}', id="lone-high"),
    pytest.param(b'{"name": "\\udfff"}', id="lone-low"),
    pytest.param(b'{"name": "a\\udc00\\ud800b"}', id="reversed-pair"),
    pytest.param(b'{"name": "ok", "userData": "\\ud83d"}', id="in-userData"),
    pytest.param(b'{"name": "ok", "\\ud800": 1}', id="in-a-key"),
    pytest.param(b'{"name": "ok", "x": ["\\udbff"]}', id="in-an-array"),
    pytest.param(b'{"name": "\xed\xa0\x80"}', id="cesu-bytes"),
]


@pytest.mark.parametrize("body", SURROGATE_BODIES)
def test_a_lone_surrogate_in_a_face_body_is_400_and_not_stored(keyed: Served, body: bytes) -> None:
    group = f"sur-{abs(hash(body)) % 10**8}"
    answer = _exchange(keyed, _json_request("PUT", f"{FACE}/persongroups/{group}", body))
    assert answer.status == 400, answer
    assert answer.error_code() == "BadArgument"
    assert _get(keyed, f"{FACE}/persongroups/{group}").status == 404
    _lists_are_readable(keyed)


@pytest.mark.parametrize(
    "body",
    [
        b'{"description": "\\ud800"}',
        b'{"description": "ok", "\\udfff": true}',
    ],
)
def test_a_lone_surrogate_in_a_content_safety_body_is_400_and_not_stored(
    keyed: Served, body: bytes
) -> None:
    name = f"sur{abs(hash(body)) % 10**8}"
    answer = _exchange(
        keyed,
        _json_request(
            "PATCH",
            f"{CS}/text/blocklists/{name}?{CS_VERSION}",
            body,
            MERGE_PATCH,
        ),
    )
    assert answer.status == 400, answer
    assert answer.error_code() == "InvalidRequestBody"
    assert _get(keyed, f"{CS}/text/blocklists/{name}?{CS_VERSION}").status == 404
    _lists_are_readable(keyed)


def test_a_lone_surrogate_in_blocklist_items_is_400(keyed: Served) -> None:
    name = "surrogate-items"
    created = _exchange(
        keyed,
        _json_request(
            "PATCH",
            f"{CS}/text/blocklists/{name}?{CS_VERSION}",
            b"{}",
            MERGE_PATCH,
        ),
    )
    assert created.status == 201, created
    body = b'{"blocklistItems": [{"text": "\\ud800"}]}'
    answer = _exchange(
        keyed,
        _json_request(
            "POST", f"{CS}/text/blocklists/{name}:addOrUpdateBlocklistItems?{CS_VERSION}", body
        ),
    )
    assert answer.status == 400, answer
    assert answer.error_code() == "InvalidRequestBody"
    items = _get(keyed, f"{CS}/text/blocklists/{name}/blocklistItems?{CS_VERSION}")
    assert items.status == 200, items
    page = items.json()
    assert isinstance(page, dict) and page["value"] == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="arrays"),
        pytest.param(b'{"a":' * 50_000 + b"1" + b"}" * 50_000, id="objects"),
        pytest.param(b'{"name": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", id="in-a-field"),
    ],
)
def test_deeply_nested_json_is_400(keyed: Served, body: bytes) -> None:
    answer = _exchange(keyed, _json_request("PUT", f"{FACE}/persongroups/deep", body))
    assert answer.status == 400, answer
    assert answer.error_code() == "BadArgument"
    cs = _exchange(
        keyed,
        _json_request("PATCH", f"{CS}/text/blocklists/deep?{CS_VERSION}", body, MERGE_PATCH),
    )
    assert cs.status == 400, cs
    assert cs.error_code() == "InvalidRequestBody"
    assert _get(keyed, f"{FACE}/persongroups/deep").status == 404
    _lists_are_readable(keyed)


# -- HTTP framing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "length", ["abc", "-1", "-0", "+5", "1_0", "0x10", "5 5", "1e3", "", "99999999999999999999x"]
)
def test_a_bad_content_length_is_400_in_the_services_shape(keyed: Served, length: str) -> None:
    raw = _head(
        "PUT",
        f"{FACE}/persongroups/cl",
        "Content-Type: application/json",
        f"Content-Length: {length}",
    )
    answer = _exchange(keyed, raw + b'{"name": "x"}')
    assert answer.status == 400, answer
    answer.error_code()
    assert _get(keyed, f"{FACE}/persongroups/cl").status == 404


def test_two_disagreeing_content_lengths_are_400(keyed: Served) -> None:
    raw = _head(
        "PUT",
        f"{FACE}/persongroups/cl2",
        "Content-Type: application/json",
        "Content-Length: 13",
        "Content-Length: 5",
    )
    answer = _exchange(keyed, raw + b'{"name": "x"}')
    assert answer.status == 400, answer
    answer.error_code()
    assert _get(keyed, f"{FACE}/persongroups/cl2").status == 404


@pytest.mark.parametrize(
    ("chunks", "status"),
    [
        pytest.param(b"zz\r\n{}\r\n0\r\n\r\n", 400, id="not-hex"),
        pytest.param(b"-5\r\nhello\r\n0\r\n\r\n", 400, id="negative"),
        pytest.param(b"5\r\nhello world\r\n0\r\n\r\n", 400, id="longer-than-declared"),
        pytest.param(b"F" * 64 + b"\r\nab\r\n0\r\n\r\n", 400, id="absurd-size-64-digits"),
        pytest.param(
            b"5;" + b"x" * 70_000 + b"\r\nhello\r\n0\r\n\r\n", 400, id="endless-extension"
        ),
        # h11 reads bare LF line ends leniently, then waits for a chunk that never comes.
        pytest.param(b"5\nhello\n0\n\n", 408, id="bare-newlines"),
    ],
)
def test_malformed_chunked_bodies_are_refused(keyed: Served, chunks: bytes, status: int) -> None:
    raw = _head(
        "PUT",
        f"{FACE}/persongroups/chunky",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
    )
    answer = _exchange(keyed, raw + chunks)
    assert answer.status == status, answer
    answer.error_code()
    assert _get(keyed, f"{FACE}/persongroups/chunky").status == 404
    _lists_are_readable(keyed)


def test_a_valid_chunked_body_is_applied(keyed: Served) -> None:
    body = b'{"name": "chunked"}'
    raw = _head(
        "PUT",
        f"{FACE}/persongroups/chunked-ok",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
    )
    framed = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    assert _exchange(keyed, raw + framed).status == 200
    answer = _get(keyed, f"{FACE}/persongroups/chunked-ok")
    assert answer.status == 200
    assert answer.json() == {"personGroupId": "chunked-ok", "name": "chunked"}


def test_a_huge_declared_length_is_413_before_the_body_is_read(keyed: Served) -> None:
    with _connect(keyed) as sock:
        sock.sendall(
            _head(
                "PUT",
                f"{FACE}/persongroups/huge",
                "Content-Type: application/json",
                "Content-Length: 1000000000000",
            )
        )
        started = time.monotonic()
        answer = _read_answer(sock)  # no body byte was sent
    assert answer.status == 413, answer
    assert answer.error_code()
    assert time.monotonic() - started < TIMEOUT  # judged on the headers, not after a timeout


@pytest.mark.parametrize("key", ["wrong-key", None])
def test_the_key_is_checked_before_the_body_is_read(keyed: Served, key: str | None) -> None:
    with _connect(keyed) as sock:
        sock.sendall(
            _head(
                "PUT",
                f"{FACE}/persongroups/nokey",
                "Content-Type: application/json",
                "Content-Length: 50000000",
                key=key,
            )
        )
        started = time.monotonic()
        answer = _read_answer(sock)
    assert answer.status == 401, answer
    assert answer.error_code() == "401"
    assert time.monotonic() - started < TIMEOUT


# -- slow and vanishing clients ----------------------------------------------------------------


def test_a_client_that_stops_sending_its_body_gets_408(keyed: Served) -> None:
    with _connect(keyed) as sock:
        sock.sendall(
            _head(
                "PUT",
                f"{FACE}/persongroups/slow-body",
                "Content-Type: application/json",
                "Content-Length: 100",
            )
            + b'{"name": '
        )
        started = time.monotonic()
        answer = _read_answer(sock)
    waited = time.monotonic() - started
    assert answer.status == 408, answer
    answer.error_code()
    assert TIMEOUT * 0.8 <= waited < TIMEOUT + 5
    assert _get(keyed, f"{FACE}/persongroups/slow-body").status == 404


def test_a_client_that_stops_sending_its_headers_gets_408(keyed: Served) -> None:
    with _connect(keyed) as sock:
        sock.sendall(b"GET /face/v1.2/persongroups HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer = _read_answer(sock)
    assert answer.status == 408, answer
    answer.error_code()


def test_a_trickling_client_still_gets_408(keyed: Served) -> None:
    """One byte at a time keeps a connection busy but must not keep it forever."""
    request = _head("GET", f"{FACE}/persongroups")
    with _connect(keyed) as sock:
        started = time.monotonic()
        sent = 0
        answer = None
        while time.monotonic() - started < TIMEOUT * 6 and sent < len(request) - 4:
            try:
                sock.sendall(request[sent : sent + 1])
            except OSError:
                break
            sent += 1
            time.sleep(TIMEOUT / 4)
        answer = _read_answer(sock)
    assert answer.status == 408, answer
    assert time.monotonic() - started < TIMEOUT * 6


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_request_whose_client_hung_up_is_not_applied(keyed: Served, framing: str) -> None:
    group = f"hung-{framing}"
    body = b'{"name": "hung up"}'
    if framing == "length":
        raw = (
            _head(
                "PUT",
                f"{FACE}/persongroups/{group}",
                "Content-Type: application/json",
                f"Content-Length: {len(body) + 10}",
            )
            + body
        )
    else:
        raw = _head(
            "PUT",
            f"{FACE}/persongroups/{group}",
            "Content-Type: application/json",
            "Transfer-Encoding: chunked",
        ) + b"%x\r\n%s\r\n" % (len(body), body)  # no last chunk
    with _connect(keyed) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        time.sleep(0.2)
    time.sleep(TIMEOUT)
    assert _get(keyed, f"{FACE}/persongroups/{group}").status == 404


def test_keep_alive_serves_several_requests_on_one_connection(keyed: Served) -> None:
    with _connect(keyed) as sock:
        for _ in range(3):
            sock.sendall(_head("GET", f"{FACE}/persongroups"))
            assert _read_answer(sock).status == 200


def test_an_unknown_path_is_a_404_naming_the_two_prefixes(keyed: Served) -> None:
    for path in ("/", "/face/v1.0/detect", "/nothing"):
        answer = _get(keyed, path)
        assert answer.status == 404, answer
        assert answer.error_code()
        message = answer.json()["error"]["message"]  # type: ignore[index]
        assert "/face/v1.2" in message and "/contentsafety" in message, message


# -- the body limit (an in-thread server with a small one) -------------------------------------


@pytest.fixture
def small_limit() -> Iterator[Served]:
    with running(Emulator(), max_body=4096, request_timeout=TIMEOUT) as server:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        yield Served(host, int(port), None, None, "")  # type: ignore[arg-type]


def test_a_chunked_body_over_the_limit_is_413_and_not_applied(small_limit: Served) -> None:
    raw = _head(
        "PUT",
        f"{FACE}/persongroups/big",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
        key="k",
    )
    body = b'{"name": "' + b"x" * 8000 + b'"}'
    answer = _exchange(small_limit, raw + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    assert answer.status == 413, answer
    answer.error_code()
    with _connect(small_limit) as sock:
        sock.sendall(_head("GET", f"{FACE}/persongroups/big", key="k"))
        assert _read_answer(sock).status == 404


def test_a_declared_length_over_the_limit_is_413(small_limit: Served) -> None:
    raw = _head(
        "PUT",
        f"{FACE}/persongroups/big2",
        "Content-Type: application/json",
        "Content-Length: 4097",
        key="k",
    )
    with _connect(small_limit) as sock:
        sock.sendall(raw)
        answer = _read_answer(sock)
    assert answer.status == 413, answer
    answer.error_code()


# -- the console -------------------------------------------------------------------------------


def test_the_console_says_how_to_call_the_emulator(keyed: Served) -> None:
    banner = keyed.banner
    base = f"http://{keyed.host}:{keyed.port}"
    assert f"{base}/face/v1.2" in banner
    assert f"{base}/contentsafety" in banner
    assert "Ocp-Apim-Subscription-Key" in banner
    assert "curl" in banner
    assert "FaceClient(" in banner
    assert KEY not in banner  # the key is never echoed
    assert "--key" in banner


def test_the_console_says_any_key_is_accepted_without_key() -> None:
    if os.name != "posix":  # pragma: no cover
        pytest.skip("stops the server with SIGINT")
    served = _start()
    try:
        banner = served.banner
        assert "any key" in banner.lower()
        curl = next(line for line in banner.splitlines() if "curl" in line)
        command = shlex.split(curl[curl.index("curl") :])
        assert command[0] == "curl"
        # The pasted line works as printed (curl itself may be absent: run it with httpx).
        url = next(part for part in command if part.startswith("http"))
        header = command[command.index("-H") + 1]
        name, _, value = header.partition(":")
        answer = httpx.get(url, headers={name: value.strip()})
        assert answer.status_code == 200, answer.text
        assert answer.json() == []
        python = next(line for line in banner.splitlines() if "FaceClient(" in line)
        namespace: dict[str, object] = {}
        exec(python[python.index("from faceguard") :], namespace)
        client = namespace["client"]
        assert type(client).__name__ == "FaceClient"
        client.close()  # type: ignore[attr-defined]
    finally:
        code, log = _stop(served)
        assert code == 0, log
        assert "Traceback" not in log, log


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_server_saves_its_state(tmp_path: Path, stop: signal.Signals) -> None:
    """Graceful shutdown: SIGTERM (what a service manager sends) saves like Ctrl-C."""
    if os.name != "posix":  # pragma: no cover
        pytest.skip("POSIX signals")
    served = _start("--state-dir", str(tmp_path))
    try:
        created = _exchange(
            served,
            _json_request("PUT", f"{FACE}/persongroups/kept", b'{"name": "kept"}'),
        )
        assert created.status == 200, created
    finally:
        served.process.send_signal(stop)
        code = served.process.wait(timeout=20)
        log = served.log_text()
        served.log.close()
    assert code == 0, log
    assert "Traceback" not in log, log
    again = _start("--state-dir", str(tmp_path))
    try:
        assert _get(again, f"{FACE}/persongroups/kept").json() == {
            "personGroupId": "kept",
            "name": "kept",
        }
    finally:
        assert _stop(again)[0] == 0
