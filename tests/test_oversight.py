"""Human oversight (R11): results of consequential use cases come back provisional.

Through the public API on the in-process emulator with real photos and a real audit log:
the plain recognition methods of a consequential use case refuse before sending; the
``client.oversight`` methods return a ``Provisional`` with nothing to act on until
``confirm(reviewer_id, outcome)`` has been recorded by enough distinct reviewers (two for
remote identification, EU AI Act Art. 14(5)); every review lands in the audit chain, linked to
the call's outcome record by ``decision_id``, with the reviewer pseudonymised. Sync and async.
"""

from __future__ import annotations

import asyncio
import copy
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

import _oversight_kit as kit
from faceguard import (
    AuditError,
    GuardPolicy,
    InvalidInputError,
    OversightError,
    Provisional,
    ProvisionalResultError,
    UseCase,
)
from faceguard._guard._oversight import REVIEWERS
from faceguard.models.recognition import VerificationResult

REMOTE = UseCase.GOV_HUMANITARIAN_MISSING_PERSONS  # permits all four operations, 1:N needs two

# GUARD.md §9-style vectors: (use case, consequential=, operation, the way it is called) ->
# what the client does. "refused" = OversightError(oversight_required) before sending;
# "plain" = today's result model; "N" = a Provisional needing N reviewers.
VECTORS: list[tuple[UseCase, bool | None, str, str, str]] = [
    (UseCase.TOUCHLESS_ACCESS_CONTROL, None, "verify", "recognition", "refused"),
    (UseCase.TOUCHLESS_ACCESS_CONTROL, None, "identify", "recognition", "refused"),
    (UseCase.TOUCHLESS_ACCESS_CONTROL, None, "verify", "oversight", "1"),
    (UseCase.TOUCHLESS_ACCESS_CONTROL, None, "identify", "oversight", "1"),
    (UseCase.GOV_TOUCHLESS_ACCESS_CONTROL, None, "identify", "recognition", "refused"),
    (UseCase.GOV_IDENTITY_VERIFICATION, None, "verify", "recognition", "refused"),
    (REMOTE, None, "verify", "oversight", "1"),
    (REMOTE, None, "identify", "oversight", "2"),
    (REMOTE, None, "find_similar", "oversight", "2"),
    (REMOTE, None, "group", "oversight", "2"),
    (REMOTE, None, "group", "recognition", "refused"),
    (REMOTE, None, "find_similar", "recognition", "refused"),
    (UseCase.GOV_EMERGENCY, None, "identify", "oversight", "2"),
    (UseCase.PERSONALIZATION, None, "identify", "recognition", "plain"),
    (UseCase.PERSONALIZATION, None, "verify", "oversight", "1"),  # voluntary review
    (UseCase.PERSONALIZATION, True, "identify", "recognition", "refused"),
    (UseCase.IDENTITY_VERIFICATION, None, "verify", "recognition", "plain"),
    (UseCase.IDENTITY_VERIFICATION, True, "verify", "recognition", "refused"),
    (UseCase.DUPLICATE_OR_BLOCKED_USERS, None, "group", "recognition", "plain"),
    (UseCase.DUPLICATE_OR_BLOCKED_USERS, True, "group", "oversight", "1"),
    (UseCase.MEDIA_ARCHIVE_SEARCH, None, "find_similar", "recognition", "plain"),
]


@pytest.fixture(scope="module")
def emulator() -> Any:
    from faceguard.emulator import Emulator

    return Emulator()


def _call(rig: kit.Rig, operation: str, via: str, token: str, people: dict[str, str]) -> Any:
    group = getattr(rig.client, via)
    probe = rig.face(kit.OBAMA_PROBE, token)
    if operation == "verify":
        other = rig.face(kit.OBAMA, token)
        return group.verify_face_to_face(probe, other, consent=token)
    if operation == "identify":
        return group.identify_from_large_person_group(
            [probe], large_person_group_id=kit.GROUP, consent=token
        )
    others = [rig.face(kit.OBAMA, token), rig.face(kit.BIDEN, token)]
    if operation == "find_similar":
        return group.find_similar(probe, face_ids=others, consent=token)
    return group.group([probe, *others], consent=token)


@pytest.mark.parametrize(
    ("use_case", "consequential", "operation", "via", "expected"),
    VECTORS,
    ids=[f"{v[0].name}-{v[1]}-{v[2]}-{v[3]}" for v in VECTORS],
)
def test_vectors(
    tmp_path: Path,
    use_case: UseCase,
    consequential: bool | None,
    operation: str,
    via: str,
    expected: str,
) -> None:
    rig = kit.Rig(tmp_path / "audit.jsonl", use_case, consequential=consequential)
    people = rig.enroll() if operation == "identify" else {}
    token = rig.token()
    if expected == "refused":
        with pytest.raises(OversightError) as info:
            before = len(rig.sent)
            _call(rig, operation, via, token, people)
        assert info.value.reason == "oversight_required"
        assert "client.oversight" in str(info.value)
        # The detections before the call went out; the recognition call did not.
        assert not any(
            path.endswith(("/verify", "/identify", "/findsimilars", "/group"))
            for path in rig.sent[before:]
        )
        refused = [r for r in rig.records() if r["decision"] == "refused"]
        assert refused[-1]["rule"] == "R11 oversight"
        return
    result = _call(rig, operation, via, token, people)
    if expected == "plain":
        assert not isinstance(result, Provisional)
        return
    assert isinstance(result, Provisional)
    assert result.reviewers_required == int(expected)
    assert result.operation == operation
    outcome_record = next(r for r in rig.records() if r["hash"] == result.decision_id)
    assert outcome_record["details"]["reviewers_required"] == int(expected)


def test_every_use_case_has_an_entry_and_remote_identification_needs_two() -> None:
    assert set(REVIEWERS) == set(UseCase)
    for use_case, table in REVIEWERS.items():
        assert set(table) == {"verify", "identify", "find_similar", "group"}, use_case
        assert table["verify"] <= 1  # 1:1 is never remote identification (Annex III 1(a))
    assert REVIEWERS[UseCase.GOV_LAW_ENFORCEMENT_APPREHENDED]["identify"] == 2
    assert REVIEWERS[UseCase.TOUCHLESS_ACCESS_CONTROL]["identify"] == 1


@pytest.mark.parametrize("value", ["yes", 1, 0])
def test_consequential_takes_only_a_bool(value: object) -> None:
    with pytest.raises(InvalidInputError):
        GuardPolicy(use_case=UseCase.PERSONALIZATION, consequential=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("use_case", [u for u, table in REVIEWERS.items() if any(table.values())])
def test_oversight_cannot_be_switched_off_for_a_flagged_use_case(use_case: UseCase) -> None:
    with pytest.raises(InvalidInputError, match="cannot be switched off"):
        GuardPolicy(use_case=use_case, consequential=False)
    GuardPolicy(use_case=UseCase.PERSONALIZATION, consequential=False)  # nothing to lower


def test_a_workplace_deployment_needs_review_whatever_the_use_case(tmp_path: Path) -> None:
    from faceguard import Deployment

    with pytest.raises(InvalidInputError):
        GuardPolicy(
            use_case=UseCase.PERSONALIZATION,
            deployment=Deployment(workplace=True),
            consequential=False,
        )
    rig = kit.Rig(tmp_path / "audit.jsonl", UseCase.PERSONALIZATION)
    rig.client.close()
    policy = GuardPolicy(
        use_case=UseCase.PERSONALIZATION,
        deployment=Deployment(workplace=True),
        verifier=rig.policy.verifier,
        store=rig.store,
        audit=rig.log,
    )
    from faceguard import FaceClient

    client = FaceClient(
        kit.ENDPOINT, api_key="k" * 32, transport=rig.emulator.transport(), guard=policy
    )
    token = rig.token()
    faces = [
        client.detection.detect(p, return_face_id=True, consent=token)[0].face_id or ""
        for p in (kit.OBAMA, kit.OBAMA_PROBE)
    ]
    with pytest.raises(OversightError) as info:
        client.recognition.verify_face_to_face(*faces, consent=token)
    assert info.value.reason == "oversight_required"
    assert client.oversight.verify_face_to_face(*faces, consent=token).reviewers_required == 1


def test_oversight_without_an_audit_log_is_refused_before_sending() -> None:
    rig = kit.Rig(None)
    token = rig.token()
    a, b = rig.face(kit.OBAMA, token), rig.face(kit.OBAMA_PROBE, token)
    before = len(rig.sent)
    with pytest.raises(OversightError) as info:
        rig.client.oversight.verify_face_to_face(a, b, consent=token)
    assert info.value.reason == "audit_required"
    assert len(rig.sent) == before
    with pytest.raises(OversightError) as plain:
        rig.client.recognition.verify_face_to_face(a, b, consent=token)
    assert plain.value.reason == "oversight_required"
    assert len(rig.sent) == before


@pytest.fixture
def verified(tmp_path: Path) -> tuple[kit.Rig, Provisional[VerificationResult, bool]]:
    rig = kit.Rig(tmp_path / "audit.jsonl")
    token = rig.token()
    a, b = rig.face(kit.OBAMA, token), rig.face(kit.OBAMA_PROBE, token)
    return rig, rig.client.oversight.verify_face_to_face(a, b, consent=token)


def test_nothing_to_act_on_until_confirmed(
    verified: tuple[kit.Rig, Provisional[VerificationResult, bool]],
) -> None:
    _, result = verified
    acting: list[Any] = [
        lambda: bool(result),
        lambda: result.is_identical,  # type: ignore[attr-defined]
        lambda: result.confidence,  # type: ignore[attr-defined]
        lambda: result.outcome,
        lambda: list(result),
        lambda: result[0],
        lambda: len(result),
        lambda: result == True,  # noqa: E712 - the comparison a hurried caller writes
    ]
    for act in acting:
        with pytest.raises(ProvisionalResultError) as info:
            act()
        assert info.value.reason == "provisional"
        assert "confirm" in str(info.value)
    with pytest.raises(ProvisionalResultError):
        if result:  # the accident this design exists to stop
            pass
    assert isinstance(result.provisional.is_identical, bool)  # for the reviewer's screen
    assert not result.confirmed and result.reviews == 0
    with pytest.raises(AttributeError):
        result.no_such_field  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(OversightError) as moved:
        pickle.dumps(result)
    assert moved.value.reason == "not_portable"
    with pytest.raises(OversightError):
        copy.copy(result)
    assert "sha256" not in repr(result) and "obama" not in repr(result).lower()


def test_one_reviewer_confirms_and_the_review_is_in_the_chain(
    verified: tuple[kit.Rig, Provisional[VerificationResult, bool]],
) -> None:
    rig, result = verified
    assert result.confirm("Reviewer-7@example.com", True) is True
    assert result.confirmed and result.outcome is True
    review = rig.records()[-1]
    assert review["event"] == "review" and review["decision"] == "confirmed"
    assert review["details"]["decision"] == result.decision_id
    assert review["details"]["reviewer"].startswith("hmac:")
    assert review["rule"] == "R11 oversight"
    text = rig.log.path.read_text() if rig.log else ""
    assert "reviewer-7" not in text.lower() and kit.SUBJECT not in text
    decision = next(r for r in rig.records() if r["hash"] == result.decision_id)
    assert decision["event"] == "api_call" and review["subject"] == decision["subject"]
    # Confirming twice: refused, nothing more written.
    count = len(rig.records())
    for reviewer in ("reviewer-7@example.com", "someone-else"):
        with pytest.raises(OversightError) as info:
            result.confirm(reviewer, True)
        assert info.value.reason == "already_confirmed"
    assert len(rig.records()) == count


def test_a_reviewer_can_overrule_the_machine(
    verified: tuple[kit.Rig, Provisional[VerificationResult, bool]],
) -> None:
    _, result = verified
    assert result.provisional.is_identical is True
    assert result.confirm("r-1", False) is False
    assert result.outcome is False


@pytest.mark.parametrize("outcome", ["yes", 1, None, [True]])
def test_a_verify_outcome_is_a_bool_and_a_bad_one_records_nothing(
    verified: tuple[kit.Rig, Provisional[VerificationResult, bool]], outcome: object
) -> None:
    rig, result = verified
    count = len(rig.records())
    with pytest.raises(InvalidInputError):
        result.confirm("r-1", outcome)  # type: ignore[arg-type]
    assert len(rig.records()) == count and not result.confirmed


@pytest.mark.parametrize("reviewer", ["", "   ", 7, None, "a\x00b", "x" * 129])
def test_a_reviewer_id_must_name_someone(
    verified: tuple[kit.Rig, Provisional[VerificationResult, bool]], reviewer: object
) -> None:
    _, result = verified
    with pytest.raises(InvalidInputError):
        result.confirm(reviewer, True)  # type: ignore[arg-type]


@pytest.fixture
def identified(tmp_path: Path) -> tuple[kit.Rig, Any, dict[str, str]]:
    rig = kit.Rig(tmp_path / "audit.jsonl", REMOTE)
    people = rig.enroll()
    token = rig.token()
    probe = rig.face(kit.OBAMA_PROBE, token)
    result = rig.client.oversight.identify_from_large_person_group(
        [probe], large_person_group_id=kit.GROUP, consent=token
    )
    return rig, result, people


def test_remote_identification_needs_two_distinct_reviewers(
    identified: tuple[kit.Rig, Any, dict[str, str]],
) -> None:
    rig, result, people = identified
    obama = people["obama"]
    assert result.provisional[0].candidates[0].person_id == obama
    assert result.reviewers_required == 2
    assert result.confirm("Alice", [obama]) is None  # one reviewer of two: not yet
    with pytest.raises(ProvisionalResultError, match="1 of 2"):
        result.outcome  # noqa: B018 (reading it is the act refused)
    assert rig.records()[-1]["decision"] == "pending"
    # The same person again, however spelled, is not a second reviewer.
    for same in ("Alice", " alice ", "ALICE", "\uff21\uff4c\uff49\uff43\uff45"):
        with pytest.raises(OversightError) as info:
            result.confirm(same, [obama])
        assert info.value.reason == "same_reviewer"
    assert len([r for r in rig.records() if r["event"] == "review"]) == 1
    assert result.confirm("bob", [obama.upper()]) == (obama,)
    assert result.outcome == (obama,)
    reviews = [r for r in rig.records() if r["event"] == "review"]
    assert [r["decision"] for r in reviews] == ["pending", "confirmed"]
    assert reviews[0]["details"]["reviewer"] != reviews[1]["details"]["reviewer"]
    assert all(obama not in str(r) for r in rig.records())


def test_reviewers_who_disagree_leave_the_result_unconfirmed(
    identified: tuple[kit.Rig, Any, dict[str, str]],
) -> None:
    rig, result, people = identified
    result.confirm("alice", [people["obama"]])
    with pytest.raises(OversightError) as info:
        result.confirm("bob", [None])
    assert info.value.reason == "disagreement"
    assert rig.records()[-1]["decision"] == "refused"
    with pytest.raises(ProvisionalResultError, match="disagreed"):
        result.outcome  # noqa: B018 (reading it is the act refused)
    with pytest.raises(OversightError) as again:
        result.confirm("carol", [people["obama"]])
    assert again.value.reason == "disagreement"


@pytest.mark.parametrize("kind", ["not_a_candidate", "too_many", "not_a_list", "not_a_str"])
def test_an_identify_outcome_must_be_one_of_the_candidates(
    identified: tuple[kit.Rig, Any, dict[str, str]], kind: str
) -> None:
    rig, result, people = identified
    outcome: Any = {
        "not_a_candidate": ["00000000-0000-4000-8000-000000000000"],
        "too_many": [people["obama"], None],
        "not_a_list": people["obama"],
        "not_a_str": [7],
    }[kind]
    count = len(rig.records())
    with pytest.raises(InvalidInputError):
        result.confirm("alice", outcome)
    assert len(rig.records()) == count


def test_find_similar_and_group_outcomes(tmp_path: Path) -> None:
    rig = kit.Rig(tmp_path / "audit.jsonl", REMOTE)
    token = rig.token()
    probe, same, other = (rig.face(p, token) for p in (kit.OBAMA_PROBE, kit.OBAMA, kit.BIDEN))
    similar = rig.client.oversight.find_similar(probe, face_ids=[same, other], consent=token)
    returned = [item.face_id for item in similar.provisional]
    assert same in returned
    with pytest.raises(InvalidInputError):
        similar.confirm("alice", [probe])  # the query face is not among the results
    assert similar.confirm("alice", [same]) is None
    assert similar.confirm("bob", [same.upper()]) == (same,)
    grouped = rig.client.oversight.group([probe, same, other], consent=token)
    with pytest.raises(InvalidInputError):
        grouped.confirm("alice", [[probe, probe]])
    assert grouped.confirm("alice", [[probe, same], [other]]) is None
    assert grouped.confirm("bob", [[probe, same], [other]]) == ((probe, same), (other,))


def test_a_review_that_cannot_be_written_confirms_nothing(
    verified: tuple[kit.Rig, Provisional[VerificationResult, bool]],
) -> None:
    rig, result = verified
    assert rig.log is not None
    rig.log.close()
    with pytest.raises(AuditError):
        result.confirm("alice", True)
    assert not result.confirmed
    with pytest.raises(ProvisionalResultError):
        result.outcome  # noqa: B018 (reading it is the act refused)


def test_non_consequential_results_are_as_they_were(tmp_path: Path) -> None:
    rig = kit.Rig(tmp_path / "audit.jsonl", UseCase.PERSONALIZATION)
    token = rig.token()
    a, b = rig.face(kit.OBAMA, token), rig.face(kit.OBAMA_PROBE, token)
    result = rig.client.recognition.verify_face_to_face(a, b, consent=token)
    assert isinstance(result, VerificationResult) and result.is_identical is True


def test_async_oversight(tmp_path: Path) -> None:
    sync = kit.Rig(None, REMOTE)  # enrolls and detects; the async client shares its emulator
    people = sync.enroll()

    async def scenario() -> None:
        rig = kit.Rig(
            tmp_path / "audit.jsonl",
            REMOTE,
            asynchronous=True,
            emulator=sync.emulator,
            store=sync.store,  # the ledger that knows the enrollments
        )
        token = rig.token()
        faces = await rig.client.detection.detect(
            kit.OBAMA_PROBE, return_face_id=True, consent=token
        )
        probe = str(faces[0].face_id)
        with pytest.raises(OversightError):
            await rig.client.recognition.identify_from_large_person_group(
                [probe], large_person_group_id=kit.GROUP, consent=token
            )
        result = await rig.client.oversight.identify_from_large_person_group(
            [probe], large_person_group_id=kit.GROUP, consent=token
        )
        with pytest.raises(ProvisionalResultError):
            bool(result)
        assert await result.confirm("alice", [people["obama"]]) is None
        with pytest.raises(OversightError):
            await result.confirm("ALICE", [people["obama"]])
        assert await result.confirm("bob", [people["obama"]]) == (people["obama"],)
        decision_id = result.decision_id
        resumed = await rig.client.review(decision_id)
        assert resumed.confirmed and resumed.reviews == 2
        with pytest.raises(OversightError):
            await resumed.confirm("carol", [people["obama"]])
        assert await rig.client.dispute(decision_id, "the person was not there") != decision_id
        await rig.client.aclose()
        reviews = [r for r in rig.records() if r["event"] == "review"]
        assert [r["details"]["decision"] for r in reviews] == [decision_id] * 2

    asyncio.run(scenario())


# -- a later reviewer in another process (the log has one writer) ---------------------------

_SECOND_REVIEWER = r"""
import json, sys
from faceguard import AuditError, AuditLog, FaceClient, GuardPolicy, OversightError
from faceguard.emulator import Emulator

path, decision_id, person, key = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
out = {}
try:
    log = AuditLog(path, subject_key=key.encode())
except AuditError as refused:
    print(json.dumps({"open": refused.reason}))
    sys.exit(0)
with FaceClient("https://second.invalid", api_key="k" * 32, transport=Emulator().transport(),
                guard=GuardPolicy(audit=log)) as client:
    review = client.review(decision_id)
    out["reviews"] = review.reviews
    for reviewer, outcome in (("ALICE", [person]), ("bob", [person.upper()])):
        try:
            out[reviewer] = review.confirm(reviewer, outcome)
        except OversightError as refused:
            out[reviewer] = refused.reason
    out["confirmed"] = review.confirmed
log.close()
print(json.dumps(out))
"""


def _second_reviewer(path: Path, decision_id: str, person: str) -> dict[str, Any]:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _SECOND_REVIEWER,
            str(path),
            decision_id,
            person,
            kit.SUBJECT_KEY.decode(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_second_process_confirms_after_the_first_closed_the_log(
    identified: tuple[kit.Rig, Any, dict[str, str]],
) -> None:
    rig, result, people = identified
    obama = people["obama"]
    assert result.confirm("alice", [obama]) is None  # first of two, on the result itself
    assert rig.log is not None
    held = _second_reviewer(rig.log.path, result.decision_id, obama)
    assert held == {"open": "locked"}  # refused clearly while this process holds the log
    rig.log.close()
    second = _second_reviewer(rig.log.path, result.decision_id, obama)
    assert second == {"reviews": 1, "ALICE": "same_reviewer", "bob": [obama], "confirmed": True}
    reviews = [r for r in rig.records() if r["event"] == "review"]
    assert [r["decision"] for r in reviews] == ["pending", "confirmed"]
    assert {r["details"]["decision"] for r in reviews} == {result.decision_id}
    # This process's handle writes to a closed log: nothing more is confirmed from here.
    with pytest.raises(AuditError):
        result.confirm("carol", [obama])


def test_a_resumed_review_shares_the_state_and_is_held_to_the_first_outcome(
    identified: tuple[kit.Rig, Any, dict[str, str]],
) -> None:
    rig, result, people = identified
    obama, biden = people["obama"], people["biden"]
    with pytest.raises(OversightError) as early:
        rig.client.review(result.decision_id)
    assert early.value.reason == "first_review"  # the first review needs the result
    result.confirm("alice", [obama])
    review = rig.client.review(result.decision_id)
    assert review.provisional is None and review.reviews == 1
    with pytest.raises(OversightError) as same:
        review.confirm(" Alice ", [obama])
    assert same.value.reason == "same_reviewer"
    with pytest.raises(InvalidInputError):
        review.confirm("bob", "not a list")
    assert review.confirm("bob", [obama]) == (obama,)
    assert result.confirmed and result.outcome == (obama,)  # one state for both handles
    with pytest.raises(OversightError) as again:
        result.confirm("carol", [biden])
    assert again.value.reason == "already_confirmed"


def test_resume_refuses_what_is_not_a_decision_under_review(tmp_path: Path) -> None:
    rig = kit.Rig(tmp_path / "audit.jsonl", UseCase.PERSONALIZATION)
    token = rig.token()
    a, b = rig.face(kit.OBAMA, token), rig.face(kit.OBAMA_PROBE, token)
    rig.client.recognition.verify_face_to_face(a, b, consent=token)  # no review asked
    plain = next(r for r in rig.records() if r["event"] == "api_call")
    for wrong in (plain["hash"], "sha256:" + "d" * 64):
        with pytest.raises(OversightError) as info:
            rig.client.review(wrong)
        assert info.value.reason == "unknown_decision"
    with pytest.raises(InvalidInputError):
        rig.client.review("sha256:nope")
    with pytest.raises(OversightError) as none:
        kit.Rig(None).client.review(plain["hash"])
    assert none.value.reason == "audit_required"


def test_a_decision_confirmed_in_another_process_is_not_reopened(
    identified: tuple[kit.Rig, Any, dict[str, str]],
) -> None:
    rig, result, people = identified
    result.confirm("alice", [people["obama"]])
    result.confirm("bob", [people["obama"]])
    assert rig.log is not None
    rig.log.close()
    from faceguard import AuditLog, FaceClient

    log = AuditLog(rig.log.path, subject_key=kit.SUBJECT_KEY)
    with FaceClient(
        kit.ENDPOINT,
        api_key="k" * 32,
        transport=rig.emulator.transport(),
        guard=GuardPolicy(audit=log),
    ) as later:
        review = later.review(result.decision_id)
        assert review.confirmed
        with pytest.raises(OversightError) as elsewhere:
            review.outcome  # noqa: B018 (the log keeps the digest, not the outcome)
        assert elsewhere.value.reason == "outcome_elsewhere"
        with pytest.raises(OversightError) as done:
            review.confirm("carol", [people["obama"]])
        assert done.value.reason == "already_confirmed"
    log.close()


def test_a_reviewer_pseudonym_never_equals_a_subject_pseudonym(
    verified: tuple[kit.Rig, Provisional[VerificationResult, bool]],
) -> None:
    rig, result = verified
    result.confirm(kit.SUBJECT, True)  # a reviewer whose id happens to be a subject's
    review = rig.records()[-1]
    assert review["details"]["reviewer"] != review["subject"]
    assert kit.SUBJECT not in json.dumps(rig.records())


def test_no_override_lifts_oversight(tmp_path: Path) -> None:
    from faceguard import Override

    rig = kit.Rig(tmp_path / "audit.jsonl")
    people = rig.enroll()
    token = rig.token(person=people["obama"])
    probe = rig.face(kit.OBAMA_PROBE, token)
    for rule in ("tracking_identification_cap", "unknown_face_id", "oversight"):
        before = len(rig.sent)
        with pytest.raises((OversightError, InvalidInputError)) as info:
            rig.client.recognition.verify_from_large_person_group(
                probe,
                large_person_group_id=kit.GROUP,
                person_id=people["obama"],
                consent=token,
                override=Override(rule, "the door is jammed"),
            )
        assert len(rig.sent) == before
        if isinstance(info.value, OversightError):
            assert info.value.reason == "oversight_required"


def test_concurrent_reviews_confirm_once(
    verified: tuple[kit.Rig, Provisional[VerificationResult, bool]],
) -> None:
    import threading

    rig, result = verified
    outcomes: list[object] = []
    barrier = threading.Barrier(8)

    def review(reviewer: str) -> None:
        barrier.wait()
        try:
            outcomes.append(result.confirm(reviewer, True))
        except OversightError as refused:
            outcomes.append(refused.reason)

    threads = [threading.Thread(target=review, args=(f"r-{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == ["True"] + ["already_confirmed"] * 7
    assert [r["decision"] for r in rig.records() if r["event"] == "review"] == ["confirmed"]


def test_a_liveness_with_verify_result_is_a_decision_too(tmp_path: Path) -> None:
    import uuid

    rig = kit.Rig(tmp_path / "audit.jsonl")
    token = rig.token(ops=["liveness_verify"])
    session = rig.client.liveness.create_with_verify_session(
        verify_image=kit.OBAMA,
        liveness_operation_mode="Passive",
        device_correlation_id=str(uuid.uuid4()),
        consent=token,
    )
    before = len(rig.sent)
    with pytest.raises(OversightError) as plain:
        rig.client.liveness.get_with_verify_session_result(session.session_id)
    assert plain.value.reason == "oversight_required" and len(rig.sent) == before
    result = rig.client.oversight.get_with_verify_session_result(session.session_id)
    assert result.operation == "verify" and result.reviewers_required == 1
    with pytest.raises(ProvisionalResultError):
        result.results  # type: ignore[attr-defined]  # noqa: B018
    assert result.provisional.session_id == session.session_id
    with pytest.raises(InvalidInputError):
        result.confirm("desk-1", "same")  # type: ignore[arg-type]
    assert result.confirm("desk-1", False) is False
    assert rig.client.dispute(result.decision_id, "the person was refused at the desk")
    # Where no review is asked, the result is read as before.
    other = kit.Rig(tmp_path / "other.jsonl", UseCase.IDENTITY_VERIFICATION)
    plain_session = other.client.liveness.create_with_verify_session(
        verify_image=kit.OBAMA,
        liveness_operation_mode="Passive",
        device_correlation_id=str(uuid.uuid4()),
        consent=other.token(ops=["liveness_verify"]),
    )
    read = other.client.liveness.get_with_verify_session_result(plain_session.session_id)
    assert read.session_id == plain_session.session_id


def test_the_notebook_shows_a_provisional_result_as_awaiting_review(
    identified: tuple[kit.Rig, Any, dict[str, str]],
) -> None:
    from faceguard import notebook

    rig, result, people = identified
    html = notebook.show(result, names={people["obama"]: "obama"}).data
    assert "provisional: 0 of 2 review(s)" in html and ">obama<" in html
    result.confirm("alice", [people["obama"]])
    assert "provisional: 1 of 2 review(s)" in notebook.show(result).data
    with pytest.raises(TypeError):
        notebook.show(rig.client.review(result.decision_id))
