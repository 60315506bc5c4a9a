"""``faceguard consent keygen|issue|inspect``: the development and test helpers.

Run in-process through ``main([...])`` and once through ``python -m faceguard`` to prove the
entry point. Bad input exits 2 with a message on stderr and never a traceback.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from faceguard.__main__ import main
from faceguard._guard._consent import ConsentScope, ConsentVerifier
from faceguard._guard._status import StatusListIssuer, StatusLists
from faceguard._guard._store import MemoryStore
from faceguard._guard._usecases import UseCase

ISS = "https://consent.example.com"
AUD = "faceguard:deploy:hq-access"
ENDPOINT = "https://hq-face.cognitiveservices.azure.com"
SESSION = bytes(range(32))  # the test's client session handle
UC = UseCase.TOUCHLESS_ACCESS_CONTROL


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@pytest.fixture
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    prefix = tmp_path / "dev"
    assert main(["consent", "keygen", "--out", str(prefix)]) == 0
    capsys.readouterr()
    return prefix


def issue_args(keys: Path, *extra: str, subject: str = "p-7f3c9a1e5b") -> list[str]:
    return [
        "consent",
        "issue",
        "--key",
        f"{keys}.key",
        "--issuer",
        ISS,
        "--kid",
        "k1",
        "--audience",
        AUD,
        "--endpoint",
        ENDPOINT,
        "--subject",
        subject,
        "--use-case",
        UC.value,
        "--alternative-offered",  # access control: enrolling stays optional (R06)
        *extra,
    ]


def verifier(keys: Path) -> ConsentVerifier:
    return ConsentVerifier(
        {"k1": Path(f"{keys}.pub").read_bytes()},
        issuer=ISS,
        audience=AUD,
        replay_store=MemoryStore(),
    )


# -- keygen -------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_0600_and_a_public_key(tmp_path, capsys):
    prefix = tmp_path / "issuer"
    code, out, err = run(capsys, "consent", "keygen", "--out", str(prefix))
    assert code == 0
    assert out.splitlines() == [f"{prefix}.key", f"{prefix}.pub"]
    private, public = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE KEY" not in out + err and "development" in err


def test_keygen_private_key_is_0600_even_with_a_permissive_umask(tmp_path, capsys):
    old = os.umask(0)
    try:
        assert run(capsys, "consent", "keygen", "--out", str(tmp_path / "k"))[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k.key").stat().st_mode) == 0o600


def test_keygen_default_prefix_is_consent(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "consent", "keygen")
    assert code == 0 and out.splitlines() == ["consent.key", "consent.pub"]
    assert (tmp_path / "consent.key").exists() and (tmp_path / "consent.pub").exists()


def test_keygen_refuses_to_overwrite(tmp_path, capsys, keys):
    before = Path(f"{keys}.key").read_bytes(), Path(f"{keys}.pub").read_bytes()
    code, out, err = run(capsys, "consent", "keygen", "--out", str(keys))
    assert code == 2 and out == "" and "already exists" in err and "Traceback" not in err
    assert (Path(f"{keys}.key").read_bytes(), Path(f"{keys}.pub").read_bytes()) == before


@pytest.mark.parametrize("existing", ["key", "pub"])
def test_keygen_refuses_when_either_file_exists_and_writes_nothing(tmp_path, capsys, existing):
    (tmp_path / f"x.{existing}").write_text("mine")
    code, _, err = run(capsys, "consent", "keygen", "--out", str(tmp_path / "x"))
    assert code == 2 and "not overwriting" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"x.{existing}"]
    assert (tmp_path / f"x.{existing}").read_text() == "mine"


def test_keygen_into_a_missing_directory_exits_2(tmp_path, capsys):
    code, out, err = run(capsys, "consent", "keygen", "--out", str(tmp_path / "no" / "k"))
    assert code == 2 and out == "" and "cannot write" in err and "Traceback" not in err


# -- issue --------------------------------------------------------------------------------


def test_issued_token_verifies_with_the_generated_public_key(capsys, keys):
    code, out, err = run(
        capsys,
        *issue_args(
            keys,
            "--op",
            "identify",
            "--op",
            "detect_template",
            "--bind",
            "largePersonGroup:hq-staff:person-1",
            "--bind",
            "faceList:fl-1",
            "--use",
            "session",
            "--lifetime",
            "1200",
            "--record-id",
            "cr-1",
        ),
    )
    assert code == 0 and err == ""
    token = out.strip()
    assert out == f"{token}\n" and token.count(".") == 2  # nothing else on stdout
    result = verifier(keys).verify(
        token,
        ConsentScope("identify", "largePersonGroup", "hq-staff"),
        use_case=UC,
        endpoint=ENDPOINT,
        session=SESSION,
    )
    assert result.operations == {"identify", "detect_template"}
    assert result.use_case is UC and result.use == "session"
    assert result.bindings == (
        ("largePersonGroup", "hq-staff", "person-1"),
        ("faceList", "fl-1", None),
    )
    assert result.subject == "p-7f3c9a1e5b" and result.kid == "k1" and result.record_id == "cr-1"
    assert result.expires_at - result.issued_at == 1200


def test_issue_defaults_to_a_once_token_of_the_maximum_lifetime(capsys, keys):
    code, out, _ = run(capsys, *issue_args(keys, "--op", "verify"))
    assert code == 0
    claims = claims_of(out.strip())
    assert claims["consent"]["use"] == "once" and claims["exp"] - claims["iat"] == 600
    assert claims["consent"]["bind"] == [] and claims["aud"] == [AUD, ENDPOINT]


def test_issue_with_several_audiences_and_a_status_entry(capsys, keys):
    code, out, _ = run(
        capsys,
        *issue_args(
            keys,
            "--audience",
            "faceguard:deploy:lobby",
            "--endpoint",
            "https://lobby-face.cognitiveservices.azure.com",
            "--op",
            "verify",
            "--status-uri",
            "https://consent.example.com/status/7",
            "--status-idx",
            "4",
        ),
    )
    assert code == 0
    token = out.strip()
    claims = claims_of(token)
    assert claims["aud"] == [
        AUD,
        "faceguard:deploy:lobby",
        ENDPOINT,
        "https://lobby-face.cognitiveservices.azure.com",
    ]
    assert claims["status"] == {
        "status_list": {"idx": 4, "uri": "https://consent.example.com/status/7"}
    }
    private = Path(f"{keys}.key").read_bytes()
    lists_issuer = StatusListIssuer(private, issuer=ISS, kid="k1", size=16)
    lists = StatusLists({"k1": Path(f"{keys}.pub").read_bytes()}, issuer=ISS)
    lists.update(lists_issuer.token("https://consent.example.com/status/7", ttl=60))
    v = ConsentVerifier(
        {"k1": Path(f"{keys}.pub").read_bytes()},
        issuer=ISS,
        audience=AUD,
        replay_store=MemoryStore(),
        status_lists=lists,
    )
    v.verify(token, ConsentScope("verify"), use_case=UC, endpoint=ENDPOINT, session=SESSION)


@pytest.mark.parametrize(
    ("extra", "subject", "message"),
    [
        (["--op", "emotion"], "p-1", "unknown operation"),
        (["--op", "verify", "--op", "age"], "p-1", "unknown operation"),
        (["--op", "verify"], "alice@example.com", "pseudonymous"),
        (["--op", "verify"], "+1 (555) 010-2030", "pseudonymous"),
        (["--op", "verify", "--lifetime", "601"], "p-1", "at most 600"),
        (["--op", "verify", "--use", "session", "--lifetime", "3601"], "p-1", "at most 3600"),
        (["--op", "verify", "--lifetime", "0"], "p-1", "at least 1 second"),
        (["--op", "verify", "--lifetime", "nan"], "p-1", "at least 1 second"),
        (["--op", "verify", "--bind", "largePersonGroup"], "p-1", "--bind takes"),
        (["--op", "verify", "--bind", "bucket:x"], "p-1", "unknown container kind"),
        (["--op", "verify", "--bind", "faceList::p"], "p-1", "--bind takes"),
        (["--op", "verify", "--status-uri", "https://x/s"], "p-1", "go together"),
        (["--op", "verify", "--status-uri", "u", "--status-idx", "-1"], "p-1", "idx"),
        (["--op", "verify", "--use", "standing"], "p-1", "status"),
    ],
)
def test_issue_bad_input_exits_2_with_a_message(capsys, keys, extra, subject, message):
    code, out, err = run(capsys, *issue_args(keys, *extra, subject=subject))
    assert code == 2 and out == ""
    assert err.startswith("faceguard: ") and message in err and "Traceback" not in err
    assert "alice" not in err and "555" not in err  # personal data is not echoed


@pytest.mark.parametrize(
    "endpoint", ["ftp://hq-face.cognitiveservices.azure.com", "hq-face", "https://u@evil.example"]
)
def test_issue_refuses_an_endpoint_that_names_no_face_resource(capsys, keys, endpoint):
    args = issue_args(keys, "--op", "verify")
    args[args.index(ENDPOINT)] = endpoint
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and "audience" in err and "Traceback" not in err


def test_issue_unknown_use_case_exits_2(capsys, keys):
    args = issue_args(keys, "--op", "verify")
    args[args.index(UC.value)] = "commercial.surveillance"
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and "unknown use case" in err


def test_issue_key_problems_exit_2(capsys, keys, tmp_path):
    cases = {
        str(tmp_path / "missing.key"): "no such key file",
        f"{keys}.pub": "not an unencrypted PEM private key",
        str(tmp_path): "directory",
    }
    garbage = tmp_path / "garbage.key"
    garbage.write_bytes(b"SECRET-CONTENT-NOT-TO-BE-ECHOED")
    cases[str(garbage)] = "not an unencrypted PEM private key"
    for key_file, message in cases.items():
        args = issue_args(keys, "--op", "verify")
        args[args.index("--key") + 1] = key_file
        code, out, err = run(capsys, *args)
        assert code == 2 and out == "", key_file
        assert message in err and "Traceback" not in err and "SECRET" not in err


def test_issue_warns_about_a_key_file_others_can_read(capsys, keys):
    os.chmod(f"{keys}.key", 0o644)
    code, out, err = run(capsys, *issue_args(keys, "--op", "verify"))
    assert code == 0 and out.count(".") == 2 and "chmod 600" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["consent", "issue"],
        ["consent", "issue", "--key", "k", "--use", "forever"],
        [  # no --endpoint
            *("consent", "issue", "--key", "k", "--issuer", "i", "--kid", "k"),
            *("--audience", "a", "--subject", "p-1", "--use-case", "uc", "--op", "verify"),
        ],
        ["consent"],
        ["consent", "inspect"],
    ],
)
def test_argument_errors_exit_2_with_usage(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    _, err = capsys.readouterr()
    assert info.value.code == 2 and "usage:" in err and "Traceback" not in err


def test_help_says_development_and_tests(capsys):
    for argv in (["consent", "--help"], ["consent", "issue", "--help"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        out, _ = capsys.readouterr()
        assert info.value.code == 0 and "development and tests" in " ".join(out.split())
    with pytest.raises(SystemExit):
        main(["consent", "keygen", "--help"])
    assert "development" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["consent", "inspect", "--help"])
    assert "not" in capsys.readouterr().out.lower()


# -- inspect ------------------------------------------------------------------------------


def test_inspect_prints_header_and_claims_with_a_warning(capsys, keys):
    _, out, _ = run(capsys, *issue_args(keys, "--op", "verify", "--record-id", "cr-9"))
    token = out.strip()
    code, out, err = run(capsys, "consent", "inspect", token)
    assert code == 0 and "NOT VERIFIED" in err
    shown = json.loads(out)
    assert shown["header"] == {"alg": "EdDSA", "kid": "k1", "typ": "fg-consent+jwt"}
    assert shown["claims"] == claims_of(token)
    assert shown["claims"]["consent"]["rid"] == "cr-9"
    assert token.split(".")[2] not in out  # the signature is not shown


def test_inspect_does_not_verify(capsys, keys):
    _, out, _ = run(capsys, *issue_args(keys, "--op", "verify"))
    h, p, _ = out.strip().split(".")
    code, out, err = run(capsys, "consent", "inspect", f"{h}.{p}.AAAA")
    assert code == 0 and "NOT VERIFIED" in err and json.loads(out)["claims"]["iss"] == ISS


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-token", "three dot-separated parts"),
        ("a.b", "three dot-separated parts"),
        ("!!.e30.x", "header is not canonical base64url"),
        ("WzFd.e30.x", "header is not a JSON object"),
        ("e30.bm90IGpzb24.x", "payload is not a JSON object"),
    ],
)
def test_inspect_bad_tokens_exit_2(capsys, token, message):
    code, out, err = run(capsys, "consent", "inspect", token)
    assert code == 2 and out == "" and message in err and "Traceback" not in err


def test_inspect_never_reads_a_file_or_the_environment(capsys, keys, tmp_path, monkeypatch):
    _, out, _ = run(capsys, *issue_args(keys, "--op", "verify"))
    token = out.strip()
    token_file = tmp_path / "token.txt"
    token_file.write_text(token)
    monkeypatch.setenv("FACEGUARD_TOKEN", token)
    monkeypatch.setenv("TOKEN", token)
    monkeypatch.chdir(tmp_path)
    for argument in (str(token_file), f"@{token_file}", "token.txt", "-", "$TOKEN"):
        code, out, err = run(capsys, "consent", "inspect", argument)
        assert code == 2 and out == "", argument
        assert ISS not in err and "p-7f3c9a1e5b" not in err


# -- the existing commands still work -----------------------------------------------------


def test_version_still_works(capsys):
    code, out, _ = run(capsys, "version")
    assert code == 0 and out.startswith("faceguard ")


def test_audit_verify_still_works(capsys, tmp_path):
    code, _, err = run(capsys, "audit", "verify", str(tmp_path / "none.jsonl"))
    assert code == 2 and "no such audit log" in err


# -- the real entry point -----------------------------------------------------------------


def _faceguard(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faceguard", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_python_dash_m_faceguard_consent_end_to_end(tmp_path):
    made = _faceguard("consent", "keygen", "--out", "svc", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines() == ["svc.key", "svc.pub"]
    assert stat.S_IMODE((tmp_path / "svc.key").stat().st_mode) == 0o600
    again = _faceguard("consent", "keygen", "--out", "svc", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr
    issued = _faceguard(
        *issue_args(tmp_path / "svc", "--op", "enroll", "--bind", "personDirectory:pd:p1"),
        cwd=tmp_path,
    )
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert issued.stdout == f"{token}\n"
    claims = verifier(tmp_path / "svc").verify(
        token,
        ConsentScope("enroll", "personDirectory", "pd", "p1"),
        use_case=UC,
        endpoint=ENDPOINT,
        session=SESSION,
    )
    assert claims.operations == {"enroll"}
    bad = _faceguard(
        *issue_args(tmp_path / "svc", "--op", "verify", subject="alice@example.com"),
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert "pseudonymous" in bad.stderr and "Traceback" not in bad.stderr
    shown = _faceguard("consent", "inspect", token, cwd=tmp_path)
    assert shown.returncode == 0 and "NOT VERIFIED" in shown.stderr
    assert json.loads(shown.stdout)["claims"]["consent"]["ops"] == ["enroll"]


# -- the claims about how consent was obtained (issue 13, GUARD.md §3.2) ----------------------


def test_issue_writes_the_consent_claims_typed(capsys, keys):
    code, out, err = run(
        capsys,
        *issue_args(
            keys,
            *("--op", "verify"),
            *("--source", "capture_device"),
            *("--age", "minor_guardian_consent", "--guardian-evidence-ref", "g-17"),
            "--continuous-identification",
            *("--legal-basis", "dpv:ExplicitlyExpressedConsent"),
            *("--legal-basis", "eu-gdpr:A9-2-a"),
            *("--notice-uri", "https://example.com/notice"),
            *("--retention-until", "4102444800", "--retention-policy-uri", "https://r.example"),
        ),
    )
    assert code == 0 and err == ""
    consent = claims_of(out.strip())["consent"]
    assert consent["alt"] is True and consent["src"] == "capture_device"
    assert consent["min"] == "minor_guardian_consent" and consent["min_ref"] == "g-17"
    assert consent["cnt"] is True
    assert consent["lb"] == ["dpv:ExplicitlyExpressedConsent", "eu-gdpr:A9-2-a"]
    assert consent["ntc"]["uri"] == "https://example.com/notice"
    assert consent["ret"] == {"until": 4102444800, "policy_uri": "https://r.example"}
    result = verifier(keys).verify(
        out.strip(), ConsentScope("verify"), use_case=UC, endpoint=ENDPOINT, session=SESSION
    )
    assert result.continuous_identification and result.retention_until == 4102444800


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--source", "device_camera"), "consent.src"),
        (("--age", "adult"), "consent.min"),
        (("--age", "minor_guardian_consent"), "guardian"),
        (("--guardian-evidence-ref", "g-1"), "guardian"),
        (("--legal-basis", "explicit consent"), "legal basis"),
        (("--retention-until", "1"), "passed"),
        (("--notice-uri", "https://n", "--notice-at", "4102444800"), "before the token"),
    ],
)
def test_issue_refuses_bad_claims_with_exit_2(capsys, keys, extra, message):
    code, out, err = run(capsys, *issue_args(keys, "--op", "verify", *extra))
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err
