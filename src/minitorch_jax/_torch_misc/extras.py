"""The remaining everyday names of torch's top level: ``vmap``, device-generic ``Stream``/``Event``,
``get_device_module``, small queries (``is_distributed``, ``is_vulkan_available`` ...), the
``Sym*`` number classes, ``DisableTorchFunction*``, ``FatalError``/``JITException``, ``fork``/
``wait`` futures, the ipu/xla autocast switches, ``sym_constrain_range*``/``sym_fresh_size``,
``from_file``, top-level ``index_put_``/``resize_as_``, the sparse-only ``native_norm`` (dense
here), the SyncBatchNorm helpers ``batch_norm_*``, the removed ``solve``/``lstsq``/``eig``/
``symeig``/``matrix_rank`` (raising torch's message), the storage classes (:mod:`.storage`) and the
dtypes JAX cannot store here (``uint1``..``uint7``, ``int1``..``int7``, ``bits*``, ``complex32``,
``float4_e2m1fn_x2``, and the float8 variants not yet in ``_dtype``).

Differences from torch:

- ``Stream``/``Event`` do no scheduling: JAX orders work itself; ``synchronize`` blocks on all
  live arrays, ``elapsed_time`` measures host time between ``record`` calls;
- ``fork`` runs the function at once (eagerly) and returns a finished :class:`Future`;
- unsupported dtypes exist (printable, comparable, ``itemsize``, ``is_floating_point``...) but
  making a tensor of them raises TypeError naming the dtype;
- ``batch_norm_*`` (CUDA-only in torch) and ``native_norm`` (sparse-only in torch) run on dense
  tensors here, built from differentiable mt ops.
"""

from __future__ import annotations

import time

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from .storage import *  # noqa: F403
from .storage import __all__ as _storage_all

__all__ = [
    "vmap", "Stream", "Event", "get_device_module", "is_distributed", "init_num_threads",
    "is_vulkan_available", "thread_safe_generator", "SymInt", "SymFloat", "SymBool", "DisableTorchFunction",
    "DisableTorchFunctionSubclass", "FatalError", "JITException", "legacy_contiguous_format", "fork", "wait",
    "Future", "is_autocast_ipu_enabled", "set_autocast_ipu_enabled", "get_autocast_ipu_dtype",
    "set_autocast_ipu_dtype", "is_autocast_xla_enabled", "set_autocast_xla_enabled", "get_autocast_xla_dtype",
    "set_autocast_xla_dtype", "sym_constrain_range", "sym_constrain_range_for_size", "sym_fresh_size",
    "from_file", "index_put_", "resize_as_", "native_norm", "batch_norm_stats", "batch_norm_elemt",
    "batch_norm_gather_stats", "batch_norm_gather_stats_with_counts", "batch_norm_update_stats",
    "batch_norm_backward_reduce", "batch_norm_backward_elemt", "solve", "lstsq", "eig", "symeig",
    "matrix_rank", *_storage_all,
]


# ----- vmap, streams, device modules ---------------------------------------------------------------
def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``mt.func.vmap``: vectorise ``func`` over a batch dim of its inputs (torch.vmap)."""
    from ..func import vmap as _vmap
    return _vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


def _dev(device):
    from .._device import device as _device
    return _device("cpu") if device is None else _device(device)


class Stream:
    """A device-generic stream (torch.Stream). JAX orders the work itself, so a stream only records
    its device; ``synchronize``/``wait_stream`` block until queued work is done."""

    def __init__(self, device=None, *, priority=0):
        d = _dev(device)
        self.device_type = d.type
        self.device_index = -1 if d.index is None else d.index
        self.stream_id = 0
        self.priority = priority

    @property
    def device(self):
        """The stream's device."""
        return _dev(self.device_type if self.device_index < 0 else f"{self.device_type}:{self.device_index}")

    def query(self) -> bool:
        """True: all submitted work is complete once synchronised (always reported complete)."""
        return True

    def synchronize(self) -> None:
        """Block until all queued device work has finished."""
        _sync()

    def wait_stream(self, stream) -> None:
        """Make this stream wait for ``stream`` (a synchronisation here)."""
        _sync()

    def wait_event(self, event) -> None:
        """Make this stream wait for ``event`` (a synchronisation here)."""
        _sync()

    def record_event(self, event=None):
        """Record ``event`` (a new :class:`Event` when None) on this stream and return it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __eq__(self, other) -> bool:
        return isinstance(other, Stream) and (self.device_type, self.device_index, self.stream_id) == (
            other.device_type, other.device_index, other.stream_id)

    def __hash__(self) -> int:
        return hash((self.device_type, self.device_index, self.stream_id))

    def __repr__(self) -> str:
        return f"minitorch_jax.Stream device_type={self.device_type}, device_index={self.device_index}, " \
               f"stream_id={self.stream_id}"


def _sync() -> None:
    import jax
    for a in jax.live_arrays():
        a.block_until_ready()


class Event:
    """A device-generic event (torch.Event): ``record`` marks a point (after synchronising),
    ``elapsed_time`` gives milliseconds between two recorded events (host clock)."""

    def __init__(self, device=None, *, enable_timing=False, blocking=False, interprocess=False):
        d = _dev(device)
        self.device_type = d.type
        self.device_index = -1 if d.index is None else d.index
        self.enable_timing = enable_timing
        self._t = None

    def record(self, stream=None) -> None:
        """Record the event (all queued work is waited for first)."""
        _sync()
        self._t = time.perf_counter()

    def query(self) -> bool:
        """True: work before a recorded event is always complete here."""
        return True

    def synchronize(self) -> None:
        """Wait for the event (already complete)."""
        _sync()

    def wait(self, stream=None) -> None:
        """Make ``stream`` wait for this event (a synchronisation here)."""
        _sync()

    def elapsed_time(self, end_event) -> float:
        """Milliseconds from this event to ``end_event`` (both recorded, timing enabled)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        if self._t is None or end_event._t is None:
            raise ValueError("Both events must be recorded before calculating elapsed time.")
        return (end_event._t - self._t) * 1000.0

    def __repr__(self) -> str:
        return f"minitorch_jax.Event device_type={self.device_type}, device_index={self.device_index}"


def get_device_module(device=None):
    """The module for a device type: ``mt.cuda`` for 'cuda', ``mt.cpu`` for 'cpu' (the default
    device's type when None)."""
    import importlib

    from .._device import get_default_device
    if device is None:
        t = get_default_device().type
    elif isinstance(device, str) and ":" not in device and device.isidentifier():
        t = device
    else:
        t = _dev(device).type
    if t not in ("cpu", "cuda"):
        raise RuntimeError(f"Device '{t}' does not have a corresponding module registered as 'torch.{t}'.")
    return importlib.import_module(f"minitorch_jax.{t}")


def is_distributed(input) -> bool:
    """False: tensors are never distributed (torch's answer for ordinary tensors)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_distributed(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return False


def init_num_threads() -> None:
    """Initialise the intra-op thread pool (XLA manages its own: does nothing)."""


def is_vulkan_available() -> bool:
    """False: no Vulkan backend."""
    return False


def thread_safe_generator(gen):
    """Return ``gen`` unchanged (mt's generator is guarded already)."""
    return gen


# ----- Sym* number classes, torch-function switches, errors --------------------------------------
class SymInt(int):
    """An int standing for a symbolic size (torch.SymInt): sizes are always concrete here."""


class SymFloat(float):
    """A float standing for a symbolic float (torch.SymFloat): always concrete here."""


class SymBool(int):
    """A bool standing for a symbolic condition (torch.SymBool): always concrete here."""

    def __new__(cls, v):
        return int.__new__(cls, bool(v))

    def __repr__(self) -> str:
        return repr(bool(self))


class DisableTorchFunction:
    """Context manager disabling ``__torch_function__`` overrides inside (there are none here)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


class DisableTorchFunctionSubclass(DisableTorchFunction):
    """Context manager disabling subclass ``__torch_function__`` overrides (there are none here)."""


class FatalError(Exception):
    """torch.FatalError: an unrecoverable internal error."""


class JITException(Exception):
    """torch.JITException (``torch.jit.Error``): an error raised by compiled code."""


legacy_contiguous_format = __import__("minitorch_jax._torch_misc.memory_formats",
                                      fromlist=["x"]).contiguous_format


class Future:
    """A finished result (torch.jit.Future): ``wait()``/``value()`` return it, ``done()`` is True."""

    def __init__(self, value=None, exc=None):
        self._value, self._exc = value, exc

    def wait(self):
        """The result (re-raises the function's exception)."""
        if self._exc is not None:
            raise self._exc
        return self._value

    value = wait

    def done(self) -> bool:
        """True."""
        return True

    def then(self, callback):
        """A future of ``callback(self)``."""
        return fork(callback, self)


def fork(func, *args, **kwargs) -> Future:
    """Run ``func(*args, **kwargs)`` now and return a :class:`Future` of its result (torch.jit.fork
    runs it asynchronously; JAX already runs device work asynchronously)."""
    try:
        return Future(func(*args, **kwargs))
    except Exception as e:  # re-raised by wait(), as torch does
        return Future(exc=e)


def wait(future):
    """The result of a :class:`Future` (torch.jit.wait)."""
    if not isinstance(future, Future):
        raise TypeError(f"wait(): expected a Future, got {type(future).__name__}")
    return future.wait()


# ----- ipu / xla autocast switches --------------------------------------------------------------------
def _ac(dev):
    from ..amp import autocast_mode
    return autocast_mode


def is_autocast_ipu_enabled() -> bool:
    """``is_autocast_enabled('ipu')`` (deprecated in torch)."""
    return _ac("ipu").is_autocast_enabled("ipu")


def is_autocast_xla_enabled() -> bool:
    """``is_autocast_enabled('xla')`` (deprecated in torch)."""
    return _ac("xla").is_autocast_enabled("xla")


def get_autocast_ipu_dtype():
    """``get_autocast_dtype('ipu')``: float16 by default."""
    return _ac("ipu").get_autocast_dtype("ipu")


def get_autocast_xla_dtype():
    """``get_autocast_dtype('xla')``: bfloat16 by default."""
    return _ac("xla").get_autocast_dtype("xla")


def set_autocast_ipu_enabled(enabled) -> None:
    """``set_autocast_enabled('ipu', enabled)``."""
    from .toplevel import set_autocast_enabled
    set_autocast_enabled("ipu", enabled)


def set_autocast_xla_enabled(enabled) -> None:
    """``set_autocast_enabled('xla', enabled)``."""
    from .toplevel import set_autocast_enabled
    set_autocast_enabled("xla", enabled)


def set_autocast_ipu_dtype(dtype) -> None:
    """``set_autocast_dtype('ipu', dtype)``."""
    from .toplevel import set_autocast_dtype
    set_autocast_dtype("ipu", dtype)


def set_autocast_xla_dtype(dtype) -> None:
    """``set_autocast_dtype('xla', dtype)``."""
    from .toplevel import set_autocast_dtype
    set_autocast_dtype("xla", dtype)


# ----- sym_constrain_range / sym_fresh_size ------------------------------------------------------
def sym_constrain_range(size, min=None, max=None) -> None:  # noqa: A002 - torch's names
    """Check that the (concrete) ``size`` lies in ``[min, max]``; raise RuntimeError otherwise."""
    v = int(size)
    lo = -(2 ** 63) if min is None else int(min)
    hi = 2 ** 63 - 1 if max is None else int(max)
    if not lo <= v <= hi:
        raise RuntimeError(f"Invalid value range for {v} between [{lo}, {hi}].")


def sym_constrain_range_for_size(size, min=None, max=None) -> None:  # noqa: A002
    """:func:`sym_constrain_range` for a value used as a size (``min`` defaults to 0)."""
    sym_constrain_range(size, 0 if min is None else min, max)


def sym_fresh_size(expr):
    """``expr`` itself (sizes are concrete here)."""
    return expr


# ----- from_file ---------------------------------------------------------------------------------
def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None, pin_memory=False,
              requires_grad=False):
    """A 1-D tensor of ``size`` elements of ``dtype`` read from the raw bytes of ``filename``.

    ``shared=True`` (torch maps the file so writes reach it) is not possible with immutable JAX
    arrays and raises; the data are copied.
    """
    import minitorch_jax as mt
    if shared:
        raise RuntimeError("from_file(): shared=True (memory-mapping the file so that writes reach it) is "
                           "not supported: JAX arrays are immutable; read with shared=False and save back "
                           "explicitly")
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    n = int(size)
    with open(filename, "rb") as f:
        raw = f.read(n * dt.itemsize)
    if len(raw) < n * dt.itemsize:
        raise RuntimeError(f"unexpected EOF, expected {n * dt.itemsize - len(raw)} more bytes. The file "
                           f"might be corrupted.")
    arr = np.frombuffer(raw, dtype=dt.np, count=n).copy()
    return mt.tensor(arr, device=device, requires_grad=requires_grad)


# ----- top-level in-place forms ------------------------------------------------------------------
def index_put_(input, indices, values, accumulate=False):
    """``input.index_put_(indices, values, accumulate)``: write ``values`` at ``input[indices]`` in place."""
    return input.index_put_(indices, values, accumulate)


def resize_as_(input, the_template, *, memory_format=None):
    """``input.resize_as_(the_template)``: give ``input`` the template's shape, in place."""
    return input.resize_as_(the_template)


# ----- native_norm (dense) -----------------------------------------------------------------------
def native_norm(input, p=2, dim=None, keepdim=False, dtype=None):
    """``linalg.vector_norm(input, p, dim, keepdim, dtype=dtype)`` (torch's native_norm, which runs on
    sparse tensors only in torch; dense here)."""
    import minitorch_jax as mt
    return mt.linalg.vector_norm(input, p, dim, keepdim, dtype=dtype)


# ----- SyncBatchNorm helpers ----------------------------------------------------------------------
def _red_axes(x):
    return (0,) + tuple(range(2, x.dim()))


def _chan(v, x):
    return v.reshape((1, -1) + (1,) * (x.dim() - 2))


def batch_norm_stats(input, eps):
    """Per-channel ``(mean, invstd)`` of ``input (N, C, *)``, ``invstd = 1 / sqrt(biased var + eps)``."""
    axes = _red_axes(input)
    mean = input.mean(axes)
    var = input.var(axes, correction=0)
    return mean, (var + eps).rsqrt()


def batch_norm_elemt(input, weight, bias, mean, invstd, eps):
    """``(input - mean) * invstd * weight + bias`` per channel (weight/bias may be None)."""
    y = (input - _chan(mean, input)) * _chan(invstd, input)
    if weight is not None:
        y = y * _chan(weight, input)
    if bias is not None:
        y = y + _chan(bias, input)
    return y


def batch_norm_gather_stats_with_counts(input, mean, invstd, running_mean, running_var, momentum, eps,
                                        counts):
    """Combine per-process ``mean``/``invstd`` ``(world, C)`` with element ``counts (world,)`` into
    global ``(mean, invstd)``; the running stats (if given) are updated in place with the unbiased
    variance."""
    import minitorch_jax as mt
    c = counts.to(mean.dtype).reshape(-1, 1)
    total = c.sum(0)
    gmean = (mean * c).sum(0) / total
    var_i = 1.0 / (invstd * invstd) - eps
    gvar = ((var_i + (mean - gmean) ** 2) * c).sum(0) / total
    with mt.no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(gmean.detach() * momentum)
        if running_var is not None:
            unbiased = gvar.detach() * total / (total - 1)
            running_var.mul_(1 - momentum).add_(unbiased * momentum)
    return gmean, (gvar + eps).rsqrt()


def batch_norm_gather_stats(input, mean, invstd, running_mean, running_var, momentum, eps, count):
    """:func:`batch_norm_gather_stats_with_counts` with the same ``count`` for every process."""
    import minitorch_jax as mt
    counts = mt.full((mean.shape[0],), float(count), dtype=mean.dtype)
    return batch_norm_gather_stats_with_counts(input, mean, invstd, running_mean, running_var, momentum, eps,
                                               counts)


def batch_norm_update_stats(input, running_mean, running_var, momentum):
    """Per-channel ``(mean, unbiased var)`` of ``input``; the running stats (if given) are updated in
    place with ``momentum``."""
    import minitorch_jax as mt
    axes = _red_axes(input)
    mean = input.mean(axes)
    var = input.var(axes, correction=1)
    with mt.no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
        if running_var is not None:
            running_var.mul_(1 - momentum).add_(var.detach() * momentum)
    return mean, var


def batch_norm_backward_reduce(grad_out, input, mean, invstd, weight, input_g, weight_g, bias_g):
    """The per-channel reductions of batch norm's backward: ``(sum_dy, sum_dy_xmu, grad_weight,
    grad_bias)`` with ``sum_dy = sum(grad_out)``, ``sum_dy_xmu = sum(grad_out * (input - mean))``;
    ``grad_weight = sum_dy_xmu * invstd`` and ``grad_bias = sum_dy`` (None unless requested)."""
    axes = _red_axes(input)
    sum_dy = grad_out.sum(axes)
    sum_dy_xmu = (grad_out * (input - _chan(mean, input))).sum(axes)
    gw = sum_dy_xmu * invstd if weight_g else None
    gb = sum_dy if bias_g else None
    if not input_g:
        sum_dy = sum_dy_xmu = None
    return sum_dy, sum_dy_xmu, gw, gb


def batch_norm_backward_elemt(grad_out, input, mean, invstd, weight, sum_dy, sum_dy_xmu, count):
    """Batch norm's input gradient from the global reductions: ``(grad_out - sum_dy / N - (input - mean)
    * invstd**2 * sum_dy_xmu / N) * invstd * weight`` with ``N = count.sum()``."""
    n = count.sum().to(input.dtype)
    xmu = input - _chan(mean, input)
    inv = _chan(invstd, input)
    g = grad_out - _chan(sum_dy / n, input) - xmu * inv * inv * _chan(sum_dy_xmu / n, input)
    g = g * inv
    return g * _chan(weight, input) if weight is not None else g


# ----- removed functions ---------------------------------------------------------------------------
_DEP = "This function was deprecated since version 1.9 and is now removed. "
_MSG = {
    "solve": _DEP + "`torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` "
    "has its "
    "arguments reversed and does not return the LU factorization.\n\nTo get the LU factorization see "
    "`torch.lu`, which can be used with `torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, "
    "A).solution should be replaced with:\nX = torch.linalg.solve(A, B)",
    "lstsq": _DEP + "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has "
    "reversed arguments and does not return the QR decomposition in the returned tuple (although it returns "
    "other information about the problem).\n\nTo get the QR decomposition consider using `torch.linalg.qr`."
    "\n\nThe returned solution in `torch.lstsq` stored the residuals of the solution in the last m - n "
    "columns of the returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field "
    "'residuals' of the returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = "
    "torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\nX = torch.linalg.lstsq(A, B).solution",
    "eig": _DEP + "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than "
    "real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\nL_complex = "
    "torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) should be replaced with:\n"
    "L_complex, V_complex = torch.linalg.eig(A)",
    "symeig": _DEP + "The default behavior has changed from using the upper triangular portion of the matrix "
    "by default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) should be "
    "replaced with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = "
    "torch.symeig(A, eigenvectors=True) should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if "
    "upper else 'L')",
    "matrix_rank": _DEP.rstrip() + "\nPlease use the `torch.linalg.matrix_rank` function instead. The "
    "parameter 'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'.",
}


def _removed(name):
    def f(*args, **kwargs):
        raise RuntimeError(_MSG[name])
    f.__name__ = f.__qualname__ = name
    f.__doc__ = "Removed in torch 1.9 (raises RuntimeError with torch's message naming the replacement)."
    return f


solve, lstsq, eig, symeig, matrix_rank = (_removed(n) for n in ("solve", "lstsq", "eig", "symeig",
                                                                "matrix_rank"))
_removed_solve, _removed_lstsq, _removed_eig, _removed_symeig = solve, lstsq, eig, symeig


# ----- dtypes JAX cannot store here ----------------------------------------------------------------
class _UnsupportedDtype(_dtype.dtype):
    """A torch dtype with no JAX element type here: printable, comparable, with torch's
    ``itemsize``/``is_floating_point``/``is_complex``/``is_signed``; making a tensor of it raises."""

    __slots__ = ()

    def __init__(self, name, itemsize, floating=False, complex_=False, signed=True):
        self.name = name
        self.is_floating_point = floating
        self.is_complex = complex_
        self.is_signed = signed
        self.itemsize = itemsize
        self._cat = 3 if complex_ else 2 if floating else 1

    @property
    def np(self):
        raise TypeError(f"minitorch_jax.{self.name} is not supported: JAX has no such element type here; "
                        f"use a supported dtype (e.g. uint8/int8, float16, complex64)")

    def __reduce__(self):
        return (getattr, (__import__("minitorch_jax"), self.name))


class _BitsDtype(_UnsupportedDtype):
    __slots__ = ()

    def __getattribute__(self, name):
        if name in ("itemsize", "is_floating_point", "is_complex", "is_signed"):
            raise RuntimeError("Bits types are undefined")
        return object.__getattribute__(self, name)


_NEW = {}
for _b in range(1, 8):
    _NEW[f"uint{_b}"] = _UnsupportedDtype(f"uint{_b}", 1, signed=False)
    _NEW[f"int{_b}"] = _UnsupportedDtype(f"int{_b}", 1)
for _n in ("bits1x8", "bits2x4", "bits4x2", "bits8", "bits16"):
    _NEW[_n] = _BitsDtype(_n, 1)
_NEW["complex32"] = _UnsupportedDtype("complex32", 4, complex_=True)
_NEW["float4_e2m1fn_x2"] = _UnsupportedDtype("float4_e2m1fn_x2", 1, floating=True)
for _n in ("float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"):  # real types (JAX has them)
    _NEW[_n] = getattr(_dtype, _n)
_NEW["chalf"] = _NEW["complex32"]
globals().update(_NEW)
__all__ += list(_NEW)


def _chalf_method(self, memory_format=None):
    """``self.to(mt.complex32)``: complex32 has no JAX type, so this raises TypeError."""
    raise TypeError("chalf(): minitorch_jax.complex32 is not supported: JAX has no complex32 element type; "
                    "use cfloat() (complex64)")
