"""Emulator persistence (``--state-dir``) at scale: what one more face costs with 1k and 100k
faces already persisted, how long a restart with 100k faces takes, and the bytes per face.

What a request adds to the state is measured without the face engine (whose cost does not
depend on the state's size): ``FaceStore.add_face`` with a 512-byte embedding (the size of
the engine's SFace template) into one large face list, then ``Persistence.save()``, which is
what the server's persistence middleware runs after each changing request. The target of
issue 14: the median add at 100k is at most 1.2x the median add at 1k.

    python benchmarks/bench_persist.py [--sizes 1000 100000] [--adds 200] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row

from faceguard.emulator import Emulator
from faceguard.emulator._persist import FILE_NAME, Persistence

LIST = "bench-list"
EMBEDDING_BYTES = 512
TARGET = 1.2


def _add(emulator: Emulator) -> None:
    emulator.store.add_face(
        "largeFaceList",
        LIST,
        None,
        embedding=os.urandom(EMBEDDING_BYTES),
        detection_model="detection_03",
        user_data=None,
    )


def measure(size: int, adds: int) -> dict[str, Any]:
    """Fill a state with ``size`` faces, save it, then time ``adds`` add+save steps and a
    restart."""
    with tempfile.TemporaryDirectory(prefix="bench-persist-") as folder:
        emulator = Emulator(content_safety=False, liveness=False, faults=False)
        emulator.store.create_container(
            "largeFaceList", LIST, name="bench", user_data=None, recognition_model="recognition_04"
        )
        persistence = Persistence(emulator.parts(), folder)
        started = time.perf_counter()
        for _ in range(size):
            _add(emulator)
        persistence.save()
        fill = time.perf_counter() - started
        times = []
        for _ in range(adds):
            started = time.perf_counter()
            _add(emulator)
            persistence.save()
            times.append(time.perf_counter() - started)
        persistence.close()
        state_bytes = sum(p.stat().st_size for p in Path(folder).glob(FILE_NAME + "*"))
        restarted = Emulator(content_safety=False, liveness=False, faults=False)
        started = time.perf_counter()
        again = Persistence(restarted.parts(), folder)
        again.load()
        restart = time.perf_counter() - started
        again.close()
        kept = len(restarted.store.persisted_faces("largeFaceList", LIST, start=None, top=10**9))
        assert kept == size + adds, (kept, size + adds)
    return {
        "size": size,
        "adds": adds,
        "add_median_ms": statistics.median(times) * 1000,
        "add_p95_ms": sorted(times)[int(0.95 * (len(times) - 1))] * 1000,
        "fill_s": fill,
        "restart_s": restart,
        "bytes_per_face": state_bytes / (size + adds),
    }


def runner_args(quick: bool) -> list[str]:
    return ["--sizes", "1000", "10000", "--adds", "50"] if quick else []


def summary_rows(results: dict[str, Any]) -> list[Row]:
    runs = results["runs"]
    small, large = runs[0], runs[-1]
    ratio = large["add_median_ms"] / small["add_median_ms"]
    return [
        Row(
            benchmark="emulator persistence",
            measure=f"add latency: {large['size']:,} / {small['size']:,} faces persisted",
            figures=(
                f"{large['add_median_ms']:.2f} vs {small['add_median_ms']:.2f} ms median; "
                f"restart with {large['size']:,}: {large['restart_s']:.1f} s; "
                f"{large['bytes_per_face']:.0f} B/face"
            ),
            ratio=ratio,
            target=TARGET,
            target_op="<=",
        )
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--adds", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    runs = [measure(size, args.adds) for size in args.sizes]
    for run in runs:
        print(
            f"{run['size']:>7,} faces: add+save median {run['add_median_ms']:.2f} ms "
            f"(p95 {run['add_p95_ms']:.2f}); restart {run['restart_s']:.2f} s; "
            f"{run['bytes_per_face']:.0f} B/face; fill {run['fill_s']:.1f} s"
        )
    ratio = runs[-1]["add_median_ms"] / runs[0]["add_median_ms"]
    print(f"add latency ratio {runs[-1]['size']:,} / {runs[0]['size']:,}: {ratio:.2f}x")
    if args.json is not None:
        args.json.write_text(json.dumps({"runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
