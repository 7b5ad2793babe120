"""Bounded LRU caches of plans for the stateless functions.

One cache per capability ("matmul", "fft", "linalg"), bounded by the number of plans and by
the bytes of device memory they hold.  Keys are built by :mod:`.stateless` and always include the
device and the stream; the cache adds the calling thread, so a cached plan (and its work area)
is never used by two threads or two streams at once.  Evicted plans are freed; a thread evicts
only its own plans and those of threads that have ended, never a plan another live thread may be
running (so a cache shared by live threads may hold more than its bounds until they insert).
:meth:`PlanCache.clear` empties the cache at once, but frees another live thread's plans only at
that thread's next lookup (it may be running one of them as the clear happens).

Beside the plans, each thread keeps *lanes*: a stateless call on device arrays with default
options finds its plan again by a short key (the call's options, the arrays' signatures and
alignments, the current stream; :func:`~gpmath._core.stateless.lane_key`) before any argument
processing, and runs it with one ``execute_with``.  A lane names a cached plan; once that plan
leaves the cache (evicted, cleared: freed) the lane is dead and the call takes the full path.

The bounds come from :func:`set_cache_limits`, or, when a cache is created (at import), from the
environment: ``GPMATH_<NAME>_CACHE_SIZE`` / ``GPMATH_<NAME>_CACHE_BYTES`` for one cache (``NAME``
in capitals: ``MATMUL``, ``FFT``, ``LINALG``), else ``GPMATH_CACHE_SIZE`` / ``GPMATH_CACHE_BYTES``
for all, else 128 plans and 2 GiB.
"""

from __future__ import annotations

import os
import threading
from threading import get_ident
from collections import OrderedDict
from typing import Any, Callable, NamedTuple

from . import settings

__all__ = ["PlanCache", "named_cache", "CacheInfo", "CacheLimits", "cache_info", "cache_clear", "set_cache_limits",
           "get_cache_limits"]

DEFAULT_SIZE = 128
DEFAULT_BYTES = 2 << 30


class CacheInfo(NamedTuple):
    """Statistics of one plan cache.

    Attributes
    ----------
    hits : int
        Stateless calls (``gpmath.matmul``, ``gpmath.fft.*``, ``gpmath.linalg.*``) that found a
        plan cached for their key and reused it.
    misses : int
        Stateless calls that looked their key up and found no plan, so built one (and cached it).
        Calls that cannot be cached (operands of several packages, an unhashable stream or option)
        are neither hits nor misses.  A planner used directly (``Matmul(...)``, ``FFT(...)``,
        ``Solve(...)``) never touches a cache: a loop over ``plan.execute()`` after one stateless
        call leaves ``hits=0, misses=1``.
    size : int
        Plans cached now (every thread's).
    maxsize : int
        Most plans kept.
    nbytes : int
        Device memory held by the cached plans (work areas, staging buffers).
    max_bytes : int
        Most device memory kept in cached plans.
    """

    hits: int
    misses: int
    size: int
    maxsize: int
    nbytes: int
    max_bytes: int


class CacheLimits(NamedTuple):
    """The bounds of one plan cache: most plans (``maxsize``) and most bytes (``max_bytes``)."""

    maxsize: int
    max_bytes: int


def _from_environment(name: str, what: str, default: int) -> int:
    """``GPMATH_<NAME>_CACHE_<WHAT>`` (*name* in capitals, ``-`` as ``_``), else ``GPMATH_CACHE_<WHAT>``,
    else *default*."""
    for variable in (f"GPMATH_{name.upper().replace('-', '_')}_CACHE_{what}", f"GPMATH_CACHE_{what}"):
        if os.environ.get(variable):
            return settings.integer(variable, default)
    return default


def _limit(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return value


class PlanCache:
    """An LRU cache of plans.

    Parameters
    ----------
    name : str
        The capability, e.g. ``"matmul"``; the key in :func:`cache_info`.
    maxsize : int, optional
        Most plans kept (0: none, every call plans anew); default from the environment (see the
        module docstring), else 128.
    max_bytes : int, optional
        Most bytes of device memory (``plan.nbytes``) kept in cached plans; default from the
        environment, else 2 GiB.
    """

    def __init__(self, name: str, maxsize: int | None = None, max_bytes: int | None = None):
        self.name = name
        self.maxsize = _from_environment(name, "SIZE", DEFAULT_SIZE) if maxsize is None else _limit(maxsize, "maxsize")
        self.max_bytes = (_from_environment(name, "BYTES", DEFAULT_BYTES) if max_bytes is None
                          else _limit(max_bytes, "max_bytes"))
        self._plans: OrderedDict[tuple, Any] = OrderedDict()
        self._nbytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()
        self._local = threading.local()  # .lanes: this thread's lane key -> (plan, its key in _plans)
        self._retired: dict[int, list] = {}  # thread -> its plans clear() took out, freed at its next lookup
        _CACHES[name] = self

    def get(self, key: tuple):
        """The plan cached for *key* by this thread, or None (counted as a hit or a miss).

        Never a freed plan: one freed by its holder is forgotten here and counts as a miss.
        """
        if self._retired and get_ident() in self._retired:
            self._free_retired()
        key = (get_ident(), key)
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None and not plan.freed:
                self._plans.move_to_end(key)
                self._hits += 1
                return plan
            if plan is not None:
                del self._plans[key]
                self._nbytes -= plan.nbytes
            self._misses += 1
            return None

    def lane(self, lane: tuple):
        """The plan this thread's lane *lane* names while that plan is cached (counted as a hit,
        and used: it moves to the end of the LRU order); else None.

        A lane key that cannot be hashed finds nothing.
        """
        if self._retired and get_ident() in self._retired:
            self._free_retired()
        lanes = getattr(self._local, "lanes", None)
        try:
            entry = None if lanes is None else lanes.get(lane)
        except TypeError:
            return None
        if entry is None:
            return None
        plan, key = entry
        with self._lock:
            if not plan.freed:  # a cached plan is freed when it leaves the cache
                try:
                    self._plans.move_to_end(key)
                except KeyError:  # (not cached after all)
                    pass
                else:
                    self._hits += 1
                    return plan
        del lanes[lane]
        return None

    def keep_lane(self, lane: tuple, key: tuple, plan) -> None:
        """Let this thread's calls with lane key *lane* find *plan*, cached under *key* (by
        :meth:`get` or :meth:`put` just now).  Dead lanes go when a thread holds more lanes than
        twice the cache's ``maxsize``."""
        lanes = getattr(self._local, "lanes", None)
        if lanes is None:
            lanes = self._local.lanes = {}
        elif len(lanes) >= 2 * self.maxsize:
            for dead in [name for name, (old, _) in lanes.items() if old.freed]:
                del lanes[dead]
            if len(lanes) >= 2 * self.maxsize:
                lanes.clear()
        try:
            lanes[lane] = (plan, (get_ident(), key))
        except TypeError:  # an unhashable option in the lane key: no lane
            pass

    def put(self, key: tuple, plan) -> bool:
        """Cache *plan* under *key* for this thread, evicting (and freeing) the least recently used;
        False (nothing cached) when ``maxsize`` is 0."""
        if not self.maxsize:
            return False
        self._insert((get_ident(), key), plan)
        return True

    def get_or_create(self, key: tuple, create: Callable[[], Any]):
        """The cached plan for *key* in this thread, made by ``create()`` on a miss."""
        plan = self.get(key)
        if plan is None:
            plan = create()
            self.put(key, plan)
        return plan

    def set_limits(self, maxsize: int | None = None, max_bytes: int | None = None) -> None:
        """Change the bounds (None: unchanged); shrinking evicts and frees at once (this thread's
        plans and those of ended threads)."""
        with self._lock:
            if maxsize is not None:
                self.maxsize = _limit(maxsize, "maxsize")
            if max_bytes is not None:
                self.max_bytes = _limit(max_bytes, "max_bytes")
            evicted = self._evict()
        for old in evicted:
            old.free()

    def _insert(self, key: tuple, plan) -> None:
        evicted = []
        with self._lock:
            old = self._plans.pop(key, None)  # another call of this thread planned the same key meanwhile
            if old is not None:
                self._nbytes -= old.nbytes
                evicted.append(old)
            self._plans[key] = plan
            self._nbytes += plan.nbytes
            if len(self._plans) > self.maxsize or self._nbytes > self.max_bytes:
                evicted += self._evict(key)
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
        """Forget every cached plan: free this thread's and those of ended threads now, and another
        live thread's at that thread's next lookup (it may be running one of them now)."""
        mine = get_ident()
        live = {thread.ident for thread in threading.enumerate()}
        with self._lock:
            plans = [plan for thread in [t for t in self._retired if t not in live] for plan in self._retired.pop(thread)]
            for (thread, _), plan in self._plans.items():
                if thread == mine or thread not in live:
                    plans.append(plan)
                else:
                    self._retired.setdefault(thread, []).append(plan)
            self._plans.clear()
            self._nbytes = 0
        for plan in plans:
            plan.free()

    def _free_retired(self) -> None:
        """Free this thread's plans that :meth:`clear` took out of the cache."""
        with self._lock:
            plans = self._retired.pop(get_ident(), [])
        for plan in plans:
            plan.free()

    def info(self) -> CacheInfo:
        """This cache's :class:`CacheInfo`."""
        return CacheInfo(self._hits, self._misses, len(self._plans), self.maxsize, self._nbytes, self.max_bytes)


_CACHES: dict[str, PlanCache] = {}


def named_cache(name: str) -> PlanCache:
    """The cache called *name*, made (bounded from the environment) on first use."""
    return _CACHES.get(name) or PlanCache(name)


for _name in ("matmul", "fft", "linalg"):  # listed by cache_info() before their modules are imported
    named_cache(_name)


def _forget() -> None:
    """In a forked child (called by :mod:`.runtime`, after it detached the plans' finalizers):
    drop every cached plan without freeing it (its CUDA resources belong to the parent), and
    renew the locks (another thread of the parent may have held one at the fork)."""
    for cache in _CACHES.values():
        cache._lock = threading.Lock()
        cache._local = threading.local()  # the lanes name the parent's plans
        cache._retired = {}
        cache._plans.clear()
        cache._nbytes = 0


def cache_info() -> dict[str, CacheInfo]:
    """Statistics of every plan cache, by capability.

    Only the stateless functions use the caches: ``hits`` counts their calls that reused a cached
    plan, ``misses`` those that built one.  A planner used directly (``Matmul``, ``FFT``, the
    solvers) never touches them, so a loop over ``plan.execute()`` leaves the counts unchanged.

    Returns
    -------
    dict of str to CacheInfo
        ``hits``, ``misses``, ``size``, ``maxsize``, ``nbytes`` and ``max_bytes`` per cache (see
        :class:`CacheInfo`).

    Examples
    --------
    >>> import numpy as np, gpmath
    >>> a = np.ones((80, 80))  # a product too large for NumPy's shortcut (m·n·k > 64³): it plans
    >>> _ = gpmath.matmul(a, a)
    >>> gpmath.cache_info()["matmul"].size >= 1
    True
    """
    return {name: cache.info() for name, cache in _CACHES.items()}


def cache_clear() -> None:
    """Forget every cached plan of every capability, freeing them (another live thread's plans at
    its next stateless call: it may be running one of them now).

    Examples
    --------
    >>> import gpmath
    >>> gpmath.cache_clear()
    >>> gpmath.cache_info()["matmul"].size
    0
    """
    for cache in _CACHES.values():
        cache.clear()


def _named(name: str | None) -> list[PlanCache]:
    if name is None:
        return list(_CACHES.values())
    if name not in _CACHES:
        raise ValueError(f"no plan cache named {name!r}; the caches are {', '.join(map(repr, _CACHES))}")
    return [_CACHES[name]]


def set_cache_limits(name: str | None = None, *, maxsize: int | None = None, max_bytes: int | None = None) -> None:
    """Bound the plan cache *name* (None: every cache) by plan count and by device-memory bytes.

    Shrinking a cache evicts and frees its least recently used plans at once (those of the calling
    thread and of ended threads; other live threads' plans go when those threads next insert).
    The defaults come from the environment when gpmath is imported: ``GPMATH_<NAME>_CACHE_SIZE``
    and ``GPMATH_<NAME>_CACHE_BYTES`` (e.g. ``GPMATH_FFT_CACHE_SIZE``), else ``GPMATH_CACHE_SIZE``
    and ``GPMATH_CACHE_BYTES``, else 128 plans and 2 GiB.  As CuPy's ``set_size`` and
    ``set_memsize``.

    Parameters
    ----------
    name : {None, "matmul", "fft", "linalg"}
        The cache; None sets every cache.
    maxsize : int, optional
        Most plans kept; 0 caches nothing (every stateless call plans, runs and frees its plan).
        None leaves it unchanged.
    max_bytes : int, optional
        Most bytes of device memory held by cached plans; None leaves it unchanged.

    Examples
    --------
    >>> import gpmath
    >>> before = gpmath.get_cache_limits("fft")
    >>> gpmath.set_cache_limits("fft", maxsize=16)
    >>> gpmath.get_cache_limits("fft").maxsize
    16
    >>> gpmath.set_cache_limits("fft", maxsize=before.maxsize)
    """
    for cache in _named(name):
        cache.set_limits(maxsize, max_bytes)


def get_cache_limits(name: str | None = None) -> CacheLimits | dict[str, CacheLimits]:
    """The bounds of plan cache *name*, or of every cache by name when *name* is None.

    Parameters
    ----------
    name : {None, "matmul", "fft", "linalg"}

    Returns
    -------
    CacheLimits or dict of str to CacheLimits
        ``(maxsize, max_bytes)``.

    Examples
    --------
    >>> import gpmath
    >>> limits = gpmath.get_cache_limits("matmul")
    >>> limits.maxsize >= 0 and limits.max_bytes >= 0
    True
    """
    limits = {cache.name: CacheLimits(cache.maxsize, cache.max_bytes) for cache in _named(name)}
    return limits if name is None else limits[name]
