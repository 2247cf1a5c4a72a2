"""Tensor attributes about storage and placement: ``is_cpu``, ``get_device()``, ``nbytes``,
``itemsize``, ``layout``, the ``is_<backend>`` flags, ``stride()``, ``storage_offset()``,
``data_ptr()``, ``dim_order()``, ``output_nr``, ``to_dense()``, ``is_set_to()`` and the host-memory
no-ops (``pin_memory()``, ``share_memory_()``, ``record_stream()``).

What a JAX array is, and how that shows here (differences from torch):

- every tensor is dense and row-major contiguous: ``stride()`` gives the contiguous row-major
  strides (in elements; a size-0/1 dim counts as 1, as torch computes them), ``storage_offset()`` is
  0, ``layout`` is ``mt.strided`` and ``dim_order()`` is ``(0, 1, ..., ndim - 1)``; except that a
  view of a live root (``x.t()``, ``x[:, 1]``) reports torch's strides and storage offset into its
  root (its own array is still a dense copy: see ``_ops/views.py``);
- ``data_ptr()`` is the address of the array's device buffer (``jax.Array.unsafe_buffer_pointer``):
  equal for tensors sharing an array, but an in-place op rebinds the tensor to a new array, so the
  value changes after ``x.add_(1)`` (torch keeps its storage). It raises inside ``mt.jit`` (traced
  values have no buffer) and for arrays sharded over several devices;
- there is no page-locked or inter-process shared host memory: ``pin_memory()`` returns a new
  tensor on the same (immutable) array, ``is_pinned()`` and ``is_shared()`` are False,
  ``share_memory_()`` returns self unchanged and ``record_stream()`` does nothing (JAX orders
  device work itself);
- inference tensors are not tracked: ``is_inference()`` is False (tensors made under
  ``mt.inference_mode`` are ordinary tensors that do not require grad).
"""

from __future__ import annotations

import jax

from .._errors import OpIndexError, OpTypeError, TracedValueError
from .._tensor import Tensor, _wrap
from .._torch_misc import memory_format
from ._layouts import strided

__all__ = ["ATTRIBUTES", "contiguous_strides"]


def contiguous_strides(shape) -> tuple:
    """Row-major contiguous strides (in elements) of ``shape``, torch's way: a dim of size 0 or 1
    steps like a dim of size 1 (``(2, 0, 3)`` -> ``(3, 3, 1)``)."""
    out = []
    step = 1
    for s in reversed(tuple(shape)):
        out.append(step)
        step *= max(int(s), 1)
    return tuple(reversed(out))


# ----- placement and size ----------------------------------------------------------------------
def _is_cpu(self) -> bool:
    """True if the data lives on the CPU."""
    return self.device.type == "cpu"


def get_device(self) -> int:
    """The device ordinal of an accelerator tensor, or -1 for a CPU tensor (as torch)."""
    dev = self.device
    if dev.type == "cpu":
        return -1
    return 0 if dev.index is None else dev.index


def _nbytes(self) -> int:
    """Bytes the elements take: ``numel() * itemsize``."""
    return self.numel() * self._data.dtype.itemsize


def _itemsize(self) -> int:
    """Bytes per element (as :meth:`element_size`)."""
    return self._data.dtype.itemsize


def _layout(self):
    """The memory layout: always ``mt.strided`` (tensors here are dense)."""
    return strided


def is_signed(self) -> bool:
    """True for signed dtypes (signed ints, floats, complex); False for bool and unsigned ints."""
    return self.dtype.is_signed


def is_inference(self) -> bool:
    """Whether this is an inference tensor: always False (not tracked here; see module docstring)."""
    return False


def _output_nr(self) -> int:
    """Which output of its ``grad_fn`` this tensor is (0 for leaves)."""
    return self._output_nr


def _false(doc: str):
    def flag(self) -> bool:
        return False
    flag.__doc__ = doc
    return property(flag, doc=doc)


# torch's backend flags: none of these kinds of tensor exist here
_FLAGS = {
    "is_sparse": "False for a dense tensor (``mt.sparse`` tensors override it).",
    "is_sparse_csr": "False for a dense tensor (``mt.sparse`` CSR tensors override it).",
    "is_quantized": "False for a float tensor (quantized tensors override it).",
    "is_nested": "False: nested tensors are not supported.",
    "is_mkldnn": "False: there is no MKL-DNN layout.",
    "is_xla": "False: torch_xla's 'xla' device is not a device type here (JAX devices are cpu/cuda/tpu).",
    "is_mps": "False: there is no MPS device.",
    "is_xpu": "False: there is no XPU device.",
    "is_ipu": "False: there is no IPU device.",
    "is_vulkan": "False: there is no Vulkan device.",
    "is_mtia": "False: there is no MTIA device.",
    "is_maia": "False: there is no MAIA device.",
}


# ----- strides ---------------------------------------------------------------------------------
def stride(self, dim=None):
    """The step in elements between neighbours along each dim (a tuple), or along ``dim`` (an int).

    A view (``x.t()``, ``x[:, 1]``, ``x.expand(...)``) reports torch's strides into its root; any
    other tensor the contiguous strides of its shape (see the module docstring).
    """
    lay = _view_layout(self)
    st = contiguous_strides(self._data.shape) if lay is None else lay[0]
    if dim is None:
        return st
    if isinstance(dim, bool) or not hasattr(dim, "__index__"):
        raise OpTypeError(f"stride(): argument 'dim' (position 1) must be int, not {type(dim).__name__}")
    dim = dim.__index__()
    nd = len(st)
    if nd == 0:
        raise OpIndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -nd <= dim < nd:
        raise OpIndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
                           f"but got {dim})")
    return st[dim % nd]


def storage_offset(self) -> int:
    """The offset of the first element in the storage: for a view, its first element's position in
    its root (``x[1].storage_offset()`` is ``x.size(1)``); 0 for other tensors."""
    lay = _view_layout(self)
    return 0 if lay is None else lay[1]


def _view_layout(t):
    """``(strides, offset)`` of a view of a live root, or None (views.py: ``layout``)."""
    if t._view is None:
        return None
    from .views import layout
    return layout(t)


def _channels_last_ok(shape, st, order) -> bool:
    """Whether row-major strides ``st`` also satisfy a channels-last dim ``order`` (innermost first),
    skipping size-1 dims as torch's contiguity check does."""
    want = 1
    for d in order:
        if shape[d] == 1:
            continue
        if st[d] != want:
            return False
        want *= shape[d]
    return True


def _contiguous_as(shape, fmt) -> bool:
    name = fmt._name
    if name == "channels_last":
        return len(shape) == 4 and _channels_last_ok(shape, contiguous_strides(shape), (1, 3, 2, 0))
    if name == "channels_last_3d":
        return len(shape) == 5 and _channels_last_ok(shape, contiguous_strides(shape), (1, 4, 3, 2, 0))
    return name in ("contiguous_format", "preserve_format")


def dim_order(self, *, ambiguity_check=False) -> tuple:
    """The order of the dims in memory, outermost first: ``(0, 1, ..., ndim - 1)`` here.

    Args:
        ambiguity_check: False (no check); True to raise RuntimeError when the order is not
            unique (a size-1 dim, or two neighbouring dims with equal strides); or a list of
            memory formats, raising when the order is not unique and the tensor is not
            contiguous in exactly one of them.
    """
    msg = "The ambiguity_check argument must be a bool or a list of memory formats."
    if not isinstance(ambiguity_check, bool):
        if not isinstance(ambiguity_check, list) or \
                not all(isinstance(f, memory_format) for f in ambiguity_check):
            raise OpTypeError(msg)
    shape = tuple(self._data.shape)
    if ambiguity_check is not False:
        st = contiguous_strides(shape)
        ambiguous = any(s == 1 for s in shape) or any(a == b for a, b in zip(st, st[1:]))
        formats = ambiguity_check if isinstance(ambiguity_check, list) else []
        if ambiguous and sum(_contiguous_as(shape, f) for f in formats) != 1:
            raise RuntimeError("The tensor does not have unique dim order, or cannot map to exact one "
                               "of the given memory formats.")
    return tuple(range(len(shape)))


# ----- buffers and host memory -----------------------------------------------------------------
def data_ptr(self) -> int:
    """The address of the device buffer holding this tensor's array (an int).

    Tensors sharing an array share the address. It changes when an in-place op rebinds the
    tensor to a new array; raises inside ``mt.jit`` (no buffer while tracing) and for an array
    spread over several devices.
    """
    arr = self._data
    if isinstance(arr, jax.core.Tracer):
        raise TracedValueError("data_ptr")
    try:
        return int(arr.unsafe_buffer_pointer())
    except Exception as e:
        raise RuntimeError(f"data_ptr(): this tensor's array has no single device buffer "
                           f"({type(e).__name__}: {e}); an array sharded over several devices has "
                           f"one per device (see jax.Array.addressable_shards)") from None


def pin_memory(self, device=None) -> Tensor:
    """A tensor with the same values (JAX manages host/device transfers; nothing is page-locked).

    The result is a new tensor on the same immutable array (so in-place ops on either do not
    affect the other, as with torch's copy), attached to the graph when ``self`` requires grad.
    """
    if self.requires_grad:
        return self.clone()
    return _wrap(self._data)


def is_pinned(self, device=None) -> bool:
    """Whether the data is in page-locked host memory: always False here."""
    return False


def share_memory_(self) -> Tensor:
    """Returns ``self`` unchanged: JAX arrays cannot be placed in inter-process shared memory
    (tensors sent to other processes are pickled, i.e. copied)."""
    return self


def is_shared(self) -> bool:
    """Whether the data is in inter-process shared memory: always False here."""
    return False


def record_stream(self, stream) -> None:
    """Does nothing: JAX orders device work itself (torch uses this to keep CUDA memory alive
    for another stream)."""
    return None


def const_data_ptr(self) -> int:
    """Same as :meth:`data_ptr`."""
    return data_ptr(self)


def _base(self):
    """The tensor this view was made from: the start of its chain of view ops, as torch's ``_base``
    (``x[0].t()._base is x``); None for a tensor that is not a view, or whose base has been freed
    (here a view does not keep its base alive)."""
    info = self._view
    if info is None:
        return None
    root = info.root
    return None if root._data is None else root  # (a freed root reads as _DEAD, whose _data is None)


def _is_view(self) -> bool:
    """Whether ``self`` is a view of another tensor (``self._base is not None``)."""
    return _base(self) is not None


def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
    """``self`` (tensors here are already dense), or ``self.to(dtype)`` when ``dtype`` is given."""
    return self if dtype is None else self.to(dtype)


def is_set_to(self, tensor) -> bool:
    """True if ``tensor`` holds the very same array (same values, shape and buffer) as ``self``."""
    if not isinstance(tensor, Tensor):
        raise OpTypeError(f"is_set_to(): argument 'tensor' (position 1) must be Tensor, not "
                          f"{type(tensor).__name__}")
    return self._data is tensor._data


ATTRIBUTES = {
    "is_cpu": property(_is_cpu, doc=_is_cpu.__doc__),
    "nbytes": property(_nbytes, doc=_nbytes.__doc__),
    "itemsize": property(_itemsize, doc=_itemsize.__doc__),
    "layout": property(_layout, doc=_layout.__doc__),
    "output_nr": property(_output_nr, doc=_output_nr.__doc__),
    "_base": property(_base, doc=_base.__doc__),
    "_is_view": _is_view,
    **{name: _false(doc) for name, doc in _FLAGS.items()},
    **{f.__name__: f for f in (get_device, is_signed, is_inference, stride, storage_offset, dim_order,
                               data_ptr, const_data_ptr, pin_memory, is_pinned, share_memory_,
                               is_shared, record_stream, to_dense, is_set_to)},
}
