"""The five steps of ``faceguard demo`` that talk to the Face API, one method each.

Each step prints what happened to the console and keeps what the report shows in the
``DemoRecord``; ``run_demo`` (``_demo``) builds the guarded client and runs them in order.
A folder of the user's own photos may hold a photo without a face: a person who cannot be
enrolled, or a held-out photo that is not one face, is said and left out, and the demo goes
on while two people remain to compare.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import BadRequestError, ConfigurationError, GuardError, InvalidInputError
from ._console import Console
from ._report import DemoRecord, Enrolled, Pair, Probe, RefusalShown

if TYPE_CHECKING:
    from faceguard import FaceClient
    from faceguard.models.detection import FaceDetectionResult

__all__ = ["DETECTION_MODEL", "GROUP", "RECOGNITION_MODEL", "DemoSteps", "GuardClock"]

GROUP = "demo-staff"
DETECTION_MODEL = "detection_03"
RECOGNITION_MODEL = "recognition_04"
_POLL = 0.2
"""Seconds between training polls: the emulator trains a small group in well under a second,
and the service's own 1 s default would make the demo wait for nothing."""
_KIOSK_OPERATIONS = ["detect_template", "identify", "verify", "group"]

Token = Callable[[str, list[str], "str | None"], str]
"""``token(subject, operations, person)``: a session consent token bound to the demo group."""


class GuardClock:
    """The guard's wall clock, which the demo moves forward to show a faceId expiring."""

    def __init__(self) -> None:
        self.skew = 0.0

    def __call__(self) -> float:
        return time.time() + self.skew


class DemoSteps:
    """The demo's calls through the guarded ``client``, printed and recorded."""

    def __init__(
        self,
        client: FaceClient,
        console: Console,
        record: DemoRecord,
        token: Token,
        clock: GuardClock,
    ) -> None:
        self.client, self.console, self.record = client, console, record
        self.token, self.clock = token, clock
        self.person_of: dict[str, str] = {}
        self.subject_of: dict[str, str] = {}
        self.probes: dict[str, str] = {}
        self.kiosk = ""

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        """A numbered heading, and the step's duration kept for the report."""
        self.console.step(title)
        begun = time.perf_counter()
        yield
        self.record.timings.append((title, time.perf_counter() - begun))

    def detect(self, photo: Path) -> list[FaceDetectionResult]:
        """Detect without a faceId: no template is kept, so no consent is needed."""
        from faceguard import FaceAttributeType

        faces = self.client.detection.detect(
            photo,
            detection_model=DETECTION_MODEL,
            recognition_model=RECOGNITION_MODEL,
            return_face_id=False,
            return_face_landmarks=True,
            return_face_attributes=[
                FaceAttributeType.HEAD_POSE,
                FaceAttributeType.BLUR,
                FaceAttributeType.QUALITY_FOR_RECOGNITION,
            ],
        )
        if not faces:
            self.console.say(f"   {photo.name}: no face found")
        for face in faces:
            box, attributes = face.face_rectangle, face.face_attributes
            pose = attributes.head_pose if attributes else None
            quality = attributes.quality_for_recognition if attributes else None
            self.console.say(
                f"   {photo.name}: face at ({box.left},{box.top}) {box.width}x{box.height}; "
                + (f"yaw {pose.yaw:.0f}°, " if pose else "")
                + f"quality for recognition {getattr(quality, 'value', quality)}"
            )
        self.record.detection_photo = photo
        return list(faces)

    def enroll(self, people: Sequence[Enrolled]) -> list[str]:
        """Each person under their own consent token, then train; the names enrolled."""
        groups = self.client.large_person_groups
        groups.create(GROUP, name="Demo staff", recognition_model=RECOGNITION_MODEL)
        for person in people:
            created = groups.create_person(GROUP, name=person.name)
            subject = f"p-{uuid.uuid4().hex[:12]}"  # a pseudonym: never shown or printed
            self.person_of[person.name], self.subject_of[person.name] = created.person_id, subject
            consent = self.token(subject, ["enroll"], created.person_id)
            try:
                groups.add_face(GROUP, created.person_id, person.photo, consent=consent)
            except BadRequestError as photo_refused:  # no face in the photo, or several
                self.console.say(f"   {person.name}: not enrolled: {photo_refused.message}")
                self.record.not_enrolled.append((person, photo_refused.message))
                continue
            self.console.say(f"   {person.name}: enrolled {person.photo.name}")
            self.record.gallery.append(person)
        names = _at_least_two([person.name for person in self.record.gallery], "enrolled")
        self.record.training = self._train()
        self.console.say(f"   training: {self.record.training}")
        return names

    def _train(self) -> str:
        """Train the group: a live bar on a terminal (tqdm, when installed), one line after.

        The bar is drawn only when the output is a terminal and is erased when done, so a log
        or a pipe gets the outcome once, not every redraw of the bar."""
        poller = self.client.large_person_groups.train(GROUP)
        started = time.perf_counter()
        result: Any = None
        if self.console.interactive:
            try:
                from faceguard.notebook import progress

                result = progress(
                    poller,
                    desc="   training",
                    timeout=120,
                    interval=_POLL,
                    file=self.console.out,
                    leave=False,
                )
            except (ImportError, ConfigurationError):  # tqdm is in the notebook extra only
                result = None
        if result is None:
            result = poller.wait(timeout=120, interval=_POLL)
        status = str(getattr(result.status, "value", result.status))
        return f"{status} in {time.perf_counter() - started:.1f} s"

    def identify(self, names: Sequence[str], held_out: dict[str, Enrolled]) -> list[str]:
        """Identify each held-out photo under a kiosk session's token; the names that had
        one face to identify."""
        self.kiosk = self.token("p-kiosk-session", _KIOSK_OPERATIONS, None)
        name_of = {pid: name for name, pid in self.person_of.items()}
        correct = 0
        for name in names:
            probe = held_out[name].photo
            found = self.client.detection.detect(probe, return_face_id=True, consent=self.kiosk)
            if len(found) != 1:
                why = f"{len(found)} faces found, so not identified"
                self.console.say(f"   {probe.name} of {name}: {why}")
                self.record.probes.append(Probe(name, probe, None, None, why))
                continue
            self.probes[name] = found[0].face_id or ""
            results = self.client.recognition.identify_from_large_person_group(
                [self.probes[name]], large_person_group_id=GROUP, consent=self.kiosk
            )
            best = results[0].candidates[0] if results[0].candidates else None
            guess = name_of.get(best.person_id) if best else None
            correct += guess == name
            said = f"{guess} (confidence {best.confidence:.2f})" if best else "nobody"
            self.console.say(f"   {probe.name} of {name}: identified as {said}")
            confidence = best.confidence if best else None
            self.record.probes.append(Probe(name, probe, guess, confidence))
        self.console.say(f"   {correct}/{len(names)} identified correctly")
        return _at_least_two(list(self.probes), "identified from one face")

    def verify_and_group(
        self, names: Sequence[str], enrolled: dict[str, Enrolled], held_out: dict[str, Enrolled]
    ) -> None:
        """Verify two photos of one person and photos of two; group them all."""
        recognition, kiosk = self.client.recognition, self.kiosk
        first, second = names[0], names[1]
        same = self.client.detection.detect(
            enrolled[first].photo, return_face_id=True, consent=kiosk
        )
        pairs = (
            (enrolled[first], held_out[first], same[0].face_id or "", self.probes[first]),
            (held_out[first], held_out[second], self.probes[first], self.probes[second]),
        )
        for left, right, left_face, right_face in pairs:
            answer = recognition.verify_face_to_face(left_face, right_face, consent=kiosk)
            what = f"two photos of {first}" if left.name == right.name else f"{first} vs {second}"
            self.console.say(
                f"   {what}: same person {answer.is_identical} ({answer.confidence:.2f})"
            )
            self.record.pairs.append(Pair(left, right, answer.is_identical, answer.confidence))
        shown = {same[0].face_id or "": enrolled[first]}
        shown.update({self.probes[name]: held_out[name] for name in names})
        grouping = recognition.group(list(shown), consent=kiosk)
        self.record.groups = [[shown[face] for face in group] for group in grouping.groups]
        self.record.ungrouped = [shown[face] for face in grouping.messy_group]
        self.console.say(
            f"   group of {len(shown)} faces: {len(grouping.groups)} group(s) of the same "
            f"person, {len(grouping.messy_group)} face(s) like no other"
        )

    def refusals(self, names: Sequence[str], enrolled: dict[str, Enrolled]) -> None:
        """What the guard refuses before anything is sent, and a withdrawal of consent."""
        client, kiosk, leaver = self.client, self.kiosk, names[0]
        photo = enrolled[leaver].photo
        self._refused(
            "a retired attribute (age)",
            lambda: client.detection.detect(photo, return_face_attributes=["age"]),
        )
        self._refused(
            "identify without consent",
            lambda: client.recognition.identify_from_large_person_group(
                [self.probes[leaver]], large_person_group_id=GROUP
            ),
        )
        short = client.detection.detect(
            photo, return_face_id=True, face_id_time_to_live=60, consent=kiosk
        )
        face = short[0].face_id or ""
        self.clock.skew += 61  # the guard's clock: a minute later
        self._refused(
            "an expired faceId (60 s TTL, a minute later)",
            lambda: client.recognition.verify_face_to_face(face, face, consent=kiosk),
        )
        self.clock.skew = 0.0
        plan = client.erase_subject(self.subject_of[leaver])
        withdrew = f"{leaver} withdrew consent: {len(plan.deletions)} deletion(s) sent at once"
        self.console.say(f"   {withdrew}")
        person = self.person_of[leaver]
        self._refused(
            f"{leaver}'s own token after withdrawal",
            lambda: client.large_person_groups.add_face(
                GROUP,
                person,
                photo,
                consent=self.token(self.subject_of[leaver], ["enroll"], person),
            ),
        )
        results = client.recognition.identify_from_large_person_group(
            [self.probes[leaver]], large_person_group_id=GROUP, consent=kiosk
        )
        after = f"{leaver}'s held-out photo now: {len(results[0].candidates)} candidate(s)"
        self.console.say(f"   {after}")
        self.record.withdrawal = [withdrew, after]

    def _refused(self, label: str, call: Callable[[], object]) -> None:
        try:
            call()
        except GuardError as refusal:
            rule = getattr(refusal, "check", None) or getattr(refusal, "reason", None)
            detail = f" ({rule})" if isinstance(rule, str) else ""
            self.console.say(f"   refused {label}: {type(refusal).__name__}{detail}")
            self.console.say(f"      {refusal}", hang=0)
            from faceguard.notebook import render_refusal

            self.record.refusals.append(RefusalShown(label, render_refusal(refusal)))
        else:
            self.console.say(f"   NOT refused: {label}")


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
