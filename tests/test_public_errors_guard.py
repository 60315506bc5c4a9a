"""Every failure a caller can provoke through the guard's public constructors is typed.

``test_public_errors.py`` puts hostile values into every client operation; this file does the
same for what an application builds around the client: ``ConsentIssuer`` (and the tokens it
mints), ``ConsentVerifier``, ``StatusListIssuer`` / ``StatusLists``, ``AuditLog``,
``verify_log``, the stores and ``ConsentLedger``, and the CLI commands that wrap them. One
hostile value goes into one argument at a time; whatever escapes must be a
``FaceGuardError`` (never a ``UnicodeEncodeError``, ``TypeError``, ``OverflowError``,
``AttributeError``, ``OSError`` or plain ``ValueError``), and no message echoes a secret.
The CLI must exit non-zero with a message, never a traceback.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import faceguard
from faceguard import (
    AuditLog,
    ConsentIssuer,
    ConsentLedger,
    ConsentVerifier,
    FaceGuardError,
    MemoryStore,
    SQLiteStore,
    StatusListIssuer,
    StatusLists,
    verify_log,
)

ENDPOINT = "https://hq.cognitiveservices.azure.com"
SECRET = "s3cr3t-Pem-Body-xyz"

# Values a caller can pass by mistake or on purpose: every one is refused typed.
HOSTILE: list[Any] = [
    "\ud800",  # a lone surrogate: UTF-8 cannot encode it
    "a\x00b",  # NUL: the OS and SQLite cut strings there
    None,
    7,
    math.nan,
    10**400,  # overflows a float
    b"bytes",
    object(),
]
HOSTILE_IDS = ["surrogate", "nul", "none", "int", "nan", "hugeint", "bytes", "object"]

_ISSUER, _PUBLIC = ConsentIssuer.generate(issuer="urn:test:iss", kid="k1")
_GOOD_ISSUE: dict[str, Any] = {
    "audience": ["faceguard:deploy:hq", ENDPOINT],
    "operations": ["identify"],
    "use_case": "commercial.touchless_access_control",
}


def _typed(call: Callable[[], object]) -> None:
    """``call`` either succeeds (the value was acceptable) or raises a FaceGuardError."""
    try:
        call()
    except FaceGuardError as error:
        assert SECRET not in str(error)
        assert "\ud800" not in str(error)  # not echoed, and printable anywhere
    except BaseException as error:  # noqa: BLE001 - the point is what escapes
        pytest.fail(f"{type(error).__name__} escaped: {error!r}")


def _refused(call: Callable[[], object]) -> None:
    """``call`` must raise a FaceGuardError (the value is never acceptable)."""
    with pytest.raises(FaceGuardError) as info:
        _raise_typed(call)
    assert SECRET not in str(info.value)


def _raise_typed(call: Callable[[], object]) -> None:
    try:
        call()
    except FaceGuardError:
        raise
    except BaseException as error:  # noqa: BLE001
        pytest.fail(f"{type(error).__name__} escaped: {error!r}")


def test_the_baselines_are_accepted(tmp_path: Path) -> None:
    """Every table below changes one argument of a call that succeeds: else a hostile value
    would be refused for the wrong reason and prove nothing."""
    assert _ISSUER.issue("subj-1", **_GOOD_ISSUE).count(".") == 2
    _verifier()()
    StatusLists({"k1": _PUBLIC}, issuer="urn:test:iss")
    StatusListIssuer(_ISSUER, size=64).token("https://s.example/1", ttl=60)
    AuditLog(tmp_path / "log.jsonl").close()
    SQLiteStore(tmp_path / "s.db", key=b"k" * 32).close()


def test_cli_baseline_is_accepted(key_file: Path) -> None:
    result = _cli("consent", "issue", "--key", str(key_file), *_ISSUE_BASE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(b".") == 2


# -- ConsentIssuer ---------------------------------------------------------------------------


def _issue(**override: Any) -> Callable[[], object]:
    kwargs = {**_GOOD_ISSUE, **override}
    subject = kwargs.pop("subject", "subj-1")
    return lambda: _ISSUER.issue(subject, **kwargs)


ISSUE_ARGS = [
    "subject",
    "audience",
    "operations",
    "use_case",
    "bindings",
    "use",
    "lifetime",
    "record_id",
    "not_before",
    "jti",
    "status",
]


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("argument", ISSUE_ARGS)
def test_issue_refuses_hostile_arguments_typed(argument: str, value: Any) -> None:
    _typed(_issue(**{argument: value}))


@pytest.mark.parametrize(
    "override",
    [
        {"audience": ["faceguard:deploy:hq", "\ud800"]},
        {"audience": ["faceguard:deploy:hq", ENDPOINT + "\ud800"]},
        {"audience": [None, ENDPOINT]},
        {"operations": [None]},
        {"operations": [["identify"]]},  # unhashable
        {"operations": ["identify", 3]},
        {"operations": {"identify": True}},  # a mapping iterates as its keys: refused
        {"bindings": {("personGroup", "g"): True}},
        {"audience": {"faceguard:deploy:hq": 1, ENDPOINT: 2}},
        {"bindings": [("personGroup",)]},
        {"bindings": [None]},
        {"bindings": ["personGroup:x"]},
        {"bindings": [("personGroup", "\ud800")]},
        {"bindings": [("personGroup", "g", "\udfff")]},
        {"bindings": [(["personGroup"], "g")]},  # unhashable kind
        {"use": ["once"]},
        {"status": ("https://s.example/1", math.inf)},
        {"status": ("https://s.example/\ud800", 1)},
        {"status": ("https://s.example/1", 10**30)},
        {"status": ["https://s.example/1", 1]},
        {"use_case": ["commercial.touchless_access_control"]},
        {"use_case": "no-such-use-case"},
        {"subject": "subj-\ud800"},
        {"subject": "a\udc80b"},
        {"record_id": "r\ud83d"},
        {"jti": "j\udfff"},
        {"lifetime": math.inf},
        {"not_before": math.nan},
        {"not_before": math.inf},
        {"not_before": 10**400},
    ],
    ids=repr,
)
def test_issue_refuses_hostile_shapes(override: dict[str, Any]) -> None:
    _refused(_issue(**override))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("argument", ["issuer", "kid"])
def test_issuer_constructor_refuses_hostile_ids(argument: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"issuer": "urn:i", "kid": "k", argument: value}
    # A NUL is a valid JSON string character: an odd id, but not one that breaks anything.
    (_typed if value == "a\x00b" else _refused)(lambda: ConsentIssuer.generate(**kwargs))


@pytest.mark.parametrize(
    "pem",
    [
        "\ud800",
        f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n",
        f"-----BEGIN PRIVATE KEY-----\n{SECRET}\u00e9\n-----END PRIVATE KEY-----\n",
        None,
        7,
        b"\x00\xff",
        object(),
        _PUBLIC,  # a public key is not a private key
    ],
    ids=["surrogate", "garbage", "non-ascii", "none", "int", "binary", "object", "public"],
)
def test_issuer_constructor_refuses_bad_key_typed_without_echo(pem: Any) -> None:
    _refused(lambda: ConsentIssuer(pem, issuer="urn:i", kid="k"))


# -- ConsentVerifier and StatusLists ---------------------------------------------------------


def _verifier(**override: Any) -> Callable[[], object]:
    kwargs: dict[str, Any] = {
        "keys": {"k1": _PUBLIC},
        "issuer": "urn:test:iss",
        "audience": "faceguard:deploy:hq",
        **override,
    }
    keys = kwargs.pop("keys")
    return lambda: ConsentVerifier(keys, **kwargs)


BAD_KEYS: list[Any] = [
    None,
    7,
    "\ud800",
    [("k1", _PUBLIC)],
    {"k1": None},
    {"k1": "\ud800"},
    {"k1": f"-----BEGIN PUBLIC KEY-----\n{SECRET}\u00e9\n-----END PUBLIC KEY-----\n"},
    {"\ud800": _PUBLIC},
    {None: _PUBLIC},
    {},
]


@pytest.mark.parametrize("keys", BAD_KEYS, ids=repr)
def test_verifier_and_status_lists_refuse_bad_keys(keys: Any) -> None:
    _refused(_verifier(keys=keys))
    _refused(lambda: StatusLists(keys, issuer="urn:test:iss"))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize(
    "argument", ["issuer", "audience", "leeway", "cache_size", "status_max_age", "replay_store"]
)
def test_verifier_constructor_hostile_arguments(argument: str, value: Any) -> None:
    _typed(_verifier(**{argument: value}))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("argument", ["issuer", "max_age", "leeway"])
def test_status_lists_constructor_hostile_arguments(argument: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"issuer": "urn:test:iss", argument: value}
    _typed(lambda: StatusLists({"k1": _PUBLIC}, **kwargs))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_status_lists_methods_hostile_arguments(value: Any) -> None:
    lists = StatusLists({"k1": _PUBLIC}, issuer="urn:test:iss")
    _typed(lambda: lists.update(value))
    _typed(lambda: lists.info(value))
    _typed(lambda: lists.check(value, 0))
    _typed(lambda: lists.check("https://s.example/1", value))
    _typed(lambda: lists.check("https://s.example/1", 0, max_age=value))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("argument", ["size", "bitstring", "sequence"])
def test_status_list_issuer_constructor_hostile(argument: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"size": 64, argument: value}
    _typed(lambda: StatusListIssuer(_ISSUER, **kwargs))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_status_list_issuer_methods_hostile(value: Any) -> None:
    lists = StatusListIssuer(_ISSUER, size=64)
    _typed(lambda: lists.revoke(value))  # 7 is a valid index
    _typed(lambda: lists.reinstate(value))
    _typed(lambda: lists.status(value))
    _typed(lambda: lists.token(value, ttl=60))
    _typed(lambda: lists.token("https://s.example/1", ttl=value))
    _typed(lambda: lists.token("https://s.example/1", ttl=60, lifetime=value))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("argument", ["signer", "issuer", "kid"])
def test_status_list_issuer_pem_signer_hostile(argument: str, value: Any) -> None:
    pem = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA" + b"A" * 43 + b"\n-----END"
    kwargs: dict[str, Any] = {"signer": pem, "issuer": "urn:i", "kid": "k", argument: value}
    signer = kwargs.pop("signer")
    _refused(lambda: StatusListIssuer(signer, size=64, **kwargs))


# -- AuditLog and verify_log -----------------------------------------------------------------


def _bad_paths(tmp_path: Path) -> list[Any]:
    return [
        str(tmp_path / "log\ud800.jsonl"),
        str(tmp_path / "a\x00b.jsonl"),
        None,
        7,
        b"\xff/\x00",
        object(),
        tmp_path,  # a directory
        tmp_path / "missing" / "dir" / "log.jsonl",
        "",
    ]


def test_audit_log_refuses_hostile_paths(tmp_path: Path) -> None:
    for path in _bad_paths(tmp_path):
        _refused(lambda path=path: AuditLog(path))


def test_verify_log_and_verify_chain_refuse_hostile_paths(tmp_path: Path) -> None:
    for path in _bad_paths(tmp_path):
        _refused(lambda path=path: verify_log(path))
        _refused(lambda path=path: faceguard.verify_chain(path))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize(
    "argument",
    ["subject_key", "audit_key", "checkpoint_every", "checkpoint_interval", "log_id", "fsync"],
)
def test_audit_log_hostile_options(tmp_path: Path, argument: str, value: Any) -> None:
    def make() -> None:
        AuditLog(tmp_path / "log.jsonl", **{argument: value}).close()

    _typed(make)


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_verify_log_hostile_options(tmp_path: Path, value: Any) -> None:
    log = tmp_path / "log.jsonl"
    AuditLog(log).close()
    _typed(lambda: verify_log(log, public_key=value))
    _typed(lambda: verify_log(log, log_id=value))


# -- stores and the ledger -------------------------------------------------------------------


def test_sqlite_store_refuses_hostile_paths(tmp_path: Path) -> None:
    for path in _bad_paths(tmp_path):
        _refused(lambda path=path: SQLiteStore(path, key=b"k" * 32).close())


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("argument", ["timeout", "key", "clock"])
def test_sqlite_store_hostile_options(tmp_path: Path, argument: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"key": b"k" * 32, argument: value}
    _typed(lambda: SQLiteStore(tmp_path / "s.db", **kwargs).close())


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_memory_store_hostile_key(value: Any) -> None:
    _typed(lambda: MemoryStore(key=value))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("argument", ["url", "key", "prefix", "username", "password"])
def test_redis_store_hostile_options(argument: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"url": "redis://127.0.0.1:1/0", "key": b"k" * 32, argument: value}
    url = kwargs.pop("url")

    def make() -> None:
        faceguard.RedisStore(url, **kwargs).close()

    _typed(make)


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_ledger_hostile_subjects(tmp_path: Path, value: Any) -> None:
    for store in (MemoryStore(), SQLiteStore(tmp_path / "l.db", key=b"k" * 32)):
        ledger = ConsentLedger(store, clock=lambda: 0.0)
        _typed(lambda ledger=ledger: ledger.withdraw(value))
        _typed(lambda ledger=ledger: ledger.is_withdrawn(value))
        _typed(lambda ledger=ledger: ledger.subject_pseudonym(value))
        _typed(lambda ledger=ledger: ledger.persons_of(value))
        store.close()


# -- the CLI ---------------------------------------------------------------------------------


def _cli(*args: str, env_pem: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "faceguard", *args],
        capture_output=True,
        timeout=60,
        check=False,
    )


def _assert_clean_failure(result: subprocess.CompletedProcess[bytes]) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode != 0, stderr
    assert "Traceback" not in stderr, stderr
    assert stderr.strip(), "a failure says why"
    assert SECRET not in stderr


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from faceguard._guard._jws import generate_keypair

    path = tmp_path_factory.mktemp("cli") / "key.pem"
    path.write_bytes(generate_keypair()[0])
    return path


_ISSUE_BASE = [
    "--issuer", "urn:i", "--kid", "k", "--audience", "faceguard:deploy:hq",
    "--endpoint", ENDPOINT, "--subject", "subj-1", "--op", "identify",
    "--use-case", "commercial.touchless_access_control",
]  # fmt: skip


def _replace(args: list[str], flag: str, value: str) -> list[str]:
    out = list(args)
    out[out.index(flag) + 1] = value
    return out


# Non-UTF-8 bytes in argv come to Python as lone surrogates (surrogateescape).
_ARGV_SURROGATE = "\udcff"


@pytest.mark.parametrize(
    "change",
    [
        ("--subject", _ARGV_SURROGATE),
        ("--issuer", _ARGV_SURROGATE),
        ("--kid", _ARGV_SURROGATE),
        ("--audience", _ARGV_SURROGATE),
        ("--endpoint", "https://x\udcff.cognitiveservices.azure.com"),
        ("--use-case", _ARGV_SURROGATE),
        ("--op", _ARGV_SURROGATE),
        ("--subject", ""),
    ],
    ids=repr,
)
def test_cli_consent_issue_hostile_arguments(key_file: Path, change: tuple[str, str]) -> None:
    args = _replace(_ISSUE_BASE, *change)
    _assert_clean_failure(_cli("consent", "issue", "--key", str(key_file), *args))


@pytest.mark.parametrize(
    "extra",
    [
        ["--bind", "personGroup"],
        ["--bind", f"personGroup:{_ARGV_SURROGATE}"],
        ["--status-uri", f"https://s/{_ARGV_SURROGATE}", "--status-idx", "1"],
        ["--status-uri", "https://s/1", "--status-idx", str(10**30)],
        ["--lifetime", "nan"],
        ["--lifetime", "1e400"],
        ["--record-id", _ARGV_SURROGATE],
    ],
    ids=repr,
)
def test_cli_consent_issue_hostile_extras(key_file: Path, extra: list[str]) -> None:
    _assert_clean_failure(_cli("consent", "issue", "--key", str(key_file), *_ISSUE_BASE, *extra))


def test_cli_consent_issue_hostile_key_files(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n".encode())
    binary = tmp_path / "binary.pem"
    binary.write_bytes(b"\xff\xfe\x00" * 10)
    for key in (garbage, binary, tmp_path, tmp_path / "missing.pem", f"x{_ARGV_SURROGATE}"):
        _assert_clean_failure(_cli("consent", "issue", "--key", str(key), *_ISSUE_BASE))


def test_cli_audit_verify_hostile_arguments(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    AuditLog(log).close()
    bad_key = tmp_path / "bad.pem"
    bad_key.write_bytes(b"\xff\x00garbage")
    cases = [
        [str(tmp_path)],
        [str(tmp_path / "missing.jsonl")],
        [f"x{_ARGV_SURROGATE}.jsonl"],
        [str(log), "--key", str(bad_key)],
        [str(log), "--key", str(tmp_path)],
        [str(log), "--key", f"k{_ARGV_SURROGATE}"],
        [str(log), "--store", str(tmp_path / "missing" / "s.db")],
        [str(log), "--store", f"s{_ARGV_SURROGATE}.db"],
        [str(log), "--store", "redis://127.0.0.1:1/0"],
        [str(log), "--store", str(tmp_path / "s.db"), "--log-id", _ARGV_SURROGATE],
    ]
    for case in cases:
        _assert_clean_failure(_cli("audit", "verify", *case))


def test_cli_check_cassettes_hostile_arguments(tmp_path: Path) -> None:
    for case in ([str(tmp_path / "missing")], [f"x{_ARGV_SURROGATE}"], [f"{tmp_path}\x01/x"]):
        _assert_clean_failure(_cli("testing", "check-cassettes", *case))
    # A binary file is scanned as bytes (a key in it would still be found): no traceback.
    binary = tmp_path / "c.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x01: [")
    result = _cli("testing", "check-cassettes", str(binary))
    assert "Traceback" not in result.stderr.decode("utf-8", "replace")


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_verify_and_scope_hostile_arguments(value: Any) -> None:
    from faceguard import ConsentScope, UseCase

    verifier = ConsentVerifier(
        {"k1": _PUBLIC}, issuer="urn:test:iss", audience="faceguard:deploy:hq"
    )
    token = _ISSUER.issue("subj-1", **_GOOD_ISSUE)
    scope = ConsentScope("identify")
    use_case = UseCase("commercial.touchless_access_control")
    _typed(lambda: verifier.verify(value, scope, use_case=use_case, endpoint=ENDPOINT))
    _typed(lambda: verifier.verify(token, value, use_case=use_case, endpoint=ENDPOINT))
    _typed(lambda: verifier.verify(token, scope, use_case=value, endpoint=ENDPOINT))
    _typed(lambda: verifier.verify(token, scope, use_case=use_case, endpoint=value))
    _typed(
        lambda: verifier.verify(token, scope, use_case=use_case, endpoint=ENDPOINT, session=value)
    )
    for field in ("operation", "container_kind", "container_id", "person_id"):
        args: dict[str, Any] = {
            "operation": "enroll",
            "container_kind": "personGroup",
            "container_id": "g",
            "person_id": "p",
            field: value,
        }
        _typed(lambda args=args: ConsentScope(**args))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_ledger_enroll_hostile_arguments(value: Any) -> None:
    from faceguard import UseCase

    verifier = ConsentVerifier(
        {"k1": _PUBLIC}, issuer="urn:test:iss", audience="faceguard:deploy:hq"
    )
    ledger = ConsentLedger(MemoryStore(), clock=lambda: 0.0)
    good: dict[str, Any] = {
        "verifier": verifier,
        "endpoint": ENDPOINT,
        "use_case": UseCase("commercial.touchless_access_control"),
        "container_kind": "personGroup",
        "container_id": "g",
        "person_id": "p",
    }
    token = _ISSUER.issue(
        "subj-1",
        audience=_GOOD_ISSUE["audience"],
        operations=["enroll"],
        use_case="commercial.touchless_access_control",
        bindings=[("personGroup", "g", "p")],
    )
    _typed(lambda: ledger.enroll(value, **good))
    for name in ("endpoint", "use_case", "container_kind", "container_id", "person_id"):
        _typed(lambda name=name: ledger.enroll(token, **{**good, name: value}))


# -- collaborators handed over at construction -----------------------------------------------


@pytest.mark.parametrize("value", [7, "time", b"x", object(), math.nan], ids=repr)
def test_collaborators_of_the_wrong_kind_are_refused_when_handed_over(
    tmp_path: Path, value: Any
) -> None:
    """A clock that cannot be called, or a store, audit log, verifier or deployment of the
    wrong kind, is refused typed by the constructor, not at the first guarded call."""
    from faceguard import GuardPolicy, UseCase

    use_case = UseCase("commercial.touchless_access_control")
    for name in ("clock", "store", "audit", "verifier", "deployment", "allow_unknown_face_ids"):
        _refused(lambda name=name: GuardPolicy(use_case=use_case, **{name: value}))
    _refused(lambda: ConsentIssuer.generate(clock=value))
    _refused(lambda: MemoryStore(clock=value))
    _refused(lambda: SQLiteStore(":memory:", clock=value, key=b"k" * 32))
    _refused(lambda: ConsentLedger(MemoryStore(), clock=value))
    _refused(lambda: StatusListIssuer(_ISSUER, size=8, clock=value))
    _refused(lambda: StatusLists({"k1": _PUBLIC}, issuer="urn:test:iss", clock=value))
    _refused(lambda: StatusLists({"k1": _PUBLIC}, issuer="urn:test:iss", store=value))
    _refused(_verifier(clock=value))
    _refused(_verifier(replay_store=value))
    _refused(lambda: AuditLog(tmp_path / "a.jsonl", clock=value))
    _refused(lambda: AuditLog(tmp_path / "b.jsonl", head_store=value))


class _HalfStore:
    """Has ``pseudonym`` (so it passes the pre-pseudonym rule) and nothing else."""

    def pseudonym(self, kind: str, value: str) -> str:
        return "p1." + "0" * 64


def test_an_object_that_is_not_a_whole_store_is_refused_when_handed_over(tmp_path: Path) -> None:
    from faceguard import GuardPolicy, UseCase

    use_case = UseCase("commercial.touchless_access_control")
    _refused(lambda: GuardPolicy(use_case=use_case, store=_HalfStore()))
    _refused(_verifier(replay_store=_HalfStore()))
    _refused(lambda: StatusLists({"k1": _PUBLIC}, issuer="urn:test:iss", store=_HalfStore()))
    _refused(lambda: AuditLog(tmp_path / "a.jsonl", head_store=_HalfStore()))


def _attack_person_lookups(ledger: ConsentLedger, kind: Any, container: Any, person: Any) -> None:
    _typed(lambda: ledger.subject_of(kind, container, person))
    _typed(lambda: ledger.has_live_consent(kind, container, person))
    _typed(lambda: ledger.live_persons(kind, container, [person]))
    _typed(lambda: ledger.forget_person(kind, container, person))
    _typed(lambda: ledger.forget_container(kind, container))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_ledger_person_lookups_hostile_ids(tmp_path: Path, value: Any) -> None:
    for store in (MemoryStore(), SQLiteStore(tmp_path / "p.db", key=b"k" * 32)):
        ledger = ConsentLedger(store, clock=lambda: 0.0)
        _attack_person_lookups(ledger, value, "g", "p")
        _attack_person_lookups(ledger, "personGroup", value, "p")
        _attack_person_lookups(ledger, "personGroup", "g", value)
        store.close()


def _attack_store_methods(store: Any, value: Any) -> None:
    _typed(lambda: store.put("n", value, b"v"))
    _typed(lambda: store.put(value, "k", b"v"))
    _typed(lambda: store.put("n", "k", value))
    _typed(lambda: store.put("n", "k", b"v", ttl=value))
    _typed(lambda: store.get("n", value))
    _typed(lambda: store.get_many("n", [value]))
    _typed(lambda: store.delete("n", value))
    _typed(lambda: store.add_if_absent("n", value, b"v", ttl=1))
    _typed(lambda: store.add_if_absent("n", "k2", b"v", ttl=value))
    _typed(lambda: store.count_event("n", value, window=1))
    _typed(lambda: store.count_event("n", "k", window=value))
    _typed(lambda: store.keys(value))
    _typed(lambda: store.pseudonym("subject", value))


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_store_methods_hostile_arguments(tmp_path: Path, redis_url: str, value: Any) -> None:
    """The GuardStore methods are public: a caller's key, namespace, value or ttl that no
    backend can hold is refused typed by every backend alike."""
    for store in (
        MemoryStore(),
        SQLiteStore(tmp_path / "m.db", key=b"k" * 32),
        faceguard.RedisStore(redis_url, key=b"k" * 32, prefix=f"attack{tmp_path.name}"),
    ):
        store.put("n", "k", b"v", ttl=60)  # the baseline works on every backend
        assert store.get_many("n", ["k"]) == [b"v"]
        assert store.count_event("n", "k", window=60) == 1
        _attack_store_methods(store, value)
        # A ttl or window that is not a finite number would make an entry that never (or
        # at once) expires on one backend and an error on another: refused on all.
        for bad in (math.nan, math.inf, 10**400):
            _refused(lambda s=store, bad=bad: s.put("n", "k", b"v", ttl=bad))
            _refused(lambda s=store, bad=bad: s.count_event("n", "k", window=bad))
        store.close()
