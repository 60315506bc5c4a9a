"""Named defaults and limits. Numbers from the REST contracts carry the spec's wording."""

from __future__ import annotations

FACE_API_PATH = "/face/v1.2"
CONTENT_SAFETY_API_PATH = "/contentsafety"
CONTENT_SAFETY_API_VERSION = "2024-09-01"
TOKEN_SCOPE = "https://cognitiveservices.azure.com/.default"  # noqa: S105 - a scope, not a secret

# Timeouts (seconds). Detection of a 6 MB image can take a while; connecting should not.
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 60.0

# Retries (DESIGN §2): attempts include the first one.
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_BACKOFF_BASE = 0.5
DEFAULT_BACKOFF_CAP = 8.0
DEFAULT_RETRY_AFTER_CAP = 60.0
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})

# A token credential's token is refreshed this long before it expires.
TOKEN_REFRESH_MARGIN = 300.0

# Polling of training operations.
DEFAULT_POLL_INTERVAL = 1.0
MAX_POLL_INTERVAL = 30.0

# Face v1.2 limits ("JPEG, PNG, GIF (the first frame), and BMP ... from 1KB to 6MB").
IMAGE_MIN_BYTES = 1024
IMAGE_MAX_BYTES = 6 * 1024 * 1024
FACE_ID_TTL_MIN = 60
FACE_ID_TTL_MAX = 86400
# faceguard sends the TTL explicitly; short by default (GUARD.md §4: 600 s for verify flows).
DEFAULT_FACE_ID_TTL = 600
COLLECTION_ID_MAX = 64
NAME_MAX = 128
COLLECTION_USER_DATA_MAX = 16 * 1024
FACE_USER_DATA_MAX = 1024
IDENTIFY_FACE_IDS_MAX = 10
IDENTIFY_CANDIDATES_MAX = 100
IDENTIFY_PERSON_IDS_MAX = 30
GROUP_FACE_IDS_MIN = 2
GROUP_FACE_IDS_MAX = 1000
FIND_SIMILAR_FACE_IDS_MAX = 1000
FIND_SIMILAR_CANDIDATES_MAX = 1000
PAGE_TOP_MAX = 1000
LIST_START_MAX = 64
LIVENESS_TOKEN_TTL_MIN = 60
LIVENESS_TOKEN_TTL_MAX = 86400

# Content Safety 2024-09-01 limits.
BLOCKLIST_NAME_MAX = 64
BLOCKLIST_DESCRIPTION_MAX = 1024
BLOCKLIST_ITEM_TEXT_MAX = 128
BLOCKLIST_ITEMS_PER_CALL = 100
BLOCKLIST_ITEM_ID_MAX = 64
ANALYZE_TEXT_MAX = 10_000

# Headers that may appear in logs; every other header value is replaced by REDACTED.
LOGGABLE_HEADERS = frozenset(
    {
        "accept",
        "apim-request-id",
        "content-length",
        "content-type",
        "date",
        "operation-location",
        "retry-after",
        "user-agent",
        "x-ms-client-request-id",
        "x-ms-error-code",
        "x-ms-request-id",
    }
)
REDACTED = "REDACTED"
