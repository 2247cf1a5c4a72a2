"""``torch.library.custom_op``'s objects: :class:`CustomOpDef` and the ``mt.ops.<ns>.<name>`` packets."""

from __future__ import annotations

import contextlib

from . import ops as _ops
from ._library_op import REGISTRY, OpEntry
from ._library_schema import infer_schema, parse_qualname, parse_schema

__all__ = ["CustomOpDef", "CustomOpOverloadPacket", "CustomOpOverload", "custom_op", "publish", "lookup"]

_DEVICE_TYPES = ("cpu", "cuda", "gpu", "tpu", "mps", "xpu", "meta")


def _device_list(device_types, where: str) -> list:
    if device_types is None:
        return [None]
    items = [device_types] if isinstance(device_types, str) else list(device_types)
    for d in items:
        if not isinstance(d, str) or d.split(":")[0] not in _DEVICE_TYPES:
            raise ValueError(f"{where}: unknown device type {d!r}; expected one of {list(_DEVICE_TYPES)}")
    return [d.split(":")[0] for d in items]


class CustomOpOverload(_ops.OpOverload):
    """``mt.ops.<ns>.<name>.<overload>`` of a user-defined op (torch's ``OpOverload``)."""

    @property
    def _schema(self):
        """The op's :class:`~minitorch_jax._library_schema.FunctionSchema` (``str()`` gives torch's text)."""
        return self.overloadpacket._entries[self._overloadname].schema

    @property
    def op(self):
        """The callable this overload runs."""
        return self.overloadpacket._entries[self._overloadname]

    def __call__(self, *args, **kwargs):
        return self.overloadpacket._entries[self._overloadname](*args, **kwargs)


class CustomOpOverloadPacket(_ops.OpOverloadPacket):
    """``mt.ops.<ns>.<name>`` of a user-defined op (torch's ``OpOverloadPacket``)."""

    def __init__(self, ns: str, name: str):
        self._name = name
        self.__name__ = name
        self._ns = ns
        self._qualified_op_name = f"{ns}::{name}"
        self._fn = None
        self._entries: dict = {}
        self._overload_names: list = []

    def _add(self, overload: str, entry: OpEntry) -> None:
        key = overload or "default"
        self._entries[key] = entry
        if key not in self._overload_names:
            self._overload_names.append(key)
        self.__dict__[key] = CustomOpOverload(self, key)

    def _resolve(self):
        entry = self._entries.get("default") or next(iter(self._entries.values()), None)
        if entry is None:
            raise RuntimeError(f"{self._qualified_op_name} has no overloads")
        return entry


def publish(entry: OpEntry) -> CustomOpOverloadPacket:
    """Put ``entry`` in the registry and on ``mt.ops.<ns>.<name>``; returns the packet."""
    key = entry.qualname + (f".{entry.overload}" if entry.overload else "")
    REGISTRY[key] = entry
    ns = _ops.namespace(entry.ns)
    packet = ns.__dict__.get(entry.name)
    if not isinstance(packet, CustomOpOverloadPacket):
        packet = CustomOpOverloadPacket(entry.ns, entry.name)
        setattr(ns, entry.name, packet)
    packet._add(entry.overload, entry)
    return packet


def lookup(op, *, attr_error: bool = False) -> OpEntry:
    """The :class:`OpEntry` behind ``op`` (a CustomOpDef, an op packet/overload, or ``"ns::name"``)."""
    if isinstance(op, CustomOpDef):
        return op._entry
    if isinstance(op, CustomOpOverload):
        return op.op
    if isinstance(op, CustomOpOverloadPacket):
        return op._resolve()
    if isinstance(op, (_ops.OpOverload, _ops.OpOverloadPacket)):
        raise NotImplementedError(
            f"torch.library: registering kernels for the built-in op {op} is not supported by minitorch_jax "
            "(its ops are jax.numpy functions); define a custom op with torch.library.custom_op instead")
    if isinstance(op, str):
        ns, name = parse_qualname(op)
        base, _, overload = name.partition(".")
        entry = REGISTRY.get(f"{ns}::{base}" + (f".{overload}" if overload and overload != "default" else ""))
        if entry is None:
            if attr_error:
                raise AttributeError(f"'_OpNamespace' '{ns}' object has no attribute '{base}'")
            raise RuntimeError(f"operator {ns}::{base} does not exist")
        return entry
    raise TypeError(f"torch.library: expected a custom op (CustomOpDef, OpOverload or 'ns::name'), got "
                    f"{type(op).__name__}")


class CustomOpDef:
    """A custom op made by :func:`custom_op` (torch's ``CustomOpDef``).

    Call it like the function it wraps. It is also ``mt.ops.<ns>.<name>`` (``.default``). Register
    more behaviour with :meth:`register_fake`, :meth:`register_autograd`, :meth:`register_kernel`,
    :meth:`register_torch_dispatch`.
    """

    def __init__(self, namespace: str, name: str, schema: str, fn, device_types=None):
        self._namespace, self._name = namespace, name
        self._qualname = f"{namespace}::{name}"
        self._init_fn = fn
        self._entry = OpEntry(namespace, name, parse_schema(schema, need_name=False))
        for d in _device_list(device_types, "custom_op"):
            self._entry.kernels[d] = fn
        self._opoverloadpacket = publish(self._entry)
        self._opoverload = self._opoverloadpacket.default
        self.__name__ = name
        self.__doc__ = getattr(fn, "__doc__", None)

    def __repr__(self) -> str:
        return f"<CustomOpDef({self._qualname})>"

    def __call__(self, *args, **kwargs):
        return self._entry(*args, **kwargs)

    def register_fake(self, fn=None, /):
        """Register the fake impl: a function of the same arguments giving outputs of the right
        shapes/dtypes (e.g. ``torch.empty_like(x)``) without computing values. It is what ``mt.jit``
        uses to run an untraceable implementation (numpy, ``.item()``) as a host callback, and what
        :func:`opcheck` checks against the implementation. Usable as a decorator."""
        def reg(f):
            self._entry.fake = f
            return f
        return reg if fn is None else reg(fn)

    def register_autograd(self, backward, /, *, setup_context=None) -> None:
        """Register the backward formula: ``backward(ctx, *grad_outputs)`` returns one gradient (or
        None) per positional input; ``setup_context(ctx, inputs, output)`` saves what it needs
        (``ctx.save_for_backward``, attributes), as for ``torch.autograd.Function``."""
        _set_autograd(self._entry, backward, setup_context)

    def register_kernel(self, device_types, fn=None, /):
        """Register an implementation for the given device type(s) (``"cpu"``, ``"cuda"``); None
        means every device. Usable as a decorator."""
        def reg(f):
            for d in _device_list(device_types, "register_kernel"):
                self._entry.kernels[d] = f
            return f
        return reg if fn is None else reg(fn)

    def register_torch_dispatch(self, torch_dispatch_class, fn=None, /):
        """Register ``fn(cls, func, types, args, kwargs)`` to run instead of the op when an input is an
        instance of the Tensor subclass ``torch_dispatch_class``. Usable as a decorator."""
        def reg(f):
            self._entry.dispatch_rules[torch_dispatch_class] = f
            return f
        return reg if fn is None else reg(fn)

    def register_vmap(self, func=None, /):
        """Accepted for compatibility: the rule is stored, but ``mt.func.vmap`` batches the implementation
        itself (JAX traces it; an untraceable one runs as a sequential host callback)."""
        def reg(f):
            self._entry.vmap = f
            return f
        return reg if func is None else reg(func)

    def register_autocast(self, device_type: str, cast_inputs, /) -> None:
        """Accepted for compatibility (minitorch_jax's autocast does not re-cast custom op inputs)."""
        self._entry.autocast = (device_type, cast_inputs)

    @contextlib.contextmanager
    def set_kernel_enabled(self, device_type: str, enabled: bool = True):
        """Context manager turning this op's kernel for ``device_type`` off (the default implementation
        is then used) or back on."""
        entry = self._entry
        was = device_type not in entry.disabled
        (entry.disabled.discard if enabled else entry.disabled.add)(device_type)
        try:
            yield
        finally:
            (entry.disabled.discard if was else entry.disabled.add)(device_type)


def _set_autograd(entry: OpEntry, backward, setup_context) -> None:
    if not callable(backward):
        raise RuntimeError(f"register_autograd({entry.qualname}): expected backward to be a function, got "
                           f"{type(backward).__name__}")
    if setup_context is not None and not callable(setup_context):
        raise RuntimeError(f"register_autograd({entry.qualname}): expected setup_context to be a function")
    if entry.schema.is_mutable:
        raise RuntimeError(
            f"Cannot register autograd formula for non-functional operator <CustomOpDef({entry.qualname})> "
            f"with schema {entry.schema}. Please create a functional operator and register an "
            "autograd formula for that.")
    entry.backward, entry.setup_context = backward, setup_context


def custom_op(name: str, fn=None, /, *, mutates_args, device_types=None, schema: str | None = None,
              tags=None):
    """Wrap a function into a custom op (``torch.library.custom_op``).

    Args:
        name: ``"namespace::name"``.
        fn: the implementation (type-annotated, see :func:`infer_schema`); omit to use as a decorator.
        mutates_args: the names of the arguments ``fn`` writes into (``x.copy_(...)``), ``()`` for
            none, or ``"unknown"``. Required.
        device_types: device type(s) ``fn`` is the implementation for (None: all).
        schema: the schema string, instead of inferring it from the annotations.
        tags: accepted for compatibility.

    Returns:
        A :class:`CustomOpDef` (or a decorator making one). The op is also ``mt.ops.<namespace>.<name>``.
        Defining a name again replaces the earlier op, as in torch.
    """
    ns, opname = parse_qualname(name)

    def inner(f):
        sch = schema if schema is not None else infer_schema(f, mutates_args=mutates_args)
        return CustomOpDef(ns, opname, sch, f, device_types)

    return inner if fn is None else inner(fn)
