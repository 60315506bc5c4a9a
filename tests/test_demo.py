"""``faceguard demo``: the README's main job, run for real on the embedded emulator.

One run (module fixture) feeds the checks of its terminal output and of its HTML report;
the report is opened in headless Chromium, as a reader would open it.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from _chromium import chromium_path, inspect_page
from faceguard.__main__ import main

PHOTOS = "tests/data/faces"
_DASHED_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_SUBJECT = re.compile(r"\bp-[0-9a-f]{12}\b")
_NO_CHROMIUM = "chromium is not installed (Debian: apt-get install chromium; .ci/run does it)"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    page_path: Path
    page: str


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    page = tmp_path_factory.mktemp("demo") / "report.html"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "--images", PHOTOS, "--html", str(page)])
    return Run(code, out.getvalue(), page, page.read_text(encoding="utf-8"))


def _flat(text: str) -> str:
    return " ".join(text.split())


# -- the flow --------------------------------------------------------------------------------


def test_the_demo_runs_the_whole_guarded_flow(run: Run) -> None:
    assert run.code == 0
    assert "4/4 identified correctly" in run.out
    assert "same person True" in run.out and "same person False" in run.out
    for refusal in (
        "RetiredAttributeError",
        "ConsentRequiredError",
        "FaceIdError (expired)",
        "ConsentRejectedError (withdrawn)",
    ):
        assert refusal in run.out
    assert "NOT refused" not in run.out
    assert "hash chain intact" in run.out


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
    assert done.stderr == ""  # no progress bar redrawn into a pipe


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
    # Without --html, the report goes to a new temporary folder, and its path is printed.
    lines = [line.strip() for line in out.splitlines()]
    written = [Path(line) for line in lines if line.endswith("report.html")]
    assert len(written) == 1 and written[0].is_file()


# -- the terminal output ---------------------------------------------------------------------


def test_no_line_is_printed_twice(run: Run) -> None:
    lines = [line for line in run.out.splitlines() if line.strip()]
    repeated = [line for line, count in Counter(lines).items() if count > 1]
    assert not repeated


def test_lines_are_wrapped_not_cut(run: Run) -> None:
    verbatim = {str(run.page_path)}
    for line in run.out.splitlines():
        stripped = line.strip()
        if stripped in verbatim or stripped.startswith("faceguard audit verify "):
            continue  # a path or command to copy: one line whatever its length
        assert len(line) <= 100, line


def test_every_refusal_message_is_printed_whole(run: Run) -> None:
    """The terminal carries each refusal's full message (as the report shows it), wrapped
    at spaces: nothing cut mid-word or mid-sentence."""
    messages = [
        html.unescape(cell) for cell in re.findall(r">message</th><td[^>]*>(.*?)</td>", run.page)
    ]
    assert len(messages) == 4
    printed = _flat(run.out)
    for message in messages:
        assert _flat(message) in printed


def test_the_report_path_is_printed_on_its_own_line(run: Run) -> None:
    assert str(run.page_path) in [line.strip() for line in run.out.splitlines()]


@pytest.mark.parametrize("where", ["a folder", "in a missing folder", "under a file"])
def test_an_unwritable_report_path_is_refused_before_the_demo_runs(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    page = {
        "a folder": tmp_path,
        "in a missing folder": tmp_path / "missing" / "report.html",
        "under a file": tmp_path / "file.txt" / "report.html",
    }[where]
    assert main(["demo", "--images", PHOTOS, "--html", str(page)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing ran
    assert f"faceguard demo: cannot write the report to {page}" in captured.err


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_on_a_terminal_the_progress_bar_leaves_one_line() -> None:
    """On a real terminal tqdm draws a bar while training runs; what stays on the screen
    afterwards is one line about training, not the bar's last frame and the outcome."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "faceguard", "demo", "--images", PHOTOS],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100"},
    )
    os.close(follower)
    raw = b""
    while True:
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        raw += chunk
    os.close(leader)
    assert process.wait(timeout=120) == 0
    screen = _screen(raw.decode("utf-8", "replace"))
    training = [line for line in screen if "training" in line]
    assert len(training) == 1, training
    assert "succeeded" in training[0]
    lines = [line for line in screen if line.strip()]
    assert not [line for line, n in Counter(lines).items() if n > 1]


def _screen(text: str) -> list[str]:
    """What a terminal shows: each line is what follows its last carriage return, escape
    sequences dropped."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    return [line.split("\r")[-1].rstrip() for line in text.replace("\r\n", "\n").split("\n")]


# -- the report ------------------------------------------------------------------------------


def test_the_report_is_one_self_contained_page(run: Run) -> None:
    page = run.page
    assert page.startswith("<!doctype html>")
    assert "<title>faceguard demo report</title>" in page
    sources = re.findall(r'\bsrc="([^"]*)"', page)
    assert sources and all(src.startswith("data:image/") for src in sources)
    assert "<link" not in page and "<script" not in page and "@import" not in page
    assert not re.search(r"url\(", page)
    assert not re.search(r'href="(?!#)', page)


def test_the_report_shows_every_step_with_its_pictures(run: Run) -> None:
    page = run.page
    for section in ("setup", "detect", "enroll", "identify", "verify", "refusals", "audit"):
        assert f'<section id="{section}">' in page
    for fact in ("4 people", "detection_03", "recognition_04", "OpenCVEngine", "Python "):
        assert fact in page
    images = re.findall(r"<img ", page)
    # 1 detection + 4 enrolled + 4 held-out with their 4 answers + 2 verify pairs + 5 grouped
    assert len(images) == 1 + 4 + 4 + 4 + 4 + 5
    for name in ("obama", "biden", "kit_harington", "lennon"):
        assert f'alt="photo of {name}"' in page
    assert "4 of 4 correct" in page
    assert page.count("Refused by the faceguard guard") == 4
    assert "hash chain" in page and ">intact<" in page
    assert "faceguard audit verify" in page


def test_the_honest_notes_are_said_once(run: Run) -> None:
    text = _flat(html.unescape(re.sub(r"<[^>]+>", " ", run.page)))
    assert text.count("not a probability") == 1
    assert "5 of the 27 are measured" in text
    assert "22 are estimated" in text


def test_the_report_holds_no_handle_or_subject(run: Run) -> None:
    for text in (run.page, run.out):
        assert not _DASHED_UUID.search(text)
        assert not _SUBJECT.search(text)
    for retired in ("emotion", "gender", "smile"):
        assert retired not in run.page.lower()


@pytest.mark.skipif(chromium_path() is None, reason=_NO_CHROMIUM)
def test_the_report_opens_in_chromium_with_every_image_loaded(run: Run) -> None:
    seen = inspect_page(run.page_path)
    assert seen.title == "faceguard demo report"
    assert len(seen.images) == 22
    broken = [image for image in seen.images if not (image["complete"] and image["naturalWidth"])]
    assert not broken
    assert seen.problems == []


@pytest.mark.skipif(chromium_path() is None, reason=_NO_CHROMIUM)
def test_the_chromium_check_sees_a_broken_page(tmp_path: Path) -> None:
    # The check above must be able to fail: a page with an undecodable image, a missing file
    # and a console error is reported as such.
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><title>t</title>"
        '<img src="data:image/png;base64,AAAA" alt="bad">'
        '<img src="missing.png" alt="missing">'
        "<script>console.error('boom')</script>",
        encoding="utf-8",
    )
    seen = inspect_page(page)
    assert [image["naturalWidth"] for image in seen.images] == [0, 0]
    assert any("boom" in problem for problem in seen.problems)
    assert any("missing.png" in problem or "ERR_FILE" in problem for problem in seen.problems)


# -- names from a manifest are data, never markup --------------------------------------------

HOSTILE = ('<img src=x onerror="console.error(1)">', "\"quoted\" & <b>bold</b> 'name'")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The demo on a photo folder whose manifest names people with markup."""
    import json
    import shutil

    folder = tmp_path_factory.mktemp("hostile")
    source = json.loads(Path(PHOTOS, "manifest.json").read_text(encoding="utf-8"))
    wanted = {"obama": HOSTILE[0], "biden": HOSTILE[1]}
    images = []
    for entry in source["images"]:
        if entry.get("identity") in wanted and entry.get("faces") == 1:
            target = folder / Path(entry["file"]).name
            shutil.copyfile(Path(PHOTOS, entry["file"]), target)
            images.append({**entry, "file": target.name, "identity": wanted[entry["identity"]]})
    (folder / "manifest.json").write_text(json.dumps({"images": images}), encoding="utf-8")
    page = folder / "report.html"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "--images", str(folder), "--html", str(page)])
    return Run(code, out.getvalue(), page, page.read_text(encoding="utf-8"))


def test_names_with_markup_are_shown_as_text(hostile_run: Run) -> None:
    assert hostile_run.code == 0
    page = hostile_run.page
    for name in HOSTILE:
        assert name not in page  # never raw
        assert html.escape(name, quote=True) in page
    assert "<b>" not in page and "<img src=x" not in page


@pytest.mark.skipif(chromium_path() is None, reason=_NO_CHROMIUM)
def test_names_with_markup_do_not_reach_the_browser_as_markup(hostile_run: Run) -> None:
    seen = inspect_page(hostile_run.page_path)
    assert seen.problems == []
    assert all(image["naturalWidth"] > 0 for image in seen.images)
    # 1 detection + 2 enrolled + 2 held-out with their 2 answers + 2 pairs + 3 grouped
    assert len(seen.images) == 1 + 2 + 2 + 2 + 4 + 3


def test_without_the_engine_the_demo_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `pip install faceguard` without the emulator extra: no OpenCV.
    monkeypatch.setitem(sys.modules, "cv2", None)
    assert main(["demo", "--images", PHOTOS]) == 2
    captured = capsys.readouterr()
    assert 'pip install "faceguard[emulator]"' in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


# -- which landmarks the report calls measured comes from the engine -------------------------


def _engine_face(measured: int, estimated_flag: object = None) -> object:
    from faceguard.emulator import EngineFace

    names = [f"point{index}" for index in range(27)]
    points = {name: (float(index), float(index * 2)) for index, name in enumerate(names)}
    five = tuple(points[name] for name in names[:measured])
    five = five + tuple((1000.0 + i, 1000.0) for i in range(5 - len(five)))
    face = EngineFace(
        left=0,
        top=0,
        width=10,
        height=10,
        score=0.9,
        landmarks5=five[:5],  # type: ignore[arg-type]
        landmarks27=points,
        head_pose=(0.0, 0.0, 0.0),
        blur=0.0,
        exposure=0.5,
        noise=0.0,
        quality_for_recognition="high",
        embedding=b"",
        estimated_landmarks=estimated_flag,  # type: ignore[arg-type]
    )
    return face


class _Stub:
    def __init__(self, face: object) -> None:
        self.engine = self
        self._face = face

    def detect(self, image: bytes) -> list[object]:
        return [self._face]


@pytest.mark.parametrize("measured", [5, 3, 0])
def test_measured_landmarks_are_those_the_engine_reports(measured: int) -> None:
    from faceguard.emulator._demo import _engine_facts

    _, found = _engine_facts(_Stub(_engine_face(measured)), [Path(PHOTOS, "manifest.json")])  # type: ignore[arg-type]
    assert found == frozenset(f"point{index}" for index in range(measured))


def test_an_engine_flag_for_estimated_landmarks_wins() -> None:
    from faceguard.emulator._demo import _engine_facts

    flagged = _engine_face(5, estimated_flag=frozenset(f"point{index}" for index in range(2, 27)))
    _, found = _engine_facts(_Stub(flagged), [Path(PHOTOS, "manifest.json")])  # type: ignore[arg-type]
    assert found == frozenset({"point0", "point1"})


# -- a photo folder of one's own ---------------------------------------------------------------


def _folder(
    tmp_path: Path, people: dict[str, list[str]], extra: list[dict[str, object]] = ()
) -> Path:  # type: ignore[assignment]
    """A photo folder with the given people (identity -> source photo paths under PHOTOS)."""
    import json
    import shutil

    images: list[dict[str, object]] = []
    for identity, files in people.items():
        for index, file in enumerate(files):
            target = f"{identity}-{index}{Path(file).suffix}"
            if file.startswith("blank"):
                from PIL import Image

                Image.new("RGB", (400, 300), (120, 130, 140)).save(tmp_path / target)
            else:
                shutil.copyfile(Path(PHOTOS, file), tmp_path / target)
            images.append({"file": target, "identity": identity, "faces": 1})
    images.extend(extra)
    (tmp_path / "manifest.json").write_text(json.dumps({"images": images}), encoding="utf-8")
    return tmp_path


OBAMA = ["face_recognition/obama/obama1.jpg", "face_recognition/obama/obama2.jpg"]
BIDEN = ["face_recognition/biden/biden.jpg", "face_recognition/biden/biden2.jpg"]
LENNON = ["openface/lennon-1.jpg", "openface/lennon-2.jpg"]


@pytest.mark.parametrize(
    ("manifest", "said"),
    [
        ("{not json", "manifest.json is not valid JSON"),
        ('{"pictures": []}', 'manifest.json has no "images" list'),
        ('{"images": {"file": "a.jpg"}}', 'manifest.json has no "images" list'),
        ('{"images": [42]}', "manifest.json: images[0] is not an object"),
        ('{"images": [{"file": 7, "identity": "x", "faces": 1}]}', "images[0].file"),
        ('{"images": []}', "at least two people"),
    ],
)
def test_a_malformed_manifest_is_said_plainly(
    manifest: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "manifest.json").write_text(manifest, encoding="utf-8")
    assert main(["demo", "--images", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert said in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_one_person_is_not_enough(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path, {"obama": OBAMA})
    assert main(["demo", "--images", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "at least two people with two photos" in err and "found 1" in err


def test_a_listed_photo_that_is_missing_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, {"obama": OBAMA, "biden": BIDEN})
    (folder / "biden-1.jpg").unlink()
    assert main(["demo", "--images", str(folder)]) == 2
    captured = capsys.readouterr()
    assert "biden-1.jpg" in captured.err and captured.out == ""


def test_a_person_whose_photo_shows_no_face_is_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The wall comes first: the demo's first photo, which step 1 detects, has no face.
    folder = _folder(
        tmp_path,
        {"wall": ["blank-a.jpg", "blank-b.jpg"], "obama": OBAMA, "biden": BIDEN, "lennon": LENNON},
    )
    page = tmp_path / "report.html"
    assert main(["demo", "--images", str(folder), "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "wall-0.jpg: no face found" in out
    assert "wall: not enrolled" in out
    assert "3/3 identified correctly" in out
    report = page.read_text(encoding="utf-8")
    assert "wall" in report
    assert "5 of the 27 are measured" in report  # read from a photo that shows a face


def test_a_held_out_photo_without_a_face_is_not_identified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, {"obama": OBAMA, "biden": BIDEN, "mixed": [LENNON[0], "blank.jpg"]})
    page = tmp_path / "report.html"
    assert main(["demo", "--images", str(folder), "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "mixed-1.jpg of mixed: 0 faces found, so not identified" in out
    assert "2/3 identified correctly" in out
    assert "0 faces found, so not identified" in page.read_text(encoding="utf-8")


def test_two_people_who_cannot_be_enrolled_stop_the_demo_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, {"obama": OBAMA, "wall": ["blank-a.jpg", "blank-b.jpg"]})
    assert main(["demo", "--images", str(folder)]) == 2
    captured = capsys.readouterr()
    assert "wall: not enrolled" in captured.out
    assert "needs two people enrolled, and only 1 could be" in captured.err
    assert "Traceback" not in captured.err


def test_the_contents_link_to_every_section(run: Run) -> None:
    anchors = re.findall(r'<a href="#([a-z]+)">', run.page)
    sections = re.findall(r'<section id="([a-z]+)">', run.page)
    assert anchors == sections


def test_a_folder_without_a_licence_file_is_not_said_to_have_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, {"obama": OBAMA, "biden": BIDEN})
    page = tmp_path / "report.html"
    assert main(["demo", "--images", str(folder), "--html", str(page)]) == 0
    assert "LICENSE.md" not in capsys.readouterr().out
    assert "LICENSE.md" not in page.read_text(encoding="utf-8")
