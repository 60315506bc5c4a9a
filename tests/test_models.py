"""Tests of the typed wire models in ``faceguard.models``.

Payloads are shaped after the ``definitions`` of the Face v1.2 and Content Safety 2024-09-01
contracts (camelCase, as the services send them).
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import faceguard.models as models
from faceguard.models import (
    RETIRED_ATTRIBUTE_FIELDS,
    AccessoryItem,
    AccessoryType,
    AddFaceResult,
    AddOrUpdateTextBlocklistItemsOptions,
    AddOrUpdateTextBlocklistItemsResult,
    AnalyzeTextOptions,
    AnalyzeTextResult,
    BlurLevel,
    BlurProperties,
    ContentSafetyError,
    ContentSafetyErrorResponse,
    CreateCollectionRequest,
    CreateLivenessSessionContent,
    CreatePersonResult,
    ExposureLevel,
    ExposureProperties,
    FaceAttributes,
    FaceDetectionResult,
    FaceError,
    FaceErrorResponse,
    FaceLandmarks,
    FaceList,
    FaceListFace,
    FaceListItem,
    FaceModel,
    FaceRectangle,
    FaceUserData,
    FindSimilarResult,
    GlassesType,
    GroupingResult,
    HeadPose,
    IdentificationCandidate,
    IdentificationResult,
    ImageType,
    InnerError,
    LandmarkCoordinate,
    LargeFaceList,
    LargeFaceListFace,
    LargePersonGroup,
    LargePersonGroupPerson,
    LargePersonGroupPersonFace,
    LivenessColorDecisionTarget,
    LivenessDecision,
    LivenessDecisionTargets,
    LivenessError,
    LivenessModel,
    LivenessOperationMode,
    LivenessResult,
    LivenessSession,
    LivenessSessionAttempt,
    LivenessSessionResults,
    LivenessWithVerifyOutputs,
    LivenessWithVerifyReference,
    LivenessWithVerifyResult,
    LivenessWithVerifySession,
    LivenessWithVerifySessionAttempt,
    LivenessWithVerifySessionResults,
    MaskProperties,
    MaskType,
    NoiseLevel,
    NoiseProperties,
    OcclusionProperties,
    OperationState,
    PersonGroup,
    PersonGroupPerson,
    PersonGroupPersonFace,
    QualityForRecognition,
    RecognitionModel,
    RemoveTextBlocklistItemsOptions,
    RequestModel,
    TextAnalysisOutputType,
    TextBlocklist,
    TextBlocklistCreateOrUpdate,
    TextBlocklistItem,
    TextBlocklistItemInput,
    TextBlocklistItemPage,
    TextBlocklistMatch,
    TextBlocklistPage,
    TextCategoriesAnalysis,
    TextCategory,
    TrainingResult,
    TrainingStatus,
    UserDefinedFields,
    UserDefinedFieldsForUpdate,
    VerificationResult,
)
from faceguard.models import enums as enums_module

# --- spec-shaped payloads --------------------------------------------------------------------

FACE_ID = "c5c24a82-6845-4031-9d5d-978df9175426"
PERSISTED_FACE_ID = "43897a75-8d6f-42cf-885e-74832febb055"
PERSON_ID = "25985303-c537-4467-b41d-bdb45cd95ca1"
TOKEN = "eyJhbGciOi.secret-session-token.SflKxwRJSMeKKF2QT4fwpM"

RECT: dict[str, Any] = {"top": 60, "left": 31, "width": 95, "height": 120}

LANDMARK_NAMES = [
    "pupilLeft",
    "pupilRight",
    "noseTip",
    "mouthLeft",
    "mouthRight",
    "eyebrowLeftOuter",
    "eyebrowLeftInner",
    "eyeLeftOuter",
    "eyeLeftTop",
    "eyeLeftBottom",
    "eyeLeftInner",
    "eyebrowRightInner",
    "eyebrowRightOuter",
    "eyeRightInner",
    "eyeRightTop",
    "eyeRightBottom",
    "eyeRightOuter",
    "noseRootLeft",
    "noseRootRight",
    "noseLeftAlarTop",
    "noseRightAlarTop",
    "noseLeftAlarOutTip",
    "noseRightAlarOutTip",
    "upperLipTop",
    "upperLipBottom",
    "underLipTop",
    "underLipBottom",
]
LANDMARKS: dict[str, Any] = {
    name: {"x": 10.0 + i, "y": 20.5 + i} for i, name in enumerate(LANDMARK_NAMES)
}

HEAD_POSE: dict[str, Any] = {"pitch": -13.2, "roll": -11.9, "yaw": 5.3}
BLUR: dict[str, Any] = {"blurLevel": "medium", "value": 0.51}
EXPOSURE: dict[str, Any] = {"exposureLevel": "goodExposure", "value": 0.55}
NOISE: dict[str, Any] = {"noiseLevel": "low", "value": 0.12}
OCCLUSION: dict[str, Any] = {"foreheadOccluded": False, "eyeOccluded": False, "mouthOccluded": True}
ACCESSORY: dict[str, Any] = {"type": "headwear", "confidence": 0.99}
MASK: dict[str, Any] = {"noseAndMouthCovered": True, "type": "faceMask"}
ATTRIBUTES: dict[str, Any] = {
    "glasses": "noGlasses",
    "headPose": HEAD_POSE,
    "occlusion": OCCLUSION,
    "accessories": [ACCESSORY, {"type": "glasses", "confidence": 1.0}],
    "blur": BLUR,
    "exposure": EXPOSURE,
    "noise": NOISE,
    "mask": MASK,
    "qualityForRecognition": "high",
}
DETECTION: dict[str, Any] = {
    "faceId": FACE_ID,
    "recognitionModel": "recognition_04",
    "faceRectangle": RECT,
    "faceLandmarks": LANDMARKS,
    "faceAttributes": ATTRIBUTES,
}

TARGETS: dict[str, Any] = {"color": {"faceRectangle": RECT}}
LIVENESS_ERROR: dict[str, Any] = {
    "code": "FaceWithMaskDetected",
    "message": "Mask detected on face image.",
    "targets": TARGETS,
}
LIVENESS_RESULT: dict[str, Any] = {
    "livenessDecision": "realface",
    "targets": TARGETS,
    "digest": "B0A803BB7B26F3C8F29CD36030F8E63ED3FAF955FEEF8E01C88AB8FD89CCF761",
    "sessionImageId": "Ae3PVWlXAmVAnXgkAFt1QSjGUWONKzWiSr2iPh9p9G4I",
}
LIVENESS_ATTEMPT: dict[str, Any] = {
    "attemptId": 2,
    "attemptStatus": "Succeeded",
    "result": LIVENESS_RESULT,
}
LIVENESS_FAILED_ATTEMPT: dict[str, Any] = {
    "attemptId": 1,
    "attemptStatus": "Failed",
    "error": LIVENESS_ERROR,
}
LIVENESS_SESSION: dict[str, Any] = {
    "sessionId": "b12e033e-bda7-4b83-a211-e721c661f30e",
    "authToken": TOKEN,
    "status": "NotStarted",
    "modelVersion": "2024-11-15",
    "results": {"attempts": [LIVENESS_ATTEMPT, LIVENESS_FAILED_ATTEMPT]},
}
VERIFY_OUTPUTS: dict[str, Any] = {"matchConfidence": 0.9304124, "isIdentical": True}
VERIFY_REFERENCE: dict[str, Any] = {
    "referenceType": "Color",
    "faceRectangle": RECT,
    "qualityForRecognition": "high",
}
VERIFY_RESULT: dict[str, Any] = {
    **LIVENESS_RESULT,
    "verifyResult": VERIFY_OUTPUTS,
    "verifyImageHash": "43B7D8E8769533C3290DBD37A84D821B2C28CB4381DF9C6784DBC4AAF7E45018",
}
VERIFY_ATTEMPT: dict[str, Any] = {
    "attemptId": 1,
    "attemptStatus": "Succeeded",
    "result": VERIFY_RESULT,
}
VERIFY_SESSION_RESULTS: dict[str, Any] = {
    "verifyReferences": [VERIFY_REFERENCE],
    "attempts": [VERIFY_ATTEMPT],
}
VERIFY_SESSION: dict[str, Any] = {
    "sessionId": "3847ffd3-4657-4e6c-870c-8e20de52f567",
    "authToken": TOKEN,
    "status": "Succeeded",
    "modelVersion": "2024-11-15",
    "results": VERIFY_SESSION_RESULTS,
}

BLOCKLIST: dict[str, Any] = {"blocklistName": "MyList", "description": "This is my list."}
BLOCKLIST_ITEM: dict[str, Any] = {
    "blocklistItemId": "9511969e-f1e3-4604-9127-05ee16c509ec",
    "description": "Hate word",
    "text": "hate",
    "isRegex": False,
}
CS_ERROR: dict[str, Any] = {
    "code": "InvalidRequestBody",
    "message": "The request body is invalid.",
    "target": "text",
    "details": [{"code": "TooLong", "message": "Text is too long.", "target": "text"}],
    "innererror": {"code": "Outer", "innererror": {"code": "Inner"}},
}

SAMPLES: dict[type[FaceModel], dict[str, Any]] = {
    # detection
    FaceRectangle: RECT,
    LandmarkCoordinate: {"x": 1.5, "y": 2.25},
    FaceLandmarks: LANDMARKS,
    HeadPose: HEAD_POSE,
    BlurProperties: BLUR,
    ExposureProperties: EXPOSURE,
    NoiseProperties: NOISE,
    OcclusionProperties: OCCLUSION,
    AccessoryItem: ACCESSORY,
    MaskProperties: MASK,
    FaceAttributes: ATTRIBUTES,
    FaceDetectionResult: DETECTION,
    # recognition
    FindSimilarResult: {"confidence": 0.82, "persistedFaceId": PERSISTED_FACE_ID},
    GroupingResult: {"groups": [[FACE_ID, PERSISTED_FACE_ID]], "messyGroup": [PERSON_ID]},
    IdentificationCandidate: {"personId": PERSON_ID, "confidence": 0.91},
    IdentificationResult: {
        "faceId": FACE_ID,
        "candidates": [{"personId": PERSON_ID, "confidence": 0.91}],
    },
    VerificationResult: {"isIdentical": True, "confidence": 0.92},
    # collections
    FaceListFace: {"persistedFaceId": PERSISTED_FACE_ID, "userData": "face data"},
    LargeFaceListFace: {"persistedFaceId": PERSISTED_FACE_ID, "userData": "face data"},
    PersonGroupPersonFace: {"persistedFaceId": PERSISTED_FACE_ID, "userData": "face data"},
    LargePersonGroupPersonFace: {"persistedFaceId": PERSISTED_FACE_ID, "userData": "face data"},
    AddFaceResult: {"persistedFaceId": PERSISTED_FACE_ID},
    FaceListItem: {
        "faceListId": "your_face_list_id",
        "name": "your_face_list_name",
        "userData": "your_user_data",
        "recognitionModel": "recognition_01",
    },
    FaceList: {
        "faceListId": "your_face_list_id",
        "name": "your_face_list_name",
        "userData": "your_user_data",
        "recognitionModel": "recognition_01",
        "persistedFaces": [{"persistedFaceId": PERSISTED_FACE_ID}],
    },
    LargeFaceList: {
        "largeFaceListId": "your_large_face_list_id",
        "name": "your_large_face_list_name",
        "userData": "your_user_data",
        "recognitionModel": "recognition_01",
    },
    PersonGroup: {
        "personGroupId": "your_person_group_id",
        "name": "your_person_group_name",
        "userData": "your_user_data",
        "recognitionModel": "recognition_04",
    },
    LargePersonGroup: {
        "largePersonGroupId": "your_large_person_group_id",
        "name": "your_large_person_group_name",
        "recognitionModel": "recognition_04",
    },
    PersonGroupPerson: {
        "personId": PERSON_ID,
        "name": "your_person_group_person_name",
        "userData": "your_user_data",
        "persistedFaceIds": [PERSISTED_FACE_ID],
    },
    LargePersonGroupPerson: {
        "personId": PERSON_ID,
        "name": "your_large_person_group_person_name",
        "persistedFaceIds": [PERSISTED_FACE_ID],
    },
    CreatePersonResult: {"personId": PERSON_ID},
    TrainingResult: {
        "status": "succeeded",
        "createdDateTime": "2024-03-05T11:07:58.371000Z",
        "lastActionDateTime": "2024-03-05T11:07:59.129000Z",
        "lastSuccessfulTrainingDateTime": "2024-03-05T11:07:59.129000Z",
    },
    # liveness
    LivenessColorDecisionTarget: {"faceRectangle": RECT},
    LivenessDecisionTargets: TARGETS,
    LivenessError: LIVENESS_ERROR,
    LivenessResult: LIVENESS_RESULT,
    LivenessSessionAttempt: LIVENESS_ATTEMPT,
    LivenessSessionResults: {"attempts": [LIVENESS_ATTEMPT]},
    LivenessSession: LIVENESS_SESSION,
    LivenessWithVerifyOutputs: VERIFY_OUTPUTS,
    LivenessWithVerifyReference: VERIFY_REFERENCE,
    LivenessWithVerifyResult: VERIFY_RESULT,
    LivenessWithVerifySessionAttempt: VERIFY_ATTEMPT,
    LivenessWithVerifySessionResults: VERIFY_SESSION_RESULTS,
    LivenessWithVerifySession: VERIFY_SESSION,
    # content safety
    TextBlocklist: BLOCKLIST,
    TextBlocklistItem: BLOCKLIST_ITEM,
    AddOrUpdateTextBlocklistItemsResult: {"blocklistItems": [BLOCKLIST_ITEM]},
    TextBlocklistPage: {
        "value": [BLOCKLIST],
        "nextLink": "https://example.cognitiveservices.azure.com/contentsafety/text/blocklists?skip=1",
    },
    TextBlocklistItemPage: {"value": [BLOCKLIST_ITEM]},
    TextCategoriesAnalysis: {"category": "Hate", "severity": 2},
    TextBlocklistMatch: {
        "blocklistName": "MyList",
        "blocklistItemId": "9511969e-f1e3-4604-9127-05ee16c509ec",
        "blocklistItemText": "hate",
    },
    AnalyzeTextResult: {
        "blocklistsMatch": [
            {
                "blocklistName": "MyList",
                "blocklistItemId": "9511969e-f1e3-4604-9127-05ee16c509ec",
                "blocklistItemText": "hate",
            }
        ],
        "categoriesAnalysis": [
            {"category": "Hate", "severity": 2},
            {"category": "SelfHarm", "severity": 0},
        ],
    },
    # errors
    FaceError: {"code": "BadArgument", "message": "Request body is invalid."},
    FaceErrorResponse: {"error": {"code": "BadArgument", "message": "Request body is invalid."}},
    InnerError: {"code": "Outer", "innererror": {"code": "Inner"}},
    ContentSafetyError: CS_ERROR,
    ContentSafetyErrorResponse: {"error": CS_ERROR},
}


def _response_models() -> list[type[FaceModel]]:
    return [
        obj
        for name in models.__all__
        if isinstance(obj := getattr(models, name), type)
        and issubclass(obj, FaceModel)
        and obj not in (FaceModel, models.FaceResult)
    ]


def _request_models() -> list[type[RequestModel]]:
    return [
        obj
        for name in models.__all__
        if isinstance(obj := getattr(models, name), type)
        and issubclass(obj, RequestModel)
        and obj is not RequestModel
    ]


# --- every response model --------------------------------------------------------------------


def test_every_response_model_has_a_sample() -> None:
    assert set(_response_models()) == set(SAMPLES)


@pytest.mark.parametrize("model", list(SAMPLES), ids=lambda m: m.__name__)
def test_spec_shaped_payload_round_trips(model: type[FaceModel]) -> None:
    payload = SAMPLES[model]
    parsed = model.model_validate(payload)
    assert parsed.model_extra == {}
    assert parsed.model_dump(by_alias=True, exclude_none=True, mode="json") == payload
    # the same through the JSON parser
    from_json = model.model_validate_json(parsed.model_dump_json(by_alias=True))
    assert from_json == parsed


@pytest.mark.parametrize("model", list(SAMPLES), ids=lambda m: m.__name__)
def test_models_are_frozen(model: type[FaceModel]) -> None:
    parsed = model.model_validate(SAMPLES[model])
    name = next(iter(type(parsed).model_fields))
    with pytest.raises(ValidationError):
        setattr(parsed, name, None)


def test_detection_snake_case_access() -> None:
    face = FaceDetectionResult.model_validate(DETECTION)
    assert face.face_id == FACE_ID
    assert face.recognition_model is RecognitionModel.RECOGNITION_04
    assert face.face_rectangle == FaceRectangle(top=60, left=31, width=95, height=120)
    assert face.face_rectangle.width == 95
    assert face.face_landmarks is not None
    assert face.face_landmarks.pupil_left.x == 10.0
    assert face.face_landmarks.under_lip_bottom.y == 20.5 + 26
    assert face.face_landmarks.nose_right_alar_out_tip == LandmarkCoordinate(x=32.0, y=42.5)
    attributes = face.face_attributes
    assert attributes is not None
    assert attributes.glasses is GlassesType.NO_GLASSES
    assert attributes.head_pose == HeadPose(pitch=-13.2, roll=-11.9, yaw=5.3)
    assert attributes.occlusion is not None
    assert attributes.occlusion.mouth_occluded is True
    assert attributes.occlusion.forehead_occluded is False
    assert attributes.accessories is not None
    assert [a.type for a in attributes.accessories] == [AccessoryType.HEADWEAR, "glasses"]
    assert attributes.accessories[0].confidence == 0.99
    assert attributes.blur is not None
    assert attributes.blur.blur_level is BlurLevel.MEDIUM
    assert attributes.blur.value == 0.51
    assert attributes.exposure is not None
    assert attributes.exposure.exposure_level is ExposureLevel.GOOD_EXPOSURE
    assert attributes.noise is not None
    assert attributes.noise.noise_level is NoiseLevel.LOW
    assert attributes.mask is not None
    assert attributes.mask.nose_and_mouth_covered is True
    assert attributes.mask.type is MaskType.FACE_MASK
    assert attributes.quality_for_recognition is QualityForRecognition.HIGH


def test_detection_minimal_result() -> None:
    face = FaceDetectionResult.model_validate({"faceRectangle": RECT})
    assert face.face_id is None
    assert face.recognition_model is None
    assert face.face_landmarks is None
    assert face.face_attributes is None


def test_face_landmarks_require_all_27_points() -> None:
    assert len(FaceLandmarks.model_fields) == 27
    assert all(field.is_required() for field in FaceLandmarks.model_fields.values())
    incomplete = dict(LANDMARKS)
    del incomplete["noseTip"]
    with pytest.raises(ValidationError):
        FaceLandmarks.model_validate(incomplete)


def test_recognition_snake_case_access() -> None:
    similar = FindSimilarResult.model_validate(SAMPLES[FindSimilarResult])
    assert similar.confidence == 0.82
    assert similar.persisted_face_id == PERSISTED_FACE_ID
    assert similar.face_id is None
    grouping = GroupingResult.model_validate(SAMPLES[GroupingResult])
    assert grouping.groups == [[FACE_ID, PERSISTED_FACE_ID]]
    assert grouping.messy_group == [PERSON_ID]
    identified = IdentificationResult.model_validate(SAMPLES[IdentificationResult])
    assert identified.face_id == FACE_ID
    assert identified.candidates[0].person_id == PERSON_ID
    assert identified.candidates[0].confidence == 0.91
    verified = VerificationResult.model_validate(SAMPLES[VerificationResult])
    assert verified.is_identical is True
    assert verified.confidence == 0.92


def test_collections_snake_case_access() -> None:
    face_list = FaceList.model_validate(SAMPLES[FaceList])
    assert face_list.face_list_id == "your_face_list_id"
    assert face_list.name == "your_face_list_name"
    assert face_list.user_data == "your_user_data"
    assert face_list.recognition_model is RecognitionModel.RECOGNITION_01
    assert face_list.persisted_faces is not None
    assert face_list.persisted_faces[0].persisted_face_id == PERSISTED_FACE_ID
    assert face_list.persisted_faces[0].user_data is None
    item = FaceListItem.model_validate(SAMPLES[FaceListItem])
    assert item.face_list_id == "your_face_list_id"
    large_list = LargeFaceList.model_validate(SAMPLES[LargeFaceList])
    assert large_list.large_face_list_id == "your_large_face_list_id"
    group = PersonGroup.model_validate(SAMPLES[PersonGroup])
    assert group.person_group_id == "your_person_group_id"
    assert group.recognition_model is RecognitionModel.RECOGNITION_04
    large_group = LargePersonGroup.model_validate(SAMPLES[LargePersonGroup])
    assert large_group.large_person_group_id == "your_large_person_group_id"
    assert large_group.user_data is None
    person = PersonGroupPerson.model_validate(SAMPLES[PersonGroupPerson])
    assert person.person_id == PERSON_ID
    assert person.persisted_face_ids == [PERSISTED_FACE_ID]
    large_person = LargePersonGroupPerson.model_validate(SAMPLES[LargePersonGroupPerson])
    assert large_person.name == "your_large_person_group_person_name"
    for face_model in (
        FaceListFace,
        LargeFaceListFace,
        PersonGroupPersonFace,
        LargePersonGroupPersonFace,
    ):
        face = face_model.model_validate(SAMPLES[face_model])
        assert face.persisted_face_id == PERSISTED_FACE_ID
        assert face.user_data == "face data"
    assert AddFaceResult.model_validate(SAMPLES[AddFaceResult]).persisted_face_id == (
        PERSISTED_FACE_ID
    )
    assert CreatePersonResult.model_validate({"personId": PERSON_ID}).person_id == PERSON_ID


def test_training_result_parses_datetimes() -> None:
    result = TrainingResult.model_validate(SAMPLES[TrainingResult])
    assert result.status is TrainingStatus.SUCCEEDED
    assert result.created_date_time == datetime(2024, 3, 5, 11, 7, 58, 371000, tzinfo=timezone.utc)
    assert isinstance(result.last_action_date_time, datetime)
    assert isinstance(result.last_successful_training_date_time, datetime)
    assert result.message is None


def test_training_result_parses_seven_digit_fractions() -> None:
    # .NET services send 100 ns precision; the 7th digit is dropped, not rejected
    result = TrainingResult.model_validate_json(
        '{"status": "running", "createdDateTime": "2018-10-15T11:51:27.6872495Z",'
        ' "lastActionDateTime": "2018-10-15T11:51:27.8705696+00:00",'
        ' "lastSuccessfulTrainingDateTime": "2018-10-15T11:51:27.8705696Z"}'
    )
    assert result.created_date_time == datetime(
        2018, 10, 15, 11, 51, 27, 687249, tzinfo=timezone.utc
    )
    assert result.last_action_date_time == result.last_successful_training_date_time


def test_training_result_tolerates_missing_last_timestamps() -> None:
    running = TrainingResult.model_validate(
        {
            "status": "running",
            "createdDateTime": "2024-03-05T11:07:58Z",
            "lastActionDateTime": None,
        }
    )
    assert running.status is TrainingStatus.RUNNING
    assert running.last_action_date_time is None
    assert running.last_successful_training_date_time is None
    failed = TrainingResult.model_validate(
        {**SAMPLES[TrainingResult], "status": "failed", "message": "Not enough faces."}
    )
    assert failed.message == "Not enough faces."


def test_liveness_snake_case_access() -> None:
    session = LivenessSession.model_validate(LIVENESS_SESSION)
    assert session.session_id == "b12e033e-bda7-4b83-a211-e721c661f30e"
    assert session.auth_token == TOKEN
    assert session.status is OperationState.NOT_STARTED
    assert session.model_version is LivenessModel.V2024_11_15
    ok, failed = session.results.attempts
    assert ok.attempt_id == 2
    assert ok.attempt_status is OperationState.SUCCEEDED
    assert ok.error is None
    assert ok.result is not None
    assert ok.result.liveness_decision is LivenessDecision.REAL_FACE
    assert ok.result.digest.startswith("B0A803BB")
    assert ok.result.session_image_id == "Ae3PVWlXAmVAnXgkAFt1QSjGUWONKzWiSr2iPh9p9G4I"
    assert ok.result.targets.color.face_rectangle.height == 120
    assert failed.result is None
    assert failed.error is not None
    assert failed.error.code == "FaceWithMaskDetected"
    assert failed.error.targets.color.face_rectangle.top == 60


def test_liveness_with_verify_snake_case_access() -> None:
    session = LivenessWithVerifySession.model_validate(VERIFY_SESSION)
    assert session.status is OperationState.SUCCEEDED
    reference = session.results.verify_references[0]
    assert reference.reference_type is ImageType.COLOR
    assert reference.quality_for_recognition is QualityForRecognition.HIGH
    assert reference.face_rectangle.left == 31
    attempt = session.results.attempts[0]
    assert attempt.result is not None
    assert attempt.result.verify_result is not None
    assert attempt.result.verify_result.match_confidence == 0.9304124
    assert attempt.result.verify_result.is_identical is True
    assert attempt.result.verify_image_hash is not None
    assert attempt.result.verify_image_hash.startswith("43B7D8E8")


@pytest.mark.parametrize(
    ("model", "payload"),
    [(LivenessSession, LIVENESS_SESSION), (LivenessWithVerifySession, VERIFY_SESSION)],
    ids=["liveness", "liveness-with-verify"],
)
def test_liveness_auth_token_is_not_in_repr(
    model: type[LivenessSession | LivenessWithVerifySession], payload: dict[str, Any]
) -> None:
    session = model.model_validate(payload)
    assert TOKEN not in repr(session)
    assert TOKEN not in str(session)
    assert "auth_token" not in repr(session)
    assert TOKEN not in repr(session.results)
    # the value itself stays available: the app hands it to the client device
    assert session.auth_token == TOKEN
    assert session.model_dump(by_alias=True)["authToken"] == TOKEN


def test_content_safety_snake_case_access() -> None:
    blocklist = TextBlocklist.model_validate(BLOCKLIST)
    assert blocklist.blocklist_name == "MyList"
    assert blocklist.description == "This is my list."
    item = TextBlocklistItem.model_validate(BLOCKLIST_ITEM)
    assert item.blocklist_item_id == "9511969e-f1e3-4604-9127-05ee16c509ec"
    assert item.text == "hate"
    assert item.is_regex is False
    added = AddOrUpdateTextBlocklistItemsResult.model_validate({"blocklistItems": [BLOCKLIST_ITEM]})
    assert added.blocklist_items == [item]
    page = TextBlocklistPage.model_validate(SAMPLES[TextBlocklistPage])
    assert page.value == [blocklist]
    assert page.next_link is not None
    assert page.next_link.endswith("skip=1")
    last_page = TextBlocklistItemPage.model_validate(SAMPLES[TextBlocklistItemPage])
    assert last_page.value == [item]
    assert last_page.next_link is None
    result = AnalyzeTextResult.model_validate(SAMPLES[AnalyzeTextResult])
    assert result.categories_analysis[0].category is TextCategory.HATE
    assert result.categories_analysis[0].severity == 2
    assert result.categories_analysis[1].category is TextCategory.SELF_HARM
    assert result.blocklists_match is not None
    match = result.blocklists_match[0]
    assert match.blocklist_name == "MyList"
    assert match.blocklist_item_text == "hate"
    no_match = AnalyzeTextResult.model_validate({"categoriesAnalysis": [{"category": "Hate"}]})
    assert no_match.blocklists_match is None
    assert no_match.categories_analysis[0].severity is None


def test_errors_snake_case_access() -> None:
    face_error = FaceErrorResponse.model_validate(SAMPLES[FaceErrorResponse]).error
    assert face_error.code == "BadArgument"
    assert face_error.message == "Request body is invalid."
    cs = ContentSafetyErrorResponse.model_validate({"error": CS_ERROR}).error
    assert cs.code == "InvalidRequestBody"
    assert cs.target == "text"
    assert cs.details is not None
    assert cs.details[0].code == "TooLong"
    assert cs.details[0].details is None
    assert cs.innererror is not None
    assert cs.innererror.code == "Outer"
    assert cs.innererror.innererror is not None
    assert cs.innererror.innererror.code == "Inner"
    assert cs.innererror.innererror.innererror is None


# --- unknown fields and enum values ----------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    # FaceAttributes is an allowlist: test_unknown_face_attributes_are_dropped.
    [model for model in SAMPLES if model is not FaceAttributes],
    ids=lambda m: m.__name__,
)
def test_unknown_fields_are_kept(model: type[FaceModel]) -> None:
    payload = {**SAMPLES[model], "someNewField": {"nested": [1, 2]}}
    parsed = model.model_validate(payload)
    assert parsed.model_extra == {"someNewField": {"nested": [1, 2]}}
    assert parsed.model_dump(by_alias=True)["someNewField"] == {"nested": [1, 2]}


def test_unknown_face_attributes_are_dropped() -> None:
    payload = {**ATTRIBUTES, "someNewField": {"nested": [1, 2]}, "perceivedAge": 30}
    parsed = FaceAttributes.model_validate(payload)
    assert parsed.model_extra == {}
    assert parsed == FaceAttributes.model_validate(ATTRIBUTES)


def test_unknown_nested_fields_are_kept() -> None:
    payload = copy.deepcopy(DETECTION)
    payload["faceRectangle"]["rotation"] = 12
    face = FaceDetectionResult.model_validate(payload)
    assert face.face_rectangle.model_extra == {"rotation": 12}


@pytest.mark.parametrize(
    ("model", "payload", "field", "known", "enum_value"),
    [
        (BlurProperties, BLUR, "blurLevel", "high", BlurLevel.HIGH),
        (
            ExposureProperties,
            EXPOSURE,
            "exposureLevel",
            "overExposure",
            ExposureLevel.OVER_EXPOSURE,
        ),
        (NoiseProperties, NOISE, "noiseLevel", "medium", NoiseLevel.MEDIUM),
        (AccessoryItem, ACCESSORY, "type", "mask", AccessoryType.MASK),
        (MaskProperties, MASK, "type", "noMask", MaskType.NO_MASK),
        (FaceAttributes, ATTRIBUTES, "glasses", "sunglasses", GlassesType.SUNGLASSES),
        (
            FaceAttributes,
            ATTRIBUTES,
            "qualityForRecognition",
            "medium",
            QualityForRecognition.MEDIUM,
        ),
        (
            FaceDetectionResult,
            DETECTION,
            "recognitionModel",
            "recognition_03",
            RecognitionModel.RECOGNITION_03,
        ),
        (PersonGroup, SAMPLES[PersonGroup], "recognitionModel", "recognition_02", None),
        (TrainingResult, SAMPLES[TrainingResult], "status", "notStarted", None),
        (LivenessSession, LIVENESS_SESSION, "status", "Canceled", OperationState.CANCELED),
        (LivenessSession, LIVENESS_SESSION, "modelVersion", "2024-11-15", None),
        (LivenessSessionAttempt, LIVENESS_ATTEMPT, "attemptStatus", "Running", None),
        (LivenessResult, LIVENESS_RESULT, "livenessDecision", "spoofface", None),
        (LivenessWithVerifyReference, VERIFY_REFERENCE, "referenceType", "Depth", None),
        (TextCategoriesAnalysis, {"category": "Hate"}, "category", "Violence", None),
    ],
)
def test_known_enum_values_parse_and_unknown_ones_stay_strings(
    model: type[FaceModel],
    payload: dict[str, Any],
    field: str,
    known: str,
    enum_value: object,
) -> None:
    attribute = next(
        name for name, info in model.model_fields.items() if (info.alias or name) == field
    )

    parsed_known = model.model_validate({**payload, field: known})
    value = getattr(parsed_known, attribute)
    assert type(value) is not str  # an enum member, not a plain string
    assert value == known
    if enum_value is not None:
        assert value is enum_value

    parsed_unknown = model.model_validate({**payload, field: "brandNewValue2030"})
    assert type(getattr(parsed_unknown, attribute)) is str
    assert getattr(parsed_unknown, attribute) == "brandNewValue2030"

    from_json = model.model_validate_json(
        parsed_unknown.model_dump_json(by_alias=True, exclude_none=True)
    )
    assert getattr(from_json, attribute) == "brandNewValue2030"


def test_unknown_enum_value_inside_list_stays_string() -> None:
    attributes = FaceAttributes.model_validate(
        {"accessories": [{"type": "earrings", "confidence": 0.4}, ACCESSORY]}
    )
    assert attributes.accessories is not None
    assert attributes.accessories[0].type == "earrings"
    assert type(attributes.accessories[0].type) is str
    assert attributes.accessories[1].type is AccessoryType.HEADWEAR


# --- retired and limited face attributes -----------------------------------------------------

RETIRED_PAYLOAD: dict[str, Any] = {
    "age": 31.0,
    "smile": 0.9,
    "facialHair": {"moustache": 0.1, "beard": 0.1, "sideburns": 0.1},
    "hair": {"bald": 0.0, "invisible": False, "hairColor": [{"color": "brown", "confidence": 1}]},
    "emotion": {"anger": 0.0, "happiness": 1.0},
    "gender": "female",
    "makeup": {"eyeMakeup": True, "lipMakeup": False},
}


def test_retired_attribute_names_constant() -> None:
    assert (
        frozenset({"age", "smile", "facialhair", "hair", "emotion", "gender", "makeup"})
        == RETIRED_ATTRIBUTE_FIELDS
    )
    assert isinstance(RETIRED_ATTRIBUTE_FIELDS, frozenset)


def test_face_attributes_have_no_retired_fields() -> None:
    names = {name.replace("_", "").lower() for name in FaceAttributes.model_fields}
    aliases = {(f.alias or "").lower() for f in FaceAttributes.model_fields.values()}
    assert not names & RETIRED_ATTRIBUTE_FIELDS
    assert not aliases & RETIRED_ATTRIBUTE_FIELDS
    for removed in ("FacialHair", "HairProperties", "HairColor", "HairColorType", "Emotion"):
        assert not hasattr(models, removed)


def _assert_no_retired(attributes: FaceAttributes) -> None:
    assert attributes.model_extra == {}
    dumped = attributes.model_dump()
    dumped_wire = attributes.model_dump(by_alias=True)
    for key in [*dumped, *dumped_wire]:
        assert key.replace("_", "").lower() not in RETIRED_ATTRIBUTE_FIELDS
    text = attributes.model_dump_json()
    for value in ("31.0", "female", "happiness", "moustache", "eyeMakeup"):
        assert value not in text


def test_retired_attributes_are_stripped() -> None:
    attributes = FaceAttributes.model_validate({**ATTRIBUTES, **RETIRED_PAYLOAD})
    _assert_no_retired(attributes)
    assert attributes.glasses is GlassesType.NO_GLASSES
    assert attributes.mask is not None


@pytest.mark.parametrize(
    "key",
    [
        "Age",
        "AGE",
        "Smile",
        "FACIALHAIR",
        "facialhair",
        "facial_hair",
        "Facial-Hair",
        "Hair",
        "EMOTION",
        "Emotion",
        "Gender",
        "GENDER",
        "MakeUp",
        "make_up",
    ],
)
def test_retired_attributes_are_stripped_in_any_case(key: str) -> None:
    attributes = FaceAttributes.model_validate({"glasses": "noGlasses", key: {"value": 1}})
    _assert_no_retired(attributes)
    assert key not in attributes.model_dump()


def test_retired_attributes_are_stripped_from_keyword_arguments() -> None:
    attributes = FaceAttributes(glasses=GlassesType.READING_GLASSES, Age=40, facial_hair={})
    _assert_no_retired(attributes)
    assert attributes.glasses is GlassesType.READING_GLASSES


def test_retired_attributes_are_stripped_inside_detection_results() -> None:
    payload = copy.deepcopy(DETECTION)
    payload["faceAttributes"].update(RETIRED_PAYLOAD)
    payload["faceAttributes"]["Emotion"] = {"neutral": 1.0}
    face = FaceDetectionResult.model_validate(payload)
    assert face.face_attributes is not None
    _assert_no_retired(face.face_attributes)
    assert face.model_extra == {}


def test_retired_attributes_are_stripped_when_parsing_json() -> None:
    import json

    raw = json.dumps({"faceRectangle": RECT, "faceAttributes": {**ATTRIBUTES, **RETIRED_PAYLOAD}})
    face = FaceDetectionResult.model_validate_json(raw)
    assert face.face_attributes is not None
    _assert_no_retired(face.face_attributes)


def test_retired_only_attributes_parse_to_empty_attributes() -> None:
    attributes = FaceAttributes.model_validate(RETIRED_PAYLOAD)
    _assert_no_retired(attributes)
    assert attributes.model_dump(exclude_none=True) == {}


# --- request bodies --------------------------------------------------------------------------


def test_every_request_model_is_covered() -> None:
    assert set(_request_models()) == {
        AddOrUpdateTextBlocklistItemsOptions,
        AnalyzeTextOptions,
        CreateCollectionRequest,
        CreateLivenessSessionContent,
        FaceUserData,
        RemoveTextBlocklistItemsOptions,
        TextBlocklistCreateOrUpdate,
        TextBlocklistItemInput,
        UserDefinedFields,
        UserDefinedFieldsForUpdate,
    }


@pytest.mark.parametrize(
    ("request_body", "wire"),
    [
        (
            CreateCollectionRequest(
                name="group", user_data="data", recognition_model=RecognitionModel.RECOGNITION_04
            ),
            {"name": "group", "userData": "data", "recognitionModel": "recognition_04"},
        ),
        (
            CreateCollectionRequest(name="group", recognition_model="recognition_03"),
            {"name": "group", "recognitionModel": "recognition_03"},
        ),
        (CreateCollectionRequest(name="group"), {"name": "group"}),
        (UserDefinedFields(name="Bill", user_data=None), {"name": "Bill"}),
        (UserDefinedFieldsForUpdate(user_data="x"), {"userData": "x"}),
        (UserDefinedFieldsForUpdate(), {}),
        (FaceUserData(user_data="left profile"), {"userData": "left profile"}),
        (FaceUserData(), {}),
        (
            CreateLivenessSessionContent(
                liveness_operation_mode=LivenessOperationMode.PASSIVE_ACTIVE,
                device_correlation_id_set_in_client=False,
                enable_session_image=True,
                liveness_model_version=LivenessModel.V2024_11_15,
                device_correlation_id="723d6d03-ef33-40a8-9682-23a1feb7bccd",
                auth_token_time_to_live_in_seconds=60,
            ),
            {
                "livenessOperationMode": "PassiveActive",
                "deviceCorrelationIdSetInClient": False,
                "enableSessionImage": True,
                "livenessModelVersion": "2024-11-15",
                "deviceCorrelationId": "723d6d03-ef33-40a8-9682-23a1feb7bccd",
                "authTokenTimeToLiveInSeconds": 60,
            },
        ),
        (
            CreateLivenessSessionContent(liveness_operation_mode="Passive"),
            {"livenessOperationMode": "Passive"},
        ),
        (
            AnalyzeTextOptions(
                text="some text",
                categories=[TextCategory.HATE, "Violence"],
                blocklist_names=["MyList"],
                halt_on_blocklist_hit=False,
                output_type=TextAnalysisOutputType.EIGHT_SEVERITY_LEVELS,
            ),
            {
                "text": "some text",
                "categories": ["Hate", "Violence"],
                "blocklistNames": ["MyList"],
                "haltOnBlocklistHit": False,
                "outputType": "EightSeverityLevels",
            },
        ),
        (AnalyzeTextOptions(text="x"), {"text": "x"}),
        (
            TextBlocklistItemInput(text="^ha+te$", description=None, is_regex=True),
            {"text": "^ha+te$", "isRegex": True},
        ),
        (
            AddOrUpdateTextBlocklistItemsOptions(
                blocklist_items=[
                    TextBlocklistItemInput(text="hate", description="Hate word"),
                    TextBlocklistItemInput(text="b[a4]d", is_regex=True),
                ]
            ),
            {
                "blocklistItems": [
                    {"text": "hate", "description": "Hate word"},
                    {"text": "b[a4]d", "isRegex": True},
                ]
            },
        ),
        (
            RemoveTextBlocklistItemsOptions(blocklist_item_ids=["id-1", "id-2"]),
            {"blocklistItemIds": ["id-1", "id-2"]},
        ),
        (TextBlocklistCreateOrUpdate(description="My list"), {"description": "My list"}),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseModel) else "",
)
def test_to_wire_is_camel_case_without_nulls(
    request_body: RequestModel, wire: dict[str, Any]
) -> None:
    assert request_body.to_wire() == wire


def test_request_models_accept_wire_names_too() -> None:
    body = CreateCollectionRequest.model_validate(
        {"name": "n", "recognitionModel": "recognition_04"}
    )
    assert body.recognition_model is RecognitionModel.RECOGNITION_04


@pytest.mark.parametrize(
    "build",
    [
        lambda: CreateCollectionRequest(name=""),
        lambda: CreateCollectionRequest(name="x" * 129),
        lambda: CreateCollectionRequest(name="x", user_data="x" * 16385),
        lambda: CreateCollectionRequest(name="x", recognition_model="recognition_99"),
        lambda: CreateCollectionRequest(name="x", unknown_field=1),  # type: ignore[call-arg]
        lambda: UserDefinedFields(user_data="x"),
        lambda: UserDefinedFieldsForUpdate(name=""),
        lambda: FaceUserData(user_data="x" * 1025),
        lambda: CreateLivenessSessionContent(),
        lambda: CreateLivenessSessionContent(
            liveness_operation_mode="Passive", auth_token_time_to_live_in_seconds=59
        ),
        lambda: CreateLivenessSessionContent(
            liveness_operation_mode="Passive", auth_token_time_to_live_in_seconds=86401
        ),
        lambda: CreateLivenessSessionContent(
            liveness_operation_mode="Passive",
            device_correlation_id_set_in_client=True,
            device_correlation_id="723d6d03-ef33-40a8-9682-23a1feb7bccd",
        ),
        lambda: AnalyzeTextOptions(text="x" * 10001),
        lambda: AnalyzeTextOptions(text="x", categories=["Spam"]),
        lambda: TextBlocklistItemInput(text="x" * 129),
        lambda: TextBlocklistItemInput(text="x", blocklist_item_id="id"),  # type: ignore[call-arg]
        lambda: AddOrUpdateTextBlocklistItemsOptions(blocklist_items=[]),
        lambda: AddOrUpdateTextBlocklistItemsOptions(
            blocklist_items=[TextBlocklistItemInput(text=str(i)) for i in range(101)]
        ),
        lambda: RemoveTextBlocklistItemsOptions(blocklist_item_ids=[f"{i}" for i in range(101)]),
        lambda: TextBlocklistCreateOrUpdate(blocklist_name="has space"),
    ],
)
def test_request_models_validate_contract_limits(build: Any) -> None:
    with pytest.raises(ValidationError):
        build()


def test_request_limits_count_code_points() -> None:
    # 10,000 code points is the limit, whatever their UTF-8 length
    assert len(AnalyzeTextOptions(text="é" * 10000).text) == 10000
    assert TextBlocklistItemInput(text="🙂" * 128).text == "🙂" * 128


def test_liveness_request_allows_client_side_correlation_id() -> None:
    body = CreateLivenessSessionContent(
        liveness_operation_mode="PassiveActive", device_correlation_id_set_in_client=True
    )
    assert body.to_wire() == {
        "livenessOperationMode": "PassiveActive",
        "deviceCorrelationIdSetInClient": True,
    }


# --- the package namespace -------------------------------------------------------------------


def test_all_is_sorted_and_resolves() -> None:
    assert models.__all__ == sorted(models.__all__)
    assert len(models.__all__) == len(set(models.__all__))
    for name in models.__all__:
        assert getattr(models, name) is not None, name


def test_every_enum_is_exported() -> None:
    for name in enums_module.__all__:
        assert name in models.__all__
        assert getattr(models, name) is getattr(enums_module, name)


@pytest.mark.parametrize(
    "module_name",
    ["collections", "content_safety", "detection", "enums", "errors", "liveness", "recognition"],
)
def test_submodule_all_is_sorted_and_exported(module_name: str) -> None:
    import importlib

    module = importlib.import_module(f"faceguard.models.{module_name}")
    assert module.__doc__
    assert module.__all__ == sorted(module.__all__)
    for name in module.__all__:
        assert name in models.__all__
        assert getattr(models, name) is getattr(module, name)
