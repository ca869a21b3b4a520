"""Results kept in this process's memory only (never on disk), so a results page can be reloaded and its
downloads built. Bounded in number and age; the oldest go first, and a user can forget one at once."""
from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from ..model import Report

_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass
class StoredResult:
    id: str
    name: str
    report: Report
    original: bytes  # the upload, needed to build the redline; dropped with the result
    created: float = field(default_factory=time.monotonic)


class ResultStore:
    def __init__(self, max_items: int, max_age_seconds: float):
        self.max_items = max_items
        self.max_age = max_age_seconds
        self._items: OrderedDict[str, StoredResult] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, name: str, report: Report, original: bytes) -> StoredResult:
        result = StoredResult(id=secrets.token_urlsafe(18), name=name, report=report, original=original)
        with self._lock:
            self._expire()
            self._items[result.id] = result
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return result

    def get(self, result_id: str) -> StoredResult | None:
        if not _ID.match(result_id):
            return None
        with self._lock:
            self._expire()
            return self._items.get(result_id)

    def forget(self, result_id: str) -> bool:
        with self._lock:
            return self._items.pop(result_id, None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.max_age
        while self._items and next(iter(self._items.values())).created < cutoff:
            self._items.popitem(last=False)
