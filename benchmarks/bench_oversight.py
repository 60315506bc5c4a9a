"""What human oversight (R11) and disputes (R22) cost, against the size of the audit log.

A review is one audit record; a dispute, ``client.review`` and ``faceguard audit show`` first
find the decision by reading the log back and checking each line's hash and link, so they
grow with the log. The script writes logs of several sizes (records like a recognition
call's, fsync off so building them is quick), then times, per size:

* ``confirm``: one review of a provisional decision (the record write, with and without
  fsync; the lookup is not needed: the result holds its decision record);
* ``find``: finding a decision near the end of the log (what ``dispute`` and ``review`` do);
* ``history``: a decision's history over the whole log (what ``audit show`` prints).

Wall time, median of ``--repeats``; the machine is shared, so read the figures as orders of
magnitude. ``python benchmarks/bench_oversight.py --sizes 1000,10000,100000``.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from faceguard import AuditLog
from faceguard._guard._review import find_decision, history, record_review, reviewer_key

SUBJECT_KEY = b"bench-oversight-subject-key-0001"


def _build(path: Path, records: int) -> str:
    """A log of ``records`` outcome records; returns the hash of the one 10 before the end."""
    target = ""
    with AuditLog(path, subject_key=SUBJECT_KEY, fsync=False) as log:
        for index in range(records):
            written = log.record(
                "api_call",
                operation="FaceRecognitionOperations_IdentifyFromLargePersonGroup",
                route="POST /identify",
                decision="allowed",
                rule="allowed",
                reason="api_call",
                subject=f"p-subject-{index % 500}",
                details={"reviewers_required": 1},
            )
            if index == records - 10:
                target = written.hash
    return target


def _median(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _measure(path: Path, target: str, repeats: int) -> dict[str, float]:
    """The figures for one log (see the module docstring)."""
    times: dict[str, float] = {}
    for fsync in (False, True):
        with AuditLog(path, subject_key=SUBJECT_KEY, fsync=fsync) as log:
            decision = find_decision(log, target)
            reviewer = log.pseudonym(reviewer_key("bench-reviewer"))
            review = functools.partial(
                record_review,
                log,
                decision,
                reviewer=reviewer,
                outcome_digest="sha256:" + "0" * 64,
                summary="reviewed: the same person",
                decision_value="confirmed",
                reviews=1,
                required=1,
            )
            times["confirm+fsync" if fsync else "confirm"] = _median(repeats, review)
            if not fsync:
                times["find"] = _median(repeats, functools.partial(find_decision, log, target))
    times["history"] = _median(repeats, functools.partial(history, path, target))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="log sizes, in records")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"{'records':>9} {'confirm':>10} {'confirm+fsync':>14} {'find':>10} {'history':>10}")
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"audit-{size}.jsonl"
            times = _measure(path, _build(path, size), args.repeats)
            print(
                f"{size:>9} {times['confirm'] * 1e3:>8.2f}ms "
                f"{times['confirm+fsync'] * 1e3:>12.2f}ms {times['find'] * 1e3:>8.1f}ms "
                f"{times['history'] * 1e3:>8.1f}ms"
            )


if __name__ == "__main__":
    main()
