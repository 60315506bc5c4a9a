"""The faceId registry at scale: 1,000,000 faceIds in the memory, SQLite and Redis stores.

For each store, the script records ``--count`` faceIds through the real
``FaceIdRegistry.record`` (the call the guard makes after every detect: the record is
encoded by the registry and written by the store's own ``put``), then measures:

* time to load, and faceIds recorded per second;
* memory: MemoryStore, the process's RSS growth over the load (``/proc/self/statm``; the ids
  themselves are generated before the baseline); SQLite, the database file plus its ``-wal``
  and ``-shm`` files; Redis, the growth of ``INFO memory`` ``used_memory``;
* look-ups per second, single: ``FaceIdRegistry.lookup(faceId)`` over a fixed sequence of
  faceIds drawn at random from those loaded, with a share (``--unknown-share``, 10 %) of
  faceIds never recorded; the same sequence for every store;
* look-ups per second, batched: ``FaceIdRegistry.check`` (one ``store.get_many``), the path
  verify and identify take before every call, on batches of ``--batch`` (10, identify's
  maximum) from the same sequence, with ``allow_unknown=True``; counted in faceIds per second.

Redis: the script starts a throwaway ``redis-server`` on a free loopback port (no
persistence) and stops it at the end; without one on PATH the Redis row says "not
available". Loading goes through ``FaceIdRegistry.record`` on a ``RedisStore`` whose client
is a redis-py pipeline (``transaction=False``), executed every ``--redis-chunk`` faceIds: the
same keys, values and expiries as one ``SET ... PX`` per faceId, in fewer round trips. The
look-ups use an ordinary ``RedisStore(url)``.

SQLite loads through ``record`` too: one ``BEGIN IMMEDIATE`` transaction per faceId, as in an
application (the file is WAL, ``synchronous=NORMAL``).

Look-up rates are wall-clock (what an application waits), the median of ``--rounds`` slices
of the sequence; the client CPU per look-up is shown too. Redis's rate includes the loopback
round trip and the server's time.

Run ``python benchmarks/bench_registry.py --help`` for the options; ``--count 20000`` for a
quick run.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import (
    Row,
    describe_machine,
    iqr,
    machine,
    median,
    rss_bytes,
    throwaway_redis,
)

STORES = ("memory", "sqlite", "redis")
ENDPOINT = "https://bench-registry.cognitiveservices.azure.com"
TTL = 86_400  # the longest faceIdTimeToLive: nothing expires during a run
NS = "faceid"  # the registry's namespace (faceguard._guard._registry._NS)


def runner_args(quick: bool) -> list[str]:
    """What ``run_all.py`` passes: the full sizes, or a smoke run's."""
    return ["--count", "20000", "--lookups", "20000"] if quick else []


def make_ids(count: int, seed: int) -> list[str]:
    """``count`` distinct, deterministic, lowercase version-4 UUID strings."""
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def make_probe(ids: Sequence[str], lookups: int, unknown_share: float, seed: int) -> list[str]:
    """The look-up sequence: random loaded ids, with ``unknown_share`` never-recorded ones."""
    rng = random.Random(seed + 1)
    unknown = random.Random(seed + 2)
    return [
        str(uuid.UUID(int=unknown.getrandbits(128), version=4))
        if rng.random() < unknown_share
        else ids[rng.randrange(len(ids))]
        for _ in range(lookups)
    ]


def _load(
    registry: Any,
    ids: Sequence[str],
    progress: Callable[[str], None],
    *,
    flush: Callable[[], None] | None = None,
    chunk: int = 50_000,
) -> float:
    """Record every id through ``registry.record``; wall seconds. ``flush`` runs after each
    chunk (the Redis pipeline's execute)."""
    from faceguard._guard._registry import FaceIdRecord

    started = time.perf_counter()
    now = time.time()
    for start in range(0, len(ids), chunk):
        for index in range(start, min(start + chunk, len(ids))):
            registry.record(
                ids[index],
                FaceIdRecord(
                    issued_at=now,
                    ttl=TTL,
                    detection_model="detection_03",
                    recognition_model="recognition_04",
                    endpoint=ENDPOINT,
                    subject=f"p-subject-{index:07d}",
                ),
            )
        if flush is not None:
            flush()
        done = min(start + chunk, len(ids))
        if done % (chunk * 4) == 0 or done == len(ids):
            progress(f"loaded {done:,} in {time.perf_counter() - started:.1f} s")
    return time.perf_counter() - started


def _clear_decode_cache() -> None:
    # The registry memoises decoded records (lru_cache); start every store's look-ups cold.
    from faceguard._guard import _registry

    cache_clear = getattr(_registry._decode, "cache_clear", None)
    if cache_clear is not None:
        cache_clear()


def measure_lookups(
    registry: Any, probe: Sequence[str], known: set[str], rounds: int, batch: int
) -> dict[str, Any]:
    """Single and batched look-up rates over ``rounds`` slices of ``probe``."""
    _clear_decode_cache()
    size = max(batch, len(probe) // rounds)
    slices = [probe[i * size : (i + 1) * size] for i in range(rounds)]
    slices = [s for s in slices if s]
    # Warm-up: the first slice's first thousand (connections, statement cache, page cache).
    for face_id in slices[0][:1000]:
        registry.lookup(face_id)
    single_rate: list[float] = []
    single_cpu: list[float] = []
    batch_rate: list[float] = []
    batch_cpu: list[float] = []
    for part in slices:
        expected = sum(1 for f in part if f in known)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        hits = 0
        for face_id in part:
            if registry.lookup(face_id) is not None:
                hits += 1
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        if hits != expected:
            raise AssertionError(f"single look-ups found {hits} faceIds, expected {expected}")
        single_rate.append(len(part) / wall)
        single_cpu.append(cpu / len(part) * 1e6)

        batches = [part[i : i + batch] for i in range(0, len(part), batch)]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        hits = 0
        for group in batches:
            records = registry.check(
                group, endpoint=ENDPOINT, container_model=None, allow_unknown=True
            )
            hits += sum(1 for r in records if r is not None)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        if hits != expected:
            raise AssertionError(f"batched look-ups found {hits} faceIds, expected {expected}")
        batch_rate.append(len(part) / wall)
        batch_cpu.append(cpu / len(part) * 1e6)
    return {
        "single_per_s": median(single_rate),
        "single_per_s_iqr": iqr(single_rate),
        "single_cpu_us": median(single_cpu),
        "batched_faceids_per_s": median(batch_rate),
        "batched_faceids_per_s_iqr": iqr(batch_rate),
        "batched_cpu_us_per_faceid": median(batch_cpu),
        "rounds": len(slices),
        "lookups_per_round": size,
    }


def _file_bytes(path: Path) -> int:
    return sum(
        p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def run_memory(
    ids: Sequence[str], probe: Sequence[str], known: set[str], args: argparse.Namespace
) -> dict[str, Any]:
    from faceguard._guard._registry import FaceIdRegistry
    from faceguard._guard._store import MemoryStore

    gc.collect()
    before = rss_bytes()
    store = MemoryStore()
    registry = FaceIdRegistry(store, clock=time.time)
    load_s = _load(registry, ids, _progress("memory"))
    gc.collect()
    after = rss_bytes()
    loaded = len(store.keys(NS))
    figures = measure_lookups(registry, probe, known, args.rounds, args.batch)
    store.close()
    memory = None if before is None or after is None else after - before
    return {
        **figures,
        "loaded": loaded,
        "load_s": load_s,
        "memory_bytes": memory,
        "memory_method": "process RSS growth over the load (/proc/self/statm)",
    }


def run_sqlite(
    ids: Sequence[str],
    probe: Sequence[str],
    known: set[str],
    args: argparse.Namespace,
    directory: Path,
) -> dict[str, Any]:
    from faceguard._guard._registry import FaceIdRegistry
    from faceguard._guard._sqlite_store import SQLiteStore

    path = directory / "registry.sqlite3"
    store = SQLiteStore(path)
    registry = FaceIdRegistry(store, clock=time.time)
    load_s = _load(registry, ids, _progress("sqlite"))
    size = _file_bytes(path)
    loaded = len(store.keys(NS))
    figures = measure_lookups(registry, probe, known, args.rounds, args.batch)
    store.close()
    return {
        **figures,
        "loaded": loaded,
        "load_s": load_s,
        "memory_bytes": size,
        "memory_method": "database file + -wal + -shm after the load",
    }


def run_redis(
    ids: Sequence[str],
    probe: Sequence[str],
    known: set[str],
    args: argparse.Namespace,
    url: str,
) -> dict[str, Any]:
    import redis

    from faceguard._guard._redis_store import RedisStore
    from faceguard._guard._registry import FaceIdRegistry

    prefix = "fgbench"
    key = "bench-registry-store-key-" + "0" * 16  # the deployment's pseudonymisation key
    admin = redis.Redis.from_url(url)
    # Prepare the store (record its key's check value) before the pipeline, which answers
    # nothing until it is executed, takes over.
    store = RedisStore(url, prefix=prefix, key=key)
    store.pseudonym("faceId", "warm-up")
    used_before = int(admin.info("memory")["used_memory"])
    pipe = admin.pipeline(transaction=False)
    # The registry and the store's own put() queue SET ... PX on the pipeline; chunked
    # execute. Its store shares the prepared store's pseudonymiser (a benchmark shortcut: a
    # pipeline cannot run the first-use key check itself).
    loading = RedisStore(client=pipe, prefix=prefix, key=key)
    loading._pseudonymiser = store._pseudonymiser
    loader = FaceIdRegistry(loading, clock=time.time)

    def flush() -> None:
        replies = pipe.execute()
        if not all(reply is True for reply in replies):
            raise AssertionError("a pipelined SET failed")

    load_s = _load(loader, ids, _progress("redis"), flush=flush, chunk=args.redis_chunk)
    used_after = int(admin.info("memory")["used_memory"])
    loaded = int(admin.dbsize()) - 1  # the store's key check value
    registry = FaceIdRegistry(store, clock=time.time)
    figures = measure_lookups(registry, probe, known, args.rounds, args.batch)
    store.close()
    admin.close()
    return {
        **figures,
        "loaded": loaded,
        "load_s": load_s,
        "memory_bytes": used_after - used_before,
        "memory_method": "INFO memory used_memory growth over the load",
    }


def _progress(store: str) -> Callable[[str], None]:
    def progress(message: str) -> None:
        print(f"  {store}: {message}", file=sys.stderr, flush=True)

    return progress


# -- report --------------------------------------------------------------------------------


def _rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}"


def _mib(value: int | None) -> str:
    if value is None:
        return "n/a"
    return f"{value / 2**20:.1f} MiB" if value < 100 * 2**20 else f"{value / 2**20:.0f} MiB"


def print_report(results: dict[str, Any], out: Any) -> None:
    from _common import format_table

    print("\n".join(describe_machine(results["machine"])), file=out)
    setup = results["setup"]
    print(
        f"\nfaceId registry, {setup['count']:,} faceIds; {setup['lookups']:,} look-ups "
        f"({setup['unknown_share']:.0%} unknown), batches of {setup['batch']}; medians of "
        f"{setup['rounds']} rounds (IQR in brackets)",
        file=out,
    )
    headers = [
        "store",
        "loaded",
        "load s",
        "look-ups/s single",
        "CPU µs",
        "faceIds/s check()",
        "CPU µs/faceId",
        "memory",
    ]
    rows = []
    for name in setup["stores"]:
        figs = results["stores"].get(name)
        if figs is None:
            reason = results["skipped"].get(name, "not run")
            rows.append([name, reason, "", "", "", "", "", ""])
            continue
        rows.append(
            [
                name,
                f"{figs['loaded']:,}",
                f"{figs['load_s']:.1f}",
                f"{_rate(figs['single_per_s'])} [{_rate(figs['single_per_s_iqr'])}]",
                f"{figs['single_cpu_us']:.1f}",
                f"{_rate(figs['batched_faceids_per_s'])} "
                f"[{_rate(figs['batched_faceids_per_s_iqr'])}]",
                f"{figs['batched_cpu_us_per_faceid']:.1f}",
                _mib(figs["memory_bytes"]),
            ]
        )
    print(format_table(headers, rows), file=out)
    for name, figs in results["stores"].items():
        print(f"  memory, {name}: {figs['memory_method']}", file=out)


def summary_rows(results: dict[str, Any]) -> list[Row]:
    """One summary row per store (figures for information: the issue sets no target)."""
    setup = results["setup"]
    bench = f"faceId registry ({setup['count']:,})"
    rows = []
    for name in setup["stores"]:
        figs = results["stores"].get(name)
        if figs is None:
            reason = results["skipped"].get(name, "not run")
            rows.append(Row(bench, f"{name} store", f"not available ({reason})"))
            continue
        per_id = (
            ""
            if figs["memory_bytes"] is None
            else f", {figs['memory_bytes'] / figs['loaded']:.0f} B/id"
        )
        rows.append(
            Row(
                bench,
                f"{name} store",
                f"{_rate(figs['single_per_s'])} look-ups/s single, "
                f"{_rate(figs['batched_faceids_per_s'])} faceIds/s batched; "
                f"{_mib(figs['memory_bytes'])}{per_id}; load {figs['load_s']:.1f} s",
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="faceIds to load")
    parser.add_argument(
        "--lookups", type=int, default=200_000, help="look-ups per store (single, then batched)"
    )
    parser.add_argument("--unknown-share", type=float, default=0.1, help="share of unknown ids")
    parser.add_argument("--batch", type=int, default=10, help="faceIds per check() call")
    parser.add_argument("--rounds", type=int, default=5, help="slices of the look-ups; median")
    parser.add_argument(
        "--stores", default=",".join(STORES), help=f"comma-separated subset of {STORES}"
    )
    parser.add_argument(
        "--redis-server",
        default=shutil.which("redis-server"),
        help="redis-server executable (default: the one on PATH)",
    )
    parser.add_argument(
        "--redis-chunk", type=int, default=10_000, help="faceIds per pipeline execute"
    )
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = sorted(set(stores) - set(STORES))
    if unknown:
        parser.error(f"unknown store(s): {', '.join(unknown)}")
    if args.count < 1 or args.lookups < args.rounds or not 0 <= args.unknown_share < 1:
        parser.error("need --count >= 1, --lookups >= --rounds, 0 <= --unknown-share < 1")

    results: dict[str, Any] = {
        "machine": machine(),
        "setup": {
            "count": args.count,
            "lookups": args.lookups,
            "unknown_share": args.unknown_share,
            "batch": args.batch,
            "rounds": args.rounds,
            "stores": stores,
            "redis_chunk": args.redis_chunk,
            "load_path": "FaceIdRegistry.record (Redis: on a pipelined client)",
        },
        "stores": {},
        "skipped": {},
    }
    print(f"generating {args.count:,} faceIds", file=sys.stderr, flush=True)
    ids = make_ids(args.count, args.seed)
    known = set(ids)
    probe = make_probe(ids, args.lookups, args.unknown_share, args.seed)
    with tempfile.TemporaryDirectory(prefix="faceguard-bench-registry-") as tmp:
        directory = Path(tmp)
        for name in stores:
            print(f"{name} store", file=sys.stderr, flush=True)
            if name == "memory":
                results["stores"][name] = run_memory(ids, probe, known, args)
            elif name == "sqlite":
                results["stores"][name] = run_sqlite(ids, probe, known, args, directory)
                for leftover in directory.glob("registry.sqlite3*"):
                    leftover.unlink()
            else:
                with throwaway_redis(directory / "redis", args.redis_server) as server:
                    if server is None:
                        results["skipped"][name] = "no redis-server on PATH"
                        continue
                    results["redis_server"] = server.version()
                    results["stores"][name] = run_redis(ids, probe, known, args, server.url)
            figs = results["stores"][name]
            if figs["loaded"] != args.count:
                raise AssertionError(f"{name}: {figs['loaded']} faceIds loaded of {args.count}")
    print_report(results, sys.stdout)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
