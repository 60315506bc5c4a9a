"""Error bodies of the two services.

Face answers ``{"error": {"code", "message"}}``; Content Safety uses the richer
Azure.Core error with ``target``, nested ``details`` and an ``innererror`` chain. The error
layer parses these to build its exceptions.
"""

from pydantic import Field

from ._base import FaceModel

__all__ = [
    "ContentSafetyError",
    "ContentSafetyErrorResponse",
    "FaceError",
    "FaceErrorResponse",
    "InnerError",
]


class FaceError(FaceModel):
    """A Face error (codes are listed at https://aka.ms/face-error-codes-and-messages)."""

    code: str
    """One of a server-defined set of error codes."""
    message: str
    """Human-readable description of the error."""


class FaceErrorResponse(FaceModel):
    """Body of every non-success Face response."""

    error: FaceError
    """The error."""


class InnerError(FaceModel):
    """More specific information about a Content Safety error."""

    code: str | None = None
    """One of a server-defined set of error codes."""
    innererror: "InnerError | None" = Field(default=None, alias="innererror")
    """A still more specific inner error."""


class ContentSafetyError(FaceModel):
    """A Content Safety (Azure.Core) error."""

    code: str
    """One of a server-defined set of error codes."""
    message: str
    """Human-readable description of the error."""
    target: str | None = None
    """Target of the error."""
    details: "list[ContentSafetyError] | None" = None
    """Errors that led to this one."""
    innererror: InnerError | None = Field(default=None, alias="innererror")
    """More specific information about the error."""


class ContentSafetyErrorResponse(FaceModel):
    """Body of every non-success Content Safety response."""

    error: ContentSafetyError
    """The error."""
