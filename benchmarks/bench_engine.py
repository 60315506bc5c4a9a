"""Accuracy and speed of the emulator's face engine on labelled photos.

Everything runs through the real stack: the real ``OpenCVEngine`` (YuNet + SFace) inside the
real ``Emulator``, called by the real ``FaceClient`` over the emulator's in-process transport,
with a real guard (a ``GuardPolicy`` built like ``tests/_guard_kit.py``'s: a throwaway
``ConsentIssuer``, a verifier that pins its key, a ``MemoryStore``, real consent tokens,
``allow_unknown_face_ids=False``). The emulator runs on a ``ManualClock`` whose ``advance`` is
the client's ``sleep``, so training finishes without real waits; timings are wall time
(``time.perf_counter``) around the calls.

Figures (``benchmarks/README.md``, "Engine accuracy and speed", explains them):

* face count: every image of the manifest, detected through the client; right when the
  number of faces equals ``faces`` (or is at least ``faces`` when ``background_faces``);
* identification top-1: each identity's single-face photos (not ``same_photo_as`` copies),
  in file order; the first half (rounded up) is enrolled into a large person group through
  the client, the rest is probed with identify (default threshold 0.5); a probe is right when
  the first candidate is its person. Identities with one photo are skipped and counted;
* verification: every pair of labelled faces (those single-face photos plus the labelled
  faces of group photos, matched left to right), verified face to face; right when
  ``isIdentical`` (confidence >= 0.5, the service rule) equals "same identity";
* detect time: the median wall time of one detect call on 640x480-class photos, through the
  client (``returnFaceId=true``) and, for comparison, of ``OpenCVEngine.detect`` alone;
* identify time: the median wall time of one client identify call (1 faceId) against the
  large person group after SYNTHETIC persons are added straight into the emulator's state
  (``--persons``, 100,000 by default): random unit 128-d float32 vectors, one face each,
  not faces of anyone, then the group is trained again through the client.

Small faces (recall by face size, false faces) and landmark error are measured by
``benchmarks/bench_engine_small_faces.py``, beside a baseline revision.

Run ``python benchmarks/bench_engine.py --help`` for the options. The project's own subset is
the default photo set; give the full set explicitly, e.g. ``--faces /work/shared/faces``.
"""

from __future__ import annotations

import argparse
import functools
import io
import itertools
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np

from faceguard import FaceClient, RetryPolicy
from faceguard._guard._consent import ConsentIssuer, ConsentVerifier
from faceguard._guard._policy import GuardPolicy
from faceguard._guard._status import StatusListIssuer, StatusLists
from faceguard._guard._store import MemoryStore
from faceguard._guard._usecases import CONSENT_OPERATIONS, UseCase
from faceguard.emulator import Emulator, ManualClock
from faceguard.emulator._engine import OpenCVEngine
from faceguard.emulator.face.models import PersistedFace, Person

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FACES = ROOT / "tests" / "data" / "faces"

TARGETS: dict[str, tuple[str, float]] = {
    "face_count_accuracy": (">=", 0.95),
    "identification_top1": (">=", 0.95),
    "verification_accuracy": (">=", 0.97),
    "detect_median_ms": ("<=", 60.0),
    "identify_median_ms": ("<=", 30.0),
}

ENDPOINT = "https://bench-engine.invalid"
STATUS_URI = "https://bench-engine.invalid/status/1"
API_KEY = "bench-engine-key"
AUDIENCE = "faceguard:bench-engine"
SUBJECT = "p-bench-engine-1"
USE_CASE = UseCase.DUPLICATE_OR_BLOCKED_USERS  # permits every recognition operation
KIND = "largePersonGroup"
GROUP = "bench-engine-lpg"
FACE_ID_TTL = 86_400
SAME_PERSON = 0.5

VGA_PIXELS = 640 * 480
VGA_TOLERANCE = 0.35
"""A photo is 640x480-class when its pixel count is within 35 % of 640 x 480."""
EMBEDDING_DIM = 128


# -- the photos --------------------------------------------------------------------------------


@dataclass
class Photo:
    file: str
    data: bytes
    width: int
    height: int
    faces: int
    background_faces: bool
    identity: str | None
    identities: list[str | None] | None
    same_photo_as: str | None


def load_photos(directory: Path) -> list[Photo]:
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    photos = []
    for entry in manifest["images"]:
        data = (directory / entry["file"]).read_bytes()
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if pixels is None:
            raise SystemExit(f"{entry['file']}: not an image OpenCV can read")
        photos.append(
            Photo(
                file=entry["file"],
                data=data,
                width=int(pixels.shape[1]),
                height=int(pixels.shape[0]),
                faces=int(entry["faces"]),
                background_faces=bool(entry.get("background_faces", False)),
                identity=entry.get("identity"),
                identities=entry.get("identities"),
                same_photo_as=entry.get("same_photo_as"),
            )
        )
    return photos


# -- the world: engine, emulator, guarded client -------------------------------------------------


@dataclass
class World:
    engine: OpenCVEngine
    clock: ManualClock
    emulator: Emulator
    issuer: ConsentIssuer
    client: FaceClient
    raw: httpx.Client
    token: str
    """Standing consent of SUBJECT for every operation, bound to the group (no person)."""

    def grant(self, person_ids: Sequence[str]) -> str:
        """Consent of SUBJECT bound to the group and these persons (for enrolment)."""
        return self.issuer.issue(
            SUBJECT,
            audience=[AUDIENCE, ENDPOINT],
            operations=CONSENT_OPERATIONS,
            use_case=USE_CASE,
            bindings=[(KIND, GROUP, None)] + [(KIND, GROUP, pid) for pid in person_ids],
            use="standing",
            status=(STATUS_URI, 0),
        )


def make_world() -> World:
    engine = OpenCVEngine()
    clock = ManualClock()
    emulator = Emulator(engine=engine, clock=clock)
    issuer, public_key = ConsentIssuer.generate(issuer="urn:faceguard:bench-engine", kid="b-1")
    store = MemoryStore()
    # Standing tokens need a status list entry (GUARD.md §3.1): one list, loaded once, allowed
    # to be a day old so a long run does not see it go stale.
    lists = StatusLists({issuer.kid: public_key}, issuer=issuer.issuer)
    lists.update(StatusListIssuer(issuer, size=64).token(STATUS_URI, ttl=300))
    verifier = ConsentVerifier(
        {issuer.kid: public_key},
        issuer=issuer.issuer,
        audience=AUDIENCE,
        replay_store=store,
        status_lists=lists,
        status_max_age=dict.fromkeys(CONSENT_OPERATIONS, 86400.0),
    )
    guard = GuardPolicy(use_case=USE_CASE, verifier=verifier, store=store)
    client = FaceClient(
        ENDPOINT,
        api_key=API_KEY,
        transport=emulator.transport(),
        guard=guard,
        sleep=clock.advance,
        retry=RetryPolicy(max_attempts=1),
    )
    raw = httpx.Client(
        transport=emulator.transport(),
        base_url=ENDPOINT + "/face/v1.2",
        headers={"Ocp-Apim-Subscription-Key": API_KEY},
    )
    token = issuer.issue(
        SUBJECT,
        audience=[AUDIENCE, ENDPOINT],
        operations=CONSENT_OPERATIONS,
        use_case=USE_CASE,
        bindings=[(KIND, GROUP, None)],
        use="standing",
        status=(STATUS_URI, 0),
    )
    return World(engine, clock, emulator, issuer, client, raw, token)


# -- detection and face counts -----------------------------------------------------------------


@dataclass
class Detected:
    photo: Photo
    face_ids: list[str]
    """Largest first, as detect answers."""
    lefts: list[int]
    rectangles: list[tuple[int, int, int, int]]

    @property
    def count_right(self) -> bool:
        found, expected = len(self.face_ids), self.photo.faces
        return found >= expected if self.photo.background_faces else found == expected


def detect_all(world: World, photos: Sequence[Photo]) -> list[Detected]:
    out = []
    for photo in photos:
        faces = world.client.detection.detect(
            photo.data, return_face_id=True, face_id_time_to_live=FACE_ID_TTL, consent=world.token
        )
        out.append(
            Detected(
                photo=photo,
                face_ids=[str(face.face_id) for face in faces],
                lefts=[face.face_rectangle.left for face in faces],
                rectangles=[
                    (
                        face.face_rectangle.left,
                        face.face_rectangle.top,
                        face.face_rectangle.width,
                        face.face_rectangle.height,
                    )
                    for face in faces
                ],
            )
        )
    return out


# -- labelled faces ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Labelled:
    file: str
    identity: str
    face_id: str
    largest: bool
    """The largest face of its image: the only one the guard binds to the consent subject."""
    group_photo: bool


@dataclass
class Labels:
    single: list[Labelled] = field(default_factory=list)
    """One face per single-subject photo that is not a copy of another."""
    group: list[Labelled] = field(default_factory=list)
    """Labelled faces of group photos whose face count was right."""
    copies_left_out: int = 0
    single_without_face: list[str] = field(default_factory=list)
    group_photos_left_out: list[str] = field(default_factory=list)


def label(detected: Sequence[Detected]) -> Labels:
    labels = Labels()
    for item in detected:
        photo = item.photo
        if photo.identity is not None:
            if photo.faces != 1:
                continue
            if photo.same_photo_as:
                labels.copies_left_out += 1
                continue
            if not item.face_ids:
                labels.single_without_face.append(photo.file)
                continue
            labels.single.append(
                Labelled(photo.file, photo.identity, item.face_ids[0], True, False)
            )
        elif photo.identities is not None:
            if len(item.face_ids) != len(photo.identities):
                labels.group_photos_left_out.append(photo.file)
                continue
            order = sorted(range(len(item.face_ids)), key=lambda i: item.lefts[i])
            for index, identity in zip(order, photo.identities, strict=True):
                if identity is not None:
                    labels.group.append(
                        Labelled(photo.file, identity, item.face_ids[index], index == 0, True)
                    )
    return labels


# -- identification ------------------------------------------------------------------------------


@dataclass
class Identification:
    persons: dict[str, str]
    """identity -> personId."""
    enrolled: dict[str, list[str]]
    probes: list[Labelled]
    skipped_single_photo: list[str]
    skipped_without_face: list[str]


def enrol(world: World, labels: Labels, photos: dict[str, Photo]) -> Identification:
    """The large person group of the real people: half of each identity's photos."""
    by_identity: dict[str, list[Labelled]] = {}
    for item in labels.single:
        by_identity.setdefault(item.identity, []).append(item)
    skipped = sorted(name for name, items in by_identity.items() if len(items) < 2)
    chosen = {
        name: sorted(items, key=lambda i: i.file)
        for name, items in sorted(by_identity.items())
        if len(items) >= 2
    }
    groups = world.client.large_person_groups
    groups.create(GROUP, name="bench-engine", recognition_model="recognition_04")
    persons = {name: groups.create_person(GROUP, name=name).person_id for name in chosen}
    grant = world.grant(list(persons.values()))
    enrolled: dict[str, list[str]] = {}
    probes: list[Labelled] = []
    for name, items in chosen.items():
        half = math.ceil(len(items) / 2)
        for item in items[:half]:
            groups.add_face(
                GROUP,
                persons[name],
                photos[item.file].data,
                detection_model="detection_03",
                consent=grant,
            )
            enrolled.setdefault(name, []).append(item.file)
        probes.extend(items[half:])
    train(world)
    return Identification(
        persons=persons,
        enrolled=enrolled,
        probes=probes,
        skipped_single_photo=skipped,
        skipped_without_face=list(labels.single_without_face),
    )


def train(world: World) -> None:
    result = world.client.large_person_groups.train(GROUP).wait()
    if result.status != "succeeded":
        raise SystemExit(f"training ended {result.status}")


def identify_one(world: World, face_id: str) -> str | None:
    (result,) = world.client.recognition.identify_from_large_person_group(
        [face_id], large_person_group_id=GROUP, consent=world.token
    )
    return str(result.candidates[0].person_id) if result.candidates else None


def identify_raw(world: World, face_id: str) -> str | None:
    """Identify as raw HTTP to the emulator: its own ranking, before the guard drops the
    candidates without recorded consent (every synthetic person)."""
    response = world.raw.post("/identify", json={"faceIds": [face_id], "largePersonGroupId": GROUP})
    response.raise_for_status()
    candidates = response.json()[0]["candidates"]
    return str(candidates[0]["personId"]) if candidates else None


def top1(world: World, ident: Identification, *, raw: bool = False) -> dict[str, Any]:
    """Top-1 over the probes, through the client (``raw=False``) or as raw HTTP."""
    right = 0
    misses = []
    for probe in ident.probes:
        found = (identify_raw if raw else identify_one)(world, probe.face_id)
        if found == ident.persons[probe.identity]:
            right += 1
        else:
            owner = {pid: name for name, pid in ident.persons.items()}.get(found or "", found)
            if owner == found and found is not None:
                owner = f"synthetic person {found}"
            misses.append({"probe": probe.file, "identity": probe.identity, "top1": owner})
    total = len(ident.probes)
    return {
        "right": right,
        "probes": total,
        "rate": right / total if total else None,
        "misses": misses,
    }


# -- verification --------------------------------------------------------------------------------


def verify_all(world: World, faces: Sequence[Labelled]) -> dict[str, Any]:
    """Every pair, face to face. Pairs whose faces are both the largest of their image go
    through the client; a pair with another face of a group photo goes as raw HTTP to the same
    emulator (the guard binds only an image's largest face to the consent subject, so it
    refuses the others: see ``Guard._record_face_ids``)."""
    counts = {"same": 0, "same_right": 0, "different": 0, "different_right": 0}
    through = {"client": 0, "raw": 0}
    wrong = []
    for a, b in itertools.combinations(faces, 2):
        if a.largest and b.largest:
            answer = world.client.recognition.verify_face_to_face(
                a.face_id, b.face_id, consent=world.token
            )
            identical, confidence = bool(answer.is_identical), float(answer.confidence)
            through["client"] += 1
        else:
            response = world.raw.post("/verify", json={"faceId1": a.face_id, "faceId2": b.face_id})
            response.raise_for_status()
            body = response.json()
            identical, confidence = bool(body["isIdentical"]), float(body["confidence"])
            through["raw"] += 1
        same = a.identity == b.identity
        key = "same" if same else "different"
        counts[key] += 1
        if identical == same:
            counts[key + "_right"] += 1
        else:
            wrong.append({"a": a.file, "b": b.file, "same": same, "confidence": confidence})
    total = counts["same"] + counts["different"]
    right = counts["same_right"] + counts["different_right"]
    return {
        **counts,
        "pairs": total,
        "right": right,
        "rate": right / total if total else None,
        "through": through,
        "wrong": wrong,
    }


# -- detect timing ---------------------------------------------------------------------------------


def is_vga_class(width: int, height: int) -> bool:
    return abs(width * height / VGA_PIXELS - 1.0) <= VGA_TOLERANCE


def resized_to_vga(photo: Photo) -> tuple[bytes, int, int]:
    """The photo scaled (INTER_AREA, aspect kept) to about 640 x 480 pixels, JPEG q90."""
    pixels = cv2.imdecode(np.frombuffer(photo.data, np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise SystemExit(f"{photo.file}: not an image OpenCV can read")
    scale = math.sqrt(VGA_PIXELS / (photo.width * photo.height))
    size = (max(1, round(photo.width * scale)), max(1, round(photo.height * scale)))
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise SystemExit(f"{photo.file}: cannot re-encode")
    return encoded.tobytes(), size[0], size[1]


def time_detect(world: World, images: Sequence[tuple[str, bytes]], repeats: int) -> dict[str, Any]:
    """Median wall ms per detect call: client (returnFaceId, guard) and engine alone,
    interleaved per image, after one warm-up call of each."""
    client_ms: list[float] = []
    engine_ms: list[float] = []
    per_image = []

    def client_call(data: bytes) -> None:
        world.client.detection.detect(
            data, return_face_id=True, face_id_time_to_live=FACE_ID_TTL, consent=world.token
        )

    for name, data in images:
        client_call(data)
        world.engine.detect(data)
        mine_client, mine_engine = [], []
        for _ in range(repeats):
            mine_client.append(_ms(functools.partial(client_call, data)))
            mine_engine.append(_ms(functools.partial(world.engine.detect, data)))
        client_ms += mine_client
        engine_ms += mine_engine
        per_image.append(
            {
                "image": name,
                "client_median_ms": statistics.median(mine_client),
                "engine_median_ms": statistics.median(mine_engine),
            }
        )
    return {
        "images": len(images),
        "calls": len(client_ms),
        "client_median_ms": statistics.median(client_ms) if client_ms else None,
        "client_p90_ms": _p90(client_ms),
        "engine_median_ms": statistics.median(engine_ms) if engine_ms else None,
        "engine_p90_ms": _p90(engine_ms),
        "per_image": per_image,
    }


def _ms(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000.0


def _p90(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


# -- the large synthetic group ---------------------------------------------------------------------


def add_synthetic_persons(world: World, count: int, seed: int) -> float:
    """``count`` SYNTHETIC persons, written straight into the emulator's state (no HTTP, no
    engine): one persisted face each whose embedding is a random unit 128-d float32 vector
    (standard normal, L2-normalised). They are not anyone's face; the real people stay
    enrolled beside them. Returns the seconds it took."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    store = world.emulator.store
    now = store.now()
    with store.locked() as state:
        container = state.containers[KIND][GROUP]
        done = 0
        while done < count:
            chunk = min(10_000, count - done)
            vectors = rng.standard_normal((chunk, EMBEDDING_DIM))
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            blob = vectors.astype("<f4")
            for row in range(chunk):
                person_id = store.new_id()
                face_id = store.new_id()
                person = Person(
                    person_id=person_id,
                    name=f"synthetic-{done + row:06d}",
                    user_data="synthetic: random unit vector, not a face",
                    created_at=now,
                )
                person.faces[face_id] = PersistedFace(
                    persisted_face_id=face_id,
                    embedding=blob[row].tobytes(),
                    detection_model="detection_03",
                    user_data=None,
                    created_at=now,
                )
                container.persons[person_id] = person
            done += chunk
        container.version += 1  # the group changed: training must see it
    return time.perf_counter() - started


def time_identify(world: World, probes: Sequence[Labelled], repeats: int) -> dict[str, Any]:
    """Median wall ms of one identify call (1 faceId): through the client, and as raw HTTP to
    the emulator (no client, no guard), interleaved, after one warm-up call each."""
    client_ms: list[float] = []
    raw_ms: list[float] = []

    if not probes:
        return {"calls": 0, "client_median_ms": None, "raw_median_ms": None}
    identify_one(world, probes[0].face_id)
    identify_raw(world, probes[0].face_id)
    for _ in range(repeats):
        for probe in probes:
            client_ms.append(_ms(functools.partial(identify_one, world, probe.face_id)))
            raw_ms.append(_ms(functools.partial(identify_raw, world, probe.face_id)))
    return {
        "calls": len(client_ms),
        "client_median_ms": statistics.median(client_ms),
        "client_p90_ms": _p90(client_ms),
        "raw_median_ms": statistics.median(raw_ms),
        "raw_p90_ms": _p90(raw_ms),
    }


# -- the run ---------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    versions: dict[str, str | None] = {}
    for package in ("faceguard", "opencv-python-headless", "numpy", "httpx", "pydantic"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "opencv_threads": cv2.getNumThreads(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": load,
        "packages": versions,
    }


def verdict(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    op, bound = TARGETS[name]
    met = value >= bound if op == ">=" else value <= bound
    return "met" if met else "missed"


def run(args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(args.faces).resolve()
    photos = load_photos(directory)
    by_file = {photo.file: photo for photo in photos}
    world = make_world()
    world.engine.detect(photos[0].data)  # warm up the models

    # Face counts, faceIds and the labelled faces.
    detected = detect_all(world, photos)
    count_right = sum(item.count_right for item in detected)
    count_wrong = [
        {"image": d.photo.file, "found": len(d.face_ids), "expected": d.photo.faces}
        for d in detected
        if not d.count_right
    ]
    labels = label(detected)

    # Identification on the real people only.
    ident = enrol(world, labels, by_file)
    real_top1 = top1(world, ident)

    # Verification over all pairs of labelled faces.
    verification = verify_all(world, labels.single + labels.group)

    # Detect timing on 640x480-class photos.
    native = [(p.file, p.data) for p in photos if is_vga_class(p.width, p.height)]
    resized = []
    resized_sizes = []
    for photo in photos:
        if photo.width * photo.height > VGA_PIXELS * (1 + VGA_TOLERANCE):
            data, width, height = resized_to_vga(photo)
            resized.append((f"{photo.file} -> {width}x{height}", data))
            resized_sizes.append((width, height))
    detect_native = time_detect(world, native, args.detect_repeats) if native else None
    detect_resized = time_detect(world, resized, args.detect_repeats) if resized else None
    primary = detect_native if native else detect_resized
    primary_name = "native" if native else "resized"

    # Identify timing: the real group, then with the synthetic persons.
    identify_real = time_identify(world, ident.probes, args.identify_repeats)
    insert_s = add_synthetic_persons(world, args.persons, args.seed)
    started = time.perf_counter()
    train(world)
    train_s = time.perf_counter() - started
    # The first identify after a training builds the snapshot's embedding matrix: timed apart.
    first_ms = _ms(lambda: identify_one(world, ident.probes[0].face_id)) if ident.probes else None
    large_top1 = top1(world, ident, raw=True)  # the guard would hide synthetic persons
    identify_large = time_identify(world, ident.probes, args.identify_repeats)
    persons_in_group = len(world.emulator.store.state.containers[KIND][GROUP].persons)

    figures = {
        "face_count_accuracy": count_right / len(detected) if detected else None,
        "identification_top1": real_top1["rate"],
        "verification_accuracy": verification["rate"],
        "detect_median_ms": None if primary is None else primary["client_median_ms"],
        "identify_median_ms": identify_large["client_median_ms"],
    }
    return {
        "faces_dir": str(directory),
        "machine": machine(),
        "path": (
            "real OpenCVEngine in the real Emulator, called by the real FaceClient over "
            "Emulator.transport() with a guard (GuardPolicy, ConsentVerifier, MemoryStore); "
            "verify pairs with a non-largest face of a group photo go as raw HTTP to the same "
            "emulator; engine-only detect times call OpenCVEngine.detect directly"
        ),
        "figures": figures,
        "targets": {
            name: {
                "target": f"{op} {bound:g}",
                "value": figures[name],
                "verdict": verdict(name, figures[name]),
            }
            for name, (op, bound) in TARGETS.items()
        },
        "face_count": {"images": len(detected), "right": count_right, "wrong": count_wrong},
        "identification": {
            "identities_enrolled": len(ident.persons),
            "photos_enrolled": sum(len(v) for v in ident.enrolled.values()),
            "probes": len(ident.probes),
            "identities_skipped_one_photo": ident.skipped_single_photo,
            "photos_without_face": ident.skipped_without_face,
            "copies_left_out": labels.copies_left_out,
            "real_group": real_top1,
            "with_synthetic_persons": large_top1,
        },
        "verification": {
            **verification,
            "faces": len(labels.single) + len(labels.group),
            "group_photo_faces": len(labels.group),
            "group_photos_left_out": labels.group_photos_left_out,
        },
        "detect": {
            "measured_on": primary_name,
            "repeats_per_image": args.detect_repeats,
            "native_640x480_class": detect_native,
            "resized_to_640x480": detect_resized,
            "resized_sizes": resized_sizes,
        },
        "identify": {
            "synthetic_persons": args.persons,
            "persons_in_group": persons_in_group,
            "seed": args.seed,
            "insert_seconds": insert_s,
            "train_seconds": train_s,
            "first_call_after_training_ms": first_ms,
            "repeats": args.identify_repeats,
            "real_group_only": identify_real,
            "with_synthetic_persons": identify_large,
        },
    }


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def report(result: dict[str, Any], out: io.TextIOBase | Any) -> None:
    m = result["machine"]
    fc, ident, ver = result["face_count"], result["identification"], result["verification"]
    det, idt = result["detect"], result["identify"]
    w = out.write
    w(f"photos: {result['faces_dir']}\n")
    w(
        f"machine: {m['cpus']} CPUs ({m['cpu_model']}), OpenCV threads {m['opencv_threads']}, "
        f"Python {m['python']}, load {m['load_average']}\n"
    )
    w(f"path: {result['path']}\n\n")
    w(f"face count: {fc['right']}/{fc['images']} images right\n")
    for item in fc["wrong"]:
        w(f"  wrong: {item['image']}: found {item['found']}, expected {item['expected']}\n")
    real = ident["real_group"]
    w(
        f"identification top-1: {real['right']}/{real['probes']} probes "
        f"({ident['identities_enrolled']} identities, {ident['photos_enrolled']} photos "
        f"enrolled; skipped: {len(ident['identities_skipped_one_photo'])} identities with one "
        f"photo {ident['identities_skipped_one_photo']}, {ident['copies_left_out']} copies "
        f"(same_photo_as), {len(ident['photos_without_face'])} photos without a face)\n"
    )
    for miss in real["misses"]:
        w(f"  miss: {miss['probe']} ({miss['identity']}): top-1 {miss['top1']}\n")
    large = ident["with_synthetic_persons"]
    w(
        f"  with {idt['synthetic_persons']:,} synthetic persons in the group: "
        f"{large['right']}/{large['probes']}\n"
    )
    w(
        f"verification: {ver['right']}/{ver['pairs']} pairs right "
        f"(same {ver['same_right']}/{ver['same']}, different "
        f"{ver['different_right']}/{ver['different']}; {ver['faces']} faces, "
        f"{ver['group_photo_faces']} from group photos; {ver['through']['client']} pairs via "
        f"the client, {ver['through']['raw']} raw)\n"
    )
    for item in ver["wrong"]:
        w(f"  wrong: {item['a']} / {item['b']} same={item['same']} conf={item['confidence']}\n")
    for key, title in (
        ("native_640x480_class", "native 640x480-class photos"),
        ("resized_to_640x480", "photos resized in memory to ~640x480"),
    ):
        part = det[key]
        if part is None:
            w(f"detect, {title}: none in this set\n")
            continue
        w(
            f"detect, {title} ({part['images']} images x {det['repeats_per_image']}): client "
            f"median {_fmt(part['client_median_ms'], '.1f')} ms "
            f"(p90 {_fmt(part['client_p90_ms'], '.1f')}), engine alone median "
            f"{_fmt(part['engine_median_ms'], '.1f')} ms "
            f"(p90 {_fmt(part['engine_p90_ms'], '.1f')})\n"
        )
    w(f"  the detect target is judged on: {det['measured_on']}\n")
    for key, title in (
        (
            "real_group_only",
            f"real group ({len(ident['real_group']['misses']) + real['right']} probes)",
        ),
        ("with_synthetic_persons", f"{idt['persons_in_group']:,} persons"),
    ):
        part = idt[key]
        w(
            f"identify, {title}, {part['calls']} calls: client median "
            f"{_fmt(part['client_median_ms'], '.2f')} ms "
            f"(p90 {_fmt(part.get('client_p90_ms'), '.2f')}), raw HTTP median "
            f"{_fmt(part['raw_median_ms'], '.2f')} ms\n"
        )
    w(
        f"  synthetic persons inserted in {idt['insert_seconds']:.1f} s, trained in "
        f"{idt['train_seconds']:.1f} s (wall); the first identify after training (it builds "
        f"the embedding matrix) took {_fmt(idt['first_call_after_training_ms'], '.0f')} ms\n\n"
    )
    w("targets:\n")
    for name, item in result["targets"].items():
        value = item["value"]
        shown = (
            "n/a"
            if value is None
            else (f"{value:.2%}" if "accuracy" in name or "top1" in name else f"{value:.2f} ms")
        )
        w(f"  {name:<24} {shown:>10}  target {item['target']:<8} {item['verdict']}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--faces",
        default=str(DEFAULT_FACES),
        help="photo directory with manifest.json (default: tests/data/faces)",
    )
    parser.add_argument("--persons", type=int, default=100_000, help="synthetic persons")
    parser.add_argument(
        "--seed", type=int, default=20_240_601, help="seed of the synthetic vectors"
    )
    parser.add_argument("--detect-repeats", type=int, default=10, help="timed detects per image")
    parser.add_argument(
        "--identify-repeats", type=int, default=10, help="timed identify rounds over the probes"
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="PATH",
        help="also write every figure as JSON; no PATH or '-' means stdout (the text then goes "
        "to stderr)",
    )
    args = parser.parse_args(argv)
    if args.persons < 0 or args.detect_repeats < 1 or args.identify_repeats < 1:
        parser.error("--persons must be >= 0 and the repeats >= 1")
    result = run(args)
    text_out = sys.stderr if args.json == "-" else sys.stdout
    report(result, text_out)
    if args.json == "-":
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
