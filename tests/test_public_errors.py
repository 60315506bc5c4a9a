"""Every failure a caller can provoke through the public API is a ``FaceGuardError``.

The table test takes every operation of ``tests/_optable.py`` (each public method of the Face
and Content Safety clients, with sample arguments that pass every parameter it has), puts one
hostile value in one argument at a time, and calls the method on a real client over the
emulator. Whatever escapes must be a ``FaceGuardError``: an ``InvalidInputError`` raised before
anything is sent, or a guard refusal, or an ``APIError`` from the emulator (the hostile value
may be acceptable, such as ``None`` for an optional argument, and then the call is simply made).
A lone surrogate, a NUL or a non-finite number must never reach the wire, the guard's store or
the audit file; a ``UnicodeEncodeError``, ``TypeError``, ``OverflowError`` or ``ValueError``
must never escape.

The same goes for the public constructors around the clients (``Override``, ``GuardPolicy``)
and ``FaceClient.erase_subject`` / consent subjects.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _guard_kit import policy
from _optable import OPERATIONS, Operation
from faceguard import (
    AsyncFaceClient,
    ConfigurationError,
    ContentSafetyClient,
    FaceClient,
    FaceGuardError,
    InvalidInputError,
    RetryPolicy,
)
from faceguard._guard._audit import AuditLog
from faceguard._guard._override import Override
from faceguard._guard._policy import GuardPolicy
from faceguard.emulator import Emulator, EngineFace

ENDPOINT = "https://public-errors.invalid"

# One hostile value per class of mistake a caller can make.
HOSTILE: dict[str, Any] = {
    "lone-surrogate": "\ud800",
    "surrogate-inside": "ab\udfffcd",
    "nul": "a\x00b",
    "bytes": b"abc",
    "none": None,
    "nan": math.nan,
    "inf": math.inf,
    "huge-int": 10**400,
    "negative": -1,
    "bool": True,
    "empty-list": [],
    "surrogate-list": ["\ud800"],
    "dict": {"a": 1},
    "object": object(),
    "empty": "",
    "long": "x" * 70_000,
}


NEVER_VALID = tuple(
    f"={label}"
    for label in ("lone-surrogate", "surrogate-inside", "nan", "inf", "huge-int", "object")
)
"""Hostile values no argument of any operation takes: each must be refused as input, before
anything is sent (``None``, ``""``, ``-1``, ``True`` and the like are valid for some)."""


class _NoFaces:
    """A ``FaceEngine`` that finds no face: the table is about arguments, not faces."""

    def detect(self, image: bytes) -> list[EngineFace]:
        return []

    def confidence(self, a: bytes, b: bytes) -> float:
        return 0.0


def _client(row: Operation, emulator: Emulator, audit: AuditLog | None) -> Any:
    common: dict[str, Any] = {
        "api_key": "public-errors-key",
        "transport": emulator.transport(),
        "retry": RetryPolicy(max_attempts=1),
        "sleep": lambda _s: None,
    }
    if row.client == "face":
        guard = policy()
        if audit is not None:
            guard = GuardPolicy(**{**vars(guard), "audit": audit})
        return FaceClient(ENDPOINT, guard=guard, **common)
    return ContentSafetyClient(ENDPOINT, **common)


def _method(client: Any, row: Operation) -> Any:
    owner = client if row.group is None else getattr(client, row.group)
    return getattr(owner, row.method)


def _variants(row: Operation) -> Iterator[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """The row's call with one argument replaced by each hostile value in turn."""
    for index in range(len(row.args)):
        for name, value in HOSTILE.items():
            args = list(row.args)
            args[index] = value
            yield f"arg{index}={name}", tuple(args), dict(row.kwargs)
    for key in row.kwargs:
        for name, value in HOSTILE.items():
            yield f"{key}={name}", row.args, {**row.kwargs, key: value}


def _call(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> object:
    result = method(*args, **kwargs)
    if hasattr(result, "__iter__") and not isinstance(result, list | dict | bytes | str):
        # Pagers are lazy: the first page is what sends.
        return next(iter(result), None)
    if hasattr(result, "wait"):
        return result
    return result


@pytest.mark.parametrize("row", OPERATIONS, ids=lambda r: f"{r.operation_id}")
def test_hostile_arguments_raise_only_face_guard_errors(row: Operation, tmp_path: Path) -> None:
    emulator = Emulator(engine=_NoFaces())
    audit = AuditLog(tmp_path / "audit.jsonl")
    escaped: list[str] = []
    try:
        with _client(row, emulator, audit) as client:
            method = _method(client, row)
            for label, args, kwargs in _variants(row):
                sent = len(emulator.faults.traffic())
                try:
                    _call(method, args, kwargs)
                except InvalidInputError:
                    pass
                except FaceGuardError:
                    if label.endswith(NEVER_VALID):
                        escaped.append(f"{label}: not refused as input")
                except Exception as error:  # noqa: BLE001 - the point of the test
                    escaped.append(f"{label}: {type(error).__name__}")
                else:
                    if label.endswith(NEVER_VALID):
                        escaped.append(f"{label}: accepted")
                if label.endswith(NEVER_VALID) and len(emulator.faults.traffic()) != sent:
                    escaped.append(f"{label}: reached the service")
    finally:
        audit.close()
    assert escaped == [], f"{row.call}: non-FaceGuardError escaped:\n" + "\n".join(escaped)
    assert "\\ud800" not in (tmp_path / "audit.jsonl").read_text()


@pytest.mark.parametrize("label", ["lone-surrogate", "surrogate-inside"])
def test_unencodable_text_is_refused_before_anything_is_sent(label: str) -> None:
    """Names, user data, container ids and URLs: refused as input, with the wire untouched."""
    emulator = Emulator(engine=_NoFaces())
    value = HOSTILE[label]
    calls = [
        lambda c: c.person_groups.create("group-a", name=value),
        lambda c: c.person_groups.create("group-a", name="Ada", user_data=value),
        lambda c: c.person_groups.create_person("group-a", name=value),
        lambda c: c.face_lists.update("list-a", name=value),
        lambda c: c.large_face_lists.create(value, name="x"),
        lambda c: c.detection.detect(value),
        lambda c: c.detection.detect("https://example.com/" + value),
        lambda c: c.liveness.create_session(
            liveness_operation_mode="Passive", device_correlation_id=value
        ),
        lambda c: c.liveness.get_session_result(value),
        lambda c: c.recognition.verify_face_to_face(
            "c5c24a82-6845-4031-9d5d-978df9175426",
            "015839fb-fbd9-4f79-ace9-7675fc2f1dd9",
            consent=value,
        ),
    ]
    with FaceClient(
        ENDPOINT,
        api_key="k",
        transport=emulator.transport(),
        retry=RetryPolicy(max_attempts=1),
        guard=policy(),
    ) as client:
        for index, call in enumerate(calls):
            before = len(emulator.faults.traffic())
            with pytest.raises(FaceGuardError) as info:
                call(client)
            assert len(emulator.faults.traffic()) == before, f"call {index} reached the wire"
            assert value not in str(info.value), "the message echoes the hostile value"
            assert isinstance(info.value, InvalidInputError), (index, info.value)


def test_async_client_refuses_a_lone_surrogate_as_input() -> None:
    emulator = Emulator(engine=_NoFaces())

    async def run() -> None:
        async with AsyncFaceClient(
            ENDPOINT, api_key="k", transport=emulator.transport(), guard=policy()
        ) as client:
            with pytest.raises(InvalidInputError):
                await client.person_groups.create("group-a", name="\ud800")
            with pytest.raises(InvalidInputError):
                await client.liveness.create_session(
                    liveness_operation_mode="Passive", device_correlation_id="\ud800" * 36
                )
            # Only the last check before the transport sees a consent token: async too.
            with pytest.raises(InvalidInputError) as info:
                await client.recognition.verify_face_to_face(
                    "c5c24a82-6845-4031-9d5d-978df9175426",
                    "015839fb-fbd9-4f79-ace9-7675fc2f1dd9",
                    consent="token\udfff",
                )
            assert info.value.parameter == "consent"

    asyncio.run(run())
    assert emulator.faults.traffic() == []


# -- constructors and helpers around the clients ------------------------------------------------


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_override_refuses_any_hostile_rule_or_reason_with_a_face_guard_error(label: str) -> None:
    value = HOSTILE[label]
    with pytest.raises(FaceGuardError):
        Override(value, "a perfectly good reason for this")
    with pytest.raises(FaceGuardError):
        Override("liveness_session_cap", value)


@pytest.mark.parametrize(
    "field",
    ["liveness_sessions_per_device", "liveness_window", "liveness_sessions_per_application"],
)
@pytest.mark.parametrize("label", ["nan", "inf", "negative", "huge-int", "none", "bytes", "bool"])
def test_guard_policy_refuses_hostile_numbers_with_a_face_guard_error(
    field: str, label: str
) -> None:
    value = HOSTILE[label]
    if label == "huge-int" and field != "liveness_window":
        GuardPolicy(**{field: value})  # a huge cap is just a large cap
        return
    with pytest.raises(FaceGuardError):
        GuardPolicy(**{field: value})


def test_guard_policy_errors_stay_value_errors_for_old_callers() -> None:
    with pytest.raises(ValueError):
        GuardPolicy(liveness_window=0)
    with pytest.raises(ValueError):
        Override("consent", "because the demo must go on")


@pytest.mark.parametrize("label", ["lone-surrogate", "surrogate-inside", "bytes", "none", "empty"])
def test_erase_subject_refuses_hostile_subjects(label: str) -> None:
    emulator = Emulator(engine=_NoFaces())
    client = FaceClient(ENDPOINT, api_key="k", transport=emulator.transport(), guard=policy())
    with client, pytest.raises(FaceGuardError):
        client.erase_subject(HOSTILE[label])


def test_every_public_method_of_the_table_was_exercised() -> None:
    """The table covers every builder-backed method of both sync clients. A method that
    shares its builder with one the table calls (``client.oversight.identify_*`` and
    ``client.recognition.identify_*``) is covered by it: the input checks are the builder's."""
    called = {(row.client, row.group, row.method) for row in OPERATIONS}
    for kind, client_class in (("face", FaceClient), ("contentsafety", ContentSafetyClient)):
        with client_class(ENDPOINT, api_key="k", transport=Emulator().transport()) as client:
            owners = {None: client} | {
                name: getattr(client, name)
                for name in dir(client)
                if not name.startswith("_")
                and hasattr(getattr(client, name), "_transport")
                and name != "_transport"
            }
            methods = [
                (group, name, member._builder)
                for group, owner in owners.items()
                for name, member in inspect.getmembers(type(owner))
                if hasattr(member, "_builder")
            ]
            tested = {
                id(builder) for group, name, builder in methods if (kind, group, name) in called
            }
            for group, name, builder in methods:
                covered = (kind, group, name) in called or id(builder) in tested
                assert covered, f"{kind}.{group}.{name} untested"


# -- the common cases are named by their own check, not only by the backstop -------------------

JPEG = b"\xff\xd8\xff\xe0" + bytes(4000)
FACE_ID = "c5c24a82-6845-4031-9d5d-978df9175426"

NAMED: list[tuple[str, Any, str, str]] = [
    ("nul-path", lambda c: c.detection.detect("face\x00.jpg"), "image", "file"),
    ("surrogate-path", lambda c: c.detection.detect("face\ud800.jpg"), "image", "file"),
    (
        "surrogate-url",
        lambda c: c.detection.detect("https://example.com/\ud800.jpg"),
        "image",
        "url",
    ),
    (
        "nul-path-add-face",
        lambda c: c.face_lists.add_face("list-a", "a\x00b", consent="t"),
        "image",
        "file",
    ),
    (
        "attributes-none",
        lambda c: c.detection.detect(JPEG, return_face_attributes=None),
        "return_face_attributes",
        "type",
    ),
    (
        "attributes-int",
        lambda c: c.detection.detect(JPEG, return_face_attributes=3),
        "return_face_attributes",
        "type",
    ),
    (
        "threshold-huge-int",
        lambda c: c.recognition.identify_from_person_group(
            [FACE_ID], person_group_id="g", confidence_threshold=10**400, consent="t"
        ),
        "confidence_threshold",
        "type",
    ),
    ("name-surrogate", lambda c: c.person_groups.create("g", name="\ud800"), "name", "unicode"),
    (
        "user-data-surrogate",
        lambda c: c.large_face_lists.update_face("l", FACE_ID, user_data="x\udfff"),
        "user_data",
        "unicode",
    ),
    ("subject-surrogate", lambda c: c.erase_subject("p-\ud800"), "subject", "unicode"),
]


@pytest.mark.parametrize(("label", "call", "parameter", "rule"), NAMED, ids=[n[0] for n in NAMED])
def test_common_hostile_values_are_named_by_their_parameter(
    label: str, call: Any, parameter: str, rule: str
) -> None:
    emulator = Emulator(engine=_NoFaces())
    client = FaceClient(ENDPOINT, api_key="k", transport=emulator.transport(), guard=policy())
    with client, pytest.raises(InvalidInputError) as info:
        call(client)
    assert (info.value.parameter, info.value.rule) == (parameter, rule)
    assert emulator.faults.traffic() == []


def test_an_unforeseen_failure_inside_a_builder_is_typed_without_its_message() -> None:
    """The backstop: a builder that breaks on an argument in a way no check foresaw."""
    from faceguard._operations._shell import sync_call

    def builder(value: object) -> Any:
        raise KeyError(f"secret-{value}")

    operation = sync_call(builder)

    class Owner:
        _transport = None

    with pytest.raises(InvalidInputError) as info:
        operation.__get__(Owner(), Owner)("hunter2")
    assert info.value.rule == "invalid" and "KeyError" in str(info.value)
    assert "hunter2" not in str(info.value) and info.value.__cause__ is None
    with pytest.raises(InvalidInputError) as signature:
        operation.__get__(Owner(), Owner)("a", "b")
    assert signature.value.rule == "signature"


# -- building a client -------------------------------------------------------------------------

CLIENT_ARGUMENTS = ["endpoint", "api_key", "timeout", "rate_limit", "guard", "retry"]
CONFIG_HOSTILE = [
    "lone-surrogate",
    "nul",
    "bytes",
    "nan",
    "inf",
    "huge-int",
    "negative",
    "object",
    "dict",
]


@pytest.mark.parametrize("client_class", [FaceClient, ContentSafetyClient, AsyncFaceClient])
@pytest.mark.parametrize("argument", CLIENT_ARGUMENTS)
def test_hostile_client_arguments_raise_face_guard_errors(client_class: Any, argument: str) -> None:
    """Building a client (and its first call) with one hostile argument: typed, and the
    hostile value is not echoed."""
    emulator = Emulator(engine=_NoFaces())
    escaped: list[str] = []
    for label in CONFIG_HOSTILE:
        value = HOSTILE[label]
        kwargs: dict[str, Any] = {
            "endpoint": ENDPOINT,
            "api_key": "public-errors-key",
            "transport": emulator.transport(),
            argument: value,
        }
        if argument == "guard" and client_class is ContentSafetyClient:
            continue  # Content Safety clients take no guard
        try:
            client = client_class(**kwargs)
            if client_class is AsyncFaceClient:

                async def first(client: Any = client) -> None:
                    async with client:
                        await client.liveness.get_session_result("s-1")

                asyncio.run(first())
            else:
                with client:
                    if client_class is FaceClient:
                        client.liveness.get_session_result("s-1")
                    else:
                        client.blocklists.get("sample-blocklist")
        except FaceGuardError as error:
            if isinstance(value, str) and len(value) > 1:
                assert value not in str(error)
        except Exception as error:  # noqa: BLE001 - the point of the test
            escaped.append(f"{argument}={label}: {type(error).__name__}")
    assert escaped == [], "\n".join(escaped)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_attempts", 0),
        ("max_attempts", None),
        ("max_attempts", 1.5),
        ("jitter", math.nan),
        ("jitter", 2.0),
        ("backoff_base", -1.0),
        ("backoff_cap", math.inf),
        ("retry_after_cap", "10"),
        ("backoff_base", 10**400),
    ],
    ids=lambda value: repr(value)[:20],
)
def test_retry_policy_refuses_hostile_values_typed(field: str, value: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        RetryPolicy(**{field: value})
    assert info.value.parameter == field


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tps": math.nan},
        {"tps": 10**400},
        {"tps": "10"},
        {"tps": 5, "burst": 0},
        {"tps": 5, "max_wait": math.nan},
        {"tps": 5, "max_wait": "1"},
        {"tps": 5, "name": "\ud800"},
        {"tps": 5, "name": 3},
    ],
)
def test_rate_limiter_refuses_hostile_values_typed(kwargs: dict[str, Any]) -> None:
    from faceguard import RateLimiter

    with pytest.raises(InvalidInputError):
        RateLimiter(**kwargs)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://res\ud800.cognitiveservices.azure.com",
        "https://res.cognitiveservices.azure.com/\udfff",
        "https://res.cognitiveservices.azure.com/\x00",
        "https://res.cognitiveservices.azure.com/face\n",
    ],
)
def test_an_endpoint_that_is_not_printable_ascii_is_a_configuration_error(endpoint: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        FaceClient(endpoint, api_key="k", transport=Emulator().transport())
    assert "\ud800" not in str(info.value) and "\udfff" not in str(info.value)


@pytest.mark.parametrize("timeout", [math.nan, math.inf, -math.inf, 10**400, 0, -1])
def test_a_timeout_that_is_not_finite_and_positive_is_a_configuration_error(timeout: Any) -> None:
    with pytest.raises(ConfigurationError):
        FaceClient(ENDPOINT, api_key="k", timeout=timeout, transport=Emulator().transport())


_AUDIT_FULL_SCRIPT = r"""
import resource, signal, sys
sys.path.insert(0, sys.argv[2])
from pathlib import Path
import _guard_kit as kit
from faceguard import FaceClient, FaceGuardError, RetryPolicy
from faceguard._guard._audit import AuditLog
from faceguard._guard._policy import GuardPolicy
from faceguard.emulator import Emulator

class NoFaces:
    def detect(self, image): return []
    def confidence(self, a, b): return 0.0

path = Path(sys.argv[1])
log = AuditLog(path)
guard = GuardPolicy(**{**vars(kit.policy()), "audit": log})
emulator = Emulator(engine=NoFaces())
client = FaceClient("https://full.cognitiveservices.azure.com", api_key="k",
                    transport=emulator.transport(), guard=guard,
                    retry=RetryPolicy(max_attempts=1))
client.person_groups.create("pg-sample", name="Staff")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size + 8, resource.RLIM_INFINITY))
sent = len(emulator.faults.traffic())
try:
    client.recognition.verify_face_to_face(
        "c5c24a82-6845-4031-9d5d-978df9175426", "015839fb-fbd9-4f79-ace9-7675fc2f1dd9",
        consent=kit.TOKEN)
except FaceGuardError as error:
    print("typed", type(error).__name__, len(emulator.faults.traffic()) - sent)
except BaseException as error:
    print("untyped", type(error).__name__)
"""


def test_an_audit_file_that_cannot_be_written_is_a_typed_error(tmp_path: Path) -> None:
    """The end check of the audit log's OSError (another module's): a full disk, simulated
    by a file-size limit in a child process, surfaces through a client call as a
    FaceGuardError."""
    import subprocess
    import sys

    tests = str(Path(__file__).parent)
    result = subprocess.run(
        [sys.executable, "-c", _AUDIT_FULL_SCRIPT, str(tmp_path / "audit.jsonl"), tests],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.startswith("typed AuditError"), result.stdout + result.stderr


def _spec(**fields: Any) -> Any:
    from faceguard._transport._spec import GuardInfo, RequestSpec

    guard = fields.pop("guard", GuardInfo())
    return RequestSpec(
        operation="Synthetic_Op",
        method="POST",
        route="/synthetic",
        parse=lambda raw: None,
        guard=guard,
        **fields,
    )


def _guard_info(**fields: Any) -> Any:
    from faceguard._transport._spec import GuardInfo

    return GuardInfo(**fields)


@pytest.mark.parametrize(
    ("label", "spec", "parameter"),
    [
        ("json-nan", lambda: _spec(json={"threshold": math.nan}), "body.threshold"),
        ("json-inf-in-list", lambda: _spec(json={"xs": [1.0, math.inf]}), "body.xs[1]"),
        ("json-huge-int", lambda: _spec(json={"top": 10**400}), "body.top"),
        ("json-bytes", lambda: _spec(json={"userData": b"x"}), "body.userData"),
        ("json-key", lambda: _spec(json={1: "x"}), "body"),
        ("json-surrogate-key", lambda: _spec(json={"\ud800": "x"}), "body"),
        ("query-not-text", lambda: _spec(query={"top": 5}), "query top"),
        ("query-surrogate", lambda: _spec(query={"start": "\ud800"}), "query start"),
        (
            "path-surrogate",
            lambda: _spec(path_params={"personGroupId": "\ud800"}),
            "path personGroupId",
        ),
        ("consent-surrogate", lambda: _spec(guard=_guard_info(consent="t\ud800")), "consent"),
        ("consent-bytes", lambda: _spec(guard=_guard_info(consent=b"t")), "consent"),
        (
            "face-id-surrogate",
            lambda: _spec(guard=_guard_info(face_ids=("\ud800",))),
            "face_ids[0]",
        ),
        ("face-id-int", lambda: _spec(guard=_guard_info(face_ids=(5,))), "face_ids[0]"),
        (
            "device-surrogate",
            lambda: _spec(guard=_guard_info(device_correlation_id="\udfff")),
            "device_correlation_id",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_built_request_that_cannot_be_sent_is_refused_as_input(
    label: str, spec: Any, parameter: str
) -> None:
    """The last check before the transport, fed requests no builder makes today: a builder
    added later that forgets a check still fails typed, naming the wire field."""
    from faceguard._operations._inputs import check_sendable

    with pytest.raises(InvalidInputError) as info:
        check_sendable(spec())
    assert info.value.parameter == parameter
    assert "\ud800" not in str(info.value)


def test_a_sendable_request_passes_the_last_check() -> None:
    from faceguard._operations._inputs import check_sendable

    check_sendable(
        _spec(
            json={"name": "Zoë", "xs": [1, 2.5, True, None, {"k": "ü"}], "n": 2**53},
            query={"start": "ä"},
            path_params={"personGroupId": "g"},
            guard=_guard_info(consent="t", face_ids=("f",), device_correlation_id="d"),
        )
    )


BOOLEAN_ARGUMENTS: list[tuple[str, Any]] = [
    ("return_face_id", lambda c, v: c.detection.detect(JPEG, return_face_id=v, consent="t")),
    ("return_face_landmarks", lambda c, v: c.detection.detect(JPEG, return_face_landmarks=v)),
    (
        "return_recognition_model",
        lambda c, v: c.person_groups.get("g", return_recognition_model=v),
    ),
    (
        "enable_session_image",
        lambda c, v: c.liveness.create_session(
            liveness_operation_mode="Passive",
            device_correlation_id="3f0c9a52-7d1e-4b8a-9c6f-2e5d8a1b4c7e",
            enable_session_image=v,
        ),
    ),
    (
        "device_correlation_id_set_in_client",
        lambda c, v: c.liveness.create_session(
            liveness_operation_mode="Passive", device_correlation_id_set_in_client=v
        ),
    ),
    (
        "return_verify_image_hash",
        lambda c, v: c.liveness.create_with_verify_session(
            verify_image=JPEG,
            liveness_operation_mode="Passive",
            return_verify_image_hash=v,
            consent="t",
        ),
    ),
]


@pytest.mark.parametrize("value", ["yes", "false", 1, 0, 1.0], ids=repr)
@pytest.mark.parametrize(
    ("parameter", "call"), BOOLEAN_ARGUMENTS, ids=[b[0] for b in BOOLEAN_ARGUMENTS]
)
def test_a_boolean_argument_takes_only_true_or_false(parameter: str, call: Any, value: Any) -> None:
    """``"false"`` is truthy: a flag given anything but a bool would be sent as whatever its
    truth value happens to be."""
    emulator = Emulator(engine=_NoFaces())
    client = FaceClient(ENDPOINT, api_key="k", transport=emulator.transport(), guard=policy())
    with client, pytest.raises(InvalidInputError) as info:
        call(client, value)
    assert (info.value.parameter, info.value.rule) == (parameter, "type")
    assert emulator.faults.traffic() == []


@pytest.mark.parametrize("value", ["yes", 1, 0.0])
def test_halt_on_blocklist_hit_takes_only_true_or_false(value: Any) -> None:
    emulator = Emulator(engine=_NoFaces())
    client = ContentSafetyClient(ENDPOINT, api_key="k", transport=emulator.transport())
    with client, pytest.raises(InvalidInputError) as info:
        client.analyze_text("some text", halt_on_blocklist_hit=value)
    assert info.value.parameter == "halt_on_blocklist_hit"


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("timeout", math.nan),
        ("timeout", -1),
        ("timeout", "10"),
        ("timeout", 10**400),
        ("interval", math.nan),
        ("interval", math.inf),
        ("interval", -0.5),
        ("interval", b"1"),
        ("progress", "print"),
    ],
    ids=lambda value: repr(value)[:12],
)
def test_a_training_wait_refuses_hostile_arguments_before_polling(
    argument: str, value: Any
) -> None:
    """A NaN timeout never runs out (the wait would hang), a NaN interval fails inside
    ``time.sleep``, a string fails in arithmetic: all refused before the first poll."""
    emulator = Emulator(engine=_NoFaces(), training_delay=3600.0)
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)  # an unchecked NaN timeout polls forever: fail instead
        assert len(naps) < 20, "wait() kept polling a training that never ends"

    client = FaceClient(
        ENDPOINT, api_key="k", transport=emulator.transport(), guard=policy(), sleep=sleep
    )
    with client:
        client.large_person_groups.create("lpg-a", name="Staff")
        poller = client.large_person_groups.train("lpg-a")
        polled = len(emulator.faults.traffic())
        with pytest.raises(InvalidInputError) as info:
            poller.wait(**{argument: value})
        assert info.value.parameter == argument
        assert len(emulator.faults.traffic()) == polled


def test_an_async_training_wait_refuses_a_nan_timeout() -> None:
    emulator = Emulator(engine=_NoFaces(), training_delay=3600.0)

    naps: list[float] = []

    async def sleep(seconds: float) -> None:
        naps.append(seconds)
        assert len(naps) < 20, "wait() kept polling a training that never ends"

    async def run() -> None:
        async with AsyncFaceClient(
            ENDPOINT, api_key="k", transport=emulator.transport(), guard=policy(), sleep=sleep
        ) as client:
            await client.large_person_groups.create("lpg-a", name="Staff")
            poller = await client.large_person_groups.train("lpg-a")
            with pytest.raises(InvalidInputError):
                await poller.wait(timeout=math.nan)

    asyncio.run(run())


# -- bulk helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["none", "nan", "huge-int", "object", "bytes", "lone-surrogate"])
def test_bulk_helpers_refuse_items_that_are_not_a_collection(label: str) -> None:
    from faceguard.bulk import bulk_add_faces, bulk_detect

    emulator = Emulator(engine=_NoFaces())
    client = FaceClient(ENDPOINT, api_key="k", transport=emulator.transport(), guard=policy())
    with client:
        with pytest.raises(InvalidInputError) as info:
            bulk_detect(client, HOSTILE[label], progress=False)
        assert info.value.parameter == "items"
        with pytest.raises(InvalidInputError):
            bulk_add_faces(client.face_lists, "fl-sample", HOSTILE[label], progress=False)
    assert emulator.faults.traffic() == []


def test_bulk_detect_refuses_an_unknown_detect_option_typed() -> None:
    from faceguard.bulk import BulkImage, bulk_detect

    emulator = Emulator(engine=_NoFaces())
    client = FaceClient(ENDPOINT, api_key="k", transport=emulator.transport(), guard=policy())
    with client, pytest.raises(InvalidInputError) as info:
        bulk_detect(client, [BulkImage("a", JPEG)], progress=False, return_face_idd=True)
    assert "return_face_idd" in str(info.value)


@pytest.mark.parametrize("label", ["lone-surrogate", "nul", "none", "nan", "object"])
def test_a_sqlite_journal_path_that_cannot_be_a_path_is_typed(label: str) -> None:
    from faceguard.bulk import SQLiteJournal

    with pytest.raises(FaceGuardError):
        SQLiteJournal(HOSTILE[label])
