"""``torch.autograd.Function``: user-defined ops with a hand-written backward.

Subclass :class:`Function` with static ``forward`` and ``backward`` methods and call
``MyFn.apply(*args)``. The ``ctx`` handed to ``forward``/``setup_context``/``backward`` is the graph
node itself (a :class:`~minitorch_jax.autograd.graph.Node` subclass named ``<MyFn>Backward``),
exactly as in torch, so ``y.grad_fn`` is the ``ctx`` of the call that produced ``y``.

Inside ``mt.func`` transforms autograd recording is off, so ``apply`` just runs ``forward`` and
JAX differentiates it directly (the custom ``backward`` is not used there).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp

from .. import _dtype, _grad_mode
from .._autograd_graph import Node, current_version, edge_of
from .._tensor import Tensor, _wrap

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable", "InplaceFunction"]


_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed). Saved intermediate values of the graph are freed "
          "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
          "backward through the graph a second time or if you need to access saved tensors after "
          "calling backward.")


class FunctionCtx:
    """The methods a custom Function's ``ctx`` offers (mixed into its backward node)."""

    def save_for_backward(self, *tensors) -> None:
        """Save tensors (or None) for ``backward``; read them back with ``ctx.saved_tensors``.

        Saved tensors are checked for in-place modification when read, and freed after a
        backward that does not retain the graph.
        """
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of "
                                f"type {type(t).__name__}")
        self._to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Accepted for API compatibility (forward-mode AD of custom Functions is not supported)."""
        self.saved_for_forward = tensors

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that ``forward`` modified in place (they must be returned as outputs)."""
        self._dirty = {id(t) for t in tensors}

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that get no gradient (their ``requires_grad`` stays False)."""
        self._non_diff = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        """If True (the default), None output gradients reach ``backward`` as zero tensors."""
        self._materialize = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, after checking none was modified in place."""
        if self._freed and self._had_saved:
            raise RuntimeError(_FREED)
        saved = self._saved
        if saved is None:
            return ()
        for idx, (t, v) in enumerate(zip(saved, self._saved_versions)):
            if t is not None and current_version(t) != v:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{t.dtype} {list(t.shape)}], which is saved tensor {idx} "
                    f"of {self.name()}, is at version {current_version(t)}; expected version {v} instead. "
                    "Hint: clone the tensor before modifying it in place, or modify a copy.")
        return saved

    saved_variables = saved_tensors


class BackwardCFunction(Node, FunctionCtx):
    """The graph node (and ``ctx``) of one call of a custom :class:`Function`."""

    _forward_cls: type = None

    def _init_ctx(self, args) -> None:
        self._to_save = None
        self._saved = None
        self._saved_versions = ()
        self._had_saved = False
        self._dirty = frozenset()
        self._non_diff = frozenset()
        self._materialize = True
        self._freed = False
        self._tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self._n_args = len(args)

    def apply(self, *grads):
        """Run the user's ``backward`` on output gradients (what the engine calls)."""
        return self._forward_cls.backward(self, *grads)

    def _apply(self, grads, create_graph):
        if self._materialize:
            grads = [_wrap(jnp.zeros(s, d)) if g is None else g
                     for g, (s, d) in zip(grads, self._out_meta)]
        cls = self._forward_cls
        res = cls._backward_impl()(self, *grads)
        res = res if isinstance(res, tuple) else (res,)
        n = self._n_args
        if len(res) != n and not (len(res) > n and all(r is None for r in res[n:])):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(res)})")
        tensor_pos = set(self._tensor_pos)
        for i, r in enumerate(res[:n]):
            if r is not None and i not in tensor_pos:
                raise RuntimeError(
                    f"function {self.name()} returned a gradient different than None at position "
                    f"{i + 1}, but the corresponding forward input was not a Variable")
        out = []
        for k, i in enumerate(self._tensor_pos):
            edge = self.next_functions[k][0]
            g = res[i]
            out.append(None if (g is None or edge is None) else self._validate(k, g))
        return out

    def _validate(self, k: int, g):
        """torch's validate_outputs: shape must match (or sum down to) the input's; cast dtype."""
        if not isinstance(g, Tensor):
            raise TypeError(f"function {self.name()} returned a gradient of type {type(g).__name__} "
                            f"at index {k}; expected a Tensor or None")
        shape, dt = self._in_meta[k]
        gs = tuple(g._data.shape)
        if gs != shape:
            if not _expandable(shape, gs):
                raise RuntimeError(
                    f"Function {self.name()} returned an invalid gradient at index {k} - got "
                    f"{list(gs)} but expected shape compatible with {list(shape)}")
            g = _sum_to(g, shape)
        if g._data.dtype != dt:
            g = g.to(_dtype.from_np(dt))
        return g

    def _release(self) -> None:
        self._freed = True
        self._saved = None

    def _check_not_freed(self) -> None:
        if self._freed and self._had_saved:
            raise RuntimeError(f"{self.name()}: {_FREED}")


def _expandable(shape, gshape) -> bool:
    if len(shape) > len(gshape):
        return False
    for s, g in zip(reversed(shape), reversed(gshape)):
        if s != g and s != 1:
            return False
    return True


def _sum_to(g: Tensor, shape) -> Tensor:
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(tuple(range(lead)))
    dims = tuple(i for i, (s, n) in enumerate(zip(shape, g.shape)) if s == 1 and n != 1)
    return g.sum(dims, keepdim=True) if dims else g


class Function:
    """Base class for custom autograd operations.

    Define ``forward(ctx, *args)`` (or ``forward(*args)`` plus ``setup_context(ctx, inputs,
    output)``) and ``backward(ctx, *grad_outputs)`` as static methods, then call
    ``MyFn.apply(*args)``. ``backward`` returns one gradient (or None) per ``forward`` argument.

    Example::

        class Exp(mt.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y

        y = Exp.apply(x)      # y.grad_fn is an ExpBackward node
    """

    _backward_cls: type = BackwardCFunction
    generate_vmap_rule = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(cls.__name__ + "Backward", (BackwardCFunction,),
                                 {"_forward_cls": cls, "__module__": cls.__module__})

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-"
            "style autograd function with static forward method: call MyFunction.apply(...).")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs (runs with gradient recording off)."""
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional: fill ``ctx`` from the inputs and output (then ``forward`` takes no ctx)."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Gradients of the inputs given the gradients of the outputs."""
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward-mode AD rule (not supported: raises)."""
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function "
                                  "to use it with forward mode AD.")

    @classmethod
    def _backward_impl(cls):
        if cls.backward is not Function.backward:
            return cls.backward
        return cls.vjp

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and, if any input requires grad, record the backward node."""
        node = cls._backward_cls.__new__(cls._backward_cls)
        node._init_ctx(args)
        state = _grad_mode.STATE
        grad_on = state.grad
        needs = tuple(grad_on and isinstance(a, Tensor) and a.requires_grad for a in args)
        node.needs_input_grad = needs
        custom_setup = cls.setup_context is not Function.setup_context
        state.grad = False
        try:
            if custom_setup:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, out)
            else:
                out = cls.forward(node, *args, **kwargs)
        finally:
            state.grad = grad_on
        if any(needs):
            out = _connect(node, args, out)
        node._saved = node._to_save
        if node._saved is not None:
            node._had_saved = True
            node._saved_versions = tuple(0 if t is None else t._version for t in node._saved)
        node._to_save = None
        return out


def _connect(node: BackwardCFunction, args, out):
    """Make ``node`` the grad_fn of the differentiable tensor outputs of ``forward``."""
    inputs = [args[i] for i in node._tensor_pos]
    Node.__init__(node, tuple(edge_of(t) for t in inputs), ())
    node._in_meta = tuple((t._data.shape, t._data.dtype) for t in inputs)
    input_ids = {id(t) for t in inputs}
    is_tuple = isinstance(out, tuple)
    outs = list(out) if is_tuple else [out]
    meta = []
    nr = 0
    for j, o in enumerate(outs):
        if not isinstance(o, Tensor):
            continue
        if id(o) in node._dirty:
            if o.requires_grad and o.grad_fn is None:
                raise RuntimeError(f"{node.name()}: a leaf Variable that requires grad has been used "
                                   "in an in-place operation.")
        elif id(o) in input_ids:
            o = outs[j] = _wrap(o._data)  # an input returned as is: a new tensor (torch: a view)
        meta.append((o._data.shape, o._data.dtype))
        if id(o) not in node._non_diff and _dtype.is_inexact(o._data.dtype):
            o.requires_grad = True
            o.grad_fn = node
            o._output_nr = nr
        else:
            o.requires_grad = False
        nr += 1
    node._out_meta = tuple(meta)
    node._n_out = len(meta)
    return tuple(outs) if is_tuple else outs[0]


class InplaceFunction(Function):
    """A Function with an ``inplace`` flag (torch's ``autograd.function.InplaceFunction``)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace


class DelayedError(Node):
    """A node that raises when reached: the graph of a once_differentiable backward's outputs."""

    __slots__ = ("msg",)

    def _apply(self, grads, create_graph):
        raise RuntimeError(self.msg)


def once_differentiable(fn):
    """Decorate a Function's ``backward`` that cannot itself be differentiated.

    ``backward`` runs with gradient recording off; if a higher-order graph was requested, its
    outputs get a node that raises when a second derivative is taken through it.
    """
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        state = _grad_mode.STATE
        prev = state.grad
        state.grad = False
        try:
            outs = fn(ctx, *args)
        finally:
            state.grad = prev
        if not prev:
            return outs
        needing = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        if not needing:
            return outs
        node = DelayedError.__new__(DelayedError)
        single = not isinstance(outs, tuple)
        seq = [outs] if single else list(outs)
        tensors = [o for o in seq if isinstance(o, Tensor)]
        Node.__init__(node, tuple(edge_of(a) for a in needing),
                      tuple((o._data.shape, o._data.dtype) for o in tensors))
        node.msg = ("trying to differentiate twice a function that was marked with "
                    "@once_differentiable")
        nr = 0
        for i, o in enumerate(seq):
            if isinstance(o, Tensor):
                o = seq[i] = _wrap(o._data)
                if _dtype.is_inexact(o._data.dtype):
                    o.requires_grad = True
                    o.grad_fn = node
                    o._output_nr = nr
                nr += 1
        return seq[0] if single else tuple(seq)

    return wrapper
