"""Small faces and landmarks: the engine's recall by face size, its false faces, its detect
time and its landmark error, for the working tree and (``--baseline REV``) an earlier
revision, side by side in one run.

The scenes are ``tests/_small_faces.py``'s: every face crop of ``tests/data/small_faces``
composited at 36, 40, ... 64 px onto 640x480 to 1920x1080 scenes (boxes known), and 80
scenes without a face. A face is found when a detection overlaps its box at IoU >= 0.4;
every other detection is a false face. Targets (the small-faces issue): recall >= 95 % for
faces of 36 px and more, at most one false face per 20 face-free images, detect <= 60 ms
median on a 640 x 480 photo.

Landmarks: the 27 points of the largest face of the five photos of
``tests/data/landmarks/hand_placed.json`` against the points placed there by hand, as a
fraction of the distance between the hand-placed pupils (YuNet's 5 measured points and the
22 estimated ones apart), and how many estimated points fall outside their face's box over
every photo of ``tests/data/faces``.

Detect time is ``OpenCVEngine.detect`` alone (decode, detection, landmarks, measures and one
SFace embedding per face), wall clock, median over the photos of ``--faces`` resized in
memory to about 640 x 480 (INTER_AREA, JPEG q90), and, for information, over face-free
scenes of 640 x 480 and 1920 x 1080 (detection alone). Each revision runs in its own child
process (``PYTHONPATH`` set to that revision's ``src``, taken with ``git archive``); the
timing children alternate, revision by revision, ``--rounds`` times, and the medians of the
rounds are reported, so both see the same machine load.

    python benchmarks/bench_engine_small_faces.py --baseline 2f2861b [--revision HEAD]

The scenes, hand-placed points and this script come from the working tree; only the engine
(``src/``) is taken from each revision.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
DEFAULT_FACES = TESTS / "data" / "faces"
VGA = (640, 480)
TARGETS = {"recall": 0.95, "false_faces_per_image": 1 / 20, "detect_vga_ms": 60.0}


# -- the child: one revision's engine ----------------------------------------------------------


def _engine() -> Any:
    from faceguard.emulator._engine import OpenCVEngine

    return OpenCVEngine()


def child_score() -> dict[str, Any]:
    sys.path.insert(0, str(TESTS))
    import _small_faces as sf

    engine = _engine()
    scenes = [*sf.face_scenes(), *sf.face_free_scenes()]
    started = time.perf_counter()
    result = sf.score(sf.engine_boxes(engine), scenes)
    seconds = time.perf_counter() - started
    return {
        "bands": {f"{lo}-{hi}": result.recall(lo, hi) for lo, hi in sf.BANDS},
        "recall_36_up": result.recall(36),
        "by_size": {
            str(s): [result.found.get(s, 0), result.total[s]] for s in sorted(result.total)
        },
        "false_faces_face_free": result.false_positives_face_free,
        "face_free_images": result.face_free_images,
        "false_faces_in_face_scenes": result.false_positives_in_face_scenes,
        "face_scenes": result.face_scenes,
        "missed": result.missed,
        "scoring_seconds": seconds,
        "landmarks": child_landmarks(),
    }


def child_landmarks() -> dict[str, Any]:
    import numpy as np

    engine = _engine()
    hand = json.loads((TESTS / "data" / "landmarks" / "hand_placed.json").read_text("utf-8"))
    measured = ("pupilLeft", "pupilRight", "noseTip", "mouthLeft", "mouthRight")
    errors: dict[str, list[float]] = {}
    for entry in hand["faces"]:
        face = engine.detect((DEFAULT_FACES / entry["file"]).read_bytes())[0]
        points = {k: np.asarray(v, float) for k, v in entry["points"].items()}
        pupils = float(np.linalg.norm(points["pupilRight"] - points["pupilLeft"]))
        for name, point in points.items():
            off = float(np.linalg.norm(np.asarray(face.landmarks27[name]) - point)) / pupils
            errors.setdefault(name, []).append(off)
    estimated = [e for k, v in errors.items() if k not in measured for e in v]
    outside = total = 0
    manifest = json.loads((DEFAULT_FACES / "manifest.json").read_text("utf-8"))["images"]
    for entry in manifest:
        for face in engine.detect((DEFAULT_FACES / entry["file"]).read_bytes()):
            for name, (x, y) in face.landmarks27.items():
                if name in measured:
                    continue
                total += 1
                inside = face.left <= x <= face.left + face.width
                inside = inside and face.top <= y <= face.top + face.height
                outside += not inside
    return {
        "measured5_mean": float(np.mean([e for k in measured for e in errors[k]])),
        "estimated22_mean": float(np.mean(estimated)),
        "estimated22_median": float(np.median(estimated)),
        "estimated22_p90": float(np.percentile(estimated, 90)),
        "nose_root_mean": float(np.mean(errors["noseRootLeft"] + errors["noseRootRight"])),
        "eyebrows_mean": float(
            np.mean([e for k in errors if k.startswith("eyebrow") for e in errors[k]])
        ),
        "estimated_outside_box": [outside, total],
    }


def _vga_photos(faces: Path) -> list[bytes]:
    import cv2
    import numpy as np

    manifest = json.loads((faces / "manifest.json").read_text("utf-8"))["images"]
    out = []
    for entry in manifest:
        pixels = cv2.imdecode(
            np.frombuffer((faces / entry["file"]).read_bytes(), np.uint8), cv2.IMREAD_COLOR
        )
        height, width = pixels.shape[:2]
        scale = math.sqrt(VGA[0] * VGA[1] / (width * height))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
        ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        out.append(encoded.tobytes())
    return out


def _median_ms(engine: Any, images: Sequence[bytes], repeats: int) -> tuple[float, float]:
    """(median wall ms, median process CPU ms) per detect call, after one warm-up each. CPU
    time counts OpenCV's threads too; it moves less than wall time when other processes
    share the cores."""
    for image in images:
        engine.detect(image)  # warm up
    wall, cpu = [], []
    for _ in range(repeats):
        for image in images:
            started, started_cpu = time.perf_counter(), time.process_time()
            engine.detect(image)
            wall.append((time.perf_counter() - started) * 1000.0)
            cpu.append((time.process_time() - started_cpu) * 1000.0)
    return statistics.median(wall), statistics.median(cpu)


def child_time(faces: Path, repeats: int) -> dict[str, Any]:
    sys.path.insert(0, str(TESTS))
    import _small_faces as sf

    engine = _engine()
    empty = list(sf.face_free_scenes(count=16))
    by_size = {
        f"{w}x{h}": [s.image for s in empty if (s.width, s.height) == (w, h)]
        for w, h in ((640, 480), (1920, 1080))
    }
    figures: dict[str, Any] = {}
    named = {"vga": _vga_photos(faces), **{f"face_free_{k}": v for k, v in by_size.items()}}
    for name, images in named.items():
        figures[f"detect_{name}_ms"], figures[f"detect_{name}_cpu_ms"] = _median_ms(
            engine, images, repeats
        )
    return figures


# -- the parent: revisions side by side --------------------------------------------------------


def _source_of(revision: str, into: Path) -> Path:
    """``src/`` of ``revision`` (``git archive``), unpacked under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _child(src: Path, args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"the child for {src} failed:\n{done.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-small-faces-") as tmp:
        sources: dict[str, Path] = {}
        if args.baseline:
            sources[f"baseline {args.baseline}"] = _source_of(args.baseline, Path(tmp) / "a")
        if args.revision:
            sources[f"revision {args.revision}"] = _source_of(args.revision, Path(tmp) / "b")
        else:
            sources["working tree"] = ROOT / "src"
        load_start = os.getloadavg()
        scores = {name: _child(src, ["--child", "score"]) for name, src in sources.items()}
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
        for _ in range(args.rounds):
            for name, src in sources.items():
                rounds[name].append(
                    _child(
                        src,
                        [
                            "--child",
                            "time",
                            "--faces",
                            str(args.faces),
                            "--repeats",
                            str(args.repeats),
                        ],
                    )
                )
        timing = {
            name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            for name, runs in rounds.items()
        }
        return {
            "load_average_start": load_start,
            "load_average_end": os.getloadavg(),
            "rounds": args.rounds,
            "repeats": args.repeats,
            "faces": str(args.faces),
            "revisions": {
                name: {"score": scores[name], "timing": timing[name]} for name in sources
            },
        }


def report(result: dict[str, Any]) -> str:
    names = list(result["revisions"])
    lines = [
        "Small faces (tests/_small_faces.py scenes), OpenCVEngine.detect; load average "
        f"{result['load_average_start']} at the start, {result['load_average_end']} at the end",
        f"{'measure':<44}" + "".join(f"{name:>22}" for name in names),
    ]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"{label:<44}" + "".join(f"{v:>22}" for v in values))

    first = result["revisions"][names[0]]["score"]
    for band in first["bands"]:
        row(
            f"recall, faces {band} px",
            [f"{result['revisions'][n]['score']['bands'][band]:.1%}" for n in names],
        )
    row(
        "recall, all faces >= 36 px",
        [f"{result['revisions'][n]['score']['recall_36_up']:.1%}" for n in names],
    )
    row(
        "false faces per face-free image",
        [
            f"{s['false_faces_face_free']}/{s['face_free_images']}"
            for s in (result["revisions"][n]["score"] for n in names)
        ],
    )
    row(
        "false faces in the face scenes",
        [
            f"{s['false_faces_in_face_scenes']}/{s['face_scenes']} scenes"
            for s in (result["revisions"][n]["score"] for n in names)
        ],
    )
    marks = [result["revisions"][n]["score"]["landmarks"] for n in names]
    for key, label in (
        ("measured5_mean", "landmarks: YuNet's 5, mean error"),
        ("estimated22_mean", "landmarks: estimated 22, mean error"),
        ("estimated22_median", "landmarks: estimated 22, median error"),
        ("estimated22_p90", "landmarks: estimated 22, p90 error"),
        ("eyebrows_mean", "landmarks: eyebrows (4), mean error"),
        ("nose_root_mean", "landmarks: nose root (2), mean error"),
    ):
        row(label, [f"{m[key]:.1%}" for m in marks])
    row(
        "estimated points outside the face box",
        [f"{m['estimated_outside_box'][0]}/{m['estimated_outside_box'][1]}" for m in marks],
    )
    for key, label in (
        ("detect_vga", "detect ms median, photos at ~640x480"),
        ("detect_face_free_640x480", "detect ms median, face-free 640x480"),
        ("detect_face_free_1920x1080", "detect ms median, face-free 1920x1080"),
    ):
        row(
            label + " (CPU)",
            [
                f"{t[key + '_ms']:.1f} ({t[key + '_cpu_ms']:.1f})"
                for t in (result["revisions"][n]["timing"] for n in names)
            ],
        )
    lines.append(
        f"timing: median of {result['rounds']} alternating rounds, each the median of "
        f"{result['repeats']} passes over the images; photos from {result['faces']}; "
        "landmark errors are fractions of the hand-placed pupil distance"
    )
    for name in names:
        lines.append(f"missed by {name}: {', '.join(result['revisions'][name]['score']['missed'])}")
    last = result["revisions"][names[-1]]
    lines.append(
        f"targets ({names[-1]}): recall >= 95 % in every band "
        + ("met" if min(last["score"]["bands"].values()) >= TARGETS["recall"] else "missed")
        + "; false faces <= 1 per 20 images "
        + (
            "met"
            if last["score"]["false_faces_face_free"] / last["score"]["face_free_images"]
            <= TARGETS["false_faces_per_image"]
            else "missed"
        )
        + "; detect <= 60 ms at 640x480 "
        + ("met" if last["timing"]["detect_vga_ms"] <= TARGETS["detect_vga_ms"] else "missed")
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="a git revision to measure beside the working tree")
    parser.add_argument(
        "--revision", help="measure this git revision instead of the working tree's src/"
    )
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES, help="photos for timing")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds")
    parser.add_argument("--repeats", type=int, default=5, help="passes over the images per round")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--child", choices=("score", "time"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "score":
        print(json.dumps(child_score()))
        return 0
    if args.child == "time":
        print(json.dumps(child_time(args.faces, args.repeats)))
        return 0
    if args.rounds < 1 or args.repeats < 1:
        parser.error("--rounds and --repeats must be >= 1")
    result = run(args)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
