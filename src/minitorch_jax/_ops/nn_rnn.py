"""Recurrent kernels: a whole RNN/LSTM/GRU stack (all layers, both directions) as ONE table op,
with ``jax.lax.scan`` over time inside, and the single-step cells (``RNNCell`` ...).

Both are private ops (underscore names, no ``mt.``/method/functional entry): the layers in
``nn/modules/rnn.py`` call them. Their gradients come from jax.vjp of the same kernel.

Gate layouts follow torch: LSTM rows ``i, f, g, o``; GRU rows ``r, z, n`` with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` and ``h' = (1 - z) * n + z * h``.
The input projection ``x W_ih^T + b_ih`` of a whole sequence is one matmul before the scan;
the scan body only does ``h W_hh^T``.

Packed sequences run as a padded batch with a validity mask: a state stops changing once its
sequence has ended (forward) or has not begun yet (reverse), and padded outputs are zero.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .. import _dtype
from .._errors import OpValueError, ShapeError
from .._random import bernoulli_mask
from ._registry import register
from .linalg import prec

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _lin(x, w, b, precision):
    y = jnp.matmul(x, w.T, precision=prec(x, precision))
    return y if b is None else y + b


def _gates(mode, xp, h, c, w_hh, b_hh, w_hr, precision):
    """One time step from the input projection ``xp``: returns ``(h', c')`` (c' None unless LSTM)."""
    gh = _lin(h, w_hh, b_hh, precision)
    if mode == "LSTM":
        i, f, g, o = jnp.split(xp + gh, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        if w_hr is not None:
            h = _lin(h, w_hr, None, precision)
        return h, c
    if mode == "GRU":
        xr, xz, xn = jnp.split(xp, 3, axis=-1)
        hr, hz, hn = jnp.split(gh, 3, axis=-1)
        r = jax.nn.sigmoid(xr + hr)
        z = jax.nn.sigmoid(xz + hz)
        n = jnp.tanh(xn + r * hn)
        return (1 - z) * n + z * h, None
    pre = xp + gh
    return (jnp.tanh(pre) if mode == "RNN_TANH" else jax.nn.relu(pre)), None


def _direction(mode, x, h0, c0, ws, mask, reverse, precision):
    """Run one layer in one direction over ``x`` (T, B, I): returns ``(ys, h_n, c_n)``."""
    w_ih, w_hh, b_ih, b_hh, w_hr = ws
    xp = _lin(x, w_ih, b_ih, precision)

    def step(carry, inp):
        h, c = carry
        if mask is None:
            h2, c2 = _gates(mode, inp, h, c, w_hh, b_hh, w_hr, precision)
            return (h2, c2), h2
        xt, m = inp
        h2, c2 = _gates(mode, xt, h, c, w_hh, b_hh, w_hr, precision)
        out = jnp.where(m, h2, jnp.zeros_like(h2))
        h2 = jnp.where(m, h2, h)
        if c is not None:
            c2 = jnp.where(m, c2, c)
        return (h2, c2), out

    (hn, cn), ys = lax.scan(step, (h0, c0), xp if mask is None else (xp, mask), reverse=reverse)
    return ys, hn, cn


def _dims(a) -> str:
    return str(list(a.shape))


def _tname(dt) -> str:
    return str(_dtype.from_np(dt))


def _check_hidden(h, expected, what):
    if h is not None and tuple(h.shape) != expected:
        msg = "Expected hidden size {}, got {}" if what is None else \
            "Expected hidden[" + what + "] size {}, got {}"
        raise ShapeError(msg.format(expected, list(h.shape)))


@register("_rnn_stack", nin=-1, precision=True, method=False, function=False, functional=False)
def _rnn_stack(x, hx, cx, key, gather, scatter, perm, unperm, *weights, mode, name, num_layers,
               bidirectional, bias, batch_first, proj=False, dropout=0.0, train=False, precision=None):
    """A whole recurrent stack (torch's ``_VF.rnn_tanh``/``lstm``/``gru``) in one kernel.

    Args:
        x: input (T, B, I), (B, T, I) with ``batch_first``, (T, I) unbatched, or packed data
            (N, I) when ``gather`` is given.
        hx, cx: initial states (L*D, B, H_out) / (L*D, B, H) (no batch dim when unbatched) or None.
        key: raw PRNG key for inter-layer dropout (None when no dropout is applied).
        gather: (T, B) int rows of packed data for each padded slot (N = padding), or None.
        scatter: (N,) flat (t * B + b) slot of each packed row, or None.
        perm, unperm: sorted_indices / unsorted_indices of a PackedSequence (or None).
        weights: torch's ``_flat_weights`` order: per layer and direction
            ``w_ih, w_hh[, b_ih, b_hh][, w_hr]``.

    Returns ``(output, h_n[, c_n][, new_key])``.
    """
    lstm = mode == "LSTM"
    ndir = 2 if bidirectional else 1
    has_proj = lstm and proj
    w0 = weights[0]
    input_size = w0.shape[1]
    hidden = weights[1].shape[0] // _GATES[mode]
    h_out = weights[4 if bias else 2].shape[0] if has_proj else hidden
    packed = gather is not None
    if x.dtype != w0.dtype:
        raise OpValueError(
            f"RNN input dtype ({_tname(x.dtype)}) does not match weight dtype ({_tname(w0.dtype)}). "
            f"Convert input: input.to({_tname(w0.dtype)}), or convert model: model.to({_tname(x.dtype)})")
    if not packed and x.ndim not in (2, 3):
        tensor = " tensor" if name == "RNN" else ""
        raise OpValueError(f"{name}: Expected input to be 2D or 3D, got {x.ndim}D{tensor} instead")
    batched = packed or x.ndim == 3
    want = 3 if batched else 2
    kind = "batched 3-D" if batched else "unbatched 2-D"
    if not packed and lstm and hx is not None and (hx.ndim != want or cx.ndim != want):
        raise ShapeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                         f"({hx.ndim}-D, {cx.ndim}-D) tensors")
    if not packed and not lstm and hx is not None and hx.ndim != want:
        raise ShapeError(f"For {kind} input, hx should also be {want}-D but got {hx.ndim}-D tensor")
    if x.shape[-1] != input_size:
        raise ShapeError(f"input.size(-1) must be equal to input_size. Expected {input_size}, "
                         f"got {x.shape[-1]}")
    if packed:
        n = x.shape[0]
        x = jnp.concatenate([x, jnp.zeros((1, input_size), x.dtype)])[gather]
        mask = (gather < n)[..., None]
    else:
        mask = None
        if not batched:
            x = x[:, None]
            hx = None if hx is None else hx[:, None]
            cx = None if cx is None else cx[:, None]
        elif batch_first:
            x = jnp.swapaxes(x, 0, 1)
    batch = x.shape[1]
    _check_hidden(hx, (num_layers * ndir, batch, h_out), "0" if lstm else None)
    _check_hidden(cx, (num_layers * ndir, batch, hidden), "1")
    if hx is None:
        hx = jnp.zeros((num_layers * ndir, batch, h_out), x.dtype)
    if lstm and cx is None:
        cx = jnp.zeros((num_layers * ndir, batch, hidden), x.dtype)
    if perm is not None:
        hx = hx[:, perm]
        cx = None if cx is None else cx[:, perm]
    use_drop = key is not None and train and dropout > 0 and num_layers > 1
    if use_drop:
        keys = jax.random.split(key, num_layers)
        key = keys[0]
    hns, cns = [], []
    it = iter(weights)
    for layer in range(num_layers):
        ys = []
        for d in range(ndir):
            w_ih, w_hh = next(it), next(it)
            b_ih, b_hh = (next(it), next(it)) if bias else (None, None)
            w_hr = next(it) if has_proj else None
            k = layer * ndir + d
            y, hn, cn = _direction(mode, x, hx[k], None if cx is None else cx[k],
                                   (w_ih, w_hh, b_ih, b_hh, w_hr), mask, d == 1, precision)
            ys.append(y)
            hns.append(hn)
            cns.append(cn)
        x = ys[0] if ndir == 1 else jnp.concatenate(ys, axis=-1)
        if use_drop and layer < num_layers - 1:
            keep = bernoulli_mask(keys[layer + 1], 1.0 - dropout, x.shape)
            scale = 0.0 if dropout >= 1 else 1.0 / (1.0 - dropout)
            x = jnp.where(keep, x * jnp.asarray(scale, x.dtype), jnp.zeros_like(x))
    h_n = jnp.stack(hns)
    c_n = jnp.stack(cns) if lstm else None
    if unperm is not None:
        h_n = h_n[:, unperm]
        c_n = None if c_n is None else c_n[:, unperm]
    if packed:
        out = x.reshape(-1, x.shape[-1])[scatter]
    elif not batched:
        out, h_n = x[:, 0], h_n[:, 0]
        c_n = None if c_n is None else c_n[:, 0]
    else:
        out = jnp.swapaxes(x, 0, 1) if batch_first else x
    res = (out, h_n) if c_n is None else (out, h_n, c_n)
    return res + (key,) if use_drop else res


@register("_rnn_cell", nin=7, precision=True, method=False, function=False, functional=False)
def _rnn_cell(x, hx, cx, w_ih, w_hh, b_ih, b_hh, mode, name, precision=None):
    """One step of ``RNNCell``/``LSTMCell``/``GRUCell`` (torch's ``_VF.*_cell``).

    Args:
        x: input (B, I) or (I,); hx, cx: states (B, H) or (H,), or None (zeros).
    Returns ``h'`` (RNN, GRU) or ``(h', c')`` (LSTM).
    """
    hidden = w_hh.shape[1]
    input_size = w_ih.shape[1]
    if x.ndim not in (1, 2):
        raise OpValueError(f"{name}: Expected input to be 1D or 2D, got {x.ndim}D instead")
    for i, h in enumerate((hx, cx)):
        if h is not None and h.ndim not in (1, 2):
            what = f"hx[{i}]" if mode == "LSTM" else "hidden"
            raise OpValueError(f"{name}: Expected {what} to be 1D or 2D, got {h.ndim}D instead")
    batched = x.ndim == 2
    if not batched:
        x = x[None]
        hx = None if hx is None else hx[None]
        cx = None if cx is None else cx[None]
    if x.shape[1] != input_size:
        raise ShapeError(f"{name}: input has inconsistent input_size: got {x.shape[1]} expected "
                         f"{input_size}")
    for i, h in enumerate((hx, cx)):
        if h is None:
            continue
        label = "" if mode != "LSTM" else f"[{i}]"
        if h.shape[0] != x.shape[0]:
            raise ShapeError(f"{name}: Input batch size {x.shape[0]} doesn't match hidden{label} batch "
                             f"size {h.shape[0]}")
        if h.shape[1] != hidden:
            raise ShapeError(f"{name}: hidden{label} has inconsistent hidden_size: got {h.shape[1]}, "
                             f"expected {hidden}")
    if hx is None:
        hx = jnp.zeros((x.shape[0], hidden), x.dtype)
    if mode == "LSTM" and cx is None:
        cx = jnp.zeros((x.shape[0], hidden), x.dtype)
    xp = _lin(x, w_ih, b_ih, precision)
    h, c = _gates(mode, xp, hx, cx, w_hh, b_hh, None, precision)
    if not batched:
        h = h[0]
        c = None if c is None else c[0]
    return h if c is None else (h, c)


# ----- packing kernels (nn.utils.rnn) -------------------------------------------------------------
@register("_pad_sequence", seq=True, method=False, function=False, functional=False)
def _pad_sequence(*seqs, batch_first=False, padding_value=0.0, left=False):
    """Stack sequences (L_i, *) into (T, B, *) (or (B, T, *)), padded with ``padding_value``."""
    t = max(s.shape[0] for s in seqs)
    dt = jnp.result_type(*seqs)
    rows = []
    for s in seqs:
        pad = jnp.full((t - s.shape[0],) + s.shape[1:], padding_value, dt)
        s = s.astype(dt)
        rows.append(jnp.concatenate([pad, s] if left else [s, pad]))
    return jnp.stack(rows, 0 if batch_first else 1)


@register("_pack_rows", nin=2, method=False, function=False, functional=False)
def _pack_rows(x, idx, batch_first=False):
    """Rows ``idx`` of the (T*B, *) time-major view of a padded batch: the packed ``data``."""
    if batch_first:
        x = jnp.swapaxes(x, 0, 1)
    return x.reshape((-1,) + x.shape[2:])[idx]


@register("_unpack_rows", nin=2, method=False, function=False, functional=False)
def _unpack_rows(data, idx, padding_value=0.0, batch_first=False):
    """Padded (T, B, *) batch from packed ``data`` and an index (T, B) into it (N = padding)."""
    pad = jnp.full((1,) + data.shape[1:], padding_value, data.dtype)
    out = jnp.concatenate([data, pad])[idx]
    return jnp.swapaxes(out, 0, 1) if batch_first else out
