"""A small in-memory store with a cap and an idle expiry, for model sessions and uploads.

Each item gets a random id. An item unused for ``idle_seconds`` is dropped; when the
store is full, adding evicts the least recently used item that is not busy, and refuses
(``StoreFull``) when every item is busy. All methods are thread-safe.

Example:
    >>> store = Store(capacity=2, idle_seconds=60)
    >>> a, b = store.add("first"), store.add("second")
    >>> _ = store.get(a)          # a is now the most recently used
    >>> c = store.add("third")    # full: b, the least recently used, goes
    >>> store.get(b) is None, store.get(a), len(store)
    (True, 'first', 2)
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class StoreFull(RuntimeError):
    """Every slot holds a busy item: nothing can be evicted now."""


class Store(Generic[T]):
    """Items by random id, at most ``capacity``, each dropped after ``idle_seconds`` unused.

    Args:
        capacity: the most items held at once.
        idle_seconds: how long an unused item is kept.
        busy: ``item -> bool``; a busy item is neither expired nor evicted.
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, capacity: int, idle_seconds: float,
                 busy: Callable[[T], bool] = lambda item: False,
                 clock: Callable[[], float] = time.monotonic):
        self.capacity, self.idle_seconds, self.busy, self.clock = (
            capacity, idle_seconds, busy, clock)
        self._items: OrderedDict[str, tuple[T, float]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, item: T) -> str:
        """Store ``item`` and return its new id; evicts or raises ``StoreFull`` when full."""
        key = secrets.token_urlsafe(12)
        with self._lock:
            now = self.clock()
            self._expire(now)
            if len(self._items) >= self.capacity:
                idle = next((k for k, (v, _) in self._items.items() if not self.busy(v)), None)
                if idle is None:
                    raise StoreFull(f"all {self.capacity} slots are busy")
                del self._items[idle]
            self._items[key] = (item, now)
        return key

    def get(self, key: str) -> T | None:
        """The item, marked as just used, or None when unknown or expired."""
        with self._lock:
            now = self.clock()
            self._expire(now)
            found = self._items.get(key)
            if found is None:
                return None
            self._items[key] = (found[0], now)
            self._items.move_to_end(key)
            return found[0]

    def remove(self, key: str) -> bool:
        """Drop an item; False when it was not there."""
        with self._lock:
            return self._items.pop(key, None) is not None

    def __len__(self) -> int:
        with self._lock:
            self._expire(self.clock())
            return len(self._items)

    def _expire(self, now: float) -> None:
        # Oldest first (least recently used at the front): stop at the first fresh one.
        for key in list(self._items):
            item, used = self._items[key]
            if now - used < self.idle_seconds:
                break
            if not self.busy(item):
                del self._items[key]
