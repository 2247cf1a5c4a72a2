"""``FlaxModule``: a ``flax.nnx`` module used as an mt Module."""

from __future__ import annotations

import jax

from ..._jax_op import apply_jax
from ..._tensor import Tensor, _wrap
from ..parameter import Parameter
from .module import Module

__all__ = ["FlaxModule"]


class _FlaxScope(Module):
    """A container that only holds the parameters/buffers under one nnx attribute path."""

    def forward(self, *args, **kwargs):
        raise RuntimeError("FlaxModule: a scope of the wrapped nnx module cannot be called on its own")


def _names(path) -> list[str]:
    out = []
    for k in path:
        v = getattr(k, "key", getattr(k, "idx", getattr(k, "name", k)))
        out.append(str(v).replace(".", "_"))
    if len(out) > 1 and out[-1] == "value":
        out.pop()
    return out


def _is_key(x) -> bool:
    return jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


class FlaxModule(Module):
    """Use a ``flax.nnx`` module as an mt Module.

    Every ``nnx.Param`` becomes an mt :class:`Parameter` registered under its nnx state path
    (``linear1.kernel``, ``layers.0.bias``), so ``named_parameters()``, ``state_dict()``,
    ``load_state_dict()``, ``mt.optim`` and ``mt.jit`` see them like any other parameters. Other
    nnx state (BatchNorm statistics, RNG keys/counters) becomes buffers under the same kind of names
    (RNG keys stored as their raw ``uint32`` key data); updates the nnx module makes to that state
    during a call are written back to the buffers.

    ``forward(*args, **kwargs)`` runs the nnx module (rebuilt with ``nnx.merge`` from the current
    Parameter and buffer arrays, inside one jitted function) as a single differentiable op: Tensors
    in the arguments are passed as jax arrays, other values are passed through, and array outputs
    come back as Tensors. ``train()``/``eval()`` also switch the nnx module's own mode.

    Args:
        nnx_module: a ``flax.nnx.Module`` (its current values are taken over; the object itself is
            not updated afterwards: call :meth:`to_nnx` for an nnx module with the trained values).
    """

    def __init__(self, nnx_module):
        super().__init__()
        from flax import nnx

        graphdef, params, rest = nnx.split(nnx_module, nnx.Param, ...)
        self._nnx_graphdef = graphdef
        self._nnx_type = type(nnx_module).__name__
        p_leaves, self._nnx_pdef = jax.tree_util.tree_flatten_with_path(params)
        r_leaves, self._nnx_rdef = jax.tree_util.tree_flatten_with_path(rest)
        self._nnx_params = [self._place(path, Parameter(_wrap(a))) for path, a in p_leaves]
        self._nnx_key_impls = {}
        bufs = []
        for i, (path, a) in enumerate(r_leaves):
            if _is_key(a):
                self._nnx_key_impls[i] = jax.random.key_impl(a)
                a = jax.random.key_data(a)
            bufs.append(self._place(path, _wrap(a), buffer=True))
        self._nnx_buffers = bufs
        self._nnx_cache = {}

    def _place(self, path, tensor, buffer=False):
        names = _names(path)
        owner = self
        for n in names[:-1]:
            child = owner._modules.get(n)
            if child is None:
                child = _FlaxScope()
                owner.add_module(n, child)
            owner = child
        if buffer:
            owner.register_buffer(names[-1], tensor)
        else:
            owner.register_parameter(names[-1], tensor)
        return tensor

    def _rest_state(self, arrays):
        leaves = [jax.random.wrap_key_data(a, impl=self._nnx_key_impls[i]) if i in self._nnx_key_impls else a
                  for i, a in enumerate(arrays)]
        return jax.tree_util.tree_unflatten(self._nnx_rdef, leaves)

    def _pure(self, treedef, statics, n_p, n_r):
        """The jitted function ``(params..., rest..., args...) -> (outputs..., new rest...)``."""
        from flax import nnx

        graphdef, pdef = self._nnx_graphdef, self._nnx_pdef
        box = self._nnx_out_defs

        def run(*arrays):
            p = jax.tree_util.tree_unflatten(pdef, arrays[:n_p])
            r = self._rest_state(arrays[n_p: n_p + n_r])
            m = nnx.merge(graphdef, p, r)
            vals, it = [], iter(arrays[n_p + n_r:])
            for s in statics:
                vals.append(next(it) if s is _ARRAY else s)
            args, kwargs = jax.tree_util.tree_unflatten(treedef, vals)
            out = m(*args, **kwargs)
            _, _, new_rest = nnx.split(m, nnx.Param, ...)
            flat, out_def = jax.tree_util.tree_flatten(out)
            box[(treedef, statics)] = out_def
            new = [jax.random.key_data(a) if _is_key(a) else a for a in jax.tree_util.tree_leaves(new_rest)]
            return tuple(flat) + tuple(new)

        return jax.jit(run)

    @property
    def _nnx_out_defs(self):
        d = self.__dict__.get("_nnx_out_store")
        if d is None:
            d = self.__dict__["_nnx_out_store"] = {}
        return d

    def forward(self, *args, **kwargs):
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs), is_leaf=lambda x: isinstance(x, Tensor))
        statics = tuple(_ARRAY if isinstance(x, (Tensor, jax.Array)) else x for x in leaves)
        arg_tensors = [x if isinstance(x, Tensor) else _wrap(x) for x in leaves
                       if isinstance(x, (Tensor, jax.Array))]
        params, bufs = self._nnx_params, self._nnx_buffers
        key = (treedef, statics)
        try:
            fn = self._nnx_cache.get(key)
        except TypeError:
            raise TypeError("FlaxModule: non-tensor arguments must be hashable") from None
        if fn is None:
            fn = self._nnx_cache[key] = self._pure(treedef, statics, len(params), len(bufs))
        outs = apply_jax(fn, list(params) + list(bufs) + arg_tensors, "flax_module")
        n_out = len(outs) - len(bufs)
        for b, new in zip(bufs, outs[n_out:]):
            if b._data is not new._data:
                b._data = new._data
                b._version += 1
        return jax.tree_util.tree_unflatten(self._nnx_out_defs[key], list(outs[:n_out]))

    def to_nnx(self):
        """A ``flax.nnx`` module holding the current parameter and buffer values."""
        from flax import nnx

        p = jax.tree_util.tree_unflatten(self._nnx_pdef, [t._data for t in self._nnx_params])
        r = self._rest_state([t._data for t in self._nnx_buffers])
        return nnx.merge(self._nnx_graphdef, p, r)

    def train(self, mode: bool = True):
        """Set mt's training flag and the nnx module's mode (``nnx.Module.train()``/``eval()``)."""
        super().train(mode)
        if "_nnx_graphdef" in self.__dict__:
            from flax import nnx
            m = self.to_nnx()
            m.train() if mode else m.eval()
            self._nnx_graphdef = nnx.split(m, nnx.Param, ...)[0]
            self._nnx_cache = {}
        return self

    def extra_repr(self) -> str:
        return self._nnx_type


class _ArrayMarker:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<array>"


_ARRAY = _ArrayMarker()
