"""The public surface: exported names, sync/async parity, docstrings, and a side-effect-free
import."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import pytest

import faceguard
import faceguard.models
from faceguard import (
    AsyncContentSafetyClient,
    AsyncFaceClient,
    AsyncPager,
    ContentSafetyClient,
    FaceClient,
    SyncPager,
)
from faceguard._operations._shell import AsyncGroup, SyncGroup

ENDPOINT = "https://unit-test.cognitiveservices.azure.com"
SPEC_DIR = pathlib.Path(__file__).parent / "data" / "spec"

EXPECTED_ALL = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AdaptiveRate",
    "AgeAttestation",
    "AsyncContentSafetyClient",
    "AsyncFaceClient",
    "AsyncPager",
    "AsyncProvisional",
    "AsyncReview",
    "AsyncTrainingPoller",
    "AuditError",
    "AuditLog",
    "AuditVerdict",
    "AuthenticationError",
    "BadRequestError",
    "ChainReport",
    "ConfigurationError",
    "ConflictError",
    "ConsentClaims",
    "ConsentIssuer",
    "ConsentLedger",
    "ConsentRejectedError",
    "ConsentRequiredError",
    "ConsentRequirements",
    "ConsentScope",
    "ConsentVerifier",
    "ContentSafetyClient",
    "Deployment",
    "DetectionModel",
    "ErasurePlan",
    "FaceAttributeType",
    "FaceClient",
    "FaceGuardError",
    "FaceIdError",
    "FindSimilarMatchMode",
    "GuardError",
    "GuardPolicy",
    "GuardStore",
    "GuardStoreError",
    "ImageOrigin",
    "InternalServerError",
    "InvalidImageError",
    "InvalidInputError",
    "Jurisdiction",
    "LegalBasis",
    "LivenessGuardError",
    "LivenessOperationMode",
    "MemoryStore",
    "NotFoundError",
    "Notice",
    "OperationError",
    "Override",
    "OversightError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PersonalDataError",
    "PollingTimeoutError",
    "Provisional",
    "ProvisionalResultError",
    "RateLimitError",
    "RateLimitWaitError",
    "RateLimiter",
    "RecognitionModel",
    "RedisStore",
    "Retention",
    "RetentionDue",
    "RetiredAttributeError",
    "RetryPolicy",
    "Review",
    "SQLiteStore",
    "StatusListError",
    "StatusListIssuer",
    "StatusLists",
    "StoreKeyError",
    "SupportInfo",
    "SweepReport",
    "TrackingCapError",
    "TrainingFailedError",
    "TrainingPoller",
    "UnknownRouteError",
    "UnsupportedMediaTypeError",
    "UseCase",
    "UseCaseError",
    "__version__",
    "destroy_by",
    "generate_keypair",
    "requirements_for",
    "verify_chain",
    "verify_log",
]

FACE_GROUPS = {
    "detection",
    "recognition",
    "oversight",
    "face_lists",
    "large_face_lists",
    "person_groups",
    "large_person_groups",
    "liveness",
}
SAFETY_GROUPS = {"blocklists"}


# =============================================================================================
# exported names
# =============================================================================================


def test_all_is_sorted():
    assert faceguard.__all__ == sorted(faceguard.__all__)


def test_all_is_pinned():
    assert faceguard.__all__ == EXPECTED_ALL
    assert len(set(faceguard.__all__)) == len(faceguard.__all__)


def test_every_exported_name_resolves():
    for name in faceguard.__all__:
        assert getattr(faceguard, name) is not None, name
    namespace: dict[str, Any] = {}
    exec("from faceguard import *", namespace)
    assert set(EXPECTED_ALL) <= set(namespace)


def test_version_is_a_string():
    assert isinstance(faceguard.__version__, str)
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", faceguard.__version__)


def test_models_all_is_sorted_and_resolves():
    names = faceguard.models.__all__
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    missing = [name for name in names if not hasattr(faceguard.models, name)]
    assert missing == []


@pytest.mark.parametrize("name", [n for n in EXPECTED_ALL if n != "__version__"])
def test_public_classes_report_the_public_module(name):
    obj = getattr(faceguard, name)
    assert isinstance(obj, type) or inspect.isfunction(obj), f"{name}: not a class or function"
    assert obj.__module__ == "faceguard"
    assert obj.__qualname__ == name


def test_errors_name_their_public_location_in_tracebacks():
    error = faceguard.InvalidInputError("top", "range", "must be within 1..1000")
    assert f"{type(error).__module__}.{type(error).__qualname__}" == "faceguard.InvalidInputError"


# =============================================================================================
# sync / async parity
# =============================================================================================


def _no_requests(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected request: {request.method} {request.url}")


@pytest.fixture
def clients() -> Iterator[dict[str, Any]]:
    transport = httpx.MockTransport(_no_requests)
    made = {
        "face": FaceClient(ENDPOINT, api_key="k", transport=transport),
        "async_face": AsyncFaceClient(ENDPOINT, api_key="k", transport=transport),
        "safety": ContentSafetyClient(ENDPOINT, api_key="k", transport=transport),
        "async_safety": AsyncContentSafetyClient(ENDPOINT, api_key="k", transport=transport),
    }
    yield made
    made["face"].close()
    made["safety"].close()
    asyncio.run(made["async_face"].aclose())
    asyncio.run(made["async_safety"].aclose())


def _groups(client: object, base: type) -> dict[str, object]:
    return {name: value for name, value in vars(client).items() if isinstance(value, base)}


def _public_methods(obj: object) -> set[str]:
    return {
        name for name in dir(type(obj)) if not name.startswith("_") and callable(getattr(obj, name))
    }


def _params(function: Any) -> list[tuple[str, Any, Any, Any]]:
    return [
        (p.name, p.kind, p.default, p.annotation)
        for p in inspect.signature(function).parameters.values()
    ]


def _pairs(clients: dict[str, Any]) -> Iterator[tuple[str, object, object]]:
    """(label, sync group, async group) for every operation group of both client pairs."""
    for sync_key, async_key in (("face", "async_face"), ("safety", "async_safety")):
        sync_groups = _groups(clients[sync_key], SyncGroup)
        async_groups = _groups(clients[async_key], AsyncGroup)
        assert set(sync_groups) == set(async_groups)
        for name in sorted(sync_groups):
            yield f"{sync_key}.{name}", sync_groups[name], async_groups[name]


def test_clients_have_the_expected_groups(clients):
    assert set(_groups(clients["face"], SyncGroup)) == FACE_GROUPS
    assert set(_groups(clients["async_face"], AsyncGroup)) == FACE_GROUPS
    assert set(_groups(clients["safety"], SyncGroup)) == SAFETY_GROUPS
    assert set(_groups(clients["async_safety"], AsyncGroup)) == SAFETY_GROUPS


def test_sync_and_async_groups_have_the_same_methods_and_signatures(clients):
    checked = 0
    for label, sync_group, async_group in _pairs(clients):
        assert type(async_group).__name__ == "Async" + type(sync_group).__name__
        names = _public_methods(sync_group)
        assert names, label
        assert names == _public_methods(async_group), label
        for name in sorted(names):
            assert _params(getattr(sync_group, name)) == _params(getattr(async_group, name)), (
                f"{label}.{name}"
            )
            checked += 1
    assert checked >= 70  # every operation of both services


def test_client_level_operations_match(clients):
    for sync_key, async_key in (("face", "async_face"), ("safety", "async_safety")):
        sync_client, async_client = clients[sync_key], clients[async_key]
        sync_names = _public_methods(sync_client) - {"close"}
        async_names = _public_methods(async_client) - {"aclose"}
        assert sync_names == async_names
        for name in sync_names:
            assert _params(getattr(sync_client, name)) == _params(getattr(async_client, name))
        assert not inspect.iscoroutinefunction(sync_client.close)
        assert inspect.iscoroutinefunction(async_client.aclose)
    assert inspect.iscoroutinefunction(clients["async_safety"].analyze_text)
    assert not inspect.iscoroutinefunction(clients["safety"].analyze_text)


def test_client_constructors_match():
    for sync_cls, async_cls in (
        (FaceClient, AsyncFaceClient),
        (ContentSafetyClient, AsyncContentSafetyClient),
    ):
        sync_params = [(p.name, p.kind, p.default) for p in _init_params(sync_cls)]
        async_params = [(p.name, p.kind, p.default) for p in _init_params(async_cls)]
        assert sync_params == async_params


def _init_params(cls: type) -> list[inspect.Parameter]:
    return list(inspect.signature(cls).parameters.values())


# Sample values for every required parameter, by name: enough for the builders to accept.
UUID1 = "6f2b5c1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b"
UUID2 = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2048
SAMPLES: dict[str, Any] = {
    "container_id": "c-1",
    "person_id": UUID1,
    "persisted_face_id": UUID2,
    "image": JPEG,
    "verify_image": JPEG,
    "face_id": UUID1,
    "face_id1": UUID1,
    "face_id2": UUID2,
    "face_ids": [UUID1, UUID2],
    "person_ids": ["*"],
    "person_group_id": "g-1",
    "large_person_group_id": "g-1",
    "dynamic_person_group_id": "g-1",
    "face_list_id": "l-1",
    "large_face_list_id": "l-1",
    "name": "n",
    "session_id": "session-1",
    "session_image_id": "image-1",
    "liveness_operation_mode": "Passive",
    "blocklist_name": "list-1",
    "items": ["term"],
    "item_ids": ["item-1"],
    "item_id": "item-1",
    "text": "hello",
}


def _call_with_samples(method: Any) -> Any:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in inspect.signature(method).parameters.values():
        if p.default is not inspect.Parameter.empty:
            continue
        assert p.name in SAMPLES, f"add a sample value for {p.name!r}"
        if p.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[p.name] = SAMPLES[p.name]
        else:
            args.append(SAMPLES[p.name])
    return method(*args, **kwargs)


def test_async_operations_are_coroutines_and_pagers_are_async_pagers(clients):
    pagers = coroutines = 0
    for label, sync_group, async_group in _pairs(clients):
        for name in sorted(_public_methods(sync_group)):
            sync_method, async_method = getattr(sync_group, name), getattr(async_group, name)
            returns = inspect.signature(sync_method).return_annotation
            if str(returns).startswith("SyncPager"):
                # Lazy on both sides: creating a pager sends nothing (the transport would fail).
                assert isinstance(_call_with_samples(sync_method), SyncPager), f"{label}.{name}"
                assert not inspect.iscoroutinefunction(async_method), f"{label}.{name}"
                assert isinstance(_call_with_samples(async_method), AsyncPager), f"{label}.{name}"
                assert str(inspect.signature(async_method).return_annotation).startswith(
                    "AsyncPager["
                )
                pagers += 1
            else:
                assert not inspect.iscoroutinefunction(sync_method), f"{label}.{name}"
                assert inspect.iscoroutinefunction(async_method), f"{label}.{name}"
                coroutine = _call_with_samples(async_method)
                assert inspect.iscoroutine(coroutine), f"{label}.{name}"
                coroutine.close()  # never awaited: nothing is sent
                coroutines += 1
    assert pagers == 8  # 3 person/face container lists, 2 person lists, 1 face list, 2 CS lists
    assert coroutines > 60


def test_async_train_returns_an_async_poller_annotation(clients):
    for group in ("person_groups", "large_person_groups", "large_face_lists"):
        sync_train = getattr(clients["face"], group).train
        async_train = getattr(clients["async_face"], group).train
        assert inspect.signature(sync_train).return_annotation == "TrainingPoller"
        assert inspect.signature(async_train).return_annotation == "AsyncTrainingPoller"
        assert inspect.iscoroutinefunction(async_train)


# =============================================================================================
# docstrings
# =============================================================================================


def _spec_operations(name: str) -> dict[str, tuple[str, str]]:
    spec = json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))
    operations: dict[str, tuple[str, str]] = {}
    for key in ("paths", "x-ms-paths"):
        for path, item in spec.get(key, {}).items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    route = path.split("?", 1)[0]  # drop the spec's ?_overload= artefact
                    operations[operation["operationId"]] = (method.upper(), route)
    return operations


def _documented_methods(clients: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(service spec file, label, method) for every public operation, sync and async."""
    for key, spec in (
        ("face", "Face.json"),
        ("async_face", "Face.json"),
        ("safety", "contentsafety.json"),
        ("async_safety", "contentsafety.json"),
    ):
        client = clients[key]
        for group_name, group in _groups(client, (SyncGroup, AsyncGroup)).items():
            for name in sorted(_public_methods(group)):
                yield spec, f"{key}.{group_name}.{name}", getattr(group, name)
        yield spec, f"{key}.analyze_text", getattr(client, "analyze_text", None)


_REST = re.compile(r"REST: ``(GET|POST|PUT|PATCH|DELETE) (/\S*?)``")
_OPERATION_ID = re.compile(r"``([A-Z][A-Za-z]+_[A-Z][A-Za-z]+)``")


def test_every_operation_docstring_names_its_rest_route_and_guard_checks(clients):
    specs = {
        "Face.json": _spec_operations("Face.json"),
        "contentsafety.json": _spec_operations("contentsafety.json"),
    }
    checked = 0
    for spec, label, method in _documented_methods(clients):
        if method is None:
            continue
        doc = inspect.getdoc(method)
        assert doc, f"{label} has no docstring"
        text = " ".join(doc.split())
        assert "REST:" in text, label
        assert "Guard checks:" in text, label
        assert "$" not in text, f"{label}: an unfilled template field"
        route = _REST.search(text)
        assert route, f"{label}: the REST line names no METHOD /route"
        operation_ids = _OPERATION_ID.findall(text)
        assert operation_ids, f"{label}: no operation id"
        known = specs[spec]
        for operation_id in operation_ids:
            assert operation_id in known, f"{label}: {operation_id} is not in {spec}"
        # The route written first is the route of the operation named first.
        assert known[operation_ids[0]] == (route.group(1), route.group(2)), label
        checked += 1
    assert checked >= 150


def test_pager_and_poller_methods_are_documented():
    for cls in (
        SyncPager,
        AsyncPager,
        faceguard.TrainingPoller,
        faceguard.AsyncTrainingPoller,
        FaceClient,
        AsyncFaceClient,
        ContentSafetyClient,
        AsyncContentSafetyClient,
    ):
        assert inspect.getdoc(cls), cls
        for name in dir(cls):
            if name.startswith("_"):
                continue
            member = getattr(cls, name)
            if callable(member):
                assert inspect.getdoc(member), f"{cls.__name__}.{name}"


# =============================================================================================
# importing faceguard
# =============================================================================================


class RecordingEnviron(MutableMapping[str, str]):
    """An ``os.environ`` stand-in that records every key looked at."""

    def __init__(self, data: dict[str, str]) -> None:
        self._data = dict(data)
        self.accessed: list[str] = []

    def __getitem__(self, key: str) -> str:
        self.accessed.append(key)
        return self._data[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.accessed.append(key)
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        self.accessed.append(key)
        del self._data[key]

    def __contains__(self, key: object) -> bool:
        self.accessed.append(str(key))
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        self.accessed.append("<iteration>")
        return iter(self._data)

    def __len__(self) -> int:
        self.accessed.append("<len>")
        return len(self._data)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed.append(key)
        return self._data.get(key, default)

    def copy(self) -> dict[str, str]:
        self.accessed.append("<copy>")
        return dict(self._data)


def test_reloading_faceguard_reads_no_environment_variable_and_does_no_io(monkeypatch):
    # faceguard's pytest plugin makes pytest rewrite the package's asserts, and that import
    # hook reads its cached bytecode with open(): take it out, so the reload uses the normal
    # loader (a fresh interpreter, as in the subprocess test, has no such hook).
    monkeypatch.setattr(
        sys,
        "meta_path",
        [f for f in sys.meta_path if type(f).__module__ != "_pytest.assertion.rewrite"],
    )
    environ = RecordingEnviron({"FACEGUARD_ENDPOINT": ENDPOINT, "FACEGUARD_LOG": "debug"})
    monkeypatch.setattr(os, "environ", environ)

    def no_io(*args: object, **kwargs: object) -> Any:
        raise AssertionError(f"I/O during import: {args!r}")

    monkeypatch.setattr("builtins.open", no_io)
    monkeypatch.setattr("io.open", no_io)
    monkeypatch.setattr(pathlib.Path, "read_text", no_io)
    monkeypatch.setattr(pathlib.Path, "read_bytes", no_io)
    reloaded = importlib.reload(faceguard)
    assert environ.accessed == []
    assert reloaded.__all__ == EXPECTED_ALL
    assert reloaded.FaceClient is FaceClient  # submodules were not re-executed


def test_recording_environ_does_record():
    # The recorder above must notice the ways configuration is read, or the test proves nothing.
    environ = RecordingEnviron({"FACEGUARD_API_KEY": "k"})
    environ.get("FACEGUARD_ENDPOINT")
    _ = "FACEGUARD_LOG" in environ
    _ = environ["FACEGUARD_API_KEY"]
    assert environ.accessed == ["FACEGUARD_ENDPOINT", "FACEGUARD_LOG", "FACEGUARD_API_KEY"]


_FRESH_IMPORT = textwrap.dedent(
    """
    import builtins, io, json, os, socket, sys

    # Each access is attributed to the first frame outside os, the recorder and the ABCs:
    # the code that really asked. Dependencies (pydantic reads PYDANTIC_DISABLE_PLUGINS when a
    # model class is created) are reported separately from faceguard's own modules.
    PACKAGE = os.path.dirname(__import__("importlib.util").util.find_spec("faceguard").origin)
    accessed, io_calls = [], []

    def caller():
        frame = sys._getframe(2)
        while frame is not None and (
            frame.f_code.co_filename in ("<string>", os.__file__)
            or frame.f_code.co_filename.endswith(("_collections_abc.py", "<frozen os>"))
        ):
            frame = frame.f_back
        return frame.f_code.co_filename if frame is not None else "?"

    def record(log, what):
        log.append([what, caller()])

    from collections.abc import MutableMapping

    class Env(MutableMapping):
        def __init__(self, data):
            self._data = dict(data)
        def __getitem__(self, key):
            record(accessed, key)
            return self._data[key]
        def __setitem__(self, key, value):
            record(accessed, key)
            self._data[key] = value
        def __delitem__(self, key):
            record(accessed, key)
            del self._data[key]
        def __contains__(self, key):
            record(accessed, key)
            return key in self._data
        def __iter__(self):
            record(accessed, "<iteration>")
            return iter(self._data)
        def __len__(self):
            return len(self._data)
        def get(self, key, default=None):
            record(accessed, key)
            return self._data.get(key, default)

    def guard(name, original):
        def wrapper(*args, **kwargs):
            record(io_calls, name)
            return original(*args, **kwargs)
        return wrapper

    os.environ = Env(os.environ)
    builtins.open = guard("open", builtins.open)
    io.open = guard("io.open", io.open)
    for name in ("stat", "listdir", "scandir", "mkdir", "remove", "getcwd"):
        setattr(os, name, guard("os." + name, getattr(os, name)))
    socket.socket.connect = guard("socket.connect", socket.socket.connect)

    import logging
    import faceguard
    import faceguard.models

    # Public names load on first use (PEP 562): resolve every one, as an application would,
    # so the modules behind them are imported under the same watch.
    for name in faceguard.__all__:
        getattr(faceguard, name)

    def ours(log):
        return sorted({what for what, where in log if where.startswith(PACKAGE)})

    print(json.dumps({
        "environ": ours(accessed),
        "io": ours(io_calls),
        "environ_by_dependencies": sorted({what for what, _ in accessed}),
        "modules": sorted(m for m in sys.modules if m.startswith("faceguard")),
        "handlers": [type(h).__name__ for h in logging.getLogger("faceguard").handlers],
    }))
    """
)


def test_a_fresh_import_reads_no_environment_variable_and_does_no_io():
    env = {
        **os.environ,
        "FACEGUARD_ENDPOINT": ENDPOINT,
        "FACEGUARD_API_KEY": "k",
        "FACEGUARD_LOG": "debug",
    }
    completed = subprocess.run(
        [sys.executable, "-c", _FRESH_IMPORT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "faceguard._client" in report["modules"]  # the whole package was really imported
    assert report["environ"] == []
    assert report["io"] == []
    # FACEGUARD_LOG=debug is honoured when a client is built, not at import.
    assert report["handlers"] == ["NullHandler"]


@pytest.mark.parametrize("name", ["SkipReason", "UseCase", "GuardCheck", "DetectionModel"])
def test_string_enums_print_as_their_wire_value(name: str) -> None:
    """A member goes into a message or a log line as ``no_face``, not ``SkipReason.NO_FACE``."""
    import faceguard.bulk
    from faceguard._transport._spec import GuardCheck

    enum_type = {"GuardCheck": GuardCheck, "SkipReason": faceguard.bulk.SkipReason}.get(
        name
    ) or getattr(faceguard, name)
    for member in enum_type:
        assert str(member) == f"{member}" == f"{member:>0}" == member.value
        assert member == member.value  # still a str
