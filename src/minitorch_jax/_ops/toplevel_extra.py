"""The remaining ATen-named top-level ops: the functional recurrent stacks ``lstm``/``gru``/
``rnn_tanh``/``rnn_relu`` (flat weight lists) and their cells, ``grid_sampler*`` and
``affine_grid_generator`` (integer-coded modes), ``as_strided_scatter``, ``slice_inverse``,
``norm_except_dim``, ``segment_reduce``, ``embedding_renorm_`` and ``hash_tensor``; and (via
:func:`install`) the Tensor methods ``untyped_storage``/``storage``/``storage_type``/``set_``/
``chalf`` and the removed ``solve``/``lstsq``/``eig``/``symeig`` (which raise torch's message).

Each reuses its family's kernel (``nn_rnn``, ``nn_extra``, ``shape_extra``). Differences from torch:

- ``lstm``/``gru``/``rnn_*`` take the padded form only (``input, hx, params, ...``); the packed
  form ``(data, batch_sizes, ...)`` raises (use ``nn.LSTM`` with a ``PackedSequence``);
  inter-layer dropout draws from mt's generator;
- ``slice_inverse(input, src, ...)`` is ``src`` with the slice replaced by ``input`` (torch
  reinterprets ``input``'s storage with ``src``'s geometry, which gives the same values when
  ``input`` is that slice of ``src``);
- ``as_strided_scatter`` counts positions in ``input``'s own row-major elements (as ``as_strided``);
- ``segment_reduce`` with ``indices=`` raises as torch does (not supported yet there either).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import _random as R
from .._errors import OpIndexError, OpTypeError, OpValueError, ShapeError
from .._tensor import Tensor
from ._helpers import A, I, Sample
from ._registry import REGISTRY, check_inplace, register

__all__ = ["install"]

_TOL = {"rtol": 1e-4, "atol": 1e-4}


def _no_kernel(*args, **kwargs):  # impl-only entries: nothing is dispatched
    raise NotImplementedError


# ----- functional RNN stacks ---------------------------------------------------------------------
def _rnn(mode, name, input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    if isinstance(params, Tensor) or isinstance(hx, Tensor) and not hx.is_floating_point():
        raise OpTypeError(f"{name.lower()}(): the packed form (data, batch_sizes, ...) is not supported; "
                          f"use nn.{name} with a PackedSequence")
    if isinstance(hx, Tensor) and mode == "LSTM" or not isinstance(input, Tensor):
        raise OpTypeError(f"{name.lower()}() received an invalid combination of arguments: expected (Tensor "
                          f"input, {'tuple of Tensors' if mode == 'LSTM' else 'Tensor'} hx, tuple of "
                          f"Tensors params, bool has_biases, int num_layers, float dropout, bool train, "
                          f"bool bidirectional, bool batch_first)")
    if input.dim() != 3:
        raise OpIndexError(f"Dimension out of range (expected to be in range of [-{input.dim()}, "
                           f"{input.dim() - 1}], but got 2)")
    params = list(params)
    ndir = 2 if bidirectional else 1
    per = len(params) // max(num_layers * ndir, 1)
    base = 4 if has_biases else 2
    if per * num_layers * ndir != len(params) or not (per == base or mode == "LSTM" and per == base + 1):
        raise OpValueError(f"{name.lower()}(): expected {num_layers * ndir} groups of weights "
                           f"(w_ih, w_hh[, b_ih, b_hh][, w_hr]), got {len(params)} tensors")
    proj = mode == "LSTM" and per == (5 if has_biases else 3)
    hx, cx = (hx[0], hx[1]) if mode == "LSTM" else (hx, None)
    drop = bool(train) and dropout > 0 and num_layers > 1
    gen = R.default_generator if drop else None
    outs = REGISTRY["_rnn_stack"].call(
        input, hx, cx, gen._key if drop else None, None, None, None, None, *params, mode=mode,
        name=name, num_layers=int(num_layers), bidirectional=bool(bidirectional), bias=bool(has_biases),
        batch_first=bool(batch_first), proj=proj, dropout=float(dropout) if drop else 0.0, train=drop)
    if drop:
        gen._key = outs[-1]._data
        outs = outs[:-1]
    return tuple(outs)


def lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """A whole LSTM stack from flat weights (torch.lstm, what ``nn.LSTM`` runs).

    Args:
        input: ``(T, B, I)`` (``(B, T, I)`` with ``batch_first``) or unbatched ``(T, I)``.
        hx: ``(h_0, c_0)``, each ``(L * D, B, H)`` (``h_0``: ``H_out`` with projections).
        params: per layer and direction ``w_ih, w_hh[, b_ih, b_hh][, w_hr]``.
        has_biases, num_layers, dropout, train, bidirectional, batch_first: as ``nn.LSTM``.

    Returns ``(output, h_n, c_n)``.
    """
    return _rnn("LSTM", "LSTM", input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                batch_first)


def gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """A whole GRU stack from flat weights (torch.gru); ``hx`` is ``(L * D, B, H)``.
    Returns ``(output, h_n)``; see :func:`lstm` for the arguments."""
    return _rnn("GRU", "GRU", input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                batch_first)


def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """An Elman RNN stack with tanh from flat weights (torch.rnn_tanh). Returns ``(output, h_n)``."""
    return _rnn("RNN_TANH", "RNN", input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                batch_first)


def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """An Elman RNN stack with ReLU from flat weights (torch.rnn_relu). Returns ``(output, h_n)``."""
    return _rnn("RNN_RELU", "RNN", input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                batch_first)


def _rnn_weights(mode, i, h, layers=1, ndir=1, bias=True, proj=0):
    g = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    ws = []
    for layer in range(layers):
        for _ in range(ndir):
            inp = i if layer == 0 else (proj or h) * ndir
            ws += [A(g * h, inp, dtype="float64"), A(g * h, proj or h, dtype="float64")]
            if bias:
                ws += [A(g * h, dtype="float64"), A(g * h, dtype="float64")]
            if proj:
                ws.append(A(proj, h, dtype="float64"))
    return ws


def _lstm_samples():
    d = "float64"
    return [Sample(A(5, 2, 3, dtype=d), [A(1, 2, 4, dtype=d), A(1, 2, 4, dtype=d)],
                   _rnn_weights("LSTM", 3, 4), True, 1, 0.0, False, False, False),
            Sample(A(2, 5, 3, dtype=d), [A(4, 2, 4, dtype=d), A(4, 2, 4, dtype=d)],
                   _rnn_weights("LSTM", 3, 4, 2, 2, False), False, 2, 0.0, True, True, True),
            Sample(A(4, 3, dtype=d), [A(1, 2, dtype=d), A(1, 4, dtype=d)],
                   _rnn_weights("LSTM", 3, 4, proj=2), True, 1, 0.0, False, False, False)]


def _h_samples(mode):
    d = "float64"
    return lambda: [
        Sample(A(5, 2, 3, dtype=d), A(1, 2, 4, dtype=d), _rnn_weights(mode, 3, 4), True, 1, 0.0, False,
               False, False),
        Sample(A(2, 4, 3, dtype=d), A(4, 2, 4, dtype=d), _rnn_weights(mode, 3, 4, 2, 2, False), False, 2, 0.0,
               True, True, True)]


for _f, _s in ((lstm, _lstm_samples), (gru, _h_samples("GRU")), (rnn_tanh, _h_samples("RNN_TANH")),
               (rnn_relu, _h_samples("RNN_RELU"))):
    register(_f.__name__, nin=0, method=False, impl=_f, samples=_s)(_no_kernel)


# ----- cells -------------------------------------------------------------------------------------
def _cell(mode, name, input, hx, w_ih, w_hh, b_ih, b_hh):
    cx = None
    if input.dim() != 2:
        raise OpIndexError(f"Dimension out of range (expected to be in range of [-{input.dim()}, "
                           f"{input.dim() - 1}], but got 1)")
    if mode == "LSTM":
        if isinstance(hx, Tensor) or len(hx) != 2:
            raise OpTypeError("lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors")
        hx, cx = hx
    return REGISTRY["_rnn_cell"].call(input, hx, cx, w_ih, w_hh, b_ih, b_hh, mode, name)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (torch.lstm_cell): ``input (B, I)``, ``hx = (h, c)`` each ``(B, H)``,
    ``w_ih (4H, I)``, ``w_hh (4H, H)``, biases ``(4H,)`` or None. Returns ``(h', c')``."""
    return tuple(_cell("LSTM", "LSTMCell", input, hx, w_ih, w_hh, b_ih, b_hh))


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (torch.gru_cell): ``hx (B, H)``, ``w_ih (3H, I)``, ``w_hh (3H, H)``. Returns ``h'``."""
    return _cell("GRU", "GRUCell", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One tanh RNN step (torch.rnn_tanh_cell): ``tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""
    return _cell("RNN_TANH", "RNNCell", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One ReLU RNN step (torch.rnn_relu_cell): ``relu(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""
    return _cell("RNN_RELU", "RNNCell", input, hx, w_ih, w_hh, b_ih, b_hh)


def _cell_samples(g, lstm_form=False):
    d = "float64"

    def hx(*s):
        return [A(*s, dtype=d), A(*s, dtype=d)] if lstm_form else A(*s, dtype=d)
    return lambda: [Sample(A(2, 3, dtype=d), hx(2, 4), A(g * 4, 3, dtype=d), A(g * 4, 4, dtype=d),
                           A(g * 4, dtype=d), A(g * 4, dtype=d)),
                    Sample(A(2, 3, dtype=d), hx(2, 4), A(g * 4, 3, dtype=d), A(g * 4, 4, dtype=d)),
                    Sample(A(2, 5), hx(2, 4), A(g * 4, 3), A(g * 4, 4))]


for _f, _s in ((lstm_cell, _cell_samples(4, True)), (gru_cell, _cell_samples(3)),
               (rnn_tanh_cell, _cell_samples(1)), (rnn_relu_cell, _cell_samples(1))):
    register(_f.__name__, nin=0, method=False, impl=_f, samples=_s)(_no_kernel)


# ----- grid_sampler / affine_grid_generator --------------------------------------------------------
_INTERP = ("bilinear", "nearest", "bicubic")
_PADDING = ("zeros", "border", "reflection")


def _grid_sampler(op, nd, input, grid, interpolation_mode, padding_mode, align_corners):
    if nd and input.dim() != nd + 2:
        raise ShapeError(f"{op}(): expected {nd + 2}D input, but got input of size {list(input.shape)}")
    if not 0 <= int(interpolation_mode) < len(_INTERP):
        raise OpValueError(f"{op}(): expected interpolation_mode to be 0 (bilinear), 1 (nearest) or 2 "
                           f"(bicubic), but got: {interpolation_mode}")
    if not 0 <= int(padding_mode) < len(_PADDING):
        raise OpValueError(f"{op}(): expected padding_mode to be 0 (zeros), 1 (border) or 2 (reflection), "
                           f"but got: {padding_mode}")
    return REGISTRY["grid_sample"].call(input, grid, _INTERP[int(interpolation_mode)],
                                        _PADDING[int(padding_mode)], bool(align_corners))


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """``nn.functional.grid_sample`` with torch's integer codes: ``interpolation_mode`` 0 bilinear,
    1 nearest, 2 bicubic; ``padding_mode`` 0 zeros, 1 border, 2 reflection. 4-D or 5-D input."""
    return _grid_sampler("grid_sampler", 0, input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):
    """:func:`grid_sampler` for a 4-D ``(N, C, H, W)`` input and ``(N, H_out, W_out, 2)`` grid."""
    return _grid_sampler("grid_sampler_2d", 2, input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners):
    """:func:`grid_sampler` for a 5-D ``(N, C, D, H, W)`` input and ``(N, D', H', W', 3)`` grid."""
    return _grid_sampler("grid_sampler_3d", 3, input, grid, interpolation_mode, padding_mode, align_corners)


def _gsr_samples(nd):
    d = "float64"
    rng = np.random.default_rng(3)
    g2 = rng.uniform(-1.2, 1.2, (2, 3, 3, 2)).astype(d)
    g3 = rng.uniform(-1.2, 1.2, (1, 2, 2, 3, 3)).astype(d)
    out = []
    if nd in (0, 2):
        out += [Sample(A(2, 2, 4, 5, dtype=d), g2, 0, 0, False),
                Sample(A(2, 2, 4, 5, dtype=d), g2, 1, 1, True),
                Sample(A(2, 2, 4, 5, dtype=d), g2, 2, 2, False)]
    if nd in (0, 3):
        out += [Sample(A(1, 2, 3, 4, 3, dtype=d), g3, 0, 2, True)]
    return lambda: out


for _f, _n in ((grid_sampler, 0), (grid_sampler_2d, 2), (grid_sampler_3d, 3)):
    register(_f.__name__, nin=0, method=False, impl=_f, samples=_gsr_samples(_n))(_no_kernel)


def affine_grid_generator(theta, size, align_corners):
    """``nn.functional.affine_grid`` (torch.affine_grid_generator): ``theta (N, 2, 3)`` with a 4-D
    ``size`` gives an ``(N, H, W, 2)`` grid, ``(N, 3, 4)`` with a 5-D size an ``(N, D, H, W, 3)`` one."""
    size = tuple(int(s) for s in size)
    k = len(size) - 2
    if k not in (2, 3) or theta.dim() != 3 or tuple(theta.shape[1:]) != (k, k + 1):
        raise ShapeError(f"affine_grid_generator(): expected theta of shape (N, {k}, {k + 1}) for size "
                         f"{list(size)}, got {list(theta.shape)}")
    return REGISTRY["affine_grid"].call(theta, size, bool(align_corners))


register("affine_grid_generator", nin=0, method=False, impl=affine_grid_generator, samples=lambda: [
    Sample(A(2, 2, 3, dtype="float64"), [2, 3, 4, 5], False),
    Sample(A(1, 3, 4, dtype="float64"), [1, 2, 2, 3, 2], True)])(_no_kernel)


# ----- as_strided_scatter / slice_inverse -------------------------------------------------------
def _strided_index(size, stride, off):
    idx = np.full(size, off, np.int64)
    for k, (n, st) in enumerate(zip(size, stride)):
        idx = idx + (np.arange(n, dtype=np.int64) * st).reshape((n,) + (1,) * (len(size) - k - 1))
    return idx


def _as_strided_scatter_kernel(input, src, size, stride, storage_offset=None):
    off = 0 if storage_offset is None else int(storage_offset)
    if tuple(src.shape) != tuple(size):
        raise ShapeError(f"expected src to have a size equal to the slice of self. src size = "
                         f"{list(src.shape)}, slice size = {list(size)}")
    need = 0 if 0 in size else off + 1 + sum((n - 1) * st for n, st in zip(size, stride))
    if need > input.size:
        item = input.dtype.itemsize
        raise ShapeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {off}, and "
                         f"itemsize {item} requiring a storage size of {need * item} are out of bounds for "
                         f"storage of size {input.size * item}")
    idx = _strided_index(tuple(size), tuple(stride), off)
    return input.reshape(-1).at[idx].set(src.astype(input.dtype)).reshape(input.shape)


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """``input`` with ``src`` written into the positions ``input.as_strided(size, stride,
    storage_offset)`` reads (row-major element numbers of ``input``). ``src`` has shape ``size``.
    Differentiable in both."""
    for name, v in (("size", size), ("stride", stride)):
        if not isinstance(v, (tuple, list)) or not all(
                isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in v):
            raise OpTypeError(f"as_strided_scatter(): argument '{name}' must be tuple of ints, not {v!r}")
    return REGISTRY["as_strided_scatter"].call(input, src, tuple(size), tuple(stride), storage_offset)


register("as_strided_scatter", nin=2, impl=as_strided_scatter, samples=lambda: [
    # torch's gradient of as_strided_scatter is not the scatter's (it mis-strides): values only
    Sample(A(3, 4), A(2, 2), (2, 2), (1, 4), grad=False),
    Sample(A(6), A(2, 2), [2, 2], [2, 1], 1, grad=False),
    Sample(A(6), A(3), (3,), (3,)),
    Sample(A(6), A(2), (2,), (1,), 1, grad=False)])(_as_strided_scatter_kernel)


def slice_inverse(input, src, dim=0, start=None, end=None, step=1):
    """The inverse of slicing: ``src`` (the base) with its slice ``[start:end:step]`` along ``dim``
    replaced by ``input`` (the sliced values). Same values as torch's when ``input`` is that slice
    of ``src``; differentiable in both."""
    return REGISTRY["slice_scatter"].impl(src, input, dim, start, end, step)


# torch's result depends on ``input`` being a view of ``src``: tested in tests/test_toplevel_more.py
register("slice_inverse", nin=0, impl=slice_inverse, samples=lambda: [])(_no_kernel)


# ----- norm_except_dim ---------------------------------------------------------------------------
@register("norm_except_dim", nin=1, method=False, samples=lambda: [
    Sample(A(4, 3, 5), 2, 1), Sample(A(4, 3, 5, dtype="float64"), 2, -1), Sample(A(4, 3), 3, 0),
    Sample(A(4, 3, 2, dtype="float64"), 2, 2)])
def norm_except_dim(v, pow=2, dim=0):  # noqa: A002 - torch's name
    """The ``pow``-norm of ``v`` over every dim except ``dim`` (weight norm's ``g``): shape 1 everywhere
    but ``dim``; ``dim=-1`` gives the norm of the whole tensor (0-d)."""
    p = float(pow)
    if dim == -1:
        return jnp.linalg.norm(v.reshape(-1), ord=p)
    d = dim % v.ndim
    axes = tuple(i for i in range(v.ndim) if i != d)
    a = jnp.abs(v)
    if p == 2:
        return jnp.sqrt(jnp.sum(v * v, axis=axes, keepdims=True))
    return jnp.sum(a ** p, axis=axes, keepdims=True) ** (1.0 / p)


# ----- segment_reduce ----------------------------------------------------------------------------
_SEG = {"sum": "sum", "mean": "mean", "max": "max", "min": "min", "prod": "prod", "amax": "max",
        "amin": "min"}


def _segment_kernel(data, offsets, reduce, axis, initial):
    """Reduce ``data`` over the segments ``[offsets[..., s], offsets[..., s + 1])`` along ``axis``."""
    t = data.shape[axis]
    pos = jnp.arange(t)
    lo, hi = offsets[..., :-1, None], offsets[..., 1:, None]       # lead + (S, 1)
    mask = (pos >= lo) & (pos < hi)                                  # lead + (S, T)
    rest = data.shape[axis + 1:]
    mask = mask.reshape(mask.shape + (1,) * len(rest))
    x = jnp.expand_dims(data, axis)                                  # lead + (1, T) + rest
    dt = data.dtype
    kind = _SEG[reduce]
    red_axis = axis + 1
    if kind in ("sum", "mean"):
        out = jnp.sum(jnp.where(mask, x, jnp.zeros((), dt)), axis=red_axis)
    elif kind == "prod":
        out = jnp.prod(jnp.where(mask, x, jnp.ones((), dt)), axis=red_axis)
    elif kind == "max":
        out = jnp.max(jnp.where(mask, x, jnp.asarray(-jnp.inf, dt)), axis=red_axis)
    else:
        out = jnp.min(jnp.where(mask, x, jnp.asarray(jnp.inf, dt)), axis=red_axis)
    if initial is not None:
        init = jnp.asarray(initial, dt)
        out = {"sum": out + init, "mean": out + init, "prod": out * init,
               "max": jnp.maximum(out, init), "min": jnp.minimum(out, init)}[kind]
    if kind == "mean":
        count = (hi - lo).reshape(offsets.shape[:-1] + (-1,) + (1,) * len(rest)).astype(dt)
        mean = out / count
        out = mean if initial is None else jnp.where(count == 0, jnp.asarray(initial, dt), mean)
    return out


def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0, unsafe=False,
                   initial=None):
    """Reduce consecutive segments of ``data`` along ``axis``.

    Args:
        data: ``(*lead, T, *rest)`` with ``axis = len(lead)``.
        reduce: 'sum', 'mean', 'max', 'min' or 'prod' ('amax'/'amin' too).
        lengths: ``(*lead, S)`` int segment lengths (summing to ``T`` unless ``unsafe``), or
        offsets: ``(*lead, S + 1)`` int segment boundaries.
        indices: not supported (as in torch).
        axis: the dim that is segmented (the last dim of ``lengths``/``offsets``).
        unsafe: skip the check that the lengths add up to ``T``.
        initial: a value every segment's reduction starts from (the result of empty segments).

    Returns ``(*lead, S, *rest)``. Empty segments without ``initial`` give 0 (sum), 1 (prod), NaN
    (mean), -inf (max) or inf (min). Differentiable in ``data``.
    """
    import minitorch_jax as mt
    lengths = lengths if lengths is None or isinstance(lengths, Tensor) else mt.as_tensor(lengths)
    offsets = offsets if offsets is None or isinstance(offsets, Tensor) else mt.as_tensor(offsets)
    if reduce not in _SEG:
        raise ShapeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if indices is not None:
        raise ShapeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise ShapeError("segment_reduce(): Either lengths or offsets must be defined.")
    axis = int(axis) % max(data.dim(), 1)
    if lengths is not None:
        if lengths.dim() - 1 != axis:
            raise ShapeError(f"segment_reduce(): Expected axis to be the last dimension of lengths but got "
                               f"{axis}.")
        zero = lengths.new_zeros(tuple(lengths.shape[:-1]) + (1,))
        import jax
        offsets = mt.cat([zero, lengths.cumsum(-1)], -1)
        if not unsafe and not isinstance(lengths._data, jax.core.Tracer):
            if bool((lengths.sum(-1) != data.shape[axis]).any()):
                raise ShapeError("segment_reduce(): Expected all rows of lengths along axis to sum to "
                                   "data.size(lengths.dim()-1) when !unsafe.")
    elif offsets.dim() - 1 != axis:
        raise ShapeError(f"segment_reduce(): Expected axis to be the last dimension of offsets but got "
                           f"{axis}.")
    return REGISTRY["segment_reduce"].call(data, offsets, reduce, axis, None if initial is None
                                           else float(initial))


def _segr_samples():
    d = "float64"
    ln = np.array([2, 0, 3, 1])
    return [Sample(A(6, dtype=d), r, lengths=ln) for r in ("sum", "mean", "max", "min", "prod")] + [
        Sample(A(6, 2, dtype=d), "sum", offsets=np.array([0, 2, 2, 6]), initial=1.5),
        Sample(A(6, dtype=d), "mean", lengths=ln, initial=2.0),
        Sample(A(2, 5, 3, dtype=d), "max", lengths=np.array([[2, 3], [4, 1]]), axis=1),
        Sample(A(6), "sum", lengths=np.array([2, 3])), Sample(A(6), "foo", lengths=ln),
        Sample(A(6), "sum")]


register("segment_reduce", nin=2, method=False, impl=segment_reduce, samples=_segr_samples)(_segment_kernel)


# ----- embedding_renorm_ -------------------------------------------------------------------------
def _renorm_kernel(input, indices, max_norm, norm_type):
    rows = jnp.zeros(input.shape[0], bool).at[indices.reshape(-1)].set(True)
    norms = jnp.linalg.norm(input, ord=norm_type, axis=1)
    scale = jnp.where(rows & (norms > max_norm), max_norm / (norms + 1e-7), 1.0).astype(input.dtype)
    return input * scale[:, None]


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Rescale, in place, the rows of ``input`` named in ``indices`` whose ``norm_type``-norm exceeds
    ``max_norm`` to norm ``max_norm`` (what ``embedding(max_norm=...)`` does). Not recorded by
    autograd. Returns ``input``."""
    if input.dim() != 2:
        raise ShapeError(f"embedding_renorm_(): Expected 2-dimensional tensor for argument #1 'self', but "
                         f"got {input.dim()}-dimensional tensor")
    check_inplace(input, "embedding_renorm_")
    res = REGISTRY["_embedding_renorm"].call(input.detach(), indices, float(max_norm), float(norm_type))
    input._data = res._data
    input._version += 1
    return input


register("_embedding_renorm", nin=2, method=False, function=False, differentiable=False)(_renorm_kernel)
register("embedding_renorm_", nin=0, method=False, differentiable=False, impl=embedding_renorm_,
         samples=lambda: [Sample(A(5, 3), I(4, low=0, high=5), 0.5, 2.0),
                          Sample(A(5, 3, dtype="float64"), np.array([0, 4]), 0.3, 1.0),
                          Sample(A(5), np.array([0]), 1.0, 2.0)])(_no_kernel)


# ----- hash_tensor -------------------------------------------------------------------------------
@register("hash_tensor", nin=1, differentiable=False, samples=lambda: [
    Sample(A(3, 4)), Sample(I(3, 4), 1), Sample(A(2, 3, dtype="float64"), [0, 1], keepdim=True),
    Sample(np.array([True, False, True])), Sample(A(2, 3).astype("float16"), 0)])
def hash_tensor(input, dim=None, *, keepdim=False, mode=0):
    """A hash of ``input``'s elements (over ``dim``, or all): each is upcast to float64 (floats) or
    int64 (integers, bool) and its 64 bits are xor-reduced; the result is uint64.

    Args:
        dim: an int, a sequence of ints, or None (all dims).
        keepdim: keep the reduced dims as size 1.
        mode: 0 (xor reduction), the only mode.
    """
    if mode != 0:
        raise OpValueError(f"hash_tensor(): only mode 0 (xor reduction) is supported, got {mode}")
    if jnp.iscomplexobj(input):
        raise NotImplementedError(f"\"xor_sum_cpu\" not implemented for '{input.dtype}'")
    wide = input.astype(jnp.float64 if jnp.issubdtype(input.dtype, jnp.floating) else jnp.int64)
    bits = lax.bitcast_convert_type(wide, jnp.uint64)
    if dim is None:
        axes = tuple(range(input.ndim))
    else:
        axes = tuple(d % max(input.ndim, 1) for d in ((dim,) if isinstance(dim, int) else dim))
    out = lax.reduce(bits, np.uint64(0), lax.bitwise_xor, axes)
    if keepdim:
        out = jnp.expand_dims(out, axes)
    return out


# ----- Tensor methods (install) ------------------------------------------------------------------
def install() -> None:
    """Put the storage methods, ``set_``, ``chalf`` and the removed linalg methods on Tensor."""
    from .._torch_misc import extras, storage
    methods = {"untyped_storage": storage.untyped_storage, "storage": storage.typed_storage,
               "storage_type": storage.storage_type, "set_": storage.set_, "chalf": extras._chalf_method}
    for name in ("solve", "lstsq", "eig", "symeig"):
        methods[name] = getattr(extras, "_removed_" + name)
    for name, fn in methods.items():
        setattr(Tensor, name, fn)

