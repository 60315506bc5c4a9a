"""Async throughput at concurrency 64: faceguard's AsyncFaceClient next to raw httpx.

One run starts the emulator (``python -m faceguard emulator serve`` on a free loopback port,
with a subscription key) in a child process, creates one large person group through
faceguard, then has both clients send the same request over and over:

    GET /face/v1.2/largepersongroups/{id}?returnRecognitionModel=true

with the same headers (Accept, faceguard's User-Agent, a fresh ``x-ms-client-request-id``,
the subscription key). This operation needs neither the face engine nor a consent token (the
guard lets container reads through with no check to make), so the server does the same cheap
work for both sides. faceguard runs with its guard on (default ``GuardPolicy``: memory
store) and parses the answer into its typed model; raw httpx checks the status and calls
``response.json()``. Both sides use their default ``httpx.AsyncClient`` pool (100
connections, 20 kept alive) unless ``--keepalive N`` gives both an identical pool.

Each round gives each client ``--calls`` calls spread over ``--concurrency`` worker tasks
(64) in one event loop; the clients take turns, and who goes first alternates by round. Per
client and round: calls per second (wall clock) and client CPU per call
(``time.process_time()``: the event loop, httpx, and faceguard; the server's CPU is in
another process). Figures are medians over ``--rounds``; ratios are the median of the
per-round faceguard/httpx ratios.

Calls per second are bounded by the emulator (a ``ThreadingHTTPServer``: one thread per
connection, under one GIL) and by the cores the client and server share, so they say how
faceguard behaves under load rather than what the service would do; the CPU per call is the
client's own cost.

Run ``python benchmarks/bench_async.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    EmulatorProcess,
    Row,
    describe_machine,
    format_table,
    iqr,
    machine,
    median,
    paired_median_ratio,
)

API_KEY = "bench-async-key-0123456789"
GROUP = "bench-async-lpg"
GROUP_NAME = "bench async"
CLIENTS = ("faceguard", "raw httpx")


def runner_args(quick: bool) -> list[str]:
    """What ``run_all.py`` passes: the full sizes, or a smoke run's."""
    return ["--calls", "640", "--rounds", "3", "--warmup", "128"] if quick else []


@dataclass
class Contender:
    name: str
    call: Callable[[], Awaitable[None]]
    close: Callable[[], Awaitable[None]]


def _pool(keepalive: int | None, timeout: Any) -> Any:
    """An ``httpx.AsyncClient`` with ``timeout``; with ``keepalive``, a pool of 100
    connections keeping ``keepalive`` alive (otherwise httpx's default pool)."""
    import httpx

    limits = (
        httpx.Limits(max_connections=100, max_keepalive_connections=keepalive)
        if keepalive is not None
        else httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's default
    )
    return httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)


async def make_contenders(endpoint: str, keepalive: int | None) -> list[Contender]:
    from faceguard import AsyncFaceClient, GuardPolicy, MemoryStore
    from faceguard._config import resolve_config

    # The timeout faceguard's own pool would get, for both sides.
    timeout = resolve_config(
        "face", endpoint=endpoint, api_key=API_KEY, credential=None, timeout=None, retry=None
    ).timeout
    # faceguard, guard on (its default policy on an explicit memory store). Without
    # --keepalive it builds its own pool; with it, both sides get an identical one.
    fg_pool = None if keepalive is None else _pool(keepalive, timeout)
    client = AsyncFaceClient(
        endpoint, api_key=API_KEY, guard=GuardPolicy(store=MemoryStore()), http_client=fg_pool
    )
    groups = client.large_person_groups
    await groups.create(GROUP, name=GROUP_NAME, recognition_model="recognition_04")
    expected = await groups.get(GROUP, return_recognition_model=True)
    assert expected.large_person_group_id == GROUP and expected.name == GROUP_NAME

    async def faceguard_call() -> None:
        group = await groups.get(GROUP, return_recognition_model=True)
        if group.large_person_group_id != GROUP:
            raise AssertionError(f"faceguard got {group!r}")

    async def faceguard_close() -> None:
        await client.aclose()  # closes the pool it built; not one it was given
        if fg_pool is not None:
            await fg_pool.aclose()

    # raw httpx: the same request, headers, timeout and pool, by hand.
    config = client._transport.config
    raw = _pool(keepalive, timeout)
    url = f"{endpoint}/face/v1.2/largepersongroups/{GROUP}"
    params = {"returnRecognitionModel": "true"}
    user_agent = config.user_agent

    async def raw_call() -> None:
        response = await raw.get(
            url,
            params=params,
            headers={
                "Accept": "application/json",
                "User-Agent": user_agent,
                "x-ms-client-request-id": str(uuid.uuid4()),
                "Ocp-Apim-Subscription-Key": API_KEY,
            },
        )
        if response.status_code != 200:
            raise AssertionError(f"raw httpx got HTTP {response.status_code}: {response.text}")
        body = response.json()
        if body["largePersonGroupId"] != GROUP:
            raise AssertionError(f"raw httpx got {body!r}")

    # Same answer both ways (status 200 checked in each call).
    probe = await raw.get(
        url,
        params=params,
        headers={"Accept": "application/json", "Ocp-Apim-Subscription-Key": API_KEY},
    )
    assert probe.status_code == 200, probe.text
    body = probe.json()
    assert body["largePersonGroupId"] == expected.large_person_group_id, body
    assert body["name"] == expected.name and body.get("userData") == expected.user_data, body
    assert body["recognitionModel"] == expected.recognition_model == "recognition_04", body

    return [
        Contender("faceguard", faceguard_call, faceguard_close),
        Contender("raw httpx", raw_call, raw.aclose),
    ]


async def burst(call: Callable[[], Awaitable[None]], calls: int, concurrency: int) -> int:
    """``calls`` calls over ``concurrency`` worker tasks; returns how many completed."""
    remaining = calls
    done = 0

    async def worker() -> None:
        nonlocal remaining, done
        while remaining > 0:
            remaining -= 1
            await call()
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def measure(
    contenders: list[Contender], calls: int, rounds: int, warmup: int, concurrency: int
) -> dict[str, dict[str, Any]]:
    for contender in contenders:
        await burst(contender.call, warmup, concurrency)
    rates: dict[str, list[float]] = {c.name: [] for c in contenders}
    cpus: dict[str, list[float]] = {c.name: [] for c in contenders}
    for index in range(rounds):
        order = contenders if index % 2 == 0 else contenders[::-1]
        for contender in order:
            await burst(contender.call, max(concurrency, warmup // 4), concurrency)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            done = await burst(contender.call, calls, concurrency)
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            assert done == calls
            rates[contender.name].append(calls / wall)
            cpus[contender.name].append(cpu / calls * 1e6)
        print(f"  round {index + 1}/{rounds} done", file=sys.stderr, flush=True)
    return {
        name: {
            "calls_per_s": median(rates[name]),
            "calls_per_s_iqr": iqr(rates[name]),
            "cpu_us": median(cpus[name]),
            "cpu_us_iqr": iqr(cpus[name]),
            "calls_per_s_runs": [round(r, 1) for r in rates[name]],
            "cpu_us_runs": [round(c, 2) for c in cpus[name]],
        }
        for name in rates
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with EmulatorProcess(API_KEY) as server:
        contenders = await make_contenders(server.url, args.keepalive)
        try:
            figures = await measure(
                contenders, args.calls, args.rounds, args.warmup, args.concurrency
            )
        finally:
            for contender in contenders:
                await contender.close()
    fg, hx = figures["faceguard"], figures["raw httpx"]
    notes = []
    if importlib.util.find_spec("sniffio") is None:
        notes.append(
            "sniffio is not installed: httpcore's async pool then re-tries `import sniffio` "
            "(a failed import, a sys.path scan) several times per request, on both sides"
        )
    return {
        "notes": notes,
        "clients": figures,
        "ratio_calls_per_s": paired_median_ratio(fg["calls_per_s_runs"], hx["calls_per_s_runs"]),
        "ratio_cpu": paired_median_ratio(fg["cpu_us_runs"], hx["cpu_us_runs"]),
    }


def print_report(results: dict[str, Any], out: Any) -> None:
    print("\n".join(describe_machine(results["machine"])), file=out)
    setup = results["setup"]
    pool = "default pools" if setup["keepalive"] is None else f"keep-alive {setup['keepalive']}"
    print(
        f"\nAsync, concurrency {setup['concurrency']}, GET largepersongroups/{{id}} against the "
        f"emulator; {setup['calls']} calls per client per round, medians of {setup['rounds']} "
        f"rounds (IQR in brackets); {pool}",
        file=out,
    )
    rows = []
    for name in CLIENTS:
        figs = results["clients"][name]
        rows.append(
            [
                name,
                f"{figs['calls_per_s']:.0f} [{figs['calls_per_s_iqr']:.0f}]",
                f"{figs['cpu_us']:.0f} [{figs['cpu_us_iqr']:.0f}]",
            ]
        )
    print(format_table(["client", "calls/s", "client CPU µs/call"], rows), file=out)
    print(
        f"faceguard/raw httpx: calls/s {results['ratio_calls_per_s']:.2f}x, "
        f"CPU per call {results['ratio_cpu']:.2f}x (medians of per-round ratios)",
        file=out,
    )
    for note in results.get("notes", []):
        print(f"note: {note}", file=out)


def summary_rows(results: dict[str, Any]) -> list[Row]:
    setup = results["setup"]
    fg, hx = results["clients"]["faceguard"], results["clients"]["raw httpx"]
    bench = f"async, concurrency {setup['concurrency']}"
    return [
        Row(
            bench,
            "calls/s: faceguard / raw httpx",
            f"{fg['calls_per_s']:.0f} vs {hx['calls_per_s']:.0f} calls/s",
            ratio=results["ratio_calls_per_s"],
            note="no target in the issue",
        ),
        Row(
            bench,
            "client CPU/call: faceguard / raw httpx",
            f"{fg['cpu_us']:.0f} vs {hx['cpu_us']:.0f} µs",
            ratio=results["ratio_cpu"],
            note="for information",
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=64, help="worker tasks per client")
    parser.add_argument("--calls", type=int, default=5000, help="calls per client per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; medians reported")
    parser.add_argument("--warmup", type=int, default=640, help="warm-up calls per client")
    parser.add_argument(
        "--keepalive",
        type=int,
        default=None,
        metavar="N",
        help="give both clients the same httpx pool keeping N connections alive "
        "(default: each client's own default pool, 20 kept alive)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    if min(args.concurrency, args.calls, args.rounds) < 1 or args.warmup < 0:
        parser.error("sizes must be positive")
    results: dict[str, Any] = {
        "machine": machine(),
        "setup": {
            "concurrency": args.concurrency,
            "calls": args.calls,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "keepalive": args.keepalive,
            "request": "GET /face/v1.2/largepersongroups/{id}?returnRecognitionModel=true",
        },
    }
    results.update(asyncio.run(run(args)))
    print_report(results, sys.stdout)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
