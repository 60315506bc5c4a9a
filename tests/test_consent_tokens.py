"""Consent assertions (GUARD.md §3): minting, and every §9 vector of groups 3, 5 and 6 that
concerns the token itself, each asserting the exact ``check`` that refuses it.

A missing token is the caller's concern (it raises ``ConsentRequiredError``); revocation
(group 4) and ledger-based binding are other components'. The clock is injected everywhere.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import subprocess
import sys
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faceguard import ConfigurationError, ConsentRejectedError, InvalidInputError
from faceguard._guard._consent import (
    MAX_LIFETIME,
    ConsentClaims,
    ConsentIssuer,
    ConsentScope,
    ConsentVerifier,
    generate_keypair,
)
from faceguard._guard._store import MemoryStore
from faceguard._guard._usecases import UseCase

NOW = 1_767_225_600.0
ISS = "https://consent.example.com"
AUD = "faceguard:deploy:hq-access"
ENDPOINT = "https://hq-face.cognitiveservices.azure.com"
AUDS = [AUD, ENDPOINT]
SESSION = bytes(range(32))  # the test's client session handle
KID = "k1"
UC = UseCase.TOUCHLESS_ACCESS_CONTROL
GROUP = ("largePersonGroup", "hq-staff")
IDENTIFY = ConsentScope("identify", *GROUP)


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(obj: Any) -> str:
    return b64(json.dumps(obj).encode())


PRIVATE_PEM, PUBLIC_PEM = generate_keypair()
_loaded = serialization.load_pem_private_key(PRIVATE_PEM, password=None)
assert isinstance(_loaded, Ed25519PrivateKey)
PRIVATE_KEY: Ed25519PrivateKey = _loaded


def header(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"alg": "EdDSA", "typ": "fg-consent+jwt", "kid": KID}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def claims(*, use: str = "session", lifetime: int = 600, **changes: Any) -> dict[str, Any]:
    iat = int(NOW)
    base: dict[str, Any] = {
        "iss": ISS,
        "sub": "p-7f3c9a1e5b",
        "aud": AUDS,
        "iat": iat,
        "nbf": iat,
        "exp": iat + lifetime,
        "jti": "0b6c3c1e-6f3e-4d7e-9d1a-5c2b8f0e9a11",
        "consent": {
            "rid": "cr-2026-000123",
            "uc": UC.value,
            "ops": ["detect_template", "identify", "verify"],
            "bind": [{"kind": GROUP[0], "id": GROUP[1], "person_id": "person-1"}],
            "use": use,
            "alt": True,  # access control: a way in without a face scan was offered (R06)
        },
    }
    base.update(changes)
    return base


def mint(payload: dict[str, Any], hdr: dict[str, Any] | None = None, *, key: Any = None) -> str:
    """Sign anything with Ed25519, bypassing every limit ConsentIssuer applies."""
    signing_input = f"{b64json(header() if hdr is None else hdr)}.{b64json(payload)}"
    signature = (key or PRIVATE_KEY).sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64(signature)}"


def verifier(clock: Clock | None = None, **kwargs: Any) -> ConsentVerifier:
    kwargs.setdefault("replay_store", MemoryStore(clock=clock or Clock()))
    return ConsentVerifier(
        {KID: PUBLIC_PEM}, issuer=ISS, audience=AUD, clock=clock or Clock(), **kwargs
    )


def rejected(token: str, check: str, *, scope: ConsentScope = IDENTIFY, **kwargs: Any) -> None:
    v = kwargs.pop("v", None) or verifier(**kwargs)
    with pytest.raises(ConsentRejectedError) as info:
        v.verify(token, scope, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    assert info.value.check == check, str(info.value)


def test_valid_token_verifies_to_its_claims():
    result = verifier().verify(
        mint(claims()), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )
    assert result.subject == "p-7f3c9a1e5b"
    assert result.use == "session" and result.use_case is UC
    assert result.operations == {"detect_template", "identify", "verify"}
    assert result.bindings == (("largePersonGroup", "hq-staff", "person-1"),)
    assert result.record_id == "cr-2026-000123" and result.kid == KID
    assert result.expires_at == NOW + 600
    assert len(result.jti_hash) == 64 and result.jti not in result.jti_hash


# -- §9 group 3: bad tokens ---------------------------------------------------------------


def test_alg_none_is_refused():
    token = f"{b64json(header(alg='none'))}.{b64json(claims())}."
    rejected(token, "alg")


def test_hs256_with_the_public_key_pem_as_secret_is_refused():
    signing_input = f"{b64json(header(alg='HS256'))}.{b64json(claims())}"
    mac = hmac.new(PUBLIC_PEM, signing_input.encode(), hashlib.sha256).digest()
    rejected(f"{signing_input}.{b64(mac)}", "alg")


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256", "HS512", "eddsa", "ED25519", 1, None])
def test_other_algs_are_refused(alg):
    rejected(mint(claims(), {**header(), "alg": alg}), "alg")


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_both_ed25519_identifiers_are_accepted(alg):
    verifier().verify(
        mint(claims(), header(alg=alg)), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("jku", "https://evil.example/jwks.json"),
        ("x5u", "https://evil.example/cert.pem"),
        ("jwk", {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}),
        ("x5c", ["MIIB"]),
        ("crit", ["exp"]),
    ],
)
def test_forbidden_headers_are_refused(name, value):
    rejected(mint(claims(), header(**{name: value})), "header")


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt", "FG-CONSENT+JWT", "", 7])
def test_wrong_typ_is_refused(typ):
    rejected(mint(claims(), header(typ=typ)), "typ")


def test_missing_typ_is_refused():
    hdr = header()
    del hdr["typ"]
    rejected(mint(claims(), hdr), "typ")


def test_header_that_is_not_a_json_object_is_refused():
    rejected(f"{b64(b'[1]')}.{b64json(claims())}.{b64(bytes(64))}", "typ")
    deep = b64(b"[" * 2500 + b"]" * 2500)
    rejected(f"{deep}.{b64json(claims())}.{b64(bytes(64))}", "typ")


def test_unknown_or_missing_kid_is_refused():
    rejected(mint(claims(), header(kid="k2")), "kid")
    rejected(mint(claims(), header(kid=None)), "kid")
    rejected(mint(claims(), header(kid=["k1"])), "kid")


def test_token_signed_by_another_key_under_a_known_kid_is_refused():
    rejected(mint(claims(), key=Ed25519PrivateKey.generate()), "signature")


def test_tampered_payload_is_refused():
    h, _, s = mint(claims()).split(".")
    forged = claims(consent={**claims()["consent"], "ops": ["identify", "enroll"]})
    rejected(f"{h}.{b64json(forged)}.{s}", "signature")


def test_truncated_signature_is_refused():
    h, p, s = mint(claims()).split(".")
    short = b64(base64.urlsafe_b64decode(s + "==")[:-1])
    rejected(f"{h}.{p}.{short}", "signature")
    rejected(f"{h}.{p}.", "signature")


def test_wrong_issuer_is_refused():
    rejected(mint(claims(iss="https://evil.example")), "issuer")
    rejected(mint({k: v for k, v in claims().items() if k != "iss"}), "issuer")


@pytest.mark.parametrize(
    "aud",
    [
        "faceguard:deploy:other",
        ["faceguard:deploy:other"],
        [],
        5,
        ["faceguard:deploy:other", ENDPOINT],
        [AUD, "https://other-face.cognitiveservices.azure.com"],
        AUD,  # a single string cannot name both the deployment and the resource
        [AUD],
        ENDPOINT,
        [ENDPOINT],
        [AUD, [ENDPOINT]],
    ],
)
def test_wrong_audience_is_refused(aud):
    rejected(mint(claims(aud=aud)), "audience")


def test_audience_is_checked_against_the_endpoint_of_each_call():
    v = verifier()
    token = mint(claims())
    v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT + "/", session=SESSION)
    for endpoint in ("https://other-face.cognitiveservices.azure.com", "not a url", ""):
        with pytest.raises(ConsentRejectedError) as info:
            v.verify(token, IDENTIFY, use_case=UC, endpoint=endpoint, session=SESSION)
        assert info.value.check == "audience"


def test_expired_beyond_leeway_is_refused_and_within_leeway_accepted():
    token = mint(claims())
    clock = Clock(NOW + 600 + 60)
    rejected(token, "expired", clock=clock)
    clock = Clock(NOW + 600 + 59)
    verifier(clock).verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)


def test_nbf_in_the_future_is_refused():
    token = mint(claims(nbf=int(NOW) + 61))
    rejected(token, "not_yet_valid")
    verifier(Clock(NOW + 1)).verify(
        token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )


def test_iat_in_the_future_is_refused():
    rejected(mint(claims(iat=int(NOW) + 120)), "issued_in_future")


@pytest.mark.parametrize("use", ["once", "session", "standing"])
def test_lifetime_over_the_maximum_for_its_use_is_refused(use):
    limit = MAX_LIFETIME[use]
    rejected(mint(claims(use=use, lifetime=limit + 1)), "lifetime")
    token = mint(claims(use=use, lifetime=limit))
    if use == "standing":  # past the lifetime check, stopped by the next one (§3.1)
        rejected(token, "status_required")
        return
    verifier().verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)


def test_session_lifetime_does_not_pass_as_once():
    rejected(mint(claims(use="once", lifetime=3600)), "lifetime")


@pytest.mark.parametrize(
    "change",
    [
        {"sub": None},
        {"sub": ""},
        {"sub": 42},
        {"jti": None},
        {"jti": "x" * 300},
        {"consent": None},
        {"consent": "yes"},
        {"consent.uc": "commercial.surveillance"},
        {"consent.uc": None},
        {"consent.ops": []},
        {"consent.ops": ["identify", "emotion"]},
        {"consent.ops": "identify"},
        {"consent.use": "forever"},
        {"consent.use": None},
        {"consent.bind": {"kind": "largePersonGroup", "id": "hq-staff"}},
        {"consent.bind": [{"kind": "bucket", "id": "hq-staff"}]},
        {"consent.bind": [{"kind": "largePersonGroup"}]},
        {"consent.bind": [{"kind": "largePersonGroup", "id": "x", "person_id": 3}]},
        {"consent.rid": 12},
        {"exp": "tomorrow"},
        {"iat": None},
        {"nbf": True},
        {"exp": 10**400},
    ],
)
def test_ill_formed_claims_are_refused(change):
    payload = claims()
    ((name, value),) = change.items()
    target, key = (payload["consent"], name[8:]) if name.startswith("consent.") else (payload, name)
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value
    rejected(mint(payload), "claims")


def test_payload_that_is_not_json_is_refused_after_the_signature():
    hdr = b64json(header())
    body = b64(b'{"iss": NaN}')
    signature = PRIVATE_KEY.sign(f"{hdr}.{body}".encode())
    rejected(f"{hdr}.{body}.{b64(signature)}", "claims")
    body = b64(b'{"iss": "a", "iss": "b"}')
    signature = PRIVATE_KEY.sign(f"{hdr}.{body}".encode())
    rejected(f"{hdr}.{body}.{b64(signature)}", "claims")


def test_ill_formed_claims_are_reported_after_the_time_checks():
    payload = claims()
    payload["consent"]["ops"] = ["emotion"]
    rejected(mint(payload), "expired", clock=Clock(NOW + 7200))
    rejected(mint(payload), "claims")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "a.b.c.d.e",  # JWE shape
        ".eyJ9.sig",
        "eyJ9..sig",
        "a+b.c/d.e",
        "héllo.wörld.x",
        "a=.b.c",
        "x" * 9000,
    ],
)
def test_malformed_tokens_are_refused(token):
    rejected(token, "malformed")


def test_non_canonical_base64_is_refused():
    h, p, s = mint(claims()).split(".")
    # the last character of a 64-byte signature carries 4 unused bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = alphabet[alphabet.index(s[-1]) ^ 1]
    rejected(f"{h}.{p}.{s[:-1]}{sibling}", "malformed")


def test_oversized_token_is_refused_before_parsing():
    rejected(mint(claims(pad="x" * 8192)), "malformed")


def test_non_string_token_is_refused():
    with pytest.raises(ConsentRejectedError) as info:
        verifier().verify(b"a.b.c", IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)  # type: ignore[arg-type]
    assert info.value.check == "malformed"


# -- §9 group 5: replay -------------------------------------------------------------------


def test_once_token_is_refused_on_second_use():
    clock = Clock()
    v = verifier(clock)
    token = mint(claims(use="once"))
    v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    clock.now += 1
    rejected(token, "replay", v=v)


def test_once_token_is_spent_across_verifiers_sharing_a_store():
    store = MemoryStore(clock=Clock())
    token = mint(claims(use="once"))
    verifier(replay_store=store).verify(
        token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )
    rejected(token, "replay", replay_store=store)


def test_once_token_needs_a_replay_store():
    with pytest.raises(ConsentRejectedError, match="store") as info:
        verifier(replay_store=None).verify(
            mint(claims(use="once")), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
        )
    assert info.value.check == "replay"


def test_replay_entry_lives_until_exp_plus_leeway():
    clock = Clock()
    store = MemoryStore(clock=clock)
    v = verifier(clock, replay_store=store)
    v.verify(mint(claims(use="once")), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    assert store.keys("consent-jti") == ["0b6c3c1e-6f3e-4d7e-9d1a-5c2b8f0e9a11"]
    clock.now = NOW + 600 + 60
    assert store.keys("consent-jti") == []


def test_session_token_may_be_reused_by_its_session():
    clock = Clock()
    v = verifier(clock)
    token = mint(claims(use="session"))
    for _ in range(3):
        assert v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION).use == (
            "session"
        )
        clock.now += 10


def test_session_token_is_refused_in_another_session_and_with_none():
    store = MemoryStore(clock=Clock())
    token = mint(claims(use="session"))
    verifier(replay_store=store).verify(
        token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )
    for other in (bytes(32), SESSION[:-1] + b"\xff", SESSION + b"x", None):
        with pytest.raises(ConsentRejectedError) as info:
            verifier(replay_store=store).verify(
                token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=other
            )
        assert info.value.check == "replay"
    with pytest.raises(ConsentRejectedError) as info:
        verifier(replay_store=None).verify(
            token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
        )
    assert info.value.check == "replay"


def test_replay_store_keeps_a_digest_of_the_session_handle_not_the_handle():
    store = MemoryStore(clock=Clock())
    verifier(replay_store=store).verify(
        mint(claims(use="session")), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )
    kept = store.get("consent-jti", "0b6c3c1e-6f3e-4d7e-9d1a-5c2b8f0e9a11")
    assert kept is not None and SESSION not in kept and len(kept) == 32


@pytest.mark.parametrize("status", [None, "absent"])
def test_standing_token_without_status_is_refused(status):
    payload = claims(use="standing", lifetime=3600)
    if status is None:
        payload["status"] = None
    rejected(mint(payload), "claims" if status is None else "status_required")


def test_once_token_refused_for_scope_is_not_spent():
    v = verifier()
    token = mint(claims(use="once"))
    rejected(token, "operation", scope=ConsentScope("enroll", *GROUP), v=v)
    v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)


# -- §9 group 6: scope and binding --------------------------------------------------------


def test_operation_not_in_ops_is_refused():
    rejected(mint(claims()), "operation", scope=ConsentScope("enroll", *GROUP))
    rejected(mint(claims()), "operation", scope=ConsentScope("find_similar"))


def test_use_case_not_declared_is_refused():
    v = verifier()
    token = mint(claims())
    with pytest.raises(ConsentRejectedError) as info:
        v.verify(
            token,
            IDENTIFY,
            use_case=UseCase.IDENTITY_VERIFICATION,
            endpoint=ENDPOINT,
            session=SESSION,
        )
    assert info.value.check == "use_case"
    assert (
        v.verify(token, IDENTIFY, use_case=None, endpoint=ENDPOINT, session=SESSION).use_case is UC
    )


def test_container_not_bound_is_refused():
    token = mint(claims())
    rejected(token, "container", scope=ConsentScope("identify", "largePersonGroup", "other"))
    rejected(token, "container", scope=ConsentScope("identify", "personGroup", "hq-staff"))
    no_bind = claims()
    del no_bind["consent"]["bind"]
    rejected(mint(no_bind), "container")
    verifier().verify(
        mint(no_bind),
        ConsentScope("detect_template"),
        use_case=UC,
        endpoint=ENDPOINT,
        session=SESSION,
    )


def test_person_not_bound_is_refused():
    token = mint(claims())
    rejected(token, "person", scope=ConsentScope("verify", *GROUP, person_id="person-2"))
    verifier().verify(
        token,
        ConsentScope("verify", *GROUP, person_id="person-1"),
        use_case=UC,
        endpoint=ENDPOINT,
        session=SESSION,
    )
    bare = claims()
    bare["consent"]["bind"] = [{"kind": GROUP[0], "id": GROUP[1]}]
    rejected(mint(bare), "person", scope=ConsentScope("verify", *GROUP, person_id="person-1"))


def test_scope_is_validated_at_construction():
    with pytest.raises(ValueError, match="operation"):
        ConsentScope("emotion")
    with pytest.raises(ValueError, match="kind"):
        ConsentScope("identify", "bucket", "x")
    with pytest.raises(ValueError, match="together"):
        ConsentScope("identify", "personGroup")
    with pytest.raises(ValueError, match="container"):
        ConsentScope("verify", person_id="p")


# -- the verifier's configuration and cache -----------------------------------------------


def test_leeway_is_capped_at_300_seconds():
    verifier(leeway=300)
    for bad in (300.5, 3600, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="leeway"):
            verifier(leeway=bad)


def test_verifier_refuses_private_and_non_ed25519_keys():
    with pytest.raises(ValueError, match="public"):
        ConsentVerifier({KID: PRIVATE_PEM}, issuer=ISS, audience=AUD)
    with pytest.raises(InvalidInputError, match="public key"):  # typed, not TypeError
        ConsentVerifier({KID: PRIVATE_KEY}, issuer=ISS, audience=AUD)  # type: ignore[dict-item]
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="Ed25519"):
        ConsentVerifier({KID: ec_pem}, issuer=ISS, audience=AUD)
    with pytest.raises(ValueError, match="at least one"):
        ConsentVerifier({}, issuer=ISS, audience=AUD)


def test_verifier_holds_no_private_material():
    v = ConsentVerifier(
        {KID: PUBLIC_PEM.decode(), "k0": PRIVATE_KEY.public_key()},
        issuer=ISS,
        audience=AUD,
        clock=Clock(),
        replay_store=MemoryStore(clock=Clock()),
    )
    v.verify(mint(claims()), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    private_body = PRIVATE_PEM.decode().splitlines()[1]
    dumped = repr(v) + repr(vars(v))
    assert "PRIVATE" not in dumped and private_body not in dumped
    for value in vars(v).values():
        assert not isinstance(value, Ed25519PrivateKey)
    for key in v._keys.values():
        assert not hasattr(key, "private_bytes")


def test_claims_repr_has_no_token():
    token = mint(claims())
    result = verifier().verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    for text in (repr(result), str(result), repr(vars(result))):
        for part in token.split("."):
            assert part not in text


def test_cache_never_stores_the_raw_token():
    token = mint(claims())
    v = verifier()
    v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    assert list(v._cache) == [hashlib.sha256(token.encode()).digest()]
    assert token not in repr(vars(v)) + repr(list(v._cache.values()))


def test_cached_tokens_still_get_time_scope_and_replay_checks():
    clock = Clock()
    v = verifier(clock)
    token = mint(claims())
    v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    rejected(token, "operation", scope=ConsentScope("enroll", *GROUP), v=v)
    rejected(token, "container", scope=ConsentScope("identify", "personGroup", "x"), v=v)
    clock.now = NOW + 700
    rejected(token, "expired", v=v)
    clock.now = NOW
    once = mint(claims(use="once", jti="j-once"))
    v.verify(once, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    rejected(once, "replay", v=v)


def test_cache_is_bounded():
    v = verifier(cache_size=2)
    for n in range(4):
        v.verify(
            mint(claims(jti=f"j{n}")), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
        )
    assert len(v._cache) == 2
    off = verifier(cache_size=0)
    off.verify(mint(claims()), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    assert not off._cache


# -- the issuer ---------------------------------------------------------------------------


def make_issuer(clock: Clock | None = None) -> ConsentIssuer:
    return ConsentIssuer(PRIVATE_PEM, issuer=ISS, kid=KID, clock=clock or Clock())


def test_issued_token_has_the_documented_shape():
    token = make_issuer().issue(
        "p-7f3c9a1e5b",
        audience=AUDS,
        operations=["identify", "detect_template"],
        use_case=UC,
        bindings=[(*GROUP, "person-1"), ("faceList", "fl-1")],
        use="session",
        record_id="cr-1",
        jti="j-1",
        alternative_offered=True,
    )
    h, p, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(pad(h))) == {
        "alg": "EdDSA",
        "typ": "fg-consent+jwt",
        "kid": KID,
    }
    payload = json.loads(base64.urlsafe_b64decode(pad(p)))
    assert payload == {
        "iss": ISS,
        "sub": "p-7f3c9a1e5b",
        "aud": AUDS,
        "iat": int(NOW),
        "nbf": int(NOW),
        "exp": int(NOW) + 3600,
        "jti": "j-1",
        "consent": {
            "uc": UC.value,
            "ops": ["detect_template", "identify"],
            "bind": [
                {"kind": "largePersonGroup", "id": "hq-staff", "person_id": "person-1"},
                {"kind": "faceList", "id": "fl-1"},
            ],
            "use": "session",
            "alt": True,
            "rid": "cr-1",
        },
    }
    result = verifier().verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    assert result.bindings[1] == ("faceList", "fl-1", None)


def test_issued_tokens_round_trip_and_get_fresh_jtis():
    issuer = make_issuer()
    kwargs: dict[str, Any] = {
        "audience": [AUD, ENDPOINT, "x"],
        "operations": ["identify"],
        "use_case": UC,
        "use": "session",
        "alternative_offered": True,  # access control (R06)
    }
    first = issuer.issue("p-1", bindings=[GROUP], **kwargs)
    second = issuer.issue("p-1", bindings=[GROUP], **kwargs)
    v = verifier()
    assert (
        v.verify(first, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION).jti
        != v.verify(second, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION).jti
    )


@pytest.mark.parametrize(
    "subject",
    [
        "alice@example.com",
        "bob.smith@corp.co.uk",
        "+1 (555) 010-2030",
        "+447700900123",
        "5550102030",
    ],
)
def test_issuer_refuses_email_and_phone_subjects(subject):
    with pytest.raises(ValueError, match="pseudonymous"):
        make_issuer().issue(subject, audience=AUDS, operations=["verify"], use_case=UC)


@pytest.mark.parametrize(("use", "limit"), sorted(MAX_LIFETIME.items()))
def test_issuer_refuses_over_long_lifetimes(use, limit):
    issuer = make_issuer()
    base: dict[str, Any] = {
        "audience": AUDS,
        "operations": ["verify"],
        "use_case": UC,
        "alternative_offered": True,  # access control (R06)
    }
    if use == "standing":
        base["status"] = ("https://consent.example.com/status/1", 4)
    with pytest.raises(ValueError, match="at most"):
        issuer.issue("p-1", use=use, lifetime=limit + 1, **base)
    token = issuer.issue("p-1", use=use, lifetime=limit, **base)
    if use == "standing":  # past the lifetime check; no status lists loaded here
        rejected(token, "status_unknown", scope=ConsentScope("verify"))
        return
    result = verifier().verify(
        token, ConsentScope("verify"), use_case=UC, endpoint=ENDPOINT, session=SESSION
    )
    assert result.expires_at - result.issued_at == limit


def test_issuer_default_lifetime_is_the_maximum_for_its_use():
    token = make_issuer().issue(
        "p-1", audience=AUDS, operations=["verify"], use_case=UC, alternative_offered=True
    )
    result = verifier().verify(
        token, ConsentScope("verify"), use_case=UC, endpoint=ENDPOINT, session=SESSION
    )
    assert result.use == "once" and result.expires_at - result.issued_at == 600


@pytest.mark.parametrize(
    "kwargs",
    [
        {"operations": []},
        {"operations": ["emotion"]},
        {"use_case": "commercial.surveillance"},
        {"use": "forever"},
        {"lifetime": 0},
        {"bindings": [("bucket", "x")]},
        {"audience": []},
        {"audience": AUD},
        {"audience": [AUD]},
        {"audience": [ENDPOINT]},
        {"audience": [AUD, "ftp://hq-face.cognitiveservices.azure.com"]},
        {"use": "standing"},  # no status entry
        {"not_before": NOW + 10_000},
    ],
)
def test_issuer_refuses_bad_arguments(kwargs):
    base: dict[str, Any] = {"audience": AUDS, "operations": ["verify"], "use_case": UC}
    with pytest.raises(ValueError):
        make_issuer().issue("p-1", **{**base, **kwargs})


def test_issuer_repr_and_keys():
    issuer, public_pem = ConsentIssuer.generate(issuer=ISS, kid="dev")
    assert issuer.public_key_pem() == public_pem
    assert "PRIVATE" not in repr(issuer) and "dev" in repr(issuer)
    jwk = issuer.public_jwk()
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["kid"] == "dev"
    assert len(base64.urlsafe_b64decode(jwk["x"] + "=")) == 32
    with pytest.raises(ValueError, match="Ed25519"):
        from cryptography.hazmat.primitives.asymmetric import ec

        ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        ConsentIssuer(ec_key, issuer=ISS, kid=KID)


# -- optional dependencies ----------------------------------------------------------------


def test_import_faceguard_does_not_import_jwt_or_cryptography():
    code = (
        "import sys, faceguard, faceguard._guard._consent\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('jwt', 'cryptography')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_dependencies_raise_configuration_error(monkeypatch):
    for name in list(sys.modules):
        if name.split(".")[0] in ("jwt", "cryptography"):
            monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ConfigurationError, match=r'pip install "faceguard\[consent\]"'):
        generate_keypair()
    with pytest.raises(ConfigurationError, match="consent"):
        ConsentVerifier({KID: PUBLIC_PEM}, issuer=ISS, audience=AUD)


# -- fuzzing ------------------------------------------------------------------------------

VALID = mint(claims())
FUZZ_VERIFIER = verifier()
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
chars = st.one_of(st.sampled_from(B64_ALPHABET + ".=+/ "), st.characters())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)
header_keys = st.sampled_from(["alg", "typ", "kid", "jku", "x5u", "jwk", "x5c", "crit", "cty"])
header_values = st.one_of(
    json_values, st.sampled_from(["EdDSA", "Ed25519", "none", "HS256", "fg-consent+jwt", KID])
)


@st.composite
def mutated_tokens(draw: st.DrawFn) -> tuple[str, bool]:
    """A mutation of a valid token, and whether it may still verify."""
    kind = draw(st.sampled_from(["flip", "insert", "delete", "swap", "segment", "header", "same"]))
    if kind == "same":
        return VALID, True
    return draw(_mutations(kind))


@st.composite
def _mutations(draw: st.DrawFn, kind: str) -> tuple[str, bool]:
    token = VALID
    if kind in ("flip", "insert", "delete"):
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, max(len(token) - 1, 0)))
            if kind == "flip":
                token = token[:i] + draw(chars) + token[i + 1 :]
            elif kind == "insert":
                token = token[:i] + draw(chars) + token[i:]
            else:
                token = token[:i] + token[i + 1 :]
        return token, token == VALID
    parts = token.split(".")
    if kind == "swap":
        order = draw(st.permutations(range(3)))
        return ".".join(parts[i] for i in order), order == [0, 1, 2]
    if kind == "segment":
        parts[draw(st.integers(0, 2))] = b64(draw(st.binary(max_size=200)))
        return ".".join(parts), False
    hdr = draw(st.dictionaries(header_keys, header_values, max_size=5))
    if draw(st.booleans()):
        return mint(claims(), hdr), True  # validly signed: passes if the header is right
    return f"{b64json(hdr)}.{parts[1]}.{parts[2]}", False


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_tokens())
def test_fuzzed_tokens_only_raise_consent_rejected(case):
    token, may_pass = case
    try:
        FUZZ_VERIFIER.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    except ConsentRejectedError:
        assert token != VALID
    else:
        assert may_pass, token


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*claims(), "consent", "x"]), json_values, max_size=9))
def test_fuzzed_signed_claims_only_raise_consent_rejected(changes):
    payload = claims()
    payload.update(changes)
    try:
        result = FUZZ_VERIFIER.verify(
            mint(payload), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
        )
    except ConsentRejectedError:
        return
    assert isinstance(result, ConsentClaims)


def test_identifier_index_and_uri_limits_are_exact():
    issuer = make_issuer()
    base: dict[str, Any] = {"audience": AUDS, "operations": ["verify"], "use_case": UC}
    issuer.issue("p" * 256, **base)
    for bad in ("p" * 257, ""):
        with pytest.raises(ValueError, match="subject"):
            issuer.issue(bad, **base)
    with pytest.raises(ValueError, match="kid"):
        ConsentIssuer(PRIVATE_PEM, issuer=ISS, kid=7)  # type: ignore[arg-type]
    uri = "https://consent.example.com/" + "s" * (2048 - 28)
    assert len(uri) == 2048
    issuer.issue("p-1", status=(uri, 2**53 - 1), **base)
    for status in ((uri + "s", 1), (uri, 2**53)):
        with pytest.raises(ValueError, match="status"):
            issuer.issue("p-1", status=status, **base)


def test_issuer_argument_limits_are_exact():
    from faceguard._guard._usecases import CONSENT_OPERATIONS

    issuer = make_issuer()
    base: dict[str, Any] = {"audience": AUDS, "use_case": UC}
    issuer.issue("p-1", operations=CONSENT_OPERATIONS, **base)  # every operation at once
    issuer.issue("p-1", operations=["verify"], lifetime=1, **base)  # the shortest lifetime
    issuer.issue("p-1234567-a", operations=["verify"], **base)  # digits, but not a phone
    with pytest.raises(ValueError, match="pseudonymous"):
        issuer.issue("555-0102", operations=["verify"], **base)  # seven digits: a phone
    with pytest.raises(ValueError, match="not_before"):
        issuer.issue("p-1", operations=["verify"], lifetime=60, not_before=NOW + 60, **base)


# -- exact limits of the verifier (from a mutation survey of _consent) -------------------------


def test_cache_hits_skip_the_signature_and_evict_the_least_recently_used(monkeypatch):
    v = verifier(cache_size=2)
    checked: list[str] = []
    real = v._verify_signed

    def counting(token: str) -> Any:
        checked.append(token)
        return real(token)

    monkeypatch.setattr(v, "_verify_signed", counting)
    a, b, c = (mint(claims(jti=f"j-{name}")) for name in "abc")
    for token in (a, a, b, a, c, a):  # b is the least recently used when c arrives
        v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    assert checked == [a, b, c]
    v.verify(b, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    assert checked == [a, b, c, b]


def test_verifier_limits_are_exact():
    v = verifier(leeway=0)
    assert v.leeway == 0 and v.replay_store is not None
    with pytest.raises(ValueError, match="cache_size"):
        verifier(cache_size=-1)
    token = mint(claims())
    v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=bytes(16))
    with pytest.raises(ValueError, match="session"):
        v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=bytes(15))
    with pytest.raises(dataclasses.FrozenInstanceError):
        IDENTIFY.operation = "verify"  # type: ignore[misc]
    result = v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=bytes(16))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.subject = "p-other"  # type: ignore[misc]


def test_claim_value_limits_are_exact():
    rejected(mint(claims(iat=0, nbf=0, exp=600)), "expired")  # 0 is a NumericDate
    rejected(mint(claims(exp=10**11)), "lifetime")  # so is the largest one accepted
    rejected(mint(claims(exp=10**11 + 1)), "claims")
    at_the_leeway = mint(claims(iat=int(NOW) + 60, nbf=int(NOW), exp=int(NOW) + 600))
    verifier().verify(at_the_leeway, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    payload = claims()
    payload["consent"]["rid"] = "r" * 256
    verifier().verify(mint(payload), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    payload["consent"]["rid"] = "r" * 257
    rejected(mint(payload), "claims")


def test_a_token_of_exactly_the_size_limit_is_read():
    from faceguard._guard._consent import MAX_TOKEN_SIZE

    base = len(mint(claims(pad="")))
    guess = (MAX_TOKEN_SIZE - base) * 3 // 4  # base64url: 4 characters per 3 bytes
    for pad in range(guess - 8, guess + 8):
        token = mint(claims(pad="x" * pad))
        if len(token) == MAX_TOKEN_SIZE:
            break
    else:
        pytest.fail("no padding gives a token of exactly the limit")
    verifier().verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    rejected(mint(claims(pad="x" * (pad + 3))), "malformed")
