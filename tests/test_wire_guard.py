"""Attacks on the guard's one decision on the wire (issue 11 §1, GUARD.md §2.2).

Each test plays a developer who wants a retired attribute, a template without consent, or a
recognition call the guard never saw, through the public surface a client gives them: the
``http_client`` it owns or was given (its ``event_hooks``, ``send``, ``stream``, ``request``),
any host spelling, any query or body spelling. Every attack must be refused before a byte
reaches the transport underneath, and the typed path must not be able to vouch for a request
that differs from the one the guard decided on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _guard_kit import TOKEN, policy
from _samples import FACE_ID, FACE_ID_2, LARGE_PERSON_GROUP_ID, PERSON_ID
from faceguard import (
    AsyncFaceClient,
    ConfigurationError,
    ContentSafetyClient,
    FaceClient,
    GuardError,
    RetiredAttributeError,
    UnknownRouteError,
)

ENDPOINT = "https://wire.cognitiveservices.azure.com"
JPEG = b"\xff\xd8\xff\xe0" + bytes(2000)
FACE = "/face/v1.2"


class Recorder:
    """The service underneath: records what arrives, answers something plausible."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if path.endswith("/verify"):
            return httpx.Response(200, json={"isIdentical": False, "confidence": 0.1})
        if path.endswith("/persistedfaces"):
            return httpx.Response(200, json={"persistedFaceId": PERSON_ID})
        if "/text/" in path:
            return httpx.Response(200, json={"value": []})
        return httpx.Response(200, json=[])


def rig(**client: Any) -> tuple[FaceClient, httpx.Client, Recorder]:
    recorder = Recorder()
    http = httpx.Client(transport=httpx.MockTransport(recorder), **client)
    face = FaceClient(ENDPOINT, api_key="k", http_client=http, guard=policy())
    return face, http, recorder


def refused(recorder: Recorder, error: type[Exception], call: Callable[[], object]) -> Exception:
    before = len(recorder.seen)
    with pytest.raises(error) as info:
        call()
    assert len(recorder.seen) == before, "a refused request reached the transport"
    return info.value


# -- the typed path's pass cannot be written by a caller --------------------------------------


@pytest.mark.parametrize(
    "extensions",
    [
        {"faceguard.guarded": True},
        {"faceguard.guarded": 1},
        {"faceguard.pass": True},
        {"faceguard.guarded": True, "faceguard.pass": object()},
    ],
    ids=["old-mark", "truthy", "pass-key", "both"],
)
def test_a_caller_written_mark_does_not_let_a_raw_request_through(
    extensions: dict[str, Any],
) -> None:
    _, http, recorder = rig()
    for url in (
        f"{ENDPOINT}{FACE}/detect?returnFaceAttributes=emotion&returnFaceId=false",
        f"{ENDPOINT}{FACE}/detect",
    ):
        refused(
            recorder,
            GuardError,
            lambda url=url: http.post(url, content=JPEG, extensions=extensions),
        )
    refused(
        recorder,
        GuardError,
        lambda: http.post(
            f"{ENDPOINT}{FACE}/verify",
            json={"faceId1": FACE_ID, "faceId2": FACE_ID_2},
            extensions=extensions,
        ),
    )


def test_a_pass_copied_from_a_typed_request_does_not_cover_another_request() -> None:
    face, http, recorder = rig()
    copied: list[dict[str, Any]] = []
    http.event_hooks["request"].append(lambda r: copied.append(dict(r.extensions)))
    face.recognition.verify_face_to_face(FACE_ID, FACE_ID_2, consent=TOKEN)
    assert len(recorder.seen) == 1 and copied
    extensions = copied[-1]
    other = "0b7a8f1e-1c6b-4a0e-9f0e-0c5b8e8f2d11"
    for body in (
        {"faceId1": other, "faceId2": FACE_ID_2},
        {"faceId1": FACE_ID, "faceId2": FACE_ID_2, "faceId": other},
        {"faceId": other, "personId": PERSON_ID, "largePersonGroupId": LARGE_PERSON_GROUP_ID},
    ):
        refused(
            recorder,
            GuardError,
            lambda body=body: http.post(
                f"{ENDPOINT}{FACE}/verify", json=body, extensions=extensions
            ),
        )
    # Nor the very same request once the typed call is over.
    refused(
        recorder,
        GuardError,
        lambda: http.post(
            f"{ENDPOINT}{FACE}/verify",
            json={"faceId1": FACE_ID, "faceId2": FACE_ID_2},
            extensions=extensions,
        ),
    )


# -- a hook that rewrites a typed request is checked on what it sends -------------------------


def _rewrite_url(request: httpx.Request) -> None:
    request.url = request.url.copy_add_param("returnFaceAttributes", "emotion")


def _rewrite_group(request: httpx.Request) -> None:
    request.url = request.url.copy_with(
        path=request.url.path.replace(LARGE_PERSON_GROUP_ID, "another-group")
    )


def _rewrite_body(request: httpx.Request) -> None:
    body = json.loads(request.read())
    body["faceId2"] = "0b7a8f1e-1c6b-4a0e-9f0e-0c5b8e8f2d11"
    content = json.dumps(body).encode()
    request.stream = httpx.ByteStream(content)
    request._content = content  # what httpx's own Request(content=...) keeps
    request.headers["Content-Length"] = str(len(content))


@pytest.mark.parametrize(
    ("hook", "call"),
    [
        (_rewrite_url, lambda c: c.detection.detect(JPEG, return_face_id=False)),
        (_rewrite_url, lambda c: c.detection.detect(JPEG, return_face_id=True, consent=TOKEN)),
        (
            _rewrite_group,
            lambda c: c.large_person_groups.add_face(
                LARGE_PERSON_GROUP_ID, PERSON_ID, JPEG, consent=TOKEN
            ),
        ),
        (
            _rewrite_body,
            lambda c: c.recognition.verify_face_to_face(FACE_ID, FACE_ID_2, consent=TOKEN),
        ),
    ],
    ids=["attributes-added", "attributes-added-template", "container-swapped", "faceid-swapped"],
)
def test_a_request_hook_cannot_change_what_the_guard_decided(
    hook: Callable[[httpx.Request], None], call: Callable[[FaceClient], object]
) -> None:
    face, http, recorder = rig()
    http.event_hooks["request"].append(hook)
    refused(recorder, GuardError, lambda: call(face))


# -- hooks and attributes of the caller's client cannot switch the check off ------------------


@pytest.mark.parametrize(
    "disarm",
    [
        lambda h: setattr(h, "event_hooks", {"request": [], "response": []}),
        lambda h: h.event_hooks["request"].clear(),
        lambda h: setattr(h, "event_hooks", {}),
    ],
    ids=["reassigned", "cleared", "emptied"],
)
@pytest.mark.parametrize(
    "send",
    [
        lambda h: h.post(f"{ENDPOINT}{FACE}/detect?returnFaceAttributes=age&returnFaceId=false"),
        lambda h: h.send(h.build_request("POST", f"{ENDPOINT}{FACE}/detect", content=JPEG)),
        lambda h: h.stream(
            "POST", f"{ENDPOINT}{FACE}/identify", json={"faceIds": [FACE_ID]}
        ).__enter__(),
    ],
    ids=["post", "send", "stream"],
)
def test_disarming_the_callers_client_does_not_disarm_the_guard(
    disarm: Callable[[httpx.Client], None], send: Callable[[httpx.Client], object]
) -> None:
    _, http, recorder = rig()
    disarm(http)
    refused(recorder, GuardError, lambda: send(http))


def test_mounted_and_owned_transports_are_guarded_too() -> None:
    recorder = Recorder()
    http = httpx.Client(mounts={"all://": httpx.MockTransport(recorder)})
    FaceClient(ENDPOINT, api_key="k", http_client=http, guard=policy())
    refused(
        recorder,
        RetiredAttributeError,
        lambda: http.post(f"{ENDPOINT}{FACE}/detect?returnFaceId=false&returnFaceAttributes=smile"),
    )
    # The client faceguard creates itself is guarded the same way (its transport is wrapped).
    owned = FaceClient(ENDPOINT, api_key="k", transport=httpx.MockTransport(recorder))
    raw = owned.detection._transport._client  # what a debugger shows; same object as any user's
    refused(
        recorder,
        RetiredAttributeError,
        lambda: raw.post(f"{ENDPOINT}{FACE}/detect?returnFaceId=false&returnFaceAttributes=hair"),
    )


@pytest.mark.parametrize(
    "params",
    [
        {"returnFaceAttributes": "emotion"},
        {"returnfaceattributes": "age"},
        {"faceIdTimeToLive": "86400", "targetFace": "1,2,3,4"},
    ],
)
def test_a_callers_client_params_cannot_smuggle_a_guarded_parameter(params: dict[str, str]) -> None:
    recorder = Recorder()
    http = httpx.Client(transport=httpx.MockTransport(recorder), params=params)
    face = FaceClient(ENDPOINT, api_key="k", http_client=http, guard=policy())
    refused(recorder, GuardError, lambda: face.detection.detect(JPEG, return_face_id=False))
    refused(
        recorder,
        GuardError,
        lambda: face.detection.detect(JPEG, return_face_id=True, consent=TOKEN),
    )


def test_a_client_that_cannot_be_guarded_is_refused_at_construction() -> None:
    class Sneaky(httpx.Client):
        def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
            return httpx.Response(200, json=[])

    with pytest.raises(ConfigurationError, match="http_client"):
        FaceClient(ENDPOINT, api_key="k", http_client=Sneaky())
    with pytest.raises(ConfigurationError, match="http_client"):
        FaceClient(ENDPOINT, api_key="k", http_client=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="http_client"):
        FaceClient(ENDPOINT, api_key="k", http_client=httpx.AsyncClient())  # type: ignore[arg-type]


# -- host does not matter ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "base",
    [
        "https://wire.cognitiveservices.azure.com.",
        "https://WIRE.COGNITIVESERVICES.AZURE.COM",
        "https://another.cognitiveservices.azure.com",
        "https://westeurope.api.cognitive.microsoft.com",
        "https://20.50.2.1",
        "https://[::1]:8443",
        "https://wire.cognitiveservices.azure.com:444",
        "http://127.0.0.1:5000",
    ],
)
def test_a_face_path_on_any_host_is_a_face_request(base: str) -> None:
    _, http, recorder = rig()
    refused(
        recorder,
        RetiredAttributeError,
        lambda: http.post(f"{base}{FACE}/detect?returnFaceId=false&returnFaceAttributes=emotion"),
    )
    refused(recorder, GuardError, lambda: http.post(f"{base}{FACE}/detect", content=JPEG))
    refused(recorder, GuardError, lambda: http.post(f"{base}{FACE}/group", json={"faceIds": []}))


def test_a_host_header_does_not_change_what_is_policed() -> None:
    _, http, recorder = rig()
    for url in ("https://10.0.0.7", "https://localhost", "https://elsewhere.example.com"):
        refused(
            recorder,
            GuardError,
            lambda url=url: http.post(
                f"{url}{FACE}/identify",
                json={"faceIds": [FACE_ID], "largePersonGroupId": "x"},
                headers={"Host": "elsewhere.example.com"},
            ),
        )


# -- path spellings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/FACE/V1.2/DETECT",
        "/face/v1.2/Detect",
        "/face/v1.2/%64etect",
        "/face/v1.2//detect",
        "/face/v1.2/./detect",
        "/face/v1.2/x/../detect",
        "/face/v1.2/detect/",
        "/face/v1.2/detect;v=1",
        "/face/v1.0/detect",
        "/face/v1.2-preview.1/detect",
        "/face%2Fv1.2%2Fdetect",
    ],
)
def test_path_spellings_of_detect_are_refused_or_policed(path: str) -> None:
    _, http, recorder = rig()
    refused(
        recorder,
        GuardError,
        lambda: http.post(f"{ENDPOINT}{path}?returnFaceId=false&returnFaceAttributes=emotion"),
    )
    refused(recorder, GuardError, lambda: http.post(f"{ENDPOINT}{path}", content=JPEG))


def test_a_method_override_header_is_refused() -> None:
    _, http, recorder = rig()
    for header in ("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"):
        refused(
            recorder,
            GuardError,
            lambda header=header: http.get(
                f"{ENDPOINT}{FACE}/persongroups", headers={header: "DELETE"}
            ),
        )


# -- query spellings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "returnFaceAttributes=headPose&returnFaceAttributes=emotion",
        "returnFaceAttributes=headPose&returnfaceattributes=emotion",
        "returnfaceattributes=emotion",
        "ReturnFaceAttributes=age",
        "RETURNFACEATTRIBUTES=smile",
        "return%46aceAttributes=gender",
        "returnFaceAttributes=headPose%2Cemotion",
        "returnFaceAttributes=headPose,%20emotion",
        "returnFaceAttributes=head%50ose,age",
        "returnFaceAttributes%20=emotion",
        "returnFaceId=false&returnFaceId=true",
        "returnFaceId=false&ReturnFaceId=true",
        "returnFaceId=0",
        "returnFaceId=False%00",
        "returnFaceId=no",
    ],
)
def test_guarded_query_parameters_are_canonicalised(query: str) -> None:
    _, http, recorder = rig()
    url = f"{ENDPOINT}{FACE}/detect?{query}"
    if "returnFaceId" not in query and "returnfaceid" not in query.lower():
        url += "&returnFaceId=false"
    refused(recorder, GuardError, lambda: http.post(url, content=JPEG))


def test_an_allowed_raw_detect_still_passes() -> None:
    _, http, recorder = rig()
    response = http.post(
        f"{ENDPOINT}{FACE}/detect?returnFaceId=false&returnFaceAttributes=headPose,blur",
        content=JPEG,
    )
    assert response.status_code == 200 and len(recorder.seen) == 1
    http.get(f"{ENDPOINT}{FACE}/largepersongroups/{LARGE_PERSON_GROUP_ID}/persons")
    assert len(recorder.seen) == 2


# -- body spellings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": "a", "recognitionModel": "recognition_04", "recognitionModel": "x"}',
        b'{"name": "a", "recognitionModel": "recognition_04", "RecognitionModel": "x"}',
        b'{"name": "a", "userData": {"x": 1, "X": 2}}',
        b'{"name": "a", "recognitionModel": "recognition_04"} trailing',
        b"\xff\xfe{not json",
    ],
    ids=["duplicate", "case-duplicate", "nested-duplicate", "trailing", "not-json"],
)
def test_ambiguous_json_bodies_are_refused(content: bytes) -> None:
    _, http, recorder = rig()
    refused(
        recorder,
        GuardError,
        lambda: http.put(
            f"{ENDPOINT}{FACE}/largepersongroups/lpg-new",
            content=content,
            headers={"Content-Type": "application/json"},
        ),
    )


# -- not a service route: denied -----------------------------------------------------------------


def test_requests_to_other_paths_are_denied_through_a_guarded_client() -> None:
    _, http, recorder = rig()
    for url in (
        "https://elsewhere.example.com/anything",
        f"{ENDPOINT}/face/v1.2",
        f"{ENDPOINT}/",
    ):
        refused(recorder, UnknownRouteError, lambda url=url: http.get(url))


def test_one_http_client_shared_by_a_face_and_a_content_safety_client_serves_both() -> None:
    recorder = Recorder()
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    face = FaceClient(ENDPOINT, api_key="k", http_client=http, guard=policy())
    safety = ContentSafetyClient(
        "https://cs.cognitiveservices.azure.com", api_key="k", http_client=http
    )
    list(face.large_person_groups.list())
    list(safety.blocklists.list())
    assert len(recorder.seen) == 2
    refused(
        recorder,
        RetiredAttributeError,
        lambda: http.post(f"{ENDPOINT}{FACE}/detect?returnFaceId=false&returnFaceAttributes=age"),
    )


# -- async: the same check ------------------------------------------------------------------------


def test_the_async_client_is_guarded_the_same_way() -> None:
    async def main() -> None:
        recorder = Recorder()
        http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
        face = AsyncFaceClient(ENDPOINT, api_key="k", http_client=http, guard=policy())
        http.event_hooks = {"request": [], "response": []}
        for url, ext in (
            (f"{ENDPOINT}.{FACE}/detect?returnFaceId=false&returnFaceAttributes=emotion", {}),
            (f"https://1.2.3.4{FACE}/detect", {"faceguard.guarded": True}),
            (f"{ENDPOINT}{FACE}/detect?returnfaceid=false&returnFaceAttributes=age", {}),
        ):
            with pytest.raises(GuardError):
                await http.post(url, content=JPEG, extensions=ext)
        assert recorder.seen == []
        await face.recognition.verify_face_to_face(FACE_ID, FACE_ID_2, consent=TOKEN)
        assert len(recorder.seen) == 1
        await face.aclose()
        await http.aclose()

    asyncio.run(main())


# -- one route table: the builders' routes, no more, no less -------------------------------------


def test_the_route_table_is_exactly_the_routes_the_builders_send() -> None:
    from _optable import OPERATIONS, first_request
    from faceguard._guard._routes import routes

    table = {
        (route.service, route.method, route.template)
        for group in routes().values()
        for route in group
    }
    sent = set()
    for row in OPERATIONS:
        spec = first_request(row)
        sent.add((spec.service, spec.method, spec.route))
    assert sent == table


# -- R31 on the wire: raw requests cannot store a primary identifier next to templates -------


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("PUT", "/largepersongroups/lpg-new", {"json": {"name": "alice@example.com"}}),
        (
            "POST",
            f"/largepersongroups/{LARGE_PERSON_GROUP_ID}/persons",
            {"json": {"name": "Alice", "userData": "call +44 20 7946 0958"}},
        ),
        (
            "PATCH",
            f"/persongroups/pg/persons/{PERSON_ID}",
            {"json": {"Name": "ssn 078-05-1120"}},
        ),
        (
            "PATCH",
            f"/largefacelists/lfl/persistedfaces/{PERSON_ID}",
            {"json": {"userData": "bob\uff20example\uff0ecom"}},
        ),
        (
            "PUT",
            "/facelists/fl-new",
            {"content": b'{"name":"x","userData":"alice(at)example(dot)com"}'},
        ),
    ],
)
def test_raw_requests_cannot_store_primary_identifiers(
    method: str, path: str, kwargs: dict[str, Any]
) -> None:
    from faceguard import PersonalDataError

    _, http, recorder = rig()
    refused(
        recorder,
        PersonalDataError,
        lambda: http.request(method, f"{ENDPOINT}{FACE}{path}", **kwargs),
    )


# -- the typed path's shortcut reads a body exactly as strictly as parsing it would ------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "A", "b", "faceId", "FACEID", "x\u200b"]), children)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.sampled_from(["name", "Name", "userData", "b"]), _json_values))
def test_a_known_body_is_accepted_exactly_when_its_bytes_would_be(value: dict[str, Any]) -> None:
    from faceguard._guard._wire import read_request

    content = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    args = (
        "PATCH",
        b"/face/v1.2/largepersongroups/g",
        b"",
        [(b"content-type", b"application/json")],
    )

    def outcome(**kwargs: Any) -> object:
        try:
            return read_request(*args, content, **kwargs).body
        except GuardError as error:
            return type(error)

    assert outcome(known_json=value) == outcome()


# -- one spelling per resource ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "https://Wire.CognitiveServices.Azure.com",
        "https://wire.cognitiveservices.azure.com/",
        "https://wire.cognitiveservices.azure.com.",
        "https://wire.cognitiveservices.azure.com:443",
        "HTTPS://WIRE.COGNITIVESERVICES.AZURE.COM:443/",
    ],
)
def test_spellings_of_one_endpoint_are_one_resource(spelling: str) -> None:
    face = FaceClient(spelling, api_key="k", transport=httpx.MockTransport(Recorder()))
    assert repr(face) == f"FaceClient(endpoint={ENDPOINT!r})"


def test_endpoints_with_user_info_or_a_bad_port_are_refused() -> None:
    for endpoint in ("https://user:pw@wire.cognitiveservices.azure.com", "https://wire.x:99999"):
        with pytest.raises(ConfigurationError):
            FaceClient(endpoint, api_key="k")
