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
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .._exceptions import ConfigurationError
from ._console import Console
from ._demo_photos import DEFAULT_IMAGE_DIRS, find_images, read_people
from ._demo_steps import DETECTION_MODEL, GROUP, RECOGNITION_MODEL, DemoSteps, GuardClock
from ._report import AuditSummary, DemoRecord, Enrolled, render_report

if TYPE_CHECKING:
    from . import Emulator

__all__ = ["DEFAULT_IMAGE_DIRS", "run_demo"]

_AUDIENCE = "faceguard:demo"
_ENDPOINT = "https://emulator.invalid"


def _engine_facts(emulator: Emulator, photos: Sequence[Path]) -> tuple[str, frozenset[str] | None]:
    """(what the face engine is, which landmark names it measured on the first of ``photos``
    that shows a face; None when none does).

    Which landmarks are measured is read from the engine, not assumed: its
    ``estimated_landmarks`` when it names them, else the 27 points that coincide with the 5
    it reports as measured (an engine that does not say)."""
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
    faces = next((found for photo in photos if (found := engine.detect(photo.read_bytes()))), [])
    if not faces:
        return description, None
    face = faces[0]
    if face.estimated_landmarks is not None:  # the engine says which points it estimated
        return description, frozenset(face.landmarks27) - face.estimated_landmarks
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
    """Run the demo, printing each step to ``out``; returns the process exit status.

    Raises:
        FileNotFoundError: no photo folder, or a photo it lists is missing.
        InvalidInputError: the folder's manifest does not fit, or fewer than two people
            could be enrolled and identified.
        OSError: ``html`` cannot be written (checked before anything runs).
        ImportError: the face engine is not installed (``EngineUnavailable``).
    """
    import faceguard
    from faceguard import (
        AuditLog,
        ConsentIssuer,
        ConsentVerifier,
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
    store, clock = MemoryStore(), GuardClock()
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

    def token(subject: str, operations: list[str], person: str | None) -> str:
        return issuer.issue(
            subject,
            audience=[_AUDIENCE, _ENDPOINT],  # this deployment, and this Face resource
            operations=operations,
            use_case=use_case,
            bindings=[("largePersonGroup", GROUP, person)],
            use="session",
        )

    record = DemoRecord(
        version=faceguard.__version__,
        photo_folder=folder,
        people=len(people),
        engine="",
        models=f"{DETECTION_MODEL} (detection), {RECOGNITION_MODEL} (recognition)",
        use_case=use_case.value,
        platform=f"Python {platform.python_version()} on {platform.system()}",
    )
    enrolled = {name: Enrolled(name, photos[0]) for name, photos in people.items()}
    held_out = {name: Enrolled(name, photos[1]) for name, photos in people.items()}
    record.photos_used = {p.photo for p in (*enrolled.values(), *held_out.values())}
    client = FaceClient(_ENDPOINT, api_key="demo", transport=emulator.transport(), guard=policy)
    steps = DemoSteps(client, console, record, token, clock)
    try:
        first_photo = next(iter(enrolled.values())).photo
        with steps.step("1. Detect a face (no faceId, so no consent needed)"):
            faces = steps.detect(first_photo)
            photos = [person.photo for person in enrolled.values()]
            record.engine, record.measured_landmarks = _engine_facts(emulator, photos)
        with steps.step("2. Enroll each person under their own consent token"):
            names = steps.enroll(list(enrolled.values()))
        with steps.step("3. Identify held-out photos (a kiosk session's consent token)"):
            names = steps.identify(names, held_out)
        with steps.step("4. Verify pairs and group the faces"):
            steps.verify_and_group(names, enrolled, held_out)
        with steps.step("5. The guard refuses, before anything is sent"):
            steps.refusals(names, enrolled)
    finally:
        client.close()
        audit.close()

    with steps.step("6. The audit trail"):
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
