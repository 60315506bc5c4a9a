"""``faceguard demo``: the whole guarded flow on the embedded emulator, with real photos.

No cloud account: the Face API is the in-process emulator with its local face engine (OpenCV
YuNet + SFace), and every number printed is measured from the photos. The photos are not
shipped in the wheel (their licences cover test and example use): the demo reads a folder with
a ``manifest.json`` (``examples/data/faces`` or ``tests/data/faces`` in a checkout of
faceguard, or ``--images DIR``). It prints a report and writes an HTML one with the boxes drawn.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .._exceptions import ConfigurationError

if TYPE_CHECKING:
    from faceguard import FaceClient

__all__ = ["DEFAULT_IMAGE_DIRS", "run_demo"]

DEFAULT_IMAGE_DIRS = (Path("examples/data/faces"), Path("tests/data/faces"))
_GROUP = "demo-staff"
_AUDIENCE = "faceguard:demo"
_ENDPOINT = "https://emulator.invalid"


def _find_images(images: Path | None) -> Path:
    candidates = [images] if images is not None else list(DEFAULT_IMAGE_DIRS)
    for folder in candidates:
        if folder is not None and (folder / "manifest.json").is_file():
            return folder
    wanted = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"no photo folder with a manifest.json found ({wanted}); run the demo from a checkout "
        "of faceguard or pass --images DIR"
    )


def _people(folder: Path) -> dict[str, list[Path]]:
    """Photos of one face each, by identity, in manifest order (two or more per person)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    people: dict[str, list[Path]] = defaultdict(list)
    for entry in manifest["images"]:
        if entry.get("faces") == 1 and entry.get("identity") and "sizes/" not in entry["file"]:
            people[entry["identity"]].append(folder / entry["file"])
    return {name: photos for name, photos in people.items() if len(photos) >= 2}


class _GuardClock:
    """The guard's wall clock, which the demo can move forward to show faceId expiry."""

    def __init__(self) -> None:
        self.skew = 0.0

    def __call__(self) -> float:
        return time.time() + self.skew


def _train(client: FaceClient, say: Callable[[str], None]) -> str:
    """Train the group, with a progress bar when tqdm is installed, else printed statuses."""
    poller = client.large_person_groups.train(_GROUP)
    try:
        from faceguard.notebook import progress

        return str(progress(poller, desc="   training", timeout=120).status)
    except (ImportError, ConfigurationError):  # tqdm is in the notebook extra, not emulator
        result = poller.wait(timeout=120, progress=lambda s: say(f"   training: {s.status}"))
        return str(result.status)


def run_demo(images: Path | None = None, *, html: Path | None = None, out: TextIO) -> int:
    """Run the demo, printing each step to ``out``; returns the process exit status."""
    import faceguard
    from faceguard import (
        AuditLog,
        ConsentIssuer,
        ConsentVerifier,
        FaceAttributeType,
        FaceClient,
        GuardPolicy,
        MemoryStore,
        UseCase,
        verify_chain,
    )

    from . import Emulator

    def say(text: str = "") -> None:
        out.write(text + "\n")
        out.flush()

    def step(title: str) -> None:
        say(f"\n== {title}")

    started = time.perf_counter()
    folder = _find_images(images)
    people = _people(folder)
    say(f"faceguard {faceguard.__version__} demo on the embedded emulator: {len(people)} people")
    say(f"photos from {folder} (see its LICENSE.md); every figure is measured from them")

    workdir = Path(tempfile.mkdtemp(prefix="faceguard-demo-"))
    use_case = UseCase.DUPLICATE_OR_BLOCKED_USERS  # permits identify, verify and group
    issuer, public_key = ConsentIssuer.generate()  # the app's consent service, in miniature
    store, clock = MemoryStore(), _GuardClock()
    audit = AuditLog(workdir / "audit.jsonl")
    policy = GuardPolicy(
        use_case=use_case,
        verifier=ConsentVerifier(
            {issuer.kid: public_key}, issuer=issuer.issuer, audience=_AUDIENCE, replay_store=store
        ),
        store=store,
        audit=audit,
        clock=clock,
    )

    def token(subject: str, operations: list[str], person: str | None = None) -> str:
        return issuer.issue(
            subject,
            audience=[_AUDIENCE, _ENDPOINT],  # this deployment, and this Face resource
            operations=operations,
            use_case=use_case,
            bindings=[("largePersonGroup", _GROUP, person)],
            use="session",
        )

    def refused(label: str, call: Callable[[], object]) -> None:
        try:
            call()
        except faceguard.GuardError as refusal:
            rule = getattr(refusal, "check", None) or getattr(refusal, "reason", None)
            detail = f" ({rule})" if isinstance(rule, str) else ""
            say(f"   refused {label}: {type(refusal).__name__}{detail}: {str(refusal)[:100]}")
            report.append(_html_refusal(refusal))
        else:
            say(f"   NOT refused: {label}")

    report: list[str] = []
    emulator = Emulator()
    client = FaceClient(_ENDPOINT, api_key="demo", transport=emulator.transport(), guard=policy)
    try:
        names = list(people)
        photo = people[names[0]][0]
        step("1. Detect faces (no faceIds, so no consent needed)")
        faces = client.detection.detect(
            photo,
            return_face_landmarks=True,
            return_face_attributes=[
                FaceAttributeType.HEAD_POSE,
                FaceAttributeType.BLUR,
                FaceAttributeType.QUALITY_FOR_RECOGNITION,
            ],
        )
        for face in faces:
            box, attributes = face.face_rectangle, face.face_attributes
            pose = attributes.head_pose if attributes else None
            say(
                f"   {photo.name}: face at ({box.left},{box.top}) {box.width}x{box.height}; "
                + (f"yaw {pose.yaw:.0f}°, " if pose else "")
                + f"quality {attributes.quality_for_recognition if attributes else '?'}"
            )
        report.append(_html_detection(faces, photo))

        step("2. Enroll each person under their own consent token")
        client.large_person_groups.create(_GROUP, name="Demo staff")
        person_of: dict[str, str] = {}
        subject_of: dict[str, str] = {}
        for name in names:
            person = client.large_person_groups.create_person(_GROUP, name=name)
            person_of[name], subject_of[name] = person.person_id, f"p-{uuid.uuid4().hex[:12]}"
            consent = token(subject_of[name], ["enroll"], person.person_id)
            client.large_person_groups.add_face(
                _GROUP, person.person_id, people[name][0], consent=consent
            )
            say(f"   {name}: enrolled {people[name][0].name} (consent subject {subject_of[name]})")
        say(f"   training: {_train(client, say)}")

        step("3. Identify held-out photos (a kiosk session's consent token)")
        kiosk = token("p-kiosk-session", ["detect_template", "identify", "verify", "group"])
        name_of = {pid: name for name, pid in person_of.items()}
        probes: dict[str, str] = {}
        correct = 0
        for name in names:
            held_out = people[name][1]
            (found,) = client.detection.detect(held_out, return_face_id=True, consent=kiosk)
            probes[name] = found.face_id or ""
            results = client.recognition.identify_from_large_person_group(
                [probes[name]], large_person_group_id=_GROUP, consent=kiosk
            )
            best = results[0].candidates[0] if results[0].candidates else None
            guess = name_of.get(best.person_id, "?") if best else "nobody"
            correct += guess == name
            confidence = f" (confidence {best.confidence:.2f})" if best else ""
            say(f"   {held_out.name} of {name}: identified as {guess}{confidence}")
            report.append(_html_identification(results, name_of))
        say(f"   {correct}/{len(names)} identified correctly")

        step("4. Verify pairs and group the faces")
        same = client.detection.detect(people[names[0]][0], return_face_id=True, consent=kiosk)
        pair = client.recognition.verify_face_to_face(
            same[0].face_id or "", probes[names[0]], consent=kiosk
        )
        say(f"   two photos of {names[0]}: same person {pair.is_identical} ({pair.confidence:.2f})")
        other = client.recognition.verify_face_to_face(
            probes[names[0]], probes[names[1]], consent=kiosk
        )
        say(
            f"   {names[0]} vs {names[1]}: same person {other.is_identical} "
            f"({other.confidence:.2f})"
        )
        grouping = client.recognition.group(
            [same[0].face_id or "", *probes.values()], consent=kiosk
        )
        say(
            f"   group of {len(probes) + 1} faces: {len(grouping.groups)} group(s) of the same "
            f"person, {len(grouping.messy_group)} face(s) like no other"
        )

        step("5. The guard refuses, before anything is sent")
        refused(
            "a retired attribute (age)",
            lambda: client.detection.detect(photo, return_face_attributes=["age"]),
        )
        refused(
            "identify without consent",
            lambda: client.recognition.identify_from_large_person_group(
                [probes[names[0]]], large_person_group_id=_GROUP
            ),
        )
        short = client.detection.detect(
            photo, return_face_id=True, face_id_time_to_live=60, consent=kiosk
        )
        clock.skew += 61  # the guard's clock: a minute later
        refused(
            "an expired faceId (60 s TTL, a minute later)",
            lambda: client.recognition.verify_face_to_face(
                short[0].face_id or "", short[0].face_id or "", consent=kiosk
            ),
        )
        clock.skew = 0.0
        leaver = names[0]
        plan = client.erase_subject(subject_of[leaver])
        say(f"   {leaver} withdrew consent: {len(plan.deletions)} deletion(s) sent at once")
        refused(
            f"{leaver}'s own token after withdrawal",
            lambda: client.large_person_groups.add_face(
                _GROUP,
                person_of[leaver],
                people[leaver][0],
                consent=token(subject_of[leaver], ["enroll"], person_of[leaver]),
            ),
        )
        results = client.recognition.identify_from_large_person_group(
            [probes[leaver]], large_person_group_id=_GROUP, consent=kiosk
        )
        say(f"   {leaver}'s held-out photo now: {len(results[0].candidates)} candidate(s)")
    finally:
        client.close()
        audit.close()

    step("6. The audit trail")
    chain = verify_chain(workdir / "audit.jsonl")
    say(f"   {chain.records} records, hash chain {'intact' if chain.ok else 'BROKEN'}")
    say(f"   check it yourself: faceguard audit verify {workdir / 'audit.jsonl'}")
    page = html or workdir / "report.html"
    if _write_html(page, report):
        say(f"\nHTML report (boxes drawn when Pillow is installed): {page}")
    say(f"done in {time.perf_counter() - started:.1f} s")
    return 0 if chain.ok else 1


# -- the HTML report (faceguard.notebook's renderers; skipped without Pillow) -----------------


def _html_detection(faces: object, photo: Path) -> str:
    try:
        from faceguard.notebook import render_detection

        return render_detection(faces, photo.read_bytes())  # type: ignore[arg-type]
    except (ImportError, ConfigurationError):  # Pillow missing: no HTML for this part
        return ""


def _html_identification(results: object, names: dict[str, str]) -> str:
    try:
        from faceguard.notebook import render_identification

        return render_identification(results, names=names)  # type: ignore[arg-type]
    except (ImportError, ConfigurationError):  # Pillow missing: no HTML for this part
        return ""


def _html_refusal(refusal: Exception) -> str:
    try:
        from faceguard.notebook import render_refusal

        return render_refusal(refusal)  # type: ignore[arg-type]
    except (ImportError, ConfigurationError):  # Pillow missing: no HTML for this part
        return ""


def _write_html(path: Path, parts: list[str]) -> bool:
    body = "\n".join(part for part in parts if part)
    if not body:
        return False
    page = f"<!doctype html><meta charset='utf-8'><title>faceguard demo</title>\n{body}\n"
    path.write_text(page, encoding="utf-8")
    return True
