"""``CudaMatmul``'s autotuning (:class:`Autotuned`, a base class of it): time cuBLASLt's
candidates on a cold L2, widen them where that can pay (more heuristic results; split-K variants
for few output tiles along a long k), keep the fastest and record it in :mod:`gpmath.wisdom`.
"""

from __future__ import annotations

import ctypes
import logging

from .._bindings import cublaslt as lt
from .._core import runtime, wisdom
from .._core.memory import DeviceBuffer
from .._core.timing import L2Flusher, median_times_ms

__all__ = ["Autotuned"]

logger = logging.getLogger("gpmath")
_MORE_CANDIDATES = 32  # heuristic results autotune() times (plan() asks for max_algorithms)
_SPLITS = (2, 4, 8, 16, 32)  # split-K variants autotune() tries
_MIN_SPLIT_K = 256  # no split-K part shorter than this: its share of the reduction would cost more than it saves


class Autotuned:
    """:meth:`autotune` and the candidate search behind it, for :class:`~gpmath.blas._cuda.CudaMatmul`
    (which holds the state these methods read: the argument list, layout, descriptors, candidates)."""

    def autotune(self, iterations: int = 10, force: bool = False) -> dict[int, float]:
        """Time every heuristic candidate *iterations* times on a cold L2 and keep the fastest
        (the heuristic's first choice stays unless another is more than 3% faster), and record
        the choice in :mod:`gpmath.wisdom`.  Where the plan started from a choice wisdom
        recorded (or was tuned already), that choice stays without timing, unless *force*.

        Returns
        -------
        dict of int to float
            Median milliseconds per candidate index (also in :attr:`autotune_timings`); from
            wisdom, the chosen index and the time recorded with it.
        """
        self._check_alive()
        if self._args is None:
            self.plan()
        if self._wise is not None and not force:
            index, choice = self._wise
            self._select(index, quiet=True)
            self.autotune_timings = {index: float(choice["ms"])}
            logger.info("matmul autotune: %r keeps the algorithm wisdom recorded (force=True times again)", self)
            return self.autotune_timings
        with runtime.on_device(self.device_id):
            if not self._widened:
                self.algorithms = [*self.algorithms, *self._wider_candidates()]
                self._widened = True
            scratch = DeviceBuffer(self._d_span_bytes(), self.stream, self.device_id)
            flusher = L2Flusher(self.device_id, self.stream)
            try:
                if self.staged:
                    self._upload()
                launches = {index: self._candidate_launch(index, scratch.ptr) for index in range(len(self.algorithms))}
                timings = median_times_ms(launches, self.stream, iterations, flusher)
            finally:
                flusher.release()
                scratch.release()
        best = min(timings, key=timings.get)
        if 0 in timings and timings[best] > 0.97 * timings[0]:
            best = 0  # within timing noise of the heuristic's first choice: keep it
        self._select(best)
        self.autotune_timings = timings
        choice = {"algo": bytes(self.algorithms[best].algo).hex(), "ms": timings[best]}
        wisdom.record("matmul", *self._tuning, choice)
        self._wise = (best, choice)
        logger.info("matmul autotune: %s ms per candidate; chose %d", {k: round(v, 4) for k, v in timings.items()}, best)
        return timings

    def _wider_candidates(self) -> list[lt.HeuristicResult]:
        """More candidates for :meth:`autotune` where they can pay: the heuristics' next results
        (up to :data:`_MORE_CANDIDATES`), and for a product of few output tiles (under two waves
        of the device) along a long k, split-K variants of the first two candidates, each accepted
        by ``cublasLtMatmulAlgoCheck`` within the plan's workspace limit (the workspace grows to
        the largest a candidate needs)."""
        args, layout = self._args, self.layout
        handle, layouts = args[0].value, tuple(args[i].value for i in (4, 6, 9, 11))
        candidates = lt.matmul_algo_get_heuristic(handle, self._desc, *layouts, self._pref, _MORE_CANDIDATES)
        tiles = -(-layout.m // 128) * -(-layout.n // 128) * layout.batch_count
        if tiles < 2 * runtime.sm_count(self.device_id) and layout.k >= 2 * _MIN_SPLIT_K:
            candidates += [v for base in self.algorithms[:2] for v in self._split_k_variants(handle, layouts, base)]
        seen = {bytes(r.algo) for r in self.algorithms}
        found = []
        for result in candidates:  # each algorithm once, within the workspace limit
            if bytes(result.algo) not in seen and result.workspaceSize <= self._max_workspace:
                seen.add(bytes(result.algo))
                found.append(result)
        need = max((r.workspaceSize for r in found), default=0)
        if need > args[14].value:
            workspace = DeviceBuffer(need, self.stream, self.device_id)
            self._hold(workspace.release)
            self.nbytes += need - args[14].value
            args[13].value, args[14].value = workspace.ptr, need
        logger.info("matmul autotune: %r adds %d candidates (%d tiles)", self, len(found), tiles)
        return found

    def _split_k_variants(self, handle: int, layouts: tuple, base: lt.HeuristicResult) -> list[lt.HeuristicResult]:
        """*base*'s algorithm split along k in 2, 4 ... parts (none shorter than
        :data:`_MIN_SPLIT_K`), summed by a reduction scheme it supports, where cuBLASLt accepts it."""
        if not lt.algo_cap(base.algo, lt.AlgoCap.SPLITK_SUPPORT, ctypes.c_int32()):
            return []
        mask = lt.algo_cap(base.algo, lt.AlgoCap.REDUCTION_SCHEME_MASK, ctypes.c_uint32())
        schemes = [s for s in (lt.ReductionScheme.COMPUTE_TYPE, lt.ReductionScheme.OUTPUT_TYPE, lt.ReductionScheme.INPLACE)
                   if mask & s]
        if not schemes:
            return []
        variants = []
        for splits in _SPLITS:
            if self.layout.k // splits < _MIN_SPLIT_K:
                break
            algo = lt.MatmulAlgo.from_buffer_copy(base.algo)
            lt.algo_config_set(algo, lt.AlgoConfig.SPLITK_NUM, ctypes.c_uint32(splits))
            lt.algo_config_set(algo, lt.AlgoConfig.REDUCTION_SCHEME, ctypes.c_uint32(schemes[0]))
            checked = lt.matmul_algo_check(handle, self._desc, *layouts, algo)
            if checked is not None:
                variants.append(checked)
        return variants

    def _candidate_launch(self, index: int, d_ptr: int):
        def launch():
            self._select(index, quiet=True)
            self._launch(d_ptr)

        return launch

    def _d_span_bytes(self) -> int:
        reach = sum((e - 1) * s for e, s in zip(self.problem.out_shape, self._d_strides) if e > 0)
        return (reach + 1) * self.problem.dtype.itemsize
