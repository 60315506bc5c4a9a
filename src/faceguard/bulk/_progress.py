"""The progress bar of a bulk run: ``tqdm.auto`` when it is installed, else nothing.

tqdm is optional (the ``notebook`` extra): ``progress=True`` shows a bar when tqdm can be
imported and silently shows none otherwise, so a bulk job never fails for want of a bar.
The bar counts finished items and shows added / skipped / failed so far.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._report import BulkItemResult

__all__ = ["Progress"]


class Progress:
    """Counts finished items on a tqdm bar (a no-op without tqdm or with ``enabled=False``)."""

    def __init__(self, *, enabled: bool, total: int, desc: str) -> None:
        self._bar: Any = None
        self._counts = {"added": 0, "skipped": 0, "failed": 0}
        if not enabled:
            return
        try:
            module = importlib.import_module("tqdm.auto")
        except ImportError:
            return
        self._bar = module.tqdm(total=total, desc=desc, unit=" items")

    def done(self, result: BulkItemResult) -> None:
        """One item finished."""
        self._counts[result.status] += 1
        if self._bar is not None:
            self._bar.set_postfix(self._counts, refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        """Close the bar (idempotent)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
