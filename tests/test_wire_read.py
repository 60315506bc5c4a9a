"""The wire check's parts, one refusal at a time (issue 11 §1).

``tests/test_wire_guard.py`` attacks through a client, where several checks overlap (httpx
normalises dot segments; a swapped container also changes the path): good for the class,
blind to one check going missing. Here each rule of ``read_request`` and ``check_wire`` is
driven alone, on raw bytes and on specs whose own guard info disagrees with their request
(the "spec vouching for itself" case), so that dropping any one of them turns a test red.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from faceguard import GuardError, PersonalDataError, UnknownRouteError
from faceguard._guard._override import Override
from faceguard._guard._wire import WireRequest, read_request
from faceguard._guard._wire_check import check_wire
from faceguard._operations import detection, liveness, recognition
from faceguard._operations._kinds import LARGE_PERSON_GROUPS
from faceguard._transport._spec import RequestSpec

FACE_A = "c5c24a82-6845-4031-9d5d-978df9175426"
FACE_B = "015839fb-fbd9-4f79-ace9-7675fc2f1dd9"
PERSON = "25985303-c537-4467-b41d-bdb45cd95ca1"
JSON = [(b"content-type", b"application/json")]
OCTETS = [(b"content-type", b"application/octet-stream")]
JPEG = b"\xff\xd8\xff\xe0" + bytes(2000)


def read(
    method: str,
    path: bytes,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    content: bytes = b"",
    **kwargs: Any,
) -> WireRequest:
    return read_request(
        method, path, query, JSON if headers is None else headers, content, **kwargs
    )


def wire_of(spec: RequestSpec[Any]) -> tuple[WireRequest, bytes]:
    """The canonical read of the request faceguard builds for ``spec``, and its body."""
    if spec.json is not None:
        content = json.dumps(spec.json, separators=(",", ":")).encode()
        headers = JSON
    else:
        content = spec.content or b""
        headers = [(b"content-type", (spec.content_type or "application/octet-stream").encode())]
    path = ("/face/v1.2" + spec.route.format_map(dict(spec.path_params))).encode()
    query = "&".join(f"{k}={v}" for k, v in spec.query.items()).encode()
    return read_request(spec.method, path, query, headers, content), content


# -- paths ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        b"/face/v1.2/%2564etect",  # double encoding: still '%' after one decoding
        b"/face/v1.2/%ff",  # not UTF-8
        b"/face/v1.2/detect;x",
        b"/face/v1.2/de%00tect",
        b"/face/v1.2/de\\tect",
    ],
)
def test_paths_that_are_not_plain_after_one_decoding_are_denied(path: bytes) -> None:
    with pytest.raises(UnknownRouteError, match=r"not UTF-8|encoded, control"):
        read("POST", path, content=JPEG)


@pytest.mark.parametrize(
    "path", [b"/face/v1.2//detect", b"/face/v1.2/./detect", b"/face/v1.2/x/../detect"]
)
def test_empty_and_dot_segments_are_denied_before_matching(path: bytes) -> None:
    with pytest.raises(UnknownRouteError, match="empty or dot segments"):
        read("POST", path, content=JPEG)


def test_an_unknown_route_under_the_prefix_is_denied_by_name() -> None:
    with pytest.raises(UnknownRouteError, match="does not know"):
        read("POST", b"/face/v1.2/detect/extra")
    with pytest.raises(UnknownRouteError, match="does not know"):
        read("PUT", b"/face/v1.2/persongroups/g/persons/p/extra")


def test_route_parameters_match_one_plain_segment() -> None:
    wire = read("GET", b"/face/v1.2/LargePersonGroups/g1/Persons/p1")
    assert wire.route.template == "/largepersongroups/{largePersonGroupId}/persons/{personId}"
    assert dict(wire.path_params) == {"largePersonGroupId": "g1", "personId": "p1"}
    verb = read("POST", b"/contentsafety/text/blocklists/b1:removeBlocklistItems", content=b"{}")
    assert dict(verb.path_params) == {"blocklistName": "b1"}
    with pytest.raises(UnknownRouteError):  # the ':verb' needs a name before it
        read("POST", b"/contentsafety/text/blocklists/:removeBlocklistItems", content=b"{}")
    with pytest.raises(UnknownRouteError):  # a ':' inside a parameter is no parameter
        read("GET", b"/face/v1.2/persongroups/a:b")


def test_a_registered_endpoint_prefix_is_the_only_place_a_service_path_may_start() -> None:
    path = b"/gateway/face/v1.2/persongroups"
    assert read("GET", path, prefixes=("/gateway", "")).route.template == "/persongroups"
    with pytest.raises(UnknownRouteError):
        read("GET", path)


def test_a_repr_names_the_route_only() -> None:
    wire = read("POST", b"/face/v1.2/verify", content=json.dumps({"faceId1": FACE_A}).encode())
    assert repr(wire) == "WireRequest(POST /verify)"


# -- headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([(b"Content-Type", b"application/json"), (b"content-type", b"text/plain")], "two"),
        ([(b"Content-Encoding", b"gzip")], "compressed"),
        ([(b"content-encoding", b" GZIP ")], "compressed"),
        ([(b"X-HTTP-Method-Override", b"DELETE")], "method-override"),
    ],
)
def test_ambiguous_headers_are_refused(headers: list[tuple[bytes, bytes]], message: str) -> None:
    with pytest.raises(GuardError, match=message):
        read("PATCH", b"/face/v1.2/persongroups/g", headers=headers, content=b"{}")


def test_identity_encoding_and_repeated_ordinary_headers_pass() -> None:
    headers = [(b"Content-Encoding", b"identity"), (b"Accept", b"a"), (b"accept", b"b"), *JSON]
    assert read("PATCH", b"/face/v1.2/persongroups/g", headers=headers, content=b"{}").body == {}


# -- query -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (b"top=1&&start=2", "empty query parameter"),
        (b"top=\xff", "not ASCII"),
        (b"trace=1", "does not define"),
        (b"Top=1", "spelled another way"),
        (b"t%C2%ADop=1", "spelled another way"),  # a soft hyphen inside
        (b"%EF%BD%94op=1", "spelled another way"),  # a full-width t
        (b"top=1&top=2", "given twice"),
    ],
)
def test_query_parameters_are_read_exactly(query: bytes, message: str) -> None:
    with pytest.raises(GuardError, match=message):
        read("GET", b"/face/v1.2/persongroups", query)


def test_a_plain_query_is_decoded() -> None:
    wire = read("GET", b"/face/v1.2/persongroups", b"start=a%20b&top=10")
    assert dict(wire.query) == {"start": "a b", "top": "10"}


# -- bodies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff{}", "not UTF-8"),
        (b"{} {}", "exactly one JSON value"),
        (b'{"a": NaN}', "NaN"),
        (b"[" * 100_000 + b"]" * 100_000, "exactly one JSON value"),
    ],
)
def test_json_bodies_are_parsed_strictly(content: bytes, message: str) -> None:
    with pytest.raises(GuardError, match=message):
        read("PATCH", b"/face/v1.2/persongroups/g", content=content)


def test_a_known_body_nested_too_deeply_is_refused_like_parsed_bytes() -> None:
    deep: Any = "x"
    for _ in range(70):
        deep = {"a": deep}
    with pytest.raises(GuardError, match="too deeply"):
        read("PATCH", b"/face/v1.2/persongroups/g", content=b"{}", known_json=deep)
    shallow: Any = "x"
    for _ in range(60):
        shallow = {"a": shallow}
    assert read("PATCH", b"/face/v1.2/persongroups/g", content=b"{}", known_json=shallow)


def test_a_body_on_a_route_that_takes_none_is_refused() -> None:
    with pytest.raises(GuardError, match="takes none"):
        read("GET", b"/face/v1.2/persongroups", content=b"{}")


def _multipart(*parts: bytes, boundary: bytes = b"xyz") -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + boundary + b"--\r\n"


def _field(name: bytes, value: bytes) -> bytes:
    return b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value


MULTIPART = [(b"content-type", b"multipart/form-data; boundary=xyz")]
VERIFY_SESSIONS = b"/face/v1.2/detectLivenessWithVerify-sessions"


@pytest.mark.parametrize(
    ("headers", "content", "message"),
    [
        (JSON, _multipart(_field(b"a", b"1")), "not multipart"),
        ([(b"content-type", b"multipart/form-data")], b"--x\r\n", "without a boundary"),
        (MULTIPART, _multipart(b"Content-Disposition: form-data\r\n\r\n1"), "without a name"),
        (
            MULTIPART,
            _multipart(_field(b"deviceCorrelationId", b"a"), _field(b"DeviceCorrelationId", b"b")),
            "same field twice",
        ),
    ],
)
def test_multipart_bodies_are_read_strictly(
    headers: list[tuple[bytes, bytes]], content: bytes, message: str
) -> None:
    with pytest.raises(GuardError, match=message):
        read("POST", VERIFY_SESSIONS, headers=headers, content=content)


def test_multipart_text_fields_are_read_and_files_skipped() -> None:
    image = b'Content-Disposition: form-data; name="verifyImage"; filename="a.jpg"\r\n\r\n' + JPEG
    content = _multipart(_field(b"deviceCorrelationId", b"dev-1"), image)
    wire = read("POST", VERIFY_SESSIONS, headers=MULTIPART, content=content)
    assert dict(wire.form) == {"devicecorrelationid": "dev-1"}


# -- the decision: raw requests ------------------------------------------------------------------


def test_raw_content_safety_requests_need_no_decision() -> None:
    wire = read("GET", b"/contentsafety/text/blocklists", b"api-version=2024-09-01")
    check_wire(wire, None)  # allowed: nothing to decide about a blocklist read


def test_raw_detect_needs_a_decision_unless_it_asks_for_no_faceid() -> None:
    def detect(query: bytes) -> WireRequest:
        return read("POST", b"/face/v1.2/detect", query, OCTETS, JPEG)

    check_wire(detect(b"returnFaceId=false"), None)
    for query in (b"", b"returnFaceId=true", b"returnFaceId=TRUE"):
        with pytest.raises(GuardError, match="needs the guard"):
            check_wire(detect(query), None)
    with pytest.raises(GuardError, match="true or false"):
        check_wire(detect(b"returnFaceId=1"), None)


def test_unknown_models_in_a_raw_attribute_request_are_denied() -> None:
    query = b"returnFaceId=false&returnFaceAttributes=headPose&detectionModel=detection_99"
    with pytest.raises(UnknownRouteError, match="model"):
        check_wire(read("POST", b"/face/v1.2/detect", query, OCTETS, JPEG), None)


@pytest.mark.parametrize(
    ("body", "field"),
    [({"name": "a@example.com"}, "name"), ({"userData": "a@example.com"}, "user_data")],
)
def test_personal_data_errors_name_the_field(body: dict[str, str], field: str) -> None:
    wire = read("PATCH", b"/face/v1.2/persongroups/g", content=json.dumps(body).encode())
    with pytest.raises(PersonalDataError) as refused:
        check_wire(wire, None)
    assert refused.value.field == field


def test_routes_that_keep_no_text_are_not_screened() -> None:
    # A detect URL naming an address is not text the service keeps next to a template.
    body = json.dumps({"url": "https://example.com/a@example.com.jpg"}).encode()
    check_wire(read("POST", b"/face/v1.2/detect", b"returnFaceId=false", content=body), None)
    wire = read("POST", b"/face/v1.2/persongroups/g/persons", content=b'{"name":"a@b.co"}')
    with pytest.raises(PersonalDataError):
        check_wire(wire, None)


# -- the decision: a spec that vouches for another request ----------------------------------------


def _verify() -> RequestSpec[Any]:
    return recognition.verify_face_to_face(FACE_A, FACE_B, consent="t")


def _check(spec: RequestSpec[Any], wire_spec: RequestSpec[Any] | None = None) -> None:
    wire, content = wire_of(wire_spec or spec)
    check_wire(wire, (spec, content))


def test_the_exact_typed_request_passes() -> None:
    _check(_verify())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: dataclasses.replace(s, method="PUT"), "another route"),
        (lambda s: dataclasses.replace(s, route="/identify"), "another route"),
        (lambda s: dataclasses.replace(s, query={"top": "1"}), "another query"),
    ],
)
def test_a_spec_for_another_route_or_query_does_not_cover_the_request(
    change: Any, reason: str
) -> None:
    spec = _verify()
    with pytest.raises(GuardError, match=reason):
        _check(change(spec), spec)


def test_a_spec_for_another_path_does_not_cover_the_request() -> None:
    spec = LARGE_PERSON_GROUPS.get_person("g1", PERSON)
    other = dataclasses.replace(spec, path_params={**spec.path_params, "largePersonGroupId": "g2"})
    with pytest.raises(GuardError, match="another path"):
        _check(other, spec)


def _with_guard(spec: RequestSpec[Any], **changes: Any) -> RequestSpec[Any]:
    return dataclasses.replace(spec, guard=dataclasses.replace(spec.guard, **changes))


def test_guard_info_that_names_other_faceids_is_refused() -> None:
    spec = _verify()
    with pytest.raises(GuardError, match="faceIds"):
        _check(_with_guard(spec, face_ids=(FACE_A,)))
    _check(_with_guard(spec, face_ids=(FACE_B.upper(), FACE_A)))  # order and case do not matter


def test_guard_info_that_names_another_container_or_person_is_refused() -> None:
    spec = recognition.verify_from_large_person_group(
        FACE_A, large_person_group_id="g1", person_id=PERSON, consent="t"
    )
    _check(spec)
    with pytest.raises(GuardError, match="another container"):
        _check(_with_guard(spec, container_id="g2"))
    with pytest.raises(GuardError, match="another person"):
        _check(_with_guard(spec, person_id=FACE_B))
    add = LARGE_PERSON_GROUPS.add_face("g1", PERSON, JPEG, consent="t")
    _check(add)
    with pytest.raises(GuardError, match="another container"):
        _check(_with_guard(add, container_id="g2"))
    with pytest.raises(GuardError, match="another person"):
        _check(_with_guard(add, person_id=FACE_B))


def test_a_decision_for_another_operation_does_not_cover_the_request() -> None:
    spec = _verify()
    for operation in ("identify", None):
        with pytest.raises(GuardError, match="another operation"):
            _check(_with_guard(spec, consent_operation=operation))


@pytest.mark.parametrize(
    "changes",
    [{"face_id_ttl": 60}, {"detection_model": "detection_01"}, {"recognition_model": "x"}],
)
def test_detect_facts_other_than_the_registry_records_are_refused(changes: dict[str, Any]) -> None:
    spec = detection.detect(
        JPEG,
        return_face_id=True,
        detection_model="detection_03",
        recognition_model="recognition_04",
        face_id_time_to_live=600,
        consent="t",
    )
    _check(spec)
    with pytest.raises(GuardError, match="faceId facts"):
        _check(_with_guard(spec, **changes))


def test_a_device_id_other_than_the_guard_checked_is_refused() -> None:
    spec = liveness.create_session(liveness_operation_mode="Passive", device_correlation_id="d-1")
    _check(spec)
    with pytest.raises(GuardError, match="device correlation id"):
        _check(_with_guard(spec, device_correlation_id="d-2"))


def test_a_typed_override_lets_personal_data_through_and_nothing_else_does() -> None:
    spec = LARGE_PERSON_GROUPS.create_person(
        "g1",
        name="a@example.com",
        override=Override("primary_identifier", "the person asked for it, ticket 42"),
    )
    _check(spec)
    with pytest.raises(PersonalDataError):
        _check(_with_guard(spec, override=None))
    other = Override("liveness_session_cap", "the kiosk was rebooted, ticket 42")
    with pytest.raises(PersonalDataError):
        _check(_with_guard(spec, override=other))
