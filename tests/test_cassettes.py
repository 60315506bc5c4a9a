"""``faceguard.testing``: scrubbed vcrpy cassettes, digest matching, and the hygiene check.

Real calls of the sync and async Face clients are recorded (vcrpy record mode ``all``) from a
loopback HTTP server started here: vcrpy patches httpx's real transports, so an
``httpx.MockTransport`` would not be seen. The cassettes are then checked for what must not be
in them (the key, bearer and liveness tokens, the consent token, the images), replayed in mode
``none`` with the server stopped, and replayed with a different image, which must fail.

The hygiene check is fed leaky and clean cassettes, and run over the repository's own
``tests/`` and ``examples/`` as CI runs it. Every secret and every image in this file is built
at runtime (never written out literally), so the file itself passes the check too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request as VcrRequest

from _guard_kit import ENDPOINTS, policy
from _guard_kit import TOKEN as CONSENT_TOKEN
from _guard_kit import token as kit_token
from faceguard import (
    APIConnectionError,
    AsyncFaceClient,
    ConfigurationError,
    FaceClient,
    NotFoundError,
    RetryPolicy,
)
from faceguard.__main__ import main
from faceguard.testing import (
    MATCH_ON,
    PLACEHOLDER,
    RECORD_MODE_ENV,
    body_digest,
    check_paths,
    check_text,
    image_placeholder,
    make_vcr,
    query_params,
    record_mode,
    request_body_digest,
    scrub_request,
    scrub_response,
    use_cassette,
    vcr_config,
)
from faceguard.testing._cassettes import CassetteScrubber

REPO = Path(__file__).resolve().parent.parent

# -- secrets and images, built at runtime ----------------------------------------------------------

KEY_HEADER = "Ocp-Apim-" + "Subscription-Key"
TOKEN_FIELD = "auth" + "Token"
BEARER = "Bear" + "er"
KEY = secrets.token_hex(16)  # the shape of a real Face key: 32 hex digits
AAD_TOKEN = "t0k-" + secrets.token_urlsafe(32)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_like(claims: dict[str, Any]) -> str:
    header = b64url(json.dumps({"alg": "ES256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.{b64url(secrets.token_bytes(64))}"


SESSION_TOKEN = jwt_like({"sid": "session-1", "nonce": secrets.token_hex(8)})

JPEG_MAGIC = bytes.fromhex("ff d8 ff e0")
PNG_MAGIC = bytes([0x89]) + b"PNG" + bytes([13, 10, 26, 10])
GIF_MAGIC = b"GIF8" + b"9a"


def bmp_header(size: int) -> bytes:
    return (
        b"B"
        + b"M"
        + size.to_bytes(4, "little")
        + bytes(4)
        + (54).to_bytes(4, "little")
        + (40).to_bytes(4, "little")
    )


MARKER = "CASSETTEIMAGE" + secrets.token_hex(8)
IMAGE = JPEG_MAGIC + MARKER.encode() + secrets.token_bytes(2048)
OTHER_IMAGE = JPEG_MAGIC + b"OTHER" + secrets.token_bytes(2048)
VERIFY_IMAGE = PNG_MAGIC + MARKER.encode() + secrets.token_bytes(2048)
SESSION_IMAGE = JPEG_MAGIC + MARKER.encode() + secrets.token_bytes(1500)

FACE_ID = str(uuid.uuid4())
DEVICE = str(uuid.uuid4())
ISSUED_FACE_ID = "00000000-face-4000-8000-000000000001"
"""What the cassette holds instead of FACE_ID: the first id the service issued."""
PLACEHOLDER_RE = r"00000000-face-4000-[89][0-9a-f]{3}-[0-9a-f]{12}"
RECT = {"top": 10, "left": 20, "width": 30, "height": 40}

VARYING_HEADERS = ("apim-request-id", "date", "x-envoy-upstream-service-time", "set-cookie")


MINTED: dict[str, str] = {"kit": CONSENT_TOKEN}
"""Every consent token the tests used, by endpoint: none may reach the wire or a cassette."""


def consent_for(client: FaceClient) -> str:
    """The kit's standing token, also naming this client's endpoint: a loopback service on a
    free port is not among the kit's ``ENDPOINTS``, and ``aud`` must name the resource."""
    endpoint = client._transport.config.endpoint
    if endpoint not in MINTED:
        MINTED[endpoint] = kit_token(endpoints=[*ENDPOINTS, endpoint])
    return MINTED[endpoint]


def leaked(text: str) -> list[str]:
    """The secrets and image traces found in a cassette's text (empty when none)."""
    minted = {f"consent token for {where}": token for where, token in MINTED.items()}
    needles = {
        **minted,
        "api key": KEY,
        "access token": AAD_TOKEN,
        "session token": SESSION_TOKEN,
        "session token signature": SESSION_TOKEN.rsplit(".", 1)[1],
        "consent token": CONSENT_TOKEN,
        "consent token signature": CONSENT_TOKEN.rsplit(".", 1)[1],
        "image marker": MARKER,
        "image base64": base64.b64encode(IMAGE[:30]).decode()[:36],
        "image hex": IMAGE[:12].hex(),
    }
    return [name for name, needle in needles.items() if needle in text]


# -- a loopback Face service -----------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)


@dataclass
class LoopbackService:
    """Canned Face v1.2 answers over real HTTP on 127.0.0.1, with Azure-like headers."""

    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None
    endpoint: str = ""
    """Kept after ``stop()``: replays use it with nothing listening there."""

    def answer(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        path = path.removeprefix("/face/v1.2")
        if method == "POST" and path == "/detect":
            face: dict[str, Any] = {"faceRectangle": RECT}
            if query.get("returnFaceId") == ["true"]:
                face["faceId"] = FACE_ID
            return 200, [face]
        if method == "POST" and path == "/detectLiveness-sessions":
            return 200, session_body()
        if method == "POST" and path == "/detectLivenessWithVerify-sessions":
            return 200, session_body(verify=True)
        if method == "GET" and path == "/sessionImages/image-1":
            return 200, SESSION_IMAGE
        error = {"error": {"code": "SessionNotFound", "message": "no such session"}}
        return 404, error

    def start(self) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                url = urlsplit(self.path)
                service.received.append(
                    Received(self.command, url.path, dict(self.headers.items()), body)
                )
                status, payload = service.answer(self.command, url.path, parse_qs(url.query))
                if isinstance(payload, bytes):
                    content, content_type = payload, "image/jpeg"
                else:
                    content, content_type = json.dumps(payload).encode(), "application/json"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.send_header("apim-request-id", str(uuid.uuid4()))
                self.send_header("x-envoy-upstream-service-time", str(secrets.randbelow(90)))
                self.send_header("Set-Cookie", f"ARRAffinity={secrets.token_hex(16)}")
                self.send_header("x-ms-region", "West Europe")
                if status == 404:
                    self.send_header("x-ms-error-code", "SessionNotFound")
                    self.send_header("Retry-After", "7")
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.server = self.thread = None


def session_body(*, verify: bool = False) -> dict[str, Any]:
    results: dict[str, Any] = {"attempts": []}
    if verify:
        results["verifyReferences"] = [
            {
                "referenceType": "Color",
                "faceRectangle": RECT,
                "qualityForRecognition": "High",
            }
        ]
    body = {"sessionId": "session-1", "status": "NotStarted", "results": results}
    body[TOKEN_FIELD] = SESSION_TOKEN
    return body


@pytest.fixture
def service() -> Iterator[LoopbackService]:
    loopback = LoopbackService()
    loopback.start()
    try:
        yield loopback
    finally:
        loopback.stop()


@pytest.fixture(autouse=True)
def _no_record_mode_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RECORD_MODE_ENV, raising=False)


def face_client(endpoint: str, **kwargs: Any) -> FaceClient:
    kwargs.setdefault("api_key", KEY)
    return FaceClient(
        endpoint, retry=RetryPolicy(max_attempts=1), guard=policy(), timeout=5, **kwargs
    )


@dataclass
class Outcome:
    faces: list[Any]
    faces_with_ids: list[Any]
    session_token: str
    verify_token: str
    verify_references: int
    session_image: bytes
    missing: NotFoundError


def scenario(client: FaceClient, *, image: bytes = IMAGE, verify_image: bytes = VERIFY_IMAGE):
    faces = client.detection.detect(image)
    consent = consent_for(client)
    faces_with_ids = client.detection.detect(image, return_face_id=True, consent=consent)
    session = client.liveness.create_session(
        liveness_operation_mode="Passive", device_correlation_id=DEVICE
    )
    verify = client.liveness.create_with_verify_session(
        verify_image=verify_image,
        liveness_operation_mode="PassiveActive",
        device_correlation_id=DEVICE,
        verify_confidence_threshold=0.6,
        consent=consent,
    )
    session_image = client.liveness.get_session_image("image-1")
    with pytest.raises(NotFoundError) as missing:
        client.liveness.get_session_result("missing-session")
    return Outcome(
        faces=list(faces),
        faces_with_ids=list(faces_with_ids),
        session_token=session.auth_token,
        verify_token=verify.auth_token,
        verify_references=len(verify.results.verify_references),
        session_image=session_image,
        missing=missing.value,
    )


def interactions(cassette: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load(cassette.read_text())["interactions"])


def header(headers: dict[str, Any], name: str) -> Any:
    found = [value for key, value in headers.items() if key.lower() == name.lower()]
    return found[0] if found else None


def text_of(body: Any) -> str:
    return body.decode() if isinstance(body, bytes) else str(body)


@pytest.fixture
def recorded(
    service: LoopbackService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Outcome, LoopbackService]:
    """The scenario recorded into a cassette (record mode from the environment), server kept."""
    cassette = tmp_path / "scenario.yaml"
    monkeypatch.setenv(RECORD_MODE_ENV, "all")
    with use_cassette(cassette), face_client(service.endpoint) as client:
        outcome = scenario(client)
    monkeypatch.delenv(RECORD_MODE_ENV)
    return cassette, outcome, service


# -- recording -------------------------------------------------------------------------------------


def test_the_recording_went_over_the_wire_with_the_real_key_and_images(recorded):
    _, outcome, service = recorded
    assert [r.path for r in service.received] == [
        "/face/v1.2/detect",
        "/face/v1.2/detect",
        "/face/v1.2/detectLiveness-sessions",
        "/face/v1.2/detectLivenessWithVerify-sessions",
        "/face/v1.2/sessionImages/image-1",
        "/face/v1.2/detectLiveness-sessions/missing-session",
    ]
    assert all(header(r.headers, KEY_HEADER) == KEY for r in service.received)
    assert service.received[0].body == IMAGE
    assert VERIFY_IMAGE in service.received[3].body
    # the caller of a recording call gets the real response
    assert outcome.session_token == SESSION_TOKEN
    assert outcome.session_image == SESSION_IMAGE


def test_the_consent_token_is_never_sent_so_never_recorded(recorded):
    cassette, _, service = recorded
    for request in service.received:
        wire = request.path + json.dumps(request.headers) + request.body.decode("latin-1")
        for token in MINTED.values():
            assert token not in wire
            assert token.rsplit(".", 1)[1] not in wire
    assert len(MINTED) > 1  # the recording's own token is among them
    assert not any(token in cassette.read_text() for token in MINTED.values())


def test_the_cassette_holds_no_key_token_or_image(recorded):
    cassette, _, _ = recorded
    text = cassette.read_text()
    assert leaked(text) == []
    assert "!!binary" not in text
    assert check_paths([cassette]) == []


def test_the_cassette_holds_placeholders_instead(recorded):
    cassette, _, _ = recorded
    entries = interactions(cassette)
    assert len(entries) == 6
    for entry in entries:
        headers = entry["request"]["headers"]
        # Only what matching reads is kept: no key (not even redacted), no user agent, no ids.
        assert set(map(str.lower, headers)) <= {"content-type"}
    detect, detect_ids = entries[0]["request"], entries[1]["request"]
    assert text_of(detect["body"]) == image_placeholder(IMAGE)
    assert text_of(detect_ids["body"]) == image_placeholder(IMAGE)
    assert "returnFaceId=true" in detect_ids["uri"]
    for index in (2, 3):
        body = json.loads(entries[index]["response"]["body"]["string"])
        assert body[TOKEN_FIELD] == PLACEHOLDER
    image_response = entries[4]["response"]
    assert text_of(image_response["body"]["string"]) == image_placeholder(SESSION_IMAGE)
    assert header(image_response["headers"], "content-type") == ["image/jpeg"]


def test_varying_response_headers_are_dropped_and_meaningful_ones_kept(recorded):
    cassette, _, _ = recorded
    for entry in interactions(cassette):
        headers = entry["response"]["headers"]
        for name in (*VARYING_HEADERS, "server"):
            assert header(headers, name) is None, name
        assert header(headers, "content-type") is not None
        assert header(headers, "x-ms-region") == ["West Europe"]
        body = entry["response"]["body"]["string"]
        assert header(headers, "content-length") == [str(len(body.encode()))]
    missing = interactions(cassette)[5]["response"]
    assert missing["status"]["code"] == 404
    assert header(missing["headers"], "x-ms-error-code") == ["SessionNotFound"]
    assert header(missing["headers"], "retry-after") == ["7"]


def test_the_multipart_upload_keeps_its_text_fields_and_loses_its_image(recorded):
    cassette, _, _ = recorded
    request = interactions(cassette)[3]["request"]
    body = text_of(request["body"])
    boundary = "faceguard-cassette-boundary"
    assert header(request["headers"], "content-type") == [
        f"multipart/form-data; boundary={boundary}"
    ]
    disposition = "Content-Disposition: form-data; name="
    assert f'{disposition}"livenessOperationMode"\r\n\r\nPassiveActive\r\n' in body
    # An id in a text part (the device id the test named) becomes a placeholder derived from it.
    device = re.search(f'{disposition}"deviceCorrelationId"\r\n\r\n({PLACEHOLDER_RE})\r\n', body)
    assert device is not None and DEVICE not in body
    assert f'{disposition}"verifyConfidenceThreshold"\r\n\r\n0.6\r\n' in body
    image_part = (
        f'{disposition}"verifyImage"; filename="verify.png"\r\nContent-Type: image/png\r\n\r\n'
        f"{image_placeholder(VERIFY_IMAGE)}\r\n"
    )
    assert image_part in body
    assert body.startswith(f"--{boundary}\r\n")
    assert body.endswith(f"--{boundary}--\r\n")


def test_recording_twice_gives_the_same_cassette(service, tmp_path):
    texts = []
    for name in ("first.yaml", "second.yaml"):
        with (
            use_cassette(tmp_path / name, record_mode="all"),
            face_client(service.endpoint) as client,
        ):
            scenario(client)
        texts.append((tmp_path / name).read_text())
    assert texts[0] == texts[1]  # no request id, date, boundary or token makes a diff


# -- replay ----------------------------------------------------------------------------------------


def test_replay_in_mode_none_works_with_the_server_stopped(recorded):
    cassette, live, service = recorded
    endpoint = service.endpoint
    service.stop()
    with face_client(endpoint) as client, pytest.raises(APIConnectionError):
        client.detection.detect(IMAGE)  # the server really is gone
    assert record_mode() == "none"
    with use_cassette(cassette) as tape, face_client(endpoint) as client:
        replayed = scenario(client)
    assert tape.all_played
    assert [f.face_rectangle for f in replayed.faces] == [f.face_rectangle for f in live.faces]
    assert [f.face_id for f in replayed.faces_with_ids] == [ISSUED_FACE_ID]
    assert replayed.session_token == replayed.verify_token == PLACEHOLDER
    assert replayed.verify_references == 1
    assert replayed.session_image == image_placeholder(SESSION_IMAGE).encode()
    assert replayed.missing.error_code == "SessionNotFound"
    assert replayed.missing.retry_after == 7


def test_replay_against_another_endpoint_matches(recorded, tmp_path):
    cassette, _, service = recorded
    service.stop()
    with use_cassette(cassette), face_client("http://localhost:9") as client:
        assert [f.face_rectangle.top for f in client.detection.detect(IMAGE)] == [10]


def test_replay_with_a_different_image_fails(recorded):
    cassette, _, service = recorded
    service.stop()
    with (
        use_cassette(cassette),
        face_client("http://127.0.0.1:9") as client,
        pytest.raises(CannotOverwriteExistingCassetteException) as failure,
    ):
        client.detection.detect(OTHER_IMAGE)
    message = str(failure.value)
    assert "body_digest" in message
    assert image_placeholder(OTHER_IMAGE) in message  # what was sent ...
    assert image_placeholder(IMAGE) in message  # ... and what was recorded
    assert MARKER not in message


def test_replay_with_a_different_verify_image_fails(recorded):
    cassette, _, service = recorded
    service.stop()
    other = PNG_MAGIC + secrets.token_bytes(2048)
    with (
        use_cassette(cassette),
        face_client("http://127.0.0.1:9") as client,
        pytest.raises(CannotOverwriteExistingCassetteException, match="body_digest"),
    ):
        client.liveness.create_with_verify_session(
            verify_image=other,
            liveness_operation_mode="PassiveActive",
            device_correlation_id=DEVICE,
            verify_confidence_threshold=0.6,
            consent=CONSENT_TOKEN,
        )


def test_replay_with_a_different_text_field_fails(recorded):
    cassette, _, service = recorded
    service.stop()
    with (
        use_cassette(cassette),
        face_client("http://127.0.0.1:9") as client,
        pytest.raises(CannotOverwriteExistingCassetteException, match="body_digest"),
    ):
        client.liveness.create_with_verify_session(
            verify_image=VERIFY_IMAGE,
            liveness_operation_mode="PassiveActive",
            device_correlation_id=DEVICE,
            verify_confidence_threshold=0.7,
            consent=CONSENT_TOKEN,
        )


def test_a_missing_cassette_fails_in_mode_none(tmp_path):
    with (
        use_cassette(tmp_path / "never-recorded.yaml"),
        face_client("http://127.0.0.1:9") as client,
        pytest.raises(CannotOverwriteExistingCassetteException),
    ):
        client.detection.detect(IMAGE)
    assert not (tmp_path / "never-recorded.yaml").exists()


# -- other credentials and the async client --------------------------------------------------------


@dataclass
class AccessToken:
    token: str
    expires_on: int


class Credential:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(AAD_TOKEN, 2**31)


def test_a_bearer_token_is_scrubbed_and_its_scheme_kept(service, tmp_path):
    cassette = tmp_path / "bearer.yaml"
    with (
        use_cassette(cassette, record_mode="all"),
        face_client(service.endpoint, api_key=None, credential=Credential()) as client,
    ):
        client.detection.detect(IMAGE)
    assert header(service.received[0].headers, "Authorization") == f"{BEARER} {AAD_TOKEN}"
    (entry,) = interactions(cassette)
    assert header(entry["request"]["headers"], "authorization") is None  # not even its scheme
    assert leaked(cassette.read_text()) == []
    assert check_paths([cassette]) == []
    service.stop()
    with use_cassette(cassette), face_client("http://127.0.0.1:9", credential=Credential(),
                                             api_key=None) as client:  # fmt: skip
        assert len(client.detection.detect(IMAGE)) == 1


async def test_the_async_client_records_and_replays(service, tmp_path):
    cassette = tmp_path / "async.yaml"

    def client() -> AsyncFaceClient:
        return AsyncFaceClient(
            service.endpoint, api_key=KEY, guard=policy(), retry=RetryPolicy(max_attempts=1)
        )

    with use_cassette(cassette, record_mode="all"):
        async with client() as live:
            session = await live.liveness.create_session(liveness_operation_mode="Passive")
            faces = await live.detection.detect(IMAGE)
    assert session.auth_token == SESSION_TOKEN
    assert leaked(cassette.read_text()) == []
    assert check_paths([cassette]) == []
    service.stop()
    with use_cassette(cassette):
        async with client() as replay:
            session = await replay.liveness.create_session(liveness_operation_mode="Passive")
            assert [f.face_rectangle for f in await replay.detection.detect(IMAGE)] == [
                f.face_rectangle for f in faces
            ]
            with pytest.raises(CannotOverwriteExistingCassetteException):
                await replay.detection.detect(OTHER_IMAGE)
    assert session.auth_token == PLACEHOLDER


# -- configuration ---------------------------------------------------------------------------------


def test_record_mode_comes_from_the_environment_and_defaults_to_none(monkeypatch):
    assert record_mode() == "none"
    assert record_mode({RECORD_MODE_ENV: ""}) == "none"
    assert record_mode({RECORD_MODE_ENV: " New_Episodes "}) == "new_episodes"
    monkeypatch.setenv(RECORD_MODE_ENV, "once")
    assert vcr_config()["record_mode"] == "once"
    monkeypatch.setenv(RECORD_MODE_ENV, "sometimes")
    with pytest.raises(ConfigurationError, match=RECORD_MODE_ENV):
        vcr_config()


def test_vcr_config_and_make_vcr():
    config = vcr_config()
    assert config["record_mode"] == "none"
    assert config["match_on"] == MATCH_ON == ("method", "path", "query_params", "body_digest")
    # A scrubber of its own per configuration (one id mapping per cassette).
    scrubber = config["before_record_request"].__self__
    assert isinstance(scrubber, CassetteScrubber)
    assert config["before_record_response"].__self__ is scrubber
    assert vcr_config()["before_record_request"].__self__ is not scrubber
    assert config["decode_compressed_response"] is True
    assert vcr_config(record_mode="once", serializer="json")["serializer"] == "json"
    vcr = make_vcr(record_mode="once")
    assert vcr.matchers["body_digest"] is body_digest
    assert vcr.matchers["query_params"] is query_params
    assert vcr.record_mode == "once"


def test_a_plain_vcr_built_from_the_config_works_once_the_matcher_is_registered(service, tmp_path):
    import vcr

    from faceguard.testing import register_matchers

    plain = register_matchers(vcr.VCR(**vcr_config(record_mode="all")))
    with (
        plain.use_cassette(str(tmp_path / "plain.yaml")),
        face_client(service.endpoint) as client,
    ):
        client.detection.detect(IMAGE)
    assert leaked((tmp_path / "plain.yaml").read_text()) == []


def test_without_vcrpy_a_configuration_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "vcr", None)  # makes `import vcr` fail
    with pytest.raises(ConfigurationError, match=r'pip install "faceguard\[testing\]"'):
        make_vcr()
    with pytest.raises(ConfigurationError, match="testing"):
        use_cassette("x.yaml")
    assert vcr_config()["match_on"] == MATCH_ON  # the plain config needs no vcrpy


def test_importing_faceguard_testing_does_not_import_vcrpy():
    code = (
        "import sys, faceguard, faceguard.testing\n"
        "faceguard.testing.vcr_config(); faceguard.testing.check_text('')\n"
        "print(sorted(m for m in sys.modules if m == 'vcr' or m.startswith('vcr.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"


# -- scrubbing and matching, unit by unit ----------------------------------------------------------


def vcr_request(body: bytes | str | None, content_type: str, **headers: str) -> VcrRequest:
    return VcrRequest(
        "POST",
        "https://x.cognitiveservices.azure.com/face/v1.2/detect?a=1",
        body,
        {"Content-Type": content_type, **headers},
    )


def multipart(boundary: str, image: bytes, mode: str = "Passive") -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="livenessOperationMode"\r\n\r\n'
            f'{mode}\r\n--{boundary}\r\nContent-Disposition: form-data; name="verifyImage"; '
            f'filename="verify.jpeg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )


@pytest.mark.parametrize(
    "encode",
    [
        lambda data: base64.b64encode(data).decode(),
        lambda data: "data:image/jpeg;base64," + base64.b64encode(data).decode(),
        lambda data: base64.urlsafe_b64encode(data).decode().rstrip("="),
    ],
    ids=["base64", "data-uri", "base64url"],
)
def test_base64_images_in_json_become_placeholders(encode):
    body = {"image": {"content": encode(IMAGE)}, "items": [encode(VERIFY_IMAGE), "QUJD"]}
    body["name"] = base64.b64encode(b"not an image at all, just text").decode()
    request = scrub_request(vcr_request(json.dumps(body), "application/json"))
    scrubbed = json.loads(request.body)
    assert scrubbed["image"]["content"] == image_placeholder(IMAGE)
    assert scrubbed["items"] == [image_placeholder(VERIFY_IMAGE), "QUJD"]
    assert scrubbed["name"] == body["name"]
    assert check_text(request.body.decode()) == []


def test_request_scrubbing_is_idempotent_and_keeps_only_the_content_type():
    request = vcr_request(
        IMAGE,
        "application/octet-stream",
        **{
            KEY_HEADER: KEY,
            "Authorization": f"{BEARER} {AAD_TOKEN}",
            "Cookie": "session=" + secrets.token_hex(8),
            "x-ms-client-request-id": str(uuid.uuid4()),
            "Content-Length": str(len(IMAGE)),
            "User-Agent": "faceguard/9.9 python/3.99 httpx/0.99 (Linux)",
            "Proxy-Authorization": " ".join(("Basic", secrets.token_hex(8))),
            "Accept-Encoding": "gzip",
        },
    )
    once = scrub_request(request)
    assert once.body == image_placeholder(IMAGE).encode()
    assert dict(once.headers) == {"Content-Type": "application/octet-stream"}
    twice = scrub_request(once)
    assert twice.body == once.body
    assert dict(twice.headers) == dict(once.headers)


def test_a_json_request_token_is_redacted():
    body = json.dumps({"sessionId": "s", TOKEN_FIELD: SESSION_TOKEN}, indent=2)
    scrubbed = scrub_request(vcr_request(body, "application/json"))
    assert json.loads(scrubbed.body)[TOKEN_FIELD] == PLACEHOLDER


def test_plain_json_bodies_are_left_alone():
    body = json.dumps({"faceIds": [ISSUED_FACE_ID], "mode": "matchPerson"}).encode()
    assert scrub_request(vcr_request(body, "application/json")).body == body


def test_body_digest_ignores_the_multipart_boundary_and_json_layout():
    first = vcr_request(multipart("aaa", IMAGE), "multipart/form-data; boundary=aaa")
    second = vcr_request(multipart("bbb", IMAGE), "multipart/form-data; boundary=bbb")
    body_digest(first, second)
    body_digest(scrub_request(first), second)  # a recording against a live request
    assert request_body_digest(first) == request_body_digest(scrub_request(second))
    left = vcr_request(json.dumps({"a": 1, "b": [1, 2]}), "application/json")
    right = vcr_request('{ "b": [1, 2], "a": 1 }', "application/json")
    body_digest(left, right)


def test_body_digest_tells_which_images_differ():
    sent = vcr_request(multipart("aaa", OTHER_IMAGE), "multipart/form-data; boundary=aaa")
    recorded = scrub_request(
        vcr_request(multipart("bbb", IMAGE), "multipart/form-data; boundary=bbb")
    )
    with pytest.raises(AssertionError) as failure:
        body_digest(sent, recorded)
    message = str(failure.value)
    assert image_placeholder(OTHER_IMAGE) in message
    assert image_placeholder(IMAGE) in message
    assert message.startswith("part 'verifyImage': ")
    text_only = vcr_request(multipart("ccc", IMAGE, mode="Active"), "multipart/form-data")
    with pytest.raises(AssertionError) as failure:
        body_digest(text_only, recorded)
    assert str(failure.value) == 'part \'livenessOperationMode\': "Active" != "Passive"'


def test_response_scrubbing():
    token_body = json.dumps(
        {"sessionId": "s", TOKEN_FIELD: SESSION_TOKEN, "nested": [{"access" + "_token": "t0k"}]}
    )
    response = {
        "status": {"code": 202, "message": "Accepted"},
        "headers": {
            "Content-Type": ["application/json; charset=utf-8"],
            "Content-Length": [str(len(token_body))],
            "apim-request-id": [str(uuid.uuid4())],
            "Date": ["Mon, 01 Jan 2026 00:00:00 GMT"],
            "x-envoy-upstream-service-time": ["12"],
            "x-envoy-decorator-operation": ["face"],
            "Set-Cookie": ["a=b", "c=d"],
            "x-ms-error-code": ["Busy"],
            "Retry-After": ["3"],
            "Operation-Location": ["https://x/operations/1"],
        },
        "body": {"string": token_body},
    }
    scrubbed = scrub_response(response)
    assert sorted(scrubbed["headers"]) == [
        "Content-Length",
        "Content-Type",
        "Operation-Location",
        "Retry-After",
        "x-ms-error-code",
    ]
    body = scrubbed["body"]["string"]
    assert isinstance(body, str)
    assert json.loads(body) == {
        "sessionId": "s",
        TOKEN_FIELD: PLACEHOLDER,
        "nested": [{"access" + "_token": PLACEHOLDER}],
    }
    assert scrubbed["headers"]["Content-Length"] == [str(len(body))]
    image = scrub_response(
        {
            "status": {"code": 200, "message": "OK"},
            "headers": {"content-type": ["application/octet-stream"]},
            "body": {"string": SESSION_IMAGE},
        }
    )
    assert image["body"]["string"] == image_placeholder(SESSION_IMAGE).encode()
    assert scrub_response(image) == image  # idempotent


# -- the hygiene check -----------------------------------------------------------------------------


def fake_azure_key() -> str:
    return base64.b64encode(secrets.token_bytes(63)).decode()  # 84 base64 characters


def leaky_cassette(jpeg_base64: str) -> str:
    lines = [
        "interactions:",
        "- request:",
        "    body: null",
        "    headers:",
        f"      {KEY_HEADER}:",
        f"      - {KEY}",
        "      Authorization:",
        f"      - {BEARER} {AAD_TOKEN}",
        "    method: POST",
        "    uri: https://x.cognitiveservices.azure.com/face/v1.2/detect",
        "  response:",
        "    body:",
        '      string: \'{"sessionId": "s", "' + TOKEN_FIELD + '": "' + SESSION_TOKEN + "\"}'",
        "    headers: {}",
        "- request:",
        "    body: " + jpeg_base64,
        "    method: POST",
        "version: 1",
    ]
    return "\n".join(lines) + "\n"


def clean_cassette() -> str:
    lines = [
        "interactions:",
        "- request:",
        "    body: " + image_placeholder(IMAGE),
        "    headers:",
        f"      {KEY_HEADER}:",
        f"      - '{PLACEHOLDER}'",
        "      Authorization:",
        f"      - {BEARER} {PLACEHOLDER}",
        "  response:",
        "    body:",
        "      string: '{\""
        + TOKEN_FIELD
        + '": "'
        + PLACEHOLDER
        + '", "faceId": "'
        + ISSUED_FACE_ID
        + "\"}'",
        "version: 1",
    ]
    return "\n".join(lines) + "\n"


def test_a_leaky_cassette_is_caught_with_file_line_and_kind(tmp_path):
    cassette = tmp_path / "leaky.yaml"
    cassette.write_text(leaky_cassette(base64.b64encode(IMAGE).decode()))
    findings = check_paths([tmp_path])
    by_line = {f.line: f for f in findings}
    assert by_line[6].kind == "subscription-key"
    assert by_line[8].kind in {"authorization", "bearer-token"}
    assert by_line[13].kind in {"jwt", "auth-token"}
    assert by_line[16].kind == "image-bytes" and "JPEG" in by_line[16].message
    assert set(by_line) == {6, 8, 13, 16}
    assert all(f.path == str(cassette) for f in findings)
    for finding in findings:  # a finding never repeats the secret it found
        assert leaked(str(finding)) == []
        assert str(finding).startswith(f"{cassette}:{finding.line}: {finding.kind}: ")


def test_a_clean_cassette_passes(tmp_path):
    (tmp_path / "clean.yaml").write_text(clean_cassette())
    assert check_paths([tmp_path]) == []


def yaml_binary(data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    lines = [encoded[i : i + 76] for i in range(0, len(encoded), 76)]
    return "body:\n  string: !!binary |\n" + "".join(f"    {line}\n" for line in lines)


def escaped(data: bytes, template: str) -> str:
    return "".join(template.format(byte) for byte in data)


BMP = bmp_header(3000) + secrets.token_bytes(200)
SLASH = "\\"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param((b"body: " + IMAGE[:64]).decode("latin-1"), "JPEG bytes (raw)", id="jpeg"),
        pytest.param(
            (b"body: " + VERIFY_IMAGE[:64]).decode("latin-1"), "PNG bytes (raw)", id="png"
        ),
        pytest.param("body: " + (GIF_MAGIC + b"xyz").decode(), "GIF bytes (raw)", id="gif"),
        pytest.param((b"body: " + BMP[:40]).decode("latin-1"), "BMP bytes (raw)", id="bmp"),
        pytest.param(
            ("body: " + IMAGE[:16].decode("latin-1")).encode().decode("latin-1"),
            "JPEG bytes (mis-decoded UTF-8)",
            id="jpeg-as-utf8",
        ),
        pytest.param(
            ("body: " + VERIFY_IMAGE[:16].decode("latin-1")).encode().decode("latin-1"),
            "PNG bytes (mis-decoded UTF-8)",
            id="png-as-utf8",
        ),
        pytest.param(
            "body: " + escaped(IMAGE[:8], SLASH + "x{:02x}"), "JPEG bytes (escaped)", id="x-escapes"
        ),
        pytest.param(
            "body: " + escaped(IMAGE[:8], SLASH + "x{:02X}"), "JPEG bytes (escaped)", id="X-escapes"
        ),
        pytest.param(
            '"' + escaped(IMAGE[:8], SLASH * 2 + "x{:02x}") + '"', "JPEG", id="double-escaped"
        ),
        pytest.param(
            "body: " + escaped(IMAGE[:8], SLASH + "u{:04x}"), "JPEG bytes (escaped)", id="u-escapes"
        ),
        pytest.param(
            "body: " + escaped(IMAGE[:8], SLASH + "{:03o}"), "JPEG bytes (escaped)", id="octal"
        ),
        pytest.param("body: " + escaped(IMAGE[:8], "%{:02X}"), "JPEG bytes (escaped)", id="url"),
        pytest.param(
            "body: " + escaped(VERIFY_IMAGE[:8], SLASH + "x{:02x}"),
            "PNG bytes (escaped)",
            id="png-x",
        ),
        pytest.param("body: " + IMAGE[:32].hex(), "JPEG bytes (hex)", id="jpeg-hex"),
        pytest.param("body: " + VERIFY_IMAGE[:32].hex(), "PNG bytes (hex)", id="png-hex"),
        pytest.param("body: " + (GIF_MAGIC + bytes(20)).hex(), "GIF bytes (hex)", id="gif-hex"),
        pytest.param("body: " + str(list(IMAGE[:8])), "JPEG bytes (byte list)", id="jpeg-list"),
        pytest.param(
            "body: " + str(list(VERIFY_IMAGE[:8])), "PNG bytes (byte list)", id="png-list"
        ),
        pytest.param(
            "body: " + ", ".join(hex(b) for b in IMAGE[:8]), "JPEG bytes (byte", id="0x-list"
        ),
        pytest.param(
            '{"image": "' + base64.b64encode(IMAGE).decode() + '"}', "JPEG bytes (base64", id="b64"
        ),
        pytest.param('{"image": "' + b64url(IMAGE) + '"}', "JPEG bytes (base64", id="b64url"),
        pytest.param(
            '{"image": "' + base64.b64encode(IMAGE).decode().replace("/", SLASH + "/") + '"}',
            "JPEG bytes (base64",
            id="b64-escaped-slashes",
        ),
        pytest.param(
            "image: " + base64.b64encode(VERIFY_IMAGE).decode(), "PNG bytes (base64", id="png-b64"
        ),
        pytest.param(
            "image: " + base64.b64encode(GIF_MAGIC + bytes(40)).decode(),
            "GIF bytes (base64",
            id="gif-b64",
        ),
        pytest.param(
            "image: " + base64.b64encode(BMP).decode(), "BMP bytes (base64 Qk)", id="bmp-b64"
        ),
        pytest.param(yaml_binary(IMAGE), "JPEG", id="jpeg-binary"),
        pytest.param(yaml_binary(BMP), "BMP bytes (YAML !!binary)", id="bmp-binary"),
        pytest.param(
            "string: !!binary " + base64.b64encode(BMP).decode(), "BMP", id="bmp-binary-inline"
        ),
    ],
)
def test_image_bytes_are_found_in_every_encoding(tmp_path, content, expected):
    path = tmp_path / "fixture.yaml"
    path.write_bytes(content.encode("latin-1"))
    findings = check_paths([path])
    assert findings, content[:60]
    assert {f.kind for f in findings} == {"image-bytes"}
    assert any(expected in f.message for f in findings), [str(f) for f in findings]


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ('{"headers": {"' + KEY_HEADER + '": ["' + KEY + '"]}}', "subscription-key"),
        ('{"headers": {"' + KEY_HEADER + '": [\n  "' + KEY + '"\n]}}', "subscription-key"),
        (f"uri: https://x/face/v1.2/detect?subscription-key={KEY}", "subscription-key"),
        (f"authorization: {BEARER} {AAD_TOKEN}", "authorization"),
        (f"text: the header was {BEARER} {AAD_TOKEN}", "bearer-token"),
        (f"token: {SESSION_TOKEN}", "jwt"),
        (f"{TOKEN_FIELD}: abc123def456", "auth-token"),
        ('"{' + SLASH + '"' + TOKEN_FIELD + SLASH + '":' + SLASH + '"abc123' + SLASH + '"}"',
         "auth-token"),
        ('{"apiKey": "' + KEY + '"}', "key-like-value"),
        ('{"faceApiKey": "' + fake_azure_key() + '"}', "key-like-value"),
        (f"client_secret: {KEY}", "key-like-value"),
    ],
)  # fmt: skip
def test_secrets_are_found(content, kind):
    findings = check_text(content, "fixture.json")
    assert [f.kind for f in findings] == [kind], [str(f) for f in findings]
    assert leaked(str(findings[0])) == []


@pytest.mark.parametrize(
    "content",
    [
        '{"name": "' + KEY_HEADER + '",\n "in": "header", "type": "string"}',
        '{"' + TOKEN_FIELD + 'TimeToLiveInSeconds": 600}',
        '{"' + TOKEN_FIELD + '": {"type": "string", "description": "a token"}}',
        f"{BEARER} token to provide authentication; it has limited permissions",
        f"{KEY_HEADER}: '{PLACEHOLDER}'",
        f"{KEY_HEADER}: REDACTED",
        f"{KEY_HEADER}: ${{FACE_KEY}}",
        f"Authorization: {BEARER} {PLACEHOLDER}",
        f"{TOKEN_FIELD}: null",
        "body: " + image_placeholder(IMAGE),
        '{"faceId": "' + ISSUED_FACE_ID + '", "persistedFaceId": "' + ISSUED_FACE_ID.upper() + '"}',
        "note: " + "Qk" + "A" * 80,  # a long Qk string that is no BMP
        '{"recognitionModel": "recognition_04", "detectionModel": "detection_03"}',
        "GIF is one of the formats; so are JPEG, PNG and BMP",
    ],
)
def test_look_alikes_are_not_findings(content):
    assert check_text(content) == []


def test_directories_are_searched_for_cassettes_and_fixtures_only(tmp_path):
    leaky = leaky_cassette(base64.b64encode(IMAGE).decode())
    (tmp_path / "notes.txt").write_text(leaky)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "packed.json").write_text(leaky)
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "nested" / "deeper" / "tape.YML").write_text(leaky)
    (tmp_path / "nested" / "fixture.json").write_text(clean_cassette())
    assert {f.path for f in check_paths([tmp_path])} == {
        str(tmp_path / "nested" / "deeper" / "tape.YML")
    }
    # a file named explicitly is read whatever its suffix
    assert {f.path for f in check_paths([tmp_path / "notes.txt"])} == {str(tmp_path / "notes.txt")}
    with pytest.raises(FileNotFoundError):
        check_paths([tmp_path / "missing"])


def run_cli(capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, str, str]:
    code = main(["testing", "check-cassettes", *paths])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_exits_1_on_findings_and_0_when_clean(tmp_path, capsys, monkeypatch):
    leaky = tmp_path / "leaky" / "tape.yaml"
    leaky.parent.mkdir()
    leaky.write_text(leaky_cassette(base64.b64encode(IMAGE).decode()))
    clean = tmp_path / "clean" / "tape.yaml"
    clean.parent.mkdir()
    clean.write_text(clean_cassette())

    code, out, _ = run_cli(capsys, str(tmp_path / "leaky"))
    assert code == 1
    assert f"{leaky}:6: subscription-key: " in out
    assert f"{leaky}:16: image-bytes: JPEG" in out
    assert "FOUND: 4 problem(s) in 1 of 1 file(s)" in out
    assert leaked(out) == []

    code, out, _ = run_cli(capsys, str(tmp_path / "clean"), str(clean))
    assert (code, out) == (0, "OK: 2 file(s) checked, no key, token, image bytes or id in clear\n")

    code, out, err = run_cli(capsys, str(tmp_path / "nowhere"))
    assert code == 2 and out == ""
    assert "nowhere" in err

    monkeypatch.chdir(tmp_path / "clean")
    assert run_cli(capsys)[0] == 0  # no path: the current directory


def test_the_cli_entry_point(tmp_path):
    (tmp_path / "tape.yaml").write_text(leaky_cassette(base64.b64encode(IMAGE).decode()))
    result = subprocess.run(
        [sys.executable, "-m", "faceguard", "testing", "check-cassettes", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "subscription-key" in result.stdout
    assert KEY not in result.stdout + result.stderr


def test_the_repository_holds_no_key_token_or_image():
    """What faceguard's CI runs over its own cassettes and fixtures."""
    findings = check_paths([REPO / "tests", REPO / "examples"])
    assert [str(f) for f in findings] == []


def test_this_file_builds_its_secrets_at_runtime():
    assert [str(f) for f in check_paths([Path(__file__)])] == []


def test_the_placeholder_is_the_sha256_of_the_bytes():
    assert image_placeholder(IMAGE) == "sha256:" + hashlib.sha256(IMAGE).hexdigest()
