"""Conformance of every client method to the two REST contracts in ``tests/data/spec``.

The operation table (``tests/_optable.py``) says how to call each in-scope operation. For
every row, on the sync and the async client, the request sent through ``httpx.MockTransport``
is checked against the contract (method, path, query, content type, body, headers), and a
response generated from the contract's response schema is checked to parse into the matching
typed model with nothing left over. ``docs/api.md`` is checked to be what
``scripts/gen_api_md.py`` would write.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import faceguard.models as models
from _guard_kit import TOKEN, consent_person, policy
from _optable import (
    DYNAMIC_PERSON_GROUP_ID,
    FACE_LIST_ID,
    JPEG,
    LARGE_FACE_LIST_ID,
    LARGE_PERSON_GROUP_ID,
    OPERATIONS,
    PATH_VALUES,
    PERSON_GROUP_ID,
    Operation,
    by_operation_id,
    first_request,
)
from faceguard import (
    AsyncContentSafetyClient,
    AsyncFaceClient,
    AsyncPager,
    AsyncTrainingPoller,
    ContentSafetyClient,
    FaceClient,
    RetryPolicy,
    SyncPager,
    TrainingPoller,
)
from faceguard._guard._policy import GuardPolicy
from faceguard.models._base import ResultList

ROOT = Path(__file__).resolve().parents[1]
SPEC_DIR = Path(__file__).parent / "data" / "spec"
ENDPOINT = "https://faceguard-test.cognitiveservices.azure.com"
API_KEY = "conformance-test-key"
BASE_PATH = {"face": "/face/v1.2", "contentsafety": "/contentsafety"}
CS_API_VERSION = "2024-09-01"
IN_SCOPE_CS = re.compile(r"^(TextBlocklists_\w+|TextOperations_AnalyzeText)$")
RETIRED_ATTRIBUTES = frozenset({"age", "smile", "facialHair", "hair"})
"""Declared by ``FaceAttributes`` in the contract, deliberately dropped by the model."""
SESSION_IMAGE = b"\xff\xd8\xff\xdb" + bytes(range(256)) * 8 + b"\xff\xd9"
"""The bytes a mocked ``GetSessionImage`` returns."""

JSON = dict[str, Any]


# -- the contracts -------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecOperation:
    """One operation of a contract, with its parameters' ``$ref``s resolved."""

    operation_id: str
    service: str
    doc: JSON
    method: str
    path: str
    """The route, without the ``?_overload=...`` suffix of ``x-ms-paths``."""
    op: JSON
    parameters: tuple[JSON, ...]

    def params_in(self, location: str) -> dict[str, JSON]:
        return {p["name"]: p for p in self.parameters if p["in"] == location}

    @property
    def consumes(self) -> list[str]:
        return list(self.op.get("consumes") or self.doc.get("consumes") or [])

    @property
    def success(self) -> dict[int, JSON]:
        return {int(code): r for code, r in self.op["responses"].items() if code != "default"}


def _resolve(doc: JSON, schema: JSON) -> JSON:
    """Follow ``$ref`` chains; sibling keys of a ``$ref`` (``readOnly``...) are kept."""
    seen = 0
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), f"only local references are expected, not {ref}"
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
        assert seen < 20, f"reference cycle at {ref}"
    return schema


def _load_spec_operations() -> dict[str, SpecOperation]:
    found: dict[str, SpecOperation] = {}
    for service, file in (("face", "Face.json"), ("contentsafety", "contentsafety.json")):
        doc = json.loads((SPEC_DIR / file).read_text(encoding="utf-8"))
        for section in ("paths", "x-ms-paths"):
            for raw_path, item in doc.get(section, {}).items():
                shared = item.get("parameters", [])
                for method, op in item.items():
                    if method == "parameters":
                        continue
                    operation_id = op["operationId"]
                    if service == "contentsafety" and not IN_SCOPE_CS.match(operation_id):
                        continue
                    assert operation_id not in found, f"{operation_id} twice in the contracts"
                    params = tuple(_resolve(doc, p) for p in (*shared, *op.get("parameters", [])))
                    found[operation_id] = SpecOperation(
                        operation_id=operation_id,
                        service=service,
                        doc=doc,
                        method=method.upper(),
                        path=raw_path.split("?", 1)[0],
                        op=op,
                        parameters=params,
                    )
    return found


SPEC = _load_spec_operations()
ROWS = by_operation_id()


def _row_params(rows: Mapping[str, Operation]) -> list[Any]:
    return [pytest.param(row, id=row.operation_id) for row in rows.values()]


# -- a small JSON-schema checker (the subset the two contracts use) -----------------------

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _check_scalar(schema: JSON, value: Any, where: str) -> list[str]:
    kind = schema.get("type")
    problems: list[str] = []
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string, got {value!r}"]
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{where}: {value!r} is not one of {schema['enum']}")
        if len(value) > schema.get("maxLength", len(value)):
            problems.append(f"{where}: longer than {schema['maxLength']}")
        if len(value) < schema.get("minLength", 0):
            problems.append(f"{where}: shorter than {schema['minLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
        fmt = schema.get("format")
        if fmt == "uuid" and not _UUID.match(value):
            problems.append(f"{where}: {value!r} is not a UUID")
        if fmt == "uri" and not value.startswith(("https://", "http://")):
            problems.append(f"{where}: {value!r} is not an absolute URI")
        if fmt == "date-time" and not _DATE_TIME.match(value):
            problems.append(f"{where}: {value!r} is not an RFC 3339 date-time")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{where}: expected a boolean, got {value!r}")
    elif kind in ("integer", "number"):
        types: tuple[type, ...] = (int,) if kind == "integer" else (int, float)
        if isinstance(value, bool) or not isinstance(value, types):
            return [f"{where}: expected an {kind}, got {value!r}"]
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: {value} is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: {value} is above {schema['maximum']}")
    else:
        problems.append(f"{where}: unexpected schema type {kind!r}")
    return problems


def check_instance(doc: JSON, schema: JSON, value: Any, where: str, *, request: bool) -> list[str]:
    """Problems of ``value`` against ``schema``; in a request, ``readOnly`` is never sent and
    so never required."""
    schema = _resolve(doc, schema)
    if request and schema.get("readOnly"):
        return [f"{where}: read-only property sent in a request"]
    if schema.get("type") == "object" or "properties" in schema:
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        properties: JSON = schema.get("properties", {})
        problems = [
            f"{where}.{key}: not declared by the schema" for key in value if key not in properties
        ]
        for name in schema.get("required", []):
            if name in value:
                continue
            if request and _resolve(doc, properties.get(name, {})).get("readOnly"):
                continue
            problems.append(f"{where}.{name}: required but missing")
        for key, item in value.items():
            if key in properties:
                problems += check_instance(
                    doc, properties[key], item, f"{where}.{key}", request=request
                )
        return problems
    if schema.get("type") == "array":
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {type(value).__name__}"]
        problems = []
        if len(value) < schema.get("minItems", 0):
            problems.append(f"{where}: fewer than {schema['minItems']} items")
        if len(value) > schema.get("maxItems", len(value)):
            problems.append(f"{where}: more than {schema['maxItems']} items")
        for index, item in enumerate(value):
            problems += check_instance(
                doc, schema["items"], item, f"{where}[{index}]", request=request
            )
        return problems
    return _check_scalar(schema, value, where)


def check_wire_value(param: JSON, text: str) -> list[str]:
    """Problems of a query or form value (always text on the wire) against its parameter."""
    where = param["name"]
    kind = param.get("type")
    if kind == "array":
        if param.get("collectionFormat", "csv") != "csv":
            return [f"{where}: only csv arrays are expected"]
        items = text.split(",")
        problems = [] if items != [""] else [f"{where}: empty array"]
        if not param.get("minItems", 0) <= len(items) <= param.get("maxItems", len(items)):
            problems.append(f"{where}: {len(items)} items, outside the declared count")
        item_kind = param["items"].get("type")
        for index, item in enumerate(items):
            value: Any = (
                int(item) if item_kind == "integer" and re.fullmatch(r"-?\d+", item) else item
            )
            problems += _check_scalar(param["items"], value, f"{where}[{index}]")
        return problems
    if kind == "boolean":
        return [] if text in ("true", "false") else [f"{where}: {text!r} is not true/false"]
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", text):
            return [f"{where}: {text!r} is not an integer"]
        return _check_scalar(param, int(text), where)
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return [f"{where}: {text!r} is not a number"]
        return _check_scalar(param, number, where)
    return _check_scalar(param, text, where)


# -- generating spec-shaped responses ------------------------------------------------------


class Sample:
    """Plausible values for a schema: required and optional properties, arrays of one item."""

    def __init__(self, doc: JSON) -> None:
        self.doc = doc
        self._uuids = (str(uuid.UUID(int=0x5EED << 64 | n, version=4)) for n in range(1, 10**6))

    def __call__(self, schema: JSON, depth: int = 0) -> Any:
        assert depth < 12, "schema nests too deeply (a cycle?)"
        schema = _resolve(self.doc, schema)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return {
                name: self(prop, depth + 1)
                for name, prop in schema.get("properties", {}).items()
                if name != "nextLink"  # a single page: pagers must stop after it
            }
        if kind == "array":
            return [self(schema["items"], depth + 1)]
        if "enum" in schema:
            return schema["enum"][0]
        if kind == "string":
            return self._string(schema)
        if kind in ("integer", "number"):
            low, high = schema.get("minimum"), schema.get("maximum")
            if low is not None and high is not None:
                middle = (low + high) / 2
                return int(middle) if kind == "integer" else float(middle)
            value: float = 7 if kind == "integer" else 1.5
            if low is not None:
                value = max(value, low)
            if high is not None:
                value = min(value, high)
            return value
        if kind == "boolean":
            return True
        raise AssertionError(f"no sample for schema {schema}")

    def _string(self, schema: JSON) -> str:
        fmt = schema.get("format")
        if fmt == "uuid":
            return next(self._uuids)
        if fmt == "date-time":
            return "2024-05-06T07:08:09Z"
        if fmt == "uri":
            return "https://example.com/resource"
        value = "sample-value"
        if "pattern" in schema:
            assert re.search(schema["pattern"], value), schema["pattern"]
        return value[: schema.get("maxLength", len(value))]


def success_response(spec: SpecOperation, status: int) -> tuple[httpx.Response, Any]:
    """The mocked response for ``status`` and the data it carries (``None`` when empty)."""
    declared = spec.success[status]
    sample = Sample(spec.doc)
    headers = {"apim-request-id": str(uuid.uuid4())}
    for name, header in declared.get("headers", {}).items():
        headers[name] = sample(header)
    schema = declared.get("schema")
    if schema is None:
        return httpx.Response(status, headers=headers), None
    if _resolve(spec.doc, schema).get("type") == "file":
        headers["content-type"] = "image/jpeg"
        return httpx.Response(status, headers=headers, content=SESSION_IMAGE), SESSION_IMAGE
    data = sample(schema)
    return httpx.Response(status, headers=headers, json=data), data


# -- calling the clients -------------------------------------------------------------------


def _refuse_sleep(seconds: float) -> None:
    raise AssertionError(f"the client tried to sleep {seconds} s")


async def _refuse_async_sleep(seconds: float) -> None:
    raise AssertionError(f"the client tried to sleep {seconds} s")


class Recorder:
    """A mock transport handler: records each request and answers from a list of responses."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        assert self.responses, f"unexpected extra request {request.method} {request.url}"
        return self.responses.pop(0)


def _sync_client(
    row: Operation, handler: Recorder, guard: GuardPolicy | None
) -> FaceClient | ContentSafetyClient:
    common: dict[str, Any] = {
        "api_key": API_KEY,
        "transport": httpx.MockTransport(handler),
        "retry": RetryPolicy(max_attempts=1),
        "sleep": _refuse_sleep,
    }
    if row.client == "face":
        return FaceClient(ENDPOINT, guard=guard or policy(), **common)
    return ContentSafetyClient(ENDPOINT, **common)


def _async_client(
    row: Operation, handler: Recorder, guard: GuardPolicy | None
) -> AsyncFaceClient | AsyncContentSafetyClient:
    common: dict[str, Any] = {
        "api_key": API_KEY,
        "transport": httpx.MockTransport(handler),
        "retry": RetryPolicy(max_attempts=1),
        "sleep": _refuse_async_sleep,
    }
    if row.client == "face":
        return AsyncFaceClient(ENDPOINT, guard=guard or policy(), **common)
    return AsyncContentSafetyClient(ENDPOINT, **common)


def _method(client: object, row: Operation) -> Callable[..., Any]:
    owner = client if row.group is None else getattr(client, row.group)
    method: Callable[..., Any] = getattr(owner, row.method)
    return method


@dataclass
class Outcome:
    result: Any
    paged: bool


def call_sync(row: Operation, handler: Recorder, guard: GuardPolicy | None = None) -> Outcome:
    """Call ``row`` on a sync client; Face clients get ``guard`` (default: the kit's policy)."""
    with _sync_client(row, handler, guard) as client:
        result = _method(client, row)(*row.args, **row.kwargs)
        if isinstance(result, SyncPager):
            return Outcome(list(result), paged=True)
        if isinstance(result, TrainingPoller):
            assert len(handler.requests) == 1, "train() must not poll before it is asked to"
            status = result.status()
            return Outcome((result, status), paged=False)
        return Outcome(result, paged=False)


async def call_async(
    row: Operation, handler: Recorder, guard: GuardPolicy | None = None
) -> Outcome:
    """Call ``row`` on an async client; Face clients get ``guard`` (default: the kit's policy)."""
    async with _async_client(row, handler, guard) as client:
        result = _method(client, row)(*row.args, **row.kwargs)
        if isinstance(result, AsyncPager):
            return Outcome([item async for item in result], paged=True)
        result = await result
        if isinstance(result, AsyncTrainingPoller):
            assert len(handler.requests) == 1, "train() must not poll before it is asked to"
            status = await result.status()
            return Outcome((result, status), paged=False)
        return Outcome(result, paged=False)


def _training_status_response(row: Operation) -> httpx.Response:
    """What a train row's poller gets when asked for the status once."""
    status_id = row.operation_id.replace("_Train", "_Get") + "TrainingStatus"
    response, _ = success_response(SPEC[status_id], 200)
    return response


def responses_for(row: Operation, status: int) -> tuple[list[httpx.Response], Any]:
    response, data = success_response(SPEC[row.operation_id], status)
    if row.method == "train":
        return [response, _training_status_response(row)], data
    return [response], data


# -- 1. every operation has a row, and every row a method ---------------------------------


def test_spec_has_the_expected_number_of_in_scope_operations() -> None:
    face = [s for s in SPEC.values() if s.service == "face"]
    assert (len(face), len(SPEC) - len(face)) == (77, 9)


def test_every_in_scope_operation_has_exactly_one_row() -> None:
    table_ids = [row.operation_id for row in OPERATIONS]
    duplicates = sorted({i for i in table_ids if table_ids.count(i) > 1})
    missing = sorted(set(SPEC) - set(table_ids))
    unknown = sorted(set(table_ids) - set(SPEC))
    assert (duplicates, missing, unknown) == ([], [], [])


def test_every_row_is_for_the_client_of_its_contract() -> None:
    wrong = [row.operation_id for row in OPERATIONS if row.client != SPEC[row.operation_id].service]
    assert wrong == []


def _method_problems(row: Operation, sync_client: object, async_client: object) -> list[str]:
    def find(client: object) -> Callable[..., Any] | None:
        owner = client if row.group is None else getattr(client, row.group, None)
        method = getattr(owner, row.method, None) if owner is not None else None
        return method if callable(method) else None

    sync_method, async_method = find(sync_client), find(async_client)
    if sync_method is None or async_method is None:
        missing = [n for n, m in (("sync", sync_method), ("async", async_method)) if m is None]
        return [f"{row.operation_id}: no {' or '.join(missing)} {row.call}"]
    problems: list[str] = []
    sync_signature = inspect.signature(sync_method)
    if sync_signature.parameters != inspect.signature(async_method).parameters:
        problems.append(f"{row.operation_id}: the sync and async signatures differ")
    # Lists return a pager at once (SyncPager / AsyncPager); everything else async is awaited.
    sync_returns = str(sync_signature.return_annotation)
    async_returns = str(inspect.signature(async_method).return_annotation)
    if sync_returns.startswith("SyncPager["):
        if async_returns != "Async" + sync_returns.removeprefix("Sync"):
            problems.append(f"{row.operation_id}: {sync_returns} but async {async_returns}")
    elif not inspect.iscoroutinefunction(async_method):
        problems.append(f"{row.operation_id}: the async method is not a coroutine function")
    try:
        sync_signature.bind(*row.args, **row.kwargs)
    except TypeError as exc:
        problems.append(f"{row.operation_id}: the sample arguments do not fit: {exc}")
    return problems


async def test_every_row_method_exists_on_the_sync_and_async_clients() -> None:
    handler = Recorder()
    transport = httpx.MockTransport(handler)
    sync_clients = {
        "face": FaceClient(ENDPOINT, api_key=API_KEY, transport=transport),
        "contentsafety": ContentSafetyClient(ENDPOINT, api_key=API_KEY, transport=transport),
    }
    async_clients = {
        "face": AsyncFaceClient(ENDPOINT, api_key=API_KEY, transport=transport),
        "contentsafety": AsyncContentSafetyClient(ENDPOINT, api_key=API_KEY, transport=transport),
    }
    try:
        problems = [
            problem
            for row in OPERATIONS
            for problem in _method_problems(
                row, sync_clients[row.client], async_clients[row.client]
            )
        ]
    finally:
        for client in sync_clients.values():
            client.close()
        for async_client in async_clients.values():
            await async_client.aclose()
    assert problems == []
    assert handler.requests == []


@pytest.mark.parametrize("row", _row_params(ROWS))
def test_builder_names_the_operation_and_route_of_the_row(row: Operation) -> None:
    spec = SPEC[row.operation_id]
    request = first_request(row)
    assert (request.operation, request.method, request.route) == (
        row.operation_id,
        spec.method,
        spec.path,
    )
    assert request.service == spec.service


def test_path_values_satisfy_the_contracts() -> None:
    problems: list[str] = []
    for spec in SPEC.values():
        for name, param in spec.params_in("path").items():
            if name not in PATH_VALUES:
                problems.append(f"{spec.operation_id}: no sample value for {name}")
                continue
            problems += [
                f"{spec.operation_id}: {p}" for p in check_wire_value(param, PATH_VALUES[name])
            ]
    assert problems == []


# -- 2. requests match the contract --------------------------------------------------------


def _expected_path(spec: SpecOperation) -> str:
    path = spec.path
    for name in spec.params_in("path"):
        path = path.replace("{" + name + "}", PATH_VALUES[name])
    assert "{" not in path, path
    return BASE_PATH[spec.service] + path


def _multipart_parts(content_type: str, body: bytes) -> list[tuple[Message, bytes]]:
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    assert isinstance(boundary, str) and boundary, "multipart without a boundary"
    delimiter = b"--" + boundary.encode()
    chunks = body.split(delimiter)
    assert chunks[0] == b"", "bytes before the first boundary"
    assert chunks[-1] in (b"--", b"--\r\n"), "the body does not end with the closing boundary"
    parts: list[tuple[Message, bytes]] = []
    for chunk in chunks[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n"), "malformed part"
        head, separator, data = chunk[2:-2].partition(b"\r\n\r\n")
        assert separator, "a part without a header/body separator"
        headers = Message()
        for line in head.decode("ascii").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        parts.append((headers, data))
    return parts


def _check_multipart(spec: SpecOperation, content_type: str, body: bytes) -> list[str]:
    form = spec.params_in("formData")
    problems: list[str] = []
    seen: set[str] = set()
    for headers, data in _multipart_parts(content_type, body):
        disposition = headers.get("content-disposition", "")
        name = headers.get_param("name", header="content-disposition")
        if not disposition.startswith("form-data") or not isinstance(name, str):
            problems.append(f"a part without a form-data name: {disposition!r}")
            continue
        if name in seen:
            problems.append(f"{name}: sent twice")
        seen.add(name)
        if name not in form:
            problems.append(f"{name}: not a declared form field")
            continue
        if form[name].get("type") == "file":
            if not headers.get_filename():
                problems.append(f"{name}: the file part has no filename")
            if data != JPEG:
                problems.append(f"{name}: the file part does not carry the image bytes")
        else:
            problems += check_wire_value(form[name], data.decode("utf-8"))
    for name, param in form.items():
        if param.get("required") and name not in seen:
            problems.append(f"{name}: required form field missing")
    for name in ("livenessOperationMode", "verifyImage"):
        if name in form and name not in seen:
            problems.append(f"{name}: not sent")
    return problems


def check_request(row: Operation, request: httpx.Request) -> list[str]:
    """Every way ``request`` departs from the contract of ``row``'s operation."""
    spec = SPEC[row.operation_id]
    problems: list[str] = []

    def expect(condition: bool, message: str) -> None:
        if not condition:
            problems.append(message)

    expect(request.method == spec.method, f"method {request.method}, contract {spec.method}")
    expect(
        (request.url.scheme, request.url.host) == ("https", httpx.URL(ENDPOINT).host),
        f"sent to {request.url.scheme}://{request.url.host}",
    )
    expected_path = _expected_path(spec)
    expect(request.url.path == expected_path, f"path {request.url.path}, contract {expected_path}")

    # Query: declared names only, each once, with valid values; required ones present.
    declared = spec.params_in("query")
    sent = request.url.params.multi_items()
    names = [name for name, _ in sent]
    for name, value in sent:
        if name not in declared:
            problems.append(f"query {name}={value}: not declared by the contract")
        else:
            problems += [f"query {p}" for p in check_wire_value(declared[name], value)]
    expect(len(names) == len(set(names)), f"a query parameter is repeated: {names}")
    for name, param in declared.items():
        expect(not param.get("required") or name in names, f"query {name}: required but missing")
    if spec.service == "contentsafety":
        expect(
            request.url.params.get("api-version") == CS_API_VERSION,
            f"api-version={request.url.params.get('api-version')}",
        )

    # Headers every call carries.
    request_id = request.headers.get("x-ms-client-request-id", "")
    expect(bool(_UUID.match(request_id)), f"x-ms-client-request-id {request_id!r} is not a UUID")
    user_agent = request.headers.get("user-agent", "")
    expect(user_agent.startswith("faceguard/"), f"User-Agent {user_agent!r}")
    expect(request.headers.get("ocp-apim-subscription-key") == API_KEY, "no subscription key")
    # The consent token is for the guard only: never in the URL, a header or the body.
    sent_anywhere = [str(request.url), *request.headers.values(), request.content.decode("latin-1")]
    expect(not any(TOKEN in text for text in sent_anywhere), "the consent token was sent")

    # Body: the content type the operation consumes, and a body its schema allows.
    content_type = request.headers.get("content-type")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    body_params = list(spec.params_in("body").values())
    form = spec.params_in("formData")
    if not body_params and not form:
        expect(content_type is None, f"Content-Type {content_type} on a call without a body")
        expect(request.content == b"", "a body on a call that takes none")
        return problems
    expect(media_type in spec.consumes, f"Content-Type {content_type}, consumes {spec.consumes}")
    if form:
        problems += _check_multipart(spec, content_type or "", request.content)
        return problems
    (body_param,) = body_params
    schema = _resolve(spec.doc, body_param["schema"])
    if schema.get("format") == "binary":
        expect(media_type == "application/octet-stream", f"image sent as {media_type}")
        expect(request.content == JPEG, "the image bytes were not sent unchanged")
        return problems
    expect(media_type.endswith("json"), f"a JSON body sent as {media_type}")
    try:
        body = json.loads(request.content)
    except ValueError:
        return [*problems, "the body is not JSON"]
    problems += check_instance(spec.doc, body_param["schema"], body, "body", request=True)
    return problems


@pytest.mark.parametrize("row", _row_params(ROWS))
def test_sync_request_matches_the_contract(row: Operation) -> None:
    responses, _ = responses_for(row, min(SPEC[row.operation_id].success))
    handler = Recorder(*responses)
    call_sync(row, handler)
    assert len(handler.requests) == len(responses)
    assert check_request(row, handler.requests[0]) == []


@pytest.mark.parametrize("row", _row_params(ROWS))
async def test_async_request_matches_the_contract(row: Operation) -> None:
    responses, _ = responses_for(row, min(SPEC[row.operation_id].success))
    handler = Recorder(*responses)
    await call_async(row, handler)
    assert len(handler.requests) == len(responses)
    assert check_request(row, handler.requests[0]) == []


def test_the_request_checker_catches_departures() -> None:
    """The checker itself: a few hand-made bad requests must each be reported."""
    row = ROWS["PersonGroupOperations_CreatePersonGroup"]
    good = httpx.Request(
        "PUT",
        f"{ENDPOINT}/face/v1.2/persongroups/{PATH_VALUES['personGroupId']}",
        headers={
            "x-ms-client-request-id": str(uuid.uuid4()),
            "User-Agent": "faceguard/0 test",
            "Ocp-Apim-Subscription-Key": API_KEY,
            "Content-Type": "application/json",
        },
        content=json.dumps({"name": "n", "recognitionModel": "recognition_04"}).encode(),
    )
    assert check_request(row, good) == []

    def variant(**changes: Any) -> httpx.Request:
        headers = httpx.Headers(good.headers)
        headers.update(changes.get("headers", {}))
        return httpx.Request(
            changes.get("method", good.method),
            changes.get("url", good.url),
            headers=headers,
            content=changes.get("content", good.content),
        )

    bad = {
        "method": variant(method="POST"),
        "path": variant(url=f"{ENDPOINT}/face/v1.2/persongroups/other"),
        "query": variant(url=f"{good.url}?returnFaceId=true"),
        "content type": variant(headers={"Content-Type": "application/octet-stream"}),
        "undeclared property": variant(content=b'{"name":"n","colour":"red"}'),
        "missing required": variant(content=b'{"userData":"u"}'),
        "enum": variant(content=b'{"name":"n","recognitionModel":"recognition_99"}'),
        "user agent": variant(headers={"User-Agent": "python-httpx/0.28"}),
        "consent token": variant(headers={"X-Consent": TOKEN}),
    }
    assert [label for label, request in bad.items() if not check_request(row, request)] == []


# -- 3. responses parse into the typed models ----------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What a successful call returns, read from the contract."""

    kind: str
    """``none``, ``bytes``, ``model``, ``list`` (a JSON array) or ``page`` (``value`` + link)."""
    model: type[BaseModel] | None = None


def expected_result(spec: SpecOperation, status: int) -> Expected:
    schema = spec.success[status].get("schema")
    if schema is None:
        return Expected("none")
    if _resolve(spec.doc, schema).get("type") == "file":
        return Expected("bytes")
    items = schema["items"] if schema.get("type") == "array" else None
    kind = "list"
    if items is None:
        definition = _resolve(spec.doc, schema)
        if "x-ms-pageable" in spec.op:
            items, kind = definition["properties"]["value"]["items"], "page"
        else:
            items, kind = schema, "model"
    name = items["$ref"].rsplit("/", 1)[-1]
    model = getattr(models, name, None)
    assert isinstance(model, type) and issubclass(model, BaseModel), f"no model named {name}"
    return Expected(kind, model)


def _response_cases() -> Iterator[Any]:
    for row in ROWS.values():
        for status in sorted(SPEC[row.operation_id].success):
            yield pytest.param(row, status, id=f"{row.operation_id}-{status}")


def _wire(model: BaseModel) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _without_retired(data: Any) -> Any:
    """``data`` as the models must keep it: without the retired face attributes."""
    if isinstance(data, list):
        return [_without_retired(item) for item in data]
    if isinstance(data, dict):
        return {
            key: (
                {k: _without_retired(v) for k, v in value.items() if k not in RETIRED_ATTRIBUTES}
                if key == "faceAttributes" and isinstance(value, dict)
                else _without_retired(value)
            )
            for key, value in data.items()
        }
    return data


def leftovers(value: Any, where: str = "result") -> list[str]:
    """Every ``model_extra`` entry anywhere in a parsed result."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        if value.model_extra:
            found.append(f"{where}: {sorted(value.model_extra)}")
        for name in type(value).model_fields:
            found += leftovers(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += leftovers(item, f"{where}[{index}]")
    return found


def _retired_in(data: Any) -> set[str]:
    if isinstance(data, list):
        return set().union(*(_retired_in(item) for item in data)) if data else set()
    if isinstance(data, dict):
        own = set(data.get("faceAttributes", {})) & RETIRED_ATTRIBUTES
        return own.union(*(_retired_in(v) for v in data.values()))
    return set()


def check_result(row: Operation, status: int, outcome: Outcome, data: Any) -> None:
    spec = SPEC[row.operation_id]
    expected = expected_result(spec, status)
    result = outcome.result
    if row.method == "train":
        poller, training = result
        assert isinstance(poller, TrainingPoller | AsyncTrainingPoller)
        assert type(training) is models.TrainingResult
        assert leftovers(training) == []
        return
    if expected.kind == "none":
        assert result is None
        return
    if expected.kind == "bytes":
        assert isinstance(result, bytes)
        assert result == data
        return
    if expected.kind == "model":
        assert not outcome.paged
        assert type(result) is expected.model
        assert leftovers(result) == []
        assert _wire(result) == _without_retired(data)
        return
    # A list: Content Safety pages (``x-ms-pageable``) and Face ``start``/``top`` lists must
    # come as pagers; every other array is one ResultList.
    pages = expected.kind == "page" or "start" in spec.params_in("query")
    assert outcome.paged is pages
    if not pages:
        assert isinstance(result, ResultList)
    items = data["value"] if expected.kind == "page" else data
    assert [type(item) for item in result] == [expected.model] * len(items)
    assert leftovers(result) == []
    assert [_wire(item) for item in result] == _without_retired(items)
    if expected.model is models.FaceDetectionResult:
        # The contract declares the retired attributes, so the generated data has them...
        assert _retired_in(data) == RETIRED_ATTRIBUTES
        # ...and the parsed result must not, neither as fields nor as extras.
        attributes = result[0].face_attributes
        assert attributes is not None
        assert _retired_in([_wire(item) for item in result]) == set()
        assert not any(hasattr(attributes, name) for name in RETIRED_ATTRIBUTES)


FILTERED_RESULTS: dict[str, tuple[str, str]] = {
    "FaceRecognitionOperations_IdentifyFromPersonGroup": ("personGroup", PERSON_GROUP_ID),
    "FaceRecognitionOperations_IdentifyFromLargePersonGroup": (
        "largePersonGroup",
        LARGE_PERSON_GROUP_ID,
    ),
    "FaceRecognitionOperations_IdentifyFromPersonDirectory": ("personDirectory", "default"),
    "FaceRecognitionOperations_IdentifyFromDynamicPersonGroup": (
        "dynamicPersonGroup",
        DYNAMIC_PERSON_GROUP_ID,
    ),
    "FaceRecognitionOperations_FindSimilarFromFaceList": ("faceList", FACE_LIST_ID),
    "FaceRecognitionOperations_FindSimilarFromLargeFaceList": (
        "largeFaceList",
        LARGE_FACE_LIST_ID,
    ),
}
"""Operations whose results the guard filters, and the container (in consent terms) it checks.

Identify candidates and find-similar persisted faces without live consent in the ledger are
suppressed by design; the consent of every generated person and face is recorded first, so the
parsed result must still equal the generated data exactly."""


def consented_guard(row: Operation, data: Any) -> GuardPolicy | None:
    """The kit's policy for a Face row, with ledger consent for what its result returns."""
    if row.client != "face":
        return None
    guard = policy()
    container = FILTERED_RESULTS.get(row.operation_id)
    if container is not None:
        kind, container_id = container
        units = [
            unit
            for item in data
            for unit in (
                [c["personId"] for c in item.get("candidates", [])]
                + ([item["persistedFaceId"]] if "persistedFaceId" in item else [])
            )
        ]
        assert units, "the generated result names no person or face to consent"
        for unit in units:
            consent_person(guard, kind, container_id, unit)
    return guard


@pytest.mark.parametrize(("row", "status"), list(_response_cases()))
def test_sync_response_parses_into_the_typed_model(row: Operation, status: int) -> None:
    responses, data = responses_for(row, status)
    outcome = call_sync(row, Recorder(*responses), consented_guard(row, data))
    check_result(row, status, outcome, data)


@pytest.mark.parametrize(("row", "status"), list(_response_cases()))
async def test_async_response_parses_into_the_typed_model(row: Operation, status: int) -> None:
    responses, data = responses_for(row, status)
    outcome = await call_async(row, Recorder(*responses), consented_guard(row, data))
    check_result(row, status, outcome, data)


def test_generated_responses_conform_to_their_own_schemas() -> None:
    """The generator: every response it makes is valid for the schema it was made from."""
    problems: list[str] = []
    for spec in SPEC.values():
        for status, declared in spec.success.items():
            schema = declared.get("schema")
            if schema is None or _resolve(spec.doc, schema).get("type") == "file":
                continue
            _, data = success_response(spec, status)
            problems += check_instance(spec.doc, schema, data, spec.operation_id, request=False)
    assert problems == []


# -- 4. docs/api.md is generated from the table --------------------------------------------


def _load_generator() -> Any:
    path = ROOT / "scripts" / "gen_api_md.py"
    spec = importlib.util.spec_from_file_location("gen_api_md", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_md_is_up_to_date() -> None:
    generator = _load_generator()
    written = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert written == generator.render(), "docs/api.md is stale: run scripts/gen_api_md.py"


def test_api_md_has_one_row_per_operation() -> None:
    generator = _load_generator()
    rendered = generator.render()
    for row in OPERATIONS:
        assert rendered.count(generator.code_cell(row.operation_id)) == 1, row.operation_id
