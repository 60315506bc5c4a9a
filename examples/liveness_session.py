"""A liveness-with-verify session, the server side: create it, hand off its token, read it.

Your backend creates the session with the person's reference photo and gives the session's
auth token (a bearer secret: never log it) to their device, where the Vision SDK runs the
liveness check; the backend then reads the decision and the match, and deletes the session.
The client declares ``UseCase.IDENTITY_VERIFICATION``; the reference photo becomes a template,
so creating the session needs a consent token covering ``liveness_verify``.

The device cannot be emulated: on the emulator its attempts are scripted
(``emulator.liveness.script_attempt``), the match still measured from real photos. To use your
Azure resource instead, set both ``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY``: the sessions
then wait for a real device, which this script does not have. Needs
``faceguard[emulator,consent]``.

Run from the repository root: ``python examples/liveness_session.py``
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Literal

from _common import FACES, Backend

from faceguard import ConsentIssuer, ConsentVerifier, GuardPolicy, MemoryStore, UseCase

REFERENCE = Path(FACES, "face_recognition/obama/obama1.jpg")  # e.g. from the ID document
LIVE_FRAME = Path(FACES, "face_recognition/obama/obama2.jpg")  # what the camera saw
AUDIENCE = "urn:example:onboarding"
USE_CASE = UseCase.IDENTITY_VERIFICATION


def main() -> None:
    backend = Backend()
    print(f"liveness-with-verify sessions on {backend.name}")
    # In production your consent service mints this token when the person agrees; faceguard
    # holds only its public key. Here: a throwaway issuer in this process.
    issuer, public_key = ConsentIssuer.generate()
    store = MemoryStore()
    verifier = ConsentVerifier(
        {issuer.kid: public_key}, issuer=issuer.issuer, audience=AUDIENCE, replay_store=store
    )
    guard = GuardPolicy(use_case=USE_CASE, verifier=verifier, store=store)
    device = str(uuid.uuid4())  # a random id per device: never an email, phone or name

    decision: Literal["realface", "spoofface"]
    with backend.face_client(guard) as client:
        for decision in ("realface", "spoofface"):
            consent = issuer.issue(
                "p-applicant-4821",
                audience=[AUDIENCE, backend.endpoint],  # this deployment and this resource
                operations=["liveness_verify"],
                use_case=USE_CASE,
            )  # a single-use token: one per session
            session = client.liveness.create_with_verify_session(
                verify_image=REFERENCE,
                liveness_operation_mode="PassiveActive",
                device_correlation_id=device,
                consent=consent,
            )
            print(f"session {session.session_id[:8]}: {session.status}; token handed to device")

            if backend.emulator is not None:  # the device's attempt, scripted
                backend.emulator.liveness.script_attempt(
                    session.session_id, decision=decision, image=LIVE_FRAME.read_bytes()
                )

            result = client.liveness.get_with_verify_session_result(session.session_id)
            attempt = result.results.attempts[-1] if result.results.attempts else None
            outcome = attempt.result if attempt is not None else None
            if outcome is None:
                print("  no attempt yet: the device has not run the check")
            else:
                match = outcome.verify_result
                live = outcome.liveness_decision == "realface"
                same = match is not None and match.is_identical
                confidence = f"{match.match_confidence:.2f}" if match else "?"
                verdict = "accept" if live and same else "reject: fall back to a manual check"
                print(f"  liveness {outcome.liveness_decision}; match {confidence}; {verdict}")
            client.liveness.delete_with_verify_session(session.session_id)


if __name__ == "__main__":
    main()
