"""``faceguard demo``: the whole guarded flow on the embedded emulator, with real photos.

No cloud account: the Face API is the in-process emulator with its local face engine (OpenCV
YuNet + SFace), and every number printed is measured from the photos. The photos are not
shipped in the wheel (their licences cover test and example use): the demo reads a folder with
a ``manifest.json`` (``examples/data/faces`` or ``tests/data/faces`` in a checkout of
faceguard, or ``--images DIR``). It prints each step and writes a self-contained HTML report
(``_report``) whose path it prints last.
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .._exceptions import ConfigurationError, InvalidInputError
from ._console import Console
from ._demo_photos import DEFAULT_IMAGE_DIRS, find_images, read_people
from ._report import AuditSummary, DemoRecord, Enrolled, Pair, Probe, RefusalShown, render_report

if TYPE_CHECKING:
    from faceguard import FaceClient

    from . import Emulator

__all__ = ["DEFAULT_IMAGE_DIRS", "run_demo"]

_GROUP = "demo-staff"
_AUDIENCE = "faceguard:demo"
_ENDPOINT = "https://emulator.invalid"
_DETECTION_MODEL = "detection_03"
_RECOGNITION_MODEL = "recognition_04"
_POLL = 0.2
"""Seconds between training polls: the emulator trains a small group in well under a second,
and the service's own 1 s default would make the demo wait for nothing."""


class _GuardClock:
    """The guard's wall clock, which the demo can move forward to show faceId expiry."""

    def __init__(self) -> None:
        self.skew = 0.0

    def __call__(self) -> float:
        return time.time() + self.skew


def _train(client: FaceClient, console: Console) -> str:
    """Train the group: a live bar on a terminal (tqdm, when installed), and one line after.

    The bar is drawn only when the output is a terminal and is erased when done, so a log or
    a pipe gets the outcome once, not every redraw of the bar."""
    poller = client.large_person_groups.train(_GROUP)
    started = time.perf_counter()
    if console.interactive:
        try:
            from faceguard.notebook import progress

            result: Any = progress(
                poller,
                desc="   training",
                timeout=120,
                interval=_POLL,
                file=console.out,
                leave=False,
            )
        except (ImportError, ConfigurationError):  # tqdm is in the notebook extra only
            result = poller.wait(timeout=120, interval=_POLL)
    else:
        result = poller.wait(timeout=120, interval=_POLL)
    status = str(getattr(result.status, "value", result.status))
    return f"{status} in {time.perf_counter() - started:.1f} s"


def _engine_facts(emulator: Emulator, photo: Path) -> tuple[str, frozenset[str] | None]:
    """(what the face engine is, which landmark names it measured on ``photo``).

    Which landmarks are measured is read from the engine, not assumed: its own flag when it
    has one, else the 27 points that coincide with the 5 it reports as measured."""
    import inspect

    engine = emulator.engine
    module = inspect.getmodule(type(engine))
    summary = (module.__doc__ or "").strip().splitlines()[0] if module else ""
    summary = summary.rsplit(": ", 1)[-1]  # "The emulator's local face engine: OpenCV ..."
    models = [getattr(module, name, None) for name in ("_YUNET_FILE", "_SFACE_FILE")]
    files = ", ".join(model for model in models if isinstance(model, str))
    try:
        import cv2

        library = f"OpenCV {cv2.__version__}"
    except ImportError:
        library = ""
    facts = "; ".join(part for part in (summary.rstrip("."), files, library) if part)
    description = f"{type(engine).__name__} ({facts})" if facts else type(engine).__name__
    faces = engine.detect(photo.read_bytes())
    if not faces:
        return description, None
    face = faces[0]
    estimated = getattr(face, "estimated_landmarks", None)
    if isinstance(estimated, frozenset | set | tuple | list):
        return description, frozenset(face.landmarks27) - frozenset(map(str, estimated))
    measured = frozenset(
        name
        for name, (x, y) in face.landmarks27.items()
        if any(abs(x - mx) < 1e-6 and abs(y - my) < 1e-6 for mx, my in face.landmarks5)
    )
    return description, measured


def _audit_summary(path: Path, records: int, intact: bool) -> AuditSummary:
    """Counts of what the audit log recorded, read from its JSON Lines."""
    names = {
        ("decision", "allowed"): "guard decisions: allowed",
        ("decision", "refused"): "guard decisions: refused",
        ("api_call", "allowed"): "calls sent",
        ("deletion", "allowed"): "deletions",
        ("consent_withdrawn", "allowed"): "consent withdrawals",
    }
    events: dict[str, int] = defaultdict(int)
    head = None
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            key = (str(entry.get("event")), str(entry.get("decision")))
            events[names.get(key, " ".join(key))] += 1
            head = entry.get("hash")
    if isinstance(head, str) and len(head) > 23:
        head = head[:23] + "\u2026"
    return AuditSummary(records, intact, path, dict(events), head)


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

    console = Console(out)
    started = time.perf_counter()
    if html is not None:
        _check_report_path(html)
    folder = find_images(images)
    people = read_people(folder)
    emulator = Emulator()
    emulator.engine  # noqa: B018 - built now: EngineUnavailable (an ImportError) says what to install
    console.say(
        f"faceguard {faceguard.__version__} demo on the embedded emulator: {len(people)} people"
    )
    licence = " (see its LICENSE.md)" if (folder / "LICENSE.md").is_file() else ""
    console.say(f"photos from {folder}{licence}; every figure is measured from them")

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

    record = DemoRecord(
        version=faceguard.__version__,
        photo_folder=folder,
        people=len(people),
        engine="",
        models=f"{_DETECTION_MODEL} (detection), {_RECOGNITION_MODEL} (recognition)",
        use_case=use_case.value,
        platform=f"Python {platform.python_version()} on {platform.system()}",
    )

    @contextmanager
    def step(title: str) -> Iterator[None]:
        console.step(title)
        begun = time.perf_counter()
        yield
        record.timings.append((title, time.perf_counter() - begun))

    def refused(label: str, call: Callable[[], object]) -> None:
        try:
            call()
        except faceguard.GuardError as refusal:
            rule = getattr(refusal, "check", None) or getattr(refusal, "reason", None)
            detail = f" ({rule})" if isinstance(rule, str) else ""
            console.say(f"   refused {label}: {type(refusal).__name__}{detail}")
            console.say(f"      {refusal}", hang=0)
            record.refusals.append(RefusalShown(label, _render_refusal(refusal)))
        else:
            console.say(f"   NOT refused: {label}")

    client = FaceClient(_ENDPOINT, api_key="demo", transport=emulator.transport(), guard=policy)
    try:
        names = list(people)
        photo = people[names[0]][0]
        enrolled = {name: Enrolled(name, people[name][0]) for name in names}
        held_out = {name: Enrolled(name, people[name][1]) for name in names}
        record.photos_used = {p.photo for p in (*enrolled.values(), *held_out.values())}
        with step("1. Detect a face (no faceId, so no consent needed)"):
            faces = client.detection.detect(
                photo,
                detection_model=_DETECTION_MODEL,
                recognition_model=_RECOGNITION_MODEL,
                return_face_id=False,
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
                quality = attributes.quality_for_recognition if attributes else None
                console.say(
                    f"   {photo.name}: face at ({box.left},{box.top}) {box.width}x{box.height}; "
                    + (f"yaw {pose.yaw:.0f}°, " if pose else "")
                    + f"quality for recognition {getattr(quality, 'value', quality)}"
                )
            record.engine, record.measured_landmarks = _engine_facts(emulator, photo)
            record.detection_photo = photo

        with step("2. Enroll each person under their own consent token"):
            client.large_person_groups.create(
                _GROUP, name="Demo staff", recognition_model=_RECOGNITION_MODEL
            )
            person_of: dict[str, str] = {}
            subject_of: dict[str, str] = {}
            for name in names:
                person = client.large_person_groups.create_person(_GROUP, name=name)
                person_of[name], subject_of[name] = person.person_id, f"p-{uuid.uuid4().hex[:12]}"
                consent = token(subject_of[name], ["enroll"], person.person_id)
                try:
                    client.large_person_groups.add_face(
                        _GROUP, person.person_id, enrolled[name].photo, consent=consent
                    )
                except faceguard.BadRequestError as photo_refused:  # no face, or several
                    console.say(f"   {name}: not enrolled: {photo_refused.message}")
                    record.not_enrolled.append((enrolled[name], photo_refused.message))
                    continue
                console.say(f"   {name}: enrolled {enrolled[name].photo.name}")
                record.gallery.append(enrolled[name])
            names = _at_least_two([person.name for person in record.gallery], "enrolled")
            record.training = _train(client, console)
            console.say(f"   training: {record.training}")

        with step("3. Identify held-out photos (a kiosk session's consent token)"):
            kiosk = token("p-kiosk-session", ["detect_template", "identify", "verify", "group"])
            name_of = {pid: name for name, pid in person_of.items()}
            probes: dict[str, str] = {}
            correct = 0
            for name in names:
                probe = held_out[name].photo
                found = client.detection.detect(probe, return_face_id=True, consent=kiosk)
                if len(found) != 1:
                    why = f"{len(found)} faces found, so not identified"
                    console.say(f"   {probe.name} of {name}: {why}")
                    record.probes.append(Probe(name, probe, None, None, why))
                    continue
                probes[name] = found[0].face_id or ""
                results = client.recognition.identify_from_large_person_group(
                    [probes[name]], large_person_group_id=_GROUP, consent=kiosk
                )
                best = results[0].candidates[0] if results[0].candidates else None
                guess = name_of.get(best.person_id) if best else None
                correct += guess == name
                said = f"{guess} (confidence {best.confidence:.2f})" if best else "nobody"
                console.say(f"   {probe.name} of {name}: identified as {said}")
                record.probes.append(Probe(name, probe, guess, best.confidence if best else None))
            console.say(f"   {correct}/{len(names)} identified correctly")
            names = _at_least_two(list(probes), "identified from one face")

        with step("4. Verify pairs and group the faces"):
            first, second = names[0], names[1]
            same = client.detection.detect(
                enrolled[first].photo, return_face_id=True, consent=kiosk
            )
            pair = client.recognition.verify_face_to_face(
                same[0].face_id or "", probes[first], consent=kiosk
            )
            console.say(
                f"   two photos of {first}: same person {pair.is_identical} ({pair.confidence:.2f})"
            )
            record.pairs.append(
                Pair(enrolled[first], held_out[first], pair.is_identical, pair.confidence)
            )
            other = client.recognition.verify_face_to_face(
                probes[first], probes[second], consent=kiosk
            )
            console.say(
                f"   {first} vs {second}: same person {other.is_identical} ({other.confidence:.2f})"
            )
            record.pairs.append(
                Pair(held_out[first], held_out[second], other.is_identical, other.confidence)
            )
            shown = {same[0].face_id or "": enrolled[first]}
            shown.update({probes[name]: held_out[name] for name in names})
            grouping = client.recognition.group(list(shown), consent=kiosk)
            record.groups = [[shown[face] for face in group] for group in grouping.groups]
            record.ungrouped = [shown[face] for face in grouping.messy_group]
            console.say(
                f"   group of {len(shown)} faces: {len(grouping.groups)} group(s) of the same "
                f"person, {len(grouping.messy_group)} face(s) like no other"
            )

        with step("5. The guard refuses, before anything is sent"):
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
            withdrew = f"{leaver} withdrew consent: {len(plan.deletions)} deletion(s) sent at once"
            console.say(f"   {withdrew}")
            refused(
                f"{leaver}'s own token after withdrawal",
                lambda: client.large_person_groups.add_face(
                    _GROUP,
                    person_of[leaver],
                    enrolled[leaver].photo,
                    consent=token(subject_of[leaver], ["enroll"], person_of[leaver]),
                ),
            )
            results = client.recognition.identify_from_large_person_group(
                [probes[leaver]], large_person_group_id=_GROUP, consent=kiosk
            )
            after = f"{leaver}'s held-out photo now: {len(results[0].candidates)} candidate(s)"
            console.say(f"   {after}")
            record.withdrawal = [withdrew, after]
    finally:
        client.close()
        audit.close()

    with step("6. The audit trail"):
        chain = verify_chain(workdir / "audit.jsonl")
        console.say(f"   {chain.records} records, hash chain {'intact' if chain.ok else 'BROKEN'}")
        console.say("   check it yourself:")
        console.verbatim(f"   faceguard audit verify {workdir / 'audit.jsonl'}")
        record.audit = _audit_summary(workdir / "audit.jsonl", chain.records, chain.ok)
    record.total_seconds = time.perf_counter() - started
    page = html or workdir / "report.html"
    console.say("")
    problem = _write_report(page, record, faces)
    if problem is None:
        console.say("HTML report (open it in a browser):")
        console.verbatim(f"   {page}")
    else:
        console.say(f"no HTML report: {problem}")
    console.say(f"done in {time.perf_counter() - started:.1f} s")
    if problem is not None:
        return 2
    return 0 if chain.ok else 1


def _at_least_two(names: list[str], what: str) -> list[str]:
    """``names``, when the rest of the demo has the two people it compares."""
    if len(names) < 2:
        raise InvalidInputError(
            "images",
            "people",
            f"the demo needs two people {what}, and only {len(names)} could be: use photos "
            "that show one clear face each",
        )
    return names


def _check_report_path(page: Path) -> None:
    """Refuse a report path that cannot be written before the demo runs, not after.

    Raises:
        OSError: ``page`` is a folder, or its folder does not exist (the message says which).
    """
    if page.is_dir():
        raise IsADirectoryError(f"cannot write the report to {page}: it is a folder")
    if not page.parent.is_dir():
        raise FileNotFoundError(
            f"cannot write the report to {page}: {page.parent} is not an existing folder"
        )


def _render_refusal(refusal: Exception) -> str:
    from faceguard.notebook import render_refusal

    return render_refusal(refusal)  # type: ignore[arg-type]


def _write_report(page: Path, record: DemoRecord, faces: object) -> str | None:
    """Write the report to ``page``; None, or why it could not be written."""
    try:
        from faceguard.notebook import render_detection

        record.detection_html = render_detection(
            faces,  # type: ignore[arg-type]
            record.detection_photo,
            max_side=720,
            measured=record.measured_landmarks,
            image_format="JPEG",
        )
        text = render_report(record)
    except (ImportError, ConfigurationError) as missing:  # Pillow, in the emulator extra
        return str(missing)
    try:
        page.write_text(text, encoding="utf-8")
    except OSError as exc:
        return f"cannot write {page}: {exc.strerror or exc}"
    return None
