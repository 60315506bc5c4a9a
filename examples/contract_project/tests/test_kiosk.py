"""The kiosk's tests: the same visit, in process and as a recorded contract test."""

from __future__ import annotations

from pathlib import Path

import pytest
from faceguard import FaceClient
from faceguard.testing import FaceguardConsent

from kiosk_app import GROUP, enroll_staff, forget_everyone, recognise


@pytest.fixture
def photos(pytestconfig: pytest.Config) -> Path:
    """The project's photos: ``photos/`` beside ``pyproject.toml``."""
    return pytestconfig.rootpath / "photos"


def visit(
    client: FaceClient, consent: FaceguardConsent, photos: Path
) -> tuple[str, str | None, str | None]:
    """Enroll Ada, recognise her in another photo, not a stranger; forget them all."""
    ada = enroll_staff(
        client,
        "Ada",
        photos / "staff.jpg",
        lambda person_id: consent.token(
            "p-ada", ["enroll"], [("largePersonGroup", GROUP, person_id)]
        ),
    )
    kiosk = consent.token(
        "p-kiosk", ["detect_template", "identify"], [("largePersonGroup", GROUP)]
    )
    again = recognise(client, photos / "staff-again.jpg", kiosk)
    stranger = recognise(client, photos / "stranger.jpg", kiosk)
    forget_everyone(client)
    return ada, again, stranger


def test_the_kiosk_on_the_in_process_emulator(
    face_client: FaceClient, faceguard_consent: FaceguardConsent, photos: Path
) -> None:
    ada, again, stranger = visit(face_client, faceguard_consent, photos)
    assert (again, stranger) == (ada, None)


@pytest.mark.faceguard_cassette
def test_the_kiosk_contract(
    recorded_face_client: FaceClient, faceguard_consent: FaceguardConsent, photos: Path
) -> None:
    ada, again, stranger = visit(recorded_face_client, faceguard_consent, photos)
    assert (again, stranger) == (ada, None)
