"""A guarded client on the in-process emulator with an audit log, for the oversight (R11) and
dispute (R22) tests: its own consent issuer (tokens name the rig's use case), real photos,
a large person group with two enrolled people, and a count of the requests that reach the
emulator (a refusal must send nothing).

Import it as ``_oversight_kit`` (pytest puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faceguard import (
    AsyncFaceClient,
    AuditLog,
    ConsentIssuer,
    ConsentVerifier,
    FaceClient,
    GuardPolicy,
    MemoryStore,
    UseCase,
)
from faceguard._guard._usecases import PERMITTED
from faceguard.emulator import Emulator

ENDPOINT = "https://oversight.invalid"
AUDIENCE = "urn:faceguard:oversight-tests"
GROUP = "oversight-staff"
SUBJECT_KEY = b"oversight-tests-subject-key-0001"
PHOTOS = Path(__file__).parent / "data" / "faces" / "face_recognition"
OBAMA = PHOTOS / "obama" / "obama1.jpg"
OBAMA_PROBE = PHOTOS / "obama" / "obama2.jpg"
BIDEN = PHOTOS / "biden" / "biden.jpg"
BIDEN_PROBE = PHOTOS / "biden" / "biden2.jpg"
ISSUER, PUBLIC_KEY = ConsentIssuer.generate(issuer="urn:faceguard:oversight", kid="ov-1")
SUBJECT = "p-door-session-42"
OPERATIONS = ["detect_template", "verify", "identify", "find_similar", "group"]


class Rig:
    """One client (sync or async) of ``use_case`` writing ``log_path`` (None: no audit log)."""

    def __init__(
        self,
        log_path: Path | None,
        use_case: UseCase = UseCase.TOUCHLESS_ACCESS_CONTROL,
        *,
        consequential: bool | None = None,
        asynchronous: bool = False,
        emulator: Emulator | None = None,
        store: MemoryStore | None = None,
    ) -> None:
        self.use_case = use_case
        self.emulator = emulator or Emulator()
        self.sent: list[str] = []
        self.emulator.add_hook(lambda request: self.sent.append(request.url.path))
        self.store = store = store or MemoryStore()
        verifier = ConsentVerifier(
            {ISSUER.kid: PUBLIC_KEY}, issuer=ISSUER.issuer, audience=AUDIENCE, replay_store=store
        )
        self.log = AuditLog(log_path, subject_key=SUBJECT_KEY) if log_path else None
        self.policy = GuardPolicy(
            use_case=use_case,
            verifier=verifier,
            store=store,
            audit=self.log,
            consequential=consequential,
        )
        kind: Any = AsyncFaceClient if asynchronous else FaceClient
        self.client = kind(
            ENDPOINT, api_key="k" * 32, transport=self.emulator.transport(), guard=self.policy
        )

    def token(self, subject: str = SUBJECT, person: str | None = None, ops: Any = None) -> str:
        """A session token of the rig's use case over the group (and ``person``)."""
        permitted = ops or [op for op in OPERATIONS if op in PERMITTED[self.use_case]]
        return ISSUER.issue(
            subject,
            audience=[AUDIENCE, ENDPOINT],
            operations=permitted,
            use_case=self.use_case,
            bindings=[("largePersonGroup", GROUP, person)],
            use="session",
            alternative_offered=True,
        )

    def enroll(self) -> dict[str, str]:
        """Obama and Biden enrolled under their own consent, the group trained (sync only)."""
        client = self.client
        client.large_person_groups.create(GROUP, name="staff")
        people: dict[str, str] = {}
        for name, photo in (("obama", OBAMA), ("biden", BIDEN)):
            person = client.large_person_groups.create_person(GROUP, name=name)
            token = self.token(f"p-staff-{name}", person.person_id, ["enroll"])
            client.large_person_groups.add_face(GROUP, person.person_id, photo, consent=token)
            people[name] = person.person_id
        client.large_person_groups.train(GROUP).wait(timeout=120)
        return people

    def face(self, photo: Path, token: str) -> str:
        """A faceId of the (largest) face in ``photo``, detected under ``token`` (sync)."""
        faces = self.client.detection.detect(photo, return_face_id=True, consent=token)
        return str(faces[0].face_id)

    def records(self) -> list[dict[str, Any]]:
        """The audit log's records as JSON objects."""
        import json

        assert self.log is not None
        return [json.loads(line) for line in self.log.path.read_text().splitlines()]
