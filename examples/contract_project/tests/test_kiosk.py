"""The kiosk's tests: the same visit, in process and as a recorded contract test."""

from __future__ import annotations

from pathlib import Path

import pytest
from kiosk_app import GROUP, enroll_staff, forget_everyone, recognise

from faceguard import FaceClient
from faceguard.testing import FaceguardConsent

PHOTOS = Path(__file__).resolve().parents[1] / "photos"


def visit(client: FaceClient, consent: FaceguardConsent) -> tuple[str, str | None, str | None]:
    """Enroll Ada, recognise her from another photo, fail to recognise a stranger, forget."""
    ada = enroll_staff(
        client,
        "Ada",
        PHOTOS / "staff.jpg",
        lambda person_id: consent.token(
            "p-ada", ["enroll"], [("largePersonGroup", GROUP, person_id)]
        ),
    )
    kiosk = consent.token("p-kiosk", ["detect_template", "identify"], [("largePersonGroup", GROUP)])
    again = recognise(client, PHOTOS / "staff-again.jpg", kiosk)
    stranger = recognise(client, PHOTOS / "stranger.jpg", kiosk)
    forget_everyone(client)
    return ada, again, stranger


def test_the_kiosk_on_the_in_process_emulator(
    face_client: FaceClient, faceguard_consent: FaceguardConsent
) -> None:
    ada, again, stranger = visit(face_client, faceguard_consent)
    assert (again, stranger) == (ada, None)


@pytest.mark.faceguard_cassette
def test_the_kiosk_contract(
    recorded_face_client: FaceClient, faceguard_consent: FaceguardConsent
) -> None:
    ada, again, stranger = visit(recorded_face_client, faceguard_consent)
    assert (again, stranger) == (ada, None)
