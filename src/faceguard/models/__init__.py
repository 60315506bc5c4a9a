"""Typed wire models of the Face v1.2 and Content Safety 2024-09-01 contracts.

Everything public in the submodules is re-exported here, so callers import from
``faceguard.models`` only. Submodules load on first use (PEP 562): importing the
enums or the package itself does not build the pydantic models. Response models subclass
``FaceModel`` (snake_case attributes, camelCase on the wire, unknown fields kept, frozen);
request bodies subclass ``RequestModel``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._base import FaceModel as FaceModel
    from ._base import FaceResult as FaceResult
    from ._base import OpenEnum as OpenEnum
    from ._base import RequestModel as RequestModel
    from ._base import ResultList as ResultList
    from .collections import AddFaceResult as AddFaceResult
    from .collections import CreateCollectionRequest as CreateCollectionRequest
    from .collections import CreatePersonResult as CreatePersonResult
    from .collections import FaceList as FaceList
    from .collections import FaceListFace as FaceListFace
    from .collections import FaceListItem as FaceListItem
    from .collections import FaceUserData as FaceUserData
    from .collections import LargeFaceList as LargeFaceList
    from .collections import LargeFaceListFace as LargeFaceListFace
    from .collections import LargePersonGroup as LargePersonGroup
    from .collections import LargePersonGroupPerson as LargePersonGroupPerson
    from .collections import LargePersonGroupPersonFace as LargePersonGroupPersonFace
    from .collections import PersonGroup as PersonGroup
    from .collections import PersonGroupPerson as PersonGroupPerson
    from .collections import PersonGroupPersonFace as PersonGroupPersonFace
    from .collections import TrainingResult as TrainingResult
    from .collections import UserDefinedFields as UserDefinedFields
    from .collections import UserDefinedFieldsForUpdate as UserDefinedFieldsForUpdate
    from .content_safety import (
        AddOrUpdateTextBlocklistItemsOptions as AddOrUpdateTextBlocklistItemsOptions,
    )
    from .content_safety import (
        AddOrUpdateTextBlocklistItemsResult as AddOrUpdateTextBlocklistItemsResult,
    )
    from .content_safety import AnalyzeTextOptions as AnalyzeTextOptions
    from .content_safety import AnalyzeTextResult as AnalyzeTextResult
    from .content_safety import RemoveTextBlocklistItemsOptions as RemoveTextBlocklistItemsOptions
    from .content_safety import TextBlocklist as TextBlocklist
    from .content_safety import TextBlocklistCreateOrUpdate as TextBlocklistCreateOrUpdate
    from .content_safety import TextBlocklistItem as TextBlocklistItem
    from .content_safety import TextBlocklistItemInput as TextBlocklistItemInput
    from .content_safety import TextBlocklistItemPage as TextBlocklistItemPage
    from .content_safety import TextBlocklistMatch as TextBlocklistMatch
    from .content_safety import TextBlocklistPage as TextBlocklistPage
    from .content_safety import TextCategoriesAnalysis as TextCategoriesAnalysis
    from .detection import RETIRED_ATTRIBUTE_FIELDS as RETIRED_ATTRIBUTE_FIELDS
    from .detection import AccessoryItem as AccessoryItem
    from .detection import BlurProperties as BlurProperties
    from .detection import ExposureProperties as ExposureProperties
    from .detection import FaceAttributes as FaceAttributes
    from .detection import FaceDetectionResult as FaceDetectionResult
    from .detection import FaceLandmarks as FaceLandmarks
    from .detection import FaceRectangle as FaceRectangle
    from .detection import HeadPose as HeadPose
    from .detection import LandmarkCoordinate as LandmarkCoordinate
    from .detection import MaskProperties as MaskProperties
    from .detection import NoiseProperties as NoiseProperties
    from .detection import OcclusionProperties as OcclusionProperties
    from .enums import AccessoryType as AccessoryType
    from .enums import BlurLevel as BlurLevel
    from .enums import DetectionModel as DetectionModel
    from .enums import ExposureLevel as ExposureLevel
    from .enums import FaceAttributeType as FaceAttributeType
    from .enums import FindSimilarMatchMode as FindSimilarMatchMode
    from .enums import GlassesType as GlassesType
    from .enums import ImageType as ImageType
    from .enums import LivenessDecision as LivenessDecision
    from .enums import LivenessModel as LivenessModel
    from .enums import LivenessOperationMode as LivenessOperationMode
    from .enums import MaskType as MaskType
    from .enums import NoiseLevel as NoiseLevel
    from .enums import OperationState as OperationState
    from .enums import QualityForRecognition as QualityForRecognition
    from .enums import RecognitionModel as RecognitionModel
    from .enums import TextAnalysisOutputType as TextAnalysisOutputType
    from .enums import TextCategory as TextCategory
    from .enums import TrainingStatus as TrainingStatus
    from .errors import ContentSafetyError as ContentSafetyError
    from .errors import ContentSafetyErrorResponse as ContentSafetyErrorResponse
    from .errors import FaceError as FaceError
    from .errors import FaceErrorResponse as FaceErrorResponse
    from .errors import InnerError as InnerError
    from .liveness import CreateLivenessSessionContent as CreateLivenessSessionContent
    from .liveness import LivenessColorDecisionTarget as LivenessColorDecisionTarget
    from .liveness import LivenessDecisionTargets as LivenessDecisionTargets
    from .liveness import LivenessError as LivenessError
    from .liveness import LivenessResult as LivenessResult
    from .liveness import LivenessSession as LivenessSession
    from .liveness import LivenessSessionAttempt as LivenessSessionAttempt
    from .liveness import LivenessSessionResults as LivenessSessionResults
    from .liveness import LivenessWithVerifyOutputs as LivenessWithVerifyOutputs
    from .liveness import LivenessWithVerifyReference as LivenessWithVerifyReference
    from .liveness import LivenessWithVerifyResult as LivenessWithVerifyResult
    from .liveness import LivenessWithVerifySession as LivenessWithVerifySession
    from .liveness import LivenessWithVerifySessionAttempt as LivenessWithVerifySessionAttempt
    from .liveness import LivenessWithVerifySessionResults as LivenessWithVerifySessionResults
    from .recognition import FindSimilarResult as FindSimilarResult
    from .recognition import GroupingResult as GroupingResult
    from .recognition import IdentificationCandidate as IdentificationCandidate
    from .recognition import IdentificationResult as IdentificationResult
    from .recognition import VerificationResult as VerificationResult

_LAZY: dict[str, str] = {
    "FaceModel": "._base",
    "FaceResult": "._base",
    "OpenEnum": "._base",
    "RequestModel": "._base",
    "ResultList": "._base",
    "AddFaceResult": ".collections",
    "CreateCollectionRequest": ".collections",
    "CreatePersonResult": ".collections",
    "FaceList": ".collections",
    "FaceListFace": ".collections",
    "FaceListItem": ".collections",
    "FaceUserData": ".collections",
    "LargeFaceList": ".collections",
    "LargeFaceListFace": ".collections",
    "LargePersonGroup": ".collections",
    "LargePersonGroupPerson": ".collections",
    "LargePersonGroupPersonFace": ".collections",
    "PersonGroup": ".collections",
    "PersonGroupPerson": ".collections",
    "PersonGroupPersonFace": ".collections",
    "TrainingResult": ".collections",
    "UserDefinedFields": ".collections",
    "UserDefinedFieldsForUpdate": ".collections",
    "AddOrUpdateTextBlocklistItemsOptions": ".content_safety",
    "AddOrUpdateTextBlocklistItemsResult": ".content_safety",
    "AnalyzeTextOptions": ".content_safety",
    "AnalyzeTextResult": ".content_safety",
    "RemoveTextBlocklistItemsOptions": ".content_safety",
    "TextBlocklist": ".content_safety",
    "TextBlocklistCreateOrUpdate": ".content_safety",
    "TextBlocklistItem": ".content_safety",
    "TextBlocklistItemInput": ".content_safety",
    "TextBlocklistItemPage": ".content_safety",
    "TextBlocklistMatch": ".content_safety",
    "TextBlocklistPage": ".content_safety",
    "TextCategoriesAnalysis": ".content_safety",
    "RETIRED_ATTRIBUTE_FIELDS": ".detection",
    "AccessoryItem": ".detection",
    "BlurProperties": ".detection",
    "ExposureProperties": ".detection",
    "FaceAttributes": ".detection",
    "FaceDetectionResult": ".detection",
    "FaceLandmarks": ".detection",
    "FaceRectangle": ".detection",
    "HeadPose": ".detection",
    "LandmarkCoordinate": ".detection",
    "MaskProperties": ".detection",
    "NoiseProperties": ".detection",
    "OcclusionProperties": ".detection",
    "AccessoryType": ".enums",
    "BlurLevel": ".enums",
    "DetectionModel": ".enums",
    "ExposureLevel": ".enums",
    "FaceAttributeType": ".enums",
    "FindSimilarMatchMode": ".enums",
    "GlassesType": ".enums",
    "ImageType": ".enums",
    "LivenessDecision": ".enums",
    "LivenessModel": ".enums",
    "LivenessOperationMode": ".enums",
    "MaskType": ".enums",
    "NoiseLevel": ".enums",
    "OperationState": ".enums",
    "QualityForRecognition": ".enums",
    "RecognitionModel": ".enums",
    "TextAnalysisOutputType": ".enums",
    "TextCategory": ".enums",
    "TrainingStatus": ".enums",
    "ContentSafetyError": ".errors",
    "ContentSafetyErrorResponse": ".errors",
    "FaceError": ".errors",
    "FaceErrorResponse": ".errors",
    "InnerError": ".errors",
    "CreateLivenessSessionContent": ".liveness",
    "LivenessColorDecisionTarget": ".liveness",
    "LivenessDecisionTargets": ".liveness",
    "LivenessError": ".liveness",
    "LivenessResult": ".liveness",
    "LivenessSession": ".liveness",
    "LivenessSessionAttempt": ".liveness",
    "LivenessSessionResults": ".liveness",
    "LivenessWithVerifyOutputs": ".liveness",
    "LivenessWithVerifyReference": ".liveness",
    "LivenessWithVerifyResult": ".liveness",
    "LivenessWithVerifySession": ".liveness",
    "LivenessWithVerifySessionAttempt": ".liveness",
    "LivenessWithVerifySessionResults": ".liveness",
    "FindSimilarResult": ".recognition",
    "GroupingResult": ".recognition",
    "IdentificationCandidate": ".recognition",
    "IdentificationResult": ".recognition",
    "VerificationResult": ".recognition",
}

__all__ = [
    "AccessoryItem",
    "AccessoryType",
    "AddFaceResult",
    "AddOrUpdateTextBlocklistItemsOptions",
    "AddOrUpdateTextBlocklistItemsResult",
    "AnalyzeTextOptions",
    "AnalyzeTextResult",
    "BlurLevel",
    "BlurProperties",
    "ContentSafetyError",
    "ContentSafetyErrorResponse",
    "CreateCollectionRequest",
    "CreateLivenessSessionContent",
    "CreatePersonResult",
    "DetectionModel",
    "ExposureLevel",
    "ExposureProperties",
    "FaceAttributeType",
    "FaceAttributes",
    "FaceDetectionResult",
    "FaceError",
    "FaceErrorResponse",
    "FaceLandmarks",
    "FaceList",
    "FaceListFace",
    "FaceListItem",
    "FaceModel",
    "FaceRectangle",
    "FaceResult",
    "FaceUserData",
    "FindSimilarMatchMode",
    "FindSimilarResult",
    "GlassesType",
    "GroupingResult",
    "HeadPose",
    "IdentificationCandidate",
    "IdentificationResult",
    "ImageType",
    "InnerError",
    "LandmarkCoordinate",
    "LargeFaceList",
    "LargeFaceListFace",
    "LargePersonGroup",
    "LargePersonGroupPerson",
    "LargePersonGroupPersonFace",
    "LivenessColorDecisionTarget",
    "LivenessDecision",
    "LivenessDecisionTargets",
    "LivenessError",
    "LivenessModel",
    "LivenessOperationMode",
    "LivenessResult",
    "LivenessSession",
    "LivenessSessionAttempt",
    "LivenessSessionResults",
    "LivenessWithVerifyOutputs",
    "LivenessWithVerifyReference",
    "LivenessWithVerifyResult",
    "LivenessWithVerifySession",
    "LivenessWithVerifySessionAttempt",
    "LivenessWithVerifySessionResults",
    "MaskProperties",
    "MaskType",
    "NoiseLevel",
    "NoiseProperties",
    "OcclusionProperties",
    "OpenEnum",
    "OperationState",
    "PersonGroup",
    "PersonGroupPerson",
    "PersonGroupPersonFace",
    "QualityForRecognition",
    "RETIRED_ATTRIBUTE_FIELDS",
    "RecognitionModel",
    "RemoveTextBlocklistItemsOptions",
    "RequestModel",
    "ResultList",
    "TextAnalysisOutputType",
    "TextBlocklist",
    "TextBlocklistCreateOrUpdate",
    "TextBlocklistItem",
    "TextBlocklistItemInput",
    "TextBlocklistItemPage",
    "TextBlocklistMatch",
    "TextBlocklistPage",
    "TextCategoriesAnalysis",
    "TextCategory",
    "TrainingResult",
    "TrainingStatus",
    "UserDefinedFields",
    "UserDefinedFieldsForUpdate",
    "VerificationResult",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
