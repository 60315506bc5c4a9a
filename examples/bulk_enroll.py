"""Bulk enrollment: many photos into a large person group, safely resumable.

``faceguard.bulk.bulk_add_faces`` adds the faces a few at a time under the resource's rate
limit (a ``RateLimiter`` on the client), retries what can be retried, and records every add in
a journal (SQLite here). If the job dies half-way, running it again with the same journal
finishes it: faces already added are not sent again, and an add whose answer was lost is
looked up on the service (by a marker in the face's userData) before it is re-sent. Each photo
ends as one result: added, skipped (no face, several faces...) or failed (with support info).

Each person enrolls under their own consent (a session token from your consent service; a
throwaway issuer here). The staff are the operator's employees at an Illinois site, so the
policy declares a workplace (a badge must stay an option: ``alternative_offered=True``) and
the Illinois profile (BIPA: a written release, a written notice, a public retention
schedule); a token without them is refused, naming the statute's section.

Runs on the offline emulator by default; to use your Azure resource instead, set both
``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY`` (the example deletes its group at the end).
Needs ``faceguard[emulator,consent]``.

Run from the repository root: ``python examples/bulk_enroll.py``
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _common import FACES, Backend

from faceguard import (
    ConsentIssuer,
    ConsentVerifier,
    Deployment,
    GuardPolicy,
    ImageOrigin,
    Jurisdiction,
    LegalBasis,
    MemoryStore,
    Notice,
    RateLimiter,
    Retention,
    UseCase,
)
from faceguard.bulk import BulkFace, SQLiteJournal, bulk_add_faces

GROUP = "example-bulk-enroll"
AUDIENCE = "urn:example:enrollment"
USE_CASE = UseCase.TOUCHLESS_ACCESS_CONTROL
PEOPLE = {  # person: their photos (the group photo cannot be enrolled: two faces)
    "obama": ["face_recognition/obama/obama1.jpg", "face_recognition/obama/obama2.jpg"],
    "biden": ["face_recognition/biden/biden.jpg", "face_recognition/biden/biden2.jpg"],
    "kit": ["face_recognition/kit_harington/john1.jpg", "face_recognition/multi/two_people.jpg"],
    "lennon": ["openface/lennon-1.jpg", "openface/lennon-2.jpg"],
}


def main() -> None:
    backend = Backend()
    print(f"bulk enrollment on {backend.name}")
    issuer, public_key = ConsentIssuer.generate()
    store = MemoryStore()
    verifier = ConsentVerifier(
        {issuer.kid: public_key}, issuer=issuer.issuer, audience=AUDIENCE, replay_store=store
    )
    guard = GuardPolicy(
        use_case=USE_CASE,
        deployment=Deployment(workplace=True),  # employees: enrolling must stay optional
        jurisdictions=[Jurisdiction.US_IL],  # the site is in Illinois: BIPA applies
        verifier=verifier,
        store=store,
    )
    # What each employee was shown and signed before enrolling (your consent service keeps
    # the record; the token carries references to it).
    notice = Notice("https://example.com/hq/biometric-notice", time.time() - 60, version="4")
    retention = Retention(policy_uri="https://example.com/hq/biometric-retention")
    journal_path = Path(tempfile.mkdtemp(prefix="faceguard-bulk-")) / "enroll.sqlite3"

    with backend.face_client(guard, rate_limit=RateLimiter(10)) as client:
        groups = client.large_person_groups
        groups.create(GROUP, name="Bulk enrollment example")
        try:
            person_ids = {name: groups.create_person(GROUP, name=name).person_id for name in PEOPLE}
            tokens = {
                name: issuer.issue(
                    f"p-{name}",
                    audience=[AUDIENCE, backend.endpoint],  # this deployment and this resource
                    operations=["enroll"],
                    use_case=USE_CASE,
                    bindings=[("largePersonGroup", GROUP, person_ids[name])],
                    use="session",  # a once-token could not be presented again on a retry
                    source=ImageOrigin.CAPTURE_DEVICE,  # photos taken at the badge office
                    alternative_offered=True,  # a badge works too
                    legal_basis=[LegalBasis.BIPA_WRITTEN_RELEASE],  # the signed release
                    notice=notice,
                    retention=retention,
                )
                for name in PEOPLE
            }

            def items() -> Iterator[BulkFace]:
                for name, photos in PEOPLE.items():
                    for photo in photos:
                        yield BulkFace(
                            key=photo,  # stable across runs: the journal's key
                            image=Path(FACES, photo),  # read when the item is sent
                            person_id=person_ids[name],
                            consent=tokens[name],
                        )

            for run in ("first run", "run again"):
                with SQLiteJournal(journal_path) as journal:
                    report = bulk_add_faces(
                        groups, GROUP, items(), journal=journal, concurrency=4, progress=False
                    )
                counts = report.by_status()
                resumed = sum(item.from_journal for item in report.items)
                print(
                    f"{run}: {len(counts['added'])} added, {len(counts['skipped'])} skipped, "
                    f"{len(counts['failed'])} failed; {resumed} taken from the journal"
                )
            for item in counts["skipped"]:
                print(f"  skipped {item.key}: {item.reason.value if item.reason else '?'}")
            status = groups.train(GROUP).wait(timeout=300)
            print(f"training: {status.status}")
        finally:
            groups.delete(GROUP)


if __name__ == "__main__":
    main()
