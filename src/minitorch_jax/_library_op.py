"""The runtime of a user-defined op (``mt.library``): kernels, fake impls, autograd, mutation.

One :class:`OpEntry` per ``ns::name[.overload]``. Calling it:

1. binds the arguments to the op's schema (defaults filled in);
2. if gradients are recorded and a tensor input requires grad, runs through a generated
   ``mt.autograd.Function`` (``GeneratedBackwardFor_<ns>_<name>_defaultBackward``) whose backward is the
   one given to ``register_autograd`` (or raises torch's "no autograd formula" error);
3. runs the kernel for the inputs' device on fresh tensor handles (so a kernel that writes into an
   argument, ``x.copy_(...)`` / ``x[...] = ...``, is seen and written back into the caller's tensor);
4. under ``mt.jit`` (inputs hold JAX tracers), a kernel that cannot be traced (it reads values: numpy,
   ``.item()``) runs as ``jax.pure_callback`` on the host with the output shapes/dtypes the fake impl
   (``register_fake``) gives, as torch.compile treats a custom op as opaque.
"""

from __future__ import annotations

import inspect
import threading

import jax
import jax.numpy as jnp
import numpy as np

from ._grad_mode import STATE, no_grad
from ._tensor import Tensor, _wrap
from .autograd.function import Function

__all__ = ["OpEntry", "REGISTRY", "FakeImplCtx", "current_fake_ctx", "flatten_tensors"]

REGISTRY: dict = {}  # "ns::name" or "ns::name.overload" -> OpEntry

_Tracer = jax.core.Tracer
_LOCAL = threading.local()


def _trace_errors():
    from .jit._diagnose import TRACE_ERRORS
    return TRACE_ERRORS


class FakeImplCtx:
    """What :func:`mt.library.get_ctx` returns inside a fake impl (torch's ``FakeImplCtx``)."""

    def new_dynamic_size(self, *, min=0, max=None):
        """A data-dependent output size: not expressible under JAX (static shapes); raises."""
        raise NotImplementedError(
            "torch.library.get_ctx().new_dynamic_size: data-dependent output sizes cannot be expressed "
            "in minitorch_jax (JAX needs static shapes under mt.jit); give the fake impl a size that "
            "depends only on input shapes, or call the op outside mt.jit")

    new_dynamic_size_symint = new_dynamic_size
    create_unbacked_symint = new_dynamic_size


def current_fake_ctx():
    """The ctx of the fake impl running now, or None."""
    return getattr(_LOCAL, "fake_ctx", None)


def flatten_tensors(tree):
    """``(leaves, treedef)`` of a nested output, Tensors being leaves."""
    return jax.tree_util.tree_flatten(tree, is_leaf=lambda t: isinstance(t, Tensor) or t is None)


def _collect(pos, kw) -> list:
    """The tensors among the bound arguments (inside lists too), in order."""
    out = []
    for v in (*pos, *kw.values()):
        if isinstance(v, Tensor):
            out.append(v)
        elif isinstance(v, (list, tuple)):
            out.extend(x for x in v if isinstance(x, Tensor))
    return out


def _replace(pos, kw, new):
    """The bound arguments with their tensors replaced, in order, by ``new``."""
    it = iter(new)

    def rep(v):
        if isinstance(v, Tensor):
            return next(it)
        if isinstance(v, (list, tuple)) and any(isinstance(x, Tensor) for x in v):
            return type(v)(next(it) if isinstance(x, Tensor) else x for x in v)
        return v
    p = [rep(v) for v in pos]
    k = {n: rep(v) for n, v in kw.items()}
    return p, k


def _device_type(tensors) -> str:
    for t in tensors:
        try:
            return t.device.type
        except Exception:
            continue
    return "cpu"


class OpEntry:
    """One user-defined op: schema, kernels per device, fake impl, autograd formula."""

    def __init__(self, ns: str, name: str, schema, overload: str = ""):
        self.ns, self.name, self.overload = ns, name, overload
        self.qualname = f"{ns}::{name}"
        self.schema = schema
        schema.name = self.qualname
        self.kernels: dict = {}  # device type (None = any) -> fn
        self.disabled: set = set()
        self.fake = None
        self.backward = None
        self.setup_context = None
        self.implicit_autograd = False  # the kernel is differentiated through its own ops
        self.dispatch_rules: dict = {}  # tensor subclass -> fn (register_torch_dispatch)
        self.vmap = None
        self.autocast = None
        self.needs_callback = False
        self.fn_cls = self._make_function()
        self._kw = {}
        self._tensor_names = [a.name for a in schema.arguments if a.is_tensor_like]
        self._mutable = {a.name for a in schema.arguments if a.is_write}

    @property
    def label(self) -> str:
        """``ns.name.default``, as torch names the op in messages."""
        return f"{self.ns}.{self.name}.{self.overload or 'default'}"

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        pos, kw = self.schema.bind(args, kwargs, self.qualname)
        tensors = _collect(pos, kw)
        if self.dispatch_rules:
            for t in tensors:
                for cls, fn in self.dispatch_rules.items():
                    if isinstance(t, cls):
                        from . import ops
                        packet = getattr(ops.namespace(self.ns), self.name)
                        return fn(cls, packet.default, (type(t),), tuple(pos), kw)
        if STATE.grad and any(t.requires_grad for t in tensors):
            if self.implicit_autograd and self.backward is None:
                return self._kernel(tensors)(*pos, **kw)
            return self.fn_cls.apply(*pos, **kw)
        return self.forward(pos, kw)

    def _kernel(self, tensors):
        dev = _device_type(tensors)
        for key in (dev, None):
            fn = self.kernels.get(key)
            if fn is not None and key not in self.disabled:
                return fn
        raise NotImplementedError(
            f"Could not run '{self.qualname}' with arguments from the '{dev.upper()}' backend. This could "
            f"be because the operator doesn't exist for this backend. '{self.qualname}' has kernels for: "
            f"{[k or 'any device' for k in self.kernels]}")

    def forward(self, pos, kw):
        """Run the kernel (gradients off) on fresh handles, write mutated arguments back, return outputs."""
        tensors = _collect(pos, kw)
        kernel = self._kernel(tensors)
        copies = [_wrap(t._data) for t in tensors]
        cpos, ckw = _replace(pos, kw, copies)
        tracing = any(isinstance(t._data, _Tracer) for t in tensors)
        with no_grad():
            if tracing and self.needs_callback and self.fake is not None:
                out = self._callback(kernel, pos, kw, tensors, copies)
            else:
                try:
                    out = kernel(*cpos, **ckw)
                except _trace_errors() as e:
                    if not tracing:
                        raise
                    if self.fake is None:
                        raise RuntimeError(
                            f"{self.qualname}: the op's implementation cannot be traced under mt.jit ({e}). "
                            "Register a fake impl with register_fake (it gives the output shapes/dtypes) so "
                            "the implementation runs on the host as a callback.") from e
                    self.needs_callback = True
                    for c, t in zip(copies, tensors):
                        c._data = t._data
                    out = self._callback(kernel, pos, kw, tensors, copies)
            self._check_alias(out, tensors, copies)
            for t, c in zip(tensors, copies):
                if c._data is not t._data:
                    t.copy_(c)
        return out

    def _check_alias(self, out, tensors, copies):
        ids = {id(t) for t in tensors} | {id(c) for c in copies}
        leaves, _ = flatten_tensors(out)
        seen = set()
        for o in leaves:
            if isinstance(o, Tensor):
                if id(o) in ids or id(o) in seen:
                    raise RuntimeError(
                        f"{self.qualname}: The output of this custom operator (1) must not also be an input "
                        "to this custom operator and (2) may not alias any inputs to this custom operator or "
                        "other returns. The most common way to trigger this error is if we have y = "
                        "custom_op(x) and y and x are the same Tensor. Please instead return a clone of the "
                        "offending output tensor(s) (e.g. return x.clone()) or refactor the custom operator "
                        "to not return y.")
                seen.add(id(o))

    # ------------------------------------------------------------------ fake / callback
    def fake_outputs(self, pos, kw, tensors):
        """Run the fake impl abstractly: ``(leaves, treedef)`` with ShapeDtypeStructs for tensor leaves."""
        if self.fake is None:
            raise RuntimeError(
                f"There was no fake impl registered for <CustomOpDef({self.qualname})>. This is necessary "
                "for torch.compile/export/fx tracing to work. Please use `f.register_fake` to add an fake "
                "impl.")
        holder = {}

        def fn(*arrays):
            ts = [_wrap(a) for a in arrays]
            p, k = _replace(pos, kw, ts)
            prev = current_fake_ctx()
            _LOCAL.fake_ctx = FakeImplCtx()
            try:
                with no_grad():
                    out = self.fake(*p, **k)
            finally:
                _LOCAL.fake_ctx = prev
            leaves, tree = flatten_tensors(out)
            holder["leaves"], holder["tree"] = leaves, tree
            return [x._data for x in leaves if isinstance(x, Tensor)]

        specs = jax.eval_shape(fn, *[jax.ShapeDtypeStruct(t._data.shape, t._data.dtype) for t in tensors])
        it = iter(specs)
        leaves = [next(it) if isinstance(x, Tensor) else x for x in holder["leaves"]]
        return leaves, holder["tree"]

    def _mutable_positions(self, pos, kw) -> list[int]:
        """Indices (into the collected tensors) of arguments declared as written in place."""
        idx, out = 0, []
        names = [a.name for a in self.schema.arguments if not a.kwarg_only]
        items = list(zip(names, pos)) + list(kw.items())
        for name, v in items:
            n = 1 if isinstance(v, Tensor) else (
                sum(isinstance(x, Tensor) for x in v) if isinstance(v, (list, tuple)) else 0)
            if name in self._mutable:
                out.extend(range(idx, idx + n))
            idx += n
        return out

    def _callback(self, kernel, pos, kw, tensors, copies):
        leaves, tree = self.fake_outputs(pos, kw, tensors)
        specs = [x for x in leaves if isinstance(x, jax.ShapeDtypeStruct)]
        mut = self._mutable_positions(pos, kw)
        result = tuple(specs) + tuple(jax.ShapeDtypeStruct(tensors[i]._data.shape, tensors[i]._data.dtype)
                                      for i in mut)
        qual = self.qualname

        def host(*arrays):
            ts = [_wrap(jnp.asarray(a)) for a in arrays]
            p, k = _replace(pos, kw, ts)
            with no_grad():
                out = kernel(*p, **k)
            got = [x for x in flatten_tensors(out)[0] if isinstance(x, Tensor)]
            if len(got) != len(specs):
                raise RuntimeError(f"{qual}: the implementation returned {len(got)} tensors but the fake "
                                   f"impl returned {len(specs)}")
            for g, s in zip(got, specs):
                if tuple(g.shape) != tuple(s.shape):
                    raise RuntimeError(f"{qual}: the implementation returned shape {list(g.shape)} but the "
                                       f"fake impl said {list(s.shape)}")
            return (tuple(np.asarray(g._data).astype(s.dtype) for g, s in zip(got, specs))
                    + tuple(np.asarray(ts[i]._data).astype(result[len(specs) + j].dtype)
                            for j, i in enumerate(mut)))

        res = jax.pure_callback(host, result, *[t._data for t in tensors], vmap_method="sequential")
        outs, news = res[:len(specs)], res[len(specs):]
        for i, a in zip(mut, news):
            copies[i]._data = a
        it = iter(outs)
        return jax.tree_util.tree_unflatten(
            tree, [_wrap(next(it)) if isinstance(x, jax.ShapeDtypeStruct) else x for x in leaves])

    # ------------------------------------------------------------------ autograd
    def _make_function(self):
        entry = self

        def forward(*args, **kw):
            entry._kw = kw
            return entry.forward(list(args), kw)

        def setup_context(ctx, inputs, output):
            fn = entry.setup_context
            if fn is None:
                return
            kw = entry._kw
            if kw and _accepts(fn, "keyword_only_inputs"):
                fn(ctx, inputs, output, keyword_only_inputs=kw)
            else:
                fn(ctx, inputs, output)

        def backward(ctx, *grads):
            if entry.backward is None:
                raise RuntimeError(f"Trying to backward through {entry.label} but no autograd formula was "
                                   "registered. Please use register_autograd to add one.")
            return entry.backward(ctx, *grads)

        name = f"GeneratedBackwardFor_{self.ns}_{self.name}_{self.overload or 'default'}"
        return type(name, (Function,), {"forward": staticmethod(forward),
                                        "setup_context": staticmethod(setup_context),
                                        "backward": staticmethod(backward), "__module__": __name__})


def _accepts(fn, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
