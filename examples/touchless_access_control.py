"""Touchless access control: staff enrolled in a large person group, identified at the door.

The client declares ``UseCase.TOUCHLESS_ACCESS_CONTROL`` (1:N identification). Each employee
is enrolled under their own consent token, bound to the group and to their person; the door
kiosk identifies under a session token. A visitor who never enrolled stays unknown, and the
door opens only above a threshold the operator chose (and would validate on their own data).

Runs on the offline emulator by default; to use your Azure resource instead, set both
``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY`` (the example deletes its group at the end).
Needs ``faceguard[emulator,consent]``.

Run from the repository root: ``python examples/touchless_access_control.py``
"""

from __future__ import annotations

from pathlib import Path

from _common import FACES, Backend

from faceguard import ConsentIssuer, ConsentVerifier, GuardPolicy, MemoryStore, UseCase

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
    guard = GuardPolicy(use_case=USE_CASE, verifier=verifier, store=store)

    def consent(subject: str, operations: list[str], person: str | None = None) -> str:
        return issuer.issue(
            subject,
            audience=[AUDIENCE, backend.endpoint],  # this deployment and this resource
            operations=operations,
            use_case=USE_CASE,
            bindings=[("largePersonGroup", GROUP, person)],
            use="session",
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
            for who, photo in arrivals:
                faces = client.detection.detect(
                    Path(FACES, photo), return_face_id=True, consent=kiosk
                )
                (result,) = client.recognition.identify_from_large_person_group(
                    [faces[0].face_id or ""], large_person_group_id=GROUP, consent=kiosk
                )
                best = result.candidates[0] if result.candidates else None
                if best is not None and best.confidence >= THRESHOLD:
                    verdict = f"door opens for {names[best.person_id]} ({best.confidence:.2f})"
                else:
                    verdict = "unknown face: door stays closed, call reception"
                print(f"  {who} at the door: {verdict}")
        finally:
            client.large_person_groups.delete(GROUP)  # erasure is never refused


if __name__ == "__main__":
    main()
