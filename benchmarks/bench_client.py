"""Client-side cost of faceguard next to raw httpx and azure-ai-vision-face.

One run starts ONE loopback HTTP server in a separate process (so its CPU is not counted),
answering canned Face v1.2 JSON after checking that each request is the one expected, then
measures, for verify (face-to-face), identify (large person group) and detect (from ~50 KB
of bytes):

* client CPU per call: ``time.process_time()`` deltas over many calls after a warm-up; the
  clients take turns in small blocks (and who goes first rotates every repeat) so machine
  noise hits all of them alike; each measurement is repeated and the median reported;
* import time of ``faceguard`` and ``azure.ai.vision.face`` in fresh interpreters;
* with ``--profile``, where faceguard's CPU goes, next to raw httpx (cProfile).

Run ``python benchmarks/bench_client.py --help`` for the options; ``benchmarks/README.md``
explains the figures and the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import platform
import pstats
import random
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any
from urllib.parse import parse_qs, urlsplit

# -- the canned service -------------------------------------------------------------------

API_KEY = "bench-key-0123456789abcdef"
API_PATH = "/face/v1.2"
FACE_ID_1 = "c5c24a82-6845-4031-9d5d-978df9175426"
FACE_ID_2 = "015839fb-fbd9-4f79-ace9-7675fc2f1dd9"
PERSON_ID = "25985303-c537-4467-b41d-bdb45cd95ca1"
LARGE_PERSON_GROUP_ID = "bench-lpg"
IMAGE_SIZE = 50 * 1024
# Query of the detect call, as all three clients send it.
DETECT_QUERY = {
    "detectionModel": "detection_03",
    "recognitionModel": "recognition_04",
    "returnFaceId": "true",
    "returnFaceLandmarks": "false",
    "returnFaceAttributes": "headPose",
    "faceIdTimeToLive": "600",
    "returnRecognitionModel": "false",
}

VERIFY_BODY = json.dumps({"isIdentical": True, "confidence": 0.9}).encode()
IDENTIFY_BODY = json.dumps(
    [{"faceId": FACE_ID_1, "candidates": [{"personId": PERSON_ID, "confidence": 0.9}]}]
).encode()
DETECT_BODY = json.dumps(
    [
        {
            "faceId": FACE_ID_1,
            "faceRectangle": {"top": 54, "left": 128, "width": 112, "height": 112},
            "faceAttributes": {"headPose": {"pitch": -4.1, "roll": 2.3, "yaw": 7.9}},
        }
    ]
).encode()


def make_image(size: int = IMAGE_SIZE) -> bytes:
    """A JPEG-looking payload: SOI + APP0 marker, deterministic noise, EOI."""
    noise = random.Random(1234).randbytes(size - 6)
    return b"\xff\xd8\xff\xe0" + noise + b"\xff\xd9"


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": {"code": code, "message": message}}).encode()


def _route(
    method: str, target: str, headers: dict[str, str], body: bytes, image_size: int
) -> tuple[int, bytes]:
    """Check that the request is the one every client must send; answer it."""
    if headers.get("ocp-apim-subscription-key") != API_KEY:
        return _error(401, "401", "missing or wrong Ocp-Apim-Subscription-Key")
    parts = urlsplit(target)
    if method != "POST":
        return _error(405, "BadArgument", f"unexpected method {method}")
    if parts.path == f"{API_PATH}/verify":
        doc = json.loads(body)
        if doc != {"faceId1": FACE_ID_1, "faceId2": FACE_ID_2}:
            return _error(400, "BadArgument", f"unexpected verify body {doc!r}")
        return 200, VERIFY_BODY
    if parts.path == f"{API_PATH}/identify":
        doc = json.loads(body)
        if doc != {"faceIds": [FACE_ID_1], "largePersonGroupId": LARGE_PERSON_GROUP_ID}:
            return _error(400, "BadArgument", f"unexpected identify body {doc!r}")
        return 200, IDENTIFY_BODY
    if parts.path == f"{API_PATH}/detect":
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if query != DETECT_QUERY:
            return _error(400, "BadArgument", f"unexpected detect query {query!r}")
        if not headers.get("content-type", "").startswith("application/octet-stream"):
            return _error(415, "BadArgument", "detect wants application/octet-stream")
        if len(body) != image_size or not body.startswith(b"\xff\xd8\xff"):
            return _error(400, "InvalidImage", f"unexpected image of {len(body)} bytes")
        return 200, DETECT_BODY
    return _error(404, "NotFound", f"no route {parts.path}")


async def _serve(port: int, image_size: int, max_seconds: float, max_requests: int) -> None:
    served = 0
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        try:
            while not done.is_set():
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                if "chunked" in headers.get("transfer-encoding", ""):
                    status, payload = _error(411, "BadArgument", "send a Content-Length")
                else:
                    status, payload = _route(method, target, headers, body, image_size)
                served += 1
                writer.write(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    "Content-Type: application/json; charset=utf-8\r\n"
                    f"Content-Length: {len(payload)}\r\n"
                    f"apim-request-id: {uuid.uuid4()}\r\n"
                    "Connection: keep-alive\r\n\r\n".encode("latin-1")
                    + payload
                )
                await writer.drain()
                if served >= max_requests:
                    done.set()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        except asyncio.CancelledError:
            # Shutting down with a client still connected: end quietly (Python 3.11's
            # start_server would otherwise print the cancellation as a callback error).
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    loop = asyncio.get_running_loop()
    loop.call_later(max_seconds, done.set)
    # The parent holds our stdin: when it goes away (EOF), we stop too.
    threading.Thread(
        target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(done.set)), daemon=True
    ).start()
    async with server:
        await done.wait()


@dataclass
class Server:
    """The canned service, running in a child process."""

    process: subprocess.Popen[str]
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(image_size: int, max_seconds: float) -> Server:
    process = subprocess.Popen(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--serve",
            "--image-size",
            str(image_size),
            "--server-max-seconds",
            str(max_seconds),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"the benchmark server did not start: {line!r}")
    return Server(process, int(line.split()[1]))


# -- the clients ----------------------------------------------------------------------------

Call = Callable[[], object]


@dataclass
class Contender:
    """One client under test: a call per operation, and how to close it."""

    name: str
    calls: dict[str, Call] = field(default_factory=dict)
    close: Callable[[], None] = lambda: None
    missing: str | None = None


OPERATIONS = ("verify", "identify", "detect")


def faceguard_contender(endpoint: str, image: bytes) -> Contender:
    """faceguard with its guard on, as an application runs it: a declared use case, a consent
    verifier, a memory store, faceIds known to the registry and a consented candidate."""
    from faceguard import (
        ConsentIssuer,
        ConsentLedger,
        ConsentVerifier,
        FaceAttributeType,
        FaceClient,
        GuardPolicy,
        MemoryStore,
        UseCase,
    )
    from faceguard._guard._registry import FaceIdRecord

    issuer, public_key = ConsentIssuer.generate()
    store = MemoryStore()
    verifier = ConsentVerifier(
        {issuer.kid: public_key}, issuer=issuer.issuer, audience="bench", replay_store=store
    )
    policy = GuardPolicy(
        use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS, verifier=verifier, store=store
    )
    subject = "p-bench-subject"
    token = issuer.issue(
        subject,
        audience=["bench", endpoint],  # this deployment, and this Face resource
        operations=["detect_template", "verify", "identify"],
        use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS,
        bindings=[("largePersonGroup", LARGE_PERSON_GROUP_ID, None)],
        use="session",
        # the bench identifies one person thousands of times: past the R17 tracking cap
        # without this explicit consent to continuous identification
        continuous_identification=True,
    )
    client = FaceClient(endpoint, api_key=API_KEY, guard=policy)
    recognition, detection = client.recognition, client.detection
    head_pose = [FaceAttributeType.HEAD_POSE]
    # Setup, not measured: FACE_ID_1 comes from a real detect through the guard; FACE_ID_2 is
    # recorded as if detected under the same consent; the candidate's consent is in the ledger.
    detection.detect(image, return_face_id=True, return_face_attributes=head_pose, consent=token)
    guard = client._transport.guard
    guard.registry.record(
        FACE_ID_2,
        FaceIdRecord(
            issued_at=time.time(),
            ttl=86400,
            detection_model="detection_03",
            recognition_model="recognition_04",
            endpoint=guard.endpoint,
            subject=subject,
        ),
    )
    enrolled = issuer.issue(  # the candidate's enrollment consent, recorded through its token
        subject,
        audience=["bench", endpoint],
        operations=["enroll"],
        use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS,
        bindings=[("largePersonGroup", LARGE_PERSON_GROUP_ID, PERSON_ID)],
    )
    ConsentLedger(store, clock=time.time).enroll(
        enrolled,
        verifier=verifier,
        endpoint=endpoint,
        use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS,
        container_kind="largePersonGroup",
        container_id=LARGE_PERSON_GROUP_ID,
        person_id=PERSON_ID,
    )

    def verify() -> object:
        result = recognition.verify_face_to_face(FACE_ID_1, FACE_ID_2, consent=token)
        assert result.is_identical
        return result

    def identify() -> object:
        result = recognition.identify_from_large_person_group(
            [FACE_ID_1], large_person_group_id=LARGE_PERSON_GROUP_ID, consent=token
        )
        assert result[0].candidates[0].person_id == PERSON_ID
        return result

    def detect() -> object:
        result = detection.detect(
            image, return_face_id=True, return_face_attributes=head_pose, consent=token
        )
        assert result[0].face_attributes is not None
        return result

    return Contender(
        "faceguard",
        {"verify": verify, "identify": identify, "detect": detect},
        close=client.close,
    )


def httpx_contender(endpoint: str, image: bytes) -> Contender:
    """The floor: the same requests with a bare httpx.Client and ``response.json()``."""
    import httpx

    client = httpx.Client(timeout=httpx.Timeout(60.0, connect=5.0), follow_redirects=False)
    base = f"{endpoint}{API_PATH}"
    user_agent = f"bench/0 python/{platform.python_version()} httpx/{httpx.__version__}"

    def headers(content_type: str) -> dict[str, str]:
        return {
            "Accept": "application/json",
            "User-Agent": user_agent,
            "x-ms-client-request-id": str(uuid.uuid4()),
            "Ocp-Apim-Subscription-Key": API_KEY,
            "Content-Type": content_type,
        }

    def post_json(path: str, body: object) -> Any:
        response = client.post(
            f"{base}{path}",
            content=json.dumps(body, separators=(",", ":")).encode(),
            headers=headers("application/json"),
        )
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text}")
        return response.json()

    def verify() -> object:
        result = post_json("/verify", {"faceId1": FACE_ID_1, "faceId2": FACE_ID_2})
        assert result["isIdentical"]
        return result

    def identify() -> object:
        result = post_json(
            "/identify", {"faceIds": [FACE_ID_1], "largePersonGroupId": LARGE_PERSON_GROUP_ID}
        )
        assert result[0]["candidates"][0]["personId"] == PERSON_ID
        return result

    def detect() -> object:
        response = client.post(
            f"{base}/detect",
            params=DETECT_QUERY,
            content=image,
            headers=headers("application/octet-stream"),
        )
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text}")
        result = response.json()
        assert result[0]["faceAttributes"]["headPose"]
        return result

    return Contender(
        "raw httpx",
        {"verify": verify, "identify": identify, "detect": detect},
        close=client.close,
    )


def azure_contender(endpoint: str, image: bytes) -> Contender:
    name = "azure-ai-vision-face"
    try:
        from azure.ai.vision.face import FaceClient
        from azure.core.credentials import AzureKeyCredential
    except ImportError as exc:
        return Contender(name, missing=f"not installed ({exc.name})")

    # api_version="v1.2" so its paths are /face/v1.2/... like faceguard's (its default is the
    # v1.2-preview.1 path); the rest is its default pipeline (requests transport, retries...).
    client = FaceClient(endpoint, AzureKeyCredential(API_KEY), api_version="v1.2")

    def verify() -> object:
        result = client.verify_face_to_face(face_id1=FACE_ID_1, face_id2=FACE_ID_2)
        assert result.is_identical
        return result

    def identify() -> object:
        result = client.identify_from_large_person_group(
            face_ids=[FACE_ID_1], large_person_group_id=LARGE_PERSON_GROUP_ID
        )
        assert result[0].candidates[0].person_id == PERSON_ID
        return result

    def detect() -> object:
        result = client.detect(
            image,
            detection_model="detection_03",
            recognition_model="recognition_04",
            return_face_id=True,
            return_face_attributes=["headPose"],
            return_face_landmarks=False,
            return_recognition_model=False,
            face_id_time_to_live=600,
        )
        assert result[0].face_attributes is not None
        return result

    return Contender(
        name, {"verify": verify, "identify": identify, "detect": detect}, close=client.close
    )


# -- CPU per call ---------------------------------------------------------------------------


def _run(call: Call, n: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``n`` calls."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        call()
    return time.process_time() - cpu0, time.perf_counter() - wall0


def measure_cpu(
    contenders: list[Contender], iterations: int, repeats: int, warmup: int, block: int
) -> dict[str, dict[str, dict[str, Any]]]:
    """figures[op][client] = {cpu_us, wall_us, cpu_us_runs}; median over ``repeats``.

    Each repeat gives every client ``iterations`` calls of one operation, in blocks of
    ``block`` calls taken in turn (A, B, C, A, B, C...), so a burst of load from elsewhere on
    the machine lands on all clients alike; who goes first rotates from repeat to repeat.
    """
    live = [c for c in contenders if c.missing is None]
    for contender in live:  # warm-up: connections, lazy adapters, caches
        for op in OPERATIONS:
            _run(contender.calls[op], warmup)
    cpu: dict[tuple[str, str], list[float]] = {}
    wall: dict[tuple[str, str], list[float]] = {}
    for repeat in range(repeats):
        for op in OPERATIONS:
            order = live[repeat % len(live) :] + live[: repeat % len(live)]
            for contender in order:
                _run(contender.calls[op], max(1, warmup // 10))
            spent = {c.name: [0.0, 0.0] for c in order}
            done = 0
            while done < iterations:
                n = min(block, iterations - done)
                for contender in order:
                    c, w = _run(contender.calls[op], n)
                    spent[contender.name][0] += c
                    spent[contender.name][1] += w
                done += n
            for name, (c, w) in spent.items():
                cpu.setdefault((op, name), []).append(c / iterations * 1e6)
                wall.setdefault((op, name), []).append(w / iterations * 1e6)
        print(f"  repeat {repeat + 1}/{repeats} done", file=sys.stderr, flush=True)
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    for op in OPERATIONS:
        figures[op] = {}
        for contender in contenders:
            if contender.missing is not None:
                figures[op][contender.name] = {"missing": contender.missing}
                continue
            runs = cpu[(op, contender.name)]
            figures[op][contender.name] = {
                "cpu_us": statistics.median(runs),
                "wall_us": statistics.median(wall[(op, contender.name)]),
                "cpu_us_runs": [round(r, 2) for r in runs],
            }
    return figures


def paired_ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    """Median over repeats of a/b, each repeat's pair measured side by side."""
    if "cpu_us_runs" not in a or "cpu_us_runs" not in b:
        return None
    pairs = zip(a["cpu_us_runs"], b["cpu_us_runs"], strict=True)
    return float(statistics.median([x / y for x, y in pairs]))


# -- import time ----------------------------------------------------------------------------


def import_env(bytecode: str) -> dict[str, str]:
    """The environment of the import-time subprocesses.

    ``cached`` (the default) lets every interpreter write and reuse bytecode in a private
    ``PYTHONPYCACHEPREFIX``, as an installed wheel would have it, even where
    ``PYTHONDONTWRITEBYTECODE`` is set: otherwise an editable checkout is recompiled from source
    on every import while site-packages keep the .pyc files pip wrote, which is not a fair race.
    ``as-is`` keeps the environment unchanged.
    """
    env = dict(os.environ)
    if bytecode == "cached":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(
            tempfile.gettempdir(), f"faceguard-bench-pycache-{os.getuid()}"
        )
    return env


def _importtime_us(python: str, module: str, env: dict[str, str]) -> tuple[int, dict[str, int]]:
    """Cumulative µs of ``import module`` (with its parent packages) per ``-X importtime``,
    and the self µs of what it imported, by package."""
    done = subprocess.run(
        [python, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    chain = {".".join(module.split(".")[: i + 1]) for i in range(module.count(".") + 1)}
    root = module.split(".")[0]
    total = 0
    rows: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        head, cumulative, name = line.split("|")
        if not cumulative.strip().isdigit():
            continue  # the header line
        depth0 = name.startswith(" ") and not name.startswith("  ")
        if depth0 and name.strip() not in chain:
            rows.clear()  # interpreter start-up (site, encodings...), not this import
            continue
        rows.append((int(head.split(":")[1]), name.strip()))
        if depth0:
            # Depth 0 only: the module itself and its parent packages, each with all it pulls.
            total += int(cumulative)
    by_package: dict[str, int] = {}
    for self_us, name in rows:
        parts = name.split(".")
        key = ".".join(parts[:2]) if parts[0] == root else parts[0]
        by_package[key] = by_package.get(key, 0) + self_us
    return total, by_package


def _wall_and_cpu_s(python: str, code: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + sys) of ``python -c code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, capture_output=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


# Cold start: what an application pays before its first request, not just ``import X``.
COLD_START = {
    "faceguard": (
        "from faceguard import FaceClient; "
        "FaceClient('https://x.cognitiveservices.azure.com', api_key='k')"
    ),
    "azure.ai.vision.face": (
        "from azure.ai.vision.face import FaceClient; "
        "from azure.core.credentials import AzureKeyCredential; "
        "FaceClient('https://x.cognitiveservices.azure.com', AzureKeyCredential('k'))"
    ),
}


def measure_cold_start(
    python: str, modules: list[str], repeats: int, bytecode: str
) -> dict[str, dict[str, float]]:
    """Median wall and CPU ms of importing the client class and building one client."""
    env = import_env(bytecode)
    present = [m for m in modules if importable(python, m)]
    for module in present:
        _wall_and_cpu_s(python, COLD_START[module], env)
    walls: dict[str, list[float]] = {m: [] for m in present}
    cpus: dict[str, list[float]] = {m: [] for m in present}
    for _ in range(repeats):
        base_wall, base_cpu = _wall_and_cpu_s(python, "pass", env)
        for module in present:
            wall, cpu = _wall_and_cpu_s(python, COLD_START[module], env)
            walls[module].append(wall - base_wall)
            cpus[module].append(cpu - base_cpu)
    return {
        m: {
            "wall_ms": statistics.median(walls[m]) * 1000,
            "cpu_ms": statistics.median(cpus[m]) * 1000,
        }
        for m in present
    }


def importable(python: str, module: str) -> bool:
    done = subprocess.run(
        [python, "-c", f"import importlib.util as u; print(u.find_spec({module!r}) is not None)"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() == "True"


def measure_imports(
    python: str, modules: list[str], repeats: int, bytecode: str
) -> dict[str, dict[str, Any]]:
    """figures[module] = {importtime_us, wall_ms} (medians), interleaved across modules."""
    env = import_env(bytecode)
    present = [m for m in modules if importable(python, m)]
    for module in present:  # warm-up: bytecode written, page cache filled
        _importtime_us(python, module, env)
        _wall_and_cpu_s(python, f"import {module}", env)
    samples: dict[str, list[int]] = {m: [] for m in present}
    walls: dict[str, list[float]] = {m: [] for m in present}
    cpus: dict[str, list[float]] = {m: [] for m in present}
    packages: dict[str, dict[str, list[int]]] = {m: {} for m in present}
    for _ in range(repeats):
        base_wall, base_cpu = _wall_and_cpu_s(python, "pass", env)
        for module in present:
            total, by_package = _importtime_us(python, module, env)
            samples[module].append(total)
            for package, self_us in by_package.items():
                packages[module].setdefault(package, []).append(self_us)
            wall, cpu = _wall_and_cpu_s(python, f"import {module}", env)
            walls[module].append(wall - base_wall)
            cpus[module].append(cpu - base_cpu)
    out: dict[str, dict[str, Any]] = {}
    for module in modules:
        if module not in present:
            out[module] = {"missing": "not installed"}
        else:
            out[module] = {
                "importtime_us": statistics.median(samples[module]),
                "wall_ms": statistics.median(walls[module]) * 1000,
                "cpu_ms": statistics.median(cpus[module]) * 1000,
                "importtime_us_runs": samples[module],
                # A package missing from a run counts 0 there; median of self µs per package.
                "self_us_by_package": dict(
                    sorted(
                        (
                            (k, statistics.median(v + [0] * (repeats - len(v))))
                            for k, v in packages[module].items()
                        ),
                        key=lambda kv: -kv[1],
                    )
                ),
            }
    return out


# -- profile ------------------------------------------------------------------------------

_STDLIB = sysconfig.get_paths()["stdlib"]


def _bucket(filename: str, function: str) -> str:
    if filename == "~":  # a builtin: name its owner when it says so
        if "pydantic_core" in function:
            return "pydantic"
        return "builtins (C)"
    for marker, name in (
        ("/faceguard/", "faceguard"),
        ("/httpx/", "httpx"),
        ("/httpcore/", "httpcore"),
        ("/h11/", "h11"),
        ("/pydantic", "pydantic"),
        ("/tenacity/", "tenacity"),
        ("/typing_extensions", "typing_extensions"),
    ):
        if marker in filename:
            return name
    if filename.startswith(_STDLIB):
        rel = os.path.relpath(filename, _STDLIB)
        return "stdlib " + rel.split(os.sep)[0].removesuffix(".py")
    return "other " + os.path.basename(filename)


def _profile(call: Call, iterations: int) -> tuple[dict[Any, Any], float]:
    """cProfile stats of ``iterations`` calls, timed by CPU (not wall) time."""
    _run(call, 200)
    # process_time, not the default wall clock: time blocked in recv() is not client CPU.
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    _run(call, iterations)
    profiler.disable()
    stats = pstats.Stats(profiler)
    return stats.stats, stats.total_tt  # type: ignore[attr-defined]


def _where(filename: str, line: int, function: str) -> str:
    for marker in ("/site-packages/", "/src/", _STDLIB + os.sep):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{function}" if filename == "~" else f"{filename}:{line} {function}"


def profile_faceguard(endpoint: str, image: bytes, iterations: int, top: int) -> dict[str, Any]:
    """Where faceguard's CPU goes, next to raw httpx doing the same requests.

    For each operation: self time per package (µs per call under the profiler) for both
    clients and the difference; faceguard's own functions by cumulative time; and the
    functions whose self time faceguard adds most over raw httpx.
    """
    contenders = [faceguard_contender(endpoint, image), httpx_contender(endpoint, image)]
    report: dict[str, Any] = {}
    try:
        for op in OPERATIONS:
            per_client: dict[str, tuple[dict[Any, Any], float]] = {
                c.name: _profile(c.calls[op], iterations) for c in contenders
            }
            buckets: dict[str, dict[str, float]] = {}
            functions: dict[str, dict[str, float]] = {}
            own: list[tuple[float, float, float, str]] = []
            for name, (raw, _) in per_client.items():
                for (filename, line, function), (_, calls, tt, ct, _) in raw.items():
                    bucket = _bucket(filename, function)
                    row = buckets.setdefault(bucket, {"faceguard": 0.0, "raw httpx": 0.0})
                    row[name] += tt / iterations * 1e6
                    where = _where(filename, line, function)
                    frow = functions.setdefault(where, {"faceguard": 0.0, "raw httpx": 0.0})
                    frow[name] += tt / iterations * 1e6
                    if name == "faceguard" and bucket == "faceguard":
                        own.append((ct / iterations * 1e6, tt / iterations * 1e6, calls, where))
            own.sort(reverse=True)
            extra = sorted(
                functions.items(), key=lambda kv: kv[1]["raw httpx"] - kv[1]["faceguard"]
            )
            report[op] = {
                "profiled_us_per_call": {
                    name: total / iterations * 1e6 for name, (_, total) in per_client.items()
                },
                "self_us_by_package": dict(
                    sorted(buckets.items(), key=lambda kv: kv[1]["raw httpx"] - kv[1]["faceguard"])
                ),
                "faceguard_top_cumulative": [
                    {
                        "function": where,
                        "cum_us_per_call": ct,
                        "self_us_per_call": tt,
                        "calls_per_call": calls / iterations,
                    }
                    for ct, tt, calls, where in own[:top]
                ],
                "most_added_self_time": [
                    {"function": where, "extra_us_per_call": row["faceguard"] - row["raw httpx"]}
                    for where, row in extra[:top]
                    if row["faceguard"] > row["raw httpx"]
                ],
            }
    finally:
        for contender in contenders:
            contender.close()
    return report


def print_profile(report: dict[str, Any], out: Any) -> None:
    print(
        "\nWhere faceguard's CPU goes (cProfile timed by process_time; the profiler's own cost"
        "\ninflates every figure, call-heavy code most: compare the columns, not the absolutes)",
        file=out,
    )
    for op, data in report.items():
        totals = data["profiled_us_per_call"]
        print(
            f"\n[{op}] under the profiler: faceguard {totals['faceguard']:.0f} µs/call, "
            f"raw httpx {totals['raw httpx']:.0f} µs/call",
            file=out,
        )
        print(
            f"  {'self µs/call by package':<28} {'faceguard':>9} {'raw':>8} {'diff':>8}", file=out
        )
        for bucket, row in data["self_us_by_package"].items():
            fg, raw = row["faceguard"], row["raw httpx"]
            if abs(fg - raw) >= 0.01 * totals["faceguard"] or fg >= 0.05 * totals["faceguard"]:
                print(f"  {bucket:<28} {fg:9.1f} {raw:8.1f} {fg - raw:+8.1f}", file=out)
        print(f"  {'cum µs':>8} {'self µs':>8} {'calls':>5}  faceguard's own functions", file=out)
        for row in data["faceguard_top_cumulative"]:
            print(
                f"  {row['cum_us_per_call']:8.1f} {row['self_us_per_call']:8.1f} "
                f"{row['calls_per_call']:5.1f}  {row['function']}",
                file=out,
            )
        print("  functions faceguard adds most self time to, over raw httpx (µs/call):", file=out)
        for row in data["most_added_self_time"]:
            print(f"  {row['extra_us_per_call']:+8.1f}  {row['function']}", file=out)


# -- report ---------------------------------------------------------------------------------

TARGET_VS_HTTPX = 1.15
TARGET_VS_AZURE = 0.6
TARGET_IMPORT = 1.0


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        revision = subprocess.run(
            [
                "git",
                "-C",
                os.path.dirname(os.path.abspath(__file__)),
                "describe",
                "--always",
                "--dirty",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        revision = "unknown"
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "faceguard_revision": revision,
        "packages": {
            name: _version(name)
            for name in (
                "faceguard",
                "httpx",
                "httpcore",
                "pydantic",
                "pydantic-core",
                "tenacity",
                "azure-ai-vision-face",
                "azure-core",
                "requests",
            )
        },
    }


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    if "cpu_us" not in a or "cpu_us" not in b:
        return None
    return float(a["cpu_us"]) / float(b["cpu_us"])


def _verdict(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}x {'ok' if value <= target else 'MISS'}"


def print_report(results: dict[str, Any], out: Any) -> None:
    info = results["machine"]
    print(
        f"\nMachine: {info['nproc']} CPUs, {info['cpu']}, "
        f"{info['implementation']} {info['python']}; faceguard at {info['faceguard_revision']}",
        file=out,
    )
    print(
        "Packages: " + ", ".join(f"{k} {v}" for k, v in info["packages"].items()),
        file=out,
    )
    cpu = results.get("cpu_per_call")
    if cpu is not None:
        setup = results["setup"]
        print(
            f"\nClient CPU per call, µs (median of {setup['repeats']} x "
            f"{setup['iterations']} calls; wall µs in brackets)",
            file=out,
        )
        header = (
            f"{'operation':<10} {'faceguard':>16} {'raw httpx':>16} "
            f"{'azure-ai-vision-face':>22}   {'fg/httpx':>13} {'fg/azure':>13}"
        )
        print(header, file=out)
        print("-" * len(header), file=out)

        def cell(fig: dict[str, Any], width: int) -> str:
            if "cpu_us" not in fig:
                return f"{fig.get('missing', 'n/a'):>{width}}"
            return f"{fig['cpu_us']:>{width - 9}.1f} [{fig['wall_us']:5.0f}]"

        for op, figs in cpu.items():
            fg, hx, az = figs["faceguard"], figs["raw httpx"], figs["azure-ai-vision-face"]
            print(
                f"{op:<10} {cell(fg, 16)} {cell(hx, 16)} {cell(az, 22)}   "
                f"{_verdict(fg.get('ratio_vs_httpx'), TARGET_VS_HTTPX):>13} "
                f"{_verdict(fg.get('ratio_vs_azure'), TARGET_VS_AZURE):>13}",
                file=out,
            )
        print(
            "ratios: median over repeats of the paired (side-by-side) ratios; "
            f"targets: faceguard/raw httpx <= {TARGET_VS_HTTPX}x, "
            f"faceguard/azure <= {TARGET_VS_AZURE}x",
            file=out,
        )
    imports = results.get("import_time")
    if imports is not None:
        print(
            f"\nImport time (median of {results['setup']['import_repeats']} fresh "
            f"interpreters of {results['setup']['python']}, bytecode "
            f"{results['setup']['bytecode']})",
            file=out,
        )
        print(
            f"{'module':<22} {'-X importtime µs':>17} {'wall ms':>9} {'CPU ms':>9}"
            "   (wall and CPU: python -c 'import X' minus python -c 'pass')",
            file=out,
        )
        for module, fig in imports["modules"].items():
            if "importtime_us" not in fig:
                print(f"{module:<22} {fig['missing']:>17}", file=out)
            else:
                print(
                    f"{module:<22} {fig['importtime_us']:>17.0f} {fig['wall_ms']:>9.1f} "
                    f"{fig['cpu_ms']:>9.1f}",
                    file=out,
                )

        def times(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.2f}x"

        verdict = _verdict(imports.get("ratio_importtime"), TARGET_IMPORT)
        print(
            f"faceguard/azure: importtime {verdict}"
            f" (target <= {TARGET_IMPORT}x); wall {times(imports.get('ratio_wall'))}, "
            f"CPU {times(imports.get('ratio_cpu'))}",
            file=out,
        )
        print(
            "self ms of what each import pulls in, by package (-X importtime, medians):", file=out
        )
        for module, fig in imports["modules"].items():
            shares = fig.get("self_us_by_package")
            if shares:
                top = ", ".join(f"{k} {v / 1000:.1f}" for k, v in list(shares.items())[:10])
                print(f"  {module}: {top}", file=out)
        cold = imports.get("cold_start") or {}
        if cold:
            print(
                "\nCold start: import the client class and build one client "
                "(python -c ... minus python -c 'pass', medians)",
                file=out,
            )
            for module, fig in cold.items():
                print(
                    f"{module:<22} wall {fig['wall_ms']:>7.1f} ms   CPU {fig['cpu_ms']:>7.1f} ms",
                    file=out,
                )
            if len(cold) == 2:
                fg, az = cold["faceguard"], cold["azure.ai.vision.face"]
                print(
                    f"faceguard/azure cold start: wall {fg['wall_ms'] / az['wall_ms']:.2f}x, "
                    f"CPU {fg['cpu_ms'] / az['cpu_ms']:.2f}x",
                    file=out,
                )


def runner_args(quick: bool) -> list[str]:
    """What ``run_all.py`` passes: the full sizes, or a smoke run's."""
    if quick:
        return ["--iterations", "200", "--repeats", "3", "--warmup", "50", "--import-repeats", "3"]
    return []


def summary_rows(results: dict[str, Any]) -> list[Any]:
    """The summary table's rows (``_common.Row``), from this script's JSON document."""
    from _common import Row

    rows: list[Row] = []
    for op, figs in (results.get("cpu_per_call") or {}).items():
        fg = figs["faceguard"]
        for other, key, target in (
            ("raw httpx", "ratio_vs_httpx", TARGET_VS_HTTPX),
            ("azure-ai-vision-face", "ratio_vs_azure", TARGET_VS_AZURE),
        ):
            them = figs[other]
            if "cpu_us" not in fg or "cpu_us" not in them:
                text = f"{other}: {them.get('missing') or fg.get('missing') or 'n/a'}"
            else:
                text = f"{fg['cpu_us']:.0f} vs {them['cpu_us']:.0f} µs"
            rows.append(
                Row(
                    "client CPU/call",
                    f"{op}: faceguard / {other}",
                    text,
                    ratio=fg.get(key),
                    target=target,
                )
            )
    imports = results.get("import_time")
    if imports is not None:
        fg, az = imports["modules"]["faceguard"], imports["modules"]["azure.ai.vision.face"]
        if "importtime_us" in fg and "importtime_us" in az:
            text = (
                f"{fg['importtime_us'] / 1000:.0f} vs {az['importtime_us'] / 1000:.0f} ms "
                "(-X importtime)"
            )
        else:
            text = f"azure.ai.vision.face: {az.get('missing', 'n/a')}"
        rows.append(
            Row(
                "import time",
                "faceguard / azure.ai.vision.face",
                text,
                ratio=imports.get("ratio_importtime"),
                target=TARGET_IMPORT,
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=2000, help="calls per measurement")
    parser.add_argument("--repeats", type=int, default=5, help="measurements per client and op")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up calls per client and op")
    parser.add_argument(
        "--block", type=int, default=50, help="calls per turn when interleaving the clients"
    )
    parser.add_argument("--import-repeats", type=int, default=7, help="fresh interpreters")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter of the import-time subprocesses"
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="also write the figures as JSON to PATH ('-' or no value: stdout, table on stderr)",
    )
    parser.add_argument(
        "--bytecode",
        choices=("cached", "as-is"),
        default="cached",
        help="import-time bytecode: 'cached' in a private PYTHONPYCACHEPREFIX (default), or "
        "'as-is' with the current environment (PYTHONDONTWRITEBYTECODE included)",
    )
    parser.add_argument("--skip-cpu", action="store_true", help="skip the CPU-per-call figures")
    parser.add_argument("--skip-import", action="store_true", help="skip the import-time figures")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile faceguard's calls (cProfile) and print where the CPU goes",
    )
    parser.add_argument("--profile-top", type=int, default=15, help="faceguard rows per op")
    # The server mode: the script runs itself as the canned service.
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--image-size", type=int, default=IMAGE_SIZE, help=argparse.SUPPRESS)
    parser.add_argument("--server-max-seconds", type=float, default=3600, help=argparse.SUPPRESS)
    parser.add_argument(
        "--server-max-requests", type=int, default=5_000_000, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    if args.serve:
        asyncio.run(_serve(0, args.image_size, args.server_max_seconds, args.server_max_requests))
        return 0

    out = sys.stderr if args.json == "-" else sys.stdout
    results: dict[str, Any] = {
        "machine": machine(),
        "setup": {
            "iterations": args.iterations,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "block": args.block,
            "import_repeats": args.import_repeats,
            "python": args.python,
            "bytecode": args.bytecode,
            "image_bytes": IMAGE_SIZE,
        },
        "targets": {
            "faceguard_vs_httpx_cpu": TARGET_VS_HTTPX,
            "faceguard_vs_azure_cpu": TARGET_VS_AZURE,
            "faceguard_vs_azure_import": TARGET_IMPORT,
        },
    }
    image = make_image()

    if not args.skip_cpu or args.profile:
        server = start_server(IMAGE_SIZE, max_seconds=3600)
        try:
            if not args.skip_cpu:
                contenders = [
                    faceguard_contender(server.endpoint, image),
                    httpx_contender(server.endpoint, image),
                    azure_contender(server.endpoint, image),
                ]
                try:
                    cpu = measure_cpu(
                        contenders, args.iterations, args.repeats, args.warmup, args.block
                    )
                finally:
                    for contender in contenders:
                        contender.close()
                for figs in cpu.values():
                    fg = figs["faceguard"]
                    hx, az = figs["raw httpx"], figs["azure-ai-vision-face"]
                    fg["ratio_vs_httpx"] = paired_ratio(fg, hx)
                    fg["ratio_vs_azure"] = paired_ratio(fg, az)
                    fg["ratio_of_medians_vs_httpx"] = _ratio(fg, hx)
                    fg["ratio_of_medians_vs_azure"] = _ratio(fg, az)
                results["cpu_per_call"] = cpu
            if args.profile:
                results["profile"] = profile_faceguard(
                    server.endpoint, image, args.iterations, args.profile_top
                )
        finally:
            server.stop()

    if not args.skip_import:
        modules = measure_imports(
            args.python, ["faceguard", "azure.ai.vision.face"], args.import_repeats, args.bytecode
        )
        fg, az = modules["faceguard"], modules["azure.ai.vision.face"]
        both = "importtime_us" in fg and "importtime_us" in az
        results["import_time"] = {
            "modules": modules,
            "ratio_importtime": fg["importtime_us"] / az["importtime_us"] if both else None,
            "ratio_wall": fg["wall_ms"] / az["wall_ms"] if both else None,
            "ratio_cpu": fg["cpu_ms"] / az["cpu_ms"] if both else None,
            "cold_start": measure_cold_start(
                args.python,
                ["faceguard", "azure.ai.vision.face"],
                args.import_repeats,
                args.bytecode,
            ),
        }

    print_report(results, out)
    if "profile" in results:
        print_profile(results["profile"], out)
    if args.json is not None:
        text = json.dumps(results, indent=2, ensure_ascii=False)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            print(f"\nJSON written to {args.json}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
