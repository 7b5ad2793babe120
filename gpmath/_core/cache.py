"""Bounded LRU caches of plans for the stateless functions.

One cache per capability ("matmul", "fft", "linalg"), bounded by the number of plans and by
the bytes of device memory they hold.  Keys are built by the capability and always include the
device and the stream; the cache adds the calling thread, so a cached plan (and its work area)
is never used by two threads or two streams at once.  Evicted plans are freed; a thread evicts
only its own plans and those of threads that have ended, never a plan another live thread may be
running (so a cache shared by live threads may hold more than its bounds until they insert).
"""

from __future__ import annotations

import threading
from threading import get_ident
from collections import OrderedDict
from typing import Any, Callable, NamedTuple

__all__ = ["PlanCache", "CacheInfo", "cache_info", "cache_clear"]


class CacheInfo(NamedTuple):
    """Statistics of one plan cache."""

    hits: int
    misses: int
    size: int
    maxsize: int
    nbytes: int
    max_bytes: int


class PlanCache:
    """An LRU cache of plans.

    Parameters
    ----------
    name : str
        The capability, e.g. ``"matmul"``; the key in :func:`cache_info`.
    maxsize : int
        Most plans kept.
    max_bytes : int
        Most bytes of device memory (``plan.nbytes``) kept in cached plans.
    """

    def __init__(self, name: str, maxsize: int = 128, max_bytes: int = 2 << 30):
        self.name = name
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self._plans: OrderedDict[tuple, Any] = OrderedDict()
        self._nbytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()
        _CACHES[name] = self

    def get(self, key: tuple):
        """The plan cached for *key* by this thread, or None (counted as a hit or a miss)."""
        key = (get_ident(), key)
        with self._lock:
            plan = self._plans.get(key)
            if plan is None:
                self._misses += 1
                return None
            self._plans.move_to_end(key)
            self._hits += 1
            return plan

    def put(self, key: tuple, plan) -> None:
        """Cache *plan* under *key* for this thread, evicting (and freeing) the least recently used."""
        self._insert((get_ident(), key), plan)

    def get_or_create(self, key: tuple, create: Callable[[], Any]):
        """The cached plan for *key* in this thread, made by ``create()`` on a miss."""
        plan = self.get(key)
        if plan is None:
            plan = create()
            self.put(key, plan)
        return plan

    def _insert(self, key: tuple, plan) -> None:
        evicted = []
        with self._lock:
            self._plans[key] = plan
            self._nbytes += plan.nbytes
            if len(self._plans) > self.maxsize or self._nbytes > self.max_bytes:
                evicted = self._evict(key)
        for old in evicted:
            old.free()

    def _evict(self, kept: tuple | None = None, bounded: bool = True) -> list:
        """Drop least recently used plans (under the lock), skipping *kept* and plans of other
        live threads, until the bounds hold (or, unless *bounded*, all such plans); returns the
        dropped plans, to be freed."""
        mine = get_ident()
        live = {thread.ident for thread in threading.enumerate()}
        evicted = []
        for key in list(self._plans):
            if bounded and len(self._plans) <= self.maxsize and self._nbytes <= self.max_bytes:
                break
            if key != kept and (key[0] == mine or key[0] not in live):
                old = self._plans.pop(key)
                self._nbytes -= old.nbytes
                evicted.append(old)
        return evicted

    def release(self) -> None:
        """Free the calling thread's cached plans and those of ended threads (to retry after an
        out-of-memory failure without touching plans other threads may be running)."""
        with self._lock:
            evicted = self._evict(bounded=False)
        for old in evicted:
            old.free()

    def clear(self) -> None:
        """Free and forget every cached plan."""
        with self._lock:
            plans = list(self._plans.values())
            self._plans.clear()
            self._nbytes = 0
        for plan in plans:
            plan.free()

    def info(self) -> CacheInfo:
        return CacheInfo(self._hits, self._misses, len(self._plans), self.maxsize, self._nbytes, self.max_bytes)


_CACHES: dict[str, PlanCache] = {}


def _forget() -> None:
    """In a forked child (called by :mod:`.runtime`, after it detached the plans' finalizers):
    drop every cached plan without freeing it (its CUDA resources belong to the parent), and
    renew the locks (another thread of the parent may have held one at the fork)."""
    for cache in _CACHES.values():
        cache._lock = threading.Lock()
        cache._plans.clear()
        cache._nbytes = 0


def cache_info() -> dict[str, CacheInfo]:
    """Statistics of every plan cache, by capability.

    Returns
    -------
    dict of str to CacheInfo
        ``hits``, ``misses``, ``size``, ``maxsize``, ``nbytes`` and ``max_bytes`` per cache.

    Examples
    --------
    >>> import numpy as np, gpmath
    >>> _ = gpmath.matmul(np.ones((2, 3)), np.ones((3, 4)))
    >>> gpmath.cache_info()["matmul"].size >= 1
    True
    """
    return {name: cache.info() for name, cache in _CACHES.items()}


def cache_clear() -> None:
    """Free every cached plan of every capability.

    Examples
    --------
    >>> import gpmath
    >>> gpmath.cache_clear()
    >>> gpmath.cache_info()["matmul"].size
    0
    """
    for cache in _CACHES.values():
        cache.clear()
