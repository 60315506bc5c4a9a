"""Every script in ``examples/`` runs, as CI runs it: a subprocess started from the repository
root, on the offline emulator (``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY`` removed from
its environment), exiting 0 and printing the line its scenario is about.

The scripts start together (one engine load each, so they overlap on several cores) and each
test waits for its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("cv2", reason="the examples run the emulator's face engine")
pytest.importorskip("jwt", reason="the examples mint consent tokens")
pytest.importorskip("PIL", reason="detect_and_draw draws the faces")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TIMEOUT = 120

EXPECTED: dict[str, str] = {  # script: a line it must print (a regular expression)
    "detect_and_draw.py": r"^2 face\(s\) detected$",
    "identity_verification.py": r"^ID document vs selfie: same person True \(0\.\d\d\)$",
    "touchless_access_control.py": r"^  visitor at the door: unknown face: door stays closed",
    "duplicate_users.py": r"^  signup-a: looks like acct-1001 \(0\.\d\d\): review$",
    "liveness_session.py": r"^  liveness spoofface; match 0\.\d\d; reject",
    "content_safety_blocklist.py": r"^  blocked by free gift card: 'FREE GIFT CARD",
    "async_bulk_detect.py": r"^\d+ of 10 photos are good enough to enroll$",
    "bulk_enroll.py": r"^run again: 7 added, 1 skipped, 0 failed; 8 taken from the journal$",
    "mock_quickstart.py": r"^training: succeeded$",
}


def _environment() -> dict[str, str]:
    unset = {"FACEGUARD_ENDPOINT", "FACEGUARD_API_KEY"}
    env = {name: value for name, value in os.environ.items() if name not in unset}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


class Runs:
    """The examples, all started at once from the repository root; ``result`` waits for one."""

    def __init__(self) -> None:
        self._results: dict[str, tuple[int, str, str]] = {}
        self._started = {
            script: subprocess.Popen(
                [sys.executable, f"examples/{script}"],
                cwd=ROOT,
                env=_environment(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
            for script in EXPECTED
        }

    def result(self, script: str) -> tuple[int, str, str]:
        """Exit status, stdout and stderr of ``script``."""
        if script not in self._results:
            process = self._started[script]
            out, err = process.communicate(timeout=TIMEOUT)
            self._results[script] = (process.returncode, out, err)
        return self._results[script]

    def stop(self) -> None:
        for process in self._started.values():
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.fixture(scope="module")
def runs() -> Iterator[Runs]:
    started = Runs()
    yield started
    started.stop()


def test_every_example_is_run_here() -> None:
    scripts = {path.name for path in EXAMPLES.glob("*.py") if not path.name.startswith("_")}
    assert scripts == set(EXPECTED)


@pytest.mark.parametrize("script", list(EXPECTED))
def test_the_example_runs_on_the_emulator(script: str, runs: Runs) -> None:
    status, out, err = runs.result(script)
    assert status == 0, f"{script} failed:\n{out}\n{err}"
    assert re.search(EXPECTED[script], out, flags=re.MULTILINE), f"{script} printed:\n{out}"
    if script != "mock_quickstart.py":  # that one has its own scripted stand-in
        assert "on the offline emulator" in out.splitlines()[0]


def test_detect_and_draw_writes_the_faces_as_html(runs: Runs) -> None:
    _, out, _ = runs.result("detect_and_draw.py")
    found = re.search(r"^HTML with the faces drawn: (.+)$", out, flags=re.MULTILINE)
    assert found, out
    page = Path(found.group(1))
    html = page.read_text(encoding="utf-8")
    assert "<img" in html and "2 faces detected" in html
    page.unlink()
    page.parent.rmdir()
