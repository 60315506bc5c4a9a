"""Duplicate or blocked users: does a new sign-up match an existing account?

The client declares ``UseCase.DUPLICATE_OR_BLOCKED_USERS`` (it permits find-similar and group).
Existing accounts' faces are in a large face list, each added under its holder's consent; new
sign-ups are grouped (one person signing up twice), then searched in the list. A match is
flagged for a person to review, never acted on automatically.

Runs on the offline emulator by default; to use your Azure resource instead, set both
``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY`` (the example deletes its list at the end).
Needs ``faceguard[emulator,consent]``.

Run from the repository root: ``python examples/duplicate_users.py``
"""

from __future__ import annotations

from pathlib import Path

from _common import FACES, Backend

from faceguard import ConsentIssuer, ConsentVerifier, GuardPolicy, MemoryStore, UseCase

ACCOUNTS = "example-accounts"
AUDIENCE = "urn:example:sign-up"
USE_CASE = UseCase.DUPLICATE_OR_BLOCKED_USERS
THRESHOLD = 0.6  # the operator's choice, validated on their own data
EXISTING = {  # account: its face on file
    "acct-1001": "face_recognition/obama/obama1.jpg",
    "acct-1002": "face_recognition/biden/biden.jpg",
    "acct-1003": "face_recognition/kit_harington/john1.jpg",
}
SIGN_UPS = {  # new sign-up: the selfie sent with it
    "signup-a": "face_recognition/obama/obama2.jpg",
    "signup-b": "openface/lennon-1.jpg",
    "signup-c": "openface/lennon-2.jpg",
}


def main() -> None:
    backend = Backend()
    print(f"duplicate-user search on {backend.name}")
    # In production your consent service mints these tokens when each person agrees (at sign-up,
    # in the terms they accept); faceguard holds only its public key. Here: a throwaway issuer.
    issuer, public_key = ConsentIssuer.generate()
    store = MemoryStore()
    verifier = ConsentVerifier(
        {issuer.kid: public_key}, issuer=issuer.issuer, audience=AUDIENCE, replay_store=store
    )
    guard = GuardPolicy(use_case=USE_CASE, verifier=verifier, store=store)

    def consent(subject: str, operations: list[str]) -> str:
        return issuer.issue(
            subject,
            audience=[AUDIENCE, backend.endpoint],  # this deployment and this resource
            operations=operations,
            use_case=USE_CASE,
            bindings=[("largeFaceList", ACCOUNTS, None)],
            use="session",
        )

    with backend.face_client(guard) as client:
        client.large_face_lists.create(ACCOUNTS, name="Faces on file")
        try:
            account_of: dict[str, str] = {}
            for account, photo in EXISTING.items():
                added = client.large_face_lists.add_face(
                    ACCOUNTS, Path(FACES, photo), consent=consent(f"p-{account}", ["enroll"])
                )
                account_of[added.persisted_face_id] = account
            status = client.large_face_lists.train(ACCOUNTS).wait(timeout=300)
            print(f"{len(account_of)} accounts on file; training {status.status}")

            screening = consent("p-signup-batch-7", ["detect_template", "find_similar", "group"])
            face_ids: dict[str, str] = {}
            for sign_up, photo in SIGN_UPS.items():
                (face,) = client.detection.detect(
                    Path(FACES, photo), return_face_id=True, consent=screening
                )
                face_ids[face.face_id or ""] = sign_up

            grouping = client.recognition.group(list(face_ids), consent=screening)
            for group in grouping.groups:
                print(f"  same person signing up twice: {', '.join(face_ids[f] for f in group)}")

            for face_id, sign_up in face_ids.items():
                similar = client.recognition.find_similar_from_large_face_list(
                    face_id, large_face_list_id=ACCOUNTS, consent=screening
                )
                best = similar[0] if similar else None
                if best is not None and best.confidence >= THRESHOLD and best.persisted_face_id:
                    match = account_of[best.persisted_face_id]
                    print(f"  {sign_up}: looks like {match} ({best.confidence:.2f}): review")
                else:
                    print(f"  {sign_up}: no existing account matches")
        finally:
            client.large_face_lists.delete(ACCOUNTS)  # erasure is never refused


if __name__ == "__main__":
    main()
