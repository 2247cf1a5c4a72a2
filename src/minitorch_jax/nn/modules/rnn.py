"""nn layers: recurrent networks (``RNN``, ``LSTM``, ``GRU``) and their cells, torch's API.

A layer call is ONE table-op dispatch: the kernel ``_rnn_stack`` (``_ops/nn_rnn.py``) runs every
layer and direction with ``lax.scan``, including inter-layer dropout (its PRNG key goes in and
the advanced key comes out, so it also works under ``mt.jit``), unbatched input, ``batch_first``,
packed sequences and the shape checks (at trace time, so they cost nothing per call).
"""

from __future__ import annotations

import math
import numbers
import warnings

import jax.numpy as jnp
import numpy as np

from ... import _random
from ..._creation import empty
from ..._ops._registry import REGISTRY
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, _bs_key, _rnn_index
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_STACK = REGISTRY["_rnn_stack"].call
_CELL = REGISTRY["_rnn_cell"].call
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _uniform_all(params, hidden_size) -> None:
    """``init.uniform_(p, -k, k)`` for every parameter, k = 1/sqrt(hidden_size), as ONE draw.

    One uniform draw of a power-of-two length is split on the host, so building a layer compiles
    at most one sampler (per size class and dtype) instead of one per parameter shape.
    """
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    by_dtype: dict = {}
    for p in params:
        if p.is_meta:  # built on the meta device: nothing to fill, nothing to draw
            continue
        by_dtype.setdefault(p.dtype, []).append(p)
    for dt, ps in by_dtype.items():
        total = sum(p.numel() for p in ps)
        flat = empty(1 << max(total - 1, 1).bit_length(), dtype=dt)
        init.uniform_(flat, -stdv, stdv)
        vals = np.asarray(flat._data)
        start = 0
        for p in ps:
            n = p.numel()
            p._data = jnp.asarray(vals[start:start + n].reshape(tuple(p.shape)))
            p._version += 1
            start += n


class RNNBase(Module):
    """Base class of :class:`RNN`, :class:`LSTM` and :class:`GRU` (torch's ``nn.RNNBase``).

    Args:
        mode: 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'.
        input_size: features of the input x.
        hidden_size: features of the hidden state h.
        num_layers: stacked recurrent layers. Default 1.
        bias: use ``b_ih`` and ``b_hh``. Default True.
        batch_first: input/output are (B, T, F) instead of (T, B, F). Default False.
        dropout: dropout probability on the outputs of every layer but the last (training only).
        bidirectional: also run each layer backwards in time and concatenate. Default False.
        proj_size: LSTM only: project h to this size (``weight_hr_l{k}``). Default 0 (off).

    Parameters are named as in torch (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``,
    ``bias_hh_l0``, ``..._reverse``, ``weight_hr_l0``) and initialised from
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of "
                             "an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero "
                          "dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate = _GATES[mode] * hidden_size
        ndir = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        kw = {"device": device, "dtype": dtype}
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for d in range(ndir):
                in_size = input_size if layer == 0 else real_hidden * ndir
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                shapes = [("weight_ih", (gate, in_size)), ("weight_hh", (gate, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for stem, shape in shapes:
                    setattr(self, stem + sfx, Parameter(empty(*shape, **kw)))
                    names.append(stem + sfx)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list:
        p = self._parameters
        return [p.get(n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters, one list per layer and direction (torch's ``all_weights``)."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """No-op (torch compacts cuDNN weights here; the kernel reads the parameters directly)."""

    def reset_parameters(self) -> None:
        """Re-initialise every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        _uniform_all(list(self.parameters()), self.hidden_size)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _run(self, input, hx, cx):
        """One kernel call; returns (output, h_n, c_n or None) with PackedSequence output if packed."""
        p = self._parameters
        ws = [p[n] for n in self._flat_weights_names]
        drop = self.training and self.dropout > 0 and self.num_layers > 1
        gen = _random.default_generator if drop else None
        key = gen._key if drop else None
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes, perm, unperm = input
            gather, scatter = _rnn_index(_bs_key(batch_sizes))
        else:
            data, gather, scatter, perm, unperm = input, None, None, None, None
        outs = _STACK(data, hx, cx, key, gather, scatter, perm, unperm, *ws, mode=self.mode,
                      name=type(self).__name__ if self.mode[:3] != "RNN" else "RNN",
                      num_layers=self.num_layers, bidirectional=self.bidirectional, bias=self.bias,
                      batch_first=self.batch_first, proj=self.proj_size > 0,
                      dropout=self.dropout if drop else 0.0, train=drop)
        if drop:
            gen._key = outs[-1]._data
            outs = outs[:-1]
        out = PackedSequence(outs[0], batch_sizes, perm, unperm) if packed else outs[0]
        return out, outs[1], (outs[2] if len(outs) > 2 else None)


class RNN(RNNBase):
    """Multi-layer Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (torch's nn.RNN).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, device=None, dtype=None)``; ``nonlinearity`` is 'tanh' or 'relu'.

    Shapes: input (T, B, H_in) / (B, T, H_in) with batch_first / (T, H_in) / a PackedSequence;
    h_0 (D * num_layers, B, H) or (D * num_layers, H). Returns ``(output, h_n)``, output
    (T, B, D * H) (a PackedSequence for packed input).
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """Run the RNN over ``input`` from ``hx`` (zeros if None); returns ``(output, h_n)``."""
        out, h, _ = self._run(input, hx, None)
        return out, h


class LSTM(RNNBase):
    """Multi-layer LSTM (torch's nn.LSTM), gates ``i, f, g, o``; optional projection ``proj_size``.

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0, device=None, dtype=None)``.

    Shapes: input as :class:`RNN`; ``hx = (h_0, c_0)`` with h_0 (D * num_layers, B, H_out),
    c_0 (D * num_layers, B, H) (H_out = proj_size or hidden_size). Returns
    ``(output, (h_n, c_n))``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        """Run the LSTM over ``input`` from ``hx = (h_0, c_0)``; returns ``(output, (h_n, c_n))``."""
        h0, c0 = (None, None) if hx is None else hx
        out, h, c = self._run(input, h0, c0)
        return out, (h, c)


class GRU(RNNBase):
    """Multi-layer GRU (torch's nn.GRU), gates ``r, z, n``:
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, device=None, dtype=None)``. Shapes and outputs as :class:`RNN`.
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        """Run the GRU over ``input`` from ``hx`` (zeros if None); returns ``(output, h_n)``."""
        out, h, _ = self._run(input, hx, None)
        return out, h


class RNNCellBase(Module):
    """Base of the cells: ``weight_ih`` (chunks * H, I), ``weight_hh`` (chunks * H, H),
    ``bias_ih``/``bias_hh`` (chunks * H) or None; init U(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        kw = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, **kw))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, **kw))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        """Re-initialise every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        _uniform_all(list(self.parameters()), self.hidden_size)

    def _cell(self, mode, input, hx, cx):
        p = self._parameters
        return _CELL(input, hx, cx, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"],
                     mode, type(self).__name__)


class RNNCell(RNNCellBase):
    """One Elman RNN step ``h' = act(W_ih x + b_ih + W_hh h + b_hh)`` (torch's nn.RNNCell).

    ``RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh', device=None, dtype=None)``.
    input (B, I) or (I,); hx (B, H) or (H,) (zeros if None); returns h' of hx's shape.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """One step from ``hx``; returns the next hidden state."""
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._cell(mode, input, hx, None)


class LSTMCell(RNNCellBase):
    """One LSTM step (torch's nn.LSTMCell), gates ``i, f, g, o``.

    ``LSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None)``. input (B, I) or (I,);
    ``hx = (h, c)`` each (B, H) or (H,) (zeros if None); returns ``(h', c')``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """One step from ``hx = (h, c)``; returns ``(h', c')``."""
        h, c = (None, None) if hx is None else hx
        return self._cell("LSTM", input, h, c)


class GRUCell(RNNCellBase):
    """One GRU step (torch's nn.GRUCell), gates ``r, z, n``.

    ``GRUCell(input_size, hidden_size, bias=True, device=None, dtype=None)``. input (B, I) or (I,);
    hx (B, H) or (H,) (zeros if None); returns h'.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """One step from ``hx``; returns the next hidden state."""
        return self._cell("GRU", input, hx, None)
