"""Identity verification (1:1): is the person in the selfie the one on the ID document?

The client declares ``UseCase.IDENTITY_VERIFICATION``, which permits detect with faceIds,
verify, enrollment and liveness-with-verify, and refuses 1:N identification. Each faceId is a
biometric template, so every call carries a consent token naming the person and what they
agreed to.

Runs on the offline emulator by default; to use your Azure resource instead, set both
``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY`` (the resource must be approved for
identification and verification). Needs ``faceguard[emulator,consent]``.

Run from the repository root: ``python examples/identity_verification.py``
"""

from __future__ import annotations

from pathlib import Path

from _common import FACES, Backend

import faceguard
from faceguard import ConsentIssuer, ConsentVerifier, GuardPolicy, MemoryStore, UseCase

ID_DOCUMENT = Path(FACES, "face_recognition/obama/obama1.jpg")
SELFIE = Path(FACES, "face_recognition/obama/obama2.jpg")
SOMEONE_ELSE = Path(FACES, "face_recognition/biden/biden.jpg")
AUDIENCE = "urn:example:onboarding"
USE_CASE = UseCase.IDENTITY_VERIFICATION


def main() -> None:
    backend = Backend()
    print(f"identity verification on {backend.name}")
    # In production your consent service holds the private key and mints these tokens when
    # the person agrees; faceguard only ever sees its public key. Here: a throwaway issuer.
    issuer, public_key = ConsentIssuer.generate()
    store = MemoryStore()
    guard = GuardPolicy(
        use_case=USE_CASE,
        verifier=ConsentVerifier(
            {issuer.kid: public_key}, issuer=issuer.issuer, audience=AUDIENCE, replay_store=store
        ),
        store=store,
    )
    # The applicant's pseudonymous id at the consent service, for this onboarding session.
    consent = issuer.issue(
        "p-applicant-4821",
        audience=[AUDIENCE, backend.endpoint],  # this deployment and this resource
        operations=["detect_template", "verify"],
        use_case=USE_CASE,
        use="session",
    )

    with backend.face_client(guard) as client:

        def face_id(photo: Path) -> str:
            (face,) = client.detection.detect(photo, return_face_id=True, consent=consent)
            return face.face_id or ""

        document, selfie = face_id(ID_DOCUMENT), face_id(SELFIE)
        match = client.recognition.verify_face_to_face(document, selfie, consent=consent)
        print(f"ID document vs selfie: same person {match.is_identical} ({match.confidence:.2f})")
        other = client.recognition.verify_face_to_face(
            document, face_id(SOMEONE_ELSE), consent=consent
        )
        print(
            f"ID document vs someone else: same person {other.is_identical} "
            f"({other.confidence:.2f})"
        )
        print("  (a confidence is a similarity score, not a probability; a person reviews doubts)")

        try:  # 1:N search is outside identity verification
            client.recognition.identify_from_large_person_group(
                [selfie], large_person_group_id="all-customers", consent=consent
            )
        except faceguard.UseCaseError as refusal:
            print(f"identify refused before sending: {type(refusal).__name__}")


if __name__ == "__main__":
    main()
