"""Cassettes hold no faceId, personId or persistedFaceId in clear (GUARD.md §5.4).

The attacker's side: a loopback Face service that issues fresh random ids on every run and
writes them in every spelling (lower and upper case, 32 bare hex digits, in braces,
URL-encoded) in response bodies, nested lists, error messages and headers; the client puts
them back in request bodies, URL paths (``/persons/{personId}``) and query strings
(``start=``). The cassette recorded from it must hold none of them, only stable placeholders
(the same id gives the same placeholder wherever it recurs, and recording the same flow twice
gives the same file), the replay must still match request by request, and
``faceguard testing check-cassettes`` must fail on a raw id in any spelling, naming the file
and line, never the id.
"""

from __future__ import annotations

import inspect
import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException

import _guard_kit
from _guard_kit import policy
from faceguard import FaceClient, NotFoundError, RetryPolicy
from faceguard.__main__ import main
from faceguard.testing import (
    RECORD_MODE_ENV,
    check_text,
    scrub_request,
    scrub_response,
    use_cassette,
)
from faceguard.testing._cassettes import CassetteScrubber

IMAGE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
GROUP = "cassette-ids"
# A faceId the test itself names (never issued by the service during this run): the same
# value on every run, so a replay can match it. Built, not written out, like every id here.
OWN_FACE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "faceguard:test_cassette_ids:own-face"))
OWN_PERSON_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "faceguard:test_cassette_ids:own-person"))
ESCAPED_DASH = "@@dash@@"
PLACEHOLDER_RE = re.compile(r"00000000-face-4000-[89][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)


def canonical(text: str) -> str:
    """Any spelling of a UUID in ``text`` becomes its 32 lower-case hex digits."""
    return re.sub(r"-|%2[dD]|%252[dD]|\\+u002[dD]", "", text).lower()


def consent(endpoint: str, bindings: list[tuple[str, str, str | None]] | None = None) -> str:
    """The kit's standing token; where the kit's tokens name the Face resources they are for
    (``aud``), it names this loopback service's too (a free port no list can know)."""
    extra: dict[str, Any] = {}
    if "endpoints" in inspect.signature(_guard_kit.token).parameters:
        extra["endpoints"] = [*getattr(_guard_kit, "ENDPOINTS", ()), endpoint]
    return _guard_kit.token(bindings=bindings, **extra)


@pytest.fixture(autouse=True)
def _no_record_mode_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RECORD_MODE_ENV, raising=False)


# -- a loopback service issuing fresh ids --------------------------------------------------------


@dataclass
class IdService:
    """Face v1.2 answers over real HTTP with fresh ids per instance, in every spelling."""

    face: str = field(default_factory=lambda: str(uuid.uuid4()))
    other_face: str = field(default_factory=lambda: str(uuid.uuid4()))
    person: str = field(default_factory=lambda: str(uuid.uuid4()))
    persisted: str = field(default_factory=lambda: str(uuid.uuid4()))
    server: ThreadingHTTPServer | None = None
    endpoint: str = ""
    paths: list[str] = field(default_factory=list)

    def renew(self) -> None:
        """Fresh ids, as a real service issues on every run (same address, so the URLs of two
        recordings do not differ by their port)."""
        self.face, self.other_face, self.person, self.persisted = (
            str(uuid.uuid4()) for _ in range(4)
        )

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.face, self.other_face, self.person, self.persisted)

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Any:
        path = path.removeprefix("/face/v1.2")
        persons = f"/persongroups/{GROUP}/persons"
        person = f"{persons}/{self.person}"
        if method == "POST" and path == "/detect":
            faces = [{"faceId": self.face}, {"faceId": self.other_face.upper()}]
            rect = {"top": 1, "left": 2, "width": 30, "height": 40}
            return 200, [{**f, "faceRectangle": rect} for f in faces], {}
        if method == "POST" and path == "/verify":
            sent = json.loads(body)
            echoed = f"compared {sent['faceId1']} with {{{sent['faceId2']}}}"
            return 200, {"isIdentical": False, "confidence": 0.1, "note": echoed}, {}
        if method == "POST" and path == persons:
            return 200, {"personId": self.person}, {"Location": person}
        if method == "POST" and path == f"{person}/persistedfaces":
            return 200, {"persistedFaceId": self.persisted.upper()}, {}
        if method == "GET" and path == person:
            return (
                200,
                {
                    "personId": self.person.upper(),
                    "name": "ada",
                    "persistedFaceIds": [self.persisted],
                    "userData": f"face {self.persisted.replace('-', '')} of {{{self.person}}}",
                    # JSON may escape any character: dashes written \u002d on the wire.
                    "alias": self.other_face.replace("-", ESCAPED_DASH),
                },
                {},
            )
        if method == "GET" and path == persons:
            if query.get("start"):
                return 200, [], {}
            return 200, [{"personId": self.person, "name": "ada", "persistedFaceIds": []}], {}
        if method == "GET" and path.startswith(f"{person}/persistedfaces/"):
            message = (
                f"Persisted face {{{self.persisted.upper()}}} of person "
                f"{quote(self.person).replace('-', '%2D')} is not found."
            )
            error = {"error": {"code": "PersistedFaceNotFound", "message": message}}
            return 404, error, {"x-ms-error-code": "PersistedFaceNotFound"}
        return 404, {"error": {"code": "NotFound", "message": f"{method} {path}"}}, {}

    def start(self) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                url = urlsplit(self.path)
                service.paths.append(self.path)
                status, payload, headers = service.answer(
                    self.command, url.path, parse_qs(url.query), body
                )
                content = json.dumps(payload).replace(ESCAPED_DASH, "\\u002d").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.send_header("apim-request-id", str(uuid.uuid4()))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_DELETE = do_PATCH = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def service() -> Iterator[IdService]:
    started = IdService()
    started.start()
    try:
        yield started
    finally:
        started.stop()


@dataclass
class Flow:
    face_ids: list[str]
    person_id: str
    persisted_face_id: str
    person: Any
    listed: list[Any]
    missing: NotFoundError


def flow(endpoint: str) -> Flow:
    """Ids the service issued go back in bodies, paths and queries; one the test names too."""
    with FaceClient(
        endpoint, api_key="k" * 32, guard=policy(), retry=RetryPolicy(max_attempts=1), timeout=5
    ) as client:
        standing = consent(endpoint)
        faces = client.detection.detect(IMAGE, return_face_id=True, consent=standing)
        face_ids = [f.face_id for f in faces]
        client.recognition.verify_face_to_face(face_ids[0], OWN_FACE_ID, consent=standing)
        person_id = client.person_groups.create_person(GROUP, name="ada").person_id
        enroll = consent(endpoint, [("personGroup", GROUP, person_id)])
        added = client.person_groups.add_face(GROUP, person_id, IMAGE, consent=enroll)
        person = client.person_groups.get_person(GROUP, person_id)
        listed = list(client.person_groups.list_persons(GROUP, top=1))
        with pytest.raises(NotFoundError) as missing:
            client.person_groups.get_face(GROUP, person_id, added.persisted_face_id)
        with pytest.raises(NotFoundError):  # an id the test names, in the path this time
            client.person_groups.get_person(GROUP, OWN_PERSON_ID)
    return Flow(face_ids, person_id, added.persisted_face_id, person, listed, missing.value)


def record(service: IdService, path: Path, **overrides: Any) -> Flow:
    with use_cassette(path, record_mode="all", **overrides):
        return flow(service.endpoint)


def leaked(text: str, ids: tuple[str, ...]) -> list[int]:
    flat = canonical(text)
    return [i for i, raw in enumerate(ids) if canonical(raw) in flat]


# -- recording ---------------------------------------------------------------------------------


def test_the_cassette_holds_no_issued_or_named_id_in_any_spelling(service, tmp_path):
    cassette = tmp_path / "ids.yaml"
    live = record(service, cassette)

    # The ids really travelled: the client got them in clear and sent them back in paths.
    assert live.face_ids == [service.face, service.other_face.upper()]
    assert live.person_id == service.person
    assert any(f"/persons/{service.person}/persistedfaces/" in p for p in service.paths)
    assert any(f"start={service.person}" in p for p in service.paths)
    text = cassette.read_text()
    assert leaked(text, (*service.ids, OWN_FACE_ID, OWN_PERSON_ID)) == []
    assert PLACEHOLDER_RE.search(text)


def test_the_same_id_gets_the_same_placeholder_everywhere(service, tmp_path):
    cassette = tmp_path / "ids.yaml"
    record(service, cassette)
    recorded = yaml.safe_load(cassette.read_text())["interactions"]

    created = next(i for i in recorded if i["request"]["uri"].endswith(f"/{GROUP}/persons"))
    person = json.loads(created["response"]["body"]["string"])["personId"]
    assert PLACEHOLDER_RE.fullmatch(person)
    uris = [i["request"]["uri"] for i in recorded]
    assert sum(f"/persons/{person}" in u for u in uris) == 3  # add face, get, get face
    assert any(f"start={person}" in u for u in uris)
    got = next(i for i in recorded if i["request"]["uri"].endswith(f"/persons/{person}"))
    body = json.loads(got["response"]["body"]["string"])
    assert body["personId"] == person.upper()  # the service's spelling, kept
    assert f"{{{person}}}" in body["userData"]
    # ... whatever the spelling: bare hex stays bare, a JSON-escaped dash stays escaped.
    assert re.search(r"face 00000000face4000[89][0-9a-f]{15} of", body["userData"])
    escaped = r"00000000\\u002dface\\u002d4000\\u002d[89][0-9a-f]{3}\\u002d[0-9a-f]{12}"
    assert re.search(escaped, got["response"]["body"]["string"])
    headers = {k.lower(): v for k, v in created["response"]["headers"].items()}
    assert headers["location"][0].endswith(f"/persons/{person}")
    # Two different ids never share a placeholder.
    detect = next(i for i in recorded if "/detect" in i["request"]["uri"])
    first, second = (f["faceId"] for f in json.loads(detect["response"]["body"]["string"]))
    assert canonical(first) != canonical(second) != canonical(person)


def test_recording_the_same_flow_twice_changes_no_line(service, tmp_path):
    texts, issued = [], []
    for name in ("first.yaml", "second.yaml"):
        service.renew()
        issued.append(service.ids)
        record(service, tmp_path / name)
        texts.append((tmp_path / name).read_text())

    assert set(issued[0]).isdisjoint(issued[1])
    assert texts[0] == texts[1]


def test_re_recording_in_place_changes_no_line(service, tmp_path):
    """``FACEGUARD_RECORD_MODE=all`` over an existing cassette, as ``nox -s record`` does."""
    cassette = tmp_path / "ids.yaml"
    record(service, cassette, drop_unused_requests=True)
    before = cassette.read_text()
    service.renew()
    record(service, cassette, drop_unused_requests=True)

    assert cassette.read_text() == before
    assert leaked(before, service.ids) == []


# -- replay ------------------------------------------------------------------------------------


def test_the_replay_matches_request_by_request(service, tmp_path):
    cassette = tmp_path / "ids.yaml"
    record(service, cassette)
    endpoint = service.endpoint
    service.stop()

    with use_cassette(cassette) as tape:
        replayed = flow(endpoint)

    assert tape.all_played
    assert all(PLACEHOLDER_RE.fullmatch(i) for i in replayed.face_ids)
    assert PLACEHOLDER_RE.fullmatch(replayed.person_id)
    assert replayed.person.person_id == replayed.person_id.upper()
    assert [p.person_id for p in replayed.listed] == [replayed.person_id]
    assert replayed.missing.error_code == "PersistedFaceNotFound"


def test_a_replay_naming_another_id_fails(service, tmp_path):
    """The matcher compares placeholders: another person's id finds no recording."""
    cassette = tmp_path / "ids.yaml"
    live = record(service, cassette)
    service.stop()

    with (
        use_cassette(cassette),
        FaceClient(
            service.endpoint, api_key="k" * 32, guard=policy(), retry=RetryPolicy(max_attempts=1)
        ) as client,
        pytest.raises(CannotOverwriteExistingCassetteException),
    ):
        client.person_groups.get_person(GROUP, str(uuid.uuid4()))
    assert live.person_id  # the recorded get used the issued id, replaced by its placeholder


def test_appending_to_a_cassette_never_reuses_a_placeholder(tmp_path):
    cassette = tmp_path / "ids.yaml"
    first, second = IdService(), IdService()
    first.start()
    second.start()
    try:
        record(first, cassette)
        with (
            use_cassette(cassette, record_mode="new_episodes"),
            FaceClient(second.endpoint, api_key="k" * 32, guard=policy(), timeout=5) as client,
        ):
            # Only the create is new: the placeholder it gets is a new one.
            client.person_groups.create_person(GROUP, name="bob")
    finally:
        first.stop()
        second.stop()
    text = cassette.read_text()
    recorded = yaml.safe_load(text)["interactions"]
    creates = [i for i in recorded if i["request"]["uri"].endswith(f"/{GROUP}/persons")]
    people = [json.loads(i["response"]["body"]["string"])["personId"] for i in creates]

    assert len(people) == 2 and people[0] != people[1]
    # The new person's placeholder names nothing the first recording held (no face, no
    # persisted face): the new id is numbered after the cassette's placeholders.
    (added,) = [i for i in recorded if people[1] in json.dumps(i)]
    assert added is creates[1]
    assert canonical(people[1]) not in canonical(text.replace(people[1], ""))
    assert leaked(text, (*first.ids, *second.ids)) == []


def test_the_plain_hooks_replace_ids_too(service):
    """``scrub_request``/``scrub_response`` used as vcrpy hooks without faceguard's
    ``use_cassette`` (no per-cassette state) give each id a placeholder derived from it."""
    from vcr.request import Request

    raw = service.person
    request = Request(
        "POST",
        f"http://h/face/v1.2/persongroups/g/persons/{raw.upper()}/persistedfaces?start={raw}",
        json.dumps({"faceIds": [raw.replace("-", "")]}).encode(),
        {"Content-Type": "application/json", "X-Trace": raw},
    )
    scrubbed = scrub_request(request)
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"], "Location": [f"/persons/{raw}"]},
        "body": {"string": json.dumps({"personId": raw, raw: [raw.upper()]})},
    }
    scrubbed_response = scrub_response(response)

    texts = scrubbed.uri + str(scrubbed.body) + str(scrubbed.headers) + str(scrubbed_response)
    assert leaked(texts, (raw,)) == []
    assert scrub_request(scrubbed).uri == scrubbed.uri  # idempotent
    # No state: the id has one placeholder, whether a response or a request names it first,
    # and whatever was scrubbed before (in this cassette or any other).
    (placeholder,) = set(PLACEHOLDER_RE.findall(scrubbed.uri.lower()))
    answered = json.loads(scrubbed_response["body"]["string"])
    assert answered["personId"] == placeholder
    fresh = str(uuid.uuid4())
    first = scrub_response({**response, "body": {"string": json.dumps({"personId": fresh})}})
    named = scrub_request(Request("GET", f"http://h/persons/{fresh}", b"", {}))
    assert json.loads(first["body"]["string"])["personId"] in named.uri
    # ... and it is the one any cassette's own scrubber gives an id a test names.
    elsewhere = CassetteScrubber().request(Request("GET", f"http://h/persons/{fresh}", b"", {}))
    assert elsewhere.uri == named.uri


# -- the check -----------------------------------------------------------------------------------


def spellings(raw: str) -> dict[str, str]:
    bare = raw.replace("-", "")
    return {
        "lower": raw,
        "upper": raw.upper(),
        "bare": bare,
        "bare upper": bare.upper(),
        "braces": "{" + raw + "}",
        "url-encoded braces": quote("{" + raw + "}"),
        "url-encoded dashes": raw.replace("-", "%2D"),
        "double-encoded dashes": raw.replace("-", "%252d"),
        "mixed case": raw[:18].upper() + raw[18:],
        "JSON-escaped dashes": raw.replace("-", "\\u002d"),
        "JSON-escaped dashes, escaped again": raw.replace("-", "\\\\u002D"),
    }


@pytest.mark.parametrize("form", list(spellings(str(uuid.uuid4()))))
@pytest.mark.parametrize(
    "where",
    ["uri path", "query", "json body", "escaped json body", "header", "free text"],
)
def test_check_cassettes_fails_on_a_raw_id(tmp_path, capsys, form, where):
    raw = spellings(str(uuid.uuid4()))[form]
    line = {
        "uri path": f"    uri: https://x/face/v1.2/persongroups/g/persons/{raw}",
        "query": f"    uri: https://x/face/v1.2/persongroups/g/persons?start={raw}&top=1",
        "json body": f'      string: \'{{"faceId":"{raw}"}}\'',
        "escaped json body": f'      string: "{{\\"persistedFaceIds\\": [\\"{raw}\\"]}}"',
        "header": f"      Location:\n      - /persons/{raw}",
        "free text": f"      string: 'Person {raw} is not found.'",
    }[where]
    cassette = tmp_path / "leaky.yaml"
    cassette.write_text(f"interactions:\n- request:\n    method: GET\n{line}\nversion: 1\n")

    status = main(["testing", "check-cassettes", str(tmp_path)])
    out = capsys.readouterr().out

    assert status == 1
    assert f"{cassette}:" in out and "raw-id" in out
    (finding,) = [f for f in check_text(cassette.read_text(), str(cassette))]
    assert finding.kind == "raw-id" and finding.line == 4 + (where == "header")
    assert canonical(raw) not in canonical(out)


def test_check_cassettes_passes_a_recorded_cassette(service, tmp_path, capsys):
    record(service, tmp_path / "ids.yaml")

    assert main(["testing", "check-cassettes", str(tmp_path)]) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content",
    [
        "digest: sha256:" + "ab" * 32,  # a 64-hex digest is no id
        "face: 00000000-face-4000-8000-000000000001",  # a placeholder
        "face: 00000000FACE40009ABC0123456789AB",  # a placeholder, bare and upper case
        "boundary: faceguard-cassette-boundary",
        "hash: " + "a1" * 20,  # 40 hex digits (SHA-1)
    ],
)
def test_check_cassettes_look_alikes_are_not_ids(content):
    assert [f.kind for f in check_text(content)] == []
