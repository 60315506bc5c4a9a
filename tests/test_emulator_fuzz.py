"""Fuzzing the emulator's JSON routes: a client fault is a 4xx, never a 5xx, and the state
stays readable.

Hypothesis sends JSON bodies (any nesting, any code point including lone surrogates, huge and
odd numbers, keys the contract never names) and raw byte strings to every route of the Face,
Content Safety and control APIs that takes a JSON body, over ``Emulator.transport()`` (the
same ``Emulator.handle`` the loopback server calls). After each request every list call must
still answer 200 with JSON, and after a refused one every list must be as it was before. A
few examples then go over a real loopback server, so the HTTP layer sees the same bodies. The
run is bounded (a few hundred examples, a few seconds).

No answer may be 5xx here: 501 ``EmulatorSeverityNotScripted`` cannot happen because every
severity is scripted, and no engine or URL is reached
(``fetch_url`` refuses every URL).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faceguard.emulator import Emulator, FaceApiError
from faceguard.emulator._server import running

KEY = {"Ocp-Apim-Subscription-Key": "fuzz"}
CS = "?api-version=2024-09-01"
MERGE = "application/merge-patch+json"
GROUP = "fuzz-group"
PERSON = "/face/v1.2/persongroups/fuzz-group/persons"

# (method, path, content type) of every route that reads a JSON body
ROUTES = [
    ("PUT", "/face/v1.2/persongroups/fuzz-new", "application/json"),
    ("PATCH", f"/face/v1.2/persongroups/{GROUP}", "application/json"),
    ("PUT", "/face/v1.2/largepersongroups/fuzz-new", "application/json"),
    ("PUT", "/face/v1.2/facelists/fuzz-new", "application/json"),
    ("PUT", "/face/v1.2/largefacelists/fuzz-new", "application/json"),
    ("POST", PERSON, "application/json"),
    ("POST", "/face/v1.2/verify", "application/json"),
    ("POST", "/face/v1.2/identify", "application/json"),
    ("POST", "/face/v1.2/findsimilars", "application/json"),
    ("POST", "/face/v1.2/group", "application/json"),
    ("POST", "/face/v1.2/detect", "application/json"),
    ("POST", f"/face/v1.2/persongroups/{GROUP}/persons/x/persistedfaces", "application/json"),
    ("POST", "/face/v1.2/detectLiveness-sessions", "application/json"),
    ("PATCH", f"/contentsafety/text/blocklists/fuzz-list{CS}", MERGE),
    (
        "POST",
        f"/contentsafety/text/blocklists/fuzz-list:addOrUpdateBlocklistItems{CS}",
        "application/json",
    ),
    (
        "POST",
        f"/contentsafety/text/blocklists/fuzz-list:removeBlocklistItems{CS}",
        "application/json",
    ),
    ("POST", f"/contentsafety/text:analyze{CS}", "application/json"),
    ("POST", "/_emulator/faults", "application/json"),
    ("PUT", "/_emulator/tps", "application/json"),
    ("POST", "/_emulator/content-safety/severities", "application/json"),
    ("POST", "/_emulator/liveness/sessions/none/attempts", "application/json"),
]

LISTS = [
    "/face/v1.2/persongroups",
    "/face/v1.2/largepersongroups",
    "/face/v1.2/facelists",
    "/face/v1.2/largefacelists",
    PERSON,
    f"/contentsafety/text/blocklists{CS}",
    f"/contentsafety/text/blocklists/fuzz-list/blocklistItems{CS}",
    "/_emulator/faults",
    "/_emulator/traffic",
]

# Any code point, lone surrogates included (st.characters leaves them out by default).
any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()))
field_names = st.sampled_from(
    [
        "name",
        "userData",
        "recognitionModel",
        "faceId",
        "faceIds",
        "personId",
        "personGroupId",
        "largePersonGroupId",
        "faceListId",
        "maxNumOfCandidatesReturned",
        "confidenceThreshold",
        "mode",
        "url",
        "description",
        "blocklistItems",
        "blocklistItemIds",
        "text",
        "categories",
        "blocklistNames",
        "haltOnBlocklistHit",
        "outputType",
        "route",
        "status",
        "drop",
        "times",
        "tps",
        "routes",
        "seed",
        "Hate",
        "livenessOperationMode",
        "deviceCorrelationId",
        "decision",
        "isRegex",
    ]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(field_names | any_text, children, max_size=5)
    ),
    max_leaves=12,
)
bodies = (
    st.dictionaries(field_names, json_values, max_size=6).map(
        lambda value: json.dumps(value).encode()
    )
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.binary(max_size=64)
    | st.integers(min_value=1, max_value=3000).map(lambda depth: b"[" * depth + b"]" * depth)
)


def _no_url(_url: str) -> bytes:
    raise FaceApiError(400, "InvalidURL", "Invalid image URL (the fuzzer fetches nothing).")


def _emulator() -> Emulator:
    emulator = Emulator(fetch_url=_no_url)
    for category in ("Hate", "SelfHarm", "Sexual", "Violence"):
        emulator.content_safety.script_severity(category, 2)
    return emulator


def _prepared(client: httpx.Client) -> None:
    assert client.put(f"/face/v1.2/persongroups/{GROUP}", json={"name": "fuzz"}).status_code == 200
    created = client.patch(
        f"/contentsafety/text/blocklists/fuzz-list{CS}",
        content=b"{}",
        headers={"Content-Type": MERGE},
    )
    assert created.status_code == 201


def _state(client: httpx.Client) -> dict[str, object]:
    """Every list the emulator answers (the traffic log aside: it records every request)."""
    found: dict[str, object] = {}
    for listed in LISTS:
        again = client.get(listed)
        assert again.status_code == 200, (listed, again.text[:300])
        found[listed] = again.json()
    found.pop("/_emulator/traffic")
    return found


def _check(client: httpx.Client, route: tuple[str, str, str], body: bytes) -> None:
    method, path, media = route
    before = _state(client)
    answer = client.request(method, path, content=body, headers={"Content-Type": media})
    assert answer.status_code < 500, (method, path, body[:200], answer.text[:300])
    if answer.status_code >= 400:
        error = answer.json()["error"]
        assert error["code"] and error["message"], answer.text
        assert answer.headers["apim-request-id"]
        # a refused request changes nothing
        assert _state(client) == before, (method, path, body[:200], answer.text[:300])
    else:
        _state(client)  # still readable
    client.delete("/_emulator/faults")  # a fuzzed fault or TPS limit must not hit the checks


@pytest.fixture(scope="module")
def in_process() -> Any:
    emulator = _emulator()
    with httpx.Client(
        transport=emulator.transport(), base_url="https://emulator.invalid", headers=KEY
    ) as client:
        _prepared(client)
        yield client


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(route=st.sampled_from(ROUTES), body=bodies)
def test_json_routes_answer_4xx_or_2xx_and_the_state_stays_readable(
    in_process: httpx.Client, route: tuple[str, str, str], body: bytes
) -> None:
    _check(in_process, route, body)


@pytest.fixture(scope="module")
def over_http() -> Any:
    with running(_emulator()) as server, httpx.Client(base_url=server.url, headers=KEY) as client:
        _prepared(client)
        yield client


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(route=st.sampled_from(ROUTES), body=bodies)
def test_the_same_over_a_loopback_server(
    over_http: httpx.Client, route: tuple[str, str, str], body: bytes
) -> None:
    _check(over_http, route, body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "\\ud800"}',
        b'{"name": "ok", "userData": "\\udfff"}',
        b"[" * 2000 + b"]" * 2000,
        b'{"name": NaN}',
    ],
)
def test_known_bad_bodies_are_refused_in_process(in_process: httpx.Client, body: bytes) -> None:
    """The seeds of the classes above, pinned so a fuzz run that misses them still fails."""
    answer = in_process.put(
        "/face/v1.2/persongroups/pinned",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert in_process.get("/face/v1.2/persongroups/pinned").status_code == 404
