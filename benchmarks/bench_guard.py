"""CPU the guard adds to one recognition call, per guard store (memory, SQLite, Redis).

No HTTP is involved: the script builds the requests with the real builders
(``faceguard._operations.recognition.verify_face_to_face`` and
``identify_from_large_person_group``), parses canned service answers with the specs' own
parsers, and calls ``Guard.before(spec)`` and ``Guard.after(spec, ticket, result)`` directly.
That pair is exactly what the sync and async transports add around a request. Everything the
guard checks is real:

* faceIds come from detect specs passed through ``before``/``after``, so they are registry
  entries bound to the probe subject, with the large person group's recognition model known
  from a create (PUT) spec passed through the guard;
* consent tokens are real Ed25519 JWTs from a ``ConsentIssuer``: a ``session`` token, whose
  signature the verifier caches after the first call (warm), and, separately, a fresh
  ``once`` token per call (cold: signature check, claims parse, replay record);
* every identify candidate is a person enrolled through an add-face spec under its own
  subject's consent, so the ledger keeps all of them.

CPU is ``time.process_time()`` over many calls, the median of several repeats; wall time is
shown in brackets. For Redis the script starts its own ``redis-server`` on a free loopback port
in a temp dir (``--save '' --appendonly no``) and stops it at the end. Its CPU is not counted.

Run ``python benchmarks/bench_guard.py --help`` for the options; ``benchmarks/README.md``
("Guard overhead") explains the figures and the target.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
from _common import RedisServer

from faceguard import ConsentRejectedError
from faceguard._config import resolve_config
from faceguard._guard._consent import ConsentIssuer, ConsentScope, ConsentVerifier
from faceguard._guard._engine import Guard
from faceguard._guard._policy import GuardPolicy
from faceguard._guard._store import GuardStore, MemoryStore
from faceguard._guard._usecases import CONSENT_OPERATIONS, UseCase
from faceguard._operations import detection, recognition
from faceguard._operations._kinds import LARGE_PERSON_GROUPS
from faceguard._transport._exchange import build_request
from faceguard._transport._guarded import PASS_KEY, Capability, _WireGuard
from faceguard._transport._spec import RawResponse, RequestSpec

TARGET_US = 50.0
"""Guard CPU per recognition call, memory store, warm consent token (µs)."""

ENDPOINT = "https://bench-guard.cognitiveservices.azure.com"
BENCH_SESSION = bytes(range(32))  # the direct verifier calls' client session handle
AUDIENCE = "faceguard:bench-guard"
# Permits detect_template, verify, identify and enroll, and its results are not provisional
# (R11 review is a separate step, not per-call guard work); the tokens consent to continuous
# identification (R17), since the bench identifies the same persons thousands of times.
USE_CASE = UseCase.DUPLICATE_OR_BLOCKED_USERS
KIND = "largePersonGroup"
GROUP = "bench-lpg"
PROBE_SUBJECT = "p-bench-probe"
JPEG = b"\xff\xd8\xff\xe0" + bytes(4000)
FACE_IDS = 10  # the most identify accepts
CANDIDATES = 10  # per identified face
FACE_ID_TTL = 86_400  # so no faceId nears its expiry margin during a long run
JSON_HEADERS = {"content-type": "application/json; charset=utf-8"}

STORES = ("memory", "sqlite", "redis")


# -- the guarded world: one store, one verifier, one guard, real registry and ledger -----------


def _raw(body: object) -> RawResponse:
    return RawResponse(200, JSON_HEADERS, json.dumps(body).encode())


class World:
    """A guard on one store with everything a recognition call needs already recorded."""

    def __init__(self, issuer: ConsentIssuer, public_key: bytes, store: GuardStore) -> None:
        self.issuer = issuer
        self.store = store
        self.verifier = ConsentVerifier(
            {issuer.kid: public_key},
            issuer=issuer.issuer,
            audience=AUDIENCE,
            replay_store=store,
        )
        self.policy = GuardPolicy(use_case=USE_CASE, verifier=self.verifier, store=store)
        self.guard = Guard(self.policy, endpoint=ENDPOINT)
        # One standing consent of the probe subject for the whole run; warm after one call.
        self.session = self.token(PROBE_SUBJECT, use="session")
        self._create_group()
        self.face_ids = [self._detect() for _ in range(FACE_IDS)]
        self.persons = [self._enroll(index) for index in range(FACE_IDS * CANDIDATES)]

    def token(
        self,
        subject: str,
        *,
        use: str,
        person_id: str | None = None,
    ) -> str:
        return self.issuer.issue(
            subject,
            audience=[AUDIENCE, ENDPOINT],
            operations=CONSENT_OPERATIONS,
            use_case=USE_CASE,
            bindings=[(KIND, GROUP, person_id)],
            use=use,  # type: ignore[arg-type]
            continuous_identification=True,  # the bench repeats the same persons (R17)
        )

    def once(self) -> str:
        return self.token(PROBE_SUBJECT, use="once")

    def wired(self, spec: RequestSpec[Any]) -> tuple[httpx.Request, _WireGuard, Capability]:
        """The request the transport would send for ``spec``, and a wire check that knows a
        capability (no transport behind it: only the check is timed)."""
        config = resolve_config(
            "face",
            endpoint=ENDPOINT,
            api_key="bench-key",
            credential=None,
            timeout=None,
            retry=None,
        )
        request = build_request(
            httpx.Client(), spec, config, client_request_id="bench", auth_headers={}
        )
        wire_guard, capability = _WireGuard(), Capability()
        wire_guard.register(capability, "")
        return request, wire_guard, capability

    def call(self, spec: RequestSpec[Any], result: object) -> Any:
        return self.guard.after(spec, self.guard.before(spec), result)

    def _create_group(self) -> None:
        spec = LARGE_PERSON_GROUPS.create(GROUP, name="bench", recognition_model="recognition_04")
        self.call(spec, None)
        assert self.guard.registry.container_model(KIND, GROUP) == "recognition_04"

    def _detect(self) -> str:
        spec = detection.detect(
            JPEG, return_face_id=True, face_id_time_to_live=FACE_ID_TTL, consent=self.session
        )
        face_id = str(uuid.uuid4())
        face = {
            "faceId": face_id,
            "faceRectangle": {"top": 40, "left": 60, "width": 180, "height": 180},
        }
        self.call(spec, spec.parse(_raw([face])))
        record = self.guard.registry.lookup(face_id)
        # Records hold the subject's pseudonym only (GUARD.md §4.4).
        pseudonym = self.guard.registry.subject_pseudonym(PROBE_SUBJECT)
        assert record is not None and record.subject == pseudonym
        return face_id

    def _enroll(self, index: int) -> str:
        person_id = str(uuid.uuid4())
        subject = f"p-bench-person-{index}"
        token = self.token(subject, use="session", person_id=person_id)
        spec = LARGE_PERSON_GROUPS.add_face(GROUP, person_id, JPEG, consent=token)
        self.call(spec, spec.parse(_raw({"persistedFaceId": str(uuid.uuid4())})))
        # The ledger keeps the subject's pseudonym only (GUARD.md §4.4).
        ledger = self.guard.ledger
        assert ledger.subject_of(KIND, GROUP, person_id) == ledger.subject_pseudonym(subject)
        return person_id

    # -- the calls ---------------------------------------------------------------------------

    def verify_spec(self, consent: str) -> RequestSpec[Any]:
        return recognition.verify_face_to_face(self.face_ids[0], self.face_ids[1], consent=consent)

    def verify_result(self) -> object:
        return self.verify_spec(self.session).parse(_raw({"isIdentical": True, "confidence": 0.9}))

    def identify_spec(self, faces: int, consent: str) -> RequestSpec[Any]:
        return recognition.identify_from_large_person_group(
            self.face_ids[:faces],
            large_person_group_id=GROUP,
            max_num_of_candidates_returned=CANDIDATES,
            consent=consent,
        )

    def identify_result(self, faces: int) -> Any:
        body = [
            {
                "faceId": face_id,
                "candidates": [
                    {
                        "personId": self.persons[row * CANDIDATES + rank],
                        "confidence": round(0.95 - rank * 0.03, 2),
                    }
                    for rank in range(CANDIDATES)
                ],
            }
            for row, face_id in enumerate(self.face_ids[:faces])
        ]
        return self.identify_spec(faces, self.session).parse(_raw(body))

    def check(self) -> None:
        """The calls under test do what they should (so the timings are of the real path)."""
        kept = self.call(self.identify_spec(FACE_IDS, self.session), self.identify_result(10))
        assert sum(len(item.candidates) for item in kept) == FACE_IDS * CANDIDATES
        once = self.verify_spec(self.once())
        self.call(once, self.verify_result())
        try:
            self.guard.before(once)
        except ConsentRejectedError as exc:
            assert exc.check == "replay", exc.check
        else:
            raise AssertionError("a once token was accepted twice")

    def close(self) -> None:
        self.store.close()


# -- the measurements ----------------------------------------------------------------------


Batch = Callable[[int], Callable[[], None]]
"""Given n, prepare n calls (outside the timing) and return the function that makes them."""


@dataclass(frozen=True)
class Measurement:
    key: str
    label: str
    batch: Batch
    scale: float = 1.0
    """Fraction of the store's iterations used (the calls with 10 faceIds cost ~10x)."""
    call: bool = True
    """A whole recognition call (before + after), not a part of one."""


def _repeat(n: int, body: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        for _ in range(n):
            body()

    return run


def measurements(world: World) -> list[Measurement]:
    guard, verifier = world.guard, world.verifier
    registry, ledger = guard.registry, guard.ledger
    before, after = guard.before, guard.after
    session = world.session
    verify_result = world.verify_result()

    def warm_call(spec: RequestSpec[Any], result: object) -> Batch:
        def batch(n: int) -> Callable[[], None]:
            return _repeat(n, lambda: after(spec, before(spec), result))

        return batch

    def wired_call(spec: RequestSpec[Any], result: object) -> Batch:
        # The whole guard of one call: before, the wire check of the request as built (with
        # the typed path's pass), after. What the transports add around a request.
        request, wire_guard, capability = world.wired(spec)
        content = request.content

        def one() -> object:
            ticket = before(spec)
            issued = capability.mint(spec, content)
            request.extensions[PASS_KEY] = issued
            wire_guard.check(request, content)
            capability.retire(issued)
            return after(spec, ticket, result)

        def batch(n: int) -> Callable[[], None]:
            return _repeat(n, one)

        return batch

    def once_verify(n: int) -> Callable[[], None]:
        specs = [world.verify_spec(world.once()) for _ in range(n)]

        def run() -> None:
            for spec in specs:
                after(spec, before(spec), verify_result)

        return run

    # The parts, each as the engine does it (Guard._consent, _check_face_ids, _suppress).
    def token_warm(n: int) -> Callable[[], None]:
        # Its own session token: the guard's is bound to the guard's session handle.
        direct = world.token(PROBE_SUBJECT, use="session")

        def one() -> object:
            return verifier.verify(
                direct,
                ConsentScope(operation="verify"),
                use_case=USE_CASE,
                endpoint=ENDPOINT,
                session=BENCH_SESSION,
            )

        return _repeat(n, one)

    def token_once(n: int) -> Callable[[], None]:
        tokens = [world.once() for _ in range(n)]

        def run() -> None:
            for token in tokens:
                verifier.verify(
                    token, ConsentScope(operation="verify"), use_case=USE_CASE, endpoint=ENDPOINT
                )

        return run

    def registry_check(faces: int, container: bool) -> Batch:
        face_ids = world.face_ids[:faces]

        def one() -> object:
            model = registry.container_model(KIND, GROUP) if container else None
            return registry.check(
                face_ids, endpoint=ENDPOINT, container_model=model, allow_unknown=False
            )

        def batch(n: int) -> Callable[[], None]:
            return _repeat(n, one)

        return batch

    def ledger_suppression(faces: int) -> Batch:
        person_ids = [c.person_id for item in world.identify_result(faces) for c in item.candidates]

        def one() -> object:
            return [p for p in person_ids if ledger.has_live_consent(KIND, GROUP, p)]

        def batch(n: int) -> Callable[[], None]:
            return _repeat(n, one)

        return batch

    def store_get(n: int) -> Callable[[], None]:
        get, face_id = world.store.get, world.face_ids[0]
        return _repeat(n, lambda: get("faceid", face_id))

    return [
        Measurement(
            "verify",
            "verify, warm session token",
            warm_call(world.verify_spec(session), verify_result),
        ),
        Measurement(
            "identify_1",
            "identify, 1 faceId (10 candidates)",
            warm_call(world.identify_spec(1, session), world.identify_result(1)),
        ),
        Measurement(
            "identify_10",
            "identify, 10 faceIds (100 candidates)",
            warm_call(world.identify_spec(FACE_IDS, session), world.identify_result(FACE_IDS)),
            scale=0.2,
        ),
        Measurement(
            "verify_wired",
            "verify + wire check, warm session token",
            wired_call(world.verify_spec(session), verify_result),
        ),
        Measurement(
            "identify_1_wired",
            "identify + wire check, 1 faceId (10 candidates)",
            wired_call(world.identify_spec(1, session), world.identify_result(1)),
        ),
        Measurement("verify_once", "verify, fresh once token", once_verify),
        Measurement("token_warm", "token verification, warm session", token_warm, call=False),
        Measurement("token_once", "token verification, fresh once", token_once, call=False),
        Measurement(
            "registry_2", "registry check, 2 faceIds (verify)", registry_check(2, False), call=False
        ),
        Measurement(
            "registry_1",
            "registry check, 1 faceId + group model",
            registry_check(1, True),
            call=False,
        ),
        Measurement(
            "registry_10",
            "registry check, 10 faceIds + group model",
            registry_check(FACE_IDS, True),
            scale=0.2,
            call=False,
        ),
        Measurement(
            "ledger_10", "ledger suppression, 10 candidates", ledger_suppression(1), call=False
        ),
        Measurement(
            "ledger_100",
            "ledger suppression, 100 candidates",
            ledger_suppression(FACE_IDS),
            scale=0.2,
            call=False,
        ),
        Measurement("store_get", "one store.get (faceId record)", store_get, call=False),
    ]


def measure_store(
    world: World, iterations: int, repeats: int, progress: Callable[[str], None]
) -> dict[str, Any]:
    """Median CPU and wall µs per call of every measurement, repeats interleaved."""
    items = measurements(world)
    counts = {m.key: max(10, round(iterations * m.scale)) for m in items}
    cpu: dict[str, list[float]] = {m.key: [] for m in items}
    wall: dict[str, list[float]] = {m.key: [] for m in items}
    for m in items:  # warm-up: caches, lazy imports, the store's connection and pages
        m.batch(max(10, counts[m.key] // 10))()
    for repeat in range(repeats):
        order = items[repeat % len(items) :] + items[: repeat % len(items)]
        for m in order:
            n = counts[m.key]
            run = m.batch(n)  # prepared outside the timing (once tokens are minted here)
            c0, w0 = time.process_time(), time.perf_counter()
            run()
            c1, w1 = time.process_time(), time.perf_counter()
            cpu[m.key].append((c1 - c0) / n * 1e6)
            wall[m.key].append((w1 - w0) / n * 1e6)
        progress(f"repeat {repeat + 1}/{repeats}")
    return {
        m.key: {
            "label": m.label,
            "recognition_call": m.call,
            "iterations": counts[m.key],
            "cpu_us": statistics.median(cpu[m.key]),
            "wall_us": statistics.median(wall[m.key]),
            "cpu_us_repeats": [round(v, 3) for v in cpu[m.key]],
            "wall_us_repeats": [round(v, 3) for v in wall[m.key]],
        }
        for m in items
    }


# -- stores --------------------------------------------------------------------------------


@contextlib.contextmanager
def open_store(
    name: str, directory: Path, redis_server: RedisServer | None
) -> Iterator[GuardStore]:
    store: GuardStore
    if name == "memory":
        store = MemoryStore()
    elif name == "sqlite":
        from faceguard._guard._sqlite_store import SQLiteStore

        store = SQLiteStore(directory / "guard.sqlite3")
    else:
        from faceguard._guard._redis_store import RedisStore

        assert redis_server is not None
        store = RedisStore(
            redis_server.url,
            prefix=f"fgbench-{uuid.uuid4().hex[:8]}",
            key="bench-guard-store-key-" + "0" * 16,  # a shared store needs a configured key
        )
    try:
        yield store
    finally:
        store.close()


# -- profile -------------------------------------------------------------------------------


def profile_memory(
    issuer: ConsentIssuer, public_key: bytes, iterations: int, top: int
) -> dict[str, Any]:
    """cProfile (process-time clock) of the warm calls on a MemoryStore."""
    world = World(issuer, public_key, MemoryStore())
    report: dict[str, Any] = {}
    try:
        cases = {
            "verify": (world.verify_spec(world.session), world.verify_result(), iterations),
            "identify_1": (
                world.identify_spec(1, world.session),
                world.identify_result(1),
                iterations,
            ),
            "identify_10": (
                world.identify_spec(FACE_IDS, world.session),
                world.identify_result(FACE_IDS),
                max(10, iterations // 5),
            ),
        }
        for key, (spec, result, n) in cases.items():
            for _ in range(100):
                world.call(spec, result)
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for _ in range(n):
                world.call(spec, result)
            profiler.disable()
            stats = pstats.Stats(profiler)
            raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
            total = sum(row[2] for row in raw.values())  # total of self times
            rows = []
            for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in raw.items():
                rows.append(
                    {
                        "function": f"{_short(filename)}:{line}({func})",
                        "calls_per_call": ncalls / n,
                        "self_us": tottime / n * 1e6,
                        "cum_us": cumtime / n * 1e6,
                    }
                )
            rows.sort(key=lambda r: r["self_us"], reverse=True)
            own = [r for r in rows if r["function"].startswith(("_guard/", "_transport/"))]
            own.sort(key=lambda r: r["cum_us"], reverse=True)
            report[key] = {
                "iterations": n,
                "total_us": total / n * 1e6,
                "top_self": rows[:top],
                "guard_cumulative": own[:top],
            }
    finally:
        world.close()
    return report


def _short(filename: str) -> str:
    for marker in ("/faceguard/", "/site-packages/", "/lib/python"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# -- machine and report ----------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("faceguard", "cryptography", "PyJWT", "redis", "pydantic"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        root = Path(__file__).resolve().parent.parent
        done = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=False,
        )
        commit = done.stdout.strip() or None
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
        "commit": commit,
        "loadavg_start": list(os.getloadavg()),
    }


def _cell(figures: dict[str, Any] | None) -> str:
    if figures is None:
        return "—"
    return f"{figures['cpu_us']:.1f} [{figures['wall_us']:.0f}]"


def print_report(results: dict[str, Any], out: Any) -> None:
    m = results["machine"]
    print(
        f"Machine: {m['nproc']} CPUs, {m['cpu_model']}, {m['python']}, SQLite {m['sqlite']}, "
        f"redis-server {results.get('redis_server') or 'n/a'}, faceguard {m['commit']}",
        file=out,
    )
    stores = [s for s in STORES if s in results["stores"]]
    skipped = results.get("skipped", {})
    print(
        "\nGuard CPU per call, µs (wall µs in brackets); "
        f"median of {results['setup']['repeats']} repeats",
        file=out,
    )
    keys = next(iter(results["stores"].values())).keys() if results["stores"] else []
    label_width = 42
    header = f"{'':<{label_width}}" + "".join(f"{s:>18}" for s in stores)
    print(header, file=out)
    counts = "".join(f"{results['setup']['iterations'][s]:>18}" for s in stores)
    print(f"{'iterations (x0.2 for the 10-faceId rows)':<{label_width}}{counts}", file=out)
    section = None
    for key in keys:
        first = results["stores"][stores[0]][key]
        whole = first["recognition_call"]
        kind = "whole recognition call (before + after)" if whole else "parts of it"
        if kind != section:
            print(f"-- {kind}", file=out)
            section = kind
        row = f"{first['label']:<{label_width}}"
        row += "".join(f"{_cell(results['stores'][s].get(key)):>18}" for s in stores)
        print(row, file=out)
    for store, why in skipped.items():
        print(f"({store}: skipped, {why})", file=out)
    verdict = results.get("target")
    if verdict:
        print(
            f"\nTarget: ≤ {TARGET_US:g} µs guard CPU per recognition call, memory store, "
            "warm token",
            file=out,
        )
        for key, v in verdict["rows"].items():
            state = "met" if v["met"] else "MISSED"
            print(f"  {key:<14} {v['cpu_us']:7.1f} µs  {state}", file=out)


def print_profile(profile: dict[str, Any], out: Any) -> None:
    print(
        "\nProfile, memory store, warm token (cProfile on process time; inflated ~5-12x, "
        "compare rows, not absolutes)",
        file=out,
    )
    for key, data in profile.items():
        print(
            f"\n{key}: {data['total_us']:.1f} µs per call under the profiler, "
            f"{data['iterations']} calls; by self time:",
            file=out,
        )
        _print_rows(data["top_self"], out)
        print("  guard functions by cumulative time:", file=out)
        _print_rows(data["guard_cumulative"], out)


def _print_rows(rows: list[dict[str, Any]], out: Any) -> None:
    print(f"  {'self µs':>8} {'cum µs':>8} {'calls':>6}  function", file=out)
    for row in rows:
        print(
            f"  {row['self_us']:8.2f} {row['cum_us']:8.2f} {row['calls_per_call']:6.1f}  "
            f"{row['function']}",
            file=out,
        )


# -- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--iterations", type=int, default=5000, help="calls per measurement, memory store"
    )
    parser.add_argument(
        "--sqlite-iterations", type=int, default=None, help="SQLite store (default: iterations/2)"
    )
    parser.add_argument(
        "--redis-iterations", type=int, default=None, help="Redis store (default: iterations/10)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="measurements; median reported")
    parser.add_argument(
        "--stores",
        default=",".join(STORES),
        help=f"comma-separated subset of {','.join(STORES)}",
    )
    parser.add_argument(
        "--redis-server",
        default=shutil.which("redis-server") or "/usr/bin/redis-server",
        help="redis-server executable to start",
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="also write the figures as JSON to PATH ('-' or no value: stdout, table on stderr)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile the warm calls on the memory store and print where the CPU goes",
    )
    parser.add_argument("--profile-top", type=int, default=20, help="rows per profiled call")
    args = parser.parse_args(argv)

    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = sorted(set(stores) - set(STORES))
    if unknown:
        parser.error(f"unknown store(s): {', '.join(unknown)}")
    iterations = {
        "memory": args.iterations,
        "sqlite": args.sqlite_iterations or max(10, args.iterations // 2),
        "redis": args.redis_iterations or max(10, args.iterations // 10),
    }
    out = sys.stderr if args.json == "-" else sys.stdout

    def progress(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    results: dict[str, Any] = {
        "machine": machine(),
        "setup": {
            "iterations": {s: iterations[s] for s in stores},
            "repeats": args.repeats,
            "heavy_rows_scale": 0.2,
            "face_ids_max": FACE_IDS,
            "candidates_per_face": CANDIDATES,
            "use_case": USE_CASE.value,
            "audit": None,
        },
        "stores": {},
        "skipped": {},
    }
    # One issuer for the run (minting is the consent service's cost, never timed).
    issuer, public_key = ConsentIssuer.generate(issuer="urn:faceguard:bench", kid="bench-1")

    with tempfile.TemporaryDirectory(prefix="faceguard-bench-guard-") as tmp:
        directory = Path(tmp)
        redis_server: RedisServer | None = None
        try:
            if "redis" in stores:
                if not Path(args.redis_server).exists():
                    results["skipped"]["redis"] = f"no redis-server at {args.redis_server}"
                else:
                    redis_dir = directory / "redis"
                    redis_dir.mkdir()
                    redis_server = RedisServer(args.redis_server, redis_dir)
                    redis_server.start()
                    results["redis_server"] = redis_server.version()
            for name in stores:
                if name in results["skipped"]:
                    continue
                print(f"{name} store, {iterations[name]} iterations", file=sys.stderr, flush=True)
                with open_store(name, directory, redis_server) as store:
                    world = World(issuer, public_key, store)
                    world.check()
                    results["stores"][name] = measure_store(
                        world, iterations[name], args.repeats, progress
                    )
        finally:
            if redis_server is not None:
                redis_server.stop()

    if "memory" in results["stores"]:
        memory = results["stores"]["memory"]
        rows = {
            key: {"cpu_us": memory[key]["cpu_us"], "met": memory[key]["cpu_us"] <= TARGET_US}
            for key in ("verify", "identify_1", "identify_10")
        }
        results["target"] = {"target_us": TARGET_US, "rows": rows}
    if args.profile:
        print("profiling (memory store)", file=sys.stderr, flush=True)
        results["profile"] = profile_memory(
            issuer, public_key, max(100, args.iterations // 2), args.profile_top
        )
    results["machine"]["loadavg_end"] = list(os.getloadavg())

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
