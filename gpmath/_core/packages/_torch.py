"""The PyTorch adapter: CPU and CUDA tensors, with their lazy conjugate and negative bits."""

from __future__ import annotations

import contextlib
import functools
import warnings
from typing import Any

import numpy as np

from ..callers import caller_stacklevel
from ..dtypes import DType
from ..host_scan import all_finite
from ._base import ALIGNMENT, Package, allocation_failed
from ._numpy import NUMPY

__all__ = ["TorchPackage"]


class TorchPackage(Package):
    name = "torch"

    def __init__(self):
        self._devices: dict[int | None, Any] = {}
        self._dtypes: dict[str, Any] = {}
        self._names: dict[Any, str] = {}
        self._streams: dict[tuple[int, int], object] = {}
        self._raw_stream = None

    def device(self, device_id: int | None):
        """torch's device object for *device_id* (None: the CPU), made once."""
        dev = self._devices.get(device_id)
        if dev is None:
            torch = self.module
            dev = torch.device("cpu") if device_id is None else torch.device("cuda", device_id)
            self._devices[device_id] = dev
        return dev

    def torch_dtype(self, dtype: DType):
        found = self._dtypes.get(dtype.name)
        if found is None:
            found = self._dtypes[dtype.name] = getattr(self.module, dtype.name)
        return found

    # -- reading tensors ---------------------------------------------------------------------------
    def signature(self, x):
        return (x.shape, x.stride(), x.dtype, x.get_device(), x.is_conj(), x.is_neg())  # lazy conj/neg views differ

    def ptr(self, x):
        return x.data_ptr()

    def keyed(self, x):  # signature() and ptr() in one call (and requires_grad: the full path warns of it)
        return (x.shape, x.stride(), x.dtype, x.get_device(), x.is_conj(), x.is_neg(), x.requires_grad,
                x.data_ptr() & ALIGNMENT)

    def device_id(self, x):
        device = x.get_device()
        return device if device >= 0 else None

    def warn_if_differentiable(self, x, argument: str) -> None:
        if x.requires_grad and self.module.is_grad_enabled():
            warnings.warn(
                f"{argument} requires grad, but gpmath records no autograd graph: the result carries no "
                "gradient. Detach it, compute under torch.no_grad(), or wrap the call in a "
                "torch.autograd.Function (see examples/torch_epilog_training.py)", UserWarning,
                stacklevel=caller_stacklevel())

    def expand_dims(self, x, axis: int):
        return x.unsqueeze(axis)

    def norm(self, x, ord, axis, keepdims: bool):
        return self.module.linalg.norm(x, ord=ord, dim=axis, keepdim=keepdims)

    def exportable(self, x):
        return self.resolved(x.detach())

    def device_query(self):
        return getattr(self.module._C, "_cuda_getDevice", None)

    def strides(self, x, itemsize):
        return x.stride()

    def dtype_name(self, x):
        name = self._names.get(x.dtype)
        if name is None:
            name = self._names[x.dtype] = str(x.dtype).rpartition(".")[2]
        return name

    def holds_plainly(self, x, dtype):
        return x.is_contiguous() and x.dtype == self.torch_dtype(dtype) and not (x.is_conj() or x.is_neg())

    def overwritable(self, x):
        plain = not (x.requires_grad or x.is_conj() or x.is_neg())
        return plain and (x.is_contiguous() or (x.ndim >= 2 and x.mT.is_contiguous()))

    def resolved(self, x):
        if x.is_conj():
            x = x.resolve_conj()
        return x.resolve_neg() if x.is_neg() else x

    # -- host tensors ------------------------------------------------------------------------------
    def host_values(self, x):
        view = self.plain_host_view(x)  # the tensor's own memory, at once (the common case)
        if view is not None:
            return view
        x = self.resolved(x.detach())
        if x.dtype == self.module.bfloat16:
            x = x.float()
        return x.numpy()

    def plain_host_view(self, x):
        if x.is_cpu and not (x.requires_grad or x.is_conj() or x.is_neg()) and x.dtype in self._lapack_dtypes:
            return x.numpy()
        return None

    @functools.cached_property
    def _lapack_dtypes(self) -> frozenset:
        """torch's float32, float64, complex64 and complex128 (looked up on first use)."""
        torch = self.module
        return frozenset((torch.float32, torch.float64, torch.complex64, torch.complex128))

    def to_numpy(self, x):
        return self.host_values(x if x.is_cpu else x.cpu())

    def from_numpy(self, array, dtype, device_id):
        tensor = self.asarray(np.asarray(array, dtype=np.float32 if dtype.numpy is None else dtype.numpy), None)
        if device_id is None and dtype.numpy is not None:  # a CPU tensor over the values where it can be
            return tensor
        return tensor.to(device=self.device(device_id), dtype=self.torch_dtype(dtype))

    def finite_probe(self, arrays):
        """For CPU tensors NumPy's test on their values (``host_values``: views), never torch's
        own operations: torch's thread pool, woken between the LAPACK calls that SciPy's BLAS
        threads run, contends with them for the cores (a 256² ``solve`` took 7.3 ms beside 0.67
        on NumPy arrays on a 2-core machine); for CUDA tensors the sums, enqueued."""
        if all(x.is_cpu for x in arrays):
            return NUMPY.finite_probe([self.host_values(x) for x in arrays])
        return super().finite_probe(arrays)

    def finite_flag(self, x):
        return all_finite(self.host_values(x)) if x.is_cpu else super().finite_flag(x)

    def over_device_memory(self, interface, device_id):
        return self.module.as_tensor(interface, device=self.device(device_id))

    def asarray(self, array, device_id):
        array = np.asarray(array)
        if not array.flags.writeable:  # (a tensor is always writable: over a copy, not over read-only memory)
            array = array.copy()
        flags = array.flags
        try:
            if device_id is None and (flags.c_contiguous or flags.f_contiguous):
                return self.module.from_numpy(array)  # a CPU tensor over it, at once (in its layout)
            return self.module.as_tensor(np.ascontiguousarray(array), device=self.device(device_id))
        except ValueError:  # an element reached by a negative stride (a contiguous array of one)
            return self.module.as_tensor(array.copy(), device=self.device(device_id))

    # -- streams -----------------------------------------------------------------------------------
    def current_stream(self, device_id):
        raw = self._raw_stream
        if raw is None:
            torch = self.module
            raw = getattr(torch._C, "_cuda_getCurrentRawStream", None) or (
                lambda d: torch.cuda.current_stream(d).cuda_stream
            )
            self._raw_stream = raw
        return raw(device_id)

    def on_stream(self, stream, device_id):
        if stream is None or device_id is None or stream == self.current_stream(device_id):
            return contextlib.nullcontext()
        key = (stream, device_id)
        external = self._streams.get(key)
        if external is None:
            cuda = self.module.cuda
            external = self._streams[key] = cuda.ExternalStream(stream, device=self.device(device_id))
        return self.module.cuda.stream(external)

    def recorder(self, stream, device_id):
        return _TorchCapture(self, stream, device_id)

    # -- creating tensors --------------------------------------------------------------------------
    def empty(self, shape, dtype, device_id, stream):
        try:
            out = self.module.empty(shape, dtype=self.torch_dtype(dtype), device=self.device(device_id))
        except self.module.OutOfMemoryError as exc:
            raise allocation_failed(self.name, shape, dtype, device_id, exc) from exc
        self._guard(out, device_id, stream)
        return out

    def allocator(self, shape, dtype, device_id):
        torch = self.module
        # torch.empty_like of a stride-0 view allocates a contiguous tensor of its shape, dtype and
        # device without parsing them again: 4.2 µs a call against new_empty's 5.6 on an H200's host
        template = torch.empty((1,) * len(shape), dtype=self.torch_dtype(dtype), device=self.device(device_id))
        template = template.expand(shape)
        empty_like, guard, failure = torch.empty_like, self._guard, torch.OutOfMemoryError

        def new(stream):
            try:
                out = empty_like(template)
            except failure as exc:
                raise allocation_failed(self.name, shape, dtype, device_id, exc) from exc
            guard(out, device_id, stream)
            return out

        return new

    def _guard(self, out, device_id, stream):
        if device_id is not None and stream != self.current_stream(device_id):
            # torch's caching allocator must not hand this memory out again before our stream
            # has finished with it.
            out.record_stream(self.module.cuda.ExternalStream(stream, device=self.device(device_id)))

    def arange_like(self, start, stop, like):
        return self.module.arange(start, stop, dtype=like.dtype, device=like.device)

    # -- copies and views --------------------------------------------------------------------------
    def contiguous(self, x):
        return self.resolved(x).contiguous()

    def copy(self, x):
        if not (x.is_conj() or x.is_neg()):
            return x.clone(memory_format=self.module.contiguous_format)
        out = self.module.empty(tuple(x.shape), dtype=x.dtype, device=x.device)
        out.copy_(x)  # copy_ resolves a lazy conjugate or negation (clone would keep the bit)
        return out

    def copy_into(self, dst, src):
        dst.copy_(src)

    def astype(self, x, name):
        return x.to(getattr(self.module, name), copy=True)

    def as_int(self, x, bits):
        module = self.module
        return x.to(module.int64 if bits == 64 else module.int32)

    def permuted(self, x, axes):
        return x.permute(*axes)

    def swap(self, x, conjugate=False):
        y = x.transpose(-1, -2)
        return y.conj() if conjugate else y

    def flip(self, x, axis):
        return self.module.flip(x, (axis,))

    def concatenate(self, arrays, axis):
        return self.module.cat(arrays, axis)

    def zeros(self, shape, like):
        return like.new_zeros(shape)

    def broadcast(self, x, shape):
        return x.expand(tuple(shape))

    def diagonal(self, x):
        return self.module.diagonal(x, dim1=-2, dim2=-1)

    def upper_copy(self, x):
        out = self.module.empty(tuple(x.shape), dtype=x.dtype, device=x.device)
        return self.module.triu(x, out=out)  # writes through a lazy conjugate or negation

    # -- arithmetic --------------------------------------------------------------------------------
    def is_complex(self, x):
        return x.is_complex()

    def complex(self, real, imag):
        return self.module.complex(real, imag)

    def conj(self, x):
        return self.module.conj_physical(x)

    def imag_is_zero(self, x):
        return not bool(self.module.any(x.imag != 0))

    def real_copy(self, x):
        return x.real.clone()

    def conj_inplace(self, x):
        x.conj_physical_()

    def scale_inplace(self, x, factor):
        x.mul_(factor)

    def zero(self, x):
        x.zero_()

    def amax(self, x, axis):
        return self.module.amax(x, axis, keepdim=True)


class _TorchCapture:
    """A recorder (:class:`~gpmath._core.capture.StreamCapture`'s interface) through
    ``torch.cuda.CUDAGraph``: torch's allocator serves the recording from the graph's private
    pool, which keeps what the recorded executions freed for the replays."""

    def __init__(self, package: TorchPackage, stream: int, device_id: int):
        self._package, self.stream, self._device_id = package, stream, device_id
        self._graph = package.module.cuda.CUDAGraph()
        self._current = None
        self._recorded = False

    def begin(self) -> None:
        self._current = self._package.on_stream(self.stream, self._device_id)  # torch captures its current stream
        self._current.__enter__()
        try:
            self._graph.capture_begin(capture_error_mode="relaxed")
        except BaseException:
            self._current.__exit__(None, None, None)
            raise

    def end(self) -> None:
        try:
            self._graph.capture_end()
        finally:
            self._current.__exit__(None, None, None)
        self._recorded = True

    def abandon(self) -> None:
        try:
            self._graph.capture_end()
        except Exception:  # an invalidated capture: expected
            pass
        finally:
            self._current.__exit__(None, None, None)

    def launch(self, stream: int) -> None:
        if not self._recorded:
            raise RuntimeError("nothing was recorded")
        with self._package.on_stream(stream, self._device_id):
            self._graph.replay()

    def release(self) -> None:
        graph, self._graph, self._recorded = self._graph, None, False
        if graph is not None:
            try:
                graph.reset()
            except Exception:  # interpreter shutdown
                pass
