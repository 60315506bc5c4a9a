"""Touchless access control: staff enrolled in a large person group, identified at the door.

The client declares ``UseCase.TOUCHLESS_ACCESS_CONTROL`` (1:N identification). Each employee
is enrolled under their own consent token, bound to the group and to their person; the door
kiosk identifies under a session token. A visitor who never enrolled stays unknown, and the
door opens only above a threshold the operator chose (and would validate on their own data).
The policy declares a workplace in the EU: every token must say a badge was offered instead
(``alternative_offered``), that the images come from the door camera (``source``), and what
the GDPR profile needs (explicit consent under Art. 9(2)(a), the notice given, a storage
limit); a token without them is refused, naming what to issue.

A door decision bears on someone's work, so faceguard treats this use case as consequential
(R11): identification goes through ``client.oversight`` and comes back provisional. The
guard at the desk sees the proposed match on their screen (``result.provisional``) and
confirms it, or not (``result.confirm``); the door opens on what they confirmed. Every call
and every review is in the audit log, and a person who disputes a decision has it recorded
next to it (``client.dispute``); ``faceguard audit show --decision ID FILE`` prints both.

Runs on the offline emulator by default; to use your Azure resource instead, set both
``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY`` (the example deletes its group at the end).
Needs ``faceguard[emulator,consent]``.

Run from the repository root: ``python examples/touchless_access_control.py``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from _common import FACES, Backend

from faceguard import (
    AuditLog,
    ConsentIssuer,
    ConsentVerifier,
    Deployment,
    GuardPolicy,
    ImageOrigin,
    Jurisdiction,
    LegalBasis,
    MemoryStore,
    Notice,
    Retention,
    UseCase,
)

GROUP = "example-hq-staff"
AUDIENCE = "urn:example:hq-doors"
USE_CASE = UseCase.TOUCHLESS_ACCESS_CONTROL
THRESHOLD = 0.6  # the operator's choice, not the service's
STAFF = {  # name: (enrollment photo, photo taken at the door)
    "obama": ("face_recognition/obama/obama1.jpg", "face_recognition/obama/obama2.jpg"),
    "biden": ("face_recognition/biden/biden.jpg", "face_recognition/biden/biden2.jpg"),
    "kit": (
        "face_recognition/kit_harington/john1.jpg",
        "face_recognition/kit_harington/john2.jpeg",
    ),
}
VISITOR = "openface/lennon-1.jpg"  # never enrolled


def main() -> None:
    backend = Backend()
    print(f"touchless access control on {backend.name}")
    # In production your consent service mints these tokens when each person agrees, and
    # faceguard only holds its public key. Here: a throwaway issuer in this process.
    issuer, public_key = ConsentIssuer.generate()
    store = MemoryStore()
    verifier = ConsentVerifier(
        {issuer.kid: public_key}, issuer=issuer.issuer, audience=AUDIENCE, replay_store=store
    )
    # The audit trail reviews and disputes are recorded in (keep it; here a temporary file).
    audit = AuditLog(Path(tempfile.mkdtemp(prefix="faceguard-doors-")) / "audit.jsonl")
    # The doors are in an EU office: the GDPR profile needs explicit consent under Art.
    # 9(2)(a), the notice given and a storage limit in every token; the staff are employees,
    # so a badge must stay an option (Deployment(workplace=True)).
    guard = GuardPolicy(
        use_case=USE_CASE,
        deployment=Deployment(workplace=True),
        jurisdictions=[Jurisdiction.EU_GDPR],
        verifier=verifier,
        store=store,
        audit=audit,
    )
    notice = Notice("https://example.com/hq/door-notice", time.time() - 60, version="2")
    a_year = Retention(until=time.time() + 365 * 86400)

    def consent(subject: str, operations: list[str], person: str | None = None) -> str:
        return issuer.issue(
            subject,
            audience=[AUDIENCE, backend.endpoint],  # this deployment and this resource
            operations=operations,
            use_case=USE_CASE,
            bindings=[("largePersonGroup", GROUP, person)],
            use="session",
            alternative_offered=True,  # a badge works too: enrolling is optional (R06)
            source=ImageOrigin.CAPTURE_DEVICE,  # the door camera; never a URL
            legal_basis=[LegalBasis.EXPLICIT_CONSENT, LegalBasis.GDPR_ART9_2A],
            notice=notice,
            retention=a_year,
        )

    with backend.face_client(guard) as client:
        client.large_person_groups.create(GROUP, name="HQ staff")
        try:
            names: dict[str, str] = {}
            for name, (enrollment, _) in STAFF.items():
                person = client.large_person_groups.create_person(GROUP, name=name)
                names[person.person_id] = name
                token = consent(f"p-staff-{name}", ["enroll"], person.person_id)
                client.large_person_groups.add_face(
                    GROUP, person.person_id, Path(FACES, enrollment), consent=token
                )
            status = client.large_person_groups.train(GROUP).wait(timeout=300)
            print(f"enrolled {len(names)} employees; training {status.status}")

            kiosk = consent("p-kiosk-session-17", ["detect_template", "identify"])
            arrivals = [(name, door) for name, (_, door) in STAFF.items()] + [("visitor", VISITOR)]
            decisions = []
            for who, photo in arrivals:
                faces = client.detection.detect(
                    Path(FACES, photo), return_face_id=True, consent=kiosk
                )
                result = client.oversight.identify_from_large_person_group(
                    [faces[0].face_id or ""], large_person_group_id=GROUP, consent=kiosk
                )
                # The desk's screen: the proposed match, for a person to judge.
                (proposal,) = result.provisional
                best = proposal.candidates[0] if proposal.candidates else None
                proposed = best.person_id if best and best.confidence >= THRESHOLD else None
                # The reviewer compares the camera image with the staff photo and confirms
                # (here they agree with the proposal; their own judgement is what counts).
                result.confirm("desk-officer-3", [proposed])
                (confirmed,) = result.outcome  # what the door acts on
                if confirmed is not None:
                    verdict = f"door opens for {names[confirmed]} (confirmed by the desk)"
                else:
                    verdict = "unknown face: door stays closed, call reception"
                print(f"  {who} at the door: {verdict}")
                decisions.append(result.decision_id)
            # An employee says the door log is wrong about them: the dispute is recorded
            # against that decision, for whoever handles complaints.
            client.dispute(decisions[0], "the employee says they were not at this door")
            print(f"dispute recorded; see: faceguard audit show --decision {decisions[0][:15]}...")
        finally:
            client.large_person_groups.delete(GROUP)  # erasure is never refused
    audit.close()


if __name__ == "__main__":
    main()
