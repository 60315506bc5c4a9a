"""Every error faceguard raises, in one tree.

```
FaceGuardError
├── InvalidInputError            bad argument, raised before any byte is sent
│   └── InvalidImageError        wrong format, too small or too large, unreadable
├── ConfigurationError           no endpoint, no credential, or both a key and a token credential
├── AuditError                   the audit log cannot take a record: the guarded call is not sent
├── GuardError                   responsible-use refusal, raised before any I/O, never retried
│   ├── RetiredAttributeError    a retired, limited or unknown face attribute was requested
│   ├── ConsentRequiredError     recognition or enrollment without a consent token
│   ├── ConsentRejectedError     a consent token failed a check (.check names it)
│   ├── UseCaseError             outside the declared use case, or a prohibited deployment
│   ├── FaceIdError              a faceId is expired, unknown, or of another model (.reason)
│   ├── LivenessGuardError       a personal-looking device id, or too many sessions
│   ├── PersonalDataError        a name or userData holding an email, phone number or national id
│   ├── TrackingCapError         a source or person past a tracking cap (R17), no consent to it
│   ├── UnknownRouteError        a raw request to a route faceguard does not know
│   ├── OversightError           R11/R22: a consequential result needs human review (.reason)
│   │   └── ProvisionalResultError   acting on a provisional result before it is confirmed
│   └── GuardStoreError          the guard's store failed: recognition fails closed
├── APIError                     something happened on the wire
│   ├── APIConnectionError       no HTTP response (.request_sent says whether bytes may have left)
│   │   └── APITimeoutError
│   ├── APIStatusError           a non-success HTTP status
│   │   ├── BadRequestError 400 · AuthenticationError 401 · PermissionDeniedError 403
│   │   ├── NotFoundError 404 · ConflictError 409 · PayloadTooLargeError 413
│   │   ├── UnsupportedMediaTypeError 415 · RateLimitError 429 (.retry_after)
│   │   └── InternalServerError >= 500
│   └── APIResponseValidationError   a success response that does not match the contract
└── OperationError               a long-running operation did not succeed
    ├── TrainingFailedError      training ended in "failed"
    └── PollingTimeoutError      wait(timeout=...) ran out
```

`str(error)` of every API error starts with the service's request id, so a log line or a
support ticket carries it first. No error keeps request bodies, images, keys or tokens, and
the service's own words (message, code, body) reach an error with every faceId, personId and
other biometric handle replaced by an ``id#<hash>`` marker; only the call's request ids and
session id stay readable (``_redact`` says which ids count and why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ._redact import kept_ids, redact_body, redact_text

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuditError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ConsentRejectedError",
    "ConsentRequiredError",
    "FaceGuardError",
    "FaceIdError",
    "GuardError",
    "GuardStoreError",
    "InternalServerError",
    "InvalidImageError",
    "InvalidInputError",
    "LivenessGuardError",
    "NotFoundError",
    "OperationError",
    "OversightError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PersonalDataError",
    "PollingTimeoutError",
    "ProvisionalResultError",
    "RateLimitError",
    "RateLimitWaitError",
    "RetiredAttributeError",
    "StoreKeyError",
    "SupportInfo",
    "TrackingCapError",
    "TrainingFailedError",
    "UnknownRouteError",
    "UnsupportedMediaTypeError",
    "UseCaseError",
]


@dataclass(frozen=True)
class SupportInfo:
    """What the code of conduct asks a failure report to the service to include.

    Attached to every API error and to every parsed result (``result.support_info()``).
    It names the API path as a route *template*, never with the ids of people or faces.
    """

    operation: str
    """The REST operation id, e.g. ``PersonGroupOperations_TrainPersonGroup``."""
    method: str
    api_path: str
    """Route template, e.g. ``/persongroups/{personGroupId}/train``."""
    request_id: str | None = None
    """The service's ``apim-request-id`` response header."""
    client_request_id: str | None = None
    """The ``x-ms-client-request-id`` faceguard sent (one per logical call)."""
    status_code: int | None = None
    error_code: str | None = None
    session_id: str | None = None
    """Liveness session id, where the call concerns one."""
    model_version: str | None = None
    """Model version reported by the service, where known."""
    extra: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The fields that are set, ready to paste into a support request."""
        data = {
            "operation": self.operation,
            "method": self.method,
            "api_path": self.api_path,
            "request_id": self.request_id,
            "client_request_id": self.client_request_id,
            "status_code": self.status_code,
            "error_code": self.error_code,
            "session_id": self.session_id,
            "model_version": self.model_version,
            **self.extra,
        }
        return {key: value for key, value in data.items() if value is not None}


def service_request_id(headers: Mapping[str, str] | None) -> str | None:
    """The service's id of a request, from its response headers (``apim-request-id``, else
    ``x-ms-request-id``): what a support ticket quotes."""
    if headers is None:
        return None
    return headers.get("apim-request-id") or headers.get("x-ms-request-id")


class PendingSupport:
    """The support info of a successful result, built the first time it is read.

    Every result carries its support info, but few are ever asked for it: the transport keeps
    the few raw values here (the route and ids ``SupportInfo`` holds, and the response headers
    for the service's request id) and ``resolve`` builds the ``SupportInfo`` once. Nothing of
    the request is kept: no body, image, key or consent token. Copied, pickled or compared, it
    behaves as the ``SupportInfo`` it stands for.
    """

    __slots__ = (
        "_client_request_id",
        "_headers",
        "_info",
        "_method",
        "_model_version",
        "_operation",
        "_route",
        "_session_id",
        "_status_code",
    )

    def __init__(
        self,
        operation: str,
        method: str,
        route: str,
        session_id: str | None,
        client_request_id: str,
        status_code: int,
        headers: Mapping[str, str],
        model_version: str | None,
    ) -> None:
        self._operation = operation
        self._method = method
        self._route = route
        self._session_id = session_id
        self._client_request_id = client_request_id
        self._status_code = status_code
        self._headers: Mapping[str, str] | None = headers
        self._model_version = model_version
        self._info: SupportInfo | None = None

    def resolve(self) -> SupportInfo:
        """The ``SupportInfo`` (built on the first call, then the same object)."""
        info = self._info
        if info is None:
            info = self._info = SupportInfo(
                operation=self._operation,
                method=self._method,
                api_path=self._route,
                request_id=service_request_id(self._headers),
                client_request_id=self._client_request_id,
                status_code=self._status_code,
                session_id=self._session_id,
                model_version=self._model_version,
            )
            self._headers = None
        return info

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PendingSupport):
            other = other.resolve()
        return self.resolve() == other

    __hash__ = None  # type: ignore[assignment]  # like SupportInfo, whose ``extra`` is a dict

    def __reduce__(self) -> tuple[Any, tuple[SupportInfo]]:
        # Copies and pickles hold the SupportInfo itself, not the response headers.
        return _same, (self.resolve(),)

    def __repr__(self) -> str:
        return repr(self.resolve())


def _same(info: SupportInfo) -> SupportInfo:
    return info


def _support_ids(support: SupportInfo) -> frozenset[str]:
    """The UUIDs an error's text may quote in clear: this call's request ids and session."""
    return kept_ids((support.request_id, support.client_request_id, support.session_id))


class FaceGuardError(Exception):
    """Root of every error faceguard raises."""

    def __reduce__(
        self,
    ) -> tuple[Any, tuple[type[FaceGuardError], tuple[Any, ...], dict[str, Any]]]:
        # Pickled as its class, its args and its attributes, rebuilt without calling
        # __init__: the subclasses take keyword-only arguments (support=, status_code=...)
        # that Exception's default pickling cannot pass back, so an error raised in a
        # multiprocessing worker could not travel to the parent (which then waits forever).
        return _rebuild_error, (type(self), self.args, dict(vars(self)))


def _rebuild_error(
    cls: type[FaceGuardError], args: tuple[Any, ...], state: dict[str, Any]
) -> FaceGuardError:
    error = cls.__new__(cls)
    error.args = args
    vars(error).update(state)
    return error


class InvalidInputError(FaceGuardError, ValueError):
    """An argument breaks a rule of the REST contract; nothing was sent.

    ``parameter`` names the argument and ``rule`` the contract rule, so tests and callers can
    branch on them without parsing the message.
    """

    def __init__(self, parameter: str, rule: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.rule = rule


class InvalidImageError(InvalidInputError):
    """The image is unreadable, in an unsupported format, or outside 1 KB - 6 MB."""


class ConfigurationError(FaceGuardError):
    """The client cannot be built: missing endpoint or credential, or ambiguous credentials."""


class StoreKeyError(ConfigurationError):
    """A guard store's pseudonymisation key is missing, too short, or not the key the store
    was first written with. The message says how to make and configure one; it never holds
    the key."""


class AuditError(FaceGuardError):
    """The audit log cannot take a record, so the guarded call that needed it fails closed.

    ``reason`` names why: ``locked`` (another writer holds the log), ``write_failed`` (disk
    full, I/O error: nothing of the record stays in the file), ``lock_lost`` (the file was
    removed or replaced under the log), ``unhealthy`` (an earlier write failed: call
    ``AuditLog.recover()``), ``closed``, ``damaged`` (the file does not end in a whole, valid
    record), ``head_store`` (the log head could not be kept in the store), ``forked`` (the
    log was opened in another process), ``unsupported`` (no file lock on this platform) or
    ``unreadable`` (``verify_log`` cannot read the file: missing, a directory, no access).
    ``request_sent`` is True only when the call had already gone out and its outcome could not
    be recorded. The message names the file and the cause, never a record's content.
    """

    def __init__(self, message: str, *, reason: str, request_sent: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.request_sent = request_sent


class GuardError(FaceGuardError):
    """A responsible-use rule refused the call before any I/O. Never retried."""


class RetiredAttributeError(GuardError, ValueError):
    """A face attribute that is retired, limited-access, unknown, or not produced by the chosen
    detection model was requested. ``attribute`` is the name as given; ``allowed`` what the
    detection model still offers."""

    def __init__(self, attribute: str, message: str, *, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.attribute = attribute
        self.allowed = allowed


class ConsentRequiredError(GuardError):
    """A call that recognises or enrolls a face was made without a consent token.

    ``operation`` is the consent operation the call needs (``verify``, ``identify``,
    ``find_similar``, ``group``, ``enroll``, ``detect_template``, ``liveness_verify``).
    """

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(message)
        self.operation = operation


class ConsentRejectedError(GuardError):
    """A consent token was presented but failed a check; ``check`` names which one
    (``malformed``, ``header``, ``alg``, ``typ``, ``kid``, ``signature``, ``issuer``,
    ``audience``, ``expired``, ``not_yet_valid``, ``issued_in_future``, ``lifetime``,
    ``claims``, ``operation``, ``use_case``, ``container``, ``person``, ``subject``,
    ``replay``, ``withdrawn``, ``verifier``, ``status_unknown``, ``status_required``,
    ``status_stale``, ``revoked``)."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"consent token refused ({check}): {message}")
        self.check = check


class UseCaseError(GuardError):
    """The operation is outside the client's declared limited-access use case, no use case
    was declared, or the declared deployment is one the code of conduct prohibits."""


class FaceIdError(GuardError):
    """A faceId cannot be used: ``reason`` is ``expired``, ``unknown``, ``model_mismatch``
    or ``resource_mismatch``. The message names the faceId's age and model, never the id."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class LivenessGuardError(GuardError):
    """A liveness session was refused: a device correlation id that looks like personal
    data, or more sessions for one device than the cap allows."""


class PersonalDataError(GuardError):
    """R31: a ``name`` or ``userData`` holds a primary identifier (an email address, a phone
    number, a national id). The Face API stores these fields next to facial templates; link
    the service's ids to people on your side instead, or pass
    ``override=Override("primary_identifier", reason)`` (audited) for this one call.

    ``field`` names the argument (``name`` or ``user_data``) and ``kinds`` what was found
    (``email``, ``phone``, ``national_id``); the value itself is never kept or shown.
    """

    def __init__(self, field: str, kinds: tuple[str, ...]) -> None:
        super().__init__(
            f"{field} looks like it holds a primary identifier ({', '.join(kinds)}); the Face "
            "API keeps it next to facial templates (R31). Store the service's ids against "
            "your own records instead, or pass override=Override('primary_identifier', "
            "reason) for this call (audited)"
        )
        self.field = field
        self.kinds = kinds


class TrackingCapError(GuardError):
    """R17: a call past a tracking cap, from a subject who did not consent to continuous
    identification and without an ``Override`` of the cap. ``cap`` is ``"detect"`` (detect
    calls per source per minute: refused before sending) or ``"identification"``; ``limit``
    and ``window`` (seconds) say which cap. Neither the source nor the person is named."""

    def __init__(self, cap: str, message: str, *, limit: int, window: float) -> None:
        super().__init__(message)
        self.cap = cap
        self.limit = limit
        self.window = window


class UnknownRouteError(GuardError):
    """A request through the client's transport named a route faceguard does not know;
    unknown routes are denied (a new API version needs an explicit allowlist update)."""


class OversightError(GuardError):
    """Human oversight (R11) or a dispute (R22) was refused; ``reason`` names why:
    ``oversight_required`` (a recognition call of a consequential use case made through
    ``client.recognition``: use ``client.oversight``), ``audit_required`` (oversight and
    disputes are recorded in the audit log, and the client has none), ``same_reviewer`` (the
    second review of a remote biometric identification is by the first reviewer),
    ``already_confirmed``, ``disagreement`` (the reviewers gave different outcomes: the
    result stays unconfirmed), ``unknown_decision`` (no decision with that id in this
    client's audit log), ``not_portable`` (a provisional result pickled or copied: it belongs
    to the client that made it; ``client.review(decision_id)`` resumes it from the log),
    ``first_review`` (a decision resumed from the log before anyone reviewed its result),
    ``outcome_elsewhere`` (confirmed in another process: the log keeps only the outcome's
    digest) or ``provisional`` (see ``ProvisionalResultError``). Messages never quote
    reviewer ids, outcomes or decision contents."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ProvisionalResultError(OversightError):
    """A provisional result (``Provisional``) was acted on before its review was complete:
    its ``outcome`` read, or the result used as a truth value. Show ``result.provisional``
    to the reviewer and call ``result.confirm(reviewer_id, outcome)``."""

    def __init__(self, message: str) -> None:
        super().__init__("provisional", message)


class GuardStoreError(GuardError):
    """The guard's store (registry, consent ledger, caps) failed; the call fails closed."""


class APIError(FaceGuardError):
    """Base of errors that happened while talking to the service."""

    def __init__(self, message: str, *, support: SupportInfo) -> None:
        # The message and the error code are the service's words: every UUID in them but this
        # call's request ids is taken for a biometric handle and redacted (see _redact).
        keep = _support_ids(support)
        if support.error_code is not None or support.extra:
            support = replace(
                support,
                error_code=support.error_code and redact_text(support.error_code, keep),
                extra={k: redact_text(v, keep) for k, v in support.extra.items()},
            )
        message = redact_text(message, keep)
        super().__init__(message)
        self.message = message
        self.support = support

    @property
    def request_id(self) -> str | None:
        """The service's ``apim-request-id``, if a response came back."""
        return self.support.request_id

    @property
    def client_request_id(self) -> str | None:
        """The ``x-ms-client-request-id`` sent on every attempt of this call."""
        return self.support.client_request_id

    @property
    def route(self) -> str:
        """The route template of the failed operation."""
        return self.support.api_path

    def support_info(self) -> dict[str, Any]:
        """What to include in a failure report (API path, request id, session, model)."""
        return self.support.as_dict()

    def __str__(self) -> str:
        prefix = f"[request {self.request_id}] " if self.request_id else ""
        return f"{prefix}{self.message} ({self.support.method} {self.support.api_path})"

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in self.support.as_dict().items())
        return f"{type(self).__name__}(message={self.message!r}, {fields})"


class APIConnectionError(APIError):
    """No HTTP response came back.

    ``request_sent`` is False when the failure happened before any byte left (connect error,
    pool timeout): such calls are safe to retry even when the operation is not idempotent.

    ``kind`` names the cause, so a caller can branch without parsing the message: ``dns``
    (the host does not resolve), ``refused`` (nothing listens on that port), ``tls`` (the
    handshake or the certificate failed), ``timeout``, ``reset`` (the peer closed or reset
    the connection), ``unreachable`` (no route), ``proxy``, ``protocol`` or ``network``
    (anything else). The message keeps the cause's own words, secrets removed.
    """

    def __init__(
        self,
        message: str,
        *,
        support: SupportInfo,
        request_sent: bool,
        retries_taken: int = 0,
        kind: str = "network",
    ) -> None:
        super().__init__(message, support=support)
        self.request_sent = request_sent
        self.retries_taken = retries_taken
        self.kind = kind


class APITimeoutError(APIConnectionError):
    """The call timed out."""


class APIStatusError(APIError):
    """The service answered with a non-success status."""

    def __init__(
        self,
        message: str,
        *,
        support: SupportInfo,
        status_code: int,
        error_code: str | None,
        body: object | None,
        retries_taken: int = 0,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, support=support)
        keep = _support_ids(support)
        self.status_code = status_code
        self.error_code = error_code and redact_text(error_code, keep)
        self.body = redact_body(body, keep)
        self.retries_taken = retries_taken
        self.retry_after = retry_after
        """Seconds the service asked to wait (``Retry-After``), on 429 and 503 mostly."""


class BadRequestError(APIStatusError):
    """HTTP 400."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the key or token was refused."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: for example a limited-access feature the resource is not approved for."""


class NotFoundError(APIStatusError):
    """HTTP 404."""


class ConflictError(APIStatusError):
    """HTTP 409."""


class PayloadTooLargeError(APIStatusError):
    """HTTP 413."""


class UnsupportedMediaTypeError(APIStatusError):
    """HTTP 415."""


class RateLimitError(APIStatusError):
    """HTTP 429. ``retry_after`` holds the server's requested wait in seconds, if any."""


class RateLimitWaitError(FaceGuardError):
    """The client-side ``RateLimiter`` would have delayed the request longer than its
    ``max_wait``; nothing was sent. ``wait`` is the delay it would have needed, in seconds."""

    def __init__(self, message: str, *, wait: float) -> None:
        super().__init__(message)
        self.wait = wait


class InternalServerError(APIStatusError):
    """HTTP 500 or above."""


class APIResponseValidationError(APIError):
    """A success response whose body does not match the REST contract."""


class OperationError(FaceGuardError):
    """A long-running operation (training) did not end in success."""


class TrainingFailedError(OperationError):
    """Training ended with status ``failed``; ``message`` is the service's reason."""

    def __init__(self, message: str, *, route: str) -> None:
        message = redact_text(message)  # the service's words: no faceId or personId in clear
        super().__init__(f"training failed: {message} ({route})")
        self.message = message
        self.route = route


class PollingTimeoutError(OperationError, TimeoutError):
    """``wait(timeout=...)`` ran out before the operation finished."""

    def __init__(self, *, timeout: float, last_status: str | None, route: str) -> None:
        last_status = last_status and redact_text(last_status)
        super().__init__(
            f"operation still {last_status or 'unknown'} after {timeout:g} s ({route})"
        )
        self.timeout = timeout
        self.last_status = last_status
        self.route = route


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The most precise error class for an HTTP status."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_ERRORS.get(status_code, APIStatusError)
