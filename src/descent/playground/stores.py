"""A small in-memory store with a cap and an idle expiry, for model sessions and uploads.

Each item gets a random id. An item unused for ``idle_seconds`` is dropped; when the
store is full, adding evicts the least recently used item that is neither busy nor used
in the last ``keep_seconds`` (someone is still at it), and refuses (``StoreFull``) when
there is none: one user filling the store never pushes out another's. An item that
leaves (removed, expired or evicted) is handed to ``on_drop``. All methods are
thread-safe.

Example:
    >>> store = Store(capacity=2, idle_seconds=60, keep_seconds=0)
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
    """Every slot holds a busy or recently used item: nothing can be evicted now."""


class Store(Generic[T]):
    """Items by random id, at most ``capacity``, each dropped after ``idle_seconds`` unused.

    Args:
        capacity: the most items held at once.
        idle_seconds: how long an unused item is kept.
        busy: ``item -> bool``; a busy item is neither expired nor evicted.
        clock: seconds, monotonic (tests pass their own).
        keep_seconds: an item used this recently is not evicted.
        on_drop: called with each item that leaves the store (outside its lock).
    """

    def __init__(self, capacity: int, idle_seconds: float,
                 busy: Callable[[T], bool] = lambda item: False,
                 clock: Callable[[], float] = time.monotonic, keep_seconds: float = 60.0,
                 on_drop: Callable[[T], object] = lambda item: None):
        self.capacity, self.idle_seconds, self.busy, self.clock = (
            capacity, idle_seconds, busy, clock)
        self.keep_seconds, self.on_drop = keep_seconds, on_drop
        self._items: OrderedDict[str, tuple[T, float]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, item: T) -> str:
        """Store ``item`` and return its new id; evicts or raises ``StoreFull`` when full."""
        key = secrets.token_urlsafe(12)
        with self._lock:
            now = self.clock()
            dropped = self._expire(now)
            if len(self._items) >= self.capacity:
                idle = next((k for k, (v, used) in self._items.items()
                             if now - used >= self.keep_seconds and not self.busy(v)), None)
                if idle is None:
                    self._dropped(dropped)
                    raise StoreFull(f"all {self.capacity} slots are busy or in recent use")
                dropped.append(self._items.pop(idle)[0])
            self._items[key] = (item, now)
        self._dropped(dropped)
        return key

    def get(self, key: str) -> T | None:
        """The item, marked as just used, or None when unknown or expired."""
        with self._lock:
            now = self.clock()
            dropped = self._expire(now)
            found = self._items.get(key)
            if found is not None:
                self._items[key] = (found[0], now)
                self._items.move_to_end(key)
        self._dropped(dropped)
        return None if found is None else found[0]

    def remove(self, key: str) -> bool:
        """Drop an item; False when it was not there."""
        with self._lock:
            found = self._items.pop(key, None)
        if found is not None:
            self._dropped([found[0]])
        return found is not None

    def __len__(self) -> int:
        with self._lock:
            dropped = self._expire(self.clock())
            size = len(self._items)
        self._dropped(dropped)
        return size

    def _expire(self, now: float) -> list[T]:
        # Oldest first (least recently used at the front): stop at the first fresh one.
        dropped = []
        for key in list(self._items):
            item, used = self._items[key]
            if now - used < self.idle_seconds:
                break
            if not self.busy(item):
                dropped.append(self._items.pop(key)[0])
        return dropped

    def _dropped(self, items: list[T]) -> None:
        for item in items:
            self.on_drop(item)
