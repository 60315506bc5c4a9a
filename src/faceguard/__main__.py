"""The ``faceguard`` command line.

Commands:

- ``faceguard --version`` (or ``faceguard version``): print the version.
- ``faceguard demo [--images DIR] [--html PATH]``: the whole guarded flow on the embedded
  emulator with real photos (the README's main job), with a self-contained HTML report.
- ``faceguard audit verify FILE [--key PUB] [--store URL|PATH] [--log-id ID]``: recompute an
  audit log's hash chain, and with ``--key`` / ``--store`` its signed checkpoints and stored
  head. Prints ``OK: ...`` and exits 0, or ``<VERDICT> at record K: <problem>`` (``K`` is the
  0-based position, the ``seq`` in an intact log) and exits 1 BROKEN, 3 FORGED APPEND,
  4 REWRITTEN, 5 TRUNCATED; bad usage or an unreadable file, key or store exits 2.
- ``faceguard audit keygen [--out PREFIX]``: a new Ed25519 audit key pair (keep it apart from
  the consent keys).
- ``faceguard audit repair FILE``: cut the incomplete last line a crash left (never a whole
  record), so the log can be opened again.
- ``faceguard consent keygen|issue|inspect``: make an Ed25519 key pair, mint a consent token,
  or show what a token says without verifying it. For development and tests only: in
  production the consent service mints tokens with a key kept in an HSM or key vault. Bad
  input exits 2 with a message on stderr.
- ``faceguard testing check-cassettes [PATH ...]``: scan cassettes and fixtures (``.yaml``,
  ``.yml``, ``.json`` under each directory, default ``.``) for keys, tokens, image bytes and
  ids in clear (a UUID in any spelling that is not a cassette placeholder).
  Prints ``file:line: ...`` per finding and exits 1, or ``OK: ...`` and exits 0; a missing or
  unreadable path exits 2.
- ``faceguard retention due|sweep [--client MODULE:CALLABLE]``: list, or delete, the persons
  and faces whose retention has ended, with the application's own client (see
  ``_retention_cli``); ``sweep`` exits 0 when everything due was deleted, 1 when something
  was not, 2 when the client cannot be built. For cron.
- ``faceguard emulator serve [--host 127.0.0.1] [--port 5000] [--state-dir DIR] [--key KEY]
  [--allow-remote] [--tps N] [--fault-rate P [--fault-seed S]]``: serve the offline emulator
  (Face v1.2, liveness, Content Safety blocklists) over HTTP until Ctrl-C. Loopback only
  unless ``--allow-remote``; with ``--state-dir`` the state survives restarts (SQLite); with
  ``--key`` only that subscription key is accepted; ``--tps`` sets a TPS limit and
  ``--fault-rate`` random faults (``Faults.add_fault_mix``). Exits 2 on bad options (a
  non-loopback host, a port in use, a rate out of range).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._version import __version__

__all__ = ["main"]

_VERSION_HELP = "print the faceguard version and exit"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faceguard",
        description="faceguard: a guarded client for the Azure AI Face API v1.2",
    )
    parser.add_argument(
        "--version", action="version", version=f"faceguard {__version__}", help=_VERSION_HELP
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "version",
        help=_VERSION_HELP,
        description="Print the installed faceguard version (the same as faceguard --version).",
    )
    demo = commands.add_parser(
        "demo",
        help="the guarded flow on the embedded emulator with real photos (no cloud account)",
        description=(
            "Run the whole guarded flow on the embedded emulator and its local face engine, "
            "with real photos: detect, enroll under consent, train, identify, verify, group, "
            "the guard's refusals and the audit chain. Prints each step and writes a "
            "self-contained HTML report (one file, pictures inlined). No cloud account, no "
            "network."
        ),
    )
    demo.add_argument(
        "--images",
        type=Path,
        default=None,
        metavar="DIR",
        help='a folder of photos with a manifest.json: {"images": [{"file": ..., "identity": '
        '..., "faces": 1}, ...]}, two photos or more of each of two people or more (default: '
        "examples/data/faces or tests/data/faces in a checkout of faceguard)",
    )
    demo.add_argument(
        "--html",
        type=Path,
        default=None,
        metavar="PATH",
        help="where to write the HTML report (default: report.html in a new temporary "
        "folder; the path is printed at the end)",
    )
    audit = commands.add_parser(
        "audit",
        help="work with a faceguard audit log: verify, show, repair, keygen",
        description=(
            "Tools for the guard's hash-chained audit log (JSON Lines): check it, repair a "
            "crash-cut last line, make the Ed25519 key that signs its checkpoints."
        ),
    )
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    _audit_parser(audit_commands)
    _consent_parser(commands)
    _testing_parser(commands)
    _emulator_parser(commands)
    from ._retention_cli import add_parser as _retention_parser

    _retention_parser(commands)
    _name_choices(parser)
    return parser


def _name_choices(parser: argparse.ArgumentParser) -> None:
    """Name every subcommand group by its choices, so a missing subcommand is reported as
    ``required: {verify,repair,keygen}`` rather than by an internal ``dest``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action.metavar = "{" + ",".join(action.choices) + "}"
            for sub in action.choices.values():
                _name_choices(sub)


def _emulator_parser(commands: Any) -> None:
    emulator = commands.add_parser(
        "emulator",
        help="the offline Face / Content Safety emulator (for tests): serve",
        description=(
            "The offline emulator of the Face v1.2, liveness and Content Safety REST APIs, "
            "with a real local face engine. For tests and development only."
        ),
    )
    sub = emulator.add_subparsers(dest="emulator_command", required=True)
    serve = sub.add_parser(
        "serve",
        help="serve the emulator over HTTP on loopback until Ctrl-C",
        description=(
            "Serve the offline emulator of the Face v1.2 and Content Safety 2024-09-01 REST "
            "APIs. Point a client at http://HOST:PORT. For tests and development only: it "
            "keeps biometric templates and has no real authentication."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5000, help="port (default 5000; 0 = any)")
    serve.add_argument(
        "--state-dir", metavar="DIR", help="keep the state in DIR (SQLite) across restarts"
    )
    serve.add_argument(
        "--key", metavar="KEY", help="accept only this subscription key (default: any key)"
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the emulator holds biometric templates)",
    )
    serve.add_argument(
        "--tps",
        type=int,
        metavar="N",
        help="answer 429 (with Retry-After) beyond N requests in any second, as the service",
    )
    serve.add_argument(
        "--fault-rate",
        type=float,
        metavar="P",
        help="fail a random fraction P (0..1] of requests, split evenly between 429 with "
        "Retry-After 1, 503, and a connection dropped after handling",
    )
    serve.add_argument(
        "--fault-seed",
        type=int,
        metavar="S",
        help="seed the random faults (same seed and request order, same faults)",
    )
    serve.add_argument(
        "--request-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="answer 408 to a client that takes longer to send its headers, or then its "
        "body (default 30)",
    )


def _testing_parser(commands: Any) -> None:
    testing = commands.add_parser(
        "testing",
        help="test helpers: check-cassettes",
        description="Helpers for the tests of an application that uses faceguard.",
    )
    sub = testing.add_subparsers(dest="testing_command", required=True)
    check = sub.add_parser(
        "check-cassettes",
        help="find keys, tokens, image bytes and ids in clear in cassettes and fixtures; "
        "exit 1 if any",
        description=(
            "Scan recorded cassettes and fixtures (.yaml, .yml, .json) for subscription keys, "
            "tokens, image bytes and ids in clear (a UUID in any spelling that is not a "
            "cassette placeholder). Prints file:line per finding and exits 1, or OK and exits "
            "0; a missing or unreadable path exits 2."
        ),
    )
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files, or directories searched for .yaml/.yml/.json (default: .)",
    )


_DEV_ONLY = (
    "For development and tests only: in production, consent tokens are minted by the "
    "application's consent service, whose private key stays in an HSM or key vault."
)
_MAX_KEY_FILE = 64 * 1024


_AUDIT_EXITS = """exit status:
  0  OK: the chain is intact (and, with --key / --store, every record is covered by a
     genuine checkpoint or the stored head)
  1  BROKEN: the chain itself is broken (a record altered, deleted, reordered, malformed)
  2  bad usage, or the file, key or store cannot be read
  3  FORGED APPEND: records no genuine checkpoint (or stored head) covers: appended by
     someone without the audit key (without --store, also a crashed writer's last records)
  4  REWRITTEN: a checkpoint signed by the key, or the stored head, names a record the file
     no longer has: deleted (or altered) and the chain recomputed
  5  TRUNCATED: the file ends before the stored head or a stored checkpoint, or mid-record
"""


def _audit_parser(audit_commands: Any) -> None:
    verify = audit_commands.add_parser(
        "verify",
        help="check an audit log's hash chain, signed checkpoints and stored head",
        description=(
            "Recompute the hash chain; with --key also check the signed checkpoints, with "
            "--store also check the file against the head kept in the guard store. The file "
            "alone proves only that it is one chain; the key proves everything up to the last "
            "checkpoint; the store pins the tail."
        ),
        epilog=_AUDIT_EXITS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("file", help="the audit log (JSON Lines)")
    verify.add_argument("--key", metavar="PUB", help="the audit key's public key PEM file")
    verify.add_argument(
        "--store",
        metavar="URL|PATH",
        help="the guard store holding the log head: a SQLite file, or redis://, rediss://, "
        "unix:// URL",
    )
    verify.add_argument(
        "--log-id", metavar="ID", help="the log's id in the store (default: the file name)"
    )
    show = audit_commands.add_parser(
        "show",
        help="print a recognition decision with its reviews and disputes",
        description=(
            "Verify the log (the hash chain; with --key its signed checkpoints, with --store "
            "its stored head), then print the decision named by --decision (the decision_id "
            "of a provisional result) with every review (R11) and dispute (R22) linked to it. "
            "Subjects and reviewers appear only as the log's pseudonyms. Exit 0, 2 (bad "
            "usage, unreadable file, no such decision), or verify's status when the log "
            "fails verification (nothing is shown then)."
        ),
    )
    show.add_argument("file", help="the audit log (JSON Lines)")
    show.add_argument(
        "--decision", required=True, metavar="ID", help="the decision id (sha256:...)"
    )
    show.add_argument("--key", metavar="PUB", help="the audit key's public key PEM file")
    show.add_argument(
        "--store",
        metavar="URL|PATH",
        help="the guard store holding the log head (SQLite file or redis:// URL)",
    )
    show.add_argument(
        "--log-id", metavar="ID", help="the log's id in the store (default: the file name)"
    )
    repair = audit_commands.add_parser(
        "repair",
        help="cut an incomplete last line (a write a crash cut short) so the log reopens",
        description=(
            "Cut the incomplete last line a crash or power loss left, never a whole record: "
            "the record before it must be intact. Refuses while a writer has the log open. "
            "Exit 0 (repaired, or nothing to repair) or 2."
        ),
    )
    repair.add_argument("file", help="the audit log (JSON Lines)")
    keygen = audit_commands.add_parser(
        "keygen",
        help="write a new Ed25519 audit key pair, PREFIX.key and PREFIX.pub",
        description=(
            "Write a new Ed25519 audit key (PREFIX.key, PKCS#8 PEM, mode 0600) and its public "
            "key (PREFIX.pub). Keep the audit key apart from the consent keys; existing files "
            "are never overwritten."
        ),
    )
    keygen.add_argument(
        "--out", default="audit", metavar="PREFIX", help="path prefix (default: audit)"
    )


def _consent_parser(commands: Any) -> None:
    consent = commands.add_parser(
        "consent",
        help="consent tokens: keygen, issue, inspect (development and tests only)",
        description=f"Consent token tools. {_DEV_ONLY}",
    )
    sub = consent.add_subparsers(dest="consent_command", required=True)
    keygen = sub.add_parser(
        "keygen",
        help="write a new Ed25519 key pair, PREFIX.key and PREFIX.pub (development and tests)",
        description=(
            "Write a new Ed25519 private key (PREFIX.key, PKCS#8 PEM, mode 0600) and its "
            "public key (PREFIX.pub) and print both paths. Existing files are never "
            f"overwritten. {_DEV_ONLY}"
        ),
    )
    keygen.add_argument(
        "--out", default="consent", metavar="PREFIX", help="path prefix (default: consent)"
    )
    issue = sub.add_parser(
        "issue",
        help="mint a signed consent token and print it (development and tests)",
        description=(
            "Mint a consent token (fg-consent+jwt) signed with --key and print it on stdout; "
            f"messages go to stderr. {_DEV_ONLY}"
        ),
    )
    issue.add_argument("--key", required=True, metavar="FILE", help="Ed25519 private key PEM")
    issue.add_argument("--issuer", required=True, metavar="ISS", help="the iss claim")
    issue.add_argument("--kid", required=True, help="the key id verifiers pin the key under")
    issue.add_argument(
        "--audience",
        required=True,
        action="append",
        metavar="AUD",
        help="the faceguard deployment id the token is for (repeat for several)",
    )
    issue.add_argument(
        "--endpoint",
        required=True,
        action="append",
        metavar="URL",
        help="the Face resource endpoint the token is for, e.g. "
        "https://<resource>.cognitiveservices.azure.com (repeat for several)",
    )
    issue.add_argument(
        "--subject", required=True, metavar="SUB", help="pseudonymous subject id (never email)"
    )
    issue.add_argument(
        "--op",
        required=True,
        action="append",
        metavar="OP",
        help="a permitted operation (repeat): " + ", ".join(sorted(_consent_operations())),
    )
    issue.add_argument(
        "--use-case",
        required=True,
        metavar="UC",
        help="the use case the consent covers (consent.uc), one of: "
        + ", ".join(sorted(_use_cases())),
    )
    issue.add_argument(
        "--bind",
        action="append",
        default=[],
        metavar="KIND:ID[:PERSON]",
        help="bind to a container (and person), e.g. largePersonGroup:hq-staff (repeat); "
        "KIND is one of: " + ", ".join(sorted(_container_kinds())),
    )
    issue.add_argument(
        "--use", choices=("once", "session", "standing"), default="once", help="default: once"
    )
    issue.add_argument(
        "--lifetime",
        type=float,
        metavar="SECONDS",
        help="default and maximum: 600 (once), 3600 (session), 86400 (standing)",
    )
    issue.add_argument("--record-id", metavar="RID", help="consent record id (consent.rid)")
    issue.add_argument(
        "--status-uri",
        metavar="URI",
        help="status list uri (with --status-idx); required for --use standing",
    )
    issue.add_argument("--status-idx", type=int, metavar="N", help="index in that status list")
    _claim_arguments(issue)
    inspect = sub.add_parser(
        "inspect",
        help="print a token's header and claims WITHOUT verifying it (development aid)",
        description=(
            "Decode a compact JWS and print its header and claims as JSON. Nothing is "
            "verified: not the signature, the times, the issuer or the audience. "
            f"{_DEV_ONLY}"
        ),
    )
    inspect.add_argument("token", help="the compact JWS itself (not a file name)")


def _claim_arguments(issue: Any) -> None:
    """How consent was obtained (GUARD.md §3.2): the typed claims of ConsentIssuer.issue."""
    issue.add_argument(
        "--source",
        metavar="ORIGIN",
        help="where the images come from (consent.src): capture_device, subject_upload, "
        "subject_self_published or public_web",
    )
    issue.add_argument(
        "--alternative-offered",
        action="store_true",
        default=None,
        help="a way in without a face scan was offered (consent.alt); needed for access "
        "control and workplace deployments",
    )
    issue.add_argument(
        "--age",
        metavar="ATTESTATION",
        help="consent.min: adult_attested, minor_guardian_consent (with "
        "--guardian-evidence-ref) or unknown",
    )
    issue.add_argument("--guardian-evidence-ref", metavar="REF", help="consent.min_ref")
    issue.add_argument(
        "--continuous-identification",
        action="store_true",
        help="explicit consent to continuous identification (consent.cnt)",
    )
    issue.add_argument(
        "--legal-basis",
        action="append",
        metavar="BASIS",
        help="a legal basis, e.g. dpv:ExplicitlyExpressedConsent (repeat; consent.lb)",
    )
    issue.add_argument("--notice-uri", metavar="URI", help="the notice given (consent.ntc)")
    issue.add_argument(
        "--notice-at", type=float, metavar="EPOCH", help="when it was given (default: now)"
    )
    issue.add_argument("--retention-until", type=float, metavar="EPOCH", help="consent.ret.until")
    issue.add_argument(
        "--retention-purpose-end", type=float, metavar="EPOCH", help="consent.ret.purpose_end"
    )
    issue.add_argument("--retention-policy-uri", metavar="URI", help="consent.ret.policy_uri")


def _claim_values(args: argparse.Namespace) -> dict[str, Any]:
    """The typed claim arguments of ``issue`` from the command line (ValueError if bad)."""
    import time

    from ._guard._claim_values import Notice, Retention

    notice = None
    if args.notice_uri is not None:
        at = time.time() - 1 if args.notice_at is None else args.notice_at
        notice = Notice(args.notice_uri, at)
    retention = None
    ret = (args.retention_until, args.retention_purpose_end, args.retention_policy_uri)
    if any(value is not None for value in ret):
        retention = Retention(*ret)
    return {
        "source": args.source,
        "alternative_offered": args.alternative_offered,
        "age": args.age,
        "guardian_evidence_ref": args.guardian_evidence_ref,
        "continuous_identification": args.continuous_identification,
        "legal_basis": args.legal_basis,
        "notice": notice,
        "retention": retention,
    }


def _consent_operations() -> frozenset[str]:
    from ._guard._usecases import CONSENT_OPERATIONS

    return CONSENT_OPERATIONS


def _use_cases() -> list[str]:
    from ._guard._usecases import UseCase

    return [use_case.value for use_case in UseCase]


def _container_kinds() -> frozenset[str]:
    from ._guard._claims import CONTAINER_KINDS

    return CONTAINER_KINDS


def _fail(message: str) -> int:
    sys.stderr.write(f"faceguard: {message}\n")
    return 2


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode``; FileExistsError if anything is there already."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # exactly ``mode``, whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _consent_keygen(prefix: str) -> int:
    from ._exceptions import ConfigurationError
    from ._guard._consent import generate_keypair

    key_path, pub_path = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    for path in (key_path, pub_path):
        if path.exists() or path.is_symlink():
            return _fail(f"{path} already exists; not overwriting it")
    try:
        private, public = generate_keypair()
    except ConfigurationError as exc:
        return _fail(str(exc))
    try:
        _write_new(key_path, private, 0o600)
    except FileExistsError:
        return _fail(f"{key_path} already exists; not overwriting it")
    except OSError as exc:
        return _fail(f"cannot write {key_path}: {exc.strerror or exc}")
    try:
        _write_new(pub_path, public, 0o644)
    except OSError as exc:
        key_path.unlink()  # ours: created above, so no half pair is left behind
        if isinstance(exc, FileExistsError):
            return _fail(f"{pub_path} already exists; not overwriting it")
        return _fail(f"cannot write {pub_path}: {exc.strerror or exc}")
    sys.stdout.write(f"{key_path}\n{pub_path}\n")
    sys.stderr.write(
        "faceguard: wrote a private key (mode 0600, keep it secret) and its public key; "
        "development and tests only\n"
    )
    return 0


def _read_key(file: str) -> tuple[bytes, int] | str:
    """The key file's bytes and mode, or an error message (never the file's content)."""
    path = Path(file)
    try:
        if path.is_dir():
            return f"the key file is a directory: {file}"
        info = path.stat()
        if info.st_size > _MAX_KEY_FILE:
            return f"the key file is too large to be a PEM key: {file}"
        return path.read_bytes(), info.st_mode
    except FileNotFoundError:
        return f"no such key file: {file}"
    except OSError as exc:
        return f"cannot read the key file {file}: {exc.strerror or exc}"


def _parse_bind(value: str) -> tuple[str, str, str | None] | None:
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        return None
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def _consent_issue(args: argparse.Namespace) -> int:
    from ._exceptions import ConfigurationError
    from ._guard._consent import ConsentIssuer
    from ._guard._usecases import CONSENT_OPERATIONS, UseCase

    unknown = sorted(set(args.op) - CONSENT_OPERATIONS)
    if unknown:
        return _fail(
            f"unknown operation(s) {', '.join(unknown)}; "
            f"choose from {', '.join(sorted(CONSENT_OPERATIONS))}"
        )
    use_cases = {uc.value for uc in UseCase}
    if args.use_case not in use_cases:
        return _fail(f"unknown use case; choose from {', '.join(sorted(use_cases))}")
    bindings = []
    for value in args.bind:
        binding = _parse_bind(value)
        if binding is None:
            return _fail(f"--bind takes KIND:ID or KIND:ID:PERSON, not {value!r}")
        bindings.append(binding)
    if (args.status_uri is None) != (args.status_idx is None):
        return _fail("--status-uri and --status-idx go together")
    status = None if args.status_uri is None else (args.status_uri, args.status_idx)
    read = _read_key(args.key)
    if isinstance(read, str):
        return _fail(read)
    pem, mode = read
    try:
        issuer = ConsentIssuer(pem, issuer=args.issuer, kid=args.kid)
        if os.name == "posix" and mode & 0o077:
            sys.stderr.write(
                f"faceguard: warning: {args.key} is readable by other users; chmod 600 it\n"
            )
        token = issuer.issue(
            args.subject,
            audience=[*args.audience, *args.endpoint],  # aud names both (GUARD.md §3.2)
            operations=args.op,
            use_case=args.use_case,
            bindings=bindings,
            use=args.use,
            lifetime=args.lifetime,
            record_id=args.record_id,
            status=status,
            **_claim_values(args),
        )
    except (ValueError, ConfigurationError) as exc:
        return _fail(str(exc))
    sys.stdout.write(f"{token}\n")
    return 0


def _consent_inspect(token: str) -> int:
    from ._guard._jws import _b64decode, _json_object

    parts = token.strip().split(".")
    if len(parts) != 3:
        return _fail("not a compact JWS: expected three dot-separated parts")
    decoded: list[dict[str, Any]] = []
    for name, part in (("header", parts[0]), ("payload", parts[1])):
        raw = _b64decode(part)
        if raw is None:
            return _fail(f"the {name} is not canonical base64url")
        value = _json_object(raw)
        if value is None:
            return _fail(f"the {name} is not a JSON object (or has duplicate members)")
        decoded.append(value)
    sys.stderr.write(
        "faceguard: WARNING: NOT VERIFIED. This shows what the token claims, not whether it "
        "is genuine, unexpired, unrevoked or meant for you; only ConsentVerifier decides "
        "that.\n"
    )
    out = {"header": decoded[0], "claims": decoded[1]}
    sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=True) + "\n")
    return 0


def _audit_repair(file: str) -> int:
    from ._exceptions import AuditError
    from ._guard._audit import repair_tail

    try:
        cut = repair_tail(file)
    except AuditError as exc:
        return _fail(str(exc))
    sys.stdout.write(
        f"cut {cut} byte(s) of an incomplete last line\n" if cut else "nothing to repair\n"
    )
    return 0


def _open_store(where: str) -> Any:
    """The guard store named by ``--store``: a Redis URL, or an existing SQLite file."""
    if where.startswith(("redis://", "rediss://", "unix://")):
        from ._guard._redis_store import RedisStore

        return RedisStore(where)
    from ._guard._sqlite_store import SQLiteStore

    if not Path(where).is_file():
        raise FileNotFoundError(f"no such store file: {where}")
    return SQLiteStore(where)


def _audit_verify(args: argparse.Namespace) -> int:
    # imported here: `faceguard version` stays light
    from ._exceptions import FaceGuardError
    from ._guard._audit import verify_chain
    from ._guard._audit_verify import EXIT_CODES, verify_log

    file = args.file
    plain = args.key is None and args.store is None
    public = None
    if args.key is not None:
        read = _read_key(args.key)
        if isinstance(read, str):
            return _fail(read)
        public = read[0]
    store = None
    try:
        if args.store is not None:
            store = _open_store(args.store)
        if plain:
            report = verify_chain(file)
            if report.ok:
                sys.stdout.write(f"OK: {report.records} records, chain intact\n")
                return 0
            if report.problem and "incomplete last line" in report.problem:
                sys.stdout.write(f"TRUNCATED at record {report.first_broken}: {report.problem}\n")
                return EXIT_CODES["truncated"]
            sys.stdout.write(f"BROKEN at record {report.first_broken}: {report.problem}\n")
            return 1
        verdict = verify_log(file, public_key=public, store=store, log_id=args.log_id)
    except FileNotFoundError as exc:
        missing = exc.filename is not None and os.fspath(exc.filename) == file
        return _fail(f"no such audit log: {file}" if missing else str(exc))
    except IsADirectoryError:
        return _fail(f"not a file: {file}")
    except OSError as exc:
        return _fail(f"cannot read {file}: {exc.strerror or exc}")
    except (ValueError, FaceGuardError) as exc:
        return _fail(str(exc))
    finally:
        if store is not None:
            store.close()
    if verdict.ok:
        sealed = f", {verdict.checkpoints} checkpoint(s) verified" if public is not None else ""
        sys.stdout.write(
            f"OK: {verdict.records} records, chain intact{sealed}, "
            f"{verdict.sealed} record(s) covered by the key or the store\n"
        )
        return 0
    label = verdict.status.upper().replace("_", " ")
    sys.stdout.write(f"{label} at record {verdict.at}: {verdict.problem}\n")
    return EXIT_CODES[verdict.status]


def _emulator_serve(args: argparse.Namespace) -> int:
    try:
        from .emulator import Emulator
        from .emulator._banner import banner
        from .emulator._server import EmulatorServer
    except ImportError as exc:  # pragma: no cover - the emulator ships with faceguard
        return _fail(f"the emulator cannot be loaded: {exc}")
    if not 0 <= args.port <= 65535:
        return _fail("--port must be within 0..65535")
    emulator = Emulator()
    try:
        _script_faults(emulator, args)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        server = EmulatorServer(
            emulator,
            host=args.host,
            port=args.port,
            key=args.key,
            state_dir=args.state_dir,
            allow_remote=args.allow_remote,
            request_timeout=args.request_timeout,
        )
    except ValueError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}")
    sys.stderr.write(
        banner(server.url, key_required=args.key is not None, state_dir=args.state_dir)
    )
    sys.stderr.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def _script_faults(emulator: Any, args: argparse.Namespace) -> None:
    """Apply ``--tps``, ``--fault-rate`` and ``--fault-seed``; ValueError on bad values."""
    if args.tps is not None:
        if args.tps < 1:
            raise ValueError("--tps must be at least 1")
        emulator.faults.set_tps_limit(args.tps)
    if args.fault_seed is not None:
        emulator.faults.seed(args.fault_seed)
    if args.fault_rate is not None:
        if not 0.0 <= args.fault_rate <= 1.0:
            raise ValueError("--fault-rate must be within 0..1")
        if args.fault_rate > 0:
            emulator.faults.add_fault_mix(args.fault_rate)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:
        # The reader went away (`faceguard demo | head`): stop quietly, as other tools do,
        # with stdout pointed at devnull so the interpreter's last flush cannot fail again.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "audit":
        if args.audit_command == "keygen":
            return _consent_keygen(args.out)
        if args.audit_command == "repair":
            return _audit_repair(args.file)
        if args.audit_command == "show":
            from ._audit_show import show

            return show(args, read_key=_read_key, open_store=_open_store, fail=_fail)
        return _audit_verify(args)
    if args.command == "retention":
        from ._retention_cli import run as run_retention

        return run_retention(args)
    if args.command == "emulator":
        return _emulator_serve(args)
    if args.command == "consent":
        if args.consent_command == "keygen":
            return _consent_keygen(args.out)
        if args.consent_command == "issue":
            return _consent_issue(args)
        return _consent_inspect(args.token)
    if args.command == "testing":
        from .testing._hygiene import run_check

        return run_check(args.paths, sys.stdout, sys.stderr)
    if args.command == "demo":
        from ._exceptions import InvalidInputError
        from .emulator._demo import run_demo

        try:
            return run_demo(args.images, html=args.html, out=sys.stdout)
        except BrokenPipeError:
            raise  # the reader went away: main() ends quietly
        except (OSError, ImportError, InvalidInputError) as problem:
            # no photo folder, a manifest that does not fit, no report folder, no engine
            sys.stderr.write(f"faceguard demo: {problem}\n")
            return 2
    if args.command == "version":
        sys.stdout.write(f"faceguard {__version__}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
