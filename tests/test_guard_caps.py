# ruff: noqa: RUF001 - fullwidth and other look-alike characters are the attack here
"""R19 liveness caps, attacked through the public client over the emulator.

Two caps hold: sessions per device (by ``deviceCorrelationId``) and sessions per application
(per Face resource, over the guard's store), which also counts the sessions whose device id is
set in the client (``device_correlation_id_set_in_client=True``, when the app never sees it).
A device id is canonicalised before it is counted, so
one device cannot pass as several by changing how its UUID is spelled.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from _guard_kit import TOKEN, policy
from _optable import JPEG
from faceguard import (
    AsyncFaceClient,
    FaceClient,
    FaceGuardError,
    InvalidInputError,
    LivenessGuardError,
    RetryPolicy,
)
from faceguard._guard._audit import AuditLog
from faceguard._guard._override import Override
from faceguard._guard._policy import GuardPolicy
from faceguard._guard._sqlite_store import SQLiteStore
from faceguard._guard._store import GuardStore, MemoryStore
from faceguard.emulator import Emulator, EngineFace

ENDPOINT = "https://caps.cognitiveservices.azure.com"
DEVICE = "3f0c9a52-7d1e-4b8a-9c6f-2e5d8a1b4c7e"


class Clock:
    """Starts at the real time (the kit's consent token is checked against it), then moves
    only when a test moves it."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class _OneFace:
    """A ``FaceEngine`` that finds one face in any image: liveness-with-verify needs one."""

    def detect(self, image: bytes) -> list[EngineFace]:
        points = [(float(60 + 10 * i), 80.0) for i in range(5)]
        return [
            EngineFace(
                left=40,
                top=40,
                width=200,
                height=200,
                score=0.95,
                landmarks5=(points[0], points[1], points[2], points[3], points[4]),
                landmarks27={},
                head_pose=(0.0, 0.0, 0.0),
                blur=0.1,
                exposure=0.5,
                noise=0.1,
                quality_for_recognition="high",
                embedding=struct.pack("<128f", *([1.0] + [0.0] * 127)),
            )
        ]

    def confidence(self, a: bytes, b: bytes) -> float:
        return 0.9


def _policy(
    store: GuardStore,
    clock: Clock,
    *,
    per_device: int = 3,
    per_application: int = 1000,
    audit: AuditLog | None = None,
) -> GuardPolicy:
    base = policy(store, clock=clock)
    return GuardPolicy(
        **{
            **vars(base),
            "liveness_sessions_per_device": per_device,
            "liveness_sessions_per_application": per_application,
            "audit": audit,
        }
    )


class Rig:
    def __init__(
        self,
        *,
        per_device: int = 3,
        per_application: int = 1000,
        store: GuardStore | None = None,
        clock: Clock | None = None,
        endpoint: str = ENDPOINT,
        audit: AuditLog | None = None,
        emulator: Emulator | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.store = store if store is not None else MemoryStore(clock=self.clock)
        self.emulator = emulator or Emulator(engine=_OneFace())
        self.client = FaceClient(
            endpoint,
            api_key="k",
            transport=self.emulator.transport(),
            retry=RetryPolicy(max_attempts=1),
            guard=_policy(
                self.store,
                self.clock,
                per_device=per_device,
                per_application=per_application,
                audit=audit,
            ),
        )

    def sent(self) -> int:
        return len(self.emulator.faults.traffic())

    def create(self, device: str | None = None, **extra: Any) -> object:
        return self.client.liveness.create_session(
            liveness_operation_mode="Passive", device_correlation_id=device, **extra
        )

    def in_client(self, **extra: Any) -> object:
        return self.client.liveness.create_session(
            liveness_operation_mode="Passive", device_correlation_id_set_in_client=True, **extra
        )

    def with_verify(self, device: str | None = None, **extra: Any) -> object:
        return self.client.liveness.create_with_verify_session(
            verify_image=JPEG,
            liveness_operation_mode="Passive",
            device_correlation_id=device,
            consent=TOKEN,
            **extra,
        )


def refused(
    rig: Rig, call: Callable[[], object], error: type[Exception] = LivenessGuardError
) -> Any:
    before = rig.sent()
    with pytest.raises(error) as info:
        call()
    assert rig.sent() == before, "a refused session reached the service"
    return info.value


# -- device ids are canonicalised before counting -------------------------------------------------

SPELLINGS = {
    "upper": DEVICE.upper(),
    "no-dashes": DEVICE.replace("-", ""),
    "upper-no-dashes": DEVICE.replace("-", "").upper(),
    "braces": "{" + DEVICE + "}",
    "urn": "urn:uuid:" + DEVICE,
    "urn-upper": "URN:UUID:" + DEVICE.upper(),
    "whitespace": "  " + DEVICE + "\t",
    "fullwidth": DEVICE.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789abcdef-"}),
    "mixed-case": "".join(c.upper() if i % 2 else c for i, c in enumerate(DEVICE)),
    "zero-width": DEVICE[:8] + "\u200b" + DEVICE[8:],
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_one_device_in_another_spelling_is_the_same_device(spelling: str) -> None:
    rig = Rig(per_device=3)
    rig.create(DEVICE)
    rig.create(DEVICE)
    rig.create(SPELLINGS[spelling])  # accepted: the third session of the device
    error = refused(rig, lambda: rig.create(SPELLINGS[spelling]))
    assert "sessions" in str(error)
    refused(rig, lambda: rig.create(DEVICE))


def test_every_spelling_counts_against_one_device() -> None:
    rig = Rig(per_device=len(SPELLINGS))
    for value in SPELLINGS.values():
        rig.create(value)
    refused(rig, lambda: rig.create(DEVICE.upper()))
    rig.create(str(uuid.uuid4()))  # another device is not affected


def test_hex_tokens_differing_only_in_case_are_one_device() -> None:
    token = "9f86d081884c7d659a2feaa0c55ad015"
    rig = Rig(per_device=2)
    rig.create(token)
    rig.create(token.upper())
    refused(rig, lambda: rig.create(" " + token + " "))


def test_a_personal_device_id_is_still_refused_in_any_spelling() -> None:
    rig = Rig()
    for value in [
        "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        " alice@example.com ",
        "{+44 20 7946 0958}",
    ]:
        refused(rig, lambda value=value: rig.create(value))


@pytest.mark.parametrize("value", ["\ud800" * 36, DEVICE[:-1] + "\udfff"])
def test_a_device_id_with_a_lone_surrogate_is_a_typed_input_error(value: str) -> None:
    rig = Rig()
    refused(rig, lambda: rig.create(value), InvalidInputError)


# -- the per-application cap ---------------------------------------------------------------


def test_sessions_with_the_device_id_set_in_the_client_are_capped() -> None:
    rig = Rig(per_application=3)
    for _ in range(3):
        rig.in_client()
    error = refused(rig, rig.in_client)
    assert "application" in str(error)


def test_the_application_cap_counts_every_kind_of_session_together() -> None:
    rig = Rig(per_application=5, per_device=100)
    rig.in_client()
    rig.create(str(uuid.uuid4()))
    rig.create(str(uuid.uuid4()))
    rig.in_client()
    rig.with_verify(str(uuid.uuid4()))
    for call in (
        rig.in_client,
        lambda: rig.create(str(uuid.uuid4())),  # a fresh device does not escape it
        lambda: rig.with_verify(str(uuid.uuid4())),
    ):
        refused(rig, call)


def test_the_application_cap_is_per_face_resource_across_clients_sharing_a_store(
    tmp_path: Path,
) -> None:
    clock = Clock()
    path = tmp_path / "guard.sqlite"
    first = Rig(per_application=3, store=SQLiteStore(path, clock=clock), clock=clock)
    # Another process of the same app: its own client and store connection, the same file,
    # and the same resource spelled differently.
    second = Rig(
        per_application=3,
        store=SQLiteStore(path, clock=clock),
        clock=clock,
        endpoint=ENDPOINT.upper() + "/",
        emulator=first.emulator,
    )
    other_resource = Rig(
        per_application=3,
        store=SQLiteStore(path, clock=clock),
        clock=clock,
        endpoint="https://another.cognitiveservices.azure.com",
        emulator=first.emulator,
    )
    first.in_client()
    second.in_client()
    first.create(str(uuid.uuid4()))
    refused(second, second.in_client)
    refused(first, lambda: first.create(str(uuid.uuid4())))
    other_resource.in_client()  # another resource has its own budget


def test_the_application_cap_window_passes() -> None:
    rig = Rig(per_application=2)
    rig.in_client()
    rig.in_client()
    refused(rig, rig.in_client)
    rig.clock.now += 3601
    rig.in_client()


def test_the_application_cap_is_overridable_and_the_override_is_audited(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    try:
        rig = Rig(per_application=1, audit=audit)
        rig.in_client()
        refused(rig, rig.in_client)
        # The per-device override is another rule: it does not lift the application cap.
        refused(
            rig,
            lambda: rig.in_client(
                override=Override("liveness_session_cap", "kiosk reboot loop, ticket 4711")
            ),
        )
        rig.in_client(
            override=Override("liveness_application_cap", "launch day, approved by ops lead")
        )
    finally:
        audit.close()
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    overrides = [record for record in records if record["event"] == "override"]
    assert len(overrides) == 1
    assert "liveness_application_cap" in overrides[0]["reason"]
    assert "launch day" in overrides[0]["reason"]


def test_the_async_client_enforces_the_application_cap() -> None:
    clock = Clock()
    emulator = Emulator(engine=_OneFace())

    async def run() -> None:
        async with AsyncFaceClient(
            ENDPOINT,
            api_key="k",
            transport=emulator.transport(),
            guard=_policy(MemoryStore(clock=clock), clock, per_application=2),
        ) as client:
            for _ in range(2):
                await client.liveness.create_session(
                    liveness_operation_mode="Passive", device_correlation_id_set_in_client=True
                )
            with pytest.raises(LivenessGuardError):
                await client.liveness.create_session(
                    liveness_operation_mode="Passive", device_correlation_id_set_in_client=True
                )

    asyncio.run(run())
    assert len(emulator.faults.traffic()) == 2


def test_refused_device_sessions_do_not_spend_the_application_budget() -> None:
    """One probing device cannot lock every other device of the app out."""
    rig = Rig(per_device=1, per_application=3)
    rig.create(DEVICE)
    for _ in range(5):
        refused(rig, lambda: rig.create(DEVICE))
    rig.create(str(uuid.uuid4()))
    rig.in_client()


@pytest.mark.parametrize("value", [0, -1, 1.5, None, "10"])
def test_the_application_cap_must_be_a_positive_integer(value: Any) -> None:
    with pytest.raises(InvalidInputError):
        GuardPolicy(liveness_sessions_per_application=value)
    with pytest.raises(FaceGuardError):
        GuardPolicy(liveness_sessions_per_device=value)


def test_the_default_application_cap_exists_and_is_documented() -> None:
    default = GuardPolicy().liveness_sessions_per_application
    assert isinstance(default, int) and 0 < default <= 10_000
    assert "liveness_sessions_per_application" in (GuardPolicy.__doc__ or "")
