"""The pieces behind contract tests, each alone: mismatch descriptions (``_diff``), stable
origins and timestamps (``_stable``), run settings (``_modes``), and the docs' example being
the project CI runs.

The end-to-end behaviour (pytest runs of a user's project against ``faceguard emulator
serve``) is in ``test_plugin_contract.py``.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from vcr.request import Request as VcrRequest

from faceguard import ConfigurationError
from faceguard.testing import (
    REPLAY_ENDPOINT,
    RecordModeError,
    check_text,
    image_placeholder,
    scrub_request,
    scrub_response,
)
from faceguard.testing._cassettes import query_params
from faceguard.testing._diff import describe_body_difference
from faceguard.testing._modes import parse_live, resolve
from faceguard.testing._stable import StablePlaceholders

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "tests" / "data" / "faces" / "face_recognition" / "obama" / "obama1.jpg"
IMAGE = PHOTO.read_bytes()


def json_request(body: object, content_type: str = "application/json") -> VcrRequest:
    data = json.dumps(body).encode()
    return VcrRequest(
        "POST", "https://x.invalid/face/v1.2/identify", data, {"Content-Type": content_type}
    )


# -- _diff: what differs, never what was sent -------------------------------------------------


def test_a_changed_json_field_is_named_with_both_values():
    sent = json_request({"faceIds": ["a"], "maxNumOfCandidatesReturned": 2})
    recorded = json_request({"faceIds": ["a"], "maxNumOfCandidatesReturned": 1})
    assert describe_body_difference(sent, recorded) == ["maxNumOfCandidatesReturned: 2 != 1"]


def test_nested_fields_list_items_and_missing_fields_have_paths():
    sent = json_request({"a": {"b": [1, 2, 3]}, "only_sent": True, "kind": "1"})
    recorded = json_request({"a": {"b": [1, 5]}, "only_recorded": None, "kind": 1})
    assert describe_body_difference(sent, recorded) == [
        "a.b[1]: 2 != 5",
        "a.b[2]: 3 != <missing>",
        'kind: "1" != 1',
        "only_recorded: <missing> != null",
        "only_sent: true != <missing>",
    ]


def test_key_order_and_spacing_are_not_differences():
    sent = VcrRequest(
        "POST", "https://x.invalid/p", b'{"b":1, "a": [1,2]}', {"Content-Type": "application/json"}
    )
    recorded = json_request({"a": [1, 2], "b": 1})
    assert describe_body_difference(sent, recorded) == []


@pytest.mark.parametrize(
    "encode",
    [lambda d: base64.b64encode(d).decode(), lambda d: base64.urlsafe_b64encode(d).decode()],
)
def test_a_base64_image_inside_json_is_shown_by_its_digest_only(encode):
    other = IMAGE[:-200] + b"\0" * 200
    sent = json_request({"image": encode(other), "mode": "x"})
    recorded = json_request({"image": encode(IMAGE), "mode": "x"})
    (line,) = describe_body_difference(sent, recorded)
    assert line == f'image: "{image_placeholder(other)}" != "{image_placeholder(IMAGE)}"'
    assert check_text(line) == []


def test_an_image_body_is_shown_by_its_digest_and_a_long_value_is_cut():
    octet = {"Content-Type": "application/octet-stream"}
    sent = VcrRequest("POST", "https://x.invalid/detect", IMAGE + b"x", octet)
    recorded = VcrRequest("POST", "https://x.invalid/detect", IMAGE, octet)
    assert describe_body_difference(sent, recorded) == [
        f"body: {image_placeholder(IMAGE + b'x')} != {image_placeholder(IMAGE)}"
    ]
    (line,) = describe_body_difference(
        json_request({"name": "n" * 500}), json_request({"name": "m"})
    )
    assert len(line) < 140 and line.endswith('!= "m"')


def test_many_differences_are_summarised():
    sent = json_request({f"f{i:02}": i for i in range(30)})
    recorded = json_request({f"f{i:02}": -i for i in range(1, 30)})
    lines = describe_body_difference(sent, recorded)
    assert len(lines) == 13 and lines[-1] == "... and 18 more"


def test_query_parameters_that_differ_are_named():
    def request(query: str) -> VcrRequest:
        return VcrRequest("POST", f"https://x.invalid/face/v1.2/detect?{query}", b"", {})

    query_params(request("b=2&a=1"), request("a=1&b=2"))  # order is no difference
    with pytest.raises(AssertionError) as failure:
        query_params(
            request("returnFaceId=true&detectionModel=detection_03&x=1&x=2"),
            request("returnFaceId=false&detectionModel=detection_03&y=0&x=1"),
        )
    assert str(failure.value).splitlines() == [
        'returnFaceId: "true" != "false"',
        'x: ["1","2"] != "1"',
        'y: <missing> != "0"',
    ]


# -- _stable: origins and timestamps ------------------------------------------------------------


def test_origins_get_numbered_placeholders_wherever_they_are_written():
    stable = StablePlaceholders()
    assert stable.uri("http://127.0.0.1:41234/face/v1.2/detect?x=1") == (
        f"{REPLAY_ENDPOINT}/face/v1.2/detect?x=1"
    )
    assert stable.uri("HTTPS://Other.Example:443/contentsafety/text:analyze") == (
        "https://resource-2.faceguard.invalid/contentsafety/text:analyze"
    )
    body = '{"location": "http://127.0.0.1:41234/face/v1.2/operations/1", "url": "https://cdn.example/a.jpg"}'
    assert stable.text(body) == (
        f'{{"location": "{REPLAY_ENDPOINT}/face/v1.2/operations/1", '
        '"url": "https://cdn.example/a.jpg"}'
    )
    assert stable.uri(f"{REPLAY_ENDPOINT}/x") == f"{REPLAY_ENDPOINT}/x"  # idempotent


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("2026-12-08T01:02:03Z", "2026-12-08T01:02:04Z",
         ("2000-01-01T00:00:00Z", "2000-01-01T00:00:01Z")),
        ("2026-12-08T01:02:03.123456+00:00", "2026-12-08T01:02:03.123456+00:00",
         ("2000-01-01T00:00:00.000000+00:00", "2000-01-01T00:00:00.000000+00:00")),
        ("2026-12-08T01:02:03", "2025-01-01T00:00:00.5",
         ("2000-01-01T00:00:00", "2000-01-01T00:00:01.0")),
    ],
)  # fmt: skip
def test_timestamps_become_numbered_placeholders_in_their_own_spelling(first, second, expected):
    stable = StablePlaceholders()
    assert (stable.times(first), stable.times(second)) == expected
    assert stable.times(expected[0]) == expected[0]


def test_the_plain_hooks_hide_the_origin_and_keep_only_the_content_type():
    request = VcrRequest(
        "GET",
        "http://127.0.0.1:5000/face/v1.2/largepersongroups/staff",
        None,
        {
            "User-Agent": "faceguard/1 python/3",
            "Ocp-Apim-Subscription-Key": "k" * 32,
            "Accept": "*/*",
        },
    )
    scrubbed = scrub_request(request)
    assert scrubbed.uri == f"{REPLAY_ENDPOINT}/face/v1.2/largepersongroups/staff"
    assert dict(scrubbed.headers) == {}
    response = {
        "status": {"code": 202, "message": "Accepted"},
        "headers": {"operation-location": ["http://127.0.0.1:5000/face/v1.2/operations/7"]},
        "body": {"string": b""},
    }
    assert scrub_response(response)["headers"]["operation-location"] == [
        f"{REPLAY_ENDPOINT}/face/v1.2/operations/7"
    ]


# -- _modes: which backend a run uses -----------------------------------------------------------


def settings(**kwargs):
    options = {"option_mode": None, "option_live": False, "pytest_recording_mode": None}
    options.update({k: v for k, v in kwargs.items() if k != "environ"})
    return resolve(failed_recordings="discard", environ=kwargs.get("environ", {}), **options)


def test_the_command_line_beats_pytest_recording_which_beats_the_environment():
    env = {"FACEGUARD_RECORD_MODE": "once"}
    assert settings(environ=env).record_mode == "once"
    assert settings(environ=env, pytest_recording_mode="rewrite").record_mode == "all"
    assert (
        settings(environ=env, pytest_recording_mode="none", option_mode="all").record_mode == "all"
    )
    assert settings().record_mode == "none"


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_live_mode_from_the_environment(value):
    assert settings(environ={"FACEGUARD_LIVE": value}).live is True
    assert parse_live("0") is parse_live("") is parse_live("off") is False


@pytest.mark.parametrize(
    "kwargs",
    [
        {"option_live": True, "option_mode": "all"},
        {"environ": {"FACEGUARD_LIVE": "1", "FACEGUARD_RECORD_MODE": "once"}},
        {"option_mode": "sometimes"},
        {"environ": {"FACEGUARD_RECORD_MODE": "record"}},
        {"environ": {"FACEGUARD_LIVE": "maybe"}},
    ],
)
def test_contradictions_and_unknown_values_are_typed_errors(kwargs):
    with pytest.raises(RecordModeError) as refused:
        settings(**kwargs)
    assert isinstance(refused.value, ConfigurationError)


def test_an_unknown_failed_recordings_policy_is_refused():
    with pytest.raises(RecordModeError, match="discard, aside"):
        resolve(
            option_mode=None,
            option_live=False,
            pytest_recording_mode=None,
            failed_recordings="keep",
            environ={},
        )


# -- the docs' example is the project CI runs -----------------------------------------------------


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), re.DOTALL)


@pytest.mark.parametrize("file", ["kiosk_app.py", "tests/test_kiosk.py"])
def test_docs_testing_shows_the_example_project_verbatim(file):
    source = (ROOT / "examples" / "contract_project" / file).read_text().strip()
    blocks = [
        re.sub(r"\A# needs:.*\n", "", block).strip()
        for block in python_blocks(ROOT / "docs" / "testing.md")
    ]
    assert source in blocks


def test_ci_runs_the_example_project_from_outside_the_checkout_non_editable():
    script = (ROOT / "examples" / "contract_project" / "run_ci.sh").read_text()
    assert "bash examples/contract_project/run_ci.sh" in (ROOT / ".ci" / "run").read_text()
    assert 'pip install --quiet "$REPO[testing,emulator,consent]"' in script
    assert "pip install -e" not in script and "mktemp -d" in script
    assert "--faceguard-record-mode=all" in script and "--faceguard-live" in script
    assert "faceguard testing check-cassettes tests/cassettes" in script


# -- _recorder: which cassettes new_episodes may append to ---------------------------------------

CASSETTE = """interactions:
- request:
    body: null
    headers: {{}}
    method: {method}
    uri: https://resource.faceguard.invalid/face/v1.2/{path}
  response:
    body: {{string: '{{}}'}}
    headers: {{}}
    status: {{code: 200, message: OK}}
version: 1
"""


@pytest.mark.parametrize("mode", ["new_episodes", "any"])
@pytest.mark.parametrize(
    ("method", "path", "stateful"),
    [
        ("GET", "largepersongroups/staff", False),
        ("GET", "persongroups/00000000-face-4000-9000-00000000000a", False),  # a named id
        ("GET", "persongroups/g/persons/00000000-face-4000-8000-000000000001", True),  # issued
        ("PUT", "largepersongroups/staff", True),
        ("POST", "detect", True),
        ("DELETE", "facelists/f", True),
    ],
)
def test_appending_modes_are_refused_on_stateful_cassettes_only(
    tmp_path, mode, method, path, stateful
):
    from faceguard.testing._recorder import Recording

    cassette = tmp_path / "c.yaml"
    cassette.write_text(CASSETTE.format(method=method, path=path))
    recording = Recording(cassette, mode=mode)
    if stateful:
        with pytest.raises(RecordModeError, match="--faceguard-record-mode=all"):
            recording.open()
        assert recording.close(test_failed=False) is None
    else:
        recording.open()
        assert recording.close(test_failed=False) is None
    assert cassette.read_text() == CASSETTE.format(method=method, path=path)


@pytest.mark.parametrize(
    ("endpoint", "shown"),
    [
        ("https://user:secret@res.cognitiveservices.azure.com/?key=abc#frag",
         "https://res.cognitiveservices.azure.com/"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("not a url", "(not a URL)"),
        ("http://h:99999999", "http://h:(invalid port)"),
        ("", ""),
    ],
)  # fmt: skip
def test_the_header_line_shows_an_endpoint_without_credentials(endpoint, shown):
    from faceguard.testing._contract import _origin_only

    assert _origin_only(endpoint) == shown
