"""The op table: every tensor op is one :class:`OpDef`, defined once and read everywhere.

An entry holds the op's name, its forward on jax.numpy arrays, how its inputs are promoted and
how its gradient is found. From it come the ``mt.`` function, the Tensor method, the in-place
``name_`` variant, operators, and (later) ``nn.functional``.

Eager execution stays thin: the forward of each op is a ``jax.jit`` cached per static arguments
(JAX caches per input shape/dtype), so a call is one dispatch. With autograd recording, the
node keeps the (immutable, so free to keep) input arrays, and the backward is one more cached
``jax.jit`` that re-runs the forward under ``jax.vjp`` - XLA drops whatever the gradient does not
need. The same backward is itself an op, which gives higher-order gradients.
"""

from __future__ import annotations

import inspect
import sys
import weakref

import jax
import jax.numpy as jnp
import numpy as np
from jax.export import is_symbolic_dim

from .. import _autocast_state, _dtype, _precision
from .._autograd_graph import Node, accumulate_node, current_version
from .._errors import MiniTorchError, OpTypeError, ShapeError, TracedValueError, user_facing
from .._grad_mode import STATE
from .._meta import META_ARRAY as _META
from .._meta import eval_meta, is_meta_array, needs_values
from .._scalars import device_scalar
from .._tensor import Tensor, _wrap

__all__ = ["OpDef", "register", "REGISTRY", "Sample", "dispatch"]

REGISTRY: dict[str, OpDef] = {}

# Set by ``utils/_selective_checkpoint.py`` while a selectively checkpointed function runs: every op
# call then goes through ``DISPATCH_HOOK(op, targs, rest, kwargs)`` (which calls dispatch itself,
# with the hook unset). None (the normal case) costs one global check per call.
DISPATCH_HOOK = None

# Set by ``autograd/forward_ad.py`` while a dual level is active: ``FORWARD_AD.on_op(op, key, targs,
# arrays, outs)`` after each dispatched op (gives outputs their tangents) and
# ``FORWARD_AD.on_inplace(t, res)`` in commit_inplace. Set by ``autograd/graph.py`` while saved-tensor
# hooks (or allow_mutation_on_saved_tensors) are active: ``SAVED_TENSORS_HOOK(node, targs, outs)``
# after a node is recorded. None (the normal case) costs one global check.
FORWARD_AD = None
SAVED_TENSORS_HOOK = None
# Observers (``utils/flop_counter.py``): each ``fn(op, targs, rest, kwargs, out)`` is called after every op
# call made through dispatch, with its result. Empty (the normal case) costs one check per call.
DISPATCH_OBSERVERS: list = []
# ``_ops/views.py`` (set when it is imported): view tagging, re-reading and write-back.
VIEWS = None

_SCALARS = (int, float, bool, complex)
_NP_SCALARS = np.number  # (a numpy bool stays refused: it is a mask in masked_fill/where positions)


class Sample:
    """Sample inputs for an op's parity test: positional ``args`` and ``kwargs``.

    numpy arrays in ``args`` (also inside lists) become tensors in both libraries; everything
    else is passed as is. ``grad=False`` skips the gradient comparison for this sample.
    """

    __slots__ = ("args", "kwargs", "grad", "rtol", "atol", "method")

    def __init__(self, *args, grad=True, rtol=None, atol=None, method=True, **kwargs):
        self.args = args
        self.kwargs = kwargs
        self.grad = grad
        self.rtol = rtol
        self.atol = atol
        self.method = method

    def __repr__(self) -> str:
        def show(a):
            if isinstance(a, np.ndarray):
                return f"array{list(a.shape)}:{a.dtype}"
            if isinstance(a, (list, tuple)):
                return type(a)(show(x) for x in a)
            return repr(a)
        parts = [str(show(a)) for a in self.args] + [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        return "(" + ", ".join(parts) + ")"


def _camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.strip("_").split("_"))


class OpDef:
    """One entry of the op table.

    Args:
        name: torch's name for the op (``mt.<name>``, ``Tensor.<name>``).
        fn: the forward on jax arrays: ``fn(*tensor_args, *static_args, **static_kwargs)``.
        nin: how many leading positional arguments are tensors (Python scalars allowed there);
            -1 for all positional arguments; ``seq=True`` makes the first argument a sequence
            of tensors instead.
        promote: None (no casting), 'common' (cast the promoted inputs to torch's result type),
            or 'float' (like 'common', and integer results become the default float dtype).
        promote_args: positions that take part in promotion (default: all tensor positions).
        differentiable: whether autograd records this op.
        saves: positions of inputs torch saves for backward (checked for in-place changes and
            freed after backward), or 'output' when torch saves the result.
        inplace: also install ``name_`` (the in-place variant) on Tensor; ``"resize"`` for shape
            ops whose in-place form changes the tensor's shape (``squeeze_``).
        method / function: install as a Tensor method / an ``mt.`` function.
        functional: also appear in ``mt.nn.functional``.
        dunder: operator name stem (``'add'`` installs ``__add__``, ``__radd__``, ``__iadd__``).
        jit: False for ops whose output shape depends on the data (run eagerly).
        out_wrap: callable turning a tuple of output tensors into the returned object.
        grad_name: the ``grad_fn`` class name (default ``<Name>Backward0``).
        precision: the op does matmuls/convolutions and takes ``precision=`` from the global
            float32 matmul precision setting.
        samples: a function returning a list of :class:`Sample` for the parity tests.
        aliases: other names for the same op.
        grad_out: for one-input ops whose gradient is cheapest from the result
            (``tanh``: ``g * (1 - y**2)``): ``grad_out(g, y)``. The node then keeps the output
            instead of re-running the forward, as torch saves the result. (``create_graph``
            still differentiates the forward through jax.vjp.)
        impl: for ops with overloaded signatures (``max(x)``, ``max(x, dim)``, ``max(x, y)``):
            the public callable, written in Python on top of ``op.call`` (the plain dispatching
            callable of this entry) and other ops. ``fn`` stays the traced kernel.
    """

    def __init__(self, name, fn, *, nin=1, seq=False, promote=None, promote_args=None,
                 differentiable=True, saves=(), inplace=False, method=True, function=True,
                 functional=False, dunder=None, jit=True, out_wrap=None, grad_name=None,
                 precision=False, samples=None, aliases=(), torch_name=None, impl=None,
                 grad_out=None):
        self.name = name
        self.fn = fn
        self.nin = nin
        self.seq = seq
        self.promote = promote
        self.promote_args = promote_args
        self.differentiable = differentiable
        self.saves = saves
        self.inplace = inplace
        self.method = method
        self.function = function
        self.functional = functional
        self.dunder = dunder
        self.jit = jit
        self.out_wrap = out_wrap
        self.precision = precision
        self.samples = samples
        self.aliases = tuple(aliases)
        self.torch_name = torch_name or name
        self.impl = impl
        self.view = False  # torch returns a view (set for the view ops by ``_ops/views.py``)
        if grad_out is not None:
            rule = grad_out

            def grad_out(g, y):  # torch's complex convention: see _conj_if_complex
                return _conj_if_complex(rule(_conj_if_complex(g), y))
        self.grad_out = grad_out
        self._out_bwd = jax.jit(lambda y, g: grad_out(g.astype(y.dtype), y),
                                inline=True) if grad_out else None
        self.doc = (impl.__doc__ if impl is not None and impl.__doc__ else fn.__doc__)
        self.call = None  # the dispatching callable, set when the table is installed
        grad_name = grad_name or _camel(name) + "Backward0"
        self.node_cls = type(grad_name, (_OpNode,), {"__slots__": (), "_saves": bool(saves)})
        self._fwd: dict = {}
        self._bwd: dict = {}
        self._backward_op = None

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    # ----- compiled pieces, cached per static key ------------------------------------
    def bound(self, key):
        """The forward as a function of the tensor inputs only, with casts and static args bound."""
        rest, kw, dt, cast_pos = key
        fn = self.fn
        rest = _thaw(rest)
        kwargs = {k: _thaw(v) for k, v in kw}

        if dt is None:
            def f(*xs):
                return fn(*xs, *rest, **kwargs)
        else:
            def f(*xs):
                xs = [(_cast(x, dt) if (i in cast_pos and x is not None) else x)
                      for i, x in enumerate(xs)]
                return fn(*xs, *rest, **kwargs)
        return f

    def forward(self, key):
        f = self._fwd.get(key)
        if f is None:
            f = self.bound(key)
            if self.jit:
                f = jax.jit(f, inline=True)
            self._fwd[key] = f
        return f

    def backward_fn(self, key, mask, jit=True):
        """``bwd(xs, gs) -> grads of the masked inputs`` (xs: all inputs; gs: output cotangents)."""
        ck = (key, mask, jit)
        f = self._bwd.get(ck)
        if f is None:
            fwd = self.bound(key)

            def bwd(xs, gs):
                def g(*dx):
                    it = iter(dx)
                    full = [next(it) if m else x for x, m in zip(xs, mask)]
                    out = fwd(*full)
                    outs = out if isinstance(out, (tuple, list)) else (out,)
                    diff = tuple(o for o in outs if _dtype.is_inexact(o.dtype))
                    return diff, None
                primals = [x for x, m in zip(xs, mask) if m]
                diff_out, vjp_fn, _ = jax.vjp(g, *primals, has_aux=True)
                cts = []
                gi = iter(gs)
                for o in diff_out:
                    c = next(gi)
                    cts.append(jnp.zeros(o.shape, o.dtype) if c is None else
                               _conj_if_complex(c.astype(o.dtype)))
                return tuple(_conj_if_complex(r) for r in vjp_fn(tuple(cts)))

            f = jax.jit(bwd, inline=True) if (jit and self.jit) else bwd
            self._bwd[ck] = f
        return f

    @property
    def backward_op(self) -> OpDef:
        """This op's backward as a differentiable op of its own (for ``create_graph=True``)."""
        if self._backward_op is None:
            base = self

            def backward(*args, key, mask, nx):
                # key/mask arrive thawed (plain bools); re-mark them to share the base op's cache
                return base.backward_fn(_freeze(key), tuple(mask), jit=False)(args[:nx], args[nx:])

            self._backward_op = OpDef(
                self.name + "_backward", backward, nin=-1, method=False, function=False,
                grad_name=self.node_cls.__name__.replace("Backward0", "BackwardBackward0"),
                saves=(0,), jit=self.jit)
        return self._backward_op


def _conj_if_complex(a):
    """torch's gradients of complex tensors are the conjugates of JAX's cotangents (torch
    reports dL/d(conj z), JAX's vjp gives the transpose of the holomorphic derivative), so
    complex cotangents are conjugated on the way into a vjp and out of it."""
    return jnp.conj(a) if jnp.iscomplexobj(a) else a


def _cast(x, dt):
    if isinstance(x, _SCALARS):
        return jnp.asarray(x, dt)
    return x if x.dtype == dt else x.astype(dt)


class _OpNode(Node):
    """The grad_fn of a recorded op: re-runs the op's forward under jax.vjp when called."""

    __slots__ = ("_op", "_key", "_mask", "_xs", "_inputs", "_versions", "_from_out")

    def _apply(self, grads, create_graph):
        self._check_versions()
        op = self._op
        if create_graph:
            bop = op.backward_op
            tensors = list(self._inputs)
            outs = dispatch(bop, tensors + list(grads), (),
                            {"key": self._key, "mask": self._mask, "nx": len(tensors)})
            return [outs] if isinstance(outs, Tensor) else list(outs)
        if self._from_out:
            return [_wrap(op._out_bwd(self._xs[0], grads[0]._data))]
        gs = [None if g is None else g._data for g in grads]
        res = op.backward_fn(self._key, self._mask)(self._xs, gs)
        return [_wrap(r) for r in res]

    def _check_versions(self):
        versions = self._versions
        if not versions:
            return
        for ref, v in versions:
            t = ref() if isinstance(ref, weakref.ref) else ref
            if t is not None and current_version(t) != v:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{t.dtype} {list(t.shape)}], which is needed by "
                    f"{self.name()}, is at version {current_version(t)}; expected version {v} instead. "
                    f"Hint: replace the in-place op (e.g. x.add_(...)) with its out-of-place form "
                    f"(x = x + ...), or clone the tensor before modifying it.")

    def _release(self):
        self._freed = True
        if self._op.saves:
            self._xs = None

    def _check_not_freed(self):
        if self._freed and self._xs is None:
            Node._check_not_freed(self)

    @property
    def _saved_tensors(self):
        return tuple(t for t in self._inputs if isinstance(t, Tensor))


class _StaticBool:
    """A bool inside a cache key: ``True == 1`` and ``hash(False) == hash(0)``, so plain bools
    would share compiled kernels with ints (``var(x, False)`` vs ``var(x, 0)``)."""

    __slots__ = ("value",)

    def __init__(self, value: bool):
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)


_TRUE, _FALSE = _StaticBool(True), _StaticBool(False)


class _StaticFloat:
    """An integral float inside a cache key (``1.0 == 1`` would share the int's kernel, which may
    refuse floats or give another dtype)."""

    __slots__ = ("value",)

    def __init__(self, value: float):
        self.value = value

    def __eq__(self, other):
        return other.__class__ is _StaticFloat and other.value == self.value

    def __hash__(self):
        return hash((_StaticFloat, self.value))

    def __repr__(self) -> str:
        return repr(self.value)


def _thaw(v):
    """Undo the bool marking of :func:`_freeze` (once, when a kernel is built)."""
    if v.__class__ is _StaticBool or v.__class__ is _StaticFloat:
        return v.value
    if v.__class__ is tuple:
        return tuple(_thaw(x) for x in v)
    return v


def _freeze(v):
    """Make a static argument hashable (lists become tuples; 0-d tensors their value)."""
    if v is True:
        return _TRUE
    if v is False:
        return _FALSE
    if v.__class__ is float and v.is_integer():
        return _StaticFloat(v)
    if isinstance(v, list | tuple):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, Tensor):
        if v._data.ndim == 0:
            return v.item()
        return _freeze(np.asarray(v._data).tolist())
    if isinstance(v, np.generic):
        return _freeze(v.item())
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    return v


def _to_array(a, name):
    if isinstance(a, jax.Array):
        return a
    if is_symbolic_dim(a):  # a dynamic size (x.shape[0] inside mt.export): an int64 value, as torch's SymInt
        return jnp.asarray(a).astype(jnp.int64)
    if isinstance(a, np.ndarray):
        return jnp.asarray(a)
    if isinstance(a, list | tuple):
        from .._creation import tensor_from_data
        return tensor_from_data(a)._data
    raise TypeError(f"{name}(): expected a Tensor or a number, got {type(a).__name__}")


def dispatch(op: OpDef, targs, rest, kwargs):
    """Run ``op`` on tensor arguments ``targs`` with static ``rest``/``kwargs``; record autograd."""
    if DISPATCH_HOOK is not None:
        return DISPATCH_HOOK(op, targs, rest, kwargs)
    arrays = []
    needs_grad = False
    has_scalar = False
    has_meta = False
    grad_on = STATE.grad
    for a in targs:
        if isinstance(a, Tensor):
            v = a._view
            if v is not None and ((rt := v._ref()) is None or rt._data is not v.arr):
                VIEWS.sync(a)  # a view whose root changed in place (or is gone): re-read it (or unlink)
            d = a._data
            if d.__class__ is _META:
                has_meta = True
            arrays.append(d)
            if a.requires_grad and grad_on:
                needs_grad = True
        elif a is None:
            arrays.append(a)
        elif isinstance(a, _NP_SCALARS):  # np.float64(.3), np.int64(3): a Python number, as in torch
            if not arrays and not isinstance(a, _SCALARS):  # ... except as the input tensor (torch refuses)
                raise TypeError(f"{op.name}(): argument 'input' (position 1) must be Tensor, not "
                                f"numpy.{type(a).__name__}")
            arrays.append(a.item())
            has_scalar = True
        elif isinstance(a, _SCALARS):
            arrays.append(a)
            has_scalar = True
        else:
            if getattr(a, "_mt_deferred", False):  # a placeholder graph: record instead of running
                from ..jit._placeholder import record
                return record(op, targs, rest, kwargs)
            arrays.append(_to_array(a, op.name))
    rest0 = rest
    if rest:
        rest = _freeze(rest)
    kw = tuple((k, _freeze(v)) for k, v in kwargs.items()) if kwargs else ()
    if op.precision:
        kw += _precision.KEY[0]
    dt = None
    cast_pos = ()
    promote = op.promote
    if promote is not None:
        if promote.__class__ is not str:
            promote = promote(rest, kwargs)
        pa = op.promote_args
        if pa is None:
            vals = arrays
            cast_pos = _ALL_POS
        else:
            vals = [arrays[i] for i in pa if i < len(arrays)]
            cast_pos = pa
        dt = _result_dtype(vals)
        if promote == "float" and dt is not None and dt not in _INEXACT:
            dt = _dtype.get_default_dtype().np
    if _AUTOCAST[0] is not None:
        kind = _autocast_state.table(_AUTOCAST[0][1]).get(op.name)
        if kind is not None:
            dt, cast_pos = _autocast_state.cast_plan(kind, arrays, dt, cast_pos, _AUTOCAST[0][0])
    if has_scalar:
        # Python scalars enter the compiled op as arguments (a new value must not recompile), typed
        # here: as weak float64 they would put f64 values on the device (slow or absent on TPU/GPU).
        arrays = _type_scalars(arrays, dt, cast_pos)
    key = (rest, kw, dt, cast_pos)
    fwd = op._fwd.get(key) or op.forward(key)
    if has_meta:  # meta tensors: the result's shape and dtype only
        return _meta_dispatch(op, fwd, arrays, targs, rest, kwargs, needs_grad)
    try:
        out = fwd(*arrays)
    except Exception as e:
        err = _user_error(op, e, targs, rest, kwargs)
        if err is None:
            raise
        raise user_facing(err) from None
    if isinstance(out, (tuple, list)):
        outs = [_wrap(o) for o in out]
        multi = True
    else:
        outs = [_wrap(out)]
        multi = False
    if needs_grad and op.differentiable:
        _record(op, key, targs, arrays, outs)
    if op.view and isinstance(targs[0], Tensor):
        VIEWS.tag(op, key, targs[0], rest0, kwargs, outs, multi)
    if FORWARD_AD is not None:
        FORWARD_AD.on_op(op, key, targs, arrays, outs)
    result = (op.out_wrap(outs) if op.out_wrap is not None else tuple(outs)) if multi else outs[0]
    if DISPATCH_OBSERVERS:
        for fn in DISPATCH_OBSERVERS:
            fn(op, targs, rest, kwargs, result)
    return result


def _meta_dispatch(op, fwd, arrays, targs, rest, kwargs, needs_grad):
    """``op`` on meta tensors: ``jax.eval_shape`` of its kernel (nothing runs); no autograd graph."""
    for a in targs:
        if isinstance(a, Tensor) and not is_meta_array(a._data) and a._data.ndim:
            raise RuntimeError(f"{op.name}(): Tensor on device {a.device} is not on the expected device "
                               f"meta!")
    try:
        out = eval_meta(fwd, arrays)
    except jax.errors.ConcretizationTypeError:  # the kernel reads values (a data-dependent shape)
        needs_values(op.name, *targs)
        raise
    except Exception as e:
        err = _user_error(op, e, targs, rest, kwargs)
        if err is None:
            raise
        raise user_facing(err) from None
    flag = needs_grad and op.differentiable
    if isinstance(out, (tuple, list)):
        outs = [_wrap(o, flag and _dtype.is_inexact(o.dtype)) for o in out]
        return op.out_wrap(outs) if op.out_wrap is not None else tuple(outs)
    return _wrap(out, flag and _dtype.is_inexact(out.dtype))


_AUTOCAST = _autocast_state.STATE
_CAT = {d.np: d._cat for d in _dtype._ALL}
_INEXACT = {d.np for d in _dtype._ALL if d._cat >= 2}
_SCALAR_CAT = _dtype._SCALAR_CAT


def _result_dtype(vals):
    """torch's result dtype of arrays and Python scalars; a fast path for the common cases."""
    d = None
    scat = -1
    mixed = False
    for v in vals:
        if v is None:
            continue
        c = _SCALAR_CAT.get(v.__class__)
        if c is not None:
            if c > scat:
                scat = c
            continue
        vd = v.dtype
        if d is None:
            d = vd
        elif vd != d:
            mixed = True
    if d is None:
        return _dtype.scalar_default(scat) if scat >= 0 else None
    if not mixed and scat <= _CAT[d]:
        return d
    return _dtype.result_type_of([v for v in vals if v is not None])


def _type_scalars(arrays, dt, cast_pos):
    out = []
    for i, a in enumerate(arrays):
        if a.__class__ in _SCALAR_CAT:
            if dt is not None and i in cast_pos:
                a = device_scalar(a, dt)
            elif a.__class__ is float:
                a = device_scalar(a, _dtype.get_default_dtype().np)
            elif a.__class__ is complex:
                a = device_scalar(a, _dtype.get_default_dtype().to_complex().np)
        out.append(a)
    return out


class _AllPositions:
    def __contains__(self, i):
        return True

    def __hash__(self):
        return 0

    def __eq__(self, other):
        return isinstance(other, _AllPositions)


_ALL_POS = _AllPositions()


_UserError = MiniTorchError


def _user_error(op, e, targs, rest, kwargs):
    """The error to show for ``e`` raised by ``op``'s kernel, or None for an internal failure (whose
    full traceback is kept)."""
    if isinstance(e, _UserError) or isinstance(e, _TRACE_ERRORS):
        return e
    if isinstance(e, (TypeError, ValueError)):
        return _translate(op, e, targs, rest, kwargs)
    return None


_TRACE_ERRORS = (TracedValueError, jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
                 jax.errors.TracerIntegerConversionError, jax.errors.TracerBoolConversionError,
                 jax.errors.NonConcreteBooleanIndexError)


def _translate(op, e, targs, rest, kwargs):
    if "incompatible devices" in str(e):  # committed arrays on different devices (torch's message)
        from .._device import mismatch_error
        err = mismatch_error(op.name, targs, e)
        if err is not None:
            return err
    shapes = [list(a.shape) if isinstance(a, Tensor) else a for a in targs]
    dtypes = [str(a.dtype) for a in targs if isinstance(a, Tensor)]
    extra = ""
    if rest:
        extra += f", arguments {list(rest)}"
    if kwargs:
        extra += f", options {dict(kwargs)}"
    msg = str(e).split("\n")[0]
    cls = OpTypeError if isinstance(e, TypeError) and "shape" not in msg else ShapeError
    return cls(
        f"{op.name}(): {msg} (inputs: shapes {shapes}, dtypes {dtypes}{extra})")


def _record(op, key, targs, arrays, outs):
    mask = []
    edges = []
    for a in targs:
        if isinstance(a, Tensor) and a.requires_grad and a._data.dtype in _INEXACT:
            mask.append(True)
            gf = a.grad_fn
            edges.append((gf, a._output_nr) if gf is not None else (accumulate_node(a), 0))
        else:
            mask.append(False)
    if not edges:
        return
    diff_outs = [o for o in outs if o._data.dtype in _INEXACT]
    if not diff_outs:
        return
    node = op.node_cls.__new__(op.node_cls)
    Node.__init__(node, tuple(edges), tuple((o._data.shape, o._data.dtype) for o in diff_outs))
    node._op = op
    node._key = key
    node._mask = tuple(mask)
    if op.grad_out is not None and len(outs) == 1 and len(edges) == 1 and len(targs) == 1:
        node._from_out = True
        node._xs = [outs[0]._data]  # torch saves the result of these ops, not the input
    else:
        node._from_out = False
        node._xs = arrays
    node._inputs = list(targs)
    saves = op.saves
    if not saves:
        node._versions = ()
    elif saves == "output":
        node._versions = tuple((weakref.ref(o), 0) for o in diff_outs)
    else:
        node._versions = tuple((targs[i], targs[i]._version) for i in saves
                               if i < len(targs) and isinstance(targs[i], Tensor))
    for i, o in enumerate(diff_outs):
        o.requires_grad = True
        o.grad_fn = node
        o._output_nr = i
    if SAVED_TENSORS_HOOK is not None:
        SAVED_TENSORS_HOOK(node, targs, diff_outs)


# ----- building the public callables -------------------------------------------------------
_NO_ARGS_KEY = ((), (), None, ())  # the cache key of a view op (no promotion) called without arguments


def _fast_call(op: OpDef, xs):
    """The common eager case - tensors of one dtype, no static arguments, nothing to record -
    without dispatch's general argument handling. Returns None to decline (the caller then takes
    the general path, which also owns error reporting)."""
    # autocast, a hook or an observer: dispatch's job; so are meta tensors (a kernel that reads only its
    # input's shape would run, and return real data)
    if _AUTOCAST[0] is not None or DISPATCH_HOOK is not None or FORWARD_AD is not None or DISPATCH_OBSERVERS:
        return None
    if xs[0].__class__ is _META or xs[-1].__class__ is _META:
        return None
    promote = op.promote
    if promote is None:
        dt = None
        cast_pos = ()
    elif promote.__class__ is str and op.promote_args is None:
        dt = xs[0].dtype
        for x in xs[1:]:
            if x.dtype != dt:
                return None
        if promote == "float" and dt not in _INEXACT:
            dt = _dtype.get_default_dtype().np
        cast_pos = _ALL_POS
    else:
        return None
    f = op._fwd.get(((), _precision.KEY[0] if op.precision else (), dt, cast_pos))
    if f is None:
        return None
    try:
        out = f(*xs)
    except Exception:
        return None
    if isinstance(out, (tuple, list)):
        outs = [_wrap(o) for o in out]
        return op.out_wrap(outs) if op.out_wrap is not None else tuple(outs)
    return _wrap(out)


def calling_op(own_file: str) -> str:
    """For a tensor type with no dense array (sparse, masked): the name of the op-table op whose dispatch
    read ``_data`` (its ``op`` local, found up the stack from the caller of the caller), ``<jit>`` inside
    mt.jit, else the first calling function outside ``own_file`` (a file-name suffix)."""
    f = sys._getframe(2)
    first = None
    for _ in range(8):
        if f is None:
            break
        op = f.f_locals.get("op")
        if op is not None and type(op).__name__ == "OpDef":
            return op.name
        fname = f.f_code.co_filename.replace("\\", "/")
        if "/minitorch_jax/jit/" in fname:
            return "<jit>"
        if first is None and not fname.endswith(own_file):
            first = f.f_code.co_name
        f = f.f_back
    return first or "unknown"


def _operand_kernel(e: NotImplementedError, args, kwargs):
    """Hand an op that met an operand with no dense array (sparse, masked) to that operand's kernel
    (``e.dispatch``, see ``sparse._base.SparseOperand`` and ``masked._maskedtensor.MaskedOperand``);
    re-raise any other NotImplementedError."""
    if not hasattr(e, "dispatch"):
        raise e
    return e.dispatch(tuple(args), kwargs)


def make_function(op: OpDef):
    """The ``mt.<name>`` callable for an op (also used, bound, as the Tensor method)."""
    nin, seq = op.nin, op.seq

    if seq:
        def call(tensors, *rest, **kwargs):
            if isinstance(tensors, Tensor):
                raise TypeError(f"{op.name}(): expected a sequence of Tensors, got a single Tensor")
            return dispatch(op, list(tensors), rest, kwargs)
    elif nin == -1:
        def call(*args, **kwargs):
            try:
                return dispatch(op, list(args), (), kwargs)
            except NotImplementedError as e:  # a sparse operand: its kernel, or torch's error
                return _operand_kernel(e, args, kwargs)
    elif nin == 1:
        def call(x, *rest, **kwargs):
            try:
                if not rest and not kwargs and isinstance(x, Tensor) and not (x.requires_grad and STATE.grad):
                    v = x._view
                    if v is not None and ((rt := v._ref()) is None or rt._data is not v.arr):
                        VIEWS.sync(x)
                    r = _fast_call(op, (x._data,))
                    if r is not None:
                        if op.view:  # x.t(), x.flatten(), x.unbind(): a view of x
                            VIEWS.tag(op, _NO_ARGS_KEY, x, (), {}, [r] if isinstance(r, Tensor) else r,
                                      not isinstance(r, Tensor))
                        return r
                if kwargs and "out" in kwargs:
                    return _with_out(op, (x,), rest, kwargs)
                return dispatch(op, (x,), rest, kwargs)
            except NotImplementedError as e:  # a sparse operand: its kernel, or torch's error
                return _operand_kernel(e, (x, *rest), kwargs)
    else:
        tnames, tdefaults = _tensor_params(op.fn, nin)

        def call(*args, **kwargs):
            try:
                if nin == 2 and not kwargs and len(args) == 2:
                    a, b = args
                    if isinstance(a, Tensor) and isinstance(b, Tensor) and \
                            not (STATE.grad and (a.requires_grad or b.requires_grad)):
                        if a._view is not None or b._view is not None:  # views: re-read changed roots
                            VIEWS.sync_all((a, b))
                        r = _fast_call(op, (a._data, b._data))
                        if r is not None:
                            return r
                if len(args) < nin:
                    args = list(args)
                    for name, default in zip(tnames[len(args):], tdefaults[len(args):]):
                        if name in kwargs:
                            args.append(kwargs.pop(name))
                        elif default is not _EMPTY:
                            args.append(default)
                        else:
                            break
                if kwargs and "out" in kwargs:
                    return _with_out(op, args[:nin], args[nin:], kwargs)
                if len(args) < nin:
                    raise TypeError(f"{op.name}() missing required tensor argument(s): "
                                    f"{', '.join(tnames[len(args):])}")
                return dispatch(op, args[:nin], tuple(args[nin:]), kwargs)
            except NotImplementedError as e:  # a sparse operand: its kernel, or torch's error
                return _operand_kernel(e, args, kwargs)

    call.__name__ = op.name
    call.__qualname__ = op.name
    call.__doc__ = op.doc
    call.__wrapped_op__ = op
    return call


_EMPTY = inspect.Parameter.empty


def _tensor_params(fn, n):
    params = list(inspect.signature(fn).parameters.values())[:n]
    return [p.name for p in params], [p.default for p in params]


def _with_out(op, targs, rest, kwargs):
    kwargs = dict(kwargs)
    out = kwargs.pop("out")
    res = dispatch(op, targs, rest, kwargs)
    if out is None:
        return res
    if isinstance(res, Tensor):
        _assign_out(op, out, res)
        return out
    for o, r in zip(out, res):
        _assign_out(op, o, r)
    return out


def _assign_out(op, out, res):
    if not isinstance(out, Tensor):
        raise TypeError(f"{op.name}(): out= must be a Tensor, got {type(out).__name__}")
    if STATE.grad and (res.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{op.name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad.")
    if out._view is not None:
        VIEWS.before_inplace(out, op.name)
    out._data = res._data.astype(out._data.dtype) if out._data.dtype != res._data.dtype \
        else res._data
    out._version += 1
    if out._view is not None:
        VIEWS.write_back(out, op.name)


def check_inplace(t: Tensor, opname: str) -> None:
    """Raise torch's error for an in-place op on a leaf that requires grad (outside no_grad)."""
    if t.requires_grad and t.grad_fn is None and STATE.grad:
        raise RuntimeError(
            f"{opname}: a leaf Variable that requires grad is being used in an in-place "
            "operation. Wrap it in `with mt.no_grad():` or use the out-of-place form.")
    if t._view is not None:
        VIEWS.before_inplace(t, opname)


def commit_inplace(t: Tensor, res: Tensor, opname: str, resize: bool = False) -> Tensor:
    """Make ``t`` take the value (and graph position) of ``res``, as an in-place op does.

    ``resize=True`` is for in-place shape ops (``t_``, ``squeeze_`` ...), whose result may have
    another shape.
    """
    if not resize and res._data.shape != t._data.shape:
        raise RuntimeError(
            f"{opname}: output with shape {list(t._data.shape)} doesn't match the broadcast shape "
            f"{list(res._data.shape)}")
    if res._data.dtype != t._data.dtype:
        if not _dtype.can_cast(res._data.dtype, t._data.dtype):
            raise RuntimeError(
                f"{opname}: result type {_dtype.from_np(res._data.dtype).name.capitalize()} can't be "
                f"cast to the desired output type {t.dtype.name.capitalize()}")
        res = res.to(t.dtype)
    old_version = t._version
    resized = res._data.shape != t._data.shape
    t._data = res._data
    t._version = old_version + 1
    if FORWARD_AD is not None:
        FORWARD_AD.on_inplace(t, res)
    if res.grad_fn is not None:
        node = res.grad_fn
        t.grad_fn = node
        t.requires_grad = True
        t._output_nr = res._output_nr
        # the node captured t's old array; only later changes should trip its version check
        if isinstance(node, _OpNode) and node._versions:
            node._versions = tuple((ref, t._version) if ref is t else (ref, v)
                                   for ref, v in node._versions)
        if t._retains_grad:
            node._retain(t._output_nr, t)
    if t._view is not None:
        if resized:  # t_(), squeeze_() on a view: torch changes only the view's shape; here it stops sharing
            VIEWS.unlink(t)
        else:
            VIEWS.write_back(t, opname)
    return t


def make_inplace(op: OpDef, func):
    """The ``Tensor.<name>_`` method: compute out of place, then rebind."""
    name = op.name + "_"

    resize = op.inplace == "resize"

    def method(self, *args, **kwargs):
        check_inplace(self, name)
        return commit_inplace(self, func(self, *args, **kwargs), name, resize)

    method.__name__ = name
    method.__qualname__ = "Tensor." + name
    method.__doc__ = f"In-place version of :meth:`Tensor.{op.name}`."
    return method


def register(name, **opts):
    """Decorator adding a jax.numpy function to the op table under torch's ``name``."""
    def deco(fn):
        if name in REGISTRY:
            raise ValueError(f"op {name!r} is registered twice")
        op = OpDef(name, fn, **opts)
        REGISTRY[name] = op
        return fn
    return deco

