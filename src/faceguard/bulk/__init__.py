"""Bulk enrollment and detection that survive throttling and crashes.

```python
from faceguard.bulk import BulkFace, SQLiteJournal, bulk_add_faces

items = (
    BulkFace(key=str(path), image=path, person_id=person_of(path), consent=token_for)
    for path in Path("photos").rglob("*.jpg")
)
with SQLiteJournal("enroll.sqlite3") as journal:
    report = bulk_add_faces(client.large_person_groups, "employees", items, journal=journal)
report.raise_for_failures()
```

No face is lost and none is added twice: every face's userData carries a marker of the
batch and the item's key, and the journal records each add before it is sent, so an add
whose outcome is in doubt (a crash, a dropped connection, a 5xx) is looked up on the service
before it is sent again. Run the same call again with the same journal to resume.
"""

from __future__ import annotations

from ._async import async_bulk_add_faces, async_bulk_detect
from ._items import BulkFace, BulkImage, face_marker
from ._journal import (
    Journal,
    JournalError,
    JournalRecord,
    JournalState,
    MemoryJournal,
    SQLiteJournal,
)
from ._outcome import Backoff
from ._redis_journal import RedisJournal
from ._report import BulkFailedError, BulkItemResult, BulkReport, ItemStatus, SkipReason
from ._sync import bulk_add_faces, bulk_detect

__all__ = [
    "Backoff",
    "BulkFace",
    "BulkFailedError",
    "BulkImage",
    "BulkItemResult",
    "BulkReport",
    "ItemStatus",
    "Journal",
    "JournalError",
    "JournalRecord",
    "JournalState",
    "MemoryJournal",
    "RedisJournal",
    "SQLiteJournal",
    "SkipReason",
    "async_bulk_add_faces",
    "async_bulk_detect",
    "bulk_add_faces",
    "bulk_detect",
    "face_marker",
]
