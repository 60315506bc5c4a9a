"""``faceguard demo``: the README's main job, run for real on the embedded emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from faceguard.__main__ import main


def test_the_demo_runs_the_whole_guarded_flow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = tmp_path / "report.html"
    assert main(["demo", "--images", "tests/data/faces", "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert "4/4 identified correctly" in out
    assert "same person True" in out and "same person False" in out
    for refusal in (
        "RetiredAttributeError",
        "ConsentRequiredError",
        "FaceIdError (expired)",
        "ConsentRejectedError (withdrawn)",
    ):
        assert refusal in out
    assert "NOT refused" not in out
    assert "hash chain intact" in out
    page = html.read_text(encoding="utf-8")
    assert "<img" in page and "data:image/png;base64," in page
    for retired in ("emotion", "gender", "smile"):
        assert retired not in page.lower()


def test_the_demo_explains_a_missing_photo_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--images", str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_the_demo_command_is_installed() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "faceguard", "demo"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "identified correctly" in done.stdout


def test_the_demo_runs_without_the_notebook_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The README installs only the emulator and consent extras: no tqdm there.
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "training: succeeded" in out
    assert "identified correctly" in out
