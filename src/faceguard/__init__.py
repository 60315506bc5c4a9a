"""faceguard: a typed, guarded client for the Azure AI Face API v1.2 and Content Safety.

Importing faceguard does no I/O, reads no environment variable, and loads only the error
classes: clients, models and the guard load on first use (PEP 562), so ``import faceguard``
stays cheap for applications and CLIs that may never build a client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import APIConnectionError as APIConnectionError
from ._exceptions import APIError as APIError
from ._exceptions import APIResponseValidationError as APIResponseValidationError
from ._exceptions import APIStatusError as APIStatusError
from ._exceptions import APITimeoutError as APITimeoutError
from ._exceptions import AuditError as AuditError
from ._exceptions import AuthenticationError as AuthenticationError
from ._exceptions import BadRequestError as BadRequestError
from ._exceptions import ConfigurationError as ConfigurationError
from ._exceptions import ConflictError as ConflictError
from ._exceptions import ConsentRejectedError as ConsentRejectedError
from ._exceptions import ConsentRequiredError as ConsentRequiredError
from ._exceptions import FaceGuardError as FaceGuardError
from ._exceptions import FaceIdError as FaceIdError
from ._exceptions import GuardError as GuardError
from ._exceptions import GuardStoreError as GuardStoreError
from ._exceptions import InternalServerError as InternalServerError
from ._exceptions import InvalidImageError as InvalidImageError
from ._exceptions import InvalidInputError as InvalidInputError
from ._exceptions import LivenessGuardError as LivenessGuardError
from ._exceptions import NotFoundError as NotFoundError
from ._exceptions import OperationError as OperationError
from ._exceptions import OversightError as OversightError
from ._exceptions import PayloadTooLargeError as PayloadTooLargeError
from ._exceptions import PermissionDeniedError as PermissionDeniedError
from ._exceptions import PersonalDataError as PersonalDataError
from ._exceptions import PollingTimeoutError as PollingTimeoutError
from ._exceptions import ProvisionalResultError as ProvisionalResultError
from ._exceptions import RateLimitError as RateLimitError
from ._exceptions import RateLimitWaitError as RateLimitWaitError
from ._exceptions import RetiredAttributeError as RetiredAttributeError
from ._exceptions import StoreKeyError as StoreKeyError
from ._exceptions import SupportInfo as SupportInfo
from ._exceptions import TrackingCapError as TrackingCapError
from ._exceptions import TrainingFailedError as TrainingFailedError
from ._exceptions import UnknownRouteError as UnknownRouteError
from ._exceptions import UnsupportedMediaTypeError as UnsupportedMediaTypeError
from ._exceptions import UseCaseError as UseCaseError
from ._version import __version__ as __version__

if TYPE_CHECKING:
    from ._client import AsyncContentSafetyClient as AsyncContentSafetyClient
    from ._client import AsyncFaceClient as AsyncFaceClient
    from ._client import ContentSafetyClient as ContentSafetyClient
    from ._client import FaceClient as FaceClient
    from ._guard._audit import AuditLog as AuditLog
    from ._guard._audit import ChainReport as ChainReport
    from ._guard._audit import verify_chain as verify_chain
    from ._guard._audit_verify import AuditVerdict as AuditVerdict
    from ._guard._audit_verify import verify_log as verify_log
    from ._guard._claim_rules import ConsentRequirements as ConsentRequirements
    from ._guard._claim_rules import requirements_for as requirements_for
    from ._guard._claim_values import AgeAttestation as AgeAttestation
    from ._guard._claim_values import ImageOrigin as ImageOrigin
    from ._guard._claim_values import LegalBasis as LegalBasis
    from ._guard._claim_values import Notice as Notice
    from ._guard._claim_values import Retention as Retention
    from ._guard._consent import ConsentClaims as ConsentClaims
    from ._guard._consent import ConsentIssuer as ConsentIssuer
    from ._guard._consent import ConsentScope as ConsentScope
    from ._guard._consent import ConsentVerifier as ConsentVerifier
    from ._guard._consent import generate_keypair as generate_keypair
    from ._guard._jurisdictions import Jurisdiction as Jurisdiction
    from ._guard._jurisdictions import destroy_by as destroy_by
    from ._guard._ledger import ConsentLedger as ConsentLedger
    from ._guard._override import Override as Override
    from ._guard._policy import GuardPolicy as GuardPolicy
    from ._guard._redis_store import RedisStore as RedisStore
    from ._guard._retention import RetentionDue as RetentionDue
    from ._guard._sqlite_store import SQLiteStore as SQLiteStore
    from ._guard._status import StatusListError as StatusListError
    from ._guard._status import StatusListIssuer as StatusListIssuer
    from ._guard._status import StatusLists as StatusLists
    from ._guard._store import GuardStore as GuardStore
    from ._guard._store import MemoryStore as MemoryStore
    from ._guard._usecases import Deployment as Deployment
    from ._guard._usecases import UseCase as UseCase
    from ._operations._provisional import AsyncProvisional as AsyncProvisional
    from ._operations._provisional import AsyncReview as AsyncReview
    from ._operations._provisional import Provisional as Provisional
    from ._operations._provisional import Review as Review
    from ._operations.erasure import ErasurePlan as ErasurePlan
    from ._operations.retention import SweepReport as SweepReport
    from ._pagination import AsyncPager as AsyncPager
    from ._pagination import SyncPager as SyncPager
    from ._polling import AsyncTrainingPoller as AsyncTrainingPoller
    from ._polling import TrainingPoller as TrainingPoller
    from ._ratelimit._bucket import AdaptiveRate as AdaptiveRate
    from ._ratelimit._limiter import RateLimiter as RateLimiter
    from ._transport._retry import RetryPolicy as RetryPolicy
    from .models.enums import DetectionModel as DetectionModel
    from .models.enums import FaceAttributeType as FaceAttributeType
    from .models.enums import FindSimilarMatchMode as FindSimilarMatchMode
    from .models.enums import LivenessOperationMode as LivenessOperationMode
    from .models.enums import RecognitionModel as RecognitionModel

# Public name -> the private module that defines it, imported on first access.
_LAZY: dict[str, str] = {
    "StatusListIssuer": "._guard._status",
    "StatusLists": "._guard._status",
    "StatusListError": "._guard._status",
    "GuardPolicy": "._guard._policy",
    "UseCase": "._guard._usecases",
    "Deployment": "._guard._usecases",
    "Override": "._guard._override",
    "AgeAttestation": "._guard._claim_values",
    "ImageOrigin": "._guard._claim_values",
    "LegalBasis": "._guard._claim_values",
    "Notice": "._guard._claim_values",
    "Retention": "._guard._claim_values",
    "ConsentRequirements": "._guard._claim_rules",
    "Jurisdiction": "._guard._jurisdictions",
    "destroy_by": "._guard._jurisdictions",
    "requirements_for": "._guard._claim_rules",
    "ConsentIssuer": "._guard._consent",
    "ConsentVerifier": "._guard._consent",
    "ConsentClaims": "._guard._consent",
    "ConsentScope": "._guard._consent",
    "ConsentLedger": "._guard._ledger",
    "GuardStore": "._guard._store",
    "RateLimiter": "._ratelimit._limiter",
    "AdaptiveRate": "._ratelimit._bucket",
    "MemoryStore": "._guard._store",
    "SQLiteStore": "._guard._sqlite_store",
    "RedisStore": "._guard._redis_store",
    "AuditLog": "._guard._audit",
    "verify_chain": "._guard._audit",
    "verify_log": "._guard._audit_verify",
    "AuditVerdict": "._guard._audit_verify",
    "ChainReport": "._guard._audit",
    "ErasurePlan": "._operations.erasure",
    "SweepReport": "._operations.retention",
    "RetentionDue": "._guard._retention",
    "Provisional": "._operations._provisional",
    "AsyncProvisional": "._operations._provisional",
    "Review": "._operations._provisional",
    "AsyncReview": "._operations._provisional",
    "generate_keypair": "._guard._consent",
    "AsyncContentSafetyClient": "._client",
    "AsyncFaceClient": "._client",
    "ContentSafetyClient": "._client",
    "FaceClient": "._client",
    "AsyncPager": "._pagination",
    "SyncPager": "._pagination",
    "AsyncTrainingPoller": "._polling",
    "TrainingPoller": "._polling",
    "RetryPolicy": "._transport._retry",
    "DetectionModel": ".models.enums",
    "FaceAttributeType": ".models.enums",
    "FindSimilarMatchMode": ".models.enums",
    "LivenessOperationMode": ".models.enums",
    "RecognitionModel": ".models.enums",
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AdaptiveRate",
    "AgeAttestation",
    "AsyncContentSafetyClient",
    "AsyncFaceClient",
    "AsyncPager",
    "AsyncProvisional",
    "AsyncReview",
    "AsyncTrainingPoller",
    "AuditError",
    "AuditLog",
    "AuditVerdict",
    "AuthenticationError",
    "BadRequestError",
    "ChainReport",
    "ConfigurationError",
    "ConflictError",
    "ConsentClaims",
    "ConsentIssuer",
    "ConsentLedger",
    "ConsentRejectedError",
    "ConsentRequiredError",
    "ConsentRequirements",
    "ConsentScope",
    "ConsentVerifier",
    "ContentSafetyClient",
    "Deployment",
    "DetectionModel",
    "ErasurePlan",
    "FaceAttributeType",
    "FaceClient",
    "FaceGuardError",
    "FaceIdError",
    "FindSimilarMatchMode",
    "GuardError",
    "GuardPolicy",
    "GuardStore",
    "GuardStoreError",
    "ImageOrigin",
    "InternalServerError",
    "InvalidImageError",
    "InvalidInputError",
    "Jurisdiction",
    "LegalBasis",
    "LivenessGuardError",
    "LivenessOperationMode",
    "MemoryStore",
    "NotFoundError",
    "Notice",
    "OperationError",
    "Override",
    "OversightError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PersonalDataError",
    "PollingTimeoutError",
    "Provisional",
    "ProvisionalResultError",
    "RateLimitError",
    "RateLimitWaitError",
    "RateLimiter",
    "RecognitionModel",
    "RedisStore",
    "Retention",
    "RetentionDue",
    "RetiredAttributeError",
    "RetryPolicy",
    "Review",
    "SQLiteStore",
    "StatusListError",
    "StatusListIssuer",
    "StatusLists",
    "StoreKeyError",
    "SupportInfo",
    "SweepReport",
    "TrackingCapError",
    "TrainingFailedError",
    "TrainingPoller",
    "UnknownRouteError",
    "UnsupportedMediaTypeError",
    "UseCase",
    "UseCaseError",
    "__version__",
    "destroy_by",
    "generate_keypair",
    "requirements_for",
    "verify_chain",
    "verify_log",
]


def _public(obj: Any) -> Any:
    """Tracebacks and reprs name the public location, e.g. ``faceguard.RateLimitError``."""
    if (isinstance(obj, type) or callable(obj)) and getattr(obj, "__module__", "").startswith(
        f"{__name__}."
    ):
        obj.__module__ = __name__
    return obj


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _public(getattr(importlib.import_module(module, __name__), name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


for _name in list(globals()):
    if _name in __all__:
        _public(globals()[_name])
del _name
