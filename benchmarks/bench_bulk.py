"""Bulk enrollment against a rate-limited, faulty emulator server: throughput, lost, duplicated.

The emulator server runs in its own process with a TPS limit (10 by default) and random
faults on every route (10 % by default, split evenly between 429 with ``Retry-After: 1``,
503, and a connection dropped *after* the server added the face). A child process enrolls
1,000 faces into a large person group with ``bulk_add_faces``: real photos from
``tests/data/faces``, the guard on with a consent token per person, a ``RateLimiter`` 1 %
under the server's limit (as ``docs/rate-limits.md`` advises: at exactly the limit, arrival
jitter draws a few 429s), a SQLite journal. The achieved rate is a fraction of the server's
limit, not of the client's setting.

Measured from the server's traffic log, not from the client: the requests that reached the
server per second over the run, as a fraction of the limit (every request counts, faulted
ones included: they spent the budget too), and the faces added per second. Then, with the
faults and the limit lifted, every person's faces are read back and their userData markers
counted: a marker missing is a face lost, a marker seen twice a face duplicated.

Part two does the same with a fresh group and journal, and kills the child (SIGKILL) once
half of the faces have been sent, then runs it again on the same journal.

Run: ``python benchmarks/bench_bulk.py`` (about 4 minutes), or through ``run_all.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _common import ROOT, EmulatorProcess, Row  # noqa: E402

KEY = "bench-bulk-key"
PHOTOS = ROOT / "tests" / "data" / "faces"
AUDIENCE = "faceguard:bench-bulk"


def runner_args(quick: bool) -> list[str]:
    """What ``run_all.py`` passes: the full sizes, or a smoke run's."""
    return ["--faces", "60", "--persons", "6", "--tps", "20"] if quick else []


def single_face_photos() -> list[Path]:
    manifest = json.loads((PHOTOS / "manifest.json").read_text(encoding="utf-8"))
    return [PHOTOS / image["file"] for image in manifest["images"] if image["faces"] == 1]


# -- the server's side -------------------------------------------------------------------------


def control(url: str, method: str, path: str, body: Any = None) -> Any:
    import httpx

    response = httpx.request(
        method, f"{url}{path}", json=body, headers={"Ocp-Apim-Subscription-Key": KEY}
    )
    response.raise_for_status()
    return response.json() if response.content else None


def script_faults(url: str, tps: int, rate: float, seed: int) -> None:
    """The TPS limit and three fault rules whose chances add up to ``rate``, one third each:
    the second and third rules only see the requests the earlier ones let through."""
    control(url, "DELETE", "/_emulator/faults")
    control(url, "PUT", "/_emulator/tps", {"tps": tps})
    third = rate / 3
    rules: list[dict[str, Any]] = [
        {"status": 429, "retry_after": 1, "probability": third, "seed": seed},
        {"status": 503, "probability": third / (1 - third)},
        {"drop": True, "probability": third / (1 - 2 * third)},
    ]
    for rule in rules:
        if rule["probability"] > 0:
            control(url, "POST", "/_emulator/faults", {"route": "*", "times": None, **rule})
    control(url, "DELETE", "/_emulator/traffic")


def lift_faults(url: str) -> dict[str, Any]:
    """The traffic summary of the run; then no faults and no limit (for the read-back)."""
    summary: dict[str, Any] = control(url, "GET", "/_emulator/traffic?window=1.0")
    control(url, "DELETE", "/_emulator/faults")
    return summary


def setup_group(url: str, group: str, persons: int) -> list[str]:
    from faceguard import FaceClient

    with FaceClient(url, api_key=KEY) as client:
        client.large_person_groups.create(group, name=group, recognition_model="recognition_04")
        return [
            client.large_person_groups.create_person(group, name=f"person-{i}").person_id
            for i in range(persons)
        ]


def read_back(url: str, group: str) -> Counter[str]:
    """How many faces of ``group`` carry each userData marker (faults lifted by then)."""
    from faceguard import FaceClient

    markers: Counter[str] = Counter()
    with FaceClient(url, api_key=KEY) as client:
        for person in client.large_person_groups.list_persons(group):
            for face_id in person.persisted_face_ids or []:
                face = client.large_person_groups.get_face(group, person.person_id, face_id)
                for word in (face.user_data or "").split():
                    if word.startswith("faceguard-bulk:"):
                        markers[word] += 1
    return markers


# -- the child: one bulk_add_faces run ---------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    from faceguard import (
        ConsentIssuer,
        ConsentVerifier,
        FaceClient,
        GuardPolicy,
        MemoryStore,
        RateLimiter,
        UseCase,
    )
    from faceguard.bulk import BulkFace, SQLiteJournal, bulk_add_faces

    plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    persons: list[str] = plan["persons"]
    photos = single_face_photos()
    issuer, public_key = ConsentIssuer.generate()
    store = MemoryStore()
    use_case = UseCase.DUPLICATE_OR_BLOCKED_USERS
    policy = GuardPolicy(
        use_case=use_case,
        verifier=ConsentVerifier(
            {issuer.kid: public_key}, issuer=issuer.issuer, audience=AUDIENCE, replay_store=store
        ),
        store=store,
    )
    tokens = {
        person: issuer.issue(
            f"subject-{index}",
            audience=[AUDIENCE, plan["url"]],  # this deployment, and this Face resource
            operations=["enroll"],
            use_case=use_case,
            bindings=[("largePersonGroup", plan["group"], person)],
            use="session",
        )
        for index, person in enumerate(persons)
    }
    items = (
        BulkFace(
            key=f"face-{i:05d}",
            image=photos[i % len(photos)],
            person_id=persons[i % len(persons)],
            consent=tokens[persons[i % len(persons)]],
        )
        for i in range(plan["faces"])
    )
    started = time.perf_counter()
    with (
        FaceClient(
            plan["url"], api_key=KEY, guard=policy, rate_limit=RateLimiter(plan["client_tps"])
        ) as client,
        SQLiteJournal(plan["journal"]) as journal,
    ):
        report = bulk_add_faces(
            client.large_person_groups,
            plan["group"],
            items,
            journal=journal,
            concurrency=plan["concurrency"],
            progress=False,
        )
    elapsed = time.perf_counter() - started
    results = report.items
    summary = {
        "seconds": elapsed,
        "items": len(results),
        "added": sum(1 for r in results if r.status == "added"),
        "skipped": sum(1 for r in results if r.status == "skipped"),
        "failed": sum(1 for r in results if r.status == "failed"),
        "recovered": sum(1 for r in results if r.recovered),
        "from_journal": sum(1 for r in results if r.from_journal),
        "attempts": sum(r.attempts for r in results),
        "failures": [
            f"{r.key}: {r.error_type} {r.message}" for r in results if r.status == "failed"
        ][:5],
    }
    Path(args.out).write_text(json.dumps(summary), encoding="utf-8")
    return 0


def run_child(
    plan_path: Path, out: Path, kill_after: int | None, url: str
) -> dict[str, Any] | None:
    """Run the child; with ``kill_after``, SIGKILL it once the server has seen that many
    requests (and return None)."""
    command = [sys.executable, __file__, "--child", "--plan", str(plan_path), "--out", str(out)]
    process = subprocess.Popen(command, cwd=ROOT)
    if kill_after is None:
        if process.wait() != 0:
            raise RuntimeError(f"the bulk child failed with status {process.returncode}")
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result
    while process.poll() is None:
        if control(url, "GET", "/_emulator/traffic")["count"] >= kill_after:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return None
        time.sleep(0.2)
    raise RuntimeError("the bulk child finished before it could be killed half-way")


# -- one part ----------------------------------------------------------------------------------


def traffic_figures(summary: dict[str, Any], tps: int) -> dict[str, Any]:
    span = (summary["last"] or 0.0) - (summary["first"] or 0.0)
    rate = (summary["count"] - 1) / span if span > 0 else 0.0
    return {
        "requests": summary["count"],
        "seconds": span,
        "requests_per_s": rate,
        "fraction_of_limit": rate / tps,
        "peak_1s": summary["peak"],
        "throttled_by_limit": summary["throttled"],
        "faulted": summary["faulted"],
        "dropped": summary["dropped"],
        "statuses": summary["statuses"],
    }


def part(
    server: EmulatorProcess, args: argparse.Namespace, work: Path, name: str, *, kill: bool
) -> dict[str, Any]:
    group = f"bench-bulk-{name}"
    persons = setup_group(server.url, group, args.persons)
    plan = {
        "url": server.url,
        "group": group,
        "persons": persons,
        "faces": args.faces,
        "client_tps": client_tps(args),
        "concurrency": args.concurrency,
        "journal": str(work / f"{name}.sqlite3"),
    }
    plan_path = work / f"{name}.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    script_faults(server.url, args.tps, args.fault_rate, args.seed)
    runs: list[dict[str, Any]] = []
    killed_at = None
    if kill:
        killed_at = args.faces // 2
        run_child(plan_path, work / f"{name}-1.out", killed_at, server.url)
        print(f"  {name}: killed the child after {killed_at} requests; resuming", flush=True)
    child_report = run_child(plan_path, work / f"{name}-2.out", None, server.url)
    assert child_report is not None
    runs.append(child_report)
    traffic = traffic_figures(lift_faults(server.url), args.tps)
    markers = read_back(server.url, group)
    from faceguard.bulk import face_marker

    expected = {
        face_marker(f"largePersonGroup:{group}", f"face-{i:05d}") for i in range(args.faces)
    }
    found = set(markers)
    result = {
        "faces": args.faces,
        "killed_after_requests": killed_at,
        "client": child_report,
        "traffic": traffic,
        "faces_per_s": child_report["added"] / traffic["seconds"] if traffic["seconds"] else 0.0,
        "lost": len(expected - found),
        "duplicated": sum(count - 1 for count in markers.values() if count > 1),
        "unexpected": len(found - expected),
        "on_server": sum(markers.values()),
    }
    print(
        f"  {name}: {result['on_server']} faces on the server, lost {result['lost']}, "
        f"duplicated {result['duplicated']}; {traffic['requests_per_s']:.2f} requests/s "
        f"({traffic['fraction_of_limit']:.3f} of the limit), peak {traffic['peak_1s']} in 1 s, "
        f"{traffic['throttled_by_limit']} refused by the limit, {traffic['faulted']} faulted",
        flush=True,
    )
    return result


def summary_rows(results: dict[str, Any]) -> list[Row]:
    setup = results["setup"]
    bench = f"bulk, {setup['faces']} faces at {setup['tps']} TPS, {setup['fault_rate']:.0%} faults"
    rows = []
    for name, label in (("straight", "one run"), ("resumed", "killed half-way, resumed")):
        part_result = results.get(name)
        if part_result is None:
            continue
        traffic = part_result["traffic"]
        rows += [
            Row(
                bench,
                f"{label}: achieved TPS / limit",
                f"{traffic['requests_per_s']:.2f} requests/s; {part_result['faces_per_s']:.2f} "
                f"faces/s; peak {traffic['peak_1s']} in 1 s; {traffic['throttled_by_limit']} "
                f"refused by the limit (client limiter at {setup['client_tps']:g} TPS)",
                ratio=traffic["fraction_of_limit"],
                target=0.95,
                target_op=">=",
            ),
            Row(
                bench,
                f"{label}: faces lost, duplicated",
                f"{part_result['lost']} lost, {part_result['duplicated']} duplicated of "
                f"{part_result['faces']} ({part_result['client']['recovered']} in-doubt adds "
                "found on the server)",
                ratio=float(part_result["lost"] + part_result["duplicated"]),
                target=0.0,
                note="ratio = lost + duplicated",
            ),
        ]
    return rows


def client_tps(args: argparse.Namespace) -> float:
    """The client's limiter: ``--client-tps``, or 1 % under the server's limit."""
    return float(args.client_tps) if args.client_tps else round(args.tps * 0.99, 3)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=1000, help="faces per part (default 1000)")
    parser.add_argument("--persons", type=int, default=100, help="persons per group")
    parser.add_argument("--tps", type=int, default=10, help="the server's TPS limit")
    parser.add_argument(
        "--client-tps",
        type=float,
        default=None,
        help="the client's RateLimiter (default: 0.99 x --tps, as docs/rate-limits.md advises)",
    )
    parser.add_argument("--fault-rate", type=float, default=0.1, help="share of faulted requests")
    parser.add_argument("--seed", type=int, default=7, help="seed of the random faults")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="bulk_add_faces concurrency (items in flight; an item waiting out a Retry-After "
        "or the settle time after a dropped connection holds its slot)",
    )
    parser.add_argument(
        "--skip-resume", action="store_true", help="leave out the kill-and-resume part"
    )
    parser.add_argument("--json", metavar="PATH", help="write every figure as JSON to PATH")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    import importlib.util

    if importlib.util.find_spec("cv2") is None:
        # The emulator server would answer every add with 500 EngineUnavailable.
        parser.error('the emulator\'s face engine needs cv2: pip install "faceguard[emulator]"')

    results: dict[str, Any] = {
        "setup": {
            "faces": args.faces,
            "persons": args.persons,
            "tps": args.tps,
            "client_tps": client_tps(args),
            "fault_rate": args.fault_rate,
            "seed": args.seed,
            "concurrency": args.concurrency,
            "photos": len(single_face_photos()),
        }
    }
    print(f"bulk enrollment: {json.dumps(results['setup'])}", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="faceguard-bench-bulk-") as tmp,
        EmulatorProcess(KEY) as server,
    ):
        work = Path(tmp)
        results["straight"] = part(server, args, work, "straight", kill=False)
        if not args.skip_resume:
            results["resumed"] = part(server, args, work, "resumed", kill=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
