"""A visitor kiosk: enroll staff, recognise who walks in, forget everyone after.

The application code a contract test covers. It takes its ``FaceClient`` from the
caller, so the same functions run on the in-process emulator (``face_client``), on a
cassette or against the resource (``recorded_face_client``), and in production.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from faceguard import FaceClient

GROUP = "kiosk-staff"


def enroll_staff(
    client: FaceClient, name: str, photo: Path, consent_for: Callable[[str], str]
) -> str:
    """Create the staff group, enroll one person from one photo, train; the personId.

    ``consent_for(person_id)`` returns the person's enrollment consent token, which
    must bind the group and the person the service has just created."""
    client.large_person_groups.create(GROUP, name="Kiosk staff")
    person = client.large_person_groups.create_person(GROUP, name=name)
    token = consent_for(person.person_id)
    client.large_person_groups.add_face(GROUP, person.person_id, photo, consent=token)
    client.large_person_groups.train(GROUP).wait(timeout=120)
    return person.person_id


def recognise(client: FaceClient, photo: Path, consent: str) -> str | None:
    """The personId of the one face in ``photo``; None: no face, several, a stranger."""
    faces = client.detection.detect(photo, return_face_id=True, consent=consent)
    if len(faces) != 1 or faces[0].face_id is None:
        return None
    (result,) = client.recognition.identify_from_large_person_group(
        [faces[0].face_id],
        large_person_group_id=GROUP,
        max_num_of_candidates_returned=1,
        consent=consent,
    )
    return result.candidates[0].person_id if result.candidates else None


def forget_everyone(client: FaceClient) -> None:
    """Erase the group: its persons, their faces and its trained model."""
    client.large_person_groups.delete(GROUP)
