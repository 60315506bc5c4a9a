"""The sample ids of the operation table, in a module that imports nothing.

``tests/_optable.py`` (the operation table) and ``tests/_guard_kit.py`` (the guard for wire
tests, whose consent token binds these containers and this person) both need them, and the
table passes the kit's token: keeping the ids here breaks what would be an import cycle.
``_optable`` re-exports every name.
"""

from __future__ import annotations

__all__ = [
    "BLOCKLIST_ITEM_ID",
    "BLOCKLIST_NAME",
    "DYNAMIC_PERSON_GROUP_ID",
    "FACE_ID",
    "FACE_ID_2",
    "FACE_LIST_ID",
    "LARGE_FACE_LIST_ID",
    "LARGE_PERSON_GROUP_ID",
    "PERSISTED_FACE_ID",
    "PERSON_GROUP_ID",
    "PERSON_ID",
    "SESSION_ID",
    "SESSION_IMAGE_ID",
]

# Distinct values everywhere, so a swapped argument shows up as a wrong path or body.
PERSON_GROUP_ID = "pg-sample"
LARGE_PERSON_GROUP_ID = "lpg-sample"
FACE_LIST_ID = "fl-sample"
LARGE_FACE_LIST_ID = "lfl-sample"
DYNAMIC_PERSON_GROUP_ID = "dpg-sample"
PERSON_ID = "25985303-c537-4467-b41d-bdb45cd95ca1"
PERSISTED_FACE_ID = "43897a75-8d6f-42cf-885e-74832febb055"
FACE_ID = "c5c24a82-6845-4031-9d5d-978df9175426"
FACE_ID_2 = "015839fb-fbd9-4f79-ace9-7675fc2f1dd9"
SESSION_ID = "b12e033e-bda7-4b83-a211-e721c661f30e"
SESSION_IMAGE_ID = "3d035d35-2e01-4ed4-8935-577afde9caaa"
BLOCKLIST_NAME = "sample-blocklist"
BLOCKLIST_ITEM_ID = "9511969e-f1e3-4604-9127-05ee16c509ec"
