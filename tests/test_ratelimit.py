"""The client-side rate limiter: the bucket arithmetic, its three stores, and the clients.

Nothing here sleeps for the limiter: clients get a fake clock whose ``advance`` is their
``sleep``, so the moments requests leave are exact. Redis runs on a real server (its
script is checked against the Python arithmetic step by step, with the time passed in);
the cross-process checks use the real clock and compare *booked* send times, which do not
depend on how busy the machine is.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faceguard import (
    AdaptiveRate,
    AsyncFaceClient,
    FaceClient,
    GuardStoreError,
    InvalidInputError,
    MemoryStore,
    RateLimiter,
    RateLimitError,
    RateLimitWaitError,
    RedisStore,
    RetryPolicy,
    SQLiteStore,
)
from faceguard._guard._store import GuardStore
from faceguard._ratelimit._bucket import (
    BUCKET_LUA,
    BucketCommand,
    BucketState,
    apply,
    decode_state,
    encode_state,
)
from faceguard._ratelimit._limiter import resource_key

ENDPOINT = "https://limits.cognitiveservices.azure.com"
KEY = "ratelimit-test-key"
GROUP = {"personGroupId": "group-1", "name": "Group"}
T0 = 1_700_000_000.0


def approx(expected: Any, **kw: Any) -> Any:
    """``pytest.approx`` with an absolute tolerance above a float's resolution at T0."""
    kw.setdefault("abs", 1e-6)
    return pytest.approx(expected, **kw)


def reserve(rate: float = 10.0, burst: float = 1.0, **kw: Any) -> BucketCommand:
    return BucketCommand(op="reserve", rate=rate, burst=burst, **kw)


def throttled(rate: float = 10.0, burst: float = 1.0, **kw: Any) -> BucketCommand:
    return BucketCommand(op="throttled", rate=rate, burst=burst, **kw)


def run(commands: list[tuple[BucketCommand, float]]) -> list[float]:
    """Waits (or rates, for throttled commands) of a sequence of (command, now)."""
    state: BucketState | None = None
    out: list[float] = []
    for command, now in commands:
        state, reply = apply(state, command, now)
        out.append(reply.wait if command.op == "reserve" else reply.rate)
    return out


# -- the arithmetic ----------------------------------------------------------------------------


def test_burst_one_spaces_requests_one_interval_apart() -> None:
    waits = run([(reserve(), T0)] * 5)
    assert waits == approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_burst_lets_that_many_go_at_once_then_spaces() -> None:
    waits = run([(reserve(burst=3), T0)] * 5)
    assert waits == approx([0.0, 0.0, 0.0, 0.1, 0.2])


def test_an_idle_bucket_refills_its_burst_and_no_more() -> None:
    steps = [(reserve(burst=3), T0)] * 3 + [(reserve(burst=3), T0 + 100.0)] * 4
    assert run(steps)[3:] == approx([0.0, 0.0, 0.0, 0.1])


def test_requests_arriving_at_the_rate_never_wait() -> None:
    steps = [(reserve(), T0 + i * 0.1) for i in range(20)]
    assert run(steps) == approx([0.0] * 20)


def test_a_refusal_past_max_wait_books_nothing() -> None:
    state: BucketState | None = None
    for _ in range(2):
        state, _reply = apply(state, reserve(), T0)
    assert state is not None
    before = state
    state, reply = apply(state, reserve(max_wait=0.15), T0)
    assert not reply.granted and reply.wait == approx(0.2)
    assert state == before
    # Time passes: the same request now fits.
    state, reply = apply(state, reserve(max_wait=0.15), T0 + 0.1)
    assert reply.granted and reply.wait == approx(0.1)


def test_peek_reports_without_booking() -> None:
    state, _ = apply(None, reserve(), T0)
    peeked, reply = apply(state, BucketCommand(op="peek", rate=10, burst=1), T0)
    assert peeked == state and not reply.granted
    assert reply.wait == approx(0.1) and reply.rate == 10


ADAPT = AdaptiveRate(decrease=0.5, floor=0.2, recovery=10.0, hold=1.0, threshold=1)


def test_a_429_lowers_the_rate_and_it_recovers_linearly() -> None:
    state, reply = apply(None, throttled(adaptive=ADAPT), T0)
    assert reply.rate == approx(5.0)
    for elapsed, expected in [(0.0, 5.0), (5.0, 7.5), (9.0, 9.5), (10.0, 10.0), (50.0, 10.0)]:
        _, peek = apply(state, BucketCommand("peek", 10, 1, adaptive=ADAPT), T0 + elapsed)
        assert peek.rate == approx(expected), elapsed


def test_429s_within_hold_count_once_then_compound_down_to_the_floor() -> None:
    # Within ``hold`` the rate keeps recovering from the first decrease (5 -> 10 over 10 s).
    steps = [(throttled(adaptive=ADAPT), T0 + t) for t in (0.0, 0.2, 0.9)]
    assert run(steps) == approx([5.0, 5.1, 5.45])
    # One per second: 10 -> 5 -> ~2.7 (recovering a little in between) -> floor 2.
    steps = [(throttled(adaptive=ADAPT), T0 + t) for t in (0.0, 1.0, 2.0, 3.0)]
    rates = run(steps)
    assert rates[0] == approx(5.0)
    assert rates[1] == approx((5.0 + 5.0 * 0.1) * 0.5)
    assert rates[-1] == approx(2.0)


def test_the_lowered_rate_spaces_reservations() -> None:
    steps = [(throttled(adaptive=ADAPT), T0)] + [(reserve(adaptive=ADAPT), T0)] * 3
    assert run(steps)[1:] == approx([0.0, 0.2, 0.4])


def test_a_429_spends_the_burst_credit() -> None:
    idle = BucketState(tat=T0 - 100.0)
    state, _ = apply(idle, throttled(burst=4), T0)  # not adaptive: the rate stays
    waits = []
    for _ in range(3):
        state, reply = apply(state, reserve(burst=4), T0)
        waits.append(reply.wait)
    assert waits == approx([0.0, 0.1, 0.2])


def test_a_lone_429_is_a_blip_and_a_second_within_hold_lowers_the_rate() -> None:
    adapt = AdaptiveRate(decrease=0.5, hold=1.0)  # threshold 2
    # Two 429s more than ``hold`` apart: neither lowers the rate.
    assert run([(throttled(adaptive=adapt), T0 + t) for t in (0.0, 1.5, 3.0)]) == approx(
        [10.0, 10.0, 10.0]
    )
    # Two within ``hold``: the second lowers it; a third right after is the same event.
    assert run([(throttled(adaptive=adapt), T0 + t) for t in (0.0, 0.5, 0.6)]) == approx(
        [10.0, 5.0, 5.1]
    )


def test_threshold_three_needs_three_within_hold() -> None:
    adapt = AdaptiveRate(decrease=0.5, hold=1.0, threshold=3)
    assert run([(throttled(adaptive=adapt), T0 + t) for t in (0.0, 0.3, 0.6)]) == approx(
        [10.0, 10.0, 5.0]
    )


def test_without_adaptation_a_429_keeps_the_rate() -> None:
    assert run([(throttled(), T0), (throttled(), T0 + 5)]) == [10.0, 10.0]


def test_state_bytes_round_trip_and_garbage_is_an_empty_bucket() -> None:
    for state in (BucketState(tat=T0), BucketState(tat=T0 + 0.5, low=2.5, since=T0)):
        assert decode_state(encode_state(state)) == state
    assert decode_state(b"not json") is None
    assert decode_state(b"[1, 2]") is None
    assert decode_state(None) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"decrease": 0.0},
        {"decrease": 1.5},
        {"floor": 0.0},
        {"recovery": 0.0},
        {"recovery": math.inf},
        {"hold": -1.0},
        {"threshold": 0},
        {"threshold": 1.5},
        {"threshold": True},
    ],
)
def test_adaptive_rate_validation(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        AdaptiveRate(**kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((0,), {}, ValueError),
        ((-1,), {}, ValueError),
        ((math.nan,), {}, ValueError),
        ((math.inf,), {}, ValueError),
        # Wrong types are typed input errors too (a FaceGuardError and a ValueError).
        ((True,), {}, InvalidInputError),
        (("10",), {}, InvalidInputError),
        ((10,), {"burst": 0}, ValueError),
        ((10,), {"burst": 1.5}, ValueError),
        ((10,), {"max_wait": -1}, ValueError),
        ((10,), {"max_wait": math.nan}, ValueError),
        ((10,), {"adaptive": "yes"}, InvalidInputError),
        ((10,), {"name": ""}, ValueError),
    ],
)
def test_rate_limiter_validation(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type
) -> None:
    with pytest.raises(error):
        RateLimiter(*args, **kwargs)


def test_buckets_are_per_resource_host() -> None:
    assert resource_key("https://A.cognitiveservices.azure.com") == "a.cognitiveservices.azure.com"
    assert resource_key("http://127.0.0.1:8080/") == "127.0.0.1:8080"
    limiter = RateLimiter(10)
    assert limiter.bucket_for(ENDPOINT) != limiter.bucket_for("https://other.example.com")
    assert RateLimiter(10, name="shared").bucket_for(ENDPOINT) == "shared"


# -- Redis runs the same arithmetic ------------------------------------------------------------


def _lua_args(command: BucketCommand, now: float) -> list[str]:
    adaptive = command.adaptive
    return [
        command.op,
        repr(command.rate),
        repr(command.burst),
        repr(command.max_wait) if math.isfinite(command.max_wait) else "-1",
        "1" if adaptive else "0",
        repr(adaptive.decrease if adaptive else 1.0),
        repr(adaptive.floor if adaptive else 1.0),
        repr(adaptive.recovery if adaptive else 1.0),
        repr(adaptive.hold if adaptive else 0.0),
        str(adaptive.threshold if adaptive else 1),
        repr(now),
    ]


@pytest.mark.parametrize("seed", range(6))
def test_the_lua_script_agrees_with_the_python_arithmetic(redis_url: str, seed: int) -> None:
    import redis

    rng = random.Random(seed)
    client = redis.Redis.from_url(redis_url)
    script = client.register_script(BUCKET_LUA)
    key = f"fgtest-bucket-{uuid.uuid4().hex}"
    adaptive = rng.choice([None, ADAPT, AdaptiveRate(), AdaptiveRate(threshold=3, hold=0.5)])
    rate, burst = rng.choice([1.0, 7.5, 10.0, 40.0]), float(rng.randint(1, 4))
    state: BucketState | None = None
    now = T0
    try:
        for _ in range(300):
            now += rng.choice([0.0, 0.0, 0.01, 0.05, 0.3, 2.0])
            op = rng.choices(["reserve", "throttled", "peek"], weights=[8, 1, 1])[0]
            max_wait = rng.choice([math.inf, 0.5, 2.0])
            command = BucketCommand(op, rate, burst, max_wait=max_wait, adaptive=adaptive)  # type: ignore[arg-type]
            state, expected = apply(state, command, now)
            granted, wait, got_rate = script(keys=[key], args=_lua_args(command, now))
            assert (int(granted) == 1) == expected.granted
            assert float(wait) == approx(expected.wait, abs=1e-4)
            assert float(got_rate) == approx(expected.rate, rel=1e-6)
    finally:
        client.delete(key)
        client.close()


# -- the three stores --------------------------------------------------------------------------


class FakeClock:
    """Fake wall clock; ``advance`` doubles as a client's ``sleep``."""

    def __init__(self) -> None:
        self.now = T0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds

    async def async_advance(self, seconds: float) -> None:
        self.advance(seconds)


def _open(kind: str, tmp_path: Path, clock: FakeClock | None, url: str | None) -> GuardStore:
    if kind == "memory":
        return MemoryStore(clock=clock or time.time)
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "limits.sqlite3", clock=clock or time.time)
    assert url is not None
    return RedisStore(url, prefix=f"fgtest{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=["memory", "sqlite", "redis"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[GuardStore]:
    url = request.getfixturevalue("redis_url") if kind == "redis" else None
    made = _open(kind, tmp_path, None, url)
    yield made
    made.close()


def frozen() -> float:
    """A clock that never moves: every reservation is booked at the same "now", so the
    waits must be exactly 0, 1/rate, 2/rate, ... if no two callers ever share a slot."""
    return T0


def _open_frozen(kind: str, where: str) -> GuardStore:
    if kind == "memory":
        return MemoryStore(clock=frozen)
    if kind == "sqlite":
        return SQLiteStore(where, clock=frozen)
    url, prefix = where.split("|")
    store = RedisStore(url, prefix=prefix)
    store._bucket_clock = frozen  # the script then uses this time instead of the server's
    return store


def _where(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "redis":
        return f"{request.getfixturevalue('redis_url')}|fgtest{uuid.uuid4().hex[:8]}"
    return str(tmp_path / "limits.sqlite3")


def assert_every_slot_once(waits: list[float], rate: float) -> None:
    assert sorted(waits) == approx([k / rate for k in range(len(waits))], abs=1e-4)


def test_each_store_spaces_reservations(store: GuardStore) -> None:
    limiter = RateLimiter(20, store=store)
    before = time.time()
    waits = [limiter.reserve("resource-a") for _ in range(30)]
    elapsed = time.time() - before
    # On the real clock: the k-th waits k/20 s, less the time the earlier calls took.
    for k, wait in enumerate(waits):
        assert k / 20 - elapsed - 0.01 <= wait <= k / 20 + 0.01
    # Another resource has its own bucket.
    assert limiter.reserve("resource-b") == 0.0


def test_each_store_answers_peek_and_throttled(store: GuardStore) -> None:
    limiter = RateLimiter(
        10, store=store, adaptive=AdaptiveRate(decrease=0.5, hold=0.0, threshold=1)
    )
    assert limiter.current("r")[0] == approx(10.0)
    assert limiter.throttled("r") == approx(5.0, rel=0.01)
    rate, _wait = limiter.current("r")
    assert 5.0 <= rate < 5.5  # recovering from 5 over 5 s


def test_threads_never_share_a_slot(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = _open_frozen(kind, _where(kind, tmp_path, request))
    limiter = RateLimiter(50, store=store)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = [limiter.reserve("threads") for _ in range(25)]
        with lock:
            waits.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    assert len(waits) == 200
    assert_every_slot_once(waits, 50)


def _process_worker(kind: str, where: str, count: int) -> list[float]:
    store = _open_frozen(kind, where)
    try:
        limiter = RateLimiter(50, store=store)
        return [limiter.reserve("processes") for _ in range(count)]
    finally:
        store.close()


@pytest.mark.parametrize("shared", ["sqlite", "redis"])
def test_processes_share_one_bucket(
    shared: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    where = _where(shared, tmp_path, request)
    if shared == "sqlite":
        SQLiteStore(where).close()  # create the schema once, before the race
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        results = pool.starmap(_process_worker, [(shared, where, 25)] * 4)
    waits = [wait for result in results for wait in result]
    assert len(waits) == 100
    assert_every_slot_once(waits, 50)


def test_a_closed_store_fails_closed(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "closed.sqlite3")
    limiter = RateLimiter(10, store=store)
    store.close()
    with pytest.raises(GuardStoreError):
        limiter.reserve("r")


def test_a_store_without_update_bucket_is_a_clear_error() -> None:
    class OldStore(MemoryStore):
        def update_bucket(self, namespace: str, key: str, command: BucketCommand) -> Any:
            return None

    with pytest.raises(GuardStoreError, match="does not implement update_bucket"):
        RateLimiter(10, store=OldStore()).reserve("r")


def test_repr_never_shows_a_redis_password() -> None:
    store = RedisStore("redis://:s3cret-pass@127.0.0.1:1/0")
    try:
        text = repr(RateLimiter(10, store=store))
    finally:
        store.close()
    assert "s3cret-pass" not in text and "tps=10" in text


# -- the clients -------------------------------------------------------------------------------


class Recorder:
    """A MockTransport handler noting the fake time of each request; answers ``statuses``
    in order, then 200 with a person group."""

    def __init__(self, clock: FakeClock, *statuses: int) -> None:
        self.clock = clock
        self.statuses = list(statuses)
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.times.append(self.clock.now)
        if self.statuses:
            status = self.statuses.pop(0)
            return httpx.Response(
                status,
                json={"error": {"code": str(status), "message": "scripted"}},
                headers={"Retry-After": "0"},
            )
        return httpx.Response(200, json=GROUP)


def _sync_client(recorder: Recorder, limiter: RateLimiter | float, **kw: Any) -> FaceClient:
    return FaceClient(
        ENDPOINT,
        api_key=KEY,
        transport=httpx.MockTransport(recorder),
        sleep=recorder.clock.advance,
        rate_limit=limiter,
        **kw,
    )


def _relative(times: list[float]) -> list[float]:
    return [t - times[0] for t in times]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_client_sends_at_the_limiters_pace(mode: str) -> None:
    clock = FakeClock()
    recorder = Recorder(clock)
    limiter = RateLimiter(5, store=MemoryStore(clock=clock))
    if mode == "sync":
        with _sync_client(recorder, limiter) as client:
            for _ in range(6):
                client.person_groups.get("group-1")
    else:
        async with AsyncFaceClient(
            ENDPOINT,
            api_key=KEY,
            transport=httpx.MockTransport(recorder),
            sleep=clock.async_advance,
            rate_limit=limiter,
        ) as client:
            for _ in range(6):
                await client.person_groups.get("group-1")
    assert _relative(recorder.times) == approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])


def test_retries_take_slots_and_a_429_lowers_the_rate() -> None:
    clock = FakeClock()
    recorder = Recorder(clock, 429, 503)
    limiter = RateLimiter(
        5,
        store=MemoryStore(clock=clock),
        adaptive=AdaptiveRate(decrease=0.5, recovery=10.0, threshold=1),
    )
    with _sync_client(recorder, limiter, retry=RetryPolicy(jitter=0.0, backoff_base=0.0)) as client:
        client.person_groups.get("group-1")
    # Three attempts: 429 (the rate drops to 2.5/s), 503, then success, each on its own slot.
    assert len(recorder.times) == 3
    assert _relative(recorder.times) == approx([0.0, 0.2, 0.6])
    rate, _ = limiter.current(limiter.bucket_for(ENDPOINT))
    assert rate == approx(2.5 + 2.5 * 0.06)  # 0.6 s into a 10 s recovery


def test_429s_reach_the_caller_and_two_in_a_second_lower_the_rate() -> None:
    clock = FakeClock()
    recorder = Recorder(clock, 429, 429)
    limiter = RateLimiter(4, store=MemoryStore(clock=clock))  # default AdaptiveRate
    bucket = limiter.bucket_for(ENDPOINT)
    with _sync_client(recorder, limiter, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(RateLimitError):
            client.person_groups.get("group-1")
        assert limiter.current(bucket)[0] == approx(4.0)  # a lone 429 is a blip
        with pytest.raises(RateLimitError):
            client.person_groups.get("group-1")  # 0.25 s later: the second within hold
    assert limiter.current(bucket)[0] == approx(3.6)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_past_max_wait_nothing_is_sent(mode: str) -> None:
    clock = FakeClock()
    recorder = Recorder(clock)
    store = MemoryStore(clock=clock)
    limiter = RateLimiter(1, store=store, max_wait=1.5)
    other = RateLimiter(1, store=store, max_wait=10)
    for _ in range(3):
        other.reserve(other.bucket_for(ENDPOINT))  # another caller booked the next 3 s
    if mode == "sync":
        with _sync_client(recorder, limiter) as client, pytest.raises(RateLimitWaitError) as info:
            client.person_groups.get("group-1")
    else:
        async with AsyncFaceClient(
            ENDPOINT,
            api_key=KEY,
            transport=httpx.MockTransport(recorder),
            sleep=clock.async_advance,
            rate_limit=limiter,
        ) as client:
            with pytest.raises(RateLimitWaitError) as info:
                await client.person_groups.get("group-1")
    assert recorder.times == []
    assert info.value.wait == approx(3.0)
    assert "nothing was sent" in str(info.value)


def test_a_number_builds_a_private_limiter() -> None:
    clock = FakeClock()
    recorder = Recorder(clock)
    with _sync_client(recorder, 10) as client:
        limiter = client._transport.limiter
        assert isinstance(limiter, RateLimiter) and limiter.tps == 10
        client.person_groups.get("group-1")
    assert len(recorder.times) == 1


async def test_an_async_client_on_a_shared_store_uses_a_worker_thread(tmp_path: Path) -> None:
    clock = FakeClock()
    recorder = Recorder(clock)
    store = SQLiteStore(tmp_path / "async.sqlite3", clock=clock)
    limiter = RateLimiter(4, store=store)
    assert not limiter.local
    async with AsyncFaceClient(
        ENDPOINT,
        api_key=KEY,
        transport=httpx.MockTransport(recorder),
        sleep=clock.async_advance,
        rate_limit=limiter,
    ) as client:
        for _ in range(3):
            await client.person_groups.get("group-1")
    store.close()
    assert _relative(recorder.times) == approx([0.0, 0.25, 0.5])


def test_an_unreachable_redis_fails_closed_before_sending() -> None:
    clock = FakeClock()
    recorder = Recorder(clock)
    store = RedisStore("redis://127.0.0.1:1/0?socket_connect_timeout=0.2")
    try:
        with (
            _sync_client(recorder, RateLimiter(10, store=store)) as client,
            pytest.raises(GuardStoreError),
        ):
            client.person_groups.get("group-1")
    finally:
        store.close()
    assert recorder.times == []
