"""``torch.library`` (``mt.library``): define your own ops.

The high-level API, as in torch::

    @mt.library.custom_op("mylib::numpy_sin", mutates_args=())
    def numpy_sin(x: mt.Tensor) -> mt.Tensor:
        return mt.from_numpy(np.sin(x.numpy()))

    @numpy_sin.register_fake
    def _(x):
        return mt.empty_like(x)

    numpy_sin.register_autograd(backward, setup_context=setup_context)
    mt.ops.mylib.numpy_sin(x)            # the same op
    mt.library.opcheck(numpy_sin, (x,))  # {'test_schema': 'SUCCESS', ...}

plus the older :class:`Library` (``define(schema)`` / ``impl(name, fn, dispatch_key)``), :func:`define`,
:func:`impl`, :func:`register_fake`, :func:`register_autograd`, :func:`register_kernel`,
:func:`register_torch_dispatch`, :func:`get_ctx`, :func:`infer_schema`.

How it maps onto JAX:

* the implementation runs eagerly on minitorch_jax tensors; under ``mt.jit`` it is traced like any
  code when it can be; when it cannot (numpy, ``.item()``), it runs on the host as
  ``jax.pure_callback`` with the output shapes/dtypes its fake impl gives (torch.compile also treats a
  custom op as opaque and needs the fake impl). Without a fake impl an untraceable op raises there;
* ``mutates_args``: an implementation that writes into an argument (``x.copy_(...)``, ``x[...] = v``)
  updates the caller's tensor, eagerly and inside ``mt.jit`` (tensors created in the compiled function
  or captured state; ``mt.jit`` itself does not write new values back into its argument tensors);
* gradients come only from ``register_autograd`` (a generated ``mt.autograd.Function``); without one,
  backward through the op raises torch's error. Inputs that are lists of tensors get no gradient;
* dispatch keys: ``"CPU"``/``"CUDA"`` (per device), ``"CompositeExplicitAutograd"`` / ``""`` (any device),
  ``"CompositeImplicitAutograd"`` / ``"Autograd"`` (differentiated through the ops it calls),
  ``"Meta"`` (the fake impl). Built-in ``aten`` ops cannot be overridden;
* not available: Triton (:func:`triton_op`, :func:`wrap_triton` raise: there is no Triton on JAX;
  write the kernel with jax/Pallas inside a :func:`custom_op`), data-dependent fake sizes
  (``get_ctx().new_dynamic_size`` raises), ``register_vmap``/``register_autocast`` rules (accepted
  and stored; ``mt.func.vmap`` batches the implementation itself).
"""

from __future__ import annotations

from ._library_custom_op import CustomOpDef, _device_list, _set_autograd, custom_op, lookup, publish
from ._library_op import REGISTRY, OpEntry, current_fake_ctx
from ._library_opcheck import OpCheckError, opcheck
from ._library_schema import infer_schema, parse_qualname, parse_schema

__all__ = ["Library", "impl", "define", "fallthrough_kernel", "impl_abstract", "register_autocast",
           "register_fake", "register_torch_dispatch", "register_vmap", "get_ctx", "get_kernel", "custom_op",
           "triton_op", "wrap_triton", "infer_schema", "register_autograd", "register_kernel", "opcheck",
           "CustomOpDef", "OpCheckError"]

_KINDS = ("DEF", "IMPL", "FRAGMENT")
_DEF_OWNERS: set = set()  # namespaces owned by a Library(ns, "DEF")
_FAKE_KEYS = ("Meta",)
_IMPLICIT_KEYS = ("CompositeImplicitAutograd", "Autograd", "AutogradCPU", "AutogradCUDA")
_ANY_KEYS = ("", "CompositeExplicitAutograd")


class Library:
    """A collection of op definitions/implementations in one namespace (``torch.library.Library``).

    Args:
        ns: the namespace (``mt.ops.<ns>``).
        kind: ``"DEF"`` (owns the namespace; only one per namespace), ``"FRAGMENT"`` (adds definitions)
            or ``"IMPL"`` (only implementations).
        dispatch_key: default dispatch key of :meth:`impl`.
    """

    def __init__(self, ns: str, kind: str, dispatch_key: str = ""):
        if kind not in _KINDS:
            raise ValueError(f"Unsupported kind: {kind}")
        if kind == "DEF" and (ns == "aten" or ns in _DEF_OWNERS):
            raise RuntimeError(
                f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; please put all of "
                "your definitions in a single TORCH_LIBRARY block.  If you were trying to specify "
                "implementations, consider using TORCH_LIBRARY_IMPL (which can be duplicated).  If you "
                "really intended to define operators for a single namespace in a distributed way, you can "
                "use TORCH_LIBRARY_FRAGMENT to explicitly indicate this.")
        if kind == "DEF":
            _DEF_OWNERS.add(ns)
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._op_defs: set = set()

    def __repr__(self) -> str:
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema: str, alias_analysis: str = "", *, tags=()) -> str:
        """Define an op from torch's schema string (``"foo(Tensor x, float y) -> Tensor"``); returns its name.

        Raises RuntimeError if the name (and overload) is already defined, or the schema does not parse.
        """
        if alias_analysis not in ("", "FROM_SCHEMA", "CONSERVATIVE"):
            raise RuntimeError(f"Invalid alias_analysis type {alias_analysis}")
        if self.kind == "IMPL":
            raise RuntimeError(f"Library.define: a Library of kind IMPL cannot define ops (namespace "
                               f"{self.ns})")
        sch = parse_schema(schema)
        name = sch.name.split("::")[-1]
        key = f"{self.ns}::{name}" + (f".{sch.overload_name}" if sch.overload_name else "")
        if key in REGISTRY:
            shown = f"{self.ns}::{sch.name}{sch._text[sch._text.index('('):]}"
            raise RuntimeError(
                f"Tried to register an operator ({shown}) with the same name and overload name "
                "multiple times. Each overload's schema should only be registered with a single call to "
                "def().")
        entry = OpEntry(self.ns, name, sch, sch.overload_name)
        entry.from_library = True
        publish(entry)
        self._op_defs.add(key)
        return name

    def impl(self, op_name, fn, dispatch_key: str = "", *, with_keyset: bool = False,
             allow_override: bool = False) -> None:
        """Register ``fn`` as the implementation of ``op_name`` (a name in this namespace, ``"ns::name"``,
        or an op object) for ``dispatch_key`` (``"CPU"``, ``"CUDA"``, ``"CompositeExplicitAutograd"``,
        ``"CompositeImplicitAutograd"``, ``"Autograd"``, ``"Meta"``; default: the Library's)."""
        if with_keyset:
            raise NotImplementedError("Library.impl(with_keyset=True): dispatch key sets do not exist in "
                                      "minitorch_jax; register a plain function")
        if isinstance(op_name, str) and "::" not in op_name:
            op_name = f"{self.ns}::{op_name}"
        entry = lookup(op_name)
        _set_kernel(entry, fn, dispatch_key or self.dispatch_key)

    def fallback(self, fn, dispatch_key: str = "", *, with_keyset: bool = False) -> None:
        """Not supported: minitorch_jax has no dispatcher fallbacks (raises)."""
        raise NotImplementedError("Library.fallback: minitorch_jax has no dispatcher fallbacks")

    def _destroy(self) -> None:
        """Remove the ops this Library defined."""
        from . import ops
        for key in self._op_defs:
            entry = REGISTRY.pop(key, None)
            if entry is not None:
                ns = ops.namespace(entry.ns, create=False)
                if ns is not None:
                    ns.__dict__.pop(entry.name, None)
        self._op_defs.clear()
        _DEF_OWNERS.discard(self.ns) if self.kind == "DEF" else None


def _set_kernel(entry: OpEntry, fn, dispatch_key: str) -> None:
    key = dispatch_key
    if key in _FAKE_KEYS:
        entry.fake = fn
    elif key in _IMPLICIT_KEYS:
        entry.kernels[None] = fn
        entry.implicit_autograd = True
    elif key in _ANY_KEYS:
        entry.kernels[None] = fn
    elif key.lower() in ("cpu", "cuda"):
        entry.kernels[key.lower()] = fn
    else:
        raise NotImplementedError(f"torch.library: dispatch key {key!r} is not supported by minitorch_jax; "
                                  "use one of CPU, CUDA, CompositeExplicitAutograd, "
                                  "CompositeImplicitAutograd, Autograd, Meta")


_FRAGMENTS: dict = {}


def _fragment(ns: str) -> Library:
    lib = _FRAGMENTS.get(ns)
    if lib is None:
        lib = _FRAGMENTS[ns] = Library(ns, "FRAGMENT")
    return lib


def define(qualname: str, schema: str, *, lib=None, tags=()) -> None:
    """Define an op: ``define("mylib::sin", "(Tensor x) -> Tensor")`` (``torch.library.define``)."""
    ns, name = parse_qualname(qualname)
    (lib or _fragment(ns)).define(name + schema, tags=tags)


def impl(qualname, types, func=None, *, lib=None):
    """Register an implementation of an op for device type(s) (``torch.library.impl``).

    ``impl("mylib::sin", "cpu", fn)`` or as a decorator ``@impl("mylib::sin", "cpu")``; the older form
    ``@impl(lib, "sin", "CPU")`` (a :class:`Library`, an op name, a dispatch key) works too.
    """
    if isinstance(qualname, Library):
        library, name, key = qualname, types, func if func is not None else ""

        def legacy(f):
            library.impl(name, f, key)
            return f
        return legacy

    def reg(f):
        entry = lookup(qualname)
        items = [types] if isinstance(types, str) else list(types)
        for t in items:
            if t.lower() in ("cpu", "cuda"):
                entry.kernels[t.lower()] = f
            elif t in ("default", "CompositeExplicitAutograd"):
                entry.kernels[None] = f
            else:
                _set_kernel(entry, f, t)
        return f

    return reg if func is None else reg(func)


def register_fake(op, func=None, /, *, lib=None, _stacklevel: int = 1, allow_override: bool = True):
    """Register the fake impl of an op (``torch.library.register_fake``); see
    :meth:`CustomOpDef.register_fake`. ``op``: a CustomOpDef, an op object or ``"ns::name"``."""
    entry = lookup(op)

    def reg(f):
        entry.fake = f
        return f
    return reg if func is None else reg(func)


impl_abstract = register_fake


def register_autograd(op, backward, /, *, setup_context=None, lib=None) -> None:
    """Register the backward formula of an op (``torch.library.register_autograd``); see
    :meth:`CustomOpDef.register_autograd`."""
    _set_autograd(lookup(op, attr_error=True), backward, setup_context)


def register_kernel(op, device_types, func=None, /, *, lib=None):
    """Register an implementation of an op for device type(s) (``torch.library.register_kernel``)."""
    entry = lookup(op)

    def reg(f):
        for d in _device_list(device_types, "register_kernel"):
            entry.kernels[d] = f
        return f
    return reg if func is None else reg(func)


def register_torch_dispatch(op, torch_dispatch_class, func=None, /, *, lib=None):
    """Register the rule run when an input is an instance of the Tensor subclass ``torch_dispatch_class``
    (``torch.library.register_torch_dispatch``): ``func(cls, op_overload, types, args, kwargs)``."""
    entry = lookup(op)

    def reg(f):
        entry.dispatch_rules[torch_dispatch_class] = f
        return f
    return reg if func is None else reg(func)


def register_vmap(op, func=None, /, *, lib=None):
    """Accepted and stored (``mt.func.vmap`` batches the implementation itself); see module docstring."""
    entry = lookup(op)

    def reg(f):
        entry.vmap = f
        return f
    return reg if func is None else reg(func)


def register_autocast(op, device_type: str, cast_inputs, /, *, lib=None) -> None:
    """Accepted and stored (custom op inputs are not re-cast under autocast)."""
    lookup(op).autocast = (device_type, cast_inputs)


def get_ctx():
    """The context of the fake impl now running (``ctx.new_dynamic_size`` raises: JAX needs static
    shapes); None outside a fake impl."""
    return current_fake_ctx()


def get_kernel(op, dispatch_key):
    """The implementation registered for ``dispatch_key`` (``"CPU"``, ``"CUDA"``, ``"Meta"``, or ``""``)."""
    entry = lookup(op)
    key = str(dispatch_key)
    if key in _FAKE_KEYS:
        return entry.fake
    fn = entry.kernels.get(key.lower()) or entry.kernels.get(None)
    if fn is None:
        raise RuntimeError(f"get_kernel: {entry.qualname} has no kernel for dispatch key {dispatch_key}")
    return fn


def fallthrough_kernel():
    """A dummy kernel marking "fall through to the next key" (accepted; has no effect here)."""
    raise NotImplementedError("fallthrough_kernel should never be called.")


_NO_TRITON = ("torch.library.{}: Triton kernels cannot run in minitorch_jax (there is no Triton on JAX). "
              "Write the kernel with jax.numpy or jax.experimental.pallas and wrap it with "
              "torch.library.custom_op instead.")


def triton_op(name: str, fn=None, /, *, mutates_args, schema: str | None = None):
    """Not available: raises NotImplementedError (no Triton on JAX); use :func:`custom_op`."""
    raise NotImplementedError(_NO_TRITON.format("triton_op"))


def wrap_triton(triton_kernel, /):
    """Not available: raises NotImplementedError (no Triton on JAX); use :func:`custom_op`."""
    raise NotImplementedError(_NO_TRITON.format("wrap_triton"))
