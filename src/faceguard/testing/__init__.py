"""Test helpers for applications built on faceguard: safe cassettes, contract tests, hygiene.

Cassettes (vcrpy, ``pip install "faceguard[testing]"``) recorded with this configuration hold
no subscription key, bearer token or liveness ``authToken`` (request headers are reduced to
``Content-Type``), no image, no id and no host in clear: every image body becomes a
``sha256:<hex>`` placeholder, every UUID (faceIds, personIds, persistedFaceIds ...) a
placeholder UUID that stays the same wherever the id recurs in the cassette, the resource's
origin ``https://resource.faceguard.invalid`` and timestamps numbered placeholders, so
re-recording an unchanged flow changes no line. Requests are matched on method, path, query
and the digest of the scrubbed body, so a replay fails when a test sends another image or
names another id; the mismatch says which JSON field differs.

The pytest plugin (``faceguard.testing._plugin``, installed with faceguard) gives contract
tests ``recorded_face_client`` and its siblings, the ``faceguard_cassette`` marker and
fixture, ``--faceguard-record-mode`` and ``--faceguard-live``; docs/testing.md has a complete
example. Outside pytest, with plain vcrpy (record mode from ``FACEGUARD_RECORD_MODE``,
``none`` by default)::

    from faceguard.testing import use_cassette

    with use_cassette("tests/cassettes/detect.yaml"):
        faces = client.detection.detect(image)

With pytest-recording, in ``conftest.py`` (the plugin registers faceguard's matchers
on its VCR, and ``vcr_config()`` leaves the record mode to ``--record-mode`` when given)::

    import pytest
    import faceguard.testing

    @pytest.fixture  # one per test, so each cassette numbers its ids from 1
    def vcr_config():
        return faceguard.testing.vcr_config()

The hygiene check (``check_paths``, or ``faceguard testing check-cassettes [PATH ...]`` in
CI) finds keys, tokens and image bytes in any encoding, and ids in clear in any spelling, in
cassettes and fixtures.

Importing this package imports neither vcrpy nor pytest (``FaceguardConsent`` and
``FaceguardBackend``, the fixtures' types, load pytest when first used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._cassettes import (
    MATCH_ON,
    PLACEHOLDER,
    RECORD_MODE_ENV,
    body_digest,
    image_placeholder,
    make_vcr,
    query_params,
    record_mode,
    register_matchers,
    request_body_digest,
    scrub_request,
    scrub_response,
    use_cassette,
    vcr_config,
)
from ._errors import (
    CassetteError,
    CassetteMismatchError,
    RecordModeError,
    UnplayedInteractionsError,
)
from ._hygiene import Finding, check_paths, check_text
from ._modes import LIVE_ENV
from ._stable import REPLAY_API_KEY, REPLAY_ENDPOINT

if TYPE_CHECKING:
    from ._backend import FaceguardBackend as FaceguardBackend
    from ._plugin import FaceguardConsent as FaceguardConsent

__all__ = [
    "CassetteError",
    "CassetteMismatchError",
    "FaceguardBackend",
    "FaceguardConsent",
    "Finding",
    "LIVE_ENV",
    "MATCH_ON",
    "PLACEHOLDER",
    "RECORD_MODE_ENV",
    "REPLAY_API_KEY",
    "REPLAY_ENDPOINT",
    "RecordModeError",
    "UnplayedInteractionsError",
    "body_digest",
    "check_paths",
    "check_text",
    "image_placeholder",
    "make_vcr",
    "query_params",
    "record_mode",
    "register_matchers",
    "request_body_digest",
    "scrub_request",
    "scrub_response",
    "use_cassette",
    "vcr_config",
]


def __getattr__(name: str) -> Any:
    """The fixtures' types (for annotations), loaded with pytest only when asked for."""
    if name == "FaceguardConsent":
        from ._plugin import FaceguardConsent

        return FaceguardConsent
    if name == "FaceguardBackend":
        from ._backend import FaceguardBackend

        return FaceguardBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
