"""Token status lists (GUARD.md §3.7 step 6, §3.8; §9 vector group 4 for the token's status).

The consent service revokes with ``StatusListIssuer``; the application hands the signed list to
``StatusLists.update()``; ``ConsentVerifier(status_lists=...)`` refuses revoked, unknown and
stale entries, fail closed. faceguard never fetches a list: every socket is disabled for the
whole module. The clock is injected everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from faceguard import ConsentRejectedError, InvalidInputError
from faceguard._guard._consent import (
    ConsentIssuer,
    ConsentScope,
    ConsentVerifier,
    generate_keypair,
)
from faceguard._guard._status import (
    INVALID,
    MAX_LIST_BYTES,
    VALID,
    StatusListError,
    StatusListIssuer,
    StatusLists,
)
from faceguard._guard._store import MemoryStore
from faceguard._guard._usecases import UseCase

NOW = 1_767_225_600.0
ISS = "https://consent.example.com"
AUD = "faceguard:deploy:hq-access"
ENDPOINT = "https://hq-face.cognitiveservices.azure.com"
SESSION = bytes(range(32))  # the test's client session handle
KID = "k1"
URI = "https://consent.example.com/status/7"
UC = UseCase.TOUCHLESS_ACCESS_CONTROL
ALL_OPS = ["detect_template", "identify", "verify", "find_similar", "group", "enroll"]
GROUP = ("largePersonGroup", "hq-staff")


# -- no network, ever ---------------------------------------------------------------------


def _no_network(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("faceguard tried to open a network connection")


@pytest.fixture(autouse=True, scope="module")
def no_sockets() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "socket", _no_network)
        mp.setattr(socket, "create_connection", _no_network)
        mp.setattr(socket, "getaddrinfo", _no_network)
        yield


def test_the_network_is_really_off_in_this_module():
    with pytest.raises(AssertionError, match="network"):
        socket.socket()
    with pytest.raises(AssertionError, match="network"):
        socket.create_connection(("example.com", 443))


# -- helpers ------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(obj: Any) -> str:
    return b64(json.dumps(obj).encode())


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


PRIVATE_PEM, PUBLIC_PEM = generate_keypair()
_loaded = serialization.load_pem_private_key(PRIVATE_PEM, password=None)
assert isinstance(_loaded, Ed25519PrivateKey)
PRIVATE_KEY: Ed25519PrivateKey = _loaded


def consent_issuer(clock: Clock) -> ConsentIssuer:
    return ConsentIssuer(PRIVATE_PEM, issuer=ISS, kid=KID, clock=clock)


def list_issuer(clock: Clock, size: int = 64) -> StatusListIssuer:
    return StatusListIssuer(consent_issuer(clock), size=size)


def status_lists(clock: Clock, **kwargs: Any) -> StatusLists:
    return StatusLists({KID: PUBLIC_PEM}, issuer=ISS, clock=clock, **kwargs)


def verifier(clock: Clock, lists: StatusLists | None, **kwargs: Any) -> ConsentVerifier:
    kwargs.setdefault("replay_store", MemoryStore(clock=clock))
    return ConsentVerifier(
        {KID: PUBLIC_PEM}, issuer=ISS, audience=AUD, clock=clock, status_lists=lists, **kwargs
    )


def consent_token(clock: Clock, idx: int | None = 3, *, use: str = "session", **kw: Any) -> str:
    return consent_issuer(clock).issue(
        "p-7f3c9a1e5b",
        audience=[AUD, ENDPOINT],
        operations=kw.pop("operations", ALL_OPS),
        use_case=UC,
        bindings=[GROUP],
        use=use,
        status=None if idx is None else kw.pop("status", (URI, idx)),
        alternative_offered=kw.pop("alternative_offered", True),  # access control (R06)
        **kw,
    )


def sign(payload: dict[str, Any], hdr: dict[str, Any] | None = None, *, key: Any = None) -> str:
    """Sign anything with Ed25519, bypassing every limit the issuers apply."""
    header = {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": KID} if hdr is None else hdr
    signing_input = f"{b64json(header)}.{b64json(payload)}"
    signature = (key or PRIVATE_KEY).sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64(signature)}"


def list_claims(data: bytes = bytes(8), *, bits: int = 1, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISS,
        "sub": URI,
        "iat": int(NOW),
        "seq": 0,
        "exp": int(NOW) + 86400,
        "ttl": 300,
        "status_list": {"bits": bits, "lst": b64(zlib.compress(data, 9))},
    }
    base.update(changes)
    return base


def refused(v: ConsentVerifier, token: str, check: str, scope: ConsentScope) -> None:
    with pytest.raises(ConsentRejectedError) as info:
        v.verify(token, scope, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    assert info.value.check == check, str(info.value)


IDENTIFY = ConsentScope("identify", *GROUP)
VERIFY = ConsentScope("verify")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def issuer(clock: Clock) -> StatusListIssuer:
    return list_issuer(clock)


@pytest.fixture
def lists(clock: Clock, issuer: StatusListIssuer) -> StatusLists:
    result = status_lists(clock)
    result.update(issuer.token(URI, ttl=300))
    return result


# -- §9 group 4: revocation --------------------------------------------------------------


def test_valid_entry_passes_and_the_claims_name_it(clock, lists):
    claims = verifier(clock, lists).verify(
        consent_token(clock, 3), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )
    assert claims.status == (URI, 3)


def test_revoked_bit_is_refused(clock, issuer, lists):
    issuer.revoke(3)
    lists.update(issuer.token(URI, ttl=300))
    v = verifier(clock, lists)
    refused(v, consent_token(clock, 3), "revoked", IDENTIFY)
    refused(v, consent_token(clock, 3), "revoked", VERIFY)
    v.verify(
        consent_token(clock, 2), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )  # the neighbours are untouched
    v.verify(consent_token(clock, 4), IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)


def test_revocation_applies_once_the_newer_list_is_loaded(clock, issuer, lists):
    v = verifier(clock, lists)
    token = consent_token(clock, 5)
    issuer.revoke(5)
    v.verify(
        token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )  # the loaded list predates the revocation
    clock.now += 1
    lists.update(issuer.token(URI, ttl=300))
    refused(v, token, "revoked", IDENTIFY)


def test_every_token_sharing_the_record_index_stops_together(clock, issuer, lists):
    tokens = [consent_token(clock, 9, operations=[op]) for op in ("identify", "verify")]
    issuer.revoke(9)
    lists.update(issuer.token(URI, ttl=300))
    v = verifier(clock, lists)
    refused(v, tokens[0], "revoked", IDENTIFY)
    refused(v, tokens[1], "revoked", VERIFY)


@pytest.mark.parametrize(
    ("operation", "limit"),
    [
        ("identify", 900),
        ("enroll", 900),
        ("detect_template", 900),
        ("verify", 3600),
        ("find_similar", 3600),
        ("group", 3600),
    ],
)
def test_stale_list_is_refused_per_operation(clock, lists, operation, limit):
    scope = ConsentScope(operation)
    v = verifier(clock, lists)
    token = consent_token(clock, 3, use="standing")
    clock.now = NOW + limit
    v.verify(token, scope, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    clock.now = NOW + limit + 1
    refused(v, token, "status_stale", scope)


def test_list_age_counts_from_its_iat_not_from_loading(clock, issuer):
    token = issuer.token(URI, ttl=300)
    lists = status_lists(clock)
    clock.now = NOW + 901
    lists.update(token)  # re-feeding an old list does not make it fresh
    refused(verifier(clock, lists), consent_token(clock, 3), "status_stale", IDENTIFY)


def test_status_max_age_overrides_per_operation(clock, lists):
    v = verifier(clock, lists, status_max_age={"verify": 60, "identify": 1800})
    assert v.status_max_age("verify") == 60 and v.status_max_age("identify") == 1800
    assert v.status_max_age("enroll") == 900 and v.status_max_age("group") == 3600
    token = consent_token(clock, 3, use="standing")
    clock.now = NOW + 61
    refused(v, token, "status_stale", VERIFY)
    clock.now = NOW + 1800
    v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)


def test_expired_list_is_stale_whatever_the_max_age(clock, issuer):
    lists = status_lists(clock)
    lists.update(issuer.token(URI, ttl=300, lifetime=1000))
    v = verifier(clock, lists, status_max_age={"verify": 86400})
    token = consent_token(clock, 3, use="standing")
    clock.now = NOW + 1000 + 59
    v.verify(token, VERIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)  # within the leeway
    clock.now = NOW + 1000 + 60
    refused(v, token, "status_stale", VERIFY)


def test_list_never_loaded_is_status_unknown(clock):
    refused(verifier(clock, status_lists(clock)), consent_token(clock, 3), "status_unknown", VERIFY)


def test_list_loaded_for_another_uri_is_status_unknown(clock, lists):
    token = consent_token(clock, status=("https://consent.example.com/status/8", 3))
    refused(verifier(clock, lists), token, "status_unknown", VERIFY)


def test_token_with_status_but_no_status_lists_is_status_unknown(clock):
    refused(verifier(clock, None), consent_token(clock, 3), "status_unknown", VERIFY)


def test_token_without_status_is_unaffected(clock, issuer, lists):
    for index in range(issuer.size):
        issuer.revoke(index)
    lists.update(issuer.token(URI, ttl=300))
    clock.now = NOW + 3599
    verifier(clock, lists).verify(
        consent_token(clock, None), VERIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )
    verifier(clock, None).verify(
        consent_token(clock, None), VERIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )


@pytest.mark.parametrize(("size", "first_out"), [(8, 8), (9, 16), (64, 64)])
def test_index_out_of_range_is_status_unknown(clock, size, first_out):
    lists = status_lists(clock)
    lists.update(list_issuer(clock, size).token(URI, ttl=300))
    v = verifier(clock, lists)
    v.verify(
        consent_token(clock, first_out - 1), VERIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )  # padding bits are 0
    refused(v, consent_token(clock, first_out), "status_unknown", VERIFY)
    refused(v, consent_token(clock, 2**40), "status_unknown", VERIFY)


def test_status_checks_run_after_the_time_and_claims_checks(clock):
    v = verifier(clock, None)
    token = consent_token(clock, 3)
    clock.now = NOW + 10_000
    refused(v, token, "expired", VERIFY)


@pytest.mark.parametrize(
    "status",
    [
        "https://consent.example.com/status/7#3",
        [URI, 3],
        {},
        {"status_list": {"idx": 3, "uri": URI}, "other_mechanism": {}},
        {"status_list": None},
        {"status_list": {"idx": -1, "uri": URI}},
        {"status_list": {"idx": True, "uri": URI}},
        {"status_list": {"idx": 3.0, "uri": URI}},
        {"status_list": {"idx": "3", "uri": URI}},
        {"status_list": {"idx": 3}},
        {"status_list": {"idx": 3, "uri": ""}},
        {"status_list": {"idx": 3, "uri": 7}},
    ],
)
def test_ill_formed_status_claim_is_refused(clock, lists, status):
    iat = int(NOW)
    payload = {
        "iss": ISS,
        "sub": "p-1",
        "aud": [AUD, ENDPOINT],
        "iat": iat,
        "nbf": iat,
        "exp": iat + 600,
        "jti": "j-1",
        "status": status,
        "consent": {"uc": UC.value, "ops": ALL_OPS, "use": "session"},
    }
    token = sign(payload, {"alg": "EdDSA", "typ": "fg-consent+jwt", "kid": KID})
    refused(verifier(clock, lists), token, "claims", VERIFY)


# -- a refused token keeps its jti -------------------------------------------------------


def test_once_token_refused_as_revoked_is_not_spent(clock, issuer, lists):
    store = MemoryStore(clock=clock)
    v = verifier(clock, lists, replay_store=store)
    token = consent_token(clock, 3, use="once")
    issuer.revoke(3)
    lists.update(issuer.token(URI, ttl=300))
    refused(v, token, "revoked", IDENTIFY)
    assert store.keys("consent-jti") == []
    clock.now += 1
    issuer.reinstate(3)
    lists.update(issuer.token(URI, ttl=300))
    v.verify(token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION)
    refused(v, token, "replay", IDENTIFY)


@pytest.mark.parametrize("check", ["status_unknown", "status_stale"])
def test_once_token_refused_for_status_is_not_spent(clock, issuer, lists, check):
    store = MemoryStore(clock=clock)
    clock.now = NOW + 500
    token = consent_token(clock, 3, use="once")  # valid until NOW + 1100
    clock.now = NOW + 901  # the list loaded at NOW is now too old for identify
    v = verifier(clock, None if check == "status_unknown" else lists, replay_store=store)
    refused(v, token, check, IDENTIFY)
    assert store.keys("consent-jti") == []
    lists.update(issuer.token(URI, ttl=300))
    verifier(clock, lists, replay_store=store).verify(
        token, IDENTIFY, use_case=UC, endpoint=ENDPOINT, session=SESSION
    )
    assert len(store.keys("consent-jti")) == 1


# -- update(): the status list token is checked like a consent token ----------------------


def update_refused(clock: Clock, token: str, check: str) -> None:
    lists = status_lists(clock)
    with pytest.raises(StatusListError) as info:
        lists.update(token)
    assert info.value.check == check, str(info.value)
    assert lists.info(URI) is None and lists.uris == frozenset()


def header(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": KID}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_update_refuses_alg_none(clock):
    update_refused(clock, f"{b64json(header(alg='none'))}.{b64json(list_claims())}.", "alg")


def test_update_refuses_hs256_with_the_public_key_as_secret(clock):
    signing_input = f"{b64json(header(alg='HS256'))}.{b64json(list_claims())}"
    mac = hmac.new(PUBLIC_PEM, signing_input.encode(), hashlib.sha256).digest()
    update_refused(clock, f"{signing_input}.{b64(mac)}", "alg")


@pytest.mark.parametrize("alg", ["RS256", "ES256", "eddsa", None, 1])
def test_update_refuses_other_algs(clock, alg):
    update_refused(clock, sign(list_claims(), {**header(), "alg": alg}), "alg")


@pytest.mark.parametrize("typ", ["JWT", "fg-consent+jwt", "STATUSLIST+JWT", "", None])
def test_update_refuses_wrong_typ(clock, typ):
    update_refused(clock, sign(list_claims(), header(typ=typ)), "typ")


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
def test_update_refuses_key_carrying_headers(clock, name, value):
    update_refused(clock, sign(list_claims(), header(**{name: value})), "header")


def test_update_refuses_unknown_or_missing_kid(clock):
    update_refused(clock, sign(list_claims(), header(kid="k2")), "kid")
    update_refused(clock, sign(list_claims(), header(kid=None)), "kid")


def test_update_refuses_another_key_and_tampering(clock, issuer):
    update_refused(clock, sign(list_claims(), key=Ed25519PrivateKey.generate()), "signature")
    h, _, s = issuer.token(URI, ttl=300).split(".")
    update_refused(clock, f"{h}.{b64json(list_claims())}.{s}", "signature")


def test_update_refuses_expired_lists(clock):
    old = int(NOW) - 1000
    update_refused(clock, sign(list_claims(iat=old, exp=int(NOW) - 60)), "expired")
    status_lists(clock).update(sign(list_claims(iat=old, exp=int(NOW) - 59)))  # leeway


def test_update_refuses_lists_issued_in_the_future(clock):
    update_refused(clock, sign(list_claims(iat=int(NOW) + 61)), "issued_in_future")


def test_update_refuses_another_issuer(clock):
    update_refused(clock, sign(list_claims(iss="https://evil.example")), "issuer")
    update_refused(clock, sign({k: v for k, v in list_claims().items() if k != "iss"}), "issuer")


def test_update_refuses_a_consent_token_and_verify_refuses_a_list(clock, issuer):
    update_refused(clock, consent_token(clock, 3), "typ")
    refused(verifier(clock, None), issuer.token(URI, ttl=300), "typ", VERIFY)


def _raw(data: bytes) -> str:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return b64(deflate.compress(data) + deflate.flush())


@pytest.mark.parametrize(
    "change",
    [
        {"sub": None},
        {"sub": ""},
        {"sub": 7},
        {"iat": None},
        {"iat": "now"},
        {"exp": None},
        {"exp": int(NOW)},
        {"ttl": 0},
        {"ttl": -5},
        {"ttl": "300"},
        {"ttl": True},
        {"status_list": None},
        {"status_list": {"lst": b64(zlib.compress(bytes(8)))}},
        {"status_list": {"bits": 3, "lst": b64(zlib.compress(bytes(8)))}},
        {"status_list": {"bits": True, "lst": b64(zlib.compress(bytes(8)))}},
        {"status_list": {"bits": 1}},
        {"status_list": {"bits": 1, "lst": 7}},
        {"status_list": {"bits": 1, "lst": "not base64!"}},
        {"status_list": {"bits": 1, "lst": b64(bytes(8))}},
        {"status_list": {"bits": 1, "lst": _raw(bytes(8))}},
        {"status_list": {"bits": 1, "lst": b64(zlib.compress(bytes(8))[:-2])}},
        {"status_list": {"bits": 1, "lst": b64(zlib.compress(bytes(8)) + b"x")}},
        {"status_list": {"bits": 1, "lst": b64(zlib.compress(b""))}},
    ],
)
def test_update_refuses_ill_formed_claims(clock, change):
    payload = {k: v for k, v in {**list_claims(), **change}.items() if v is not None}
    update_refused(clock, sign(payload), "claims")


def test_update_refuses_decompression_bombs(clock):
    bomb = zlib.compress(bytes(MAX_LIST_BYTES + 1), 9)
    assert len(bomb) < 64 * 1024
    payload = list_claims(status_list={"bits": 1, "lst": b64(bomb)})
    update_refused(clock, sign(payload), "claims")


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "é.b.c", 7, None, "x" * (5 << 20)])
def test_update_refuses_malformed_tokens(clock, token):
    update_refused(clock, token, "malformed")


def test_update_refuses_rolling_back_to_an_older_list(clock, issuer, lists):
    issuer.revoke(3)
    clock.now += 10
    lists.update(issuer.token(URI, ttl=300))
    older = sign(list_claims())  # iat = NOW, all valid
    with pytest.raises(StatusListError) as info:
        lists.update(older)
    assert info.value.check == "rollback"
    refused(verifier(clock, lists), consent_token(clock, 3), "revoked", VERIFY)


def test_a_refused_update_keeps_the_list_loaded_before(clock, issuer, lists):
    before = lists.info(URI)
    with pytest.raises(StatusListError):
        lists.update(sign(list_claims(iat=int(NOW) + 5), header(kid="k2")))
    assert lists.info(URI) == before


def test_update_reports_what_it_loaded(clock, issuer):
    lists = status_lists(clock)
    clock.now = NOW + 5
    info = lists.update(issuer.token(URI, ttl=300, lifetime=7200))
    assert info.uri == URI and info.bits == 1 and info.size == 64 and info.kid == KID
    assert info.issued_at == NOW + 5 and info.expires_at == NOW + 5 + 7200
    assert info.ttl == 300 and info.loaded_at == NOW + 5
    assert lists.info(URI) == info and lists.uris == {URI}
    again = lists.update(issuer.token(URI, ttl=300, lifetime=7200))  # same iat, next seq
    assert again.sequence == info.sequence + 1 and again.issued_at == info.issued_at
    assert "PRIVATE" not in repr(lists) and "lists=1" in repr(lists)


# -- the bitstring ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 8, 9, 100_000])
def test_bits_round_trip(clock, size):
    issuer = list_issuer(clock, size)
    revoked = {i for i in range(size) if i % 7 == 3 or i == size - 1}
    for index in revoked:
        issuer.revoke(index)
    token = issuer.token(URI, ttl=300)
    lists = status_lists(clock)
    info = lists.update(token)
    assert info.size == (size + 7) // 8 * 8
    for index in range(size):
        assert issuer.status(index) == (INVALID if index in revoked else VALID)
        if index in revoked:
            with pytest.raises(ConsentRejectedError) as caught:
                lists.check(URI, index)
            assert caught.value.check == "revoked"
        else:
            lists.check(URI, index)
    restored = StatusListIssuer(
        PRIVATE_PEM, issuer=ISS, kid=KID, size=size, clock=clock, bitstring=issuer.bitstring()
    )
    assert restored.bitstring() == issuer.bitstring()
    assert len(issuer.bitstring()) == (size + 7) // 8


def test_lst_matches_the_draft_example(clock):
    # draft-ietf-oauth-status-list §4.1: statuses 1,0,0,1,1,1,0,1,1,1,0,0,0,1,0,1 (1 bit).
    issuer = list_issuer(clock, 16)
    for index in (0, 3, 4, 5, 7, 8, 9, 13, 15):
        issuer.revoke(index)
    assert issuer.bitstring() == bytes([0xB9, 0xA3])
    payload = json.loads(unb64(issuer.token(URI, ttl=300).split(".")[1]))
    assert payload["status_list"] == {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}


def test_wider_statuses_from_other_issuers_are_read(clock):
    # draft §4.1, 2 bits per status: 1,2,0,3,0,1,0,1,1,2,3,3 -> C9 44 F9.
    lst = "eNo76fITAAPfAgc"
    assert zlib.decompress(unb64(lst)) == bytes([0xC9, 0x44, 0xF9])
    lists = status_lists(clock)
    info = lists.update(sign(list_claims(status_list={"bits": 2, "lst": lst})))
    assert info.bits == 2 and info.size == 12
    statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    for index, value in enumerate(statuses):
        if value == 0:
            lists.check(URI, index)
        else:
            with pytest.raises(ConsentRejectedError, match="SUSPENDED" if value == 2 else None):
                lists.check(URI, index)
    with pytest.raises(ConsentRejectedError) as caught:
        lists.check(URI, 12)
    assert caught.value.check == "status_unknown"


# -- the issuers --------------------------------------------------------------------------


def test_status_list_token_has_the_documented_shape(clock):
    issuer = list_issuer(clock, 16)
    issuer.revoke(1)
    h, p, s = issuer.token(URI, ttl=300, lifetime=3600).split(".")
    assert json.loads(unb64(h)) == {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": KID}
    assert json.loads(unb64(p)) == {
        "iss": ISS,
        "sub": URI,
        "iat": int(NOW),
        "seq": 0,
        "exp": int(NOW) + 3600,
        "ttl": 300,
        "status_list": {"bits": 1, "lst": b64(zlib.compress(bytes([2, 0]), 9))},
    }
    assert len(unb64(s)) == 64
    assert issuer.sequence == 1
    second = json.loads(unb64(issuer.token(URI, ttl=300).split(".")[1]))
    assert second["seq"] == 1 and second["iat"] == int(NOW)  # same second, later list


@pytest.mark.parametrize("sequence", [-1, True, 1.5, "3", 2**53])
def test_status_list_issuer_refuses_a_bad_sequence(clock, sequence):
    with pytest.raises(ValueError, match="sequence"):
        StatusListIssuer(consent_issuer(clock), size=8, sequence=sequence)


def test_consent_issuer_adds_the_status_claim(clock):
    token = consent_token(clock, 40213)
    payload = json.loads(unb64(token.split(".")[1]))
    assert payload["status"] == {"status_list": {"idx": 40213, "uri": URI}}
    assert "status" not in json.loads(unb64(consent_token(clock, None).split(".")[1]))


@pytest.mark.parametrize(
    "status",
    [(URI, -1), (URI, True), (URI, "3"), (URI, 3.0), ("", 3), (7, 3), ("x" * 2049, 3), (URI,)],
)
def test_consent_issuer_refuses_bad_status(clock, status):
    with pytest.raises(ValueError, match="status"):
        consent_token(clock, 3, status=status)


def test_status_list_issuer_from_a_pem(clock):
    issuer = StatusListIssuer(PRIVATE_PEM, issuer=ISS, kid="k9", size=8, clock=clock)
    lists = StatusLists({"k9": PUBLIC_PEM}, issuer=ISS, clock=clock)
    assert lists.update(issuer.token(URI, ttl=60)).kid == "k9"
    assert issuer.issuer == ISS and issuer.kid == "k9" and issuer.size == 8
    assert "PRIVATE" not in repr(issuer) and "size=8" in repr(issuer)


def test_status_list_issuer_uses_the_consent_issuers_clock():
    clock = Clock(NOW + 123)
    token = StatusListIssuer(consent_issuer(clock), size=8).token(URI, ttl=60)
    assert json.loads(unb64(token.split(".")[1]))["iat"] == int(NOW) + 123


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": 0},
        {"size": -1},
        {"size": True},
        {"size": 8.0},
        {"size": MAX_LIST_BYTES * 8 + 1},
        {"size": 9, "bitstring": b"\x00"},
        {"size": 8, "issuer": ISS},
        {"size": 8, "kid": KID},
    ],
)
def test_status_list_issuer_refuses_bad_arguments(clock, kwargs):
    with pytest.raises(ValueError):
        StatusListIssuer(consent_issuer(clock), **kwargs)


def test_status_list_issuer_from_a_pem_needs_issuer_and_kid():
    with pytest.raises(ValueError, match="issuer= and kid="):
        StatusListIssuer(PRIVATE_PEM, issuer=ISS, size=8)
    with pytest.raises(ValueError, match=r"Ed25519|PEM"):
        StatusListIssuer(PUBLIC_PEM, issuer=ISS, kid=KID, size=8)


@pytest.mark.parametrize("index", [-1, 64, True, "1", 2**60])
def test_revoke_and_reinstate_refuse_indices_outside_the_list(issuer, index):
    for method in (issuer.revoke, issuer.reinstate, issuer.status):
        with pytest.raises(InvalidInputError, match="status index"):
            method(index)


def test_reinstate_clears_only_its_bit(issuer):
    for index in (6, 7, 8):
        issuer.revoke(index)
    issuer.reinstate(7)
    assert [issuer.status(i) for i in (5, 6, 7, 8, 9)] == [0, 1, 0, 1, 0]
    issuer.reinstate(7)  # idempotent
    assert issuer.status(7) == VALID


@pytest.mark.parametrize(
    "kwargs",
    [
        {"uri": ""},
        {"uri": "https://x/\n"},
        {"ttl": 0},
        {"ttl": float("nan")},
        {"ttl": True},
        {"ttl": 600, "lifetime": 300},
        {"lifetime": 367 * 86400},
    ],
)
def test_token_refuses_bad_arguments(issuer, kwargs):
    args: dict[str, Any] = {"uri": URI, "ttl": 300, **kwargs}
    with pytest.raises(ValueError):
        issuer.token(args.pop("uri"), **args)


# -- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{"max_age": 0}, {"max_age": 86401}, {"max_age": True}, {"leeway": 301}, {"leeway": -1}],
)
def test_status_lists_refuse_bad_configuration(clock, kwargs):
    with pytest.raises(ValueError):
        status_lists(clock, **kwargs)


def test_status_lists_need_public_keys(clock):
    with pytest.raises(ValueError):
        StatusLists({}, issuer=ISS)
    with pytest.raises(ValueError):
        StatusLists({KID: PRIVATE_PEM}, issuer=ISS)


@pytest.mark.parametrize(
    "ages", [{"emotion": 60}, {"verify": 0}, {"verify": 86401}, {"verify": True}]
)
def test_verifier_refuses_bad_status_max_age(clock, ages):
    with pytest.raises(ValueError, match="status_max_age"):
        verifier(clock, None, status_max_age=ages)


def test_standalone_check_uses_the_lists_max_age(clock, issuer):
    lists = status_lists(clock, max_age=120)
    assert lists.max_age == 120
    lists.update(issuer.token(URI, ttl=60))
    clock.now = NOW + 120
    assert lists.check(URI, 0).uri == URI
    clock.now = NOW + 121
    with pytest.raises(ConsentRejectedError) as caught:
        lists.check(URI, 0)
    assert caught.value.check == "status_stale"
    assert lists.check(URI, 0, max_age=3600).uri == URI
    with pytest.raises(ValueError):
        lists.check(URI, 0, max_age=0)


# -- rollback across processes: the newest version is marked in a shared store ------------------


def _with_store(clock: Clock, store: Any) -> StatusLists:
    return StatusLists({KID: PUBLIC_PEM}, issuer=ISS, clock=clock, store=store)


def _valid_then_revoked(issuer: StatusListIssuer) -> tuple[str, str]:
    valid = issuer.token(URI, ttl=300)
    issuer.revoke(3)
    return valid, issuer.token(URI, ttl=300)  # the same second, a later seq


def test_a_fresh_instance_on_the_same_store_refuses_an_older_list(clock, issuer):
    store = MemoryStore(clock=clock)
    valid, revoked = _valid_then_revoked(issuer)
    _with_store(clock, store).update(revoked)
    fresh = _with_store(clock, store)  # a restart: nothing in memory
    with pytest.raises(StatusListError) as info:
        fresh.update(valid)
    assert info.value.check == "rollback" and fresh.uris == frozenset()
    fresh.update(revoked)
    refused(verifier(clock, fresh), consent_token(clock, 3), "revoked", VERIFY)


def test_another_process_on_a_sqlite_file_refuses_an_older_list(clock, issuer, tmp_path):
    import subprocess
    import sys
    import textwrap

    from faceguard._guard._sqlite_store import SQLiteStore

    valid, revoked = _valid_then_revoked(issuer)
    path = tmp_path / "guard.sqlite3"
    script = textwrap.dedent(
        """
        import sys
        from faceguard._guard._sqlite_store import SQLiteStore
        from faceguard._guard._status import StatusLists
        pem, iss, kid, token, path, now = sys.argv[1:]
        store = SQLiteStore(path, clock=lambda: float(now))
        lists = StatusLists({kid: pem}, issuer=iss, clock=lambda: float(now), store=store)
        print(lists.update(token).sequence)
        """
    )
    argv = [PUBLIC_PEM.decode(), ISS, KID, revoked, str(path), str(NOW)]
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    here = _with_store(clock, SQLiteStore(path, clock=clock))
    with pytest.raises(StatusListError) as info:
        here.update(valid)
    assert info.value.check == "rollback"
    assert here.update(revoked).sequence == int(done.stdout)


def test_a_different_list_under_a_marked_version_is_refused_elsewhere(clock):
    store = MemoryStore(clock=clock)
    one = sign(list_claims(iat=int(NOW), seq=4))
    other = sign(list_claims(bytes([8]) + bytes(7), iat=int(NOW), seq=4))
    _with_store(clock, store).update(one)
    with pytest.raises(StatusListError) as info:
        _with_store(clock, store).update(other)
    assert info.value.check == "rollback"
    _with_store(clock, store).update(one)  # the same list again, in a third instance


def test_newer_lists_pass_everywhere_and_only_the_newest_mark_is_kept(clock, issuer):
    store = MemoryStore(clock=clock)
    first, second = _with_store(clock, store), _with_store(clock, store)
    for turn in range(4):
        (first if turn % 2 else second).update(issuer.token(URI, ttl=300))
        clock.now += 1
    namespace = f"status-list-version-{hashlib.sha256(URI.encode()).hexdigest()[:32]}"
    assert len(store.keys(namespace)) == 1  # superseded marks are deleted


# -- exact limits (from a mutation survey: each boundary is where it is documented) -------------


def test_the_same_list_again_changes_nothing_not_even_when_it_was_loaded(clock, issuer):
    lists = status_lists(clock)
    token = issuer.token(URI, ttl=300)
    first = lists.update(token)
    clock.now += 5
    assert lists.update(token).loaded_at == first.loaded_at == lists.info(URI).loaded_at


def test_list_issuer_limits_are_exact(clock):
    import dataclasses

    from faceguard._guard._status import MAX_LIST_LIFETIME

    issuer = list_issuer(clock, 16)
    issuer.token(URI, ttl=1, lifetime=1)  # the shortest ttl, equal to the lifetime
    issuer.token(URI, ttl=300, lifetime=MAX_LIST_LIFETIME)
    with pytest.raises(ValueError, match="lifetime"):
        issuer.token(URI, ttl=300, lifetime=MAX_LIST_LIFETIME + 1)
    for ttl in (float("inf"), float("nan"), 0.5, True):
        with pytest.raises(ValueError, match="ttl"):
            issuer.token(URI, ttl=ttl)
    with pytest.raises(InvalidInputError, match="status index"):
        issuer.revoke(16)
    issuer.revoke(15)
    StatusListIssuer(consent_issuer(clock), size=MAX_LIST_BYTES * 8)  # the largest list
    with pytest.raises(ValueError, match="at most"):
        StatusListIssuer(consent_issuer(clock), size=MAX_LIST_BYTES * 8 + 1)
    info = status_lists(clock).update(issuer.token(URI, ttl=300))
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.sequence = 99  # type: ignore[misc]


def test_list_token_time_and_size_limits_are_exact(clock):
    for change in ({"iat": -1}, {"exp": 10**11 + 1}, {"ttl": 10**11 + 1}):
        update_refused(clock, sign(list_claims(**change)), "claims")
    status_lists(clock).update(sign(list_claims(ttl=10**11)))
    status_lists(clock).update(sign(list_claims(iat=int(NOW) + 60)))  # iat at the leeway
    update_refused(clock, sign(list_claims(iat=int(NOW) + 61)), "issued_in_future")
    biggest = list_claims(status_list={"bits": 1, "lst": b64(zlib.compress(bytes(MAX_LIST_BYTES)))})
    assert status_lists(clock).update(sign(biggest)).size == MAX_LIST_BYTES * 8
    for leeway in (0, 300):
        status_lists(clock, leeway=leeway)
    with pytest.raises(ValueError, match="leeway"):
        status_lists(clock, leeway=301)
