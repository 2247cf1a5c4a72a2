"""``torch.ops`` (``mt.ops``): op objects named like ATen's, for code that compares ops.

``mt.ops.aten.mm`` is an op packet (torch's ``OpOverloadPacket``) and ``mt.ops.aten.mm.default`` one
of its overloads (``OpOverload``). Both are callable (calling runs minitorch_jax's op), hashable and
compared by identity, with torch's ``repr``/``str``/``name()``, so selective-checkpoint policies
written as ``if op in (torch.ops.aten.mm.default, torch.ops.aten.addmm.default)`` work when ``torch``
is ``minitorch_jax``. There is one packet per entry of minitorch_jax's op table (and its aliases),
plus the ATen names that :func:`aten_overload` reports.

What an op call is reported as (the ``op`` a checkpoint policy sees): minitorch_jax's ops are coarser
than ATen's (torch decomposes ``linear`` into ``t`` + ``addmm``, ``matmul`` into views + ``mm``/``bmm``);
here every table op is ONE call, reported under the ATen name torch's decomposition ends in:

* ``linear`` -> ``aten.addmm.default`` with a bias, ``aten.mm.default`` without (any input rank; the
  reported output is the whole ``linear`` result, bias included);
* ``matmul`` -> ``aten.dot`` (1-D @ 1-D), ``aten.mv`` (2-D @ 1-D), ``aten.bmm`` (batched right
  operand), else ``aten.mm``;
* ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d`` -> ``aten.convolution.default``;
* ``softmax`` / ``log_softmax`` -> ``aten._softmax.default`` / ``aten._log_softmax.default``;
* ``layer_norm`` -> ``aten.native_layer_norm.default``;
* ``scaled_dot_product_attention`` -> ``aten._scaled_dot_product_flash_attention.default`` (the op
  torch reports on GPUs; torch on CPU reports ``_scaled_dot_product_flash_attention_for_cpu``);
* ``add/sub/mul/div`` -> ``.Tensor`` (also with a Python scalar, as torch); comparisons,
  ``remainder``, ``fmod``, ``bitwise_*``, ``rsub`` -> ``.Scalar`` with a Python scalar second operand,
  else ``.Tensor``; ``pow`` -> ``.Tensor_Tensor``/``.Tensor_Scalar``/``.Scalar``; ``where`` ->
  ``.self``; ``transpose`` -> ``.int``; ``sum``/``mean``/``max``/``min`` with ``dim`` ->
  ``.dim_IntList``/``.dim``; everything else -> ``aten.<name>.default``.

``x ** 2`` -> ``aten.pow.Tensor_Scalar``, ``2 - x`` -> ``aten.rsub.Scalar``, ``x[...]`` ->
``aten.index.Tensor`` / ``aten.slice.Tensor``, dropout -> ``aten.native_dropout.default``.
The views torch reports around these (``aten.t``, ``aten.view``, ``aten.expand``) are not reported.
Custom ops defined with ``mt.library`` (``custom_op("mylib::myop", ...)``, ``Library("mylib", "DEF")``)
appear as ``mt.ops.mylib.myop`` (and ``.default``) through :func:`namespace`.
"""

from __future__ import annotations

__all__ = ["aten", "OpOverloadPacket", "OpOverload", "aten_overload", "namespace"]

# overloads (besides "default") that the reporter can name, per ATen name
_ARITH = ("add", "sub", "mul", "div")  # torch wraps a Python scalar: always .Tensor
_BINARY = ("eq", "ne", "lt", "le", "gt", "ge", "remainder", "fmod", "bitwise_and", "bitwise_or",
           "bitwise_xor", "rsub")  # .Scalar with a Python scalar second operand, else .Tensor
_EXTRA_OVERLOADS = {**{n: ("Tensor", "Scalar") for n in _ARITH + _BINARY}, "transpose": ("int",),
                    "index": ("Tensor",), "slice": ("Tensor",),
                    "sum": ("dim_IntList",), "mean": ("dim",), "max": ("dim",), "min": ("dim",),
                    "pow": ("Tensor_Tensor", "Tensor_Scalar", "Scalar"), "where": ("self",)}
_RENAMED = {"conv1d": "convolution", "conv2d": "convolution", "conv3d": "convolution",
            "conv_transpose1d": "convolution", "conv_transpose2d": "convolution",
            "conv_transpose3d": "convolution", "softmax": "_softmax", "log_softmax": "_log_softmax",
            "layer_norm": "native_layer_norm",
            "scaled_dot_product_attention": "_scaled_dot_product_flash_attention",
            "_dropout": "native_dropout", "_embedding": "embedding", "_embedding_aten": "embedding"}
# ATen names with no table op of their own: how calling them maps onto minitorch_jax
_EXTRA_NAMES = {
    "detach": lambda x: x.detach(),
    "view": lambda x, size: x.view(size),
    "_unsafe_view": lambda x, size: x.view(size),
    "_softmax": lambda x, dim, half_to_float=False: _mt().softmax(x, dim),
    "_log_softmax": lambda x, dim, half_to_float=False: _mt().log_softmax(x, dim),
    "index": None, "slice": None, "native_layer_norm": None, "_scaled_dot_product_flash_attention": None,
    "_scaled_dot_product_efficient_attention": None, "_scaled_dot_product_cudnn_attention": None,
    "_scaled_dot_product_flash_attention_for_cpu": None, "native_dropout": None,
}


def _mt():
    import minitorch_jax
    return minitorch_jax


class OpOverload:
    """One overload of an op (torch's ``OpOverload``): ``mt.ops.aten.mm.default``.

    Calling it runs minitorch_jax's op. Compared and hashed by identity.
    """

    def __init__(self, packet: OpOverloadPacket, overload: str):
        self.overloadpacket = packet
        self._overloadname = overload
        self.__name__ = f"{packet._name}.{overload}"

    def name(self) -> str:
        """The qualified name, ``'aten::mm'`` (``'aten::add.Tensor'`` for a named overload)."""
        base = f"{self.overloadpacket._ns}::{self.overloadpacket._name}"
        return base if self._overloadname == "default" else f"{base}.{self._overloadname}"

    @property
    def op(self):
        """The callable this overload runs."""
        return self.overloadpacket._resolve()

    def __call__(self, *args, **kwargs):
        return self.overloadpacket(*args, **kwargs)

    def __repr__(self) -> str:
        pk = self.overloadpacket
        return f"<OpOverload(op='{pk._ns}.{pk._name}', overload='{self._overloadname}')>"

    def __str__(self) -> str:
        return f"{self.overloadpacket._ns}.{self.overloadpacket._name}.{self._overloadname}"


class OpOverloadPacket:
    """All overloads of one op (torch's ``OpOverloadPacket``): ``mt.ops.aten.mm``.

    Its overloads are attributes (``.default``, ``.Tensor`` ...); calling it runs the op.
    """

    _ns = "aten"

    def __init__(self, name: str, fn):
        self._name = name
        self.__name__ = name
        self._qualified_op_name = f"aten::{name}"
        self._fn = fn
        self._overload_names = ["default", *_EXTRA_OVERLOADS.get(name, ())]
        for o in self._overload_names:
            self.__dict__[o] = OpOverload(self, o)

    def overloads(self) -> list[str]:
        """The names of this op's overloads."""
        return list(self._overload_names)

    def _resolve(self):
        fn = self._fn
        if callable(fn):
            return fn
        if fn is None:
            raise NotImplementedError(
                f"aten.{self._name}: calling this op is not supported by minitorch_jax (it is only "
                "reported to checkpoint policies); call the minitorch_jax function instead")
        op = _mt()._ops._registry.REGISTRY[fn]  # a table op, resolved on first use
        return op.impl or op.call

    def __call__(self, *args, **kwargs):
        return self._resolve()(*args, **kwargs)

    def __getattr__(self, name):
        raise AttributeError(f"The underlying op of '{self._ns}.{self._name}' has no overload name '{name}'")

    def __repr__(self) -> str:
        return f"<OpOverloadPacket(op='{self._ns}.{self._name}')>"

    def __str__(self) -> str:
        return f"{self._ns}.{self._name}"


class _OpNamespace:
    """``mt.ops.aten``: an attribute per op (``mt.ops.aten.mm``)."""

    def __init__(self, name: str):
        self.name = name

    def _names(self) -> dict:
        """ATen name -> table op name (or the callable for names with no table op); read live, as
        op families may still be registering when this is first used."""
        from ._ops._registry import REGISTRY
        table: dict = dict(_EXTRA_NAMES)
        for key, op in REGISTRY.items():
            for n in (key, *op.aliases):
                table[n] = key
        return table

    def __getattr__(self, name: str) -> OpOverloadPacket:
        if name.startswith("__"):
            raise AttributeError(name)
        from ._ops._registry import REGISTRY
        if name in REGISTRY:
            target = name
        else:
            table = self._names()
            if name not in table:
                raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute '{name}'")
            target = table[name]
        packet = OpOverloadPacket(name, target)
        setattr(self, name, packet)
        return packet

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._names()))

    def __repr__(self) -> str:
        return f"<module 'minitorch_jax.ops.{self.name}' from 'minitorch_jax.ops'>"


aten = _OpNamespace("aten")


class _CustomNamespace:
    """``mt.ops.<ns>`` for a namespace of user-defined ops (``mt.library``): one attribute per op."""

    def __init__(self, name: str):
        self.name = name

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute '{name}'")

    def __repr__(self) -> str:
        return f"<module 'minitorch_jax.ops.{self.name}' from 'minitorch_jax.ops'>"


_NAMESPACES: dict = {}


def namespace(name: str, create: bool = True):
    """The ``mt.ops.<name>`` namespace object that ``mt.library`` puts user-defined op packets on
    (``setattr(namespace("mylib"), "myop", packet)``); created on first use. None if absent and not
    ``create``."""
    if name == "aten":
        return aten
    ns = _NAMESPACES.get(name)
    if ns is None and create:
        ns = _NAMESPACES[name] = _CustomNamespace(name)
    return ns


def __getattr__(name: str):
    ns = _NAMESPACES.get(name)
    if ns is None:
        raise AttributeError(f"module 'minitorch_jax.ops' has no attribute '{name}'")
    return ns


def _ndim(x) -> int:
    return getattr(getattr(x, "_data", x), "ndim", 0)


def aten_overload(op, targs, rest=(), kwargs=None) -> OpOverload:
    """The ATen overload that a call of table op ``op`` (an ``OpDef``) is reported as.

    Args:
        op: the op-table entry called.
        targs, rest, kwargs: its tensor arguments, other positional arguments, keyword arguments.

    Returns:
        An :class:`OpOverload` of ``mt.ops.aten`` (see the module docstring for the mapping).
    """
    name = op.name
    kwargs = kwargs or {}
    overload = "default"
    if name == "linear":
        name = "addmm" if len(targs) > 2 and targs[2] is not None else "mm"
    elif name == "matmul" and len(targs) >= 2:
        a, b = _ndim(targs[0]), _ndim(targs[1])
        name = "dot" if a == 1 and b == 1 else "mv" if b == 1 else "bmm" if b >= 3 else "mm"
    elif name == "_pow_scalar":  # x ** scalar
        name, overload = "pow", "Tensor_Scalar"
    elif name == "sub" and targs and isinstance(targs[0], (int, float, bool, complex)):
        name, overload = "rsub", "Scalar"  # scalar - x
    elif name in ("_index", "_slice"):  # x[...]
        name, overload = name[1:], "Tensor"
    elif name in _RENAMED:
        name = _RENAMED[name]
    elif name in _ARITH:
        overload = "Tensor"
    elif name in _BINARY and len(targs) >= 2:
        overload = "Scalar" if isinstance(targs[1], (int, float, bool, complex)) else "Tensor"
    elif name == "pow" and len(targs) >= 2:
        overload = ("Scalar" if isinstance(targs[0], (int, float, bool, complex)) else
                    "Tensor_Scalar" if isinstance(targs[1], (int, float, bool, complex)) else "Tensor_Tensor")
    elif name == "where":
        overload = "self"
    elif name == "transpose":
        overload = "int"
    elif name in ("sum", "mean") and (rest or kwargs.get("dim") is not None):
        overload = "dim_IntList" if name == "sum" else "dim"
    elif name in ("max", "min") and (rest or "dim" in kwargs) and not (rest and hasattr(rest[0], "_data")):
        overload = "dim"
    return getattr(getattr(aten, name), overload)
