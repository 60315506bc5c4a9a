"""Rebuild ``tests/data/small_faces``: face crops with known boxes, and face-free regions.

Run from the repository root with the project's photo set (the shared labelled photos, not
shipped in the repository)::

    python tests/data/small_faces/make_crops.py --faces PATH/TO/faces

What it writes, deterministically for a given OpenCV build:

* ``crops/NN.jpg``: one face each, cut from a photo with a margin of 60 % of the face's size
  on every side (less where the photo ends) and downscaled so that the face measures at most
  96 px (geometric mean of the box's sides), JPEG quality 95. Faces of group photos are
  taken only when their crop holds no part of another face.
* ``backgrounds/NN.jpg``: the largest strip of a photo that holds no face (every detected box
  grown by half its size on each side is kept out), at least 120 px wide and at most 480 px
  long, JPEG quality 90.
* ``sources.json``: for each crop its face box in crop pixels, and where each file came from.

The face boxes are the engine's own detections on the full-resolution photos (faces of
150-500 px that every detector finds), so the composited scenes in ``tests/_small_faces.py``
know where each shrunken face is without hand labelling. The engine used is the one in the
working tree; the boxes are frozen in ``sources.json`` so later engine changes do not move
the ground truth.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from faceguard.emulator._engine import OpenCVEngine

HERE = Path(__file__).resolve().parent
MARGIN = 0.6
CROP_FACE = 96
BACKGROUND_LONG = 480
BACKGROUND_SHORT_MIN = 120
JOHNS_PER_PERSON = 2


def _grow(box: tuple[int, int, int, int], by: float) -> tuple[int, int, int, int]:
    left, top, width, height = box
    pad = by * max(width, height)
    return (round(left - pad), round(top - pad), round(width + 2 * pad), round(height + 2 * pad))


def _intersects(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _chosen(manifest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every photo that is not a resize or crop of another, and two chips per John."""
    out, johns = [], {}
    for entry in manifest:
        if entry.get("same_photo_as"):
            continue
        if "/johns/" in entry["file"]:
            person = entry["file"].split("/")[2]
            johns[person] = johns.get(person, 0) + 1
            if johns[person] > JOHNS_PER_PERSON:
                continue
        out.append(entry)
    return out


def _background_strip(
    pixels: np.ndarray, boxes: list[tuple[int, int, int, int]]
) -> np.ndarray | None:
    """The largest full-width or full-height strip that avoids every grown face box."""
    height, width = pixels.shape[:2]
    grown = [_grow(box, 0.5) for box in boxes]
    top_edge = max(0, min(b[1] for b in grown))
    bottom_edge = min(height, max(b[1] + b[3] for b in grown))
    left_edge = max(0, min(b[0] for b in grown))
    right_edge = min(width, max(b[0] + b[2] for b in grown))
    strips = [
        pixels[:top_edge, :],
        pixels[bottom_edge:, :],
        pixels[:, :left_edge],
        pixels[:, right_edge:],
    ]
    best = max(strips, key=lambda s: s.shape[0] * s.shape[1])
    if min(best.shape[:2]) < BACKGROUND_SHORT_MIN:
        return None
    scale = min(1.0, BACKGROUND_LONG / max(best.shape[:2]))
    return cv2.resize(best, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=Path, required=True, help="folder with manifest.json")
    args = parser.parse_args()
    manifest = json.loads((args.faces / "manifest.json").read_text("utf-8"))["images"]
    engine = OpenCVEngine()
    for folder in ("crops", "backgrounds"):
        (HERE / folder).mkdir(exist_ok=True)
        for old in (HERE / folder).glob("*.jpg"):
            old.unlink()
    crops: list[dict[str, Any]] = []
    backgrounds: list[dict[str, Any]] = []
    for entry in _chosen(manifest):
        data = (args.faces / entry["file"]).read_bytes()
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        is_chip = "/johns/" in entry["file"]
        padded = 75 if is_chip else 0  # the aligned chips need room around the face
        if padded:
            pixels = cv2.copyMakeBorder(pixels, *(4 * [padded]), cv2.BORDER_REPLICATE)
            ok, encoded = cv2.imencode(".png", pixels)
            assert ok
            data = encoded.tobytes()
        faces = engine.detect(data)
        boxes = [(f.left, f.top, f.width, f.height) for f in faces]
        source = {k: entry[k] for k in ("file", "source_repo", "source_path", "license")}
        for index, box in enumerate(boxes):
            left, top, width, height = _grow(box, MARGIN)
            others = [b for j, b in enumerate(boxes) if j != index]
            if any(_intersects((left, top, width, height), b) for b in others):
                continue
            x0, y0 = max(0, left), max(0, top)
            x1 = min(pixels.shape[1] - padded, left + width) if padded else left + width
            y1 = min(pixels.shape[0] - padded, top + height) if padded else top + height
            x0, y0 = max(x0, padded), max(y0, padded)
            crop = pixels[y0 : min(y1, pixels.shape[0]), x0 : min(x1, pixels.shape[1])]
            size = math.sqrt(box[2] * box[3])
            scale = min(1.0, CROP_FACE / size)
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            name = f"crops/{len(crops):02d}.jpg"
            cv2.imwrite(str(HERE / name), crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
            face_box = [
                round((box[0] - x0) * scale, 1),
                round((box[1] - y0) * scale, 1),
                round(box[2] * scale, 1),
                round(box[3] * scale, 1),
            ]
            crops.append({"file": name, "face": face_box, "from": source, "face_index": index})
        if boxes and not is_chip:
            strip = _background_strip(pixels, boxes)
            if strip is not None:
                name = f"backgrounds/{len(backgrounds):02d}.jpg"
                cv2.imwrite(str(HERE / name), strip, [cv2.IMWRITE_JPEG_QUALITY, 90])
                backgrounds.append({"file": name, "from": source})
    out = {
        "description": (
            "Face crops with their face box (left, top, width, height in crop pixels) and "
            "face-free strips of the same photos; built by make_crops.py, used by "
            "tests/_small_faces.py. Licences: LICENSE.md."
        ),
        "crops": crops,
        "backgrounds": backgrounds,
    }
    (HERE / "sources.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"{len(crops)} face crops, {len(backgrounds)} backgrounds", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
