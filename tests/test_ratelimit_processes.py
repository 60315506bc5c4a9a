"""Four processes, one Redis-backed limiter, one emulator server limited to 10 TPS.

The server runs in this process (a real loopback HTTP server around an ``Emulator`` whose
fault layer enforces the TPS limit and logs every arrival); four spawned worker processes
each build their own ``FaceClient`` with a ``RateLimiter`` on the same Redis server and create
their share of a batch of persons. The checks are on what the *server* saw: arrival counts
per one-second window, not timings measured by the test, so a busy machine makes the run
slower but cannot make it pass or fail.

The control run (every worker with a private, fixed-rate limiter) shows the check is not
vacuous: four private 10 TPS budgets overrun the server and the same bound fails.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from faceguard import FaceClient, MemoryStore, RateLimiter, RedisStore, RetryPolicy
from faceguard.emulator import Emulator
from faceguard.emulator._server import EmulatorServer

LIMIT = 10
WORKERS = 4
PER_WORKER = 15
# A request booked for its slot can still reach the server a few milliseconds late (process
# scheduling), which lets the next second's first request fall into the same window: the
# server may see the limit plus a small burst, never a multiple of it.
BURST_SLACK = 2
KEY = "ratelimit-processes-key"
GROUP = "rl-processes"


@dataclass(frozen=True)
class Job:
    url: str
    worker: int
    count: int
    redis_url: str | None
    prefix: str
    adaptive: bool = True


def _work(job: Job, barrier: Any) -> list[str]:
    store = RedisStore(job.redis_url, prefix=job.prefix) if job.redis_url else MemoryStore()
    limiter = RateLimiter(LIMIT, store=store, max_wait=120, adaptive=job.adaptive)
    created: list[str] = []
    try:
        # Enough attempts for the control run, where the server refuses most requests.
        retry = RetryPolicy(max_attempts=30, backoff_cap=2.0)
        with FaceClient(job.url, api_key=KEY, rate_limit=limiter, retry=retry) as client:
            barrier.wait(timeout=60)  # start together: the limiter, not luck, spaces them
            for index in range(job.count):
                person = client.large_person_groups.create_person(
                    GROUP, name=f"w{job.worker}-p{index}"
                )
                created.append(person.person_id)
    finally:
        store.close()
    return created


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    emulator = Emulator()
    with EmulatorServer(emulator, port=0, key=KEY) as running:
        with FaceClient(running.url, api_key=KEY) as setup:
            setup.large_person_groups.create(GROUP, name="rate limit processes")
        emulator.faults.set_tps_limit(LIMIT)
        emulator.faults.clear_traffic()
        yield running


def _run_workers(url: str, redis_url: str | None, *, adaptive: bool = True) -> list[list[str]]:
    prefix = f"fgtest{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    with multiprocessing.Manager() as manager:
        barrier = manager.Barrier(WORKERS)
        jobs = [Job(url, w, PER_WORKER, redis_url, prefix, adaptive) for w in range(WORKERS)]
        with context.Pool(WORKERS) as pool:
            return pool.starmap(_work, [(job, barrier) for job in jobs])


def _persons(url: str) -> list[str]:
    with FaceClient(url, api_key=KEY) as client:
        return [p.name for p in client.large_person_groups.list_persons(GROUP)]


def test_four_processes_share_one_redis_limiter(server: EmulatorServer, redis_url: str) -> None:
    results = _run_workers(server.url, redis_url)

    # The batch completed: every worker created its persons, exactly once each.
    assert [len(r) for r in results] == [PER_WORKER] * WORKERS
    names = _persons(server.url)
    expected = {f"w{w}-p{i}" for w in range(WORKERS) for i in range(PER_WORKER)}
    assert sorted(names) == sorted(expected)

    emulator = server.emulator
    arrivals = [a for a in emulator.faults.traffic() if a.method == "POST"]
    assert len(arrivals) >= WORKERS * PER_WORKER
    # What the server saw: the limit, plus at most a small burst, in any one-second window.
    peak = emulator.faults.traffic_log.peak(1.0)
    assert peak <= LIMIT + BURST_SLACK, peak
    # And on average no more than the limit over the whole run.
    times = sorted(a.at for a in arrivals)
    assert (len(times) - 1) / (times[-1] - times[0]) <= LIMIT * 1.02
    # Booked exactly 1/10 s apart, a request that reaches the server a little later than the
    # one ten slots after it makes eleven in that request's window, and the server refuses
    # one: a few such 429s happen, each retried. Far fewer than without sharing.
    assert emulator.faults.throttled <= 0.15 * WORKERS * PER_WORKER


def test_private_limiters_overrun_the_server(server: EmulatorServer) -> None:
    """The control: the same batch with a private, fixed-rate bucket per process (an adaptive
    private bucket backs off after 429s, which hides part of the overrun)."""
    results = _run_workers(server.url, None, adaptive=False)
    assert [len(r) for r in results] == [PER_WORKER] * WORKERS  # retries got them through
    # Each worker sends until its first 429 and then waits out the Retry-After, so the
    # overrun shows in the first second: the limit, plus a refused request per worker.
    peak = server.emulator.faults.traffic_log.peak(1.0)
    assert peak > LIMIT + BURST_SLACK, peak
    assert server.emulator.faults.throttled > 0.15 * WORKERS * PER_WORKER
