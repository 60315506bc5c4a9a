"""faceguard.notebook: HTML renderings, explicit IPython formatters, progress bars.

No IPython kernel is needed: renderings are pure functions returning HTML, ``enable()`` is
exercised with a fake shell (and a real ``InteractiveShell`` when IPython is installed),
and tqdm writes to a ``StringIO``.
"""

from __future__ import annotations

import base64
import io
import pathlib
import re
import subprocess
import sys
import types
from typing import Any

import httpx
import pytest
from PIL import Image

from faceguard import (
    AsyncFaceClient,
    ConfigurationError,
    ConsentRejectedError,
    ConsentRequiredError,
    FaceClient,
    FaceIdError,
    GuardError,
    GuardStoreError,
    InvalidImageError,
    LivenessGuardError,
    RetiredAttributeError,
    TrainingFailedError,
    UnknownRouteError,
    UseCaseError,
    notebook,
)
from faceguard.models import (
    FaceDetectionResult,
    FindSimilarResult,
    GroupingResult,
    IdentificationResult,
    ResultList,
    TrainingResult,
    VerificationResult,
)
from faceguard.notebook._images import BOX_COLOR, LANDMARK_COLOR
from faceguard.notebook._ipython import DISPLAYED_TYPES

FACES_DIR = pathlib.Path(__file__).parent / "data" / "faces"
FACE_ID = "c5c24a82-6845-4031-9d5d-978df9175426"
FACE_ID_2 = "015839fb-fbd9-4f79-ace9-7675fc2f1dd9"
PERSON_ID = "25985303-c537-4467-b41d-bdb45cd95ca1"
PERSON_ID_2 = "8f0a3c3e-3f0e-4b1b-9d55-0b7e3f2b9a11"
PERSISTED_FACE_ID = "43897a75-8d6f-42cf-885e-74832febb055"
ENDPOINT = "https://unit-test.cognitiveservices.azure.com"
INSTALL = 'pip install "faceguard[notebook]"'

LANDMARK_NAMES = [
    "pupilLeft", "pupilRight", "noseTip", "mouthLeft", "mouthRight", "eyebrowLeftOuter",
    "eyebrowLeftInner", "eyeLeftOuter", "eyeLeftTop", "eyeLeftBottom", "eyeLeftInner",
    "eyebrowRightInner", "eyebrowRightOuter", "eyeRightInner", "eyeRightTop", "eyeRightBottom",
    "eyeRightOuter", "noseRootLeft", "noseRootRight", "noseLeftAlarTop", "noseRightAlarTop",
    "noseLeftAlarOutTip", "noseRightAlarOutTip", "upperLipTop", "upperLipBottom",
    "underLipTop", "underLipBottom",
]  # fmt: skip

# What the service used to send (and a careless caller may still pass): all of it must vanish.
RETIRED = {
    "age": 31.0,
    "gender": "female",
    "smile": 0.87,
    "emotion": {"happiness": 0.91, "neutral": 0.09},
    "facialHair": {"moustache": 0.1, "beard": 0.2, "sideburns": 0.0},
    "hair": {"bald": 0.02, "invisible": False, "hairColor": [{"color": "brown"}]},
    "makeup": {"eyeMakeup": True, "lipMakeup": False},
}
RETIRED_WORDS = re.compile(
    r"\b(age|gender|smile|emotion|facial\s*hair|hair|makeup|female|happiness|moustache|"
    r"beard|sideburns|bald|brown|eyeMakeup|lipMakeup)\b",
    re.IGNORECASE,
)
ALLOWED = {
    "headPose": {"pitch": 1.5, "roll": -2.25, "yaw": 10.0},
    "glasses": "readingGlasses",
    "occlusion": {"foreheadOccluded": False, "eyeOccluded": False, "mouthOccluded": True},
    "accessories": [{"type": "headwear", "confidence": 0.92}],
    "blur": {"blurLevel": "low", "value": 0.1},
    "exposure": {"exposureLevel": "goodExposure", "value": 0.55},
    "noise": {"noiseLevel": "medium", "value": 0.4},
    "mask": {"type": "noMask", "noseAndMouthCovered": False},
    "qualityForRecognition": "high",
}


# --- helpers ---------------------------------------------------------------------------------


def _photo() -> bytes:
    """A real photo from tests/data/faces when there is one, else a generated image."""
    if FACES_DIR.is_dir():
        preferred = FACES_DIR / "face_recognition" / "multi" / "two_people.jpg"
        if preferred.is_file():
            return preferred.read_bytes()
        photos = sorted(p for p in FACES_DIR.rglob("*") if p.suffix.lower() in {".jpg", ".png"})
        if photos:
            return photos[0].read_bytes()
    image = Image.new("RGB", (640, 480))
    for x in range(640):  # a gradient, so the box colour cannot be there by chance
        for y in range(0, 480, 8):
            image.putpixel((x, y), (x % 200, y % 200, 90))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


def _boxes(width: int, height: int) -> list[dict[str, int]]:
    """Two boxes well inside the image, one in each half."""
    size = min(width // 4, height // 3)
    return [
        {"left": width // 8, "top": height // 4, "width": size, "height": size},
        {"left": width // 2 + width // 8, "top": height // 3, "width": size, "height": size},
    ]


def _landmarks(box: dict[str, int]) -> dict[str, dict[str, float]]:
    """27 points spread on a grid over the middle of the box."""
    points = {}
    for index, name in enumerate(LANDMARK_NAMES):
        col, row = index % 6, index // 6
        points[name] = {
            "x": box["left"] + box["width"] * (0.3 + 0.08 * col),
            "y": box["top"] + box["height"] * (0.3 + 0.1 * row),
        }
    return points


def _face_dict(box: dict[str, int], face_id: str = FACE_ID) -> dict[str, Any]:
    return {
        "faceId": face_id,
        "recognitionModel": "recognition_04",
        "faceRectangle": box,
        "faceLandmarks": _landmarks(box),
        "faceAttributes": {**ALLOWED, **RETIRED},
    }


def _decode_img(markup: str) -> Image.Image:
    match = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', markup)
    assert match, "no base64 PNG <img> in the HTML"
    return Image.open(io.BytesIO(base64.b64decode(match.group(1)))).convert("RGB")


def _text(markup: str) -> str:
    """The HTML without embedded image data (base64 can spell anything)."""
    return re.sub(r'src="data:[^"]*"', 'src=""', markup)


def _training(status: str, message: str | None = None) -> TrainingResult:
    body: dict[str, Any] = {"status": status, "createdDateTime": "2025-01-01T00:00:00Z"}
    if message is not None:
        body["message"] = message
    return TrainingResult.model_validate(body)


def _bar_options() -> dict[str, Any]:
    return {"file": io.StringIO(), "disable": False, "mininterval": 0}


# --- public surface --------------------------------------------------------------------------


def test_all_is_sorted_and_resolves():
    assert notebook.__all__ == sorted(notebook.__all__)
    for name in notebook.__all__:
        assert getattr(notebook, name) is not None


def test_import_loads_neither_pillow_nor_tqdm_nor_ipython_and_registers_nothing():
    code = (
        "import sys, faceguard.notebook\n"
        "print(sorted(m for m in ('PIL', 'tqdm', 'IPython') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_show_returns_an_html_displayable_object():
    shown = notebook.show(VerificationResult(is_identical=True, confidence=0.93))
    assert shown._repr_html_() == shown.data == str(shown) == shown.__html__()
    assert "characters" in repr(shown)
    assert "<div" not in repr(shown)


# --- detection -------------------------------------------------------------------------------


def test_detection_embeds_a_png_with_every_box_and_landmark_drawn():
    photo = _photo()
    width, height = Image.open(io.BytesIO(photo)).size
    boxes = _boxes(width, height)
    faces = ResultList(
        FaceDetectionResult.model_validate(_face_dict(box, fid))
        for box, fid in zip(boxes, [FACE_ID, FACE_ID_2], strict=True)
    )
    markup = notebook.show(faces, photo).data
    assert markup.count("<img") == 1
    drawn = _decode_img(markup)
    scale = drawn.width / width
    assert drawn.height == round(height * scale)
    for box in boxes:
        # Midpoint of the left edge, and of the bottom edge (labels sit at the top left).
        left_edge = (round(box["left"] * scale), round((box["top"] + box["height"] / 2) * scale))
        bottom = (
            round((box["left"] + box["width"] / 2) * scale),
            round((box["top"] + box["height"]) * scale) - 1,
        )
        assert drawn.getpixel(left_edge) == BOX_COLOR
        assert drawn.getpixel(bottom) == BOX_COLOR
        nose = _landmarks(box)["pupilLeft"]
        assert drawn.getpixel((round(nose["x"] * scale), round(nose["y"] * scale))) == (
            LANDMARK_COLOR
        )
    assert "2 faces detected" in markup
    assert "Face 1" in markup and "Face 2" in markup


def test_detection_draws_on_a_copy_of_a_pillow_image_and_keeps_small_images_full_size():
    image = Image.new("RGB", (120, 100), (10, 20, 30))
    box = {"left": 20, "top": 10, "width": 60, "height": 70}
    markup = notebook.render_detection([_face_dict(box)], image)
    drawn = _decode_img(markup)
    assert drawn.size == (120, 100)
    assert drawn.getpixel((20, 45)) == BOX_COLOR
    assert image.getpixel((20, 45)) == (10, 20, 30)  # the caller's image is untouched


def test_detection_scales_large_images_down(tmp_path):
    path = tmp_path / "big.png"
    Image.new("RGB", (2000, 1000), (0, 0, 0)).save(path)
    box = {"left": 400, "top": 200, "width": 400, "height": 400}
    drawn = _decode_img(notebook.render_detection([_face_dict(box)], path, max_side=500))
    assert drawn.size == (500, 250)
    assert drawn.getpixel((100, 100)) == BOX_COLOR  # (400, 400) scaled by 1/4
    full = _decode_img(notebook.render_detection([_face_dict(box)], str(path), max_side=None))
    assert full.size == (2000, 1000)


@pytest.mark.parametrize("as_model", [False, True], ids=["dict", "model"])
def test_detection_lists_allowed_attributes_and_never_a_retired_one(as_model):
    box = {"left": 10, "top": 20, "width": 30, "height": 40}
    data = _face_dict(box)
    data["age"] = 44  # top level too: kept in model_extra by the model, never rendered
    data["faceAttributes"]["futureAttribute"] = {"gender": "x"}
    face = FaceDetectionResult.model_validate(data) if as_model else data
    text = _text(notebook.show([face], _photo()).data)
    for expected in [
        "head pose",
        "pitch 1.5\u00b0, roll -2.2\u00b0, yaw 10.0\u00b0",
        "glasses",
        "readingGlasses",
        "occlusion",
        "forehead no, eyes no, mouth yes",
        "accessories",
        "headwear (0.92)",
        "blur",
        "low (0.10)",
        "exposure",
        "goodExposure (0.55)",
        "noise",
        "medium (0.40)",
        "mask",
        "noMask; nose and mouth covered: no",
        "quality for recognition",
        "recognition_04",
        "27 points",
        "left 10, top 20, 30 \u00d7 40 px",
    ]:
        assert expected in text
    assert not RETIRED_WORDS.search(text), RETIRED_WORDS.search(text)
    assert "futureAttribute" not in text
    assert "31" not in text and "44" not in text and "0.87" not in text


def test_retired_attributes_in_an_unvalidated_model_are_not_rendered():
    face = FaceDetectionResult.model_construct(
        face_rectangle=FaceDetectionResult.model_validate(
            {"faceRectangle": {"left": 1, "top": 2, "width": 3, "height": 4}}
        ).face_rectangle,
        face_attributes={**RETIRED, "qualityForRecognition": "medium"},
    )
    text = _text(notebook.to_html(face))
    assert "quality for recognition" in text and "medium" in text
    assert not RETIRED_WORDS.search(text)


def test_detection_shows_only_the_first_eight_characters_of_face_ids():
    markup = notebook.to_html([_face_dict(_boxes(400, 300)[0])])
    assert FACE_ID not in markup
    assert FACE_ID[:9] not in markup
    assert f"{FACE_ID[:8]}\u2026" in markup


def test_detection_without_image_or_face_id_and_an_empty_result():
    markup = notebook.to_html({"faceRectangle": {"left": 1, "top": 2, "width": 3, "height": 4}})
    assert "<img" not in markup and "1 face detected" in markup and "\u2014" in markup
    assert "no results" in notebook.to_html(ResultList())
    empty = notebook.show([], _photo()).data
    assert "0 faces detected" in empty and "<img" in empty


def test_bad_images_are_refused_clearly():
    faces = [_face_dict({"left": 1, "top": 2, "width": 3, "height": 4})]
    with pytest.raises(InvalidImageError, match="URL"):
        notebook.show(faces, "https://example.com/face.jpg")
    with pytest.raises(InvalidImageError, match="cannot be read"):
        notebook.show(faces, b"not an image at all")
    with pytest.raises(InvalidImageError, match="int"):
        notebook.show(faces, 42)
    file_like = io.BytesIO()
    Image.new("RGB", (8, 8)).save(file_like, format="PNG")
    file_like.seek(0)
    assert "<img" in notebook.show(faces, file_like).data


# --- identify / verify / find similar / group ------------------------------------------------


def _identification() -> list[IdentificationResult]:
    return [
        IdentificationResult.model_validate(
            {
                "faceId": FACE_ID,
                "candidates": [
                    {"personId": PERSON_ID, "confidence": 0.93},
                    {"personId": PERSON_ID_2, "confidence": 0.61},
                ],
            }
        ),
        IdentificationResult.model_validate({"faceId": FACE_ID_2, "candidates": []}),
    ]


def test_identification_lists_candidates_with_confidences_names_and_thumbnails():
    thumb = Image.new("RGB", (300, 200), (200, 10, 10))
    markup = notebook.show(
        ResultList(_identification()),
        thumbnails={PERSON_ID: thumb},
        names={PERSON_ID: "Ada", PERSON_ID_2: "Grace"},
    ).data
    assert PERSON_ID in markup and PERSON_ID_2 in markup
    assert "0.93" in markup and "0.61" in markup
    assert "Ada" in markup and "Grace" in markup
    assert markup.count("<img") == 1
    small = _decode_img(markup)
    assert max(small.size) == 64 and small.getpixel((10, 10)) == (200, 10, 10)
    assert FACE_ID not in markup and FACE_ID_2 not in markup
    assert f"{FACE_ID[:8]}\u2026" in markup and f"{FACE_ID_2[:8]}\u2026" in markup
    assert "no candidate" in markup
    assert "not a probability" in markup
    assert markup.index("0.93") < markup.index("0.61")


def test_identification_from_a_wire_dict():
    wire = {"faceId": FACE_ID, "candidates": [{"personId": PERSON_ID, "confidence": 0.5}]}
    markup = notebook.to_html(wire)
    assert "0.50" in markup and FACE_ID not in markup


@pytest.mark.parametrize(
    ("identical", "confidence", "expected"),
    [(True, 0.93, "same person: yes"), (False, 0.12, "same person: no")],
)
def test_verification_says_yes_or_no_with_the_confidence(identical, confidence, expected):
    result = VerificationResult(is_identical=identical, confidence=confidence)
    markup = notebook.show(result).data
    assert expected in markup
    assert f"(confidence {confidence:.2f})" in markup
    assert "not a probability" in markup
    assert notebook.to_html({"isIdentical": identical, "confidence": confidence}) == markup


def test_find_similar_shortens_ids_and_ranks_candidates():
    results = ResultList(
        [
            FindSimilarResult(confidence=0.88, persisted_face_id=PERSISTED_FACE_ID),
            FindSimilarResult(confidence=0.41, face_id=FACE_ID),
        ]
    )
    markup = notebook.show(
        results, thumbnails={PERSISTED_FACE_ID: _photo()}, names={FACE_ID: "Bob"}
    ).data
    assert PERSISTED_FACE_ID not in markup and FACE_ID not in markup
    assert f"persistedFaceId <code>{PERSISTED_FACE_ID[:8]}\u2026" in markup
    assert f"faceId <code>{FACE_ID[:8]}\u2026" in markup
    assert "0.88" in markup and "0.41" in markup and "Bob" in markup
    assert markup.count("<img") == 1
    assert "not a probability" in markup


def test_grouping_shortens_every_face_id():
    result = GroupingResult(groups=[[FACE_ID, FACE_ID_2]], messy_group=[PERSISTED_FACE_ID])
    markup = notebook.show(result).data
    for face_id in (FACE_ID, FACE_ID_2, PERSISTED_FACE_ID):
        assert face_id not in markup
        assert f"{face_id[:8]}\u2026" in markup
    assert "group 1 (2)" in markup and "messy group (1)" in markup
    empty = notebook.render_grouping({"groups": [], "messyGroup": []})
    assert "messy group (0)" in empty and "none" in empty


def test_unknown_and_mixed_results_are_refused():
    with pytest.raises(TypeError, match="cannot show"):
        notebook.to_html(object())
    with pytest.raises(TypeError, match="cannot show"):
        notebook.to_html([VerificationResult(is_identical=True, confidence=1.0), FACE_ID])
    with pytest.raises(TypeError, match="cannot show"):
        notebook.to_html([VerificationResult(is_identical=True, confidence=1.0)] * 2)


# --- guard refusals --------------------------------------------------------------------------

REFUSALS = [
    (
        RetiredAttributeError(
            "age", "face attribute 'age' is retired", allowed=("blur", "headPose", "mask")
        ),
        "RetiredAttributeError (attribute: age)",
        "request only attributes still available: blur, headPose, mask",
    ),
    (
        RetiredAttributeError("blur", "not produced by detection_02", allowed=()),
        "RetiredAttributeError (attribute: blur)",
        "use detection_03",
    ),
    (
        ConsentRequiredError("identify", "identify needs consent"),
        "ConsentRequiredError (operation: identify)",
        "pass consent=&lt;token&gt; issued by your consent service",
    ),
    (
        ConsentRejectedError("expired", "the token has expired"),
        "ConsentRejectedError (check: expired)",
        "ask your consent service for a fresh one",
    ),
    (
        ConsentRejectedError("withdrawn", "the subject has withdrawn consent"),
        "ConsentRejectedError (check: withdrawn)",
        "erase_subject",
    ),
    (
        ConsentRejectedError("something_new", "?"),
        "ConsentRejectedError (check: something_new)",
        "ask your consent service for a new token",
    ),
    (
        UseCaseError("identify needs a declared limited-access use case"),
        "UseCaseError",
        "GuardPolicy(use_case=",
    ),
    (
        FaceIdError("expired", "faceId #1 is 90000 s old"),
        "FaceIdError (reason: expired)",
        "detect the face again",
    ),
    (
        FaceIdError("model_mismatch", "different recognition models"),
        "FaceIdError (reason: model_mismatch)",
        "recognition model of the target collection",
    ),
    (
        LivenessGuardError("device_correlation_id looks like personal data"),
        "LivenessGuardError",
        "uuid.uuid4()",
    ),
    (
        UnknownRouteError("GET /face/v1.0/unknown is not a known route"),
        "UnknownRouteError",
        "typed methods",
    ),
    (GuardStoreError("SQLite guard store is closed"), "GuardStoreError", "fails closed"),
    (GuardError("some rule"), "GuardError", "read the message"),
]


@pytest.mark.parametrize(
    ("error", "rule", "hint"), REFUSALS, ids=[f"{type(e).__name__}-{i}" for i, (e, *_) in
                                              enumerate(REFUSALS)]
)  # fmt: skip
def test_refusal_names_the_rule_the_message_and_what_to_do(error, rule, hint):
    markup = notebook.show(error).data
    assert "Refused by the faceguard guard" in markup
    assert f"<code>{rule}</code>" in markup
    assert str(error).replace("'", "&#x27;") in markup
    assert "what to do instead" in markup
    assert hint in markup
    assert markup == notebook.render_refusal(error)


def test_status_list_refusals_get_the_consent_hint():
    from faceguard import StatusListError

    markup = notebook.render_refusal(StatusListError("signature", "bad signature"))
    assert "check: signature" in markup and "ConsentVerifier" in markup


# --- escaping --------------------------------------------------------------------------------


def test_everything_is_html_escaped():
    evil = "<script>alert('x')</script>"
    identification = notebook.render_identification(
        _identification(), names={PERSON_ID: evil}, thumbnails={}
    )
    similar = notebook.render_find_similar(
        [{"confidence": 0.5, "persistedFaceId": PERSISTED_FACE_ID}],
        names={PERSISTED_FACE_ID: evil},
    )
    refusal = notebook.render_refusal(UseCaseError(evil))
    face = _face_dict({"left": 1, "top": 2, "width": 3, "height": 4}, face_id=evil)
    face["faceAttributes"] = {"glasses": "<b>new</b>", "qualityForRecognition": evil}
    detection = notebook.render_detection([face])
    retired = notebook.render_refusal(RetiredAttributeError(evil, evil, allowed=(evil,)))
    for markup in (identification, similar, refusal, detection, retired):
        assert "<script>" not in markup
        assert "&lt;script&gt;" in markup
    assert "<b>" not in detection and "&lt;b&gt;new&lt;/b&gt;" in detection
    assert "alert(&#x27;x&#x27;)" in identification


# --- missing optional dependencies -----------------------------------------------------------


def test_missing_pillow_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    faces = [_face_dict({"left": 1, "top": 2, "width": 3, "height": 4})]
    with pytest.raises(ConfigurationError, match=re.escape(INSTALL)) as info:
        notebook.show(faces, b"\x89PNG....")
    assert "Pillow" in str(info.value)
    assert "<table" in notebook.show(faces).data  # no image: no Pillow needed


def test_missing_tqdm_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ConfigurationError, match=re.escape(INSTALL)):
        notebook.track([1, 2])
    with pytest.raises(ConfigurationError, match="tqdm"):
        notebook.progress(types.SimpleNamespace(wait=lambda **_: None))


# --- IPython formatters ----------------------------------------------------------------------


class FakeFormatter:
    """The part of IPython's ``BaseFormatter`` that enable() and disable() use."""

    def __init__(self) -> None:
        self.type_printers: dict[type, Any] = {}

    def for_type(self, typ: type, func: Any) -> Any:
        old = self.type_printers.get(typ)
        self.type_printers[typ] = func
        return old

    def lookup_by_type(self, typ: type) -> Any:
        for cls in typ.__mro__:
            if cls in self.type_printers:
                return self.type_printers[cls]
        raise KeyError(typ)

    def pop(self, typ: type, default: Any = None) -> Any:
        return self.type_printers.pop(typ, default)

    def __call__(self, obj: object) -> Any:
        try:
            return self.lookup_by_type(type(obj))(obj)
        except KeyError:
            return None


def _fake_shell() -> Any:
    html = FakeFormatter()
    display = types.SimpleNamespace(formatters={"text/html": html, "text/plain": object()})
    return types.SimpleNamespace(display_formatter=display)


def test_enable_registers_html_formatters_for_results_and_refusals():
    shell = _fake_shell()
    html = shell.display_formatter.formatters["text/html"]
    notebook.enable(shell)
    assert set(html.type_printers) == set(DISPLAYED_TYPES)
    face = FaceDetectionResult.model_validate(_face_dict({"left": 1, "top": 2, "width": 3,
                                                          "height": 4}))  # fmt: skip
    assert f"{FACE_ID[:8]}\u2026" in html(face)
    assert "same person: yes" in html(VerificationResult(is_identical=True, confidence=0.7))
    assert "Refused by the faceguard guard" in html(ConsentRequiredError("verify", "m"))
    assert "not a probability" in html(ResultList(_identification()))
    assert html(ResultList(["something else"])) is None  # plain repr for what is not a result
    assert html(ResultList()) is not None
    notebook.enable(shell)  # idempotent
    assert len(html.type_printers) == len(DISPLAYED_TYPES)
    mine = lambda obj: "mine"  # noqa: E731
    html.for_type(GuardError, mine)
    notebook.disable(shell)
    assert html.type_printers == {GuardError: mine}  # someone else's formatter stays


def test_enable_outside_ipython_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)
    with pytest.raises(ConfigurationError, match="inside IPython or Jupyter"):
        notebook.enable()
    with pytest.raises(ConfigurationError, match="IPython is not installed"):
        notebook.disable()


def test_enable_in_plain_python_with_ipython_installed_is_a_clear_error(monkeypatch):
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    with pytest.raises(ConfigurationError, match="running IPython or Jupyter session"):
        notebook.enable()


def test_enable_finds_the_running_shell(monkeypatch):
    shell = _fake_shell()
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    notebook.enable()
    assert set(shell.display_formatter.formatters["text/html"].type_printers) == set(
        DISPLAYED_TYPES
    )


def test_enable_with_a_real_interactive_shell(monkeypatch, tmp_path):
    pytest.importorskip("IPython")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path))  # no profile or history in ~/.ipython
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        notebook.enable(shell)
        data, _ = shell.display_formatter.format(VerificationResult(is_identical=False,
                                                                    confidence=0.2))  # fmt: skip
        assert "same person: no" in data["text/html"]
        notebook.disable(shell)
        data, _ = shell.display_formatter.format(VerificationResult(is_identical=False,
                                                                    confidence=0.2))  # fmt: skip
        assert "text/html" not in data
    finally:
        InteractiveShell.clear_instance()


# --- progress --------------------------------------------------------------------------------


class FakePoller:
    """``TrainingPoller.wait`` without a service: reports each scripted status."""

    def __init__(self, statuses: list[str], message: str | None = None) -> None:
        self.statuses = statuses
        self.message = message
        self.calls: list[dict[str, Any]] = []

    def wait(self, *, timeout=None, interval=None, progress=None) -> TrainingResult:
        self.calls.append({"timeout": timeout, "interval": interval})
        result = None
        for status in self.statuses:
            result = _training(status, self.message)
            if progress is not None:
                progress(result)
            if status == "failed":
                raise TrainingFailedError(self.message or "?", route="/persongroups/x/train")
        assert result is not None
        return result


class FakeAsyncPoller(FakePoller):
    async def wait(  # type: ignore[override]
        self, *, timeout=None, interval=None, progress=None
    ) -> TrainingResult:
        return FakePoller.wait(self, timeout=timeout, interval=interval, progress=progress)


def test_progress_moves_on_each_polled_status_and_fills_on_success():
    options = _bar_options()
    poller = FakePoller(["notStarted", "running", "running", "succeeded"])
    result = notebook.progress(poller, timeout=30, interval=2, desc="staff", **options)
    assert result.status == "succeeded"
    assert poller.calls == [{"timeout": 30, "interval": 2}]
    out = options["file"].getvalue()
    for n, status in [(1, "notStarted"), (2, "running"), (3, "running"), (4, "succeeded")]:
        assert re.search(rf"staff: {n} polls \[.*status={status}\]", out), out
    assert "100%" in out and "4/4" in out


def test_progress_closes_the_bar_and_reraises_when_training_fails():
    options = _bar_options()
    with pytest.raises(TrainingFailedError, match="too few faces"):
        notebook.progress(FakePoller(["running", "failed"], "too few faces"), **options)
    out = options["file"].getvalue()
    assert "status=failed" in out and "training: 2 polls" in out
    assert "100%" not in out


async def test_progress_awaits_an_async_poller():
    options = _bar_options()
    result = await notebook.progress(FakeAsyncPoller(["running", "succeeded"]), **options)
    assert result.status == "succeeded"
    assert "2/2" in options["file"].getvalue()


def _training_service(statuses: list[str]):
    script = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202)
        body = {"status": script.pop(0), "createdDateTime": "2025-01-01T00:00:00Z"}
        return httpx.Response(200, json=body, headers={"Retry-After": "0"})

    return httpx.MockTransport(handler)


def test_progress_with_a_real_training_poller():
    transport = _training_service(["notStarted", "running", "succeeded"])
    options = _bar_options()
    with FaceClient(ENDPOINT, api_key="k", transport=transport, sleep=lambda _: None) as client:
        result = notebook.progress(client.person_groups.train("group-1"), **options)
    assert result.status == "succeeded"
    assert "status=running" in options["file"].getvalue()
    assert "3/3" in options["file"].getvalue()


async def test_progress_with_a_real_async_training_poller():
    async def no_sleep(_: float) -> None:
        return None

    transport = _training_service(["running", "succeeded"])
    options = _bar_options()
    async with AsyncFaceClient(ENDPOINT, api_key="k", transport=transport, sleep=no_sleep) as c:
        result = await notebook.progress(await c.large_person_groups.train("lpg-1"), **options)
    assert result.status == "succeeded"
    assert "2/2" in options["file"].getvalue()


def test_track_counts_a_bulk_loop():
    options = _bar_options()
    assert list(notebook.track(["a.jpg", "b.jpg", "c.jpg"], desc="enrolling", **options)) == [
        "a.jpg",
        "b.jpg",
        "c.jpg",
    ]
    out = options["file"].getvalue()
    assert "enrolling: 100%" in out and "3/3" in out


def test_track_takes_a_total_for_generators_and_progress_delegates_to_it():
    options = _bar_options()
    items = list(notebook.track((n * n for n in range(4)), total=4, desc="detect", **options))
    assert items == [0, 1, 4, 9]
    assert "4/4" in options["file"].getvalue()
    options = _bar_options()
    assert list(notebook.progress(range(5), desc="loop", **options)) == [0, 1, 2, 3, 4]
    assert "loop: 100%" in options["file"].getvalue()
    with pytest.raises(TypeError, match="training pollers"):
        notebook.progress([1], timeout=3)
