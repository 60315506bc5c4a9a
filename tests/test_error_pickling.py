"""Every faceguard error survives pickling, so it can cross a process boundary.

An exception raised in a ``multiprocessing`` or ``concurrent.futures`` worker is pickled back
to the parent. Exception's default pickling calls ``cls(*args)``, which fails for errors whose
constructors take keyword-only arguments (``support=``, ``status_code=``...): the worker's
result is then lost, and a ``multiprocessing.Pool`` waits forever. The test walks the whole
tree, so an error class added later is covered, or named here when its constructor takes an
argument the table does not know.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import multiprocessing
import pickle
from typing import Any

import httpx
import pytest

import faceguard
from faceguard import FaceClient, FaceGuardError, NotFoundError
from faceguard._exceptions import SupportInfo
from faceguard.bulk import BulkItemResult, BulkReport

SUPPORT = SupportInfo(
    operation="PersonGroupOperations_GetPersonGroup",
    method="GET",
    api_path="/persongroups/{personGroupId}",
    request_id="5e1c2a3b-0000-4000-8000-000000000001",
    client_request_id="5e1c2a3b-0000-4000-8000-000000000002",
    status_code=404,
    error_code="PersonGroupNotFound",
)

# A sample value for every constructor argument an error class takes, by name.
SAMPLES: dict[str, Any] = {
    "message": "something went wrong",
    "support": SUPPORT,
    "status_code": 404,
    "error_code": "PersonGroupNotFound",
    "body": {"error": {"code": "PersonGroupNotFound", "message": "not found"}},
    "retries_taken": 2,
    "retry_after": 1.5,
    "request_sent": True,
    "kind": "refused",
    "check": "replay",
    "operation": "identify",
    "reason": "expired",
    "parameter": "person_id",
    "rule": "uuid",
    "field": "name",
    "kinds": ("email",),
    "timeout": 30.0,
    "last_status": "running",
    "route": "/largepersongroups/{largePersonGroupId}/train",
    "wait": 2.0,
    "attribute": "age",
    "allowed": ("headPose",),
    "cap": "identifications_per_person",
    "limit": 5,
    "window": 3600.0,
    "decision_id": "d-0001",
    "reviewer": "r-1",
    "cassette": "tests/cassettes/test_flow.yaml",
    "request": "POST /face/v1.2/identify",
    "differences": ("body.maxNumOfCandidatesReturned: 1 != 2",),
    "unplayed": ("GET /face/v1.2/largepersongroups/g",),
    "report": BulkReport(
        batch_id="batch-1",
        items=[
            BulkItemResult(key="photo-1.jpg", status="added", persisted_face_id="f-1"),
            BulkItemResult(
                key="photo-2.jpg", status="failed", error_type="NotFoundError", support=SUPPORT
            ),
        ],
    ),
}


def _tree() -> list[type[FaceGuardError]]:
    import faceguard.bulk
    import faceguard.testing  # noqa: F401 - its cassette and bulk errors join the tree

    found: list[type[FaceGuardError]] = [FaceGuardError]
    for cls in found:
        found.extend(sub for sub in cls.__subclasses__() if sub not in found)
    return sorted(found, key=lambda cls: cls.__name__)


def _instance(cls: type[FaceGuardError]) -> FaceGuardError:
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.kind is parameter.VAR_POSITIONAL:
            args.append(SAMPLES["message"])
        elif parameter.kind is parameter.VAR_KEYWORD:
            continue
        elif parameter.name not in SAMPLES:
            if parameter.default is not parameter.empty:
                continue
            pytest.fail(f"{cls.__name__}({parameter.name}=...): add a sample to SAMPLES")
        elif parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = SAMPLES[parameter.name]
        else:
            args.append(SAMPLES[parameter.name])
    return cls(*args, **kwargs)


@pytest.mark.parametrize("cls", _tree(), ids=lambda cls: cls.__name__)
def test_every_error_pickles_to_an_equal_error(cls: type[FaceGuardError]) -> None:
    error = _instance(cls)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)
    for name in ("support", "status_code", "error_code", "check", "reason", "parameter"):
        if hasattr(error, name):
            assert getattr(copy, name) == getattr(error, name)


def test_the_tree_is_the_public_one() -> None:
    """The walk above reaches every public error class (none hides outside the tree)."""
    public = {
        obj
        for obj in vars(faceguard).values()
        if isinstance(obj, type) and issubclass(obj, BaseException)
    }
    assert public <= set(_tree())


def _worker_call() -> None:
    """In a child process: a guarded client call that the service answers with a 404."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "PersonGroupNotFound", "message": "Person group is not found."}}
        return httpx.Response(404, json=body, headers={"apim-request-id": "req-1"})

    with FaceClient(
        "https://pickling.cognitiveservices.azure.com",
        api_key="k" * 32,
        transport=httpx.MockTransport(handler),
    ) as client:
        client.person_groups.get("missing-group")


@pytest.mark.parametrize("start", ["spawn", "fork"])
def test_an_error_raised_in_a_worker_process_reaches_the_parent_typed(start: str) -> None:
    if start not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {start} start method here")
    context = multiprocessing.get_context(start)
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        future = pool.submit(_worker_call)
        with pytest.raises(NotFoundError) as info:
            future.result(timeout=120)
    assert info.value.status_code == 404
    assert info.value.error_code == "PersonGroupNotFound"
    assert info.value.support.request_id == "req-1"
