"""Composited scenes for measuring the engine on small faces, and face-free scenes.

The service detects faces down to 36 x 36 px in images up to 1920 x 1080. The repository's
photos have faces of 150-500 px, so this module makes small faces with known boxes: each
face crop of ``tests/data/small_faces`` (``sources.json`` holds its box, ``LICENSE.md`` its
licence) is shrunk so that its face measures one of :data:`SIZES` px (geometric mean of the
box's sides, the size the engine's minimum-size rule uses) and blended onto a larger scene
(photo strips without faces, or synthetic textures: value noise, shapes, stripes, flat).
Every crop appears once at every size. Face-free scenes use the same backgrounds.

Everything is deterministic: a fixed seed, OpenCV's resize and JPEG encoder (quality 90).
``benchmarks/bench_engine_small_faces.py`` and ``tests/test_engine_accuracy.py`` use
it; ``python tests/_small_faces.py OUT`` writes the scenes as files to look at, with their
boxes in ``OUT/boxes.json``.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "small_faces"
SIZES = (36, 40, 44, 48, 52, 56, 60, 64)
BANDS = ((36, 43), (44, 51), (52, 59), (60, 64))
"""Size bands of the report, inclusive."""
CANVASES = ((640, 480), (1280, 720), (1920, 1080), (1024, 768))
FACES_PER_CANVAS = {(640, 480): 4, (1280, 720): 6, (1920, 1080): 8, (1024, 768): 6}
CELL = 160
"""Faces are placed one per grid cell of this size, so they never overlap."""
EMPTY_SCENES = 80
MATCH_IOU = 0.4
SEED = 36_2026

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Scene:
    name: str
    image: bytes
    width: int
    height: int
    faces: tuple[tuple[Box, int], ...]
    """(box, size in px) of each composited face; empty for a face-free scene."""


@dataclass
class Score:
    """Recall by face size and false positives, over a list of scenes."""

    found: dict[int, int] = field(default_factory=dict)
    total: dict[int, int] = field(default_factory=dict)
    false_positives_face_free: int = 0
    face_free_images: int = 0
    false_positives_in_face_scenes: int = 0
    face_scenes: int = 0
    missed: list[str] = field(default_factory=list)

    def recall(self, low: int = 0, high: int = 10_000) -> float:
        found = sum(n for s, n in self.found.items() if low <= s <= high)
        total = sum(n for s, n in self.total.items() if low <= s <= high)
        return found / total if total else math.nan

    def fp_per_face_free_image(self) -> float:
        return self.false_positives_face_free / max(1, self.face_free_images)


def _sources() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "sources.json").read_text("utf-8"))
    return loaded


def _read(name: str) -> np.ndarray:
    pixels = cv2.imread(str(DATA / name), cv2.IMREAD_COLOR)
    if pixels is None:
        raise FileNotFoundError(DATA / name)
    return np.asarray(pixels, np.uint8)


# -- backgrounds ---------------------------------------------------------------------------


def _value_noise(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    out = np.zeros((height, width, 3), np.float32)
    for cells, weight in ((4, 0.5), (16, 0.3), (64, 0.15), (256, 0.05)):
        grid = rng.random((max(2, cells * height // width), cells, 3)).astype(np.float32)
        out += weight * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(out * 255, 0, 255).astype(np.uint8)


def _shapes(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    image = (top * (1 - ramp) + bottom * ramp).astype(np.uint8)
    image = np.ascontiguousarray(np.broadcast_to(image, (height, width, 3)))
    for _ in range(int(rng.integers(15, 40))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(10, width // 3)), int(rng.integers(10, height // 3))
        kind = int(rng.integers(0, 3))
        if kind == 0:
            cv2.rectangle(image, (x, y), (x + w, y + h), colour, -1)
        elif kind == 1:
            angle = float(rng.integers(0, 180))
            cv2.ellipse(image, (x, y), (w // 2, h // 2), angle, 0, 360, colour, -1)
        else:
            cv2.line(image, (x, y), (x + w, y + h), colour, int(rng.integers(1, 8)))
    return np.asarray(cv2.GaussianBlur(image, (0, 0), 1.0), np.uint8)


def _stripes(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    angle = float(rng.random() * math.pi)
    period = float(rng.integers(6, 60))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    wave = 0.5 + 0.5 * np.sin((xs * math.cos(angle) + ys * math.sin(angle)) * 2 * math.pi / period)
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    image = a * wave[..., None] + b * (1 - wave[..., None])
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def _flat(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    colour = rng.integers(20, 236, 3)
    image = np.broadcast_to(colour, (height, width, 3)) + rng.normal(0, 4, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def _photo(rng: np.random.Generator, width: int, height: int, strip: np.ndarray) -> np.ndarray:
    """A face-free photo strip, mirrored into a 2 x 2 tile and resized to cover the canvas."""
    tile = np.vstack([np.hstack([strip, strip[:, ::-1]])] * 2)
    tile[strip.shape[0] :] = tile[strip.shape[0] :][::-1]
    scale = max(width / tile.shape[1], height / tile.shape[0])
    size = (math.ceil(tile.shape[1] * scale), math.ceil(tile.shape[0] * scale))
    big = cv2.resize(tile, size, interpolation=cv2.INTER_LINEAR)
    x = int(rng.integers(0, big.shape[1] - width + 1))
    y = int(rng.integers(0, big.shape[0] - height + 1))
    return np.ascontiguousarray(big[y : y + height, x : x + width])


_SYNTHETIC: tuple[Callable[[np.random.Generator, int, int], np.ndarray], ...] = (
    _value_noise,
    _shapes,
    _stripes,
    _flat,
)


def _background(
    rng: np.random.Generator, index: int, width: int, height: int, strips: Sequence[np.ndarray]
) -> tuple[str, np.ndarray]:
    """Even indices: a photo strip; odd: the synthetic kinds in turn."""
    if index % 2 == 0:
        strip = strips[(index // 2) % len(strips)]
        return f"photo{(index // 2) % len(strips):02d}", _photo(rng, width, height, strip)
    make = _SYNTHETIC[(index // 2) % len(_SYNTHETIC)]
    return make.__name__.strip("_"), make(rng, width, height)


# -- compositing ---------------------------------------------------------------------------


def _paste(canvas: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """Blend ``patch`` at (x, y) with a soft edge (a ramp over 15 % of its shorter side)."""
    h, w = patch.shape[:2]
    ramp = max(1, round(0.15 * min(h, w)))
    ys = np.minimum(np.arange(h), np.arange(h)[::-1]).astype(np.float32)
    xs = np.minimum(np.arange(w), np.arange(w)[::-1]).astype(np.float32)
    alpha = np.clip(np.minimum(ys[:, None], xs[None, :]) / ramp, 0.0, 1.0)[..., None]
    region = canvas[y : y + h, x : x + w].astype(np.float32)
    blended = alpha * patch.astype(np.float32) + (1 - alpha) * region
    canvas[y : y + h, x : x + w] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _jpeg(pixels: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return encoded.tobytes()


def face_scenes(seed: int = SEED) -> Iterator[Scene]:
    """Scenes holding every crop once at every size of :data:`SIZES`."""
    sources = _sources()
    crops = [(_read(c["file"]), tuple(c["face"])) for c in sources["crops"]]
    strips = [_read(b["file"]) for b in sources["backgrounds"]]
    rng = np.random.default_rng(seed)
    todo = [(crop, size) for size in SIZES for crop in range(len(crops))]
    order = rng.permutation(len(todo))
    queue = [todo[i] for i in order]
    index = 0
    while queue:
        width, height = CANVASES[index % len(CANVASES)]
        kind, canvas = _background(rng, index, width, height, strips)
        cells = [(cx, cy) for cy in range(height // CELL) for cx in range(width // CELL)]
        chosen = rng.permutation(len(cells))[: FACES_PER_CANVAS[(width, height)]]
        faces: list[tuple[Box, int]] = []
        for cell in chosen:
            if not queue:
                break
            crop_index, size = queue.pop()
            pixels, (left, top, w, h) = crops[crop_index]
            scale = size / math.sqrt(w * h)
            patch = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            patch = patch[:CELL, :CELL]
            cx, cy = cells[cell]
            x = cx * CELL + int(rng.integers(0, CELL - patch.shape[1] + 1))
            y = cy * CELL + int(rng.integers(0, CELL - patch.shape[0] + 1))
            _paste(canvas, patch, x, y)
            faces.append(((x + left * scale, y + top * scale, w * scale, h * scale), size))
        yield Scene(f"faces{index:03d}-{kind}", _jpeg(canvas), width, height, tuple(faces))
        index += 1


def face_free_scenes(count: int = EMPTY_SCENES, seed: int = SEED + 1) -> Iterator[Scene]:
    """Scenes with no face: the same photo strips and synthetic textures."""
    strips = [_read(b["file"]) for b in _sources()["backgrounds"]]
    rng = np.random.default_rng(seed)
    for index in range(count):
        width, height = CANVASES[index % len(CANVASES)]
        kind, canvas = _background(rng, index, width, height, strips)
        yield Scene(f"empty{index:03d}-{kind}", _jpeg(canvas), width, height, ())


# -- scoring -------------------------------------------------------------------------------


def iou(a: Box, b: Box) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def score(detect: Callable[[bytes], Sequence[Box]], scenes: Sequence[Scene]) -> Score:
    """Greedy one-to-one matching at IoU >= 0.4; every unmatched detection is a false
    positive."""
    result = Score()
    for scene in scenes:
        boxes = list(detect(scene.image))
        pairs = sorted(
            (
                (iou(truth, box), t, d)
                for t, (truth, _) in enumerate(scene.faces)
                for d, box in enumerate(boxes)
            ),
            reverse=True,
        )
        matched_t: set[int] = set()
        matched_d: set[int] = set()
        for overlap, t, d in pairs:
            if overlap < MATCH_IOU:
                break
            if t not in matched_t and d not in matched_d:
                matched_t.add(t)
                matched_d.add(d)
        for t, (_, size) in enumerate(scene.faces):
            result.total[size] = result.total.get(size, 0) + 1
            if t in matched_t:
                result.found[size] = result.found.get(size, 0) + 1
            else:
                result.missed.append(f"{scene.name}#{t}@{size}px")
        extra = len(boxes) - len(matched_d)
        if scene.faces:
            result.face_scenes += 1
            result.false_positives_in_face_scenes += extra
        else:
            result.face_free_images += 1
            result.false_positives_face_free += extra
    return result


def engine_boxes(engine: Any) -> Callable[[bytes], list[Box]]:
    """``engine.detect`` as a list of (left, top, width, height)."""

    def detect(image: bytes) -> list[Box]:
        return [(f.left, f.top, f.width, f.height) for f in engine.detect(image)]

    return detect


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/_small_faces.py OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    boxes: dict[str, list[Any]] = {}
    for scene in [*face_scenes(), *face_free_scenes()]:
        (out / f"{scene.name}.jpg").write_bytes(scene.image)
        boxes[scene.name] = [{"box": list(box), "size": size} for box, size in scene.faces]
    (out / "boxes.json").write_text(json.dumps(boxes, indent=1) + "\n", encoding="utf-8")
    print(f"{len(boxes)} scenes written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
