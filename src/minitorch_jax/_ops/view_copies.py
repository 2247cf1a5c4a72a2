"""torch's ``*_copy`` ops: the view ops under the names whose results never alias their input.

Here every view is a copy already (JAX arrays are immutable), so each ``x_copy`` is table entry
``x``'s kernel behind torch's ``x_copy`` signature: ``mt.`` functions only (torch has no Tensor
methods for them), with the ``grad_fn`` names torch gives (``PermuteBackward0_copy`` ...).

Differences from torch: ``detach_copy`` gives a tensor that does not require grad (torch marks it
as requiring grad with a not-implemented backward); the sparse ``*_copy`` ops (``values_copy``,
``indices_copy``, ``crow_indices_copy`` ...) are absent, as minitorch_jax has no sparse tensors.
"""

from __future__ import annotations

from .. import _dtype
from .._errors import OpTypeError, ShapeError
from ._helpers import A, I, Sample, norm_dim
from ._registry import REGISTRY, register
from .complex_ops import C
from .shape import _view_kernel, diagonal, permute, split, squeeze, t, transpose, unbind, unsqueeze
from .shape_extra import select, split_with_sizes
from .stats import unfold
from .tensor_extra import _as_strided_kernel

__all__: list[str] = []


def _copy_op(name, grad, samples, **opts):
    """Register kernel ``fn`` as ``name`` (an ``mt.`` function only) with grad_fn ``<grad>_copy``."""
    return register(name, method=False, grad_name=grad + "_copy", samples=samples, **opts)


@_copy_op("alias_copy", "AliasBackward0", lambda: [Sample(A(2, 3)), Sample(I(3)), Sample(A())])
def alias_copy(input):
    """A copy of ``input`` (torch.alias_copy: what ``torch.alias`` gives, never sharing memory)."""
    return input


@_copy_op("detach_copy", "DetachBackward0", lambda: [Sample(A(2, 3), grad=False), Sample(I(3), grad=False)],
          differentiable=False)
def detach_copy(input):
    """A copy of ``input`` outside the autograd graph (torch.detach_copy); it does not require grad."""
    return input


@_copy_op("diagonal_copy", "DiagonalBackward0",
          lambda: [Sample(A(3, 4)), Sample(A(2, 3, 4), 1, -1, 0), Sample(A(3, 4), offset=-1, dim1=1, dim2=0),
                   Sample(A(2, 3), 0, 1, 1)])
def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of the matrices in dims ``dim1``/``dim2``, as the last dim (a copy)."""
    return diagonal(input, offset, dim1, dim2)


@_copy_op("expand_copy", "ExpandBackward0",
          lambda: [Sample(A(3, 1), (2, -1, 4)), Sample(A(), (2, 3)), Sample(A(2, 3), (2, 4)),
                   Sample(A(1, 3), [2, 3], implicit=True)])
def expand_copy(input, size, *, implicit=False):
    """``input`` broadcast to ``size`` (-1 keeps a dim; new dims go in front), as a new tensor.

    Args:
        size: the target shape (a sequence of ints).
        implicit: accepted for torch's signature; it changes nothing.
    """
    from .shape import expand
    return expand(input, size=tuple(size))


@_copy_op("permute_copy", "PermuteBackward0",
          lambda: [Sample(A(2, 3, 4), (2, -3, 1)), Sample(A(), ()), Sample(A(2, 3), (0,)),
                   Sample(A(2, 3), dims=[1, 0])])
def permute_copy(input, dims):
    """``input`` with its dims reordered: output dim ``i`` is input dim ``dims[i]`` (a copy)."""
    return permute(input, dims=tuple(dims))


@_copy_op("select_copy", "SelectBackward0",
          lambda: [Sample(A(2, 3), 1, -1), Sample(A(2, 3, 4), -3, 1), Sample(A(2, 3), 0, 2)])
def select_copy(input, dim, index):
    """The slice of ``input`` at ``index`` along ``dim`` (that dim removed), as a new tensor."""
    return select(input, dim, index)


@_copy_op("slice_copy", "SliceBackward0",
          lambda: [Sample(A(4, 3)), Sample(A(4, 3), 1, -5, None, 2), Sample(A(4, 3), 0, 1, 3),
                   Sample(A(4, 3), 1, 2, 1), Sample(A(4, 3), 0, 10, 20), Sample(A(5), end=-1, step=3),
                   Sample(A(4, 3), 1, 0, 3, 0), Sample(A(4, 3), 2)])
def slice_copy(input, dim=0, start=None, end=None, step=1):
    """Elements ``start:end:step`` of ``input`` along ``dim`` (out-of-range bounds are clamped).

    Args:
        dim: the dim to slice (default 0).
        start, end: bounds, negative counting from the end; None for the ends of the dim.
        step: a positive stride.
    """
    if step <= 0:
        raise ShapeError("slice_copy(): slice step must be positive")
    d = norm_dim(dim, input.ndim, "slice_copy")
    idx = [slice(None)] * input.ndim
    if input.ndim:
        idx[d] = slice(start, end, step)
    return input[tuple(idx)]


@_copy_op("split_copy", "SplitBackward0",
          lambda: [Sample(A(5, 2), 2), Sample(A(2, 6), 4, -1), Sample(A(4), 9), Sample(A(4), 0)])
def split_copy(input, split_size, dim=0):
    """``input`` cut along ``dim`` into pieces of ``split_size`` (the last may be smaller); a tuple."""
    if not isinstance(split_size, int):
        raise OpTypeError(f"split_copy(): argument 'split_size' (position 2) must be int, not "
                          f"{type(split_size).__name__}")
    return split(input, split_size, dim)


@_copy_op("split_with_sizes_copy", "SplitWithSizesBackward0",
          lambda: [Sample(A(2, 3, 4), [1, 2], 1), Sample(A(5, 2), (2, 0, 3)), Sample(A(2, 3), [1, 3], -1)])
def split_with_sizes_copy(input, split_sizes, dim=0):
    """``input`` cut along ``dim`` into pieces of the given ``split_sizes`` (summing to its size)."""
    return split_with_sizes(input, split_sizes, dim)


@_copy_op("squeeze_copy", "SqueezeBackward0",
          lambda: [Sample(A(2, 1, 3, 1)), Sample(A(2, 1, 3), 0), Sample(A(1, 2, 1), (-1, 1)),
                   Sample(A(2, 1), 2)])
def squeeze_copy(input, dim=None):
    """``input`` without its size-1 dims (all, or those among ``dim``: an int or a tuple)."""
    return squeeze(input, dim)


@_copy_op("t_copy", "TBackward0", lambda: [Sample(A(2, 3)), Sample(A(3)), Sample(A(2, 3, 4))])
def t_copy(input):
    """The transpose of a matrix (0-d and 1-D inputs unchanged), as a new tensor."""
    return t(input)


@_copy_op("transpose_copy", "TransposeBackward0",
          lambda: [Sample(A(2, 3, 4), -1, 0), Sample(A(2, 3), 1, 1), Sample(A(2, 3), 0, 2)])
def transpose_copy(input, dim0, dim1):
    """``input`` with dims ``dim0`` and ``dim1`` swapped, as a new tensor."""
    return transpose(input, dim0, dim1)


@_copy_op("unbind_copy", "UnbindBackward0",
          lambda: [Sample(A(3, 2), 1), Sample(A(2, 2)), Sample(A())])
def unbind_copy(input, dim=0):
    """The slices of ``input`` along ``dim`` (that dim removed), as a tuple of new tensors."""
    return unbind(input, dim)


@_copy_op("unfold_copy", "UnfoldBackward0",
          lambda: [Sample(A(7), 0, 2, 1), Sample(A(3, 8), 1, 3, 2), Sample(A(5), 0, 6, 1)])
def unfold_copy(input, dimension, size, step):
    """All windows of length ``size`` along ``dimension``, ``step`` apart, as a new last dim."""
    return unfold(input, dimension, size, step)


@_copy_op("unsqueeze_copy", "UnsqueezeBackward0",
          lambda: [Sample(A(2, 3), -1), Sample(A(), 0), Sample(A(2, 3), 3)])
def unsqueeze_copy(input, dim):
    """``input`` with a size-1 dim inserted at ``dim``, as a new tensor."""
    return unsqueeze(input, dim)


@_copy_op("as_strided_copy", "AsStridedBackward0",
          lambda: [Sample(A(6), (2, 2), (1, 2)), Sample(A(2, 3), (3, 2), (1, 1), 1),
                   Sample(A(6), (2,), (1, 2))])
def as_strided_copy(input, size, stride, storage_offset=None):
    """A tensor of shape ``size`` reading ``input``'s elements (row-major numbering) at
    ``storage_offset + sum(i_k * stride[k])``; see :func:`as_strided`."""
    return _as_strided_kernel(input, size, stride, storage_offset)


def _view_copy_kernel(input, size):
    return _view_kernel(input, size=tuple(size))


def view_copy(input, size=None, *, dtype=None):
    """``input`` with a new shape ``size`` (one entry may be -1), or its bytes read as ``dtype``.

    ``view_copy(input, size)`` or ``view_copy(input, dtype)``; always a new tensor.
    """
    if isinstance(size, _dtype.dtype):
        size, dtype = None, size
    if dtype is not None:
        if size is not None:
            raise OpTypeError("view_copy(): takes either a dtype or a size, not both")
        return REGISTRY["_view_dtype"].call(input, _dtype.as_dtype(dtype))
    if size is None:
        raise OpTypeError("view_copy() missing 1 required positional argument: \"size\"")
    return REGISTRY["view_copy"].call(input, tuple(size))


_copy_op("view_copy", "ViewBackward0", impl=view_copy,
         samples=lambda: [Sample(A(2, 6), (3, 4)), Sample(A(2, 6), [-1, 3]), Sample(A(2, 6), (5, 2)),
                          Sample(A(2, 4), _dtype.int32, grad=False), Sample(A(), ())])(_view_copy_kernel)


@_copy_op("view_as_real_copy", "ViewAsRealBackward0", lambda: [Sample(C(3, 2)), Sample(C()), Sample(A(3))])
def view_as_real_copy(input):
    """A complex tensor as real ``(..., 2)`` pairs (real, imaginary), as a new tensor."""
    from .complex_ops import view_as_real
    return view_as_real(input)


@_copy_op("view_as_complex_copy", "ViewAsComplexBackward0",
          lambda: [Sample(A(3, 2), grad=False), Sample(A(3)), Sample(I(3, 2))])
def view_as_complex_copy(input):
    """Real ``(..., 2)`` pairs as a complex tensor, as a new tensor."""
    from .complex_ops import view_as_complex
    return view_as_complex(input)


